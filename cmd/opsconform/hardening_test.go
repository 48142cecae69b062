package main

import (
	"context"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"
)

// serveMock runs `opsconform mock` in-process on a loopback port and waits
// for its banner. stop cancels it, as Ctrl-C does, and returns the exit code.
func serveMock(t *testing.T, environ map[string]string, args ...string) (base string, out *lockedBuffer, stop func() int) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	out = &lockedBuffer{}
	var errOut lockedBuffer
	done := make(chan int, 1)
	lookup := func(k string) (string, bool) { v, ok := environ[k]; return v, ok }
	go func() {
		done <- run(ctx, append([]string{"mock", "--addr", "127.0.0.1:0", "--quiet"}, args...), lookup, out, &errOut)
	}()
	listening := regexp.MustCompile(`listening on (http://\S+)`)
	deadline := time.Now().Add(20 * time.Second)
	for {
		if m := listening.FindStringSubmatch(out.String()); m != nil && strings.Contains(out.String(), "control API") {
			base = m[1]
			break
		}
		select {
		case code := <-done:
			t.Fatalf("mock exited %d before listening: %s %s", code, out.String(), errOut.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("no banner after 20 s: %q %q", out.String(), errOut.String())
		}
		time.Sleep(5 * time.Millisecond) // waiting for the listener, not for time to pass
	}
	stopped := false
	var code int
	stop = func() int {
		if !stopped {
			stopped = true
			cancel()
			code = <-done
		}
		return code
	}
	t.Cleanup(func() { stop() })
	return base, out, stop
}

func call(t *testing.T, method, url string, header http.Header) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

func TestControlTokenDecision(t *testing.T) {
	tests := []struct {
		given, addr   string
		wantGenerated bool
		wantOpen      bool
		wantErr       string
	}{
		{addr: "127.0.0.1:8060", wantOpen: true},
		{addr: "[::1]:8060", wantOpen: true},
		{addr: "localhost:0", wantOpen: true},
		{addr: "127.9.9.9:1", wantOpen: true},
		{addr: "0.0.0.0:8060", wantGenerated: true},
		{addr: "[::]:8060", wantGenerated: true},
		{addr: ":8060", wantGenerated: true},
		{addr: "192.0.2.10:8060", wantGenerated: true},
		{given: "a-token-of-twenty-chars", addr: "0.0.0.0:8060"},
		{given: "a-token-of-twenty-chars", addr: "127.0.0.1:8060"},
		{given: "short", addr: "127.0.0.1:8060", wantErr: "--control-token: 5 characters is too short"},
		{given: "a token with spaces in it", addr: "0.0.0.0:1", wantErr: "printable ASCII without spaces"},
	}
	for _, tt := range tests {
		token, generated, err := controlToken(tt.given, tt.addr)
		switch {
		case tt.wantErr != "":
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("controlToken(%q, %q): err %v, want %q", tt.given, tt.addr, err, tt.wantErr)
			}
		case err != nil:
			t.Errorf("controlToken(%q, %q): %v", tt.given, tt.addr, err)
		case tt.wantOpen && token != "":
			t.Errorf("controlToken(%q, %q) = %q, want none: loopback stays open", tt.given, tt.addr, token)
		case tt.given != "" && token != tt.given:
			t.Errorf("controlToken(%q, %q) = %q, want the given one", tt.given, tt.addr, token)
		case generated != tt.wantGenerated || tt.wantGenerated && len(token) < minControlToken:
			t.Errorf("controlToken(%q, %q) = %q, generated %v; want generated %v", tt.given, tt.addr, token, generated, tt.wantGenerated)
		}
	}
	a, _, _ := controlToken("", "0.0.0.0:1")
	b, _, _ := controlToken("", "0.0.0.0:1")
	if a == b {
		t.Errorf("two generated tokens are equal: %q", a)
	}
}

// TestMockControlTokenFromEnv: OPSCONFORM_CONTROL_TOKEN guards the control
// API even on loopback, the banner says so without printing it, and health stays open.
func TestMockControlTokenFromEnv(t *testing.T) {
	const token = "env-control-token-0123456789"
	base, out, _ := serveMock(t, map[string]string{"OPSCONFORM_CONTROL_TOKEN": token})
	if !strings.Contains(out.String(), "needs Authorization: Bearer <--control-token>") || strings.Contains(out.String(), token) {
		t.Errorf("the banner should say a token is needed without printing it:\n%s", out.String())
	}
	if st, body := call(t, "POST", base+"/__opsconform/reset", nil); st != 401 {
		t.Errorf("reset without the token: %d %s", st, body)
	}
	if st, body := call(t, "POST", base+"/__opsconform/reset", http.Header{"Authorization": {"Bearer " + token}}); st != 200 {
		t.Errorf("reset with the token: %d %s", st, body)
	}
	if st, _ := call(t, "GET", base+"/__opsconform/health", nil); st != 200 {
		t.Errorf("health: %d", st)
	}
}
