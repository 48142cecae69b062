package suites

import (
	"bytes"
	"context"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/opsconform/opsconform/mock"
	"github.com/opsconform/opsconform/reports"
	"github.com/opsconform/opsconform/specs"
)

// minCorpus is how many specs the corpus must hold.
var minCorpus = 12

// corpusFiles are the corpus's specs: every file in specs/testdata/corpus,
// and each directory's main file (a description split over several files).
func corpusFiles(t testing.TB) []string {
	t.Helper()
	entries, err := os.ReadDir("../specs/testdata/corpus")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		path := filepath.Join("../specs/testdata/corpus", e.Name())
		if e.IsDir() {
			out = append(out, filepath.Join(path, "main.yaml"))
			continue
		}
		out = append(out, path)
	}
	if len(out) < minCorpus {
		t.Fatalf("the corpus has %d specs, want at least 12", len(out))
	}
	return out
}

// TestCorpusPassesAgainstItsOwnMock: every corpus spec loads, is served, and
// its own mock passes every MUST of check --spec (the generic requirements,
// which validate every answer of a valid request against the spec).
func TestCorpusPassesAgainstItsOwnMock(t *testing.T) {
	for _, file := range corpusFiles(t) {
		t.Run(strings.TrimPrefix(file, "../specs/testdata/corpus/"), func(t *testing.T) {
			t.Parallel()
			p, err := specs.LoadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			srv, err := mock.New(mock.Options{Profiles: []*specs.Profile{p}, Seed: 1})
			if err != nil {
				t.Fatal(err)
			}
			hs := httptest.NewServer(srv)
			defer hs.Close()
			var progress bytes.Buffer
			run, err := Run(context.Background(), Config{Profile: p, Target: hs.URL, Timeout: 5 * time.Second, Progress: &progress})
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range run.Results {
				switch {
				case r.Status == reports.Fail && r.Level == reports.Must || r.Status == reports.Error:
					t.Errorf("%s %s: %s (expected %s, got %s)\n%s", r.ID, r.Status, r.Reason, r.Expected, r.Got, r.Exchange)
				case r.Status == reports.Fail:
					// The mock is the reference: it meets the SHOULDs too.
					t.Errorf("%s (SHOULD) failed: %s (expected %s, got %s)\n%s", r.ID, r.Reason, r.Expected, r.Got, r.Exchange)
				case r.Status == reports.Skip && strings.HasSuffix(r.ID, "-GEN-003"):
					t.Errorf("%s skipped: %s; the sweep must reach the operations", r.ID, r.Reason)
				}
			}
			if testing.Verbose() {
				t.Log(progress.String())
			}
		})
	}
}
