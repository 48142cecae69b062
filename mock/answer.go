package mock

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/opsconform/opsconform/mock/odata"
	"github.com/opsconform/opsconform/specs"
	"github.com/pb33f/libopenapi/datamodel/high/base"
)

// answer runs an authorized operation by what its x-opsconform-resource says it does.
func (s *Server) answer(x *exchange) *failure {
	if !x.profile.Extended {
		return s.answerGeneric(x) // a plain OpenAPI file: mock/generic.go
	}
	s.setDocumentedHeaders(x)
	if x.op.Search != nil {
		return s.answerSearch(x) // a search whose query is the body: mock/search.go
	}
	res := x.op.Resource
	if res == nil {
		// Nothing says what the operation does: answer with a body generated from its schema.
		s.respond(x, s.generated(x))
		return nil
	}
	switch res.Source {
	case specs.SourceKeys:
		return s.answerKeys(x)
	case specs.SourceAccessList:
		return s.answerAccessList(x)
	}
	if f := s.unsupported(x); f != nil {
		return f
	}
	ds := s.dataset(x.profile.Name)
	c := ds.cols[res.Collection]
	switch res.Action {
	case specs.ActionList:
		return s.listRecords(x, ds, c)
	case specs.ActionGet:
		rec, f := s.item(x, ds, c)
		if f != nil {
			return f
		}
		if len(res.View) > 0 {
			s.respond(x, viewOf(rec, x.info.successSchema, res.View))
			return nil
		}
		s.respondItem(x, c, rec)
	case specs.ActionCreate:
		return s.create(x, ds, c)
	case specs.ActionUpdate:
		return s.update(x, ds, c)
	case specs.ActionDelete:
		ds.mu.Lock()
		i, rec := s.find(x, c)
		if rec != nil {
			c.remove(i)
			cascade(ds, c, fmt.Sprint(rec.fields[c.idField]))
		}
		ds.mu.Unlock()
		if rec == nil {
			return s.notFound(x)
		}
		if resp := x.info.success; resp != nil && resp.Schema != nil {
			s.respond(x, s.documented(x)) // OpManager's deleteAlarm: {"result":{"message":…}}
			return nil
		}
		s.respond(x, nil)
	default: // action, assign, unassign on data: the item must exist; the body is the operation's own
		rec, f := s.act(x, ds, c)
		if f != nil {
			return f
		}
		body := s.documented(x)
		if m, ok := body.(map[string]any); ok {
			if _, has := m[res.ID]; has {
				m[res.ID] = rec.fields[res.Field]
			}
		}
		s.respond(x, body)
	}
	return nil
}

// create stores a new item: generated from the collection's schema, then
// the body's fields, the body schema's defaults for what the body leaves
// out, and what the operation sets. It answers the item, or the
// operation's own answer when that is not the item.
func (s *Server) create(x *exchange, ds *dataset, c *collection) *failure {
	res := x.op.Resource
	body, f := x.jsonBody()
	if f != nil {
		return f
	}
	// Generated outside the data lock: a large schema must not stall other requests.
	item := ds.generate(c.schema)
	overlay(item, body, c.schema)
	ds.pointCreated(c, item, body)
	if x.op.Body != nil {
		applyDefaults(item, body, x.op.Body.Schema, c.schema)
	}
	if f := s.applySets(x, item, s.now()); f != nil {
		return f
	}
	ds.mu.Lock()
	if f := checkRefs(ds, c, item, fromRequest(res, body)); f != nil {
		ds.mu.Unlock()
		return f
	}
	ds.genMu.Lock()
	uniqueID(ds.gen, c, item)
	ds.genMu.Unlock()
	rec, err := ds.record(item)
	if err == nil {
		c.add(rec)
	}
	ds.mu.Unlock()
	if err != nil {
		return fail(specs.InvalidBody, "The item cannot be stored: %v.", err)
	}
	if !answersItem(x.info.successSchema, c.schema) {
		s.respond(x, s.documented(x))
		return nil
	}
	s.respondItem(x, c, rec)
	return nil
}

