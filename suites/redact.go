package suites

import (
	"net/http"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/opsconform/opsconform/specs"
)

// commonCredentialNames are header, query and field names that carry a
// credential on any API, whatever the profile says.
var commonCredentialNames = []string{
	"authorization", "proxy-authorization", "cookie", "set-cookie",
	"access_token", "refresh_token", "id_token", "api_key", "api-key", "apikey", "x-api-key",
	"token", "key", "password", "passwd", "secret", "client_secret", "private_key", "privatekey",
}

// bodyCredentialFields are JSON fields whose string values are redacted from
// shown bodies: a key-creating answer shows its secret once, and the report
// must not. Fields as common as "key" and "token" stay, as data often uses them.
var bodyCredentialFields = []string{
	"secret", "privateKey", "private_key", "password", "apiKey", "api_key", "apikey",
	"access_token", "refresh_token", "client_secret",
}

// redactor removes credentials from whatever a run reports: every known
// secret, the value of every header or query parameter named by any of the
// profile's security schemes or by a common credential name (in any case),
// name=value pairs in text, and credential fields in JSON bodies.
type redactor struct {
	names   map[string]bool // lower-case header and query parameter names
	pairs   *regexp.Regexp  // name=value in URLs, reasons and commands
	fields  *regexp.Regexp  // "field": "value" in JSON
	secrets []placeholder   // known secrets, longest first
	public  map[string]string
}

// roleOrder is the order in which roles name a secret several roles share.
var roleOrder = []string{"full", "second", "limited", "role-bounded"}

// placeholder is a secret and the shell variable a curl command shows instead.
type placeholder struct{ secret, name string }

const redacted = "REDACTED"

// newRedactor knows the profile's credential names and the run's keys; a
// key's secret is shown in curl commands as ${PROFILE_ROLE_KEY}.
func newRedactor(p *specs.Profile, creds *Credentials) *redactor {
	rd := &redactor{names: map[string]bool{}, public: map[string]string{}}
	for _, n := range commonCredentialNames {
		rd.names[n] = true
	}
	for _, sc := range p.Auth.Schemes {
		if sc.Param != "" {
			rd.names[strings.ToLower(sc.Param)] = true
		}
		// "rest_api_key={key}": the name inside the value is one too.
		if before, _, ok := strings.Cut(sc.Format, "{key}"); ok && strings.HasSuffix(before, "=") {
			rd.names[strings.ToLower(strings.TrimSuffix(before, "="))] = true
		}
	}
	var alts []string
	for n := range rd.names {
		alts = append(alts, regexp.QuoteMeta(n))
	}
	sort.Sort(sort.Reverse(sort.StringSlice(alts))) // longer names that share a prefix first
	rd.pairs = regexp.MustCompile(`(?i)(^|[^a-z0-9_])(` + strings.Join(alts, "|") + `)=([^\s&"'$,;<>)][^\s&"',;<>)]*)`)
	var fields []string
	for _, f := range bodyCredentialFields {
		fields = append(fields, regexp.QuoteMeta(f))
	}
	rd.fields = regexp.MustCompile(`(?i)"(` + strings.Join(fields, "|") + `)"(\s*:\s*)"(?:[^"\\]|\\.)*"`)
	prefix := strings.ToUpper(strings.NewReplacer("-", "_", ".", "_").Replace(p.Name))
	// One secret under several roles (the fixtures' full key is also the
	// demo key) is named after the first of them, in a fixed order.
	roles := make([]string, 0, len(creds.Keys))
	for role := range creds.Keys {
		roles = append(roles, role)
	}
	rank := func(role string) int {
		if i := slices.Index(roleOrder, role); i >= 0 {
			return i
		}
		return len(roleOrder)
	}
	sort.Slice(roles, func(i, j int) bool {
		if ri, rj := rank(roles[i]), rank(roles[j]); ri != rj {
			return ri < rj
		}
		return roles[i] < roles[j]
	})
	for _, role := range roles {
		k := creds.Keys[role]
		name := prefix + "_" + strings.ToUpper(strings.ReplaceAll(role, "-", "_"))
		switch {
		case k.PrivateKey != "":
			rd.add(k.PrivateKey, name+"_PRIVATE_KEY")
			if k.PublicKey != "" {
				rd.public[k.PublicKey] = name + "_PRIVATE_KEY"
			}
			if k.Secret != "" && k.Secret != k.PrivateKey {
				rd.add(k.Secret, name+"_KEY")
			}
		case k.Secret != "":
			rd.add(k.Secret, name+"_KEY")
		}
	}
	return rd
}

func (rd *redactor) add(secret, name string) {
	if len(secret) < 4 {
		return
	}
	for _, s := range rd.secrets {
		if s.secret == secret {
			return
		}
	}
	rd.secrets = append(rd.secrets, placeholder{secret, name})
	sort.SliceStable(rd.secrets, func(i, j int) bool { return len(rd.secrets[i].secret) > len(rd.secrets[j].secret) })
}

// with is the redactor plus secrets one check learnt (keys it created).
func (rd *redactor) with(extra []string, name string) *redactor {
	if len(extra) == 0 {
		return rd
	}
	cp := *rd
	cp.secrets = append([]placeholder(nil), rd.secrets...)
	for _, s := range extra {
		cp.add(s, name)
	}
	return &cp
}

