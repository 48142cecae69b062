package main

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/opsconform/opsconform/internal/hostile"
	"github.com/opsconform/opsconform/mock"
	"github.com/opsconform/opsconform/specs"
)

// TestCheckExitCodes: what `opsconform check` exits with, as a process.
// 0 only when the run completed and every selected MUST passed; 1 for
// nonconformance; 2 for usage, configuration or an unreachable target.
// Every run that got as far as opening its reports leaves a valid JUnit file.
func TestCheckExitCodes(t *testing.T) {
	url := startMock(t)
	admitsAll := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{}`))
	}))
	defer admitsAll.Close()
	dir := t.TempDir()
	noRoleBounded := filepath.Join(dir, "creds.yaml")
	if err := os.WriteFile(noRoleBounded, []byte("profiles:\n  opsmerge:\n    keys:\n      full: {secret: om_KGpOyQNcdOyZbkBFTFoOxtzHq8STZHE6svi34zWH}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		args   []string
		code   int
		ran    int    // requirements in the report, the run's own error included
		stderr string // in the one line on stderr
	}{
		{"conforms", []string{"--target", url, "--only", "AUTH-001,AUTH-005"}, 0, 2, ""},
		{"an ID in lower case", []string{"--target", url, "--only", "opsmerge-auth-001"}, 0, 1, ""},
		{"a glob", []string{"--target", url, "--only", "*-AUTH-001"}, 0, 1, ""},
		{"spaces after commas", []string{"--target", url, "--only", "AUTH-001, AUTH-002"}, 0, 2, ""},
		{"does not conform", []string{"--target", admitsAll.URL, "--only", "AUTH-001"}, 1, 1, "does not conform: 1 MUST requirement(s) failed"},
		{"an unknown ID", []string{"--target", url, "--only", "NOPE-123"}, 2, 1, `--only "NOPE-123" selects no requirement of opsmerge`},
		{"a second pattern unknown", []string{"--target", url, "--only", "AUTH-001, B"}, 2, 1, `--only "B" selects no requirement`},
		{"another profile's ID", []string{"--target", url, "--only", "opmanager-auth-001"}, 2, 1, "did you mean OPSMERGE-AUTH-001?"},
		{"an unknown skip", []string{"--target", url, "--skip", "AUTH-999"}, 2, 1, `--skip "AUTH-999" selects no requirement`},
		{"unreachable", []string{"--target", "http://" + freeAddr(t)}, 2, 1, "the target is unreachable"},
		{"skips pass without --fail-on-skip", []string{"--target", url, "--only", "AUTH-007", "--credentials", noRoleBounded}, 0, 1, ""},
		{"skips fail with --fail-on-skip", []string{"--target", url, "--only", "AUTH-007", "--credentials", noRoleBounded, "--fail-on-skip"}, 1, 1,
			"does not conform: 1 MUST requirement(s) failed"},
		{"a bad flag value", []string{"--target", url, "--timeout", "0s"}, 2, 1, "--timeout must be positive"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			junit := filepath.Join(dir, fmt.Sprintf("%d.xml", i))
			p := start(t, dir, nil, append([]string{"check", "--profile", "opsmerge", "--junit", junit, "--max-wait", "0s"}, tt.args...)...)
			code := p.wait()
			if code != tt.code {
				t.Errorf("exit %d, want %d\n%s\n%s", code, tt.code, p.stdout.String(), p.stderr.String())
			}
			if stderr := p.stderr.String(); tt.stderr != "" && (!strings.Contains(stderr, tt.stderr) || strings.Count(stderr, "\n") != 1) {
				t.Errorf("stderr %q, want one line with %q", stderr, tt.stderr)
			}
			doc := readJUnit(t, junit)
			if doc.Tests != tt.ran {
				t.Errorf("the report has %d testcases, want %d", doc.Tests, tt.ran)
			}
			if tt.code == 2 && doc.Errors != 1 {
				t.Errorf("a run that could not happen reports %d errors, want its reason as one", doc.Errors)
			}
		})
	}
}

// TestCheckInterruptedExits130: SIGINT during a run (here while RATE-004
// waits out a real minute's Retry-After) ends it at once with exit 130
// (SIGTERM: 143); the running check is an error, not a skip, and every
// report says the run was interrupted and gives no verdict.
func TestCheckInterruptedExits130(t *testing.T) {
	url := startMock(t) // no --time-scale: Retry-After is up to a minute
	for _, tt := range []struct {
		sig  os.Signal
		name string
		code int
	}{{os.Interrupt, "SIGINT", 130}, {syscall.SIGTERM, "SIGTERM", 143}} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			// Each run gets its own keys, so the second burst is limited as the first was.
			p := start(t, dir, nil, "check", "--target", url, "--profile", "opsmerge", "--only", "RATE",
				"--junit", "r.xml", "--summary", "r.md", "--html", "r.html")
			p.waitFor(t, "OPSMERGE-RATE-004: waiting", 30*time.Second)
			sent := time.Now()
			if err := p.cmd.Process.Signal(tt.sig); err != nil {
				t.Fatal(err)
			}
			code := p.wait()
			if code != tt.code {
				t.Errorf("exit %d, want %d\n%s\n%s", code, tt.code, p.stdout.String(), p.stderr.String())
			}
			if d := time.Since(sent); d > 5*time.Second {
				t.Errorf("took %s to stop after %s", d, tt.name)
			}
			interrupted := "interrupted by " + tt.name
			if !strings.Contains(p.stderr.String(), interrupted) {
				t.Errorf("stderr: %q", p.stderr.String())
			}
			doc := readJUnit(t, filepath.Join(dir, "r.xml"))
			if st, msg, _ := doc.caseNamed("OPSMERGE-RATE-004"); st != "error" || !strings.Contains(msg, interrupted+" while this check ran") {
				t.Errorf("RATE-004 is %s %q, want an error", st, msg)
			}
			if st, msg, _ := doc.caseNamed("OPSMERGE-RUN"); st != "error" || !strings.Contains(msg, interrupted+" during OPSMERGE-RATE-004") {
				t.Errorf("the run's own testcase is %s %q", st, msg)
			}
			for _, f := range []string{"r.md", "r.html"} {
				data, _ := os.ReadFile(filepath.Join(dir, f))
				if !strings.Contains(string(data), "no verdict: "+interrupted) || strings.Contains(string(data), "conforms: every MUST") {
					t.Errorf("%s does not say the run was interrupted:\n%.600s", f, data)
				}
			}
			if !strings.Contains(p.stdout.String(), "no verdict: "+interrupted) {
				t.Errorf("stdout:\n%s", p.stdout.String())
			}
		})
	}
}

// TestREADMECIRecipe runs README's CI recipe as written: the mock started
// in the background and check started at once, so --wait must carry it
// over the mock's start-up. Only the address is changed, to a free one.
func TestREADMECIRecipe(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("(?s)<!-- ci-recipe -->\n```sh\n(.*?)```").FindSubmatch(readme)
	if m == nil {
		t.Fatal("README has no ```sh block after <!-- ci-recipe -->")
	}
	recipe := string(m[1])
	if !strings.Contains(recipe, "opsconform mock --time-scale 30 &") || !strings.Contains(recipe, "--wait") {
		t.Fatalf("the recipe is not the one this test is about:\n%s", recipe)
	}
	addr := freeAddr(t)
	recipe = strings.ReplaceAll(recipe, "127.0.0.1:8060", addr)
	dir := t.TempDir()
	cmd := exec.Command("sh", "-e", "-c", recipe)
	cmd.Dir = dir
	cmd.Env = append(cleanEnv(), "PATH="+filepath.Dir(binary(t))+string(os.PathListSeparator)+os.Getenv("PATH"), envPrefix+"ADDR="+addr, envPrefix+"QUIET=true")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // the background mock is in the group, and stopped with it
	// A file, not a pipe: Wait must not wait for a mock the recipe failed to stop.
	log, err := os.Create(filepath.Join(dir, "recipe.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer log.Close()
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }()
	err = cmd.Wait()
	out, _ := os.ReadFile(log.Name())
	if err != nil {
		t.Fatalf("the recipe failed: %v\n%s", err, out)
	}
	if strings.Contains(string(out), "connection refused") {
		t.Errorf("the recipe raced the mock:\n%s", out)
	}
	if !strings.Contains(string(out), "waiting up to 30s") || !strings.Contains(string(out), "conforms: every MUST passed") {
		t.Errorf("the recipe's output:\n%s", out)
	}
	// The recipe stops the mock it started (its trap sends SIGTERM; the
	// mock closes its listener as it shuts down).
	for deadline := time.Now().Add(10 * time.Second); ; {
		conn, err := net.DialTimeout("tcp", addr, time.Second)
		if err != nil {
			break
		}
		conn.Close()
		if time.Now().After(deadline) {
			t.Errorf("the mock still listens on %s 10 s after the recipe", addr)
			break
		}
		time.Sleep(50 * time.Millisecond) // waiting for the mock to exit, not for time to pass
	}
	for _, f := range []string{"opsmerge.xml", "opsmerge.md", "opsmerge.html"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("the recipe left no %s: %v", f, err)
		}
	}
	readJUnit(t, filepath.Join(dir, "opsmerge.xml"))
}

