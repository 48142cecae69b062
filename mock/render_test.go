package mock

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestAppendJSONMatchesEncodingJSON: the appender the mock writes answers
// with gives encoding/json's bytes (with HTML escaping off) for every shape.
func TestAppendJSONMatchesEncodingJSON(t *testing.T) {
	values := []any{
		nil, true, false, 0, -7, int64(1) << 40, 3.0, math.Copysign(0, -1), 1.5, 1e21, 1e-7, math.MaxInt32 + 0.5,
		"", "plain", `quo"te`, `back\slash`, "tab\tnewline\n", "\x01control", "<&>", "héllo", "\u2028", "bad\xffutf8",
		map[string]any{}, map[string]any{"b": 1, "a": "x", "é": nil, "<": []any{1, "2"}},
		[]any{}, []any{map[string]any{"z": 1}, json.RawMessage(`{"raw":true}`)},
		json.RawMessage(`[1,2,3]`), json.Number("12.50"), []string{"not", "any"},
	}
	for _, v := range values {
		want, err := encodeJSON(v)
		if err != nil {
			t.Fatal(err)
		}
		got, err := appendJSON(nil, v)
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("appendJSON(%#v) = %s, %v; encoding/json gives %s", v, got, err, want)
		}
	}
}

// assertEncodingsTrue checks every stored record's bytes against a fresh
// encoding of its fields.
func assertEncodingsTrue(t *testing.T, h *harness, when string) {
	t.Helper()
	for _, p := range embeddedProfiles(t) {
		ds := h.srv.dataset(p.Name)
		ds.mu.RLock()
		for _, c := range ds.cols {
			for _, rec := range c.items {
				fields := rec.fields
				if rec.link != nil {
					// The link slot holds a placeholder: compare the item with its link as served.
					fields = map[string]any{}
					for k, v := range rec.fields {
						fields[k] = v
					}
					fields[ds.links] = []any{map[string]any{"href": "http://h/x", "rel": "self"}}
				}
				want, _ := encodeJSON(fields)
				got := rec.json
				if rec.link != nil {
					got = appendLinked(nil, rec, "http://h/x")
				}
				if !bytes.Equal(got, want) {
					t.Errorf("%s: %s %s item %v: stored %s, fresh %s", when, p.Name, c.name, rec.fields[c.idField], got, want)
				}
			}
		}
		ds.mu.RUnlock()
	}
}

