package mock

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/opsconform/opsconform/specs"
)

// Redacted is what stands in for a secret in every output of the mock.
const Redacted = "REDACTED"

// credentialNames are query parameter, header and cookie names that carry a
// credential in common APIs, whatever the loaded profiles document: a
// client that sends its key under one of them must not find it in a log.
// They are compared folded (see foldName), so api_key, API-Key and apiKey
// are one name.
var credentialNames = []string{
	"access_token", "api_key", "api_token", "apikey", "auth", "auth_token", "authorization",
	"bearer", "client_secret", "cookie", "credential", "credentials", "id_token", "jwt",
	"key", "passwd", "password", "private_key", "proxy-authorization", "pwd", "refresh_token",
	"rest_api_key", "secret", "session", "session_id", "sid", "sig", "signature", "token",
	"x-api-key", "x-auth-token",
}

// credentialSuffixes make any name ending in them a credential name
// (om_token, X-Opsmerge-Api-Key, adminPassword). Compared folded.
var credentialSuffixes = []string{"token", "secret", "password", "passwd", "apikey", "privatekey", "credentials", "authorization"}

// minSecret is the shortest value redaction looks for inside free text: a
// shorter one would blot out ordinary words and carries too little to guess from.
const minSecret = 6

// redactor decides what is a secret in a request, for every channel the
// mock writes to: the log, the request journal and error messages. A value
// is a secret by where it is sent (a name any loaded security scheme reads,
// or a common credential name, in any letter case) or by what it is (a
// token with a profile's prefix, or a secret of a key the store holds).
type redactor struct {
	names    map[string]bool   // folded names
	prefixes []string          // bearer token prefixes ("om_")
	known    func(string) bool // whether a value is a key's secret; nil for none
}

func newRedactor(profiles []*specs.Profile, known func(string) bool) *redactor {
	rd := &redactor{names: map[string]bool{}, known: known}
	for _, n := range credentialNames {
		rd.names[foldName(n)] = true
	}
	for _, p := range profiles {
		for _, sc := range p.Auth.Schemes {
			if sc.Param != "" {
				rd.names[foldName(sc.Param)] = true
			}
		}
		if pre := p.Auth.TokenPrefix; pre != "" && !slices.Contains(rd.prefixes, pre) {
			rd.prefixes = append(rd.prefixes, pre)
		}
	}
	return rd
}

// foldName is a name as redaction compares it: lower case, without the
// separators and brackets that spell one name several ways.
func foldName(name string) string {
	return strings.Map(func(r rune) rune {
		switch r {
		case '-', '_', '.', '[', ']', ' ':
			return -1
		}
		if r >= 'A' && r <= 'Z' {
			return r + 'a' - 'A'
		}
		return r
	}, name)
}

// sensitiveName reports whether a parameter, header or cookie of this name carries a credential.
func (rd *redactor) sensitiveName(name string) bool {
	var buf [64]byte
	f := foldNameInto(buf[:0], name) // every request's parameter names pass here: no allocation
	if rd.names[string(f)] {
		return true
	}
	for _, suf := range credentialSuffixes {
		if bytes.HasSuffix(f, []byte(suf)) {
			return true
		}
	}
	return false
}

// foldNameInto appends foldName(name) to dst.
func foldNameInto(dst []byte, name string) []byte {
	for i := 0; i < len(name); i++ {
		switch c := name[i]; {
		case c >= utf8.RuneSelf:
			return append(dst, foldName(name[i:])...) // beyond ASCII: as strings.Map folds it
		case c == '-' || c == '_' || c == '.' || c == '[' || c == ']' || c == ' ':
		case c >= 'A' && c <= 'Z':
			dst = append(dst, c+'a'-'A')
		default:
			dst = append(dst, c)
		}
	}
	return dst
}

// sensitiveValue reports whether v is a credential whatever its name: a
// token with a profile's prefix or a key's secret, alone or after the "="
// or " " of a format such as rest_api_key={key} or Bearer {key}.
func (rd *redactor) sensitiveValue(v string) bool {
	for {
		if len(v) >= minSecret {
			for _, pre := range rd.prefixes {
				if strings.HasPrefix(v, pre) && len(v) > len(pre)+4 {
					return true
				}
			}
			if rd.known != nil && rd.known(v) {
				return true
			}
		}
		i := strings.LastIndexAny(v, "= :")
		if i < 0 {
			return false
		}
		v = v[i+1:]
	}
}

// query returns a raw query string with the value of every credential
// replaced by REDACTED. Everything else is kept byte for byte, malformed
// escapes and order included, so the journal shows what was sent.
func (rd *redactor) query(raw string) string {
	if raw == "" {
		return ""
	}
	var b strings.Builder
	changed := false // raw is returned as it is, unless a part is redacted
	start := 0
	for i := 0; i <= len(raw); i++ {
		if i < len(raw) && raw[i] != '&' && raw[i] != ';' {
			continue
		}
		part := raw[start:i]
		out := rd.queryPart(part)
		if !changed && out != part {
			changed = true
			b.WriteString(raw[:start])
		}
		if changed {
			b.WriteString(out)
			if i < len(raw) {
				b.WriteByte(raw[i])
			}
		}
		start = i + 1
	}
	if !changed {
		return raw
	}
	return b.String()
}

