package mock

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/opsconform/opsconform/mock/odata"
	"github.com/opsconform/opsconform/specs"
)

// query narrows a list to what the request asks for: the item its parent
// parameter names must exist (a related-objects list of an unknown record is
// 404), then the operation's documented equality filters (MongoDB's ?name=,
// the organization in /orgs/{orgId}/groups, a related list's parent RecId in
// the path; a dotted field reaches into objects and arrays), then the profile's OData
// options ($filter, $search, $orderby, $select). selected is the properties
// $select keeps (nil for all). Options the mock cannot apply are a 400 that
// names them, never silently ignored.
func (s *Server) query(x *exchange, c *collection, items []*record) (out []*record, selected []string, f *failure) {
	res, qo := x.op.Resource, x.profile.Query
	q := x.queryValues()
	out = items
	related := !x.faults.has(devRelatedUnfiltered)
	if res.ParentCollection != "" && related {
		if f := s.parentExists(x); f != nil {
			return nil, nil, f
		}
	}
	for param, field := range res.Filters {
		want, ok := q[param]
		if v, inPath := x.params[param]; inPath {
			if !related {
				continue
			}
			want, ok = []string{v}, true
		}
		if !ok {
			continue
		}
		path := strings.Split(field, ".")
		var kept []*record
		for _, rec := range out {
			if fieldHas(rec.fields, path, want) {
				kept = append(kept, rec)
			}
		}
		out = kept
	}
	if qo == nil || x.op.Param("query", qo.Filter) == nil && x.op.Param("query", qo.OrderBy) == nil &&
		x.op.Param("query", qo.Select) == nil && x.op.Param("query", qo.Search) == nil {
		return out, nil, nil
	}
	known := func(name string) bool { return property(c.schema, name) != nil }
	invalid := func(param string, err error) *failure {
		msg := err.Error()
		var oe *odata.Error
		if errors.As(err, &oe) {
			msg = fmt.Sprintf("%s (at character %d): %s.", oe.Option, oe.Pos+1, oe.Msg)
		}
		return &failure{kind: specs.InvalidParameter, message: msg, params: []string{param}}
	}
	if v := q.Get(qo.Filter); qo.Filter != "" && v != "" {
		flt, err := odata.ParseFilter(v, known)
		if err != nil {
			return nil, nil, invalid(qo.Filter, err)
		}
		var kept []*record
		for _, rec := range out {
			if flt.Match(rec.fields) {
				kept = append(kept, rec)
			}
		}
		out = kept
	}
	if v := q.Get(qo.Search); qo.Search != "" && v != "" && !x.faults.has(devSearchIgnored) {
		out = search(out, v)
	}
	if v := q.Get(qo.OrderBy); qo.OrderBy != "" && v != "" {
		order, err := odata.ParseOrderBy(v, known)
		if err != nil {
			return nil, nil, invalid(qo.OrderBy, err)
		}
		out = slices.Clone(out)
		slices.SortStableFunc(out, func(a, b *record) int { return order.Compare(a.fields, b.fields) })
	}
	if v := q.Get(qo.Select); qo.Select != "" && v != "" {
		sel, err := odata.ParseSelect(v, known)
		if err != nil {
			return nil, nil, invalid(qo.Select, err)
		}
		selected = sel
	}
	return out, selected, nil
}

// parentExists answers 404, naming the parent, when the item a list's parent
// parameter names does not exist in the parent collection (Ivanti's
// incidents('{RecId}')/IncidentContainsJournal for an unknown incident).
func (s *Server) parentExists(x *exchange) *failure {
	res := x.op.Resource
	ds := s.dataset(x.profile.Name)
	pc := ds.cols[res.ParentCollection]
	if pc == nil {
		return nil // the loader checked the name; a collection without items never exists
	}
	id := x.params[res.Parent]
	ds.mu.RLock()
	found := pc.has(id)
	ds.mu.RUnlock()
	if !found {
		return fail(specs.NotFound, "No %s has %s %q.", singular(pc.name), pc.idField, id)
	}
	return nil
}

// search keeps the records with text in any of their text or number
// fields, in any case: OData's $search as Ivanti documents it ("fetch
// incidents that contains boardroom").
func search(items []*record, text string) []*record {
	want := strings.ToLower(strings.TrimSpace(text))
	if want == "" {
		return items
	}
	var kept []*record
	for _, rec := range items {
		for _, v := range rec.fields {
			var sv string
			switch v := v.(type) {
			case string:
				sv = v
			case int64, float64, json.Number:
				sv = fmt.Sprint(v)
			default:
				continue
			}
			if strings.Contains(strings.ToLower(sv), want) {
				kept = append(kept, rec)
				break
			}
		}
	}
	return kept
}

// fieldHas reports whether the value at path in item (a field, or a dotted
// path through objects and arrays: roles.orgId is the orgId of any of the
// item's roles) equals one of want.
func fieldHas(item map[string]any, path []string, want []string) bool {
	var walk func(v any, path []string) bool
	walk = func(v any, path []string) bool {
		if list, ok := v.([]any); ok {
			for _, e := range list {
				if walk(e, path) {
					return true
				}
			}
			return false
		}
		if len(path) == 0 {
			return v != nil && slices.Contains(want, fmt.Sprint(v))
		}
		m, ok := v.(map[string]any)
		if !ok {
			return false
		}
		next, has := m[path[0]]
		return has && walk(next, path[1:])
	}
	return walk(item, path)
}
