package mock

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/opsconform/opsconform/specs"
)

// FaultKind is what an injected fault does to the exchanges it matches.
type FaultKind string

// The fault kinds. The first six are WireMock's transport faults; a
// deviation makes the mock break one documented rule (see Deviations).
const (
	FaultLatency   FaultKind = "latency"   // wait before answering: fixed, or uniform in [latency, latencyMax]
	FaultReset     FaultKind = "reset"     // reset the connection (TCP RST) without answering
	FaultEmpty     FaultKind = "empty"     // close the connection without answering
	FaultMalformed FaultKind = "malformed" // answer 200 with a body that is not JSON
	FaultTruncate  FaultKind = "truncate"  // promise the whole body, send half, close
	FaultStatus    FaultKind = "status"    // answer with Status in the vendor's error envelope
	FaultDeviation FaultKind = "deviation" // break the named documented rule
)

var faultKinds = []FaultKind{FaultLatency, FaultReset, FaultEmpty, FaultMalformed, FaultTruncate, FaultStatus, FaultDeviation}

// Fault is one injected fault: what it does, which exchanges it applies to
// (a missing profile or operation means every one), how often and how many
// times. It is the JSON of POST /__opsconform/faults and of --fault.
type Fault struct {
	ID        string    `json:"id,omitempty"`
	Kind      FaultKind `json:"kind"`
	Profile   string    `json:"profile,omitempty"`
	Operation string    `json:"operation,omitempty"`
	// Probability that a matching exchange is affected, in [0, 1]; 1 when
	// absent. Draws come from --seed, so a run is reproducible request for request.
	Probability *float64 `json:"probability,omitempty"`
	// Count is how many exchanges it affects before it stops; 0 means no limit.
	Count      int      `json:"count,omitempty"`
	Status     int      `json:"status,omitempty"`     // for status
	Latency    Duration `json:"latency,omitempty"`    // for latency
	LatencyMax Duration `json:"latencyMax,omitempty"` // for latency: random up to this
	Deviation  string   `json:"deviation,omitempty"`  // for deviation: its name
	Fired      int      `json:"fired"`                // how many exchanges it has affected (read-only)
}

// Duration is a time.Duration that reads and writes JSON as "400ms".
type Duration time.Duration

// MarshalJSON writes the duration as Go writes it ("1.5s").
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

// UnmarshalJSON reads "400ms" or a number of milliseconds.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		v, err := time.ParseDuration(s)
		if err != nil {
			return fmt.Errorf("duration %q: want a Go duration such as 400ms", s)
		}
		*d = Duration(v)
		return nil
	}
	var ms float64
	if err := json.Unmarshal(b, &ms); err != nil {
		return fmt.Errorf("duration %s: want a string such as \"400ms\" or milliseconds", b)
	}
	*d = Duration(time.Duration(ms * float64(time.Millisecond)))
	return nil
}

// maxLatency bounds an injected delay: a fault must not hold a connection for hours.
const maxLatency = 5 * time.Minute

// ParseFault reads a fault as the --fault flag writes it: JSON, or
// comma-separated key=value pairs such as
// "kind=status,status=503,operation=listAgents,probability=0.5,count=3".
func ParseFault(s string) (Fault, error) {
	s = strings.TrimSpace(s)
	var f Fault
	if strings.HasPrefix(s, "{") {
		dec := json.NewDecoder(strings.NewReader(s))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&f); err != nil {
			return f, fmt.Errorf("fault %s: %v", s, err)
		}
		if len(strings.TrimSpace(s[dec.InputOffset():])) > 0 {
			return f, fmt.Errorf("fault %s: data after the JSON object (one fault per --fault)", s)
		}
		return f, nil
	}
	for _, part := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok || v == "" {
			return f, fmt.Errorf("fault %q: %q is not key=value", s, part)
		}
		var err error
		switch k {
		case "kind":
			f.Kind = FaultKind(v)
		case "profile":
			f.Profile = v
		case "operation":
			f.Operation = v
		case "deviation":
			f.Deviation = v
		case "probability":
			var p float64
			p, err = strconv.ParseFloat(v, 64)
			f.Probability = &p
		case "count":
			f.Count, err = strconv.Atoi(v)
		case "status":
			f.Status, err = strconv.Atoi(v)
		case "latency", "latencyMax":
			var d time.Duration
			d, err = time.ParseDuration(v)
			if k == "latency" {
				f.Latency = Duration(d)
			} else {
				f.LatencyMax = Duration(d)
			}
		default:
			return f, fmt.Errorf("fault %q: unknown field %q (want kind, profile, operation, probability, count, status, latency, latencyMax, deviation)", s, k)
		}
		if err != nil {
			return f, fmt.Errorf("fault %q: %s=%s: %v", s, k, v, err)
		}
	}
	return f, nil
}