func (rd *redactor) queryPart(part string) string {
	rawName, rawValue, hasValue := strings.Cut(part, "=")
	name := unescapeOr(rawName)
	if !hasValue {
		if rd.sensitiveValue(name) {
			return Redacted
		}
		return part
	}
	if rawValue == "" {
		return part
	}
	if rd.sensitiveName(name) || rd.sensitiveValue(unescapeOr(rawValue)) {
		return rawName + "=" + Redacted
	}
	return part
}

func unescapeOr(s string) string {
	if u, err := url.QueryUnescape(s); err == nil {
		return u
	}
	return s
}

// path returns an escaped path with any segment that is a credential by
// value replaced by REDACTED.
func (rd *redactor) path(escaped string) string {
	changed := false
	for seg := range strings.SplitSeq(escaped, "/") {
		if rd.sensitiveValue(unescapeOr(seg)) {
			changed = true
			break
		}
	}
	if !changed {
		return escaped // every request's path: judged without allocating
	}
	segs := strings.Split(escaped, "/")
	for i, seg := range segs {
		if rd.sensitiveValue(unescapeOr(seg)) {
			segs[i] = Redacted
		}
	}
	return strings.Join(segs, "/")
}

// uri is a request URI as the mock logs it: path and query with credentials redacted.
func (rd *redactor) uri(u *url.URL) string {
	p := rd.path(u.EscapedPath())
	if u.RawQuery == "" && !u.ForceQuery {
		return p
	}
	return p + "?" + rd.query(u.RawQuery)
}

// header returns a header's value as the mock may show it: whole for an
// ordinary header, the scheme and REDACTED for a credential.
func (rd *redactor) header(name, value string) string {
	if !rd.sensitiveName(name) && !rd.sensitiveValue(value) {
		return value
	}
	if scheme, _, ok := strings.Cut(value, " "); ok && scheme != "" && !strings.Contains(scheme, "=") {
		return scheme + " " + Redacted
	}
	return Redacted
}

// secrets lists every credential a request carries: values
// of credential query parameters, headers and cookies, the token of an
// Authorization header whatever its scheme, the password of Basic
// credentials, and path segments that are secrets by value. scrub removes them from free text.
func (rd *redactor) secrets(r *http.Request) []string {
	var out []string
	add := func(v string) {
		v = strings.TrimSpace(v)
		if len(v) >= minSecret && !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	addCredential := func(v string) {
		add(v)
		// The parts after a scheme or a format's "=": "Bearer om_…", "rest_api_key=…".
		for i := strings.IndexAny(v, " ="); i >= 0; i = strings.IndexAny(v, " =") {
			v = v[i+1:]
			add(v)
		}
	}
	for name, vals := range r.URL.Query() {
		for _, v := range vals {
			if rd.sensitiveName(name) || rd.sensitiveValue(v) {
				addCredential(v)
			}
		}
	}
	for name, vals := range r.Header {
		if http.CanonicalHeaderKey(name) == "Cookie" {
			continue
		}
		for _, v := range vals {
			if rd.sensitiveName(name) || rd.sensitiveValue(v) {
				addCredential(v)
			}
		}
	}
	for _, c := range r.Cookies() {
		add(c.Value)
	}
	for _, seg := range strings.Split(r.URL.Path, "/") {
		if rd.sensitiveValue(seg) {
			add(seg)
		}
	}
	if _, pass, ok := r.BasicAuth(); ok {
		add(pass)
	}
	return out
}

// bodySecrets lists the credentials in a JSON request body: string values of
// fields with credential names, and strings that are secrets by value, at
// any depth. A body that is not JSON has none that can be told apart.
func (rd *redactor) bodySecrets(body []byte) []string {
	if len(body) == 0 {
		return nil
	}
	var v any
	if json.Unmarshal(body, &v) != nil {
		return nil
	}
	var out []string
	var walk func(name string, v any)
	walk = func(name string, v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, e := range x {
				walk(k, e)
			}
		case []any:
			for _, e := range x {
				walk(name, e)
			}
		case string:
			if len(x) >= minSecret && (rd.sensitiveName(name) || rd.sensitiveValue(x)) {
				out = append(out, x)
			}
		}
	}
	walk("", v)
	return out
}

// scrub replaces every secret in s, longest first, so that a secret
// containing another is replaced whole.
func scrub(s string, secrets ...[]string) string {
	var all []string
	for _, l := range secrets {
		all = append(all, l...)
	}
	slices.SortFunc(all, func(a, b string) int { return len(b) - len(a) })
	for _, sec := range all {
		if strings.Contains(s, sec) {
			s = strings.ReplaceAll(s, sec, Redacted)
		}
	}
	return s
}
