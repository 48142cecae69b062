package mock

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"

	"github.com/opsconform/opsconform/specs"
	"github.com/pb33f/libopenapi/datamodel/high/base"
)

// refField is a property of a collection's items that names an item of
// another collection (x-opsconform-ref): an incident's ProfileLink_RecID is
// an employee's RecId, a journal note's ParentLink_RecID an incident's,
// change's or problem's.
type refField struct {
	field string
	refs  []specs.Ref
}

// refFields are the properties of schema marked x-opsconform-ref, in the
// schema's order.
func refFields(schema *base.Schema) []refField {
	if schema == nil || schema.Properties == nil {
		return nil
	}
	var out []refField
	for name, proxy := range schema.Properties.FromOldest() {
		if refs, err := specs.Refs(proxy.Schema()); err == nil && len(refs) > 0 {
			out = append(out, refField{field: name, refs: refs})
		}
	}
	return out
}

// fillOrder sorts collection names so that every collection comes after
// those its items point into, names in sorted order otherwise: an
// incident's employee exists before the incident is made. A cycle is an
// error naming it, since neither side could be filled first.
func fillOrder(names []string, schemas map[string]*base.Schema) ([]string, error) {
	deps := map[string][]string{}
	for _, n := range names {
		for _, rf := range refFields(schemas[n]) {
			for _, r := range rf.refs {
				if r.Collection != n && !slices.Contains(deps[n], r.Collection) {
					deps[n] = append(deps[n], r.Collection)
				}
			}
		}
	}
	sorted := slices.Clone(names)
	sort.Strings(sorted)
	var out []string
	done := map[string]bool{}
	for len(out) < len(sorted) {
		progressed := false
		for _, n := range sorted {
			if done[n] {
				continue
			}
			ready := true
			for _, d := range deps[n] {
				if _, known := schemas[d]; known && !done[d] {
					ready = false
				}
			}
			if ready {
				done[n], progressed = true, true
				out = append(out, n)
			}
		}
		if !progressed {
			var stuck []string
			for _, n := range sorted {
				if !done[n] {
					stuck = append(stuck, n)
				}
			}
			return nil, fmt.Errorf("collections %s point into each other through x-opsconform-ref: none can be filled first", strings.Join(stuck, ", "))
		}
	}
	return out, nil
}

// pointRefs makes item's reference fields name existing items: a field
// given (by a fixture item or a request body) is kept, and the fields its
// target's "with" sets that were not given follow it (a note on a change
// says ParentLink_Category "Change"); a field not given points at an item
// drawn with rng from the targets. A target collection without items leaves
// the generated value. The caller must not hold the dataset's lock.
func (ds *dataset) pointRefs(c *collection, item, given map[string]any, rng *rand.Rand) {
	refs := ds.refs[c.name]
	if len(refs) == 0 {
		return
	}
	ds.mu.RLock()
	defer ds.mu.RUnlock()
	for _, rf := range refs {
		if v, ok := given[rf.field]; ok {
			// Given: find the target holding it, for the siblings it implies.
			for _, r := range rf.refs {
				if t := ds.cols[r.Collection]; t != nil && t.has(fmt.Sprint(v)) {
					setUngiven(item, given, r.With)
					break
				}
			}
			continue
		}
		var candidates []specs.Ref
		for _, r := range rf.refs {
			if t := ds.cols[r.Collection]; t != nil && len(t.items) > 0 {
				candidates = append(candidates, r)
			}
		}
		if len(candidates) == 0 {
			continue
		}
		r := candidates[rng.IntN(len(candidates))]
		t := ds.cols[r.Collection]
		target := t.items[rng.IntN(len(t.items))]
		item[rf.field] = target.fields[t.idField]
		setUngiven(item, given, r.With)
	}
}

// setUngiven copies with onto item, leaving alone what given sets.
func setUngiven(item, given, with map[string]any) {
	for k, v := range with {
		if _, ok := given[k]; !ok {
			item[k] = specs.JSONShape(v)
		}
	}
}

// refRand is the draw for the references of a collection's n-th item.
func refRand(seed uint64, n int) *rand.Rand {
	return rand.New(rand.NewPCG(seed, uint64(n)^0x7265667321))
}
