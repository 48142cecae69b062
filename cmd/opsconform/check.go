package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"text/tabwriter"
	"time"

	"golang.org/x/net/http/httpproxy"

	"github.com/opsconform/opsconform/reports"
	"github.com/opsconform/opsconform/specs"
	"github.com/opsconform/opsconform/suites"
	"github.com/spf13/pflag"
)

type checkOptions struct {
	selection
	target      string
	credentials string
	junit       string
	summary     string
	html        string
	only, skip  []string
	timeout     time.Duration
	maxWait     time.Duration
	runTimeout  time.Duration
	tolerance   float64
	wait        time.Duration
	failOnSkip  bool
	insecure    bool
	caCert      string
	list        bool
}

func checkCommand() *command {
	return &command{
		name:    "check",
		summary: "run a profile's conformance suite against a server, real or the mock",
		usage:   "--target URL (--profile NAME | --spec FILE) [--credentials FILE] [--junit FILE] [--summary FILE] [--html FILE] [--only IDs] [--skip IDs] [--wait D]",
		long: `Check that the server at --target behaves as the profile documents: auth and
401/403, key lifecycle, envelopes, pagination, schemas, stability headers and rate
limits. Every check is a requirement with a stable ID, a MUST or SHOULD level and
the documentation it enforces (--list prints them). --spec FILE checks any
OpenAPI description with the generic requirements (<PROFILE>-GEN-…): credentials
as its security says, documented statuses, media types and schemas, 4xx for
mistakes, 405 for undocumented methods; no --profile is needed.

Keys come from --credentials (YAML: profiles.<name>.keys.<role>, roles full,
second, limited, role-bounded, revoked, expired, disabled, owner-deactivated,
other-tenant, other-ip, and params for path parameters); without it, the keys of
the embedded mock's fixtures, or, against the mock of a spec without fixtures,
the demo keys its control API lists. A check whose key is absent is skipped with
a reason (--fail-on-skip makes every skip a failure). Against the mock, each run
makes its own copies of the keys it spends and a user of its own through the
control API, and deletes them at the end, so runs against one mock do not
interfere.

--only and --skip take requirement IDs (OPSMERGE-AUTH-001, or AUTH-001), groups
(AUTH, rate-limits) and globs ('*-AUTH-00?'), in any case, comma- or
space-separated; a pattern that selects nothing is an error.

Before the first check a preflight asks the profile's probe operation with the
full key: a target URL that ends in the base path, an HTML page, a 404, a
refused full key, an untrusted certificate stop the run with one paragraph
saying what is wrong and how to fix it. --wait polls a server that is still
starting until it answers.

Every request has one deadline (--timeout) for connecting, the headers and the
whole body; bodies are read up to 8 MiB, headers up to 1 MiB; the whole run has
a bound (--run-timeout). Proxies come from HTTPS_PROXY, HTTP_PROXY and NO_PROXY.

Progress goes to stdout, one line per requirement; a failure shows what was
expected and received and a curl command that repeats it, keys as ${VARIABLES}.
--junit writes JUnit XML for CI, --summary a Markdown summary, --html one
self-contained page. They are written whatever happens (unreachable target,
interruption, internal error), with the reason as an errored requirement, and
never contain a secret.

Exit 0 when the run completed and every MUST passed; 1 when one failed (or, with
--fail-on-skip, was skipped) or the run hit --run-timeout; 2 for usage errors, an
unreachable target or a preflight failure; 130 when interrupted (SIGINT; 143 for
SIGTERM).`,
		flags: func(fs *pflag.FlagSet) any {
			o := &checkOptions{}
			fs.StringVar(&o.target, "target", "", "base URL of the server to check, e.g. http://127.0.0.1:8060")
			o.selection.register(fs)
			fs.StringVar(&o.credentials, "credentials", "", "YAML `FILE` of keys by role per profile (default: the mock's fixture keys)")
			fs.StringVar(&o.junit, "junit", "", "write JUnit XML to `FILE`")
			fs.StringVar(&o.summary, "summary", "", "write a Markdown summary to `FILE`")
			fs.StringVar(&o.html, "html", "", "write a self-contained HTML report to `FILE`")
			fs.StringSliceVar(&o.only, "only", nil, "run only these requirement IDs, groups or globs (OPSMERGE-AUTH-001, AUTH, '*-RATE-00?')")
			fs.StringSliceVar(&o.skip, "skip", nil, "skip these requirement IDs, groups or globs")
			fs.BoolVar(&o.failOnSkip, "fail-on-skip", false, "count a skipped requirement as failed, for CI that wants full coverage")
			fs.DurationVar(&o.wait, "wait", 0, "wait up to this long for the target to accept connections before the first check (a server still starting)")
			fs.DurationVar(&o.timeout, "timeout", 10*time.Second, "give up on a request after this long: connecting, headers and the whole body")
			fs.DurationVar(&o.maxWait, "max-wait", 90*time.Second, "the longest Retry-After to wait out; longer waits skip the recovery check")
			fs.Float64Var(&o.tolerance, "rate-tolerance", 0.1, "against a real server, how far the admitted count may stray from the documented rate limit, as a fraction of it (the mock's count must be exact)")
			fs.DurationVar(&o.runTimeout, "run-timeout", 0, "bound the whole run (default: 2 × --timeout per selected requirement, plus --max-wait, plus 1m)")
			fs.BoolVar(&o.insecure, "insecure", false, "accept any TLS certificate (a test server's self-signed one)")
			fs.StringVar(&o.caCert, "ca-cert", "", "trust the PEM certificate authorities in `FILE` too (a private CA)")
			fs.BoolVar(&o.list, "list", false, "print the requirement catalogue of the profile(s) and exit")
			return o
		},
		run: runCheck,
	}
}

