package mock

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/opsconform/opsconform/specs"
)

// The fixture records the Ivanti related-object tests name.
const (
	ivIncident = "0A8C17C5DF534513AACCBB543C60B1D5"
	ivChange   = "02818A8426C9402E8DFE7C8D3132F783"
	ivEmployee = "6EFAB27E9F164ECF96364EF18D233D26"
)

// TestCaseInsensitivePaths: Ivanti's business object names (and the rest of
// a path's literal text) match in any case, parameter values keep theirs;
// other profiles keep exact matching.
func TestCaseInsensitivePaths(t *testing.T) {
	rt, err := newRouter(embeddedProfiles(t))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		method, path, op string
		params           map[string]string
	}{
		{"GET", "/api/odata/businessobject/Incidents", "listIncidents", nil},
		{"GET", "/API/OData/BusinessObject/INCIDENTS", "listIncidents", nil},
		{"POST", "/api/odata/businessobject/journal__Notess", "createJournalNote", nil},
		{"PUT", "/api/odata/businessobject/Incidents('" + ivIncident + "')", "updateIncident", map[string]string{"recId": ivIncident}},
		{"GET", "/api/odata/businessobject/INCIDENTS('abcDEF')", "getIncident", map[string]string{"recId": "abcDEF"}},
		{"GET", "/api/odata/businessobject/Incidents('" + ivIncident + "')/incidentcontainsjournal", "listIncidentJournals", map[string]string{"incidentRecId": ivIncident}},
		{"GET", "/API/V1/AGENTS", "", nil}, // OpsMerge matches exactly
		{"GET", "/api/v1/agents", "listAgents", nil},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			r, params, _ := rt.match(tt.method, tt.path)
			switch {
			case tt.op == "" && r != nil:
				t.Fatalf("matched %s, want no match", r.op.ID)
			case tt.op == "":
				return
			case r == nil:
				t.Fatalf("no match, want %s", tt.op)
			case r.op.ID != tt.op:
				t.Fatalf("matched %s, want %s", r.op.ID, tt.op)
			}
			for k, v := range tt.params {
				if params[k] != v {
					t.Errorf("%s = %q, want %q (parameters keep their case)", k, params[k], v)
				}
			}
		})
	}
}

// TestCaseFoldingAllocatesNothing: matching a case-insensitive route costs
// the same allocations whatever the case the path is written in: folding
// compares in place, it never lowers a copy.
func TestCaseFoldingAllocatesNothing(t *testing.T) {
	rt, err := newRouter(embeddedProfiles(t))
	if err != nil {
		t.Fatal(err)
	}
	exact := testing.AllocsPerRun(200, func() { rt.match("GET", "/api/odata/businessobject/incidents('"+ivIncident+"')") })
	folded := testing.AllocsPerRun(200, func() { rt.match("GET", "/api/odata/BusinessObject/Incidents('"+ivIncident+"')") })
	if folded != exact {
		t.Errorf("a mixed-case path costs %v allocations, the spec's spelling %v", folded, exact)
	}
}

// TestErrorsUnderTheAPIAreIvantis: outside /api/odata (the /api/rest
// services, unknown routes) errors come in Ivanti's {code, description,
// message[]} envelope, not the mock's own.
func TestErrorsUnderTheAPIAreIvantis(t *testing.T) {
	h := newHarness(t)
	p := profileNamed(t, "ivanti-ism")
	hdr, _ := fixtureCredentials(t, p, "full")
	if status, _, body := h.do("GET", "/API/REST/search/fulltext", hdr, ""); status != 405 {
		t.Errorf("GET on the full-text search: %d %s, want 405", status, body)
	} else {
		assertErrorEnvelope(t, p, specs.MethodNotAllowed, body)
	}
	for _, path := range []string{"/api/rest/Search", "/API/REST/Attachment", "/api/nothing-here", "/api/odata/businessobject/nothings"} {
		status, _, body := h.do("GET", path, hdr, "")
		if status != 404 {
			t.Errorf("%s: %d %s, want 404", path, status, body)
			continue
		}
		assertErrorEnvelope(t, p, specs.NotFound, body)
		var env struct {
			Code    string   `json:"code"`
			Message []string `json:"message"`
		}
		if json.Unmarshal(body, &env) != nil || env.Code != "ISM_4004" || len(env.Message) != 1 {
			t.Errorf("%s: %s, want ISM_4004 with one message", path, body)
		}
	}
}

