// Package reports writes the outcome of a conformance run: JUnit XML for CI
// systems and a Markdown summary for people. Both are built from one Run.
package reports

import (
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jstemmer/go-junit-report/v2/junit"
)

// Level is how strongly a requirement binds: a failed MUST fails the run.
type Level string

// The levels, as in RFC 2119.
const (
	Must   Level = "MUST"
	Should Level = "SHOULD"
)

// Requirement is one named, cited check.
type Requirement struct {
	ID        string // stable, e.g. OPSMERGE-AUTH-003
	Group     string // auth, envelope, pagination, rate-limits, schema, stability
	Statement string // one line: what the implementation must do
	Level     Level
	Citation  string // the documentation it enforces: seed document and passage, or spec operation
}

// Status is a requirement's outcome.
type Status string

// The outcomes.
const (
	Pass  Status = "pass"
	Fail  Status = "fail"
	Skip  Status = "skip"
	Error Status = "error" // the check could not run: the target hung, reset or sent garbage
)

// Result is one requirement's outcome with the evidence a reader needs.
type Result struct {
	Requirement
	Status   Status
	Reason   string // why it failed, errored or was skipped
	Expected string
	Got      string
	Exchange string // the request and response, credentials already redacted
	Curl     string // a curl command that repeats the last request, secrets as ${PLACEHOLDERS}
	Duration time.Duration
}

// Run is a whole conformance run against one target and profile.
type Run struct {
	Profile  string
	Target   string
	Started  time.Time
	Duration time.Duration
	Results  []Result

	// Stopped says why the run ended before every selected requirement
	// ran: the target unreachable or set up wrongly, an interruption, the
	// run's time bound, an internal error. Empty for a complete run. A
	// stopped run never conforms, and Abort records the reason as an
	// errored requirement, so every report and CI parser shows it.
	Stopped string
	// Interrupted is set when a signal stopped the run.
	Interrupted bool
	// Notes are what a reader should know about how the run went (keys
	// provisioned or not, waits); they are not verdicts.
	Notes []string
}

// RunGroup is the group of the requirement Abort records.
const RunGroup = "run"

// Abort records that the run stopped early and why: Stopped is set and an
// errored MUST requirement <PROFILE>-RUN carries the reason.
func (r *Run) Abort(reason string) {
	if r.Stopped == "" {
		r.Stopped = reason
	}
	prefix := strings.ToUpper(r.Profile)
	if prefix == "" {
		prefix = "OPSCONFORM"
	}
	r.Results = append(r.Results, Result{
		Requirement: Requirement{ID: prefix + "-RUN", Group: RunGroup, Level: Must, Citation: "opsconform check --help",
			Statement: "The run completes: the target answers as the profile's API and every selected requirement is checked"},
		Status: Error, Reason: reason,
	})
}

// Counts tallies a run's outcomes.
type Counts struct {
	Total, Passed, Failed, Skipped, Errored int
	FailedMust                              int // failed or errored MUSTs: these fail the run
}

// Counts tallies the run.
func (r *Run) Counts() Counts {
	var c Counts
	for _, res := range r.Results {
		c.Total++
		switch res.Status {
		case Pass:
			c.Passed++
		case Fail:
			c.Failed++
		case Skip:
			c.Skipped++
		case Error:
			c.Errored++
		}
		if res.Level == Must && (res.Status == Fail || res.Status == Error) {
			c.FailedMust++
		}
	}
	return c
}

// Conforms reports whether the run completed and every MUST passed (or was
// skipped with a reason).
func (r *Run) Conforms() bool { return r.Stopped == "" && r.Counts().FailedMust == 0 }

// Verdict is the run's outcome in one line, as every report leads with it.
func (r *Run) Verdict() string {
	c := r.Counts()
	switch {
	case r.Interrupted:
		return "no verdict: " + r.Stopped
	case r.Stopped != "":
		return "incomplete: " + r.Stopped
	case c.FailedMust > 0:
		return fmt.Sprintf("does not conform: %d MUST requirement(s) failed", c.FailedMust)
	case c.Skipped > 0:
		return fmt.Sprintf("conforms: every MUST that ran passed (%d requirement(s) skipped, each with its reason)", c.Skipped)
	}
	return "conforms: every MUST passed"
}