func runCheck(ctx context.Context, opts any, out, errOut io.Writer) (err error) {
	o := opts.(*checkOptions)
	if o.list {
		ps, err := o.load()
		if err != nil {
			return err
		}
		return listCatalogue(out, ps)
	}
	// Report files come first: a bad path fails before a long run, and from
	// here on every outcome, an internal error included, is written to them.
	rep, err := openReports(map[string]string{"--junit": o.junit, "--summary": o.summary, "--html": o.html})
	if err != nil {
		return err
	}
	run := &reports.Run{Profile: strings.Join(o.profiles, ","), Target: o.target, Started: time.Now()}
	defer func() {
		if v := recover(); v != nil {
			run.Abort(fmt.Sprintf("internal error: %v\n%s", v, debug.Stack()))
			err = fmt.Errorf("internal error (please report it): %v", v)
		}
		if run.Duration == 0 {
			run.Duration = time.Since(run.Started)
		}
		if werr := rep.write(run); werr != nil && err == nil {
			err = werr
		}
	}()
	fail := func(e error) error {
		run.Abort(e.Error())
		return e
	}
	switch {
	case o.timeout <= 0 || o.maxWait < 0 || o.wait < 0 || o.runTimeout < 0:
		return fail(usageError{"--timeout must be positive, and --max-wait, --wait and --run-timeout not negative"})
	case !(o.tolerance >= 0 && o.tolerance < 1):
		return fail(usageError{fmt.Sprintf("--rate-tolerance %g: want a fraction in [0, 1)", o.tolerance)})
	case o.insecure && o.caCert != "":
		return fail(usageError{"--insecure and --ca-cert exclude each other: --insecure accepts any certificate"})
	}
	ps, err := o.load()
	if err != nil {
		return fail(err)
	}
	if o.target == "" {
		return fail(usageError{"--target is required (the base URL of the server to check)"})
	}
	if len(ps) != 1 {
		return fail(usageError{fmt.Sprintf("check one profile at a time: name it with --profile (one of %s), or give one --spec FILE", profileNames(ps))})
	}
	p := ps[0]
	run.Profile = p.Name
	warn(errOut, "check", p.Warnings)
	var creds *suites.Credentials
	if o.credentials != "" {
		f, err := suites.LoadCredentials(o.credentials)
		if err != nil {
			return fail(err)
		}
		if creds = f.Profiles[p.Name]; creds == nil {
			return fail(usageError{fmt.Sprintf("%s has no credentials for profile %s", o.credentials, p.Name)})
		}
	}
	tlsConfig, err := o.tlsConfig()
	if err != nil {
		return fail(err)
	}
	fmt.Fprintf(out, "opsconform check: %s against %s\n", p.Name, o.target)
	result, err := suites.Run(ctx, suites.Config{Profile: p, Target: o.target, Credentials: creds, Timeout: o.timeout,
		MaxWait: o.maxWait, RunTimeout: o.runTimeout, Wait: o.wait, Only: o.only, Skip: o.skip, FailOnSkip: o.failOnSkip,
		Progress: out, TLS: tlsConfig, Proxy: proxyFromEnvironment(), RateTolerance: o.tolerance})
	run = result
	var sig signalled
	switch {
	case errors.As(context.Cause(ctx), &sig):
		return sig
	case run.Interrupted:
		return signalled{os.Interrupt}
	case err != nil:
		return usageError{err.Error()}
	case !run.Conforms():
		return nonconformance{fmt.Sprintf("%s: %s", o.target, run.Verdict())}
	}
	return nil
}

