// Command opsconform-load measures the mock under load, against the limit of
// a bare net/http handler serving the same bytes and, where Node.js and Java
// are present, against Prism and WireMock serving the same page, and writes
// BENCHMARKS.md. `make load` runs it; it is not part of `make test`.
//
//	opsconform-load [-bin bin/opsconform] [-before OTHER_BINARY] [-out BENCHMARKS.md] …
//
// Every server runs as a process of its own on loopback, so cold start and
// memory are real. The run is bounded: targets × connection counts × rounds
// cells of -warmup plus -duration each, plus start-ups.
package main

import (
	"context"
	"debug/buildinfo"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	icholy "github.com/icholy/digest"
	"github.com/opsconform/opsconform/fixtures"
)

// config is what the flags set.
type config struct {
	bin, before, out, cache  string
	duration, warmup         time.Duration
	targetWarmup, toolWarmup time.Duration
	rounds, coldStarts       int
	conns                    []int
	prism, wiremock          bool
}

func main() {
	if len(os.Args) == 4 && os.Args[1] == "bare" {
		if err := serveBare(os.Args[2], os.Args[3]); err != nil {
			fmt.Fprintln(os.Stderr, "opsconform-load:", err)
			os.Exit(1)
		}
		return
	}
	cfg, err := parseFlags(os.Args[1:], os.Stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return
		}
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, cfg, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "opsconform-load:", err)
		os.Exit(1)
	}
}

func parseFlags(args []string, errOut io.Writer) (config, error) {
	var cfg config
	fs := flag.NewFlagSet("opsconform-load", flag.ContinueOnError)
	fs.SetOutput(errOut)
	fs.StringVar(&cfg.bin, "bin", "bin/opsconform", "the mock's binary")
	fs.StringVar(&cfg.before, "before", "", "another build of the mock (e.g. main before a change), measured in the same rounds")
	fs.StringVar(&cfg.out, "out", "BENCHMARKS.md", "where the report goes")
	fs.StringVar(&cfg.cache, "cache", ".bench", "where npm installs Prism and WireMock")
	fs.DurationVar(&cfg.duration, "duration", 2*time.Second, "measured time per cell")
	fs.DurationVar(&cfg.warmup, "warmup", 300*time.Millisecond, "unmeasured time at the start of each cell")
	fs.DurationVar(&cfg.targetWarmup, "target-warmup", time.Second, "load on each server, unmeasured, before the first round")
	fs.DurationVar(&cfg.toolWarmup, "tool-warmup", 10*time.Second, "the same for Prism and WireMock, whose JIT compilers need longer")
	fs.IntVar(&cfg.rounds, "rounds", 3, "alternating rounds; the report shows medians")
	fs.IntVar(&cfg.coldStarts, "cold-starts", 5, "starts of the mock timed for cold start (the last one is loaded)")
	conns := fs.String("conns", "1,16,64", "connection counts, comma-separated")
	fs.BoolVar(&cfg.prism, "prism", true, "measure Prism (needs Node.js; the report says when it could not)")
	fs.BoolVar(&cfg.wiremock, "wiremock", true, "measure WireMock (needs Node.js for npm, and Java; the report says when it could not)")
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(errOut, "opsconform-load: unexpected arguments %q\n", fs.Args())
		return cfg, errors.New("usage")
	}
	for s := range strings.SplitSeq(*conns, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 1 || n > 1024 {
			fmt.Fprintf(errOut, "opsconform-load: -conns %q: want counts between 1 and 1024\n", *conns)
			return cfg, errors.New("usage")
		}
		cfg.conns = append(cfg.conns, n)
	}
	if cfg.rounds < 1 || cfg.coldStarts < 1 || cfg.duration <= 0 || cfg.warmup < 0 {
		fmt.Fprintln(errOut, "opsconform-load: -rounds and -cold-starts must be at least 1, -duration positive")
		return cfg, errors.New("usage")
	}
	return cfg, nil
}

// page is one profile's 100-item page and how a client authenticates for it.
type page struct {
	profile, mode string
	target        string // request target: path and query
	headers       []string
	digest        *[2]string
}

