package suites

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/opsconform/opsconform/reports"
	"github.com/opsconform/opsconform/specs"
)

func pagingChecks(p *specs.Profile) []*Check {
	if p.Pagination == nil {
		return nil
	}
	pg := p.Pagination
	checks := []*Check{
		{ID: "001", Statement: fmt.Sprintf("Without paging parameters a list answers its first page of exactly %d items (fewer only when the list is shorter)", pg.Size.Default), run: checkPageDefaults},
	}
	if pg.Size.Max > 0 {
		verb := "is refused with 400"
		if pg.Overflow == specs.Clamp {
			verb = fmt.Sprintf("is served as %d", pg.Size.Max)
		}
		checks = append(checks, &Check{ID: "002", Statement: fmt.Sprintf("%s=%d answers exactly %d items (fewer only when the list is shorter); above it %s", pg.Size.Param, pg.Size.Max, pg.Size.Max, verb), run: checkPageMaximum})
	}
	checks = append(checks,
		&Check{ID: "003", Statement: fmt.Sprintf("A non-numeric %s is refused with 400 in the error envelope", pg.Size.Param), run: checkPageNonNumeric},
		&Check{ID: "004", Statement: "A paging value below its minimum is " + map[specs.Policy]string{specs.Reject: "refused with 400", specs.Clamp: "served as the minimum"}[pg.Underflow], run: checkPageBelowMinimum},
		&Check{ID: "005", Statement: "A page past the last answers 200 with no items", run: checkPastLastPage},
		&Check{ID: "006", Statement: fmt.Sprintf("Walking the largest list as clients do (stopping by %s) yields every item exactly once, with the same total on every page, and terminates", pg.Stop), run: checkWalk},
		&Check{ID: "007", Statement: fmt.Sprintf("Every page holds exactly the %s asked for, the last page the remainder", pg.Size.Param), run: checkExactPageSize},
	)
	if pg.Response.Links != "" {
		checks = append(checks, &Check{ID: "008", Statement: "Every page links itself, the previous page from page 2 and the next page exactly while more remain, with absolute URLs", run: checkPageLinks})
	}
	if pg.Count != "" {
		checks = append(checks, &Check{ID: "009", Statement: fmt.Sprintf("%s=false leaves the total out", pg.Count), run: checkCountOff})
	}
	if unpagedTwins(p) != nil {
		checks = append(checks, &Check{ID: "011", Statement: "An unpaginated list returns every item: as many as its paginated twin's total", run: checkUnpagedList})
	}
	for _, c := range checks {
		c.Group, c.Citation = "pagination", p.Cite("pagination")
	}
	return checks
}

// page fetches one page of op with the full key and returns its items and
// the body inside the envelope.
func (t *T) page(op *specs.Operation, query ...string) (int, []any, map[string]any, []byte) {
	return t.pageAt(withQuery(t.env.path(op, nil), query...))
}

// pageAt fetches the page at path (which may carry a query).
func (t *T) pageAt(path string) (int, []any, map[string]any, []byte) {
	e := t.env
	resp, body := t.Raw(t.Client("full"), http.MethodGet, path, nil, "")
	if resp.StatusCode != http.StatusOK {
		return resp.StatusCode, nil, nil, body
	}
	inner, err := e.unwrap(body)
	if err != nil {
		t.Fatalf("a "+e.profile.Name+" list body", string(truncate(body)), "%v", err)
	}
	f := e.profile.Pagination.Response.Items
	items, ok := inner[f].([]any)
	if !ok {
		t.Fatalf(fmt.Sprintf("an array %q", f), string(truncate(body)), "the list has no %q array", f)
	}
	return resp.StatusCode, items, inner, body
}

// intField reads a numeric field of a list body; ok is false when it is absent or not a whole number.
func intField(inner map[string]any, name string) (int, bool) {
	if name == "" {
		return 0, false
	}
	n, ok := inner[name].(float64)
	if !ok || n != float64(int(n)) {
		return 0, false
	}
	return int(n), true
}

