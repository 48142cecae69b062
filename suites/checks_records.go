package suites

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"unicode"

	"github.com/opsconform/opsconform/specs"
	"github.com/pb33f/libopenapi/datamodel/high/base"
)

// recordChecks are the envelope group's checks of how a vendor's paths and
// records read and write: paths in any case, related-record lists,
// $search, updates that stay. Each is there only where the profile
// documents the behaviour.
func recordChecks(p *specs.Profile) []*Check {
	var checks []*Check
	if p.CaseInsensitivePaths {
		checks = append(checks, &Check{ID: "020", Statement: "Paths are matched whatever the case of their literal text: a business object name in other letters is the same operation", run: checkPathCase})
	}
	if relatedLists(p) != nil {
		checks = append(checks, &Check{ID: "021", Statement: "A related-records list holds exactly the records linked to its parent record, and answers 404 in the error envelope for a parent that does not exist", run: checkRelatedList})
	}
	if p.Pagination != nil && searchLists(p) != nil || bodySearches(p) != nil {
		checks = append(checks, &Check{ID: "022", Statement: "$search keeps exactly the records with the text: a word of a record finds it and only records with that word; a word no record has finds none", run: checkSearch})
	}
	if updates(p) != nil {
		checks = append(checks, &Check{ID: "023", Statement: "An update of one record answers it changed, and the next read of the record shows the change", run: checkUpdateStored})
	}
	return checks
}

// updates are the operations that update one record of the data, each
// with the get of the same collection to read it back.
func updates(p *specs.Profile) map[*specs.Operation]*specs.Operation {
	var out map[*specs.Operation]*specs.Operation
	for _, op := range p.Operations {
		r := op.Resource
		if r == nil || r.Action != specs.ActionUpdate || r.Source != specs.SourceData || op.Body == nil || op.Body.Schema == nil {
			continue
		}
		for _, g := range p.Operations {
			if gr := g.Resource; gr != nil && gr.Action == specs.ActionGet && gr.Collection == r.Collection && gr.Source == r.Source && g.Method == http.MethodGet {
				if out == nil {
					out = map[*specs.Operation]*specs.Operation{}
				}
				out[op] = g
				break
			}
		}
	}
	return out
}

// freeText is a property of schema that takes any text: no enum, pattern,
// format or const; "" when there is none.
func freeText(schema *base.Schema) string {
	if schema == nil || schema.Properties == nil {
		return ""
	}
	for name, proxy := range schema.Properties.FromOldest() {
		ps := proxy.Schema()
		if ps == nil || len(ps.Enum) > 0 || ps.Pattern != "" || ps.Format != "" || ps.Const != nil || (ps.MaxLength != nil && *ps.MaxLength < 32) {
			continue
		}
		if len(ps.Type) == 1 && ps.Type[0] == "string" {
			return name
		}
	}
	return ""
}

// checkUpdateStored updates, on a record it creates for the purpose (and
// deletes afterwards), one free-text field with each update operation, and
// reads the record back.
func checkUpdateStored(t *T) {
	e := t.env
	checked := 0
	ops := updates(e.profile)
	ids := make([]*specs.Operation, 0, len(ops))
	for op := range ops {
		ids = append(ids, op)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i].ID < ids[j].ID })
	for _, op := range ids {
		get := ops[op]
		field := freeText(op.Body.Schema)
		if field == "" {
			continue
		}
		id, ok := t.sacrificialItem(op)
		if !ok {
			continue
		}
		r := op.Resource
		extra := map[string]string{r.ID: id}
		if !fillableWith(e, op, extra) || !fillableWith(e, get, map[string]string{get.Resource.ID: id}) {
			continue
		}
		marker := "opsconform update " + op.ID
		body, _ := json.Marshal(map[string]string{field: marker})
		resp, data := t.Raw(t.Client("full"), op.Method, e.path(op, extra), nil, string(body))
		if resp.StatusCode < 200 || resp.StatusCode > 299 {
			t.Fatalf("2xx", fmt.Sprint(resp.StatusCode), "%s failed: %s", op.ID, truncate(data))
		}
		if len(data) > 0 && resp.StatusCode != http.StatusNoContent {
			if item, err := e.unwrap(data); err == nil && item[field] != nil && item[field] != marker {
				t.Fatalf(fmt.Sprintf("%s %q", field, marker), fmt.Sprint(item[field]), "%s answers the record unchanged", op.ID)
			}
		}
		resp, data = t.Raw(t.Client("full"), get.Method, e.path(get, map[string]string{get.Resource.ID: id}), nil, "")
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("200", fmt.Sprint(resp.StatusCode), "%s after %s failed: %s", get.ID, op.ID, truncate(data))
		}
		item, err := e.unwrap(data)
		if err != nil || item[field] != marker {
			t.Fatalf(fmt.Sprintf("%s %q", field, marker), string(truncate(data)), "%s after %s does not show the change", get.ID, op.ID)
		}
		checked++
	}
	if checked == 0 {
		t.Skipf("no update whose record the suite can create, with a text field to change")
	}
}

