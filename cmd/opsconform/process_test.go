package main

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"encoding/xml"
	"fmt"
	"io"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// The tests in this file are about processes: exit codes, signals, ports,
// memory. They build the binary once and run it as a user would.

var built struct {
	once sync.Once
	path string
	err  error
	out  []byte
}

// TestMain removes the built binary after the tests.
func TestMain(m *testing.M) {
	code := m.Run()
	if built.path != "" {
		os.RemoveAll(filepath.Dir(built.path))
	}
	os.Exit(code)
}

// binary builds opsconform (without the race detector: these tests
// measure the program users run) and returns its path.
func binary(t *testing.T) string {
	t.Helper()
	built.once.Do(func() {
		dir, err := os.MkdirTemp("", "opsconform-bin-")
		if err != nil {
			built.err = err
			return
		}
		goTool, err := exec.LookPath("go")
		if err != nil {
			built.err = fmt.Errorf("no go command on PATH to build the binary with: %v", err)
			return
		}
		built.path = filepath.Join(dir, "opsconform")
		built.out, built.err = exec.Command(goTool, "build", "-o", built.path, ".").CombinedOutput()
	})
	if built.err != nil {
		t.Fatalf("go build: %v\n%s", built.err, built.out)
	}
	return built.path
}

// proc is a running opsconform process.
type proc struct {
	cmd    *exec.Cmd
	stdout lockedBuffer
	stderr lockedBuffer
	lines  chan string // stdout, line by line
	done   chan struct{}
	hwm    atomic.Int64 // peak resident memory seen in /proc, bytes
}

// start runs the binary with args in dir, with the environment env added to
// a clean one (no OPSCONFORM_* and no proxies leak in from the test's own).
func start(t *testing.T, dir string, env []string, args ...string) *proc {
	t.Helper()
	p := &proc{cmd: exec.Command(binary(t), args...), lines: make(chan string, 1024), done: make(chan struct{})}
	p.cmd.Dir = dir
	p.cmd.Env = append(cleanEnv(), env...)
	p.cmd.Stderr = &p.stderr
	out, err := p.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go p.watchMemory()
	go func() {
		defer close(p.done)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			p.stdout.Write([]byte(sc.Text() + "\n"))
			select {
			case p.lines <- sc.Text():
			default:
			}
		}
		_, _ = io.Copy(io.Discard, out)
	}()
	t.Cleanup(func() {
		if p.cmd.ProcessState == nil {
			_ = p.cmd.Process.Kill()
			_ = p.wait()
		}
	})
	return p
}

// wait waits for the process and returns its exit code.
func (p *proc) wait() int {
	<-p.done
	_ = p.cmd.Wait()
	return p.cmd.ProcessState.ExitCode()
}

// peakMemory is the process's peak resident memory (VmHWM), in bytes. The
// kernel keeps the high-water mark, so sampling misses no peak but one in
// the last moments before exit. (The rusage of a child is no use here: it
// inherits the large test process's own peak across vfork and exec.)
func (p *proc) peakMemory() int64 { return p.hwm.Load() }

func (p *proc) watchMemory() {
	status := fmt.Sprintf("/proc/%d/status", p.cmd.Process.Pid)
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-p.done:
			return
		case <-tick.C:
		}
		data, err := os.ReadFile(status)
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(data), "\n") {
			if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
				var kb int64
				if _, err := fmt.Sscanf(strings.TrimSpace(v), "%d kB", &kb); err == nil && kb*1024 > p.hwm.Load() {
					p.hwm.Store(kb * 1024)
				}
			}
		}
	}
}

// waitFor reads stdout until a line contains s.
func (p *proc) waitFor(t *testing.T, s string, within time.Duration) {
	t.Helper()
	deadline := time.After(within)
	for {
		select {
		case l := <-p.lines:
			if strings.Contains(l, s) {
				return
			}
		case <-p.done:
			t.Fatalf("the process ended before printing %q:\n%s\n%s", s, p.stdout.String(), p.stderr.String())
		case <-deadline:
			t.Fatalf("no %q within %s:\n%s", s, within, p.stdout.String())
		}
	}
}

func cleanEnv() []string {
	var out []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, envPrefix) || strings.HasSuffix(strings.ToUpper(k), "_PROXY") {
			continue
		}
		out = append(out, kv)
	}
	return out
}

// freeAddr is a loopback address nothing listens on right now.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// junitDoc is what the tests read back from a JUnit report.
type junitDoc struct {
	Tests    int `xml:"tests,attr"`
	Failures int `xml:"failures,attr"`
	Errors   int `xml:"errors,attr"`
	Suites   []struct {
		Name  string `xml:"name,attr"`
		Cases []struct {
			Name    string       `xml:"name,attr"`
			Failure *junitResult `xml:"failure"`
			Error   *junitResult `xml:"error"`
			Skipped *junitResult `xml:"skipped"`
		} `xml:"testcase"`
	} `xml:"testsuite"`
}

type junitResult struct {
	Message string `xml:"message,attr"`
	Data    string `xml:",chardata"`
}

// readJUnit validates a report against the schema and parses it.
func readJUnit(t *testing.T, file string) junitDoc {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("no report: %v", err)
	}
	validateJUnit(t, file)
	var doc junitDoc
	if err := xml.Unmarshal(data, &doc); err != nil {
		t.Fatalf("%s is not XML: %v\n%s", file, err, data)
	}
	return doc
}

// caseNamed finds the testcase whose name starts with id.
func (d junitDoc) caseNamed(id string) (status, message string, ok bool) {
	for _, s := range d.Suites {
		for _, c := range s.Cases {
			if !strings.HasPrefix(c.Name, id+" ") {
				continue
			}
			switch {
			case c.Error != nil:
				return "error", c.Error.Message, true
			case c.Failure != nil:
				return "failure", c.Failure.Message, true
			case c.Skipped != nil:
				return "skipped", c.Skipped.Message, true
			}
			return "pass", "", true
		}
	}
	return "", "", false
}

// testCA is a private certificate authority and a server certificate it
// signed for the loopback names and opsconform.test, as PEM files.
type testCA struct{ caFile, certFile, keyFile string }

func newTestCA(t *testing.T) testCA {
	t.Helper()
	dir := t.TempDir()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "opsconform test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "opsconform test server"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, DNSNames: []string{"localhost", "opsconform.test"},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, _ := x509.MarshalECPrivateKey(key)
	c := testCA{caFile: filepath.Join(dir, "ca.pem"), certFile: filepath.Join(dir, "server.pem"), keyFile: filepath.Join(dir, "server-key.pem")}
	for file, block := range map[string]*pem.Block{
		c.caFile: {Type: "CERTIFICATE", Bytes: caDER}, c.certFile: {Type: "CERTIFICATE", Bytes: der}, c.keyFile: {Type: "EC PRIVATE KEY", Bytes: keyDER},
	} {
		if err := os.WriteFile(file, pem.EncodeToMemory(block), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return c
}
