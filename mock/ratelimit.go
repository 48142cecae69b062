package mock

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/opsconform/opsconform/specs"
)

// budgetKey names one budget: a key's requests in one operation class.
// Budgets belong to keys, not source IPs: one key from two hosts shares one,
// two keys from one host have two.
type budgetKey struct {
	profile, key, class string
}

// bucket is a fixed window: it opens at the first request after the last
// one closed and admits exactly limit requests until it closes.
type bucket struct {
	mu    sync.Mutex
	start time.Time
	count int
}

// limiter counts requests per key and class against the profile's policy.
type limiter struct {
	now   func() time.Time
	scale float64 // windows are this many times shorter (--time-scale)
	m     sync.Map
}

// decision is the outcome of taking from a budget.
type decision struct {
	allowed   bool
	limit     int
	remaining int
	reset     time.Time     // when the window closes
	window    time.Duration // the scaled window
}

func newLimiter(now func() time.Time, scale float64) *limiter {
	if scale <= 0 {
		scale = 1
	}
	return &limiter{now: now, scale: scale}
}

func (l *limiter) scaled(w time.Duration) time.Duration {
	return time.Duration(float64(w) / l.scale)
}

// take spends one request from the budget, or refuses when it is spent.
func (l *limiter) take(k budgetKey, lim specs.Limit) decision {
	b := l.bucket(k)
	window := l.scaled(lim.Window)
	now := l.now()
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.start.IsZero() || !now.Before(b.start.Add(window)) {
		b.start, b.count = now, 0
	}
	d := decision{limit: lim.Limit, reset: b.start.Add(window), window: window}
	if b.count >= lim.Limit {
		return d
	}
	b.count++
	d.allowed, d.remaining = true, lim.Limit-b.count
	return d
}

func (l *limiter) bucket(k budgetKey) *bucket {
	if b, ok := l.m.Load(k); ok {
		return b.(*bucket)
	}
	b, _ := l.m.LoadOrStore(k, &bucket{})
	return b.(*bucket)
}

// Budget is a key's standing in one class, as the control API shows it.
type Budget struct {
	Class     string    `json:"class"`
	Limit     int       `json:"limit"`
	Window    string    `json:"window"`
	Used      int       `json:"used"`
	Remaining int       `json:"remaining"`
	Reset     time.Time `json:"reset,omitzero"`
}

// budgets reports a key's counters in every class of the profile's policy.
func (l *limiter) budgets(p *specs.Profile, key string) []Budget {
	classes := make([]string, 0, len(p.RateLimits.Classes))
	for c := range p.RateLimits.Classes {
		classes = append(classes, c)
	}
	sort.Strings(classes)
	now := l.now()
	out := make([]Budget, 0, len(classes))
	for _, c := range classes {
		lim := p.RateLimits.Classes[c]
		window := l.scaled(lim.Window)
		bg := Budget{Class: c, Limit: lim.Limit, Window: window.String(), Remaining: lim.Limit}
		if v, ok := l.m.Load(budgetKey{p.Name, key, c}); ok {
			b := v.(*bucket)
			b.mu.Lock()
			if !b.start.IsZero() && now.Before(b.start.Add(window)) {
				bg.Used, bg.Remaining, bg.Reset = b.count, lim.Limit-b.count, b.start.Add(window).UTC()
			}
			b.mu.Unlock()
		}
		out = append(out, bg)
	}
	return out
}

// resetKey forgets a key's counters in every class.
func (l *limiter) resetKey(profile, key string) {
	l.m.Range(func(k, _ any) bool {
		if bk := k.(budgetKey); bk.profile == profile && bk.key == key {
			l.m.Delete(k)
		}
		return true
	})
}

func (l *limiter) resetAll() { l.m.Clear() }

// rateLimit spends the request from its key's budget and sets the headers
// the profile documents; past the budget it fails with 429. Only requests
// that passed authentication and authorization get here: refusals for auth
// do not spend a key's budget.
func (s *Server) rateLimit(x *exchange) *failure {
	p := x.profile
	lim, ok := p.RateLimits.Classes[x.op.Class]
	if !ok || x.auth == nil {
		return nil
	}
	bk := budgetKey{p.Name, x.auth.Key.ID, x.op.Class}
	lim = s.deviateLimit(x, &bk, lim)
	d := s.limiter.take(bk, lim)
	h := x.w.Header()
	untilReset := d.reset.Sub(s.now())
	if p.RateLimits.Headers == specs.HeadersXRateLimit && !(d.allowed && x.faults.has(devRateLimitHeadersOnlyOn429)) {
		// Assigned directly: Header.Set would canonicalise to X-Ratelimit-Limit,
		// and the vendor documents X-RateLimit-Limit.
		h["X-RateLimit-Limit"] = intValue(d.limit)
		h["X-RateLimit-Remaining"] = intValue(s.deviateRemaining(x, d))
		if x.faults == nil {
			h["X-RateLimit-Reset"] = s.clockValues.resetValue(d.reset)
		} else {
			h["X-RateLimit-Reset"] = []string{s.deviateReset(x, d.reset, untilReset)}
		}
	}
	if s.opts.IETFRateLimitHeaders {
		h["RateLimit-Policy"] = []string{fmt.Sprintf(`"%s";q=%d;w=%d`, x.op.Class, d.limit, ceilSeconds(d.window))}
		h["RateLimit"] = []string{fmt.Sprintf(`"%s";r=%d;t=%d`, x.op.Class, d.remaining, ceilSeconds(untilReset))}
	}
	if d.allowed {
		return nil
	}
	wait := max(ceilSeconds(untilReset), 1)
	if retry, ok := s.deviateRetryAfter(x, wait); ok {
		h["Retry-After"] = []string{strconv.FormatInt(retry, 10)}
	}
	return (&failure{kind: specs.RateLimited}).because(ReasonRateLimited, "over %s for %s requests of key %s, retry in %d s",
		perWindow(d.limit, d.window), x.op.Class, x.auth.Key.ID, wait)
}

// resetSeconds is X-RateLimit-Reset as documented: the Unix time, in whole
// seconds rounded up, when the window closes.
func resetSeconds(reset time.Time) string {
	return strconv.FormatInt(int64(math.Ceil(float64(reset.UnixNano())/1e9)), 10)
}

// ceilSeconds rounds a duration up to whole seconds, as Retry-After wants.
func ceilSeconds(d time.Duration) int64 {
	if d <= 0 {
		return 0
	}
	return int64(math.Ceil(d.Seconds()))
}
