// Package gen makes values from OpenAPI schemas that validate against them:
// composition (allOf merged, oneOf and anyOf by one branch, discriminators
// set), 3.0 nullable and 3.1 type lists, readOnly and writeOnly by
// direction, const, enum, formats, patterns, numeric and length bounds,
// recursion ended by depth. Examples win where the schema gives them.
//
// Every value is bounded by Caps, whatever the schema asks: a spec with
// minItems: 1e12 or minLength: 100000000 gets a capped answer (which then
// does not validate) rather than exhausting memory or time.
//
// A Generator is deterministic (the same seed and calls give the same
// values) and not safe for concurrent use: make one per request, seeded from
// what the request is, so no lock is held while generating.
package gen

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/brianvoe/gofakeit/v7"
	"github.com/opsconform/opsconform/specs"
	"github.com/pb33f/libopenapi/datamodel/high/base"
	"go.yaml.in/yaml/v4"
)

// Caps bound what one call to Value may produce.
type Caps struct {
	Items         int // items in one array, whatever minItems says
	StringLength  int // characters in one string, whatever minLength says
	Depth         int // nesting of required properties and array items
	OptionalDepth int // optional properties are generated above this depth only
	Nodes         int // values in one generated answer; past it, the smallest values
	Chars         int // characters of all strings in one answer; past it, strings are as short as allowed up to 16
}

// DefaultCaps are the mock's caps (documented in README).
var DefaultCaps = Caps{Items: 100, StringLength: 4096, Depth: 24, OptionalDepth: 3, Nodes: 10_000, Chars: 256 << 10}

// Direction says which way the value travels.
type Direction int

// The directions.
const (
	Response Direction = iota // writeOnly properties are left out
	Request                   // readOnly properties are left out
)

// Options configure a Generator.
type Options struct {
	Direction Direction
	Examples  bool // schema examples win over generated values
	Caps      Caps // DefaultCaps when zero
}

// Generator makes values for schemas.
type Generator struct {
	f     *gofakeit.Faker
	epoch time.Time
	opts  Options
	nodes int
	chars int
	// onlyRequired makes the next object hold only its required properties
	// (a oneOf branch that must not look like its siblings).
	onlyRequired bool
	// scalars are the enum values, examples and consts already decoded from
	// YAML: a collection of a thousand items decodes each once, not once per
	// item (decoding was a third of the mock's start-up).
	scalars map[*yaml.Node]any
}

// Epoch anchors generated dates so that runs are byte-identical: dates fall
// in the year before it, never on the wall clock.
var Epoch = time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)

// New makes a Generator seeded with seed.
func New(seed uint64, opts Options) *Generator {
	if opts.Caps == (Caps{}) {
		opts.Caps = DefaultCaps
	}
	return &Generator{f: gofakeit.New(seed), epoch: Epoch, opts: opts}
}

// Seed mixes a base seed with strings (profile, operation, request) into one.
func Seed(base int64, parts ...string) uint64 {
	h := fnv.New64a()
	for _, p := range parts {
		_, _ = h.Write([]byte(p))
		_, _ = h.Write([]byte{0})
	}
	return uint64(base) ^ h.Sum64()
}

// Value generates a value for s. name is the property name, which picks
// realistic words (hostname, email, subject) where the schema leaves it open.
func (g *Generator) Value(s *base.Schema, name string) any {
	g.nodes, g.chars = 0, 0
	return g.value(s, name, 0)
}

// Faker is the generator's source of randomness, for callers that pick among choices.
func (g *Generator) Faker() *gofakeit.Faker { return g.f }