// recased is path with the literal text of its template re-cased by f,
// parameters (in braces) and the query string left alone.
func recased(template string, f func(string) string) string {
	var b strings.Builder
	depth := 0
	start := 0
	flush := func(end int) {
		if start < end {
			b.WriteString(f(template[start:end]))
		}
	}
	for i := 0; i < len(template); i++ {
		switch template[i] {
		case '{':
			if depth == 0 {
				flush(i)
				start = i
			}
			depth++
		case '}':
			depth--
			if depth == 0 {
				b.WriteString(template[start : i+1])
				start = i + 1
			}
		}
	}
	flush(len(template))
	return b.String()
}

// capitalizeLast upper-cases the first letter of the last literal segment:
// /api/odata/businessobject/Incidents, as the vendor's pages and clients write it.
func capitalizeLast(s string) string {
	i := strings.LastIndexByte(s, '/')
	if i < 0 || i+1 >= len(s) {
		return s
	}
	r := []rune(s[i+1:])
	r[0] = unicode.ToUpper(r[0])
	return s[:i+1] + string(r)
}

// upperLast upper-cases the whole last literal segment: INCIDENTS.
func upperLast(s string) string {
	i := strings.LastIndexByte(s, '/')
	return s[:i+1] + strings.ToUpper(s[i+1:])
}

// checkPathCase asks for the probe list with the name in its last literal
// segment (the business object's) re-cased two ways, the clients'
// "Incidents" and "INCIDENTS": each must be the same operation, answering
// 200 with as many records as the spec's spelling. Only that name is
// re-cased: it is what the vendor's pages and clients write in either case.
func checkPathCase(t *T) {
	e := t.env
	op := e.probe()
	if op == nil {
		t.Skipf("no operation the credentials can call")
	}
	resp, body := t.Raw(t.Client("full"), op.Method, e.path(op, nil), nil, "")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("200", fmt.Sprint(resp.StatusCode), "%s failed: %s", op.ID, truncate(body))
	}
	inner, err := e.unwrap(body)
	if err != nil {
		t.Fatalf("a "+e.profile.Name+" body", string(truncate(body)), "%v", err)
	}
	want, counted := intField(inner, totalField(e.profile))
	for _, variant := range []func(string) string{capitalizeLast, upperLast} {
		other := *op
		other.Path = recased(op.Path, variant)
		if other.Path == op.Path {
			continue
		}
		path := e.path(&other, nil)
		resp, body := t.Raw(t.Client("full"), op.Method, path, nil, "")
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("200", fmt.Sprint(resp.StatusCode), "%s spelled %s is not served: %s", op.ID, path, truncate(body))
		}
		if counted {
			got, err := e.unwrap(body)
			if n, ok := intField(got, totalField(e.profile)); err != nil || !ok || n != want {
				t.Fatalf(fmt.Sprintf("%d records", want), string(truncate(body)), "%s spelled %s is not the same list", op.ID, path)
			}
		}
	}
}

// totalField is where the profile's lists count their items; "" when they do not.
func totalField(p *specs.Profile) string {
	if p.Pagination == nil {
		return ""
	}
	return p.Pagination.Response.TotalItems
}

// relatedLists are the lists of records related to a parent record, in
// declaration order.
func relatedLists(p *specs.Profile) []*specs.Operation {
	var out []*specs.Operation
	for _, op := range p.Operations {
		if r := op.Resource; r != nil && r.Action == specs.ActionList && r.ParentCollection != "" && op.Method == http.MethodGet {
			out = append(out, op)
		}
	}
	return out
}

