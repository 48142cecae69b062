package suites

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/opsconform/opsconform/specs"
)

// dataChecks check that the data follows what clients do: an action
// changes what it documents, and a list's documented filters narrow it.
func dataChecks(p *specs.Profile) []*Check {
	var checks []*Check
	if len(p.UndoableActions()) > 0 {
		checks = append(checks, &Check{ID: "001", run: checkActionEffects,
			Statement: "An action changes what it documents: afterwards a list and a get show the item's new values, and the action that undoes it puts them back (" + opIDs(p.UndoableActions()) + ")"})
	}
	if len(p.FilteredLists()) > 0 {
		checks = append(checks, &Check{ID: "002", run: checkFilters,
			Statement: "A list's documented filters keep exactly the items that match, none silently ignored (" + opIDs(p.FilteredLists()) + ")"})
	}
	for _, c := range checks {
		c.Group, c.Citation = "data", p.Cite("data")
	}
	return checks
}

func opIDs(ops []*specs.Operation) string {
	ids := make([]string, len(ops))
	for i, op := range ops {
		ids[i] = op.ID
	}
	return joinWords(ids)
}

func joinWords(words []string) string {
	switch len(words) {
	case 0:
		return ""
	case 1:
		return words[0]
	}
	out := ""
	for i, w := range words {
		switch {
		case i == 0:
		case i == len(words)-1:
			out += " and "
		default:
			out += ", "
		}
		out += w
	}
	return out
}

// listItems are the items of a list answer: the array itself (OpManager's
// listAlarms), or the array under the operation's items field or the
// profile's paging items field, inside the success envelope. Numbers stay
// as written (json.Number), so a filter value is sent as the server wrote it.
func (e *env) listItems(op *specs.Operation, body []byte) ([]map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var top any
	if err := dec.Decode(&top); err != nil {
		return nil, fmt.Errorf("the body is not JSON: %.120q", body)
	}
	raw, isArray := top.([]any)
	if !isArray {
		m, ok := top.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("the body is neither a JSON array nor an object: %.120q", body)
		}
		if f := e.profile.Envelope.Success; f != "" {
			if m, ok = m[f].(map[string]any); !ok {
				return nil, fmt.Errorf("the body is not wrapped in %q", f)
			}
		}
		field := op.Resource.Items
		if field == "" && op.Paginated && e.profile.Pagination != nil {
			field = e.profile.Pagination.Response.Items
		}
		if raw, ok = m[field].([]any); !ok {
			return nil, fmt.Errorf("the body has no list under %q", field)
		}
	}
	items := make([]map[string]any, 0, len(raw))
	for _, it := range raw {
		if m, ok := it.(map[string]any); ok {
			items = append(items, m)
		}
	}
	return items, nil
}

// listOf is a list operation of op's collection that the credentials can call.
func (e *env) listOf(collection string, source specs.Source) *specs.Operation {
	for _, l := range e.profile.Operations {
		lr := l.Resource
		if lr != nil && lr.Action == specs.ActionList && lr.Collection == collection && lr.Source == source && e.fillable(l) {
			return l
		}
	}
	return nil
}

// fetchList reads one list with the full key: its items, or a failure.
func (t *T) fetchList(op *specs.Operation, path string) []map[string]any {
	resp, body := t.Raw(t.Client("full"), op.Method, path, nil, "")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("200", fmt.Sprint(resp.StatusCode), "%s %s failed: %s", op.Method, path, truncate(body))
	}
	items, err := t.env.listItems(op, body)
	if err != nil {
		t.Fatalf("a "+t.env.profile.Name+" list body", string(truncate(body)), "%s: %v", op.ID, err)
	}
	return items
}

// same reports whether a value read back is the one expected, as JSON
// writes them (1 and "1" differ; 1 and 1.0 do not).
func same(got, want any) bool {
	g, _ := json.Marshal(got)
	w, _ := json.Marshal(want)
	if bytes.Equal(g, w) {
		return true
	}
	gn, gok := got.(json.Number)
	if gok {
		gf, _ := gn.Float64()
		switch n := want.(type) {
		case float64:
			return gf == n
		case int64:
			return gf == float64(n)
		case int:
			return gf == float64(n)
		}
	}
	return false
}

