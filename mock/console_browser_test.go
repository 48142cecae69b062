package mock

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// chromiumPath finds a headless-capable Chromium: $OPSCONFORM_CHROMIUM, or
// Debian's chromium (the package .ci/run installs) and its usual other names.
func chromiumPath() string {
	if p := os.Getenv("OPSCONFORM_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// browser starts headless Chromium for one test, with a fresh profile and
// nothing that reaches for the network on its own; the test skips, saying
// why, where Chromium is not installed.
func browser(t *testing.T) context.Context {
	t.Helper()
	path := chromiumPath()
	if path == "" && os.Getenv("CI") == "true" {
		t.Fatal("no Chromium on PATH in CI: .ci/run installs Debian's chromium for the web console's browser test")
	}
	if path == "" {
		t.Skip("no Chromium on PATH (Debian: apt-get install chromium; or set OPSCONFORM_CHROMIUM): the web console's browser test needs one")
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.NoSandbox, // root in a container: Chromium's sandbox needs namespaces it cannot have
		chromedp.DisableGPU,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1400, 1000),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("no-proxy-server", true),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(allocCtx)
	t.Cleanup(func() { cancelCtx(); cancelAlloc() })
	if err := chromedp.Do(ctx); err != nil { // starts the browser, for as long as ctx lives
		t.Fatalf("starting %s: %v", path, err)
	}
	// Every step after this one, together, has 90 s.
	ctx, cancelTimeout := context.WithTimeout(ctx, 90*time.Second)
	t.Cleanup(cancelTimeout)
	return ctx
}

// curl runs the real curl against the mock and returns the status it got.
func curl(t *testing.T, env []string, args ...string) string {
	t.Helper()
	if _, err := exec.LookPath("curl"); err != nil {
		t.Skip("no curl on PATH: the console's browser test makes its requests with curl")
	}
	cmd := exec.Command("curl", append([]string{"-s", "--noproxy", "*", "-m", "10"}, args...)...)
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("curl %s: %v", strings.Join(args, " "), err)
	}
	return string(out)
}

// TestConsoleInBrowser drives the web console in headless Chromium, as a
// developer would: the page opens with the control token in its URL's
// fragment, a request made with curl appears in the journal, revoking a key
// with the page's button makes the next request with it a 401 that the
// journal explains, and regenerating one shows how to pick the new secret
// up, never the secret. No secret and no token is ever in the page.
func TestConsoleInBrowser(t *testing.T) {
	ctx := browser(t)
	const token = "console-test-token-0123456789abcdef"
	clock := &fakeClock{t: time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)}
	srv, err := New(Options{Profiles: embeddedProfiles(t), Seed: 7, Now: clock.Now, ControlToken: token,
		Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv) // 127.0.0.1
	t.Cleanup(hs.Close)
	full, second := fixtureKey(t, "opsmerge", "full"), fixtureKey(t, "opsmerge", "second")
	secrets := []string{full.Secret, second.Secret, token}

	// The page, with the token in the fragment: the page keeps it and clears the address bar.
	run(t, ctx, "open the console",
		chromedp.Navigate(hs.URL+ControlPrefix+"ui#token="+token),
		chromedp.WaitVisible(chromedp.CSS(`body[data-ready="true"]`)))
	if hash := value(t, ctx, chromedp.Evaluate[string](`location.hash`)); hash != "" {
		t.Errorf("the token stays in the address bar: %q", hash)
	}

	// A request made with curl appears in the journal.
	if st := curl(t, nil, "-o", "/dev/null", "-w", "%{http_code}", "-H", "Authorization: Bearer "+full.Secret, hs.URL+"/api/v1/agents?per_page=2"); st != "200" {
		t.Fatalf("curl: %s", st)
	}
	run(t, ctx, "see the curl request in the journal",
		chromedp.WaitVisible(`//tr[contains(@class,"entry")][@data-status="200"]/td[contains(., "/api/v1/agents?per_page=2")]`))

	// Revoke a key with the page's button: it asks twice, then the key is revoked.
	run(t, ctx, "revoke a key",
		clickCSS(`#tabs button[data-tab="keys"]`),
		script(`const s = document.querySelector('#keys-profile'); s.value = 'opsmerge'; s.dispatchEvent(new Event('change'))`),
		chromedp.WaitVisible(chromedp.CSS(`tr[data-key="`+full.ID+`"] button[data-action="revoke"]`)),
		clickCSS(`tr[data-key="`+full.ID+`"] button[data-action="revoke"]`),
		chromedp.WaitVisible(chromedp.CSS(`tr[data-key="`+full.ID+`"] button[data-action="revoke"].confirm`)),
		clickCSS(`tr[data-key="`+full.ID+`"] button[data-action="revoke"]`),
		chromedp.WaitVisible(chromedp.CSS(`tr[data-key="`+full.ID+`"] .state-revoked`)))
	if st := curl(t, nil, "-o", "/dev/null", "-w", "%{http_code}", "-H", "Authorization: Bearer "+full.Secret, hs.URL+"/api/v1/agents?per_page=3"); st != "401" {
		t.Fatalf("a request with the revoked key: %s, want 401", st)
	}
	run(t, ctx, "see the 401 explained in the journal",
		clickCSS(`#tabs button[data-tab="journal"]`),
		chromedp.WaitVisible(`//tr[contains(@class,"entry")][@data-status="401"]/td[contains(., "key-revoked")][contains(., "key `+full.ID+` revoked at")]`))

	// Regenerate another key: the page says how to pick the secret up, and that works, once.
	run(t, ctx, "regenerate a key",
		clickCSS(`#tabs button[data-tab="keys"]`),
		chromedp.WaitVisible(chromedp.CSS(`tr[data-key="`+second.ID+`"] button[data-action="regenerate"]`)),
		clickCSS(`tr[data-key="`+second.ID+`"] button[data-action="regenerate"]`),
		chromedp.WaitVisible(chromedp.CSS(`tr[data-key="`+second.ID+`"] button[data-action="regenerate"].confirm`)),
		clickCSS(`tr[data-key="`+second.ID+`"] button[data-action="regenerate"]`),
		chromedp.WaitVisible(`//div[contains(@class,"message")][contains(., "`+second.ID+` regenerated")]/pre`))
	notice := value(t, ctx, chromedp.Text(`//div[contains(@class,"message")][contains(., "`+second.ID+` regenerated")]/pre`))
	if !strings.HasPrefix(notice, "curl ") || !strings.Contains(notice, "$OPSCONFORM_CONTROL_TOKEN") || !strings.Contains(notice, "/keys/"+second.ID+"/secret") {
		t.Fatalf("the pickup line: %q", notice)
	}
	if st := curl(t, nil, "-o", "/dev/null", "-w", "%{http_code}", "-H", "Authorization: Bearer "+second.Secret, hs.URL+"/api/v1/agents"); st != "401" {
		t.Errorf("the regenerated key's old secret: %s, want 401", st)
	}
	// The line as shown, run by a shell with the token in its environment.
	pickup := exec.Command("sh", "-c", notice)
	pickup.Env = append(os.Environ(), "OPSCONFORM_CONTROL_TOKEN="+token)
	out, err := pickup.Output()
	if err != nil {
		t.Fatalf("%s: %v", notice, err)
	}
	var picked struct{ Secret string }
	if err := json.Unmarshal(out, &picked); err != nil {
		t.Fatalf("pickup: %v: %s", err, out)
	}
	newSecret := picked.Secret
	if !strings.HasPrefix(newSecret, "om_") {
		t.Fatalf("pickup: %s", picked)
	}
	secrets = append(secrets, newSecret)
	if st := curl(t, nil, "-o", "/dev/null", "-w", "%{http_code}", "-H", "Authorization: Bearer "+newSecret, hs.URL+"/api/v1/agents"); st != "200" {
		t.Errorf("the picked-up secret: %s, want 200", st)
	}
	if again := curl(t, nil, "-o", "/dev/null", "-w", "%{http_code}", "-X", "POST", "-H", "Authorization: Bearer "+token, hs.URL+ControlPrefix+"profiles/opsmerge/keys/"+second.ID+"/secret"); again != "404" {
		t.Errorf("a second pickup: %s, want 404", again)
	}

	// Inject a fault from the page: the next request gets it, the journal says which, and it clears.
	run(t, ctx, "inject a fault",
		clickCSS(`#tabs button[data-tab="faults"]`),
		script(`const f = document.querySelector('#fault-form'); f.elements.kind.value = 'status'; f.elements.kind.dispatchEvent(new Event('change'));
			f.elements.status.value = '503'; f.elements.operation.value = 'getAgent'`),
		clickCSS(`#fault-form button[type="submit"]`),
		chromedp.WaitVisible(chromedp.CSS(`tr[data-fault="f1"]`)))
	if st := curl(t, nil, "-o", "/dev/null", "-w", "%{http_code}", "-H", "Authorization: Bearer "+newSecret, hs.URL+"/api/v1/agents/anything"); st != "503" {
		t.Errorf("a request the fault applies to: %s, want 503", st)
	}
	run(t, ctx, "see the fault in the journal and clear it",
		clickCSS(`#tabs button[data-tab="journal"]`),
		chromedp.WaitVisible(`//tr[contains(@class,"entry")][@data-status="503"]/td[contains(., "fault-status")][contains(., "f1 status 503")]`),
		clickCSS(`#tabs button[data-tab="faults"]`),
		clickCSS(`tr[data-fault="f1"] button`),
		chromedp.WaitNotPresent(chromedp.CSS(`tr[data-fault="f1"]`)))
	if n := len(srv.faults.list()); n != 0 {
		t.Errorf("%d faults left after clearing from the page", n)
	}

	// Open every journal row: headers and bodies are on the page now, redacted.
	run(t, ctx, "read the whole page",
		clickCSS(`#tabs button[data-tab="journal"]`),
		chromedp.WaitVisible(`//tr[contains(@class,"entry")]/td[contains(., "/api/v1/agents") and not(contains(., "per_page"))]`),
		script(`document.querySelectorAll('tr.entry').forEach(r => r.click())`),
		chromedp.WaitVisible(chromedp.CSS(`tr.detail pre`)))
	html := value(t, ctx, chromedp.OuterHTML(chromedp.CSS(`html`)))
	if dir := os.Getenv("OPSCONFORM_CONSOLE_SCREENSHOTS"); dir != "" {
		// For a person to look at: go test -run TestConsoleInBrowser with the variable set to a directory.
		for _, tab := range []string{"journal", "keys", "faults", "profiles"} {
			run(t, ctx, "show "+tab, clickCSS(`#tabs button[data-tab="`+tab+`"]`), chromedp.Sleep(300*time.Millisecond))
			png := value(t, ctx, chromedp.CaptureScreenshot())
			if err := os.WriteFile(filepath.Join(dir, "console-"+tab+".png"), png, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	if !strings.Contains(html, "Bearer REDACTED") {
		t.Errorf("the journal's details are not on the page")
	}
	for _, s := range secrets {
		if strings.Contains(html, s) {
			t.Errorf("the page shows secret …%s", s[len(s)-4:])
		}
	}
}

// run runs chromedp actions, failing the test with what was being done.
func run(t *testing.T, ctx context.Context, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, steps...); err != nil {
		text, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`body`)))
		t.Fatalf("%s: %v\npage text:\n%.3000s", what, err, text)
	}
}

// value runs one action and returns its value.
func value[T any](t *testing.T, ctx context.Context, a chromedp.Action[T]) T {
	t.Helper()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// script runs JavaScript in the page for its effect.
// clickCSS clicks the first element selector matches, in the page's own
// script, waiting until there is one: the page re-renders its tables as it
// polls, and a click by node id can land on a row just replaced ("Could not
// find node with given id"), where a click in the page cannot.
func clickCSS(selector string) chromedp.Action[chromedp.Void] {
	return func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		sel, _ := json.Marshal(selector)
		js := "(() => { const e = document.querySelector(" + string(sel) + "); if (!e) return false; e.click(); return true; })()"
		for {
			clicked, err := chromedp.Evaluate[bool](js)(ctx, t)
			if err != nil || clicked {
				return chromedp.Void{}, err
			}
			select {
			case <-ctx.Done():
				return chromedp.Void{}, fmt.Errorf("no element %s to click: %w", selector, ctx.Err())
			case <-time.After(20 * time.Millisecond):
			}
		}
	}
}

func script(js string) chromedp.Action[chromedp.Void] {
	return func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		_, err := chromedp.Evaluate[bool]("(() => { "+js+"; return true; })()")(ctx, t)
		return chromedp.Void{}, err
	}
}
