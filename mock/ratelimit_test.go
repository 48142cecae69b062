package mock

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/opsconform/opsconform/specs"
)

func TestOpsMerge301stRequestIs429(t *testing.T) {
	h := newHarness(t)
	p := profileNamed(t, "opsmerge")
	hdr, _ := fixtureCredentials(t, p, "full")
	other, _ := fixtureCredentials(t, p, "second")
	windowEnd := h.clock.Now().Add(time.Minute)

	for i := 1; i <= 300; i++ {
		status, rh, body := h.do("GET", "/api/v1/agents?per_page=1", hdr, "")
		if status != 200 {
			t.Fatalf("request %d: %d %s", i, status, body)
		}
		if got := rh.Get("X-RateLimit-Remaining"); got != strconv.Itoa(300-i) {
			t.Fatalf("request %d: X-RateLimit-Remaining %q, want %d", i, got, 300-i)
		}
		if i == 150 {
			h.clock.Advance(20 * time.Second) // still the same window
		}
	}
	status, rh, body := h.do("GET", "/api/v1/agents?per_page=1", hdr, "")
	if status != 429 {
		t.Fatalf("301st request: %d, want 429", status)
	}
	assertErrorEnvelope(t, p, specs.RateLimited, body)
	if want := `"code":"RATE_LIMITED"`; !strings.Contains(string(body), want) {
		t.Errorf("body %s lacks %s", body, want)
	}
	wantHeaders := map[string]string{
		"X-RateLimit-Limit":     "300",
		"X-RateLimit-Remaining": "0",
		"X-RateLimit-Reset":     strconv.FormatInt(windowEnd.Unix(), 10),
		"Retry-After":           "40", // 60 s window, 20 s gone
	}
	for name, want := range wantHeaders {
		if got := rh.Values(name); len(got) != 1 || got[0] != want {
			t.Errorf("%s = %v, want %s", name, got, want)
		}
	}
	if st, _, _ := h.do("GET", "/api/v1/agents?per_page=1", other, ""); st != 200 {
		t.Errorf("a second key is limited by the first's budget: %d", st)
	}
	h.clock.Advance(40 * time.Second)
	if st, rh, _ := h.do("GET", "/api/v1/agents?per_page=1", hdr, ""); st != 200 || rh.Get("X-RateLimit-Remaining") != "299" {
		t.Errorf("after the reset time: %d, remaining %q", st, rh.Get("X-RateLimit-Remaining"))
	}
}

