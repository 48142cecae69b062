package suites

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/opsconform/opsconform/mock"
	"github.com/opsconform/opsconform/reports"
)

// TestLifecycleChecksPresentTheControlToken: against a mock whose control
// API needs a token, the lifecycle checks (which set keys up through it)
// pass when OPSCONFORM_CONTROL_TOKEN holds it, error naming the variable
// when it does not, and never show the token in a report.
func TestLifecycleChecksPresentTheControlToken(t *testing.T) {
	const token = "suite-control-token-0123456789"
	p := embeddedProfiles(t)[0]
	for _, candidate := range embeddedProfiles(t) {
		if candidate.Name == "opsmerge" {
			p = candidate
		}
	}
	c := &clock{now: time.Now().Truncate(time.Second)}
	srv, err := mock.New(mock.Options{Profiles: embeddedProfiles(t), Seed: 1, Now: c.Now, ControlToken: token})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	only := []string{strings.ToUpper(p.Name) + "-LIFE"}
	run := func(t *testing.T) *reports.Run {
		r, err := Run(context.Background(), Config{Profile: p, Target: hs.URL, Timeout: 5 * time.Second, Only: only, Sleep: c.Sleep})
		if err != nil {
			t.Fatal(err)
		}
		if len(r.Results) < 3 {
			t.Fatalf("only %d lifecycle requirements ran", len(r.Results))
		}
		return r
	}

	t.Run("with the token", func(t *testing.T) {
		t.Setenv(ControlTokenEnv, token)
		for _, r := range run(t).Results {
			if r.Status != reports.Pass {
				t.Errorf("%s %s: %s", r.ID, r.Status, r.Reason)
			}
			if strings.Contains(r.Exchange+r.Reason+r.Got, token) {
				t.Errorf("%s: the report shows the control token", r.ID)
			}
		}
	})
	t.Run("without it", func(t *testing.T) {
		t.Setenv(ControlTokenEnv, "")
		errored := 0
		for _, r := range run(t).Results {
			if r.Status == reports.Error && strings.Contains(r.Reason, "401") && strings.Contains(r.Reason, ControlTokenEnv) {
				errored++
			}
		}
		if errored == 0 {
			t.Errorf("no lifecycle check errored naming %s", ControlTokenEnv)
		}
	})
}
