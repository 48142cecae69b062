package mock

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/opsconform/opsconform/specs"
)

// maxBody bounds request bodies: a mock must not be made to buffer gigabytes.
const maxBody = 1 << 20

// exchange is one request in flight: what the pipeline has learned so far.
// Stages fill it in and return a *failure when the request must stop; only
// the write helpers below put bytes on the wire.
type exchange struct {
	w        http.ResponseWriter
	r        *http.Request
	profile  *specs.Profile
	op       *specs.Operation
	info     *opInfo
	params   map[string]string
	auth     *Authenticated
	body     []byte     // the request body, read once and bounded
	query    url.Values // parsed once
	queryErr error      // why the query string is malformed; the pairs before the mistake are in query
	faults   *activeFaults

	listExtra map[string]any // fields a list's answer carries besides its items (counts over them)

	status int // what was written, for the request log
	// What the journal records beyond the request itself: why the request
	// was refused (or answered otherwise than documented), the id of the key
	// it presented when no stage admitted it, and the start of the body
	// that was sent back (a pooled buffer, returned when the entry is made).
	reason   Reason
	why      string
	keyID    string
	respBody *[]byte
	respSize int
	// unread is the start of a body no stage read, kept as drainUnread
	// reads it past the answer, and unreadSize how much of it was read.
	unread     []byte
	unreadSize int
}

// failure is why a request does not reach its operation's answer, or why
// the operation could not answer. It is written in one place, writeFailure,
// in the vendor's error envelope.
type failure struct {
	kind       specs.ErrorKind
	status     int // overrides the kind's status (OpManager's API-disabled 403)
	message    string
	params     []string // offending parameter names, for envelopes that list them
	challenges []string // WWW-Authenticate values
	allow      []string // for 405
	// For the journal only, never the client: why, as a code and in words
	// (see because), and the id of the key presented, when one was found.
	reason Reason
	why    string
	key    string
}

// authFailure is the failure authentication and authorization return.
type authFailure = failure

func fail(kind specs.ErrorKind, format string, args ...any) *failure {
	return &failure{kind: kind, message: fmt.Sprintf(format, args...)}
}

// queryValues parses the query string once per exchange.
func (x *exchange) queryValues() url.Values {
	if x.query == nil {
		x.query, x.queryErr = url.ParseQuery(x.r.URL.RawQuery)
	}
	return x.query
}

// queryBool reads a boolean query flag; only "true" (any case) turns it on.
func (x *exchange) queryBool(name string) bool {
	return strings.EqualFold(x.queryValues().Get(name), "true")
}

func (x *exchange) envelopeRequested() bool {
	p := x.profile
	return p != nil && p.Envelope.EnvelopeParam != "" && x.queryBool(p.Envelope.EnvelopeParam)
}

// readBody buffers the request body once, bounded. An oversized body is the
// client's mistake: 413 in the vendor's envelope, never a 500.
func (x *exchange) readBody() *failure {
	if x.r.Body == nil || x.r.Body == http.NoBody {
		return nil
	}
	tooLarge := &failure{kind: specs.InvalidBody, status: http.StatusRequestEntityTooLarge,
		message: fmt.Sprintf("The request body is larger than %d bytes.", maxBody)}
	if x.r.ContentLength > maxBody {
		return tooLarge // declared too large: no need to read a byte of it
	}
	data, err := io.ReadAll(http.MaxBytesReader(x.w, x.r.Body, maxBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return tooLarge
		}
		return fail(specs.InvalidBody, "The request body could not be read: %v.", err)
	}
	x.body = data
	x.r.Body = io.NopCloser(bytes.NewReader(data))
	return nil
}

// jsonBody decodes the buffered body as one JSON object. A missing or
// malformed body is the client's mistake: 400, never 500.
func (x *exchange) jsonBody() (map[string]any, *failure) {
	if len(bytes.TrimSpace(x.body)) == 0 {
		if x.op.Body != nil && x.op.Body.Required {
			return nil, fail(specs.InvalidBody, "A JSON request body is required.")
		}
		return map[string]any{}, nil
	}
	var body map[string]any
	dec := json.NewDecoder(bytes.NewReader(x.body))
	dec.UseNumber()
	if err := dec.Decode(&body); err != nil {
		return nil, fail(specs.InvalidBody, "The request body is not a JSON object: %v.", err)
	}
	if len(bytes.TrimSpace(x.body[dec.InputOffset():])) > 0 {
		return nil, fail(specs.InvalidBody, "The request body has data after the JSON object.")
	}
	if body == nil {
		return nil, fail(specs.InvalidBody, "The request body must be a JSON object, not null.")
	}
	v, err := normalizeNumbers(body)
	if err != nil {
		return nil, fail(specs.InvalidBody, "The request body has a number out of range: %v.", err)
	}
	return v.(map[string]any), nil
}

