package suites

import (
	"fmt"
	"io"
	"math"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/opsconform/opsconform/reports"
	"github.com/opsconform/opsconform/specs"
)

func rateChecks(p *specs.Profile) []*Check {
	rl := p.RateLimits
	if len(rl.Classes) == 0 {
		return nil
	}
	var checks []*Check
	if rl.Headers == specs.HeadersXRateLimit {
		checks = append(checks, &Check{ID: "001", Statement: "Every response carries X-RateLimit-Limit (the documented limit), X-RateLimit-Remaining (down by one per request) and X-RateLimit-Reset (Unix epoch seconds within the window)", run: checkRateHeaders})
	}
	checks = append(checks,
		&Check{ID: "002", Statement: "A key is admitted exactly the documented limit, then gets 429 in the error envelope with Retry-After" + headersNote(rl), run: checkBurst},
		&Check{ID: "003", Statement: "Limits are per key: while one key is limited another is served", run: checkPerKey},
		&Check{ID: "004", Statement: "After Retry-After the limited key is served again", run: checkRecovery},
		&Check{ID: "005", Statement: "Retry-After is whole seconds, at least 1 and at most the window" + resetNote(rl), run: checkRetryAfter},
	)
	for _, c := range checks {
		c.Group, c.Citation, c.run = "rate-limits", p.Cite("rate-limits"), impatient(c.run)
	}
	return checks
}

func headersNote(rl specs.RateLimits) string {
	if rl.Headers == specs.HeadersXRateLimit {
		return " and the X-RateLimit-* headers, Remaining 0"
	}
	return ""
}

func resetNote(rl specs.RateLimits) string {
	if rl.Headers == specs.HeadersXRateLimit {
		return ", and agrees with X-RateLimit-Reset"
	}
	return ""
}

// rateProbe is the operation and limit the rate checks run against.
func (e *env) rateProbe(t *T) (*specs.Operation, specs.Limit) {
	op := e.probe()
	if op == nil {
		t.Skipf("no operation the credentials can call")
	}
	lim, ok := e.profile.RateLimits.Classes[op.Class]
	if !ok {
		t.Skipf("the probe operation %s has no rate-limit class", op.ID)
	}
	return op, lim
}

// serverNow is the time a response was made: its Date header, or the local clock.
func serverNow(resp *http.Response) time.Time {
	if d, err := http.ParseTime(resp.Header.Get("Date")); err == nil {
		return d
	}
	return time.Now()
}

// clockSlack is how far apart the target's clock and Date header may be.
const clockSlack = 2 * time.Second

func checkRateHeaders(t *T) {
	op, lim := t.env.rateProbe(t)
	path := t.env.path(op, nil)
	client := t.Client("limited")
	prev := -1
	for i := range 3 {
		resp, _ := t.Raw(client, op.Method, path, nil, "")
		for _, h := range []string{"X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset"} {
			if resp.Header.Get(h) == "" {
				t.Fatalf(h, "absent", "response %d (%d) lacks %s", i+1, resp.StatusCode, h)
			}
		}
		if got := resp.Header.Get("X-RateLimit-Limit"); got != strconv.Itoa(lim.Limit) {
			t.Fatalf(strconv.Itoa(lim.Limit), got, "X-RateLimit-Limit is not the documented limit")
		}
		n, err := strconv.Atoi(resp.Header.Get("X-RateLimit-Remaining"))
		if err != nil || n < 0 || n > lim.Limit {
			t.Fatalf(fmt.Sprintf("an integer in [0, %d]", lim.Limit), resp.Header.Get("X-RateLimit-Remaining"), "X-RateLimit-Remaining is not a count of requests left")
		}
		if prev >= 0 && n != prev-1 {
			t.Fatalf(strconv.Itoa(prev-1), strconv.Itoa(n), "X-RateLimit-Remaining did not decrease by one")
		}
		prev = n
		checkResetHeader(t, resp, lim)
	}
}

// checkResetHeader: X-RateLimit-Reset is a Unix time in seconds, after the
// response and no later than a window after it.
func checkResetHeader(t *T, resp *http.Response, lim specs.Limit) {
	raw := resp.Header.Get("X-RateLimit-Reset")
	reset, err := strconv.ParseInt(raw, 10, 64)
	if err != nil {
		t.Fatalf("Unix epoch seconds", raw, "X-RateLimit-Reset is not an integer")
	}
	now := serverNow(resp)
	lo, hi := now.Add(-clockSlack).Unix(), now.Add(lim.Window+clockSlack).Unix()
	if reset < lo || reset > hi {
		t.Fatalf(fmt.Sprintf("Unix epoch seconds in [%d, %d]", lo, hi), raw, "X-RateLimit-Reset is not when the window closes, in epoch seconds (milliseconds, or seconds until the reset, are not)")
	}
}

