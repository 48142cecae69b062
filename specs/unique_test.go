package specs

import (
	"fmt"
	"strings"
	"testing"
)

func TestUniqueMarksInTheEmbeddedSpecs(t *testing.T) {
	ps := loadEmbedded(t)
	want := map[string]map[string][]string{
		"ivanti-ism": {"Incident": {"IncidentNumber"}, "Change": {"ChangeNumber"}},
		"opsmerge":   {"Ticket": {"number"}},
		"opmanager":  {"Device": {"name"}},
	}
	for profile, schemas := range want {
		m := ps[profile].Model
		for schema, props := range schemas {
			proxy, ok := m.Components.Schemas.Get(schema)
			if !ok {
				t.Fatalf("%s has no schema %s", profile, schema)
			}
			s := proxy.Schema()
			for name, p := range s.Properties.FromOldest() {
				marked := false
				for _, w := range props {
					marked = marked || w == name
				}
				if got := Unique(p.Schema()); got != marked {
					t.Errorf("%s %s.%s: Unique = %v, want %v", profile, schema, name, got, marked)
				}
			}
		}
	}
}

func TestSchemaExtensionsChecked(t *testing.T) {
	tests := []struct{ name, prop, want string }{
		{"not a boolean", "{type: integer, x-opsconform-unique: yes please}", "components.schemas.Item.properties.n.x-opsconform-unique: want true or false"},
		{"unknown extension", "{type: integer, x-opsconform-uniq: true}", "unknown extension x-opsconform-uniq (known here: x-opsconform-unique, x-opsconform-ref)"},
		{"ref to no collection", "{type: string, x-opsconform-ref: employees}", `properties.n.x-opsconform-ref: no operation keeps a collection "employees"`},
		{"ref of another form", "{type: string, x-opsconform-ref: {collection: employees}}", "x-opsconform-ref: want a collection name or a list of {collection, with}"},
		{"ref list without a collection", "{type: string, x-opsconform-ref: [{with: {a: b}}]}", "x-opsconform-ref: [0].collection: missing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			spec := `openapi: 3.1.0
info: {title: T, version: "1"}
paths: {}
components:
  schemas:
    Item:
      type: object
      properties:
        n: ` + tt.prop + "\n"
			_, err := Load("t.yaml", []byte(spec))
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "t.yaml:") {
				t.Errorf("err = %v, want one naming t.yaml and %q", err, tt.want)
			}
		})
	}
	ok := "openapi: 3.1.0\ninfo: {title: T, version: \"1\"}\npaths: {}\ncomponents:\n  schemas:\n    Item:\n      properties:\n        n: {type: integer, x-opsconform-unique: false}\n"
	if _, err := Load("t.yaml", []byte(ok)); err != nil {
		t.Errorf("x-opsconform-unique: false: %v", err)
	}
}

// TestSchemaExtensionNodeWalk: the embedded descriptions are checked in
// their nodes, without rendering a schema (what that saves is start-up), and
// on descriptions that break the rules in each place a schema can, the node
// walk and the walk over libopenapi's schemas report the same first error.
func TestSchemaExtensionNodeWalk(t *testing.T) {
	for _, p := range loadEmbedded(t) {
		l := &loader{file: p.File, info: p.Document.GetSpecInfo()}
		if err, ok := l.schemaExtensionNodes(p); !ok || err != nil {
			t.Errorf("%s: node walk: %v, ok %v; want it taken, and no error", p.Name, err, ok)
		}
	}
	const head = `openapi: 3.0.3
info: {title: T, version: "1"}
x-opsconform-profile: {name: t}
paths:
  /things:
    get:
      operationId: listThings
      x-opsconform-resource: {collection: things, action: list}
      responses:
        "200":
          description: ok
          content:
            application/json:
              schema: {type: array, items: {$ref: '#/components/schemas/Thing'}}
    post:
      operationId: createThing
      x-opsconform-resource: {collection: things, action: create}
      requestBody:
        content:
          application/json:
            schema: BODY
      responses:
        "201":
          description: made
          content:
            application/json:
              schema: CREATED
components:
  schemas:
    Thing:
      type: object
      properties:
        id: {type: string}
        owner: {$ref: '#/components/schemas/Owner'}
        tags: {type: array, items: TAG}
        kind: {allOf: [{$ref: '#/components/schemas/Kind'}, KINDBRANCH]}
    Owner:
      type: object
      properties:
        name: OWNERNAME
    Kind: {type: string}
`
	fill := func(body, created, tag, branch, owner string) string {
		r := strings.NewReplacer("BODY", body, "CREATED", created, "TAG", tag, "KINDBRANCH", branch, "OWNERNAME", owner)
		return r.Replace(head)
	}
	ok := "{type: string}"
	ref := "{$ref: '#/components/schemas/Thing'}"
	cases := map[string]string{
		"clean":                                  fill(ref, ref, ok, ok, ok),
		"in a component reached by a $ref first": fill(ref, ref, ok, ok, "{type: string, x-opsconform-uniq: true}"),
		"in items":                               fill(ref, ref, "{type: string, x-opsconform-unique: maybe}", ok, ok),
		"in an allOf branch":                     fill(ref, ref, ok, "{x-opsconform-ref: nowhere}", ok),
		"in a request body":                      fill("{type: object, properties: {x: {type: string, x-opsconform-ref: [{}]}}}", ref, ok, ok, ok),
		"in a response":                          fill(ref, "{type: object, x-opsconform-resource: {}}", ok, ok, ok),
		"a $ref with siblings":                   fill("{$ref: '#/components/schemas/Thing', description: d}", ref, ok, ok, "{type: string, x-opsconform-unique: 1}"),
		"after a $ref with siblings": strings.Replace(fill(ref, ref, "{x-opsconform-unique: 3}", ok, ok),
			"owner: {$ref: '#/components/schemas/Owner'}", "owner: {$ref: '#/components/schemas/Owner', description: d}", 1),
		"two errors, the first wins": fill("{x-opsconform-unique: no}", ref, "{x-opsconform-unique: 2}", ok, ok),
	}
	for name, spec := range cases {
		nodes, nodesErr := Load("t.yaml", []byte(spec))
		schemaWalkNodes = false
		_, modelsErr := Load("t.yaml", []byte(spec))
		schemaWalkNodes = true
		if fmt.Sprint(nodesErr) != fmt.Sprint(modelsErr) {
			t.Errorf("%s: node walk: %v\nmodel walk: %v", name, nodesErr, modelsErr)
		}
		if name == "clean" && (nodesErr != nil || nodes == nil) {
			t.Errorf("clean: %v", nodesErr)
		}
		if name != "clean" && nodesErr == nil {
			t.Errorf("%s: no error", name)
		}
	}
}
