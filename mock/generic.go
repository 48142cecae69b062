package mock

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/opsconform/opsconform/mock/gen"
	"github.com/opsconform/opsconform/specs"
	"github.com/pb33f/libopenapi/datamodel/high/base"
)

// answerGeneric serves an operation of a plain OpenAPI description (one
// without x-opsconform-* extensions). Collections that REST conventions
// imply (specs infers them) are stateful: a POST to the collection stores
// the body's fields, and the list, GET by id, PUT, PATCH and DELETE agree.
// Everything else is answered from the documented response: its example,
// else a value generated from its schema by a generator of the request's
// own, so no lock is held while generating. Every answer uses the status,
// media type and headers the spec documents.
func (s *Server) answerGeneric(x *exchange) *failure {
	resp := x.op.Success()
	res := x.op.Resource
	if res == nil || res.Source != specs.SourceData {
		s.writeGeneric(x, resp, s.generatedBody(x, resp))
		return nil
	}
	ds := s.dataset(x.profile.Name)
	c := ds.cols[res.Collection]
	if c == nil {
		s.writeGeneric(x, resp, s.generatedBody(x, resp))
		return nil
	}
	if err := ds.ensure(x.profile.Name, c); err != nil {
		return fail(specs.Internal, "opsconform mock: %v", err)
	}
	switch res.Action {
	case specs.ActionList:
		ds.mu.RLock()
		recs := slices.Clone(c.items)
		ds.mu.RUnlock()
		items := make([]map[string]any, len(recs))
		for i, r := range recs {
			items[i] = r.fields
		}
		s.writeGeneric(x, resp, s.listBody(x, resp, items))
	case specs.ActionGet:
		ds.mu.RLock()
		_, rec := c.find(s.idParam(x))
		ds.mu.RUnlock()
		if rec == nil {
			return s.notFound(x)
		}
		s.writeGeneric(x, resp, s.fitBody(x, resp, rec.fields))
	case specs.ActionCreate:
		body, f := s.genericBody(x, c.schema)
		if f != nil {
			return f
		}
		g := gen.New(gen.Seed(s.opts.Seed, x.profile.Name, x.op.ID, strconv.FormatUint(s.creates.Add(1), 10)), gen.Options{})
		item := asMap(g.Value(c.schema, ""))
		overlay(item, body, c.schema)
		if x.op.Body != nil {
			applyDefaults(item, body, x.op.Body.Schema, c.schema) // what the body leaves out gets its documented default
		}
		given, clientID := body[c.idField]
		ds.mu.Lock()
		if !clientID || given == nil {
			uniqueID(&generator{plain: g, examples: g}, c, item)
		}
		rec, err := ds.record(item)
		if err == nil {
			if i, old := c.find(fmt.Sprint(item[c.idField])); old != nil {
				// The client names an item that exists: it is replaced (an upsert,
				// as the classic petstore does), never refused with an undocumented status.
				c.replace(i, rec)
			} else {
				c.add(rec)
			}
		}
		ds.mu.Unlock()
		if err != nil {
			return fail(specs.InvalidBody, "The item cannot be stored: %v.", err)
		}
		s.writeGeneric(x, resp, s.fitBody(x, resp, item))
	case specs.ActionUpdate:
		body, f := s.genericBody(x, c.schema)
		if f != nil {
			return f
		}
		ds.mu.Lock()
		i, rec := c.find(s.idParam(x))
		var item map[string]any
		var err error
		if rec != nil {
			item = maps.Clone(rec.fields)
			id := item[c.idField]
			overlay(item, body, c.schema)
			item[c.idField] = id // the path names the item; the body does not rename it
			var updated *record
			if updated, err = ds.record(item); err == nil {
				c.replace(i, updated)
			}
		}
		ds.mu.Unlock()
		if rec == nil {
			return s.notFound(x)
		}
		if err != nil {
			return fail(specs.InvalidBody, "The item cannot be stored: %v.", err)
		}
		s.writeGeneric(x, resp, s.fitBody(x, resp, item))
	case specs.ActionDelete:
		ds.mu.Lock()
		i, rec := c.find(s.idParam(x))
		if rec != nil {
			c.remove(i)
		}
		ds.mu.Unlock()
		if rec == nil {
			return s.notFound(x)
		}
		s.writeGeneric(x, resp, s.fitBody(x, resp, rec.fields))
	default:
		s.writeGeneric(x, resp, s.generatedBody(x, resp))
	}
	return nil
}

