package mock

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"sync"

	"github.com/opsconform/opsconform/fixtures"

	"github.com/pb33f/libopenapi/datamodel/high/base"
)

// record is one item of a collection with its JSON, encoded once when the
// record is made. Records are immutable: a write makes a new record and
// swaps it in, so a reader holding a record never sees it change, and a page
// is assembled from bytes instead of re-encoding maps on every request.
type record struct {
	fields map[string]any
	json   []byte    // fields encoded: keys sorted, no HTML escaping, as encoding/json writes a map
	link   *linkSlot // where the record's own link goes, for profiles whose items link themselves

	// views caches projections of the record (a get whose schema closes
	// over part of the item), by the schema that projects it.
	mu    sync.Mutex // guards views
	views map[*base.Schema][]byte
}

// newRecord encodes fields, which the record then owns.
func newRecord(fields map[string]any) (*record, error) {
	b, err := encodeRecord(fields) // encoding/json's bytes, without its reflection
	if err != nil {
		return nil, err
	}
	return &record{fields: fields, json: b}, nil
}

// view is the record's JSON projected onto schema's properties, cached.
func (r *record) view(schema *base.Schema) []byte {
	if !closes(schema) {
		return r.json
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if b, ok := r.views[schema]; ok {
		return b
	}
	b, err := encodeJSON(project(r.fields, schema))
	if err != nil {
		return r.json
	}
	if r.views == nil {
		r.views = map[*base.Schema][]byte{}
	}
	r.views[schema] = b
	return b
}

// encodeJSON encodes v as the mock writes every body: keys sorted, "&" and
// "<" as they are (vendors send links with "&" unescaped), no trailing newline.
func encodeJSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// collection is one resource collection's records, in a stable order, with
// an index from id to position.
type collection struct {
	name    string
	schema  *base.Schema // one item
	idField string
	items   []*record
	index   map[string]int // id → position in items

	// For a plain spec's collections, filled on first use (dataset.ensure):
	fix   fixtures.Collection // the fixture items and count
	seed  uint64              // the seed its items are generated from
	ready bool                // filled; guarded by the dataset's mu

	unique *uniqueness // its identifying values ever given; guarded by the dataset's mu

	// hidden is set when fixture items carry fields the item schema does
	// not declare (kept for filtering, like a team assignment's project):
	// lists then project items onto the schema instead of sending their JSON.
	hidden bool
}

func newCollection(name string, schema *base.Schema, idField string) *collection {
	return &collection{name: name, schema: schema, idField: idField, index: map[string]int{}}
}

// find returns the position and record of the item with id; -1 and nil when none.
func (c *collection) find(id string) (int, *record) {
	i, ok := c.index[id]
	if !ok {
		return -1, nil
	}
	return i, c.items[i]
}

// add appends a record.
func (c *collection) add(r *record) {
	c.index[fmt.Sprint(r.fields[c.idField])] = len(c.items)
	c.items = append(c.items, r)
}

// replace swaps the record at i for r (same id). The slice is copied, not
// written in place: a list rendering after releasing the lock may still
// hold the old one.
func (c *collection) replace(i int, r *record) {
	c.items = slices.Clone(c.items)
	c.items[i] = r
}

// remove deletes the record at i, keeping the order of the rest.
func (c *collection) remove(i int) {
	delete(c.index, fmt.Sprint(c.items[i].fields[c.idField]))
	c.items = append(c.items[:i:i], c.items[i+1:]...)
	for j := i; j < len(c.items); j++ {
		c.index[fmt.Sprint(c.items[j].fields[c.idField])] = j
	}
}

// has reports whether an item with id exists.
func (c *collection) has(id string) bool {
	_, ok := c.index[id]
	return ok
}
