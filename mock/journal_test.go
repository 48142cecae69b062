package mock

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// lastEntry is the journal's newest entry.
func (h *harness) lastEntry() Request {
	h.t.Helper()
	var entries []Request
	if st := h.control("GET", "requests?limit=1", "", &entries); st != 200 || len(entries) != 1 {
		h.t.Fatalf("journal: %d, %d entries", st, len(entries))
	}
	return entries[0]
}

// TestJournalExplainsEveryRefusal: each kind of refusal leaves an entry
// that says why, as a code and in words naming the key, scope, limit or
// nonce, and the log line carries the same reason.
func TestJournalExplainsEveryRefusal(t *testing.T) {
	opsmerge := profileNamed(t, "opsmerge")
	full := fixtureKey(t, "opsmerge", "full")
	bearer := http.Header{"Authorization": {"Bearer " + full.Secret}}
	tests := []struct {
		name     string
		setup    func(h *harness) // control calls before the request
		request  func(h *harness) (method, path string, header http.Header, body string)
		status   int
		code     Reason
		words    []string // each must appear in the reason
		key      string   // the key id the entry must name, if any
		faultNum int      // faults the entry must list
	}{
		{name: "no credentials", status: 401, code: ReasonCredentialsMissing, words: []string{"no Authorization header"},
			request: func(*harness) (string, string, http.Header, string) { return "GET", "/api/v1/agents", nil, "" }},
		{name: "unknown key", status: 401, code: ReasonKeyUnknown, words: []string{"unknown key"},
			request: func(*harness) (string, string, http.Header, string) {
				return "GET", "/api/v1/agents", http.Header{"Authorization": {"Bearer om_notAKeyAtAll0123456789"}}, ""
			}},
		{name: "malformed bearer", status: 401, code: ReasonCredentialsMalformed, words: []string{"not Bearer"},
			request: func(*harness) (string, string, http.Header, string) {
				return "GET", "/api/v1/agents", http.Header{"Authorization": {"Token " + full.Secret}}, ""
			}},
		{name: "revoked", status: 401, code: ReasonKeyRevoked, key: full.ID, words: []string{"key " + full.ID + " revoked at 2026-11-22T12:00:00Z"},
			setup: func(h *harness) { h.control("POST", "profiles/opsmerge/keys/"+full.ID+"/revoke", "", nil) },
			request: func(*harness) (string, string, http.Header, string) {
				return "GET", "/api/v1/agents", bearer, ""
			}},
		{name: "disabled", status: 401, code: ReasonKeyDisabled, key: full.ID, words: []string{"key " + full.ID + " disabled"},
			setup: func(h *harness) { h.control("POST", "profiles/opsmerge/keys/"+full.ID+"/disable", "", nil) },
			request: func(*harness) (string, string, http.Header, string) {
				return "GET", "/api/v1/agents", bearer, ""
			}},
		{name: "expired", status: 401, code: ReasonKeyExpired, key: full.ID, words: []string{"expired at 2026-11-22T12:00:00Z"},
			setup: func(h *harness) { h.control("POST", "profiles/opsmerge/keys/"+full.ID+"/expire", "", nil) },
			request: func(*harness) (string, string, http.Header, string) {
				return "GET", "/api/v1/agents", bearer, ""
			}},
		{name: "missing scope", status: 403, code: ReasonScopeMissing, key: fixtureKey(t, "opsmerge", "limited").ID, words: []string{"scope ", " missing from key "},
			request: func(h *harness) (string, string, http.Header, string) {
				k := fixtureKey(t, "opsmerge", "limited")
				op := opsmerge.Operation(k.Lacks.Operation)
				return op.Method, fillPath(op, k.Lacks.Params), http.Header{"Authorization": {"Bearer " + k.Secret}}, ""
			}},
		{name: "key in the query where only the header counts", status: 401, code: ReasonCredentialsMisplaced, words: []string{"query apiKey", "listAlarms"},
			request: func(*harness) (string, string, http.Header, string) {
				return "GET", "/api/json/alarm/listAlarms?apiKey=" + fixtureKey(t, "opmanager", "full").Secret, nil, ""
			}},
		{name: "digest stale nonce", status: 401, code: ReasonNonceStale, key: fixtureKey(t, "mongodb-opsmanager", "full").ID, words: []string{"nonce stale"},
			request: func(h *harness) (string, string, http.Header, string) {
				path := probePath["mongodb-opsmanager"]
				_, hdr, _ := h.do("GET", path, nil, "")
				cred := signDigest(t, h, hdr.Get("WWW-Authenticate"), "GET", path, "", 1)
				h.clock.Advance(time.Hour)
				return "GET", path, http.Header{"Authorization": {cred}}, ""
			}},
		{name: "digest replay", status: 401, code: ReasonNonceReplayed, words: []string{"nonce count 1 already used"},
			request: func(h *harness) (string, string, http.Header, string) {
				path := probePath["mongodb-opsmanager"]
				_, hdr, _ := h.do("GET", path, nil, "")
				cred := signDigest(t, h, hdr.Get("WWW-Authenticate"), "GET", path, "", 1)
				if st, _, b := h.do("GET", path, http.Header{"Authorization": {cred}}, ""); st != 200 {
					t.Fatalf("first use of the nonce: %d %s", st, b)
				}
				return "GET", path, http.Header{"Authorization": {cred}}, ""
			}},
		{name: "rate limited", status: 429, code: ReasonRateLimited, key: full.ID, words: []string{"over 300/min", "key " + full.ID, "retry in 60 s"},
			setup: func(h *harness) {
				for i := 0; i < 300; i++ {
					req := httptest.NewRequest("GET", "/api/v1/agents?per_page=1", nil)
					req.Header = bearer.Clone()
					w := httptest.NewRecorder()
					h.srv.ServeHTTP(w, req)
					if w.Code != 200 {
						t.Fatalf("request %d: %d", i+1, w.Code)
					}
				}
			},
			request: func(*harness) (string, string, http.Header, string) { return "GET", "/api/v1/agents", bearer, "" }},
		{name: "body breaks the schema", status: 400, code: ReasonBodyInvalid, words: []string{"body invalid"},
			request: func(*harness) (string, string, http.Header, string) {
				return "POST", "/api/v1/tickets", bearer, `{"title": 42, "surplus": true}`
			}},
		{name: "no route", status: 404, code: ReasonNoRoute, words: []string{"no operation at /api/v1/nowhere"},
			request: func(*harness) (string, string, http.Header, string) { return "GET", "/api/v1/nowhere", bearer, "" }},
		{name: "method not allowed", status: 405, code: ReasonMethodNotAllowed, words: []string{"DELETE not served", "allowed: GET"},
			request: func(*harness) (string, string, http.Header, string) { return "DELETE", "/api/v1/agents", bearer, "" }},
		{name: "injected status fault", status: 503, code: ReasonFaultStatus, words: []string{"fault injected: f1 status 503"}, faultNum: 1,
			setup: func(h *harness) {
				if st := h.control("POST", "faults", `{"kind":"status","status":503,"operation":"listAgents"}`, nil); st != 201 {
					t.Fatalf("fault: %d", st)
				}
			},
			request: func(*harness) (string, string, http.Header, string) { return "GET", "/api/v1/agents", bearer, "" }},
		{name: "Prefer an undocumented code", status: 400, code: ReasonPreferInvalid, words: []string{"code=418"},
			request: func(*harness) (string, string, http.Header, string) {
				return "GET", "/api/v1/agents", http.Header{"Authorization": bearer["Authorization"], "Prefer": {"code=418"}}, ""
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			if tt.setup != nil {
				tt.setup(h)
			}
			method, path, header, body := tt.request(h)
			status, _, resp := h.do(method, path, header, body)
			if status != tt.status {
				t.Fatalf("%s %s: %d, want %d: %s", method, path, status, tt.status, resp)
			}
			e := h.lastEntry()
			if e.Status != tt.status || e.ReasonCode != tt.code {
				t.Errorf("entry: status %d reasonCode %q, want %d %q (reason %q)", e.Status, e.ReasonCode, tt.status, tt.code, e.Reason)
			}
			for _, w := range tt.words {
				if !strings.Contains(e.Reason, w) {
					t.Errorf("reason %q does not say %q", e.Reason, w)
				}
			}
			if tt.key != "" && e.Key != tt.key {
				t.Errorf("entry key %q, want %q", e.Key, tt.key)
			}
			if len(e.Faults) != tt.faultNum {
				t.Errorf("faults %v, want %d", e.Faults, tt.faultNum)
			}
			if e.Method != method || e.ResponseBody == nil || e.ResponseBody.Size == 0 || len(e.RequestHeaders) == 0 || len(e.ResponseHeaders) == 0 {
				t.Errorf("entry lacks the exchange: %+v", e)
			}
			if line := lastLogLine(h); !strings.Contains(line, "reasonCode="+string(tt.code)) || !strings.Contains(line, "reason=") {
				t.Errorf("log line lacks the reason: %s", line)
			}
		})
	}
}

