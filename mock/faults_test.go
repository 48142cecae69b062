package mock

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestTransportFaultsAsAGoClientSeesThem injects each transport fault on
// one operation and checks what net/http's client gets, and that other
// operations are untouched.
func TestTransportFaultsAsAGoClientSeesThem(t *testing.T) {
	p := profileNamed(t, "opsmerge")
	hdr, _ := fixtureCredentials(t, p, "full")
	tests := []struct {
		fault string
		check func(t *testing.T, resp *http.Response, err error, elapsed time.Duration)
	}{
		{`{"kind":"latency","latency":"40ms","operation":"listAgents"}`, func(t *testing.T, resp *http.Response, err error, elapsed time.Duration) {
			if err != nil || resp.StatusCode != 200 || elapsed < 40*time.Millisecond {
				t.Errorf("latency: %v %v after %s, want 200 after at least 40ms", status(resp), err, elapsed)
			}
		}},
		{"kind=reset,operation=listAgents", func(t *testing.T, resp *http.Response, err error, _ time.Duration) {
			if !errors.Is(err, syscall.ECONNRESET) {
				t.Errorf("reset: %v %v, want a connection reset", status(resp), err)
			}
		}},
		{"kind=empty,operation=listAgents", func(t *testing.T, resp *http.Response, err error, _ time.Duration) {
			if err == nil || !errors.Is(err, io.EOF) {
				t.Errorf("empty: %v %v, want EOF before any response", status(resp), err)
			}
		}},
		{"kind=malformed,operation=listAgents", func(t *testing.T, resp *http.Response, err error, _ time.Duration) {
			if err != nil {
				t.Fatalf("malformed: %v", err)
			}
			body, err := io.ReadAll(resp.Body)
			if err != nil || resp.StatusCode != 200 || json.Valid(body) {
				t.Errorf("malformed: %d %v %q, want 200 with a body that is not JSON", resp.StatusCode, err, body)
			}
		}},
		{"kind=truncate,operation=listAgents", func(t *testing.T, resp *http.Response, err error, _ time.Duration) {
			if err != nil {
				t.Fatalf("truncate: %v", err)
			}
			_, err = io.ReadAll(resp.Body)
			if !errors.Is(err, io.ErrUnexpectedEOF) {
				t.Errorf("truncate: reading the body gave %v, want an unexpected EOF", err)
			}
		}},
		{"kind=status,status=503,operation=listAgents", func(t *testing.T, resp *http.Response, err error, _ time.Duration) {
			if err != nil {
				t.Fatalf("status: %v", err)
			}
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != 503 || !strings.Contains(string(body), `"error"`) || !strings.Contains(string(body), `"code"`) {
				t.Errorf("status: %d %s, want 503 in OpsMerge's error envelope", resp.StatusCode, body)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.fault, func(t *testing.T) {
			h := newHarness(t)
			f, err := ParseFault(tt.fault)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := json.Marshal(f)
			if st := h.control("POST", "faults", string(body), nil); st != http.StatusCreated {
				t.Fatalf("POST faults: %d", st)
			}
			// A fresh connection per request: a reset or close must not poison the next one.
			client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
			req, _ := http.NewRequest("GET", h.http.URL+"/api/v1/agents", nil)
			req.Header = hdr.Clone()
			start := time.Now()
			resp, err := client.Do(req)
			tt.check(t, resp, err, time.Since(start))
			if resp != nil {
				resp.Body.Close()
			}
			// Another operation of the same profile is unaffected.
			if st, _, b := h.doWith(client, "GET", "/api/v1/clients", hdr, ""); st != 200 {
				t.Errorf("listClients under a listAgents fault: %d %s", st, b)
			}
		})
	}
}

func status(resp *http.Response) any {
	if resp == nil {
		return "no response"
	}
	return resp.StatusCode
}

// TestFaultCountProbabilityAndSeed: a count stops the fault after that many
// exchanges; a probability draws from the seed, so two mocks with the same
// seed fail the same requests.
func TestFaultCountProbabilityAndSeed(t *testing.T) {
	p := profileNamed(t, "opsmerge")
	hdr, _ := fixtureCredentials(t, p, "full")
	pattern := func(fault string) string {
		h := newHarness(t)
		if st := h.control("POST", "faults", fault, nil); st != http.StatusCreated {
			t.Fatalf("POST faults %s: %d", fault, st)
		}
		var b strings.Builder
		for range 20 {
			st, _, _ := h.do("GET", "/api/v1/agents", hdr, "")
			b.WriteString(map[bool]string{true: "x", false: "."}[st == 503])
		}
		return b.String()
	}
	if got := pattern(`{"kind":"status","status":503,"count":3}`); got != "xxx................." {
		t.Errorf("count 3: %s", got)
	}
	if got := pattern(`{"kind":"status","status":503,"probability":0}`); strings.Contains(got, "x") {
		t.Errorf("probability 0: %s", got)
	}
	a := pattern(`{"kind":"status","status":503,"probability":0.5}`)
	b := pattern(`{"kind":"status","status":503,"probability":0.5}`)
	if a != b || !strings.Contains(a, "x") || !strings.Contains(a, ".") {
		t.Errorf("probability 0.5 with one seed: %s and %s, want the same mix twice", a, b)
	}
}

// TestFaultControlAPI: faults are listed with how often they fired, cleared
// one by one or all at once, and a wrong description is a 400 that says why.
func TestFaultControlAPI(t *testing.T) {
	h := newHarness(t)
	var f Fault
	h.control("POST", "faults", `{"kind":"deviation","deviation":"page-size-ignored","profile":"opsmerge"}`, &f)
	if f.ID == "" || f.Deviation != "page-size-ignored" {
		t.Fatalf("created %+v", f)
	}
	h.control("POST", "faults", `{"kind":"latency","latency":"1ms"}`, nil)
	var list []Fault
	h.control("GET", "faults", "", &list)
	if len(list) != 2 {
		t.Fatalf("listed %+v", list)
	}
	if st := h.control("DELETE", "faults/"+f.ID, "", nil); st != http.StatusNoContent {
		t.Errorf("DELETE one: %d", st)
	}
	if st := h.control("DELETE", "faults/"+f.ID, "", nil); st != http.StatusNotFound {
		t.Errorf("DELETE again: %d", st)
	}
	if st := h.control("DELETE", "faults", "", nil); st != http.StatusNoContent {
		t.Errorf("DELETE all: %d", st)
	}
	h.control("GET", "faults", "", &list)
	if len(list) != 0 {
		t.Errorf("after clearing: %+v", list)
	}
	bad := map[string]string{
		`{"kind":"explode"}`:                                                        "kind",
		`{"kind":"status","status":200}`:                                            "status",
		`{"kind":"latency"}`:                                                        "latency",
		`{"kind":"latency","latency":"1h"}`:                                         "latency",
		`{"kind":"reset","probability":2}`:                                          "probability",
		`{"kind":"reset","profile":"nope"}`:                                         "profile",
		`{"kind":"reset","operation":"nope"}`:                                       "operation",
		`{"kind":"deviation","deviation":"nope"}`:                                   "deviation",
		`{"kind":"deviation","deviation":"next-link-missing","profile":"opsmerge"}`: "does not apply",
		`{"kind":"reset","colour":"red"}`:                                           "colour",
	}
	for body, want := range bad {
		var e map[string]string
		if st := h.control("POST", "faults", body, &e); st != http.StatusBadRequest || !strings.Contains(e["error"], want) {
			t.Errorf("POST %s: %d %q, want 400 naming %s", body, st, e["error"], want)
		}
	}
	var devs []Deviation
	h.control("GET", "deviations", "", &devs)
	if len(devs) < 40 {
		t.Errorf("only %d deviations listed", len(devs))
	}
}

func TestParseFault(t *testing.T) {
	tests := []struct {
		in      string
		want    Fault
		wantErr string
	}{
		{"kind=status,status=503,operation=listAgents,count=2", Fault{Kind: FaultStatus, Status: 503, Operation: "listAgents", Count: 2}, ""},
		{"kind=latency,latency=400ms,latencyMax=1s", Fault{Kind: FaultLatency, Latency: Duration(400 * time.Millisecond), LatencyMax: Duration(time.Second)}, ""},
		{`{"kind":"latency","latency":250}`, Fault{Kind: FaultLatency, Latency: Duration(250 * time.Millisecond)}, ""},
		{"kind=deviation,deviation=relative-links,profile=mongodb-opsmanager", Fault{Kind: FaultDeviation, Deviation: "relative-links", Profile: "mongodb-opsmanager"}, ""},
		{"kind=status,status=abc", Fault{}, "status=abc"},
		{"kind", Fault{}, "not key=value"},
		{"kind=reset,when=now", Fault{}, "unknown field"},
		{`{"kind":"reset","when":1}`, Fault{}, "unknown field"},
	}
	for _, tt := range tests {
		got, err := ParseFault(tt.in)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("%s: error %v, want one naming %q", tt.in, err, tt.wantErr)
			}
			continue
		}
		got.Probability = nil
		if err != nil || got != tt.want {
			t.Errorf("%s = %+v, %v; want %+v", tt.in, got, err, tt.want)
		}
	}
}
