package mock

import (
	"context"
	"encoding/json"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestCurlDigest uses the real curl, as the vendor's documentation does.
func TestCurlDigest(t *testing.T) {
	curl, err := exec.LookPath("curl")
	if err != nil {
		t.Skip("curl is not installed; .ci/run installs it")
	}
	h := newHarness(t)
	k := fixtureKey(t, "mongodb-opsmanager", "full")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, curl, "-sS", "--fail-with-body", "--digest", "--user", k.PublicKey+":"+k.PrivateKey,
		"--header", "Accept: application/json",
		h.http.URL+"/api/public/v1.0/orgs/5980cfc70b6d97029d82e3f6/apiKeys?pretty=true&itemsPerPage=500").CombinedOutput()
	if err != nil {
		t.Fatalf("curl --digest: %v: %s", err, out)
	}
	var page struct {
		Results    []map[string]any `json:"results"`
		TotalCount int              `json:"totalCount"`
	}
	if err := json.Unmarshal(out, &page); err != nil {
		t.Fatalf("not JSON: %v: %s", err, out)
	}
	if page.TotalCount == 0 || len(page.Results) != page.TotalCount {
		t.Errorf("curl got %d of %d keys", len(page.Results), page.TotalCount)
	}
	if !strings.Contains(string(out), "\n  ") {
		t.Error("pretty=true did not indent")
	}
	if strings.Contains(string(out), k.PrivateKey) {
		t.Error("the list shows a private key unredacted")
	}
}
