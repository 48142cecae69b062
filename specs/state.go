package specs

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/pb33f/libopenapi/datamodel/high/base"
	v3 "github.com/pb33f/libopenapi/datamodel/high/v3"
	"go.yaml.in/yaml/v4"
)

// What a write does to its item, declared in x-opsconform-resource (sets),
// and how lists narrow and order what they show (filters, sort,
// unsupported). EXTENSIONS.md documents each.

// Token is what an assignment's value stands for when it is not a literal.
type Token string

// The tokens a sets value may be.
const (
	TokenNone  Token = ""       // a literal value
	TokenNow   Token = "$now"   // the mock's clock, in the field's form
	TokenUser  Token = "$user"  // the calling key's owner (its id), else the key's id
	TokenParam Token = "$param" // a parameter of the request, as the field's type
)

// Assignment is one field a create, update or action writes.
type Assignment struct {
	Field string
	Token Token
	// Value is the literal, JSON-shaped (TokenNone).
	Value any
	// Param is the request parameter the value comes from (TokenParam).
	Param string
	// Pattern is the date pattern of $now(PATTERN) as written; Layout is
	// the Go layout $now is written in ("" for epoch milliseconds).
	Pattern, Layout string
	// Millis writes $now as Unix epoch milliseconds (an integer or number field).
	Millis bool
	// Schema is the field's schema in the collection's item.
	Schema *base.Schema
}

// Resolve is the assignment's value for one request: now is the mock's
// clock, user the caller, param a parameter's value. An error is the
// client's: a parameter that does not read as the field's type.
func (a Assignment) Resolve(now time.Time, user string, param func(name string) (string, bool)) (any, error) {
	switch a.Token {
	case TokenNow:
		if a.Millis {
			return now.UnixMilli(), nil
		}
		return now.UTC().Format(a.Layout), nil
	case TokenUser:
		return user, nil
	case TokenParam:
		raw, _ := param(a.Param)
		return ParamValue(a.Schema, raw)
	}
	return a.Value, nil
}

// ParamValue reads a request parameter's text as a value of schema's type:
// a number for an integer or number, true or false for a boolean, the text
// itself otherwise.
func ParamValue(s *base.Schema, raw string) (any, error) {
	kind := ""
	if s != nil {
		kind = schemaKind(s)
	}
	switch kind {
	case "integer":
		n, err := strconv.ParseInt(strings.TrimSpace(raw), 10, 64)
		if err != nil {
			return nil, fmt.Errorf("%q is not an integer", raw)
		}
		return n, nil
	case "number":
		f, err := strconv.ParseFloat(strings.TrimSpace(raw), 64)
		if err != nil {
			return nil, fmt.Errorf("%q is not a number", raw)
		}
		return f, nil
	case "boolean":
		b, err := strconv.ParseBool(strings.TrimSpace(raw))
		if err != nil {
			return nil, fmt.Errorf("%q is not true or false", raw)
		}
		return b, nil
	}
	return raw, nil
}

// Comparison is a list filter that compares: the list keeps the items whose
// Field is Op (lt, le, gt, ge) the parameter's value. With Layouts the
// parameter is a time read in one of them (in UTC), compared with a field
// that is a time too: epoch milliseconds or a date-time string.
type Comparison struct {
	Param, Field, Op string
	Layouts          []string // Go layouts, tried in order; nil for a plain value
	Patterns         []string // the layouts as the spec writes them
}

// Sort is a list's documented sort: the By parameter names the item field,
// the Order parameter is asc (the default) or desc.
type Sort struct {
	By, Order string
}

// xComparison is a filters entry in its object form.
type xComparison struct {
	Field string   `yaml:"field"`
	Op    string   `yaml:"op"`
	Time  []string `yaml:"time"`
}

