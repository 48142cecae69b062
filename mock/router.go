package mock

import (
	"fmt"
	"net/url"
	"sort"
	"strings"

	"github.com/opsconform/opsconform/specs"
)

// segment is one path segment of a template: a literal, or parameters with
// literal text around and between them (OData's incidents('{recId}'),
// GitHub's {base}...{head}).
type segment struct {
	literal        string
	param          string // the first parameter
	prefix, suffix string
	// For a segment of several parameters: the literal text between them
	// (infix[i] follows params[i]) and all their names.
	params []string
	infix  []string
}

func (s segment) isParam() bool { return s.param != "" }

// same reports whether two segments match exactly the same strings; fold
// compares their literal text in any case (a profile whose paths match
// case-insensitively shares them with any spelling).
func (s segment) same(o segment, fold bool) bool {
	if s.isParam() != o.isParam() {
		return false
	}
	eq := func(a, b string) bool { return a == b || fold && strings.EqualFold(a, b) }
	if !s.isParam() {
		return eq(s.literal, o.literal)
	}
	if !eq(s.prefix, o.prefix) || !eq(s.suffix, o.suffix) || len(s.infix) != len(o.infix) {
		return false
	}
	for i := range s.infix {
		if !eq(s.infix[i], o.infix[i]) {
			return false
		}
	}
	return true
}

// literalChars counts the literal characters of a segment.
func (s segment) literalChars() int {
	if !s.isParam() {
		return len(s.literal)
	}
	n := len(s.prefix) + len(s.suffix)
	for _, in := range s.infix {
		n += len(in)
	}
	return n
}

// route is one operation's compiled path template.
type route struct {
	profile *specs.Profile
	op      *specs.Operation
	segs    []segment
	params  int // parameters in the template
	literal int // literal characters, for preferring /agents/search over /agents/{id}
	order   int // declaration order, the last tie-breaker
	served  int // which of the served profiles it belongs to
	// fold matches the template's literal text in any case (the profile's
	// paths are case-insensitive); parameter values keep their case.
	fold bool
}

// router matches request paths to operations across every served profile.
type router struct {
	bySegments map[int][]*route
	// warnings are the ambiguities resolved: templates of one profile that
	// match the same paths, where the first declared wins.
	warnings []string
}

func compile(tmpl string) []segment {
	parts := strings.Split(strings.Trim(tmpl, "/"), "/")
	segs := make([]segment, len(parts))
	for i, p := range parts {
		open := strings.IndexByte(p, '{')
		close := strings.IndexByte(p, '}')
		if open < 0 || close < open {
			segs[i] = segment{literal: p}
			continue
		}
		seg := segment{prefix: p[:open], param: p[open+1 : close]}
		seg.params = []string{seg.param}
		rest := p[close+1:]
		for {
			o := strings.IndexByte(rest, '{')
			c := strings.IndexByte(rest, '}')
			if o < 0 || c < o {
				break
			}
			seg.infix = append(seg.infix, rest[:o])
			seg.params = append(seg.params, rest[o+1:c])
			rest = rest[c+1:]
		}
		seg.suffix = rest
		segs[i] = seg
	}
	return segs
}

// newRouter compiles every operation. Paths match as the OpenAPI
// specification says: concrete paths before templated ones, then the
// template with the most literal characters (GitHub's
// /compare/{base}...{head} before /compare/{basehead}). Two operations of one
// profile and method whose templates match exactly the same paths are
// ambiguous: the first declared wins, with a warning. Across profiles, that
// is an error naming both, since two specs cannot share a path.
func newRouter(profiles []*specs.Profile) (*router, error) {
	rt := &router{bySegments: map[int][]*route{}}
	order := 0
	for pi, p := range profiles {
	ops:
		for _, op := range p.Operations {
			r := &route{profile: p, op: op, segs: compile(op.Path), order: order, served: pi, fold: p.CaseInsensitivePaths}
			order++
			for _, s := range r.segs {
				r.params += len(s.params)
				r.literal += s.literalChars()
			}
			n := len(r.segs)
			for _, other := range rt.bySegments[n] {
				if other.op.Method == op.Method && sameTemplate(other.segs, r.segs, r.fold || other.fold) {
					if other.served != pi {
						return nil, fmt.Errorf("mock: %s %s (%s, %s) overlaps %s %s (%s, %s)",
							op.Method, op.Path, p.Name, op.ID, other.op.Method, other.op.Path, other.profile.Name, other.op.ID)
					}
					rt.warnings = append(rt.warnings, fmt.Sprintf("%s: %s %s (%s) matches the same paths as %s %s (%s), declared first, which serves them",
						p.File, op.Method, op.Template, op.ID, other.op.Method, other.op.Template, other.op.ID))
					continue ops
				}
			}
			rt.bySegments[n] = append(rt.bySegments[n], r)
		}
	}
	for _, rs := range rt.bySegments {
		sort.SliceStable(rs, func(i, j int) bool {
			a, b := rs[i], rs[j]
			if (a.params == 0) != (b.params == 0) {
				return a.params == 0 // concrete before templated
			}
			if a.literal != b.literal {
				return a.literal > b.literal // then the most literal characters
			}
			return a.order < b.order
		})
	}
	return rt, nil
}

func sameTemplate(a, b []segment, fold bool) bool {
	for i := range a {
		if !a[i].same(b[i], fold) {
			return false
		}
	}
	return true
}

