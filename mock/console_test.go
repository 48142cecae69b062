package mock

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestConsolePage: the page and its files are served with a policy that
// runs only them; with a token the page itself needs none (it asks for
// it), every call it makes does; without one, a rebound host name gets
// nothing.
func TestConsolePage(t *testing.T) {
	withToken := controlServer(t, testControlToken)
	open := controlServer(t, "")
	tests := []struct {
		name   string
		server string
		path   string
		host   string
		status int
		ctype  string
	}{
		{"page, token set", withToken.URL, "ui", "", 200, "text/html"},
		{"script, token set", withToken.URL, "ui/app.js", "", 200, "text/javascript"},
		{"style sheet, token set", withToken.URL, "ui/app.css", "", 200, "text/css"},
		{"page, no token", open.URL, "ui", "", 200, "text/html"},
		{"no such file", open.URL, "ui/nope.js", "", 404, ""},
		{"index by name is not served", open.URL, "ui/index.html", "", 404, ""},
		{"page for a rebound host, no token", open.URL, "ui", "evil.example", 403, ""},
		{"the API the page calls, token set, none sent", withToken.URL, "requests", "", 401, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest("GET", tt.server+ControlPrefix+tt.path, nil)
			if tt.host != "" {
				req.Host = tt.host
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tt.status {
				t.Fatalf("%d, want %d", resp.StatusCode, tt.status)
			}
			if tt.status != 200 {
				return
			}
			h := resp.Header
			if !strings.HasPrefix(h.Get("Content-Type"), tt.ctype) || !strings.Contains(h.Get("Content-Security-Policy"), "script-src 'self'") ||
				!strings.Contains(h.Get("Content-Security-Policy"), "frame-ancestors 'none'") || h.Get("X-Frame-Options") != "DENY" ||
				h.Get("X-Content-Type-Options") != "nosniff" || h.Get("Referrer-Policy") != "no-referrer" {
				t.Errorf("headers: %v", h)
			}
		})
	}
	// The page's links point at the control API's prefix.
	_, _, body := controlCall(t, open, "GET", "ui", nil)
	if !strings.Contains(body, `src="`+ControlPrefix+`ui/app.js"`) || !strings.Contains(body, `content="`+ControlPrefix+`"`) || strings.Contains(body, "{{base}}") {
		t.Errorf("page: %.400s", body)
	}
}

// TestRegenerateForPickup: a key regenerated with ?reveal=pickup answers
// without its secret, which one later call hands out, once and in time.
func TestRegenerateForPickup(t *testing.T) {
	h := newHarness(t)
	k := fixtureKey(t, "opsmerge", "second")
	base := "profiles/opsmerge/keys/" + k.ID
	var regen map[string]any
	if st := h.control("POST", base+"/regenerate?reveal=pickup", "", &regen); st != 200 {
		t.Fatalf("regenerate: %d %v", st, regen)
	}
	raw, _ := json.Marshal(regen)
	if _, has := regen["secret"]; has || regen["pickup"] != ControlPrefix+base+"/secret" {
		t.Fatalf("the regenerate answer: %s", raw)
	}
	if st, _, _ := h.do("GET", "/api/v1/agents", http.Header{"Authorization": {"Bearer " + k.Secret}}, ""); st != 401 {
		t.Errorf("old secret: %d, want 401", st)
	}
	var picked struct{ Secret string }
	if st := h.control("POST", base+"/secret", "", &picked); st != 200 || !strings.HasPrefix(picked.Secret, "om_") {
		t.Fatalf("pickup: %d %+v", st, picked)
	}
	if strings.Contains(string(raw), picked.Secret) {
		t.Errorf("the regenerate answer holds the secret: %s", raw)
	}
	if st, _, _ := h.do("GET", "/api/v1/agents", http.Header{"Authorization": {"Bearer " + picked.Secret}}, ""); st != 200 {
		t.Errorf("picked-up secret: %d, want 200", st)
	}
	if st := h.control("POST", base+"/secret", "", nil); st != 404 {
		t.Errorf("second pickup: %d, want 404", st)
	}
	// Past its lifetime, nothing.
	h.control("POST", base+"/regenerate?reveal=pickup", "", nil)
	h.clock.Advance(pickupLifetime + time.Second)
	if st := h.control("POST", base+"/secret", "", nil); st != 404 {
		t.Errorf("late pickup: %d, want 404", st)
	}
	// A plain regenerate after a pickup one: the waiting secret no longer works, so it is gone.
	h.control("POST", base+"/regenerate?reveal=pickup", "", nil)
	h.control("POST", base+"/regenerate", "", nil)
	if st := h.control("POST", base+"/secret", "", nil); st != 404 {
		t.Errorf("pickup after a plain regenerate: %d, want 404", st)
	}
	// And a reset forgets them all.
	h.control("POST", base+"/regenerate?reveal=pickup", "", nil)
	h.control("POST", "reset", "", nil)
	if st := h.control("POST", base+"/secret", "", nil); st != 404 {
		t.Errorf("pickup after reset: %d, want 404", st)
	}
	var bad map[string]string
	if st := h.control("POST", base+"/regenerate?reveal=now", "", &bad); st != 400 || !strings.Contains(bad["error"], "want pickup") {
		t.Errorf("reveal=now: %d %v", st, bad)
	}
	if st := h.control("POST", "profiles/opsmerge/keys/nope/secret", "", nil); st != 404 {
		t.Errorf("pickup for no key: %d", st)
	}
}

