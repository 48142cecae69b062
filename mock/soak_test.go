//go:build soak

package mock

// The soak: make soak (SOAK_REQUESTS, default 100,000). Not part of make
// test: it runs for minutes.

import (
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	icholy "github.com/icholy/digest"

	"github.com/opsconform/opsconform/fixtures"
	"github.com/opsconform/opsconform/specs"
)

// soakSample is the heap and goroutines right after a reset, when the
// mock's state is its fixtures again: what must not grow.
type soakSample struct {
	requests   int64
	heap       uint64
	goroutines int
}

// TestSoak sends random requests, most of them wrong in some way, from 8
// clients over loopback to a mock served as opsconform mock serves it. It
// fails on any 5xx, on a transport error, and when the heap or the number of
// goroutines measured after each reset (same state each time) grows past
// the warm-up's.
func TestSoak(t *testing.T) {
	total, _ := strconv.Atoi(os.Getenv("SOAK_REQUESTS"))
	if total <= 0 {
		total = 100_000
	}
	const workers, resetEvery = 8, 10_000
	ps := embeddedProfiles(t)
	// Minute windows last a second: the busiest keys run out and get 429s.
	srv, err := New(Options{Profiles: ps, Seed: 1, TimeScale: 60})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hs := NewHTTPServer(srv)
	go func() { _ = hs.Serve(ln) }()
	defer hs.Close()
	base := "http://" + ln.Addr().String()
	gen := newSoakGen(t, srv, base)

	var (
		sent     atomic.Int64
		mu       sync.Mutex // guards statuses, failures, samples
		statuses = map[int]int{}
		failures []string
		samples  []soakSample
		gate     sync.RWMutex // resets take it exclusively: a reset with requests in flight measures them too
	)
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: workers, MaxConnsPerHost: workers * 2}}
	start := time.Now()
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(w), 0x50a4))
			for {
				n := sent.Add(1)
				if n > int64(total) {
					return
				}
				if n%resetEvery == 0 {
					gate.Lock()
					s := soakReset(t, client, base, n)
					mu.Lock()
					samples = append(samples, s)
					mu.Unlock()
					gate.Unlock()
					continue
				}
				gate.RLock()
				desc, status, err := gen.send(client, rng)
				gate.RUnlock()
				mu.Lock()
				statuses[status]++
				if (err != nil || status >= 500) && len(failures) < 20 {
					failures = append(failures, fmt.Sprintf("%s: %d %v", desc, status, err))
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	client.CloseIdleConnections()

	var codes []int
	for c := range statuses {
		codes = append(codes, c)
	}
	sort.Ints(codes)
	var hist []string
	for _, c := range codes {
		hist = append(hist, fmt.Sprintf("%d×%d", c, statuses[c]))
	}
	t.Logf("%d requests in %s (%.0f/s) from %d clients; statuses: %s", total, elapsed.Round(time.Millisecond), float64(total)/elapsed.Seconds(), workers, strings.Join(hist, " "))
	for _, s := range samples {
		t.Logf("after %6d requests: heap %5.1f MiB, %d goroutines", s.requests, float64(s.heap)/(1<<20), s.goroutines)
	}
	for _, f := range failures {
		t.Errorf("failure: %s", f)
	}
	if len(samples) < 3 {
		t.Fatalf("only %d samples: run at least %d requests", len(samples), 3*resetEvery)
	}
	// The first sample is the warm-up (caches filling, pools growing).
	warm := samples[1]
	for _, s := range samples[2:] {
		if s.heap > warm.heap+warm.heap/4+8<<20 {
			t.Errorf("heap grew after warm-up: %.1f MiB after %d requests, %.1f MiB after %d", float64(warm.heap)/(1<<20), warm.requests, float64(s.heap)/(1<<20), s.requests)
		}
		if s.goroutines > warm.goroutines+2*workers {
			t.Errorf("goroutines grew after warm-up: %d after %d requests, %d after %d", warm.goroutines, warm.requests, s.goroutines, s.requests)
		}
	}
}

// soakReset puts the mock back to its fixtures and measures it.
func soakReset(t *testing.T, c *http.Client, base string, n int64) soakSample {
	resp, err := c.Post(base+ControlPrefix+"reset", "application/json", nil)
	if err != nil {
		t.Errorf("reset: %v", err)
	} else {
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return soakSample{requests: n, heap: m.HeapAlloc, goroutines: runtime.NumGoroutine()}
}

// soakGen makes random requests against every profile.
type soakGen struct {
	srv     *Server
	base    string
	ps      []*specs.Profile
	keys    map[string][]fixtures.Key // by profile: every fixture key, good and bad
	params  map[string]map[string]string
	values  []string // query values from the edges of what parsers see
	bodies  []string
	secrets []string
}

func newSoakGen(t *testing.T, srv *Server, base string) *soakGen {
	g := &soakGen{srv: srv, base: base, ps: srv.profiles, keys: map[string][]fixtures.Key{}, params: map[string]map[string]string{}}
	for _, p := range g.ps {
		set := srv.fixtures[p.Name]
		g.keys[p.Name] = set.Keys
		g.params[p.Name] = set.Params
		for _, k := range set.Keys {
			g.secrets = append(g.secrets, k.Secret+k.PrivateKey)
		}
	}
	g.values = []string{"1", "0", "-1", "2", "50", "100", "101", "500", "1001", "abc", "", " 3 ", "1e3", "99999999999999999999",
		"%zz", "2147483648", "om_" + strings.Repeat("x", 40), "true", "false", "null", strings.Repeat("9", 300)}
	g.bodies = []string{"", "{}", "null", "[]", `{"a":1}}`, `{"n":1e400}`, "{", `{"Subject":"soak","ProfileLink_RecID":"` + strings.Repeat("A", 32) + `"}`,
		`{"subject":"soak","clientId":"7a1d2e7c-1b1f-4d0e-9a8b-6f0f7a5e9d11"}`, `{"hostname":"SOAK01","os":"linux","clientId":"7a1d2e7c-1b1f-4d0e-9a8b-6f0f7a5e9d11"}`,
		`{"name":"soak","email":"soak@example.com"}`, `{"desc":"soak","roles":["ORG_MEMBER"]}`, `{"Subject":"x","TypeOfChange":"Normal"}`,
		`{"unknown":"field"}`, strings.Repeat(`{"a":`, 2000)}
	return g
}

// send makes one random request; desc says what it was, without secrets.
func (g *soakGen) send(c *http.Client, rng *rand.Rand) (desc string, status int, err error) {
	p := g.ps[rng.IntN(len(g.ps))]
	op := p.Operations[rng.IntN(len(p.Operations))]
	method := op.Method
	path := op.Path
	for name, v := range g.params[p.Name] {
		path = strings.ReplaceAll(path, "{"+name+"}", v)
	}
	for strings.Contains(path, "{") { // an id nobody has, or a real-looking one
		i, j := strings.Index(path, "{"), strings.Index(path, "}")
		if j < i {
			break
		}
		path = path[:i] + pick(rng, []string{"1", "10241", "core-switch-01", strings.Repeat("A", 32), "5980cfc70b6d97029d82e3f6", "nope"}) + path[j+1:]
	}
	switch rng.IntN(20) {
	case 0:
		path += "/nowhere"
	case 1:
		method = pick(rng, []string{"PUT", "PATCH", "DELETE", "OPTIONS"})
	case 2:
		path = "/api/unknown/" + strconv.Itoa(rng.IntN(1000))
	}
	q := make([]string, 0, 4)
	for _, prm := range op.Params {
		if prm.In == "query" && rng.IntN(2) == 0 {
			q = append(q, prm.Name+"="+pick(rng, g.values))
		}
	}
	if rng.IntN(10) == 0 {
		q = append(q, pick(rng, []string{"access_token", "apikey", "APIKEY", "junk"})+"="+pick(rng, g.secrets))
	}
	if rng.IntN(200) == 0 {
		q = append(q, "x="+strings.Repeat("a", MaxURIBytes))
	}
	uri := path
	if len(q) > 0 {
		uri += "?" + strings.Join(q, "&")
	}
	var body io.Reader
	var bodyDesc string
	if method == "POST" || method == "PUT" || method == "PATCH" {
		b := pick(rng, g.bodies)
		if rng.IntN(300) == 0 {
			b = `{"a":"` + strings.Repeat("x", 2<<20) + `"}`
		}
		body, bodyDesc = strings.NewReader(b), fmt.Sprintf(" (%d-byte body)", len(b))
	}
	req, err := http.NewRequest(method, g.base+uri, body)
	if err != nil {
		return method + " " + path, 0, nil // not a request a client can send
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if rng.IntN(200) == 0 {
		req.Header.Set("X-Filler", strings.Repeat("b", MaxHeaderBytes))
	}
	keyDesc := g.authorize(req, p, rng)
	desc = fmt.Sprintf("%s %s%s as %s", method, g.srv.redact.uri(req.URL), bodyDesc, keyDesc)
	resp, err := c.Do(req)
	if err != nil {
		return desc, 0, err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return desc, resp.StatusCode, nil
}

// authorize adds credentials: a fixture key (good or bad) in the profile's
// form, none, or a malformed one.
func (g *soakGen) authorize(req *http.Request, p *specs.Profile, rng *rand.Rand) string {
	keys := g.keys[p.Name]
	switch rng.IntN(12) {
	case 0:
		return "nobody"
	case 1:
		req.Header.Set("Authorization", pick(rng, []string{"Bearer", "Bearer  x", "Digest", "Basic !!", "rest_api_key=", "Digest username=\"x\", nonce=\"y\""}))
		return "malformed"
	}
	k := keys[rng.IntN(len(keys))]
	if rng.IntN(2) == 0 { // half the time the full key, which reaches the answer
		for _, fk := range keys {
			if slices.Contains(fk.Labels, "full") {
				k = fk
			}
		}
	}
	label := strings.Join(k.Labels, ",")
	switch p.Auth.Mode {
	case specs.AuthBearer:
		req.Header.Set("Authorization", "Bearer "+k.Secret)
	case specs.AuthAPIKey:
		sc := p.Auth.Schemes[rng.IntN(len(p.Auth.Schemes))]
		v := strings.ReplaceAll(sc.Format, "{key}", k.Secret)
		if sc.In == "header" {
			req.Header.Set(sc.Param, v)
		} else {
			q := req.URL.Query()
			q.Set(sc.Param, v)
			req.URL.RawQuery = q.Encode()
		}
	case specs.AuthDigest:
		chal := &icholy.Challenge{Realm: p.Auth.Digest.Realm, Nonce: g.srv.nonces[p.Name].issue(), Algorithm: pick(rng, p.Auth.Digest.Algorithms), QOP: []string{"auth"}}
		password := k.PrivateKey
		if rng.IntN(10) == 0 {
			password = "wrong"
		}
		cred, err := icholy.Digest(chal, icholy.Options{Method: req.Method, URI: req.URL.RequestURI(), Username: k.PublicKey, Password: password, Count: 1})
		if err == nil {
			req.Header.Set("Authorization", cred.String())
		}
	}
	return "key " + k.ID + " [" + label + "]"
}

func pick[T any](rng *rand.Rand, xs []T) T { return xs[rng.IntN(len(xs))] }
