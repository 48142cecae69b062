package reports

import (
	"bytes"
	"encoding/xml"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/opsconform/opsconform/internal/junitxsd"
	"golang.org/x/net/html"
)

func sampleRun() *Run {
	return &Run{
		Profile:  "opsmerge",
		Target:   "http://127.0.0.1:8060",
		Started:  time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC),
		Duration: 1500 * time.Millisecond,
		Results: []Result{
			{Requirement: Requirement{ID: "OPSMERGE-AUTH-001", Group: "auth", Statement: "A request without credentials gets 401", Level: Must, Citation: "opsmerge-api.txt: Authentication"},
				Status: Pass, Duration: 3 * time.Millisecond},
			{Requirement: Requirement{ID: "OPSMERGE-AUTH-002", Group: "auth", Statement: "A key without the scope gets 403, not 401", Level: Must, Citation: "opsmerge-api.txt: Status codes"},
				Status: Fail, Reason: "wrong status", Expected: "403", Got: "401",
				Exchange: "GET /api/v1/tickets\nAuthorization: Bearer om_secretsecret\n\nHTTP/1.1 401\n\x1b[31m{\"error\":…}]]>\x00", Duration: 2 * time.Millisecond},
			{Requirement: Requirement{ID: "OPSMERGE-RATE-001", Group: "rate-limits", Statement: "After Retry-After the key works again", Level: Should, Citation: "opsmerge-api.txt: Rate limits"},
				Status: Skip, Reason: "Retry-After 60 s exceeds --max-wait 30 s"},
			{Requirement: Requirement{ID: "OPSMERGE-ENV-001", Group: "envelope", Statement: "Errors are {\"error\":{message,code}}", Level: Must, Citation: "opsmerge-api.txt: conventions"},
				Status: Error, Reason: "the target did not answer within 5s"},
		},
	}
}

func TestJUnitValidatesAgainstTheSchemaCIReads(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteJUnit(&buf, sampleRun()); err != nil {
		t.Fatal(err)
	}
	validate(t, buf.Bytes())
}

// validate checks a JUnit report against the schema CI systems read.
func validate(t *testing.T, report []byte) {
	t.Helper()
	file := filepath.Join(t.TempDir(), "junit.xml")
	if err := os.WriteFile(file, report, 0o600); err != nil {
		t.Fatal(err)
	}
	junitxsd.Validate(t, file)
}

