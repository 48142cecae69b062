package mock

import (
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/opsconform/opsconform/specs"
)

func TestRouting(t *testing.T) {
	h := newHarness(t)
	tests := []struct {
		method, path string
		status       int
		profile      string // whose envelope the error is in
		allow        string
	}{
		{"GET", "/api/v1/nothing-here", 404, "opsmerge", ""},
		{"GET", "/api/public/v1.0/nothing", 404, "mongodb-opsmanager", ""},
		{"GET", "/api/odata/businessobject/nothings", 404, "ivanti-ism", ""},
		{"GET", "/api/json/nothing", 404, "opmanager", ""},
		{"PUT", "/api/v1/agents", 405, "opsmerge", "GET, POST"},
		{"POST", "/api/odata/businessobject/incidents('0123456789ABCDEF0123456789ABCDEF')", 405, "ivanti-ism", "DELETE, GET, PATCH, PUT"},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			status, hdr, body := h.do(tt.method, tt.path, nil, "")
			if status != tt.status {
				t.Fatalf("status %d, want %d: %s", status, tt.status, body)
			}
			kind := specs.NotFound
			if tt.status == 405 {
				kind = specs.MethodNotAllowed
			}
			assertErrorEnvelope(t, profileNamed(t, tt.profile), kind, body)
			if hdr.Get("Allow") != tt.allow {
				t.Errorf("Allow = %q, want %q", hdr.Get("Allow"), tt.allow)
			}
		})
	}
	// Outside every base path there is no vendor to speak for: plain JSON.
	status, _, body := h.do("GET", "/elsewhere", nil, "")
	if status != 404 || !strings.Contains(string(body), `"error"`) {
		t.Errorf("/elsewhere: %d %s", status, body)
	}
}

func TestODataKeySegment(t *testing.T) {
	rt, err := newRouter(embeddedProfiles(t))
	if err != nil {
		t.Fatal(err)
	}
	r, params, _ := rt.match("GET", "/api/odata/businessobject/incidents('ABCDEF0123456789ABCDEF0123456789')")
	if r == nil || r.op.ID != "getIncident" || params["recId"] != "ABCDEF0123456789ABCDEF0123456789" {
		t.Fatalf("match = %v %v", r, params)
	}
	r, params, _ = rt.match("GET", "/api/odata/businessobject/incidents(%27ABC%27)")
	if r == nil || params["recId"] != "ABC" {
		t.Errorf("escaped quotes: %v %v", r, params)
	}
	if r, _, _ := rt.match("GET", "/api/odata/businessobject/incidents()"); r != nil {
		t.Errorf("an empty key matched %s", r.op.ID)
	}
}

func TestOverlappingOperationsAreAStartupError(t *testing.T) {
	p := embeddedProfiles(t)
	om := profileNamed(t, "opsmerge")
	_, err := New(Options{Profiles: append(p[:len(p):len(p)], om)})
	if err == nil || !strings.Contains(err.Error(), "overlaps") || strings.Count(err.Error(), "getAuthMe") != 2 {
		t.Errorf("serving opsmerge twice: %v, want an overlap error naming both operations", err)
	}
}

func TestListShowsOnlyBoundItems(t *testing.T) {
	h := newHarness(t)
	p := profileNamed(t, "mongodb-opsmanager")
	tests := []struct {
		label, path, want, notWant string
	}{
		{"full", "/api/public/v1.0/orgs", "5980cfc70b6d97029d82e3f6", "5980cfe20b6d97029d82fa63"},
		{"other-org", "/api/public/v1.0/orgs", "5980cfe20b6d97029d82fa63", "5980cfc70b6d97029d82e3f6"},
		{"full", "/api/public/v1.0/groups", "5e2211c17a3e5a48f5497de4", "5e2211c17a3e5a48f5497de5"},
	}
	for _, tt := range tests {
		_, client := fixtureCredentials(t, p, tt.label)
		status, _, body := h.doWith(client, "GET", tt.path, nil, "")
		if status != 200 || !strings.Contains(string(body), `"id":"`+tt.want) || strings.Contains(string(body), `"id":"`+tt.notWant) {
			t.Errorf("%s %s: %d, want %s and not %s: %s", tt.label, tt.path, status, tt.want, tt.notWant, body)
		}
	}
}

