package mock

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/opsconform/opsconform/fixtures"
	"github.com/opsconform/opsconform/specs"
)

// assertStatusEnvelope checks body is the profile's error envelope for kind
// answered with status: every fixed field as the template renders it for
// that status, and a non-empty message where the template has one.
func assertStatusEnvelope(t *testing.T, p *specs.Profile, kind specs.ErrorKind, status int, body []byte) {
	t.Helper()
	var a, b, got any
	_ = json.Unmarshal(p.Errors.RenderStatus(kind, status, "\x00one"), &a)
	_ = json.Unmarshal(p.Errors.RenderStatus(kind, status, "\x00two"), &b)
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatalf("%s: the %d body is not JSON: %.200q", p.Name, status, body)
	}
	var walk func(path string, a, b, got any)
	walk = func(path string, a, b, got any) {
		am, isMap := a.(map[string]any)
		if !isMap {
			if !reflect.DeepEqual(a, b) { // a message: any non-empty text
				if s, ok := got.(string); ok && s != "" {
					return
				}
				if l, ok := got.([]any); ok && len(l) > 0 {
					return
				}
				t.Errorf("%s: %s = %v, want a message", p.Name, path, got)
				return
			}
			if !reflect.DeepEqual(a, got) && !(path == "$.parameters" && got != nil) {
				t.Errorf("%s: %s = %v, want %v (body %s)", p.Name, path, got, a, body)
			}
			return
		}
		gm, ok := got.(map[string]any)
		if !ok || len(gm) != len(am) {
			t.Errorf("%s: %s = %v, want the envelope's fields %v", p.Name, path, got, am)
			return
		}
		for k := range am {
			walk(path+"."+k, am[k], b.(map[string]any)[k], gm[k])
		}
	}
	walk("$", a, b, got)
}

// postOperation is a profile's first POST whose path needs only fixture params.
func postOperation(t *testing.T, p *specs.Profile) (*specs.Operation, string) {
	t.Helper()
	set, err := fixtures.Load(fixtures.Embedded(), p.Name)
	if err != nil {
		t.Fatal(err)
	}
	for _, op := range p.Operations {
		if op.Method != http.MethodPost {
			continue
		}
		path := op.Path
		for name, v := range set.Params {
			path = strings.ReplaceAll(path, "{"+name+"}", v)
		}
		if !strings.Contains(path, "{") {
			return op, path
		}
	}
	t.Fatalf("%s has no POST operation", p.Name)
	return nil, ""
}

// authHeader is what a client sends for the profile's full key on method
// and uri; digest credentials are signed for a fresh challenge.
func authHeader(t *testing.T, h *harness, p *specs.Profile, method, uri string) http.Header {
	t.Helper()
	if p.Auth.Mode != specs.AuthDigest {
		hdr, _ := fixtureCredentials(t, p, "full")
		return hdr
	}
	_, chal, _ := h.do("GET", probePath[p.Name], nil, "")
	return http.Header{"Authorization": {signDigest(t, h, chal.Get("WWW-Authenticate"), method, uri, "", 1)}}
}

// zeros is an endless body of zero bytes, never held in memory.
type zeros struct{}

func (zeros) Read(b []byte) (int, error) { clear(b); return len(b), nil }

// TestOversizedBody: a 64 MiB body, declared or chunked, is 413 in the
// vendor's envelope, without the mock reading it all.
func TestOversizedBody(t *testing.T) {
	h := newHarness(t)
	const size = 64 << 20
	for _, p := range embeddedProfiles(t) {
		for _, chunked := range []bool{false, true} {
			name := p.Name + " with Content-Length"
			if chunked {
				name = p.Name + " chunked"
			}
			t.Run(name, func(t *testing.T) {
				_, path := postOperation(t, p)
				req, err := http.NewRequest("POST", h.http.URL+path, io.LimitReader(zeros{}, size))
				if err != nil {
					t.Fatal(err)
				}
				req.ContentLength = size
				if chunked {
					req.ContentLength = -1
				}
				for k, v := range authHeader(t, h, p, "POST", path) {
					req.Header[k] = v
				}
				req.Header.Set("Content-Type", "application/json")
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusRequestEntityTooLarge {
					t.Fatalf("%d %s, want 413", resp.StatusCode, body)
				}
				assertStatusEnvelope(t, p, specs.InvalidBody, 413, body)
			})
		}
	}
}

