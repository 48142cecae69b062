package specs

import (
	"bytes"
	"container/list"
	"encoding/json"
	"fmt"
	"strings"
	"sync"

	validator "github.com/pb33f/libopenapi-validator"
	"github.com/pb33f/libopenapi-validator/cache"
	"github.com/pb33f/libopenapi-validator/config"
	"github.com/pb33f/libopenapi-validator/helpers"
	"github.com/pb33f/libopenapi-validator/schema_validation"
	"github.com/pb33f/libopenapi/datamodel/high/base"
	v3 "github.com/pb33f/libopenapi/datamodel/high/v3"
	"github.com/pb33f/libopenapi/index"
	"github.com/pb33f/libopenapi/orderedmap"
	"github.com/santhosh-tekuri/jsonschema/v6"
	"go.yaml.in/yaml/v4"
)

// Bounds of the validator caches: a spec of any size costs at most this much.
const (
	// MaxCachedValidators is how many per-path validators a profile keeps;
	// the least recently used goes first.
	MaxCachedValidators = 256
	// MaxCachedSchemas is how many compiled body schemas a profile keeps.
	MaxCachedSchemas = 2048
	// maxRenderNodes bounds one schema's rendering; past it the validator's
	// own (slower, whole-document) compilation takes over.
	maxRenderNodes = 500_000
)

// validatorCache builds libopenapi-validator validators per path item on
// first use and keeps the most recently used. The library's own constructor
// compiles every schema of the document up front (minutes on GitHub's 13 MB
// description); here each validator sees a document holding one path item,
// whose body schemas are compiled by compileBodySchemas, so the cost of a
// request is independent of the size of the spec.
type validatorCache struct {
	mu    sync.Mutex // guards byPath and lru
	byKey map[string]*list.Element
	lru   *list.List // of *cachedValidator, most recent first

	schemas *boundedSchemaCache
}

type cachedValidator struct {
	key  string
	once sync.Once
	v    validator.Validator
}

// Validator is the request and response validator for op's path item, built
// on first use and cached (bounded by MaxCachedValidators). It is safe for
// concurrent use. Security is not validated: the mock and the suites check
// credentials themselves.
func (p *Profile) Validator(op *Operation) validator.Validator {
	p.validatorsOnce.Do(func() {
		p.validators = &validatorCache{byKey: map[string]*list.Element{}, lru: list.New(), schemas: newBoundedSchemaCache(MaxCachedSchemas)}
	})
	vc := p.validators
	vc.mu.Lock()
	el, ok := vc.byKey[op.Template]
	if ok {
		vc.lru.MoveToFront(el)
	} else {
		el = vc.lru.PushFront(&cachedValidator{key: op.Template})
		vc.byKey[op.Template] = el
		for vc.lru.Len() > MaxCachedValidators {
			last := vc.lru.Back()
			vc.lru.Remove(last)
			delete(vc.byKey, last.Value.(*cachedValidator).key)
		}
	}
	cv := el.Value.(*cachedValidator)
	vc.mu.Unlock()
	// Built outside the cache's lock: a slow build holds up only its own path.
	cv.once.Do(func() { cv.v = p.buildValidator(op, vc.schemas) })
	return cv.v
}

// ValidationOptions are the options every validator of the profile uses.
func (p *Profile) validationOptions(schemas cache.SchemaCache) []config.Option {
	opts := []config.Option{
		config.WithoutSecurityValidation(),
		config.WithStandardBodyDecoders(),
	}
	if schemas != nil {
		opts = append(opts, config.WithSchemaCache(schemas))
	}
	if !p.is30() {
		// Under 3.1 an unknown keyword (a stray nullable) is an annotation; the
		// library's OpenAPI vocabulary would refuse to compile such schemas.
		opts = append(opts, config.WithoutOpenAPIMode())
	}
	return opts
}

func (p *Profile) is30() bool {
	return p.Model != nil && strings.HasPrefix(p.Model.Version, "3.0")
}

