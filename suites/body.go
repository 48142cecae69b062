package suites

import (
	"encoding/json"
	"time"

	"github.com/opsconform/opsconform/specs"
	"github.com/pb33f/libopenapi/datamodel/high/base"
	"go.yaml.in/yaml/v4"
)

// validBody is the smallest body the operation's schema accepts: its
// required properties, each with its example, const, first enum value or a
// plain value of its type and format. Checks that must reach past request
// validation (a 403 must not hide behind a 400) send it.
func validBody(s *base.Schema) string {
	if s == nil {
		return "{}"
	}
	b, err := json.Marshal(minimalValue(s, 0))
	if err != nil {
		return "{}"
	}
	return string(b)
}

func minimalValue(s *base.Schema, depth int) any {
	if s == nil || depth > 8 {
		return nil
	}
	if s.Const != nil {
		return nodeValue(s.Const)
	}
	if s.Example != nil {
		if v := nodeValue(s.Example); v != nil {
			return v
		}
	}
	if len(s.Enum) > 0 {
		return nodeValue(s.Enum[0])
	}
	if s.Default != nil {
		return nodeValue(s.Default)
	}
	for _, alts := range [][]*base.SchemaProxy{s.AllOf, s.OneOf, s.AnyOf} {
		if len(alts) > 0 {
			return minimalValue(alts[0].Schema(), depth+1)
		}
	}
	switch typeOf(s) {
	case "object":
		out := map[string]any{}
		for _, name := range s.Required {
			if s.Properties == nil {
				break
			}
			if p, ok := s.Properties.Get(name); ok {
				out[name] = minimalValue(p.Schema(), depth+1)
			}
		}
		if len(out) == 0 && s.MinProperties != nil && *s.MinProperties > 0 && s.Properties != nil {
			for name, p := range s.Properties.FromOldest() {
				out[name] = minimalValue(p.Schema(), depth+1)
				break
			}
		}
		return out
	case "array":
		n := 0
		if s.MinItems != nil {
			n = int(*s.MinItems)
		}
		out := make([]any, 0, n)
		if s.Items != nil && s.Items.IsA() {
			for range n {
				out = append(out, minimalValue(s.Items.A.Schema(), depth+1))
			}
		}
		return out
	case "integer":
		if s.Minimum != nil {
			return int64(*s.Minimum)
		}
		return 1
	case "number":
		if s.Minimum != nil {
			return *s.Minimum
		}
		return 1
	case "boolean":
		return false
	case "null":
		return nil
	}
	switch s.Format {
	case "uuid":
		return "00000000-0000-4000-8000-000000000001"
	case "email":
		return "opsconform@example.com"
	case "date-time":
		return time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Format(time.RFC3339)
	case "date":
		return "2026-01-01"
	case "ipv4":
		return "192.0.2.10"
	case "uri", "url":
		return "https://example.com/opsconform"
	}
	v := "opsconform check"
	if s.MaxLength != nil && int(*s.MaxLength) < len(v) {
		v = v[:*s.MaxLength]
	}
	for s.MinLength != nil && int64(len(v)) < *s.MinLength {
		v += "x"
	}
	return v
}

// typeOf is a schema's first non-null type, or what its shape implies.
func typeOf(s *base.Schema) string {
	for _, t := range s.Type {
		if t != "null" {
			return t
		}
	}
	switch {
	case s.Properties != nil:
		return "object"
	case s.Items != nil:
		return "array"
	}
	return "string"
}

func nodeValue(n *yaml.Node) any {
	var v any
	if err := n.Decode(&v); err != nil {
		return nil
	}
	return specs.JSONShape(v)
}