// requestGenerator is a generator of the request's own, seeded by the
// profile's seed, the operation and the request line: the same request
// gets the same answer, and nothing is shared between requests.
func (s *Server) requestGenerator(x *exchange, examples bool) *gen.Generator {
	return gen.New(gen.Seed(s.opts.Seed, x.profile.Name, x.op.ID, x.r.Method, x.r.URL.RequestURI()), gen.Options{Direction: gen.Response, Examples: examples})
}

// generatedBody is the documented response's example (the media type's
// example, else its first named example), else a value generated from its
// schema with schema examples winning. nil when the response has no content.
func (s *Server) generatedBody(x *exchange, resp *specs.Response) any {
	if resp == nil || resp.ContentType == "" || resp.Media == nil {
		return nil
	}
	json := isJSONType(resp.ContentType)
	if ex := mediaExample(resp); ex != nil && (!json || x.profile.CheckValue(resp.Schema, specs.ToClient, ex) == nil) {
		return ex
	}
	if resp.Schema == nil {
		return ""
	}
	// Schema examples win where they keep the answer valid; a spec's examples
	// that break its own schema are left out.
	v := s.requestGenerator(x, true).Value(resp.Schema, "")
	if json && x.profile.CheckValue(resp.Schema, specs.ToClient, v) != nil {
		v = s.requestGenerator(x, false).Value(resp.Schema, "")
	}
	return v
}

// isJSONType reports whether a media type is JSON.
func isJSONType(ct string) bool {
	mt, _, _ := mime.ParseMediaType(ct)
	return mt == "application/json" || strings.HasSuffix(mt, "+json")
}

// mediaExample is a media type's example or first named example.
func mediaExample(resp *specs.Response) any {
	mt := resp.Media
	if mt.Example != nil {
		return gen.Decode(mt.Example)
	}
	if mt.Examples != nil {
		for _, ex := range mt.Examples.FromOldest() {
			if ex != nil && ex.Value != nil {
				return gen.Decode(ex.Value)
			}
		}
	}
	return nil
}

// listBody renders a collection's items as the list response: the array
// itself, or the object that holds it under the resource's items field.
// Items are fitted to the response's item schema and no more than its
// maxItems are sent.
func (s *Server) listBody(x *exchange, resp *specs.Response, items []map[string]any) any {
	if resp == nil || resp.Schema == nil {
		return nil
	}
	arr := resp.Schema
	var wrapper map[string]any
	if f := x.op.Resource.Items; f != "" {
		wrapper = asMap(s.requestGenerator(x, false).Value(resp.Schema, ""))
		arr = specs.Property(resp.Schema, f)
	}
	var itemSchema *base.Schema
	if arr != nil && arr.Items != nil && arr.Items.IsA() {
		itemSchema = specs.SchemaOf(arr.Items.A)
	}
	if arr != nil && arr.MaxItems != nil && int64(len(items)) > *arr.MaxItems {
		items = items[:*arr.MaxItems]
	}
	g := s.requestGenerator(x, false)
	list := make([]any, 0, len(items))
	for _, it := range items {
		list = append(list, repair(x.profile, itemSchema, fit(it, itemSchema, g), g))
	}
	if wrapper != nil {
		wrapper[x.op.Resource.Items] = list
		return wrapper
	}
	return list
}

// fitBody renders a stored item as the response's schema wants it.
func (s *Server) fitBody(x *exchange, resp *specs.Response, item map[string]any) any {
	if resp == nil || resp.Schema == nil || resp.ContentType == "" {
		return s.generatedBody(x, resp)
	}
	if gen.Kind(resp.Schema) != "object" && len(resp.Schema.AllOf) == 0 {
		return s.generatedBody(x, resp)
	}
	g := s.requestGenerator(x, false)
	v := fit(item, resp.Schema, g)
	if !isJSONType(resp.ContentType) {
		return v
	}
	if v = repair(x.profile, resp.Schema, v, g); x.profile.CheckValue(resp.Schema, specs.ToClient, v) == nil {
		return v
	}
	return s.generatedBody(x, resp)
}

