package main

import (
	"bufio"
	"bytes"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	icholy "github.com/icholy/digest"
	"github.com/opsconform/opsconform/mock"
)

func TestBucketsCoverEveryValue(t *testing.T) {
	for _, v := range []uint64{0, 1, 127, 128, 129, 255, 256, 1000, 1 << 20, 1<<40 + 12345, math.MaxUint64} {
		i := bucketOf(v)
		if i < 0 || i >= numBuckets {
			t.Fatalf("bucketOf(%d) = %d, outside [0, %d)", v, i, numBuckets)
		}
		lo, hi := bucketBounds(i)
		if v < lo || v > hi {
			t.Fatalf("bucketOf(%d) = %d, whose bounds are [%d, %d]", v, i, lo, hi)
		}
		if v >= 2*subBuckets && float64(hi-lo) > float64(lo)/subBuckets {
			t.Fatalf("bucket %d is [%d, %d]: wider than 1/%d of its value", i, lo, hi, subBuckets)
		}
	}
	// Buckets tile the line: each starts one past the previous one's end.
	for i := 1; i < numBuckets; i++ {
		lo, _ := bucketBounds(i)
		_, prevHi := bucketBounds(i - 1)
		if lo != prevHi+1 {
			t.Fatalf("bucket %d starts at %d, bucket %d ends at %d", i, lo, i-1, prevHi)
		}
	}
}

// TestQuantilesWithinResolution compares the histogram's percentiles with
// the exact ones of the same latencies.
func TestQuantilesWithinResolution(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	tests := []struct {
		name string
		draw func() time.Duration
	}{
		{"uniform 50µs–5ms", func() time.Duration {
			return 50*time.Microsecond + time.Duration(rng.Int64N(int64(5*time.Millisecond)))
		}},
		{"exponential, mean 300µs", func() time.Duration { return time.Duration(rng.ExpFloat64() * 300e3) }},
		{"bimodal with a slow tail", func() time.Duration {
			if rng.IntN(100) == 0 {
				return 40*time.Millisecond + time.Duration(rng.Int64N(int64(time.Millisecond)))
			}
			return 200*time.Microsecond + time.Duration(rng.Int64N(int64(20*time.Microsecond)))
		}},
		{"tiny, exact", func() time.Duration { return time.Duration(rng.IntN(100)) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var h histogram
			var all []time.Duration
			for range 100_000 {
				d := tt.draw()
				h.record(d)
				all = append(all, d)
			}
			slices.Sort(all)
			for _, q := range []float64{0.5, 0.9, 0.99, 0.999, 1} {
				exact := all[int(math.Ceil(q*float64(len(all))))-1]
				got := h.quantile(q)
				if got < exact || float64(got-exact) > float64(exact)/subBuckets+1 {
					t.Errorf("q%.3f = %v, exact %v: want at most 1/%d above", q, got, exact, subBuckets)
				}
			}
			if h.quantile(1) != all[len(all)-1] {
				t.Errorf("max = %v, want %v", h.quantile(1), all[len(all)-1])
			}
		})
	}
}

func TestHistogramMerge(t *testing.T) {
	var a, b, whole histogram
	for i := range 1000 {
		d := time.Duration(i) * time.Microsecond
		whole.record(d)
		if i%2 == 0 {
			a.record(d)
		} else {
			b.record(d)
		}
	}
	var empty histogram
	a.merge(&b)
	a.merge(&empty)
	if a.count() != whole.count() || a.min != whole.min || a.max != whole.max || a.counts != whole.counts || a.mean() != whole.mean() {
		t.Fatalf("merged halves differ from the whole: n %d/%d min %d/%d max %d/%d", a.count(), whole.count(), a.min, whole.min, a.max, whole.max)
	}
	if empty.quantile(0.99) != 0 || empty.mean() != 0 {
		t.Fatal("an empty histogram reports a latency")
	}
}