func (p page) path() string { u, _ := url.Parse(p.target); return u.Path }

// pages reads the demo keys labelled "full" from the embedded fixtures.
func pages() ([]page, error) {
	full := func(profile string) (fixtures.Key, *fixtures.Set, error) {
		set, err := fixtures.Load(fixtures.Embedded(), profile)
		if err != nil {
			return fixtures.Key{}, nil, err
		}
		for _, k := range set.Keys {
			for _, l := range k.Labels {
				if l == "full" {
					return k, set, nil
				}
			}
		}
		return fixtures.Key{}, nil, fmt.Errorf("fixtures %s: no key labelled full", profile)
	}
	om, _, err := full("opsmerge")
	if err != nil {
		return nil, err
	}
	opm, _, err := full("opmanager")
	if err != nil {
		return nil, err
	}
	iv, _, err := full("ivanti-ism")
	if err != nil {
		return nil, err
	}
	mdb, set, err := full("mongodb-opsmanager")
	if err != nil {
		return nil, err
	}
	org := set.Params["orgId"]
	if org == "" {
		return nil, errors.New("fixtures mongodb-opsmanager: no orgId among params")
	}
	return []page{
		{profile: "opsmerge", mode: "Bearer", target: "/api/v1/agents?page=1&per_page=100", headers: []string{"Authorization: Bearer " + om.Secret}},
		{profile: "opmanager", mode: "apikey", target: "/api/json/v2/device/listDevices?page=1&rows=100", headers: []string{"apikey: " + opm.Secret}},
		{profile: "ivanti-ism", mode: "rest_api_key", target: "/api/odata/businessobject/incidents?$top=100&$skip=0", headers: []string{"Authorization: rest_api_key=" + iv.Secret}},
		{profile: "mongodb-opsmanager", mode: "Digest", target: "/api/public/v1.0/orgs/" + org + "/apiKeys?pageNum=1&itemsPerPage=100", digest: &[2]string{mdb.PublicKey, mdb.PrivateKey}},
	}, nil
}