// faultSet is every active fault. Reads on the request path take an atomic
// snapshot: a mock without faults pays one pointer load per request.
type faultSet struct {
	profiles []*specs.Profile

	mu     sync.Mutex // guards rng, nextID and every *liveFault's counters
	rng    *rand.Rand
	nextID int
	live   atomic.Pointer[[]*liveFault]
}

type liveFault struct {
	Fault
	prob float64
	dev  deviation
}

func newFaultSet(profiles []*specs.Profile, seed int64, initial []Fault) (*faultSet, error) {
	fs := &faultSet{profiles: profiles, rng: rand.New(rand.NewPCG(uint64(seed), 0x6f7073636f6e66))}
	empty := []*liveFault{}
	fs.live.Store(&empty)
	for _, f := range initial {
		if _, err := fs.add(f); err != nil {
			return nil, err
		}
	}
	return fs, nil
}

// errFault marks a fault the caller described wrongly: 400 on the control API, exit 2 on flags.
var errFault = errors.New("invalid fault")

// add checks and activates a fault, returning it with its id.
func (fs *faultSet) add(f Fault) (Fault, error) {
	bad := func(format string, args ...any) (Fault, error) {
		return Fault{}, fmt.Errorf("%w: %s", errFault, fmt.Sprintf(format, args...))
	}
	if !slices.Contains(faultKinds, f.Kind) {
		return bad("kind %q: want one of %s", f.Kind, joinKinds())
	}
	lf := &liveFault{Fault: f, prob: 1}
	if f.Probability != nil {
		if p := *f.Probability; p < 0 || p > 1 || p != p {
			return bad("probability %v: want a number in [0, 1]", p)
		}
		lf.prob = *f.Probability
	}
	if f.Count < 0 {
		return bad("count %d: want 0 (no limit) or more", f.Count)
	}
	var prof *specs.Profile
	if f.Profile != "" {
		if prof = fs.profile(f.Profile); prof == nil {
			return bad("profile %q is not served", f.Profile)
		}
	}
	if f.Operation != "" {
		found := false
		for _, p := range fs.profiles {
			if (prof == nil || p == prof) && p.Operation(f.Operation) != nil {
				found = true
			}
		}
		if !found {
			return bad("operation %q is not served", f.Operation)
		}
	}
	switch f.Kind {
	case FaultStatus:
		if f.Status < 400 || f.Status > 599 {
			return bad("status %d: want a 4xx or 5xx status", f.Status)
		}
	case FaultLatency:
		lo, hi := time.Duration(f.Latency), time.Duration(f.LatencyMax)
		if lo < 0 || hi < 0 || hi > maxLatency || lo > maxLatency || lo == 0 && hi == 0 || hi != 0 && hi < lo {
			return bad("latency %s, latencyMax %s: want 0 < latency ≤ latencyMax ≤ %s", lo, hi, maxLatency)
		}
	case FaultDeviation:
		d, ok := deviationNamed(f.Deviation)
		if !ok {
			return bad("deviation %q is not known (opsconform mock --list-deviations lists them)", f.Deviation)
		}
		applies := false
		for _, p := range fs.profiles {
			if (prof == nil || p == prof) && d.appliesTo(p) {
				applies = true
			}
		}
		if !applies {
			return bad("deviation %q does not apply to any served profile it was scoped to", f.Deviation)
		}
		lf.dev = d.id
	}
	if f.Kind != FaultDeviation && f.Deviation != "" {
		return bad("deviation %q given for a %s fault", f.Deviation, f.Kind)
	}
	fs.mu.Lock()
	defer fs.mu.Unlock()
	fs.nextID++
	lf.ID = "f" + strconv.Itoa(fs.nextID)
	lf.Fired = 0
	next := append(slices.Clone(*fs.live.Load()), lf)
	fs.live.Store(&next)
	return lf.Fault, nil
}