// TestConcurrentRunsDoNotInterfere: two runs of the whole suite against
// one mock both pass (each spends and mutates keys of its own), and the
// mock's keys and users are as they were afterwards.
func TestConcurrentRunsDoNotInterfere(t *testing.T) {
	url := startMock(t, "--time-scale", "20")
	list := func(what string) string {
		resp, err := http.Get(url + "/__opsconform/profiles/opsmerge/" + what)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		data, _ := io.ReadAll(resp.Body)
		var items []struct{ ID string }
		_ = json.Unmarshal(data, &items)
		var ids []string
		for _, it := range items {
			ids = append(ids, it.ID)
		}
		return strings.Join(ids, ",")
	}
	keys, users := list("keys"), list("users")
	dir := t.TempDir()
	var wg sync.WaitGroup
	procs := make([]*proc, 2)
	for i := range procs {
		procs[i] = start(t, dir, nil, "check", "--target", url, "--profile", "opsmerge", "--max-wait", "10s")
	}
	for i, p := range procs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if code := p.wait(); code != 0 {
				t.Errorf("run %d: exit %d\n%s", i, code, p.stdout.String())
			}
		}()
	}
	wg.Wait()
	if got := list("keys"); got != keys {
		t.Errorf("keys after the runs:\n%s\nwant\n%s", got, keys)
	}
	if got := list("users"); got != users {
		t.Errorf("users after the runs:\n%s\nwant\n%s", got, users)
	}
}

