// Package odata reads the OData system query options a list can take —
// $filter, $orderby and $select — and applies them to items: JSON objects
// decoded into map[string]any.
//
// It understands the part of OData 4 a REST client of a business-object API
// uses: comparisons (eq, ne, gt, ge, lt, le) of a property with a string,
// number, boolean or null literal; and, or, not and parentheses; the string
// functions contains, startswith and endswith. Anything else is an error
// that names what is not supported, never silently ignored.
package odata

import (
	"cmp"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode"
)

// Error is a query option the package cannot use, with where it went wrong.
type Error struct {
	Option string // $filter, $orderby or $select
	Pos    int    // byte offset in the option's value
	Msg    string
}

func (e *Error) Error() string {
	return fmt.Sprintf("%s: at %d: %s", e.Option, e.Pos, e.Msg)
}

// Filter is a parsed $filter: a predicate on items.
type Filter struct{ root node }

// Match reports whether item satisfies the filter.
func (f *Filter) Match(item map[string]any) bool {
	if f == nil || f.root == nil {
		return true
	}
	v, _ := f.root.eval(item).(bool)
	return v
}

// ParseFilter parses a $filter expression. known reports whether a property
// name exists on the collection's items; an unknown one is an error.
func ParseFilter(s string, known func(string) bool) (*Filter, error) {
	p := &parser{src: s, option: "$filter", known: known}
	if err := p.lex(); err != nil {
		return nil, err
	}
	if len(p.toks) == 0 {
		return nil, &Error{"$filter", 0, "the expression is empty"}
	}
	n, err := p.or()
	if err != nil {
		return nil, err
	}
	if t := p.peek(); t.kind != tEOF {
		return nil, p.errAt(t, "unexpected %q", t.text)
	}
	if !isBoolean(n) {
		return nil, &Error{"$filter", 0, "the expression is not a condition (want, e.g., Status eq 'Active')"}
	}
	return &Filter{root: n}, nil
}

// Order is a parsed $orderby: properties and directions.
type Order []struct {
	Prop string
	Desc bool
}

// ParseOrderBy parses "Prop [asc|desc], Prop2 desc".
func ParseOrderBy(s string, known func(string) bool) (Order, error) {
	var o Order
	pos := 0
	for _, part := range strings.Split(s, ",") {
		fields := strings.Fields(part)
		switch {
		case len(fields) == 0:
			return nil, &Error{"$orderby", pos, "an empty item"}
		case len(fields) > 2:
			return nil, &Error{"$orderby", pos, fmt.Sprintf("%q: want a property and asc or desc", strings.TrimSpace(part))}
		}
		item := struct {
			Prop string
			Desc bool
		}{Prop: fields[0]}
		if strings.ContainsAny(item.Prop, "/()") {
			return nil, &Error{"$orderby", pos, fmt.Sprintf("%q: only plain properties are supported", item.Prop)}
		}
		if known != nil && !known(item.Prop) {
			return nil, &Error{"$orderby", pos, fmt.Sprintf("unknown property %q", item.Prop)}
		}
		if len(fields) == 2 {
			switch strings.ToLower(fields[1]) {
			case "asc":
			case "desc":
				item.Desc = true
			default:
				return nil, &Error{"$orderby", pos, fmt.Sprintf("%q: want asc or desc", fields[1])}
			}
		}
		o = append(o, item)
		pos += len(part) + 1
	}
	return o, nil
}

// Compare orders two items by the order; 0 when they tie.
func (o Order) Compare(a, b map[string]any) int {
	for _, k := range o {
		c := compareValues(a[k.Prop], b[k.Prop])
		if k.Desc {
			c = -c
		}
		if c != 0 {
			return c
		}
	}
	return 0
}

// ParseSelect parses "Prop, Prop2" into the properties to keep.
func ParseSelect(s string, known func(string) bool) ([]string, error) {
	var out []string
	pos := 0
	for _, part := range strings.Split(s, ",") {
		name := strings.TrimSpace(part)
		switch {
		case name == "":
			return nil, &Error{"$select", pos, "an empty item"}
		case name == "*":
			return nil, nil
		case strings.ContainsAny(name, "/() "):
			return nil, &Error{"$select", pos, fmt.Sprintf("%q: only plain properties are supported", name)}
		case known != nil && !known(name):
			return nil, &Error{"$select", pos, fmt.Sprintf("unknown property %q", name)}
		}
		out = append(out, name)
		pos += len(part) + 1
	}
	return out, nil
}

// Project keeps only the selected properties of item (all when none are selected).
func Project(item map[string]any, props []string) map[string]any {
	if len(props) == 0 {
		return item
	}
	out := make(map[string]any, len(props))
	for _, p := range props {
		if v, ok := item[p]; ok {
			out[p] = v
		}
	}
	return out
}

// number reads a JSON-shaped value as a float64 when it is a number.
func number(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case int:
		return float64(x), true
	case int64:
		return float64(x), true
	case json.Number:
		f, err := x.Float64()
		return f, err == nil
	}
	return 0, false
}

