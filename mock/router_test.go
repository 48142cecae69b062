package mock

import (
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
		{"POST", "/api/odata/businessobject/incidents('0123456789ABCDEF0123456789ABCDEF')", 405, "ivanti-ism", "DELETE, GET"},
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