// checkActionEffects performs each action that another action undoes on
// an item in the undone state, reads the item back through the list (and a
// get where the collection has one) and undoes it, reading it back again:
// acknowledgeAlarm must make the alarm read acknowledged, not just answer 200.
func checkActionEffects(t *T) {
	e := t.env
	checked := 0
	for _, op := range e.profile.UndoableActions() {
		undo := e.profile.Undo(op)
		r := op.Resource
		list := e.listOf(r.Collection, r.Source)
		if list == nil || !fillableWith(e, op, map[string]string{r.ID: "x"}) || !fillableWith(e, undo, map[string]string{r.ID: "x"}) {
			continue
		}
		// An item in the state the undo leaves, so that undoing restores it exactly.
		var id string
		for _, it := range t.fetchList(list, e.path(list, nil)) {
			matches := it[r.Field] != nil
			for _, a := range undo.Resource.Sets {
				if a.Token == specs.TokenNone && !same(it[a.Field], a.Value) {
					matches = false
				}
			}
			if matches {
				id = fmt.Sprint(it[r.Field])
				break
			}
		}
		if id == "" {
			continue
		}
		act := func(o *specs.Operation) {
			body := ""
			if o.Body != nil {
				body = validBody(o.Body.Schema)
			}
			path := e.path(o, map[string]string{o.Resource.ID: id})
			resp, data := t.Raw(t.Client("full"), o.Method, path, nil, body)
			if resp.StatusCode < 200 || resp.StatusCode > 299 {
				t.Fatalf("2xx", fmt.Sprint(resp.StatusCode), "%s %s failed: %s", o.Method, path, truncate(data))
			}
		}
		undone := false
		t.Defer(func() {
			if !undone {
				act(undo)
			}
		})
		act(op)
		t.readBack(op, list, id)
		act(undo)
		undone = true
		t.readBack(undo, list, id)
		checked++
	}
	if checked == 0 {
		t.Skipf("no item of %s is in the state its undoing action leaves", opIDs(e.profile.UndoableActions()))
	}
}

// readBack finds the item op acted on in the list, and through a get of
// its collection where there is one, and checks every field op sets.
func (t *T) readBack(op *specs.Operation, list *specs.Operation, id string) {
	e := t.env
	r := op.Resource
	var item map[string]any
	for _, it := range t.fetchList(list, e.path(list, nil)) {
		if fmt.Sprint(it[r.Field]) == id {
			item = it
			break
		}
	}
	if item == nil {
		t.Fatalf(r.Collection+" item "+id, "none", "after %s, %s no longer lists the item", op.ID, list.ID)
	}
	t.checkSets(op, list.ID, item, nil)
	for _, g := range e.profile.Operations {
		gr := g.Resource
		if gr == nil || gr.Action != specs.ActionGet || gr.Collection != r.Collection || gr.Source != r.Source || gr.Field != r.Field || !fillableWith(e, g, map[string]string{gr.ID: id}) {
			continue
		}
		path := e.path(g, map[string]string{gr.ID: id})
		resp, body := t.Raw(t.Client("full"), g.Method, path, nil, "")
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("200", fmt.Sprint(resp.StatusCode), "after %s, %s %s failed: %s", op.ID, g.Method, path, truncate(body))
		}
		got, err := e.unwrap(body)
		if err != nil {
			t.Fatalf("a "+e.profile.Name+" item", string(truncate(body)), "%s: %v", g.ID, err)
		}
		t.checkSets(op, g.ID, got, gr.View)
	}
}

// checkSets compares what op declares it sets with an item as read by
// reader: a literal exactly, the caller as a non-empty string, a time as a
// time in the field's form, a parameter as sent. view maps the reader's
// fields to the item's, where it renames them.
func (t *T) checkSets(op *specs.Operation, reader string, item map[string]any, view map[string]string) {
	for _, a := range op.Resource.Sets {
		name := a.Field
		for out, in := range view {
			if in == a.Field {
				name = out
			}
		}
		got, ok := item[name]
		if !ok {
			if reader != "" && view != nil {
				continue // this reader does not show the field
			}
			t.Fatalf(a.Field, "nothing", "after %s, %s shows no %s", op.ID, reader, name)
		}
		switch a.Token {
		case specs.TokenNone:
			if !same(got, a.Value) && !(view != nil && fmt.Sprint(got) == fmt.Sprint(a.Value)) {
				w, _ := json.Marshal(a.Value)
				g, _ := json.Marshal(got)
				t.Fatalf(string(w), string(g), "after %s, %s shows %s unchanged or wrong", op.ID, reader, name)
			}
		case specs.TokenUser:
			if s, _ := got.(string); s == "" || slices.ContainsFunc(undoLiterals(t.env.profile, op, a.Field), func(v any) bool { return same(got, v) }) {
				t.Fatalf("the caller", fmt.Sprint(got), "after %s, %s does not show who acted in %s", op.ID, reader, name)
			}
		case specs.TokenNow:
			if !isTime(got, a) {
				t.Fatalf("a time", fmt.Sprint(got), "after %s, %s does not show a time in %s", op.ID, reader, name)
			}
		}
	}
}

