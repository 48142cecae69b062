package mock

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/opsconform/opsconform/specs"
	"github.com/pb33f/libopenapi/datamodel/high/base"
	v3 "github.com/pb33f/libopenapi/datamodel/high/v3"
)

// preference is the answer a request picks, as Prism users know it: the
// Prefer header (code=404, example=NAME, dynamic=true, combined with
// commas) or the query parameters __code, __example and __dynamic.
type preference struct {
	code    int
	example string
	dynamic string // "true", "false" or ""
}

func (p preference) none() bool { return p.code == 0 && p.example == "" && p.dynamic == "" }

// applied is the Preference-Applied value (RFC 7240) for what was honoured.
func (p preference) applied() string {
	var parts []string
	if p.code != 0 {
		parts = append(parts, "code="+strconv.Itoa(p.code))
	}
	if p.example != "" {
		parts = append(parts, "example="+p.example)
	}
	if p.dynamic != "" {
		parts = append(parts, "dynamic="+p.dynamic)
	}
	return strings.Join(parts, ", ")
}

// readPreference reads the request's preference; a malformed one is the
// client's mistake, a 400 that says so.
func readPreference(x *exchange) (preference, *failure) {
	var p preference
	set := func(k, v string) *failure {
		v = strings.Trim(strings.TrimSpace(v), `"`)
		switch strings.ToLower(strings.TrimSpace(k)) {
		case "code":
			n, err := strconv.Atoi(v)
			if err != nil || n < 100 || n > 599 {
				return fail(specs.InvalidParameter, "Prefer code=%s: want an HTTP status.", v)
			}
			p.code = n
		case "example":
			p.example = v
		case "dynamic":
			if v != "true" && v != "false" {
				return fail(specs.InvalidParameter, "Prefer dynamic=%s: want true or false.", v)
			}
			p.dynamic = v
		}
		// Other preferences (return=minimal, wait=…) are not the mock's to honour.
		return nil
	}
	for _, h := range x.r.Header.Values("Prefer") {
		for _, part := range strings.Split(h, ",") {
			if k, v, ok := strings.Cut(part, "="); ok {
				if f := set(k, v); f != nil {
					return p, f
				}
			}
		}
	}
	if x.r.URL.RawQuery != "" && strings.Contains(x.r.URL.RawQuery, "__") {
		q := x.queryValues()
		for _, name := range []string{"code", "example", "dynamic"} {
			if v := q.Get("__" + name); v != "" {
				if f := set(name, v); f != nil {
					return p, f
				}
			}
		}
	}
	return p, nil
}