func TestMedian(t *testing.T) {
	tests := []struct {
		in   []float64
		want float64
	}{
		{nil, 0}, {[]float64{3}, 3}, {[]float64{3, 1, 2}, 2}, {[]float64{4, 1, 3, 2}, 2.5},
	}
	for _, tt := range tests {
		in := slices.Clone(tt.in)
		if got := median(tt.in); got != tt.want {
			t.Errorf("median(%v) = %v, want %v", tt.in, got, tt.want)
		}
		if !slices.Equal(in, tt.in) {
			t.Errorf("median changed its argument: %v", tt.in)
		}
	}
}

// TestSummaryRatiosPairRounds: a ratio is taken per round against the
// baseline of the same round, then the median is taken.
func TestSummaryRatiosPairRounds(t *testing.T) {
	mk := func(ok uint64, lat time.Duration, cpu time.Duration) *cell {
		c := &cell{ok: ok, window: time.Second, serverCPU: cpu}
		for range ok {
			c.hist.record(lat)
		}
		return c
	}
	// The machine slows down in round 2: both halve, the ratio holds.
	base := []*cell{mk(1000, 100*time.Microsecond, 500*time.Millisecond), mk(500, 200*time.Microsecond, 250*time.Millisecond), mk(1000, 100*time.Microsecond, 500*time.Millisecond)}
	got := []*cell{mk(800, 125*time.Microsecond, 480*time.Millisecond), mk(400, 250*time.Microsecond, 240*time.Millisecond), mk(800, 125*time.Microsecond, 480*time.Millisecond)}
	s := summarize(got, base)
	if math.Abs(s.rpsRatio-0.8) > 1e-9 {
		t.Errorf("req/s ratio %v, want 0.8", s.rpsRatio)
	}
	if s.p50Ratio < 1.2 || s.p50Ratio > 1.3 {
		t.Errorf("p50 ratio %v, want about 1.25", s.p50Ratio)
	}
	if math.Abs(s.cpuRatio-1.2) > 1e-9 || math.Abs(s.cpu-600e-6) > 1e-12 {
		t.Errorf("CPU per request %v (ratio %v), want 600µs (1.2)", s.cpu, s.cpuRatio)
	}
	if s.rps != 800 || s.ok != 2000 || s.rounds != 3 {
		t.Errorf("median req/s %v, ok %d, rounds %d", s.rps, s.ok, s.rounds)
	}
}

func TestParseStatCPU(t *testing.T) {
	tests := []struct {
		stat string
		want time.Duration
		ok   bool
	}{
		{"1234 (opsconform) S 1 1234 1234 0 -1 4194560 2417 0 0 0 150 25 0 0 20 0 9 0 123 0 0", 1750 * time.Millisecond, true},
		{"1234 (we ird) name)) R 1 1 1 0 -1 0 0 0 0 0 7 3 0 0 20 0 1 0 1 0 0", 100 * time.Millisecond, true},
		{"1234 opsconform S 1", 0, false},
		{"1234 (x) S 1 2 3", 0, false},
		{"1234 (x) S 1 1 1 0 -1 0 0 0 0 0 x 3 0", 0, false},
	}
	for _, tt := range tests {
		got, err := parseStatCPU([]byte(tt.stat))
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("parseStatCPU(%q) = %v, %v; want %v (ok %v)", tt.stat, got, err, tt.want, tt.ok)
		}
	}
}

func TestParseMemory(t *testing.T) {
	tests := []struct {
		name, status string
		want         memStatus
		ok           bool
	}{
		{"every field", "Name:\topsconform\nVmPeak:\t 1000 kB\nVmHWM:\t   51552 kB\nVmRSS:\t   42636 kB\nRssAnon:\t 20612 kB\nRssFile:\t   22024 kB\nRssShmem:\t 0 kB\n",
			memStatus{rss: 42636, hwm: 51552, anon: 20612, file: 22024}, true},
		{"a kernel without the split", "VmHWM:\t 2 kB\nVmRSS:\t 1 kB\n", memStatus{rss: 1, hwm: 2}, true},
		{"no VmHWM", "VmRSS:\t 1 kB\n", memStatus{}, false},
		{"another unit", "VmRSS:\t 1 MB\nVmHWM:\t 1 kB\n", memStatus{}, false},
		{"not a number", "VmRSS:\t 1 kB\nVmHWM:\t 1 kB\nRssAnon:\t x kB\n", memStatus{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseMemory([]byte(tt.status))
			if (err == nil) != tt.ok || got != tt.want {
				t.Errorf("parseMemory = %+v, %v; want %+v (ok %v)", got, err, tt.want, tt.ok)
			}
		})
	}
}

