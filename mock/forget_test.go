package mock

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestJournalForgetsNoSecret: the journal redacts an entry only when it is
// read, so each way the store forgets a secret (a key deleted, its secret
// regenerated, the profile reset) must come after the entries that may show
// it were redacted. The secret travels only where redaction recognises it
// by value, not by name: an innocent query parameter, header and body field
// of OpsMerge requests, and the secret is an OpManager key's, which has no
// prefix that would give it away.
func TestJournalForgetsNoSecret(t *testing.T) {
	p := profileNamed(t, "opmanager")
	forgets := []struct {
		name   string
		forget func(h *harness, id string) error
	}{
		{"delete", func(h *harness, id string) error { return h.srv.keys.Delete(p.Name, id) }},
		{"regenerate", func(h *harness, id string) error {
			_, _, err := h.srv.keys.Regenerate(p.Name, id, false)
			return err
		}},
		{"reset", func(h *harness, _ string) error { return h.srv.Reset() }},
	}
	for _, f := range forgets {
		t.Run(f.name, func(t *testing.T) {
			h := newHarness(t)
			k, secret, err := h.srv.keys.Create(p.Name, KeySpec{Name: "forgotten"})
			if err != nil {
				t.Fatal(err)
			}
			full := http.Header{"Authorization": {"Bearer " + fixtureKey(t, "opsmerge", "full").Secret}}
			hdr := full.Clone()
			hdr.Set("X-Note", "see "+secret)
			h.do("GET", "/api/v1/agents?per_page=2&q="+url.QueryEscape(secret), hdr, "")
			h.do("POST", "/api/v1/tickets", full, fmt.Sprintf(`{"subject":"ask %s","description":"d"}`, secret))
			if err := f.forget(h, k.ID); err != nil {
				t.Fatal(err)
			}
			if _, ok := h.srv.keys.BySecret(p.Name, secret); ok {
				t.Fatalf("after %s the secret still works", f.name)
			}
			// Another key goes, so the store stops recognising the first
			// key's secret: what the journal shows must be redacted by now.
			other, _, err := h.srv.keys.Create(p.Name, KeySpec{Name: "other"})
			if err == nil {
				err = h.srv.keys.Delete(p.Name, other.ID)
			}
			if err != nil {
				t.Fatal(err)
			}
			if h.srv.keys.Holds(secret) {
				t.Fatalf("the store still recognises the secret after %s and another delete", f.name)
			}
			out, _ := h.srv.journal.entries(journalFilter{}, 0)
			rec, _ := json.Marshal(out)
			if len(out) < 2 || strings.Count(string(rec), Redacted) < 3 {
				t.Fatalf("%d entries, %d REDACTED: the secret was never recorded where it should be redacted\n%s", len(out), strings.Count(string(rec), Redacted), rec)
			}
			if strings.Contains(string(rec), secret) {
				t.Errorf("after %s, the journal shows the secret:\n%s", f.name, rec)
			}
		})
	}
}

// TestForgottenSecretsAreBounded: the store keeps a forgotten secret only
// until the next change settles the journal, however many keys go.
func TestForgottenSecretsAreBounded(t *testing.T) {
	h := newHarness(t)
	full := http.Header{"Authorization": {"Bearer " + fixtureKey(t, "opsmerge", "full").Secret}}
	for i := range 50 {
		k, secret, err := h.srv.keys.Create("opmanager", KeySpec{Name: fmt.Sprint("k", i)})
		if err != nil {
			t.Fatal(err)
		}
		h.do("GET", "/api/v1/agents?per_page=1&q="+url.QueryEscape(secret), full, "")
		if err := h.srv.keys.Delete("opmanager", k.ID); err != nil {
			t.Fatal(err)
		}
	}
	h.srv.keys.mu.RLock()
	n, epoch := len(h.srv.keys.forgotten), h.srv.keys.Epoch()
	h.srv.keys.mu.RUnlock()
	if n != 1 || epoch != 50 {
		t.Errorf("after 50 deletes: %d forgotten hashes at epoch %d, want 1 at 50", n, epoch)
	}
}

// TestJournalForgetsNoSecretConcurrently: requests that carry fresh keys'
// secrets by value are recorded while other keys are deleted (each delete
// settling the journal and dropping what the one before forgot) and while
// readers redact entries, for the race detector. A request is answered
// before its own key goes: a secret forgotten before a request arrives is
// not one the journal could know.
func TestJournalForgetsNoSecretConcurrently(t *testing.T) {
	h := newHarness(t)
	full := http.Header{"Authorization": {"Bearer " + fixtureKey(t, "opsmerge", "full").Secret}}
	const workers, each = 4, 25
	secrets := make(chan string, workers*each)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for range each {
				k, secret, err := h.srv.keys.Create("opmanager", KeySpec{})
				if err != nil {
					t.Error(err)
					return
				}
				secrets <- secret
				h.do("GET", "/api/v1/agents?per_page=1&q="+url.QueryEscape(secret), full, "")
				var inner sync.WaitGroup
				inner.Go(func() { _ = h.srv.keys.Delete("opmanager", k.ID) })
				inner.Go(func() { h.srv.journal.entries(journalFilter{}, 8) })
				inner.Wait()
			}
		})
	}
	wg.Wait()
	close(secrets)
	out, _ := h.srv.journal.entries(journalFilter{}, 0)
	rec, _ := json.Marshal(out)
	if len(out) != workers*each || strings.Count(string(rec), "q="+Redacted) != workers*each {
		t.Fatalf("%d entries, %d with the secret redacted, want %d", len(out), strings.Count(string(rec), "q="+Redacted), workers*each)
	}
	for s := range secrets {
		if strings.Contains(string(rec), s) {
			t.Errorf("the journal shows a deleted key's secret …%s", s[len(s)-4:])
		}
	}
}

// TestJournalEntryRecordedWhileForgetting records an entry in the window
// where the store has dropped a secret and settled the journal but not yet
// let go of its lock: the entry is raw, and the secret must stay known for
// it until a later change has redacted it.
func TestJournalEntryRecordedWhileForgetting(t *testing.T) {
	for _, then := range []string{"read", "forget another, then read"} {
		t.Run(then, func(t *testing.T) {
			h := newHarness(t)
			k, secret, err := h.srv.keys.Create("opmanager", KeySpec{})
			if err != nil {
				t.Fatal(err)
			}
			req := httptest.NewRequest("GET", "/api/v1/agents?q="+url.QueryEscape(secret), nil)
			req.Header.Set("X-Note", secret)
			x := &exchange{w: httptest.NewRecorder(), r: req, status: 200}
			settle := h.srv.keys.settle
			h.srv.keys.settle = func(below uint64, known func(string) bool) {
				settle(below, known)
				if below != ^uint64(0) { // the settle under the exclusive lock
					h.srv.journal.add(x, time.Time{}, 0, "")
				}
			}
			if err := h.srv.keys.Delete("opmanager", k.ID); err != nil {
				t.Fatal(err)
			}
			h.srv.keys.settle = settle
			if then != "read" {
				other, _, err := h.srv.keys.Create("opmanager", KeySpec{})
				if err == nil {
					err = h.srv.keys.Delete("opmanager", other.ID)
				}
				if err != nil {
					t.Fatal(err)
				}
			}
			out, _ := h.srv.journal.entries(journalFilter{}, 0)
			rec, _ := json.Marshal(out)
			if len(out) != 1 || strings.Contains(string(rec), secret) || strings.Count(string(rec), Redacted) != 2 {
				t.Errorf("%d entries; the secret must show as REDACTED in the query and the header:\n%s", len(out), rec)
			}
		})
	}
}