// TestRelatedObjects: incidents('{RecId}')/IncidentContainsJournal lists the
// journal notes whose ParentLink_RecID is the incident, in any case of the
// relationship's name; an unknown incident is 404.
func TestRelatedObjects(t *testing.T) {
	h := newHarness(t)
	p := profileNamed(t, "ivanti-ism")
	hdr, _ := fixtureCredentials(t, p, "full")
	tests := []struct {
		path     string
		parent   string
		category string
		atLeast  int
	}{
		{"/api/odata/businessobject/incidents('" + ivIncident + "')/IncidentContainsJournal?$top=100", ivIncident, "Incident", 3},
		{"/api/odata/businessobject/Incidents('" + ivIncident + "')/incidentcontainsjournal?$top=100", ivIncident, "Incident", 3},
		{"/api/odata/businessobject/changes('" + ivChange + "')/ChangeContainsJournal?$top=100", ivChange, "Change", 2},
	}
	for _, tt := range tests {
		r := h.listPage(t, p, http.DefaultClient, hdr, tt.path)
		if r.status != 200 || len(r.items) < tt.atLeast || r.totalItems != len(r.items) {
			t.Fatalf("%s: %d, %d items of %d, want at least %d: %s", tt.path, r.status, len(r.items), r.totalItems, tt.atLeast, r.body)
		}
		for _, it := range r.items {
			if it["ParentLink_RecID"] != tt.parent || it["ParentLink_Category"] != tt.category {
				t.Errorf("%s lists a note of %v %v", tt.path, it["ParentLink_Category"], it["ParentLink_RecID"])
			}
		}
	}
	status, _, body := h.do("GET", "/api/odata/businessobject/incidents('"+strings.Repeat("0", 32)+"')/IncidentContainsJournal", hdr, "")
	if status != 404 || !strings.Contains(string(body), "No incident has RecId") {
		t.Errorf("an unknown incident's notes: %d %s, want 404 naming the incident", status, body)
	}
	assertErrorEnvelope(t, p, specs.NotFound, body)
	// A note created on the incident is listed under it from the next request.
	status, _, body = h.do("POST", "/api/odata/businessobject/journal__Notess", hdr,
		`{"Subject":"Called back","NotesBody":"Works again.","ParentLink_RecID":"`+ivIncident+`"}`)
	if status != 201 {
		t.Fatalf("create a note: %d %s", status, body)
	}
	var note map[string]any
	_ = json.Unmarshal(body, &note)
	if note["ParentLink_Category"] != "Incident" {
		t.Errorf("a note on an incident got ParentLink_Category %v, want Incident (from the record it names)", note["ParentLink_Category"])
	}
	r := h.listPage(t, p, http.DefaultClient, hdr, tests[0].path)
	if !containsRecord(r.items, note["RecId"]) {
		t.Errorf("the created note %v is not among the incident's %d notes", note["RecId"], len(r.items))
	}
}

func containsRecord(items []map[string]any, recID any) bool {
	for _, it := range items {
		if it["RecId"] == recID {
			return true
		}
	}
	return false
}

// TestFixturesCrossReference: every incident's and service request's
// ProfileLink_RecID names an employee, every journal note's
// ParentLink_RecID a record of the kind its ParentLink_Category says; and
// created records point at existing ones too.
func TestFixturesCrossReference(t *testing.T) {
	h := newHarness(t)
	p := profileNamed(t, "ivanti-ism")
	hdr, _ := fixtureCredentials(t, p, "full")
	created := map[string]string{
		"incidents":   `{"Subject":"Created without an employee link on purpose? No: ProfileLink_RecID is required","ProfileLink_RecID":"` + ivEmployee + `"}`,
		"servicereqs": `{"Subject":"A monitor","ProfileLink_RecID":"` + ivEmployee + `"}`,
		"journals":    `{"Subject":"A note on a change","ParentLink_RecID":"` + ivChange + `"}`,
	}
	paths := map[string]string{"incidents": "incidents", "servicereqs": "servicereqs", "journals": "journal__notess"}
	for coll, body := range created {
		if st, _, b := h.do("POST", "/api/odata/businessobject/"+paths[coll], hdr, body); st != 201 {
			t.Fatalf("create %s: %d %s", coll, st, b)
		}
	}
	ds := h.srv.dataset(p.Name)
	ds.mu.RLock()
	defer ds.mu.RUnlock()
	exists := func(coll string, id any) bool { return ds.cols[coll].has(fmt.Sprint(id)) }
	for _, coll := range []string{"incidents", "servicereqs"} {
		for _, rec := range ds.cols[coll].items {
			if !exists("employees", rec.fields["ProfileLink_RecID"]) {
				t.Errorf("%s %v: ProfileLink_RecID %v is no employee", coll, rec.fields["RecId"], rec.fields["ProfileLink_RecID"])
			}
		}
	}
	byCategory := map[string]string{"Incident": "incidents", "Change": "changes", "Problem": "problems"}
	kinds := map[string]int{}
	for _, rec := range ds.cols["journals"].items {
		cat := fmt.Sprint(rec.fields["ParentLink_Category"])
		kinds[cat]++
		if coll := byCategory[cat]; coll == "" || !exists(coll, rec.fields["ParentLink_RecID"]) {
			t.Errorf("journal %v: ParentLink %s %v does not exist", rec.fields["RecId"], cat, rec.fields["ParentLink_RecID"])
		}
	}
	if len(kinds) != 3 {
		t.Errorf("journal notes are on %v, want incidents, changes and problems", kinds)
	}
}