// listOf is a paginated list the checks can call, with its total.
type listOf struct {
	op    *specs.Operation
	total int // -1 when the profile's lists carry no total
}

// largestList is the paginated list with the most items, so that walks span
// several pages; the first one when totals are not reported.
func (t *T) largestList() listOf {
	e := t.env
	if e.largest != nil {
		return *e.largest
	}
	pg := e.profile.Pagination
	var best *listOf
	for _, op := range e.profile.Operations {
		if !op.Paginated || !e.fillable(op) || op.Method != http.MethodGet {
			continue
		}
		// The default page: its total is the list's, even on a server that
		// wrongly reports the items on the page as the total (up to the default size).
		status, _, inner, _ := t.page(op)
		if status != http.StatusOK {
			continue
		}
		total, ok := intField(inner, pg.Response.TotalItems)
		if !ok {
			total = -1
		}
		if best == nil || total > best.total {
			best = &listOf{op: op, total: total}
		}
	}
	if best == nil {
		t.Skipf("no paginated list whose parameters the credentials fill answers 200")
	}
	e.largest = best
	return *best
}

// walkSize is a page size for walking total items: below the maximum, not
// the default (so an ignored size shows), not dividing the total (so the
// last page is partial), and giving three to six pages.
func walkSize(pg *specs.Pagination, total int) int {
	if total < 0 {
		return max(pg.Size.Default/4, 2)
	}
	hi := pg.Size.Max
	if hi == 0 {
		hi = total
	}
	for _, pages := range []int{4, 3, 5, 6, 2} {
		s := total / pages
		for d := 0; d < 3; d++ {
			c := s + d
			if c >= 2 && c <= hi && c != pg.Size.Default && total%c != 0 && (total+c-1)/c >= 2 {
				return c
			}
		}
	}
	return max(min(2, hi), 1)
}

// walkedPage is one page of a walk, as the server answered it.
type walkedPage struct {
	requested string // the path asked for
	number    int    // the page the walk expected: 1-based
	items     []any
	inner     map[string]any
}

// walk is one walk through the largest list, shared by the checks that
// judge it: the walk runs once per run, and each check reads what it needs.
type walk struct {
	list     listOf
	size     int
	pages    []walkedPage
	ids      map[string]int // item id → times seen
	problem  string         // why the walk stopped early, if it did
	expected string
	got      string
	status   reports.Status // a skip or an error the walk met, replayed to every check that reads it
	reason   string
}

// walked returns the run's walk, walking now if no check has yet.
func (t *T) walked() *walk {
	e := t.env
	if e.walk == nil {
		w := &walk{ids: map[string]int{}}
		e.walk = w
		func() {
			defer func() {
				if v := recover(); v != nil {
					if _, stop := v.(stopCheck); !stop {
						panic(v)
					}
					w.status, w.reason = t.status, t.reason
					t.status, t.reason = "", ""
				}
			}()
			t.walkLargest(w)
		}()
	}
	w := e.walk
	switch w.status {
	case reports.Skip:
		t.Skipf("%s", w.reason)
	case reports.Error, reports.Fail:
		t.status, t.reason = reports.Error, "walking the list: "+w.reason
		panic(stopCheck{})
	}
	return w
}