func lastLogLine(h *harness) string {
	lines := strings.Split(strings.TrimSpace(h.logBuf.String()), "\n")
	return lines[len(lines)-1]
}

// TestJournalConnectionFaults: a fault that closes the connection leaves an
// entry with no status and says which fault did it.
func TestJournalConnectionFaults(t *testing.T) {
	for _, kind := range []struct {
		kind FaultKind
		code Reason
	}{{FaultReset, ReasonFaultReset}, {FaultEmpty, ReasonFaultEmpty}, {FaultTruncate, ReasonFaultTruncate}, {FaultMalformed, ReasonFaultMalformed}} {
		t.Run(string(kind.kind), func(t *testing.T) {
			h := newHarness(t)
			h.control("POST", "faults", fmt.Sprintf(`{"kind":%q}`, kind.kind), nil)
			req, _ := http.NewRequest("GET", h.http.URL+"/api/v1/agents", nil)
			req.Header.Set("Authorization", "Bearer "+fixtureKey(t, "opsmerge", "full").Secret)
			if resp, err := http.DefaultClient.Do(req); err == nil {
				_, _ = io.ReadAll(resp.Body)
				resp.Body.Close()
			}
			e := h.lastEntry()
			if e.ReasonCode != kind.code || !strings.Contains(e.Reason, "fault injected: f1 "+string(kind.kind)) {
				t.Errorf("entry %d %q %q, want %s naming f1", e.Status, e.ReasonCode, e.Reason, kind.code)
			}
		})
	}
}

