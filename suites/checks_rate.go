package suites

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/opsconform/opsconform/specs"
)

func rateChecks(p *specs.Profile) []*Check {
	rl := p.RateLimits
	if len(rl.Classes) == 0 {
		return nil
	}
	var checks []*Check
	if rl.Headers == specs.HeadersXRateLimit {
		checks = append(checks, &Check{ID: "001", Statement: "Every response carries X-RateLimit-Limit, X-RateLimit-Remaining and X-RateLimit-Reset, and Remaining decreases with each request", run: checkRemainingDecreases})
	}
	checks = append(checks,
		&Check{ID: "002", Statement: "Past the documented limit a key gets 429 in the error envelope with Retry-After" + headersNote(rl), run: checkBurst},
		&Check{ID: "003", Statement: "Limits are per key: while one key is limited another is served", run: checkPerKey},
		&Check{ID: "004", Statement: "After Retry-After the limited key is served again", run: checkRecovery},
	)
	for _, c := range checks {
		c.Group, c.Citation = "rate-limits", p.Cite("rate-limits")
	}
	return checks
}

func headersNote(rl specs.RateLimits) string {
	if rl.Headers == specs.HeadersXRateLimit {
		return " and the X-RateLimit-* headers"
	}
	return ""
}

// rateProbe is the operation and limit the burst runs against.
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

func checkRemainingDecreases(t *T) {
	op, lim := t.env.rateProbe(t)
	path := t.env.path(op, nil)
	client := t.Client("limited")
	var prev = -1
	for i := range 3 {
		resp, _ := t.Raw(client, op.Method, path, nil, "")
		for _, h := range []string{"X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset"} {
			if resp.Header.Get(h) == "" {
				t.Fatalf(h, "absent", "request %d lacks %s", i+1, h)
			}
		}
		if got := resp.Header.Get("X-RateLimit-Limit"); got != strconv.Itoa(lim.Limit) {
			t.Errorf(strconv.Itoa(lim.Limit), got, "X-RateLimit-Limit is not the documented limit")
		}
		n, err := strconv.Atoi(resp.Header.Get("X-RateLimit-Remaining"))
		if err != nil {
			t.Fatalf("an integer", resp.Header.Get("X-RateLimit-Remaining"), "X-RateLimit-Remaining is not a number")
		}
		if prev >= 0 && n != prev-1 {
			t.Fatalf(strconv.Itoa(prev-1), strconv.Itoa(n), "X-RateLimit-Remaining did not decrease by one")
		}
		prev = n
	}
}

// burstState is shared by the three burst checks of a run: the burst runs
// once, and the per-key and recovery checks read its outcome.
type burstState struct {
	once       sync.Once
	limited    *http.Response
	body       []byte
	admitted   int
	err        string
	retryAfter time.Duration
}

// burst spends the "second" key's budget until the target answers 429.
func (t *T) burst() *burstState {
	e := t.env
	e.burstState.once.Do(func() {
		st := &e.burstState
		op, lim := e.rateProbe(t)
		path := e.path(op, nil)
		client := t.Client("second")
		ctx, cancel := context.WithCancel(e.ctx)
		defer cancel()
		var mu sync.Mutex
		var admitted atomic.Int64
		var wg sync.WaitGroup
		jobs := make(chan struct{})
		// Concurrent, so the burst fits in a window even on a time-scaled target.
		for range 16 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range jobs {
					req, _ := http.NewRequestWithContext(ctx, op.Method, t.url(path), nil)
					resp, err := client.Do(req)
					if err != nil {
						continue
					}
					var body []byte
					if resp.StatusCode == http.StatusTooManyRequests {
						body, _ = io.ReadAll(resp.Body) // bounded by the run's transport
					}
					resp.Body.Close()
					switch {
					case resp.StatusCode == http.StatusTooManyRequests:
						mu.Lock()
						if st.limited == nil {
							st.limited, st.body = resp, body
						}
						mu.Unlock()
						cancel()
					case resp.StatusCode >= 200 && resp.StatusCode < 300:
						admitted.Add(1)
					}
				}
			}()
		}
		budget := 3*lim.Limit + 50
	send:
		for i := 0; i < budget; i++ {
			select {
			case jobs <- struct{}{}:
			case <-ctx.Done():
				break send
			}
		}
		close(jobs)
		wg.Wait()
		st.admitted = int(admitted.Load())
		if st.limited == nil {
			st.err = fmt.Sprintf("no 429 after %d requests (%d admitted) on one key against a limit of %d per %s", budget, st.admitted, lim.Limit, lim.Window)
			return
		}
		secs, err := strconv.Atoi(st.limited.Header.Get("Retry-After"))
		if err == nil {
			st.retryAfter = time.Duration(secs) * time.Second
		}
	})
	return &e.burstState
}

func checkBurst(t *T) {
	st := t.burst()
	if st.err != "" {
		t.Fatalf("429", "no 429", "%s", st.err)
	}
	p := t.env.profile
	if err := p.Errors.Match(specs.RateLimited, st.body); err != nil {
		t.Errorf("the "+p.Name+" error envelope", string(truncate(st.body)), "the 429 is not in the documented envelope: %v", err)
	}
	ra := st.limited.Header.Get("Retry-After")
	if n, err := strconv.Atoi(ra); err != nil || n < 0 {
		t.Fatalf("Retry-After in delta seconds", ra, "the 429 lacks a usable Retry-After")
	}
	if p.RateLimits.Headers == specs.HeadersXRateLimit {
		for _, h := range []string{"X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset"} {
			if st.limited.Header.Get(h) == "" {
				t.Errorf(h, "absent", "the 429 lacks %s", h)
			}
		}
		if got := st.limited.Header.Get("X-RateLimit-Remaining"); got != "0" {
			t.Errorf("0", got, "a limited key has requests remaining")
		}
	}
}

func checkPerKey(t *T) {
	st := t.burst()
	if st.err != "" {
		t.Skipf("the burst found no limit to be per key about: %s", st.err)
	}
	op, _ := t.env.rateProbe(t)
	resp, _ := t.Raw(t.Client("full"), op.Method, t.env.path(op, nil), nil, "")
	if resp.StatusCode == http.StatusTooManyRequests {
		t.Fatalf("2xx for another key", "429", "one key's burst limited another key: the budget is not per key")
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		t.Fatalf("2xx", fmt.Sprint(resp.StatusCode), "the other key was refused")
	}
}

func checkRecovery(t *T) {
	st := t.burst()
	if st.err != "" {
		t.Skipf("the burst was never limited: %s", st.err)
	}
	if st.retryAfter > t.env.maxWait {
		t.Skipf("Retry-After is %s, longer than --max-wait %s (a time-scaled mock answers sooner)", st.retryAfter, t.env.maxWait)
	}
	if err := t.env.sleep(t.env.ctx, st.retryAfter); err != nil {
		t.Skipf("interrupted while honouring Retry-After: %v", err)
	}
	op, _ := t.env.rateProbe(t)
	client := t.Client("second")
	// One second of grace for clocks that round differently.
	for attempt := 0; ; attempt++ {
		resp, _ := t.Raw(client, op.Method, t.env.path(op, nil), nil, "")
		if resp.StatusCode >= 200 && resp.StatusCode < 300 {
			return
		}
		if attempt == 1 || resp.StatusCode != http.StatusTooManyRequests {
			t.Fatalf("2xx", fmt.Sprint(resp.StatusCode), "after waiting Retry-After (%s) the key is still refused", st.retryAfter)
		}
		if err := t.env.sleep(t.env.ctx, time.Second); err != nil {
			t.Skipf("interrupted: %v", err)
		}
	}
}
