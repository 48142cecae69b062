package mock

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync/atomic"

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
	"rest_api_key", "secret", "session", "session_id", "set-cookie", "sid", "sig", "signature", "token",
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
	// filter rules values out cheaply before known looks them up (a
	// cryptographic hash under a lock): the store's, read without a lock;
	// nil when nothing is ruled out.
	filter *atomic.Pointer[secretFilter]
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

// appendFolded appends name as foldName spells it, byte by byte: the same
// for ASCII, and UTF-8 sequences are copied as they are.
func appendFolded[T string | []byte](dst []byte, name T) []byte {
	for i := 0; i < len(name); i++ {
		switch c := name[i]; {
		case c == '-' || c == '_' || c == '.' || c == '[' || c == ']' || c == ' ':
		case c >= 'A' && c <= 'Z':
			dst = append(dst, c+'a'-'A')
		default:
			dst = append(dst, c)
		}
	}
	return dst
}

// sensitiveName reports whether a parameter, header or cookie of this name
// carries a credential. It allocates nothing for names up to 64 bytes: it
// runs for every header of every journalled request.
func (rd *redactor) sensitiveName(name string) bool {
	var buf [64]byte
	return rd.sensitiveFolded(appendFolded(buf[:0], name))
}

// sensitiveNameBytes is sensitiveName for a name in bytes (a JSON member's).
func (rd *redactor) sensitiveNameBytes(name []byte) bool {
	var buf [64]byte
	return rd.sensitiveFolded(appendFolded(buf[:0], name))
}

func (rd *redactor) sensitiveFolded(f []byte) bool {
	if rd.names[string(f)] {
		return true
	}
	for _, suf := range credentialSuffixes {
		if len(f) >= len(suf) && string(f[len(f)-len(suf):]) == suf {
			return true
		}
	}
	return false
}

// sensitiveValue reports whether v is a credential whatever its name: a
// token with a profile's prefix or a key's secret, alone or after the "="
// or " " of a format such as rest_api_key={key} or Bearer {key}.
func (rd *redactor) sensitiveValue(v string) bool {
	for {
		if rd.isSecret(v) {
			return true
		}
		i := strings.LastIndexAny(v, "= :")
		if i < 0 {
			return false
		}
		v = v[i+1:]
	}
}

// isSecret reports whether v, whole, is a token with a profile's prefix or
// a key's secret.
func (rd *redactor) isSecret(v string) bool {
	if len(v) < minSecret {
		return false
	}
	for _, pre := range rd.prefixes {
		if strings.HasPrefix(v, pre) && len(v) > len(pre)+4 {
			return true
		}
	}
	return rd.known != nil && rd.known(v)
}

// isSecretBytes is isSecret for bytes; it allocates only for a value that
// the filter does not rule out.
func (rd *redactor) isSecretBytes(v []byte) bool {
	if len(v) < minSecret {
		return false
	}
	for _, pre := range rd.prefixes {
		if len(v) > len(pre)+4 && string(v[:len(pre)]) == pre {
			return true
		}
	}
	if rd.known == nil {
		return false
	}
	if rd.filter != nil {
		if f := rd.filter.Load(); f == nil || !f.mayHoldBytes(v) {
			return false
		}
	}
	return rd.known(string(v))
}

// query returns a raw query string with the value of every credential
// replaced by REDACTED. Everything else is kept byte for byte, malformed
// escapes and order included, so the journal shows what was sent.
func (rd *redactor) query(raw string) string {
	if raw == "" {
		return ""
	}
	return string(rd.appendQuery(make([]byte, 0, len(raw)), raw))
}

// appendQuery appends query(raw) to dst.
func (rd *redactor) appendQuery(dst []byte, raw string) []byte {
	start := 0
	for i := 0; i <= len(raw); i++ {
		if i < len(raw) && raw[i] != '&' && raw[i] != ';' {
			continue
		}
		dst = rd.appendQueryPart(dst, raw[start:i])
		if i < len(raw) {
			dst = append(dst, raw[i])
		}
		start = i + 1
	}
	return dst
}

func (rd *redactor) appendQueryPart(dst []byte, part string) []byte {
	rawName, rawValue, hasValue := strings.Cut(part, "=")
	name := unescapeOr(rawName)
	if !hasValue {
		if rd.sensitiveValue(name) {
			return append(dst, Redacted...)
		}
		return append(dst, part...)
	}
	if rawValue == "" {
		return append(dst, part...)
	}
	if rd.sensitiveName(name) || rd.sensitiveValue(unescapeOr(rawValue)) {
		return append(append(append(dst, rawName...), '='), Redacted...)
	}
	return append(dst, part...)
}

func unescapeOr(s string) string {
	if u, err := url.QueryUnescape(s); err == nil {
		return u
	}
	return s
}

// appendPath appends an escaped path to dst with any segment that is a
// credential by value replaced by REDACTED.
func (rd *redactor) appendPath(dst []byte, escaped string) []byte {
	for {
		seg, rest, more := strings.Cut(escaped, "/")
		if rd.sensitiveValue(unescapeOr(seg)) {
			dst = append(dst, Redacted...)
		} else {
			dst = append(dst, seg...)
		}
		if !more {
			return dst
		}
		dst = append(dst, '/')
		escaped = rest
	}
}

// uri is a request URI as the mock logs it: path and query with credentials redacted.
func (rd *redactor) uri(u *url.URL) string {
	return string(rd.appendURI(nil, u))
}

// appendURI appends uri(u) to dst; it allocates nothing when dst has room
// and the path needs no escaping.
func (rd *redactor) appendURI(dst []byte, u *url.URL) []byte {
	return rd.appendPathQuery(dst, u.EscapedPath(), u.RawQuery, u.ForceQuery)
}

// appendPathQuery is appendURI for a URI's escaped path and raw query.
func (rd *redactor) appendPathQuery(dst []byte, escapedPath, rawQuery string, forceQuery bool) []byte {
	dst = rd.appendPath(dst, escapedPath)
	if rawQuery == "" && !forceQuery {
		return dst
	}
	return rd.appendQuery(append(dst, '?'), rawQuery)
}

// with is the redactor recognising secrets with known instead: the key
// store's lookup for a caller that already holds the store's lock.
func (rd *redactor) with(known func(string) bool) *redactor {
	c := *rd
	c.known = known
	return &c
}

// header returns a header's value as the mock may show it: whole for an
// ordinary header, the scheme and REDACTED for a credential.
func (rd *redactor) header(name, value string) string {
	shown, redacted := rd.headerShown(name, value)
	switch {
	case !redacted:
		return value
	case shown != "":
		return shown + " " + Redacted
	}
	return Redacted
}

// headerShown is header without allocating: the value whole and false for
// an ordinary header; for a credential, true and the part that may be
// shown before REDACTED (the scheme, or nothing). A value is a credential
// when any word of it is a secret, not only the last.
func (rd *redactor) headerShown(name, value string) (shown string, redacted bool) {
	// Every word of the value, and the value whole (a secret with a space
	// in it): the words cover what sensitiveValue looks at after "= :".
	if !rd.sensitiveName(name) && !rd.isSecret(value) && !rd.hasSecretWord(value) {
		return value, false
	}
	if scheme, _, ok := strings.Cut(value, " "); ok && scheme != "" && !strings.Contains(scheme, "=") && !rd.isSecret(scheme) {
		return scheme, true
	}
	return "", true
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
