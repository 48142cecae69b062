package specs

import (
	"errors"
	"sort"
	"strconv"
	"strings"

	"github.com/pb33f/libopenapi/datamodel/high/base"
	v3 "github.com/pb33f/libopenapi/datamodel/high/v3"
	"github.com/pb33f/libopenapi/utils"
	"go.yaml.in/yaml/v4"
)

// UniqueExtension marks a schema property whose value identifies its item
// within its collection, besides the collection's id field: an incident or
// ticket number. The mock keeps it unique in fixtures, generated data and
// creates (numbers counting up); see EXTENSIONS.md.
const UniqueExtension = "x-opsconform-unique"

// schemaExtensions are the x-opsconform-* extensions a schema may carry.
var schemaExtensions = []string{UniqueExtension, RefExtension}

// Unique reports whether s is marked x-opsconform-unique: true.
func Unique(s *base.Schema) bool {
	if s == nil || s.Extensions == nil {
		return false
	}
	n, ok := s.Extensions.Get(UniqueExtension)
	return ok && n != nil && n.Tag == "!!bool" && n.Value == "true"
}

// schemaExtensions checks every schema the profile can reach (components
// and each operation's bodies) for x-opsconform-* extensions that do not
// belong on a schema, x-opsconform-unique values that are not booleans and
// x-opsconform-ref values that name no collection of the profile.
//
// It reads the description's own nodes (schemaExtensionNodes) where every
// schema reference is a plain #/components/schemas/ one, as in the embedded
// descriptions: walking libopenapi's schemas renders each of them, once per
// $ref, which was a third of an embedded profile's load time and 4 MiB kept
// for good, for schemas otherwise rendered on first use or never. Anything
// else (a $ref with siblings, to another file, an alias) takes the walk over
// the rendered schemas, which finds the same first error: both visit
// schemas in the same order, and a schema seen twice is judged the same.
func (l *loader) schemaExtensions(p *Profile, m *v3.Document) error {
	if schemaWalkNodes {
		if err, ok := l.schemaExtensionNodes(p); ok {
			return err
		}
	}
	return l.schemaExtensionModels(p, m)
}

// schemaWalkNodes is false only in tests that compare schemaExtensions'
// two walks.
var schemaWalkNodes = true

// schemaExtensionModels is schemaExtensions over libopenapi's rendered schemas.
func (l *loader) schemaExtensionModels(p *Profile, m *v3.Document) error {
	seen := map[*base.Schema]bool{}
	var walk func(where string, s *base.Schema) error
	walk = func(where string, s *base.Schema) error {
		if s == nil || seen[s] {
			return nil
		}
		seen[s] = true
		if err := l.knownExtensions(s.Extensions, where, schemaExtensions); err != nil {
			return err
		}
		if s.Extensions != nil {
			if n, ok := s.Extensions.Get(UniqueExtension); ok && (n == nil || n.Tag != "!!bool") {
				return l.errorf(n, "%s.%s: want true or false", where, UniqueExtension)
			}
			if n, ok := s.Extensions.Get(RefExtension); ok && n != nil {
				if err := l.checkRef(p, where, n); err != nil {
					return err
				}
			}
		}
		if s.Properties != nil {
			for name, proxy := range s.Properties.FromOldest() {
				if err := walk(where+".properties."+name, proxy.Schema()); err != nil {
					return err
				}
			}
		}
		if s.Items != nil && s.Items.IsA() {
			if err := walk(where+".items", s.Items.A.Schema()); err != nil {
				return err
			}
		}
		for _, group := range [][]*base.SchemaProxy{s.AllOf, s.OneOf, s.AnyOf} {
			for i, proxy := range group {
				if err := walk(where+".*Of["+strconv.Itoa(i)+"]", proxy.Schema()); err != nil {
					return err
				}
			}
		}
		return nil
	}
	if m.Components != nil && m.Components.Schemas != nil {
		for name, proxy := range m.Components.Schemas.FromOldest() {
			if err := walk("components.schemas."+name, proxy.Schema()); err != nil {
				return err
			}
		}
	}
	for _, op := range p.Operations {
		if op.Body != nil {
			if err := walk(op.ID+".requestBody", op.Body.Schema); err != nil {
				return err
			}
		}
		statuses := make([]int, 0, len(op.Responses))
		for st := range op.Responses {
			statuses = append(statuses, st)
		}
		sort.Ints(statuses)
		for _, st := range statuses {
			if err := walk(op.ID+".responses."+strconv.Itoa(st), op.Responses[st].Schema); err != nil {
				return err
			}
		}
	}
	return nil
}

// errNodeWalk stops schemaExtensionNodes at something only libopenapi's
// model resolves as the model walk would.
var errNodeWalk = errors.New("specs: schema not walked in nodes")

// schemaNodeWalk is schemaExtensionModels' walk over the YAML nodes the
// schemas are read from, in the same order: components, then each
// operation's request and response schemas; within a schema its
// extensions, then properties, items, allOf, oneOf and anyOf.
type schemaNodeWalk struct {
	l          *loader
	p          *Profile
	components map[string]*yaml.Node // components.schemas by name
	seen       map[*yaml.Node]bool
}

