package suites

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/gavv/httpexpect/v2"
	"github.com/opsconform/opsconform/specs"
)

const httpexpectSuccess = httpexpect.Status2xx

func envelopeChecks(p *specs.Profile) []*Check {
	checks := []*Check{
		{ID: "001", Statement: "Successful responses are JSON in the documented success envelope", run: checkSuccessEnvelope},
		{ID: "002", Statement: "Errors for a missing resource or a bad request are JSON in the documented error envelope", run: checkErrorEnvelope},
	}
	if p.Envelope.EnvelopeParam != "" {
		checks = append(checks, &Check{ID: "003", Statement: "With " + p.Envelope.EnvelopeParam + "=true a response is wrapped with its status, under HTTP 200", run: checkEnvelopeParam, level: "SHOULD"})
	}
	for _, c := range checks {
		c.Group, c.Citation = "envelope", p.Cite("envelope")
	}
	return checks
}

func checkSuccessEnvelope(t *T) {
	op := t.env.probe()
	resp := t.Request("full", op.Method, t.env.path(op, nil)).Expect()
	resp.StatusRange(httpexpectSuccess)
	resp.HasContentType("application/json")
	body := resp.JSON() // the body must parse as JSON, whatever its header says
	if f := t.env.profile.Envelope.Success; f != "" {
		body.Object().ContainsKey(f)
	}
}

// checkErrorEnvelope asks for an item that does not exist.
func checkErrorEnvelope(t *T) {
	e := t.env
	for _, op := range e.profile.Operations {
		r := op.Resource
		if op.Method != http.MethodGet || r == nil || r.Action != specs.ActionGet || r.ID == "" || e.creds.Params[r.ID] != "" {
			continue
		}
		extra := map[string]string{r.ID: nonexistentID(op, r.ID)}
		if !fillableWith(e, op, extra) {
			continue
		}
		resp, body := t.Raw(t.Client("full"), op.Method, e.path(op, extra), nil, "")
		kind := specs.NotFound
		if resp.StatusCode == e.profile.Errors.Spec(specs.InvalidParameter).Status {
			kind = specs.InvalidParameter
		}
		expectError(t, resp, body, kind, e.profile.Errors.Spec(kind).Status)
		return
	}
	t.Skipf("no get-by-id operation whose other parameters the credentials fill")
}

func fillableWith(e *env, op *specs.Operation, extra map[string]string) bool {
	for _, p := range op.Params {
		if (p.Required || p.In == "path") && e.creds.Params[p.Name] == "" && extra[p.Name] == "" {
			return false
		}
	}
	return true
}

// nonexistentID is an id in the parameter's own format that no item has.
func nonexistentID(op *specs.Operation, name string) string {
	p := op.Param("path", name)
	if p == nil {
		p = op.Param("query", name)
	}
	if p != nil && p.Schema != nil {
		switch {
		case p.Schema.Format == "uuid":
			return "00000000-0000-4000-8000-000000000000"
		case strings.Contains(p.Schema.Pattern, "0-9A-F") && strings.Contains(p.Schema.Pattern, "{32}"):
			return strings.Repeat("0", 32)
		case strings.Contains(p.Schema.Pattern, "{24}"):
			return strings.Repeat("0", 24)
		case strings.Contains(p.Schema.Pattern, "0-9"):
			return "999999999"
		}
	}
	return "opsconform-no-such-item"
}

func checkEnvelopeParam(t *T) {
	e := t.env
	op := e.probe()
	param := e.profile.Envelope.EnvelopeParam
	obj := t.Request("full", op.Method, withQuery(e.path(op, nil), param, "true")).Expect().
		Status(http.StatusOK).JSON().Object()
	obj.ContainsKey("status")
	obj.Value("status").Number().IsEqual(200)
}

func pagingChecks(p *specs.Profile) []*Check {
	if p.Pagination == nil {
		return nil
	}
	pg := p.Pagination
	checks := []*Check{
		{ID: "001", Statement: fmt.Sprintf("Without paging parameters a list answers its first page of at most %d items", pg.Size.Default), run: checkPageDefaults},
	}
	if pg.Size.Max > 0 {
		verb := "is refused with 400"
		if pg.Overflow == specs.Clamp {
			verb = fmt.Sprintf("is served as %d", pg.Size.Max)
		}
		checks = append(checks, &Check{ID: "002", Statement: fmt.Sprintf("%s up to %d is served; above it %s", pg.Size.Param, pg.Size.Max, verb), run: checkPageMaximum})
	}
	checks = append(checks,
		&Check{ID: "003", Statement: fmt.Sprintf("A non-numeric %s is refused with 400 in the error envelope", pg.Size.Param), run: checkPageNonNumeric},
		&Check{ID: "004", Statement: "A paging value below its minimum is " + map[specs.Policy]string{specs.Reject: "refused with 400", specs.Clamp: "served as the minimum"}[pg.Underflow], run: checkPageBelowMinimum},
		&Check{ID: "005", Statement: "A page past the last answers 200 with no items", run: checkPastLastPage},
		&Check{ID: "006", Statement: fmt.Sprintf("Walking every page, stopping by %s, yields every item exactly once and terminates", pg.Stop), run: checkWalk},
	)
	for _, c := range checks {
		c.Group, c.Citation = "pagination", p.Cite("pagination")
	}
	return checks
}

