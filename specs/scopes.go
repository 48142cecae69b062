package specs

import (
	"path"
	"strings"
)

// OperationGrant is the grant that admits one operation by id, whatever its
// scopes (OpManager's "Specific API" keys).
func OperationGrant(operationID string) string { return "operation:" + operationID }

// Expand returns grants with everything they imply, following Implies
// transitively. A bound grant (ORG_OWNER@abc) implies names bound to the same entity.
func (a *Access) Expand(grants []string) []string {
	if len(a.Implies) == 0 {
		return grants
	}
	seen := make(map[string]bool, len(grants))
	out := make([]string, 0, len(grants))
	var walk func(g string)
	walk = func(g string) {
		if seen[g] {
			return
		}
		seen[g] = true
		out = append(out, g)
		name, binding, bound := strings.Cut(g, "@")
		for _, implied := range a.Implies[name] {
			if bound {
				implied += "@" + binding
			}
			walk(implied)
		}
	}
	for _, g := range grants {
		walk(g)
	}
	return out
}

// Resolve fills {param} placeholders in a required scope from the request's path parameters.
func Resolve(scope string, params map[string]string) string {
	if !strings.Contains(scope, "{") {
		return scope
	}
	for name, v := range params {
		scope = strings.ReplaceAll(scope, "{"+name+"}", v)
	}
	return scope
}

// Matches reports whether any grant pattern matches scope. Patterns use
// path.Match syntax per colon-free run: "*" matches anything, "agents:*" every
// level of a family, "*:read" every family's read.
func Matches(patterns []string, scope string) bool {
	for _, p := range patterns {
		if p == scope || p == "*" {
			return true
		}
		if !strings.ContainsAny(p, `*?[\`) {
			continue // a literal pattern matches only itself, tested above
		}
		if ok, err := path.Match(p, scope); err == nil && ok {
			return true
		}
	}
	return false
}

// Decision is the outcome of an access check.
type Decision struct {
	Allowed bool
	Missing string // the first required scope that was not granted
	ByRole  bool   // the key had it, but the owner's role does not: scopes narrow, never widen
}

// Permits decides whether a key may run an operation. required are the
// operation's scopes with placeholders resolved; grants are the key's own
// scopes; role is its owner's role ("" when the profile has no owner roles).
// Every required scope must be granted by the key (or the key must hold the
// operation's own grant) and allowed by the role.
func (a *Access) Permits(operationID string, required, grants []string, role string) Decision {
	return a.PermitsExpanded(operationID, required, a.Expand(grants), role)
}

// PermitsExpanded is Permits for grants already expanded with Expand, so a
// caller that keeps a key's expansion does not redo it per request.
func (a *Access) PermitsExpanded(operationID string, required, expanded []string, role string) Decision {
	wholeOp := Matches(expanded, OperationGrant(operationID))
	var rolePatterns []string
	checkRole := len(a.Roles) > 0 && role != ""
	if checkRole {
		rolePatterns = a.Roles[role]
	}
	for _, s := range required {
		if !wholeOp && !Matches(expanded, s) {
			return Decision{Missing: s}
		}
		if checkRole && !Matches(rolePatterns, s) {
			return Decision{Missing: s, ByRole: true}
		}
	}
	if checkRole && len(required) == 0 && rolePatterns == nil {
		return Decision{ByRole: true, Missing: "role " + role}
	}
	return Decision{Allowed: true}
}

// Unbound widens every bound grant (ORG_OWNER@abc) to the same grant on any
// entity (ORG_OWNER@*): what a server that forgets which organization or
// project a role belongs to would allow.
func Unbound(grants []string) []string {
	out := make([]string, len(grants))
	for i, g := range grants {
		if name, _, ok := strings.Cut(g, "@"); ok {
			g = name + "@*"
		}
		out[i] = g
	}
	return out
}