// prefer answers as the request prefers, when it states a preference.
// handled is false when the operation's own answer should follow.
func (s *Server) prefer(x *exchange) (f *failure, handled bool) {
	defer func() { // for the journal
		switch {
		case !handled && x.reason == ReasonPreferred:
			x.reason, x.why = "", "" // the operation's own answer after all
		case f != nil && x.reason != ReasonPreferred:
			f.because(ReasonPreferInvalid, "") // a preference the operation cannot honour
		}
	}()
	p, f := readPreference(x)
	if f != nil {
		return f, true
	}
	if p.none() {
		return nil, false
	}
	success := x.info.success
	code := p.code
	if code == 0 {
		if success == nil {
			return fail(specs.InvalidParameter, "Prefer: %s documents no success to pick an example or generate from.", x.op.ID), true
		}
		code = success.Status
	}
	resp, documented := x.op.Responses[code]
	if !documented {
		return fail(specs.InvalidParameter, "Prefer code=%d: %s documents %s.", code, x.op.ID, documentedCodes(x.op)), true
	}
	mt := mediaType(x.op, code)
	var ex *base.Example
	if p.example != "" {
		if ex = namedExample(mt, p.example); ex == nil || ex.Value == nil {
			return fail(specs.InvalidParameter, "Prefer example=%s: response %d of %s has %s.", p.example, code, x.op.ID, exampleNames(mt)), true
		}
	}
	// Only what is honoured is said to be applied: an unknown code or example is a 400 above.
	x.w.Header().Set("Preference-Applied", p.applied())
	x.reason, x.why = ReasonPreferred, "answer picked with Prefer: "+p.applied()
	if ex != nil {
		s.setDocumentedHeaders(x)
		s.writeJSON(x, code, decodeNode(ex.Value))
		return nil, true
	}
	if code >= 400 {
		// The documented error, in the vendor's envelope.
		f := &failure{kind: kindFor(code), status: code, message: fmt.Sprintf("%s (answered as Prefer asked).", strings.TrimSuffix(resp.Description, "."))}
		if code == http.StatusTooManyRequests {
			x.w.Header().Set("Retry-After", "1")
		}
		return f, true
	}
	if code == success.Status && p.dynamic == "" {
		return nil, false // the operation's own answer, from its data
	}
	// Another documented success, or dynamic=true|false: from the response's schema.
	s.setDocumentedHeaders(x)
	if p.dynamic != "true" && mt != nil && mt.Example != nil {
		s.writeJSON(x, code, decodeNode(mt.Example))
		return nil, true
	}
	if ex := firstExample(mt); p.dynamic != "true" && ex != nil {
		s.writeJSON(x, code, decodeNode(ex.Value))
		return nil, true
	}
	if resp.Schema == nil {
		s.writeBody(x, code, nil)
		return nil, true
	}
	ds := s.dataset(x.profile.Name)
	ds.genMu.Lock()
	body := ds.gen.value(resp.Schema, "", p.dynamic != "true", 0)
	ds.genMu.Unlock()
	s.writeJSON(x, code, body)
	return nil, true
}

// kindFor is the error kind a status is written as: the envelope of the
// kind, with the status asked for.
func kindFor(status int) specs.ErrorKind {
	switch {
	case status == http.StatusUnauthorized:
		return specs.Unauthenticated
	case status == http.StatusForbidden:
		return specs.Forbidden
	case status == http.StatusNotFound:
		return specs.NotFound
	case status == http.StatusMethodNotAllowed:
		return specs.MethodNotAllowed
	case status == http.StatusTooManyRequests:
		return specs.RateLimited
	case status >= 500:
		return specs.Internal
	}
	return specs.InvalidParameter
}

func documentedCodes(op *specs.Operation) string {
	codes := make([]int, 0, len(op.Responses))
	for c := range op.Responses {
		codes = append(codes, c)
	}
	slices.Sort(codes)
	var s []string
	for _, c := range codes {
		s = append(s, strconv.Itoa(c))
	}
	return strings.Join(s, ", ")
}

func mediaType(op *specs.Operation, code int) *v3.MediaType {
	if op.Op == nil || op.Op.Responses == nil || op.Op.Responses.Codes == nil {
		return nil
	}
	r, ok := op.Op.Responses.Codes.Get(strconv.Itoa(code))
	if !ok || r == nil || r.Content == nil {
		return nil
	}
	for name, mt := range r.Content.FromOldest() {
		if name == "application/json" || strings.HasSuffix(name, "+json") {
			return mt
		}
	}
	return nil
}

func namedExample(mt *v3.MediaType, name string) *base.Example {
	if mt == nil || mt.Examples == nil {
		return nil
	}
	ex, _ := mt.Examples.Get(name)
	return ex
}

// firstExample is the media type's first named example with a value.
func firstExample(mt *v3.MediaType) *base.Example {
	if mt == nil || mt.Examples == nil {
		return nil
	}
	for _, ex := range mt.Examples.FromOldest() {
		if ex != nil && ex.Value != nil {
			return ex
		}
	}
	return nil
}

func exampleNames(mt *v3.MediaType) string {
	if mt == nil || mt.Examples == nil || mt.Examples.Len() == 0 {
		return "no named examples"
	}
	var names []string
	for n := range mt.Examples.KeysFromOldest() {
		names = append(names, n)
	}
	return "examples " + strings.Join(names, ", ")
}