// burst is one burst on a key until the target answers 429, shared by the
// checks that judge it. It runs once per run; a skip or an error met while
// running it is replayed to every check that reads it.
type burst struct {
	op         *specs.Operation
	limit      specs.Limit
	admitted   int
	sent       int
	limited    http.Header
	status     int
	body       []byte
	retryAfter string
	at         time.Time // the 429's Date
	err        string    // why no 429 came
	skip       reports.Status
	reason     string
}

// burstState is kept on the run's env.
type burstState = *burst

// burst spends the "second" key's budget until the target answers 429.
func (t *T) burst() *burst {
	e := t.env
	if e.burstState == nil {
		b := &burst{}
		e.burstState = b
		func() {
			defer func() {
				if v := recover(); v != nil {
					if _, stop := v.(stopCheck); !stop {
						panic(v)
					}
					b.skip, b.reason = t.status, t.reason
					t.status, t.reason = "", ""
				}
			}()
			t.runBurst(b)
		}()
	}
	b := e.burstState
	t.markUsed("second")
	switch b.skip {
	case reports.Skip:
		t.Skipf("%s", b.reason)
	case reports.Error, reports.Fail:
		t.status, t.reason = reports.Error, "the burst: "+b.reason
		panic(stopCheck{})
	}
	return b
}

func (t *T) runBurst(b *burst) {
	e := t.env
	b.op, b.limit = e.rateProbe(t)
	path := e.path(b.op, nil)
	client := t.Client("second")
	e.freshBudget("second") // other checks may have spent some of it in this window
	// stop ends the sending, not the requests in flight: a request the
	// server admitted must be counted, even when it answers after the 429.
	stop := make(chan struct{})
	var stopOnce sync.Once
	var mu sync.Mutex
	var admitted, sent atomic.Int64
	var failed atomic.Pointer[error] // the first request that got no whole answer stops the sending
	fail := func(err error) {
		if e.ctx.Err() == nil && failed.CompareAndSwap(nil, &err) {
			stopOnce.Do(func() { close(stop) })
		}
	}
	var wg sync.WaitGroup
	jobs := make(chan struct{})
	// Concurrent, so the burst fits in a window even on a time-scaled target;
	// bodies are discarded unread but for the first 429's.
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range jobs {
				req, _ := http.NewRequestWithContext(e.ctx, b.op.Method, t.url(path), nil)
				resp, err := client.Do(req)
				if err != nil {
					fail(err)
					continue
				}
				sent.Add(1)
				switch {
				case resp.StatusCode == http.StatusTooManyRequests:
					mu.Lock()
					if b.limited == nil {
						b.limited, b.status, b.at = resp.Header.Clone(), resp.StatusCode, serverNow(resp)
						b.body, _ = io.ReadAll(io.LimitReader(resp.Body, 64<<10))
						b.retryAfter = resp.Header.Get("Retry-After")
					}
					mu.Unlock()
					stopOnce.Do(func() { close(stop) })
				case resp.StatusCode >= 200 && resp.StatusCode < 300:
					admitted.Add(1)
				}
				if err := discard(resp.Body); err != nil {
					fail(err)
				}
			}
		}()
	}
	budget := 3*b.limit.Limit + 50
send:
	for range budget {
		select {
		case jobs <- struct{}{}:
		case <-stop:
			break send
		case <-e.ctx.Done():
			break send
		}
	}
	close(jobs)
	wg.Wait()
	b.admitted, b.sent = int(admitted.Load()), int(sent.Load())
	if errp := failed.Load(); errp != nil && b.limited == nil {
		b.err = fmt.Sprintf("the burst stopped after %d requests (%d admitted): one got no whole answer: %s", b.sent, b.admitted, transportReason(*errp, e.timeout))
		return
	}
	if b.limited == nil {
		b.err = fmt.Sprintf("no 429 after %d requests (%d admitted) on one key against a limit of %d per %s", b.sent, b.admitted, b.limit.Limit, b.limit.Window)
	}
}

// tolerance is how far the admitted count may stray from the limit: none
// against the mock, whose counts are exact; --rate-tolerance of the limit
// against a real server, whose key may have other traffic.
func (e *env) tolerance(limit int) int {
	if e.isMock {
		return 0
	}
	return int(math.Ceil(e.rateTolerance * float64(limit)))
}

