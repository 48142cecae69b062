package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"os"
	"runtime/debug"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/opsconform/opsconform/fixtures"
	"github.com/opsconform/opsconform/internal/residency"
	"github.com/opsconform/opsconform/mock"
	"github.com/opsconform/opsconform/specs"
	"github.com/spf13/pflag"
)

type mockOptions struct {
	selection
	addr      string
	fixtures  string
	seed      int64
	noControl bool
	noCORS    bool
	quiet     bool
	timeScale float64
	journal   int
	ietf      bool
	faults    []string
	deviate   []string
	listDevs  bool
	tls       bool
	tlsCert   string
	tlsKey    string
	ctlToken  string
	digestAlg []string
}

func mockCommand() *command {
	return &command{
		name:    "mock",
		summary: "serve the mock of the profiles' documented behaviour",
		usage:   "[--addr HOST:PORT] [--profile NAME]... [--spec FILE]... [--fixtures DIR] [--seed N] [--digest-algorithms LIST] [--tls | --tls-cert FILE --tls-key FILE]",
		long: `Serve the mock on --addr: every embedded profile by default (their base paths
do not collide), the ones named with --profile, or any OpenAPI 3 file with --spec.
Only the descriptions selected are loaded: the mock of one profile starts in
under half the time and holds about two fifths of the memory. Keys,
users and starting data come from the embedded fixtures, or from
<profile>.yaml files in --fixtures DIR; a profile without a file there keeps
its embedded fixtures, and the banner says which each profile uses. A spec
without fixtures gets demo keys minted from --seed, printed with a curl line
per security scheme. Generated data depends only on --seed.

The control API lives under /__opsconform/: health, profiles, reset, faults,
the request journal, and per profile the demo credentials, keys (create, list,
disable, enable, revoke, regenerate, expire, delete), their rate-limit budgets
(read, reset) and users (deactivate, activate, disable-api, enable-api). On a
loopback address it is open to local clients (not to other sites' pages in a
browser); on an address other machines can reach, every call but health needs
Authorization: Bearer TOKEN, with the token from --control-token, or made at
start and printed in the banner.

The journal (GET /__opsconform/requests) keeps the latest 512 requests
(--journal-entries N): method, URI, headers, the first 2 KiB of both bodies,
status, duration, profile, operation and key id, all with secrets redacted,
and for every refusal why, as a code (reasonCode: key-revoked, scope-missing,
rate-limited, ...) and in words. It filters by status (401, 4xx), profile,
operation, key (an id), reason and since. The web console at /__opsconform/ui
shows it live, with the profiles, the keys (disable, revoke, regenerate,
expire) and the faults; it never shows a secret. With a control token, open
the console with #token=TOKEN after its URL, or paste the token when it asks.

HTTP Digest schemes challenge with the algorithms their spec names, one
WWW-Authenticate each (MongoDB: MD5 alone, as Ops Manager sends);
--digest-algorithms MD5,SHA-256 offers those instead, in that order, and
verifies a response in any of them.

Rate limits are counted per key and operation class over the windows the specs
document; --time-scale 60 makes a minute last a second, and every header
reports the scaled seconds.
One line per request goes to stderr, with secrets redacted and, for a
refusal, its reason (--quiet turns it off): any parameter a security scheme or
common usage names a credential, and any known key wherever it is sent.

Requests over 8 KiB of URI, 32 KiB of headers or 1 MiB of body get 414, 431
or 413 in the vendor's envelope; on SIGINT or SIGTERM the mock stops taking
connections and finishes the requests in flight (up to 10 s).

--tls serves HTTPS with a self-signed certificate made at start (for localhost,
127.0.0.1, ::1, the machine's name and the listening address); the banner
prints its SHA-256 fingerprint. --tls-cert and --tls-key serve your own
certificate (PEM) instead. The banner's URL is one a client on this machine
can use: a listener on 0.0.0.0 or [::] is shown through loopback.`,
		flags: func(fs *pflag.FlagSet) any {
			o := &mockOptions{}
			fs.StringVar(&o.addr, "addr", "127.0.0.1:8060", "address to listen on")
			o.selection.register(fs)
			fs.StringVar(&o.fixtures, "fixtures", "", "directory of <profile>.yaml fixtures; a profile without a file there keeps its embedded ones")
			fs.Int64Var(&o.seed, "seed", 1, "seed for generated data: the same seed gives byte-identical responses")
			fs.BoolVar(&o.noControl, "no-control", false, "turn the /__opsconform/ control API off")
			fs.BoolVar(&o.noCORS, "no-cors", false, "do not answer browsers' CORS preflights or send Access-Control-* headers (on by default, as in Prism)")
			fs.StringVar(&o.ctlToken, "control-token", "", "require Authorization: Bearer `TOKEN` on the control API (but health); off loopback one is made and printed when not given")
			fs.BoolVar(&o.quiet, "quiet", false, "do not log requests")
			fs.IntVar(&o.journal, "journal-entries", mock.JournalSize, fmt.Sprintf("how many of the latest requests the journal keeps (`N`, 1 to %d; up to about 5 KiB each)", mock.MaxJournalEntries))
			fs.Float64Var(&o.timeScale, "time-scale", 1, "make every rate-limit window this many times shorter (60 turns a minute into a second)")
			fs.BoolVar(&o.ietf, "ietf-ratelimit-headers", false, "also send the IETF draft's RateLimit-Policy and RateLimit fields")
			fs.StringSliceVar(&o.digestAlg, "digest-algorithms", nil, "challenge HTTP Digest with these algorithms, in this `LIST` order (MD5, SHA-256), instead of the spec's")
			fs.StringArrayVar(&o.faults, "fault", nil, "inject a `FAULT`, repeatable: kind=latency|reset|empty|malformed|truncate|status|deviation with\nprofile, operation, probability, count, status, latency, latencyMax, deviation (key=value,… or JSON)")
			fs.StringArrayVar(&o.deviate, "deviate", nil, "break one documented rule the way a real implementation would, repeatable: a `NAME` from --list-deviations,\noptionally NAME@PROFILE")
			fs.BoolVar(&o.listDevs, "list-deviations", false, "print every deviation with the requirements it breaks, and exit")
			fs.BoolVar(&o.tls, "tls", false, "serve HTTPS with a self-signed certificate made at start (its fingerprint is printed)")
			fs.StringVar(&o.tlsCert, "tls-cert", "", "serve HTTPS with the PEM certificate (chain) in `FILE`; needs --tls-key")
			fs.StringVar(&o.tlsKey, "tls-key", "", "the PEM private key of --tls-cert, in `FILE`")
			return o
		},
		run: runMock,
	}
}

