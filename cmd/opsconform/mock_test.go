package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}
func (l *lockedBuffer) String() string { l.mu.Lock(); defer l.mu.Unlock(); return l.b.String() }

// TestBannerCurlCommandsWork starts the mock as `opsconform mock` does and
// runs every curl command its banner prints, exactly as a newcomer would.
func TestBannerCurlCommandsWork(t *testing.T) {
	if _, err := exec.LookPath("curl"); err != nil {
		t.Skip("curl is not installed; .ci/run installs it")
	}
	ctx, cancel := context.WithCancel(context.Background())
	var out, errOut lockedBuffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"mock", "--addr", "127.0.0.1:0"}, func(string) (string, bool) { return "", false }, &out, &errOut)
	}()
	defer func() {
		cancel()
		if code := <-done; code != 0 {
			t.Errorf("mock exited %d: %s", code, errOut.String())
		}
	}()
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(out.String(), "Try it") {
		if time.Now().After(deadline) {
			t.Fatalf("no banner after 10 s: %q %q", out.String(), errOut.String())
		}
		time.Sleep(10 * time.Millisecond) // waiting for the listener, not for time to pass
	}
	time.Sleep(50 * time.Millisecond)
	curls := regexp.MustCompile(`(?m)^  (curl .*)$`).FindAllStringSubmatch(out.String(), -1)
	if len(curls) != 4 {
		t.Fatalf("want a curl command per profile, got %d:\n%s", len(curls), out.String())
	}
	for _, c := range curls {
		cctx, ccancel := context.WithTimeout(context.Background(), 20*time.Second)
		got, err := exec.CommandContext(cctx, "sh", "-c", c[1]+" --fail-with-body").CombinedOutput()
		ccancel()
		if err != nil {
			t.Errorf("%s\n%v: %s", c[1], err, got)
			continue
		}
		if !json.Valid(got) {
			t.Errorf("%s: not JSON: %s", c[1], got)
		}
	}
	if !strings.Contains(errOut.String(), "status=200") {
		t.Errorf("the request log shows no successful request:\n%s", errOut.String())
	}
}