// text redacts a reason, an expected or received value, or a whole exchange.
func (rd *redactor) text(s string) string {
	for _, p := range rd.secrets {
		s = strings.ReplaceAll(s, p.secret, redacted)
	}
	s = rd.pairs.ReplaceAllString(s, "${1}${2}="+redacted)
	s = rd.fields.ReplaceAllString(s, `"${1}"${2}"`+redacted+`"`)
	return rd.headerLines(s)
}

// headerLines redacts the value of every "Name: value" line whose name is a
// credential name, keeping a scheme word ("Bearer", "Digest") for the reader.
func (rd *redactor) headerLines(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		name, value, ok := strings.Cut(l, ": ")
		if !ok || strings.ContainsAny(name, " \t") || !rd.names[strings.ToLower(name)] {
			continue
		}
		lines[i] = name + ": " + redactCredential(value)
	}
	return strings.Join(lines, "\n")
}

// redactCredential keeps a credential's scheme and shape, not its secret.
func redactCredential(v string) string {
	if v == "" || strings.HasSuffix(v, redacted) || len(v) < 8 && strings.Trim(v, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ") == "" {
		return v // nothing, already redacted, or a bare scheme word ("Bearer")
	}
	if scheme, _, ok := strings.Cut(v, " "); ok && !strings.Contains(scheme, "=") {
		return scheme + " " + redacted
	}
	if pre, _, ok := strings.Cut(v, "="); ok {
		return pre + "=" + redacted
	}
	return redacted
}

// curl is a command that repeats a recorded request, each known secret
// replaced by its ${VARIABLE} and every other credential redacted.
func (rd *redactor) curl(req *recordedRequest) string {
	if req == nil || req.url == nil {
		return ""
	}
	args := []string{"curl", "-sS", "-i"}
	if req.method != http.MethodGet {
		args = append(args, "-X", req.method)
	}
	names := make([]string, 0, len(req.header))
	for k := range req.header {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		switch http.CanonicalHeaderKey(k) {
		case "Content-Length", "User-Agent", "Accept-Encoding":
			continue
		}
		for _, v := range req.header[k] {
			if user, ok := digestUser(v); ok && http.CanonicalHeaderKey(k) == "Authorization" {
				if name, known := rd.public[user]; known {
					args = append(args, "--digest", "-u", rd.word(user+":${"+name+"}", true))
					continue
				}
			}
			if v == "" {
				args = append(args, "-H", rd.word(k+";", false)) // curl's way to send an empty header
				continue
			}
			args = append(args, "-H", rd.word(k+": "+v, false))
		}
	}
	if len(req.body) > 0 {
		args = append(args, "--data-raw", rd.word(string(req.body), false))
	}
	u := *req.url
	args = append(args, rd.word(u.String(), false))
	return strings.Join(args, " ")
}

// digestUser is the username of a Digest Authorization value.
func digestUser(v string) (string, bool) {
	rest, ok := strings.CutPrefix(v, "Digest ")
	if !ok {
		return "", false
	}
	for _, part := range strings.Split(rest, ",") {
		k, val, ok := strings.Cut(strings.TrimSpace(part), "=")
		if ok && k == "username" {
			return strings.Trim(val, `"`), true
		}
	}
	return "", false
}

// word quotes one shell word. Known secrets become ${VARIABLES} inside
// double quotes; other credentials are redacted; anything else is single-quoted.
func (rd *redactor) word(s string, expanded bool) string {
	type seg struct {
		text string
		vr   bool
	}
	var segs []seg
	if expanded {
		// s already holds ${NAME} references: split them out.
		for s != "" {
			i := strings.Index(s, "${")
			j := strings.Index(s, "}")
			if i < 0 || j < i {
				segs = append(segs, seg{text: s})
				break
			}
			if i > 0 {
				segs = append(segs, seg{text: s[:i]})
			}
			segs = append(segs, seg{text: s[i : j+1], vr: true})
			s = s[j+1:]
		}
	} else {
		for s != "" {
			at, which := -1, placeholder{}
			for _, p := range rd.secrets {
				if i := strings.Index(s, p.secret); i >= 0 && (at < 0 || i < at) {
					at, which = i, p
				}
			}
			if at < 0 {
				segs = append(segs, seg{text: s})
				break
			}
			if at > 0 {
				segs = append(segs, seg{text: s[:at]})
			}
			segs = append(segs, seg{text: "${" + which.name + "}", vr: true})
			s = s[at+len(which.secret):]
		}
	}
	hasVar := false
	for _, sg := range segs {
		hasVar = hasVar || sg.vr
	}
	if !hasVar {
		var b strings.Builder
		for _, sg := range segs {
			b.WriteString(sg.text)
		}
		return shellQuote(rd.redactWord(b.String()))
	}
	var b strings.Builder
	b.WriteByte('"')
	for _, sg := range segs {
		if sg.vr {
			b.WriteString(sg.text)
			continue
		}
		text := rd.pairs.ReplaceAllString(sg.text, "${1}${2}="+redacted)
		b.WriteString(strings.NewReplacer(`\`, `\\`, `"`, `\"`, "$", `\$`, "`", "\\`").Replace(text))
	}
	b.WriteByte('"')
	return b.String()
}

// redactWord redacts credentials in a piece of a command that holds no
// known secret: a header value under a credential name, a name=value pair.
func (rd *redactor) redactWord(s string) string {
	if name, value, ok := strings.Cut(s, ": "); ok && rd.names[strings.ToLower(name)] {
		return name + ": " + redactCredential(value)
	}
	return rd.pairs.ReplaceAllString(s, "${1}${2}="+redacted)
}

// shellQuote single-quotes s unless it is made only of safe characters.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./:=@,+%") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