// normalizeNumbers turns json.Number into int64 or float64 as the value
// allows; a number past float64's range is an error, not an infinity.
func normalizeNumbers(v any) (any, error) {
	var err error
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if x[k], err = normalizeNumbers(e); err != nil {
				return nil, err
			}
		}
	case []any:
		for i, e := range x {
			if x[i], err = normalizeNumbers(e); err != nil {
				return nil, err
			}
		}
	case json.Number:
		if i, err := x.Int64(); err == nil {
			return i, nil
		}
		f, err := x.Float64()
		if err != nil {
			return nil, fmt.Errorf("%s", x)
		}
		return f, nil
	}
	return v, nil
}

// writeFailure answers with the profile's error envelope for f and notes
// why for the journal. Neither its message nor its reason carries a
// credential the request sent, whatever stage wrote them.
func (s *Server) writeFailure(x *exchange, f *failure) {
	if f.message != "" || f.why != "" {
		secrets, inBody := s.redact.secrets(x.r), s.redact.bodySecrets(x.body)
		f.message, f.why = scrub(f.message, secrets, inBody), scrub(f.why, secrets, inBody)
	}
	if x.reason == "" {
		x.reason, x.why = f.explain()
	}
	if x.keyID == "" {
		x.keyID = f.key
	}
	h := x.w.Header()
	for _, c := range f.challenges {
		h.Add("WWW-Authenticate", c)
	}
	if len(f.allow) > 0 {
		h.Set("Allow", strings.Join(f.allow, ", "))
	}
	if x.profile == nil {
		body, _ := json.Marshal(map[string]string{"error": f.message})
		h.Set("Content-Type", "application/json")
		s.writeBody(x, statusOr(f.status, http.StatusNotFound), body)
		return
	}
	st, body := x.profile.Errors.Render(f.kind, f.message, f.params...)
	if f.status != 0 && f.status != st {
		// The body's status agrees with the status line (MongoDB's "error": 413).
		st, body = f.status, x.profile.Errors.RenderStatus(f.kind, f.status, f.message, f.params...)
	}
	st, body = s.deviateError(x, f, st, body)
	if h.Get("Content-Type") == "" {
		h.Set("Content-Type", x.profile.Errors.ContentType)
	}
	if x.auth != nil && x.envelopeRequested() && !x.faults.has(devEnvelopeErrorsKeepStatus) {
		// MongoDB's envelope=true: errors too come back as {status, content} with HTTP 200.
		s.writeJSON(x, http.StatusOK, map[string]any{"status": st, "content": json.RawMessage(body)})
		return
	}
	s.writeBody(x, st, body)
}

func statusOr(status, def int) int {
	if status != 0 {
		return status
	}
	return def
}

// writeJSON encodes v into a pooled buffer (indented when the profile's
// pretty flag asks) and writes it.
func (s *Server) writeJSON(x *exchange, status int, v any) {
	buf := getBuf()
	defer putBuf(buf)
	b, err := appendJSON(*buf, v)
	if err != nil {
		s.writeFailure(x, fail(specs.Internal, "opsconform mock: cannot encode the response: %v", err))
		return
	}
	if x.profile != nil && x.profile.Envelope.PrettyParam != "" && x.queryBool(x.profile.Envelope.PrettyParam) {
		var indented bytes.Buffer
		_ = json.Indent(&indented, b, "", "  ")
		b = indented.Bytes()
	} else {
		*buf = b // keep the grown buffer for the pool
	}
	if x.w.Header().Get("Content-Type") == "" {
		x.w.Header()["Content-Type"] = jsonContentType
	}
	s.writeBody(x, status, b)
}

// writeBody is where every answer leaves: transport faults that corrupt the
// body (malformed, truncate) act here.
func (s *Server) writeBody(x *exchange, status int, body []byte) {
	x.status = status
	if x.faults != nil {
		var done bool
		if status, body, done = s.faultBody(x, status, body); done {
			return
		}
	}
	s.journal.capture(x, body)
	h := x.w.Header()
	h.Set("Content-Length", strconv.Itoa(len(body)))
	// The mock's clock, not net/http's: Date must agree with the rate-limit
	// headers and expiries it is compared with, also under an injected clock.
	h["Date"] = s.clockValues.dateValue(s.now())
	x.w.WriteHeader(status)
	if x.r.Method != http.MethodHead && status != http.StatusNoContent {
		_, _ = x.w.Write(body)
	}
}