// limitServer serves the mock as opsconform mock does, with NewHTTPServer.
func limitServer(t *testing.T) (*httptest.Server, *Server) {
	t.Helper()
	srv, err := New(Options{Profiles: embeddedProfiles(t), Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewUnstartedServer(srv)
	hs.Config = NewHTTPServer(srv)
	hs.Start()
	t.Cleanup(hs.Close)
	return hs, srv
}

// TestURIAndHeaderLimits: a URI or header section past the mock's limits is
// 414 or 431 in the owning vendor's envelope; past net/http's own limit,
// net/http answers 431 in plain text before the mock sees the request.
func TestURIAndHeaderLimits(t *testing.T) {
	hs, _ := limitServer(t)
	tests := []struct {
		name    string
		query   int // bytes of query
		header  int // bytes of one extra header
		status  int
		vendors bool // answered in the vendor's envelope
	}{
		{"URI just under the limit", MaxURIBytes - 200, 0, 401, true},
		{"URI over the limit", MaxURIBytes + 1, 0, 414, true},
		{"headers just under the limit", 0, MaxHeaderBytes - 1000, 401, true},
		{"headers over the limit", 0, MaxHeaderBytes + 1, 431, true},
		{"headers over net/http's limit", 0, ServerMaxHeaderBytes + 8192, 431, false},
	}
	for _, p := range embeddedProfiles(t) {
		for _, tt := range tests {
			t.Run(p.Name+" "+tt.name, func(t *testing.T) {
				url := hs.URL + probePath[p.Name]
				if tt.query > 0 {
					url += "?x=" + strings.Repeat("a", tt.query)
				}
				req, _ := http.NewRequest("GET", url, nil)
				if tt.header > 0 {
					req.Header.Set("X-Filler", strings.Repeat("b", tt.header))
				}
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != tt.status {
					t.Fatalf("%d %.200s, want %d", resp.StatusCode, body, tt.status)
				}
				switch {
				case tt.status == 401:
				case tt.vendors:
					assertStatusEnvelope(t, p, specs.InvalidParameter, tt.status, body)
				case json.Valid(body):
					t.Errorf("net/http's own 431 is now JSON (%s): update README's note on it", body)
				}
			})
		}
	}
}

func TestNewHTTPServerLimits(t *testing.T) {
	hs := NewHTTPServer(http.NotFoundHandler())
	if hs.ReadHeaderTimeout != ReadHeaderTimeout || hs.ReadTimeout != ReadTimeout || hs.IdleTimeout != IdleTimeout ||
		hs.MaxHeaderBytes != ServerMaxHeaderBytes || hs.WriteTimeout != 0 {
		t.Errorf("NewHTTPServer = %+v, want the documented timeouts and limits", hs)
	}
	if ServerMaxHeaderBytes <= MaxHeaderBytes || MaxHeaderBytes <= MaxURIBytes {
		t.Errorf("limits out of order: net/http %d, headers %d, URI %d", ServerMaxHeaderBytes, MaxHeaderBytes, MaxURIBytes)
	}
	if ReadHeaderTimeout <= 0 || IdleTimeout <= 0 {
		t.Error("a zero timeout means none")
	}
}

// TestSlowHeadersAreCut: a client that never finishes its headers is
// disconnected once the read-header timeout passes (shortened here).
func TestSlowHeadersAreCut(t *testing.T) {
	hs := httptest.NewUnstartedServer(http.NotFoundHandler())
	hs.Config = NewHTTPServer(http.NotFoundHandler())
	hs.Config.ReadHeaderTimeout = 100 * time.Millisecond
	hs.Start()
	defer hs.Close()
	conn, err := net.Dial("tcp", hs.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.Write([]byte("GET / HTTP/1.1\r\nHost: x\r\nX-Slow: ")); err != nil {
		t.Fatal(err)
	}
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second)) // the test's own bound, far past the timeout
	_, err = io.ReadAll(conn)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatal("the server kept a connection with unfinished headers open")
	}
}

