package suites

import (
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/opsconform/opsconform/specs"
)

// Why a credential must be refused an operation. A pair (credential,
// operation) has at most one reason, so each requirement proves one rule.
type refusal int

const (
	allowed     refusal = iota
	lacksScope          // the key's own scopes do not grant it
	outsideRole         // the scopes would, but the owner's role does not: scopes narrow, never widen
	otherEntity         // the key's role is bound to another organization or project
)

// refusalFor works out whether, and why, credential k must be refused op
// with the path parameters params.
func refusalFor(p *specs.Profile, op *specs.Operation, alt specs.Alternative, k Credential, params map[string]string) refusal {
	var required []string
	for _, req := range alt {
		for _, sc := range req.Scopes {
			required = append(required, specs.Resolve(sc, params))
		}
	}
	if p.Access.Permits(op.ID, required, k.Scopes, k.Role).Allowed {
		return allowed
	}
	if !p.Access.Permits(op.ID, required, specs.Unbound(k.Scopes), "").Allowed {
		return lacksScope
	}
	if !p.Access.Permits(op.ID, required, k.Scopes, "").Allowed {
		return otherEntity
	}
	return outsideRole
}

// alternativeFor is the security alternative the suite's requests satisfy:
// the one naming the profile's primary scheme, which the suite presents.
func alternativeFor(p *specs.Profile, op *specs.Operation) specs.Alternative {
	var first specs.Alternative
	for _, alt := range op.Security {
		for _, r := range alt {
			if len(p.Auth.Schemes) > 0 && r.Scheme == p.Auth.Schemes[0] {
				return alt
			}
		}
		if first == nil && len(alt) > 0 {
			first = alt
		}
	}
	return first
}

// refusedStates are credential roles that are refused outright (401) and so
// say nothing about permissions; "second" is the rate-limit burst's, whose
// budget no other check may spend.
var refusedStates = []string{"revoked", "expired", "disabled", "owner-deactivated", "other-tenant", "other-ip", "api-disabled", "second"}

// checkEveryOperationRefused sends every operation, with every usable
// credential that declares its scopes or role, whenever the model says the
// credential must be refused for reason, and expects 403 in the envelope.
func checkEveryOperationRefused(reason refusal) func(*T) {
	return func(t *T) {
		e := t.env
		p := e.profile
		roles := slices.Sorted(func(yield func(string) bool) {
			for role := range e.creds.Keys {
				if !yield(role) {
					return
				}
			}
		})
		probed, inconclusive := 0, 0
		var declared bool
		for _, role := range roles {
			k := e.creds.Keys[role]
			if slices.Contains(refusedStates, role) || k.Scopes == nil && k.Role == "" {
				continue
			}
			declared = true
			for _, op := range p.Operations {
				if op.Public {
					continue
				}
				alt := alternativeFor(p, op)
				if alt == nil {
					continue
				}
				params := t.operationParams(op, k)
				if params == nil {
					continue
				}
				if refusalFor(p, op, alt, k, params) != reason {
					continue
				}
				ok := t.probeRefused(role, op, params, reason)
				if ok {
					probed++
				} else {
					inconclusive++
				}
				if t.Failed() {
					return
				}
			}
		}
		switch {
		case !declared:
			t.Skipf("no credential declares its scopes or role (add scopes: and role: to the keys in --credentials)")
		case probed == 0 && inconclusive == 0:
			t.Skipf("no credential lacks %s for any operation whose parameters the credentials fill", reasonWords[reason])
		case probed == 0:
			t.Skipf("every probe was inconclusive: the target answered 404 for the stand-in items")
		}
	}
}

var reasonWords = map[refusal]string{lacksScope: "a scope", outsideRole: "its owner's role", otherEntity: "a role in the entity"}

