package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/opsconform/opsconform/specs"
)

// runCLI runs the program in-process with a fake environment.
func runCLI(t *testing.T, environ map[string]string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	lookup := func(k string) (string, bool) { v, ok := environ[k]; return v, ok }
	code = run(context.Background(), args, lookup, &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestExitCodesAndMessages(t *testing.T) {
	brokenSpec := filepath.Join("..", "..", "specs", "testdata", "unknown-overflow.yaml")
	tests := []struct {
		name       string
		env        map[string]string
		args       []string
		code       int
		stdout     []string
		stderr     []string
		stderrLine bool // stderr must be exactly one line
	}{
		{name: "no args prints usage", args: nil, code: 2, stdout: []string{"Usage:", "mock", "check", "profiles", "version", "Exit codes"}},
		{name: "top help", args: []string{"--help"}, code: 0, stdout: []string{"Commands:", "OPSCONFORM_<FLAG>"}},
		{name: "help command", args: []string{"help", "mock"}, code: 0, stdout: []string{"opsconform mock", "--addr", "$OPSCONFORM_ADDR", `default "127.0.0.1:8060"`}},
		{name: "unknown command", args: []string{"serve"}, code: 2, stderr: []string{`unknown command "serve"`}, stderrLine: true},
		{name: "unknown flag", args: []string{"profiles", "--bogus"}, code: 2, stderr: []string{"opsconform profiles: unknown flag: --bogus"}, stderrLine: true},
		{name: "stray argument", args: []string{"profiles", "extra"}, code: 2, stderr: []string{`unexpected argument "extra"`}, stderrLine: true},
		{name: "bad format", args: []string{"profiles", "--format", "yaml"}, code: 2, stderr: []string{`--format "yaml": want text, json or markdown`}, stderrLine: true},
		{name: "unknown profile", args: []string{"profiles", "--profile", "servicenow"}, code: 2, stderr: []string{`unknown profile "servicenow"`, "opsmerge"}, stderrLine: true},
		{name: "missing spec file", args: []string{"profiles", "--spec", "nowhere.yaml"}, code: 2, stderr: []string{"nowhere.yaml", "no such file"}, stderrLine: true},
		{name: "broken spec file", args: []string{"profiles", "--spec", brokenSpec}, code: 2, stderr: []string{"unknown-overflow.yaml:7:13", `unknown value "wrap"`}, stderrLine: true},
		{name: "bad env value", env: map[string]string{"OPSCONFORM_FORMAT": "xml"}, args: []string{"profiles"}, code: 2, stderr: []string{`--format "xml"`}, stderrLine: true},
		{name: "env selects profile", env: map[string]string{"OPSCONFORM_PROFILE": "opsmerge"}, args: []string{"profiles"}, code: 0, stdout: []string{"opsmerge", "bearer om_…"}},
		{name: "flag beats env", env: map[string]string{"OPSCONFORM_PROFILE": "opsmerge"}, args: []string{"profiles", "--profile", "opmanager"}, code: 0, stdout: []string{"opmanager"}},
		{name: "version", args: []string{"version"}, code: 0, stdout: []string{"opsconform ", "go1."}},
		{name: "mock with unknown profile", args: []string{"mock", "--profile", "nope"}, code: 2, stderr: []string{`unknown profile "nope"`}, stderrLine: true},
		{name: "mock with a zero time scale", args: []string{"mock", "--time-scale", "0"}, code: 2, stderr: []string{"--time-scale 0"}, stderrLine: true},
		{name: "mock with a non-numeric time scale", args: []string{"mock", "--time-scale", "fast"}, code: 2, stderr: []string{"time-scale"}, stderrLine: true},
		{name: "mock with an empty journal", args: []string{"mock", "--journal-entries", "0"}, code: 2, stderr: []string{"--journal-entries 0", "want 1 to 65536"}, stderrLine: true},
		{name: "mock with a journal too big", args: []string{"mock", "--journal-entries", "100000"}, code: 2, stderr: []string{"--journal-entries 100000"}, stderrLine: true},
		{name: "mock with a non-numeric journal size", args: []string{"mock", "--journal-entries", "many"}, code: 2, stderr: []string{"journal-entries"}, stderrLine: true},
		{name: "mock with a missing fixtures dir", args: []string{"mock", "--fixtures", "/nonexistent"}, code: 2, stderr: []string{"--fixtures /nonexistent: not a directory"}, stderrLine: true},
		{name: "mock with an unknown digest algorithm", args: []string{"mock", "--digest-algorithms", "MD5,SHA-1"}, code: 2, stderr: []string{`--digest-algorithms: digest algorithm "SHA-1": want MD5 or SHA-256`}, stderrLine: true},
		{name: "mock with a digest algorithm twice", env: map[string]string{"OPSCONFORM_DIGEST_ALGORITHMS": "md5,MD5"}, args: []string{"mock"}, code: 2, stderr: []string{"--digest-algorithms: digest algorithm MD5 is given twice"}, stderrLine: true},
		{name: "mock help names --digest-algorithms", args: []string{"help", "mock"}, code: 0, stdout: []string{"--digest-algorithms", "MD5,SHA-256"}},
		{name: "mock on a bad address", args: []string{"mock", "--addr", "256.0.0.1:99999"}, code: 2, stderr: []string{"cannot listen on 256.0.0.1:99999"}, stderrLine: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runCLI(t, tt.env, tt.args...)
			if code != tt.code {
				t.Errorf("exit %d, want %d (stdout %q, stderr %q)", code, tt.code, stdout, stderr)
			}
			for _, w := range tt.stdout {
				if !strings.Contains(stdout, w) {
					t.Errorf("stdout lacks %q:\n%s", w, stdout)
				}
			}
			for _, w := range tt.stderr {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr lacks %q: %q", w, stderr)
				}
			}
			if tt.stderrLine && strings.Count(stderr, "\n") != 1 {
				t.Errorf("stderr is not one line: %q", stderr)
			}
		})
	}
}