// resourceState decodes the state fields of an x-opsconform-resource
// (filters, sets, sort, unsupported, view) into r. What needs the
// collection's item schema is checked later, by resolveResources.
func (l *loader) resourceState(where string, n *yaml.Node, x *xResource, r *Resource, o *Operation) error {
	if x.Filters.Kind != 0 {
		if x.Filters.Kind != yaml.MappingNode {
			return l.errorf(&x.Filters, "%s.filters: want a mapping of query or path parameter to item field", where)
		}
		for i := 0; i+1 < len(x.Filters.Content); i += 2 {
			param, v := x.Filters.Content[i].Value, x.Filters.Content[i+1]
			switch v.Kind {
			case yaml.ScalarNode:
				if r.Filters == nil {
					r.Filters = map[string]string{}
				}
				r.Filters[param] = v.Value
			case yaml.MappingNode:
				var b xComparison
				if err := l.decode(where+".filters."+param, v, &b); err != nil {
					return err
				}
				if !oneOf(b.Op, "lt", "le", "gt", "ge") {
					return l.errorf(child(v, "op"), "%s.filters.%s.op: unknown value %q (want lt, le, gt or ge)", where, param, b.Op)
				}
				if b.Field == "" {
					return l.errorf(v, "%s.filters.%s.field: missing", where, param)
				}
				bound := Comparison{Param: param, Field: b.Field, Op: b.Op, Patterns: b.Time}
				for _, pat := range b.Time {
					layout, err := TimeLayout(pat)
					if err != nil {
						return l.errorf(child(v, "time"), "%s.filters.%s.time: %v", where, param, err)
					}
					bound.Layouts = append(bound.Layouts, layout)
				}
				r.Comparisons = append(r.Comparisons, bound)
			default:
				return l.errorf(v, "%s.filters.%s: want an item field or {field, op, time}", where, param)
			}
			if o.Param("query", param) == nil && (v.Kind != yaml.ScalarNode || o.Param("path", param) == nil) {
				return l.errorf(x.Filters.Content[i], "%s.filters: the operation has no query or path parameter %q", where, param)
			}
		}
		if r.Action != ActionList {
			return l.errorf(&x.Filters, "%s.filters: only for list", where)
		}
	}
	if x.Sort != nil {
		if r.Action != ActionList {
			return l.errorf(child(n, "sort"), "%s.sort: only for list", where)
		}
		if x.Sort.By == "" {
			return l.errorf(child(n, "sort"), "%s.sort.by: missing (the query parameter naming the field)", where)
		}
		for _, prm := range []string{x.Sort.By, x.Sort.Order} {
			if prm != "" && o.Param("query", prm) == nil {
				return l.errorf(child(n, "sort"), "%s.sort: the operation has no query parameter %q", where, prm)
			}
		}
		r.Sort = &Sort{By: x.Sort.By, Order: x.Sort.Order}
	}
	// Unsupported parameters need not be declared (a v1 list refuses the
	// paging parameters it does not take), but must not be ones the
	// operation applies.
	for _, prm := range x.Unsupported {
		_, filtered := r.Filters[prm]
		if filtered || slices.ContainsFunc(r.Comparisons, func(c Comparison) bool { return c.Param == prm }) ||
			r.Sort != nil && (r.Sort.By == prm || r.Sort.Order == prm) || prm == "" {
			return l.errorf(child(n, "unsupported"), "%s.unsupported: %q is applied by this operation (a filter or sort), it cannot be unsupported too", where, prm)
		}
	}
	r.Unsupported = x.Unsupported
	if x.Sets.Kind != 0 {
		if x.Sets.Kind != yaml.MappingNode {
			return l.errorf(&x.Sets, "%s.sets: want a mapping of item field to value", where)
		}
		if r.Action != ActionCreate && r.Action != ActionUpdate && r.Action != ActionDo {
			return l.errorf(&x.Sets, "%s.sets: only for create, update and action (not %s)", where, r.Action)
		}
		if r.Source != SourceData {
			return l.errorf(&x.Sets, "%s.sets: only on the mock's data, not source: %s", where, r.Source)
		}
		for i := 0; i+1 < len(x.Sets.Content); i += 2 {
			field, v := x.Sets.Content[i].Value, x.Sets.Content[i+1]
			a, err := l.assignment(where+".sets."+field, field, v, o)
			if err != nil {
				return err
			}
			r.Sets = append(r.Sets, a)
		}
	}
	if len(x.Counts) > 0 && (r.Action != ActionList || r.Items == "" && !o.Paginated) {
		return l.errorf(child(n, "counts"), "%s.counts: only for a list whose answer is an object (items, or paginated)", where)
	}
	r.Counts = x.Counts
	if len(x.View) > 0 && r.Action != ActionGet {
		return l.errorf(child(n, "view"), "%s.view: only for get", where)
	}
	r.View = x.View
	return nil
}