func joinKinds() string {
	var s []string
	for _, k := range faultKinds {
		s = append(s, string(k))
	}
	return strings.Join(s, ", ")
}

func (fs *faultSet) profile(name string) *specs.Profile {
	for _, p := range fs.profiles {
		if p.Name == name {
			return p
		}
	}
	return nil
}

// list returns the active faults, oldest first.
func (fs *faultSet) list() []Fault {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	live := *fs.live.Load()
	out := make([]Fault, 0, len(live))
	for _, lf := range live {
		out = append(out, lf.Fault)
	}
	return out
}

// remove drops one fault by id, or every fault for "".
func (fs *faultSet) remove(id string) bool {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	live := *fs.live.Load()
	var next []*liveFault
	if id != "" {
		next = slices.DeleteFunc(slices.Clone(live), func(lf *liveFault) bool { return lf.ID == id })
		if len(next) == len(live) {
			return false
		}
	}
	if next == nil {
		next = []*liveFault{}
	}
	fs.live.Store(&next)
	return true
}

// activeFaults is what fires for one exchange: at most one transport fault
// of each kind, and the set of deviations.
type activeFaults struct {
	devs      [2]uint64
	latency   time.Duration
	status    int
	reset     bool
	empty     bool
	malformed bool
	truncate  bool
	fired     []string // what fired, for the journal: "f3 status 503", "f1 deviation page-size-ignored"
}

// has reports whether deviation d applies to this exchange. A nil set (no
// faults at all, the common case) has none.
func (a *activeFaults) has(d deviation) bool {
	return a != nil && a.devs[d/64]&(1<<(d%64)) != 0
}

// active draws the faults that fire for an exchange with profile p and
// operation op (nil when routing failed). nil when none does.
func (fs *faultSet) active(p *specs.Profile, op *specs.Operation) *activeFaults {
	live := *fs.live.Load()
	if len(live) == 0 {
		return nil
	}
	var a *activeFaults
	fs.mu.Lock()
	defer fs.mu.Unlock()
	for _, lf := range live {
		if lf.Profile != "" && (p == nil || p.Name != lf.Profile) {
			continue
		}
		if lf.Operation != "" && (op == nil || op.ID != lf.Operation) {
			continue
		}
		if lf.Kind == FaultDeviation && (p == nil || !deviations[lf.dev].appliesTo(p)) {
			continue
		}
		if lf.Count > 0 && lf.Fired >= lf.Count {
			continue
		}
		if lf.prob < 1 && fs.rng.Float64() >= lf.prob {
			continue
		}
		lf.Fired++
		if a == nil {
			a = &activeFaults{}
		}
		a.fired = append(a.fired, lf.describe())
		switch lf.Kind {
		case FaultDeviation:
			a.devs[lf.dev/64] |= 1 << (lf.dev % 64)
		case FaultLatency:
			d := time.Duration(lf.Latency)
			if hi := time.Duration(lf.LatencyMax); hi > d {
				d += time.Duration(fs.rng.Int64N(int64(hi - d + 1)))
			}
			a.latency = max(a.latency, d)
		case FaultStatus:
			a.status = lf.Status
		case FaultReset:
			a.reset = true
		case FaultEmpty:
			a.empty = true
		case FaultMalformed:
			a.malformed = true
		case FaultTruncate:
			a.truncate = true
		}
	}
	return a
}

// describe names a fault for the journal: its id, kind and what it does.
func (lf *liveFault) describe() string {
	switch lf.Kind {
	case FaultStatus:
		return lf.ID + " status " + strconv.Itoa(lf.Status)
	case FaultLatency:
		if lf.LatencyMax != 0 {
			return lf.ID + " latency " + time.Duration(lf.Latency).String() + "-" + time.Duration(lf.LatencyMax).String()
		}
		return lf.ID + " latency " + time.Duration(lf.Latency).String()
	case FaultDeviation:
		return lf.ID + " deviation " + lf.Deviation
	}
	return lf.ID + " " + string(lf.Kind)
}

// injected says in words which faults fired, for the journal.
func (a *activeFaults) injected() string { return "fault injected: " + strings.Join(a.fired, ", ") }

