package suites

import (
	"bytes"
	"context"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/opsconform/opsconform/mock"
	"github.com/opsconform/opsconform/reports"
	"github.com/opsconform/opsconform/specs"
)

// clock is the mock's injected clock; the suite's Retry-After waits move it,
// so rate-limit windows roll exactly when the suite waits, never mid-burst.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }

func (c *clock) Sleep(_ context.Context, d time.Duration) error {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
	return nil
}

var (
	embeddedOnce sync.Once
	embedded     []*specs.Profile
	embeddedErr  error
)

// embeddedProfiles loads the embedded specs once per test binary: profiles
// are read-only once loaded.
func embeddedProfiles(t testing.TB) []*specs.Profile {
	t.Helper()
	embeddedOnce.Do(func() { embedded, embeddedErr = specs.LoadEmbedded() })
	if embeddedErr != nil {
		t.Fatal(embeddedErr)
	}
	return embedded
}

// mockTarget serves the embedded profiles on loopback, on a fake clock that
// starts at the wall clock's second and moves only when the suite waits.
func mockTarget(t testing.TB, faults ...mock.Fault) (*httptest.Server, []*specs.Profile, *clock) {
	t.Helper()
	ps := embeddedProfiles(t)
	hs, c := serveMock(t, ps, faults...)
	return hs, ps, c
}

// mockFor serves one profile only: what a matrix run needs, at a quarter of the cost.
func mockFor(t testing.TB, p *specs.Profile, faults ...mock.Fault) (*httptest.Server, *clock) {
	t.Helper()
	return serveMock(t, []*specs.Profile{p}, faults...)
}

func serveMock(t testing.TB, ps []*specs.Profile, faults ...mock.Fault) (*httptest.Server, *clock) {
	t.Helper()
	c := &clock{now: time.Now().Truncate(time.Second)}
	srv, err := mock.New(mock.Options{Profiles: ps, Seed: 1, Now: c.Now, Faults: faults})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	return hs, c
}

// TestEverySuitePassesAgainstTheMock is the self-conformance run: the mock
// must meet every MUST of every profile, with no skip for lack of credentials.
func TestEverySuitePassesAgainstTheMock(t *testing.T) {
	for _, p := range embeddedProfiles(t) {
		t.Run(p.Name, func(t *testing.T) {
			t.Parallel()
			hs, c := mockFor(t, p)
			var progress bytes.Buffer
			run, err := Run(context.Background(), Config{Profile: p, Target: hs.URL, Timeout: 5 * time.Second, MaxWait: 90 * time.Second, Progress: &progress, Sleep: c.Sleep})
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range run.Results {
				switch {
				case r.Status == reports.Fail || r.Status == reports.Error:
					t.Errorf("%s %s: %s (expected %s, got %s)\n%s", r.ID, r.Status, r.Reason, r.Expected, r.Got, r.Exchange)
				case r.Status == reports.Skip:
					t.Errorf("%s skipped: %s", r.ID, r.Reason)
				}
			}
			if len(run.Results) < 20 {
				t.Errorf("only %d requirements ran", len(run.Results))
			}
			if !strings.Contains(progress.String(), "passed") {
				t.Errorf("no summary line in the progress:\n%s", progress.String())
			}
		})
	}
}

// TestRequirementIDsAreStableAcrossProfiles: an ID names one kind of check
// everywhere, and is unique within a profile.
func TestRequirementIDsAreStableAcrossProfiles(t *testing.T) {
	ps, err := specs.LoadEmbedded()
	if err != nil {
		t.Fatal(err)
	}
	statementOf := map[string]string{} // ID without the profile prefix → statement's first words
	for _, p := range ps {
		seen := map[string]bool{}
		prefix := strings.ToUpper(p.Name) + "-"
		for _, c := range Catalogue(p) {
			r := c.Requirement()
			if seen[r.ID] {
				t.Errorf("%s appears twice", r.ID)
			}
			seen[r.ID] = true
			if !strings.HasPrefix(r.ID, prefix) || r.Citation == "" || r.Statement == "" || (r.Level != reports.Must && r.Level != reports.Should) {
				t.Errorf("%s: %+v", r.ID, r)
			}
			key := strings.TrimPrefix(r.ID, prefix)
			if strings.Contains(key, "SCHEMA") || strings.Contains(key, "STAB") || strings.HasPrefix(key, "PAGE") || strings.HasPrefix(key, "ENV") || strings.HasPrefix(key, "AUTH-001") {
				continue // these statements name the profile's own parameters or scheme
			}
			words := strings.Join(strings.Fields(r.Statement)[:3], " ")
			if prev, ok := statementOf[key]; ok && prev != words {
				t.Errorf("%s means %q on one profile and %q on another", key, prev, words)
			}
			statementOf[key] = words
		}
	}
}

