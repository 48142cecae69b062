package mock

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/opsconform/opsconform/mock/odata"
	"github.com/opsconform/opsconform/specs"
)

// query narrows a list to what the request asks for: the item its parent
// parameter names must exist (a related-objects list of an unknown record is
// 404), then the operation's documented equality filters (MongoDB's ?name=,
// the organization in /orgs/{orgId}/groups, a related list's parent RecId in
// the path; a dotted field reaches into objects and arrays), then its comparisons (OpManager's fromTime and toTime) and
// documented sort, then the profile's OData
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
		} else if x.faults.has(devFilterIgnored) {
			continue
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
	if out, f = s.compare(x, out); f != nil {
		return nil, nil, f
	}
	if out, f = s.sortList(x, c, out); f != nil {
		return nil, nil, f
	}
	if qo == nil || x.op.Param("query", qo.Filter) == nil && x.op.Param("query", qo.OrderBy) == nil &&
		x.op.Param("query", qo.Select) == nil && x.op.Param("query", qo.Search) == nil {
		return out, nil, nil
	}
	known := func(name string) bool { return specs.Property(c.schema, name) != nil }
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

// that does not read as the filter documents is a 400 naming it.
func (s *Server) compare(x *exchange, items []*record) ([]*record, *failure) {
	res := x.op.Resource
	if len(res.Comparisons) == 0 || x.faults.has(devFilterIgnored) {
		return items, nil
	}
	q := x.queryValues()
	for _, cmpf := range res.Comparisons {
		raw, ok := q[cmpf.Param]
		if !ok || len(raw) == 0 {
			continue
		}
		bound, err := comparable(raw[0], cmpf.Layouts)
		if err != nil {
			f := fail(specs.InvalidParameter, "%s: %q is not a time like %s.", cmpf.Param, raw[0], strings.Join(cmpf.Patterns, " or "))
			f.params = []string{cmpf.Param}
			return nil, f
		}
		var kept []*record
		for _, rec := range items {
			v, has := rec.fields[cmpf.Field]
			if !has {
				continue
			}
			fv, err := comparable(v, nil)
			if err != nil {
				continue
			}
			c := compareValues(fv, bound)
			if cmpf.Op == "lt" && c < 0 || cmpf.Op == "le" && c <= 0 || cmpf.Op == "gt" && c > 0 || cmpf.Op == "ge" && c >= 0 {
				kept = append(kept, rec)
			}
		}
		items = kept
	}
	return items, nil
}

// comparable reads a value for comparing: a time in one of layouts (as
// epoch milliseconds), a date-time string, a number, else the text.
func comparable(v any, layouts []string) (any, error) {
	if len(layouts) > 0 {
		str := strings.TrimSpace(fmt.Sprint(v))
		for _, l := range layouts {
			if t, err := time.ParseInLocation(l, str, time.UTC); err == nil {
				return float64(t.UnixMilli()), nil
			}
		}
		return nil, fmt.Errorf("not a time")
	}
	switch n := v.(type) {
	case int:
		return float64(n), nil
	case int64:
		return float64(n), nil
	case float64:
		return n, nil
	case json.Number:
		if f, err := n.Float64(); err == nil {
			return f, nil
		}
		return n.String(), nil
	case string:
		if t, err := time.Parse(time.RFC3339, n); err == nil {
			return float64(t.UnixMilli()), nil
		}
		if f, err := strconv.ParseFloat(n, 64); err == nil {
			return f, nil
		}
		return n, nil
	}
	return fmt.Sprint(v), nil
}

// compareValues orders two comparable values: numbers by value, anything
// else as text.
func compareValues(a, b any) int {
	fa, aok := a.(float64)
	fb, bok := b.(float64)
	if aok && bok {
		return cmp.Compare(fa, fb)
	}
	return strings.Compare(fmt.Sprint(a), fmt.Sprint(b))
}

// sortList orders a list by the field its sort parameter names, ascending
// unless the order parameter says desc. A field the items do not have or
// an order other than asc and desc is a 400 naming the parameter.
func (s *Server) sortList(x *exchange, c *collection, items []*record) ([]*record, *failure) {
	srt := x.op.Resource.Sort
	if srt == nil {
		return items, nil
	}
	q := x.queryValues()
	by := q.Get(srt.By)
	order := ""
	if srt.Order != "" {
		order = strings.ToLower(strings.TrimSpace(q.Get(srt.Order)))
	}
	if by == "" {
		if order != "" && order != "asc" && order != "desc" {
			f := fail(specs.InvalidParameter, "%s must be asc or desc, not %q.", srt.Order, q.Get(srt.Order))
			f.params = []string{srt.Order}
			return nil, f
		}
		return items, nil
	}
	if specs.Property(c.schema, by) == nil {
		f := fail(specs.InvalidParameter, "%s: the items have no field %q.", srt.By, by)
		f.params = []string{srt.By}
		return nil, f
	}
	desc := false
	switch order {
	case "", "asc":
	case "desc":
		desc = true
	default:
		f := fail(specs.InvalidParameter, "%s must be asc or desc, not %q.", srt.Order, q.Get(srt.Order))
		f.params = []string{srt.Order}
		return nil, f
	}
	out := slices.Clone(items)
	slices.SortStableFunc(out, func(a, b *record) int {
		av, aok := a.fields[by]
		bv, bok := b.fields[by]
		switch {
		case !aok && !bok:
			return 0
		case !aok:
			return 1 // items without the field last, whatever the order
		case !bok:
			return -1
		}
		ac, _ := comparable(av, nil)
		bc, _ := comparable(bv, nil)
		c := compareValues(ac, bc)
		if desc {
			c = -c
		}
		return c
	})
	return out, nil
}