// TestJournalFilters: every filter selects what it says, and every mistake
// in one is a 400 that says what would do.
func TestJournalFilters(t *testing.T) {
	h := newHarness(t)
	om := fixtureKey(t, "opsmerge", "full")
	second := fixtureKey(t, "opsmerge", "second")
	opm := fixtureKey(t, "opmanager", "full")
	h.do("GET", "/api/v1/agents", http.Header{"Authorization": {"Bearer " + om.Secret}}, "")         // 1: 200
	h.do("GET", "/api/v1/agents", http.Header{"Authorization": {"Bearer om_unknown0123456789"}}, "") // 2: 401
	h.do("GET", "/api/v1/agents", http.Header{"Authorization": {"Bearer " + second.Secret}}, "")     // 3: 200
	h.do("GET", "/api/json/v2/device/listDevices", http.Header{"apikey": {opm.Secret}}, "")          // 4: 200
	h.do("GET", "/api/v1/nowhere", nil, "")                                                          // 5: 404
	h.control("POST", "profiles/opsmerge/keys/"+om.ID+"/revoke", "", nil)                            //
	h.do("GET", "/api/v1/agents/nope", http.Header{"Authorization": {"Bearer " + om.Secret}}, "")    // 6: 401
	h.do("GET", "/api/json/v2/device/listDevices?rows=zzz", http.Header{"apikey": {opm.Secret}}, "") // 7: 400
	tests := []struct {
		query string
		want  []uint64 // seqs, newest first
	}{
		{"", []uint64{7, 6, 5, 4, 3, 2, 1}},
		{"status=401", []uint64{6, 2}},
		{"status=4xx", []uint64{7, 6, 5, 2}},
		{"status=4XX,200", []uint64{7, 6, 5, 4, 3, 2, 1}},
		{"status=200&status=404", []uint64{5, 4, 3, 1}},
		{"profile=opmanager", []uint64{7, 4}},
		{"operation=listAgents", []uint64{3, 2, 1}},
		{"operation=listAgents&profile=opsmerge&status=2xx", []uint64{3, 1}},
		{"key=" + om.ID, []uint64{6, 1}},
		{"key=" + second.ID, []uint64{3}},
		{"reason=key-revoked", []uint64{6}},
		{"reason=no-route", []uint64{5}},
		{"since=5", []uint64{7, 6}},
		{"limit=2", []uint64{7, 6}},
		{"limit=0", []uint64{7, 6, 5, 4, 3, 2, 1}},
		{"status=5xx", nil},
	}
	for _, tt := range tests {
		var got []Request
		if st := h.control("GET", "requests?"+tt.query, "", &got); st != 200 {
			t.Errorf("%s: %d", tt.query, st)
			continue
		}
		var seqs []uint64
		for _, e := range got {
			seqs = append(seqs, e.Seq)
		}
		if fmt.Sprint(seqs) != fmt.Sprint(tt.want) {
			t.Errorf("requests?%s = %v, want %v", tt.query, seqs, tt.want)
		}
	}

	bad := []struct{ query, says string }{
		{"status=4x", "status \"4x\""},
		{"status=600", "status \"600\""},
		{"status=abc", "want a status such as 401"},
		{"profile=nope", "profile \"nope\" is not served; the served ones are"},
		{"operation=nope", "operation \"nope\" is not served"},
		{"operation=listDevices&profile=opsmerge", "not served by profile opsmerge"},
		{"reason=sad", "reason \"sad\" is not a reason code"},
		{"since=-1", "since must be"},
		{"limit=-3", "limit must be a non-negative integer"},
		{"limit=x", "limit must be"},
		{"stauts=401", "unknown parameter \"stauts\""},
		{"profile=opsmerge&profile=opmanager", "profile is given 2 times"},
		{"key=" + om.Secret, "this value is a key's secret"},
	}
	for _, tt := range bad {
		status, _, body := h.do("GET", ControlPrefix+"requests?"+tt.query, nil, "")
		var msg struct{ Error string }
		_ = json.Unmarshal(body, &msg)
		if status != 400 || !strings.Contains(msg.Error, tt.says) {
			t.Errorf("requests?%s: %d %s, want 400 saying %q", tt.query, status, body, tt.says)
		}
		if strings.Contains(string(body), om.Secret) {
			t.Errorf("requests?%s: the error echoes the secret", tt.query)
		}
	}
}

