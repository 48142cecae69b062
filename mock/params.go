package mock

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"unicode/utf8"

	"github.com/opsconform/opsconform/mock/gen"
	"github.com/opsconform/opsconform/specs"
	"go.yaml.in/yaml/v4"
)

// paramCheck validates one scalar parameter the way libopenapi-validator
// does (ParseInt, ParseFloat or ParseBool, then the schema's enum, bounds,
// length and pattern) without compiling a JSON Schema per request. Most
// operations take only such parameters; they skip the full validator.
type paramCheck struct {
	name, in string
	required bool
	kind     string // integer, number, boolean or string
	enum     []string
	min, max *float64
	exMin    bool // min is exclusive
	exMax    bool
	minLen   int
	maxLen   int // -1 for none
	pattern  *regexp.Regexp
}

// compileParams turns op's parameters into checks. ok is false when the
// operation has a body or any parameter the checks cannot judge exactly as
// the full validator would (arrays, objects, styles, compositions, nullable
// types, multipleOf): it is validated in full. Formats are annotations to
// the validator, and so to the checks.
func compileParams(op *specs.Operation) (checks []paramCheck, ok bool) {
	if op.Body != nil || op.Op == nil {
		return nil, false
	}
	styled := map[string]bool{}
	for _, prm := range append(slices.Clone(op.PathItem.Parameters), op.Op.Parameters...) {
		if prm != nil && (prm.Style != "" || prm.Explode != nil || prm.Content != nil && prm.Content.Len() > 0 || prm.AllowReserved) {
			styled[prm.In+" "+prm.Name] = true
		}
	}
	for _, prm := range op.Params {
		if styled[prm.In+" "+prm.Name] || prm.In == "cookie" {
			return nil, false
		}
		c, ok := compileParam(prm)
		if !ok {
			return nil, false
		}
		checks = append(checks, c)
	}
	return checks, true
}

func compileParam(prm *specs.Param) (paramCheck, bool) {
	s := prm.Schema
	c := paramCheck{name: prm.Name, in: prm.In, required: prm.Required || prm.In == "path", maxLen: -1}
	if s == nil || len(s.Type) != 1 || len(s.AllOf)+len(s.OneOf)+len(s.AnyOf) > 0 || s.Not != nil || s.Const != nil {
		return c, false
	}
	c.kind = s.Type[0]
	switch c.kind {
	case "integer", "number", "boolean", "string":
	default:
		return c, false
	}
	for _, e := range s.Enum {
		if e == nil || e.Kind != yaml.ScalarNode {
			return c, false
		}
		c.enum = append(c.enum, e.Value)
	}
	c.min, c.max = s.Minimum, s.Maximum
	if s.ExclusiveMinimum != nil {
		if !s.ExclusiveMinimum.IsB() {
			v := s.ExclusiveMinimum.B
			c.min, c.exMin = &v, true
		} else if s.ExclusiveMinimum.A {
			c.exMin = true
		}
	}
	if s.ExclusiveMaximum != nil {
		if !s.ExclusiveMaximum.IsB() {
			v := s.ExclusiveMaximum.B
			c.max, c.exMax = &v, true
		} else if s.ExclusiveMaximum.A {
			c.exMax = true
		}
	}
	if s.MultipleOf != nil {
		return c, false
	}
	if s.MinLength != nil {
		c.minLen = int(*s.MinLength)
	}
	if s.MaxLength != nil {
		c.maxLen = int(*s.MaxLength)
	}
	if s.Pattern != "" {
		re, err := gen.CompiledPattern(s.Pattern)
		if err != nil {
			return c, false
		}
		c.pattern = re
	}
	return c, true
}

// checkParams validates the request's parameters with checks; paging
// parameters are left to the paging code.
func (s *Server) checkParams(x *exchange, checks []paramCheck) *failure {
	for i := range checks {
		c := &checks[i]
		if s.pagingParam(x, c.name) {
			continue
		}
		var values []string
		switch c.in {
		case "query":
			values = x.queryValues()[c.name]
		case "path":
			if v, ok := x.params[c.name]; ok {
				values = []string{v}
			}
		case "header":
			values = x.r.Header.Values(c.name)
		}
		if len(values) == 0 {
			if c.required && !x.faults.has(devRequiredParamUnchecked) {
				return &failure{kind: specs.InvalidParameter, message: fmt.Sprintf("The %s parameter %q is required.", c.in, c.name), params: []string{c.name}}
			}
			continue
		}
		for _, v := range values {
			if msg := c.judge(v); msg != "" {
				return &failure{kind: specs.InvalidParameter, message: fmt.Sprintf("The %s parameter %q %s.", c.in, c.name, msg), params: []string{c.name}}
			}
		}
	}
	return nil
}

// judge says what is wrong with one value; "" when it is valid.
func (c *paramCheck) judge(v string) string {
	var n float64
	switch c.kind {
	case "integer":
		i, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return fmt.Sprintf("must be an integer, not %q", v)
		}
		n = float64(i)
	case "number":
		f, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return fmt.Sprintf("must be a number, not %q", v)
		}
		n = f
	case "boolean":
		if _, err := strconv.ParseBool(v); err != nil {
			return fmt.Sprintf("must be true or false, not %q", v)
		}
	}
	if len(c.enum) > 0 && !slices.Contains(c.enum, v) {
		return fmt.Sprintf("must be one of %v, not %q", c.enum, v)
	}
	if c.kind == "integer" || c.kind == "number" {
		if c.min != nil && (n < *c.min || c.exMin && n == *c.min) {
			return fmt.Sprintf("must be at least %v, not %s", *c.min, v)
		}
		if c.max != nil && (n > *c.max || c.exMax && n == *c.max) {
			return fmt.Sprintf("must be at most %v, not %s", *c.max, v)
		}
		return ""
	}
	if c.kind == "string" {
		l := utf8.RuneCountInString(v)
		if l < c.minLen || c.maxLen >= 0 && l > c.maxLen {
			return fmt.Sprintf("has %d characters, outside the documented length", l)
		}
		if c.pattern != nil && !c.pattern.MatchString(v) {
			return fmt.Sprintf("does not match %s", c.pattern)
		}
	}
	return ""
}