func checkBurst(t *T) {
	b := t.burst()
	if b.err != "" {
		t.Fatalf("429", "no 429", "%s", b.err)
	}
	p := t.env.profile
	if tol := t.env.tolerance(b.limit.Limit); b.admitted < b.limit.Limit-tol || b.admitted > b.limit.Limit+tol {
		want := strconv.Itoa(b.limit.Limit)
		if tol > 0 {
			want = fmt.Sprintf("%d ± %d", b.limit.Limit, tol)
		}
		t.Fatalf(want+" admitted", strconv.Itoa(b.admitted), "the key was admitted a different number of requests than the documented %d per %s", b.limit.Limit, b.limit.Window)
	}
	if err := p.Errors.Match(specs.RateLimited, b.body); err != nil {
		t.Errorf("the "+p.Name+" error envelope", string(truncate(b.body)), "the 429 is not in the documented envelope: %v", err)
	}
	if n, err := strconv.Atoi(b.retryAfter); err != nil || n < 0 {
		t.Fatalf("Retry-After in delta seconds", b.retryAfter, "the 429 lacks a usable Retry-After")
	}
	if p.RateLimits.Headers == specs.HeadersXRateLimit {
		for _, h := range []string{"X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset"} {
			if b.limited.Get(h) == "" {
				t.Errorf(h, "absent", "the 429 lacks %s", h)
			}
		}
		if got := b.limited.Get("X-RateLimit-Remaining"); got != "0" {
			t.Errorf("0", got, "a limited key has requests remaining")
		}
	}
}

func checkPerKey(t *T) {
	b := t.burst()
	if b.err != "" {
		t.Skipf("the burst found no limit to be per key about: %s", b.err)
	}
	resp, _ := t.Raw(t.Client("full"), b.op.Method, t.env.path(b.op, nil), nil, "")
	if resp.StatusCode == http.StatusTooManyRequests {
		t.Fatalf("2xx for another key", "429", "one key's burst limited another key: the budget is not per key")
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		t.Fatalf("2xx", fmt.Sprint(resp.StatusCode), "the other key was refused")
	}
}

// retryAfter is the burst's Retry-After, or a skip when it has none usable.
func (t *T) retryAfter(b *burst) time.Duration {
	if b.err != "" {
		t.Skipf("the burst was never limited: %s", b.err)
	}
	n, err := strconv.Atoi(b.retryAfter)
	if err != nil || n < 0 {
		t.Skipf("the 429 has no usable Retry-After (%q): RATE-002 reports it", b.retryAfter)
	}
	return time.Duration(n) * time.Second
}

func checkRecovery(t *T) {
	b := t.burst()
	wait := t.retryAfter(b)
	if wait > t.env.maxWait {
		t.Skipf("Retry-After is %s, longer than --max-wait %s (RATE-005 judges its length; a time-scaled mock answers sooner)", wait, t.env.maxWait)
	}
	if err := t.env.sleep(t.env.ctx, wait); err != nil {
		t.Skipf("interrupted while honouring Retry-After: %v", err)
	}
	client := t.Client("second")
	// One second of grace for clocks that round differently.
	for attempt := 0; ; attempt++ {
		resp, _ := t.Raw(client, b.op.Method, t.env.path(b.op, nil), nil, "")
		if resp.StatusCode >= 200 && resp.StatusCode < 300 {
			return
		}
		if attempt == 1 || resp.StatusCode != http.StatusTooManyRequests {
			t.Fatalf("2xx", fmt.Sprint(resp.StatusCode), "after waiting Retry-After (%s) the key is still refused", wait)
		}
		if err := t.env.sleep(t.env.ctx, time.Second); err != nil {
			t.Skipf("interrupted: %v", err)
		}
	}
}

// checkRetryAfter: Retry-After says how long to wait in whole seconds: at
// least 1, no more than the window, and the same moment X-RateLimit-Reset names.
func checkRetryAfter(t *T) {
	b := t.burst()
	if b.err != "" {
		t.Skipf("the burst was never limited: %s", b.err)
	}
	n, err := strconv.Atoi(b.retryAfter)
	window := int(math.Ceil(b.limit.Window.Seconds()))
	if err != nil || n < 1 || n > window {
		t.Fatalf(fmt.Sprintf("whole seconds in [1, %d]", window), fmt.Sprintf("%q", b.retryAfter), "Retry-After on the 429 does not name a wait within the %s window", b.limit.Window)
	}
	if raw := b.limited.Get("X-RateLimit-Reset"); t.env.profile.RateLimits.Headers == specs.HeadersXRateLimit && raw != "" {
		reset, err := strconv.ParseInt(raw, 10, 64)
		until := time.Unix(reset, 0).Sub(b.at)
		if err != nil || until < time.Duration(n)*time.Second-clockSlack-time.Second || until > time.Duration(n)*time.Second+clockSlack {
			t.Fatalf(fmt.Sprintf("X-RateLimit-Reset about %d s after the 429", n), raw, "X-RateLimit-Reset and Retry-After disagree")
		}
	}
}