// WriteJUnit writes the run as JUnit XML in the shape Jenkins, GitLab and
// GitHub read: one testsuite per requirement group, one testcase per
// requirement named by its ID, passing cases included. Each requirement's
// level and citation are suite properties keyed by its ID.
func WriteJUnit(w io.Writer, r *Run) error {
	groups := map[string][]Result{}
	var names []string
	for _, res := range r.Results {
		if _, ok := groups[res.Group]; !ok {
			names = append(names, res.Group)
		}
		groups[res.Group] = append(groups[res.Group], res)
	}
	sort.Strings(names)
	host, _ := os.Hostname()
	suites := junit.Testsuites{Name: "opsconform " + clean(r.Profile), Time: seconds(r.Duration)}
	for i, g := range names {
		ts := junit.Testsuite{
			Name:     clean(r.Profile + "." + g),
			ID:       i,
			Package:  "opsconform." + clean(r.Profile),
			Hostname: clean(host),
		}
		ts.SetTimestamp(r.Started.UTC())
		ts.AddProperty("target", clean(r.Target))
		ts.AddProperty("verdict", clean(r.Verdict()))
		var d time.Duration
		for _, res := range groups[g] {
			ts.AddProperty(res.ID+".level", string(res.Level))
			ts.AddProperty(res.ID+".citation", clean(res.Citation))
			ts.AddTestcase(testcase(r, res))
			d += res.Duration
		}
		ts.Time = seconds(d)
		suites.AddSuite(ts)
	}
	if _, err := io.WriteString(w, xmlHeader); err != nil {
		return err
	}
	return suites.WriteXML(w)
}

const xmlHeader = `<?xml version="1.0" encoding="UTF-8"?>` + "\n"

func testcase(r *Run, res Result) junit.Testcase {
	tc := junit.Testcase{
		Name:      clean(fmt.Sprintf("%s %s: %s", res.ID, res.Level, res.Statement)),
		Classname: clean("opsconform." + r.Profile + "." + res.Group),
		Time:      seconds(res.Duration),
	}
	detail := clean(evidence(res))
	switch res.Status {
	case Fail:
		tc.Failure = &junit.Result{Message: clean(res.Reason), Type: string(res.Level), Data: detail}
	case Error:
		tc.Error = &junit.Result{Message: clean(res.Reason), Type: string(res.Level), Data: detail}
	case Skip:
		tc.Skipped = &junit.Result{Message: clean(res.Reason)}
	}
	return tc
}

// evidence is what a failure says in full: expected, got, where the
// requirement is written, and the exchange.
func evidence(res Result) string {
	var b strings.Builder
	if res.Expected != "" {
		fmt.Fprintf(&b, "expected: %s\n", res.Expected)
	}
	if res.Got != "" {
		fmt.Fprintf(&b, "got:      %s\n", res.Got)
	}
	fmt.Fprintf(&b, "cited:    %s\n", res.Citation)
	if res.Curl != "" {
		fmt.Fprintf(&b, "repeat:   %s\n", res.Curl)
	}
	if res.Exchange != "" {
		fmt.Fprintf(&b, "\n%s\n", res.Exchange)
	}
	return b.String()
}

func seconds(d time.Duration) string { return fmt.Sprintf("%.3f", d.Seconds()) }

// clean drops what XML 1.0 cannot carry (ESC and the other C0 controls but
// tab, newline and carriage return; invalid UTF-8), so a target that sends
// garbage cannot break the report.
func clean(s string) string {
	ok := true
	for i, r := range s {
		if !legalXML(r) || r == utf8.RuneError && !strings.HasPrefix(s[i:], "\uFFFD") {
			ok = false
			break
		}
	}
	if ok {
		return s
	}
	var b strings.Builder
	for i, r := range s {
		if r == utf8.RuneError && !strings.HasPrefix(s[i:], "\uFFFD") {
			continue
		}
		if legalXML(r) {
			b.WriteRune(r)
		}
	}
	return b.String()
}