func TestLoadCredentials(t *testing.T) {
	f, err := LoadCredentials("testdata/credentials.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	mdb := f.Profiles["mongodb-opsmanager"]
	if mdb == nil || mdb.Params["orgId"] == "" || mdb.Keys["limited"].Lacks.Operation != "listOrgApiKeys" {
		t.Errorf("mongodb credentials = %+v", mdb)
	}
	dir := t.TempDir()
	for name, body := range map[string]string{
		"unknown-field.yaml": "profiles:\n  opsmerge:\n    kyes: {}\n",
		"no-secret.yaml":     "profiles:\n  opsmerge:\n    keys:\n      full: {}\n",
	} {
		path := dir + "/" + name
		if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := LoadCredentials(path); err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// TestCredentialsFileDrivesARun: a run with explicit credentials (here the
// fixture keys, written to a file) checks the same as the default, and a
// check without its credential is skipped, never failed.
func TestCredentialsFileDrivesARun(t *testing.T) {
	hs, _, _ := mockTarget(t)
	p := profile(t, "opsmerge")
	creds, err := FixtureCredentials(p)
	if err != nil {
		t.Fatal(err)
	}
	delete(creds.Keys, "role-bounded")
	run, err := Run(context.Background(), Config{Profile: p, Target: hs.URL, Credentials: creds, Only: []string{"OPSMERGE-AUTH"}})
	if err != nil {
		t.Fatal(err)
	}
	res := byID(run)
	if r := res["OPSMERGE-AUTH-007"]; r.Status != reports.Skip || !strings.Contains(r.Reason, "role-bounded") {
		t.Errorf("AUTH-007 without its credential: %s %q, want a skip naming the credential", r.Status, r.Reason)
	}
	if r := res["OPSMERGE-AUTH-006"]; r.Status != reports.Pass {
		t.Errorf("AUTH-006: %s %s", r.Status, r.Reason)
	}
	if !run.Conforms() {
		t.Error("a skipped MUST must not fail the run")
	}
}

func TestSelect(t *testing.T) {
	all := Catalogue(profile(t, "opsmerge"))
	ids := func(cs []*Check) string {
		var out []string
		for _, c := range cs {
			out = append(out, c.ID)
		}
		return strings.Join(out, ",")
	}
	tests := []struct {
		only, skip []string
		want       string // the IDs selected, or the start of the error
	}{
		{[]string{"OPSMERGE-AUTH-001"}, nil, "OPSMERGE-AUTH-001"},
		{[]string{"opsmerge-auth-001"}, nil, "OPSMERGE-AUTH-001"},
		{[]string{"AUTH-001"}, nil, "OPSMERGE-AUTH-001"},
		{[]string{"*-AUTH-001"}, nil, "OPSMERGE-AUTH-001"},
		{[]string{"*-auth-00[12]"}, nil, "OPSMERGE-AUTH-001,OPSMERGE-AUTH-002"},
		{[]string{"OPSMERGE-AUTH-001, OPSMERGE-AUTH-002"}, nil, "OPSMERGE-AUTH-001,OPSMERGE-AUTH-002"},
		{[]string{"OPSMERGE-AUTH-001", " OPSMERGE-AUTH-002 "}, nil, "OPSMERGE-AUTH-001,OPSMERGE-AUTH-002"},
		{[]string{"OPSMERGE-RATE"}, []string{"OPSMERGE-RATE-004"}, "OPSMERGE-RATE-001,OPSMERGE-RATE-002,OPSMERGE-RATE-003"},
		{[]string{"rate"}, []string{"rate-004"}, "OPSMERGE-RATE-001,OPSMERGE-RATE-002,OPSMERGE-RATE-003"},
		{[]string{"rate-limits"}, []string{"*-00[1-3]"}, "OPSMERGE-RATE-004"},
		{[]string{"NOPE-123"}, nil, `error: --only "NOPE-123" selects no requirement of opsmerge`},
		{[]string{"opsmerge-auth-001", "NOPE"}, nil, `error: --only "NOPE" selects no requirement`},
		{[]string{"OPMANAGER-AUTH-001"}, nil, "error: --only \"OPMANAGER-AUTH-001\" selects no requirement of opsmerge (IDs look like OPSMERGE-AUTH-001 or AUTH-001; groups are AUTH, LIFE, ENV, PAGE, SCHEMA, STAB, RATE; see --list); did you mean OPSMERGE-AUTH-001?"},
		{[]string{"OPSMERGE-AUTH-00"}, nil, `error: --only "OPSMERGE-AUTH-00" selects no requirement`}, // a prefix ends at a dash
		{nil, []string{"AUTH-999"}, `error: --skip "AUTH-999" selects no requirement`},
		{[]string{"AUTH-001"}, []string{"auth"}, "error: --only AUTH-001 with --skip AUTH leaves no requirement to run"},
	}
	for _, tt := range tests {
		got, err := Select(all, tt.only, tt.skip)
		var have string
		if err != nil {
			have = "error: " + err.Error()
		} else {
			have = ids(got)
		}
		if !strings.HasPrefix(have, tt.want) {
			t.Errorf("only %q skip %q = %s, want %s", tt.only, tt.skip, have, tt.want)
		}
	}
	got, err := Select(all, nil, []string{"OPSMERGE-SCHEMA"})
	if err != nil || len(got) != len(all)-8 {
		t.Errorf("skipping the schema group left %d of %d (%v)", len(got), len(all), err)
	}
}

// TestDigestSuiteAcceptsMoreAlgorithms: a server that offers SHA-256 besides
// the documented MD5 (opsconform mock --digest-algorithms MD5,SHA-256) still
// meets every auth and lifecycle requirement; one that offers SHA-256 first
// fails the challenge's form (AUTH-008) and nothing else.
func TestDigestSuiteAcceptsMoreAlgorithms(t *testing.T) {
	var p *specs.Profile
	for _, q := range embeddedProfiles(t) {
		if q.Name == "mongodb-opsmanager" {
			p = q
		}
	}
	tests := []struct {
		algs    []string
		failing []string
	}{
		{[]string{"MD5", "SHA-256"}, nil},
		{[]string{"SHA-256", "MD5"}, []string{"MONGODB-OPSMANAGER-AUTH-008"}},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.algs, ","), func(t *testing.T) {
			c := &clock{now: time.Now().Truncate(time.Second)}
			srv, err := mock.New(mock.Options{Profiles: []*specs.Profile{p}, Seed: 1, Now: c.Now, DigestAlgorithms: tt.algs})
			if err != nil {
				t.Fatal(err)
			}
			hs := httptest.NewServer(srv)
			defer hs.Close()
			run, err := Run(context.Background(), Config{Profile: p, Target: hs.URL, Timeout: 5 * time.Second, MaxWait: 90 * time.Second,
				Sleep: c.Sleep, Only: []string{"AUTH", "LIFE"}})
			if err != nil {
				t.Fatal(err)
			}
			var failing []string
			for _, r := range run.Results {
				if r.Status != reports.Pass {
					failing = append(failing, r.ID)
				}
			}
			if !slices.Equal(failing, tt.failing) {
				t.Errorf("not passing: %v, want %v", failing, tt.failing)
			}
		})
	}
}
