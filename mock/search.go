package mock

import (
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/opsconform/opsconform/specs"
)

// answerSearch runs a full-text search whose query is the JSON body
// (x-opsconform-search; Ivanti's POST /api/rest/search/fulltext): the
// records of the named type's collection with the text in any text or
// number field, in any case, a page of them after Skip, with their count
// and the text echoed. Searching a type needs what listing it needs: the
// scopes of the collection's list. A blank text, an unknown type or a page
// out of range is the client's mistake, 400 naming it.
func (s *Server) answerSearch(x *exchange) *failure {
	sp := x.op.Search
	body, f := x.jsonBody()
	if f != nil {
		return f
	}
	text, _ := body[sp.Text].(string)
	if strings.TrimSpace(text) == "" {
		return &failure{kind: specs.InvalidBody, message: "Search keyword cannot be blank, provide a keyword and try again.", params: []string{sp.Text}}
	}
	typ, _ := body[sp.Type].(string)
	coll, ok := sp.Types[typ]
	if !ok {
		names := make([]string, 0, len(sp.Types))
		for n := range sp.Types {
			names = append(names, n)
		}
		sort.Strings(names)
		return &failure{kind: specs.InvalidBody, params: []string{sp.Type},
			message: fmt.Sprintf("%s %q is not a business object that can be searched (%s).", sp.Type, typ, strings.Join(names, ", "))}
	}
	if f := s.authorizeListing(x, coll); f != nil {
		return f
	}
	top, skip, f := s.searchPage(x, body)
	if f != nil {
		return f
	}
	ds := s.dataset(x.profile.Name)
	c := ds.cols[coll]
	if c == nil {
		return fail(specs.Internal, "opsconform mock: the collection %q is not in the data", coll)
	}
	ds.mu.RLock()
	items := c.items[:len(c.items):len(c.items)]
	ds.mu.RUnlock()
	if !x.faults.has(devSearchIgnored) {
		items = search(items, text)
	}
	lo, hi := min(skip, len(items)), min(skip+top, len(items))
	page := make([]any, 0, hi-lo)
	for _, rec := range items[lo:hi] {
		page = append(page, rec.fields)
	}
	out := map[string]any{sp.Items: page}
	if sp.Total != "" {
		out[sp.Total] = len(items)
	}
	if sp.Echo != "" {
		out[sp.Echo] = text
	}
	if sp.Key != "" {
		out[sp.Key] = c.idField
	}
	s.respond(x, out)
	return nil
}

// authorizeListing applies, to the caller's key, the scopes of the list of
// collection: what searching that collection needs.
func (s *Server) authorizeListing(x *exchange, collection string) *failure {
	if x.auth == nil || s.skipAuthorization(x) {
		return nil
	}
	for _, op := range x.profile.Operations {
		r := op.Resource
		if r == nil || r.Action != specs.ActionList || r.Collection != collection || r.ParentCollection != "" || len(op.Security) == 0 {
			continue
		}
		return authorize(x.profile, op, x.auth, op.Security[0], x.params)
	}
	return nil
}

// searchPage reads the body's page: the profile's default size when Top is
// absent, its maximum when Top is above it (as its lists clamp or refuse),
// and no negative Skip.
func (s *Server) searchPage(x *exchange, body map[string]any) (top, skip int, f *failure) {
	sp, pg := x.op.Search, x.profile.Pagination
	top, skip = math.MaxInt32, 0
	if pg != nil {
		top = pg.Size.Default
	}
	if sp.Top == "" {
		return top, 0, nil
	}
	read := func(field string, def, lo int) (int, *failure) {
		v, present := body[field]
		if !present || v == nil {
			return def, nil
		}
		n, ok := v.(int64)
		if !ok || n < int64(lo) || n > math.MaxInt32 {
			return 0, &failure{kind: specs.InvalidBody, params: []string{field}, message: fmt.Sprintf("%s must be a whole number of at least %d, not %v.", field, lo, v)}
		}
		return int(n), nil
	}
	if top, f = read(sp.Top, top, 1); f != nil {
		return 0, 0, f
	}
	if pg != nil && pg.Size.Max > 0 && top > pg.Size.Max {
		if pg.Overflow == specs.Reject {
			return 0, 0, &failure{kind: specs.InvalidBody, params: []string{sp.Top}, message: fmt.Sprintf("%s must be at most %d, not %d.", sp.Top, pg.Size.Max, top)}
		}
		top = pg.Size.Max
	}
	if skip, f = read(sp.Skip, 0, 0); f != nil {
		return 0, 0, f
	}
	return top, skip, nil
}
