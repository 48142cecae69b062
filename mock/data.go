package mock

import (
	"fmt"
	"hash/fnv"
	"maps"
	"slices"
	"sync"

	"github.com/opsconform/opsconform/fixtures"
	"github.com/opsconform/opsconform/mock/gen"
	"github.com/opsconform/opsconform/specs"
	"github.com/pb33f/libopenapi/datamodel/high/base"
)

// defaultCount is how many items a collection without fixtures gets: enough
// to need more than one page at small page sizes.
const defaultCount = 25

// dataset is one profile's collections. Writes change what later reads see.
type dataset struct {
	mu    sync.RWMutex // guards every collection's items
	genMu sync.Mutex   // guards gen, which is not safe for concurrent use
	gen   *generator   // for items created by requests
	cols  map[string]*collection
	links string // the field items carry their own link in (MongoDB's links); "" when none
	// refs are each collection's properties that name items of another
	// collection (x-opsconform-ref); written once when the dataset is built.
	refs    map[string][]refField
	created uint64 // items created by requests, for drawing their references; guarded by genMu
}

// profileData is one profile's data set as Reset leaves it: built, or
// waiting for its first use.
type profileData struct {
	once  sync.Once
	build func() (*dataset, error)
	ds    *dataset
	err   error
	// release, when set, is called once the data is built: see
	// Options.ReleaseMemory.
	release func()
}

// get builds the data set the first time it is asked for; every caller
// waits for that one build and gets its result.
func (d *profileData) get() (*dataset, error) {
	d.once.Do(func() {
		d.ds, d.err = d.build()
		d.build = nil
		if d.release != nil {
			d.release()
		}
	})
	return d.ds, d.err
}

// pointCreated makes a created item's references name existing items,
// keeping those the request body gives (see pointRefs). The caller must not
// hold the dataset's lock.
func (ds *dataset) pointCreated(c *collection, item, body map[string]any) {
	if len(ds.refs[c.name]) == 0 {
		return
	}
	ds.genMu.Lock()
	ds.created++
	n := ds.created
	ds.genMu.Unlock()
	ds.pointRefs(c, item, body, refRand(c.seed^0x6372656174656421, int(n)))
}

// generate makes a fresh item of schema for a create.
func (ds *dataset) generate(schema *base.Schema) map[string]any {
	ds.genMu.Lock()
	defer ds.genMu.Unlock()
	return ds.gen.value(schema, "", false, 0).(map[string]any)
}