// compareValues orders values of one type: numbers, strings, booleans
// (false first); nil before everything; different types by type name.
func compareValues(a, b any) int {
	if a == nil || b == nil {
		return cmp.Compare(boolRank(a != nil), boolRank(b != nil))
	}
	if x, ok := number(a); ok {
		if y, ok := number(b); ok {
			return cmp.Compare(x, y)
		}
	}
	switch x := a.(type) {
	case string:
		if y, ok := b.(string); ok {
			return strings.Compare(x, y)
		}
	case bool:
		if y, ok := b.(bool); ok {
			return cmp.Compare(boolRank(x), boolRank(y))
		}
	}
	return strings.Compare(fmt.Sprintf("%T", a), fmt.Sprintf("%T", b))
}

func boolRank(b bool) int {
	if b {
		return 1
	}
	return 0
}

// equal compares values as OData eq does: numbers by value, others exactly.
func equal(a, b any) bool {
	if x, ok := number(a); ok {
		y, ok := number(b)
		return ok && x == y && !math.IsNaN(x)
	}
	return a == b
}

// Tokens.
type tokKind int

const (
	tEOF tokKind = iota
	tIdent
	tString
	tNumber
	tLParen
	tRParen
	tComma
)

type token struct {
	kind tokKind
	text string
	pos  int
	val  any // a literal's value
}

type parser struct {
	src    string
	option string
	known  func(string) bool
	toks   []token
	i      int
}

func (p *parser) errAt(t token, format string, args ...any) error {
	return &Error{p.option, t.pos, fmt.Sprintf(format, args...)}
}

func (p *parser) lex() error {
	s := p.src
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t':
			i++
		case c == '(':
			p.toks = append(p.toks, token{kind: tLParen, text: "(", pos: i})
			i++
		case c == ')':
			p.toks = append(p.toks, token{kind: tRParen, text: ")", pos: i})
			i++
		case c == ',':
			p.toks = append(p.toks, token{kind: tComma, text: ",", pos: i})
			i++
		case c == '\'':
			var b strings.Builder
			j := i + 1
			for {
				if j >= len(s) {
					return &Error{p.option, i, "a string literal is not closed"}
				}
				if s[j] == '\'' {
					if j+1 < len(s) && s[j+1] == '\'' { // '' is a quote inside a string
						b.WriteByte('\'')
						j += 2
						continue
					}
					break
				}
				b.WriteByte(s[j])
				j++
			}
			p.toks = append(p.toks, token{kind: tString, text: s[i : j+1], pos: i, val: b.String()})
			i = j + 1
		case c == '-' || c >= '0' && c <= '9':
			j := i + 1
			for j < len(s) && (s[j] >= '0' && s[j] <= '9' || s[j] == '.' || s[j] == 'e' || s[j] == 'E' || (s[j] == '-' || s[j] == '+') && (s[j-1] == 'e' || s[j-1] == 'E')) {
				j++
			}
			f, err := strconv.ParseFloat(s[i:j], 64)
			if err != nil {
				return &Error{p.option, i, fmt.Sprintf("%q is not a number", s[i:j])}
			}
			p.toks = append(p.toks, token{kind: tNumber, text: s[i:j], pos: i, val: f})
			i = j
		case c == '_' || unicode.IsLetter(rune(c)):
			j := i + 1
			for j < len(s) && (s[j] == '_' || s[j] == '/' || s[j] == '.' || unicode.IsLetter(rune(s[j])) || s[j] >= '0' && s[j] <= '9') {
				j++
			}
			p.toks = append(p.toks, token{kind: tIdent, text: s[i:j], pos: i})
			i = j
		default:
			return &Error{p.option, i, fmt.Sprintf("unexpected character %q", c)}
		}
	}
	return nil
}

func (p *parser) peek() token {
	if p.i < len(p.toks) {
		return p.toks[p.i]
	}
	return token{kind: tEOF, pos: len(p.src)}
}

func (p *parser) next() token {
	t := p.peek()
	if p.i < len(p.toks) {
		p.i++
	}
	return t
}

func (p *parser) keyword(word string) bool {
	t := p.peek()
	if t.kind == tIdent && strings.EqualFold(t.text, word) {
		p.i++
		return true
	}
	return false
}

// Nodes.
type node interface{ eval(item map[string]any) any }

type (
	andNode  struct{ l, r node }
	orNode   struct{ l, r node }
	notNode  struct{ n node }
	propNode struct{ name string }
	litNode  struct{ v any }
	cmpNode  struct {
		op   string
		l, r node
	}
	funcNode struct {
		name string
		args []node
	}
)

func (n andNode) eval(it map[string]any) any {
	l, _ := n.l.eval(it).(bool)
	r, _ := n.r.eval(it).(bool)
	return l && r
}

func (n orNode) eval(it map[string]any) any {
	l, _ := n.l.eval(it).(bool)
	r, _ := n.r.eval(it).(bool)
	return l || r
}

func (n notNode) eval(it map[string]any) any {
	v, _ := n.n.eval(it).(bool)
	return !v
}

func (n propNode) eval(it map[string]any) any { return it[n.name] }
func (n litNode) eval(map[string]any) any     { return n.v }

