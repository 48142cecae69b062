package mock

import (
	"bytes"
	"encoding/json"
	"strings"
	"unicode/utf8"
)

// Bodies as the journal keeps them: the redactor copies a body's start,
// replacing every credential it recognises, in one pass that allocates
// nothing unless a value has the length of some key's secret.
//
// In JSON, the value of a member with a credential name (and everything
// under it), any string that is a secret or a prefixed token, and any word
// of a string that is one, become "REDACTED"; a form body is redacted as a
// query string; any other body word by word.

// bodyMargin is how far past its cap a body is read, so that a secret the
// cap cuts is still recognised whole, not shown in part.
const bodyMargin = 256

// wordSep marks the bytes that separate words in free text. Characters a
// token or a password may hold (letters, digits, -._~+/ and most
// punctuation) are not among them.
var wordSep = func() (t [256]bool) {
	for c := 0; c <= ' '; c++ {
		t[c] = true
	}
	for _, c := range "\"'`,;&<>(){}[]|\\:=?#" {
		t[c] = true
	}
	return t
}()

// appendBody appends the first limit bytes of body, redacted, to dst.
// contentType picks the reading: JSON, a form, or words.
func (rd *redactor) appendBody(dst, body []byte, contentType string, limit int) []byte {
	start := len(dst)
	window := body[:min(len(body), limit+bodyMargin)]
	switch {
	case isJSON(window, contentType):
		dst = rd.appendJSON(dst, window)
	case strings.HasPrefix(strings.ToLower(contentType), "application/x-www-form-urlencoded"):
		dst = rd.appendQuery(dst, string(window))
	default:
		dst = rd.appendWords(dst, window)
	}
	if len(dst)-start > limit {
		dst = dst[:start+limit]
		// Not half a character at the cut.
		for i := 0; i < utf8.UTFMax && len(dst) > start; i++ {
			if r, size := utf8.DecodeLastRune(dst[start:]); r != utf8.RuneError || size != 1 {
				break
			}
			dst = dst[:len(dst)-1]
		}
	}
	return dst
}

func isJSON(body []byte, contentType string) bool {
	if strings.Contains(strings.ToLower(contentType), "json") {
		return true
	}
	b := bytes.TrimLeft(body, " \t\r\n")
	return len(b) > 0 && (b[0] == '{' || b[0] == '[')
}

// appendWords appends b with every word that is a secret replaced.
func (rd *redactor) appendWords(dst, b []byte) []byte {
	dst, last, _ := rd.redactWords(dst, b, 0, len(b), 0)
	return append(dst, b[last:]...)
}

// redactWords replaces the secret words of b[from:to] and counts its
// words. It copies lazily: b[last:] is what has not been copied to dst
// yet, and only a replacement copies, so a body without secrets is read,
// not rewritten, word by word.
func (rd *redactor) redactWords(dst, b []byte, from, to, last int) (_ []byte, _ int, words int) {
	for i := from; i < to; {
		if wordSep[b[i]] {
			i++
			continue
		}
		words++
		start := i
		for i < to && !wordSep[b[i]] {
			i++
		}
		if i-start < minSecret {
			continue
		}
		// A secret ending in base64's "=" padding is a word with its padding.
		padded := i
		for padded < to && b[padded] == '=' {
			padded++
		}
		// Or a word a sentence ends: "… KEY."
		trimmed := i
		for trimmed > start && (b[trimmed-1] == '.' || b[trimmed-1] == '!' || b[trimmed-1] == '*') {
			trimmed--
		}
		switch {
		case rd.isSecretBytes(b[start:i]):
		case padded > i && rd.isSecretBytes(b[start:padded]):
			i = padded
		case trimmed < i && rd.isSecretBytes(b[start:trimmed]):
			i = trimmed
		default:
			continue
		}
		dst = append(append(dst, b[last:start]...), Redacted...)
		last = i
	}
	return dst, last, words
}

// hasSecretWord reports whether any word of s is a secret.
func (rd *redactor) hasSecretWord(s string) bool {
	for i := 0; i < len(s); {
		if wordSep[s[i]] {
			i++
			continue
		}
		start := i
		for i < len(s) && !wordSep[s[i]] {
			i++
		}
		padded := i
		for padded < len(s) && s[padded] == '=' {
			padded++
		}
		trimmed := strings.TrimRight(s[start:i], ".!*")
		if rd.isSecret(s[start:i]) || padded > i && rd.isSecret(s[start:padded]) || rd.isSecret(trimmed) {
			return true
		}
	}
	return false
}

// text returns s with every secret word replaced, s itself when it has none.
func (rd *redactor) text(s string) string {
	if rd.isSecret(s) {
		return Redacted
	}
	if !rd.hasSecretWord(s) {
		return s
	}
	return string(rd.appendWords(nil, []byte(s)))
}

// jsonFrame is one level of nesting as appendJSON tracks it.
type jsonFrame struct {
	array     bool
	sensitive bool // under a member with a credential name: every value in it is redacted
}

// maxJSONDepth bounds the levels appendJSON tracks; deeper ones inherit
// the last tracked level.
const maxJSONDepth = 64