// update overlays the body and the operation's sets on an existing item.
func (s *Server) update(x *exchange, ds *dataset, c *collection) *failure {
	res := x.op.Resource
	body, f := x.jsonBody()
	if f != nil {
		return f
	}
	now := s.now()
	ds.mu.Lock()
	i, old := s.find(x, c)
	if old == nil {
		ds.mu.Unlock()
		return s.notFound(x)
	}
	item := maps.Clone(old.fields)
	overlay(item, body, c.schema)
	if f := s.applySets(x, item, now); f != nil {
		ds.mu.Unlock()
		return f
	}
	item[c.idField] = old.fields[c.idField] // the body cannot move an item
	if f := checkRefs(ds, c, item, fromRequest(res, body)); f != nil {
		ds.mu.Unlock()
		return f
	}
	rec, err := ds.record(item)
	if err == nil && !x.faults.has(devUpdateNotStored) {
		c.replace(i, rec)
	}
	ds.mu.Unlock()
	if err != nil {
		return fail(specs.InvalidBody, "The item cannot be stored: %v.", err)
	}
	s.respondItem(x, c, rec)
	return nil
}

// act runs an action on the item the request names: the item must exist,
// and what the operation sets (acknowledged by whom, cleared when) is
// written on it, as a new record so that stored encodings stay true.
func (s *Server) act(x *exchange, ds *dataset, c *collection) (*record, *failure) {
	res := x.op.Resource
	if len(res.Sets) == 0 || x.faults.has(devActionEffectLost) {
		return s.item(x, ds, c)
	}
	now := s.now()
	ds.mu.Lock()
	defer ds.mu.Unlock()
	i, old := c.find(s.idParam(x))
	if old == nil {
		return nil, s.notFound(x)
	}
	item := maps.Clone(old.fields)
	if f := s.applySets(x, item, now); f != nil {
		return nil, f
	}
	item[c.idField] = old.fields[c.idField]
	if f := checkRefs(ds, c, item, fromRequest(res, nil)); f != nil {
		return nil, f
	}
	rec, err := ds.record(item)
	if err != nil {
		return nil, fail(specs.InvalidBody, "The item cannot be stored: %v.", err)
	}
	c.replace(i, rec)
	return rec, nil
}

// listRecords answers a list of data items: those the caller may see, a page
// of them rendered from their stored JSON.
func (s *Server) listRecords(x *exchange, ds *dataset, c *collection) *failure {
	res := x.op.Resource
	ds.mu.RLock()
	items := c.items
	if res.BoundOnly && !x.faults.has(devBoundRolesUnchecked) {
		visible := make([]*record, 0, 8)
		for _, rec := range c.items {
			if x.auth != nil && boundTo(x.auth.Key, fmt.Sprint(rec.fields[c.idField])) {
				visible = append(visible, rec)
			}
		}
		items = visible
	}
	// Records are immutable and the slice is only ever appended to or
	// copied on delete, so the window stays valid after the lock is released.
	items = items[:len(items):len(items)]
	ds.mu.RUnlock()
	items, selected, f := s.query(x, c, items)
	if f != nil {
		return f
	}
	if len(res.Counts) > 0 {
		extra := map[string]any{}
		for out, field := range res.Counts {
			counts := map[string]int{}
			for _, rec := range items {
				if v, ok := rec.fields[field]; ok {
					counts[fmt.Sprint(v)]++
				}
			}
			extra[out] = counts
		}
		x.listExtra = extra
	}
	if selected != nil {
		return s.list(x, len(items), func(dst []byte, i int) []byte {
			out, _ := appendJSON(dst, odata.Project(items[i].fields, selected))
			return out
		})
	}
	if c.hidden {
		// Fields the fixtures keep for filtering (a team assignment's
		// project) are not the operation's to show: project each item.
		sch := x.info.itemSchema
		return s.list(x, len(items), func(dst []byte, i int) []byte {
			m := project(items[i].fields, sch)
			if ds.links != "" {
				m[ds.links] = []any{map[string]any{"href": s.itemLink(x, c, items[i]), "rel": "self"}}
			}
			out, _ := appendJSON(dst, m)
			return out
		})
	}
	if sch := x.info.listView; sch != nil && ds.links == "" {
		// The list shows part of a richer stored item (a record schema):
		// each item's projection, encoded once and cached on the record.
		return s.list(x, len(items), func(dst []byte, i int) []byte { return append(dst, items[i].view(sch)...) })
	}
	if ds.links == "" {
		return s.list(x, len(items), func(dst []byte, i int) []byte { return append(dst, items[i].json...) })
	}
	// Items carry their own absolute link where the profile's lists have links.
	return s.list(x, len(items), func(dst []byte, i int) []byte {
		return appendLinked(dst, items[i], s.itemLink(x, c, items[i]))
	})
}