// walkLargest pages through the largest list as the vendor's clients do: by
// the server's own next links where it sends them, else by page number or
// offset, stopping by the documented rule.
func (t *T) walkLargest(w *walk) {
	e := t.env
	pg := e.profile.Pagination
	w.list = t.largestList()
	w.size = walkSize(pg, w.list.total)
	maxPages := 10000
	if w.list.total >= 0 {
		maxPages = (w.list.total+w.size-1)/w.size + 2
	}
	path := withQuery(e.path(w.list.op, nil), pg.Size.Param, strconv.Itoa(w.size))
	collected := 0
	for n := 1; ; n++ {
		if n > maxPages {
			w.problem, w.expected, w.got = "the walk did not stop", fmt.Sprintf("at most %d pages", maxPages-2), fmt.Sprintf("more than %d", maxPages)
			return
		}
		if pg.Stop != specs.StopNextLink || n == 1 {
			q := []string{pg.Size.Param, strconv.Itoa(w.size)}
			if pg.Style == specs.StyleOffset {
				q = append(q, pg.Skip.Param, strconv.Itoa(collected))
			} else {
				q = append(q, pg.Page.Param, strconv.Itoa(n))
			}
			path = withQuery(e.path(w.list.op, nil), q...)
		}
		status, items, inner, body := t.pageAt(path)
		if status != http.StatusOK {
			w.problem, w.expected, w.got = fmt.Sprintf("page %d (%s) failed: %s", n, path, truncate(body)), "200", fmt.Sprint(status)
			return
		}
		w.pages = append(w.pages, walkedPage{requested: path, number: n, items: items, inner: inner})
		for _, it := range items {
			w.ids[itemID(it, w.list.op)]++
		}
		collected += len(items)
		var done bool
		switch pg.Stop {
		case specs.StopTotalItems:
			total, _ := intField(inner, pg.Response.TotalItems)
			done = collected >= total || len(items) == 0
		case specs.StopTotalPages:
			pages, _ := intField(inner, pg.Response.TotalPages)
			done = n >= pages
		case specs.StopNextLink:
			next := linkHref(inner, pg.Response.Links, "next")
			if next != "" && len(items) == 0 {
				w.problem, w.expected, w.got = fmt.Sprintf("page %d has no items but links a next page", n), "no next link on an empty page", next
				return
			}
			if next == "" {
				done = true
				break
			}
			path = t.targetPath(next)
		case specs.StopShortPage:
			done = len(items) < w.size
		}
		if done {
			return
		}
	}
}

// targetPath turns an href the server sent into a path on the target: the
// path and query of an absolute URL, a relative one resolved against the target.
func (t *T) targetPath(href string) string {
	u, err := url.Parse(href)
	if err != nil {
		return href
	}
	if !u.IsAbs() {
		u = t.env.target.ResolveReference(u)
	}
	return u.RequestURI()
}

// itemID is what identifies an item: its id field, or its whole JSON.
func itemID(it any, op *specs.Operation) string {
	m, _ := it.(map[string]any)
	field := "id"
	if op.Resource != nil && op.Resource.Field != "" {
		field = op.Resource.Field
	}
	if v, ok := m[field]; ok && v != nil {
		return fmt.Sprint(v)
	}
	raw, _ := json.Marshal(it)
	return string(raw)
}

func linkHref(inner map[string]any, field, rel string) string {
	links, _ := inner[field].([]any)
	for _, l := range links {
		if m, ok := l.(map[string]any); ok && m["rel"] == rel {
			href, _ := m["href"].(string)
			if href == "" {
				return "(empty href)"
			}
			return href
		}
	}
	return ""
}

func checkPageDefaults(t *T) {
	pg := t.env.profile.Pagination
	l := t.largestList()
	status, items, inner, _ := t.page(l.op)
	if status != http.StatusOK {
		t.Fatalf("200", fmt.Sprint(status), "the list without paging parameters failed")
	}
	want := pg.Size.Default
	if l.total >= 0 {
		want = min(want, l.total)
		if len(items) != want {
			t.Errorf(fmt.Sprintf("exactly %d items", want), fmt.Sprint(len(items)), "the default page of %s (%d items in all) does not hold the default page size", l.op.ID, l.total)
		}
	} else if len(items) > want {
		t.Errorf(fmt.Sprintf("at most %d items", want), fmt.Sprint(len(items)), "the default page is larger than documented")
	}
	if pg.Style == specs.StylePage {
		if n, ok := intField(inner, pg.Response.Page); pg.Response.Page != "" && (!ok || n != pg.Page.Default) {
			t.Errorf(fmt.Sprint(pg.Page.Default), fmt.Sprint(inner[pg.Response.Page]), "the default page number is not the first page")
		}
	}
}

