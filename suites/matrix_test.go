package suites

import (
	"context"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"path"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/opsconform/opsconform/mock"
	"github.com/opsconform/opsconform/reports"
	"github.com/opsconform/opsconform/specs"
)

// provenBy expands a deviation's Breaks into the requirement IDs of p's
// catalogue they name ("PAGE-007", or "SCHEMA-*" for every schema check).
func provenBy(p *specs.Profile, breaks []string) []string {
	prefix := strings.ToUpper(p.Name) + "-"
	var out []string
	for _, c := range Catalogue(p) {
		for _, b := range breaks {
			if ok, _ := path.Match(prefix+b, c.ID); ok {
				out = append(out, c.ID)
			}
		}
	}
	return out
}

// groupsOf are the --only selections that run ids: their groups.
func groupsOf(ids []string) []string {
	var out []string
	for _, id := range ids {
		g := id[:strings.LastIndex(id, "-")]
		if !slices.Contains(out, g) {
			out = append(out, g)
		}
	}
	return out
}

// TestDeviationMatrix is the mutation matrix: for every deviation the mock
// knows, on every profile it applies to, the profile's suite must fail every
// requirement the deviation names, and the run must not conform. A deviation
// nothing catches fails here.
func TestDeviationMatrix(t *testing.T) {
	ps := embeddedProfiles(t)
	byName := map[string]*specs.Profile{}
	for _, p := range ps {
		byName[p.Name] = p
	}
	for _, d := range mock.Deviations(ps) {
		for _, name := range d.Profiles {
			p := byName[name]
			t.Run(d.Name+"@"+name, func(t *testing.T) {
				t.Parallel()
				want := provenBy(p, d.Breaks)
				if len(want) == 0 {
					t.Fatalf("%s names %v, none of which is in %s's catalogue", d.Name, d.Breaks, name)
				}
				hs, c := mockFor(t, p, mock.Fault{Kind: mock.FaultDeviation, Deviation: d.Name, Profile: name})
				run, err := Run(context.Background(), Config{Profile: p, Target: hs.URL, Timeout: 5 * time.Second,
					MaxWait: 90 * time.Second, Sleep: c.Sleep, Only: groupsOf(want)})
				if err != nil {
					t.Fatal(err)
				}
				res := byID(run)
				for _, id := range want {
					if r := res[id]; r.Status != reports.Fail && r.Status != reports.Error {
						t.Errorf("%s does not catch %s (%s): %s %s", id, d.Name, d.Summary, r.Status, r.Reason)
					}
				}
				if run.Conforms() {
					t.Errorf("a run against a mock that %s conforms", d.Summary)
				}
			})
		}
	}
}

// TestEveryRequirementIsProven: every requirement of every profile is named
// by at least one deviation that applies to the profile, so the matrix shows
// that it can fail.
func TestEveryRequirementIsProven(t *testing.T) {
	ps := embeddedProfiles(t)
	devs := mock.Deviations(ps)
	for _, p := range ps {
		proven := map[string]bool{}
		for _, d := range devs {
			if slices.Contains(d.Profiles, p.Name) {
				for _, id := range provenBy(p, d.Breaks) {
					proven[id] = true
				}
			}
		}
		var missing []string
		for _, c := range Catalogue(p) {
			if !proven[c.ID] {
				missing = append(missing, c.ID)
			}
		}
		sort.Strings(missing)
		if len(missing) > 0 {
			t.Errorf("%s: no deviation proves %s", p.Name, strings.Join(missing, ", "))
		}
	}
}

// TestCleanMockThroughAReverseProxy: the clean mock, reached through a plain
// reverse proxy as many deployments are, fails nothing and skips nothing.
func TestCleanMockThroughAReverseProxy(t *testing.T) {
	for _, p := range embeddedProfiles(t) {
		t.Run(p.Name, func(t *testing.T) {
			t.Parallel()
			hs, c := mockFor(t, p)
			u, _ := url.Parse(hs.URL)
			proxy := httptest.NewServer(httputil.NewSingleHostReverseProxy(u))
			t.Cleanup(proxy.Close)
			run, err := Run(context.Background(), Config{Profile: p, Target: proxy.URL, Timeout: 5 * time.Second, MaxWait: 90 * time.Second, Sleep: c.Sleep})
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range run.Results {
				if r.Status != reports.Pass {
					t.Errorf("%s %s through a proxy: %s (expected %s, got %s)", r.ID, r.Status, r.Reason, r.Expected, r.Got)
				}
			}
		})
	}
}
