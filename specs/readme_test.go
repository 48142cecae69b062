package specs

import (
	"flag"
	"fmt"
	"os"
	"strings"
	"testing"
)

var updateReadme = flag.Bool("update", false, "rewrite README.md's operations table from the embedded specs")

// readmeFile is the README the operations table lives in.
const readmeFile = "../README.md"

// operationsMarkers delimit the generated operations table in README.md.
var operationsMarkers = [2]string{"<!-- operations:begin -->", "<!-- operations:end -->"}

// TestReadmeOperations: README lists, per profile, every operation the
// embedded specs serve and where each is documented, exactly as
// OperationsMarkdown writes it. After a spec changes, regenerate it with
// `go test ./specs -run TestReadmeOperations -update` (make readme).
func TestReadmeOperations(t *testing.T) {
	ps, err := LoadEmbedded()
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(readmeFile)
	if err != nil {
		t.Fatal(err)
	}
	doc := string(data)
	begin, end := strings.Index(doc, operationsMarkers[0]), strings.Index(doc, operationsMarkers[1])
	if begin < 0 || end < begin {
		t.Fatalf("%s: no %s … %s section for the operations table", readmeFile, operationsMarkers[0], operationsMarkers[1])
	}
	want := OperationsMarkdown(ps)
	got := strings.TrimSpace(doc[begin+len(operationsMarkers[0]) : end])
	if got == strings.TrimSpace(want) {
		return
	}
	if !*updateReadme {
		t.Fatalf("%s: the operations table is not what the embedded specs serve (%s); run go test ./specs -run TestReadmeOperations -update",
			readmeFile, firstLineDifference(got, strings.TrimSpace(want)))
	}
	rewritten := doc[:begin+len(operationsMarkers[0])] + "\n" + want + doc[end:]
	if err := os.WriteFile(readmeFile, []byte(rewritten), 0o644); err != nil {
		t.Fatal(err)
	}
}

// firstLineDifference names the first line where got and want differ.
func firstLineDifference(got, want string) string {
	g, w := strings.Split(got, "\n"), strings.Split(want, "\n")
	for i := range max(len(g), len(w)) {
		var gl, wl string
		if i < len(g) {
			gl = g[i]
		}
		if i < len(w) {
			wl = w[i]
		}
		if gl != wl {
			return fmt.Sprintf("line %d of the table is %q, the specs give %q", i+1, gl, wl)
		}
	}
	return "they differ"
}

// TestOperationsMarkdown: every operation is a row naming its method, path
// and id; externalDocs become links named by their description, the others
// cite the profile's source; pipes never split a cell.
func TestOperationsMarkdown(t *testing.T) {
	p, err := Load("docs.yaml", []byte(`openapi: 3.1.0
info: {title: "Docs | API", version: "1"}
x-opsconform-profile: {name: docs, source: docs-seed.txt}
servers: [{url: "https://example.com/api"}]
paths:
  /things:
    get:
      operationId: listThings
      externalDocs: {url: "https://vendor.example/docs/List Things.htm", description: "Vendor, List Things: GET /api/things"}
      responses: {"200": {description: ok}}
    post:
      operationId: createThing
      externalDocs: {url: "https://vendor.example/docs/create.htm"}
      responses: {"201": {description: ok}}
  /things/{id}:
    delete:
      operationId: deleteThing
      parameters: [{name: id, in: path, required: true, schema: {type: string}}]
      responses: {"204": {description: gone}}
`))
	if err != nil {
		t.Fatal(err)
	}
	md := OperationsMarkdown([]*Profile{p})
	for _, want := range []string{
		"### `docs`: Docs \\| API\n",
		"3 operations under `/api`; 2 cite their own page, the others the profile's source, `docs-seed.txt`.",
		"| GET | `/api/things` | `listThings` | [Vendor, List Things](https://vendor.example/docs/List%20Things.htm) |",
		"| POST | `/api/things` | `createThing` | [vendor.example/…/create.htm](https://vendor.example/docs/create.htm) |",
		"| DELETE | `/api/things/{id}` | `deleteThing` | `docs-seed.txt` (profile source) |",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("the table lacks %q:\n%s", want, md)
		}
	}
	for i, line := range strings.Split(strings.TrimSpace(md), "\n") {
		if strings.HasPrefix(line, "| ") && strings.Count(strings.ReplaceAll(line, `\|`, ""), "|") != 5 {
			t.Errorf("line %d has a stray pipe: %s", i+1, line)
		}
	}
}