func checkPageMaximum(t *T) {
	e := t.env
	pg := e.profile.Pagination
	l := t.largestList()
	status, items, _, _ := t.page(l.op, pg.Size.Param, strconv.Itoa(pg.Size.Max))
	want := pg.Size.Max
	if l.total >= 0 {
		want = min(want, l.total)
	}
	if status != http.StatusOK || l.total >= 0 && len(items) != want || len(items) > pg.Size.Max {
		t.Fatalf(fmt.Sprintf("200 with exactly %d items", want), fmt.Sprintf("%d with %d items", status, len(items)), "%s=%d on %s (%d items in all) is not served in full", pg.Size.Param, pg.Size.Max, l.op.ID, l.total)
	}
	status, items, _, body := t.page(l.op, pg.Size.Param, strconv.Itoa(pg.Size.Max+1))
	if pg.Overflow == specs.Reject {
		if status != e.profile.Errors.Spec(specs.InvalidParameter).Status {
			t.Fatalf("400", fmt.Sprint(status), "%s=%d is not refused", pg.Size.Param, pg.Size.Max+1)
		}
		if err := e.profile.Errors.Match(specs.InvalidParameter, body); err != nil {
			t.Errorf("the error envelope", string(truncate(body)), "%v", err)
		}
		return
	}
	if status != http.StatusOK || l.total >= 0 && len(items) != want || len(items) > pg.Size.Max {
		t.Errorf(fmt.Sprintf("200 with exactly %d items", want), fmt.Sprintf("%d with %d items", status, len(items)), "%s above the maximum is not clamped to %d", pg.Size.Param, pg.Size.Max)
	}
}

func checkPageNonNumeric(t *T) {
	pg := t.env.profile.Pagination
	status, _, _, body := t.page(t.largestList().op, pg.Size.Param, "abc")
	if status != t.env.profile.Errors.Spec(specs.InvalidParameter).Status {
		t.Fatalf("400", fmt.Sprint(status), "%s=abc is not refused", pg.Size.Param)
	}
	if err := t.env.profile.Errors.Match(specs.InvalidParameter, body); err != nil {
		t.Errorf("the error envelope", string(truncate(body)), "%v", err)
	}
}

func checkPageBelowMinimum(t *T) {
	pg := t.env.profile.Pagination
	b := pg.Page
	if pg.Style == specs.StyleOffset {
		b = pg.Skip
	}
	l := t.largestList()
	for _, bound := range []specs.Bound{b, pg.Size} {
		status, items, _, body := t.page(l.op, bound.Param, strconv.Itoa(bound.Min-1))
		if pg.Underflow == specs.Reject {
			if status != t.env.profile.Errors.Spec(specs.InvalidParameter).Status {
				t.Fatalf("400", fmt.Sprint(status), "%s=%d is not refused", bound.Param, bound.Min-1)
			}
			if err := t.env.profile.Errors.Match(specs.InvalidParameter, body); err != nil {
				t.Errorf("the error envelope", string(truncate(body)), "%v", err)
			}
			continue
		}
		if status != http.StatusOK || len(items) == 0 {
			t.Errorf("200 with the first page", fmt.Sprint(status), "%s=%d is not served as the minimum", bound.Param, bound.Min-1)
		}
	}
}

func checkPastLastPage(t *T) {
	pg := t.env.profile.Pagination
	var q []string
	if pg.Style == specs.StyleOffset {
		q = []string{pg.Skip.Param, "100000000"}
	} else {
		q = []string{pg.Page.Param, "100000"}
	}
	l := t.largestList()
	status, items, inner, _ := t.page(l.op, q...)
	if status != http.StatusOK || len(items) != 0 {
		t.Fatalf("200 with no items", fmt.Sprintf("%d with %d items", status, len(items)), "a page past the last")
	}
	if total, ok := intField(inner, pg.Response.TotalItems); l.total >= 0 && ok && total != l.total {
		t.Errorf(fmt.Sprint(l.total), fmt.Sprint(total), "a page past the last reports a different total")
	}
}