func TestFlagBeatsEnvSelectsOnlyTheFlag(t *testing.T) {
	_, stdout, _ := runCLI(t, map[string]string{"OPSCONFORM_PROFILE": "opsmerge"}, "profiles", "--profile", "opmanager")
	if strings.Contains(stdout, "opsmerge") {
		t.Errorf("env value leaked past the flag:\n%s", stdout)
	}
}

// TestProfilesMarkdownIsReadmesTable: --format markdown prints the
// operations table README carries (specs.OperationsMarkdown of the loaded
// profiles), for a --spec file as for the embedded ones.
func TestProfilesMarkdownIsReadmesTable(t *testing.T) {
	code, stdout, stderr := runCLI(t, nil, "profiles", "--format", "markdown")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	ps, err := specs.LoadEmbedded()
	if err != nil {
		t.Fatal(err)
	}
	if want := specs.OperationsMarkdown(ps); stdout != want {
		t.Errorf("--format markdown is not the operations table:\n%s", stdout)
	}
	for _, w := range []string{"### `ivanti-ism`: Ivanti Service Manager", "| GET | `/api/odata/businessobject/incidents` | `listIncidents` | [Ivanti, Get Business Object by Top and Skip](https://help.ivanti.com/"} {
		if !strings.Contains(stdout, w) {
			t.Errorf("--format markdown lacks %q", w)
		}
	}
}

func TestProfilesListsFactsReadFromSpecs(t *testing.T) {
	code, stdout, stderr := runCLI(t, nil, "profiles", "--format", "json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var rows []map[string]any
	if err := json.Unmarshal([]byte(stdout), &rows); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, stdout)
	}
	want := map[string][]string{
		"opmanager":          {"apikey header apikey | query apiKey", `{"error":{code,message}}`, "page/rows default 1,50 max 1000 (clamp)", "read 500/1m, write 100/1m per key"},
		"opsmerge":           {"bearer om_…", `{"data":…}`, "page/per_page default 1,50 max 100 (reject)", "default 300/1m per key, X-RateLimit-*"},
		"mongodb-opsmanager": {"digest MD5 (bound to ip)", "envelope=true wraps", "pageNum/itemsPerPage default 1,100 max 500 (reject)", "default 100/1m per key"},
		"ivanti-ism":         {"rest_api_key=…", "bound to tenant, ip", "$skip/$top default 0,25 max 100 (clamp)", "default 500/1m per key"},
	}
	if len(rows) != len(want) {
		t.Fatalf("%d profiles, want %d", len(rows), len(want))
	}
	for _, r := range rows {
		name, _ := r["name"].(string)
		facts := r["auth"].(string) + " " + r["envelope"].(string) + " " + r["pagination"].(string) + " " + r["rateLimits"].(string)
		for _, w := range want[name] {
			if !strings.Contains(facts, w) {
				t.Errorf("%s: %q lacks %q", name, facts, w)
			}
		}
	}
}

func TestProfilesReadsUserSpecs(t *testing.T) {
	dir := t.TempDir()
	spec := filepath.Join(dir, "inventory.yaml")
	data := `openapi: 3.1.0
info: {title: Inventory, version: "2"}
x-opsconform-rate-limits:
  classes:
    read: {limit: 42, window: 10s}
paths:
  /items:
    get:
      operationId: listItems
      responses:
        "200": {description: ok}
components:
  securitySchemes:
    key: {type: apiKey, in: header, name: X-Api-Key}
`
	if err := os.WriteFile(spec, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := runCLI(t, nil, "profiles", "--spec", spec)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, w := range []string{"inventory", "apikey header X-Api-Key", "read 42/10s per key"} {
		if !strings.Contains(stdout, w) {
			t.Errorf("output lacks %q:\n%s", w, stdout)
		}
	}
	if strings.Contains(stdout, "opsmerge") {
		t.Errorf("--spec alone should not add the embedded profiles:\n%s", stdout)
	}
	code, _, stderr = runCLI(t, nil, "profiles", "--spec", spec, "--spec", spec)
	if code != 2 || !strings.Contains(stderr, `two profiles are named "inventory"`) {
		t.Errorf("duplicate spec: exit %d, stderr %q", code, stderr)
	}
}