// TestCheckOverAProxy: check takes HTTPS_PROXY from the environment and
// tunnels through it, trusting a private CA given with --ca-cert.
func TestCheckOverAProxy(t *testing.T) {
	ca := newTestCA(t)
	url := startMock(t, "--tls-cert", ca.certFile, "--tls-key", ca.keyFile)
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(url, "https://"))
	var mu sync.Mutex
	var tunnels []string
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodConnect {
			http.Error(w, "CONNECT only", http.StatusMethodNotAllowed)
			return
		}
		mu.Lock()
		tunnels = append(tunnels, r.Host)
		mu.Unlock()
		_, p, _ := net.SplitHostPort(r.Host)
		upstream, err := net.Dial("tcp", net.JoinHostPort("127.0.0.1", p)) // opsconform.test is this machine
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		conn, _, err := w.(http.Hijacker).Hijack()
		if err != nil {
			upstream.Close()
			return
		}
		_, _ = conn.Write([]byte("HTTP/1.1 200 Connection established\r\n\r\n"))
		go func() { _, _ = io.Copy(upstream, conn); upstream.Close() }()
		_, _ = io.Copy(conn, upstream)
		conn.Close()
	}))
	defer proxy.Close()
	target := "https://opsconform.test:" + port
	p := start(t, t.TempDir(), []string{"HTTPS_PROXY=" + proxy.URL}, "check", "--target", target, "--profile", "opsmerge",
		"--ca-cert", ca.caFile, "--only", "AUTH-001,AUTH-005")
	if code := p.wait(); code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, p.stdout.String(), p.stderr.String())
	}
	mu.Lock()
	defer mu.Unlock()
	if len(tunnels) == 0 || tunnels[0] != "opsconform.test:"+port {
		t.Errorf("the proxy tunnelled %q", tunnels)
	}
}