// checkRelatedList reads each related list the credentials can fill at the
// largest page: every record must carry the parent's id in the field the
// relationship links by, and at least one list must hold records. Then it
// asks for the records of a parent that does not exist.
func checkRelatedList(t *T) {
	e := t.env
	checked := 0
	for _, op := range relatedLists(e.profile) {
		if !e.fillable(op) {
			continue
		}
		r := op.Resource
		parent := e.creds.Params[r.Parent]
		path := e.path(op, nil)
		if e.profile.Pagination != nil && op.Paginated {
			path = withQuery(path, pageSizeParam(e.profile), fmt.Sprint(maxPage(e.profile)))
		}
		resp, body := t.Raw(t.Client("full"), op.Method, path, nil, "")
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("200", fmt.Sprint(resp.StatusCode), "%s failed: %s", op.ID, truncate(body))
		}
		inner, err := e.unwrap(body)
		if err != nil {
			t.Fatalf("a "+e.profile.Name+" list body", string(truncate(body)), "%v", err)
		}
		items, _ := inner[listItemsField(e.profile, op)].([]any)
		for _, it := range items {
			m, _ := it.(map[string]any)
			for param, field := range r.Filters {
				if param != r.Parent {
					continue
				}
				if got := fmt.Sprint(m[field]); got != parent {
					t.Fatalf(fmt.Sprintf("%s %s", field, parent), got, "%s lists a record of another %s: %s", op.ID, singularOf(r.ParentCollection), truncate(body))
				}
			}
		}
		if len(items) > 0 {
			checked++
		}
		missing := nonexistentID(op, r.Parent)
		resp, body = t.Raw(t.Client("full"), op.Method, e.path(op, map[string]string{r.Parent: missing}), nil, "")
		expectError(t, resp, body, specs.NotFound, e.profile.Errors.Spec(specs.NotFound).Status)
	}
	if checked == 0 {
		t.Skipf("no related list whose parent the credentials' params name has records")
	}
}

// listItemsField is where op's list body keeps its items.
func listItemsField(p *specs.Profile, op *specs.Operation) string {
	if f := op.Resource.Items; f != "" {
		return f
	}
	if p.Pagination != nil {
		return p.Pagination.Response.Items
	}
	return ""
}

// searchLists are the lists taking the profile's $search option.
func searchLists(p *specs.Profile) []*specs.Operation {
	if p.Query == nil || p.Query.Search == "" {
		return nil
	}
	var out []*specs.Operation
	for _, op := range p.Operations {
		if r := op.Resource; r != nil && r.Action == specs.ActionList && op.Method == http.MethodGet && op.Param("query", p.Query.Search) != nil {
			out = append(out, op)
		}
	}
	return out
}

// textOf is every text and number value of a record, lower-cased: what a
// search word must be found in.
func textOf(record map[string]any) []string {
	var out []string
	for _, v := range record {
		switch v := v.(type) {
		case string:
			out = append(out, strings.ToLower(v))
		case float64:
			out = append(out, strings.ToLower(fmt.Sprint(v)))
		}
	}
	return out
}

// searchWord is the longest word of four or more letters in a record's
// text, the one least likely to be in every record; "" when there is none.
func searchWord(record map[string]any) string {
	var words []string
	for _, s := range textOf(record) {
		for _, w := range strings.FieldsFunc(s, func(r rune) bool { return !unicode.IsLetter(r) }) {
			if len(w) >= 4 {
				words = append(words, w)
			}
		}
	}
	sort.SliceStable(words, func(i, j int) bool {
		if len(words[i]) != len(words[j]) {
			return len(words[i]) > len(words[j])
		}
		return words[i] < words[j]
	})
	if len(words) == 0 {
		return ""
	}
	return words[0]
}

// checkSearch searches, with the list option ($search) and with each
// search whose query is the body, for a word of a record (in upper case:
// the match is in any case) and for a word no record can have.
func checkSearch(t *T) {
	ran := 0
	if t.env.profile.Pagination != nil && searchLists(t.env.profile) != nil {
		ran += checkListSearch(t)
	}
	for _, op := range bodySearches(t.env.profile) {
		ran += checkBodySearch(t, op)
	}
	if ran == 0 {
		t.Skipf("no search whose records the credentials can list")
	}
}

