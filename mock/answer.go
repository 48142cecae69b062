package mock

import (
	"fmt"
	"maps"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/opsconform/opsconform/specs"
	"github.com/pb33f/libopenapi/datamodel/high/base"
)

// answer runs an authorized operation by what its x-opsconform-resource says it does.
func (s *Server) answer(x *exchange) *failure {
	s.setDocumentedHeaders(x)
	res := x.op.Resource
	if res == nil {
		// Nothing says what the operation does: answer with a body generated from its schema.
		s.respond(x, s.generated(x))
		return nil
	}
	if res.Source == specs.SourceKeys {
		return s.answerKeys(x)
	}
	ds := s.dataset(x.profile.Name)
	c := ds.cols[res.Collection]
	switch res.Action {
	case specs.ActionList:
		ds.mu.RLock()
		items := make([]map[string]any, 0, len(c.items))
		for _, it := range c.items {
			if !res.BoundOnly || x.faults.has(devBoundRolesUnchecked) || x.auth != nil && boundTo(x.auth.Key, fmt.Sprint(it[c.idField])) {
				items = append(items, it)
			}
		}
		ds.mu.RUnlock()
		pg := x.profile.Pagination
		links := pg != nil && pg.Response.Links != ""
		return s.list(x, len(items), func(i int) any {
			if !links {
				return items[i]
			}
			// Items carry their own absolute link where the profile's lists have links.
			return s.linked(x, items[i], strings.TrimSuffix(x.r.URL.Path, "/")+"/"+url.PathEscape(fmt.Sprint(items[i][c.idField])))
		})
	case specs.ActionGet:
		item, f := s.item(x, ds, c)
		if f != nil {
			return f
		}
		s.respond(x, project(s.linked(x, item, x.r.URL.Path), successSchema(x.profile, x.op)))
	case specs.ActionCreate:
		body, f := x.jsonBody()
		if f != nil {
			return f
		}
		ds.mu.Lock()
		item := ds.gen.value(c.schema, "", false, 0).(map[string]any)
		overlay(item, body, c.schema)
		seen := make(map[string]bool, len(c.items))
		for _, it := range c.items {
			seen[fmt.Sprint(it[c.idField])] = true
		}
		uniqueID(ds.gen, c.schema, c.idField, item, seen)
		c.items = append(c.items, item)
		ds.mu.Unlock()
		s.respond(x, item)
	case specs.ActionUpdate:
		body, f := x.jsonBody()
		if f != nil {
			return f
		}
		ds.mu.Lock()
		_, item := c.find(s.idParam(x))
		if item != nil {
			overlay(item, body, c.schema)
			item = maps.Clone(item)
		}
		ds.mu.Unlock()
		if item == nil {
			return s.notFound(x)
		}
		s.respond(x, item)
	case specs.ActionDelete:
		ds.mu.Lock()
		i, item := c.find(s.idParam(x))
		if item != nil {
			c.items = append(c.items[:i:i], c.items[i+1:]...)
		}
		ds.mu.Unlock()
		if item == nil {
			return s.notFound(x)
		}
		s.respond(x, nil)
	default: // action, assign, unassign on data: the item must exist; the body is the operation's own
		item, f := s.item(x, ds, c)
		if f != nil {
			return f
		}
		body := s.generated(x)
		if m, ok := body.(map[string]any); ok {
			if _, has := m[res.ID]; has {
				m[res.ID] = item[res.Field]
			}
		}
		s.respond(x, body)
	}
	return nil
}

// item finds the item the request names: 404 when there is none.
func (s *Server) item(x *exchange, ds *dataset, c *collection) (map[string]any, *failure) {
	ds.mu.RLock()
	_, item := c.find(s.idParam(x))
	ds.mu.RUnlock()
	if item == nil {
		return nil, s.notFound(x)
	}
	return item, nil
}

func (s *Server) notFound(x *exchange) *failure {
	res := x.op.Resource
	return fail(specs.NotFound, "No %s has %s %q.", singular(res.Collection), res.Field, s.idParam(x))
}

// idParam is the value of the parameter naming the item, from the path or the query.
func (s *Server) idParam(x *exchange) string {
	id := x.op.Resource.ID
	if v, ok := x.params[id]; ok {
		return v
	}
	return x.queryValues().Get(id)
}

// overlay copies the body's fields that the item schema knows onto item.
func overlay(item, body map[string]any, schema *base.Schema) {
	for k, v := range body {
		if schema.Properties != nil {
			if _, known := schema.Properties.Get(k); !known {
				continue
			}
		}
		item[k] = v
	}
}

