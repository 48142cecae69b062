package main

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/opsconform/opsconform/fixtures"
)

// startMock runs `opsconform mock` in-process on a free port and returns its URL.
func startMock(t *testing.T, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var out, errOut lockedBuffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, append([]string{"mock", "--addr", "127.0.0.1:0", "--quiet"}, args...), noEnv, &out, &errOut)
	}()
	t.Cleanup(func() { cancel(); <-done })
	deadline := time.Now().Add(10 * time.Second)
	re := regexp.MustCompile(`listening on (http://\S+)`)
	for {
		if m := re.FindStringSubmatch(out.String()); m != nil {
			return m[1]
		}
		if time.Now().After(deadline) {
			t.Fatalf("the mock did not start: %q %q", out.String(), errOut.String())
		}
		time.Sleep(10 * time.Millisecond) // waiting for the listener, not for time to pass
	}
}

func noEnv(string) (string, bool) { return "", false }

// fixtureSecrets lists every secret in the embedded fixtures.
func fixtureSecrets(t *testing.T) []string {
	var out []string
	for _, p := range []string{"opmanager", "opsmerge", "mongodb-opsmanager", "ivanti-ism"} {
		set, err := fixtures.Load(fixtures.Embedded(), p)
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range set.Keys {
			for _, s := range []string{k.Secret, k.PrivateKey} {
				if s != "" {
					out = append(out, s)
				}
			}
		}
	}
	return out
}

func assertNoSecrets(t *testing.T, what, text string) {
	t.Helper()
	for _, s := range fixtureSecrets(t) {
		if strings.Contains(text, s) {
			t.Errorf("%s contains the secret …%s", what, s[len(s)-4:])
		}
	}
}

// TestCheckEveryProfileAgainstTheMock is the end-to-end run a user makes:
// the real mock on a real clock, with minute windows scaled to ten seconds
// so a burst always fits in one, and the profiles checked side by side.
func TestCheckEveryProfileAgainstTheMock(t *testing.T) {
	url := startMock(t, "--time-scale", "6")
	dir := t.TempDir()
	for _, p := range []string{"opmanager", "opsmerge", "mongodb-opsmanager", "ivanti-ism"} {
		t.Run(p, func(t *testing.T) {
			t.Parallel()
			junit, summary := filepath.Join(dir, p+".xml"), filepath.Join(dir, p+".md")
			code, stdout, stderr := runCLI(t, nil, "check", "--target", url, "--profile", p, "--junit", junit, "--summary", summary, "--max-wait", "15s")
			if code != 0 {
				md, _ := os.ReadFile(summary)
				t.Fatalf("exit %d\n%s\n%s\n%s", code, stdout, stderr, md)
			}
			if !regexp.MustCompile(`(?m)^\d+ passed, 0 failed, 0 errored, 0 skipped of \d+ requirements`).MatchString(stdout) {
				t.Errorf("no clean tally:\n%s", stdout)
			}
			xml, _ := os.ReadFile(junit)
			md, _ := os.ReadFile(summary)
			if !strings.Contains(string(md), "conforms: every MUST passed") {
				t.Errorf("summary:\n%s", md)
			}
			assertNoSecrets(t, "the JUnit report", string(xml))
			assertNoSecrets(t, "the summary", string(md))
			assertNoSecrets(t, "the progress output", stdout+stderr)
			validateJUnit(t, junit)
		})
	}
}

// validateJUnit checks a report against the schema CI systems read.
func validateJUnit(t *testing.T, file string) {
	t.Helper()
	xsd := filepath.Join("..", "..", "..", "shared", "junit.xsd")
	if _, err := os.Stat(xsd); err != nil {
		t.Logf("no %s beside the checkout; schema validation skipped", xsd)
		return
	}
	xmllint, err := exec.LookPath("xmllint")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("xmllint is missing; .ci/run installs libxml2-utils")
		}
		t.Log("xmllint is not installed; schema validation skipped")
		return
	}
	if out, err := exec.Command(xmllint, "--noout", "--schema", xsd, file).CombinedOutput(); err != nil {
		t.Errorf("xmllint: %v\n%s", err, out)
	}
}

// TestCheckFailuresAreRedacted: against a server that admits anything, the
// failures carry their exchanges, and still no secret.
func TestCheckFailuresAreRedacted(t *testing.T) {
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"echo":"` + r.URL.RawQuery + `"}`))
	}))
	defer hs.Close()
	dir := t.TempDir()
	for _, p := range []string{"opmanager", "opsmerge", "mongodb-opsmanager", "ivanti-ism"} {
		junit, summary := filepath.Join(dir, p+".xml"), filepath.Join(dir, p+".md")
		code, stdout, stderr := runCLI(t, nil, "check", "--target", hs.URL, "--profile", p, "--junit", junit, "--summary", summary, "--timeout", "2s", "--max-wait", "0s")
		if code != 1 {
			t.Errorf("%s: exit %d, want 1 for a nonconforming server\n%s", p, code, stderr)
		}
		xml, _ := os.ReadFile(junit)
		md, _ := os.ReadFile(summary)
		if !strings.Contains(string(xml), "<failure") || !strings.Contains(string(xml), "REDACTED") {
			t.Errorf("%s: the JUnit report shows no redacted failing exchange", p)
		}
		assertNoSecrets(t, p+" JUnit", string(xml))
		assertNoSecrets(t, p+" summary", string(md))
		assertNoSecrets(t, p+" output", stdout+stderr)
		validateJUnit(t, junit)
	}
}

func TestCheckUsageErrors(t *testing.T) {
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	closed := "http://" + ln.Addr().String()
	ln.Close()
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"check", "--profile", "opsmerge"}, "--target is required"},
		{[]string{"check", "--target", closed}, "check one profile at a time"},
		{[]string{"check", "--target", closed, "--profile", "opsmerge"}, "unreachable"},
		{[]string{"check", "--target", "ftp://x", "--profile", "opsmerge"}, "want a base URL"},
		{[]string{"check", "--target", closed, "--profile", "opsmerge", "--credentials", "nowhere.yaml"}, "nowhere.yaml"},
		{[]string{"check", "--target", closed, "--profile", "opsmerge", "--junit", "/nonexistent/dir/x.xml"}, "cannot write /nonexistent/dir/x.xml"},
		{[]string{"check", "--target", closed, "--profile", "opsmerge", "--timeout", "0s"}, "--timeout must be positive"},
	}
	for _, tt := range tests {
		code, _, stderr := runCLI(t, nil, tt.args...)
		if code != 2 || !strings.Contains(stderr, tt.want) || strings.Count(stderr, "\n") != 1 {
			t.Errorf("%v: exit %d, stderr %q; want 2 and one line with %q", tt.args, code, stderr, tt.want)
		}
	}
}

func TestCheckList(t *testing.T) {
	code, stdout, _ := runCLI(t, nil, "check", "--list", "--profile", "mongodb-opsmanager")
	if code != 0 || !strings.Contains(stdout, "MONGODB-OPSMANAGER-AUTH-008") || !strings.Contains(stdout, "MMS Public API") {
		t.Errorf("exit %d:\n%s", code, stdout)
	}
}
