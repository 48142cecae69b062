package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestMockHandsBackStartupPages: start-up maps about 21 MiB of the binary
// (parsing and modelling the descriptions, every package's init) and a
// profile's first request maps more (its data's generation): code serving
// never runs again. The mock unmaps those pages once it serves and after
// each build (internal/residency), so its idle RSS is what it holds and
// runs; and it serves on, its code faulting back in.
func TestMockHandsBackStartupPages(t *testing.T) {
	if _, err := os.Stat("/proc/self/smaps"); err != nil {
		t.Skip("no /proc/PID/smaps on this system")
	}
	spec, err := filepath.Abs("../../specs/opsmerge.yaml")
	if err != nil {
		t.Fatal(err)
	}
	bearer := page{"/api/v1/agents?page=1&per_page=100", "Authorization", "Bearer om_KGpOyQNcdOyZbkBFTFoOxtzHq8STZHE6svi34zWH"}
	tests := []struct {
		name  string
		args  []string
		pages []page
	}{
		// Data built on each profile's first request: released after it.
		{"embedded profiles", nil, []page{bearer, {"/api/odata/businessobject/incidents", "Authorization", "rest_api_key=BBF5C4A965E648CB64EEE382E9F97327"}}},
		// Data built before serving: released once serving starts.
		{"a spec file", []string{"--spec", spec}, []page{bearer}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			addr := freeAddr(t)
			p := start(t, t.TempDir(), nil, append([]string{"mock", "--addr", addr, "--quiet"}, tt.args...)...)
			first := make([][]byte, len(tt.pages))
			for i, pg := range tt.pages {
				first[i] = pg.getOK(t, p, addr)
			}
			const want = 8 << 10 // KiB; start-up alone leaves about 21 MiB mapped
			for deadline := time.Now().Add(10 * time.Second); ; {
				got := executableRSS(t, p.cmd.Process.Pid)
				if got < want {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("the mock's binary keeps %d KiB resident 10 s after its first answers; want under %d KiB once it hands start-up's pages back", got, want)
				}
				time.Sleep(20 * time.Millisecond) // waiting for the release, which follows a build by a tenth of a second
			}
			for i, pg := range tt.pages {
				if again := pg.getOK(t, p, addr); !bytes.Equal(again, first[i]) {
					t.Errorf("%s after the release: %d bytes, unlike the %d before", pg.path, len(again), len(first[i]))
				}
			}
		})
	}
}

// page is a request for a page of the mock's, with its credential.
type page struct{ path, header, value string }

// getOK polls the page until the mock at addr listens and answers 200, and
// returns the body.
func (pg page) getOK(t *testing.T, p *proc, addr string) []byte {
	t.Helper()
	url := "http://" + addr + pg.path
	deadline := time.Now().Add(10 * time.Second)
	for {
		req, _ := http.NewRequest(http.MethodGet, url, nil)
		req.Header.Set(pg.header, pg.value)
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			body, rerr := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK || rerr != nil {
				t.Fatalf("GET %s: %s %v: %s", url, resp.Status, rerr, body)
			}
			return body
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET %s: %v\n%s", url, err, p.stderr.String())
		}
		time.Sleep(10 * time.Millisecond) // waiting for the listener
	}
}

// executableRSS sums the resident KiB of the mappings of process pid's own
// executable, from /proc/PID/smaps.
func executableRSS(t *testing.T, pid int) int {
	t.Helper()
	exe, err := os.Readlink(fmt.Sprintf("/proc/%d/exe", pid))
	if err != nil {
		t.Fatal(err)
	}
	smaps, err := os.ReadFile(fmt.Sprintf("/proc/%d/smaps", pid))
	if err != nil {
		t.Fatal(err)
	}
	total, inExe := 0, false
	sc := bufio.NewScanner(bytes.NewReader(smaps))
	for sc.Scan() {
		line := sc.Text()
		if f := strings.Fields(line); len(f) >= 5 && strings.Contains(f[0], "-") && !strings.HasSuffix(f[0], ":") {
			inExe = strings.HasSuffix(line, " "+exe)
			continue
		}
		if v, ok := strings.CutPrefix(line, "Rss:"); ok && inExe {
			kb, err := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(v), " kB"))
			if err != nil {
				t.Fatalf("smaps: %q: %v", line, err)
			}
			total += kb
		}
	}
	return total
}
