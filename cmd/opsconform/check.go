package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

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
	only, skip  []string
	timeout     time.Duration
	maxWait     time.Duration
	tolerance   float64
	list        bool
}

func checkCommand() *command {
	return &command{
		name:    "check",
		summary: "run a profile's conformance suite against a server, real or the mock",
		usage:   "--target URL (--profile NAME | --spec FILE) [--credentials FILE] [--junit FILE] [--summary FILE] [--only IDs] [--skip IDs]",
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
a reason. Against the mock, key lifecycles are set up through its control API.

Progress goes to stdout, one line per requirement. --junit writes JUnit XML for
CI, --summary a Markdown summary; neither ever contains a secret.
Exit 0 when every MUST passes, 1 when one fails, 2 for usage errors or an
unreachable target.`,
		flags: func(fs *pflag.FlagSet) any {
			o := &checkOptions{}
			fs.StringVar(&o.target, "target", "", "base URL of the server to check, e.g. http://127.0.0.1:8060")
			o.selection.register(fs)
			fs.StringVar(&o.credentials, "credentials", "", "YAML `FILE` of keys by role per profile (default: the mock's fixture keys)")
			fs.StringVar(&o.junit, "junit", "", "write JUnit XML to `FILE`")
			fs.StringVar(&o.summary, "summary", "", "write a Markdown summary to `FILE`")
			fs.StringSliceVar(&o.only, "only", nil, "run only these requirement IDs or ID prefixes (OPSMERGE-AUTH)")
			fs.StringSliceVar(&o.skip, "skip", nil, "skip these requirement IDs or ID prefixes")
			fs.DurationVar(&o.timeout, "timeout", 10*time.Second, "give up on a request after this long")
			fs.DurationVar(&o.maxWait, "max-wait", 90*time.Second, "the longest Retry-After to wait out; longer waits skip the recovery check")
			fs.Float64Var(&o.tolerance, "rate-tolerance", 0.1, "against a real server, how far the admitted count may stray from the documented rate limit, as a fraction of it (the mock's count must be exact)")
			fs.BoolVar(&o.list, "list", false, "print the requirement catalogue of the profile(s) and exit")
			return o
		},
		run: runCheck,
	}
}

func runCheck(ctx context.Context, opts any, out, errOut io.Writer) error {
	o := opts.(*checkOptions)
	if o.timeout <= 0 || o.maxWait < 0 {
		return usageError{"--timeout must be positive and --max-wait not negative"}
	}
	if !(o.tolerance >= 0 && o.tolerance < 1) {
		return usageError{fmt.Sprintf("--rate-tolerance %g: want a fraction in [0, 1)", o.tolerance)}
	}
	ps, err := o.load()
	if err != nil {
		return err
	}
	if o.list {
		return listCatalogue(out, ps)
	}
	if o.target == "" {
		return usageError{"--target is required (the base URL of the server to check)"}
	}
	if len(ps) != 1 {
		return usageError{fmt.Sprintf("check one profile at a time: name it with --profile (one of %s), or give one --spec FILE", profileNames(ps))}
	}
	p := ps[0]
	warn(errOut, "check", p.Warnings)
	var creds *suites.Credentials
	if o.credentials != "" {
		f, err := suites.LoadCredentials(o.credentials)
		if err != nil {
			return err
		}
		if creds = f.Profiles[p.Name]; creds == nil {
			return usageError{fmt.Sprintf("%s has no credentials for profile %s", o.credentials, p.Name)}
		}
	}
	// Report files are opened first: a bad path fails before a long run, not after.
	junit, err := create(o.junit)
	if err != nil {
		return err
	}
	summary, err := create(o.summary)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "opsconform check: %s against %s\n", p.Name, o.target)
	run, err := suites.Run(ctx, suites.Config{Profile: p, Target: o.target, Credentials: creds, Timeout: o.timeout,
		MaxWait: o.maxWait, Only: o.only, Skip: o.skip, Progress: out, RateTolerance: o.tolerance})
	if err != nil {
		if errors.Is(err, suites.ErrUnreachable) {
			return usageError{err.Error()}
		}
		return err
	}
	if err := write(junit, o.junit, func(w io.Writer) error { return reports.WriteJUnit(w, run) }); err != nil {
		return err
	}
	if err := write(summary, o.summary, func(w io.Writer) error { return reports.WriteMarkdown(w, run) }); err != nil {
		return err
	}
	if c := run.Counts(); c.FailedMust > 0 {
		return nonconformance{fmt.Sprintf("%s does not conform: %d MUST requirement(s) failed", o.target, c.FailedMust)}
	}
	return nil
}

func profileNames(ps []*specs.Profile) string {
	var names []string
	for _, p := range ps {
		names = append(names, p.Name)
	}
	return strings.Join(names, ", ")
}

func create(path string) (*os.File, error) {
	if path == "" {
		return nil, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, usageError{fmt.Sprintf("cannot write %s: %v", path, err)}
	}
	return f, nil
}

func write(f *os.File, path string, fn func(io.Writer) error) error {
	if f == nil {
		return nil
	}
	err := fn(f)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
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