// TestKeyStatesAndBudgets: the control API says each key's state in a word
// and every key's budgets in one call.
func TestKeyStatesAndBudgets(t *testing.T) {
	h := newHarness(t)
	full := fixtureKey(t, "opsmerge", "full")
	h.do("GET", "/api/v1/agents", http.Header{"Authorization": {"Bearer " + full.Secret}}, "")
	h.control("POST", "profiles/opsmerge/keys/"+fixtureKey(t, "opsmerge", "second").ID+"/disable", "", nil)
	var keys []struct {
		ID, State string
		RevokedAt *time.Time
	}
	h.control("GET", "profiles/opsmerge/keys", "", &keys)
	states := map[string]string{}
	for _, k := range keys {
		states[k.ID] = k.State
	}
	want := map[string]string{full.ID: "active", "key-ci-second": "disabled", "key-revoked": "revoked", "key-expired": "expired"}
	for id, st := range want {
		if states[id] != st {
			t.Errorf("key %s: state %q, want %q", id, states[id], st)
		}
	}
	var revoked struct {
		State     string
		RevokedAt *time.Time
	}
	h.control("POST", "profiles/opsmerge/keys/"+full.ID+"/revoke", "", &revoked)
	if revoked.State != "revoked" || revoked.RevokedAt == nil || !revoked.RevokedAt.Equal(h.clock.Now()) {
		t.Errorf("revoke answer: %+v", revoked)
	}
	var budgets map[string][]Budget
	if st := h.control("GET", "profiles/opsmerge/budgets", "", &budgets); st != 200 || len(budgets) != len(keys) {
		t.Fatalf("budgets: %d, %d keys", st, len(budgets))
	}
	if b := budgets[full.ID]; len(b) == 0 || b[0].Used != 1 {
		t.Errorf("budgets of %s: %+v", full.ID, b)
	}
	if st := h.control("GET", "profiles/nope/budgets", "", nil); st != 404 {
		t.Errorf("budgets of no profile: %d", st)
	}
	var profiles []profileInfo
	h.control("GET", "profiles", "", &profiles)
	for _, p := range profiles {
		if len(p.Endpoints) != len(p.Operations) || len(p.Endpoints) == 0 || p.Endpoints[0].ID == "" {
			t.Errorf("profile %s lists %d endpoints for %d operations", p.Name, len(p.Endpoints), len(p.Operations))
		}
	}
}
