package main

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/opsconform/opsconform/fixtures"
	"github.com/opsconform/opsconform/internal/junitxsd"
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
	re := regexp.MustCompile(`listening on (https?://\S+)`)
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
			target := url
			if p == "ivanti-ism" {
				// The demo keys are bound to tenant 127.0.0.1; every loopback name is that tenant.
				target = strings.Replace(url, "127.0.0.1", "localhost", 1)
			}
			junit, summary := filepath.Join(dir, p+".xml"), filepath.Join(dir, p+".md")
			code, stdout, stderr := runCLI(t, nil, "check", "--target", target, "--profile", p, "--junit", junit, "--summary", summary, "--max-wait", "15s")
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
	junitxsd.Validate(t, file)
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
		{[]string{"check", "--target", closed, "--profile", "opsmerge", "--junit", "/nonexistent/dir/x.xml"}, "cannot write --junit /nonexistent/dir/x.xml"},
		{[]string{"check", "--target", closed, "--profile", "opsmerge", "--timeout", "0s"}, "--timeout must be positive"},
		{[]string{"check", "--target", closed, "--profile", "opsmerge", "--insecure", "--ca-cert", "ca.pem"}, "--insecure and --ca-cert exclude each other"},
		{[]string{"check", "--target", closed, "--profile", "opsmerge", "--ca-cert", "nowhere.pem"}, "--ca-cert: open nowhere.pem"},
		{[]string{"check", "--target", closed, "--profile", "opsmerge", "--ca-cert", "check_test.go"}, "--ca-cert check_test.go: no PEM certificate in it"},
		{[]string{"check", "--target", closed, "--profile", "opsmerge", "--only", "AUTH", "--skip", "auth"}, "leaves no requirement to run"},
	}
	for _, tt := range tests {
		code, _, stderr := runCLI(t, nil, tt.args...)
		if code != 2 || !strings.Contains(stderr, tt.want) || strings.Count(stderr, "\n") != 1 {
			t.Errorf("%v: exit %d, stderr %q; want 2 and one line with %q", tt.args, code, stderr, tt.want)
		}
	}
}

// TestCheckWritesReportsAfterAPanic: an internal error is caught, and every
// report is still written, valid, with the reason as an errored testcase.
func TestCheckWritesReportsAfterAPanic(t *testing.T) {
	dir := t.TempDir()
	junit, summary, page := filepath.Join(dir, "r.xml"), filepath.Join(dir, "r.md"), filepath.Join(dir, "r.html")
	var errOut bytes.Buffer
	code := run(context.Background(), []string{"check", "--target", "http://127.0.0.1:1", "--profile", "opsmerge",
		"--junit", junit, "--summary", summary, "--html", page}, noEnv, panicWriter{}, &errOut)
	if code != 2 || !strings.Contains(errOut.String(), "internal error (please report it): the progress writer broke") {
		t.Errorf("exit %d, stderr %q", code, errOut.String())
	}
	doc := readJUnit(t, junit)
	if st, msg, _ := doc.caseNamed("OPSMERGE-RUN"); st != "error" || !strings.Contains(msg, "internal error: the progress writer broke") {
		t.Errorf("the run's testcase is %s %q", st, msg)
	}
	for _, f := range []string{summary, page} {
		if data, _ := os.ReadFile(f); !strings.Contains(string(data), "incomplete: internal error: the progress writer broke") {
			t.Errorf("%s:\n%.500s", f, data)
		}
	}
	if matches, _ := filepath.Glob(filepath.Join(dir, ".*.tmp")); len(matches) > 0 {
		t.Errorf("temporary files left behind: %v", matches)
	}
}

type panicWriter struct{}

func (panicWriter) Write([]byte) (int, error) { panic("the progress writer broke") }

