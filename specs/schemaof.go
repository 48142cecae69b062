package specs

import (
	"context"
	"sync"

	"github.com/pb33f/libopenapi/datamodel/high/base"
	"github.com/pb33f/libopenapi/datamodel/low"
	lowbase "github.com/pb33f/libopenapi/datamodel/low/base"
)

// siblingRefs caches the schemas SchemaOf builds for $refs with siblings.
var siblingRefs sync.Map // *lowbase.SchemaProxy → *base.Schema

// SchemaOf is the schema a proxy stands for. It differs from proxy.Schema()
// for a $ref with sibling keywords ({$ref: Pet, description: …}), common in
// real specs: libopenapi's high-level Schema() then holds only the siblings,
// dropping the reference. Here it is the allOf of both that libopenapi itself
// builds underneath, so the target's type and properties are there (under
// 3.0 the siblings are annotations anyway).
func SchemaOf(p *base.SchemaProxy) *base.Schema {
	if p == nil {
		return nil
	}
	lp := p.GoLow()
	if lp == nil || !lp.IsTransformedRefWithSiblings() {
		return p.Schema()
	}
	if s, ok := siblingRefs.Load(lp); ok {
		return s.(*base.Schema)
	}
	n := lp.GetTransformedRefAllOfSchema()
	if n == nil {
		return p.Schema()
	}
	var built lowbase.SchemaProxy
	if err := built.Build(context.Background(), nil, n, lp.GetIndex()); err != nil {
		return p.Schema()
	}
	s := base.NewSchemaProxy(&low.NodeReference[*lowbase.SchemaProxy]{Value: &built, ValueNode: n}).Schema()
	if s == nil {
		return p.Schema()
	}
	siblingRefs.Store(lp, s)
	return s
}
