package suites

import (
	"bytes"
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/opsconform/opsconform/reports"
	"github.com/opsconform/opsconform/specs"
)

func profile(t testing.TB, name string) *specs.Profile {
	ps, err := specs.LoadEmbedded()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range ps {
		if p.Name == name {
			return p
		}
	}
	t.Fatalf("no profile %s", name)
	return nil
}

func byID(run *reports.Run) map[string]reports.Result {
	out := map[string]reports.Result{}
	for _, r := range run.Results {
		out[r.ID] = r
	}
	return out
}

// TestChecksFailOnANonconformingTarget: a server that admits everyone with
// 200 {} must fail the auth requirements, with expected and got filled in.
func TestChecksFailOnANonconformingTarget(t *testing.T) {
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{}`))
	}))
	defer hs.Close()
	run, err := Run(context.Background(), Config{Profile: profile(t, "opsmerge"), Target: hs.URL, Timeout: 2 * time.Second, Sleep: noSleep})
	if err != nil {
		t.Fatal(err)
	}
	res := byID(run)
	for _, id := range []string{"OPSMERGE-AUTH-001", "OPSMERGE-AUTH-003", "OPSMERGE-AUTH-006", "OPSMERGE-ENV-001", "OPSMERGE-RATE-002"} {
		r := res[id]
		if r.Status != reports.Fail {
			t.Errorf("%s = %s (%s), want fail", id, r.Status, r.Reason)
		}
	}
	if r := res["OPSMERGE-AUTH-001"]; r.Expected != "401" || r.Got != "200" || !strings.Contains(r.Exchange, "HTTP/1.1 200") {
		t.Errorf("AUTH-001 evidence: expected %q got %q exchange %q", r.Expected, r.Got, r.Exchange)
	}
	if run.Conforms() {
		t.Error("a server that admits everyone conforms")
	}
}

func noSleep(context.Context, time.Duration) error { return nil }

// TestHostileTargets: hanging, garbage-sending and resetting servers give
// failed or errored checks within the timeout; the harness neither crashes nor hangs.
func TestHostileTargets(t *testing.T) {
	hang := make(chan struct{})
	defer close(hang)
	targets := map[string]http.HandlerFunc{
		"hangs": func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-hang:
			case <-r.Context().Done():
			}
		},
		"garbage": func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte("\x1b[31m\x00\xff{not json]]>"))
		},
		"huge": func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			chunk := bytes.Repeat([]byte("a"), 1<<20)
			for range 12 {
				if _, err := w.Write(chunk); err != nil {
					return
				}
			}
		},
		"resets": func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/__opsconform/health" {
				w.WriteHeader(404)
				return
			}
			conn, _, err := w.(http.Hijacker).Hijack()
			if err == nil {
				if tc, ok := conn.(*net.TCPConn); ok {
					_ = tc.SetLinger(0)
				}
				conn.Close()
			}
		},
	}
	for name, h := range targets {
		t.Run(name, func(t *testing.T) {
			hs := httptest.NewServer(h)
			defer hs.Close()
			start := time.Now()
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			run, err := Run(ctx, Config{Profile: profile(t, "ivanti-ism"), Target: hs.URL, Timeout: 2 * time.Second, Sleep: noSleep, Only: []string{"IVANTI-ISM-AUTH", "IVANTI-ISM-ENV", "IVANTI-ISM-PAGE-006"}})
			if name == "hangs" {
				if !errors.Is(err, ErrUnreachable) {
					t.Fatalf("a target that never answers: %v, want ErrUnreachable", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(run.Results) == 0 {
				t.Fatal("no results")
			}
			for _, r := range run.Results {
				// A 2xx is all AUTH-005 asks of a valid key; the body is the envelope and schema checks' business.
				if r.Status == reports.Pass && !(r.ID == "IVANTI-ISM-AUTH-005" && name != "resets") {
					t.Errorf("%s passed against a %s server", r.ID, name)
				}
			}
			var junit bytes.Buffer
			if err := reports.WriteJUnit(&junit, run); err != nil || bytes.ContainsAny(junit.Bytes(), "\x1b\x00") {
				t.Errorf("the JUnit report of a %s server: %v", name, err)
			}
			if d := time.Since(start); d > 30*time.Second {
				t.Errorf("took %s", d)
			}
		})
	}
}

func TestUnreachableTarget(t *testing.T) {
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := ln.Addr().String()
	ln.Close()
	_, err := Run(context.Background(), Config{Profile: profile(t, "opsmerge"), Target: "http://" + addr, Timeout: time.Second})
	if !errors.Is(err, ErrUnreachable) {
		t.Errorf("err = %v, want ErrUnreachable", err)
	}
	if _, err := Run(context.Background(), Config{Profile: profile(t, "opsmerge"), Target: "ftp://x"}); err == nil || !strings.Contains(err.Error(), "want a base URL") {
		t.Errorf("bad target: %v", err)
	}
}
