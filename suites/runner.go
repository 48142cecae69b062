package suites

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"runtime/debug"
	"strings"
	"time"

	"github.com/opsconform/opsconform/reports"
	"github.com/opsconform/opsconform/specs"
)

// Config is one conformance run.
type Config struct {
	Profile     *specs.Profile
	Target      string       // base URL of the implementation: http://host:port
	Credentials *Credentials // nil: the embedded mock's fixtures
	// Timeout bounds each request: connecting, the headers and the whole body.
	Timeout time.Duration
	MaxWait time.Duration // the longest Retry-After the suite honours
	// RunTimeout bounds the whole run once the target answers;
	// DefaultRunTimeout of the selected checks when 0.
	RunTimeout time.Duration
	// Wait is how long to wait for the target to answer at all before the
	// first check (a server still starting); 0 tries once.
	Wait       time.Duration
	Only, Skip []string // requirement IDs, groups or globs (see Select)
	// FailOnSkip turns every skipped requirement into a failed one, for CI
	// that wants full coverage.
	FailOnSkip bool
	Progress   io.Writer // one line per requirement and notes on waits; nil for none
	// Transport is the connection layer; when nil one is built with TLS
	// and Proxy (nil: the system's roots, no proxy).
	Transport http.RoundTripper
	TLS       *tls.Config
	Proxy     func(*http.Request) (*url.URL, error)
	// Sleep waits out Retry-After; time-based by default.
	Sleep func(context.Context, time.Duration) error
	// RateTolerance is how far, as a fraction of the limit, the number of
	// requests a real server admits may stray from its documented limit
	// (other traffic may share the key); 0 is exact. Against the mock the
	// count is always exact.
	RateTolerance float64
}

// ErrUnreachable is returned when the target does not answer at all.
var ErrUnreachable = errors.New("the target is unreachable")

// ErrSetup is returned when the target answers, but not as the profile's
// API would to a run set up right: the URL, the TLS trust or the `full`
// key is wrong. Its message says what is wrong and how to fix it.
var ErrSetup = errors.New("the run is not set up right")

// ErrConfig is returned for a configuration the run cannot start with: a
// malformed target, a selection that selects nothing, missing credentials.
var ErrConfig = errors.New("configuration error")

// runError is an error of one of the kinds above, whose message needs no
// prefix: it says what is wrong and what to do.
type runError struct {
	kind error
	msg  string
}

func (e *runError) Error() string { return e.msg }
func (e *runError) Unwrap() error { return e.kind }

func errorf(kind error, format string, args ...any) error {
	return &runError{kind: kind, msg: fmt.Sprintf(format, args...)}
}

// errRunBound is the cause of a run stopped by its overall bound.
var errRunBound = errors.New("the run reached its time bound")

// DefaultRunTimeout is the overall bound of a run of n checks: two request
// timeouts per check, plus the longest Retry-After it may honour, plus a
// minute for the rate-limit burst and set-up.
func DefaultRunTimeout(n int, timeout, maxWait time.Duration) time.Duration {
	return time.Duration(2*n)*timeout + maxWait + time.Minute
}

// Run checks the target against every selected requirement of the profile.
// It always returns a Run, so reports can be written whatever happens. The
// error is non-nil when the run could not happen (bad configuration, an
// unreachable target, a target or credentials set up wrongly), and the Run
// then carries the reason as an errored requirement. Nonconformance, an
// interruption (ctx cancelled) and the run's own bound are in the Run.
func Run(ctx context.Context, cfg Config) (*reports.Run, error) {
	run, _, err := runWith(ctx, cfg)
	return run, err
}

