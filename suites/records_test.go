package suites

import (
	"context"
	"testing"
	"time"

	"github.com/opsconform/opsconform/mock"
	"github.com/opsconform/opsconform/reports"
)

// TestEachSearchIsChecked: ENV-022 checks every kind of search the profile
// documents, so a server that ignores the text in only one of them still
// fails it: each row scopes the search-ignored deviation to one operation.
func TestEachSearchIsChecked(t *testing.T) {
	p := profileNamed(embeddedProfiles(t), "ivanti-ism")
	for _, op := range []string{"listIncidents", "fullTextSearch"} {
		t.Run(op, func(t *testing.T) {
			hs, c := mockFor(t, p, mock.Fault{Kind: mock.FaultDeviation, Deviation: "search-ignored", Profile: p.Name, Operation: op})
			run, err := Run(context.Background(), Config{Profile: p, Target: hs.URL, Timeout: 5 * time.Second, MaxWait: 90 * time.Second, Sleep: c.Sleep, Only: []string{"ENV-022"}})
			if err != nil {
				t.Fatal(err)
			}
			if r := byID(run)["IVANTI-ISM-ENV-022"]; r.Status != reports.Fail {
				t.Errorf("ENV-022 with %s ignoring the text: %s %s", op, r.Status, r.Reason)
			}
		})
	}
}
