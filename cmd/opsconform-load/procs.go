package main

import (
	"bufio"
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// proc is a server under test, run as a process of its own so that its
// start-up and memory are real.
type proc struct {
	name string
	argv []string
	dir  string
	env  []string

	cmd  *exec.Cmd
	out  *tailBuffer
	done chan struct{} // closed when the process has exited

	coldStarts []time.Duration // process start to first 200, per start
	idle       memStatus       // once the first answer came and the process settled
	loaded     memStatus       // after the load
	// startOnly: measured for its start and idle memory, then stopped
	// before the load.
	startOnly bool
}

// start runs the process in a group of its own (so that stop reaches any
// children it forks) and waits until probe answers 200, for at most
// timeout; it records the time from exec to that answer.
func (p *proc) start(probe func() bool, timeout time.Duration) error {
	p.out = &tailBuffer{max: 8 << 10}
	cmd := exec.Command(p.argv[0], p.argv[1:]...)
	cmd.Dir, cmd.Stdout, cmd.Stderr = p.dir, p.out, p.out
	cmd.Env = append(os.Environ(), p.env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	began := time.Now()
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("%s: start %s: %w", p.name, p.argv[0], err)
	}
	p.cmd, p.done = cmd, make(chan struct{})
	go func() { _ = cmd.Wait(); close(p.done) }()
	deadline := began.Add(timeout)
	for {
		if probe() {
			p.coldStarts = append(p.coldStarts, time.Since(began))
			return nil
		}
		select {
		case <-p.done:
			return fmt.Errorf("%s: exited (%v) before answering; its output ends:\n%s", p.name, cmd.ProcessState, p.out.String())
		default:
		}
		if time.Now().After(deadline) {
			p.stop()
			return fmt.Errorf("%s: no 200 within %v; its output ends:\n%s", p.name, timeout, p.out.String())
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// stop ends the process group it started: SIGTERM, then SIGKILL after 5 s.
func (p *proc) stop() {
	if p.cmd == nil || p.cmd.Process == nil {
		return
	}
	select {
	case <-p.done:
		return
	default:
	}
	pgid := p.cmd.Process.Pid
	_ = syscall.Kill(-pgid, syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(5 * time.Second):
		_ = syscall.Kill(-pgid, syscall.SIGKILL)
		<-p.done
	}
}

// alive reports whether the process is still running.
func (p *proc) alive() bool {
	if p.done == nil {
		return false
	}
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}

// clockTicks is USER_HZ, the unit of /proc/PID/stat's CPU times: 100 on
// every Linux architecture's ABI.
const clockTicks = 100

// cpuTime is the CPU time the process has used, user and system, all its
// threads (those that exited included), from /proc/PID/stat.
func (p *proc) cpuTime() (time.Duration, error) {
	if p.cmd == nil || p.cmd.Process == nil {
		return 0, fmt.Errorf("%s: not running", p.name)
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", p.cmd.Process.Pid))
	if err != nil {
		return 0, err
	}
	return parseStatCPU(b)
}

// parseStatCPU reads utime and stime (fields 14 and 15) from a
// /proc/PID/stat line. The command name (field 2) may hold spaces and
// parentheses, so fields are counted after its last closing parenthesis.
func parseStatCPU(stat []byte) (time.Duration, error) {
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, fmt.Errorf("stat: no command name")
	}
	f := strings.Fields(string(stat[i+1:]))
	if len(f) < 13 {
		return 0, fmt.Errorf("stat: %d fields after the command name, want at least 13", len(f))
	}
	var ticks uint64
	for _, s := range f[11:13] { // utime and stime, fields 14 and 15: the 12th and 13th after ")"
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("stat: %w", err)
		}
		ticks += n
	}
	return time.Duration(ticks) * time.Second / clockTicks, nil
}

// memStatus is a process's memory, in KiB, from /proc/PID/status: VmRSS
// and its two parts, RssAnon (heap, stacks: what the process holds) and
// RssFile (pages of files it maps: its own binary's, which the kernel may
// drop and fault back in at will), and VmHWM, the peak RSS.
type memStatus struct{ rss, anon, file, hwm uint64 }

// memory reads the process's memStatus.
func (p *proc) memory() (memStatus, error) {
	if p.cmd == nil || p.cmd.Process == nil {
		return memStatus{}, fmt.Errorf("%s: not running", p.name)
	}
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.cmd.Process.Pid))
	if err != nil {
		return memStatus{}, err
	}
	return parseMemory(data)
}

// parseMemory reads a memStatus from a /proc/PID/status text. VmRSS and
// VmHWM must be there; RssAnon and RssFile (Linux 4.5 on) stay 0 when not.
func parseMemory(status []byte) (memStatus, error) {
	var m memStatus
	fields := map[string]*uint64{"VmRSS": &m.rss, "VmHWM": &m.hwm, "RssAnon": &m.anon, "RssFile": &m.file}
	var haveRSS, haveHWM bool
	sc := bufio.NewScanner(bytes.NewReader(status))
	for sc.Scan() {
		name, value, ok := strings.Cut(sc.Text(), ":")
		dst := fields[name]
		if !ok || dst == nil {
			continue
		}
		f := strings.Fields(value)
		if len(f) != 2 || f[1] != "kB" {
			return memStatus{}, fmt.Errorf("%s: unexpected value %q", name, value)
		}
		n, err := strconv.ParseUint(f[0], 10, 64)
		if err != nil {
			return memStatus{}, fmt.Errorf("%s: %w", name, err)
		}
		*dst = n
		haveRSS = haveRSS || name == "VmRSS"
		haveHWM = haveHWM || name == "VmHWM"
	}
	if !haveRSS || !haveHWM {
		return memStatus{}, fmt.Errorf("no VmRSS and VmHWM in the status")
	}
	return m, nil
}

// freeAddr is a loopback address nothing listens on now.
func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("find a free port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// probeOnce sends one request on a fresh connection and reports a 200 whose
// body is the page.
func probeOnce(t *target) bool {
	c, err := dial(t.addr)
	if err != nil {
		return false
	}
	defer c.Close()
	_ = c.c.SetDeadline(time.Now().Add(5 * time.Second))
	req := buildRequest(t.addr, t.path, t.headers...)
	if t.digest != nil {
		resp, err := c.roundTrip(req)
		if err != nil || resp.status != 401 {
			return false
		}
		d := &digestClient{user: t.digest[0], pass: t.digest[1], method: "GET", uri: t.path}
		if d.challenged(resp.challenge) != nil {
			return false
		}
		req = buildRequest(t.addr, t.path, append(t.headers, "Authorization: "+d.authorization())...)
	}
	resp, err := c.roundTrip(req)
	return err == nil && resp.status == 200 && (t.want == nil || t.verify(resp.body) == "")
}

// tailBuffer keeps the last max bytes written to it, for error messages.
type tailBuffer struct {
	mu  sync.Mutex // guards b
	b   []byte
	max int
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.b = append(t.b, p...)
	if len(t.b) > t.max {
		t.b = append(t.b[:0], t.b[len(t.b)-t.max:]...)
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.b)
}