func (g *Generator) value(s *base.Schema, name string, depth int) any {
	g.nodes++
	if s == nil {
		return g.word(name)
	}
	if s.Const != nil {
		return g.decode(s.Const)
	}
	if g.opts.Examples {
		if s.Example != nil {
			if v := g.decode(s.Example); v != nil {
				return v
			}
		}
		for _, ex := range s.Examples {
			if v := g.decode(ex); v != nil {
				return v
			}
		}
	}
	if len(s.Enum) > 0 {
		var choices []any
		for _, e := range s.Enum {
			if v := g.decode(e); v != nil {
				choices = append(choices, v)
			}
		}
		if len(choices) > 0 {
			return choices[g.f.IntN(len(choices))]
		}
		return nil
	}
	if len(s.AllOf) > 0 {
		return g.allOf(s, name, depth)
	}
	if alts := firstNonEmpty(s.OneOf, s.AnyOf); len(alts) > 0 {
		return g.oneOf(s, alts, name, depth)
	}
	if g.exhausted(depth) {
		return minimal(s)
	}
	switch Kind(s) {
	case "object":
		return g.object(s, depth)
	case "array":
		return g.array(s, name, depth)
	case "integer":
		return g.integer(s)
	case "number":
		if idLike(name) && multiple(s) == 0 {
			return g.integer(s) // an id typed number is still a whole number (GitHub's runner group ids)
		}
		return g.number(s)
	case "boolean":
		return g.f.Bool()
	case "null":
		return nil
	}
	return g.str(s, name)
}

func (g *Generator) exhausted(depth int) bool {
	return depth > g.opts.Caps.Depth || g.nodes > g.opts.Caps.Nodes
}

func firstNonEmpty(lists ...[]*base.SchemaProxy) []*base.SchemaProxy {
	for _, l := range lists {
		if len(l) > 0 {
			return l
		}
	}
	return nil
}

// Kind is the type the generator makes for s: the first non-null type, else
// what its shape says (object for properties, array for items), else string
// ("null" when null is the only type).
func Kind(s *base.Schema) string {
	for _, t := range s.Type {
		if t != "null" {
			return t
		}
	}
	if s.Properties != nil || s.AdditionalProperties != nil || s.MinProperties != nil {
		return "object"
	}
	if s.Items != nil || s.MinItems != nil || s.MaxItems != nil {
		return "array"
	}
	if len(s.Type) == 1 {
		return "null"
	}
	return "string"
}

// annotationOnly reports whether a schema constrains nothing (a description,
// a title): such allOf branches, libopenapi's form of a 3.0 $ref's siblings,
// add nothing to the value.
func annotationOnly(s *base.Schema) bool {
	return s != nil && len(s.Type) == 0 && s.Properties == nil && s.Items == nil && len(s.AllOf) == 0 &&
		len(s.OneOf) == 0 && len(s.AnyOf) == 0 && len(s.Enum) == 0 && s.Const == nil && s.Format == "" &&
		s.Pattern == "" && s.AdditionalProperties == nil && s.Minimum == nil && s.Maximum == nil &&
		s.MinLength == nil && s.MaxLength == nil && s.MinItems == nil && s.Example == nil
}

// allOf merges the branches: objects property by property (with the schema's
// own properties as one more branch), anything else from its one constraining branch.
func (g *Generator) allOf(s *base.Schema, name string, depth int) any {
	var branches []*base.Schema
	for _, p := range s.AllOf {
		if b := specs.SchemaOf(p); b != nil && !annotationOnly(b) {
			branches = append(branches, b)
		}
	}
	own := *s
	own.AllOf = nil
	if !annotationOnly(&own) {
		branches = append(branches, &own)
	}
	if len(branches) == 0 {
		return g.str(s, name)
	}
	var merged map[string]any
	var other any
	for _, b := range branches {
		v := g.value(b, name, depth+1)
		m, ok := v.(map[string]any)
		if !ok {
			if other == nil {
				other = v
			}
			continue
		}
		if merged == nil {
			merged = map[string]any{}
		}
		for k, val := range m {
			if _, has := merged[k]; !has || fixed(b, k) {
				merged[k] = val
			}
		}
	}
	if merged != nil {
		return merged
	}
	return other
}

func hasProp(s *base.Schema, name string) bool {
	_, ok := s.Properties.Get(name)
	return ok
}

// fixed reports whether a branch pins property k (const or enum), so its value wins a merge.
func fixed(s *base.Schema, k string) bool {
	if s.Properties == nil {
		return false
	}
	p, ok := s.Properties.Get(k)
	if !ok {
		return false
	}
	ps := specs.SchemaOf(p)
	return ps != nil && (ps.Const != nil || len(ps.Enum) > 0)
}

