package mock

import (
	"encoding/base64"
	"fmt"
	"net"
	"net/http"
	"strings"

	"github.com/opsconform/opsconform/specs"
)

// authenticate finds the key a request presents and checks it may be used at
// all: present, well formed, known, not revoked, disabled or expired, owner
// active, right tenant and IP. It returns the requirement alternative the
// credentials satisfied, whose scopes the access check then applies.
func (s *Server) authenticate(p *specs.Profile, op *specs.Operation, r *http.Request) (*Authenticated, specs.Alternative, *authFailure) {
	if s.alternatives[p] {
		return s.authenticateAlternatives(p, op, r)
	}
	var auth *Authenticated
	var alt specs.Alternative
	var fail *authFailure
	switch p.Auth.Mode {
	case specs.AuthDigest:
		auth, fail = s.authenticateDigest(p, r)
		alt = firstAlternative(op)
	case specs.AuthBearer:
		auth, fail = s.authenticateBearer(p, r)
		alt = firstAlternative(op)
	case specs.AuthAPIKey:
		auth, alt, fail = s.authenticateAPIKey(p, op, r)
	default:
		return nil, nil, nil
	}
	if fail != nil {
		return nil, nil, fail
	}
	if fail := s.checkKey(p, auth, r); fail != nil {
		if p.Errors.Spec(fail.kind).Status == http.StatusUnauthorized {
			fail.challenges = s.challengesFor(p)
		}
		return nil, nil, fail
	}
	return auth, alt, nil
}

// challengesFor is what a 401 for a known but unusable key carries: the
// scheme's challenge, so clients see the same shape as for any other 401.
func (s *Server) challengesFor(p *specs.Profile) []string {
	switch p.Auth.Mode {
	case specs.AuthBearer:
		return []string{fmt.Sprintf(`Bearer realm="%s", error="invalid_token"`, p.Title)}
	case specs.AuthDigest:
		return s.challenges(p.Auth.Digest, s.nonces[p.Name].issue(), false)
	}
	return nil
}

func firstAlternative(op *specs.Operation) specs.Alternative {
	for _, alt := range op.Security {
		if len(alt) > 0 {
			return alt
		}
	}
	return nil
}

// authenticateBearer checks "Authorization: Bearer <token>": the scheme is
// case-insensitive, exactly one space separates it from the token (RFC 7235),
// and the token must carry the profile's prefix.
func (s *Server) authenticateBearer(p *specs.Profile, r *http.Request) (*Authenticated, *authFailure) {
	invalid := func(msg string) *authFailure {
		return &authFailure{kind: specs.Unauthenticated, message: msg, challenges: []string{bearerRealm(p) + `, error="invalid_token"`}}
	}
	values := r.Header.Values("Authorization")
	switch {
	case len(values) == 0:
		return nil, (&authFailure{kind: specs.Unauthenticated, challenges: []string{bearerRealm(p)}}).because(ReasonCredentialsMissing, "no Authorization header")
	case len(values) > 1:
		return nil, invalid("Send one Authorization header, not several.").because(ReasonCredentialsMalformed, "%d Authorization headers", len(values))
	}
	scheme, token, found := strings.Cut(values[0], " ")
	if deviates(r, devWrongSchemeAccepted) && strings.EqualFold(scheme, "Basic") {
		if raw, err := base64.StdEncoding.DecodeString(token); err == nil {
			_, pass, _ := strings.Cut(string(raw), ":")
			scheme, token = "Bearer", pass
		}
	}
	switch {
	case !found || !strings.EqualFold(scheme, "Bearer"):
		return nil, invalid("The Authorization header must read: Bearer <API key>.").because(ReasonCredentialsMalformed, "Authorization scheme is not Bearer")
	case token == "" || strings.HasPrefix(token, " "):
		return nil, invalid("Exactly one space must separate Bearer from the API key.").because(ReasonCredentialsMalformed, "not exactly one space after Bearer")
	case !isToken68(token):
		return nil, invalid("The API key contains characters a bearer token cannot.").because(ReasonCredentialsMalformed, "the token has characters a bearer token cannot")
	case p.Auth.TokenPrefix != "" && !strings.HasPrefix(token, p.Auth.TokenPrefix):
		return nil, invalid(fmt.Sprintf("API keys start with %s.", p.Auth.TokenPrefix)).because(ReasonCredentialsMalformed, "the token does not start with %s", p.Auth.TokenPrefix)
	}
	auth, ok := s.keys.BySecret(p.Name, token)
	if !ok && deviates(r, devFormatOnlyValidation) && issuedForm(p, token) {
		auth, ok = s.keys.First(p.Name)
	}
	if !ok {
		return nil, invalid("").because(ReasonKeyUnknown, "unknown key")
	}
	return auth, nil
}

// bearerRealm is the Bearer challenge's scheme and realm, for refusals only.
func bearerRealm(p *specs.Profile) string { return fmt.Sprintf(`Bearer realm="%s"`, p.Title) }