// schemaExtensionNodes is schemaExtensions over the description's nodes;
// ok is false when it met something it does not resolve as libopenapi does
// before any error, and the model walk must decide.
func (l *loader) schemaExtensionNodes(p *Profile) (err error, ok bool) {
	if l.info == nil || l.info.RootNode == nil {
		return nil, false
	}
	root := l.info.RootNode
	if root.Kind == yaml.DocumentNode && len(root.Content) == 1 {
		root = root.Content[0]
	}
	w := &schemaNodeWalk{l: l, p: p, components: map[string]*yaml.Node{}, seen: map[*yaml.Node]bool{}}
	var names []string
	components := field(root, "components")
	schemas := field(components, "schemas")
	if components != nil && components.Kind != yaml.MappingNode || schemas != nil && schemas.Kind != yaml.MappingNode {
		return nil, false
	}
	if schemas != nil {
		for i := 0; i+1 < len(schemas.Content); i += 2 {
			name := schemas.Content[i].Value
			if _, dup := w.components[name]; dup {
				return nil, false
			}
			w.components[name] = schemas.Content[i+1]
			names = append(names, name)
		}
	}
	walk := func(where string, n *yaml.Node) bool {
		if err = w.walk(where, n); err == errNodeWalk {
			return false
		}
		return err == nil
	}
	for _, name := range names {
		if !walk("components.schemas."+name, w.components[name]) {
			return err, err != errNodeWalk
		}
	}
	for _, op := range p.Operations {
		if b := op.Body; b != nil && b.Schema != nil {
			if !walk(op.ID+".requestBody", mediaSchemaNode(b.Media)) {
				return err, err != errNodeWalk
			}
		}
		statuses := make([]int, 0, len(op.Responses))
		for st := range op.Responses {
			statuses = append(statuses, st)
		}
		sort.Ints(statuses)
		for _, st := range statuses {
			if r := op.Responses[st]; r.Schema != nil {
				if !walk(op.ID+".responses."+strconv.Itoa(st), mediaSchemaNode(r.Media)) {
					return err, err != errNodeWalk
				}
			}
		}
	}
	return nil, true
}

// field is key's value in a mapping node as written: an alias stays one.
func field(n *yaml.Node, key string) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

// mediaSchemaNode is the node a media type's schema is read from; nil when
// it has none.
func mediaSchemaNode(m *v3.MediaType) *yaml.Node {
	if m == nil || m.Schema == nil || m.Schema.GoLow() == nil {
		return nil
	}
	return m.Schema.GoLow().GetValueNode()
}

// resolve follows a schema node's plain #/components/schemas/ references to
// the schema itself; ok is false for any other reference, a $ref with
// siblings (which libopenapi rewrites) or an alias.
func (w *schemaNodeWalk) resolve(n *yaml.Node) (_ *yaml.Node, ok bool) {
	for range 64 {
		if n == nil || n.Kind == yaml.AliasNode {
			return nil, false
		}
		if n.Kind != yaml.MappingNode {
			return n, true
		}
		ref := field(n, "$ref")
		if ref == nil {
			return n, true
		}
		name, local := strings.CutPrefix(ref.Value, "#/components/schemas/")
		if len(n.Content) != 2 || ref.Kind != yaml.ScalarNode || !local || strings.ContainsAny(name, "/~%") {
			return nil, false
		}
		if n = w.components[name]; n == nil {
			return nil, false
		}
	}
	return nil, false // a chain of references this long is not worth judging here
}

func (w *schemaNodeWalk) walk(where string, n *yaml.Node) error {
	n, ok := w.resolve(n)
	if !ok {
		return errNodeWalk
	}
	if n.Kind != yaml.MappingNode || w.seen[n] {
		return nil // a boolean schema has no extensions and nothing under it
	}
	w.seen[n] = true
	keys := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := n.Content[i]
		if keys[k.Value] || k.Kind != yaml.ScalarNode || k.Value == "<<" {
			return errNodeWalk // a repeated key, or a merge: how libopenapi reads them is its business
		}
		keys[k.Value] = true
		if name := k.Value; strings.HasPrefix(name, "x-opsconform-") && !slicesContain(schemaExtensions, name) {
			return w.l.unknownExtension(utils.NodeAlias(n.Content[i+1]), where, name, schemaExtensions)
		}
	}
	if v := utils.NodeAlias(field(n, UniqueExtension)); keys[UniqueExtension] && (v == nil || v.Tag != "!!bool") {
		return w.l.errorf(v, "%s.%s: want true or false", where, UniqueExtension)
	}
	if v := utils.NodeAlias(field(n, RefExtension)); v != nil {
		if err := w.l.checkRef(w.p, where, v); err != nil {
			return err
		}
	}
	if props := field(n, "properties"); props != nil && props.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(props.Content); i += 2 {
			if err := w.walk(where+".properties."+props.Content[i].Value, props.Content[i+1]); err != nil {
				return err
			}
		}
	} else if props != nil {
		return errNodeWalk
	}
	if items := field(n, "items"); items != nil {
		switch items.Kind {
		case yaml.MappingNode:
			if err := w.walk(where+".items", items); err != nil {
				return err
			}
		case yaml.ScalarNode: // items: true or false, a 3.1 boolean schema
		default:
			return errNodeWalk
		}
	}
	for _, key := range []string{"allOf", "oneOf", "anyOf"} {
		group := field(n, key)
		if group == nil {
			continue
		}
		if group.Kind != yaml.SequenceNode {
			return errNodeWalk
		}
		for i, s := range group.Content {
			if err := w.walk(where+".*Of["+strconv.Itoa(i)+"]", s); err != nil {
				return err
			}
		}
	}
	return nil
}
