package mock

import (
	"github.com/opsconform/opsconform/mock/gen"
	"github.com/pb33f/libopenapi/datamodel/high/base"
	"go.yaml.in/yaml/v4"
)

// generator makes values that validate against a schema, deterministically:
// the same seed and the same sequence of calls give the same values (see
// package gen, which also documents the caps). It is not safe for
// concurrent use; requests make their own (requestGenerator) so that no lock
// is held while generating.
type generator struct {
	plain, examples *gen.Generator
}

func newGenerator(seed uint64) *generator {
	return &generator{
		plain:    gen.New(seed, gen.Options{Direction: gen.Response}),
		examples: gen.New(seed, gen.Options{Direction: gen.Response, Examples: true}),
	}
}

// value generates a response value for s; useExamples lets spec examples win.
func (g *generator) value(s *base.Schema, name string, useExamples bool, _ int) any {
	if useExamples {
		return g.examples.Value(s, name)
	}
	return g.plain.Value(s, name)
}

// schemaType is the type generated for s (see gen.Kind).
func schemaType(s *base.Schema) string { return gen.Kind(s) }

// decodeNode turns a YAML node (an example, enum value or const) into a JSON-shaped value.
func decodeNode(n *yaml.Node) any { return gen.Decode(n) }

func singular(name string) string {
	if len(name) > 1 && name[len(name)-1] == 's' {
		return name[:len(name)-1]
	}
	return name
}
