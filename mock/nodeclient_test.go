package mock

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The npm package mongodb-atlas-api-client is what Node integrations use
// for the Public API; testdata/atlas-node-client.js drives it unchanged
// (only its baseUrl set) and this test judges what it got. It is installed
// with npm into the repository's .cache/npm (gitignored; .ci/run installs
// it first), the one place this test writes outside its temporary dirs.
const (
	nodeClientPackage = "mongodb-atlas-api-client"
	nodeClientVersion = "4.19.0"
)

// nodeClient finds node and the installed client, installing it with npm
// when it is missing. It skips only where Node itself is absent.
func nodeClient(t *testing.T) (node, modules string) {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("Node.js is not installed, so the npm client " + nodeClientPackage + " cannot run (.ci/run installs nodejs and npm)")
	}
	root, err := filepath.Abs(filepath.Join("..", ".cache", "npm"))
	if err != nil {
		t.Fatal(err)
	}
	modules = filepath.Join(root, "node_modules")
	if installedVersion(modules) == nodeClientVersion {
		return node, modules
	}
	npm, err := exec.LookPath("npm")
	if err != nil {
		t.Fatalf("node is installed but npm is not, so %s@%s cannot be installed into %s (Debian: apt-get install npm)", nodeClientPackage, nodeClientVersion, root)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, npm, "install", "--prefix", root, "--no-save", "--no-audit", "--no-fund", "--loglevel=error",
		nodeClientPackage+"@"+nodeClientVersion)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("npm install %s@%s into %s: %v\n%s", nodeClientPackage, nodeClientVersion, root, err, out)
	}
	if v := installedVersion(modules); v != nodeClientVersion {
		t.Fatalf("npm installed %s %q into %s, want %s", nodeClientPackage, v, modules, nodeClientVersion)
	}
	return node, modules
}

func installedVersion(modules string) string {
	data, err := os.ReadFile(filepath.Join(modules, nodeClientPackage, "package.json"))
	if err != nil {
		return ""
	}
	var pkg struct{ Version string }
	_ = json.Unmarshal(data, &pkg)
	return pkg.Version
}

// nodePage is a list answer as the client returns it.
type nodePage struct {
	Results []map[string]any `json:"results"`
	Links   []struct {
		Href string `json:"href"`
		Rel  string `json:"rel"`
	} `json:"links"`
	TotalCount int `json:"totalCount"`
}

// nodeError is an error document as the client returns it.
type nodeError struct {
	Error     int    `json:"error"`
	ErrorCode string `json:"errorCode"`
	Detail    string `json:"detail"`
}

// TestAtlasNodeClient: organizations, projects, users, teams, paging and
// errors through mongodb-atlas-api-client 4.19.0. (That version has no
// calls for organization API keys or their access lists; its
// projectAccesslist is Atlas's database network list, which Ops Manager
// does not have. TestAtlasGoClient covers those.)
func TestAtlasNodeClient(t *testing.T) {
	node, modules := nodeClient(t)
	hs := mongoServer(t, Options{})
	k := fixtureKey(t, "mongodb-opsmanager", "full")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, filepath.Join("testdata", "atlas-node-client.js"))
	cmd.Env = append(os.Environ(), "NODE_PATH="+modules, "BASE_URL="+hs.URL+mdbBase,
		"PUBLIC_KEY="+k.PublicKey, "PRIVATE_KEY="+k.PrivateKey, "ORG_ID="+mdbDocs, "PROJECT_ID="+mdbProd)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node atlas-node-client.js: %v\n%s", err, stderr.String())
	}
	var got map[string]json.RawMessage
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("the driver's output is not JSON: %v\n%s", err, out)
	}
	page := func(step string) nodePage {
		t.Helper()
		var p nodePage
		if err := json.Unmarshal(got[step], &p); err != nil {
			t.Fatalf("%s: %v: %s", step, err, got[step])
		}
		return p
	}
	object := func(step string) map[string]any {
		t.Helper()
		var m map[string]any
		if err := json.Unmarshal(got[step], &m); err != nil {
			t.Fatalf("%s: %v: %s", step, err, got[step])
		}
		return m
	}
	lists := []struct {
		step  string
		total int
		field string // every result has this field equal to want
		want  any
	}{
		{"orgsByName", 1, "name", "Docs"},
		{"orgsNoSuchName", 0, "", nil},
		{"orgProjects", 2, "orgId", mdbDocs},
		{"orgUsers", 4, "", nil},
		{"projects", 2, "orgId", mdbDocs},
		{"projectTeams", 2, "", nil},
		{"projectUsers", 3, "", nil},
	}
	for _, l := range lists {
		p := page(l.step)
		if p.TotalCount != l.total || len(p.Results) != l.total {
			t.Errorf("%s: %d results, total %d, want %d: %s", l.step, len(p.Results), p.TotalCount, l.total, got[l.step])
		}
		for _, r := range p.Results {
			if l.field != "" && r[l.field] != l.want {
				t.Errorf("%s: a result has %s %v, want %v", l.step, l.field, r[l.field], l.want)
			}
		}
	}
	for step, want := range map[string]string{"org": mdbDocs, "project": mdbProd, "projectByName": mdbProd} {
		if id := object(step)["id"]; id != want {
			t.Errorf("%s: id %v, want %s: %s", step, id, want, got[step])
		}
	}
	var pages []nodePage
	if err := json.Unmarshal(got["userPages"], &pages); err != nil {
		t.Fatal(err)
	}
	seen := map[any]int{}
	for _, p := range pages {
		for _, r := range p.Results {
			seen[r["id"]]++
		}
	}
	if len(pages) != 2 || len(seen) != 4 {
		t.Errorf("paging at 3 users a page: %d pages, %d distinct users, want 2 and 4", len(pages), len(seen))
	}
	for id, n := range seen {
		if n != 1 {
			t.Errorf("user %v came %d times", id, n)
		}
	}
	errs := []struct {
		step   string
		status int
		code   string
	}{
		{"wrongKey", 401, "USER_UNAUTHORIZED"},
		{"projectNotVisible", 404, "RESOURCE_NOT_FOUND"},
		{"otherOrg", 403, "USER_UNAUTHORIZED"},
	}
	for _, e := range errs {
		var ne nodeError
		if err := json.Unmarshal(got[e.step], &ne); err != nil || ne.Error != e.status || ne.ErrorCode != e.code || ne.Detail == "" {
			t.Errorf("%s: %s, want %d %s with a detail", e.step, got[e.step], e.status, e.code)
		}
	}
}