// TestServeFinishesInFlightRequests: stopping Serve closes the listener at
// once, answers the request in flight, and returns nil; a request still
// running when the grace period ends is cut off with ErrGraceExpired.
func TestServeFinishesInFlightRequests(t *testing.T) {
	for _, tt := range []struct {
		name    string
		release bool // whether the request in flight finishes within the grace period
	}{{"finishes", true}, {"outlives the grace period", false}} {
		t.Run(tt.name, func(t *testing.T) {
			entered, release := make(chan struct{}), make(chan struct{})
			handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				close(entered)
				select {
				case <-release:
				case <-r.Context().Done():
				}
				_, _ = w.Write([]byte("done"))
			})
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			ctx, stop := context.WithCancel(context.Background())
			grace := 5 * time.Second
			if !tt.release {
				grace = 50 * time.Millisecond
			}
			served := make(chan error, 1)
			go func() { served <- Serve(ctx, NewHTTPServer(handler), ln, grace) }()
			type result struct {
				status int
				body   string
				err    error
			}
			got := make(chan result, 1)
			go func() {
				resp, err := http.Get("http://" + ln.Addr().String() + "/")
				if err != nil {
					got <- result{err: err}
					return
				}
				b, err := io.ReadAll(resp.Body)
				resp.Body.Close()
				got <- result{resp.StatusCode, string(b), err}
			}()
			<-entered
			stop()
			// The listener closes before Serve waits for the request: a new
			// connection is refused while the old request is still running.
			for {
				c, err := net.Dial("tcp", ln.Addr().String())
				if err != nil {
					break
				}
				c.Close() // accepted just before the close
				runtime.Gosched()
			}
			if tt.release {
				close(release)
			}
			r := <-got
			err = <-served
			if tt.release {
				if r.err != nil || r.status != 200 || r.body != "done" || err != nil {
					t.Errorf("request in flight: %d %q %v; Serve: %v; want 200 done and nil", r.status, r.body, r.err, err)
				}
				return
			}
			close(release)
			if !errors.Is(err, ErrGraceExpired) || r.err == nil && r.body == "done" {
				t.Errorf("Serve: %v, request %d %q %v; want ErrGraceExpired and a cut request", err, r.status, r.body, r.err)
			}
		})
	}
}

// TestNetHTTPAnswersBeforeTheMock pins what README says net/http answers
// itself, in plain text, before the mock's handler runs.
func TestNetHTTPAnswersBeforeTheMock(t *testing.T) {
	hs, _ := limitServer(t)
	tests := []struct {
		name, request string
		status        string
	}{
		{"malformed request line", "GET\r\n\r\n", "400"},
		{"malformed header", "GET /api/v1/agents HTTP/1.1\r\nHost: x\r\nNo colon here\r\n\r\n", "400"},
		{"unknown Transfer-Encoding", "POST /api/v1/agents HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", "501"},
		{"unknown Expect", "GET /api/v1/agents HTTP/1.1\r\nHost: x\r\nExpect: teapot\r\n\r\n", "417"},
		{"headers past net/http's limit", "GET /api/v1/agents HTTP/1.1\r\nHost: x\r\nX-Filler: " + strings.Repeat("b", ServerMaxHeaderBytes+8192) + "\r\n\r\n", "431"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			conn, err := net.Dial("tcp", hs.Listener.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
			if _, err := conn.Write([]byte(tt.request)); err != nil {
				t.Fatal(err)
			}
			line, err := bufio.NewReader(conn).ReadString('\n')
			if err != nil || !strings.HasPrefix(line, "HTTP/1.1 "+tt.status+" ") {
				t.Errorf("status line %q, %v; want %s (README says so)", line, err, tt.status)
			}
		})
	}
}

// TestRefusedBodiesStillGetTheirAnswer: a request refused before its body
// is read (401, 404, 405) still gets its answer while the client is sending
// a 2 MiB body, rather than a connection reset; the connection then serves
// the next request.
func TestRefusedBodiesStillGetTheirAnswer(t *testing.T) {
	hs, _ := limitServer(t)
	client := &http.Client{Transport: &http.Transport{MaxConnsPerHost: 1}}
	defer client.CloseIdleConnections()
	body := strings.Repeat("x", 2<<20)
	tests := []struct {
		method, path string
		status       int
	}{
		{"POST", "/api/v1/agents", 401},
		{"POST", "/api/v1/nowhere", 404},
		{"PATCH", "/api/v1/agents", 405},
		{"POST", "/api/odata/businessobject/incidents", 401},
	}
	for range 5 {
		for _, tt := range tests {
			req, _ := http.NewRequest(tt.method, hs.URL+tt.path, strings.NewReader(body))
			resp, err := client.Do(req)
			if err != nil {
				t.Fatalf("%s %s with a 2 MiB body: %v, want %d", tt.method, tt.path, err, tt.status)
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tt.status || resp.Close {
				t.Errorf("%s %s: %d (close %v), want %d on a connection kept open", tt.method, tt.path, resp.StatusCode, resp.Close, tt.status)
			}
		}
	}
}