// repair makes a stored value valid for a response schema it may not fit
// (it was made from another operation's schema, or from a spec example
// that breaks the spec): each top-level property that breaks the schema is
// generated anew, the rest (the id above all) is kept.
func repair(p *specs.Profile, s *base.Schema, v any, g *gen.Generator) any {
	if s == nil || p.CheckValue(s, specs.ToClient, v) == nil {
		return v
	}
	m, ok := v.(map[string]any)
	if !ok || s.Properties == nil {
		return v
	}
	out := maps.Clone(m)
	for k, val := range out {
		if proxy, ok := s.Properties.Get(k); ok {
			if ps := specs.SchemaOf(proxy); ps != nil && p.CheckValue(ps, specs.ToClient, val) != nil {
				out[k] = g.Value(ps, k)
			}
		}
	}
	return out
}

// fit shapes a stored value for a response schema: writeOnly properties
// and properties a closed schema does not have are dropped, and required
// ones the value lacks are generated. Composed schemas take the value as is.
func fit(v any, s *base.Schema, g *gen.Generator) any {
	if s == nil {
		return v
	}
	switch val := v.(type) {
	case map[string]any:
		if len(s.AllOf) > 0 {
			var out any = val
			for _, b := range s.AllOf {
				out = fit(out, specs.SchemaOf(b), g)
			}
			return out
		}
		if s.Properties == nil || len(s.OneOf) > 0 || len(s.AnyOf) > 0 {
			return val
		}
		closed := s.AdditionalProperties != nil && s.AdditionalProperties.IsB() && !s.AdditionalProperties.B
		out := make(map[string]any, len(val))
		for k, e := range val {
			proxy, known := s.Properties.Get(k)
			if !known {
				if !closed {
					out[k] = e
				}
				continue
			}
			ps := specs.SchemaOf(proxy)
			if ps != nil && ps.WriteOnly != nil && *ps.WriteOnly {
				continue
			}
			if ps != nil && !kindMatches(e, ps) {
				// The stored item came from another operation's schema (a
				// list's summary, say) where this one wants another type.
				out[k] = g.Value(ps, k)
				continue
			}
			out[k] = fit(e, ps, g)
		}
		for _, req := range s.Required {
			if _, has := out[req]; has {
				continue
			}
			if proxy, ok := s.Properties.Get(req); ok {
				if ps := specs.SchemaOf(proxy); ps != nil && !(ps.WriteOnly != nil && *ps.WriteOnly) {
					out[req] = g.Value(ps, req)
				}
			}
		}
		return out
	case []any:
		if s.Items == nil || !s.Items.IsA() {
			return val
		}
		is := specs.SchemaOf(s.Items.A)
		out := make([]any, len(val))
		for i, e := range val {
			out[i] = fit(e, is, g)
		}
		return out
	}
	return v
}

// kindMatches reports whether a value has a type its schema allows.
func kindMatches(v any, s *base.Schema) bool {
	if len(s.Type) == 0 {
		return true // composed or open: not judged here
	}
	var t string
	switch v.(type) {
	case map[string]any:
		t = "object"
	case []any:
		t = "array"
	case string:
		t = "string"
	case bool:
		t = "boolean"
	case nil:
		return slices.Contains(s.Type, "null") || s.Nullable != nil && *s.Nullable
	default:
		t = "number"
	}
	for _, want := range s.Type {
		if want == t || t == "number" && want == "integer" {
			return true
		}
	}
	return false
}