// TestJournalCursor: polling with since= the cursor the previous answer
// gave sees every entry once, and a reset empties the journal without
// restarting the numbering.
func TestJournalCursor(t *testing.T) {
	h := newHarness(t)
	poll := func(since string) ([]Request, string) {
		status, hdr, body := h.do("GET", ControlPrefix+"requests?since="+since, nil, "")
		if status != 200 {
			t.Fatalf("poll: %d %s", status, body)
		}
		var out []Request
		_ = json.Unmarshal(body, &out)
		return out, hdr.Get(JournalCursorHeader)
	}
	h.do("GET", "/api/v1/nowhere", nil, "")
	h.do("GET", "/api/v1/nowhere", nil, "")
	got, cursor := poll("0")
	if len(got) != 2 || cursor != "2" {
		t.Fatalf("first poll: %d entries, cursor %q", len(got), cursor)
	}
	if got, cursor = poll(cursor); len(got) != 0 || cursor != "2" {
		t.Fatalf("idle poll: %d entries, cursor %q", len(got), cursor)
	}
	h.do("GET", "/api/v1/nowhere", nil, "")
	if got, cursor = poll(cursor); len(got) != 1 || got[0].Seq != 3 || cursor != "3" {
		t.Fatalf("after one more: %v, cursor %q", got, cursor)
	}
	h.control("POST", "reset", "", nil)
	if got, _ = poll("0"); len(got) != 0 {
		t.Fatalf("after reset: %d entries", len(got))
	}
	h.do("GET", "/api/v1/nowhere", nil, "")
	if got, _ = poll("0"); len(got) != 1 || got[0].Seq != 4 {
		t.Fatalf("after reset and one request: %v", got)
	}
}