// shutdownGrace is how long a stopping mock keeps answering the requests in flight.
const shutdownGrace = 10 * time.Second

func runMock(ctx context.Context, opts any, out, errOut io.Writer) error {
	o := opts.(*mockOptions)
	if o.journal < 1 || o.journal > mock.MaxJournalEntries {
		return usageError{fmt.Sprintf("--journal-entries %d: want 1 to %d", o.journal, mock.MaxJournalEntries)}
	}
	if !(o.timeScale > 0 && o.timeScale <= 1e6) { // written so that NaN fails too
		return usageError{fmt.Sprintf("--time-scale %g: want a factor above 0 and at most 1e6", o.timeScale)}
	}
	if _, _, err := net.SplitHostPort(o.addr); err != nil {
		return usageError{fmt.Sprintf("--addr %q: want HOST:PORT, such as 127.0.0.1:8060", o.addr)}
	}
	digestAlgs, err := mock.ParseDigestAlgorithms(o.digestAlg)
	if err != nil {
		return usageError{"--digest-algorithms: " + err.Error()}
	}
	gc := &gcPhase{}
	if len(o.specs) == 0 && o.fixtures == "" {
		gc = startGCPhase()
		defer gc.done()
	}
	ps, err := o.load()
	if err != nil {
		return err
	}
	if o.listDevs {
		return listDeviations(out, ps)
	}
	faults, err := o.faultList()
	if err != nil {
		return err
	}
	var fix fs.FS
	if o.fixtures != "" {
		if st, err := os.Stat(o.fixtures); err != nil || !st.IsDir() {
			return usageError{fmt.Sprintf("--fixtures %s: not a directory", o.fixtures)}
		}
		fix = fixtures.Dir(o.fixtures)
	}
	ctlToken, ctlTokenMade, err := controlToken(o.ctlToken, o.addr)
	if err != nil {
		return err
	}
	logger := slog.New(slog.NewTextHandler(errOut, nil))
	if o.quiet {
		logger = slog.New(slog.DiscardHandler)
	}
	srv, err := mock.New(mock.Options{Profiles: ps, Fixtures: fix, Seed: o.seed, NoControl: o.noControl, ControlToken: ctlToken,
		TimeScale: o.timeScale, IETFRateLimitHeaders: o.ietf, Faults: faults, NoCORS: o.noCORS, Logger: logger, DigestAlgorithms: digestAlgs,
		ReleaseMemory: true, JournalEntries: o.journal})
	gc.serving()
	if err != nil {
		return err
	}
	warn(errOut, "mock", srv.Warnings())
	if (o.tlsCert == "") != (o.tlsKey == "") {
		return usageError{"--tls-cert and --tls-key go together: give both files"}
	}
	var cert *tls.Certificate
	if o.tlsCert != "" {
		c, err := tls.LoadX509KeyPair(o.tlsCert, o.tlsKey)
		if err != nil {
			return usageError{fmt.Sprintf("--tls-cert %s, --tls-key %s: %v", o.tlsCert, o.tlsKey, err)}
		}
		cert = &c
	}
	ln, err := net.Listen("tcp", o.addr)
	if err != nil {
		return fmt.Errorf("cannot listen on %s: %v", o.addr, err)
	}
	selfSigned := cert == nil && o.tls
	if selfSigned {
		host, _ := os.Hostname()
		c, err := mock.SelfSignedCertificate(mock.CertificateHosts(ln.Addr(), host), time.Now())
		if err != nil {
			ln.Close()
			return err
		}
		cert = &c
	}
	hs := mock.NewHTTPServer(srv)
	scheme := "http"
	var curlArgs []string
	if cert != nil {
		scheme = "https"
		hs.TLSConfig = &tls.Config{Certificates: []tls.Certificate{*cert}, MinVersion: tls.VersionTLS12}
		if selfSigned {
			curlArgs = []string{"-k"}
		}
	}
	base := mock.BaseURL(scheme, ln.Addr())
	fmt.Fprintf(out, "opsconform mock listening on %s\n", base)
	if base != scheme+"://"+ln.Addr().String() {
		fmt.Fprintf(out, "(on %s: every interface; reach it on this machine as above)\n", ln.Addr())
	}
	if cert != nil {
		what := "certificate from " + o.tlsCert
		if selfSigned {
			what = "self-signed certificate (trust it, or use curl -k and opsconform check --insecure)"
		}
		fmt.Fprintf(out, "TLS: %s, SHA-256 fingerprint %s\n", what, mock.Fingerprint(cert.Certificate[0]))
	}
	fmt.Fprintln(out)
	for _, p := range ps {
		fmt.Fprintf(out, "  %-20s %s%s  (%s)\n", p.Name, base, p.BasePath, srv.AuthDescription(p))
		if fix != nil {
			fmt.Fprintf(out, "  %-20s fixtures: %s\n", "", fixtures.Origin(fix, p.Name))
		}
	}
	if !o.noControl {
		fmt.Fprintf(out, "  %-20s %s%s\n", "control API", base, mock.ControlPrefix)
		switch {
		case ctlTokenMade:
			fmt.Fprintf(out, "  %-20s reachable from other machines: every call but health needs\n  %-20s Authorization: Bearer %s\n", "", "", ctlToken)
		case ctlToken != "":
			fmt.Fprintf(out, "  %-20s every call but health needs Authorization: Bearer <--control-token>\n", "")
		}
		switch {
		case ctlTokenMade:
			// The fragment never reaches the server; the page keeps the token in its tab only.
			fmt.Fprintf(out, "  %-20s %s%sui#token=%s\n", "web console", base, mock.ControlPrefix, ctlToken)
		case ctlToken != "":
			fmt.Fprintf(out, "  %-20s %s%sui  (it asks for the control token; or append #token=<token>)\n", "web console", base, mock.ControlPrefix)
		default:
			fmt.Fprintf(out, "  %-20s %s%sui\n", "web console", base, mock.ControlPrefix)
		}
	}
	for _, f := range faults {
		what := string(f.Kind)
		if f.Deviation != "" {
			what = "deviation " + f.Deviation
		}
		fmt.Fprintf(out, "  fault: %s%s\n", what, scopeNote(f))
	}
	if demos := srv.Demos(base, curlArgs...); len(demos) > 0 {
		fmt.Fprintf(out, "\nTry it (demo keys from the fixtures, or minted from --seed for a spec without them):\n")
		for _, d := range demos {
			if d.Scheme != "" {
				fmt.Fprintf(out, "  # %s, %s\n  %s\n", d.Profile, d.Scheme, d.Curl)
			} else {
				fmt.Fprintf(out, "  # %s\n  %s\n", d.Profile, d.Curl)
			}
		}
	}
	fmt.Fprintln(out)

	// Start-up allocates about twice what it keeps (specs parsed, and a
	// --spec's or --fixtures' data generated; more still under
	// startGCPercent), and runs code serving never runs again: hand both
	// back to the OS once, while the first requests are served, so an idle
	// mock's RSS is what it holds and runs.
	go residency.Release()
	if err := mock.Serve(ctx, hs, ln, shutdownGrace); errors.Is(err, mock.ErrGraceExpired) {
		fmt.Fprintf(errOut, "opsconform mock: stopped; %v\n", err)
	} else if err != nil {
		return err
	}
	return nil
}