// TestRateLimitHeadersAreSpelledAsDocumented reads the raw response: Go's
// client canonicalises header names, so only the wire shows the spelling.
func TestRateLimitHeadersAreSpelledAsDocumented(t *testing.T) {
	h := newHarness(t)
	hdr, _ := fixtureCredentials(t, profileNamed(t, "opsmerge"), "full")
	conn, err := net.Dial("tcp", strings.TrimPrefix(h.http.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	fmt.Fprintf(conn, "GET /api/v1/auth/me HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: %s\r\nConnection: close\r\n\r\n", hdr.Get("Authorization"))
	raw, _ := io.ReadAll(conn)
	for _, name := range []string{"X-RateLimit-Limit: 300", "X-RateLimit-Remaining: 299", "X-RateLimit-Reset: "} {
		if !strings.Contains(string(raw), "\r\n"+name) {
			t.Errorf("the response does not carry %q as spelled:\n%s", name, raw)
		}
	}
}

func TestAuthRefusalsDoNotSpendTheBudget(t *testing.T) {
	h := newHarness(t)
	p := profileNamed(t, "opsmerge")
	limited, _ := fixtureCredentials(t, p, "limited")
	for range 400 {
		if st, _, _ := h.do("GET", "/api/v1/tickets", limited, ""); st != 403 {
			t.Fatalf("want 403, got %d", st)
		}
	}
	var budgets []Budget
	h.control("GET", "profiles/opsmerge/keys/key-reporting/budget", "", &budgets)
	if len(budgets) != 1 || budgets[0].Used != 0 {
		t.Errorf("403s spent the budget: %+v", budgets)
	}
	if st, _, _ := h.do("GET", "/api/v1/agents", limited, ""); st != 200 {
		t.Errorf("after 400 refusals the key is limited: %d", st)
	}
}

func TestOpManagerReadAndWriteCountSeparately(t *testing.T) {
	h := newHarness(t)
	p := profileNamed(t, "opmanager")
	hdr, _ := fixtureCredentials(t, p, "full")
	write := "/api/json/alarm/acknowledgeAlarm?entity=10241_CPUUtilization"
	for i := range 100 {
		if st, _, b := h.do("POST", write, hdr, ""); st != 200 {
			t.Fatalf("write %d: %d %s", i+1, st, b)
		}
	}
	st, rh, _ := h.do("POST", write, hdr, "")
	if st != 429 || rh.Get("Retry-After") != "60" {
		t.Errorf("101st write: %d Retry-After %q, want 429 and 60", st, rh.Get("Retry-After"))
	}
	if rh.Get("X-RateLimit-Limit") != "" {
		t.Error("OpManager does not document X-RateLimit-* headers, but they were sent")
	}
	for i := range 500 {
		if st, _, _ := h.do("GET", "/api/json/v2/device/listDevices?rows=1", hdr, ""); st != 200 {
			t.Fatalf("read %d after writes were spent: %d", i+1, st)
		}
	}
	if st, _, _ := h.do("GET", "/api/json/v2/device/listDevices?rows=1", hdr, ""); st != 429 {
		t.Errorf("501st read: %d, want 429", st)
	}
	var budgets []Budget
	h.control("GET", "profiles/opmanager/keys/1001/budget", "", &budgets)
	if fmt.Sprintf("%s %d %s %d", budgets[0].Class, budgets[0].Used, budgets[1].Class, budgets[1].Used) != "read 500 write 100" {
		t.Errorf("budgets %+v", budgets)
	}
	h.control("DELETE", "profiles/opmanager/keys/1001/budget", "", &budgets)
	if st, _, _ := h.do("POST", write, hdr, ""); st != 200 {
		t.Errorf("after a control reset the write budget is still spent: %d", st)
	}
}

// TestConcurrentHammerAdmitsExactlyTheLimit sends 1,000 concurrent requests
// on one key; exactly the limit get through.
func TestConcurrentHammerAdmitsExactlyTheLimit(t *testing.T) {
	h := newHarness(t)
	p := profileNamed(t, "opsmerge")
	hdr, _ := fixtureCredentials(t, p, "full")
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	var ok, limited, other atomic.Int64
	var wg sync.WaitGroup
	sem := make(chan struct{}, 64)
	for range 1000 {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			req, _ := http.NewRequest("GET", h.http.URL+"/api/v1/auth/me", nil)
			req.Header = hdr.Clone()
			resp, err := client.Do(req)
			if err != nil {
				other.Add(1)
				return
			}
			resp.Body.Close()
			switch resp.StatusCode {
			case 200:
				ok.Add(1)
			case 429:
				limited.Add(1)
			default:
				other.Add(1)
			}
		}()
	}
	wg.Wait()
	if ok.Load() != 300 || limited.Load() != 700 || other.Load() != 0 {
		t.Errorf("admitted %d, limited %d, other %d; want exactly 300 and 700", ok.Load(), limited.Load(), other.Load())
	}
}

func TestTimeScaleShortensWindows(t *testing.T) {
	clock := &fakeClock{t: time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)}
	srv, err := New(Options{Profiles: embeddedProfiles(t), Now: clock.Now, TimeScale: 60, IETFRateLimitHeaders: true})
	if err != nil {
		t.Fatal(err)
	}
	p := profileNamed(t, "opsmerge")
	hdr, _ := fixtureCredentials(t, p, "full")
	do := func() *http.Response {
		req, _ := http.NewRequest("GET", "/api/v1/auth/me", nil)
		req.Header = hdr.Clone()
		w := httptest.NewRecorder()
		srv.ServeHTTP(w, req)
		return w.Result()
	}
	for range 300 {
		do()
	}
	resp := do()
	if resp.StatusCode != 429 || resp.Header.Get("Retry-After") != "1" {
		t.Fatalf("at scale 60: %d Retry-After %q, want 429 and 1 (a minute is a second)", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	// The fields are set in their documented spelling; the recorder keeps keys as set.
	//lint:ignore SA1008 the documented spelling is what is under test
	if got := strings.Join(resp.Header["RateLimit-Policy"], ","); got != `"default";q=300;w=1` {
		t.Errorf("RateLimit-Policy = %q", got)
	}
	//lint:ignore SA1008 the documented spelling is what is under test
	if got := strings.Join(resp.Header["RateLimit"], ","); got != `"default";r=0;t=1` {
		t.Errorf("RateLimit = %q", got)
	}
	clock.Advance(time.Second)
	if resp := do(); resp.StatusCode != 200 {
		t.Errorf("one scaled window later: %d", resp.StatusCode)
	}
}
