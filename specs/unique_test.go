package specs

import (
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
