package suites

import (
	"flag"
	"fmt"
	"maps"
	"os"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/opsconform/opsconform/mock"
	"github.com/opsconform/opsconform/specs"
)

var update = flag.Bool("update", false, "rewrite the generated parts of COVERAGE.md (totals and mutation matrix) in place")

// coverageFile is the coverage audit: the vendors' normative rules, the
// requirements that enforce each and the deviations that prove them.
const coverageFile = "COVERAGE.md"

// coverageHeader is the only header a rule table may have.
const coverageHeader = "| rule | statement | source | requirements | deviations |"

// The generated parts of COVERAGE.md, each between its two markers.
var (
	totalsMarkers = [2]string{"<!-- totals:begin -->", "<!-- totals:end -->"}
	matrixMarkers = [2]string{"<!-- matrix:begin -->", "<!-- matrix:end -->"}
)

// coverageSection is one vendor's section: the profile its heading names
// and the rows of its table.
type coverageSection struct {
	line    int
	profile string
	title   string
	tables  int
	rows    []coverageRow
	// headless is set once a row before the header has been reported.
	headless bool
}

// coverageRow is one rule of a section's table, its cells as written.
type coverageRow struct {
	line                                              int
	rule, statement, source, requirements, deviations string
}

// where names a row in failure messages.
func (r coverageRow) where() string { return fmt.Sprintf("%s:%d %s", coverageFile, r.line, r.rule) }

// unenforced reports whether the row says no requirement enforces its rule.
func (r coverageRow) unenforced() bool { return r.requirements == "—" }

// parseCoverage reads the vendor sections of the document: a level-2
// heading naming "profile `NAME`" starts one, any other level-2 heading ends
// it. Problems with the tables' form are returned, one line each.
func parseCoverage(doc string) ([]*coverageSection, []string) {
	var out []*coverageSection
	var problems []string
	var cur *coverageSection
	for i, line := range strings.Split(doc, "\n") {
		n := i + 1
		if h, ok := strings.CutPrefix(line, "## "); ok {
			cur = nil
			if _, rest, ok := strings.Cut(h, "profile `"); ok {
				name, _, _ := strings.Cut(rest, "`")
				cur = &coverageSection{line: n, profile: name, title: strings.TrimSpace(h)}
				out = append(out, cur)
			}
			continue
		}
		if cur == nil || !strings.HasPrefix(strings.TrimSpace(line), "|") {
			continue
		}
		c := tableCells(line)
		switch {
		case strings.TrimSpace(line) == coverageHeader:
			cur.tables++
		case isSeparator(c):
		case len(c) != 5:
			problems = append(problems, fmt.Sprintf("%s:%d: a row of %d cells, want 5 (rule, statement, source, requirements, deviations); escape a | inside a cell as \\|", coverageFile, n, len(c)))
		case cur.tables == 0:
			if !cur.headless {
				problems = append(problems, fmt.Sprintf("%s:%d: the table of section %q must start with the header %q", coverageFile, n, cur.title, coverageHeader))
				cur.headless = true
			}
		default:
			cur.rows = append(cur.rows, coverageRow{line: n, rule: c[0], statement: c[1], source: c[2], requirements: c[3], deviations: c[4]})
		}
	}
	return out, problems
}

// tableCells splits a markdown table row on its unescaped pipes and trims each cell.
func tableCells(line string) []string {
	line = strings.TrimSpace(line)
	line = strings.TrimSuffix(strings.TrimPrefix(line, "|"), "|")
	parts := strings.Split(strings.ReplaceAll(line, `\|`, "\x00"), "|")
	for i, p := range parts {
		parts[i] = strings.TrimSpace(strings.ReplaceAll(p, "\x00", "|"))
	}
	return parts
}

func isSeparator(cells []string) bool {
	for _, c := range cells {
		if strings.Trim(c, "-: ") != "" || c == "" {
			return false
		}
	}
	return true
}

