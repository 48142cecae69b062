package mock

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/brianvoe/gofakeit/v7"
	"github.com/pb33f/libopenapi/datamodel/high/base"
	"go.yaml.in/yaml/v4"
)

// generator makes values that validate against a schema, deterministically:
// the same seed and the same sequence of calls give the same values. Dates are
// drawn from the year before a fixed epoch, never from the wall clock.
type generator struct {
	f      *gofakeit.Faker
	epoch  time.Time
	unique map[*base.Schema]*uniqueness // collections whose creates it makes unique (see track)
}

// generationEpoch anchors generated dates so that runs are byte-identical.
var generationEpoch = time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)

func newGenerator(seed uint64) *generator {
	return &generator{f: gofakeit.New(seed), epoch: generationEpoch}
}

// maxDepth caps recursion through schemas; optionalDepth is where optional
// properties stop being generated.
const (
	maxDepth      = 6
	optionalDepth = 2
)

// value generates a value for s. name is the property name, which picks
// realistic words (hostname, email, subject) where the schema leaves it open.
// useExamples lets spec examples win over generated data.
func (g *generator) value(s *base.Schema, name string, useExamples bool, depth int) any {
	if s == nil || depth > maxDepth {
		return nil
	}
	if s.Const != nil {
		return decodeNode(s.Const)
	}
	if useExamples && s.Example != nil {
		if v := decodeNode(s.Example); v != nil {
			return v
		}
	}
	if len(s.Enum) > 0 {
		return decodeNode(s.Enum[g.f.IntRange(0, len(s.Enum)-1)])
	}
	if len(s.AllOf) > 0 {
		merged := map[string]any{}
		for _, sub := range s.AllOf {
			if m, ok := g.value(sub.Schema(), name, useExamples, depth+1).(map[string]any); ok {
				for k, v := range m {
					merged[k] = v
				}
			}
		}
		return merged
	}
	for _, alts := range [][]*base.SchemaProxy{s.OneOf, s.AnyOf} {
		if len(alts) > 0 {
			return g.value(alts[0].Schema(), name, useExamples, depth+1)
		}
	}
	switch schemaType(s) {
	case "object":
		out := map[string]any{}
		if s.Properties != nil {
			for prop, proxy := range s.Properties.FromOldest() {
				// Deep down only required properties: an optional self-reference
				// (a pet's parent) then ends instead of running into the depth cap.
				if depth >= optionalDepth && !slices.Contains(s.Required, prop) {
					continue
				}
				out[prop] = g.value(proxy.Schema(), prop, useExamples, depth+1)
			}
		}
		return out
	case "array":
		n := 1 + g.f.IntRange(0, 2)
		if s.MinItems != nil && int(*s.MinItems) > n {
			n = int(*s.MinItems)
		}
		if s.MaxItems != nil && int(*s.MaxItems) < n {
			n = int(*s.MaxItems)
		}
		out := make([]any, 0, n)
		if s.Items != nil && s.Items.IsA() {
			for range n {
				out = append(out, g.value(s.Items.A.Schema(), singular(name), useExamples, depth+1))
			}
		}
		return out
	case "integer":
		lo, hi := bounds(s, 1, 10000)
		return g.f.IntRange(int(lo), int(hi))
	case "number":
		lo, hi := bounds(s, 0, 1000)
		return float64(int(g.f.Float64Range(lo, hi)*100)) / 100
	case "boolean":
		return g.f.Bool()
	case "null":
		return nil
	}
	return g.str(s, name)
}

// schemaType is the first non-null type; a schema with none is treated by its shape.
func schemaType(s *base.Schema) string {
	for _, t := range s.Type {
		if t != "null" {
			return t
		}
	}
	if s.Properties != nil {
		return "object"
	}
	if s.Items != nil {
		return "array"
	}
	if len(s.Type) == 1 {
		return "null"
	}
	return "string"
}

func bounds(s *base.Schema, lo, hi float64) (float64, float64) {
	if s.Minimum != nil {
		lo = *s.Minimum
		if hi < lo {
			hi = lo + 10000
		}
	}
	if s.ExclusiveMinimum != nil && s.ExclusiveMinimum.IsB() {
		lo = s.ExclusiveMinimum.B + 1
	}
	if s.Maximum != nil {
		hi = *s.Maximum
		if lo > hi {
			lo = hi
		}
	}
	if s.ExclusiveMaximum != nil && s.ExclusiveMaximum.IsB() {
		hi = s.ExclusiveMaximum.B - 1
	}
	return lo, hi
}

