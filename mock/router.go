package mock

import (
	"fmt"
	"net/url"
	"sort"
	"strings"

	"github.com/opsconform/opsconform/specs"
)

// segment is one path segment of a template: a literal, or a parameter with
// optional literal text around it (OData's incidents('{recId}')).
type segment struct {
	literal        string
	param          string
	prefix, suffix string
}

func (s segment) isParam() bool { return s.param != "" }

// same reports whether two segments match exactly the same strings.
func (s segment) same(o segment) bool {
	if s.isParam() != o.isParam() {
		return false
	}
	if !s.isParam() {
		return s.literal == o.literal
	}
	return s.prefix == o.prefix && s.suffix == o.suffix
}

// route is one operation's compiled path template.
type route struct {
	profile *specs.Profile
	op      *specs.Operation
	segs    []segment
	literal int // literal segments, for preferring /agents/search over /agents/{id}
}

// router matches request paths to operations across every served profile.
type router struct {
	bySegments map[int][]*route
}

func compile(tmpl string) []segment {
	parts := strings.Split(strings.Trim(tmpl, "/"), "/")
	segs := make([]segment, len(parts))
	for i, p := range parts {
		open, close := strings.IndexByte(p, '{'), strings.LastIndexByte(p, '}')
		if open < 0 || close < open {
			segs[i] = segment{literal: p}
			continue
		}
		segs[i] = segment{prefix: p[:open], param: p[open+1 : close], suffix: p[close+1:]}
	}
	return segs
}

// newRouter compiles every operation. Two operations of one method whose
// templates match exactly the same paths are an error naming both.
func newRouter(profiles []*specs.Profile) (*router, error) {
	rt := &router{bySegments: map[int][]*route{}}
	for _, p := range profiles {
		for _, op := range p.Operations {
			r := &route{profile: p, op: op, segs: compile(op.Path)}
			for _, s := range r.segs {
				if !s.isParam() {
					r.literal++
				}
			}
			n := len(r.segs)
			for _, other := range rt.bySegments[n] {
				if other.op.Method == op.Method && sameTemplate(other.segs, r.segs) {
					return nil, fmt.Errorf("mock: %s %s (%s, %s) overlaps %s %s (%s, %s)",
						op.Method, op.Path, p.Name, op.ID, other.op.Method, other.op.Path, other.profile.Name, other.op.ID)
				}
			}
			rt.bySegments[n] = append(rt.bySegments[n], r)
		}
	}
	for _, rs := range rt.bySegments {
		// Most literal first, so a fixed path wins over a parameter in the same place.
		sort.SliceStable(rs, func(i, j int) bool { return rs[i].literal > rs[j].literal })
	}
	return rt, nil
}

func sameTemplate(a, b []segment) bool {
	for i := range a {
		if !a[i].same(b[i]) {
			return false
		}
	}
	return true
}

// match finds the operation for method and the request's escaped path. When
// the path exists under other methods only, allowed lists them (for 405).
func (rt *router) match(method, escapedPath string) (r *route, params map[string]string, allowed []string) {
	parts := strings.Split(strings.Trim(escapedPath, "/"), "/")
	for i, p := range parts {
		if u, err := url.PathUnescape(p); err == nil {
			parts[i] = u
		}
	}
	var get *route
	var getParams map[string]string
	for _, cand := range rt.bySegments[len(parts)] {
		ps, ok := cand.bind(parts)
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

func (r *route) bind(parts []string) (map[string]string, bool) {
	var params map[string]string
	for i, s := range r.segs {
		p := parts[i]
		if !s.isParam() {
			if p != s.literal {
				return nil, false
			}
			continue
		}
		if len(p) < len(s.prefix)+len(s.suffix)+1 || !strings.HasPrefix(p, s.prefix) || !strings.HasSuffix(p, s.suffix) {
			return nil, false
		}
		if params == nil {
			params = map[string]string{}
		}
		params[s.param] = p[len(s.prefix) : len(p)-len(s.suffix)]
	}
	return params, true
}

// owner finds the profile a path belongs to, by the longest base path that
// prefixes it, so a 404 is written in that vendor's envelope.
func (rt *router) owner(profiles []*specs.Profile, path string) *specs.Profile {
	var best *specs.Profile
	bestLen := -1
	for _, p := range profiles {
		bp := p.BasePath
		if bp == "" {
			bp = commonPrefix(p)
		}
		if bp != "" && (path == bp || strings.HasPrefix(path, bp+"/")) && len(bp) > bestLen {
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