// TestUpdateByRecID: PUT and PATCH on incidents('{RecId}') change the
// record (they answered 405), later reads see it, and an empty body is 400
// as the vendor documents ("Message body cannot be empty").
func TestUpdateByRecID(t *testing.T) {
	h := newHarness(t)
	p := profileNamed(t, "ivanti-ism")
	hdr, _ := fixtureCredentials(t, p, "full")
	path := "/api/odata/businessobject/incidents('" + ivIncident + "')"
	for _, tt := range []struct{ method, status string }{{"PUT", "Resolved"}, {"PATCH", "Closed"}} {
		st, _, body := h.do(tt.method, path, hdr, `{"Status":"`+tt.status+`"}`)
		if st != 200 || !strings.Contains(string(body), `"Status":"`+tt.status+`"`) {
			t.Fatalf("%s: %d %s", tt.method, st, body)
		}
		st, _, body = h.do("GET", path, hdr, "")
		if st != 200 || !strings.Contains(string(body), `"Status":"`+tt.status+`"`) || !strings.Contains(string(body), `"Subject":"Cannot authorize expense report`) {
			t.Errorf("after %s: %d %s", tt.method, st, body)
		}
	}
	// Spelled otherwise than the spec (the client's Incidents, a trailing
	// slash), the path still lines up with the validator: these were 500s.
	for _, spelled := range []string{"/api/odata/businessobject/Incidents('" + ivIncident + "')", path + "/", "/API/ODATA/BUSINESSOBJECT/INCIDENTS('" + ivIncident + "')"} {
		if st, _, body := h.do("PUT", spelled, hdr, `{"Status":"Active","Owner":"JSmith"}`); st != 200 || !strings.Contains(string(body), `"Owner":"JSmith"`) {
			t.Errorf("PUT %s: %d %s", spelled, st, body)
		}
	}
	for _, bad := range []string{"{}", `{"Nope":1}`} {
		st, _, body := h.do("PUT", path, hdr, bad)
		if st != 400 {
			t.Errorf("PUT %s: %d %s, want 400", bad, st, body)
		}
		assertErrorEnvelope(t, p, specs.InvalidBody, body)
	}
	if st, _, body := h.do("PUT", "/api/odata/businessobject/incidents('"+strings.Repeat("0", 32)+"')", hdr, `{"Status":"Closed"}`); st != 404 {
		t.Errorf("PUT an unknown incident: %d %s", st, body)
	}
}

// TestSearch: $search keeps the records with the word in any text field, in
// any case; a word no record has finds nothing; it combines with paging.
func TestSearch(t *testing.T) {
	h := newHarness(t)
	p := profileNamed(t, "ivanti-ism")
	hdr, _ := fixtureCredentials(t, p, "full")
	get := func(path string, q url.Values) pageResult {
		return h.listPage(t, p, http.DefaultClient, hdr, path+"?"+q.Encode())
	}
	r := get("/api/odata/businessobject/employees", url.Values{"$search": {"WRIGHT"}})
	if r.status != 200 || !containsRecord(r.items, ivEmployee) {
		t.Fatalf("$search=WRIGHT: %d %s", r.status, r.body)
	}
	for _, it := range r.items {
		if !strings.Contains(strings.ToLower(fmt.Sprint(it)), "wright") {
			t.Errorf("$search=WRIGHT answered %v", it)
		}
	}
	if r := get("/api/odata/businessobject/incidents", url.Values{"$search": {"zqxjnothing"}}); r.status != 200 || len(r.items) != 0 || r.totalItems != 0 {
		t.Errorf("$search for a word nobody has: %d, %d items, count %d", r.status, len(r.items), r.totalItems)
	}
	all := get("/api/odata/businessobject/incidents", url.Values{"$search": {"expense"}, "$top": {"1"}})
	if all.status != 200 || all.totalItems < 1 || len(all.items) != 1 {
		t.Errorf("$search with $top: %d %s", all.status, all.body)
	}
}