// checkListSearch is checkSearch for the first searchable list the
// credentials fill; 0 when there is none.
func checkListSearch(t *T) int {
	e := t.env
	param := e.profile.Query.Search
	var op *specs.Operation
	for _, o := range searchLists(e.profile) {
		if e.fillable(o) {
			op = o
			break
		}
	}
	if op == nil {
		return 0
	}
	status, items, _, body := t.page(op)
	if status != http.StatusOK {
		t.Fatalf("200", fmt.Sprint(status), "%s failed: %s", op.ID, truncate(body))
	}
	if len(items) == 0 {
		t.Skipf("%s has no records to search for", op.ID)
	}
	first, _ := items[0].(map[string]any)
	word := searchWord(first)
	if word == "" {
		t.Skipf("%s's first record has no word of four letters to search for", op.ID)
	}
	size := pageSizeParam(e.profile)
	status, found, _, body := t.page(op, param, strings.ToUpper(word), size, fmt.Sprint(maxPage(e.profile)))
	if status != http.StatusOK {
		t.Fatalf("200", fmt.Sprint(status), "%s=%s failed: %s", param, url.QueryEscape(strings.ToUpper(word)), truncate(body))
	}
	if len(found) == 0 {
		t.Fatalf("the record the word comes from", "no record", "%s %s=%s finds nothing, though the first record has %q", op.ID, param, strings.ToUpper(word), word)
	}
	for _, it := range found {
		m, _ := it.(map[string]any)
		has := false
		for _, s := range textOf(m) {
			if strings.Contains(s, word) {
				has = true
				break
			}
		}
		if !has {
			t.Fatalf(fmt.Sprintf("records with %q", word), string(truncate(body)), "%s %s=%s answers a record without the word", op.ID, param, strings.ToUpper(word))
		}
	}
	status, found, _, body = t.page(op, param, nonsense)
	if status != http.StatusOK {
		t.Fatalf("200", fmt.Sprint(status), "%s=%s failed: %s", param, nonsense, truncate(body))
	}
	if len(found) != 0 {
		t.Fatalf("no record", fmt.Sprintf("%d records", len(found)), "%s %s=%s finds records although none has the word", op.ID, param, nonsense)
	}
	return 1
}

// nonsense is a word no record has.
const nonsense = "zqxjopsconformnoword"

// bodySearches are the searches whose query is the request body.
func bodySearches(p *specs.Profile) []*specs.Operation {
	var out []*specs.Operation
	for _, op := range p.Operations {
		if op.Search != nil {
			out = append(out, op)
		}
	}
	return out
}

// checkBodySearch searches with op, in the first of its types whose list
// the credentials can read, for a word of that list's first record, then
// for nonsense; 0 when no type's list is readable.
func checkBodySearch(t *T, op *specs.Operation) int {
	e := t.env
	sp := op.Search
	types := make([]string, 0, len(sp.Types))
	for typ := range sp.Types {
		types = append(types, typ)
	}
	sort.Strings(types)
	for _, typ := range types {
		var list *specs.Operation
		for _, o := range e.profile.Operations {
			if r := o.Resource; r != nil && r.Action == specs.ActionList && r.Collection == sp.Types[typ] && r.ParentCollection == "" && o.Method == http.MethodGet && e.fillable(o) {
				list = o
				break
			}
		}
		if list == nil {
			continue
		}
		status, items, _, _ := t.pageAs("full", list)
		if status != http.StatusOK || len(items) == 0 {
			continue
		}
		first, _ := items[0].(map[string]any)
		word := searchWord(first)
		if word == "" {
			continue
		}
		query := func(text string) (int, []any, map[string]any, []byte) {
			q := map[string]any{sp.Text: text, sp.Type: typ}
			if sp.Top != "" {
				q[sp.Top] = maxPage(e.profile)
			}
			b, _ := json.Marshal(q)
			resp, body := t.Raw(t.Client("full"), op.Method, e.path(op, nil), nil, string(b))
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("200", fmt.Sprint(resp.StatusCode), "%s %s failed: %s", op.ID, b, truncate(body))
			}
			inner, err := e.unwrap(body)
			if err != nil {
				t.Fatalf("a "+e.profile.Name+" body", string(truncate(body)), "%v", err)
			}
			found, ok := inner[sp.Items].([]any)
			if !ok {
				t.Fatalf(fmt.Sprintf("an array %q", sp.Items), string(truncate(body)), "%s answers no %q", op.ID, sp.Items)
			}
			return resp.StatusCode, found, inner, body
		}
		_, found, _, body := query(strings.ToUpper(word))
		if len(found) == 0 {
			t.Fatalf("the record the word comes from", "no record", "%s for %q in %s finds nothing, though %s's first record has it", op.ID, strings.ToUpper(word), typ, list.ID)
		}
		for _, it := range found {
			m, _ := it.(map[string]any)
			if !slices.ContainsFunc(textOf(m), func(s string) bool { return strings.Contains(s, word) }) {
				t.Fatalf(fmt.Sprintf("records with %q", word), string(truncate(body)), "%s for %q answers a record without the word", op.ID, word)
			}
		}
		_, found, inner, _ := query(nonsense)
		if n, counted := intField(inner, sp.Total); len(found) != 0 || counted && n != 0 {
			t.Fatalf("no record", fmt.Sprintf("%d records", len(found)), "%s for %s finds records although none has the word", op.ID, nonsense)
		}
		return 1
	}
	return 0
}
