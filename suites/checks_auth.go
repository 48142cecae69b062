package suites

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"strings"

	"github.com/opsconform/opsconform/specs"
)

// authChecks are the auth requirements the profile's model calls for. Each
// kind of check has a fixed number, so an ID means the same on every profile.
func authChecks(p *specs.Profile) []*Check {
	cite := p.Cite("auth")
	mode := p.Auth.Mode
	if mode == specs.AuthNone {
		return nil
	}
	checks := []*Check{
		{ID: "001", Statement: "A request without credentials is refused with 401 in the error envelope" + challengeNote(mode), run: checkNoCredentials},
		{ID: "002", Statement: "Malformed credentials are refused with 401 in the error envelope", run: checkMalformed},
		{ID: "003", Statement: "An unknown key is refused with 401 in the error envelope", run: checkUnknownKey},
		{ID: "004", Statement: "Credentials under the wrong scheme are refused with 401", run: checkWrongScheme},
		{ID: "005", Statement: "A valid key is admitted with 2xx", run: checkValidKey},
		{ID: "006", Statement: "A valid key without the scope, module or role an operation needs gets 403, not 401", run: checkForbidden("limited")},
	}
	if len(p.Access.Roles) > 0 {
		checks = append(checks, &Check{ID: "007", Statement: "A key's scopes never exceed its owner's role: a wider key is refused with 403", run: checkForbidden("role-bounded")})
	}
	if mode == specs.AuthDigest {
		checks = append(checks, &Check{ID: "008", Statement: "The Digest challenge has exactly the form real clients parse (realm, domain, nonce, algorithm in upper case, qop, stale)", run: checkDigestChallenge})
	}
	if headerOnly(p) != nil {
		checks = append(checks, &Check{ID: "022", Statement: "Where an operation accepts the key in the legacy query parameter, a valid key there is admitted", run: checkLegacyQueryKey})
		checks = append(checks, &Check{ID: "009", Statement: "A key sent where an operation does not accept it (the legacy query parameter on a header-only endpoint) is refused with 401", run: checkHeaderOnly})
	}
	if p.Auth.BindTenant {
		checks = append(checks, &Check{ID: "010", Statement: "A key made for another tenant is refused with 401", run: checkRefusedRole("other-tenant")})
	}
	if p.Auth.BindIP {
		refusal := p.Errors.Spec(specs.AddressRefused)
		how := fmt.Sprint(refusal.Status)
		if refusal.Code != "" {
			how += " " + refusal.Code
		}
		checks = append(checks, &Check{ID: "011", Statement: "A key bound to other client IPs is refused with " + how + " in the error envelope", run: checkOtherIP})
		if accessListOps(p) != nil {
			checks = append(checks,
				&Check{ID: "023", Statement: "A key whose access list, set through the API, leaves out the client's address is refused with " + how + "; with the address added it is admitted", run: checkAccessListEnforced},
				&Check{ID: "024", Statement: "Access-list entries are listed, and deleted by their address (a block's slash URL-encoded); a key whose list is emptied is admitted from any address", run: checkAccessListManaged},
				&Check{ID: "025", Statement: "An access-list entry shows what it admitted: after a request from the client's address, its entry counts one more, names the address as lastUsedAddress and dates it as lastUsed", run: checkAccessListUsage},
			)
		}
	}
	if hasScopedOperations(p) && p.Access.KeyScopes {
		checks = append(checks, &Check{ID: "012", Statement: "Every operation refuses with 403 a key whose scopes do not grant it", run: checkEveryOperationRefused(lacksScope), overCredentials: true})
	}
	if len(p.Access.Roles) > 0 {
		checks = append(checks, &Check{ID: "013", Statement: "Every operation refuses with 403 a key whose owner's role does not allow it, whatever the key's scopes", run: checkEveryOperationRefused(outsideRole), overCredentials: true})
	}
	if len(p.Access.Bindings) > 0 {
		checks = append(checks,
			&Check{ID: "014", Statement: "Every operation on an organization or project refuses with 403 a key that has no role in it", run: checkEveryOperationRefused(otherEntity), overCredentials: true},
			&Check{ID: "015", Statement: "Lists of organizations and projects show only those the key has a role in", run: checkBoundLists, overCredentials: true},
		)
	}
	checks = append(checks, &Check{ID: "020", Statement: "Every operation that needs credentials refuses a request without them with 401 in the error envelope", run: checkEveryOperationNeedsCredentials, overCredentials: true})
	if mode == specs.AuthBearer || mode == specs.AuthAPIKey {
		checks = append(checks, &Check{ID: "021", Statement: "A valid key with one character changed is refused with 401: keys are checked, not just their form", run: checkNearMiss})
	}
	if mode == specs.AuthDigest {
		checks = append(checks,
			&Check{ID: "016", Statement: "A replayed Digest Authorization (the same nonce and nonce count) is refused with 401", run: checkDigestReplay},
			&Check{ID: "017", Statement: "A right Digest response on a nonce the server did not issue is challenged anew with stale=true", run: checkDigestStale},
			&Check{ID: "018", Statement: "A Digest response signed for another URI is refused with 401", run: checkDigestURI},
			&Check{ID: "019", Statement: "A known public key with the wrong private key is refused with 401", run: checkDigestWrongPassword},
		)
	}
	for _, c := range checks {
		c.Group, c.Citation = "auth", cite
	}
	return checks
}

