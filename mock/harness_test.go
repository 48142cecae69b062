package mock

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/opsconform/opsconform/fixtures"
	"github.com/opsconform/opsconform/specs"
)

// fakeClock is the injected clock: tests move time, they never sleep.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *fakeClock) Advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

var (
	profilesOnce sync.Once
	profilesList []*specs.Profile
	profilesErr  error
)

func embeddedProfiles(t testing.TB) []*specs.Profile {
	t.Helper()
	profilesOnce.Do(func() { profilesList, profilesErr = specs.LoadEmbedded() })
	if profilesErr != nil {
		t.Fatal(profilesErr)
	}
	return profilesList
}

func profileNamed(t testing.TB, name string) *specs.Profile {
	for _, p := range embeddedProfiles(t) {
		if p.Name == name {
			return p
		}
	}
	t.Fatalf("no profile %s", name)
	return nil
}

// harness is a mock on a real loopback listener with a fake clock and a captured log.
type harness struct {
	t      testing.TB
	srv    *Server
	http   *httptest.Server
	clock  *fakeClock
	logBuf *syncBuffer
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}
func (b *syncBuffer) String() string { b.mu.Lock(); defer b.mu.Unlock(); return b.b.String() }

func newHarness(t testing.TB) *harness {
	t.Helper()
	clock := &fakeClock{t: time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)}
	logBuf := &syncBuffer{}
	srv, err := New(Options{Profiles: embeddedProfiles(t), Seed: 7, Now: clock.Now,
		Logger: slog.New(slog.NewTextHandler(logBuf, nil))})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	return &harness{t: t, srv: srv, http: hs, clock: clock, logBuf: logBuf}
}

// key finds a fixture key by label.
func fixtureKey(t testing.TB, profile, label string) fixtures.Key {
	t.Helper()
	set, err := fixtures.Load(fixtures.Embedded(), profile)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range set.Keys {
		if slices.Contains(k.Labels, label) {
			return k
		}
	}
	t.Fatalf("%s has no fixture key labelled %s", profile, label)
	return fixtures.Key{}
}

// do sends a request and returns status, headers and body.
func (h *harness) do(method, path string, header http.Header, body string) (int, http.Header, []byte) {
	h.t.Helper()
	return h.doWith(http.DefaultClient, method, path, header, body)
}

func (h *harness) doWith(c *http.Client, method, path string, header http.Header, body string) (int, http.Header, []byte) {
	h.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, h.http.URL+path, rd)
	if err != nil {
		h.t.Fatal(err)
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		h.t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, data
}

// control calls the control API and decodes its JSON answer into out.
func (h *harness) control(method, path, body string, out any) int {
	h.t.Helper()
	status, _, data := h.do(method, ControlPrefix+path, nil, body)
	if out != nil && len(data) > 0 {
		if err := json.Unmarshal(data, out); err != nil {
			h.t.Fatalf("control %s %s: %v: %s", method, path, err, data)
		}
	}
	return status
}

// assertErrorEnvelope checks body is the profile's error envelope for kind.
func assertErrorEnvelope(t testing.TB, p *specs.Profile, kind specs.ErrorKind, body []byte) {
	t.Helper()
	if err := p.Errors.Match(kind, body); err != nil {
		t.Errorf("%s body %s is not the %s error envelope: %v", kind, body, p.Name, err)
	}
}