// project keeps only the fields the response schema has, when it closes its
// properties: a get that answers with part of an item gets just that part.
func project(item map[string]any, schema *base.Schema) map[string]any {
	if schema == nil || schema.Properties == nil || schema.AdditionalProperties == nil || !schema.AdditionalProperties.IsB() || schema.AdditionalProperties.B {
		return item
	}
	out := make(map[string]any, schema.Properties.Len())
	for name := range schema.Properties.KeysFromOldest() {
		if v, ok := item[name]; ok {
			out[name] = v
		}
	}
	return out
}

// generated is a body generated from the operation's 2xx schema, examples winning.
func (s *Server) generated(x *exchange) any {
	sch := successSchema(x.profile, x.op)
	if sch == nil {
		return nil
	}
	ds := s.dataset(x.profile.Name)
	ds.mu.Lock()
	defer ds.mu.Unlock()
	return ds.gen.value(sch, "", true, 0)
}

// respond writes a success: the operation's 2xx status, the body wrapped in
// the success envelope when the response schema has it, and MongoDB's
// envelope=true when asked.
func (s *Server) respond(x *exchange, body any) {
	resp := x.info.success
	status := http.StatusOK
	if resp != nil {
		status = resp.Status
	}
	if status == http.StatusNoContent || body == nil && (resp == nil || resp.Schema == nil) {
		if x.envelopeRequested() {
			s.writeJSON(x, http.StatusOK, map[string]any{"status": status})
			return
		}
		s.writeBody(x, status, nil)
		return
	}
	if resp != nil && envelopeProperty(x.profile, resp.Schema) != nil && !x.faults.has(devSuccessEnvelopeMissing) {
		body = map[string]any{x.profile.Envelope.Success: body}
	}
	if x.faults.has(devSchemaExtraField) {
		if m, ok := body.(map[string]any); ok {
			body = maps.Clone(m)
			body.(map[string]any)["_links"] = map[string]any{"self": x.r.URL.Path}
		}
	}
	if x.faults.has(devSuccessNotJSON) {
		x.w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	}
	if x.envelopeRequested() && !x.faults.has(devEnvelopeParamIgnored) {
		if m, ok := body.(map[string]any); ok && x.op.Paginated {
			m["status"] = status
		} else {
			body = map[string]any{"status": status, "content": body}
		}
		status = http.StatusOK
	}
	s.writeJSON(x, status, body)
}

// setDocumentedHeaders sends the headers worked out for the operation when
// the server was built: deprecation and the 2xx response's example headers.
func (s *Server) setDocumentedHeaders(x *exchange) {
	h := x.w.Header()
	for name, v := range x.info.headers {
		if x.faults != nil && x.faults.dropsHeader(name) {
			continue
		}
		h[name] = v
	}
}

// page is a request's resolved paging window.
type page struct {
	number int // 1-based page number, for page style
	size   int
	offset int
}

// paging reads and checks the paging parameters. Non-numbers are rejected;
// out-of-range values are rejected or clamped as the profile documents.
func (s *Server) paging(x *exchange) (page, *failure) {
	pg := x.profile.Pagination
	q := x.queryValues()
	invalid := func(param, format string, args ...any) *failure {
		f := fail(specs.InvalidParameter, format, args...)
		f.params = []string{param}
		return f
	}
	read := func(b specs.Bound, policyLow, policyHigh specs.Policy) (int, *failure) {
		raw, present := q[b.Param]
		if !present || len(raw) == 0 {
			if b.Param == pg.Size.Param && x.faults.has(devDefaultPageSizeWrong) {
				return max(b.Default/2, 1), nil
			}
			return b.Default, nil
		}
		if len(raw) > 1 {
			return 0, invalid(b.Param, "%s is given %d times.", b.Param, len(raw))
		}
		v, err := strconv.Atoi(strings.TrimSpace(raw[0]))
		if err != nil {
			if x.faults.has(devNonNumericAccepted) {
				return b.Default, nil
			}
			return 0, invalid(b.Param, "%s must be an integer, not %q.", b.Param, raw[0])
		}
		if v < b.Min {
			if policyLow == specs.Reject && !x.faults.has(devUnderflowAccepted) {
				return 0, invalid(b.Param, "%s must be at least %d, not %d.", b.Param, b.Min, v)
			}
			v = b.Min
		}
		if b.Max > 0 && v > b.Max && !x.faults.has(devMaxSizeNotEnforced) {
			if policyHigh == specs.Reject {
				return 0, invalid(b.Param, "%s must be at most %d, not %d.", b.Param, b.Max, v)
			}
			v = b.Max
		}
		return v, nil
	}
	size, f := read(pg.Size, pg.Underflow, pg.Overflow)
	if f != nil {
		return page{}, f
	}
	size = s.deviatePageSize(x, pg, size)
	if pg.Style == specs.StyleOffset {
		skip, f := read(pg.Skip, pg.Underflow, pg.Overflow)
		if f != nil {
			return page{}, f
		}
		if x.faults.has(devSkipIgnored) {
			skip = 0
		}
		return page{size: size, offset: skip, number: skip/max(size, 1) + 1}, nil
	}
	n, f := read(pg.Page, pg.Underflow, pg.Overflow)
	if f != nil {
		return page{}, f
	}
	if n > math.MaxInt32 || size > 0 && n-1 > math.MaxInt32/size {
		n = math.MaxInt32 / max(size, 1) // far past the end either way
	}
	w := page{number: n, size: size, offset: (n - 1) * size}
	if x.faults.has(devPageZeroBased) {
		w.offset = n * size
	}
	return w, nil
}