// hasScopedOperations reports whether any operation requires a scope or role.
func hasScopedOperations(p *specs.Profile) bool {
	for _, op := range p.Operations {
		for _, alt := range op.Security {
			for _, r := range alt {
				if len(r.Scopes) > 0 {
					return true
				}
			}
		}
	}
	return false
}

func challengeNote(mode specs.AuthMode) string {
	switch mode {
	case specs.AuthBearer:
		return " with a Bearer challenge"
	case specs.AuthDigest:
		return " with a Digest challenge"
	}
	return ""
}

// refused sends a request and checks it is a 401 in the error envelope,
// with the scheme's challenge where it has one.
func refused(t *T, client *http.Client, header http.Header) {
	op := t.env.probe()
	resp, body := t.Raw(client, op.Method, t.env.path(op, nil), header, "")
	expectError(t, resp, body, specs.Unauthenticated, http.StatusUnauthorized)
	switch t.env.profile.Auth.Mode {
	case specs.AuthBearer:
		if h := resp.Header.Get("WWW-Authenticate"); !strings.HasPrefix(strings.ToLower(h), "bearer") {
			t.Errorf(`WWW-Authenticate: Bearer …`, h, "the 401 does not challenge for Bearer")
		}
	case specs.AuthDigest:
		if h := resp.Header.Get("WWW-Authenticate"); !strings.HasPrefix(h, "Digest ") {
			t.Errorf(`WWW-Authenticate: Digest …`, h, "the 401 does not challenge for Digest")
		}
	}
}

// expectError checks status and the profile's error envelope for kind.
func expectError(t *T, resp *http.Response, body []byte, kind specs.ErrorKind, status int) {
	if resp.StatusCode != status {
		t.Fatalf(fmt.Sprint(status), fmt.Sprint(resp.StatusCode), "wrong status for %s", kind)
	}
	if ct := resp.Header.Get("Content-Type"); !isJSON(ct) {
		t.Errorf("a JSON content type", ct, "the error is not JSON")
	}
	if err := t.env.profile.Errors.Match(kind, body); err != nil {
		t.Errorf("the "+t.env.profile.Name+" error envelope", string(truncate(body)), "the %s error is not in the documented envelope: %v", kind, err)
	}
}

func truncate(b []byte) []byte {
	if len(b) > 300 {
		return append(b[:300:300], []byte("…")...)
	}
	return b
}

