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
const bodyMargin = 512

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
	for i := 0; i < len(b); {
		start := i
		if wordSep[b[i]] {
			for i < len(b) && wordSep[b[i]] {
				i++
			}
			dst = append(dst, b[start:i]...)
			continue
		}
		for i < len(b) && !wordSep[b[i]] {
			i++
		}
		// A secret ending in base64's "=" padding is a word with its padding.
		padded := i
		for padded < len(b) && b[padded] == '=' {
			padded++
		}
		switch {
		case rd.isSecretBytes(b[start:i]):
			dst = append(dst, Redacted...)
		case padded > i && rd.isSecretBytes(b[start:padded]):
			dst, i = append(dst, Redacted...), padded
		default:
			dst = append(dst, b[start:i]...)
		}
	}
	return dst
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
		if rd.isSecret(s[start:i]) || padded > i && rd.isSecret(s[start:padded]) {
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
	for i := 0; i < len(b); {
		c := b[i]
		switch {
		case c == '"':
			end, escaped := jsonStringEnd(b, i+1)
			raw := b[i+1 : end]
			next := min(end+1, len(b))
			if t := sc.top(); sc.depth > 0 && !t.array && end < len(b) && followedByColon(b, next) {
				if escaped {
					sc.keySensitive = t.sensitive || rd.sensitiveName(jsonText(raw, true))
				} else {
					sc.keySensitive = t.sensitive || rd.sensitiveNameBytes(raw)
				}
				dst = append(dst, b[i:next]...)
				i = next
				continue
			}
			switch {
			case sc.valueSensitive():
				dst = append(dst, `"`+Redacted+`"`...)
			case escaped:
				// Escapes could hide a secret from a plain look: judge the decoded text.
				if text := jsonText(raw, true); rd.isSecret(text) || rd.hasSecretWord(text) {
					dst = append(dst, `"`+Redacted+`"`...)
				} else {
					dst = append(dst, b[i:next]...)
				}
			case len(raw) < minSecret:
				dst = append(dst, b[i:next]...)
			case rd.isSecretBytes(raw):
				dst = append(dst, `"`+Redacted+`"`...)
			default:
				dst = rd.appendWords(append(dst, '"'), raw)
				if end < len(b) {
					dst = append(dst, '"')
				}
			}
			i = next
		case c == '{' || c == '[':
			sc.push(jsonFrame{array: c == '[', sensitive: sc.valueSensitive()})
			dst = append(dst, c)
			i++
		case c == '}' || c == ']':
			if sc.depth > 0 {
				sc.depth--
			}
			sc.keySensitive = false
			dst = append(dst, c)
			i++
		case c == ',':
			if !sc.top().array {
				sc.keySensitive = false
			}
			dst = append(dst, c)
			i++
		case c == '-' || c >= '0' && c <= '9':
			start := i
			for i < len(b) && (b[i] == '-' || b[i] == '+' || b[i] == '.' || b[i] == 'e' || b[i] == 'E' || b[i] >= '0' && b[i] <= '9') {
				i++
			}
			if sc.valueSensitive() {
				dst = append(dst, `"`+Redacted+`"`...)
			} else {
				dst = append(dst, b[start:i]...)
			}
		default:
			dst = append(dst, c)
			i++
		}
	}
	return dst
}

// jsonScan is where appendJSON is in the nesting of a JSON text.
type jsonScan struct {
	stack        [maxJSONDepth]jsonFrame
	depth        int  // levels open; stack[min(depth, maxJSONDepth)-1] is the innermost tracked
	keySensitive bool // the member being read has a credential name
}

func (sc *jsonScan) top() jsonFrame {
	if sc.depth == 0 {
		return jsonFrame{}
	}
	return sc.stack[min(sc.depth, maxJSONDepth)-1]
}

func (sc *jsonScan) push(f jsonFrame) {
	if sc.depth < maxJSONDepth {
		sc.stack[sc.depth] = f
	}
	sc.depth++
	sc.keySensitive = false
}

// valueSensitive reports whether the value being read is to be redacted.
func (sc *jsonScan) valueSensitive() bool {
	t := sc.top()
	return t.sensitive || !t.array && sc.depth > 0 && sc.keySensitive
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
		// The quote is escaped when an odd number of backslashes precede it.
		n := 0
		for k := j - 1; k >= i && b[k] == '\\'; k-- {
			n++
		}
		if bytes.IndexByte(b[i:j], '\\') >= 0 {
			escaped = true
		}
		if n%2 == 0 {
			return j, escaped
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