func legalXML(r rune) bool {
	return r == '\t' || r == '\n' || r == '\r' ||
		r >= 0x20 && r <= 0xD7FF || r >= 0xE000 && r <= 0xFFFD || r >= 0x10000 && r <= 0x10FFFF
}

// WriteMarkdown writes the summary a person reads: the verdict, the counts,
// then every requirement with its outcome and, where it did not pass, why,
// and for each failure what was expected, what came back and how to repeat it.
func WriteMarkdown(w io.Writer, r *Run) error {
	c := r.Counts()
	var b strings.Builder
	fmt.Fprintf(&b, "# opsconform: %s against %s\n\n", cell(r.Profile), cell(r.Target))
	fmt.Fprintf(&b, "**%s.** %d requirements: %d passed, %d failed, %d errored, %d skipped, in %s (started %s).\n\n",
		cell(r.Verdict()), c.Total, c.Passed, c.Failed, c.Errored, c.Skipped, r.Duration.Round(time.Millisecond), r.Started.UTC().Format(time.RFC3339))
	for _, n := range r.Notes {
		fmt.Fprintf(&b, "- note: %s\n", cell(n))
	}
	if len(r.Notes) > 0 {
		b.WriteString("\n")
	}
	b.WriteString("| requirement | level | result | statement | why |\n|---|---|---|---|---|\n")
	for _, res := range r.Results {
		why := res.Reason
		if res.Status == Fail && res.Expected != "" {
			why = fmt.Sprintf("%s (expected %s, got %s)", res.Reason, res.Expected, res.Got)
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s | %s |\n", res.ID, res.Level, mark(res.Status), cell(res.Statement), cell(why))
	}
	var failed []Result
	for _, res := range r.Results {
		if res.Status == Fail || res.Status == Error {
			failed = append(failed, res)
		}
	}
	if len(failed) > 0 {
		b.WriteString("\n## Failures\n")
		for _, res := range failed {
			fmt.Fprintf(&b, "\n### `%s` %s\n\n%s\n\n", res.ID, mark(res.Status), line(res.Reason))
			if res.Expected != "" || res.Got != "" {
				fmt.Fprintf(&b, "- expected: %s\n- got: %s\n", code(res.Expected), code(res.Got))
			}
			fmt.Fprintf(&b, "- cited: %s\n", line(res.Citation))
			if res.Curl != "" {
				fmt.Fprintf(&b, "\nRepeat it (keys are ${VARIABLES} to set first):\n\n%s\n", fence("sh", res.Curl))
			}
			if res.Exchange != "" {
				fmt.Fprintf(&b, "\n<details><summary>exchange</summary>\n\n%s\n\n</details>\n", fence("http", res.Exchange))
			}
		}
	}
	b.WriteString("\n## Citations\n\n")
	for _, res := range r.Results {
		fmt.Fprintf(&b, "- `%s`: %s\n", res.ID, cell(res.Citation))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// code shows a value inline, on one line, as code.
func code(s string) string {
	s = line(s)
	if s == "" {
		return "(nothing)"
	}
	ticks := "`"
	for strings.Contains(s, ticks) {
		ticks += "`"
	}
	return ticks + " " + s + " " + ticks
}

// fence puts text in a fenced code block no line of it can close.
func fence(lang, s string) string {
	s = clean(s)
	f := "```"
	for strings.Contains(s, f) {
		f += "`"
	}
	return f + lang + "\n" + strings.TrimRight(s, "\n") + "\n" + f
}

func mark(s Status) string {
	switch s {
	case Pass:
		return "pass"
	case Fail:
		return "**FAIL**"
	case Error:
		return "**ERROR**"
	}
	return "skip"
}

// cell keeps a value on one table row.
func cell(s string) string { return strings.ReplaceAll(line(s), "|", `\|`) }

// line keeps a value on one line.
func line(s string) string {
	s = clean(s)
	s = strings.ReplaceAll(s, "\r", " ")
	return strings.ReplaceAll(s, "\n", " ")
}

// Redact replaces every secret in s, so neither report can carry a credential.
func Redact(s string, secrets []string) string {
	for _, sec := range secrets {
		if len(sec) >= 4 {
			s = strings.ReplaceAll(s, sec, "REDACTED")
		}
	}
	return s
}