// TestReadResponse: the client reads what servers send: lengths, chunks,
// HTTP/1.0, bodies that run to the close.
func TestReadResponse(t *testing.T) {
	tests := []struct {
		name, raw  string
		status     int
		body       string
		close      bool
		challenge  string
		wantErrSub string
	}{
		{name: "length", raw: "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Type: application/json\r\n\r\nhello", status: 200, body: "hello"},
		{name: "chunked with trailer", raw: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2;ext=1\r\nde\r\n0\r\nX-T: 1\r\n\r\n", status: 200, body: "abcde"},
		{name: "challenge", raw: "HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Digest realm=\"r\", nonce=\"n\"\r\nwww-authenticate: Digest second\r\nContent-Length: 0\r\n\r\n", status: 401, challenge: `Digest realm="r", nonce="n"`},
		{name: "close", raw: "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok", status: 200, body: "ok", close: true},
		{name: "HTTP/1.0", raw: "HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok", status: 200, body: "ok", close: true},
		{name: "to the end", raw: "HTTP/1.1 200 OK\r\n\r\nall of it", status: 200, body: "all of it", close: true},
		{name: "no content", raw: "HTTP/1.1 204 No Content\r\n\r\n", status: 204},
		{name: "bad status", raw: "HTTP/1.1 2x0 OK\r\n\r\n", wantErrSub: "malformed status line"},
		{name: "bad length", raw: "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", wantErrSub: "Content-Length"},
		{name: "short body", raw: "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort", wantErrSub: "body"},
		{name: "bad chunk", raw: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", wantErrSub: "chunk size"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &conn{br: bufio.NewReader(strings.NewReader(tt.raw))}
			resp, err := c.read()
			if tt.wantErrSub != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErrSub) {
					t.Fatalf("error %v, want one about %q", err, tt.wantErrSub)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if resp.status != tt.status || string(resp.body) != tt.body || resp.close != tt.close || resp.challenge != tt.challenge {
				t.Fatalf("got %d %q close=%v challenge=%q", resp.status, resp.body, resp.close, resp.challenge)
			}
		})
	}
}

// TestDigestClientAgreesWithIcholy: the load generator's Digest answers are
// what a client library computes for the same challenge and count.
func TestDigestClientAgreesWithIcholy(t *testing.T) {
	for _, alg := range []string{"MD5", "SHA-256"} {
		d := &digestClient{user: "ewmaqvdo", pass: "51529f5a-1c76-41b9-8b2b-db2c132ca78d", method: "GET", uri: "/api/public/v1.0/orgs?pageNum=1"}
		header := `Digest realm="MMS Public API", domain="", nonce="abc123", algorithm=` + alg + `, qop="auth", stale=false`
		if err := d.challenged(header); err != nil {
			t.Fatal(err)
		}
		for nc := 1; nc <= 3; nc++ {
			got, err := icholy.ParseCredentials(d.authorization())
			if err != nil {
				t.Fatal(err)
			}
			want, err := icholy.Digest(&icholy.Challenge{Realm: "MMS Public API", Nonce: "abc123", Algorithm: alg, QOP: []string{"auth"}},
				icholy.Options{Method: "GET", URI: d.uri, Username: d.user, Password: d.pass, Count: nc, Cnonce: got.Cnonce})
			if err != nil {
				t.Fatal(err)
			}
			if got.Nc != nc || got.Response != want.Response || got.URI != d.uri || got.Algorithm != alg {
				t.Fatalf("%s nc %d: got %+v, want response %s", alg, nc, got, want.Response)
			}
		}
	}
	for _, bad := range []string{`Basic realm="x"`, `Digest realm="r", nonce="n", algorithm=SHA-512, qop="auth"`, `Digest realm="r", nonce="n", qop="auth-int"`, `Digest realm="r", qop="auth"`} {
		if err := (&digestClient{}).challenged(bad); err == nil {
			t.Errorf("challenge %q accepted", bad)
		}
	}
}