// operationParams fills op's path parameters: values the credentials give
// (the lacks' params of k first), and an existing item for the id. nil when
// a parameter cannot be filled.
func (t *T) operationParams(op *specs.Operation, k Credential) map[string]string {
	e := t.env
	params := map[string]string{}
	for n, v := range e.creds.Params {
		params[n] = v
	}
	if k.Lacks != nil {
		for n, v := range k.Lacks.Params {
			params[n] = v
		}
	}
	for _, prm := range op.Params {
		if prm.In != "path" && !prm.Required {
			continue
		}
		if params[prm.Name] != "" {
			continue
		}
		if r := op.Resource; r != nil && r.ID == prm.Name {
			if id, ok := t.existingID(op); ok {
				params[prm.Name] = id
				continue
			}
		}
		return nil
	}
	return params
}

// existingID is an item of op's collection the suite may touch: for a read,
// any existing item; for a write, an item the suite created for the purpose
// (deleted when the check ends), or failing that, one that does not exist.
func (t *T) existingID(op *specs.Operation) (string, bool) {
	r := op.Resource
	if op.Method == http.MethodGet || op.Method == http.MethodHead {
		return t.tryFirstID(op)
	}
	if id, ok := t.sacrificialItem(op); ok {
		return id, true
	}
	return nonexistentID(op, r.ID), true
}

// probeRefused sends op as role and expects 403 in the error envelope. It
// returns false when the probe was inconclusive: a write on a stand-in item
// that the target answered 404, as a server that looks items up before
// checking permissions may.
func (t *T) probeRefused(role string, op *specs.Operation, params map[string]string, reason refusal) bool {
	e := t.env
	body := ""
	if op.Body != nil {
		body = validBody(op.Body.Schema)
	}
	resp, data := t.Raw(t.Client(role), op.Method, e.path(op, params), nil, body)
	forbidden := e.profile.Errors.Spec(specs.Forbidden).Status
	if resp.StatusCode == http.StatusNotFound && op.Method != http.MethodGet && strings.Contains(e.path(op, params), nonexistentID(op, idParam(op))) {
		return false
	}
	if resp.StatusCode != forbidden {
		t.Errorf(fmt.Sprint(forbidden), fmt.Sprint(resp.StatusCode), "%s %s with the %q key, which lacks %s: it must be refused",
			op.Method, op.ID, role, reasonWords[reason])
		return true
	}
	if err := e.profile.Errors.Match(specs.Forbidden, data); err != nil {
		t.Errorf("the "+e.profile.Name+" error envelope", string(truncate(data)), "the 403 for %s is not in the documented envelope: %v", op.ID, err)
	}
	return true
}

func idParam(op *specs.Operation) string {
	if op.Resource == nil {
		return ""
	}
	return op.Resource.ID
}

// checkBoundLists: a list of organizations or projects shows only the ones
// the key has a role in.
func checkBoundLists(t *T) {
	e := t.env
	p := e.profile
	checked := 0
	for role, k := range e.creds.Keys {
		if slices.Contains(refusedStates, role) || k.Scopes == nil {
			continue
		}
		bound := map[string]bool{}
		for _, sc := range k.Scopes {
			if _, entity, ok := strings.Cut(sc, "@"); ok {
				bound[entity] = true
			}
		}
		for _, op := range p.Operations {
			r := op.Resource
			if r == nil || !r.BoundOnly || r.Action != specs.ActionList || !e.fillable(op) {
				continue
			}
			checked++
			status, items, _, body := t.pageAs(role, op)
			if status != http.StatusOK {
				t.Fatalf("200", fmt.Sprint(status), "%s with the %q key failed: %s", op.ID, role, truncate(body))
			}
			for _, it := range items {
				m, _ := it.(map[string]any)
				id := fmt.Sprint(m[r.Field])
				if !bound[id] {
					t.Fatalf("only entities the key has a role in", id, "%s shows %s %s to the %q key, which has no role in it", op.ID, singularOf(r.Collection), id, role)
				}
			}
		}
	}
	if checked == 0 {
		t.Skipf("no credential declares its bound roles (scopes such as ORG_OWNER@<id>)")
	}
}

func singularOf(s string) string { return strings.TrimSuffix(s, "s") }
