package suites

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/opsconform/opsconform/internal/hostile"
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

// TestRunBound: a run has an overall bound; past it the check in flight is
// an error that says so, the rest are reported as not run, and the run
// does not conform.
func TestRunBound(t *testing.T) {
	api, _, _ := mockTarget(t)
	stop := make(chan struct{})
	defer close(stop)
	hs := httptest.NewServer(hostile.AfterSetUp(api.Config.Handler, hostile.Handler(hostile.Hang, stop)))
	defer hs.Close()
	start := time.Now()
	run, err := Run(context.Background(), Config{Profile: profile(t, "opsmerge"), Target: hs.URL, Timeout: time.Second,
		RunTimeout: 2500 * time.Millisecond, Sleep: noSleep})
	if err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 6*time.Second {
		t.Errorf("a run bound to 2.5s took %s", d)
	}
	if run.Conforms() || run.Interrupted || !strings.Contains(run.Stopped, "time bound (--run-timeout 2.5s)") {
		t.Errorf("stopped %q, interrupted %v, conforms %v", run.Stopped, run.Interrupted, run.Conforms())
	}
	var notRun, inFlight int
	for _, r := range run.Results {
		switch {
		case r.Status == reports.Skip && strings.HasPrefix(r.Reason, "not run: the run reached its time bound"):
			notRun++
		case r.Status == reports.Error && strings.Contains(r.Reason, "time bound (--run-timeout 2.5s) while this check ran"):
			inFlight++
		}
	}
	if inFlight != 1 || notRun == 0 {
		t.Errorf("%d in-flight errors and %d not run, want 1 and some", inFlight, notRun)
	}
	last := run.Results[len(run.Results)-1]
	if last.ID != "OPSMERGE-RUN" || last.Status != reports.Error {
		t.Errorf("the last result is %s %s, want the run's own error", last.ID, last.Status)
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