func (p *Profile) buildValidator(op *Operation, schemas *boundedSchemaCache) validator.Validator {
	mini := *p.Model
	paths := &v3.Paths{PathItems: orderedmap.New[string, *v3.PathItem]()}
	paths.PathItems.Set(op.Template, op.PathItem)
	mini.Paths = paths
	options := config.NewValidationOptions(p.validationOptions(schemas)...)
	version := helpers.VersionToFloat(p.Model.Version)
	for _, sibling := range op.PathItem.GetOperations().FromOldest() {
		p.compileBodySchemas(sibling, options, version, schemas)
	}
	compileMu.Lock() // the library renders parameter schemas, writing to them (specs/validator.go)
	defer compileMu.Unlock()
	return validator.NewValidatorFromV3Model(&mini, p.validationOptions(schemas)...)
}

// compileBodySchemas compiles an operation's request and response body
// schemas with schemaJSON and stores them where the validator looks them up.
func (p *Profile) compileBodySchemas(op *v3.Operation, options *config.ValidationOptions, version float32, schemas *boundedSchemaCache) {
	compile := func(mt *v3.MediaType, purpose schema_validation.SchemaValidationPurpose, dir Direction) {
		if mt == nil || mt.Schema == nil {
			return
		}
		s := mt.Schema.Schema()
		if s == nil || s.GoLow() == nil {
			return
		}
		key := schema_validation.SchemaCacheKey(s.GoLow().Hash(), version, purpose)
		if _, ok := schemas.Load(key); ok {
			return
		}
		js, err := SchemaJSON(s, dir, p.is30())
		if err != nil {
			return // the library compiles it its own way
		}
		compiled, err := helpers.NewCompiledSchemaWithVersion(fmt.Sprintf("%x", key), js, options, version)
		if err != nil {
			return
		}
		schemas.Store(key, &cache.SchemaCacheEntry{Schema: s, RenderedInline: js, ReferenceSchema: string(js), RenderedJSON: js, CompiledSchema: compiled})
	}
	if op.RequestBody != nil && op.RequestBody.Content != nil {
		for _, mt := range op.RequestBody.Content.FromOldest() {
			compile(mt, schema_validation.SchemaValidationPurposeRequestBody, ToServer)
		}
	}
	if op.Responses != nil {
		var all []*v3.Response
		if op.Responses.Codes != nil {
			for _, r := range op.Responses.Codes.FromOldest() {
				all = append(all, r)
			}
		}
		if op.Responses.Default != nil {
			all = append(all, op.Responses.Default)
		}
		for _, r := range all {
			if r == nil || r.Content == nil {
				continue
			}
			for _, mt := range r.Content.FromOldest() {
				compile(mt, schema_validation.SchemaValidationPurposeResponseBody, ToClient)
			}
		}
	}
}

// Direction is which way a value travels: it decides whether readOnly or
// writeOnly properties may be required.
type Direction int

// The directions.
const (
	ToClient Direction = iota // a response: writeOnly properties are absent
	ToServer                  // a request: readOnly properties are absent
)

// SchemaJSON renders s as one self-contained JSON Schema document: every
// $ref it reaches (in this file or another) becomes an entry of $defs, so
// the result costs what the schema reaches, never the whole document, and
// cycles stay cycles. It applies what OpenAPI says over plain JSON Schema:
// a 3.0 $ref ignores its siblings; a oneOf or anyOf with a discriminator
// picks its branch by the discriminator's value (so branches that overlap
// do not make valid bodies fail "exactly one"); readOnly properties are not
// required in requests and writeOnly ones not in responses. Under 3.1,
// nullable is an annotation and dropped; under 3.0 it is left for the
// library's 3.0 transformation.
func SchemaJSON(s *base.Schema, dir Direction, v30 bool) ([]byte, error) {
	low := s.GoLow()
	if low == nil || low.GetRootNode() == nil {
		return nil, fmt.Errorf("the schema has no source")
	}
	r := &renderer{defs: map[string]any{}, names: map[string]string{}, taken: map[string]bool{}, dir: dir, v30: v30}
	root := r.schema(low.GetRootNode(), low.GetIndex(), 0)
	if r.nodes > maxRenderNodes {
		return nil, fmt.Errorf("the schema reaches more than %d nodes", maxRenderNodes)
	}
	if m, ok := root.(map[string]any); ok && len(r.defs) > 0 {
		m["$defs"] = r.defs
	} else if len(r.defs) > 0 {
		root = map[string]any{"allOf": []any{root}, "$defs": r.defs}
	}
	return json.Marshal(root)
}

