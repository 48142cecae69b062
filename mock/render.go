package mock

import (
	"bytes"
	"encoding/json"
	"math"
	"net/url"
	"slices"
	"strconv"
	"sync"
	"unicode/utf8"
)

// bufs pools the buffers answers are assembled in: a page of a hundred
// items is tens of kilobytes, and every request would otherwise grow one.
var bufs = sync.Pool{New: func() any { return new([]byte) }}

// maxPooled is the largest buffer kept for reuse; a rare huge answer is
// left to the garbage collector rather than pinned in the pool.
const maxPooled = 1 << 20

func getBuf() *[]byte { return bufs.Get().(*[]byte) }

func putBuf(b *[]byte) {
	if cap(*b) <= maxPooled {
		*b = (*b)[:0]
		bufs.Put(b)
	}
}

// encodeRecord encodes a record's fields (see appendJSON) into a slice of
// their size. A record's JSON is kept as long as the record; grown by
// append from nothing it left, on average, a quarter of its capacity
// unused, on some 3,500 records, and the growing made garbage.
func encodeRecord(fields map[string]any) ([]byte, error) {
	buf := getBuf()
	defer putBuf(buf)
	b, err := appendJSON((*buf)[:0], fields)
	*buf = b
	if err != nil {
		return nil, err
	}
	return bytes.Clone(b), nil
}

// appendJSON appends v encoded as encodeJSON would: map keys sorted, no HTML
// escaping. It writes the shapes the mock's answers are made of directly
// (maps, lists, pre-encoded json.RawMessage, strings, whole numbers) and
// hands anything else to encoding/json.
func appendJSON(dst []byte, v any) ([]byte, error) {
	switch x := v.(type) {
	case nil:
		return append(dst, "null"...), nil
	case json.RawMessage:
		return append(dst, x...), nil
	case rawAppender:
		return x(dst), nil
	case member:
		dst = append(appendString(append(dst, '{'), x.key), ':')
		dst, err := appendJSON(dst, x.value)
		if err != nil {
			return nil, err
		}
		return append(dst, '}'), nil
	case string:
		return appendString(dst, x), nil
	case bool:
		return strconv.AppendBool(dst, x), nil
	case int:
		return strconv.AppendInt(dst, int64(x), 10), nil
	case int64:
		return strconv.AppendInt(dst, x, 10), nil
	case float64:
		if x == math.Trunc(x) && math.Abs(x) < 1e15 && !(x == 0 && math.Signbit(x)) {
			return strconv.AppendInt(dst, int64(x), 10), nil
		}
	case map[string]any:
		// An answer's maps (its envelope, a page's fields, a link) have a
		// few keys each: sorted on the stack, they cost no allocation.
		var small [16]string
		keys := small[:0]
		if len(x) > len(small) {
			keys = make([]string, 0, len(x))
		}
		for k := range x {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		dst = append(dst, '{')
		for i, k := range keys {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = append(appendString(dst, k), ':')
			var err error
			if dst, err = appendJSON(dst, x[k]); err != nil {
				return nil, err
			}
		}
		return append(dst, '}'), nil
	case []any:
		dst = append(dst, '[')
		for i, e := range x {
			if i > 0 {
				dst = append(dst, ',')
			}
			var err error
			if dst, err = appendJSON(dst, e); err != nil {
				return nil, err
			}
		}
		return append(dst, ']'), nil
	}
	b, err := encodeJSON(v)
	if err != nil {
		return nil, err
	}
	return append(dst, b...), nil
}

// rawAppender is JSON that appends itself where the value it stands in is
// encoded: a page's items go from their stored bytes straight into the
// answer's buffer, never assembled apart and copied again.
type rawAppender func(dst []byte) []byte

// MarshalJSON is the same bytes, for encoders other than appendJSON.
func (a rawAppender) MarshalJSON() ([]byte, error) { return a(nil), nil }

// member is a one-member JSON object, {"key": value}: the success envelope
// around an answer, a tenth of the garbage of a one-key map's.
type member struct {
	key   string
	value any
}

// MarshalJSON is the same bytes, for encoders other than appendJSON.
func (m member) MarshalJSON() ([]byte, error) { return appendJSON(nil, m) }

// appendString appends s as a JSON string. Plain printable ASCII, which is
// nearly every string the mock writes, is copied; anything else is escaped
// by encoding/json so the two never disagree.
// It takes bytes too (a link built in a buffer), copying them the same way.
func appendString[T string | []byte](dst []byte, s T) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == '"' || c == '\\' || c >= utf8.RuneSelf {
			b, _ := encodeJSON(string(s))
			return append(dst, b...)
		}
	}
	dst = append(dst, '"')
	dst = append(dst, s...)
	return append(dst, '"')
}

// linkSentinel stands in a record's JSON where its own link goes, so the
// request's absolute link can be spliced in without re-encoding the item.
const linkSentinel = "\x00opsconform:self-link\x00"

// linkSlot is where in a record's JSON its link value is: json[from:to]
// holds the sentinel.
type linkSlot struct{ from, to int }

// newLinkedRecord encodes fields with linksField's value as the sentinel and
// remembers where it is. Records without the field are plain records.
func newLinkedRecord(fields map[string]any, linksField string) (*record, error) {
	old, has := fields[linksField]
	if linksField == "" || !has {
		return newRecord(fields)
	}
	fields[linksField] = linkSentinel
	b, err := encodeRecord(fields)
	fields[linksField] = old
	if err != nil {
		return nil, err
	}
	quoted, _ := encodeJSON(linkSentinel)
	at := bytes.Index(b, quoted)
	if at < 0 {
		return newRecord(fields)
	}
	return &record{fields: fields, json: b, link: &linkSlot{at, at + len(quoted)}}, nil
}

// appendLinked appends the record's JSON with its link pointing at href.
func appendLinked(dst []byte, rec *record, href string) []byte {
	if rec.link == nil {
		return append(dst, rec.json...)
	}
	dst = append(dst, rec.json[:rec.link.from]...)
	dst = append(dst, `[{"href":`...)
	dst = appendString(dst, href)
	dst = append(dst, `,"rel":"self"}]`...)
	return append(dst, rec.json[rec.link.to:]...)
}

// selfURL is the absolute URL of path on the host the request was sent to.
func selfURL(x *exchange, path string) string {
	u := url.URL{Scheme: scheme(x.r), Host: x.r.Host, Path: path}
	return u.String()
}