// capture fetches each page from a running mock once, with its headers.
func capture(addr string, ps []page) ([]*capturedPage, error) {
	var out []*capturedPage
	for _, p := range ps {
		client := &http.Client{Timeout: 10 * time.Second}
		if p.digest != nil {
			client.Transport = &icholy.Transport{Username: p.digest[0], Password: p.digest[1]}
		}
		req, err := http.NewRequest("GET", "http://"+addr+p.target, nil)
		if err != nil {
			return nil, err
		}
		req.Header.Set("Accept", "application/json")
		for _, h := range p.headers {
			k, v, _ := strings.Cut(h, ": ")
			req.Header.Set(k, v)
		}
		resp, err := client.Do(req)
		if err != nil {
			return nil, fmt.Errorf("capture %s: %w", p.profile, err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			return nil, fmt.Errorf("capture %s: %w", p.profile, err)
		}
		if resp.StatusCode != 200 {
			return nil, fmt.Errorf("capture %s: GET %s: %s: %.300s", p.profile, p.target, resp.Status, body)
		}
		h := map[string][]string{}
		for k, v := range resp.Header {
			if !hopHeaders[k] {
				h[k] = v
			}
		}
		out = append(out, &capturedPage{Name: p.profile, Path: p.path(), Target: p.target, Header: h, body: body})
	}
	return out, nil
}

// staticDigestHeader is an Authorization header shaped like a Digest
// client's, for sending the bare handler requests as long as the mock gets.
func staticDigestHeader(p page) string {
	d := &digestClient{user: p.digest[0], pass: p.digest[1], method: "GET", uri: p.target}
	_ = d.challenged(`Digest realm="MMS Public API", nonce="` + strings.Repeat("0", 64) + `", algorithm=MD5, qop="auth"`)
	return "Authorization: " + d.authorization()
}

func run(ctx context.Context, cfg config, log io.Writer) error {
	bin, err := filepath.Abs(cfg.bin)
	if err != nil {
		return err
	}
	if _, err := os.Stat(bin); err != nil {
		return fmt.Errorf("the mock's binary: %w (make build makes it)", err)
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	ps, err := pages()
	if err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "opsconform-load-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)

	rep := &report{date: time.Now(), machine: thisMachine(), command: "opsconform-load " + strings.Join(os.Args[1:], " "),
		duration: cfg.duration, warmup: cfg.warmup, rounds: cfg.rounds, conns: cfg.conns,
		targetWarmup: cfg.targetWarmup, toolWarmup: cfg.toolWarmup,
		results: results{}, versions: map[string]string{}, pages: map[string]int{}}
	defer func() {
		for _, p := range rep.procs {
			p.stop()
		}
	}()

	// The mock (and the build it is compared with): timed starts, then its pages.
	startMock := func(name, bin string, extra ...string) (*proc, string, error) {
		if len(extra) == 0 { // the same build with flags is no other version
			rep.versions[name] = filepath.Base(bin) + ": " + binaryVersion(bin)
		}
		var p *proc
		var addr string
		var starts []time.Duration
		for range cfg.coldStarts {
			if p != nil {
				p.stop()
			}
			if addr, err = freeAddr(); err != nil {
				return nil, "", err
			}
			p = &proc{name: name, argv: append([]string{bin, "mock", "--addr", addr, "--quiet", "--time-scale", "1000000"}, extra...)}
			probe := &target{name: name, addr: addr, path: ps[0].target, headers: ps[0].headers}
			if err := p.start(func() bool { return probeOnce(probe) }, 30*time.Second); err != nil {
				return nil, "", err
			}
			starts = append(starts, p.coldStarts...)
		}
		p.coldStarts = starts
		rep.procs = append(rep.procs, p)
		time.Sleep(500 * time.Millisecond)
		p.idle, err = p.memory()
		return p, addr, err
	}
	fmt.Fprintf(log, "starting the mock %d times (cold start)\n", cfg.coldStarts)
	mockProc, mockAddr, err := startMock("mock", bin)
	if err != nil {
		return err
	}
	// The mock of one vendor, as a developer of one client runs it: its
	// start and idle memory only (the load goes to the four-profile mock).
	fmt.Fprintf(log, "starting the mock of %s alone %d times (cold start)\n", ps[0].profile, cfg.coldStarts)
	one, _, err := startMock("mock --profile "+ps[0].profile, bin, "--profile", ps[0].profile)
	if err != nil {
		return err
	}
	one.stop()
	one.startOnly = true
	captured, err := capture(mockAddr, ps)
	if err != nil {
		return err
	}
	byProfile := map[string]*capturedPage{}
	for _, c := range captured {
		byProfile[c.Name] = c
		rep.pages[c.Name] = len(c.body)
	}

	// The bare handler: the same bytes, nothing else.
	manifest, err := writeManifest(tmp, captured)
	if err != nil {
		return err
	}
	bareAddr, err := freeAddr()
	if err != nil {
		return err
	}
	bare := &proc{name: "bare", argv: []string{self, "bare", bareAddr, manifest}}
	probeBare := &target{name: "bare", addr: bareAddr, path: ps[0].target, want: byProfile[ps[0].profile].body}
	if err := bare.start(func() bool { return probeOnce(probeBare) }, 30*time.Second); err != nil {
		return err
	}
	rep.procs = append(rep.procs, bare)
	time.Sleep(500 * time.Millisecond)
	bare.idle, _ = bare.memory()

	for _, p := range ps {
		hdr := p.headers
		if p.digest != nil {
			hdr = []string{staticDigestHeader(p)}
		}
		rep.targets = append(rep.targets, &target{name: "bare", group: "bare", page: p.profile, addr: bareAddr, path: p.target, headers: hdr, want: byProfile[p.profile].body, server: bare})
	}
	for _, p := range ps {
		rep.targets = append(rep.targets, &target{name: "mock " + p.mode, group: "mock", page: p.profile, addr: mockAddr, path: p.target, headers: p.headers, digest: p.digest, want: byProfile[p.profile].body, server: mockProc})
	}
	if cfg.before != "" {
		before, err := filepath.Abs(cfg.before)
		if err != nil {
			return err
		}
		fmt.Fprintf(log, "starting the other build %d times (cold start)\n", cfg.coldStarts)
		beforeProc, addr, err := startMock("before", before)
		if err != nil {
			return err
		}
		own, err := capture(addr, ps) // its MongoDB links name its own port
		if err != nil {
			return err
		}
		for i, p := range ps {
			rep.targets = append(rep.targets, &target{name: "before " + p.mode, group: "before", page: p.profile, addr: addr, path: p.target, headers: p.headers, digest: p.digest, want: own[i].body, server: beforeProc})
		}
	}

	// Prism and WireMock, serving the OpsMerge page.
	om := byProfile["opsmerge"]
	tools := &nodeTools{cache: cfg.cache}
	if cfg.prism || cfg.wiremock {
		fmt.Fprintln(log, "locating Prism and WireMock (npm installs them into", filepath.Join(cfg.cache, "node"), "when missing)")
		tools.locate(cfg.prism, cfg.wiremock)
	}
	if !cfg.prism {
		rep.missing = append(rep.missing, "Prism: not asked for (-prism=false)")
	} else if tools.prism == "" {
		rep.missing = append(rep.missing, "Prism: "+tools.prismWhy)
	} else if t, err := startPrism(rep, tools.prism, tmp, om, ps[0]); err != nil {
		rep.missing = append(rep.missing, "Prism: "+strings.ReplaceAll(err.Error(), "\n", " "))
	} else {
		rep.targets = append(rep.targets, t)
	}
	if !cfg.wiremock {
		rep.missing = append(rep.missing, "WireMock: not asked for (-wiremock=false)")
	} else if tools.wiremockJar == "" {
		rep.missing = append(rep.missing, "WireMock: "+tools.wmWhy)
	} else if t, err := startWireMock(rep, tools.wiremockJar, tmp, om, ps[0]); err != nil {
		rep.missing = append(rep.missing, "WireMock: "+strings.ReplaceAll(err.Error(), "\n", " "))
	} else {
		rep.targets = append(rep.targets, t)
	}

	// Warm every server up, then the rounds.
	for _, t := range rep.targets {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		d := cfg.targetWarmup
		if t.group == "prism" || t.group == "wiremock" {
			d = cfg.toolWarmup
		}
		c := t.run(16, 0, d)
		fmt.Fprintf(log, "warm-up %-20s %-20s %8.0f req/s %s\n", t.name, t.page, c.rps(), c.firstErr)
	}
	// Each page's servers run back to back, its bare handler among them, so
	// a ratio compares cells seconds apart; the order of pages and of
	// servers within a page rotates each round.
	groups := pageGroups(rep.targets)
	for r := range cfg.rounds {
		for _, n := range cfg.conns {
			for gi := range groups {
				g := groups[(gi+r)%len(groups)]
				for ti := range g {
					if ctx.Err() != nil {
						return ctx.Err()
					}
					t := g[(ti+r)%len(g)]
					c := t.run(n, cfg.warmup, cfg.duration)
					rep.results.add(t, n, c)
					fmt.Fprintf(log, "round %d/%d %3d conns  %-20s %-20s %8.0f req/s  p99 %-9s  server CPU/req %-7s errors %d %s\n",
						r+1, cfg.rounds, n, t.name, t.page, c.rps(), fmtSeconds(c.hist.quantile(0.99).Seconds()),
						fmtSeconds(c.cpuPerRequest().Seconds()), c.errs, c.firstErr)
				}
			}
		}
	}
	for _, p := range rep.procs {
		if p.startOnly {
			continue
		}
		if !p.alive() {
			return fmt.Errorf("%s exited during the run; its output ends:\n%s", p.name, p.out.String())
		}
		p.loaded, _ = p.memory()
	}
	rep.machine.loadEnd = loadAverage()

	f, err := os.Create(cfg.out)
	if err != nil {
		return err
	}
	if err := rep.write(f); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	fmt.Fprintln(log, "wrote", cfg.out)
	return nil
}

// pageGroups splits targets by the page they serve, in order of first appearance.
func pageGroups(targets []*target) [][]*target {
	var groups [][]*target
	index := map[string]int{}
	for _, t := range targets {
		i, ok := index[t.page]
		if !ok {
			i = len(groups)
			index[t.page] = i
			groups = append(groups, nil)
		}
		groups[i] = append(groups[i], t)
	}
	return groups
}

// binaryVersion is what the binary's version command prints, with the
// commit it was built from when Go recorded one.
func binaryVersion(bin string) string {
	out, err := exec.Command(bin, "version").Output()
	v := strings.TrimSpace(string(out))
	if err != nil {
		v = "version: " + err.Error()
	}
	if info, err := buildinfo.ReadFile(bin); err == nil {
		rev, modified := "", false
		for _, s := range info.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.modified":
				modified = s.Value == "true"
			}
		}
		if rev != "" {
			v += ", commit " + rev[:min(12, len(rev))]
			if modified {
				v += " with uncommitted changes"
			}
		}
	}
	return v
}