// list answers a list operation: one page in the profile's shape, or every
// item under the operation's items field when it does not paginate.
//
// item renders the i-th of total items: only the page served is rendered.
func (s *Server) list(x *exchange, total int, item func(i int) any) *failure {
	res, pg := x.op.Resource, x.profile.Pagination
	render := func(lo, hi int) []any {
		out := make([]any, 0, hi-lo)
		for i := lo; i < hi; i++ {
			out = append(out, item(i))
		}
		return out
	}
	if !x.op.Paginated || pg == nil {
		n := total
		if x.faults.has(devUnpagedListTruncated) {
			n = min(total, 50)
		}
		if res.Items != "" {
			s.respond(x, map[string]any{res.Items: render(0, n)})
			return nil
		}
		s.respond(x, render(0, n))
		return nil
	}
	w, f := s.paging(x)
	if f != nil {
		return f
	}
	if w.offset >= total && total > 0 && x.faults.has(devPastLastPageError) {
		return fail(specs.NotFound, "There is no page %d.", w.number)
	}
	window := render(min(w.offset, total), min(w.offset+w.size, total))

	body := maps.Clone(x.info.skeleton)
	fields := pg.Response
	body[fields.Items] = window
	if fields.TotalItems != "" {
		if pg.Count != "" && strings.EqualFold(x.queryValues().Get(pg.Count), "false") && !x.faults.has(devIncludeCountIgnored) {
			delete(body, fields.TotalItems)
		} else {
			body[fields.TotalItems] = s.deviateTotal(x, total, len(window))
		}
	}
	if fields.TotalPages != "" {
		pages := 0
		if w.size > 0 {
			pages = (total + w.size - 1) / w.size
		}
		if x.faults.has(devTotalPagesIsRecords) {
			pages = total
		}
		body[fields.TotalPages] = pages
	}
	if fields.Page != "" {
		n := w.number
		if x.faults.has(devPageNumberStuck) {
			n = 1
		}
		body[fields.Page] = n
	}
	if fields.Links != "" {
		body[fields.Links] = pageLinks(x, pg, w, total)
	}
	s.respond(x, body)
	return nil
}

// linked returns item with its links field (the profile's list links field,
// where the item has one) holding its own absolute URL, as MongoDB's do.
func (s *Server) linked(x *exchange, item map[string]any, path string) map[string]any {
	pg := x.profile.Pagination
	if pg == nil || pg.Response.Links == "" {
		return item
	}
	if _, has := item[pg.Response.Links]; !has {
		return item
	}
	out := maps.Clone(item)
	u := url.URL{Scheme: scheme(x.r), Host: x.r.Host, Path: path}
	out[pg.Response.Links] = []any{map[string]any{"href": u.String(), "rel": "self"}}
	return out
}

// pageLinks are MongoDB's absolute self, previous and next links.
func pageLinks(x *exchange, pg *specs.Pagination, w page, total int) []any {
	link := func(n int, rel string) map[string]any {
		q := x.r.URL.Query()
		q.Set(pg.Page.Param, strconv.Itoa(n))
		q.Set(pg.Size.Param, strconv.Itoa(w.size))
		u := url.URL{Scheme: scheme(x.r), Host: x.r.Host, Path: x.r.URL.Path, RawQuery: q.Encode()}
		if x.faults.has(devRelativeLinks) {
			u.Scheme, u.Host = "", ""
		}
		return map[string]any{"href": u.String(), "rel": rel}
	}
	self := w.number
	if x.faults.has(devSelfLinkStuck) {
		self = 1
	}
	links := []any{link(self, "self")}
	if w.number > 1 && !x.faults.has(devPreviousLinkMissing) {
		links = append(links, link(w.number-1, "previous"))
	}
	last := w.offset+w.size >= total
	if !last && !x.faults.has(devNextLinkMissing) || last && x.faults.has(devNextLinkOnLastPage) {
		links = append(links, link(w.number+1, "next"))
	}
	return links
}

func scheme(r *http.Request) string {
	if r.TLS != nil {
		return "https"
	}
	return "http"
}