// TestStoredEncodingsStayTrue writes through every kind of write the
// profiles serve (creates, deletes, actions, key updates, resets) and checks
// after each that stored encodings, cached key views and served pages equal
// fresh encodings.
func TestStoredEncodingsStayTrue(t *testing.T) {
	h := newHarness(t)
	assertEncodingsTrue(t, h, "at start")
	ivanti := profileNamed(t, "ivanti-ism")
	ih, _ := fixtureCredentials(t, ivanti, "full")
	if st, _, b := h.do("POST", "/api/odata/businessobject/incidents", ih, `{"Subject":"Disk full on <db-01> & more","Priority":"1","ProfileLink_RecID":"0123456789ABCDEF0123456789ABCDEF"}`); st != 201 {
		t.Fatalf("create: %d %s", st, b)
	}
	assertEncodingsTrue(t, h, "after a create")
	page := h.listPage(t, ivanti, http.DefaultClient, ih, "/api/odata/businessobject/incidents?$top=1&$skip=230")
	if len(page.items) != 1 || page.items[0]["Subject"] != "Disk full on <db-01> & more" {
		t.Fatalf("the created incident is not last in the list: %s", page.body)
	}
	if !strings.Contains(string(page.body), "<db-01> & more") {
		t.Errorf("the page escapes what encoding/json with HTML escaping off does not: %s", page.body)
	}
	recID := fmt.Sprint(page.items[0]["RecId"])
	if st, _, b := h.do("DELETE", "/api/odata/businessobject/incidents('"+recID+"')", ih, ""); st != 204 {
		t.Fatalf("delete: %d %s", st, b)
	}
	assertEncodingsTrue(t, h, "after a delete")

	opm := profileNamed(t, "opmanager")
	oh, _ := fixtureCredentials(t, opm, "full")
	if st, _, b := h.do("POST", "/api/json/alarm/acknowledgeAlarm?entity=10241_CPUUtilization", oh, ""); st != 200 {
		t.Fatalf("action: %d %s", st, b)
	}
	assertEncodingsTrue(t, h, "after an action")
	// Actions with sets replace the record; the list must show the new bytes.
	for _, path := range []string{
		"/api/json/alarm/clearAlarm?entity=10241_CPUUtilization",
		"/api/json/alarm/addNotes?entity=10241_CPUUtilization&notes=" + url.QueryEscape(`fan <tray> & "PSU"`),
	} {
		if st, _, b := h.do("POST", path, oh, ""); st != 200 {
			t.Fatalf("%s: %d %s", path, st, b)
		}
		assertEncodingsTrue(t, h, "after "+path)
	}
	_, _, listed := h.do("GET", "/api/json/alarm/listAlarms?entity=10241_CPUUtilization", oh, "")
	if !strings.Contains(string(listed), `"numericSeverity":5`) || !strings.Contains(string(listed), `"who":"admin"`) {
		t.Errorf("the list does not show what the actions set: %s", listed)
	}
	_, _, notes := h.do("GET", "/api/json/alarm/getAnnotation?entity=10241_CPUUtilization", oh, "")
	if !strings.Contains(string(notes), `fan <tray> & \"PSU\"`) {
		t.Errorf("the note list does not show the added note as encoding/json writes it: %s", notes)
	}
	if st, _, b := h.do("POST", "/api/json/alarm/deleteAlarm?entity=10241_CPUUtilization", oh, ""); st != 200 {
		t.Fatalf("delete with its notes: %d %s", st, b)
	}
	assertEncodingsTrue(t, h, "after a delete that takes the alarm's notes")
	om := profileNamed(t, "opsmerge")
	omh, _ := fixtureCredentials(t, om, "full")
	clientID := fmt.Sprint(h.srv.dataset("opsmerge").cols["clients"].items[0].fields["id"])
	if st, _, b := h.do("POST", "/api/v1/tickets", omh, `{"subject":"<b>bold</b> & co","clientId":"`+clientID+`"}`); st != 201 {
		t.Fatalf("create with defaults and sets: %d %s", st, b)
	}
	assertEncodingsTrue(t, h, "after a create with defaults and sets")

	// A key update must show in the next list: the cached views follow the store.
	mdb := profileNamed(t, "mongodb-opsmanager")
	_, client := fixtureCredentials(t, mdb, "full")
	list := func() string {
		_, _, b := h.doWith(client, "GET", "/api/public/v1.0/orgs/5980cfc70b6d97029d82e3f6/apiKeys?itemsPerPage=500", nil, "")
		return string(b)
	}
	before := list()
	second := fixtureKey(t, mdb.Name, "second")
	if st, _, b := h.doWith(client, "PATCH", "/api/public/v1.0/orgs/5980cfc70b6d97029d82e3f6/apiKeys/"+second.ID, nil, `{"desc":"renamed by the encoding test"}`); st != 200 {
		t.Fatalf("key update: %d %s", st, b)
	}
	after := list()
	if before == after || !strings.Contains(after, "renamed by the encoding test") {
		t.Errorf("the key list did not follow the update")
	}
	var decoded any
	if err := json.Unmarshal([]byte(after), &decoded); err != nil {
		t.Fatalf("the key list is not JSON: %v", err)
	}
	if fresh, _ := encodeJSON(decoded); !bytes.Equal(fresh, []byte(after)) {
		t.Errorf("the served key list differs from a fresh encoding of itself")
	}

	h.control("POST", "reset", "", nil)
	assertEncodingsTrue(t, h, "after a reset")
	if strings.Contains(list(), "renamed by the encoding test") {
		t.Error("a reset did not restore the keys' views")
	}
}

// TestMemberIsAOneKeyMap: the success envelope written as a member must be
// the bytes the one-key map it replaces was, through appendJSON and
// through encoding/json (which escapes HTML in both).
func TestMemberIsAOneKeyMap(t *testing.T) {
	tests := []struct {
		key   string
		value any
	}{
		{"data", map[string]any{"id": "a-1", "n": 3, "tags": []any{"x", "y"}}},
		{"data", json.RawMessage(`[{"id":1},{"id":2}]`)},
		{"data", rawAppender(func(dst []byte) []byte { return append(dst, `{"items":[]}`...) })},
		{"da\"ta<&>é", "va\\lue\n"},
		{"data", nil},
		{"", []any{}},
	}
	for _, tt := range tests {
		want, err := appendJSON(nil, map[string]any{tt.key: tt.value})
		if err != nil {
			t.Fatal(err)
		}
		got, err := appendJSON(nil, member{tt.key, tt.value})
		if err != nil || string(got) != string(want) {
			t.Errorf("appendJSON(member{%q, …}) = %s, %v; the map writes %s", tt.key, got, err, want)
		}
		marshalled, err := json.Marshal(member{tt.key, tt.value})
		mapMarshalled, _ := json.Marshal(map[string]any{tt.key: tt.value})
		if err != nil || string(marshalled) != string(mapMarshalled) {
			t.Errorf("json.Marshal(member{%q, …}) = %s, %v; the map's is %s", tt.key, marshalled, err, mapMarshalled)
		}
	}
}
