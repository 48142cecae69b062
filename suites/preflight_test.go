package suites

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/opsconform/opsconform/reports"
)

// TestPreflight: a run whose target or credentials are set up wrongly stops
// before the first check, with one paragraph that says what is wrong and
// what to do, and a report that carries it; it does not judge the target.
func TestPreflight(t *testing.T) {
	mockSrv, _, _ := mockTarget(t)
	var pageRequests atomic.Int64
	page := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// What python3 -m http.server answers for a path it does not have.
		pageRequests.Add(1)
		w.Header().Set("Content-Type", "text/html;charset=utf-8")
		w.WriteHeader(http.StatusNotFound)
		_, _ = w.Write([]byte("<!DOCTYPE HTML>\n<html><body><h1>Error response</h1></body></html>"))
	}))
	defer page.Close()
	notFound := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusNotFound)
		_, _ = w.Write([]byte(`{"message":"no route"}`))
	}))
	defer notFound.Close()
	redirect := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "https://login.example.com/sso", http.StatusFound)
	}))
	defer redirect.Close()
	tlsSrv := httptest.NewUnstartedServer(mockSrv.Config.Handler)
	tlsSrv.Config.ErrorLog = log.New(io.Discard, "", 0) // the handshakes this test fails on purpose
	tlsSrv.StartTLS()
	defer tlsSrv.Close()

	wrongKey := func(name string) *Credentials {
		c, err := FixtureCredentials(profile(t, name))
		if err != nil {
			t.Fatal(err)
		}
		k := c.Keys["full"]
		k.Secret = "om_" + strings.Repeat("x", 40)
		if name == "ivanti-ism" {
			k = c.Keys["other-tenant"]
		}
		c.Keys["full"] = k
		return c
	}
	limitedFull := func() *Credentials {
		resp, err := http.Post(mockSrv.URL+"/__opsconform/profiles/opsmerge/keys", "application/json",
			strings.NewReader(`{"owner":"u-ada","scopes":["clients:read"]}`))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var created struct{ Secret string }
		if err := json.NewDecoder(resp.Body).Decode(&created); err != nil || created.Secret == "" {
			t.Fatalf("creating a key: %v", err)
		}
		c, _ := FixtureCredentials(profile(t, "opsmerge"))
		c.Keys["full"] = Credential{Secret: created.Secret}
		return c
	}
	disabledFull := func() *Credentials {
		resp, err := http.Post(mockSrv.URL+"/__opsconform/profiles/opsmerge/keys", "application/json",
			strings.NewReader(`{"id":"key-preflight-disabled","owner":"u-ada","labels":["full"]}`))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var created struct{ Secret string }
		if err := json.NewDecoder(resp.Body).Decode(&created); err != nil || created.Secret == "" {
			t.Fatalf("creating a key: %v", err)
		}
		resp2, err := http.Post(mockSrv.URL+"/__opsconform/profiles/opsmerge/keys/key-preflight-disabled/disable", "application/json", nil)
		if err != nil {
			t.Fatal(err)
		}
		resp2.Body.Close()
		c, _ := FixtureCredentials(profile(t, "opsmerge"))
		c.Keys["full"] = Credential{Secret: created.Secret}
		return c
	}
	mockURL := mockSrv.URL
	port := mockURL[strings.LastIndex(mockURL, ":")+1:]
	tests := []struct {
		name    string
		profile string
		target  string
		creds   *Credentials
		kind    error
		want    []string
	}{
		{"base path in the target", "opsmerge", mockURL + "/api/v1", nil, ErrSetup,
			[]string{"the target URL already ends in the profile's base path /api/v1", "/api/v1/api/v1/agents", "use --target " + mockURL}},
		{"base path with a slash", "mongodb-opsmanager", mockURL + "/api/public/v1.0/", nil, ErrSetup,
			[]string{"already ends in the profile's base path /api/public/v1.0", "use --target " + mockURL}},
		{"listening address", "ivanti-ism", "http://0.0.0.0:" + port, nil, ErrSetup,
			[]string{"names 0.0.0.0, the address a server listens on", "use http://127.0.0.1:" + port}},
		{"an HTML page", "opsmerge", page.URL, nil, ErrSetup,
			[]string{"does not answer like the opsmerge API", "answered 404 with an HTML page (text/html;charset=utf-8)", "/api/v1/agents"}},
		{"no such path", "opmanager", notFound.URL, nil, ErrSetup,
			[]string{"does not answer like the opmanager API", "answered 404 (not found)", "listDevicesV2"}},
		{"a redirect", "opsmerge", redirect.URL, nil, ErrSetup,
			[]string{"answered 302, a redirect to \"https://login.example.com/sso\"", "follows no redirect"}},
		{"a wrong full key", "opsmerge", mockURL, wrongKey("opsmerge"), ErrSetup,
			[]string{"the `full` key was refused with 401", "profiles.opsmerge.keys.full", "the mock has no such key", "leave --credentials out"}},
		{"a full key of another tenant", "ivanti-ism", mockURL, wrongKey("ivanti-ism"), ErrSetup,
			[]string{"the `full` key was refused with 401", "the mock has this key (24358A2F15C7C830A7B511159A5C39AA) bound to tenant tenant-b.example.com, and this run reaches it as 127.0.0.1"}},
		{"a disabled full key", "opsmerge", mockURL, disabledFull(), ErrSetup,
			[]string{"the `full` key was refused with 401", "the mock has this key (key-preflight-disabled) disabled"}},
		{"a full key that may not", "opsmerge", mockURL, limitedFull(), ErrSetup,
			[]string{"the `full` key is not allowed to call listAgents (403", "is not its `full` key"}},
		{"plain HTTP to a TLS server", "opsmerge", "http://" + strings.TrimPrefix(tlsSrv.URL, "https://"), nil, ErrSetup,
			[]string{"The target speaks TLS: use --target https://"}},
		{"TLS to a plain server", "opsmerge", "https://" + strings.TrimPrefix(mockURL, "http://"), nil, ErrSetup,
			[]string{"The target speaks plain HTTP: use --target http://"}},
		{"an untrusted certificate", "opsmerge", tlsSrv.URL, nil, ErrSetup,
			[]string{"certificate signed by unknown authority", "--ca-cert FILE", "--insecure"}},
		{"nothing listening", "opsmerge", closedURL(t), nil, ErrUnreachable,
			[]string{"the target is unreachable", "connection refused", "--wait 30s"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var progress bytes.Buffer
			run, err := Run(context.Background(), Config{Profile: profile(t, tt.profile), Target: tt.target, Credentials: tt.creds,
				Timeout: 2 * time.Second, Sleep: noSleep, Progress: &progress})
			if !errors.Is(err, tt.kind) {
				t.Fatalf("err = %v, want %v", err, tt.kind)
			}
			msg := err.Error()
			for _, w := range tt.want {
				if !strings.Contains(msg, w) {
					t.Errorf("the message lacks %q:\n%s", w, msg)
				}
			}
			if strings.Contains(msg, "\n") {
				t.Errorf("the message is not one paragraph:\n%s", msg)
			}
			for _, k := range []string{"BBF5C4A965E648CB64EEE382E9F97327", "om_KGpOyQNcdOyZbkBFTFoOxtzHq8STZHE6svi34zWH"} {
				if strings.Contains(msg, k) {
					t.Errorf("the message shows a key")
				}
			}
			if len(run.Results) != 1 || run.Results[0].Status != reports.Error || run.Results[0].Reason != msg || run.Conforms() {
				t.Errorf("the run should carry the reason as its one errored requirement: %+v", run.Results)
			}
			if strings.Contains(progress.String(), "PASS") || strings.Contains(progress.String(), "FAIL") {
				t.Errorf("checks ran:\n%s", progress.String())
			}
		})
	}
	if n := pageRequests.Load(); n > 2 {
		t.Errorf("the run sent %d requests to a web server before stopping, want at most 2", n)
	}
}

