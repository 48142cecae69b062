// Package mock serves the documented behaviour of the loaded profiles over
// HTTP: every auth mode, key lifecycles, envelopes, pagination and data, all
// read from the behaviour model in package specs.
package mock

import (
	"fmt"
	"io/fs"
	"log/slog"
	"math"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/opsconform/opsconform/fixtures"
	"github.com/opsconform/opsconform/specs"
)

// ControlPrefix is where the mock's own control API lives, like WireMock's /__admin.
const ControlPrefix = "/__opsconform/"

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
	// ControlToken, when set, must come as "Authorization: Bearer <token>"
	// on every control API call but GET health: what a mock reachable from
	// the network needs, since the control API mints keys and shows their
	// secrets. Without it the control API is open, for loopback use, but
	// still refuses what only a browser tricked by another site would send
	// (see controlAccess).
	ControlToken string
	// TimeScale makes every rate-limit window this many times shorter (60
	// turns a minute into a second); headers report the scaled seconds. 1 when 0.
	TimeScale float64
	// IETFRateLimitHeaders adds the IETF draft's RateLimit-Policy and RateLimit fields.
	IETFRateLimitHeaders bool
	// Faults are injected from the start: transport faults and named
	// deviations (see Deviations), each scoped to a profile or operation.
	Faults []Fault
	// NoCORS turns off the answers to browsers' preflights and the
	// Access-Control-* headers, which are on by default as in Prism.
	NoCORS bool
	// DigestAlgorithms, when set, are the algorithms every digest scheme
	// challenges with (one WWW-Authenticate each, in this order) and
	// verifies, instead of the spec's (MongoDB's: MD5 alone, as Ops Manager
	// sends). Each must be in DigestAlgorithms; see ParseDigestAlgorithms.
	DigestAlgorithms []string
	// ReleaseMemory hands back to the OS, soon after (a tenth of a second,
	// once for builds close together), what one-off builds leave resident,
	// as a long-running mock should (see residency.Release):
	//   - after a profile's data is built on its first use (see
	//     deferrable): the build's garbage, which the runtime would
	//     otherwise keep (Ivanti's data allocates 8 MiB to keep 2.5: 5 MiB
	//     of RSS once all four embedded profiles are in use), and the pages
	//     of the binary it ran (schema walks, the generator: about 12 MiB);
	//   - after an operation's first request: the pages of the binary that
	//     working out its opInfo and validator ran (8 MiB for the first),
	//     which serving it does not run again.
	// A data release is a full collection, so tests, which build many
	// servers, leave it off.
	ReleaseMemory bool
	// JournalEntries is how many of the latest exchanges the request
	// journal keeps: JournalSize when 0, at most MaxJournalEntries.
	JournalEntries int
}

// Server is a mock of one or more profiles.
type Server struct {
	opts     Options
	profiles []*specs.Profile
	byName   map[string]*specs.Profile
	router   *router
	keys     *Store
	nonces   map[string]*nonceStore
	fixtures map[string]*fixtures.Set
	log      *slog.Logger
	redact   *redactor // what every log line, journal entry and error message passes through
	journal  *journal  // the latest exchanges, explained
	pickups  pickups   // secrets regenerated for the console, waiting to be fetched once
	limiter  *limiter
	control  http.Handler

	ops    map[*specs.Operation]*lazyOpInfo // what each operation's answers need, worked out on its first request
	faults *faultSet                        // transport faults and deviations, from flags and the control API
	// alternatives marks the profiles whose security goes beyond one mode
	// (mock/security.go), worked out once.
	alternatives map[*specs.Profile]bool

	creates atomic.Uint64 // items created by requests, for seeding each one's generated fields

	keyViews    keyViews    // encoded key views, for key lists
	digestHA1   ha1Cache    // H(A1) per digest key, realm and algorithm
	clockValues clockValues // Date and X-RateLimit-Reset of the current second

	dataMu sync.RWMutex // guards data's map, not the datasets (they lock themselves)
	data   map[string]*profileData
	// deferData marks the profiles whose data is built on first use (see
	// deferrable); written once, in New.
	deferData map[string]bool
	release   releaser // see Options.ReleaseMemory
	// accessUsage is what each access-list entry admitted (MongoDB's count
	// and lastUsed).
	accessUsage accessUsage
}