// TestCheckFailuresCanBeRepeated: a failure's progress lines show what was
// expected and received and a curl command, keys as ${VARIABLES}; with the
// variable set, the command sends the same request again.
func TestCheckFailuresCanBeRepeated(t *testing.T) {
	if _, err := exec.LookPath("curl"); err != nil {
		t.Skip("curl is not installed; .ci/run installs it")
	}
	var mu sync.Mutex
	var auths []string
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		auths = append(auths, r.Header.Get("Authorization"))
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{}`))
	}))
	defer hs.Close()
	code, stdout, _ := runCLI(t, nil, "check", "--target", hs.URL, "--profile", "opsmerge", "--only", "AUTH-006")
	if code != 1 {
		t.Fatalf("exit %d\n%s", code, stdout)
	}
	for _, want := range []string{"FAIL  OPSMERGE-AUTH-006", "expected: 403", "got:      200", `repeat:   curl -sS -i -H "Authorization: Bearer ${OPSMERGE_LIMITED_KEY}" ` + hs.URL + "/api/v1/tickets"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("the progress lacks %q:\n%s", want, stdout)
		}
	}
	assertNoSecrets(t, "the progress", stdout)
	curl := regexp.MustCompile(`repeat:   (curl .*)`).FindStringSubmatch(stdout)[1]
	cmd := exec.Command("sh", "-c", curl)
	creds, _ := fixtures.Load(fixtures.Embedded(), "opsmerge")
	var limited string
	for _, k := range creds.Keys {
		if slices.Contains(k.Labels, "limited") {
			limited = k.Secret
		}
	}
	cmd.Env = append(os.Environ(), "OPSMERGE_LIMITED_KEY="+limited)
	if out, err := cmd.CombinedOutput(); err != nil || !strings.Contains(string(out), "200 OK") {
		t.Fatalf("%s: %v\n%s", curl, err, out)
	}
	mu.Lock()
	defer mu.Unlock()
	if last := auths[len(auths)-1]; last != "Bearer "+limited {
		t.Errorf("the repeated request sent Authorization %q", last)
	}
}

// TestCheckTLS: check trusts the system's roots, a private CA with
// --ca-cert, or anything with --insecure; without trust it stops with
// exit 2 and says which flag to use. The mock serves HTTPS with --tls.
func TestCheckTLS(t *testing.T) {
	ca := newTestCA(t)
	selfSigned := startMock(t, "--tls")
	private := startMock(t, "--tls-cert", ca.certFile, "--tls-key", ca.keyFile)
	tests := []struct {
		target string
		args   []string
		code   int
		stderr string
	}{
		{selfSigned, nil, 2, "--ca-cert FILE, or --insecure"},
		{selfSigned, []string{"--insecure"}, 0, ""},
		{private, []string{"--ca-cert", ca.caFile}, 0, ""},
		{strings.Replace(private, "127.0.0.1", "localhost", 1), []string{"--ca-cert", ca.caFile}, 0, ""},
		{private, nil, 2, "certificate signed by unknown authority"},
		{strings.Replace(private, "https:", "http:", 1), nil, 2, "The target speaks TLS: use --target https://"},
	}
	for _, tt := range tests {
		args := append([]string{"check", "--target", tt.target, "--profile", "opsmerge", "--only", "AUTH-001,AUTH-005,LIFE-001"}, tt.args...)
		code, stdout, stderr := runCLI(t, nil, args...)
		if code != tt.code || !strings.Contains(stderr, tt.stderr) {
			t.Errorf("%v: exit %d, stderr %q; want %d and %q\n%s", tt.args, code, stderr, tt.code, tt.stderr, stdout)
		}
	}
}

func TestCheckList(t *testing.T) {
	code, stdout, _ := runCLI(t, nil, "check", "--list", "--profile", "mongodb-opsmanager")
	if code != 0 || !strings.Contains(stdout, "MONGODB-OPSMANAGER-AUTH-008") || !strings.Contains(stdout, "MMS Public API") {
		t.Errorf("exit %d:\n%s", code, stdout)
	}
}
