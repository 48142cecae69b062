package mock

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/opsconform/opsconform/specs"
)

// examplesSpec documents named examples and two successes, as many public
// descriptions do.
const examplesSpec = `openapi: 3.1.0
info: {title: Pets, version: "1"}
paths:
  /pets/{id}:
    get:
      operationId: getPet
      parameters: [{name: id, in: path, required: true, schema: {type: string}}]
      responses:
        "200":
          description: A pet.
          content:
            application/json:
              schema: {type: object, required: [name], properties: {name: {type: string}}}
              examples:
                rex: {value: {name: Rex}}
                bob: {value: {name: Bob}}
        "203":
          description: A pet from a cache.
          content:
            application/json:
              schema: {type: object, required: [name, cached], properties: {name: {type: string}, cached: {const: true}}}
        "404":
          description: No such pet.
          content:
            application/json:
              examples:
                gone: {value: {message: The pet has gone.}}
`

func TestPrefer(t *testing.T) {
	p, err := specs.Load("pets.yaml", []byte(examplesSpec))
	if err != nil {
		t.Fatal(err)
	}
	srv, err := New(Options{Profiles: []*specs.Profile{p}, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	defer hs.Close()
	h := newHarness(t) // the vendor profiles, for their envelopes
	om := profileNamed(t, "opsmerge")
	omKey, _ := fixtureCredentials(t, om, "full")

	tests := []struct {
		name, base, path, prefer string
		header                   http.Header
		status                   int
		body, applied            string
	}{
		{"a named example", hs.URL, "/pets/1", "example=bob", nil, 200, `"Bob"`, "example=bob"},
		{"a named example by query", hs.URL, "/pets/1?__example=rex", "", nil, 200, `"Rex"`, "example=rex"},
		{"an unknown example lists the documented ones", hs.URL, "/pets/1", "example=tom", nil, 400, "examples rex, bob", ""},
		{"another documented success", hs.URL, "/pets/1", "code=203", nil, 203, `"cached":true`, "code=203"},
		{"an error's named example", hs.URL, "/pets/1", "code=404, example=gone", nil, 404, "The pet has gone.", "code=404, example=gone"},
		{"an undocumented code lists the documented ones", hs.URL, "/pets/1", "code=418", nil, 400, "documents 200, 203, 404", ""},
		{"a code that is not a status", hs.URL, "/pets/1", "code=abc", nil, 400, "want an HTTP status", ""},
		{"a vendor's error in its envelope", h.http.URL, "/api/v1/agents", "code=429", omKey, 429, `"code":"RATE_LIMITED"`, "code=429"},
		{"a vendor's 403 by query", h.http.URL, "/api/v1/agents?__code=403", "", omKey, 403, `"code":"FORBIDDEN"`, "code=403"},
		{"auth still comes first", h.http.URL, "/api/v1/agents", "code=200", nil, 401, `"UNAUTHORIZED"`, ""},
		{"dynamic answers from the schema", h.http.URL, "/api/v1/agents", "dynamic=true", omKey, 200, `"items"`, "dynamic=true"},
		{"other preferences are not the mock's", h.http.URL, "/api/v1/agents", "return=minimal, wait=5", omKey, 200, `"total":173`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest("GET", tt.base+tt.path, nil)
			for k, v := range tt.header {
				req.Header[k] = v
			}
			if tt.prefer != "" {
				req.Header.Set("Prefer", tt.prefer)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var body json.RawMessage
			_ = json.NewDecoder(resp.Body).Decode(&body)
			if resp.StatusCode != tt.status || !strings.Contains(string(body), tt.body) {
				t.Errorf("%d %s, want %d with %s", resp.StatusCode, body, tt.status, tt.body)
			}
			if got := resp.Header.Get("Preference-Applied"); got != tt.applied {
				t.Errorf("Preference-Applied %q, want %q", got, tt.applied)
			}
		})
	}
}

func TestCORS(t *testing.T) {
	h := newHarness(t)
	tests := []struct {
		name, method, path string
		header             http.Header
		status             int
		want               map[string]string
	}{
		{"a preflight names the path's methods", "OPTIONS", "/api/v1/agents",
			http.Header{"Origin": {"http://localhost:3000"}, "Access-Control-Request-Method": {"POST"}, "Access-Control-Request-Headers": {"authorization, content-type"}},
			204, map[string]string{"Access-Control-Allow-Origin": "http://localhost:3000", "Access-Control-Allow-Methods": "GET, POST, OPTIONS",
				"Access-Control-Allow-Headers": "authorization, content-type", "Access-Control-Allow-Credentials": "true"}},
		{"an answer is readable by the origin, headers included", "GET", "/api/v1/agents",
			http.Header{"Origin": {"http://localhost:3000"}, "Authorization": {"Bearer " + fixtureKey(t, "opsmerge", "full").Secret}},
			200, map[string]string{"Access-Control-Allow-Origin": "http://localhost:3000", "Access-Control-Allow-Credentials": "true"}},
		{"a refusal too, so the browser shows the 401", "GET", "/api/v1/agents",
			http.Header{"Origin": {"http://localhost:3000"}}, 401, map[string]string{"Access-Control-Allow-Origin": "http://localhost:3000"}},
		{"no Origin, no CORS", "GET", "/api/v1/agents", nil, 401, map[string]string{"Access-Control-Allow-Origin": ""}},
		{"an OPTIONS that is not a preflight is routed", "OPTIONS", "/api/v1/agents", nil, 405, map[string]string{"Allow": "GET, POST"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, hdr, body := h.do(tt.method, tt.path, tt.header, "")
			if status != tt.status {
				t.Fatalf("%d %s, want %d", status, body, tt.status)
			}
			for k, v := range tt.want {
				if got := hdr.Get(k); got != v {
					t.Errorf("%s: %q, want %q", k, got, v)
				}
			}
			if tt.want["Access-Control-Allow-Origin"] != "" && tt.method == "GET" && !strings.Contains(hdr.Get("Access-Control-Expose-Headers"), "X-RateLimit-Remaining") {
				t.Errorf("the vendor's headers are not exposed: %q", hdr.Get("Access-Control-Expose-Headers"))
			}
		})
	}

	off, err := New(Options{Profiles: embeddedProfiles(t), NoCORS: true})
	if err != nil {
		t.Fatal(err)
	}
	req := httptest.NewRequest("OPTIONS", "/api/v1/agents", nil)
	req.Header.Set("Origin", "http://localhost:3000")
	req.Header.Set("Access-Control-Request-Method", "GET")
	w := httptest.NewRecorder()
	off.ServeHTTP(w, req)
	if w.Code != 405 || w.Header().Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("with NoCORS a preflight got %d %v", w.Code, w.Header())
	}
}