// oneOf generates one branch: the one the discriminator maps first, else a
// branch whose type no other branch has, else the first. The discriminator
// property is set to the branch's value, and the schema's own properties are merged in.
func (g *Generator) oneOf(s *base.Schema, alts []*base.SchemaProxy, name string, depth int) any {
	pick := 0
	types := map[string]int{}
	for _, a := range alts {
		if b := specs.SchemaOf(a); b != nil {
			types[Kind(b)]++
		}
	}
	unique := false
	for i, a := range alts {
		if b := specs.SchemaOf(a); b != nil && types[Kind(b)] == 1 {
			pick, unique = i, true
			break
		}
	}
	if !unique && s.Discriminator == nil {
		// Object branches that may overlap: the one that asks the least,
		// with only what it requires, is the least likely to match another
		// (GitHub's event payloads, where an empty object matches just one).
		fewest := -1
		for i, a := range alts {
			if b := specs.SchemaOf(a); b != nil && Kind(b) == "object" && (fewest < 0 || len(b.Required) < fewest) {
				pick, fewest = i, len(b.Required)
			}
		}
		if fewest >= 0 {
			g.onlyRequired = true
		}
	}
	if s.Discriminator != nil {
		pick = 0
	}
	branch := specs.SchemaOf(alts[pick])
	own := *s
	own.OneOf, own.AnyOf, own.Discriminator = nil, nil, nil
	if own.Properties != nil && branch != nil && branch.Properties == nil && len(branch.Type) == 0 {
		// The branches only constrain the schema's own object (GitHub's
		// "either id, or owner, repo and number"): the object, with the
		// picked branch's required properties.
		m, _ := g.value(&own, name, depth+1).(map[string]any)
		if m == nil {
			m = map[string]any{}
		}
		for _, req := range branch.Required {
			if _, has := m[req]; has {
				continue
			}
			if p, ok := own.Properties.Get(req); ok {
				m[req] = g.value(specs.SchemaOf(p), req, depth+1)
			}
		}
		return m
	}
	v := g.value(branch, name, depth+1)
	m, ok := v.(map[string]any)
	if !ok {
		return v
	}
	if own.Properties != nil {
		if om, ok := g.value(&own, name, depth+1).(map[string]any); ok {
			for k, val := range om {
				if _, has := m[k]; !has {
					m[k] = val
				}
			}
		}
	}
	if d := s.Discriminator; d != nil && d.PropertyName != "" {
		m[d.PropertyName] = discriminatorValue(d, alts[pick])
	}
	return m
}

// discriminatorValue is the value that selects branch: its mapping key, else
// the name of the schema it references.
func discriminatorValue(d *base.Discriminator, branch *base.SchemaProxy) string {
	ref := branch.GetReference()
	name := ref[strings.LastIndexAny(ref, "/#")+1:]
	if d.Mapping != nil {
		for k, v := range d.Mapping.FromOldest() {
			if v == ref || v == name || strings.HasSuffix(v, "/"+name) {
				return k
			}
		}
	}
	return name
}

