package mock

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/opsconform/opsconform/specs"
)

// TestServesAnyOpenAPIFile: a spec with no extensions, no security and no
// fixtures is served from its schemas, with generic problem-details errors.
func TestServesAnyOpenAPIFile(t *testing.T) {
	p, err := specs.Load("pets.yaml", []byte(`openapi: 3.1.0
info: {title: Pets, version: "1"}
servers: [{url: http://localhost/v1}]
paths:
  /pets:
    get:
      operationId: listPets
      parameters:
        - {name: limit, in: query, schema: {type: integer, maximum: 10}}
      responses:
        "200":
          description: ok
          content:
            application/json:
              schema: {type: array, items: {$ref: "#/components/schemas/Pet"}}
components:
  schemas:
    Pet:
      type: object
      required: [id, name]
      properties:
        id: {type: integer, minimum: 1}
        name: {type: string, example: Rex}
        parent: {$ref: "#/components/schemas/Pet"}
`))
	if err != nil {
		t.Fatal(err)
	}
	srv, err := New(Options{Profiles: []*specs.Profile{p}})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	defer hs.Close()
	resp, err := http.Get(hs.URL + "/v1/pets")
	if err != nil {
		t.Fatal(err)
	}
	var pets []map[string]any
	err = json.NewDecoder(resp.Body).Decode(&pets)
	resp.Body.Close()
	if err != nil || resp.StatusCode != 200 || len(pets) == 0 {
		t.Fatalf("GET /v1/pets: %d %v %v", resp.StatusCode, pets, err)
	}
	raw, _ := json.Marshal(pets)
	if strings.Contains(string(raw), "null") || pets[0]["name"] != "Rex" {
		t.Errorf("generated pets %s: want no nulls (the self-reference must end) and the example name", raw)
	}
	resp, _ = http.Get(hs.URL + "/v1/pets?limit=50")
	resp.Body.Close()
	if resp.StatusCode != 400 || resp.Header.Get("Content-Type") != "application/problem+json" {
		t.Errorf("limit=50: %d %s, want 400 problem+json", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
}
