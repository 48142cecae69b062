// Package mock serves the documented behaviour of the loaded profiles over
// HTTP: every auth mode, key lifecycles, envelopes, pagination and data, all
// read from the behaviour model in package specs.
package mock

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/opsconform/opsconform/fixtures"
	"github.com/opsconform/opsconform/specs"
)

// ControlPrefix is where the mock's own control API lives, like WireMock's /__admin.
const ControlPrefix = "/__opsconform/"

// maxBody bounds request bodies: a mock must not be made to buffer gigabytes.
const maxBody = 1 << 20

// Options configure a Server.
type Options struct {
	// Profiles to serve; their base paths share one listener.
	Profiles []*specs.Profile
	// Fixtures is where <profile>.yaml fixtures are read; the embedded ones when nil.
	Fixtures fs.FS
	// Seed makes generated data reproducible: the same seed, the same bytes.
	Seed int64
	// Now is the clock for key expiry, nonces and logs; time.Now when nil.
	Now func() time.Time
	// Logger receives one line per request, secrets redacted; discarded when nil.
	Logger *slog.Logger
	// NoControl turns the control API off.
	NoControl bool
	// TimeScale makes every rate-limit window this many times shorter (60
	// turns a minute into a second); headers report the scaled seconds. 1 when 0.
	TimeScale float64
	// IETFRateLimitHeaders adds the IETF draft's RateLimit-Policy and RateLimit fields.
	IETFRateLimitHeaders bool
}

// Server is a mock of one or more profiles.
type Server struct {
	opts       Options
	profiles   []*specs.Profile
	byName     map[string]*specs.Profile
	router     *router
	keys       *Store
	nonces     map[string]*nonceStore
	fixtures   map[string]*fixtures.Set
	log        *slog.Logger
	requests   *requestLog
	validators validators
	limiter    *limiter
	control    http.Handler

	ops map[*specs.Operation]*opInfo // what each operation's answers need, worked out once

	dataMu sync.RWMutex // guards data's map, not the datasets (they lock themselves)
	data   map[string]*dataset
}

// New builds a Server: it routes every operation, loads fixtures and seeds data.
func New(opts Options) (*Server, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Fixtures == nil {
		opts.Fixtures = fixtures.Embedded()
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	rt, err := newRouter(opts.Profiles)
	if err != nil {
		return nil, err
	}
	s := &Server{
		opts: opts, profiles: opts.Profiles, byName: map[string]*specs.Profile{}, router: rt,
		keys: NewStore(opts.Now), nonces: map[string]*nonceStore{}, fixtures: map[string]*fixtures.Set{},
		log: opts.Logger, requests: newRequestLog(200), limiter: newLimiter(opts.Now, opts.TimeScale),
		ops: map[*specs.Operation]*opInfo{},
	}
	for _, p := range opts.Profiles {
		s.byName[p.Name] = p
		for _, op := range p.Operations {
			s.ops[op] = newOpInfo(p, op)
		}
		set, err := fixtures.Load(opts.Fixtures, p.Name)
		if err != nil {
			return nil, err
		}
		s.fixtures[p.Name] = set
		if p.Auth.Digest != nil {
			s.nonces[p.Name] = newNonceStore(opts.Now, p.Auth.Digest.NonceLifetime)
		}
	}
	if err := s.Reset(); err != nil {
		return nil, err
	}
	if !opts.NoControl {
		s.control = s.controlHandler()
	}
	return s, nil
}

// Reset restores every profile's keys and data to their fixtures.
func (s *Server) Reset() error {
	data := map[string]*dataset{}
	for _, p := range s.profiles {
		if err := s.keys.Reset(p, s.fixtures[p.Name]); err != nil {
			return err
		}
		ds, err := buildDataset(p, s.fixtures[p.Name], s.opts.Seed)
		if err != nil {
			return err
		}
		data[p.Name] = ds
	}
	s.dataMu.Lock()
	s.data = data
	s.dataMu.Unlock()
	s.limiter.resetAll()
	return nil
}

func (s *Server) now() time.Time { return s.opts.Now() }

func (s *Server) dataset(profile string) *dataset {
	s.dataMu.RLock()
	defer s.dataMu.RUnlock()
	return s.data[profile]
}

// exchange is one request in flight: what the pipeline learned so far.
type exchange struct {
	w       http.ResponseWriter
	r       *http.Request
	profile *specs.Profile
	op      *specs.Operation
	params  map[string]string
	auth    *Authenticated
	status  int
}

// ServeHTTP runs the pipeline: route, authenticate, authorize, answer.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := s.now()
	if strings.HasPrefix(r.URL.Path, ControlPrefix) && s.control != nil {
		s.control.ServeHTTP(w, r)
		return
	}
	x := &exchange{w: w, r: r}
	defer func() {
		if v := recover(); v != nil {
			// A bug in the mock must not look like the vendor's behaviour: say so.
			s.log.Error("mock: panic", "error", fmt.Sprint(v), "method", r.Method, "path", r.URL.Path)
			if x.status == 0 {
				s.writeError(x, specs.Internal, "opsconform mock: internal error: "+fmt.Sprint(v))
			}
		}
		s.record(x, start)
	}()
	s.serve(x)
}

