package suites

import (
	"context"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/opsconform/opsconform/reports"
)

// TestNoVacuousPass runs each profile's suite with every credential missing
// in turn. A check that relied on the credential in the full run must not
// pass without it: it either skips, saying why, or (for a check that probes
// with every credential it is given) still exercises its assertion with the
// others. A pass that asserted nothing would be a gate that opens for anyone.
func TestNoVacuousPass(t *testing.T) {
	for _, p := range embeddedProfiles(t) {
		t.Run(p.Name, func(t *testing.T) {
			t.Parallel()
			creds, err := FixtureCredentials(p)
			if err != nil {
				t.Fatal(err)
			}
			hs, c := mockFor(t, p)
			base, env, err := runWith(context.Background(), Config{Profile: p, Target: hs.URL, Credentials: creds, Timeout: 5 * time.Second, MaxWait: 90 * time.Second, Sleep: c.Sleep})
			if err != nil {
				t.Fatal(err)
			}
			checks := map[string]*Check{}
			for _, ch := range Catalogue(p) {
				checks[ch.ID] = ch
			}
			for _, role := range slices.Sorted(maps.Keys(creds.Keys)) {
				var users []string
				for _, r := range base.Results {
					if env.usedBy[r.ID][role] {
						users = append(users, r.ID)
					}
				}
				if len(users) == 0 {
					continue
				}
				t.Run("without "+role, func(t *testing.T) {
					without := &Credentials{Params: creds.Params, Keys: maps.Clone(creds.Keys)}
					delete(without.Keys, role)
					hs, c := mockFor(t, p)
					run, env2, err := runWith(context.Background(), Config{Profile: p, Target: hs.URL, Credentials: without, Timeout: 5 * time.Second,
						MaxWait: 90 * time.Second, Sleep: c.Sleep, Only: users})
					if err != nil {
						t.Fatal(err)
					}
					for _, r := range run.Results {
						if r.Status != reports.Pass {
							continue
						}
						if !checks[r.ID].overCredentials {
							t.Errorf("%s passes without the %q credential it relied on", r.ID, role)
						} else if len(env2.usedBy[r.ID]) == 0 {
							t.Errorf("%s passes with no credential to probe with", r.ID)
						}
					}
				})
			}
		})
	}
}

// TestOnlyRateChecksSpendTheSecondKey: the burst counts what the "second"
// key is admitted against the documented limit, so no other check may spend
// that key's budget (on a real clock, two earlier requests made the count 98).
func TestOnlyRateChecksSpendTheSecondKey(t *testing.T) {
	for _, p := range embeddedProfiles(t) {
		t.Run(p.Name, func(t *testing.T) {
			t.Parallel()
			hs, c := mockFor(t, p)
			_, env, err := runWith(context.Background(), Config{Profile: p, Target: hs.URL, Timeout: 5 * time.Second, MaxWait: 90 * time.Second, Sleep: c.Sleep})
			if err != nil {
				t.Fatal(err)
			}
			for id, used := range env.usedBy {
				if used["second"] && !strings.Contains(id, "-RATE-") {
					t.Errorf("%s spends the second key's budget", id)
				}
			}
		})
	}
}