func checkNoCredentials(t *T) { refused(t, t.Client(""), nil) }

func checkMalformed(t *T) {
	p := t.env.profile
	var h http.Header
	switch p.Auth.Mode {
	case specs.AuthBearer:
		h = http.Header{"Authorization": {"Bearer"}}
	case specs.AuthDigest:
		h = http.Header{"Authorization": {`Digest username=`}}
	case specs.AuthAPIKey:
		sc := p.Auth.Schemes[0]
		if sc.Format != "{key}" {
			h = http.Header{http.CanonicalHeaderKey(sc.Param): {"not-in-the-documented-format"}}
		} else {
			h = http.Header{http.CanonicalHeaderKey(sc.Param): {""}}
		}
	}
	refused(t, t.Client(""), h)
}

// checkUnknownKey presents a key no one was given.
func checkUnknownKey(t *T) {
	p := t.env.profile
	unknown := Credential{Secret: p.Auth.TokenPrefix + "opsconformUnknownKey0000000000000000000", PublicKey: "opsconfo", PrivateKey: "00000000-0000-4000-8000-000000000000"}
	if p.Auth.Schemes[0].Format != "{key}" {
		unknown.Secret = "0000000000000000000000000000000F"
	}
	refused(t, &http.Client{Transport: t.authTransport(unknown, t.rec), Timeout: t.env.timeout}, nil)
}

// checkNearMiss presents the full key with its last character changed: a
// server that checks only a key's form admits it.
func checkNearMiss(t *T) {
	k, ok := t.env.creds.Keys["full"]
	if !ok {
		t.Skipf(`no "full" credential for %s`, t.env.profile.Name)
	}
	t.markUsed("full")
	near := Credential{Secret: nearMiss(k.Secret)}
	t.rec.secrets = append(t.rec.secrets, near.Secret)
	refused(t, &http.Client{Transport: t.authTransport(near, t.rec), Timeout: t.env.timeout}, nil)
}

// nearMiss changes a secret's last character to another of the same kind.
func nearMiss(s string) string {
	last := s[len(s)-1]
	var c byte
	switch {
	case last >= '0' && last <= '9':
		c = '0' + (last-'0'+1)%10
	case last >= 'a' && last <= 'z':
		c = 'a' + (last-'a'+1)%26
	case last >= 'A' && last <= 'Z':
		c = 'A' + (last-'A'+1)%26
	default:
		c = '0'
	}
	return s[:len(s)-1] + string(c)
}

// checkEveryOperationNeedsCredentials sends every operation that needs
// credentials without any: a route added without the auth middleware is
// open to anyone.
func checkEveryOperationNeedsCredentials(t *T) {
	e := t.env
	probed := 0
	for _, op := range e.profile.Operations {
		if op.Public {
			continue
		}
		params := t.operationParams(op, Credential{})
		if params == nil {
			continue
		}
		body := ""
		if op.Body != nil {
			body = validBody(op.Body.Schema)
		}
		path := e.path(op, params)
		resp, data := t.Raw(t.Client(""), op.Method, path, nil, body)
		if resp.StatusCode == http.StatusNotFound && op.Method != http.MethodGet && strings.Contains(path, nonexistentID(op, idParam(op))) {
			continue // a stand-in item: inconclusive
		}
		if resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("401", fmt.Sprint(resp.StatusCode), "%s %s without credentials must be refused", op.Method, op.ID)
		}
		if err := e.profile.Errors.Match(specs.Unauthenticated, data); err != nil {
			t.Fatalf("the "+e.profile.Name+" error envelope", string(truncate(data)), "the 401 for %s is not in the documented envelope: %v", op.ID, err)
		}
		probed++
	}
	if probed == 0 {
		t.Skipf("no operation needing credentials whose parameters the credentials fill")
	}
}