// record encodes an item of this dataset.
func (ds *dataset) record(item map[string]any) (*record, error) {
	return newLinkedRecord(item, ds.links)
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
	ds := &dataset{gen: newGenerator(profileSeed(seed, p.Name) + 1), cols: map[string]*collection{}, refs: map[string][]refField{}}
	if p.Pagination != nil {
		ds.links = p.Pagination.Response.Links
	}
	schemas := map[string]*base.Schema{}
	idFields := map[string]string{}
	named := map[string]string{} // a field a list or create names, for collections without a by-id operation
	for _, op := range p.Operations {
		r := op.Resource
		if r == nil || r.Source != specs.SourceData {
			continue
		}
		switch {
		case idFields[r.Collection] != "":
			// The first operation to name an item's field decides the id field;
			// others that match another one (a project by name) look items up by scan.
		case r.Action == specs.ActionGet || r.Action == specs.ActionDelete || r.Action == specs.ActionUpdate || r.Action == specs.ActionDo && r.ID != "":
			idFields[r.Collection] = r.Field
		case r.Field != "" && r.Field != "id":
			named[r.Collection] = r.Field
		}
		// A list's items are the collection's canonical shape; a get may be a
		// projection (OpsMerge's agent status), so it only fills in when no list exists.
		if r.Item != nil {
			schemas[r.Collection] = r.Item // inferred: specs chose the item schema
		} else if s := itemSchema(p, op); s != nil && (schemas[r.Collection] == nil || r.Action == specs.ActionList) {
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
		if rf := refFields(schemas[n]); len(rf) > 0 {
			ds.refs[n] = rf
		}
	}
	// Sorted, each collection after those its items point into.
	names, err := fillOrder(names, schemas)
	if err != nil {
		return nil, fmt.Errorf("mock: %s: %v", p.Name, err)
	}
	for _, name := range names {
		s := schemas[name]
		if s == nil {
			if !p.Extended {
				continue
			}
			return nil, fmt.Errorf("mock: %s: no operation of collection %q has a JSON item schema to generate from", p.Name, name)
		}
		idField := idFields[name]
		if idField == "" {
			idField = named[name]
		}
		if idField == "" {
			idField = "id"
		}
		c := newCollection(name, s, idField)
		c.fix, c.seed = set.Collections[name], gen.Seed(seed, p.Name, name)
		if p.Extended {
			// A vendor profile's data is small and its fixtures are checked at start.
			if err := ds.fill(p.Name, c); err != nil {
				return nil, err
			}
			c.ready = true
		}
		ds.cols[name] = c
	}
	return ds, nil
}

// ensure fills a plain spec's collection on first use (GitHub's description
// implies hundreds). The records are made without any lock held (generation
// is deterministic, so a racing request makes the same ones and the first
// to finish installs them): a big schema never blocks other requests.
func (ds *dataset) ensure(profile string, c *collection) error {
	ds.mu.RLock()
	ready := c.ready
	ds.mu.RUnlock()
	if ready {
		return nil
	}
	fresh := newCollection(c.name, c.schema, c.idField)
	fresh.fix, fresh.seed = c.fix, c.seed
	if err := ds.fill(profile, fresh); err != nil {
		return err
	}
	ds.mu.Lock()
	if !c.ready {
		c.items, c.index, c.unique, c.hidden, c.ready = fresh.items, fresh.index, fresh.unique, fresh.hidden, true
	}
	ds.mu.Unlock()
	return nil
}

// fill makes a collection's starting records: fixture items first (any
// field they leave out generated), then generated items up to the count.
func (ds *dataset) fill(profile string, c *collection) error {
	g := newGenerator(c.seed)
	s, name, fix := c.schema, c.name, c.fix
	// The id field, "id" and the properties marked x-opsconform-unique identify
	// an item; creates carry on where the fixtures left off.
	u := newUniqueness(s, c.idField)
	c.unique = u
	for i, it := range fix.Items {
		item := asMap(g.value(s, "", false, 0))
		for k, v := range it {
			item[k] = specs.JSONShape(v)
			if closes(s) && specs.Property(s, k) == nil {
				c.hidden = true
			}
		}
		ds.pointRefs(c, item, it, refRand(c.seed, len(c.items)))
		if f := checkRefs(ds, c, item, slices.Collect(maps.Keys(it))); f != nil {
			return fmt.Errorf("fixtures: %s: collection %s: items[%d]: %s", profile, name, i, f.message)
		}
		if f, ok := u.claim(item); !ok {
			return fmt.Errorf("fixtures: %s: collection %s: items[%d]: %s %q is used twice", profile, name, i, f, fmt.Sprint(item[f]))
		}
		rec, err := ds.record(item)
		if err != nil {
			return fmt.Errorf("fixtures: %s: collection %s: items[%d]: %v", profile, name, i, err)
		}
		c.add(rec)
	}
	count := fix.Count
	if count == 0 && len(fix.Items) == 0 {
		count = defaultCount
	}
	for len(c.items) < count {
		item := asMap(g.value(s, "", len(c.items) == 0, 0))
		ds.pointRefs(c, item, nil, refRand(c.seed, len(c.items)))
		if f, ok := u.assign(g, item, ""); !ok {
			if len(c.items) > 0 && fix.Count == 0 {
				return nil // as many distinct items as the schema allows
			}
			return fmt.Errorf("mock: %s: collection %s: cannot generate %d distinct %s values from the schema", profile, name, count, f)
		}
		rec, err := ds.record(item)
		if err != nil {
			return fmt.Errorf("mock: %s: collection %s: %v", profile, name, err)
		}
		c.add(rec)
	}
	return nil
}

// asMap is v when it is an object, else an empty one (an item schema whose
// example is not an object).
func asMap(v any) map[string]any {
	if m, ok := v.(map[string]any); ok {
		return m
	}
	return map[string]any{}
}

// uniqueID makes a created item's identity new: its id field until the
// collection has no item with it, then the collection's other identifying
// properties (the next incident number). The caller holds the dataset's lock.
func uniqueID(g *generator, c *collection, item map[string]any) bool {
	if c.unique != nil && c.unique.counted[c.idField] {
		// An integer id is a number the server hands out: the next one
		// (getAnnotation's noteID), not a generated value.
		_, ok := c.unique.assign(g, item, "")
		return ok
	}
	if !uniqueField(g, c.schema, c.idField, item, c.has) {
		return false
	}
	if c.unique != nil {
		_, ok := c.unique.assign(g, item, c.idField)
		return ok
	}
	return true
}

func uniqueField(g *generator, s *base.Schema, field string, item map[string]any, taken func(id string) bool) bool {
	var idSchema *base.Schema
	if s.Properties != nil {
		if proxy, ok := s.Properties.Get(field); ok {
			idSchema = specs.SchemaOf(proxy)
		}
	}
	for range 50 {
		if !taken(fmt.Sprint(item[field])) {
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
		s = specs.Property(s, field)
	}
	if s == nil || schemaType(s) != "array" || s.Items == nil || !s.Items.IsA() {
		return nil
	}
	return specs.SchemaOf(s.Items.A)
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
	return specs.Property(s, p.Envelope.Success)
}
