package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// target is one server answering one page: the bare handler, the mock
// through one auth mode, Prism or WireMock.
type target struct {
	name  string // as the report shows it
	group string // bare, mock, before, prism, wiremock
	page  string // the page it serves (opsmerge, opmanager, ivanti-ism, mongodb-opsmanager): its bare handler is its baseline
	addr  string // host:port on loopback
	path  string // request target
	// headers are extra request header lines ("Name: value").
	headers []string
	// digest, when set, is the user and password answering Digest challenges.
	digest *[2]string
	// want is the body every 200 must carry; compared byte for byte, or
	// as JSON when sameJSON (a tool that re-serialises the example).
	want     []byte
	sameJSON bool
	// server is the process serving, whose CPU time each cell reads.
	server *proc
}

// cell is one measurement: a target at a number of connections for one
// window of time.
type cell struct {
	ok       uint64 // 200s completed inside the window
	errs     uint64 // anything else: other statuses, broken connections, wrong bodies
	stale    uint64 // Digest re-challenges (401 stale=true), answered and not counted as errors
	window   time.Duration
	hist     histogram
	firstErr string
	// serverCPU is the CPU time the server's process used during the
	// measured window (user and system, every thread); 0 when unknown.
	serverCPU time.Duration
}

// cpuPerRequest is the server's CPU time per completed 200: unlike req/s,
// it does not move when other processes take the machine's CPUs.
func (c *cell) cpuPerRequest() time.Duration {
	if c.ok == 0 || c.serverCPU <= 0 {
		return 0
	}
	return c.serverCPU / time.Duration(c.ok)
}

// rps is the completed 200s per second.
func (c *cell) rps() float64 {
	if c.window <= 0 {
		return 0
	}
	return float64(c.ok) / c.window.Seconds()
}

// run loads t with conns closed-loop connections: each sends a request,
// reads the whole answer and sends the next. The first warmup is not
// measured (connections open, Digest clients get their nonce); requests
// that complete within the next window are.
func (t *target) run(conns int, warmup, window time.Duration) *cell {
	start := time.Now().Add(warmup)
	end := start.Add(window)
	var (
		wg     sync.WaitGroup
		mu     sync.Mutex // guards total
		total  = &cell{window: window}
		failed atomic.Bool
	)
	if t.server != nil {
		wg.Add(1)
		go func() { // the server's CPU time over the measured window
			defer wg.Done()
			time.Sleep(time.Until(start))
			before, err := t.server.cpuTime()
			time.Sleep(time.Until(end))
			after, err2 := t.server.cpuTime()
			if err == nil && err2 == nil {
				mu.Lock()
				total.serverCPU = after - before
				mu.Unlock()
			}
		}()
	}
	for range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := &cell{}
			t.worker(start, end, c, &failed)
			mu.Lock()
			defer mu.Unlock()
			total.ok += c.ok
			total.errs += c.errs
			total.stale += c.stale
			total.hist.merge(&c.hist)
			if total.firstErr == "" {
				total.firstErr = c.firstErr
			}
		}()
	}
	wg.Wait()
	return total
}

// worker is one connection's loop until end.
func (t *target) worker(start, end time.Time, c *cell, failed *atomic.Bool) {
	var (
		cn       *conn
		dc       *digestClient
		verified bool
		req      = buildRequest(t.addr, t.path, t.headers...)
		prefix   = req[:len(req)-2] // without the blank line, for Digest's per-request header
		buf      []byte
	)
	errorf := func(counted bool, format string, args ...any) {
		if counted {
			c.errs++
		}
		if c.firstErr == "" {
			c.firstErr = fmt.Sprintf(format, args...)
		}
		if cn != nil {
			_ = cn.Close()
			cn = nil
		}
		if failed.Load() || !counted {
			time.Sleep(10 * time.Millisecond) // a dead server: do not spin
		}
	}
	defer func() {
		if cn != nil {
			_ = cn.Close()
		}
	}()
	for time.Now().Before(end) {
		if cn == nil {
			var err error
			if cn, err = dial(t.addr); err != nil {
				errorf(true, "connect to %s: %v", t.addr, err)
				failed.Store(true)
				continue
			}
		}
		if t.digest != nil {
			if dc == nil {
				// The first request goes without credentials, as a client's does, to get a nonce.
				resp, err := cn.roundTrip(req)
				if err != nil || resp.status != 401 || resp.challenge == "" {
					errorf(true, "%s: want a Digest challenge (401), got %d %v", t.name, resp.status, err)
					continue
				}
				dc = &digestClient{user: t.digest[0], pass: t.digest[1], method: "GET", uri: t.path}
				if err := dc.challenged(resp.challenge); err != nil {
					errorf(true, "%s: %v", t.name, err)
					dc = nil
					continue
				}
			}
			buf = append(append(append(buf[:0], prefix...), "Authorization: "+dc.authorization()...), "\r\n\r\n"...)
			req = buf
		}
		t0 := time.Now()
		resp, err := cn.roundTrip(req)
		t1 := time.Now()
		measured := !t0.Before(start) && !t1.After(end)
		if err != nil {
			errorf(measured, "%s: %v", t.name, err)
			continue
		}
		switch {
		case resp.status == 200:
			if !verified {
				if msg := t.verify(resp.body); msg != "" {
					errorf(measured, "%s: %s", t.name, msg)
					continue
				}
				verified = true
			}
			if measured {
				c.ok++
				c.hist.record(t1.Sub(t0))
			}
		case resp.status == 401 && dc != nil && strings.Contains(strings.ToLower(resp.challenge), "stale=true"):
			if measured {
				c.stale++
			}
			if err := dc.challenged(resp.challenge); err != nil {
				errorf(measured, "%s: %v", t.name, err)
				dc = nil
			}
		default:
			errorf(measured, "%s: status %d: %.200s", t.name, resp.status, resp.body)
			continue
		}
		if resp.close {
			_ = cn.Close()
			cn = nil
		}
	}
}