func checkWrongScheme(t *T) {
	p := t.env.profile
	k, ok := t.env.creds.Keys["full"]
	if !ok {
		t.Skipf(`no "full" credential for %s`, p.Name)
	}
	var h http.Header
	switch p.Auth.Mode {
	case specs.AuthBearer:
		h = http.Header{"Authorization": {"Basic " + base64.StdEncoding.EncodeToString([]byte("x:"+k.Secret))}}
	case specs.AuthDigest:
		h = http.Header{"Authorization": {"Basic " + base64.StdEncoding.EncodeToString([]byte(k.PublicKey+":"+k.PrivateKey))}}
	case specs.AuthAPIKey:
		h = http.Header{"Authorization": {"Bearer " + k.Secret}}
	}
	refused(t, t.Client(""), h)
}

func checkValidKey(t *T) {
	op := t.env.probe()
	t.Request("full", op.Method, t.env.path(op, nil)).Expect().StatusRange(httpexpectSuccess)
}

// checkForbidden uses a key whose fixture says which operation it lacks.
func checkForbidden(role string) func(*T) {
	return func(t *T) {
		k, ok := t.env.creds.Keys[role]
		if !ok {
			t.Skipf("no %q credential for %s", role, t.env.profile.Name)
		}
		if k.Lacks == nil {
			t.Skipf("the %q credential does not say which operation it lacks (lacks.operation)", role)
		}
		op := t.env.profile.Operation(k.Lacks.Operation)
		if op == nil {
			t.Skipf("the %q credential names operation %q, which the spec does not have", role, k.Lacks.Operation)
		}
		body := ""
		if op.Body != nil {
			body = "{}"
		}
		resp, data := t.Raw(t.Client(role), op.Method, t.env.path(op, k.Lacks.Params), nil, body)
		expectError(t, resp, data, specs.Forbidden, t.env.profile.Errors.Spec(specs.Forbidden).Status)
	}
}

func checkRefusedRole(role string) func(*T) {
	return func(t *T) { refused(t, t.Client(role), nil) }
}

// checkOtherIP uses a key bound to addresses the checker is not at: refused
// as the profile documents (Ivanti's 401, MongoDB's 403
// IP_ADDRESS_NOT_ON_ACCESS_LIST), with the challenge when it is a 401.
func checkOtherIP(t *T) {
	p := t.env.profile
	if p.Errors.Spec(specs.AddressRefused).Status == http.StatusUnauthorized {
		refused(t, t.Client("other-ip"), nil)
		return
	}
	op := t.env.probe()
	resp, body := t.Raw(t.Client("other-ip"), op.Method, t.env.path(op, nil), nil, "")
	expectError(t, resp, body, specs.AddressRefused, p.Errors.Spec(specs.AddressRefused).Status)
}

// checkDigestChallenge parses every challenge the way mongodb-forks/digest
// does: split on ", ", only known parameters, algorithm in upper case.
func checkDigestChallenge(t *T) {
	d := t.env.profile.Auth.Digest
	op := t.env.probe()
	resp, _ := t.Raw(t.Client(""), op.Method, t.env.path(op, nil), nil, "")
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("401", fmt.Sprint(resp.StatusCode), "an unsigned request must be challenged: clients take any other answer as final")
	}
	values := resp.Header.Values("WWW-Authenticate")
	if len(values) == 0 {
		t.Fatalf("WWW-Authenticate: Digest …", "none", "the 401 carries no challenge")
	}
	allowed := map[string]bool{"realm": true, "domain": true, "nonce": true, "opaque": true, "stale": true, "algorithm": true, "qop": true}
	for i, v := range values {
		rest, ok := strings.CutPrefix(v, "Digest ")
		if !ok {
			t.Fatalf("Digest …", v, "a challenge that is not Digest")
		}
		params := map[string]string{}
		for _, part := range strings.Split(rest, ", ") {
			k, val, ok := strings.Cut(part, "=")
			if !ok || !allowed[k] {
				t.Fatalf("parameters among realm, domain, nonce, opaque, stale, algorithm, qop, separated by \", \"", part, "mongodb-forks/digest rejects this challenge")
			}
			params[k] = strings.Trim(val, `"`)
		}
		if params["realm"] != d.Realm {
			t.Errorf(d.Realm, params["realm"], "wrong realm")
		}
		if params["nonce"] == "" {
			t.Errorf("a nonce", "none", "the challenge has no nonce")
		}
		if alg := params["algorithm"]; alg != strings.ToUpper(alg) || alg == "" {
			t.Errorf("MD5 or SHA-256", alg, "the algorithm must be upper case")
		}
		if i == 0 && params["algorithm"] != d.Algorithms[0] {
			t.Errorf("algorithm="+d.Algorithms[0], "algorithm="+params["algorithm"], "the first challenge must offer the documented algorithm")
		}
		if params["qop"] != "auth" {
			t.Errorf("auth", params["qop"], "qop must offer auth")
		}
	}
}

