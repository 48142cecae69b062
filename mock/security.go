package mock

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"strings"

	"github.com/opsconform/opsconform/specs"
)

// needsAlternatives reports whether a profile's security goes beyond what
// the single-mode paths serve (one mode; apiKey in header or query; one
// scheme per alternative): then every request is checked against the
// operation's alternatives as OpenAPI defines them.
func needsAlternatives(p *specs.Profile) bool {
	if p.Auth.Mixed() {
		return true
	}
	for _, sc := range p.Auth.Schemes {
		switch sc.Mode {
		case specs.AuthBasic, specs.AuthHTTP, specs.AuthMutualTLS:
			return true
		case specs.AuthAPIKey:
			if sc.In == "cookie" {
				return true
			}
		}
	}
	for _, op := range p.Operations {
		for _, alt := range op.Security {
			if len(alt) > 1 {
				return true
			}
		}
	}
	return false
}

// authenticateAlternatives checks a request against the operation's
// security requirement alternatives: it is admitted when it satisfies every
// scheme of one of them. The key of the alternative's first scheme is the
// caller (whose scopes authorize checks for the whole alternative). When
// none is satisfied, the refusal explains the first credential that was
// presented and is wrong, or else says what to send, with a challenge for
// every HTTP scheme that would do.
func (s *Server) authenticateAlternatives(p *specs.Profile, op *specs.Operation, r *http.Request) (*Authenticated, specs.Alternative, *authFailure) {
	var wrong *authFailure
	for _, alt := range op.Security {
		if len(alt) == 0 {
			continue
		}
		var principal *Authenticated
		ok := true
		for _, req := range alt {
			auth, presented, fail := s.credential(p, req.Scheme, r)
			if fail == nil && auth != nil {
				if fail = s.checkKey(p, auth, r); fail != nil && p.Errors.Spec(fail.kind).Status == http.StatusUnauthorized {
					fail.challenges = schemeChallenges(s, p, req.Scheme, true)
				}
			}
			if fail != nil {
				ok = false
				if presented && wrong == nil {
					wrong = fail
				}
				break
			}
			if principal == nil {
				principal = auth
			}
		}
		if ok {
			return principal, alt, nil
		}
	}
	if wrong != nil {
		return nil, nil, wrong
	}
	fail := (&authFailure{kind: specs.Unauthenticated, message: "No credentials: send " + describeSecurity(op) + "."}).
		because(ReasonCredentialsMissing, "no credentials: %s takes %s", op.ID, describeSecurity(op))
	seen := map[*specs.Scheme]bool{}
	for _, alt := range op.Security {
		for _, req := range alt {
			if !seen[req.Scheme] {
				seen[req.Scheme] = true
				fail.challenges = append(fail.challenges, schemeChallenges(s, p, req.Scheme, false)...)
			}
		}
	}
	return nil, nil, fail
}

// describeSecurity says in words what an operation accepts:
// "header X-API-Key, or Authorization: Bearer and cookie session".
func describeSecurity(op *specs.Operation) string {
	var alts []string
	for _, alt := range op.Security {
		var parts []string
		for _, req := range alt {
			parts = append(parts, describeScheme(req.Scheme))
		}
		if len(parts) > 0 {
			alts = append(alts, strings.Join(parts, " and "))
		}
	}
	return strings.Join(alts, ", or ")
}

func describeScheme(sc *specs.Scheme) string {
	switch sc.Mode {
	case specs.AuthAPIKey:
		return sc.In + " " + sc.Param
	case specs.AuthBearer:
		return "Authorization: Bearer <token>"
	case specs.AuthBasic:
		return "Authorization: Basic <user:password>"
	case specs.AuthDigest:
		return "HTTP Digest credentials"
	case specs.AuthMutualTLS:
		return "a client certificate"
	}
	return "Authorization: " + sc.HTTPScheme + " <token>"
}

// schemeChallenges are the WWW-Authenticate values a 401 carries for sc.
func schemeChallenges(s *Server, p *specs.Profile, sc *specs.Scheme, invalid bool) []string {
	realm := fmt.Sprintf(`realm="%s"`, p.Title)
	switch sc.Mode {
	case specs.AuthBearer:
		if invalid {
			return []string{"Bearer " + realm + `, error="invalid_token"`}
		}
		return []string{"Bearer " + realm}
	case specs.AuthBasic:
		return []string{"Basic " + realm + `, charset="UTF-8"`}
	case specs.AuthDigest:
		return s.challenges(sc.Digest, s.nonces[p.Name].issue(), false)
	case specs.AuthHTTP:
		return []string{schemeWord(sc) + " " + realm}
	}
	return nil
}