// listCell splits a comma-separated cell into its names, without backticks.
func listCell(cell string) []string {
	var out []string
	for _, s := range strings.Split(cell, ",") {
		if s = strings.Trim(strings.TrimSpace(s), "`"); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// expandRequirement resolves one entry of a requirements cell against the
// profile's catalogue: an ID, or PROFILE-SCHEMA-* / PROFILE-STAB-*.
func expandRequirement(p *specs.Profile, ids []string, entry string) ([]string, error) {
	prefix := strings.ToUpper(p.Name) + "-"
	if stem, ok := strings.CutSuffix(entry, "*"); ok {
		if stem != prefix+"SCHEMA-" && stem != prefix+"STAB-" {
			return nil, fmt.Errorf("%s: the only globs allowed are %sSCHEMA-* and %sSTAB-*", entry, prefix, prefix)
		}
		var out []string
		for _, id := range ids {
			if strings.HasPrefix(id, stem) {
				out = append(out, id)
			}
		}
		if len(out) == 0 {
			return nil, fmt.Errorf("%s matches no requirement of %s", entry, p.Name)
		}
		return out, nil
	}
	if !slices.Contains(ids, entry) {
		return nil, fmt.Errorf("%s is not in %s's catalogue", entry, p.Name)
	}
	return []string{entry}, nil
}

// generatedMatrix is the mutation matrix: what each deviation makes fail on
// each profile it applies to, from the same provenBy TestDeviationMatrix runs.
func generatedMatrix(ps []*specs.Profile, devs []mock.Deviation) string {
	byName := map[string]*specs.Profile{}
	for _, p := range ps {
		byName[p.Name] = p
	}
	type row struct{ dev, profile, ids, how string }
	var rows []row
	for _, d := range devs {
		for _, name := range d.Profiles {
			rows = append(rows, row{d.Name, name, strings.Join(provenBy(byName[name], d.Breaks), ", "), d.Summary})
		}
	}
	sort.Slice(rows, func(i, j int) bool {
		if rows[i].dev != rows[j].dev {
			return rows[i].dev < rows[j].dev
		}
		return rows[i].profile < rows[j].profile
	})
	var b strings.Builder
	b.WriteString("| deviation | profile | requirements it fails | how |\n|---|---|---|---|\n")
	for _, r := range rows {
		fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", r.dev, r.profile, r.ids, escapeCell(r.how))
	}
	return b.String()
}

// generatedTotals counts the document's rules per section against the
// catalogue and the deviations.
func generatedTotals(sections []*coverageSection, ps []*specs.Profile, devs []mock.Deviation) string {
	var b strings.Builder
	b.WriteString("| section | rules | enforced | unenforced | requirements | deviations applying |\n|---|---|---|---|---|---|\n")
	var rules, enforced, reqs, pairs int
	for _, s := range sections {
		p := profileNamed(ps, s.profile)
		if p == nil {
			continue
		}
		e := 0
		for _, r := range s.rows {
			if !r.unenforced() {
				e++
			}
		}
		n := 0
		for _, d := range devs {
			if slices.Contains(d.Profiles, p.Name) {
				n++
			}
		}
		c := len(Catalogue(p))
		fmt.Fprintf(&b, "| %s | %d | %d | %d | %d | %d |\n", s.title, len(s.rows), e, len(s.rows)-e, c, n)
		rules, enforced, reqs, pairs = rules+len(s.rows), enforced+e, reqs+c, pairs+n
	}
	fmt.Fprintf(&b, "| **total** | **%d** | **%d** | **%d** | **%d** | **%d** (deviation, profile) pairs of **%d** deviations |\n", rules, enforced, rules-enforced, reqs, pairs, len(devs))
	return b.String()
}

// firstDifference describes the first line where got and want differ.
func firstDifference(got, want string) string {
	g, w := strings.Split(got, "\n"), strings.Split(want, "\n")
	for i := range max(len(g), len(w)) {
		var gl, wl string
		if i < len(g) {
			gl = g[i]
		}
		if i < len(w) {
			wl = w[i]
		}
		if gl != wl {
			return fmt.Sprintf("line %d of the part is %q, the code gives %q", i+1, gl, wl)
		}
	}
	return "they differ"
}

func escapeCell(s string) string { return strings.ReplaceAll(s, "|", `\|`) }

func profileNamed(ps []*specs.Profile, name string) *specs.Profile {
	for _, p := range ps {
		if p.Name == name {
			return p
		}
	}
	return nil
}

// between returns what lies between the markers, and doc with body there instead.
func between(doc string, markers [2]string, body string) (string, string, error) {
	i := strings.Index(doc, markers[0])
	j := strings.Index(doc, markers[1])
	if i < 0 || j < i || strings.Count(doc, markers[0]) != 1 || strings.Count(doc, markers[1]) != 1 {
		return "", "", fmt.Errorf("%s must hold %s and, after it, %s, once each", coverageFile, markers[0], markers[1])
	}
	start := i + len(markers[0])
	return strings.TrimSpace(doc[start:j]), doc[:start] + "\n" + body + doc[j:], nil
}

// TestCoverageDocument keeps COVERAGE.md true: every requirement and every
// deviation is tied to a documented rule, every rule's requirements exist and
// are proven by the deviations it names, and the generated totals and
// mutation matrix are what the code says. -update rewrites the generated parts.
func TestCoverageDocument(t *testing.T) {
	raw, err := os.ReadFile(coverageFile)
	if err != nil {
		t.Fatal(err)
	}
	ps := embeddedProfiles(t)
	devs := mock.Deviations(ps)
	sections, problems := parseCoverage(string(raw))
	for _, p := range problems {
		t.Error(p)
	}
	checkGenerated(t, string(raw), sections, ps, devs)
	checkSections(t, sections, ps)
	for _, s := range sections {
		if p := profileNamed(ps, s.profile); p != nil {
			checkRows(t, s, p, devs)
		}
	}
}

// checkGenerated compares the generated parts with what the code gives, or
// with -update writes them.
func checkGenerated(t *testing.T, doc string, sections []*coverageSection, ps []*specs.Profile, devs []mock.Deviation) {
	t.Helper()
	rewritten := doc
	for _, g := range []struct {
		markers [2]string
		body    string
	}{
		{totalsMarkers, generatedTotals(sections, ps, devs)},
		{matrixMarkers, generatedMatrix(ps, devs)},
	} {
		got, next, err := between(rewritten, g.markers, g.body)
		if err != nil {
			t.Fatal(err)
		}
		rewritten = next
		if want := strings.TrimSpace(g.body); got != want && !*update {
			t.Errorf("%s: the part between %s and %s is not what the code generates (%s); run go test ./suites -run TestCoverageDocument -update", coverageFile, g.markers[0], g.markers[1], firstDifference(got, want))
		}
	}
	if *update && rewritten != doc {
		if err := os.WriteFile(coverageFile, []byte(rewritten), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// checkSections: each loaded profile has one section with one table, and
// rule ids are unique across the document.
func checkSections(t *testing.T, sections []*coverageSection, ps []*specs.Profile) {
	t.Helper()
	seenProfile := map[string]int{}
	seenRule := map[string]string{}
	for _, s := range sections {
		if profileNamed(ps, s.profile) == nil {
			t.Errorf("%s:%d: section %q names profile %q, which is not loaded", coverageFile, s.line, s.title, s.profile)
		}
		if prev, ok := seenProfile[s.profile]; ok {
			t.Errorf("%s:%d: a second section for profile %s (the first is at line %d)", coverageFile, s.line, s.profile, prev)
		}
		seenProfile[s.profile] = s.line
		if s.tables != 1 {
			t.Errorf("%s:%d: section %q has %d tables headed %q, want exactly one", coverageFile, s.line, s.title, s.tables, coverageHeader)
		}
		for _, r := range s.rows {
			if r.rule == "" || r.statement == "" || r.source == "" {
				t.Errorf("%s: rule, statement and source must all be filled in", r.where())
			}
			if prev, ok := seenRule[r.rule]; ok {
				t.Errorf("%s: the rule id is used twice (also %s)", r.where(), prev)
			}
			seenRule[r.rule] = r.where()
		}
	}
	for _, p := range ps {
		if _, ok := seenProfile[p.Name]; !ok {
			t.Errorf("%s has no section for profile %s (a level-2 heading naming profile `%s`)", coverageFile, p.Name, p.Name)
		}
	}
}

// checkRows checks a section's rows against p's catalogue and the
// deviations, then that the rows cover every requirement of the catalogue
// and every deviation that applies to p.
func checkRows(t *testing.T, s *coverageSection, p *specs.Profile, devs []mock.Deviation) {
	t.Helper()
	var ids []string
	for _, c := range Catalogue(p) {
		ids = append(ids, c.ID)
	}
	applying := map[string]mock.Deviation{}
	for _, d := range devs {
		if slices.Contains(d.Profiles, p.Name) {
			applying[d.Name] = d
		}
	}
	coveredIDs, coveredDevs := map[string]bool{}, map[string]bool{}
	for _, r := range s.rows {
		if r.unenforced() {
			if reason, ok := strings.CutPrefix(r.deviations, "unenforced: "); !ok || strings.TrimSpace(reason) == "" {
				t.Errorf("%s: no requirement enforces it, so its deviations cell must read \"unenforced: <reason>\", not %q", r.where(), r.deviations)
			}
			continue
		}
		entries := listCell(r.requirements)
		if len(entries) == 0 {
			t.Errorf("%s: the requirements cell is empty; write — when no requirement enforces the rule", r.where())
		}
		var reqs []string
		for _, entry := range entries {
			got, err := expandRequirement(p, ids, entry)
			if err != nil {
				t.Errorf("%s: %v", r.where(), err)
			}
			reqs = append(reqs, got...)
		}
		for _, id := range reqs {
			coveredIDs[id] = true
		}
		names := listCell(r.deviations)
		if len(names) == 0 || strings.HasPrefix(r.deviations, "unenforced") {
			t.Errorf("%s: requirements %s enforce it, but no deviation proves them", r.where(), r.requirements)
			continue
		}
		proven := map[string]bool{}
		for _, name := range names {
			d, ok := applying[name]
			if !ok {
				why := "is not a deviation of the mock"
				if slices.ContainsFunc(devs, func(d mock.Deviation) bool { return d.Name == name }) {
					why = "does not apply to " + p.Name
				}
				t.Errorf("%s: deviation %s %s", r.where(), name, why)
				continue
			}
			coveredDevs[name] = true
			fails := provenBy(p, d.Breaks)
			hit := false
			for _, id := range fails {
				if slices.Contains(reqs, id) {
					proven[id], hit = true, true
				}
			}
			if !hit {
				t.Errorf("%s: deviation %s fails %s, none of the row's requirements", r.where(), name, strings.Join(fails, ", "))
			}
		}
		for _, id := range reqs {
			if !proven[id] {
				t.Errorf("%s: no deviation of the row proves %s", r.where(), id)
			}
		}
	}
	for _, id := range ids {
		if !coveredIDs[id] {
			t.Errorf("%s: requirement %s is in no rule of section %q: tie it to the documented rule it checks", coverageFile, id, s.title)
		}
	}
	for _, name := range slices.Sorted(maps.Keys(applying)) {
		if !coveredDevs[name] {
			t.Errorf("%s: deviation %s applies to %s but is in no rule of section %q", coverageFile, name, p.Name, s.title)
		}
	}
}