func TestJUnitCountsMatchTestcases(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteJUnit(&buf, sampleRun()); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Tests    int `xml:"tests,attr"`
		Failures int `xml:"failures,attr"`
		Errors   int `xml:"errors,attr"`
		Skipped  int `xml:"skipped,attr"`
		Suites   []struct {
			Name     string `xml:"name,attr"`
			Tests    int    `xml:"tests,attr"`
			Failures int    `xml:"failures,attr"`
			Errors   int    `xml:"errors,attr"`
			Skipped  int    `xml:"skipped,attr"`
			Cases    []struct {
				Name    string    `xml:"name,attr"`
				Failure *struct{} `xml:"failure"`
				Error   *struct{} `xml:"error"`
				Skipped *struct{} `xml:"skipped"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	if err := xml.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatalf("not XML: %v\n%s", err, buf.String())
	}
	if doc.Tests != 4 || doc.Failures != 1 || doc.Errors != 1 || doc.Skipped != 1 || len(doc.Suites) != 3 {
		t.Errorf("totals tests=%d failures=%d errors=%d skipped=%d suites=%d", doc.Tests, doc.Failures, doc.Errors, doc.Skipped, len(doc.Suites))
	}
	for _, s := range doc.Suites {
		var f, e, sk int
		for _, c := range s.Cases {
			if c.Failure != nil {
				f++
			}
			if c.Error != nil {
				e++
			}
			if c.Skipped != nil {
				sk++
			}
			if !strings.HasPrefix(c.Name, "OPSMERGE-") {
				t.Errorf("testcase %q does not lead with the requirement ID", c.Name)
			}
		}
		if s.Tests != len(s.Cases) || s.Failures != f || s.Errors != e || s.Skipped != sk {
			t.Errorf("suite %s counts %d/%d/%d/%d, cases %d/%d/%d/%d", s.Name, s.Tests, s.Failures, s.Errors, s.Skipped, len(s.Cases), f, e, sk)
		}
	}
	if strings.ContainsAny(buf.String(), "\x1b\x00") {
		t.Error("illegal XML characters reached the report")
	}
	for _, want := range []string{"expected: 403", "got:      401", "cited:    opsmerge-api.txt: Status codes", `name="OPSMERGE-AUTH-002.citation"`} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("report lacks %q", want)
		}
	}
}

func TestMarkdownSummary(t *testing.T) {
	var buf bytes.Buffer
	r := sampleRun()
	if err := WriteMarkdown(&buf, r); err != nil {
		t.Fatal(err)
	}
	md := buf.String()
	for _, want := range []string{"does not conform: 2 MUST requirement(s) failed", "4 requirements: 1 passed, 1 failed, 1 errored, 1 skipped",
		"| `OPSMERGE-AUTH-002` | MUST | **FAIL** |", "expected 403, got 401", "Retry-After 60 s exceeds --max-wait 30 s", `{"error":{message,code}}`} {
		if !strings.Contains(md, want) {
			t.Errorf("summary lacks %q:\n%s", want, md)
		}
	}
	if r.Conforms() {
		t.Error("a run with failed MUSTs conforms")
	}
	r.Results = r.Results[:1]
	if !r.Conforms() {
		t.Error("a run whose MUSTs pass does not conform")
	}
}

func TestRedact(t *testing.T) {
	got := Redact("Authorization: Bearer om_secretsecret and rest_api_key=ABCDEF", []string{"om_secretsecret", "ABCDEF", ""})
	if strings.Contains(got, "secretsecret") || strings.Contains(got, "ABCDEF") || !strings.Contains(got, "Bearer REDACTED") {
		t.Errorf("Redact = %q", got)
	}
}

// TestHTMLReport: one self-contained page, readable without JavaScript,
// with the verdict and every requirement's result, citation, expected and
// received values, curl command and exchange; what a target sent is
// escaped, never markup.
func TestHTMLReport(t *testing.T) {
	r := sampleRun()
	r.Results[1].Curl = `curl -sS -i -H "Authorization: Bearer ${OPSMERGE_FULL_KEY}" http://127.0.0.1:8060/api/v1/tickets`
	r.Results[1].Got = `401 <script>alert("got")</script>`
	r.Notes = []string{"the run used keys of its own"}
	var buf bytes.Buffer
	if err := WriteHTML(&buf, r); err != nil {
		t.Fatal(err)
	}
	doc, err := html.Parse(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	var text strings.Builder
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode {
			switch n.Data {
			case "script", "link", "iframe", "img", "object", "embed":
				t.Errorf("the page has a <%s> element", n.Data)
			}
			for _, a := range n.Attr {
				if (a.Key == "src" || a.Key == "href") && !strings.HasPrefix(a.Val, "#") {
					t.Errorf("the page refers outside itself: %s=%q", a.Key, a.Val)
				}
				if strings.HasPrefix(a.Key, "on") {
					t.Errorf("the page has an event handler %s", a.Key)
				}
			}
		}
		if n.Type == html.TextNode {
			text.WriteString(n.Data)
			text.WriteString("\n")
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	page := text.String()
	for _, want := range []string{
		"does not conform: 2 MUST requirement(s) failed", "4 requirements: 1 passed, 1 failed, 1 errored, 1 skipped",
		"OPSMERGE-AUTH-001", "OPSMERGE-AUTH-002", "OPSMERGE-RATE-001", "OPSMERGE-ENV-001",
		"cited: opsmerge-api.txt: Status codes", "wrong status", "403", `401 <script>alert("got")</script>`,
		"${OPSMERGE_FULL_KEY}", "GET /api/v1/tickets", "Retry-After 60 s exceeds --max-wait 30 s", "the target did not answer within 5s",
		"the run used keys of its own",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("the page's text lacks %q", want)
		}
	}
	if strings.ContainsAny(page, "\x1b\x00") {
		t.Error("illegal characters reached the page")
	}
}

// TestStoppedRunsSayWhy: a run stopped early never conforms, says why in
// its verdict, and carries the reason as an errored requirement that every
// report shows, JUnit valid against the schema included.
func TestStoppedRunsSayWhy(t *testing.T) {
	tests := []struct {
		name        string
		interrupted bool
		verdict     string
	}{
		{"unreachable", false, "incomplete: the target is unreachable: connection refused"},
		{"interrupted", true, "no verdict: interrupted by SIGINT during OPSMERGE-RATE-004"},
	}
	for _, tt := range tests {
		r := sampleRun()
		r.Results = r.Results[:1]
		r.Interrupted = tt.interrupted
		reason := strings.TrimPrefix(strings.TrimPrefix(tt.verdict, "incomplete: "), "no verdict: ")
		r.Abort(reason)
		if r.Conforms() || r.Verdict() != tt.verdict {
			t.Errorf("%s: conforms %v, verdict %q", tt.name, r.Conforms(), r.Verdict())
		}
		last := r.Results[len(r.Results)-1]
		if last.ID != "OPSMERGE-RUN" || last.Status != Error || last.Level != Must {
			t.Errorf("%s: the run's requirement is %+v", tt.name, last)
		}
		var junit, md, page bytes.Buffer
		if err := WriteJUnit(&junit, r); err != nil {
			t.Fatal(err)
		}
		_ = WriteMarkdown(&md, r)
		_ = WriteHTML(&page, r)
		for what, out := range map[string]string{"JUnit": junit.String(), "Markdown": md.String(), "HTML": page.String()} {
			if !strings.Contains(out, reason) {
				t.Errorf("%s: the %s report lacks the reason", tt.name, what)
			}
		}
		if !strings.Contains(junit.String(), `<error message="`+reason) {
			t.Errorf("%s: no error testcase with the reason:\n%s", tt.name, junit.String())
		}
		validate(t, junit.Bytes())
	}
}