// proxyFromEnvironment reads HTTPS_PROXY, HTTP_PROXY and NO_PROXY (either
// case) now, not once per process as http.ProxyFromEnvironment does.
func proxyFromEnvironment() func(*http.Request) (*url.URL, error) {
	proxy := httpproxy.FromEnvironment().ProxyFunc()
	return func(r *http.Request) (*url.URL, error) { return proxy(r.URL) }
}

// tlsConfig is what --insecure and --ca-cert ask for; nil for the system's roots.
func (o *checkOptions) tlsConfig() (*tls.Config, error) {
	switch {
	case o.insecure:
		return &tls.Config{InsecureSkipVerify: true}, nil
	case o.caCert != "":
		data, err := os.ReadFile(o.caCert)
		if err != nil {
			return nil, usageError{fmt.Sprintf("--ca-cert: %v", err)}
		}
		pool, err := x509.SystemCertPool()
		if err != nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(data) {
			return nil, usageError{fmt.Sprintf("--ca-cert %s: no PEM certificate in it", o.caCert)}
		}
		return &tls.Config{RootCAs: pool}, nil
	}
	return nil, nil
}

func profileNames(ps []*specs.Profile) string {
	var names []string
	for _, p := range ps {
		names = append(names, p.Name)
	}
	return strings.Join(names, ", ")
}

// reportSet is the report files of a run. Each is written to a temporary
// file beside its destination and renamed into place, so a reader never
// sees a half-written report; an old report at the path is removed at the
// start, so a run that dies unexpectedly leaves none rather than a stale one.
type reportSet []*reportFile

type reportFile struct {
	flag, path string
	tmp        *os.File
	write      func(io.Writer, *reports.Run) error
}

func openReports(paths map[string]string) (reportSet, error) {
	writers := map[string]func(io.Writer, *reports.Run) error{"--junit": reports.WriteJUnit, "--summary": reports.WriteMarkdown, "--html": reports.WriteHTML}
	var set reportSet
	for _, flag := range []string{"--junit", "--summary", "--html"} {
		path := paths[flag]
		if path == "" {
			continue
		}
		tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
		if err != nil {
			set.discard()
			return nil, usageError{fmt.Sprintf("cannot write %s %s: %v", flag, path, errors.Unwrap(err))}
		}
		if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			tmp.Close()
			os.Remove(tmp.Name())
			set.discard()
			return nil, usageError{fmt.Sprintf("cannot replace %s %s: %v", flag, path, err)}
		}
		set = append(set, &reportFile{flag: flag, path: path, tmp: tmp, write: writers[flag]})
	}
	return set, nil
}

// write writes every report of run and moves it into place.
func (set reportSet) write(run *reports.Run) error {
	var first error
	for _, f := range set {
		err := f.write(f.tmp, run)
		if cerr := f.tmp.Close(); err == nil {
			err = cerr
		}
		if err == nil {
			err = os.Chmod(f.tmp.Name(), 0o644)
		}
		if err == nil {
			err = os.Rename(f.tmp.Name(), f.path)
		}
		if err != nil {
			os.Remove(f.tmp.Name())
			if first == nil {
				first = fmt.Errorf("writing %s %s: %w", f.flag, f.path, err)
			}
		}
	}
	return first
}

func (set reportSet) discard() {
	for _, f := range set {
		f.tmp.Close()
		os.Remove(f.tmp.Name())
	}
}

func listCatalogue(out io.Writer, ps []*specs.Profile) error {
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tLEVEL\tREQUIREMENT\tCITATION")
	for _, p := range ps {
		for _, c := range suites.Catalogue(p) {
			r := c.Requirement()
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", r.ID, r.Level, r.Statement, r.Citation)
		}
	}
	return tw.Flush()
}
