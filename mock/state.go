package mock

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/opsconform/opsconform/mock/gen"
	"github.com/opsconform/opsconform/specs"
	"github.com/pb33f/libopenapi/datamodel/high/base"
)

// State that follows writes: what a create, update or action writes on its
// item beyond the request body (the body schema's defaults, the sets the
// spec declares, with the mock's clock and the caller), the references an
// item must keep true, and the views a get answers with. EXTENSIONS.md
// documents the declarations.

// applyDefaults gives item the default of every property of the request
// body's schema that the body leaves out and the item's schema knows: a
// ticket created without a priority gets the documented default, not a
// generated value.
func applyDefaults(item, body map[string]any, bodySchema, itemSchema *base.Schema) {
	if bodySchema == nil || bodySchema.Properties == nil {
		return
	}
	for name, proxy := range bodySchema.Properties.FromOldest() {
		if _, given := body[name]; given {
			continue
		}
		ps := specs.SchemaOf(proxy)
		if ps == nil || ps.Default == nil || specs.Property(itemSchema, name) == nil {
			continue
		}
		item[name] = gen.Decode(ps.Default)
	}
}

// caller is the $user of a write: the key's owner, else the key itself.
func caller(x *exchange) string {
	if x.auth == nil {
		return ""
	}
	if x.auth.Owner != nil && x.auth.Owner.ID != "" {
		return x.auth.Owner.ID
	}
	return x.auth.Key.ID
}

// applySets writes the operation's declared sets on item, at now. A
// parameter that does not read as its field's type is the client's mistake.
func (s *Server) applySets(x *exchange, item map[string]any, now time.Time) *failure {
	res := x.op.Resource
	if len(res.Sets) == 0 {
		return nil
	}
	user := caller(x)
	param := func(name string) (string, bool) {
		if v, ok := x.params[name]; ok {
			return v, true
		}
		q := x.queryValues()
		v, ok := q[name]
		if !ok || len(v) == 0 {
			return "", false
		}
		return v[0], true
	}
	for _, a := range res.Sets {
		v, err := a.Resolve(now, user, param)
		if err != nil {
			f := fail(specs.InvalidParameter, "%s: %v.", a.Param, err)
			f.params = []string{a.Param}
			return f
		}
		item[a.Field] = v
	}
	return nil
}

// fromRequest are the item fields a write took from the request's
// parameters through its sets (OpManager's addNotes?entity=…): only these
// are checked against the references they make, since a parameter names
// the item the operation acts on. A JSON body's links are kept as given
// (an Ivanti record's ProfileLink_RecID, as ISM's own API takes them), and
// the rest the mock made itself.
func fromRequest(res *specs.Resource, _ map[string]any) []string {
	var fields []string
	for _, a := range res.Sets {
		if a.Token == specs.TokenParam {
			fields = append(fields, a.Field)
		}
	}
	slices.Sort(fields)
	return slices.Compact(fields)
}

// checkRefs answers 404 when a field the request gave names an item that
// does not exist (a note for an alarm that is not there): a reference
// (x-opsconform-ref) holds when any collection it may point into has an
// item with that id. Fixture items are checked the same way when the mock
// starts. The caller holds the dataset's lock or builds the dataset.
func checkRefs(ds *dataset, c *collection, item map[string]any, fields []string) *failure {
	for _, f := range fields {
		refs, err := specs.Refs(specs.Property(c.schema, f))
		if err != nil || len(refs) == 0 {
			continue
		}
		found := false
		var names []string
		for _, r := range refs {
			names = append(names, singular(r.Collection))
			if t := ds.cols[r.Collection]; t != nil && t.has(fmt.Sprint(item[f])) {
				found = true
				break
			}
		}
		if !found {
			return fail(specs.NotFound, "No %s has %s %q.", strings.Join(names, " or "), refIDField(ds, refs), fmt.Sprint(item[f]))
		}
	}
	return nil
}

// refIDField is the id field of the first collection refs point into that
// the dataset has, for messages.
func refIDField(ds *dataset, refs []specs.Ref) string {
	for _, r := range refs {
		if t := ds.cols[r.Collection]; t != nil {
			return t.idField
		}
	}
	return "id"
}