// verify says how body differs from the page the target must serve; "" when it does not.
func (t *target) verify(body []byte) string {
	if bytes.Equal(body, t.want) {
		return ""
	}
	if t.sameJSON {
		var a, b any
		if json.Unmarshal(body, &a) == nil && json.Unmarshal(t.want, &b) == nil && reflect.DeepEqual(a, b) {
			return ""
		}
	}
	return fmt.Sprintf("the body (%d bytes) is not the page (%d bytes): %.120q", len(body), len(t.want), body)
}

// key names a target uniquely: a server and the page it serves.
func (t *target) key() string { return t.name + " / " + t.page }

// results holds every cell of a run: by target key, connections, then round.
type results map[string]map[int][]*cell

func (r results) add(t *target, conns int, c *cell) {
	if r[t.key()] == nil {
		r[t.key()] = map[int][]*cell{}
	}
	r[t.key()][conns] = append(r[t.key()][conns], c)
}

// median of xs; 0 when empty. xs is not changed.
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	if n := len(s); n%2 == 1 {
		return s[n/2]
	} else {
		return (s[n/2-1] + s[n/2]) / 2
	}
}

// summary is a target's figures at one number of connections: medians
// over rounds, and ratios to its baseline, each the median of the rounds'
// ratios (a round's target and baseline were measured seconds apart, so
// drift in the machine's load cancels).
type summary struct {
	rps, p50, p99                float64 // req/s; latencies in seconds
	rpsRatio, p50Ratio, p99Ratio float64 // against the baseline; 0 when there is none
	cpu, cpuRatio                float64 // the server's CPU seconds per request, and against the baseline's
	ok, errs, stale              uint64
	firstErr                     string
	rounds                       int
}

func summarize(cells, base []*cell) summary {
	var s summary
	var rps, p50, p99, cpu, rr, r50, r99, rc []float64
	for i, c := range cells {
		rps = append(rps, c.rps())
		if c.cpuPerRequest() > 0 {
			cpu = append(cpu, c.cpuPerRequest().Seconds())
		}
		p50 = append(p50, c.hist.quantile(0.50).Seconds())
		p99 = append(p99, c.hist.quantile(0.99).Seconds())
		s.ok += c.ok
		s.errs += c.errs
		s.stale += c.stale
		if s.firstErr == "" {
			s.firstErr = c.firstErr
		}
		if i < len(base) && base[i].ok > 0 && c.ok > 0 {
			b := base[i]
			rr = append(rr, c.rps()/b.rps())
			r50 = append(r50, c.hist.quantile(0.50).Seconds()/b.hist.quantile(0.50).Seconds())
			r99 = append(r99, c.hist.quantile(0.99).Seconds()/b.hist.quantile(0.99).Seconds())
			if c.cpuPerRequest() > 0 && b.cpuPerRequest() > 0 {
				rc = append(rc, c.cpuPerRequest().Seconds()/b.cpuPerRequest().Seconds())
			}
		}
	}
	s.rounds = len(cells)
	s.rps, s.p50, s.p99 = median(rps), median(p50), median(p99)
	s.rpsRatio, s.p50Ratio, s.p99Ratio = median(rr), median(r50), median(r99)
	s.cpu, s.cpuRatio = median(cpu), median(rc)
	return s
}
