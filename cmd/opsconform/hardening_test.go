package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/opsconform/opsconform/fixtures"
	"github.com/opsconform/opsconform/mock"
)

func fixtureKeyLabelled(t *testing.T, profile, label string) fixtures.Key {
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
	t.Fatalf("%s has no key labelled %s", profile, label)
	return fixtures.Key{}
}

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

// TestMockRejectsMeaninglessFlags: every value that cannot mean anything
// exits 2 with one line naming the flag, before anything listens.
func TestMockRejectsMeaninglessFlags(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		args []string
		want string
	}{
		{"NaN time scale", nil, []string{"--time-scale", "NaN"}, "--time-scale NaN"},
		{"infinite time scale", nil, []string{"--time-scale", "+Inf"}, "--time-scale +Inf"},
		{"negative time scale", nil, []string{"--time-scale", "-2"}, "--time-scale -2"},
		{"zero time scale", nil, []string{"--time-scale", "0"}, "--time-scale 0"},
		{"huge time scale", nil, []string{"--time-scale", "1e9"}, "--time-scale 1e+09"},
		{"NaN time scale from the environment", map[string]string{"OPSCONFORM_TIME_SCALE": "NaN"}, nil, "--time-scale NaN"},
		{"empty address", nil, []string{"--addr", ""}, `--addr "": want HOST:PORT`},
		{"address without a port", nil, []string{"--addr", "127.0.0.1"}, `--addr "127.0.0.1": want HOST:PORT`},
		{"short control token", nil, []string{"--control-token", "abc"}, "--control-token: 3 characters is too short"},
		{"fixtures that are a file", nil, []string{"--fixtures", "hardening_test.go"}, "--fixtures hardening_test.go: not a directory"},
		{"unknown fault field", nil, []string{"--fault", "kind=status,stat=500"}, `unknown field "stat"`},
		{"fault probability NaN", nil, []string{"--fault", "kind=status,status=500,probability=NaN"}, "probability NaN"},
		{"unknown deviation", nil, []string{"--deviate", "no-such-thing"}, `deviation "no-such-thing" is not known`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, stderr := runCLI(t, tt.env, append([]string{"mock", "--addr", "127.0.0.1:0"}, tt.args...)...)
			if code != 2 || !strings.Contains(stderr, tt.want) || strings.Count(stderr, "\n") != 1 {
				t.Errorf("exit %d, stderr %q; want 2 and one line with %q", code, stderr, tt.want)
			}
		})
	}
}

// TestMockPartialFixturesDir: a --fixtures directory with one profile's
// file serves it for that profile, the embedded fixtures for the others,
// and the banner says which is which.
func TestMockPartialFixturesDir(t *testing.T) {
	dir := t.TempDir()
	own := "users:\n  - {id: me, role: admin}\nkeys:\n  - {id: mine, owner: me, secret: om_my_own_key_0123456789, scopes: [\"agents:read\"]}\n"
	if err := os.WriteFile(filepath.Join(dir, "opsmerge.yaml"), []byte(own), 0o600); err != nil {
		t.Fatal(err)
	}
	base, out, _ := serveMock(t, nil, "--fixtures", dir)
	for _, want := range []string{"fixtures: " + filepath.Join(dir, "opsmerge.yaml"), "fixtures: embedded"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("the banner lacks %q:\n%s", want, out.String())
		}
	}
	if st, body := call(t, "GET", base+"/api/v1/agents", http.Header{"Authorization": {"Bearer om_my_own_key_0123456789"}}); st != 200 {
		t.Errorf("opsmerge with the directory's key: %d %s", st, body)
	}
	opm := fixtureKeyLabelled(t, "opmanager", "full")
	if st, body := call(t, "GET", base+"/api/json/v2/device/listDevices", http.Header{"Apikey": {opm.Secret}}); st != 200 {
		t.Errorf("opmanager with its embedded key, next to a directory without opmanager.yaml: %d %s", st, body)
	}
}

// TestMockHelpStatesTheLimits: --help quotes the limits the mock enforces.
func TestMockHelpStatesTheLimits(t *testing.T) {
	_, stdout, _ := runCLI(t, nil, "mock", "--help")
	for _, want := range []string{
		fmt.Sprintf("%d KiB of URI", mock.MaxURIBytes>>10),
		fmt.Sprintf("%d KiB of headers", mock.MaxHeaderBytes>>10),
		fmt.Sprintf("up to %d s", int(shutdownGrace.Seconds())),
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("mock --help lacks %q", want)
		}
	}
}
