package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"net"
	"os"
	"os/exec"
	"regexp"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/opsconform/opsconform/mock"
)

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}
func (l *lockedBuffer) String() string { l.mu.Lock(); defer l.mu.Unlock(); return l.b.String() }

// TestBannerCurlCommandsWork starts the mock as `opsconform mock` does and
// runs every curl command its banner prints, exactly as a newcomer would:
// on loopback, on every interface (whose banner must print a URL that
// works), and over TLS with a self-signed certificate.
func TestBannerCurlCommandsWork(t *testing.T) {
	if _, err := exec.LookPath("curl"); err != nil {
		t.Skip("curl is not installed; .ci/run installs it")
	}
	tests := []struct {
		args []string
		url  string // what the banner's URL must look like
	}{
		{[]string{"--addr", "127.0.0.1:0"}, `http://127\.0\.0\.1:\d+`},
		{[]string{"--addr", "0.0.0.0:0"}, `http://127\.0\.0\.1:\d+`},
		{[]string{"--addr", ":0"}, `http://127\.0\.0\.1:\d+`},
		{[]string{"--addr", "localhost:0"}, `http://127\.0\.0\.1:\d+`},
		{[]string{"--addr", "127.0.0.1:0", "--tls"}, `https://127\.0\.0\.1:\d+`},
	}
	if ln, err := net.Listen("tcp", "[::1]:0"); err == nil {
		ln.Close()
		tests = append(tests, struct {
			args []string
			url  string
		}{[]string{"--addr", "[::1]:0"}, `http://\[::1\]:\d+`})
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			var out, errOut lockedBuffer
			done := make(chan int, 1)
			go func() {
				done <- run(ctx, append([]string{"mock"}, tt.args...), func(string) (string, bool) { return "", false }, &out, &errOut)
			}()
			defer func() {
				cancel()
				if code := <-done; code != 0 {
					t.Errorf("mock exited %d: %s", code, errOut.String())
				}
			}()
			deadline := time.Now().Add(10 * time.Second)
			for !strings.Contains(out.String(), "Try it") {
				if time.Now().After(deadline) {
					t.Fatalf("no banner after 10 s: %q %q", out.String(), errOut.String())
				}
				time.Sleep(10 * time.Millisecond) // waiting for the listener, not for time to pass
			}
			time.Sleep(50 * time.Millisecond)
			if !regexp.MustCompile(`listening on ` + tt.url + "\n").MatchString(out.String()) {
				t.Errorf("the banner's URL is not %s:\n%s", tt.url, out.String())
			}
			if slices.Contains(tt.args, "--tls") && !regexp.MustCompile(`SHA-256 fingerprint ([0-9A-F]{2}:){31}[0-9A-F]{2}`).MatchString(out.String()) {
				t.Errorf("no fingerprint:\n%s", out.String())
			}
			curls := regexp.MustCompile(`(?m)^  (curl .*)$`).FindAllStringSubmatch(out.String(), -1)
			if len(curls) != 4 {
				t.Fatalf("want a curl command per profile, got %d:\n%s", len(curls), out.String())
			}
			for _, c := range curls {
				cctx, ccancel := context.WithTimeout(context.Background(), 20*time.Second)
				got, err := exec.CommandContext(cctx, "sh", "-c", c[1]+" --fail-with-body").CombinedOutput()
				ccancel()
				if err != nil {
					t.Errorf("%s\n%v: %s", c[1], err, got)
					continue
				}
				if !json.Valid(got) {
					t.Errorf("%s: not JSON: %s", c[1], got)
				}
			}
			if !strings.Contains(errOut.String(), "status=200") {
				t.Errorf("the request log shows no successful request:\n%s", errOut.String())
			}
		})
	}
}

// TestMockTLSFingerprint: the fingerprint the banner prints is the one of
// the certificate the mock serves.
func TestMockTLSFingerprint(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var out, errOut lockedBuffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"mock", "--addr", "127.0.0.1:0", "--tls", "--quiet"}, noEnv, &out, &errOut)
	}()
	defer func() { cancel(); <-done }()
	re := regexp.MustCompile(`listening on https://(\S+)\n(?s:.*)SHA-256 fingerprint (\S+)`)
	deadline := time.Now().Add(10 * time.Second)
	var m []string
	for m = re.FindStringSubmatch(out.String()); m == nil; m = re.FindStringSubmatch(out.String()) {
		if time.Now().After(deadline) {
			t.Fatalf("no banner: %q %q", out.String(), errOut.String())
		}
		time.Sleep(10 * time.Millisecond) // waiting for the listener, not for time to pass
	}
	conn, err := tls.Dial("tcp", m[1], &tls.Config{InsecureSkipVerify: true})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	leaf := conn.ConnectionState().PeerCertificates[0]
	if got := mock.Fingerprint(leaf.Raw); got != m[2] {
		t.Errorf("served %s, banner says %s", got, m[2])
	}
	if err := leaf.VerifyHostname("127.0.0.1"); err != nil {
		t.Errorf("the certificate does not name 127.0.0.1: %v", err)
	}
}

// TestGCPhases: GOGC is startGCPercent while any mock starts, then
// servingGCPercent while any serves, and what the mocks found once the
// last is done, whatever the order and however often each says so.
func TestGCPhases(t *testing.T) {
	if _, set := os.LookupEnv("GOGC"); set {
		t.Skip("GOGC is set in the environment: the mock leaves it alone")
	}
	before := debug.SetGCPercent(137)
	defer debug.SetGCPercent(before)
	gogc := func() int { v := debug.SetGCPercent(-1); debug.SetGCPercent(v); return v }
	a, b := startGCPhase(), startGCPhase()
	if got := gogc(); got != startGCPercent {
		t.Fatalf("GOGC while two start = %d, want %d", got, startGCPercent)
	}
	a.serving()
	a.serving()
	if got := gogc(); got != startGCPercent {
		t.Fatalf("GOGC while one serves and one starts = %d, want %d", got, startGCPercent)
	}
	b.serving()
	if got := gogc(); got != servingGCPercent {
		t.Fatalf("GOGC while both serve = %d, want %d", got, servingGCPercent)
	}
	a.done()
	a.done()
	if got := gogc(); got != servingGCPercent {
		t.Fatalf("GOGC while one still serves = %d, want %d", got, servingGCPercent)
	}
	b.done()
	if got := gogc(); got != 137 {
		t.Fatalf("GOGC after both = %d, want the 137 they found", got)
	}
	c := startGCPhase()
	c.done() // an early return: never served
	if got := gogc(); got != 137 {
		t.Fatalf("GOGC after a start that failed = %d, want 137", got)
	}
}