// TestHostileServersProcess: against every kind of hostile server (one
// that passes the preflight and then misbehaves), the check process fails
// every check that meets the misbehaviour with the reason, passes none,
// exits 1 or 2, finishes in under 45 s and stays under 256 MiB. The runs
// that would spend a timeout on every request meet their --run-timeout.
func TestHostileServersProcess(t *testing.T) {
	ps, err := specs.LoadEmbedded()
	if err != nil {
		t.Fatal(err)
	}
	srv, err := mock.New(mock.Options{Profiles: ps, Seed: 1, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	reasons := map[hostile.Kind]string{
		hostile.Hang: "no complete answer within --timeout 1s", hostile.Garbage: "malformed HTTP", hostile.Huge: "declares a 104857600-byte body",
		hostile.Reset: "connection reset", hostile.Trickle: "no complete answer within --timeout 1s", hostile.LyingLength: "unexpected EOF",
		hostile.EndlessChunked: "exceeds 8 MiB", hostile.RedirectLoop: "302", hostile.HugeHeaders: "headers exceeded 1048576 bytes",
	}
	t.Cleanup(func() { close(stop) })
	for _, kind := range hostile.Kinds {
		t.Run(string(kind), func(t *testing.T) {
			t.Parallel()
			hs := httptest.NewServer(hostile.AfterSetUp(srv, hostile.Handler(kind, stop)))
			t.Cleanup(hs.Close)
			dir := t.TempDir()
			binary(t) // built before the clock starts
			started := time.Now()
			p := start(t, dir, nil, "check", "--target", hs.URL, "--profile", "opsmerge", "--only", "AUTH,ENV,PAGE,RATE",
				"--timeout", "1s", "--run-timeout", "6s", "--max-wait", "0s", "--junit", "r.xml")
			code := p.wait()
			took := time.Since(started)
			if code != 1 && code != 2 {
				t.Errorf("exit %d, want 1 or 2\n%s", code, p.stderr.String())
			}
			if took > 45*time.Second {
				t.Errorf("took %s", took)
			}
			if peak := p.peakMemory(); peak > 256<<20 || peak == 0 {
				t.Errorf("peak memory %d MiB, want under 256", peak>>20)
			}
			doc := readJUnit(t, filepath.Join(dir, "r.xml"))
			withReason := 0
			for _, s := range doc.Suites {
				for _, c := range s.Cases {
					if c.Failure == nil && c.Error == nil && c.Skipped == nil {
						t.Errorf("%s passed against a %s server", c.Name, kind)
					}
					for _, r := range []*junitResult{c.Failure, c.Error} {
						if r != nil && strings.Contains(r.Message+r.Data, reasons[kind]) {
							withReason++
						}
					}
				}
			}
			want := 5
			if kind == hostile.Hang || kind == hostile.Trickle {
				// A second per request: the run meets its bound after a few.
				want = 3
				if st, msg, _ := doc.caseNamed("OPSMERGE-RUN"); st != "error" || !strings.Contains(msg, "time bound (--run-timeout 6s)") {
					t.Errorf("the run's testcase is %s %q, want the bound", st, msg)
				}
			}
			if withReason < want {
				t.Errorf("%d testcases give the reason %q, want at least %d:\n%s", withReason, reasons[kind], want, p.stdout.String())
			}
			t.Logf("%s: exit %d in %s, peak %d MiB, %d testcases with the reason", kind, code, took.Round(time.Millisecond), p.peakMemory()>>20, withReason)
		})
	}
}