// match finds the operation for method and the request's escaped path. When
// the path exists under other methods only, allowed lists them (for 405).
func (rt *router) match(method, escapedPath string) (r *route, params map[string]string, allowed []string) {
	var segs [16]string // a path's segments, on the stack for any path but a very deep one
	parts := splitPath(segs[:0], escapedPath)
	var get *route
	var getParams map[string]string
	for _, cand := range rt.bySegments[len(parts)] {
		ps, ok := cand.bind(parts, cand.fold)
		if !ok {
			continue
		}
		switch {
		case cand.op.Method == method:
			return cand, ps, nil // candidates are most-literal first: the first hit is the best
		case cand.op.Method == "GET" && method == "HEAD" && get == nil:
			get, getParams = cand, ps
		}
		allowed = append(allowed, cand.op.Method)
	}
	if get != nil {
		return get, getParams, nil
	}
	sort.Strings(allowed)
	return nil, nil, slicesCompact(allowed)
}

// bind matches the request's unescaped path segments against the template
// and reads the parameters. With fold, literal text matches in any case:
// an exact comparison first, so a path already spelled as the spec spells
// it costs what it costs without folding, and neither allocates.
func (r *route) bind(parts []string, fold bool) (map[string]string, bool) {
	var params map[string]string
	for i, s := range r.segs {
		p := parts[i]
		if !s.isParam() {
			if p != s.literal && !(fold && strings.EqualFold(p, s.literal)) {
				return nil, false
			}
			continue
		}
		if len(p) < len(s.prefix)+len(s.suffix)+1 || !hasPrefix(p, s.prefix, fold) || !hasSuffix(p, s.suffix, fold) {
			return nil, false
		}
		if params == nil {
			params = map[string]string{}
		}
		inner := p[len(s.prefix) : len(p)-len(s.suffix)]
		if len(s.params) == 1 {
			params[s.param] = inner
			continue
		}
		// Several parameters: each ends where the next literal text begins.
		for k, in := range s.infix {
			j := index(inner, in, fold)
			if j < 1 || in == "" {
				return nil, false
			}
			params[s.params[k]] = inner[:j]
			inner = inner[j+len(in):]
		}
		if inner == "" {
			return nil, false
		}
		params[s.params[len(s.params)-1]] = inner
	}
	return params, true
}

// exact reports whether the request's path spells the route's literal text
// exactly as the spec does (no case folded), for the deviation that forgets
// a vendor's case-insensitive paths.
func (r *route) exact(escapedPath string) bool {
	_, ok := r.bind(splitPath(nil, escapedPath), false)
	return ok
}

// splitPath appends the unescaped segments of an escaped request path to
// dst: what strings.Split of the path trimmed of its slashes gives (the
// root is one empty segment), each segment unescaped where it can be.
func splitPath(dst []string, escapedPath string) []string {
	p := strings.Trim(escapedPath, "/")
	for {
		seg, rest, more := strings.Cut(p, "/")
		if u, err := url.PathUnescape(seg); err == nil {
			seg = u
		}
		dst = append(dst, seg)
		if !more {
			return dst
		}
		p = rest
	}
}

// hasPrefix, hasSuffix and index are their strings namesakes, comparing in
// any case when fold is set.
func hasPrefix(s, prefix string, fold bool) bool {
	return strings.HasPrefix(s, prefix) || fold && len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

func hasSuffix(s, suffix string, fold bool) bool {
	return strings.HasSuffix(s, suffix) || fold && len(s) >= len(suffix) && strings.EqualFold(s[len(s)-len(suffix):], suffix)
}

func index(s, sub string, fold bool) int {
	if i := strings.Index(s, sub); i >= 0 || !fold {
		return i
	}
	for i := 0; i+len(sub) <= len(s); i++ {
		if strings.EqualFold(s[i:i+len(sub)], sub) {
			return i
		}
	}
	return -1
}

// owner finds the profile a path belongs to, by the longest base path that
// prefixes it, so a 404 is written in that vendor's envelope. A profile
// whose paths are case-insensitive owns its base path in any case.
func (rt *router) owner(profiles []*specs.Profile, path string) *specs.Profile {
	var best *specs.Profile
	bestLen := -1
	for _, p := range profiles {
		bp := p.BasePath
		if bp == "" {
			bp = commonPrefix(p)
		}
		under := len(path) == len(bp) || len(path) > len(bp) && path[len(bp)] == '/'
		if bp != "" && under && hasPrefix(path, bp, p.CaseInsensitivePaths) && len(bp) > bestLen {
			best, bestLen = p, len(bp)
		}
	}
	if best == nil && len(profiles) == 1 {
		return profiles[0]
	}
	return best
}

// commonPrefix is the path prefix every operation of a profile shares, for
// profiles like OpManager's whose server URL has no path.
func commonPrefix(p *specs.Profile) string {
	if len(p.Operations) == 0 {
		return ""
	}
	prefix := compile(p.Operations[0].Path)
	n := len(prefix)
	for _, op := range p.Operations[1:] {
		segs := compile(op.Path)
		i := 0
		for i < n && i < len(segs) && !segs[i].isParam() && segs[i].literal == prefix[i].literal {
			i++
		}
		n = i
	}
	var sb strings.Builder
	for _, s := range prefix[:n] {
		if s.isParam() {
			break
		}
		sb.WriteString("/" + s.literal)
	}
	return sb.String()
}

func slicesCompact(s []string) []string {
	out := s[:0]
	for i, v := range s {
		if i == 0 || v != s[i-1] {
			out = append(out, v)
		}
	}
	return out
}