type renderer struct {
	defs  map[string]any
	names map[string]string // (index, definition) → name in $defs
	taken map[string]bool
	dir   Direction
	v30   bool
	nodes int
}

// schemaKeywords hold one schema; arrays and maps of schemas are below.
var (
	oneSchema  = map[string]bool{"items": true, "additionalProperties": true, "not": true, "if": true, "then": true, "else": true, "contains": true, "propertyNames": true, "unevaluatedProperties": true, "unevaluatedItems": true, "additionalItems": true, "contentSchema": true}
	schemaList = map[string]bool{"allOf": true, "anyOf": true, "oneOf": true, "prefixItems": true}
	schemaMap  = map[string]bool{"properties": true, "patternProperties": true, "dependentSchemas": true, "$defs": true, "definitions": true}
	annotation = map[string]bool{"example": true, "examples": true, "externalDocs": true, "xml": true, "deprecated": true, "discriminator": true, "$schema": true, "$id": true, "$anchor": true, "$comment": true}
)

func (r *renderer) schema(n *yaml.Node, idx *index.SpecIndex, depth int) any {
	r.nodes++
	if n == nil || r.nodes > maxRenderNodes || depth > 256 {
		return map[string]any{}
	}
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	if n.Kind == yaml.ScalarNode {
		var b bool
		if n.Decode(&b) == nil {
			return b
		}
		return map[string]any{}
	}
	if n.Kind != yaml.MappingNode {
		return map[string]any{}
	}
	if ref := value(n, "$ref"); ref != nil {
		out := map[string]any{"$ref": "#/$defs/" + r.def(ref.Value, idx, depth)}
		if r.v30 {
			return out // OpenAPI 3.0: siblings of $ref are ignored
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			if k := n.Content[i].Value; k != "$ref" {
				r.keyword(out, k, n.Content[i+1], idx, depth)
			}
		}
		return out
	}
	out := map[string]any{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		r.keyword(out, n.Content[i].Value, n.Content[i+1], idx, depth)
	}
	if disc := value(n, "discriminator"); disc != nil {
		r.discriminate(out, n, disc, idx)
	}
	r.prune(out, n, idx)
	return out
}

func (r *renderer) keyword(out map[string]any, k string, v *yaml.Node, idx *index.SpecIndex, depth int) {
	if v.Kind == yaml.AliasNode && v.Alias != nil {
		v = v.Alias
	}
	switch {
	case strings.HasPrefix(k, "x-") || annotation[k]:
	case k == "nullable" && !r.v30:
	case oneSchema[k]:
		if k == "items" && v.Kind == yaml.SequenceNode {
			out["prefixItems"] = r.list(v, idx, depth)
			return
		}
		out[k] = r.schema(v, idx, depth+1)
	case schemaList[k] && v.Kind == yaml.SequenceNode:
		out[k] = r.list(v, idx, depth)
	case schemaMap[k] && v.Kind == yaml.MappingNode:
		m := map[string]any{}
		for i := 0; i+1 < len(v.Content); i += 2 {
			m[v.Content[i].Value] = r.schema(v.Content[i+1], idx, depth+1)
		}
		if k == "definitions" {
			k = "$defs"
		}
		out[k] = m
	default:
		var data any
		if err := v.Decode(&data); err == nil {
			out[k] = JSONShape(data)
		}
	}
}

func (r *renderer) list(v *yaml.Node, idx *index.SpecIndex, depth int) []any {
	out := make([]any, 0, len(v.Content))
	for _, c := range v.Content {
		out = append(out, r.schema(c, idx, depth+1))
	}
	return out
}