// checkWalk judges the walk: it stopped by the documented rule, saw every
// item once, and every page reported the same, true metadata.
func checkWalk(t *T) {
	w := t.walked()
	pg := t.env.profile.Pagination
	if w.problem != "" {
		t.Fatalf(w.expected, w.got, "walking %s at %s=%d: %s", w.list.op.ID, pg.Size.Param, w.size, w.problem)
	}
	collected := 0
	for id, n := range w.ids {
		if n > 1 {
			t.Fatalf("every item once", fmt.Sprintf("%s %d times", id, n), "walking %s at %s=%d, an item came more than once", w.list.op.ID, pg.Size.Param, w.size)
		}
		collected++
	}
	total := w.list.total
	for _, p := range w.pages {
		if n, ok := intField(p.inner, pg.Response.TotalItems); pg.Response.TotalItems != "" && (!ok || n != total) {
			t.Fatalf(fmt.Sprint(total), fmt.Sprint(p.inner[pg.Response.TotalItems]), "page %d of %s reports a different total (%s)", p.number, w.list.op.ID, pg.Response.TotalItems)
		}
		if f := pg.Response.TotalPages; f != "" && total >= 0 {
			want := (total + w.size - 1) / w.size
			if n, ok := intField(p.inner, f); !ok || n != want {
				t.Fatalf(fmt.Sprint(want), fmt.Sprint(p.inner[f]), "page %d of %s reports the wrong number of pages (%s) for %d items at %d a page", p.number, w.list.op.ID, f, total, w.size)
			}
		}
		if f := pg.Response.Page; f != "" && pg.Style == specs.StylePage {
			if n, ok := intField(p.inner, f); !ok || n != p.number {
				t.Fatalf(fmt.Sprint(p.number), fmt.Sprint(p.inner[f]), "page %d of %s reports another page number (%s)", p.number, w.list.op.ID, f)
			}
		}
	}
	if total >= 0 && collected != total {
		t.Fatalf(fmt.Sprintf("%d items", total), fmt.Sprintf("%d items in %d pages", collected, len(w.pages)), "walking %s at %s=%d did not yield every item the total promises", w.list.op.ID, pg.Size.Param, w.size)
	}
}

// checkExactPageSize: every page but the last holds exactly the size asked
// for; the last holds the remainder.
func checkExactPageSize(t *T) {
	w := t.walked()
	pg := t.env.profile.Pagination
	for i, p := range w.pages {
		last := i == len(w.pages)-1
		if !last && len(p.items) != w.size {
			t.Fatalf(fmt.Sprintf("%d items", w.size), fmt.Sprint(len(p.items)), "page %d of %s at %s=%d does not hold the size asked for", p.number, w.list.op.ID, pg.Size.Param, w.size)
		}
		if last && w.list.total >= 0 && w.problem == "" {
			want := w.list.total - w.size*(len(w.pages)-1)
			if len(p.items) != want && len(p.items) != 0 {
				t.Fatalf(fmt.Sprintf("%d items (the remainder)", want), fmt.Sprint(len(p.items)), "the last page of %s at %s=%d", w.list.op.ID, pg.Size.Param, w.size)
			}
		}
	}
	if len(w.pages) < 2 {
		t.Skipf("the walk of %s took one page: nothing to compare", w.list.op.ID)
	}
}

