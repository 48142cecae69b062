package specs

import (
	"sort"
	"strconv"

	"github.com/pb33f/libopenapi/datamodel/high/base"
	v3 "github.com/pb33f/libopenapi/datamodel/high/v3"
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
func (l *loader) schemaExtensions(p *Profile, m *v3.Document) error {
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