// TestJournalKeepsTheExchange: headers, bodies and their sizes, a body past
// the cap cut at it, a body no stage read left out.
func TestJournalKeepsTheExchange(t *testing.T) {
	h := newHarness(t)
	bearer := "Bearer " + fixtureKey(t, "opsmerge", "full").Secret
	h.do("POST", "/api/v1/tickets", http.Header{"Authorization": {bearer}, "X-Trace": {"abc"}}, `{"subject":"printer on fire","clientId":"7a1d2e7c-1b1f-4d0e-9a8b-6f0f7a5e9d11"}`)
	e := h.lastEntry()
	if e.RequestBody == nil || !strings.Contains(e.RequestBody.Text, "printer on fire") || e.RequestBody.Truncated {
		t.Errorf("request body: %+v", e.RequestBody)
	}
	if e.RequestHeaders.Get("X-Trace") != "abc" || e.RequestHeaders.Get("Authorization") != "Bearer REDACTED" || e.RequestHeaders.Get("Host") == "" {
		t.Errorf("request headers: %v", e.RequestHeaders)
	}
	// Spelled as sent: OpsMerge's X-RateLimit-* are not in Go's canonical form.
	limit := ""
	for name, v := range e.ResponseHeaders {
		if name == "X-RateLimit-Limit" {
			limit = strings.Join(v, ",")
		}
	}
	if e.ResponseHeaders.Get("Content-Type") == "" || limit != "300" {
		t.Errorf("response headers: %v", e.ResponseHeaders)
	}
	if e.Operation != "createTicket" || e.Profile != "opsmerge" || e.Status != 201 || e.ReasonCode != "" {
		t.Errorf("entry: %+v", e)
	}
	// A page larger than the cap.
	h.do("GET", "/api/v1/agents?per_page=100", http.Header{"Authorization": {bearer}}, "")
	e = h.lastEntry()
	if b := e.ResponseBody; b == nil || !b.Truncated || len(b.Text) > JournalBodyCap || b.Size <= JournalBodyCap {
		t.Errorf("large body: size %d, %d kept, truncated %v", b.Size, len(b.Text), b.Truncated)
	}
	// Refused before any stage read its body: the body as drained past the
	// answer, redacted as any other.
	h.do("POST", "/api/v1/tickets", nil, `{"title":"x","password":"hunter2hunter2"}`)
	if e = h.lastEntry(); e.RequestBody == nil || !strings.Contains(e.RequestBody.Text, `"title":"x"`) || strings.Contains(e.RequestBody.Text, "hunter2") || e.RequestBody.Truncated {
		t.Errorf("a refused request's body in the journal: %+v", e.RequestBody)
	}
	big := `{"title":"` + strings.Repeat("y", 3*JournalBodyCap) + `"}`
	h.do("POST", "/api/v1/tickets", nil, big)
	if b := h.lastEntry().RequestBody; b == nil || !b.Truncated || b.Size != len(big) || len(b.Text) > JournalBodyCap {
		t.Errorf("a refused request's large body: %+v", b)
	}
	// No body: none, not an empty one.
	h.do("POST", "/api/v1/tickets", nil, "")
	if e = h.lastEntry(); e.RequestBody != nil {
		t.Errorf("a bodiless refused request has a body in the journal: %+v", e.RequestBody)
	}
}

// TestJournalRedactsBodies: a key's secret shown once in a response (a
// MongoDB key's creation) and secrets a client sends in a body, under any
// name and at any depth, never reach the journal.
func TestJournalRedactsBodies(t *testing.T) {
	h := newHarness(t)
	p := profileNamed(t, "mongodb-opsmanager")
	_, owner := fixtureCredentials(t, p, "full")
	status, _, body := h.doWith(owner, "POST", "/api/public/v1.0/orgs/5980cfc70b6d97029d82e3f6/apiKeys", nil, `{"desc":"journal test","roles":["ORG_MEMBER"]}`)
	if status != 200 {
		t.Fatalf("create: %d %s", status, body)
	}
	var created struct{ PrivateKey string }
	_ = json.Unmarshal(body, &created)
	e := h.lastEntry()
	if created.PrivateKey == "" || e.ResponseBody == nil || strings.Contains(e.ResponseBody.Text, created.PrivateKey) ||
		!strings.Contains(e.ResponseBody.Text, `"privateKey":"REDACTED"`) {
		t.Fatalf("the create's answer in the journal: %+v", e.ResponseBody)
	}
	// A client echoing secrets: by name, nested under a credential name, by
	// value under an innocent name, inside a sentence, escaped.
	om := fixtureKey(t, "opsmerge", "full").Secret
	opm := fixtureKey(t, "opmanager", "full").Secret
	sent := fmt.Sprintf(`{"subject":"t","clientId":"7a1d2e7c-1b1f-4d0e-9a8b-6f0f7a5e9d11","password":"hunter2hunter2","auth":{"user":"u","pin":1234},"note":%q,"list":[%q],"text":"use %s please","esc":"%s"}`,
		opm, om, opm, strings.ReplaceAll(om, "om_", `om\u005f`))
	h.do("POST", "/api/v1/tickets", http.Header{"Authorization": {"Bearer " + om}}, sent)
	e = h.lastEntry()
	rec, _ := json.Marshal(e)
	for _, secret := range []string{om, opm, "hunter2hunter2", `"pin":1234`, om[3:]} {
		if strings.Contains(string(rec), secret) {
			t.Errorf("the journal holds %q: %s", secret, e.RequestBody.Text)
		}
	}
	if !strings.Contains(e.RequestBody.Text, `"subject":"t"`) || !strings.Contains(e.RequestBody.Text, "use REDACTED please") {
		t.Errorf("redaction took more than the secrets: %s", e.RequestBody.Text)
	}
}