// headerOnly finds an operation that accepts fewer of the profile's schemes
// than the profile has, and a scheme it refuses.
func headerOnly(p *specs.Profile) *struct {
	op     *specs.Operation
	scheme *specs.Scheme
} {
	if len(p.Auth.Schemes) < 2 {
		return nil
	}
	for _, op := range p.Operations {
		accepted := map[*specs.Scheme]bool{}
		for _, alt := range op.Security {
			for _, r := range alt {
				accepted[r.Scheme] = true
			}
		}
		if len(accepted) == 0 {
			continue
		}
		for _, sc := range p.Auth.Schemes {
			if !accepted[sc] {
				return &struct {
					op     *specs.Operation
					scheme *specs.Scheme
				}{op, sc}
			}
		}
	}
	return nil
}

// checkLegacyQueryKey sends the full key in the query parameter on the probe,
// which accepts it: older integrations still do.
func checkLegacyQueryKey(t *T) {
	p := t.env.profile
	k, ok := t.env.creds.Keys["full"]
	if !ok {
		t.Skipf(`no "full" credential for %s`, p.Name)
	}
	t.markUsed("full")
	for _, op := range p.Operations {
		if op.Method != http.MethodGet || op.Public || !t.env.fillable(op) {
			continue
		}
		for _, alt := range op.Security {
			for _, r := range alt {
				if r.Scheme.In != "query" {
					continue
				}
				value := strings.ReplaceAll(r.Scheme.Format, "{key}", k.Secret)
				resp, body := t.Raw(t.Client(""), op.Method, withQuery(t.env.path(op, nil), r.Scheme.Param, value), nil, "")
				if resp.StatusCode < 200 || resp.StatusCode > 299 {
					t.Fatalf("2xx", fmt.Sprint(resp.StatusCode), "%s refuses the key in the query parameter %s, which it documents: %s", op.ID, r.Scheme.Param, truncate(body))
				}
				return
			}
		}
	}
	t.Skipf("no safe operation that accepts the query key and whose parameters the credentials fill")
}

func checkHeaderOnly(t *T) {
	h := headerOnly(t.env.profile)
	k, ok := t.env.creds.Keys["full"]
	if !ok {
		t.Skipf(`no "full" credential for %s`, t.env.profile.Name)
	}
	path := t.env.path(h.op, nil)
	value := strings.ReplaceAll(h.scheme.Format, "{key}", k.Secret)
	var header http.Header
	if h.scheme.In == "query" {
		path = withQuery(path, h.scheme.Param, value)
	} else {
		header = http.Header{http.CanonicalHeaderKey(h.scheme.Param): {value}}
	}
	resp, body := t.Raw(t.Client(""), h.op.Method, path, header, "")
	expectError(t, resp, body, specs.Unauthenticated, http.StatusUnauthorized)
}