// assignment reads one sets entry: a literal, or a token.
func (l *loader) assignment(where, field string, v *yaml.Node, o *Operation) (Assignment, error) {
	a := Assignment{Field: field}
	if v.Kind == yaml.ScalarNode && v.Tag == "!!str" && strings.HasPrefix(v.Value, "$") {
		s := v.Value
		switch {
		case strings.HasPrefix(s, "$$"):
			a.Value = s[1:] // a literal that starts with $
		case s == "$now":
			a.Token = TokenNow
		case strings.HasPrefix(s, "$now(") && strings.HasSuffix(s, ")"):
			a.Token, a.Pattern = TokenNow, s[len("$now("):len(s)-1]
			layout, err := TimeLayout(a.Pattern)
			if err != nil {
				return a, l.errorf(v, "%s: %v", where, err)
			}
			a.Layout = layout
		case s == "$user":
			a.Token = TokenUser
		case strings.HasPrefix(s, "$param."):
			a.Token, a.Param = TokenParam, s[len("$param."):]
			if o.Param("query", a.Param) == nil && o.Param("path", a.Param) == nil {
				return a, l.errorf(v, "%s: the operation has no path or query parameter %q", where, a.Param)
			}
		default:
			return a, l.errorf(v, "%s: unknown token %q (want $now, $now(PATTERN), $user or $param.NAME; write $$ for a literal $)", where, s)
		}
		return a, nil
	}
	var val any
	if err := v.Decode(&val); err != nil {
		return a, l.errorf(v, "%s: %v", where, err)
	}
	a.Value = JSONShape(val)
	return a, nil
}

// resolveResources works out each data collection's item schema, sets it
// on every operation of the collection, and checks what the state fields
// name against it: the fields sets, filters and view name, the types of
// literal and token values. It runs once every operation is read.
func (l *loader) resolveResources(p *Profile, m *v3.Document) error {
	colls := map[string][]*Operation{}
	var order []string
	for _, op := range p.Operations {
		r := op.Resource
		if r == nil || r.Source != SourceData || r.node == nil {
			continue
		}
		if colls[r.Collection] == nil {
			order = append(order, r.Collection)
		}
		colls[r.Collection] = append(colls[r.Collection], op)
	}
	for _, name := range order {
		ops := colls[name]
		item, err := l.collectionItem(p, m, name, ops)
		if err != nil {
			return err
		}
		for _, op := range ops {
			op.Resource.Item = item
			if err := l.checkState(p, op, item); err != nil {
				return err
			}
		}
	}
	return nil
}

// collectionItem is the schema of one stored item of a collection: the
// components schema a record names (every operation naming one must agree),
// else the list's items, else what a get answers. nil when none of the
// operations says (a collection of actions only).
func (l *loader) collectionItem(p *Profile, m *v3.Document, name string, ops []*Operation) (*base.Schema, error) {
	var named *base.Schema
	namedAs := ""
	for _, op := range ops {
		r := op.Resource
		if r.record == "" {
			continue
		}
		var s *base.Schema
		if m.Components != nil && m.Components.Schemas != nil {
			if proxy, ok := m.Components.Schemas.Get(r.record); ok {
				s = SchemaOf(proxy)
			}
		}
		if s == nil || schemaKind(s) != "object" || s.Properties == nil {
			return nil, l.errorf(child(r.node, "record"), "%s %s.x-opsconform-resource.record: %q is not an object schema under components.schemas", op.Method, op.Template, r.record)
		}
		if named != nil && r.record != namedAs {
			return nil, l.errorf(child(r.node, "record"), "%s %s.x-opsconform-resource.record: %q, but another operation of collection %s names %q", op.Method, op.Template, r.record, name, namedAs)
		}
		named, namedAs = s, r.record
	}
	if named != nil {
		return named, nil
	}
	var fromGet *base.Schema
	for _, op := range ops {
		s := p.answerSchema(op)
		if s == nil {
			continue
		}
		switch op.Resource.Action {
		case ActionList:
			field := op.Resource.Items
			if field == "" && op.Paginated && p.Pagination != nil {
				field = p.Pagination.Response.Items
			}
			if field != "" {
				s = Property(s, field)
			}
			if s != nil && schemaKind(s) == "array" {
				if it := arrayItem(s); it != nil && schemaKind(it) == "object" && it.Properties != nil {
					return it, nil
				}
			}
		case ActionGet:
			if fromGet == nil && schemaKind(s) == "object" && s.Properties != nil {
				fromGet = s
			}
		}
	}
	return fromGet, nil
}