func (n cmpNode) eval(it map[string]any) any {
	a, b := n.l.eval(it), n.r.eval(it)
	switch n.op {
	case "eq":
		return equal(a, b)
	case "ne":
		return !equal(a, b)
	}
	if a == nil || b == nil {
		return false
	}
	_, an := number(a)
	_, bn := number(b)
	_, as := a.(string)
	_, bs := b.(string)
	if !(an && bn || as && bs) {
		return false // OData compares only like with like
	}
	c := compareValues(a, b)
	switch n.op {
	case "gt":
		return c > 0
	case "ge":
		return c >= 0
	case "lt":
		return c < 0
	default: // le
		return c <= 0
	}
}

func (n funcNode) eval(it map[string]any) any {
	a, aok := n.args[0].eval(it).(string)
	b, bok := n.args[1].eval(it).(string)
	if !aok || !bok {
		return false
	}
	switch n.name {
	case "contains":
		return strings.Contains(a, b)
	case "startswith":
		return strings.HasPrefix(a, b)
	default:
		return strings.HasSuffix(a, b)
	}
}

func isBoolean(n node) bool {
	switch n.(type) {
	case andNode, orNode, notNode, cmpNode, funcNode:
		return true
	}
	if l, ok := n.(litNode); ok {
		_, b := l.v.(bool)
		return b
	}
	return false
}

func (p *parser) or() (node, error) {
	l, err := p.and()
	if err != nil {
		return nil, err
	}
	for p.keyword("or") {
		r, err := p.and()
		if err != nil {
			return nil, err
		}
		l = orNode{l, r}
	}
	return l, nil
}

func (p *parser) and() (node, error) {
	l, err := p.unary()
	if err != nil {
		return nil, err
	}
	for p.keyword("and") {
		r, err := p.unary()
		if err != nil {
			return nil, err
		}
		l = andNode{l, r}
	}
	return l, nil
}

func (p *parser) unary() (node, error) {
	if p.keyword("not") {
		n, err := p.unary()
		if err != nil {
			return nil, err
		}
		if !isBoolean(n) {
			return nil, &Error{p.option, p.peek().pos, "not needs a condition"}
		}
		return notNode{n}, nil
	}
	return p.comparison()
}

var comparisons = []string{"eq", "ne", "gt", "ge", "lt", "le"}

// unsupported are operators of OData 4 a client might send; naming them
// beats a bare syntax error.
var unsupported = []string{"has", "in", "add", "sub", "mul", "div", "divby", "mod"}

func (p *parser) comparison() (node, error) {
	l, err := p.operand()
	if err != nil {
		return nil, err
	}
	t := p.peek()
	if t.kind != tIdent {
		return l, nil
	}
	op := strings.ToLower(t.text)
	if slices.Contains(unsupported, op) {
		return nil, p.errAt(t, "the operator %q is not supported (want eq, ne, gt, ge, lt, le, and, or, not)", t.text)
	}
	if !slices.Contains(comparisons, op) {
		return l, nil
	}
	p.i++
	r, err := p.operand()
	if err != nil {
		return nil, err
	}
	return cmpNode{op, l, r}, nil
}

func (p *parser) operand() (node, error) {
	t := p.next()
	switch t.kind {
	case tLParen:
		n, err := p.or()
		if err != nil {
			return nil, err
		}
		if c := p.next(); c.kind != tRParen {
			return nil, p.errAt(c, "want ) to close the ( at %d", t.pos)
		}
		return n, nil
	case tString, tNumber:
		return litNode{t.val}, nil
	case tIdent:
		switch strings.ToLower(t.text) {
		case "true":
			return litNode{true}, nil
		case "false":
			return litNode{false}, nil
		case "null":
			return litNode{nil}, nil
		}
		if p.peek().kind == tLParen {
			return p.function(t)
		}
		if strings.ContainsAny(t.text, "/.") {
			return nil, p.errAt(t, "%q: only plain properties are supported, not paths", t.text)
		}
		if p.known != nil && !p.known(t.text) {
			return nil, p.errAt(t, "unknown property %q", t.text)
		}
		return propNode{t.text}, nil
	case tEOF:
		return nil, p.errAt(t, "the expression ends too soon")
	}
	return nil, p.errAt(t, "unexpected %q", t.text)
}

var functions = []string{"contains", "startswith", "endswith"}

func (p *parser) function(name token) (node, error) {
	fn := strings.ToLower(name.text)
	if !slices.Contains(functions, fn) {
		return nil, p.errAt(name, "the function %q is not supported (want contains, startswith, endswith)", name.text)
	}
	p.i++ // (
	var args []node
	for {
		a, err := p.or()
		if err != nil {
			return nil, err
		}
		args = append(args, a)
		t := p.next()
		if t.kind == tRParen {
			break
		}
		if t.kind != tComma {
			return nil, p.errAt(t, "want , or ) in %s(…)", fn)
		}
	}
	if len(args) != 2 {
		return nil, p.errAt(name, "%s takes 2 arguments, not %d", fn, len(args))
	}
	return funcNode{fn, args}, nil
}