// undoLiterals are the values the actions undoing op write in field: what
// the field must no longer read after op.
func undoLiterals(p *specs.Profile, op *specs.Operation, field string) []any {
	var out []any
	if u := p.Undo(op); u != nil {
		for _, a := range u.Resource.Sets {
			if a.Field == field && a.Token == specs.TokenNone {
				out = append(out, a.Value)
			}
		}
	}
	return out
}

// isTime reports whether v reads as a time the way a's field writes it.
func isTime(v any, a specs.Assignment) bool {
	if a.Millis {
		n, ok := v.(json.Number)
		if !ok {
			return false
		}
		_, err := strconv.ParseInt(n.String(), 10, 64)
		return err == nil
	}
	s, ok := v.(string)
	if !ok {
		return false
	}
	_, err := time.Parse(a.Layout, s)
	return err == nil
}

// checkFilters asks each filtered list for the items whose field has a
// value some listed item has and another does not, and expects exactly the
// matching ones: a filter that is accepted and ignored answers every item.
func checkFilters(t *T) {
	e := t.env
	checked := 0
	for _, op := range e.profile.FilteredLists() {
		if !e.fillable(op) {
			continue
		}
		all := t.fetchList(op, e.path(op, nil))
		params := make([]string, 0, len(op.Resource.Filters))
		for p := range op.Resource.Filters {
			params = append(params, p)
		}
		slices.Sort(params)
		for _, param := range params {
			if op.Param("query", param) == nil {
				continue // a path parameter's filter: the path already names the parent
			}
			field := op.Resource.Filters[param]
			value, ok := discriminating(all, field)
			if !ok {
				if !freeTextParam(op.Param("query", param)) {
					continue
				}
				// Every item agrees (one organization): a value none has must
				// answer none, as GET /orgs?name=NoSuchOrg must.
				path := withQuery(e.path(op, nil), param, noSuchValue)
				if got := t.fetchList(op, path); len(got) > 0 {
					t.Fatalf("no item", fmt.Sprintf("%d items, the first with %s %v", len(got), field, got[0][field]), "%s?%s=%s answers items though none has that %s: the filter is ignored", op.ID, param, noSuchValue, field)
				}
				checked++
				continue
			}
			path := withQuery(e.path(op, nil), param, value)
			got := t.fetchList(op, path)
			if len(got) == 0 {
				t.Fatalf("at least one item with "+field+" "+value, "none", "%s?%s=%s answers no item, though %s lists one", op.ID, param, value, op.ID)
			}
			for _, it := range got {
				if fmt.Sprint(it[field]) != value {
					t.Fatalf(field+" "+value, fmt.Sprint(it[field]), "%s?%s=%s answers an item whose %s is not %s: the filter is ignored", op.ID, param, value, field, value)
				}
			}
			checked++
		}
	}
	if checked == 0 {
		t.Skipf("no filtered list has items that differ in a filtered field")
	}
}

// discriminating is a value of field that some item has and another does
// not, as text; false when every item agrees (a filter could not be told
// from no filter).
func discriminating(items []map[string]any, field string) (string, bool) {
	var first string
	found := false
	for _, it := range items {
		v, ok := it[field]
		if !ok || v == nil {
			continue
		}
		switch v.(type) {
		case map[string]any, []any:
			continue
		}
		s := fmt.Sprint(v)
		if !found {
			first, found = s, true
			continue
		}
		if s != first {
			return first, true
		}
	}
	return "", false
}

// noSuchValue is a filter value no item has.
const noSuchValue = "opsconform-no-such-value"

// freeTextParam reports whether a parameter takes any text, so that a value no
// item has is valid for it (not refused with 400 for its form).
func freeTextParam(prm *specs.Param) bool {
	if prm == nil || prm.Schema == nil {
		return prm != nil
	}
	s := prm.Schema
	return (len(s.Type) == 0 || slices.Contains(s.Type, "string")) && len(s.Enum) == 0 && s.Pattern == "" && s.Format == "" && s.Const == nil
}