// checkPageLinks: every page's links are absolute; self names the page
// served; previous exists from page 2; next exists exactly while more remain.
func checkPageLinks(t *T) {
	w := t.walked()
	pg := t.env.profile.Pagination
	f := pg.Response.Links
	pages := len(w.pages)
	if w.list.total >= 0 {
		pages = (w.list.total + w.size - 1) / w.size
	}
	for _, p := range w.pages {
		for _, rel := range []string{"self", "previous", "next"} {
			href := linkHref(p.inner, f, rel)
			want := map[string]bool{"self": true, "previous": p.number > 1, "next": p.number < pages}[rel]
			if (href != "") != want {
				t.Fatalf(map[bool]string{true: "a " + rel + " link", false: "no " + rel + " link"}[want], fmt.Sprintf("%q", href), "page %d of %d of %s", p.number, pages, w.list.op.ID)
			}
			if href == "" {
				continue
			}
			u, err := url.Parse(href)
			if err != nil || !u.IsAbs() || u.Host == "" {
				t.Fatalf("an absolute URL", href, "the %s link of page %d is not absolute", rel, p.number)
			}
			target := map[string]int{"self": p.number, "previous": p.number - 1, "next": p.number + 1}[rel]
			q := u.Query()
			if got := q.Get(pg.Page.Param); got != strconv.Itoa(target) {
				t.Fatalf(fmt.Sprintf("%s=%d", pg.Page.Param, target), fmt.Sprintf("%s=%s", pg.Page.Param, got), "the %s link of page %d", rel, p.number)
			}
			if got := q.Get(pg.Size.Param); got != strconv.Itoa(w.size) {
				t.Fatalf(fmt.Sprintf("%s=%d", pg.Size.Param, w.size), fmt.Sprintf("%s=%s", pg.Size.Param, got), "the %s link of page %d does not keep the page size", rel, p.number)
			}
			if !strings.HasSuffix(u.Path, w.list.op.Path[strings.LastIndex(w.list.op.Path, "/"):]) {
				t.Fatalf(w.list.op.Path, u.Path, "the %s link of page %d points elsewhere", rel, p.number)
			}
		}
	}
}

// checkCountOff: the count flag set to false leaves the total out.
func checkCountOff(t *T) {
	pg := t.env.profile.Pagination
	l := t.largestList()
	status, _, inner, body := t.page(l.op, pg.Count, "false")
	if status != http.StatusOK {
		t.Fatalf("200", fmt.Sprint(status), "%s=false failed: %s", pg.Count, truncate(body))
	}
	if v, has := inner[pg.Response.TotalItems]; has {
		t.Fatalf("no "+pg.Response.TotalItems, fmt.Sprint(v), "%s=false still reports the total", pg.Count)
	}
}

// unpagedTwins pairs each unpaginated list with a paginated list of the same collection.
func unpagedTwins(p *specs.Profile) map[*specs.Operation]*specs.Operation {
	var out map[*specs.Operation]*specs.Operation
	for _, op := range p.Operations {
		r := op.Resource
		if r == nil || r.Action != specs.ActionList || op.Paginated || r.Source != specs.SourceData {
			continue
		}
		for _, other := range p.Operations {
			if o := other.Resource; o != nil && other.Paginated && o.Collection == r.Collection && o.Action == specs.ActionList {
				if out == nil {
					out = map[*specs.Operation]*specs.Operation{}
				}
				out[op] = other
				break
			}
		}
	}
	return out
}

// checkUnpagedList: an unpaginated list (OpManager's v1 listDevices) holds
// every item, as many as the paginated list of the same collection counts.
func checkUnpagedList(t *T) {
	e := t.env
	pg := e.profile.Pagination
	checked := 0
	for unpaged, paged := range unpagedTwins(e.profile) {
		if !e.fillable(unpaged) || !e.fillable(paged) {
			continue
		}
		status, _, inner, _ := t.page(paged, pg.Size.Param, "1")
		total, ok := intField(inner, pg.Response.TotalItems)
		if status != http.StatusOK || !ok {
			continue
		}
		status, items, _, body := t.pageAs("full", unpaged)
		if status != http.StatusOK {
			t.Fatalf("200", fmt.Sprint(status), "%s failed: %s", unpaged.ID, truncate(body))
		}
		if len(items) != total {
			t.Fatalf(fmt.Sprintf("%d items", total), fmt.Sprint(len(items)), "%s does not return every item %s counts", unpaged.ID, paged.ID)
		}
		checked++
	}
	if checked == 0 {
		t.Skipf("no unpaginated list with a paginated twin whose total the target reports")
	}
}