// isToken68 reports whether s is an RFC 7235 token68.
func isToken68(s string) bool {
	trailing := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '=':
			trailing = true
		case trailing:
			return false
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', strings.IndexByte("-._~+/", c) >= 0:
		default:
			return false
		}
	}
	return len(s) > 0
}

// authenticateAPIKey finds the key in whichever of the profile's apiKey
// schemes carries it. A key sent in a scheme the operation does not accept
// (OpManager's query parameter on a header-only endpoint) is refused with a
// message that says where it must go.
func (s *Server) authenticateAPIKey(p *specs.Profile, op *specs.Operation, r *http.Request) (*Authenticated, specs.Alternative, *authFailure) {
	var presented *specs.Scheme
	var value string
	for _, sc := range p.Auth.Schemes {
		var vals []string
		if sc.In == "header" {
			vals = r.Header.Values(sc.Param)
		} else {
			vals = r.URL.Query()[sc.Param]
		}
		if len(vals) == 0 || sc.In == "query" && deviates(r, devQueryKeyRefused) {
			continue
		}
		if len(vals) > 1 {
			return nil, nil, (&authFailure{kind: specs.Unauthenticated, message: fmt.Sprintf("Send the key once, not %d times in %s %s.", len(vals), sc.In, sc.Param)}).
				because(ReasonCredentialsMalformed, "key sent %d times in %s %s", len(vals), sc.In, sc.Param)
		}
		if accepts(op, sc) || presented == nil {
			presented, value = sc, vals[0]
		}
		if accepts(op, sc) {
			break
		}
	}
	if presented == nil && deviates(r, devWrongSchemeAccepted) {
		if token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
			for _, sc := range p.Auth.Schemes {
				presented, value = sc, strings.ReplaceAll(sc.Format, "{key}", token)
				break
			}
		}
	}
	if presented == nil {
		return nil, nil, (&authFailure{kind: specs.Unauthenticated, message: "No API key: send it in " + where(op) + "."}).
			because(ReasonCredentialsMissing, "no key in %s", where(op))
	}
	alt := alternativeFor(op, presented)
	if alt == nil && deviates(r, devQueryKeyEverywhere) {
		alt = firstAlternative(op)
	}
	if alt == nil {
		return nil, nil, (&authFailure{kind: specs.Unauthenticated, message: fmt.Sprintf("This endpoint does not accept the key in %s %s; send it in %s.", presented.In, presented.Param, where(op))}).
			because(ReasonCredentialsMisplaced, "key in %s %s, which %s does not accept (%s only)", presented.In, presented.Param, op.ID, where(op))
	}
	key, ok := cutFormat(presented.Format, value)
	if token, bearer := strings.CutPrefix(value, "Bearer "); !ok && bearer && deviates(r, devWrongSchemeAccepted) {
		key, ok = token, true
	}
	if !ok {
		return nil, nil, (&authFailure{kind: specs.Unauthenticated, message: fmt.Sprintf("The %s %s must read %s.", presented.In, presented.Param, strings.ReplaceAll(presented.Format, "{key}", "<key>"))}).
			because(ReasonCredentialsMalformed, "%s %s does not read %s", presented.In, presented.Param, strings.ReplaceAll(presented.Format, "{key}", "<key>"))
	}
	auth, found := s.keys.BySecret(p.Name, key)
	if !found && deviates(r, devFormatOnlyValidation) && issuedForm(p, key) {
		auth, found = s.keys.First(p.Name)
	}
	if !found {
		return nil, nil, (&authFailure{kind: specs.Unauthenticated}).because(ReasonKeyUnknown, "unknown key in %s %s", presented.In, presented.Param)
	}
	return auth, alt, nil
}

func accepts(op *specs.Operation, sc *specs.Scheme) bool { return alternativeFor(op, sc) != nil }

func alternativeFor(op *specs.Operation, sc *specs.Scheme) specs.Alternative {
	for _, alt := range op.Security {
		for _, req := range alt {
			if req.Scheme == sc {
				return alt
			}
		}
	}
	return nil
}

// where says in words where an operation accepts its key: "header apikey or query apiKey".
func where(op *specs.Operation) string {
	var parts []string
	for _, alt := range op.Security {
		for _, req := range alt {
			parts = append(parts, req.Scheme.In+" "+req.Scheme.Param)
		}
	}
	return strings.Join(parts, " or ")
}

// cutFormat extracts the key from a value written in format ("rest_api_key={key}").
func cutFormat(format, value string) (string, bool) {
	before, after, _ := strings.Cut(format, "{key}")
	if !strings.HasPrefix(value, before) || !strings.HasSuffix(value, after) || len(value) <= len(before)+len(after) {
		return "", false
	}
	key := value[len(before) : len(value)-len(after)]
	if strings.TrimSpace(key) != key {
		return "", false
	}
	return key, true
}