// New builds a Server: it routes every operation, loads fixtures and seeds
// data, an embedded profile's when its first request comes (see deferrable).
func New(opts Options) (*Server, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Fixtures == nil {
		opts.Fixtures = fixtures.Embedded()
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler) // disabled: no line is even formatted
	}
	if ts := opts.TimeScale; ts < 0 || math.IsNaN(ts) || math.IsInf(ts, 0) {
		return nil, fmt.Errorf("mock: time scale %g: want a positive factor (or 0 for none)", ts)
	}
	if n := opts.JournalEntries; n < 0 || n > MaxJournalEntries {
		return nil, fmt.Errorf("mock: journal of %d entries: want 1 to %d (or 0 for %d)", n, MaxJournalEntries, JournalSize)
	}
	if opts.JournalEntries == 0 {
		opts.JournalEntries = JournalSize
	}
	algs, err := ParseDigestAlgorithms(opts.DigestAlgorithms)
	if err != nil {
		return nil, fmt.Errorf("mock: %v", err)
	}
	opts.DigestAlgorithms = algs
	// The fixture files are decoded at once, one goroutine each, while the
	// routes are built: OpManager's alone is 51 KB of YAML, and decoding
	// the four in turn was a tenth of start-up.
	sets := make([]*fixtures.Set, len(opts.Profiles))
	setErrs := make([]error, len(opts.Profiles))
	var loading sync.WaitGroup
	defer loading.Wait()
	for i, p := range opts.Profiles {
		loading.Go(func() { sets[i], setErrs[i] = fixtures.Load(opts.Fixtures, p.Name) })
	}
	rt, err := newRouter(opts.Profiles)
	if err != nil {
		return nil, err
	}
	s := &Server{
		opts: opts, profiles: opts.Profiles, byName: map[string]*specs.Profile{}, router: rt,
		keys: NewStore(opts.Now), nonces: map[string]*nonceStore{}, fixtures: map[string]*fixtures.Set{},
		log: opts.Logger, limiter: newLimiter(opts.Now, opts.TimeScale),
		ops: map[*specs.Operation]*lazyOpInfo{}, alternatives: map[*specs.Profile]bool{},
		deferData: map[string]bool{},
	}
	faults, err := newFaultSet(opts.Profiles, opts.Seed, opts.Faults)
	if err != nil {
		return nil, err
	}
	s.faults = faults
	s.redact = newRedactor(opts.Profiles, s.keys.Holds)
	s.redact.filter = &s.keys.filter
	s.journal = newJournal(s.redact, s.keys, opts.JournalEntries)
	loading.Wait()
	for i, p := range opts.Profiles {
		s.byName[p.Name] = p
		s.alternatives[p] = needsAlternatives(p)
		for _, op := range p.Operations {
			info := &lazyOpInfo{profile: p, op: op}
			if opts.ReleaseMemory {
				info.release = s.release.pagesSoon
			}
			s.ops[op] = info
		}
		set, err := sets[i], setErrs[i]
		if err != nil {
			return nil, err
		}
		if len(set.Keys) == 0 && len(p.Auth.Schemes) > 0 {
			set = demoFixtures(p, opts.Seed, set) // a spec without fixtures: mint demo credentials
		}
		s.fixtures[p.Name] = set
		s.deferData[p.Name] = deferrable(p, opts.Fixtures)
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

// Reset restores every profile's keys and data to their fixtures. The
// profiles' data sets are independent (each seeded from the profile's
// name), so those built here are built at once, one goroutine each:
// start-up waits for the largest, not for the sum. A profile whose data
// may wait (see deferrable) gets it on first use instead, the same bytes.
func (s *Server) Reset() error {
	for _, p := range s.profiles {
		if err := s.keys.Reset(p, s.fixtures[p.Name]); err != nil {
			return err
		}
	}
	s.accessUsage.reset()
	data := make(map[string]*profileData, len(s.profiles))
	errs := make([]error, len(s.profiles))
	var wg sync.WaitGroup
	for i, p := range s.profiles {
		d := &profileData{build: func() (*dataset, error) { return buildDataset(p, s.fixtures[p.Name], s.opts.Seed) }}
		if s.deferData[p.Name] && s.opts.ReleaseMemory {
			d.release = s.release.soon
		}
		data[p.Name] = d
		if !s.deferData[p.Name] {
			wg.Go(func() { _, errs[i] = d.get() })
		}
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err // the first profile's error, as when they were built in turn
		}
	}
	s.dataMu.Lock()
	s.data = data
	s.dataMu.Unlock()
	s.limiter.resetAll()
	return nil
}

// deferrable reports whether a profile's data may be built on its first
// use rather than in New: an embedded profile with its embedded fixtures,
// whose data is known to build for any seed (TestDeferredDataBuilds), so
// that nothing a start would refuse turns up later. It is most of what
// start-up spends and keeps (OpManager's and Ivanti's thousands of items),
// and a client of one profile never needs the others'. Any other profile's
// data is built in New, where fixtures that do not fit the spec stop the start.
func deferrable(p *specs.Profile, fix fs.FS) bool {
	return p.Embedded && fixtures.Origin(fix, p.Name) == "embedded"
}

func (s *Server) now() time.Time { return s.opts.Now() }

// dataset is the profile's data, built now if its building was deferred
// (every request that comes meanwhile waits for that one build, with no
// lock of the server's held). nil for a profile the server does not serve.
func (s *Server) dataset(profile string) *dataset {
	s.dataMu.RLock()
	d := s.data[profile]
	s.dataMu.RUnlock()
	if d == nil {
		return nil
	}
	ds, err := d.get()
	if err != nil {
		// Only data known to build is deferred (deferrable): a bug, which
		// ServeHTTP answers as the mock's internal error.
		panic(fmt.Sprintf("mock: %s: the data deferred to first use does not build: %v", profile, err))
	}
	return ds
}