// TestNoControl: with the control API off, its paths are just unknown paths,
// and nothing can change keys behind the vendor API's back.
func TestNoControl(t *testing.T) {
	srv, err := New(Options{Profiles: embeddedProfiles(t), NoControl: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{ControlPrefix + "health", ControlPrefix + "profiles/opsmerge/keys"} {
		w := httptest.NewRecorder()
		srv.ServeHTTP(w, httptest.NewRequest("POST", path, strings.NewReader(`{"name":"x"}`)))
		if w.Code != 404 {
			t.Errorf("POST %s with the control API off: %d %s", path, w.Code, w.Body)
		}
	}
	if keys, _ := srv.keys.Keys("opsmerge"); len(keys) != 7 {
		t.Errorf("a key was created with the control API off: %d keys", len(keys))
	}
}

// TestOverlappingTemplatesResolvedAsOpenAPISays: concrete paths first, then
// the template with the most literal characters; identical templates in one
// spec are a warning, the first declared serving them.
func TestOverlappingTemplatesResolvedAsOpenAPISays(t *testing.T) {
	p, err := specs.Load("overlaps.yaml", []byte(`openapi: 3.0.3
info: {title: Overlaps, version: "1"}
paths:
  /repos/{owner}/{repo}/compare/{basehead}:
    get:
      operationId: compareOne
      parameters:
        - {name: owner, in: path, required: true, schema: {type: string}}
        - {name: repo, in: path, required: true, schema: {type: string}}
        - {name: basehead, in: path, required: true, schema: {type: string}}
      responses: {"200": {description: ok}}
  /repos/{owner}/{repo}/compare/{base}...{head}:
    get:
      operationId: compareTwo
      parameters:
        - {name: owner, in: path, required: true, schema: {type: string}}
        - {name: repo, in: path, required: true, schema: {type: string}}
        - {name: base, in: path, required: true, schema: {type: string}}
        - {name: head, in: path, required: true, schema: {type: string}}
      responses: {"200": {description: ok}}
  /items/{id}:
    get:
      operationId: byId
      parameters: [{name: id, in: path, required: true, schema: {type: string}}]
      responses: {"200": {description: ok}}
  /items/{name}:
    get:
      operationId: byName
      parameters: [{name: name, in: path, required: true, schema: {type: string}}]
      responses: {"200": {description: ok}}
  /items/latest:
    get:
      operationId: latest
      responses: {"200": {description: ok}}
`))
	if err != nil {
		t.Fatal(err)
	}
	rt, err := newRouter([]*specs.Profile{p})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		path, op string
		params   map[string]string
	}{
		{"/repos/o/r/compare/main...dev", "compareTwo", map[string]string{"owner": "o", "repo": "r", "base": "main", "head": "dev"}},
		{"/repos/o/r/compare/abc", "compareOne", map[string]string{"owner": "o", "repo": "r", "basehead": "abc"}},
		{"/items/latest", "latest", nil},
		{"/items/42", "byId", map[string]string{"id": "42"}},
	}
	for _, tt := range tests {
		r, params, _ := rt.match("GET", tt.path)
		if r == nil || r.op.ID != tt.op || len(params) != len(tt.params) {
			t.Errorf("%s matched %v %v, want %s %v", tt.path, r, params, tt.op, tt.params)
			continue
		}
		for k, v := range tt.params {
			if params[k] != v {
				t.Errorf("%s: %s = %q, want %q", tt.path, k, params[k], v)
			}
		}
	}
	if len(rt.warnings) != 1 || !strings.Contains(rt.warnings[0], "byName") || !strings.Contains(rt.warnings[0], "byId") {
		t.Errorf("warnings %q, want one naming byName and byId", rt.warnings)
	}
}

// TestSplitPathAsSplitDoes: the router's segments are what strings.Split of
// the path trimmed of its slashes gives, each unescaped where it can be;
// splitPath finds them without that allocation.
func TestSplitPathAsSplitDoes(t *testing.T) {
	for _, path := range []string{"/", "", "/api/v1/agents", "/api/v1/agents/", "//api//v1///x//", "/a%2Fb/c%20d", "/bad%zzescape/x",
		"/api/odata/businessobject/incidents('A%27B')", "/a/b/c/d/e/f/g/h/i/j/k/l/m/n/o/p/q/r/s/t"} {
		want := strings.Split(strings.Trim(path, "/"), "/")
		for i, p := range want {
			if u, err := url.PathUnescape(p); err == nil {
				want[i] = u
			}
		}
		if got := splitPath(nil, path); !slices.Equal(got, want) {
			t.Errorf("splitPath(%q) = %q, want %q", path, got, want)
		}
	}
}