// TestRedactJSON pins the body redactor on the shapes that matter.
func TestRedactJSON(t *testing.T) {
	const known = "KNOWNSECRET123"
	rd := newRedactor(embeddedProfiles(t), func(v string) bool { return v == known })
	tests := []struct{ in, want string }{
		{`{"a":"b","n":12}`, `{"a":"b","n":12}`},
		{`{"password":"x","apiKey":"abcdefgh"}`, `{"password":"REDACTED","apiKey":"REDACTED"}`},
		{`{"credentials":{"user":"u","n":[1,"two"]},"after":"kept"}`, `{"credentials":{"user":"REDACTED","n":["REDACTED","REDACTED"]},"after":"kept"}`},
		{`{"token":12345678}`, `{"token":"REDACTED"}`},
		{`{"note":"KNOWNSECRET123"}`, `{"note":"REDACTED"}`},
		{`{"note":"key KNOWNSECRET123 here"}`, `{"note":"key REDACTED here"}`},
		{`["om_abcdefghijklmnop", "ok"]`, `["REDACTED", "ok"]`},
		{`{"note":"KNOWN\u0053ECRET123"}`, `{"note":"REDACTED"}`},
		{`{"quote":"a \"KNOWNSECRET123\" b"}`, `{"quote":"REDACTED"}`},
		{`{"secret":"cut sho`, `{"secret":"REDACTED"`},
		{`{"x":[{"y":{"Client-Secret":"s3cr3t!"}}],"z":true}`, `{"x":[{"y":{"Client-Secret":"REDACTED"}}],"z":true}`},
		{`{"keys":{"a":1},"b":2}`, `{"keys":{"a":1},"b":2}`},
	}
	for _, tt := range tests {
		if got := string(rd.appendBody(nil, []byte(tt.in), "application/json", 1000)); got != tt.want {
			t.Errorf("%s\n got %s\nwant %s", tt.in, got, tt.want)
		}
	}
	other := []struct{ contentType, in, want string }{
		{"application/x-www-form-urlencoded", "a=1&password=hunter22&q=KNOWNSECRET123", "a=1&password=REDACTED&q=REDACTED"},
		{"text/plain", "token: om_abcdefghijkl, then KNOWNSECRET123.", "token: REDACTED, then REDACTED."},
		{"text/plain", "padded KNOWNSECRET123== end", "padded REDACTED== end"},
	}
	for _, tt := range other {
		if got := string(rd.appendBody(nil, []byte(tt.in), tt.contentType, 1000)); got != tt.want {
			t.Errorf("%s %s\n got %s\nwant %s", tt.contentType, tt.in, got, tt.want)
		}
	}
	// A secret the cap cuts is recognised whole: no part of it shows.
	body := []byte(`{"note":"` + strings.Repeat("a", 20) + " " + known + `"}`)
	if got := string(rd.appendBody(nil, body, "application/json", 34)); strings.Contains(got, "KNOWN") {
		t.Errorf("cut at the cap: %s", got)
	}
}