func startPrism(rep *report, entry, tmp string, om *capturedPage, p page) (*target, error) {
	spec, err := prismSpec(om)
	if err != nil {
		return nil, err
	}
	file := filepath.Join(tmp, "prism.json")
	if err := os.WriteFile(file, spec, 0o644); err != nil {
		return nil, err
	}
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	_, port, _ := strings.Cut(addr, ":")
	pr := &proc{name: "Prism " + prismVersion, argv: []string{"node", entry, "mock", "-h", "127.0.0.1", "-p", port, "-v", "silent", file}}
	t := &target{name: "Prism", group: "prism", page: om.Name, addr: addr, path: p.target, headers: p.headers, want: om.body, sameJSON: true, server: pr}
	if err := pr.start(func() bool { return probeOnce(t) }, 60*time.Second); err != nil {
		return nil, err
	}
	rep.procs = append(rep.procs, pr)
	time.Sleep(500 * time.Millisecond)
	pr.idle, _ = pr.memory()
	rep.versions["Prism"] = prismPackage + "@" + prismVersion + ", node " + commandVersion("node", "--version")
	return t, nil
}

func startWireMock(rep *report, jar, tmp string, om *capturedPage, p page) (*target, error) {
	root := filepath.Join(tmp, "wiremock")
	if err := os.MkdirAll(filepath.Join(root, "mappings"), 0o755); err != nil {
		return nil, err
	}
	u, err := url.Parse(p.target)
	if err != nil {
		return nil, err
	}
	query := map[string]string{}
	for k, v := range u.Query() {
		query[k] = v[0]
	}
	_, auth, _ := strings.Cut(p.headers[0], ": ")
	mapping, err := wiremockMapping(om, query, auth)
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(root, "mappings", "page.json"), mapping, 0o644); err != nil {
		return nil, err
	}
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	_, port, _ := strings.Cut(addr, ":")
	wm := &proc{name: "WireMock " + wiremockVersion, argv: []string{"java", "-jar", jar, "--bind-address", "127.0.0.1", "--port", port,
		"--root-dir", root, "--disable-banner", "--disable-request-logging", "--max-request-journal-entries", "200"}}
	t := &target{name: "WireMock", group: "wiremock", page: om.Name, addr: addr, path: p.target, headers: p.headers, want: om.body, sameJSON: true, server: wm}
	if err := wm.start(func() bool { return probeOnce(t) }, 120*time.Second); err != nil {
		return nil, err
	}
	rep.procs = append(rep.procs, wm)
	time.Sleep(500 * time.Millisecond)
	wm.idle, _ = wm.memory()
	rep.versions["WireMock"] = wiremockPackage + "@" + wiremockVersion + " (standalone jar), " + firstLine(commandVersion("java", "-version"))
	return t, nil
}

func commandVersion(name string, args ...string) string {
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		return "unknown"
	}
	return strings.TrimSpace(string(out))
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}