// startGCPercent is GOGC while the mock builds the embedded profiles.
// Start-up fills an empty heap, allocating about twice the 13 MiB it keeps;
// at the default of 100 the collector ran three times meanwhile, each cycle
// marking everything built so far and slowing the builders with its write
// barrier: a fifth of start-up's CPU. At 400 it runs about once, and the
// heap peaks a few MiB higher, garbage that FreeOSMemory hands back once
// serving starts.
const startGCPercent = 400

// servingGCPercent is GOGC while the mock serves the embedded profiles. A
// loaded mock's heap peaks at GOGC percent above what is live (the data of
// the profiles in use, pages in flight) plus the tenth the scavenger keeps:
// at 100 that was 80 to 83 MiB of RSS under make load's 64 connections,
// at 70 it is 73 to 75 MiB, for about 2% more CPU per request (make load,
// three rounds, alternating), since a request makes little garbage.
const servingGCPercent = 70

// gcPhases sets GOGC for the phases of the mocks this process runs on the
// embedded profiles alone: startGCPercent while any of them is starting,
// servingGCPercent while any is serving and none starting, and what it found
// once none runs (mocks started at once in one process: tests). A user's
// --spec or --fixtures may be of any size (GitHub's description keeps 375
// MiB), and its mock keeps the runtime's default; so does a process whose
// environment sets GOGC.
var gcPhases struct {
	sync.Mutex
	starting, serving int
	found             int
}