// answerSchema is the operation's success schema inside the profile's
// success envelope.
func (p *Profile) answerSchema(op *Operation) *base.Schema {
	r := op.Success()
	if r == nil || r.Schema == nil {
		return nil
	}
	if p.Envelope.Success != "" {
		if inner := Property(r.Schema, p.Envelope.Success); inner != nil {
			return inner
		}
	}
	return r.Schema
}

// Property is the schema of s's property name, its $ref resolved (see
// SchemaOf); nil when s is nil or has no such property.
func Property(s *base.Schema, name string) *base.Schema {
	if s == nil || s.Properties == nil {
		return nil
	}
	proxy, ok := s.Properties.Get(name)
	if !ok {
		return nil
	}
	return SchemaOf(proxy)
}

// checkState checks the fields an operation's state declarations name
// against the collection's item schema.
func (l *loader) checkState(p *Profile, op *Operation, item *base.Schema) error {
	r := op.Resource
	where := op.Method + " " + op.Template + ".x-opsconform-resource"
	needItem := len(r.Sets) > 0 || len(r.Filters) > 0 || len(r.Comparisons) > 0 || len(r.View) > 0 || len(r.Counts) > 0
	if item == nil {
		if needItem {
			return l.errorf(r.node, "%s: collection %s has no item schema (no list or get answers one; name one with record)", where, r.Collection)
		}
		return nil
	}
	field := func(name, what string) (*base.Schema, error) {
		s := Property(item, name)
		if s == nil {
			return nil, l.errorf(child(r.node, what), "%s.%s: the %s item has no property %q (have: %s)", where, what, r.Collection, name, strings.Join(propertyNames(item), ", "))
		}
		return s, nil
	}
	for _, param := range sortedKeys(r.Filters) {
		// A path parameter's field may be one the fixtures keep for linking
		// (a team assignment's project), and a dotted field reaches into
		// objects and arrays: only a query filter's top-level field is checked.
		if f := r.Filters[param]; op.Param("query", param) != nil && !strings.Contains(f, ".") {
			if _, err := field(f, "filters"); err != nil {
				return err
			}
		}
	}
	for _, b := range r.Comparisons {
		s, err := field(b.Field, "filters")
		if err != nil {
			return err
		}
		if len(b.Layouts) > 0 {
			k := schemaKind(s)
			if k != "integer" && k != "number" && !(k == "string" && (s.Format == "date-time" || s.Format == "date")) {
				return l.errorf(child(r.node, "filters"), "%s.filters.%s: time given, but %s is neither epoch milliseconds (an integer) nor a date-time string", where, b.Param, b.Field)
			}
		}
	}
	for i := range r.Sets {
		a := &r.Sets[i]
		s, err := field(a.Field, "sets")
		if err != nil {
			return err
		}
		a.Schema = s
		kind := schemaKind(s)
		switch a.Token {
		case TokenNow:
			switch {
			case a.Layout != "":
				if kind != "string" {
					return l.errorf(child(r.node, "sets", a.Field), "%s.sets.%s: $now(%s) writes a string, but the field is %s", where, a.Field, a.Pattern, kindWord(kind))
				}
			case kind == "integer" || kind == "number":
				a.Millis = true
			case kind == "string" && s.Format == "date-time":
				a.Layout = time.RFC3339
			case kind == "string" && s.Format == "date":
				a.Layout = time.DateOnly
			default:
				return l.errorf(child(r.node, "sets", a.Field), "%s.sets.%s: $now needs an integer (epoch milliseconds) or a string of format date-time or date; for another form write $now(PATTERN)", where, a.Field)
			}
		case TokenUser:
			if kind != "string" {
				return l.errorf(child(r.node, "sets", a.Field), "%s.sets.%s: $user is a string, but the field is %s", where, a.Field, kindWord(kind))
			}
		case TokenNone:
			if err := p.CheckValue(s, ToClient, a.Value); err != nil {
				return l.errorf(child(r.node, "sets", a.Field), "%s.sets.%s: %s does not fit the field's schema: %v", where, a.Field, valueWord(a.Value), err)
			}
		}
	}
	for _, out := range sortedKeys(r.Counts) {
		cs := Property(p.answerSchema(op), out)
		if cs == nil || schemaKind(cs) != "object" {
			return l.errorf(child(r.node, "counts"), "%s.counts: the answer has no object property %q", where, out)
		}
		if _, err := field(r.Counts[out], "counts"); err != nil {
			return err
		}
	}
	if len(r.View) > 0 {
		answer := p.answerSchema(op)
		for _, out := range sortedKeys(r.View) {
			if Property(answer, out) == nil {
				return l.errorf(child(r.node, "view"), "%s.view: the answer has no property %q", where, out)
			}
			if _, err := field(r.View[out], "view"); err != nil {
				return err
			}
		}
	}
	return nil
}