// dropsHeader reports whether a deviation leaves out a documented response header.
func (a *activeFaults) dropsHeader(name string) bool {
	switch http.CanonicalHeaderKey(name) {
	case "Deprecation", "Sunset", "Link":
		return a.has(devDeprecationHeadersMissing)
	}
	return a.has(devDocumentedHeadersMissing)
}

// standing reports whether deviation d is switched on for profile p as a
// whole, whatever the operation: for behaviour outside any exchange, such as
// the control API's key lifecycle.
func (fs *faultSet) standing(p string, d deviation) bool {
	for _, lf := range *fs.live.Load() {
		if lf.Kind == FaultDeviation && lf.dev == d && (lf.Profile == "" || lf.Profile == p) {
			return true
		}
	}
	return false
}

// faultsKey carries an exchange's active faults in its request's context,
// for the auth code, which sees the request rather than the exchange.
type faultsKey struct{}

// deviates reports whether deviation d applies to the request.
func deviates(r *http.Request, d deviation) bool {
	a, _ := r.Context().Value(faultsKey{}).(*activeFaults)
	return a.has(d)
}

// injectFaults applies the transport faults that act before the answer:
// latency, then a reset, an empty response or a chosen status.
func (s *Server) injectFaults(x *exchange) *failure {
	a := x.faults
	if a == nil {
		return nil
	}
	if a.devs != [2]uint64{} {
		x.r = x.r.WithContext(context.WithValue(x.r.Context(), faultsKey{}, a))
	}
	if a.latency > 0 {
		t := time.NewTimer(a.latency)
		select {
		case <-t.C:
		case <-x.r.Context().Done():
			t.Stop()
			x.reason, x.why = ReasonFaultLatency, a.injected()+"; the client left during the delay"
			panic(http.ErrAbortHandler)
		}
	}
	switch {
	case a.reset:
		x.reason, x.why = ReasonFaultReset, a.injected()+": connection reset"
		abort(x.w, true)
	case a.empty:
		x.reason, x.why = ReasonFaultEmpty, a.injected()+": connection closed without an answer"
		abort(x.w, false)
	case a.status != 0:
		kind := specs.Internal
		switch {
		case a.status == http.StatusTooManyRequests:
			kind = specs.RateLimited
		case a.status == http.StatusNotFound:
			kind = specs.NotFound
		case a.status < 500:
			kind = specs.InvalidParameter
		}
		return &failure{kind: kind, status: a.status, message: fmt.Sprintf("%d %s (a fault injected by opsconform).", a.status, http.StatusText(a.status)),
			reason: ReasonFaultStatus, why: a.injected()}
	}
	return nil
}

// abort ends the exchange without an answer: a reset sends a TCP RST (linger
// 0), otherwise the connection is closed cleanly. Where the connection
// cannot be taken over (HTTP/2), the handler aborts, which resets the stream.
func abort(w http.ResponseWriter, reset bool) {
	if conn, _, err := http.NewResponseController(w).Hijack(); err == nil {
		if tc, ok := conn.(*net.TCPConn); ok && reset {
			_ = tc.SetLinger(0)
		}
		_ = conn.Close()
	}
	panic(http.ErrAbortHandler)
}

// faultBody corrupts an answer on its way out: a malformed body replaces a
// success's JSON with text that is not JSON; a truncated one promises the
// whole body and sends half. done is true when the answer has been written.
func (s *Server) faultBody(x *exchange, status int, body []byte) (int, []byte, bool) {
	a := x.faults
	switch {
	case a.malformed:
		x.reason, x.why = ReasonFaultMalformed, a.injected()+": the body replaced by text that is not JSON"
		half := body[:len(body)/2]
		return http.StatusOK, append(append([]byte{}, half...), "\x00<<opsconform: malformed>>"...), false
	case a.truncate && len(body) > 1:
		x.reason, x.why = ReasonFaultTruncate, fmt.Sprintf("%s: %d of %d bytes sent, then the connection closed", a.injected(), len(body)/2, len(body))
		x.w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		x.w.WriteHeader(status)
		_, _ = x.w.Write(body[:len(body)/2])
		_ = http.NewResponseController(x.w).Flush()
		panic(http.ErrAbortHandler)
	}
	return status, body, false
}