// TestFullTextSearch: POST /api/rest/search/fulltext searches the records
// of the business object ObjectType names, Top at a time after Skip, and
// counts them all; a blank keyword or an unknown type is 400 as the vendor
// documents; a key whose role cannot list the type is refused with 403.
func TestFullTextSearch(t *testing.T) {
	h := newHarness(t)
	p := profileNamed(t, "ivanti-ism")
	hdr, _ := fixtureCredentials(t, p, "full")
	type result struct {
		Data       []map[string]any `json:"data"`
		TotalRows  int              `json:"totalRows"`
		KeyRef     string           `json:"keyRef"`
		SearchText string           `json:"searchText"`
	}
	post := func(hdr http.Header, body string) (int, result, []byte) {
		st, _, data := h.do("POST", "/API/Rest/Search/FullText", hdr, body)
		var r result
		_ = json.Unmarshal(data, &r)
		return st, r, data
	}
	st, r, body := post(hdr, `{"Text":"WRIGHT","ObjectType":"Employee"}`)
	if st != 200 || r.TotalRows < 1 || !containsRecord(r.Data, ivEmployee) || r.KeyRef != "RecId" || r.SearchText != "WRIGHT" {
		t.Fatalf("Employee WRIGHT: %d %s", st, body)
	}
	for _, it := range r.Data {
		if !strings.Contains(strings.ToLower(fmt.Sprint(it)), "wright") {
			t.Errorf("Employee WRIGHT answered %v", it)
		}
	}
	// Paging: Top at a time after Skip, the count unchanged.
	_, all, _ := post(hdr, `{"Text":"e","ObjectType":"Incident","Top":100}`)
	_, second, body := post(hdr, `{"Text":"e","ObjectType":"Incident","Top":7,"Skip":7}`)
	if all.TotalRows <= 14 || second.TotalRows != all.TotalRows || len(second.Data) != 7 || second.Data[0]["RecId"] != all.Data[7]["RecId"] {
		t.Errorf("Top 7 Skip 7: %d of %d rows, first %v, want all's 8th %v: %s", len(second.Data), second.TotalRows, second.Data[0]["RecId"], all.Data[7]["RecId"], body)
	}
	if _, none, _ := post(hdr, `{"Text":"zqxjnothing","ObjectType":"Change"}`); none.TotalRows != 0 || len(none.Data) != 0 {
		t.Errorf("a word no change has: %+v", none)
	}
	for _, bad := range []struct{ body, want string }{
		{`{"Text":"  ","ObjectType":"Incident"}`, "Search keyword cannot be blank"},
		{`{"Text":"printer","ObjectType":"Alert"}`, "ObjectType"},
		{`{"Text":"printer"}`, "ObjectType"},
		{`{"Text":"printer","ObjectType":"Incident","Skip":-1}`, "Skip"},
	} {
		st, _, body := post(hdr, bad.body)
		if st != 400 || !strings.Contains(string(body), bad.want) {
			t.Errorf("%s: %d %s, want 400 naming %s", bad.body, st, body, bad.want)
		}
		assertErrorEnvelope(t, p, specs.InvalidBody, body)
	}
	// A key in a role that cannot list changes cannot search them either.
	st, _, created := h.do("POST", ControlPrefix+"profiles/ivanti-ism/keys", nil,
		`{"name":"self service","owner":"analyst","role":"SelfServiceUser","tenant":"127.0.0.1","scopes":["*"]}`)
	var k struct {
		Secret string `json:"secret"`
	}
	if json.Unmarshal(created, &k); st != 201 || k.Secret == "" {
		t.Fatalf("create a SelfServiceUser key: %d %s", st, created)
	}
	self := http.Header{"Authorization": {"rest_api_key=" + k.Secret}}
	if st, _, body := post(self, `{"Text":"upgrade","ObjectType":"Change"}`); st != 403 {
		t.Errorf("SelfServiceUser searching changes: %d %s, want 403", st, body)
	}
	if st, _, body := post(self, `{"Text":"expense","ObjectType":"Incident"}`); st != 200 {
		t.Errorf("SelfServiceUser searching incidents: %d %s, want 200", st, body)
	}
}