// TestRunCountsOnlyGoodAnswers runs the closed loop against a loopback
// server that answers every other request wrongly.
func TestRunCountsOnlyGoodAnswers(t *testing.T) {
	page := []byte(`{"data":{"items":[1,2,3]}}`)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer k" {
			w.WriteHeader(401)
			return
		}
		_, _ = w.Write(page)
	}))
	defer srv.Close()
	addr := strings.TrimPrefix(srv.URL, "http://")
	good := &target{name: "good", addr: addr, path: "/p?x=1", headers: []string{"Authorization: Bearer k"}, want: page}
	c := good.run(2, 50*time.Millisecond, 200*time.Millisecond)
	if c.ok == 0 || c.errs != 0 || c.hist.count() != c.ok || c.rps() <= 0 {
		t.Fatalf("good: ok %d errs %d hist %d (%s)", c.ok, c.errs, c.hist.count(), c.firstErr)
	}
	bad := &target{name: "bad", addr: addr, path: "/p", want: page}
	c = bad.run(1, 0, 100*time.Millisecond)
	if c.ok != 0 || c.errs == 0 || !strings.Contains(c.firstErr, "status 401") {
		t.Fatalf("bad: ok %d errs %d first error %q", c.ok, c.errs, c.firstErr)
	}
	wrong := &target{name: "wrong", addr: addr, path: "/p", headers: []string{"Authorization: Bearer k"}, want: []byte(`{}`)}
	c = wrong.run(1, 0, 100*time.Millisecond)
	if c.ok != 0 || !strings.Contains(c.firstErr, "not the page") {
		t.Fatalf("wrong body: ok %d first error %q", c.ok, c.firstErr)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	deadAddr := ln.Addr().String()
	ln.Close()
	dead := &target{name: "dead", addr: deadAddr, path: "/"}
	c = dead.run(1, 0, 50*time.Millisecond)
	if c.ok != 0 || c.errs == 0 || !strings.Contains(c.firstErr, "connect") {
		t.Fatalf("dead: ok %d errs %d first error %q", c.ok, c.errs, c.firstErr)
	}
}

// TestBareHandlerServesThePage: the bare handler's answer is the captured
// page, byte for byte, with its headers, in the mock's own http.Server.
func TestBareHandlerServesThePage(t *testing.T) {
	pages := []*capturedPage{{Name: "opsmerge", Path: "/api/v1/agents", Header: map[string][]string{
		"Content-Type": {"application/json"}, "X-RateLimit-Limit": {"300"}}, body: []byte(`{"data":[]}`)}}
	dir := t.TempDir()
	manifest, err := writeManifest(dir, pages)
	if err != nil {
		t.Fatal(err)
	}
	read, err := readManifest(manifest)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(nil)
	srv.Config = mock.NewHTTPServer(bareHandler(read))
	srv.Start()
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/api/v1/agents?page=1")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body bytes.Buffer
	_, _ = body.ReadFrom(resp.Body)
	if resp.StatusCode != 200 || body.String() != `{"data":[]}` || resp.Header.Get("X-RateLimit-Limit") != "300" || resp.ContentLength != 11 {
		t.Fatalf("%d %q %v", resp.StatusCode, body.String(), resp.Header)
	}
	if resp, err := http.Get(srv.URL + "/other"); err != nil || resp.StatusCode != 404 {
		t.Fatalf("another path: %v %v", resp, err)
	}
}

