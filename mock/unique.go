package mock

import (
	"fmt"
	"math"

	"github.com/opsconform/opsconform/specs"
	"github.com/pb33f/libopenapi/datamodel/high/base"
)

// uniqueness keeps the identifying properties of one collection's items
// unique: the id field, "id" where the schema has one, and every property
// marked x-opsconform-unique. Integer properties are numbers a server hands
// out (incident and ticket numbers): a generated or created item gets the
// next free number, one past the highest ever given, so numbers count up
// and are never reused after a delete. Other properties are drawn again
// from their schema until new.
//
// It is guarded by the lock of the dataset that holds its collection.
type uniqueness struct {
	fields  []string                   // in order: the id field, "id", marked properties
	schemas map[string]*base.Schema    // each field's schema; nil when the schema lacks it
	counted map[string]bool            // integer fields, numbered
	used    map[string]map[string]bool // every value ever given, per field
	highest map[string]int64           // per counted field, the highest number given
}

func newUniqueness(s *base.Schema, idField string) *uniqueness {
	u := &uniqueness{schemas: map[string]*base.Schema{}, counted: map[string]bool{},
		used: map[string]map[string]bool{}, highest: map[string]int64{}}
	add := func(f string) {
		if _, dup := u.used[f]; dup {
			return
		}
		u.fields = append(u.fields, f)
		u.used[f] = map[string]bool{}
		ps := specs.Property(s, f)
		u.schemas[f] = ps
		if ps != nil && schemaType(ps) == "integer" {
			u.counted[f] = true
			u.highest[f] = math.MinInt64
		}
	}
	add(idField)
	if specs.Property(s, "id") != nil {
		add("id")
	}
	if s != nil && s.Properties != nil {
		for name, proxy := range s.Properties.FromOldest() {
			if specs.Unique(proxy.Schema()) {
				add(name)
			}
		}
	}
	return u
}

// claim records the values of an item whose values are given (a fixture's
// listed item): field names the first one another item already has.
func (u *uniqueness) claim(item map[string]any) (field string, ok bool) {
	for _, f := range u.fields {
		if u.used[f][fmt.Sprint(item[f])] {
			return f, false
		}
	}
	for _, f := range u.fields {
		u.take(f, item[f])
	}
	return "", true
}

func (u *uniqueness) take(f string, v any) {
	u.used[f][fmt.Sprint(v)] = true
	if n, ok := asInt(v); ok && u.counted[f] && n > u.highest[f] {
		u.highest[f] = n
	}
}

// assign makes a generated or created item's values new, except skip's,
// which the caller has made unique against the live items itself: field
// names the first one no new value could be found for.
func (u *uniqueness) assign(g *generator, item map[string]any, skip string) (field string, ok bool) {
	for _, f := range u.fields {
		if f == skip {
			u.take(f, item[f])
			continue
		}
		if u.counted[f] {
			n, ok := u.nextNumber(f, item[f])
			if !ok {
				return f, false
			}
			item[f] = n
		} else {
			found := false
			for range 50 {
				if !u.used[f][fmt.Sprint(item[f])] {
					found = true
					break
				}
				if u.schemas[f] == nil {
					break
				}
				item[f] = g.value(u.schemas[f], f, false, 0)
			}
			if !found {
				return f, false
			}
		}
		u.take(f, item[f])
	}
	return "", true
}

// nextNumber is the number a new item gets for counted field f: its own
// value when nothing has been given yet (an example, or the first draw),
// else one past the highest given, or, past the schema's maximum, the
// lowest free number in range.
func (u *uniqueness) nextNumber(f string, own any) (int64, bool) {
	if len(u.used[f]) == 0 {
		if n, ok := asInt(own); ok {
			return n, true
		}
	}
	lo, hi := int64(1), int64(math.MaxInt64)
	if s := u.schemas[f]; s != nil {
		if s.Minimum != nil {
			lo = int64(math.Ceil(*s.Minimum))
		}
		if s.Maximum != nil {
			hi = int64(math.Floor(*s.Maximum))
		}
	}
	if h := u.highest[f]; h != math.MinInt64 && h < hi && h+1 >= lo {
		return h + 1, true
	}
	if len(u.used[f]) == 0 {
		return lo, lo <= hi
	}
	for n, tries := lo, 0; n <= hi && tries < 1_000_000; n, tries = n+1, tries+1 {
		if !u.used[f][fmt.Sprint(n)] {
			return n, true
		}
	}
	return 0, false
}

// asInt reads a whole number as JSON or YAML decoding left it.
func asInt(v any) (int64, bool) {
	switch x := v.(type) {
	case int:
		return int64(x), true
	case int64:
		return x, true
	case uint64:
		if x <= math.MaxInt64 {
			return int64(x), true
		}
	case float64:
		if x == math.Trunc(x) && math.Abs(x) < 1<<53 {
			return int64(x), true
		}
	}
	return 0, false
}
