package gen_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/opsconform/opsconform/mock/gen"
	"github.com/opsconform/opsconform/specs"
)

// TestGeneratedValuesValidate: for every corpus spec, every JSON response
// schema and request body schema, values generated with several seeds (with
// and without examples) validate against the schema they came from.
func TestGeneratedValuesValidate(t *testing.T) {
	entries, err := os.ReadDir("../../specs/testdata/corpus")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		file := filepath.Join("../../specs/testdata/corpus", e.Name())
		if e.IsDir() {
			file = filepath.Join(file, "main.yaml")
		}
		t.Run(e.Name(), func(t *testing.T) {
			t.Parallel()
			p, err := specs.LoadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			for _, op := range p.Operations {
				var cases []struct {
					r   *specs.Response
					dir gen.Direction
				}
				for _, r := range op.Responses {
					cases = append(cases, struct {
						r   *specs.Response
						dir gen.Direction
					}{r, gen.Response})
				}
				if op.Body != nil {
					cases = append(cases, struct {
						r   *specs.Response
						dir gen.Direction
					}{&specs.Response{Schema: op.Body.Schema, ContentType: op.Body.ContentType}, gen.Request})
				}
				for _, c := range cases {
					if c.r.Schema == nil || c.r.ContentType == "" {
						continue
					}
					for seed := range 5 {
						for _, examples := range []bool{false, true} {
							v := gen.New(uint64(seed), gen.Options{Direction: c.dir, Examples: examples}).Value(c.r.Schema, "")
							dir := specs.ToClient
							if c.dir == gen.Request {
								dir = specs.ToServer
							}
							if err := p.CheckValue(c.r.Schema, dir, v); err != nil {
								t.Errorf("%s %d (seed %d, examples %v): %v\n%v", op.ID, c.r.Status, seed, examples, err, v)
							}
						}
					}
				}
			}
		})
	}
}

// TestCapsBoundEveryValue: whatever a schema asks, one value stays within
// the caps (items, string length, nodes) and comes back quickly.
func TestCapsBoundEveryValue(t *testing.T) {
	p, err := specs.Load("caps.yaml", []byte(`openapi: 3.1.0
info: {title: Caps, version: "1"}
paths:
  /x:
    get:
      responses:
        "200":
          description: ok
          content:
            application/json:
              schema:
                type: object
                required: [many, long, deep]
                properties:
                  many: {type: array, minItems: 1000000000000, items: {type: integer}}
                  long: {type: string, minLength: 100000000}
                  deep: {$ref: "#/components/schemas/Deep"}
components:
  schemas:
    Deep:
      type: object
      required: [next, wide]
      properties:
        next: {$ref: "#/components/schemas/Deep"}
        wide: {type: array, minItems: 50, items: {$ref: "#/components/schemas/Deep"}}
`))
	if err != nil {
		t.Fatal(err)
	}
	s := p.Operations[0].Success().Schema
	v := gen.New(1, gen.Options{}).Value(s, "").(map[string]any)
	if n := len(v["many"].([]any)); n != gen.DefaultCaps.Items {
		t.Errorf("many has %d items, want the cap %d", n, gen.DefaultCaps.Items)
	}
	if n := len(v["long"].(string)); n != gen.DefaultCaps.StringLength {
		t.Errorf("long has %d characters, want the cap %d", n, gen.DefaultCaps.StringLength)
	}
	var count func(any) int
	count = func(x any) int {
		switch y := x.(type) {
		case map[string]any:
			n := 1
			for _, e := range y {
				n += count(e)
			}
			return n
		case []any:
			n := 1
			for _, e := range y {
				n += count(e)
			}
			return n
		}
		return 1
	}
	if n := count(v["deep"]); n > 2*gen.DefaultCaps.Nodes {
		t.Errorf("deep has %d nodes, want about the cap %d", n, gen.DefaultCaps.Nodes)
	}
}

func TestParamText(t *testing.T) {
	tests := []struct {
		v    any
		want string
	}{
		{[]any{"a", int64(2), true}, "a,2,true"},
		{map[string]any{"k": "v"}, `{"k":"v"}`},
		{1e6, "1000000"},
		{2.5, "2.5"},
		{nil, ""},
		{"plain", "plain"},
		{int64(7), "7"},
	}
	for _, tt := range tests {
		if got := gen.ParamText(tt.v); got != tt.want {
			t.Errorf("ParamText(%#v) = %q, want %q", tt.v, got, tt.want)
		}
	}
}