// TestReportJudgesTargets renders a report from made-up cells: the targets
// are judged from the figures, and what was not measured says why.
func TestReportJudgesTargets(t *testing.T) {
	mk := func(ok uint64, lat time.Duration) []*cell {
		c := &cell{ok: ok, window: time.Second, serverCPU: time.Duration(ok) * 20 * time.Microsecond}
		for range ok {
			c.hist.record(lat)
		}
		return []*cell{c}
	}
	r := &report{date: time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC), machine: machine{cpus: 2, cpuModel: "test CPU", loadStart: "1.00 1.00 1.00", loadEnd: "2.00 1.00 1.00"},
		command: "opsconform-load", versions: map[string]string{"mock": "opsconform devel"}, duration: time.Second, warmup: time.Second, rounds: 1, conns: []int{16, 64},
		results: results{}, pages: map[string]int{"opsmerge": 22000}, missing: []string{"Prism: node is not installed"}}
	bare := &target{name: "bare", group: "bare", page: "opsmerge", path: "/api/v1/agents?page=1&per_page=100"}
	mockT := &target{name: "mock Bearer", group: "mock", page: "opsmerge"}
	wm := &target{name: "WireMock", group: "wiremock", page: "opsmerge"}
	r.targets = []*target{bare, mockT, wm}
	r.results[bare.key()] = map[int][]*cell{16: mk(10000, 100*time.Microsecond), 64: mk(10000, time.Millisecond)}
	r.results[mockT.key()] = map[int][]*cell{16: mk(8500, 120*time.Microsecond), 64: mk(8000, 3*time.Millisecond)}
	r.results[wm.key()] = map[int][]*cell{16: mk(2000, time.Millisecond)}
	r.procs = []*proc{{name: "mock", coldStarts: []time.Duration{60 * time.Millisecond, 50 * time.Millisecond, 70 * time.Millisecond}, idle: memStatus{rss: 30 << 10, anon: 28 << 10, file: 2 << 10}, loaded: memStatus{rss: 50 << 10, hwm: 90 << 10}}}
	var out bytes.Buffer
	if err := r.write(&out); err != nil {
		t.Fatal(err)
	}
	md := out.String()
	for _, want := range []string{
		"| opsmerge page (Bearer), 16 connections: req/s against bare | ≥ 0.60 | 0.85 | met |",
		"| opsmerge page (Bearer), 64 connections: p99 against bare | ≤ 2.00× | 3.00× | **not met** |",
		"| opmanager page (apikey), 16 connections: req/s against bare | ≥ 0.60 | — | not measured |",
		"the mock's req/s against Prism's | ≥ 10× | not measured: node is not installed | not measured |",
		"the mock's req/s against WireMock's | ≥ 2× | 4.2× | met |",
		"| cold start, four profiles (median, exec to first 200) | < 100 ms | 60 ms | met |",
		"| RSS after the load run (VmHWM, the peak) | < 80 MiB | 90.0 MiB | **not met** |",
		"| RSS idle (VmRSS after the first answer) | < 40 MiB | 30.0 MiB (28.0 + 2.0) | met |",
		"| 30.0 MiB (28.0 + 2.0) | 50.0 MiB | 90.0 MiB |",
		"| mock Bearer | opsmerge | 16 | 8,500 | 0.85 |",
		"- Prism: node is not installed",
		"| CPUs | 2 (`nproc`), test CPU |",
		"2.00 1.00 1.00 at the end",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("the report lacks %q:\n%s", want, md)
		}
	}
}

func TestThousands(t *testing.T) {
	for in, want := range map[float64]string{0: "0", 999.4: "999", 1000: "1,000", 61234.6: "61,235", 1234567: "1,234,567", -4321: "-4,321"} {
		if got := thousands(in); got != want {
			t.Errorf("thousands(%v) = %q, want %q", in, got, want)
		}
	}
}