func (g *Generator) object(s *base.Schema, depth int) any {
	onlyRequired := g.onlyRequired
	g.onlyRequired = false
	out := map[string]any{}
	skip := "writeOnly"
	if g.opts.Direction == Request {
		skip = "readOnly"
	}
	if s.Properties != nil {
		for prop, proxy := range s.Properties.FromOldest() {
			required := slices.Contains(s.Required, prop)
			// Deep down only required properties: an optional self-reference
			// (a pet's parent) then ends instead of running into the depth cap.
			if !required && (depth >= g.opts.Caps.OptionalDepth || onlyRequired) {
				continue
			}
			ps := specs.SchemaOf(proxy)
			if ps == nil {
				continue
			}
			if skip == "writeOnly" && ps.WriteOnly != nil && *ps.WriteOnly || skip == "readOnly" && ps.ReadOnly != nil && *ps.ReadOnly {
				continue
			}
			if !required && g.nodes > g.opts.Caps.Nodes/2 {
				continue
			}
			out[prop] = g.value(ps, prop, depth+1)
		}
	}
	for _, req := range s.Required {
		if _, has := out[req]; has || s.Properties != nil && hasProp(s, req) {
			continue
		}
		// Required but not among the properties (a slip in GitHub's spec,
		// among others): still there, from additionalProperties if it says.
		if ap := s.AdditionalProperties; ap != nil && ap.IsA() {
			out[req] = g.value(specs.SchemaOf(ap.A), req, depth+1)
		} else if ap == nil || ap.IsA() || ap.B {
			out[req] = g.word(req)
		}
	}
	want := 0
	if s.MinProperties != nil {
		want = min(int(*s.MinProperties), g.opts.Caps.Items)
	}
	if len(out) < want || s.Properties == nil && s.AdditionalProperties != nil && s.AdditionalProperties.IsA() && want == 0 && depth < g.opts.Caps.OptionalDepth {
		if want == 0 {
			want = 1
		}
		var extra *base.Schema
		if ap := s.AdditionalProperties; ap != nil && ap.IsA() {
			extra = specs.SchemaOf(ap.A)
		}
		allowed := s.AdditionalProperties == nil || s.AdditionalProperties.IsA() || s.AdditionalProperties.B
		for i := 1; len(out) < want && allowed && i <= want+len(out); i++ {
			key := fmt.Sprintf("key%d", i)
			if _, has := out[key]; has {
				continue
			}
			if extra != nil {
				out[key] = g.value(extra, key, depth+1)
			} else {
				out[key] = g.f.Word()
			}
		}
	}
	if s.MaxProperties != nil && len(out) > int(*s.MaxProperties) {
		for k := range out {
			if len(out) <= int(*s.MaxProperties) {
				break
			}
			if !slices.Contains(s.Required, k) {
				delete(out, k)
			}
		}
	}
	return out
}

func (g *Generator) array(s *base.Schema, name string, depth int) any {
	n := 1 + g.f.IntRange(0, 2)
	if s.MinItems != nil && int64(n) < *s.MinItems {
		n = int(min(*s.MinItems, int64(g.opts.Caps.Items)))
	}
	if s.MaxItems != nil && int64(n) > *s.MaxItems {
		n = int(max(*s.MaxItems, 0))
	}
	n = min(n, g.opts.Caps.Items)
	if depth >= g.opts.Caps.OptionalDepth*3 && (s.MinItems == nil || *s.MinItems == 0) {
		n = 0 // deep down, an optional list is empty: recursion through arrays ends here
	}
	var item *base.Schema
	if s.Items != nil && s.Items.IsA() && s.Items.A != nil {
		item = specs.SchemaOf(s.Items.A)
	}
	out := make([]any, 0, n)
	var prefix []*base.Schema
	for _, p := range s.PrefixItems {
		prefix = append(prefix, specs.SchemaOf(p))
	}
	seen := map[string]bool{}
	unique := s.UniqueItems != nil && *s.UniqueItems
	for tries := 0; len(out) < n && tries < 3*n+3 && g.nodes <= g.opts.Caps.Nodes; tries++ {
		is := item
		if len(out) < len(prefix) {
			is = prefix[len(out)]
		}
		v := g.value(is, singular(name), depth+1)
		if unique {
			k, _ := json.Marshal(v)
			if seen[string(k)] {
				continue
			}
			seen[string(k)] = true
		}
		out = append(out, v)
	}
	return out
}

func (g *Generator) integer(s *base.Schema) any {
	lo, hi := bounds(s, 1, 10000)
	lo, hi = math.Ceil(lo), math.Floor(hi)
	switch s.Format {
	case "int32":
		lo, hi = max(lo, math.MinInt32), min(hi, math.MaxInt32)
	default:
		lo, hi = max(lo, -1<<53), min(hi, 1<<53)
	}
	if hi < lo {
		hi = lo
	}
	v := lo
	if span := hi - lo; span > 0 {
		v = lo + float64(g.f.Int64()%int64(min(span, 1<<40)+1))
		if v < lo {
			v += min(span, 1<<40)
		}
	}
	if m := multiple(s); m > 0 {
		v = math.Ceil(lo/m) * m
		if k := math.Floor((hi-v)/m) + 1; k > 1 {
			v += m * float64(g.f.IntN(int(min(k, 1000))))
		}
	}
	return int64(v)
}