func (g *generator) str(s *base.Schema, name string) string {
	var v string
	switch s.Format {
	case "uuid":
		return g.f.UUID()
	case "email":
		return strings.ToLower(g.f.Email())
	case "date-time":
		return g.f.DateRange(g.epoch.AddDate(-1, 0, 0), g.epoch).UTC().Format(time.RFC3339)
	case "date":
		return g.f.DateRange(g.epoch.AddDate(-1, 0, 0), g.epoch).UTC().Format(time.DateOnly)
	case "ipv4":
		return g.f.IPv4Address()
	case "hostname":
		return strings.ToLower(g.f.DomainName())
	case "uri", "url":
		return "https://" + strings.ToLower(g.f.DomainName()) + "/" + strings.ToLower(g.f.Word())
	}
	if s.Pattern != "" {
		if re, err := compiledPattern(s.Pattern); err == nil {
			for range 5 {
				if c := g.f.Regex(s.Pattern); re.MatchString(c) {
					v = c
					break
				}
			}
		}
	}
	if v == "" {
		v = g.word(name)
	}
	return fitLength(v, s)
}

// word picks realistic text by property name.
func (g *generator) word(name string) string {
	n := strings.ToLower(name)
	switch {
	case strings.Contains(n, "hostname") || strings.Contains(n, "devicename"):
		return strings.ToUpper(g.f.LetterN(3)) + "-" + strings.ToUpper(g.f.HackerNoun()) + "-" + strconv.Itoa(g.f.IntRange(1, 99))
	case strings.Contains(n, "email"):
		return strings.ToLower(g.f.Email())
	case strings.Contains(n, "subject") || strings.Contains(n, "message") || strings.Contains(n, "symptom") || strings.Contains(n, "detail"):
		return strings.TrimSuffix(g.f.Sentence(6), ".")
	case strings.Contains(n, "desc"):
		return g.f.Sentence(8)
	case strings.Contains(n, "vendor") || strings.Contains(n, "company"):
		return g.f.Company()
	case strings.Contains(n, "displayname"):
		w := g.f.HackerNoun()
		return strings.ToUpper(w[:1]) + w[1:] + " " + strconv.Itoa(g.f.IntRange(1, 99))
	case n == "name" || strings.HasSuffix(n, "name"):
		return strings.ToLower(g.f.HackerNoun()) + "-" + strconv.Itoa(g.f.IntRange(1, 999))
	}
	return g.f.Word()
}

func fitLength(v string, s *base.Schema) string {
	if s.MaxLength != nil && utf8.RuneCountInString(v) > int(*s.MaxLength) {
		v = string([]rune(v)[:*s.MaxLength])
	}
	if s.MinLength != nil {
		for utf8.RuneCountInString(v) < int(*s.MinLength) {
			v += "x"
		}
	}
	return v
}

var patterns sync.Map // pattern → *regexp.Regexp

func compiledPattern(p string) (*regexp.Regexp, error) {
	if re, ok := patterns.Load(p); ok {
		return re.(*regexp.Regexp), nil
	}
	re, err := regexp.Compile(p)
	if err != nil {
		return nil, err
	}
	patterns.Store(p, re)
	return re, nil
}

// decodeNode turns a YAML node (an example, enum value or const) into a JSON-shaped value.
func decodeNode(n *yaml.Node) any {
	var v any
	if err := n.Decode(&v); err != nil {
		return nil
	}
	return jsonShape(v)
}

// jsonShape converts YAML's decoded forms into what encoding/json produces,
// so values compare and marshal the same whichever way they arrived.
func jsonShape(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			x[k] = jsonShape(e)
		}
		return x
	case map[any]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[fmt.Sprint(k)] = jsonShape(e)
		}
		return out
	case []any:
		for i, e := range x {
			x[i] = jsonShape(e)
		}
		return x
	case time.Time:
		return x.UTC().Format(time.RFC3339)
	case int, int64, uint64, float64, string, bool, nil:
		return x
	default:
		b, err := json.Marshal(x)
		if err != nil {
			return fmt.Sprint(x)
		}
		var out any
		_ = json.Unmarshal(b, &out)
		return out
	}
}

func singular(name string) string {
	return strings.TrimSuffix(name, "s")
}
