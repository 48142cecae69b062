package main

import (
	"fmt"
	"io"
	"maps"
	"math"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"
)

// machine is where a run happened.
type machine struct {
	cpus               int
	cpuModel, kernel   string
	goVersion          string
	loadStart, loadEnd string // /proc/loadavg's first three fields
}

func thisMachine() machine {
	m := machine{cpus: runtime.NumCPU(), goVersion: runtime.Version(), cpuModel: "unknown", kernel: "unknown"}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for line := range strings.SplitSeq(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.cpuModel = strings.TrimSpace(v)
				break
			}
		}
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.kernel = strings.TrimSpace(string(b))
	}
	m.loadStart = loadAverage()
	return m
}

func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

// report is everything BENCHMARKS.md says.
type report struct {
	date     time.Time
	machine  machine
	command  string
	versions map[string]string // group → the binary's version line
	duration time.Duration     // each cell's measured window
	warmup   time.Duration
	// targetWarmup and toolWarmup are the unmeasured load before the rounds.
	targetWarmup, toolWarmup time.Duration
	rounds                   int
	conns                    []int

	targets []*target
	results results
	procs   []*proc
	// missing says, per tool asked for but not measured, why.
	missing []string
	// pages is each page's size in bytes, by profile.
	pages map[string]int
}

// baseline is the bare handler's target for t's page.
func (r *report) baseline(t *target) *target {
	for _, b := range r.targets {
		if b.group == "bare" && b.page == t.page {
			return b
		}
	}
	return nil
}

func (r *report) summary(t *target, conns int) (summary, bool) {
	cells := r.results[t.key()][conns]
	if len(cells) == 0 {
		return summary{}, false
	}
	var base []*cell
	if b := r.baseline(t); b != nil {
		base = r.results[b.key()][conns]
	}
	return summarize(cells, base), true
}

func (r *report) find(group, page string) *target {
	for _, t := range r.targets {
		if t.group == group && (page == "" || t.page == page) {
			return t
		}
	}
	return nil
}

func (r *report) proc(name string) *proc {
	for _, p := range r.procs {
		if p.name == name {
			return p
		}
	}
	return nil
}

// verdict is one of the targets, judged from the run.
type verdict struct {
	what, want, got string
	met             bool
	measured        bool
}

func (r *report) verdicts() []verdict {
	var out []verdict
	ratioAt := func(group, page string, conns int) (summary, bool) {
		t := r.find(group, page)
		if t == nil {
			return summary{}, false
		}
		return r.summary(t, conns)
	}
	for _, m := range []struct {
		page, mode string
		min        float64
	}{
		{"opsmerge", "Bearer", 0.60}, {"opmanager", "apikey", 0.60},
		{"ivanti-ism", "rest_api_key", 0.60}, {"mongodb-opsmanager", "Digest", 0.40},
	} {
		v := verdict{what: fmt.Sprintf("%s page (%s), 16 connections: req/s against bare", m.page, m.mode), want: fmt.Sprintf("≥ %.2f", m.min)}
		if s, ok := ratioAt("mock", m.page, 16); ok && s.rpsRatio > 0 {
			v.measured, v.got, v.met = true, fmt.Sprintf("%.2f", s.rpsRatio), s.rpsRatio >= m.min && s.errs == 0
			if s.errs > 0 {
				v.got += fmt.Sprintf(" (%d errors)", s.errs)
			}
		}
		out = append(out, v)
	}
	for _, m := range []struct{ page, mode string }{
		{"opsmerge", "Bearer"}, {"opmanager", "apikey"}, {"ivanti-ism", "rest_api_key"}, {"mongodb-opsmanager", "Digest"},
	} {
		v := verdict{what: fmt.Sprintf("%s page (%s), 64 connections: p99 against bare", m.page, m.mode), want: "≤ 2.00×"}
		if s, ok := ratioAt("mock", m.page, 64); ok && s.p99Ratio > 0 {
			v.measured, v.got, v.met = true, fmt.Sprintf("%.2f×", s.p99Ratio), s.p99Ratio <= 2
		}
		out = append(out, v)
	}
	mockRPS, haveMock := ratioAt("mock", "opsmerge", 16)
	for _, o := range []struct {
		group, name string
		min         float64
	}{{"prism", "Prism", 10}, {"wiremock", "WireMock", 2}} {
		v := verdict{what: fmt.Sprintf("OpsMerge page, 16 connections: the mock's req/s against %s's", o.name), want: fmt.Sprintf("≥ %.0f×", o.min)}
		if s, ok := ratioAt(o.group, "", 16); ok && haveMock && s.rps > 0 {
			x := mockRPS.rps / s.rps
			v.measured, v.got, v.met = true, fmt.Sprintf("%.1f×", x), x >= o.min
		} else {
			v.got = "not measured: " + r.missingReason(o.name)
		}
		out = append(out, v)
	}
	if p := r.proc("mock"); p != nil {
		v := verdict{what: "cold start, four profiles (median, exec to first 200)", want: "< 100 ms"}
		if len(p.coldStarts) > 0 {
			c := medianDuration(p.coldStarts)
			v.measured, v.got, v.met = true, fmtDuration(c), c < 100*time.Millisecond
		}
		out = append(out, v)
		out = append(out, verdict{what: "RSS idle (VmRSS after the first answer)", want: "< 40 MiB",
			measured: p.idle.rss > 0, got: fmtRSS(p.idle), met: p.idle.rss > 0 && p.idle.rss < 40<<10})
		out = append(out, verdict{what: "RSS after the load run (VmHWM, the peak)", want: "< 80 MiB",
			measured: p.loaded.hwm > 0, got: fmtKiB(p.loaded.hwm), met: p.loaded.hwm > 0 && p.loaded.hwm < 80<<10})
	}
	return out
}

