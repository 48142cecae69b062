package specs

import (
	"fmt"
	"strings"

	"github.com/pb33f/libopenapi/datamodel/high/base"
	"go.yaml.in/yaml/v4"
)

// RefExtension marks a schema property whose value names an item of another
// collection (an incident's ProfileLink_RecID is an employee's RecId): the
// mock gives generated and created items the id of an existing item there,
// so fixtures cross-reference. See EXTENSIONS.md.
const RefExtension = "x-opsconform-ref"

// Ref is one collection a property may point into, and the sibling fields an
// item pointing there carries (a journal note pointing at an incident has
// ParentLink_Category "Incident").
type Ref struct {
	Collection string
	With       map[string]any
}

type xRef struct {
	Collection string         `yaml:"collection"`
	With       map[string]any `yaml:"with"`
}

// Refs decodes s's x-opsconform-ref: a collection name, or a list of
// {collection, with}. Nil when s carries none; the loader has checked the
// form, so an error here only concerns schemas that were never loaded.
func Refs(s *base.Schema) ([]Ref, error) {
	if s == nil || s.Extensions == nil {
		return nil, nil
	}
	n, ok := s.Extensions.Get(RefExtension)
	if !ok || n == nil {
		return nil, nil
	}
	return decodeRefs(n)
}

func decodeRefs(n *yaml.Node) ([]Ref, error) {
	switch n.Kind {
	case yaml.ScalarNode:
		if n.Tag != "!!str" || strings.TrimSpace(n.Value) == "" {
			return nil, fmt.Errorf("want a collection name or a list of {collection, with}")
		}
		return []Ref{{Collection: n.Value}}, nil
	case yaml.SequenceNode:
		if len(n.Content) == 0 {
			return nil, fmt.Errorf("an empty list: name at least one collection")
		}
		out := make([]Ref, 0, len(n.Content))
		for i, e := range n.Content {
			var x xRef
			if err := e.Load(&x, yaml.WithKnownFields()); err != nil {
				return nil, fmt.Errorf("[%d]: %v (want {collection, with})", i, err)
			}
			if x.Collection == "" {
				return nil, fmt.Errorf("[%d].collection: missing", i)
			}
			out = append(out, Ref(x))
		}
		return out, nil
	}
	return nil, fmt.Errorf("want a collection name or a list of {collection, with}")
}

// dataCollections are the names of the collections the profile's
// operations keep in the mock's data.
func dataCollections(p *Profile) map[string]bool {
	out := map[string]bool{}
	for _, op := range p.Operations {
		if r := op.Resource; r != nil && r.Source == SourceData {
			out[r.Collection] = true
		}
	}
	return out
}

// checkRef checks one schema's x-opsconform-ref against the profile: its
// form, and that every collection it names is one the operations keep.
func (l *loader) checkRef(p *Profile, where string, n *yaml.Node) error {
	refs, err := decodeRefs(n)
	if err != nil {
		return l.errorf(n, "%s.%s: %v", where, RefExtension, err)
	}
	known := dataCollections(p)
	for _, r := range refs {
		if !known[r.Collection] {
			return l.errorf(n, "%s.%s: no operation keeps a collection %q (have: %s)", where, RefExtension, r.Collection, strings.Join(sortedKeys(known), ", "))
		}
	}
	return nil
}