func (g *Generator) number(s *base.Schema) any {
	lo, hi := bounds(s, 0, 1000)
	if hi < lo {
		hi = lo
	}
	if m := multiple(s); m > 0 {
		first := math.Ceil(lo / m)
		k := first
		if n := math.Floor(hi/m) - first + 1; n > 1 {
			k += float64(g.f.IntN(int(min(n, 1000))))
		}
		return onMultiple(k*m, m)
	}
	v := float64(int64(g.f.Float64Range(lo, hi)*100)) / 100
	if v < lo || v > hi || (exclusiveMin(s) && v == lo) || (exclusiveMax(s) && v == hi) {
		v = (lo + hi) / 2
	}
	return v
}

// onMultiple rounds v to m's decimals, so that 727 × 0.01 is written 7.27.
func onMultiple(v, m float64) float64 {
	d := 0
	for x := m; x != math.Trunc(x) && d < 12; x *= 10 {
		d++
	}
	p := math.Pow(10, float64(d))
	return math.Round(v*p) / p
}

// idLike reports whether a property name names an identifier: id, userId, user_id.
func idLike(name string) bool {
	n := strings.ToLower(name)
	return n == "id" || strings.HasSuffix(n, "_id") || strings.HasSuffix(name, "Id") || strings.HasSuffix(name, "ID")
}

func multiple(s *base.Schema) float64 {
	if s.MultipleOf != nil && *s.MultipleOf > 0 {
		return *s.MultipleOf
	}
	return 0
}

func exclusiveMin(s *base.Schema) bool {
	return s.ExclusiveMinimum != nil && (s.ExclusiveMinimum.IsA() && s.ExclusiveMinimum.A || s.ExclusiveMinimum.IsB())
}

func exclusiveMax(s *base.Schema) bool {
	return s.ExclusiveMaximum != nil && (s.ExclusiveMaximum.IsA() && s.ExclusiveMaximum.A || s.ExclusiveMaximum.IsB())
}

// bounds reads minimum, maximum and both forms of exclusive bounds (3.0
// booleans, 3.1 numbers); integers step past an exclusive bound by one.
func bounds(s *base.Schema, lo, hi float64) (float64, float64) {
	step := 1.0
	if Kind(s) == "number" {
		step = 0.01
	}
	if s.Minimum != nil {
		lo = *s.Minimum
		if s.ExclusiveMinimum != nil && s.ExclusiveMinimum.IsA() && s.ExclusiveMinimum.A {
			lo += step
		}
		if hi < lo {
			hi = lo + 10000
		}
	}
	if s.ExclusiveMinimum != nil && s.ExclusiveMinimum.IsB() {
		lo = s.ExclusiveMinimum.B + step
		if hi < lo {
			hi = lo + 10000
		}
	}
	if s.Maximum != nil {
		hi = *s.Maximum
		if s.ExclusiveMaximum != nil && s.ExclusiveMaximum.IsA() && s.ExclusiveMaximum.A {
			hi -= step
		}
		if lo > hi {
			lo = hi - 10000
			if s.Minimum != nil {
				lo = *s.Minimum
			}
		}
	}
	if s.ExclusiveMaximum != nil && s.ExclusiveMaximum.IsB() {
		hi = s.ExclusiveMaximum.B - step
		if lo > hi {
			lo = hi - 10000
		}
	}
	return lo, hi
}

