package suites

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"runtime/debug"
	"slices"
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
	Timeout     time.Duration
	MaxWait     time.Duration // the longest Retry-After the suite honours
	Only, Skip  []string      // requirement IDs (or ID prefixes)
	Progress    io.Writer     // one line per requirement; nil for none
	Transport   http.RoundTripper
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

// Run checks the target against every selected requirement of the profile.
// It returns an error only when the run itself cannot happen (bad
// configuration, unreachable target); nonconformance is in the Run.
func Run(ctx context.Context, cfg Config) (*reports.Run, error) {
	run, _, err := runWith(ctx, cfg)
	return run, err
}

// runWith is Run, also returning the run's env, whose usedBy says which
// credential roles each check relied on.
func runWith(ctx context.Context, cfg Config) (*reports.Run, *env, error) {
	p := cfg.Profile
	target, err := url.Parse(strings.TrimSuffix(cfg.Target, "/"))
	if err != nil || (target.Scheme != "http" && target.Scheme != "https") || target.Host == "" {
		return nil, nil, fmt.Errorf("--target %q: want a base URL like http://127.0.0.1:8060", cfg.Target)
	}
	creds := cfg.Credentials
	if creds == nil {
		if creds, err = FixtureCredentials(p); err != nil {
			return nil, nil, err
		}
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Second
	}
	if cfg.Sleep == nil {
		cfg.Sleep = sleep
	}
	base := cfg.Transport
	if base == nil {
		base = &http.Transport{Proxy: nil, MaxIdleConnsPerHost: 32, ResponseHeaderTimeout: cfg.Timeout, TLSHandshakeTimeout: cfg.Timeout}
	}
	e := &env{ctx: ctx, profile: p, target: target, creds: creds, timeout: cfg.Timeout, maxWait: cfg.MaxWait,
		secrets: creds.secrets(), base: boundedTransport{next: base}, sleep: cfg.Sleep, rateTolerance: cfg.RateTolerance, usedBy: map[string]map[string]bool{}}
	if err := e.reach(); err != nil {
		return nil, nil, err
	}
	if cfg.Credentials == nil && len(creds.Keys) == 0 && e.isMock {
		// A spec without fixtures: the mock minted demo credentials; ask it for them.
		if mc, err := e.mockCredentials(); err == nil {
			e.creds, e.secrets = mc, mc.secrets()
		}
	}
	run := &reports.Run{Profile: p.Name, Target: target.String(), Started: time.Now()}
	checks := selected(Catalogue(p), cfg.Only, cfg.Skip)
	for i, c := range checks {
		res := e.runCheck(c)
		run.Results = append(run.Results, res)
		if cfg.Progress != nil {
			width := len(fmt.Sprint(len(checks)))
			line := fmt.Sprintf("[%*d/%d] %-5s %s %s", width, i+1, len(checks), strings.ToUpper(string(res.Status)), res.ID, res.Statement)
			if res.Status != reports.Pass && res.Reason != "" {
				line += "\n         " + res.Reason
			}
			fmt.Fprintln(cfg.Progress, line)
		}
		if ctx.Err() != nil {
			break
		}
	}
	run.Duration = time.Since(run.Started)
	if cfg.Progress != nil {
		c := run.Counts()
		fmt.Fprintf(cfg.Progress, "%d passed, %d failed, %d errored, %d skipped of %d requirements in %s\n",
			c.Passed, c.Failed, c.Errored, c.Skipped, c.Total, run.Duration.Round(time.Millisecond))
	}
	return run, e, nil
}

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

// reach checks the target answers at all, and whether it is the mock.
func (e *env) reach() error {
	client := &http.Client{Transport: e.base, Timeout: e.timeout}
	req, err := http.NewRequestWithContext(e.ctx, http.MethodGet, e.target.String()+"/__opsconform/health", nil)
	if err != nil {
		return err
	}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("%w: %s: %v", ErrUnreachable, e.target, err)
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
	resp.Body.Close()
	var health struct{ Status string }
	e.isMock = resp.StatusCode == http.StatusOK && json.Unmarshal(body, &health) == nil && health.Status == "ok"
	return nil
}

// selected keeps the checks --only names (all when empty) and drops --skip.
func selected(all []*Check, only, skip []string) []*Check {
	match := func(id string, list []string) bool {
		return slices.ContainsFunc(list, func(p string) bool { return id == p || strings.HasPrefix(id, p+"-") })
	}
	var out []*Check
	for _, c := range all {
		if len(only) > 0 && !match(c.ID, only) {
			continue
		}
		if match(c.ID, skip) {
			continue
		}
		out = append(out, c)
	}
	return out
}

// runCheck runs one check, turning its panics into results: a stop is the
// check's own verdict, anything else is a bug reported as an error.
func (e *env) runCheck(c *Check) (res reports.Result) {
	t := &T{env: e, rec: &recorder{next: e.base, secrets: e.secrets}}
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
			secrets := t.rec.secrets
			res.Reason = reports.Redact(t.reason, secrets)
			res.Expected = reports.Redact(t.expected, secrets)
			res.Got = reports.Redact(t.got, secrets)
			t.rec.mu.Lock()
			res.Exchange = t.rec.last
			t.rec.mu.Unlock()
		}
	}()
	c.run(t)
	return res
}