// gcPhase is one mock's place in gcPhases.
type gcPhase struct {
	once  sync.Once // serving
	final sync.Once // done
	on    bool
}

// startGCPhase counts a starting mock in gcPhases; the zero phase, which
// changes nothing, when the environment sets GOGC.
func startGCPhase() *gcPhase {
	if _, set := os.LookupEnv("GOGC"); set {
		return &gcPhase{}
	}
	gcPhases.Lock()
	defer gcPhases.Unlock()
	if gcPhases.starting+gcPhases.serving == 0 {
		gcPhases.found = debug.SetGCPercent(startGCPercent)
	}
	gcPhases.starting++
	setGCPhase()
	return &gcPhase{on: true}
}

// serving moves the mock from starting to serving.
func (g *gcPhase) serving() {
	g.once.Do(func() {
		if !g.on {
			return
		}
		gcPhases.Lock()
		defer gcPhases.Unlock()
		gcPhases.starting--
		gcPhases.serving++
		setGCPhase()
	})
}

// done takes the mock out of gcPhases, starting or serving; safe to call twice.
func (g *gcPhase) done() {
	g.final.Do(func() {
		if !g.on {
			return
		}
		g.serving()
		gcPhases.Lock()
		defer gcPhases.Unlock()
		gcPhases.serving--
		setGCPhase()
	})
}

// setGCPhase sets GOGC for gcPhases' counts; the caller holds its lock.
func setGCPhase() {
	switch {
	case gcPhases.starting > 0:
		debug.SetGCPercent(startGCPercent)
	case gcPhases.serving > 0:
		debug.SetGCPercent(servingGCPercent)
	default:
		debug.SetGCPercent(gcPhases.found)
	}
}

// faultList reads --fault and --deviate into faults.
func (o *mockOptions) faultList() ([]mock.Fault, error) {
	var out []mock.Fault
	for _, s := range o.faults {
		f, err := mock.ParseFault(s)
		if err != nil {
			return nil, usageError{"--fault: " + err.Error()}
		}
		out = append(out, f)
	}
	for _, name := range o.deviate {
		name, profile, _ := strings.Cut(strings.TrimSpace(name), "@")
		out = append(out, mock.Fault{Kind: mock.FaultDeviation, Deviation: name, Profile: profile})
	}
	return out, nil
}

func scopeNote(f mock.Fault) string {
	var parts []string
	if f.Profile != "" {
		parts = append(parts, "profile "+f.Profile)
	}
	if f.Operation != "" {
		parts = append(parts, "operation "+f.Operation)
	}
	if len(parts) == 0 {
		return ""
	}
	return " (" + strings.Join(parts, ", ") + ")"
}

// listDeviations prints each deviation with the requirements it breaks on
// each profile it applies to.
func listDeviations(out io.Writer, ps []*specs.Profile) error {
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "DEVIATION\tBREAKS\tHOW")
	for _, d := range mock.Deviations(ps) {
		var ids []string
		for _, p := range d.Profiles {
			for _, b := range d.Breaks {
				ids = append(ids, strings.ToUpper(p)+"-"+b)
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", d.Name, strings.Join(ids, " "), d.Summary)
	}
	return tw.Flush()
}