// ServeHTTP runs the pipeline. Every stage returns a *failure when the
// request must stop; the failure is written once, here, in the vendor's
// envelope. A transport fault may abort the connection instead.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := s.now()
	if !s.opts.NoCORS && s.cors(w, r) {
		return
	}
	if strings.HasPrefix(r.URL.Path, ControlPrefix) && s.control != nil {
		s.control.ServeHTTP(w, r)
		return
	}
	x := &exchange{w: w, r: r}
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				x.status = -1 // an injected fault closed the connection on purpose
				s.record(x, start)
				panic(v)
			}
			// A bug in the mock must not look like the vendor's behaviour: say so.
			s.log.Error("mock: panic", "error", scrub(fmt.Sprint(v), s.redact.secrets(r)), "method", r.Method, "uri", s.redact.uri(r.URL))
			if x.status == 0 {
				s.writeFailure(x, fail(specs.Internal, "opsconform mock: internal error: %v", v))
			}
		}
		s.record(x, start)
	}()
	if f := s.serve(x); f != nil {
		s.writeFailure(x, f)
	}
	drainUnread(x)
}

// serve is the pipeline, top to bottom: check the request's size, route,
// inject faults, authenticate, authorize, limit, read and validate the
// request, answer (as the request prefers, if it says).
func (s *Server) serve(x *exchange) *failure {
	if f := s.checkLimits(x); f != nil {
		return f
	}
	if f := s.route(x); f != nil || x.op == nil {
		return f // a failure, or an answer a deviation already wrote
	}
	if f := s.injectFaults(x); f != nil {
		return f
	}
	if !x.op.Public && !s.skipAuthentication(x) {
		auth, alt, f := s.authenticate(x.profile, x.op, x.r)
		if f == nil && x.faults.has(devValidKeyRefused) {
			f = (&failure{kind: specs.Unauthenticated, challenges: s.challengesFor(x.profile), key: auth.Key.ID}).
				because(ReasonKeyUnknown, "a valid key (%s) refused: deviation valid-key-refused", auth.Key.ID)
		}
		if f != nil {
			return s.deviateAuth(x, f)
		}
		x.auth = auth
		if f := s.authorizeExchange(x, alt); f != nil {
			return f
		}
	}
	if f := s.rateLimit(x); f != nil {
		return f
	}
	if methodsWithBody[x.r.Method] {
		if f := x.readBody(); f != nil {
			return f
		}
	}
	if f := s.validateRequest(x); f != nil {
		return f
	}
	if f, handled := s.prefer(x); handled {
		return f
	}
	return s.answer(x)
}

// route finds the operation: 404 or 405 (with the methods allowed) when none matches.
func (s *Server) route(x *exchange) *failure {
	r := x.r
	rt, params, allowed := s.router.match(r.Method, r.URL.EscapedPath())
	if rt == nil {
		x.profile = s.router.owner(s.profiles, r.URL.Path)
		x.faults = s.faults.active(x.profile, nil)
		if x.faults.has(devUnknownPathHTML) && len(allowed) == 0 {
			x.w.Header().Set("Content-Type", "text/html; charset=utf-8")
			s.writeBody(x, http.StatusOK, []byte("<!doctype html><html><body><div id=\"app\"></div></body></html>\n"))
			return nil
		}
		if len(allowed) > 0 {
			f := fail(specs.MethodNotAllowed, "%s is not allowed here; allowed: %s.", r.Method, strings.Join(allowed, ", ")).
				because(ReasonMethodNotAllowed, "%s not served at %s; allowed: %s", r.Method, r.URL.Path, strings.Join(allowed, ", "))
			f.allow = allowed
			return f
		}
		return fail(specs.NotFound, "No operation is served at %s.", r.URL.Path).because(ReasonNoRoute, "no route: no operation at %s", r.URL.Path)
	}
	x.profile, x.op, x.params, x.info = rt.profile, rt.op, params, s.ops[rt.op].get()
	x.faults = s.faults.active(x.profile, x.op)
	if x.faults.has(devPathCaseSensitive) && !rt.exact(r.URL.EscapedPath()) {
		return fail(specs.NotFound, "No operation is served at %s.", r.URL.Path)
	}
	return nil
}

// authorizeExchange applies the operation's scopes, unless a deviation makes
// the mock forget them the way a careless implementation does.
func (s *Server) authorizeExchange(x *exchange, alt specs.Alternative) *failure {
	if s.skipAuthorization(x) {
		return nil
	}
	f := authorize(x.profile, x.op, x.auth, alt, x.params)
	if f != nil && x.faults.has(devForbiddenAs401) {
		f.kind, f.status = specs.Unauthenticated, 0
	}
	return f
}