func (s *Server) serve(x *exchange) {
	r := x.r
	rt, params, allowed := s.router.match(r.Method, r.URL.EscapedPath())
	if rt == nil {
		x.profile = s.router.owner(s.profiles, r.URL.Path)
		if len(allowed) > 0 {
			x.w.Header().Set("Allow", strings.Join(allowed, ", "))
			s.writeError(x, specs.MethodNotAllowed, fmt.Sprintf("%s is not allowed here; allowed: %s.", r.Method, strings.Join(allowed, ", ")))
			return
		}
		s.writeError(x, specs.NotFound, fmt.Sprintf("No operation is served at %s.", r.URL.Path))
		return
	}
	x.profile, x.op, x.params = rt.profile, rt.op, params
	if !x.op.Public {
		auth, alt, fail := s.authenticate(x.profile, x.op, r)
		if fail != nil {
			s.writeAuthFailure(x, fail)
			return
		}
		x.auth = auth
		if fail := authorize(x.profile, x.op, auth, alt, params); fail != nil {
			s.writeAuthFailure(x, fail)
			return
		}
	}
	if !s.rateLimit(x) {
		return
	}
	var body []byte
	if methodsWithBody[r.Method] {
		// Buffered once, bounded: the validator and the operation both read it.
		var err error
		if body, err = io.ReadAll(http.MaxBytesReader(x.w, r.Body, maxBody)); err != nil {
			s.writeError(x, specs.InvalidBody, fmt.Sprintf("The request body could not be read: %v.", err))
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
	}
	if !s.validateRequest(x) {
		return
	}
	if body != nil {
		r.Body = io.NopCloser(bytes.NewReader(body))
	}
	s.answer(x)
}

func (s *Server) writeAuthFailure(x *exchange, f *authFailure) {
	for _, c := range f.challenges {
		x.w.Header().Add("WWW-Authenticate", c)
	}
	s.writeErrorStatus(x, f.kind, f.status, f.message)
}

// writeError answers with the profile's error envelope for kind.
func (s *Server) writeError(x *exchange, kind specs.ErrorKind, message string, params ...string) {
	s.writeErrorStatus(x, kind, 0, message, params...)
}

func (s *Server) writeErrorStatus(x *exchange, kind specs.ErrorKind, status int, message string, params ...string) {
	if x.profile == nil {
		body, _ := json.Marshal(map[string]string{"error": message})
		x.w.Header().Set("Content-Type", "application/json")
		s.writeBody(x, statusOr(status, http.StatusNotFound), body)
		return
	}
	st, body := x.profile.Errors.Render(kind, message, params...)
	if status != 0 {
		st = status
	}
	x.w.Header().Set("Content-Type", x.profile.Errors.ContentType)
	if x.auth != nil && s.envelopeRequested(x) {
		// MongoDB's envelope=true: errors too come back as {status, content} with HTTP 200.
		var content any
		_ = json.Unmarshal(body, &content)
		s.writeJSON(x, http.StatusOK, map[string]any{"status": st, "content": content})
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

// writeJSON marshals v (indented when the profile's pretty flag asks) and writes it.
func (s *Server) writeJSON(x *exchange, status int, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // links carry "&", which vendors send as is
	if x.profile != nil && x.profile.Envelope.PrettyParam != "" && queryBool(x.r, x.profile.Envelope.PrettyParam) {
		enc.SetIndent("", "  ")
	}
	err := enc.Encode(v)
	body := bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
	if err != nil {
		s.writeError(x, specs.Internal, "opsconform mock: cannot encode the response: "+err.Error())
		return
	}
	if x.w.Header().Get("Content-Type") == "" {
		x.w.Header().Set("Content-Type", "application/json")
	}
	s.writeBody(x, status, body)
}

func (s *Server) writeBody(x *exchange, status int, body []byte) {
	x.status = status
	x.w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	x.w.WriteHeader(status)
	if x.r.Method != http.MethodHead && status != http.StatusNoContent {
		_, _ = x.w.Write(body)
	}
}

// queryBool reads a boolean query flag; only "true" (any case) turns it on.
func queryBool(r *http.Request, name string) bool {
	return strings.EqualFold(r.URL.Query().Get(name), "true")
}

func (s *Server) envelopeRequested(x *exchange) bool {
	p := x.profile
	return p.Envelope.EnvelopeParam != "" && queryBool(x.r, p.Envelope.EnvelopeParam)
}

// readJSONBody decodes a JSON object body, bounded in size. A missing,
// oversized or malformed body is the client's mistake: 400, never 500.
func (s *Server) readJSONBody(x *exchange) (map[string]any, bool) {
	data, err := io.ReadAll(http.MaxBytesReader(x.w, x.r.Body, maxBody))
	if err != nil {
		s.writeError(x, specs.InvalidBody, fmt.Sprintf("The request body could not be read: %v.", err))
		return nil, false
	}
	if len(bytes.TrimSpace(data)) == 0 {
		if x.op.Body != nil && x.op.Body.Required {
			s.writeError(x, specs.InvalidBody, "A JSON request body is required.")
			return nil, false
		}
		return map[string]any{}, true
	}
	var body map[string]any
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(&body); err != nil {
		s.writeError(x, specs.InvalidBody, fmt.Sprintf("The request body is not a JSON object: %v.", err))
		return nil, false
	}
	if dec.More() {
		s.writeError(x, specs.InvalidBody, "The request body has data after the JSON object.")
		return nil, false
	}
	return normalizeNumbers(body).(map[string]any), true
}

// normalizeNumbers turns json.Number into int64 or float64 as the value allows.
func normalizeNumbers(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			x[k] = normalizeNumbers(e)
		}
	case []any:
		for i, e := range x {
			x[i] = normalizeNumbers(e)
		}
	case json.Number:
		if i, err := x.Int64(); err == nil {
			return i
		}
		f, _ := x.Float64()
		return f
	}
	return v
}