// runWith is Run, also returning the run's env (nil when the run stopped
// before it had one), whose usedBy says which credential roles each check
// relied on.
func runWith(ctx context.Context, cfg Config) (run *reports.Run, e *env, err error) {
	p := cfg.Profile
	run = &reports.Run{Profile: p.Name, Target: cfg.Target, Started: time.Now()}
	progress := cfg.Progress
	if progress == nil {
		progress = io.Discard
	}
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("internal error (please report it): %v", v)
			run.Abort(fmt.Sprintf("internal error: %v\n%s", v, debug.Stack()))
		}
		run.Duration = time.Since(run.Started)
		c := run.Counts()
		if c.Total == 1 && run.Stopped != "" {
			return // nothing ran: the caller reports why
		}
		fmt.Fprintf(progress, "%d passed, %d failed, %d errored, %d skipped of %d requirements in %s: %s\n",
			c.Passed, c.Failed, c.Errored, c.Skipped, c.Total, run.Duration.Round(time.Millisecond), run.Verdict())
	}()
	stop := func(err error) (*reports.Run, *env, error) {
		run.Interrupted = ctx.Err() != nil
		run.Abort(err.Error())
		return run, e, err
	}

	target, err := url.Parse(strings.TrimSuffix(cfg.Target, "/"))
	if err != nil || (target.Scheme != "http" && target.Scheme != "https") || target.Host == "" {
		return stop(errorf(ErrConfig, "--target %q: want a base URL like http://127.0.0.1:8060", cfg.Target))
	}
	run.Target = target.String()
	checks, err := Select(Catalogue(p), cfg.Only, cfg.Skip)
	if err != nil {
		return stop(errorf(ErrConfig, "%v", err))
	}
	creds := cfg.Credentials
	if creds == nil {
		if creds, err = FixtureCredentials(p); err != nil {
			return stop(errorf(ErrConfig, "%v", err))
		}
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Second
	}
	if cfg.Sleep == nil {
		cfg.Sleep = sleep
	}
	if cfg.RunTimeout <= 0 {
		cfg.RunTimeout = DefaultRunTimeout(len(checks), cfg.Timeout, cfg.MaxWait)
	}
	base := cfg.Transport
	if base == nil {
		base = newTransport(cfg.Timeout, cfg.TLS, cfg.Proxy)
	}
	e = &env{ctx: ctx, profile: p, target: target, creds: creds, timeout: cfg.Timeout, maxWait: cfg.MaxWait,
		redact: newRedactor(p, creds), base: boundedTransport{next: base}, progress: progress,
		rateTolerance: cfg.RateTolerance, usedBy: map[string]map[string]bool{}, provisioned: map[string]string{}}
	if err := e.checkURL(); err != nil {
		return stop(err)
	}
	if err := e.reach(cfg.Wait); err != nil {
		return stop(err)
	}
	if cfg.Credentials == nil && len(creds.Keys) == 0 && e.isMock {
		// A spec without fixtures: the mock minted demo credentials; ask it for them.
		if mc, err := e.mockCredentials(); err == nil {
			e.creds, e.redact = mc, newRedactor(p, mc)
		}
	}

	runCtx, cancel := context.WithTimeoutCause(ctx, cfg.RunTimeout, errRunBound)
	defer cancel()
	e.ctx = runCtx
	stopped := func(next, finished int, when string) {
		for _, rest := range checks[next:] {
			run.Results = append(run.Results, reports.Result{Requirement: rest.Requirement(), Status: reports.Skip,
				Reason: "not run: " + stopReason(runCtx, cfg.RunTimeout)})
		}
		run.Interrupted = !errors.Is(context.Cause(runCtx), errRunBound)
		run.Abort(fmt.Sprintf("%s %s; %d of %d requirements finished", stopReason(runCtx, cfg.RunTimeout), when, finished, len(checks)))
	}
	if err := e.preflight(); err != nil {
		if runCtx.Err() == nil {
			return stop(err)
		}
		// Interrupted or out of time while checking the set-up: say that, not the symptom.
		stopped(0, 0, "before the first check")
		return run, e, nil
	}
	if e.isMock && p.Extended {
		cleanup := e.provision(run)
		defer cleanup()
	}
	var current string
	e.sleep = func(ctx context.Context, d time.Duration) error {
		if d >= time.Second {
			e.note("%s: waiting %s for the rate limit's window to pass (Retry-After); --max-wait %s is the longest the suite waits", current, d.Round(time.Second), e.maxWait)
		}
		return cfg.Sleep(ctx, d)
	}
	width := len(fmt.Sprint(len(checks)))
	for i, c := range checks {
		if runCtx.Err() != nil {
			stopped(i, i, "before "+c.ID)
			break
		}
		current = c.ID
		res := e.runCheck(c)
		interrupted := runCtx.Err() != nil
		if interrupted && res.Status != reports.Pass {
			res.Status = reports.Error
			res.Reason = fmt.Sprintf("%s while this check ran: %s", stopReason(runCtx, cfg.RunTimeout), res.Reason)
		}
		if cfg.FailOnSkip && res.Status == reports.Skip {
			res.Status = reports.Fail
			res.Reason = "skipped, and --fail-on-skip makes a skip a failure: " + res.Reason
		}
		run.Results = append(run.Results, res)
		printResult(progress, fmt.Sprintf("[%*d/%d]", width, i+1, len(checks)), res)
		if interrupted {
			stopped(i+1, i, "during "+c.ID)
			break
		}
	}
	return run, e, nil
}

// stopReason says why ctx ended: the run's bound, or an interruption.
func stopReason(ctx context.Context, bound time.Duration) string {
	cause := context.Cause(ctx)
	switch {
	case errors.Is(cause, errRunBound):
		return fmt.Sprintf("the run reached its time bound (--run-timeout %s)", bound)
	case cause == nil || errors.Is(cause, context.Canceled) && cause.Error() == context.Canceled.Error():
		return "interrupted"
	}
	return cause.Error()
}

