package mock

import (
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/opsconform/opsconform/specs"
)

// benchLists are the 100-item pages `make load` serves, per profile, with a
// one-item page of the same list.
var benchLists = map[string]struct{ path, one, hundred string }{
	"opmanager":          {"/api/json/v2/device/listDevices", "?page=1&rows=1", "?page=1&rows=100"},
	"opsmerge":           {"/api/v1/agents", "?page=1&per_page=1", "?page=1&per_page=100"},
	"mongodb-opsmanager": {"/api/public/v1.0/orgs/5980cfc70b6d97029d82e3f6/apiKeys", "?pageNum=1&itemsPerPage=1", "?pageNum=1&itemsPerPage=100"},
	"ivanti-ism":         {"/api/odata/businessobject/incidents", "?$top=1&$skip=0", "?$top=100&$skip=0"},
}

// quietServer is the mock as `make load` runs it, `opsconform mock --quiet
// --time-scale 1000000` (no request log lines, the journal kept, rate-limit
// windows of 60 µs), on a clock the benchmark moves a millisecond a request:
// every request opens a fresh window, so none is refused.
func quietServer(b testing.TB) (*Server, *fakeClock) {
	clock := &fakeClock{t: time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)}
	s, err := New(Options{Profiles: embeddedProfiles(b), Seed: 1, Now: clock.Now, TimeScale: 1e6})
	if err != nil {
		b.Fatal(err)
	}
	return s, clock
}

// reportCPU adds cpu-ns/op, the process's CPU time per iteration (the
// garbage collector's included): unlike ns/op, it does not grow when other
// processes take the machine's CPUs, so runs on a shared machine compare.
// Call it with the CPU time read before the loop.
func reportCPU(b *testing.B, before time.Duration) {
	if before > 0 && b.N > 0 {
		b.ReportMetric(float64(processCPU()-before)/float64(b.N), "cpu-ns/op")
	}
}

// discardWriter is a ResponseWriter that keeps nothing but the status and
// the byte count, reused across iterations: what a benchmark of the
// handler should not measure is the recorder's buffer growing.
type discardWriter struct {
	h      http.Header
	status int
	n      int
}

func (w *discardWriter) Header() http.Header { return w.h }
func (w *discardWriter) WriteHeader(s int)   { w.status = s }
func (w *discardWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = 200
	}
	w.n += len(p)
	return len(p), nil
}

func (w *discardWriter) reset() {
	clear(w.h)
	w.status, w.n = 0, 0
}

// BenchmarkList serves a paginated list per profile through the whole
// pipeline (route, auth, rate limit, validation, paging, rendering, the
// journal); MongoDB's includes checking a Digest response. Two baselines
// are measured in the same run: "bare" writes the 100-item page's bytes and
// headers as a plain handler would (what `make load` compares with), and
// the one-item page of the same list shows what 99 more items cost.
func BenchmarkList(b *testing.B) {
	s, clock := quietServer(b)
	for _, p := range embeddedProfiles(b) {
		l := benchLists[p.Name]
		hdr, _ := fixtureCredentials(b, p, "full")
		for _, size := range []struct{ name, query string }{{"1", l.one}, {"100", l.hundred}} {
			req := httptest.NewRequest("GET", l.path+size.query, nil)
			req.Host = "127.0.0.1"
			req.Header = hdr.Clone()
			if req.Header == nil {
				req.Header = http.Header{} // digest: the signer fills Authorization
			}
			headers := &signedHeaders{sign: digestSigner(b, s, clock, p, l.path+size.query)}
			serve := func(b *testing.B, w *discardWriter) {
				clock.Advance(time.Millisecond)
				headers.set(b, req)
				w.reset()
				s.ServeHTTP(w, req)
				if w.status != 200 {
					b.Fatalf("%s: %d", req.URL, w.status)
				}
			}
			if size.name == "100" {
				b.Run(p.Name+"/bare", func(b *testing.B) {
					w := &discardWriter{h: http.Header{}}
					page := httptest.NewRecorder()
					clock.Advance(time.Millisecond)
					headers.set(b, req)
					s.ServeHTTP(page, req)
					if page.Code != 200 {
						b.Fatalf("%s: %d", req.URL, page.Code)
					}
					header, body := page.Header().Clone(), page.Body.Bytes()
					length := []string{strconv.Itoa(len(body))}
					b.ReportAllocs()
					cpu := processCPU()
					for b.Loop() {
						w.reset()
						for k, v := range header {
							w.h[k] = v
						}
						w.h["Content-Length"] = length
						w.WriteHeader(200)
						_, _ = w.Write(body)
					}
					reportCPU(b, cpu)
				})
			}
			b.Run(p.Name+"/page-"+size.name, func(b *testing.B) {
				w := &discardWriter{h: http.Header{}}
				headers.excluded = 0
				b.ReportAllocs()
				cpu := processCPU()
				for b.Loop() {
					serve(b, w)
				}
				reportCPU(b, cpu+headers.excluded)
			})
		}
	}
}

// digestSigner signs requests for a digest profile the way a client
// does, a batch at a time: a rising nonce count on a nonce of its own,
// refreshed before it expires (the nonce lifetime is not scaled); nil for
// other modes. Benchmarks sign outside the timer, a batch per thousand
// requests, so the figures are the server's work alone.
func digestSigner(b *testing.B, s *Server, clock *fakeClock, p *specs.Profile, uri string) func(n int) []string {
	if p.Auth.Mode != specs.AuthDigest {
		return nil
	}
	k := fixtureKey(b, p.Name, "full")
	realm := p.Auth.Digest.Realm
	hexMD5 := func(s string) string { h := md5.Sum([]byte(s)); return hex.EncodeToString(h[:]) }
	ha1, ha2 := hexMD5(k.PublicKey+":"+realm+":"+k.PrivateKey), hexMD5("GET:"+uri)
	var nonce string
	var issued time.Time
	nc := 0
	return func(n int) []string {
		out := make([]string, n)
		for i := range out {
			if nonce == "" || nc >= 1<<20 || clock.Now().Sub(issued) > p.Auth.Digest.NonceLifetime/4 {
				nonce, issued, nc = s.nonces[p.Name].issue(), clock.Now(), 0
			}
			nc++
			count := fmt.Sprintf("%08x", nc)
			resp := hexMD5(ha1 + ":" + nonce + ":" + count + ":0a4f113b:auth:" + ha2)
			out[i] = `Digest username="` + k.PublicKey + `", realm="` + realm + `", nonce="` + nonce + `", uri="` + uri +
				`", algorithm=MD5, response="` + resp + `", qop=auth, nc=` + count + `, cnonce="0a4f113b"`
		}
		return out
	}
}

// signedHeaders hands out Authorization values from sign, a batch of 1024
// at a time signed with the timer stopped; excluded accumulates the CPU
// time signing took, for reportCPU to leave out. nil sign: nothing to set.
type signedHeaders struct {
	sign     func(n int) []string
	batch    []string
	excluded time.Duration
}

func (h *signedHeaders) set(b *testing.B, req *http.Request) {
	if h.sign == nil {
		return
	}
	if len(h.batch) == 0 {
		b.StopTimer()
		cpu := processCPU()
		h.batch = h.sign(1024)
		h.excluded += processCPU() - cpu
		b.StartTimer()
	}
	req.Header.Set("Authorization", h.batch[0])
	h.batch = h.batch[1:]
}