// def names the schema a $ref points at in $defs, rendering it the first time.
func (r *renderer) def(ref string, idx *index.SpecIndex, depth int) string {
	target, found := resolveRef(ref, idx)
	key := fmt.Sprintf("%p|%s", found, ref)
	if target != nil {
		key = fmt.Sprintf("%p|%s", found, target.FullDefinition)
	}
	if name, ok := r.names[key]; ok {
		return name
	}
	base := ref[strings.LastIndexAny(ref, "/#")+1:]
	name := sanitizeDefName(base)
	for i := 2; r.taken[name]; i++ {
		name = fmt.Sprintf("%s_%d", sanitizeDefName(base), i)
	}
	r.taken[name] = true
	r.names[key] = name
	if target == nil || target.Node == nil {
		r.defs[name] = map[string]any{} // unresolvable: the loader has said so already
		return name
	}
	r.defs[name] = nil // reserved, so a cycle finds the name
	r.defs[name] = r.schema(target.Node, found, depth+1)
	return name
}

// resolveRef finds what a $ref points at, and the index its own refs resolve in.
func resolveRef(ref string, idx *index.SpecIndex) (*index.Reference, *index.SpecIndex) {
	if idx == nil {
		return nil, nil
	}
	target, found := idx.SearchIndexForReference(ref)
	if target == nil {
		return nil, idx
	}
	if found == nil {
		found = target.Index
	}
	if found == nil {
		found = idx
	}
	return target, found
}

func sanitizeDefName(s string) string {
	var sb strings.Builder
	for _, c := range s {
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.' {
			sb.WriteRune(c)
		} else {
			sb.WriteByte('_')
		}
	}
	if sb.Len() == 0 {
		return "schema"
	}
	return sb.String()
}

// discriminate makes a oneOf or anyOf with a discriminator choose its branch
// by the discriminator's value, as OpenAPI says: each $ref branch becomes
// "the property has one of this branch's values, and the branch holds", and
// the branches are alternatives (anyOf), so overlapping branches never fail
// a valid value. A value that names no branch matches none.
func (r *renderer) discriminate(out map[string]any, n, disc *yaml.Node, idx *index.SpecIndex) {
	prop := value(disc, "propertyName")
	if prop == nil || prop.Value == "" {
		return
	}
	key := "oneOf"
	branches, ok := out[key].([]any)
	src := value(n, key)
	if !ok {
		key = "anyOf"
		branches, ok = out[key].([]any)
		src = value(n, key)
	}
	if !ok || src == nil || len(src.Content) != len(branches) {
		return
	}
	mapping := map[string][]string{} // ref or name → values
	if m := value(disc, "mapping"); m != nil && m.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(m.Content); i += 2 {
			target := m.Content[i+1].Value
			mapping[target] = append(mapping[target], m.Content[i].Value)
		}
	}
	for i, b := range src.Content {
		ref := value(b, "$ref")
		if ref == nil {
			continue
		}
		name := ref.Value[strings.LastIndexAny(ref.Value, "/#")+1:]
		values := append(append([]string{}, mapping[ref.Value]...), mapping[name]...)
		if len(values) == 0 {
			values = []string{name}
		}
		enum := make([]any, len(values))
		for j, v := range values {
			enum[j] = v
		}
		branches[i] = map[string]any{"allOf": []any{
			map[string]any{"properties": map[string]any{prop.Value: map[string]any{"enum": enum}}, "required": []any{prop.Value}},
			branches[i],
		}}
	}
	delete(out, "oneOf")
	out["anyOf"] = branches
}

// prune drops from required the properties the direction never carries:
// readOnly ones in requests, writeOnly ones in responses.
func (r *renderer) prune(out map[string]any, n *yaml.Node, idx *index.SpecIndex) {
	req, ok := out["required"].([]any)
	props := value(n, "properties")
	if !ok || props == nil || props.Kind != yaml.MappingNode {
		return
	}
	flag := "writeOnly"
	if r.dir == ToServer {
		flag = "readOnly"
	}
	kept := req[:0:0]
	for _, name := range req {
		ps := value(props, fmt.Sprint(name))
		if ps != nil && hasFlag(ps, idx, flag) {
			continue
		}
		kept = append(kept, name)
	}
	out["required"] = kept
}