func closedURL(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return "http://" + addr
}

// TestWaitForAStartingTarget: with Wait, a target that starts listening
// after the run began is waited for; without an answer in time, the run
// says it waited and for how long.
func TestWaitForAStartingTarget(t *testing.T) {
	api, _, _ := mockTarget(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	waiting := make(chan struct{})
	progress := &signalWriter{on: "waiting up to 10s", fired: waiting}
	done := make(chan error, 1)
	var run *reports.Run
	go func() {
		var err error
		run, err = Run(context.Background(), Config{Profile: profile(t, "opsmerge"), Target: "http://" + addr, Wait: 10 * time.Second,
			Only: []string{"AUTH-001", "AUTH-005"}, Progress: progress, Sleep: noSleep})
		done <- err
	}()
	<-waiting // the run has tried and is waiting: now the server comes up
	srv := &http.Server{Handler: api.Config.Handler}
	ln, err = net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("the port was taken meanwhile: %v", err)
	}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()
	if err := <-done; err != nil {
		t.Fatalf("the run did not wait: %v", err)
	}
	if !run.Conforms() || len(run.Results) != 2 {
		t.Errorf("verdict %q with %d results", run.Verdict(), len(run.Results))
	}

	_, err = Run(context.Background(), Config{Profile: profile(t, "opsmerge"), Target: closedURL(t), Wait: 300 * time.Millisecond, Sleep: noSleep})
	if !errors.Is(err, ErrUnreachable) || !strings.Contains(err.Error(), "did not answer within --wait 300ms") {
		t.Errorf("err = %v", err)
	}
}