// TestJournalConcurrent records and reads at once, for the race detector,
// and checks no entry is lost or torn.
func TestJournalConcurrent(t *testing.T) {
	h := newHarness(t)
	const workers, each = 4, 60
	bearer := http.Header{"Authorization": {"Bearer " + fixtureKey(t, "opsmerge", "full").Secret}}
	var wg sync.WaitGroup
	stop := make(chan struct{})
	var readerErr error
	var readerWG sync.WaitGroup
	readerWG.Add(1)
	go func() {
		defer readerWG.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			out, _ := h.srv.journal.entries(journalFilter{}, 0)
			for _, e := range out {
				if e.Method == "" || e.URI == "" {
					readerErr = fmt.Errorf("torn entry %+v", e)
				}
			}
		}
	}()
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < each; i++ {
				req := httptest.NewRequest("GET", fmt.Sprintf("/api/v1/agents?per_page=%d", 1+i%5), nil)
				req.Header = bearer.Clone()
				h.srv.ServeHTTP(httptest.NewRecorder(), req)
			}
		}()
	}
	wg.Wait()
	close(stop)
	readerWG.Wait()
	if readerErr != nil {
		t.Fatal(readerErr)
	}
	out, cursor := h.srv.journal.entries(journalFilter{}, 0)
	if len(out) != workers*each || cursor != workers*each {
		t.Fatalf("%d entries, cursor %d, want %d", len(out), cursor, workers*each)
	}
}

// TestJournalRecordsWithoutAllocating: a recorded exchange reuses its
// slot's buffers: once the ring has come round, nothing is allocated.
func TestJournalRecordsWithoutAllocating(t *testing.T) {
	h := newHarness(t)
	p := profileNamed(t, "opsmerge")
	req := httptest.NewRequest("GET", "/api/v1/agents?per_page=20", nil)
	req.Header.Set("Authorization", "Bearer "+fixtureKey(t, "opsmerge", "full").Secret)
	req.Header.Set("User-Agent", "journal-test/1.0")
	w := httptest.NewRecorder()
	h.srv.ServeHTTP(w, req)
	body := w.Body.Bytes()
	x := &exchange{w: w, r: req, profile: p, op: p.Operation("listAgents"), status: 200}
	record := func() {
		h.srv.journal.capture(x, body)
		h.srv.journal.add(x, time.Time{}, time.Millisecond, "")
		x.respBody = nil
	}
	for i := 0; i < 2*JournalSize; i++ {
		record()
	}
	if n := testing.AllocsPerRun(200, record); n != 0 {
		t.Errorf("recording allocates %.1f times per exchange, want 0", n)
	}
}

// TestReasonsListed: every reason is listed once, and the console offers
// each one in its filter.
func TestReasonsListed(t *testing.T) {
	script, err := os.ReadFile("console/assets/app.js")
	if err != nil {
		t.Fatal(err)
	}
	seen := map[Reason]bool{}
	for _, r := range Reasons {
		if seen[r] {
			t.Errorf("%s listed twice", r)
		}
		seen[r] = true
		if !strings.Contains(string(script), "'"+string(r)+"'") {
			t.Errorf("the console's reason filter lacks %s", r)
		}
	}
}

// TestJournalEntries: the journal keeps as many of the latest exchanges as
// Options.JournalEntries says (JournalSize when 0), newest first, and a
// size out of bounds is refused.
func TestJournalEntries(t *testing.T) {
	tests := []struct {
		entries, sent int
		want          []uint64 // the sequence numbers kept, newest first
	}{
		{entries: 3, sent: 5, want: []uint64{5, 4, 3}},
		{entries: 1, sent: 2, want: []uint64{2}},
		{entries: 0, sent: 4, want: []uint64{4, 3, 2, 1}},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.entries), func(t *testing.T) {
			srv, err := New(Options{Profiles: embeddedProfiles(t), JournalEntries: tt.entries})
			if err != nil {
				t.Fatal(err)
			}
			for range tt.sent {
				srv.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/api/v1/nowhere", nil))
			}
			w := httptest.NewRecorder()
			srv.ServeHTTP(w, httptest.NewRequest("GET", "http://127.0.0.1"+ControlPrefix+"requests", nil))
			var got []Request
			if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil {
				t.Fatalf("the journal: %v: %s", err, w.Body.Bytes())
			}
			var seqs []uint64
			for _, r := range got {
				seqs = append(seqs, r.Seq)
			}
			if !slices.Equal(seqs, tt.want) {
				t.Errorf("a journal of %d after %d requests keeps %v, want %v", tt.entries, tt.sent, seqs, tt.want)
			}
		})
	}
	for _, n := range []int{-1, MaxJournalEntries + 1} {
		if _, err := New(Options{Profiles: embeddedProfiles(t), JournalEntries: n}); err == nil || !strings.Contains(err.Error(), fmt.Sprint(n)) {
			t.Errorf("New with a journal of %d: %v, want an error naming it", n, err)
		}
	}
}