// cascade removes the items that refer to a deleted one and to nothing
// else (an alarm's notes go with it), so that no reference is left dangling.
// The caller holds the dataset's lock.
func cascade(ds *dataset, deleted *collection, id string) {
	for _, name := range slices.Sorted(maps.Keys(ds.cols)) {
		c := ds.cols[name]
		for _, rf := range refFields(c.schema) {
			if !slices.ContainsFunc(rf.refs, func(r specs.Ref) bool { return r.Collection == deleted.name }) {
				continue
			}
			for i := len(c.items) - 1; i >= 0; i-- {
				if v, ok := c.items[i].fields[rf.field]; ok && fmt.Sprint(v) == id && !refHeld(ds, rf, v) {
					c.remove(i)
				}
			}
		}
	}
}

// refHeld reports whether a reference's value still names an item of any
// collection it may point into.
func refHeld(ds *dataset, rf refField, v any) bool {
	for _, r := range rf.refs {
		if t := ds.cols[r.Collection]; t != nil && t.has(fmt.Sprint(v)) {
			return true
		}
	}
	return false
}

// unsupported refuses a request that carries a parameter the vendor
// documents and the mock does not apply: 400 naming it, never silently
// ignored.
func (s *Server) unsupported(x *exchange) *failure {
	res := x.op.Resource
	if res == nil {
		return nil
	}
	for i, name := range res.Unsupported {
		_, inQuery := x.queryValues()[name]
		if inQuery || len(x.r.Header[x.info.unsupported[i]]) > 0 && x.r.Header[x.info.unsupported[i]][0] != "" {
			f := fail(specs.InvalidParameter, "%s is documented by the vendor but not supported by opsconform's mock of %s; leave it out.", name, x.op.ID)
			f.params = []string{name}
			return f
		}
	}
	return nil
}

// answersItem reports whether an operation's answer is the item it wrote
// (a created ticket) rather than an answer of its own (OpManager's
// {"result":{"message":…}} for a note added): the item's own schema, or a
// schema whose every property the item has.
func answersItem(answer, item *base.Schema) bool {
	if answer == nil || answer == item || answer.Properties == nil {
		return true
	}
	for name := range answer.Properties.KeysFromOldest() {
		if specs.Property(item, name) == nil {
			return false
		}
	}
	return true
}

// documented is an operation's own answer: the success response's example
// (inside the success envelope), when it fits the schema, else a value
// generated from the schema.
func (s *Server) documented(x *exchange) any {
	resp := x.info.success
	if resp != nil && resp.Media != nil {
		if ex := mediaExample(resp); ex != nil {
			if inner, ok := ex.(map[string]any); ok && x.profile.Envelope.Success != "" && envelopeProperty(x.profile, resp.Schema) != nil {
				ex = inner[x.profile.Envelope.Success]
			}
			if x.profile.CheckValue(x.info.successSchema, specs.ToClient, ex) == nil {
				return ex
			}
		}
	}
	return s.generated(x)
}

// viewOf is a record as a get with a view answers it: each answer field
// from the item field the view maps it to (else its own name), written as
// the answer's schema types it (a number where the answer has a string
// says "5").
func viewOf(rec *record, answer *base.Schema, view map[string]string) map[string]any {
	out := map[string]any{}
	if answer == nil || answer.Properties == nil {
		return out
	}
	for name, proxy := range answer.Properties.FromOldest() {
		from := name
		if f, ok := view[name]; ok {
			from = f
		}
		v, ok := rec.fields[from]
		if !ok {
			continue
		}
		out[name] = coerce(v, specs.SchemaOf(proxy))
	}
	return out
}

// coerce writes a scalar as s types it: a number or boolean as a string
// where s is a string, a numeric string as a number where s is one. Other
// values are kept.
func coerce(v any, s *base.Schema) any {
	if s == nil {
		return v
	}
	switch schemaType(s) {
	case "string":
		switch n := v.(type) {
		case string:
			return n
		case float64, int64, int, bool, json.Number:
			return fmt.Sprint(n)
		}
	case "integer", "number", "boolean":
		if str, ok := v.(string); ok {
			if parsed, err := specs.ParamValue(s, str); err == nil {
				return parsed
			}
		}
	}
	return v
}