// signalWriter closes fired the first time what is written contains on.
type signalWriter struct {
	on    string
	fired chan struct{}
	buf   bytes.Buffer
	done  bool
}

func (w *signalWriter) Write(p []byte) (int, error) {
	w.buf.Write(p)
	if !w.done && strings.Contains(w.buf.String(), w.on) {
		w.done = true
		close(w.fired)
	}
	return len(p), nil
}

// TestInterruptedRun: a run whose context is cancelled while a check waits
// out Retry-After reports that check as an error (not a skip), the rest as
// not run, and has no verdict.
func TestInterruptedRun(t *testing.T) {
	hs, _, c := mockTarget(t)
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	interrupt := func(ctx2 context.Context, d time.Duration) error {
		cancel(errors.New("interrupted by SIGINT"))
		<-ctx2.Done()
		return ctx2.Err()
	}
	_ = c
	var progress bytes.Buffer
	run, err := Run(ctx, Config{Profile: profile(t, "opsmerge"), Target: hs.URL, Only: []string{"RATE", "AUTH-001"}, MaxWait: time.Hour,
		Sleep: interrupt, Progress: &progress})
	if err != nil {
		t.Fatal(err)
	}
	res := byID(run)
	if r := res["OPSMERGE-RATE-004"]; r.Status != reports.Error || !strings.Contains(r.Reason, "interrupted by SIGINT while this check ran") {
		t.Errorf("RATE-004 = %s %q, want an error saying it was interrupted", r.Status, r.Reason)
	}
	if !run.Interrupted || run.Conforms() || !strings.HasPrefix(run.Verdict(), "no verdict: interrupted by SIGINT during OPSMERGE-RATE-004") {
		t.Errorf("interrupted %v, verdict %q", run.Interrupted, run.Verdict())
	}
	if !strings.Contains(progress.String(), "OPSMERGE-RATE-004: waiting") {
		t.Errorf("no note of the wait:\n%s", progress.String())
	}
	var md bytes.Buffer
	if err := reports.WriteMarkdown(&md, run); err != nil || strings.Contains(md.String(), "conforms") {
		t.Errorf("the summary of an interrupted run:\n%s", md.String())
	}
}

// TestRunsProvisionTheirOwnKeys: against the mock a run uses fresh keys for
// the roles it spends and a user of its own, and leaves the mock's keys and
// users as it found them.
func TestRunsProvisionTheirOwnKeys(t *testing.T) {
	hs, _, c := mockTarget(t)
	list := func(what string) string {
		resp, err := http.Get(hs.URL + "/__opsconform/profiles/opsmerge/" + what)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var items []map[string]any
		if err := json.NewDecoder(resp.Body).Decode(&items); err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, it := range items {
			ids = append(ids, it["id"].(string))
		}
		return strings.Join(ids, ",")
	}
	keysBefore, usersBefore := list("keys"), list("users")
	run, err := Run(context.Background(), Config{Profile: profile(t, "opsmerge"), Target: hs.URL, Only: []string{"RATE", "LIFE", "AUTH-005"},
		MaxWait: time.Hour, Sleep: c.Sleep})
	if err != nil {
		t.Fatal(err)
	}
	if !run.Conforms() {
		t.Errorf("verdict %q", run.Verdict())
	}
	if len(run.Notes) != 0 {
		t.Errorf("notes: %q", run.Notes)
	}
	if got := list("keys"); got != keysBefore {
		t.Errorf("keys after the run:\n%s\nwant\n%s", got, keysBefore)
	}
	if got := list("users"); got != usersBefore {
		t.Errorf("users after the run:\n%s\nwant\n%s", got, usersBefore)
	}
	// The fixture's `second` key was never spent: its budget is whole.
	resp, err := http.Get(hs.URL + "/__opsconform/profiles/opsmerge/keys/key-ci-second/budget")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var budgets []struct{ Used int }
	_ = json.NewDecoder(resp.Body).Decode(&budgets)
	for _, b := range budgets {
		if b.Used != 0 {
			t.Errorf("the fixture's second key was spent: %+v", budgets)
		}
	}
}