// pagedList is the operation paging checks use.
func (e *env) pagedList(t *T) *specs.Operation {
	for _, op := range e.profile.Operations {
		if op.Paginated && e.fillable(op) {
			return op
		}
	}
	t.Skipf("no paginated list whose parameters the credentials fill")
	return nil
}

// page fetches one page and returns its items and the body inside the envelope.
func (t *T) page(op *specs.Operation, query ...string) (int, []any, map[string]any, []byte) {
	e := t.env
	resp, body := t.Raw(t.Client("full"), op.Method, withQuery(e.path(op, nil), query...), nil, "")
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

func checkPageDefaults(t *T) {
	pg := t.env.profile.Pagination
	status, items, inner, _ := t.page(t.env.pagedList(t))
	if status != 200 {
		t.Fatalf("200", fmt.Sprint(status), "the list without paging parameters failed")
	}
	if len(items) > pg.Size.Default {
		t.Errorf(fmt.Sprintf("at most %d items", pg.Size.Default), fmt.Sprint(len(items)), "the default page is larger than documented")
	}
	if f := pg.Response.Page; f != "" && pg.Style == specs.StylePage {
		if n, _ := inner[f].(float64); int(n) != pg.Page.Default {
			t.Errorf(fmt.Sprint(pg.Page.Default), fmt.Sprint(inner[f]), "the default page number is not the first page")
		}
	}
}

func checkPageMaximum(t *T) {
	pg := t.env.profile.Pagination
	op := t.env.pagedList(t)
	status, items, _, _ := t.page(op, pg.Size.Param, strconv.Itoa(pg.Size.Max))
	if status != 200 || len(items) > pg.Size.Max {
		t.Fatalf(fmt.Sprintf("200 with at most %d items", pg.Size.Max), fmt.Sprintf("%d with %d", status, len(items)), "the maximum page size is not served")
	}
	status, items, _, body := t.page(op, pg.Size.Param, strconv.Itoa(pg.Size.Max+1))
	if pg.Overflow == specs.Reject {
		if status != t.env.profile.Errors.Spec(specs.InvalidParameter).Status {
			t.Fatalf("400", fmt.Sprint(status), "%s=%d is not refused", pg.Size.Param, pg.Size.Max+1)
		}
		if err := t.env.profile.Errors.Match(specs.InvalidParameter, body); err != nil {
			t.Errorf("the error envelope", string(truncate(body)), "%v", err)
		}
		return
	}
	if status != 200 || len(items) > pg.Size.Max {
		t.Errorf(fmt.Sprintf("200 with at most %d items", pg.Size.Max), fmt.Sprintf("%d with %d", status, len(items)), "%s above the maximum is not clamped", pg.Size.Param)
	}
}

func checkPageNonNumeric(t *T) {
	pg := t.env.profile.Pagination
	status, _, _, body := t.page(t.env.pagedList(t), pg.Size.Param, "abc")
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
	status, items, _, body := t.page(t.env.pagedList(t), b.Param, strconv.Itoa(b.Min-1))
	if pg.Underflow == specs.Reject {
		if status != t.env.profile.Errors.Spec(specs.InvalidParameter).Status {
			t.Fatalf("400", fmt.Sprint(status), "%s=%d is not refused", b.Param, b.Min-1)
		}
		if err := t.env.profile.Errors.Match(specs.InvalidParameter, body); err != nil {
			t.Errorf("the error envelope", string(truncate(body)), "%v", err)
		}
		return
	}
	if status != 200 || len(items) == 0 {
		t.Errorf("200 with the first page", fmt.Sprint(status), "%s=%d is not served as the minimum", b.Param, b.Min-1)
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
	status, items, _, _ := t.page(t.env.pagedList(t), q...)
	if status != 200 || len(items) != 0 {
		t.Errorf("200 with no items", fmt.Sprintf("%d with %d items", status, len(items)), "a page past the last")
	}
}

// checkWalk pages through the list as the vendor's clients do.
func checkWalk(t *T) {
	e := t.env
	pg := e.profile.Pagination
	op := e.pagedList(t)
	size := max(pg.Size.Default/4, 1)
	seen := map[string]bool{}
	count, total, totalPages := 0, -1, -1
	for i := 0; ; i++ {
		if i > 10000 {
			t.Fatalf("termination", "10000 pages", "paging did not terminate")
		}
		q := []string{pg.Size.Param, strconv.Itoa(size)}
		if pg.Style == specs.StyleOffset {
			q = append(q, pg.Skip.Param, strconv.Itoa(count))
		} else {
			q = append(q, pg.Page.Param, strconv.Itoa(i+1))
		}
		status, items, inner, _ := t.page(op, q...)
		if status != 200 {
			t.Fatalf("200", fmt.Sprint(status), "page %d", i+1)
		}
		for _, it := range items {
			m, _ := it.(map[string]any)
			raw, _ := json.Marshal(m)
			id := fmt.Sprint(m[op.Resource.Field])
			if m[op.Resource.Field] == nil {
				id = string(raw)
			}
			if seen[id] {
				t.Fatalf("every item once", id+" twice", "an item came twice while paging")
			}
			seen[id] = true
		}
		count += len(items)
		if f := pg.Response.TotalItems; f != "" {
			if n, ok := inner[f].(float64); ok {
				if total >= 0 && int(n) != total {
					t.Fatalf(fmt.Sprint(total), fmt.Sprint(n), "the total changed while paging")
				}
				total = int(n)
			}
		}
		if f := pg.Response.TotalPages; f != "" {
			if n, ok := inner[f].(float64); ok {
				totalPages = int(n)
			}
		}
		var done bool
		switch pg.Stop {
		case specs.StopTotalItems:
			done = count >= total || len(items) == 0
		case specs.StopTotalPages:
			done = i+1 >= totalPages
		case specs.StopNextLink:
			done = nextLink(inner, pg.Response.Links) == ""
		case specs.StopShortPage:
			done = len(items) < size
		}
		if done {
			break
		}
	}
	if total >= 0 && count != total {
		t.Errorf(fmt.Sprint(total), fmt.Sprint(count), "the pages held a different number of items than the total says")
	}
}

func nextLink(inner map[string]any, field string) string {
	links, _ := inner[field].([]any)
	for _, l := range links {
		if m, ok := l.(map[string]any); ok && m["rel"] == "next" {
			href, _ := m["href"].(string)
			if u, err := url.Parse(href); err == nil && u.IsAbs() {
				return href
			}
			return "invalid"
		}
	}
	return ""
}

func stabilityChecks(p *specs.Profile) []*Check {
	var checks []*Check
	for _, op := range p.Operations {
		if !op.Deprecated {
			continue
		}
		op := op
		checks = append(checks, &Check{
			ID: op.ID, Group: "stability", Citation: p.Cite("stability"),
			Statement: fmt.Sprintf("The deprecated operation %s sends Deprecation and Sunset headers", op.ID),
			run: func(t *T) {
				e := t.env
				extra := map[string]string{}
				if r := op.Resource; r != nil && r.ID != "" {
					extra[r.ID] = t.firstID(op)
				}
				resp := t.Request("full", op.Method, e.path(op, extra)).Expect()
				resp.StatusRange(httpexpectSuccess)
				resp.Header("Deprecation").NotEmpty()
				resp.Header("Sunset").NotEmpty()
			},
		})
	}
	return checks
}

// firstID finds an existing item for an operation on one item: the first
// item of the list operation of the same collection.
func (t *T) firstID(op *specs.Operation) string {
	e := t.env
	r := op.Resource
	for _, l := range e.profile.Operations {
		lr := l.Resource
		if lr == nil || lr.Action != specs.ActionList || lr.Collection != r.Collection || lr.Source != r.Source || !e.fillable(l) {
			continue
		}
		resp, body := t.Raw(t.Client("full"), l.Method, e.path(l, nil), nil, "")
		if resp.StatusCode != 200 {
			continue
		}
		inner, err := e.unwrap(body)
		if err != nil {
			continue
		}
		field := lr.Items
		if field == "" && e.profile.Pagination != nil {
			field = e.profile.Pagination.Response.Items
		}
		if items, _ := inner[field].([]any); len(items) > 0 {
			if m, ok := items[0].(map[string]any); ok && m[r.Field] != nil {
				return fmt.Sprint(m[r.Field])
			}
		}
	}
	t.Skipf("no list of %s to find an existing item in", r.Collection)
	return ""
}