// genericBody reads a create or update body as fields: JSON objects, and
// url-encoded and multipart forms with each field read as its schema's
// type. A malformed body is the client's mistake (400).
func (s *Server) genericBody(x *exchange, item *base.Schema) (map[string]any, *failure) {
	ct, _, _ := mime.ParseMediaType(x.r.Header.Get("Content-Type"))
	switch {
	case ct == "application/x-www-form-urlencoded" || ct == "multipart/form-data":
		r := x.r.Clone(x.r.Context())
		r.Body = io.NopCloser(bytes.NewReader(x.body))
		var values url.Values
		if ct == "multipart/form-data" {
			if err := r.ParseMultipartForm(maxBody); err != nil {
				return nil, fail(specs.InvalidBody, "The multipart body is malformed: %v.", err)
			}
			values = url.Values(r.MultipartForm.Value)
		} else {
			var err error
			if values, err = url.ParseQuery(string(x.body)); err != nil {
				return nil, fail(specs.InvalidBody, "The form body is malformed: %v.", err)
			}
		}
		out := map[string]any{}
		for k, vs := range values {
			ps := specs.Property(item, k)
			if ps != nil && gen.Kind(ps) == "array" {
				var is *base.Schema
				if ps.Items != nil && ps.Items.IsA() {
					is = specs.SchemaOf(ps.Items.A)
				}
				list := make([]any, 0, len(vs))
				for _, v := range vs {
					list = append(list, typed(v, is))
				}
				out[k] = list
			} else if len(vs) > 0 {
				out[k] = typed(vs[0], ps)
			}
		}
		return out, nil
	case ct == "" || ct == "application/json" || strings.HasSuffix(ct, "+json"):
		return x.jsonBody()
	}
	return map[string]any{}, nil
}

// typed reads a form field as its schema's type.
func typed(v string, s *base.Schema) any {
	if s == nil {
		return v
	}
	switch gen.Kind(s) {
	case "integer":
		if n, err := strconv.ParseInt(v, 10, 64); err == nil {
			return n
		}
	case "number":
		if f, err := strconv.ParseFloat(v, 64); err == nil {
			return f
		}
	case "boolean":
		if b, err := strconv.ParseBool(v); err == nil {
			return b
		}
	}
	return v
}

// writeGeneric writes a documented answer: its status, its documented
// headers (examples, else generated from their schemas) and the body in its
// media type. A response without content, a 204 or a 304 has no body.
func (s *Server) writeGeneric(x *exchange, resp *specs.Response, body any) {
	status := http.StatusOK
	if resp != nil {
		status = resp.Status
	}
	s.setDocumentedHeaders(x)
	if resp != nil && resp.Spec != nil && resp.Spec.Headers != nil {
		g := s.requestGenerator(x, true)
		h := x.w.Header()
		for name, hd := range resp.Spec.Headers.FromOldest() {
			if strings.EqualFold(name, "Content-Type") || h.Get(name) != "" || hd == nil {
				continue
			}
			var v any
			switch {
			case hd.Example != nil:
				v = gen.Decode(hd.Example)
			case hd.Schema != nil && specs.SchemaOf(hd.Schema) != nil:
				v = g.Value(specs.SchemaOf(hd.Schema), name)
			default:
				continue
			}
			h[name] = []string{gen.ParamText(v)}
		}
	}
	if resp == nil || resp.ContentType == "" || status == http.StatusNoContent || status == http.StatusNotModified || status < 200 {
		s.writeBody(x, status, nil)
		return
	}
	ct := resp.ContentType
	if strings.Contains(ct, "*") {
		ct = "application/json"
	}
	var data []byte
	mt, _, _ := mime.ParseMediaType(ct)
	switch str, isString := body.(string); {
	case mt == "application/json" || strings.HasSuffix(mt, "+json"):
		var err error
		if data, err = json.Marshal(body); err != nil {
			s.writeFailure(x, fail(specs.Internal, "opsconform mock: cannot encode the response: %v", err))
			return
		}
	case isString:
		data = []byte(str)
	case strings.HasSuffix(mt, "/xml") || strings.HasSuffix(mt, "+xml"):
		data = []byte(`<?xml version="1.0" encoding="UTF-8"?><response/>`)
	default:
		data = []byte(fmt.Sprint(body))
	}
	x.w.Header().Set("Content-Type", ct)
	s.writeBody(x, status, data)
}