// checkKey applies the key's lifecycle and bindings. Every refusal is 401,
// except a user whose API access is off, which gets the profile's status.
func (s *Server) checkKey(p *specs.Profile, a *Authenticated, r *http.Request) *authFailure {
	k := &a.Key
	refuse := func(msg string) *authFailure {
		return &authFailure{kind: specs.Unauthenticated, message: msg, key: k.ID}
	}
	switch {
	case k.Revoked && !deviates(r, devRevokedKeyAdmitted):
		f := refuse("The API key has been revoked.").because(ReasonKeyRevoked, "key %s revoked", k.ID)
		if k.RevokedAt != nil {
			f.why += " at " + stamp(*k.RevokedAt)
		}
		return f
	case !k.Enabled && !deviates(r, devDisabledKeyAdmitted):
		return refuse("The API key is disabled.").because(ReasonKeyDisabled, "key %s disabled", k.ID)
	case k.Expires != nil && !s.now().Before(*k.Expires) && !deviates(r, devExpiredKeyAdmitted):
		return refuse("The API key expired on "+stamp(*k.Expires)+".").because(ReasonKeyExpired, "key %s expired at %s", k.ID, stamp(*k.Expires))
	case a.Owner != nil && !a.Owner.Active && !deviates(r, devOwnerDeactivationIgnored):
		return refuse("The API key's owner is deactivated.").because(ReasonOwnerDeactivated, "owner %s of key %s deactivated", a.Owner.ID, k.ID)
	case a.Owner != nil && !a.Owner.APIAccess && !deviates(r, devAPIAccessIgnored):
		return (&authFailure{kind: specs.Forbidden, status: p.Access.APIDisabledStatus, message: "REST API access is disabled for this user.", key: k.ID}).
			because(ReasonAPIAccessDisabled, "REST API access off for user %s, owner of key %s", a.Owner.ID, k.ID)
	}
	if p.Auth.BindTenant && k.Tenant != "" && !deviates(r, devTenantUnchecked) {
		if host := requestHost(r); !specs.SameTenant(host, k.Tenant) {
			return refuse(fmt.Sprintf("The REST API key does not belong to this tenant (%s).", host)).
				because(ReasonTenantMismatch, "key %s belongs to tenant %s, not %s", k.ID, k.Tenant, host)
		}
	}
	if p.Auth.BindIP && len(k.IPs) > 0 && !deviates(r, devIPUnchecked) {
		ip := clientIP(r)
		entry, ok := admittingEntry(k.IPs, ip, deviates(r, devAccessListIPEntriesIgnored))
		if !ok {
			// MongoDB's 403 IP_ADDRESS_NOT_ON_ACCESS_LIST names the address; Ivanti's 401.
			return (&authFailure{kind: specs.AddressRefused, message: fmt.Sprintf("IP address %s is not allowed to access this resource.", ip), params: []string{ip}, key: k.ID}).
				because(ReasonIPMismatch, "key %s is bound to %s, not %s", k.ID, strings.Join(k.IPs, ", "), ip)
		}
		s.accessUsage.record(p.Name, k.ID, entry, ip, s.now())
	}
	return nil
}

// requestHost is the request's host name without the port: the tenant.
func requestHost(r *http.Request) string {
	if h, _, err := net.SplitHostPort(r.Host); err == nil {
		return h
	}
	return r.Host
}

// clientIP is the peer's address. Forwarding headers are not trusted: a key
// bound to IPs must not be usable by anyone who can write a header.
func clientIP(r *http.Request) string {
	if h, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		return h
	}
	return r.RemoteAddr
}

// authorize applies the operation's scopes to the key: 403 when the key or its
// owner's role lacks one. params fill {param} placeholders in bound scopes.
func authorize(p *specs.Profile, op *specs.Operation, a *Authenticated, alt specs.Alternative, params map[string]string) *authFailure {
	if a == nil {
		return nil // an alternative satisfied without a key (mutualTLS)
	}
	var required []string
	for _, req := range alt {
		for _, sc := range req.Scopes {
			required = append(required, specs.Resolve(sc, params))
		}
	}
	role := a.Key.Role
	if role == "" && a.Owner != nil {
		role = a.Owner.Role
	}
	granted := a.Key.granted
	if granted == nil {
		granted = p.Access.Expand(a.Key.Scopes)
	}
	d := p.Access.PermitsExpanded(op.ID, required, granted, role)
	if d.Allowed {
		return nil
	}
	if d.ByRole {
		msg := fmt.Sprintf("The key's owner role %q does not allow %s; a key's scopes never exceed its owner's role.", role, d.Missing)
		return (&authFailure{kind: specs.Forbidden, message: msg, key: a.Key.ID}).
			because(ReasonRoleInsufficient, "role %s of key %s does not allow %s", role, a.Key.ID, d.Missing)
	}
	return (&authFailure{kind: specs.Forbidden, message: fmt.Sprintf("The API key lacks %s.", d.Missing), key: a.Key.ID}).
		because(ReasonScopeMissing, "scope %s missing from key %s", d.Missing, a.Key.ID)
}