// itemLink is the absolute URL of one listed item: where the collection's
// get reads it when that needs only the item's id (a project listed under
// its organization links to /groups/{id}), else the list's path and the id.
func (s *Server) itemLink(x *exchange, c *collection, rec *record) string {
	id := url.PathEscape(fmt.Sprint(rec.fields[c.idField]))
	for _, op := range x.profile.Operations {
		r := op.Resource
		if r == nil || r.Source != specs.SourceData || r.Action != specs.ActionGet || r.Collection != c.name || r.Field != c.idField {
			continue
		}
		if strings.Count(op.Template, "{") == 1 && strings.Contains(op.Template, "{"+r.ID+"}") {
			return selfURL(x, strings.Replace(op.Path, "{"+r.ID+"}", id, 1))
		}
	}
	return selfURL(x, strings.TrimSuffix(x.r.URL.Path, "/")+"/"+id)
}

// respondItem answers with one record, projected onto the operation's
// schema and with its own link where the profile's items have one.
func (s *Server) respondItem(x *exchange, c *collection, rec *record) {
	sch := x.info.successSchema
	if rec.link == nil {
		s.respond(x, json.RawMessage(rec.view(sch)))
		return
	}
	href := selfURL(x, x.r.URL.Path)
	switch r := x.op.Resource; {
	case r.Action == specs.ActionCreate:
		href = selfURL(x, strings.TrimSuffix(x.r.URL.Path, "/")+"/"+url.PathEscape(fmt.Sprint(rec.fields[c.idField])))
	case r.Field != c.idField:
		href = s.itemLink(x, c, rec) // found by another field (a project by name): its canonical URL
	}
	linked := appendLinked(nil, rec, href)
	if closes(sch) {
		// A projection of a linked item: rare, so decoded and projected.
		var m map[string]any
		_ = json.Unmarshal(linked, &m)
		s.respond(x, project(m, sch))
		return
	}
	s.respond(x, json.RawMessage(linked))
}

// item finds the record the request names: 404 when there is none, or
// when the operation shows only items the caller's key holds a grant bound
// to and this is not one (MongoDB's project by name).
func (s *Server) item(x *exchange, ds *dataset, c *collection) (*record, *failure) {
	ds.mu.RLock()
	_, rec := s.find(x, c)
	ds.mu.RUnlock()
	if rec == nil {
		return nil, s.notFound(x)
	}
	if x.op.Resource.BoundOnly && !x.faults.has(devBoundRolesUnchecked) &&
		(x.auth == nil || !boundTo(x.auth.Key, fmt.Sprint(rec.fields[c.idField]))) {
		return nil, s.notFound(x)
	}
	return rec, nil
}