// appendJSON appends a JSON text, possibly cut short, with credentials
// replaced. It does not validate: whatever is not a string or a number is
// copied as it is.
func (rd *redactor) appendJSON(dst, b []byte) []byte {
	var sc jsonScan
	last := 0 // b[last:] is not copied yet: only replacements copy
	replace := func(from, to int, with string) {
		dst = append(append(dst, b[last:from]...), with...)
		last = to
	}
	for i := 0; i < len(b); {
		switch c := b[i]; {
		case c == '"':
			end, escaped := jsonStringEnd(b, i+1)
			raw := b[i+1 : end]
			next := min(end+1, len(b))
			if !sc.cur.array && sc.depth > 0 && end < len(b) && followedByColon(b, next) {
				sc.keySensitive = sc.cur.sensitive || sc.names.lookup(rd, raw, escaped)
				i = next
				continue
			}
			switch {
			case sc.valueSensitive():
				replace(i, next, `"`+Redacted+`"`)
			case escaped:
				// Escapes could hide a secret from a plain look: judge the decoded text.
				if text := jsonText(raw, true); rd.isSecret(text) || rd.hasSecretWord(text) {
					replace(i, next, `"`+Redacted+`"`)
				}
			case len(raw) < minSecret:
			default:
				before := len(dst)
				var words int
				dst, last, words = rd.redactWords(dst, b, i+1, end, last)
				// A secret with separators in it (a password with a space) is a value, not a word.
				if words > 1 && len(dst) == before && rd.isSecretBytes(raw) {
					replace(i, next, `"`+Redacted+`"`)
				}
			}
			i = next
		case c == '{' || c == '[':
			sc.push(jsonFrame{array: c == '[', sensitive: sc.valueSensitive()})
			i++
		case c == '}' || c == ']':
			sc.pop()
			i++
		case c == ',':
			if !sc.cur.array {
				sc.keySensitive = false
			}
			i++
		case c == '-' || c >= '0' && c <= '9':
			start := i
			for i < len(b) && (b[i] == '-' || b[i] == '+' || b[i] == '.' || b[i] == 'e' || b[i] == 'E' || b[i] >= '0' && b[i] <= '9') {
				i++
			}
			if sc.valueSensitive() {
				replace(start, i, `"`+Redacted+`"`)
			}
		default:
			i++
		}
	}
	return append(dst, b[last:]...)
}

// jsonScan is where appendJSON is in the nesting of a JSON text.
type jsonScan struct {
	stack        [maxJSONDepth]jsonFrame
	depth        int       // levels open; stack[min(depth, maxJSONDepth)-1] is the innermost tracked
	cur          jsonFrame // the innermost level; the zero frame at the top
	keySensitive bool      // the member being read has a credential name
	names        nameCache
}

// nameCache remembers whether recent member names are credential names,
// in slots picked by length and first and last letters: the items of a
// list repeat the same few names.
type nameCache struct {
	names   [32][]byte // slices of the text being scanned
	verdict [32]bool
}

func (c *nameCache) lookup(rd *redactor, raw []byte, escaped bool) bool {
	if escaped || len(raw) == 0 {
		return rd.sensitiveName(jsonText(raw, escaped))
	}
	slot := (len(raw)*7 + int(raw[0])*3 + int(raw[len(raw)-1])) & 31
	if n := c.names[slot]; n != nil && string(n) == string(raw) {
		return c.verdict[slot]
	}
	v := rd.sensitiveNameBytes(raw)
	c.names[slot], c.verdict[slot] = raw, v
	return v
}

func (sc *jsonScan) push(f jsonFrame) {
	if sc.depth < maxJSONDepth {
		sc.stack[sc.depth] = f
		sc.cur = f
	}
	sc.depth++
	sc.keySensitive = false
}

func (sc *jsonScan) pop() {
	if sc.depth > 0 {
		sc.depth--
	}
	sc.cur = jsonFrame{}
	if sc.depth > 0 {
		sc.cur = sc.stack[min(sc.depth, maxJSONDepth)-1]
	}
	sc.keySensitive = false
}

// valueSensitive reports whether the value being read is to be redacted.
func (sc *jsonScan) valueSensitive() bool {
	return sc.cur.sensitive || !sc.cur.array && sc.depth > 0 && sc.keySensitive
}

// jsonStringEnd finds the closing quote of a string whose content starts
// at i: its index, or len(b) when the text is cut short; escaped reports
// whether the content has a backslash.
func jsonStringEnd(b []byte, i int) (end int, escaped bool) {
	for {
		j := bytes.IndexByte(b[i:], '"')
		if j < 0 {
			return len(b), escaped || bytes.IndexByte(b[i:], '\\') >= 0
		}
		j += i
		if bytes.IndexByte(b[i:j], '\\') < 0 {
			return j, escaped
		}
		escaped = true
		// The quote is escaped when an odd number of backslashes precede it.
		n := 0
		for k := j - 1; k >= i && b[k] == '\\'; k-- {
			n++
		}
		if n%2 == 0 {
			return j, true
		}
		i = j + 1
	}
}

func followedByColon(b []byte, i int) bool {
	for ; i < len(b); i++ {
		switch b[i] {
		case ' ', '\t', '\r', '\n':
			continue
		case ':':
			return true
		}
		return false
	}
	return false
}

// jsonText is a JSON string's content as text: decoded when it has
// escapes (a malformed one is taken as written).
func jsonText(raw []byte, escaped bool) string {
	if !escaped {
		return string(raw)
	}
	var s string
	if json.Unmarshal(append(append([]byte{'"'}, raw...), '"'), &s) != nil {
		return string(raw)
	}
	return s
}