func (r *report) missingReason(tool string) string {
	for _, m := range r.missing {
		if strings.HasPrefix(m, tool+":") {
			return strings.TrimSpace(strings.TrimPrefix(m, tool+":"))
		}
	}
	return "no result"
}

// write renders BENCHMARKS.md.
func (r *report) write(w io.Writer) error {
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	p("# Benchmarks\n\n")
	p("Written by `make load` (`%s`) on %s. Do not edit by hand: run it again.\n\n", r.command, r.date.UTC().Format("2006-01-02 15:04 MST"))
	p("## Machine\n\n")
	p("| | |\n|---|---|\n")
	p("| CPUs | %d (`nproc`), %s |\n", r.machine.cpus, r.machine.cpuModel)
	p("| kernel | Linux %s |\n", r.machine.kernel)
	p("| Go | %s |\n", r.machine.goVersion)
	p("| load average (1, 5, 15 min) | %s at the start, %s at the end |\n", r.machine.loadStart, r.machine.loadEnd)
	for _, g := range slices.Sorted(maps.Keys(r.versions)) {
		p("| %s | `%s` |\n", g, r.versions[g])
	}
	p("\nClient, servers and anything else running share these CPUs: absolute figures move with the machine's load; ")
	p("the ratios, each against the bare handler measured seconds before or after in the same round, are what to compare.\n\n")

	p("## Method\n\n")
	p("Every server listens on loopback and runs as its own process. The load generator is a closed loop: each connection ")
	p("sends a GET, reads the whole answer (checking the first body of every connection against the page), then sends the next. ")
	p("Each cell is %v of warm-up (connections opened, Digest nonces obtained) and %v measured; the cells run at ", r.warmup, r.duration)
	p("%s connections in %d alternating rounds. Within a round, each page's servers (its bare handler among them) run back to back, ", joinInts(r.conns), r.rounds)
	p("the order of pages and of servers rotated each round; the tables show the median over rounds. ")
	p("Latencies come from a log-linear histogram (1.6%% resolution), reported as the upper edge of the percentile's bucket. ")
	p("A ratio is the median over rounds of the server's figure divided by the bare handler's for the same page in the same round ")
	p("(req/s: higher is better; latency and CPU: lower is better). ")
	p("Server CPU/req is the server process's CPU time (user and system, all threads, from `/proc/PID/stat`) over the measured window, ")
	p("divided by the requests it answered: it moves less than req/s when other processes take the CPUs. ")
	p("Before the first round every server is loaded unmeasured at 16 connections (%v; Prism and WireMock, whose JIT compilers need it, %v).\n\n", r.targetWarmup, r.toolWarmup)
	p("- **bare**: a `net/http` handler in the mock's own `http.Server` (same limits and timeouts) writing the page's bytes and headers as the mock answered them once: the limit.\n")
	p("- **mock**: `opsconform mock` with all four profiles, `--quiet`, `--time-scale 1000000` (each key's rate-limit window is 60 µs, so no budget runs out: every request is still counted, and the headers still sent).\n")
	p("- **Prism** %s `mock -v silent` on an OpenAPI file whose 200 example is the OpsMerge page, with Bearer security; ", prismVersion)
	p("**WireMock** %s (the npm package's standalone jar) with one stub matching path, query and `Authorization`, the page inline, `--disable-request-logging --max-request-journal-entries 200`.\n", wiremockVersion)
	if len(r.missing) > 0 {
		p("\n**Not measured in this run:**\n\n")
		for _, m := range r.missing {
			p("- %s\n", m)
		}
	}
	p("\nPages (`GET`, 200; the same bytes from the bare handler and the mock, the same JSON from Prism and WireMock, checked on every connection's first answer):\n\n")
	for _, t := range r.targets {
		if t.group == "bare" {
			p("- %s: `%s`, %s bytes\n", t.page, t.path, thousands(float64(r.pages[t.page])))
		}
	}

	p("\n## Targets (issue #11)\n\n")
	p("| target | wanted | this run | |\n|---|---|---|---|\n")
	for _, v := range r.verdicts() {
		mark := "met"
		switch {
		case !v.measured:
			mark = "not measured"
			if v.got == "" {
				v.got = "—"
			}
		case !v.met:
			mark = "**not met**"
		}
		p("| %s | %s | %s | %s |\n", v.what, v.want, v.got, mark)
	}

	p("\n## Throughput and latency\n\n")
	p("| server | page | conns | req/s | ×bare | p50 | ×bare | p99 | ×bare | server CPU/req | ×bare | errors |\n")
	p("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, t := range r.targets {
		for _, n := range r.conns {
			s, ok := r.summary(t, n)
			if !ok {
				continue
			}
			ratio := func(x float64) string {
				if t.group == "bare" {
					return "1"
				}
				if x == 0 {
					return "—"
				}
				return fmt.Sprintf("%.2f", x)
			}
			errs := strconv.FormatUint(s.errs, 10)
			if s.stale > 0 {
				errs += fmt.Sprintf(" (+%d stale nonces)", s.stale)
			}
			p("| %s | %s | %d | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", t.name, t.page, n, thousands(s.rps), ratio(s.rpsRatio),
				fmtSeconds(s.p50), ratio(s.p50Ratio), fmtSeconds(s.p99), ratio(s.p99Ratio), fmtSeconds(s.cpu), ratio(s.cpuRatio), errs)
		}
	}
	var errNotes []string
	for _, t := range r.targets {
		for _, n := range r.conns {
			if s, ok := r.summary(t, n); ok && s.firstErr != "" {
				errNotes = append(errNotes, fmt.Sprintf("%s at %d connections: %s", t.name, n, s.firstErr))
			}
		}
	}
	if len(errNotes) > 0 {
		p("\nFirst error per cell with errors (errors are not counted in req/s):\n\n")
		for _, e := range errNotes {
			p("- %s\n", strings.ReplaceAll(e, "\n", " "))
		}
	}

	if r.find("before", "") != nil {
		p("\n## Before and after\n\n")
		p("The build given with `-before` (`%s`) against this one (`%s`), in the same rounds: ", r.versions["before"], r.versions["mock"])
		p("each against the bare handler, at every connection count.\n\n")
		p("| page (auth) | conns | req/s ×bare, before | after | p99 ×bare, before | after | server CPU/req, before | after |\n|---|---:|---:|---:|---:|---:|---:|---:|\n")
		for _, t := range r.targets {
			if t.group != "mock" {
				continue
			}
			b := r.find("before", t.page)
			if b == nil {
				continue
			}
			for _, n := range r.conns {
				after, ok1 := r.summary(t, n)
				before, ok2 := r.summary(b, n)
				if !ok1 || !ok2 {
					continue
				}
				p("| %s (%s) | %d | %.2f | %.2f | %.2f | %.2f | %s | %s |\n", t.page, strings.TrimPrefix(t.name, "mock "), n,
					before.rpsRatio, after.rpsRatio, before.p99Ratio, after.p99Ratio, fmtSeconds(before.cpu), fmtSeconds(after.cpu))
			}
		}
	}

	p("\n## Start-up and memory\n\n")
	p("Cold start: from `exec` to the first 200 on the page (polled every 2 ms on fresh connections). ")
	p("Idle RSS: VmRSS half a second after that first answer. After load: VmRSS and VmHWM (the peak) once every round has run. ")
	p("Each RSS is split into RssAnon, the memory the process holds (heap, stacks), and RssFile, pages of files it maps, mostly its own binary's: ")
	p("clean copies the kernel may drop at any time and fault back in from the page cache. ")
	p("Once it serves, after building a profile's data and after an operation's first request, the mock unmaps the pages of its binary that only start-up ran (`internal/residency`).\n\n")
	p("| process | cold start (median of %s) | idle RSS (anon + file) | RSS after load (anon + file) | peak RSS |\n|---|---:|---:|---:|---:|\n", "runs")
	for _, pr := range r.procs {
		cs := "—"
		if len(pr.coldStarts) > 0 {
			lo, hi := slices.Min(pr.coldStarts), slices.Max(pr.coldStarts)
			cs = fmt.Sprintf("%s (%d runs, %s–%s)", fmtDuration(medianDuration(pr.coldStarts)), len(pr.coldStarts), fmtDuration(lo), fmtDuration(hi))
		}
		p("| %s | %s | %s | %s | %s |\n", pr.name, cs, fmtRSS(pr.idle), fmtRSS(pr.loaded), fmtKiB(pr.loaded.hwm))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func medianDuration(ds []time.Duration) time.Duration {
	xs := make([]float64, len(ds))
	for i, d := range ds {
		xs[i] = float64(d)
	}
	return time.Duration(median(xs))
}

func joinInts(xs []int) string {
	s := make([]string, len(xs))
	for i, x := range xs {
		s[i] = strconv.Itoa(x)
	}
	return strings.Join(s, ", ")
}

// thousands formats x rounded to a whole number with comma separators.
func thousands(x float64) string {
	s := strconv.FormatInt(int64(math.Round(x)), 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var out []byte
	for i := range len(s) {
		if i > 0 && (len(s)-i)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, s[i])
	}
	if neg {
		return "-" + string(out)
	}
	return string(out)
}

// fmtSeconds shows a latency in µs below a millisecond, else in ms.
func fmtSeconds(s float64) string {
	switch {
	case s <= 0:
		return "—"
	case s < 1e-3:
		return fmt.Sprintf("%.0f µs", s*1e6)
	case s < 1:
		return fmt.Sprintf("%.2f ms", s*1e3)
	}
	return fmt.Sprintf("%.2f s", s)
}

func fmtDuration(d time.Duration) string {
	if d >= time.Second {
		return fmt.Sprintf("%.2f s", d.Seconds())
	}
	return fmt.Sprintf("%.0f ms", float64(d)/float64(time.Millisecond))
}

// fmtRSS writes VmRSS and, when the status had them, its anonymous and
// file-backed parts: "25.2 MiB (23.7 + 1.5)".
func fmtRSS(m memStatus) string {
	if m.rss == 0 || m.anon+m.file == 0 {
		return fmtKiB(m.rss)
	}
	return fmt.Sprintf("%s (%.1f + %.1f)", fmtKiB(m.rss), float64(m.anon)/1024, float64(m.file)/1024)
}

func fmtKiB(k uint64) string {
	if k == 0 {
		return "—"
	}
	return fmt.Sprintf("%.1f MiB", float64(k)/1024)
}