// hasFlag reports whether a schema (following one $ref) sets flag: true.
func hasFlag(n *yaml.Node, idx *index.SpecIndex, flag string) bool {
	if f := value(n, flag); f != nil {
		return f.Value == "true"
	}
	if ref := value(n, "$ref"); ref != nil {
		if target, _ := resolveRef(ref.Value, idx); target != nil && target.Node != nil {
			if f := value(target.Node, flag); f != nil {
				return f.Value == "true"
			}
		}
	}
	return false
}

// value finds key's value in a mapping node.
func value(n *yaml.Node, key string) *yaml.Node {
	if n == nil {
		return nil
	}
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	if n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			v := n.Content[i+1]
			if v.Kind == yaml.AliasNode && v.Alias != nil {
				v = v.Alias
			}
			return v
		}
	}
	return nil
}

// boundedSchemaCache is a cache.SchemaCache that keeps at most max entries,
// dropping the oldest: compiled schemas of a big spec must not pile up.
type boundedSchemaCache struct {
	mu    sync.RWMutex // guards m and order
	max   int
	m     map[uint64]*cache.SchemaCacheEntry
	order []uint64
}

func newBoundedSchemaCache(max int) *boundedSchemaCache {
	return &boundedSchemaCache{max: max, m: map[uint64]*cache.SchemaCacheEntry{}}
}

// Load implements cache.SchemaCache.
func (c *boundedSchemaCache) Load(key uint64) (*cache.SchemaCacheEntry, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	e, ok := c.m[key]
	return e, ok
}

// Store implements cache.SchemaCache.
func (c *boundedSchemaCache) Store(key uint64, value *cache.SchemaCacheEntry) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.m[key]; !ok {
		c.order = append(c.order, key)
	}
	c.m[key] = value
	for len(c.order) > c.max {
		delete(c.m, c.order[0])
		c.order = c.order[1:]
	}
}

// Range implements cache.SchemaCache.
func (c *boundedSchemaCache) Range(f func(key uint64, value *cache.SchemaCacheEntry) bool) {
	c.mu.RLock()
	entries := make(map[uint64]*cache.SchemaCacheEntry, len(c.m))
	for k, v := range c.m {
		entries[k] = v
	}
	c.mu.RUnlock()
	for k, v := range entries {
		if !f(k, v) {
			return
		}
	}
}

// maxCheckedValue is the largest value CheckValue judges, in JSON bytes.
const maxCheckedValue = 256 << 10

type checkKey struct {
	hash uint64
	dir  Direction
}

// CheckValue validates a JSON-shaped value against s, as a response body
// (ToClient) or a request body (ToServer). A schema that cannot be compiled
// accepts everything. The mock uses it to keep a spec's own examples out of
// its answers when they break the spec (GitHub's do, here and there).
func (p *Profile) CheckValue(s *base.Schema, dir Direction, v any) error {
	if s == nil || s.GoLow() == nil {
		return nil
	}
	key := checkKey{s.GoLow().Hash(), dir}
	var compiled *jsonschema.Schema
	if c, ok := p.checked.Load(key); ok {
		compiled, _ = c.(*jsonschema.Schema)
	} else {
		if js, err := SchemaJSON(s, dir, p.is30()); err == nil {
			version := helpers.VersionToFloat(p.Model.Version)
			options := config.NewValidationOptions(p.validationOptions(nil)...)
			compiled, _ = helpers.NewCompiledSchemaWithVersion(fmt.Sprintf("check-%x", key.hash), js, options, version)
		}
		p.checked.Store(key, compiled)
	}
	if compiled == nil {
		return nil
	}
	// Through JSON, so numbers are what a client would decode.
	raw, err := json.Marshal(v)
	if err != nil {
		return err
	}
	if len(raw) > maxCheckedValue {
		return nil // not judged: a request must not pay for validating megabytes
	}
	decoded, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		return err
	}
	return compiled.Validate(decoded)
}
