package suites

import (
	"fmt"
	"path"
	"slices"
	"strings"
)

// SelectionError is a --only or --skip pattern that selects no requirement
// of the profile, or a selection that leaves nothing to run.
type SelectionError struct{ msg string }

// Error says which pattern selects nothing and what IDs look like.
func (e *SelectionError) Error() string { return e.msg }

// Select keeps the checks only names (all when empty) and drops those skip
// names. A pattern is a requirement ID ("OPSMERGE-AUTH-001"), an ID without
// the profile ("AUTH-001"), an ID prefix that ends at a dash ("OPSMERGE-AUTH",
// "RATE"), a group by code or name ("AUTH", "rate-limits"), or a glob of any
// of these ("*-AUTH-00?"); case does not matter and spaces around it are
// dropped, as are empty patterns. A pattern that selects nothing is an
// error, as is a selection that leaves nothing to run: a typo must not
// turn into a run that checks nothing and passes.
func Select(all []*Check, only, skip []string) ([]*Check, error) {
	only, skip = patterns(only), patterns(skip)
	for _, sel := range []struct {
		flag string
		list []string
	}{{"--only", only}, {"--skip", skip}} {
		flag := sel.flag
		for _, p := range sel.list {
			if !slices.ContainsFunc(all, func(c *Check) bool { return matches(c, p) }) {
				return nil, &SelectionError{unmatched(all, flag, p)}
			}
		}
	}
	var out []*Check
	for _, c := range all {
		if len(only) > 0 && !slices.ContainsFunc(only, func(p string) bool { return matches(c, p) }) {
			continue
		}
		if slices.ContainsFunc(skip, func(p string) bool { return matches(c, p) }) {
			continue
		}
		out = append(out, c)
	}
	if len(out) == 0 {
		return nil, &SelectionError{fmt.Sprintf("--only %s with --skip %s leaves no requirement to run", strings.Join(only, ","), strings.Join(skip, ","))}
	}
	return out, nil
}

// patterns splits, trims and upper-cases what --only or --skip were given:
// "A, B" and "A B" are two patterns.
func patterns(in []string) []string {
	var out []string
	for _, s := range in {
		for _, f := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' || r == '\n' }) {
			out = append(out, strings.ToUpper(f))
		}
	}
	return out
}

// matches reports whether the upper-case pattern p names check c.
func matches(c *Check, p string) bool {
	id := strings.ToUpper(c.ID)
	group := strings.ToUpper(c.Group)
	code := strings.ToUpper(groupCodes[c.Group])
	// The ID without its profile prefix: AUTH-001, SCHEMA-LISTAGENTS.
	short := id
	if i := strings.Index(id, "-"+code+"-"); i >= 0 {
		short = id[i+1:]
	}
	if strings.ContainsAny(p, "*?[") {
		for _, s := range []string{id, short, group, code} {
			if ok, err := path.Match(p, s); err == nil && ok {
				return true
			}
		}
		return false
	}
	if p == group || p == code {
		return true
	}
	for _, s := range []string{id, short} {
		if s == p || strings.HasPrefix(s, p+"-") {
			return true
		}
	}
	return false
}

// unmatched says why pattern p selects nothing, and what would.
func unmatched(all []*Check, flag, p string) string {
	msg := fmt.Sprintf("%s %q selects no requirement", flag, p)
	if len(all) > 0 {
		first := all[0].ID
		prefix := first[:strings.Index(first, "-"+groupCodes[all[0].Group]+"-")]
		msg += fmt.Sprintf(" of %s (IDs look like %s or %s; groups are", strings.ToLower(prefix), first, strings.TrimPrefix(first, prefix+"-"))
		var groups []string
		for _, c := range all {
			if g := groupCodes[c.Group]; !slices.Contains(groups, g) {
				groups = append(groups, g)
			}
		}
		msg += " " + strings.Join(groups, ", ") + "; see --list)"
	}
	if _, rest, ok := strings.Cut(p, "-"); ok {
		for _, c := range all {
			if matches(c, strings.ToUpper(rest)) && !strings.ContainsAny(p, "*?[") {
				msg += fmt.Sprintf("; did you mean %s?", c.ID)
				break
			}
		}
	}
	return msg
}