// printResult writes one requirement's line and, when it did not pass, the
// reason, what was expected and received, and how to repeat the request.
func printResult(w io.Writer, counter string, res reports.Result) {
	const indent = "         "
	fmt.Fprintf(w, "%s %-5s %s %s\n", counter, strings.ToUpper(string(res.Status)), res.ID, res.Statement)
	if res.Status == reports.Pass {
		return
	}
	if res.Reason != "" {
		fmt.Fprintf(w, "%s%s\n", indent, strings.ReplaceAll(strings.TrimRight(res.Reason, "\n"), "\n", "\n"+indent))
	}
	if res.Status == reports.Skip {
		return
	}
	if res.Expected != "" || res.Got != "" {
		fmt.Fprintf(w, "%sexpected: %s\n%sgot:      %s\n", indent, oneLine(res.Expected), indent, oneLine(res.Got))
	}
	if res.Curl != "" {
		fmt.Fprintf(w, "%srepeat:   %s\n", indent, res.Curl)
	}
}

func oneLine(s string) string { return strings.ReplaceAll(strings.ReplaceAll(s, "\r", ""), "\n", " ") }

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// reach checks the target answers at all, and whether it is the mock. With
// wait, it polls until the target accepts a connection or wait has passed.
func (e *env) reach(wait time.Duration) error {
	client := &http.Client{Transport: e.base, Timeout: e.timeout, CheckRedirect: noRedirects}
	deadline := time.Now().Add(wait)
	if wait > 0 {
		e.note("waiting up to %s for %s to answer (--wait)", wait, e.target)
	}
	delay := 50 * time.Millisecond
	for {
		req, err := http.NewRequestWithContext(e.ctx, http.MethodGet, e.target.String()+"/__opsconform/health", nil)
		if err != nil {
			return errorf(ErrConfig, "%v", err)
		}
		resp, err := client.Do(req)
		if err == nil {
			body, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
			_ = discard(resp.Body)
			var health struct{ Status string }
			e.isMock = resp.StatusCode == http.StatusOK && json.Unmarshal(body, &health) == nil && health.Status == "ok"
			return nil
		}
		if e.ctx.Err() != nil {
			return errorf(ErrUnreachable, "the target is unreachable: %s: %s before it answered", e.target, stopReason(e.ctx, 0))
		}
		if !isDialError(err) || !time.Now().Add(delay).Before(deadline) {
			if wait > 0 && isDialError(err) {
				return errorf(ErrUnreachable, "the target is unreachable: %s did not answer within --wait %s: %s", e.target, wait, diagnose(err, e))
			}
			return e.transportError(err)
		}
		if err := sleep(e.ctx, delay); err != nil {
			return errorf(ErrUnreachable, "the target is unreachable: %s: %s before it answered", e.target, stopReason(e.ctx, 0))
		}
		delay = min(2*delay, 500*time.Millisecond)
	}
}

// isDialError reports whether err means nothing accepted the connection
// (yet): refused, no route, a name that does not resolve.
func isDialError(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial"
}

// runCheck runs one check, turning its panics into results: a stop is the
// check's own verdict, anything else is a bug reported as an error. What it
// reports is redacted with every secret the run and the check know.
func (e *env) runCheck(c *Check) (res reports.Result) {
	t := &T{env: e, rec: &recorder{next: e.base}}
	start := time.Now()
	defer func() {
		if v := recover(); v != nil {
			if _, ok := v.(stopCheck); !ok {
				t.status = reports.Error
				t.reason = fmt.Sprintf("the check itself failed: %v\n%s", v, debug.Stack())
			}
		}
		if t.status == "" {
			t.status = reports.Pass
		}
		res = reports.Result{Requirement: c.Requirement(), Status: t.status, Duration: time.Since(start)}
		if e.usedBy != nil {
			e.usedBy[c.ID] = t.used
		}
		if t.status != reports.Pass {
			rd := e.redact.with(t.rec.secrets, strings.ToUpper(strings.NewReplacer("-", "_", ".", "_").Replace(e.profile.Name))+"_NEW_KEY")
			exchange, req := t.rec.exchange()
			res.Reason = rd.text(t.reason)
			res.Expected = rd.text(t.expected)
			res.Got = rd.text(t.got)
			res.Exchange = rd.text(exchange)
			if t.status != reports.Skip {
				res.Curl = rd.curl(req)
			}
		}
	}()
	c.run(t)
	return res
}

// transportReason says in words why a request got no usable answer.
func transportReason(err error, timeout time.Duration) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	var ne net.Error
	if errors.Is(err, context.DeadlineExceeded) || errors.As(err, &ne) && ne.Timeout() {
		return fmt.Sprintf("no complete answer within --timeout %s (the deadline covers connecting, the headers and the whole body): %v", timeout, err)
	}
	return err.Error()
}