func (g *Generator) str(s *base.Schema, name string) string {
	switch s.Format {
	case "uuid":
		return g.f.UUID()
	case "email", "idn-email":
		return strings.ToLower(g.f.Email())
	case "date-time":
		return g.f.DateRange(g.epoch.AddDate(-1, 0, 0), g.epoch).UTC().Format(time.RFC3339)
	case "date":
		return g.f.DateRange(g.epoch.AddDate(-1, 0, 0), g.epoch).UTC().Format(time.DateOnly)
	case "time":
		return g.f.DateRange(g.epoch.AddDate(-1, 0, 0), g.epoch).UTC().Format("15:04:05Z")
	case "ipv4":
		return g.f.IPv4Address()
	case "ipv6":
		return g.f.IPv6Address()
	case "hostname", "idn-hostname":
		return strings.ToLower(g.f.DomainName())
	case "uri", "url", "iri", "uri-reference", "iri-reference":
		return "https://" + strings.ToLower(g.f.DomainName()) + "/" + strings.ToLower(g.f.Word())
	case "uri-template":
		return "https://" + strings.ToLower(g.f.DomainName()) + "/{id}"
	case "byte":
		return fitLength(base64.StdEncoding.EncodeToString([]byte(g.f.Word())), s, g.opts.Caps.StringLength)
	case "int64", "int32":
		return strconv.Itoa(g.f.IntRange(1, 100000))
	case "duration":
		return "P" + strconv.Itoa(g.f.IntRange(1, 30)) + "D"
	}
	var v string
	if s.Pattern != "" {
		if re, err := CompiledPattern(s.Pattern); err == nil {
			for range 8 {
				c := g.f.Regex(s.Pattern)
				if re.MatchString(c) && lengthOK(c, s) {
					return c
				}
				if v == "" && re.MatchString(c) {
					v = c
				}
			}
		}
	}
	if v == "" {
		v = g.word(name)
	}
	limit := g.opts.Caps.StringLength
	if g.chars > g.opts.Caps.Chars {
		limit = 16
	}
	v = fitLength(v, s, limit)
	g.chars += len(v)
	return v
}

func lengthOK(v string, s *base.Schema) bool {
	n := int64(utf8.RuneCountInString(v))
	return (s.MinLength == nil || n >= *s.MinLength) && (s.MaxLength == nil || n <= *s.MaxLength)
}

// word picks realistic text by property name.
func (g *Generator) word(name string) string {
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

// fitLength trims or pads v into the schema's length bounds, never past limit.
func fitLength(v string, s *base.Schema, limit int) string {
	if s.MaxLength != nil && int64(utf8.RuneCountInString(v)) > *s.MaxLength {
		v = string([]rune(v)[:max(*s.MaxLength, 0)])
	}
	if s.MinLength != nil {
		want := int(min(*s.MinLength, int64(limit)))
		if n := utf8.RuneCountInString(v); n < want {
			v += strings.Repeat("x", want-n)
		}
	}
	return v
}

// minimal is the smallest value of s's kind, for when a cap is reached.
func minimal(s *base.Schema) any {
	switch Kind(s) {
	case "object":
		return map[string]any{}
	case "array":
		return []any{}
	case "integer", "number":
		lo, _ := bounds(s, 0, 0)
		return lo
	case "boolean":
		return false
	case "null":
		return nil
	}
	return ""
}

var patterns sync.Map // pattern → *regexp.Regexp

// CompiledPattern compiles a schema pattern once, for every package that
// checks or generates against patterns.
func CompiledPattern(p string) (*regexp.Regexp, error) {
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

// decode is Decode, remembered for scalar nodes, whose values (strings,
// numbers, booleans, null) cannot be changed by whoever gets them; a mapping
// or sequence is decoded afresh each time, since items are changed by writes.
func (g *Generator) decode(n *yaml.Node) any {
	if n == nil || n.Kind != yaml.ScalarNode {
		return Decode(n)
	}
	if v, ok := g.scalars[n]; ok {
		return v
	}
	v := Decode(n)
	if g.scalars == nil {
		g.scalars = map[*yaml.Node]any{}
	}
	g.scalars[n] = v
	return v
}

// Decode turns a YAML node (an example, enum value or const) into a JSON-shaped value.
func Decode(n *yaml.Node) any {
	if n == nil {
		return nil
	}
	var v any
	if err := n.Decode(&v); err != nil {
		return nil
	}
	return specs.JSONShape(v)
}

func singular(name string) string {
	return strings.TrimSuffix(name, "s")
}

// ParamText writes a generated value as it travels in a header, a query or
// a path: a list comma-separated (OpenAPI's simple style), an object and a
// number as JSON (no exponent surprises), nil as nothing.
func ParamText(v any) string {
	switch val := v.(type) {
	case []any:
		parts := make([]string, len(val))
		for i, e := range val {
			parts[i] = fmt.Sprint(e)
		}
		return strings.Join(parts, ",")
	case map[string]any, float64:
		b, _ := json.Marshal(val)
		return string(b)
	case nil:
		return ""
	}
	return fmt.Sprint(v)
}