// find is the position and record of the item the request names, by the
// field the operation matches (the collection's id field through its
// index, another field by a scan: MongoDB's project by name); -1 and nil
// when there is none. The caller holds the dataset's lock.
func (s *Server) find(x *exchange, c *collection) (int, *record) {
	id := s.idParam(x)
	field := x.op.Resource.Field
	if field == "" || field == c.idField {
		return c.find(id)
	}
	for i, rec := range c.items {
		if v, ok := rec.fields[field]; ok && fmt.Sprint(v) == id {
			return i, rec
		}
	}
	return -1, nil
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
	if !closes(schema) {
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

// closes reports whether schema lists its properties and allows no others.
func closes(schema *base.Schema) bool {
	return schema != nil && schema.Properties != nil && schema.AdditionalProperties != nil && schema.AdditionalProperties.IsB() && !schema.AdditionalProperties.B
}

// generated is a body generated from the operation's 2xx schema, examples winning.
func (s *Server) generated(x *exchange) any {
	sch := x.info.successSchema
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
	if raw, ok := body.(json.RawMessage); ok && x.faults != nil {
		// Deviations change bodies as values: decode the stored bytes (rare: faults are on).
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.UseNumber()
		var v any
		if dec.Decode(&v) == nil {
			body = v
		}
	}
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
	if resp != nil && x.info.wrapped && !x.faults.has(devSuccessEnvelopeMissing) {
		if x.faults == nil && !x.envelopeRequested() {
			body = member{x.profile.Envelope.Success, body} // nothing below looks inside
		} else {
			body = map[string]any{x.profile.Envelope.Success: body}
		}
	}
	if x.faults.has(devSchemaExtraField) {
		link := map[string]any{"self": x.r.URL.Path}
		switch b := body.(type) {
		case map[string]any:
			body = maps.Clone(b)
			body.(map[string]any)["_links"] = link
		case []any: // a bare array (OpManager's listAlarms): every item gains the field
			items := make([]any, len(b))
			for i, it := range b {
				if m, ok := it.(map[string]any); ok {
					m = maps.Clone(m)
					m["_links"] = link
					it = m
				}
				items[i] = it
			}
			body = items
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
		skip = min(skip, math.MaxInt32) // far past the end either way; offset+size must not overflow
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
// appendItem appends the i-th of total items' JSON: only the page served
// is rendered, from bytes encoded when the item was stored.
func (s *Server) list(x *exchange, total int, appendItem func(dst []byte, i int) []byte) *failure {
	res, pg := x.op.Resource, x.profile.Pagination
	// The items are appended where the answer is encoded: copied once, from
	// their stored bytes into the answer's pooled buffer.
	render := func(lo, hi int) rawAppender {
		return func(buf []byte) []byte {
			buf = append(buf, '[')
			for i := lo; i < hi; i++ {
				if i > lo {
					buf = append(buf, ',')
				}
				buf = appendItem(buf, i)
			}
			return append(buf, ']')
		}
	}
	if !x.op.Paginated || pg == nil {
		n := total
		if x.faults.has(devUnpagedListTruncated) {
			n = min(total, 50)
		}
		if res.Items != "" {
			body := map[string]any{res.Items: render(0, n)}
			maps.Copy(body, x.listExtra)
			s.respond(x, body)
			return nil
		}
		s.respond(x, json.RawMessage(render(0, n)(nil))) // raw, as deviations decode a whole raw body
		return nil
	}
	w, f := s.paging(x)
	if f != nil {
		return f
	}
	if w.offset >= total && total > 0 && x.faults.has(devPastLastPageError) {
		return fail(specs.NotFound, "There is no page %d.", w.number)
	}
	lo, hi := min(w.offset, total), min(w.offset+w.size, total)

	body := maps.Clone(x.info.skeleton)
	maps.Copy(body, x.listExtra)
	fields := pg.Response
	body[fields.Items] = render(lo, hi)
	if fields.TotalItems != "" {
		if pg.Count != "" && strings.EqualFold(x.queryValues().Get(pg.Count), "false") && !x.faults.has(devIncludeCountIgnored) {
			delete(body, fields.TotalItems)
		} else {
			body[fields.TotalItems] = s.deviateTotal(x, total, hi-lo)
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

func scheme(r *http.Request) string {
	if r.TLS != nil {
		return "https"
	}
	return "http"
}
