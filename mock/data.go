package mock

import (
	"fmt"
	"hash/fnv"
	"sort"
	"sync"

	"github.com/opsconform/opsconform/fixtures"
	"github.com/opsconform/opsconform/specs"
	"github.com/pb33f/libopenapi/datamodel/high/base"
)

// defaultCount is how many items a collection without fixtures gets: enough
// to need more than one page at small page sizes.
const defaultCount = 25

// collection is one resource collection's items, in a stable order.
type collection struct {
	name    string
	schema  *base.Schema // one item
	idField string
	items   []map[string]any
}

func (c *collection) find(id string) (int, map[string]any) {
	for i, it := range c.items {
		if fmt.Sprint(it[c.idField]) == id {
			return i, it
		}
	}
	return -1, nil
}

// dataset is one profile's collections. Writes change what later reads see.
type dataset struct {
	mu   sync.RWMutex
	gen  *generator // for items created by requests
	cols map[string]*collection
}

// profileSeed mixes the run's seed with the profile's name, so profiles
// served together do not share a sequence.
func profileSeed(seed int64, profile string) uint64 {
	h := fnv.New64a()
	_, _ = h.Write([]byte(profile))
	return uint64(seed) ^ h.Sum64()
}

// buildDataset seeds every data collection the profile's operations name:
// fixture items first, generated items after, in sorted collection order so
// that the same seed gives byte-identical data.
func buildDataset(p *specs.Profile, set *fixtures.Set, seed int64) (*dataset, error) {
	ds := &dataset{gen: newGenerator(profileSeed(seed, p.Name) + 1), cols: map[string]*collection{}}
	schemas := map[string]*base.Schema{}
	idFields := map[string]string{}
	for _, op := range p.Operations {
		r := op.Resource
		if r == nil || r.Source != specs.SourceData {
			continue
		}
		if r.Action == specs.ActionGet || r.Action == specs.ActionDelete || r.Action == specs.ActionUpdate {
			idFields[r.Collection] = r.Field
		}
		// A list's items are the collection's canonical shape; a get may be a
		// projection (OpsMerge's agent status), so it only fills in when no list exists.
		if s := itemSchema(p, op); s != nil && (schemas[r.Collection] == nil || r.Action == specs.ActionList) {
			schemas[r.Collection] = s
		}
		if _, ok := schemas[r.Collection]; !ok {
			schemas[r.Collection] = nil
		}
	}
	for name := range set.Collections {
		if _, ok := schemas[name]; !ok {
			return nil, fmt.Errorf("fixtures: %s: collection %q is not used by any operation of the spec", p.Name, name)
		}
	}
	names := make([]string, 0, len(schemas))
	for n := range schemas {
		names = append(names, n)
	}
	sort.Strings(names)
	g := newGenerator(profileSeed(seed, p.Name))
	for _, name := range names {
		s := schemas[name]
		if s == nil {
			return nil, fmt.Errorf("mock: %s: no operation of collection %q has a JSON item schema to generate from", p.Name, name)
		}
		c := &collection{name: name, schema: s, idField: idFields[name]}
		if c.idField == "" {
			c.idField = "id"
		}
		fix := set.Collections[name]
		// The id field and, where the schema has one, "id" are both identities: keep both unique.
		unique := []string{c.idField}
		if c.idField != "id" && property(s, "id") != nil {
			unique = append(unique, "id")
		}
		seenBy := map[string]map[string]bool{}
		for _, f := range unique {
			seenBy[f] = map[string]bool{}
		}
		for i, it := range fix.Items {
			item := g.value(s, "", false, 0).(map[string]any)
			for k, v := range it {
				item[k] = jsonShape(v)
			}
			for _, f := range unique {
				id := fmt.Sprint(item[f])
				if seenBy[f][id] {
					return nil, fmt.Errorf("fixtures: %s: collection %s: items[%d]: %s %q is used twice", p.Name, name, i, f, id)
				}
				seenBy[f][id] = true
			}
			c.items = append(c.items, item)
		}
		count := fix.Count
		if count == 0 && len(fix.Items) == 0 {
			count = defaultCount
		}
		for len(c.items) < count {
			item := g.value(s, "", len(c.items) == 0, 0).(map[string]any)
			for _, f := range unique {
				if !uniqueID(g, s, f, item, seenBy[f]) {
					return nil, fmt.Errorf("mock: %s: collection %s: cannot generate %d distinct %s values from the schema", p.Name, name, count, f)
				}
			}
			c.items = append(c.items, item)
		}
		ds.cols[name] = c
	}
	return ds, nil
}

// uniqueID regenerates an item's id until it is new.
func uniqueID(g *generator, s *base.Schema, field string, item map[string]any, seen map[string]bool) bool {
	var idSchema *base.Schema
	if s.Properties != nil {
		if proxy, ok := s.Properties.Get(field); ok {
			idSchema = proxy.Schema()
		}
	}
	for range 50 {
		id := fmt.Sprint(item[field])
		if !seen[id] {
			seen[id] = true
			return true
		}
		if idSchema == nil {
			return false
		}
		item[field] = g.value(idSchema, field, false, 0)
	}
	return false
}

// itemSchema finds the schema of one item of op's collection: the get
// response, or the list response's items, inside the success envelope.
func itemSchema(p *specs.Profile, op *specs.Operation) *base.Schema {
	s := successSchema(p, op)
	if s == nil {
		return nil
	}
	if op.Resource.Action != specs.ActionList {
		if schemaType(s) == "object" && s.Properties != nil {
			return s
		}
		return nil
	}
	field := op.Resource.Items
	if field == "" && op.Paginated && p.Pagination != nil {
		field = p.Pagination.Response.Items
	}
	if field != "" {
		s = property(s, field)
	}
	if s == nil || schemaType(s) != "array" || s.Items == nil || !s.Items.IsA() {
		return nil
	}
	return s.Items.A.Schema()
}

// successResponse is the operation's lowest documented 2xx response.
func successResponse(op *specs.Operation) *specs.Response {
	var best *specs.Response
	for st, r := range op.Responses {
		if st >= 200 && st < 300 && (best == nil || st < best.Status) {
			best = r
		}
	}
	return best
}

// successSchema is the 2xx body schema with the success envelope unwrapped.
func successSchema(p *specs.Profile, op *specs.Operation) *base.Schema {
	r := successResponse(op)
	if r == nil || r.Schema == nil {
		return nil
	}
	if inner := envelopeProperty(p, r.Schema); inner != nil {
		return inner
	}
	return r.Schema
}

// envelopeProperty is the schema inside the success envelope, when the
// response is wrapped in it; nil otherwise.
func envelopeProperty(p *specs.Profile, s *base.Schema) *base.Schema {
	if p.Envelope.Success == "" {
		return nil
	}
	return property(s, p.Envelope.Success)
}

func property(s *base.Schema, name string) *base.Schema {
	if s == nil || s.Properties == nil {
		return nil
	}
	proxy, ok := s.Properties.Get(name)
	if !ok {
		return nil
	}
	return proxy.Schema()
}