func kindWord(kind string) string {
	if kind == "" {
		return "of no type"
	}
	return "of type " + kind
}

func valueWord(v any) string {
	if s, ok := v.(string); ok {
		return strconv.Quote(s)
	}
	return fmt.Sprint(v)
}

func propertyNames(s *base.Schema) []string {
	var out []string
	if s != nil && s.Properties != nil {
		for name := range s.Properties.KeysFromOldest() {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return out
}

// Undo is the action that puts back what op changes: another action on
// the same item (same collection and id parameter) whose sets give a
// literal for every field op sets (unAcknowledgeAlarm for
// acknowledgeAlarm). nil when there is none.
func (p *Profile) Undo(op *Operation) *Operation {
	r := op.Resource
	if r == nil || r.Action != ActionDo || r.ID == "" || len(r.Sets) == 0 {
		return nil
	}
	for _, other := range p.Operations {
		or := other.Resource
		if other == op || or == nil || or.Action != ActionDo || or.Collection != r.Collection || or.Source != r.Source || or.ID != r.ID || or.Field != r.Field {
			continue
		}
		covers := true
		for _, a := range r.Sets {
			i := slices.IndexFunc(or.Sets, func(b Assignment) bool { return b.Field == a.Field })
			if i < 0 || or.Sets[i].Token != TokenNone {
				covers = false
				break
			}
		}
		if covers {
			return other
		}
	}
	return nil
}

// UndoableActions are the actions with sets that another action undoes and
// whose collection a list shows: what a client can change, read back and
// put back.
func (p *Profile) UndoableActions() []*Operation {
	var out []*Operation
	for _, op := range p.Operations {
		if p.Undo(op) == nil {
			continue
		}
		if p.listOf(op.Resource.Collection) != nil {
			out = append(out, op)
		}
	}
	return out
}

// FilteredLists are the list operations with documented equality filters
// in the query (a path parameter's filter names the parent, not a choice).
func (p *Profile) FilteredLists() []*Operation {
	var out []*Operation
	for _, op := range p.Operations {
		r := op.Resource
		if r == nil || r.Action != ActionList || r.Source != SourceData {
			continue
		}
		for param := range r.Filters {
			if op.Param("query", param) != nil {
				out = append(out, op)
				break
			}
		}
	}
	return out
}

// listOf is a list operation of a data collection, preferring one that
// takes no required parameter; nil when none.
func (p *Profile) listOf(collection string) *Operation {
	var found *Operation
	for _, op := range p.Operations {
		r := op.Resource
		if r == nil || r.Action != ActionList || r.Collection != collection || r.Source != SourceData {
			continue
		}
		required := slices.ContainsFunc(op.Params, func(prm *Param) bool { return prm.Required })
		if !required {
			return op
		}
		if found == nil {
			found = op
		}
	}
	return found
}