// schemeWord is an HTTP scheme's name as clients write it: Bearer, Basic, Negotiate.
func schemeWord(sc *specs.Scheme) string {
	if sc.HTTPScheme == "" {
		return ""
	}
	return strings.ToUpper(sc.HTTPScheme[:1]) + sc.HTTPScheme[1:]
}

// credential finds the key a request presents for one scheme. presented
// says the request tried this scheme at all, so that a wrong credential is
// reported rather than a missing one. mutualTLS is taken as satisfied (a
// plain-HTTP mock cannot see certificates) without a key.
func (s *Server) credential(p *specs.Profile, sc *specs.Scheme, r *http.Request) (auth *Authenticated, presented bool, fail *authFailure) {
	refuse := func(msg string) (*Authenticated, bool, *authFailure) {
		return nil, true, (&authFailure{kind: specs.Unauthenticated, message: msg, challenges: schemeChallenges(s, p, sc, true)}).
			because(ReasonCredentialsMalformed, "")
	}
	unknown := func(msg string) (*Authenticated, bool, *authFailure) {
		a, presented, f := refuse(msg)
		f.reason = ReasonKeyUnknown
		return a, presented, f
	}
	absent := &authFailure{kind: specs.Unauthenticated}
	switch sc.Mode {
	case specs.AuthMutualTLS:
		return nil, false, nil
	case specs.AuthAPIKey:
		var vals []string
		switch sc.In {
		case "header":
			vals = r.Header.Values(sc.Param)
		case "query":
			vals = r.URL.Query()[sc.Param]
		case "cookie":
			for _, c := range r.Cookies() {
				if c.Name == sc.Param {
					vals = append(vals, c.Value)
				}
			}
		}
		switch {
		case len(vals) == 0:
			return nil, false, absent
		case len(vals) > 1:
			return refuse(fmt.Sprintf("Send the key once, not %d times in %s %s.", len(vals), sc.In, sc.Param))
		}
		key, ok := cutFormat(sc.Format, vals[0])
		if !ok {
			return refuse(fmt.Sprintf("The %s %s must read %s.", sc.In, sc.Param, strings.ReplaceAll(sc.Format, "{key}", "<key>")))
		}
		if a, found := s.keys.BySecret(p.Name, key); found {
			return a, true, nil
		}
		return unknown(fmt.Sprintf("The key in %s %s is not known.", sc.In, sc.Param))
	}
	values := r.Header.Values("Authorization")
	word := "Bearer"
	switch sc.Mode {
	case specs.AuthBasic:
		word = "Basic"
	case specs.AuthDigest:
		word = "Digest"
	case specs.AuthHTTP:
		word = schemeWord(sc)
	}
	var value string
	for _, v := range values {
		if w, _, _ := strings.Cut(v, " "); strings.EqualFold(w, word) {
			if value != "" {
				return refuse("Send one Authorization header, not several.")
			}
			value = v
		}
	}
	if value == "" {
		return nil, false, absent
	}
	if sc.Mode == specs.AuthDigest {
		a, f := s.authenticateDigestWith(p, sc.Digest, r)
		return a, true, f
	}
	_, cred, _ := strings.Cut(value, " ")
	switch {
	case cred == "" || strings.HasPrefix(cred, " "):
		return refuse(fmt.Sprintf("Exactly one space must separate %s from the credentials.", word))
	case sc.Mode == specs.AuthBasic:
		raw, err := base64.StdEncoding.DecodeString(cred)
		user, pass, found := strings.Cut(string(raw), ":")
		if err != nil || !found {
			return refuse("Basic credentials must be base64 of user:password.")
		}
		if a, ok := s.keys.ByPassword(p.Name, user, pass); ok {
			return a, true, nil
		}
		return unknown("The user name or password is wrong.")
	case !isToken68(cred):
		return refuse(fmt.Sprintf("The %s credentials contain characters a token cannot.", word))
	case sc.TokenPrefix != "" && !strings.HasPrefix(cred, sc.TokenPrefix):
		return refuse(fmt.Sprintf("Tokens start with %s.", sc.TokenPrefix))
	}
	if a, ok := s.keys.BySecret(p.Name, cred); ok {
		return a, true, nil
	}
	return unknown("The token is not known.")
}
