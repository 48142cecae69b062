package mock

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/opsconform/opsconform/fixtures"
	"github.com/opsconform/opsconform/specs"
)

// knownSecrets is every secret the embedded fixtures hold, by profile.
func knownSecrets(t *testing.T) []string {
	t.Helper()
	var out []string
	for _, p := range embeddedProfiles(t) {
		set, err := fixtures.Load(fixtures.Embedded(), p.Name)
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range set.Keys {
			for _, s := range []string{k.Secret, k.PrivateKey} {
				if s != "" {
					out = append(out, s)
				}
			}
		}
	}
	if len(out) < 20 {
		t.Fatalf("only %d fixture secrets: the set-up is wrong", len(out))
	}
	return out
}

// credentialPositions is every place a client might put a key: each name a
// loaded security scheme reads and each common credential name, as a query
// parameter (as written, lower and upper case), a header and a cookie, and
// the Authorization header under every scheme the profiles use and Basic.
func credentialPositions(t *testing.T) map[string]func(r *http.Request, secret string) {
	names := []string{"access_token", "Access_Token", "api_key", "apikey", "APIKEY", "api-key", "X-Api-Key", "token",
		"key", "password", "secret", "rest_api_key", "Rest_Api_Key", "auth_token", "client_secret", "private_key", "session"}
	for _, p := range embeddedProfiles(t) {
		for _, sc := range p.Auth.Schemes {
			if sc.Param != "" {
				names = append(names, sc.Param, strings.ToLower(sc.Param), strings.ToUpper(sc.Param))
			}
		}
	}
	pos := map[string]func(r *http.Request, secret string){}
	for _, n := range names {
		pos["query "+n] = func(r *http.Request, secret string) {
			q := r.URL.RawQuery
			if q != "" {
				q += "&"
			}
			r.URL.RawQuery = q + url.QueryEscape(n) + "=" + url.QueryEscape(secret)
		}
		pos["header "+n] = func(r *http.Request, secret string) { r.Header.Add(n, secret) }
		pos["cookie "+n] = func(r *http.Request, secret string) { r.AddCookie(&http.Cookie{Name: n, Value: secret}) }
	}
	for _, scheme := range []string{"Bearer ", "bearer ", "rest_api_key=", "Token ", ""} {
		pos["Authorization "+scheme] = func(r *http.Request, secret string) { r.Header.Set("Authorization", scheme+secret) }
	}
	pos["Authorization Basic"] = func(r *http.Request, secret string) {
		r.Header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte("ewmaqvdo:"+secret)))
	}
	// Under a name nobody documents: recognised by its value.
	pos["query q"] = func(r *http.Request, secret string) { r.URL.RawQuery = "q=" + url.QueryEscape(secret) }
	pos["query q, formatted"] = func(r *http.Request, secret string) {
		r.URL.RawQuery = "filter=" + url.QueryEscape("rest_api_key="+secret)
	}
	pos["path segment"] = func(r *http.Request, secret string) { r.URL.Path += "/" + secret }
	return pos
}

// TestRedactionEverywhere sends every fixture secret in every position to
// every profile, and then greps every channel the mock writes to: the log,
// the request journal, and each response's headers and body.
func TestRedactionEverywhere(t *testing.T) {
	h := newHarness(t)
	secrets := knownSecrets(t)
	positions := credentialPositions(t)
	var responses strings.Builder
	send := func(p *specs.Profile, secret string, apply ...func(*http.Request, string)) {
		req, err := http.NewRequest("GET", h.http.URL+probePath[p.Name]+"?rows=5", nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range apply {
			a(req, secret)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var b strings.Builder
		_ = resp.Header.Write(&b)
		body := make([]byte, 1<<20)
		n, _ := resp.Body.Read(body)
		fmt.Fprintf(&responses, "%s %s\n%s\n%s\n", req.Method, req.URL, b.String(), body[:n])
		if resp.StatusCode >= 500 {
			t.Errorf("%s %s: %d", req.Method, req.URL.Path, resp.StatusCode)
		}
	}
	requests := 0
	// In a JSON body (first: the journal keeps the latest 200 requests), where a validator may quote a value back: under a
	// credential name and in every property of the create's schema.
	for _, p := range embeddedProfiles(t) {
		for _, op := range p.Operations {
			if op.Method != http.MethodPost || op.Body == nil || op.Body.Schema == nil || op.Body.Schema.Properties == nil {
				continue
			}
			hdr, client := fixtureCredentials(t, p, "full")
			path := op.Path
			set, _ := fixtures.Load(fixtures.Embedded(), p.Name)
			for name, v := range set.Params {
				path = strings.ReplaceAll(path, "{"+name+"}", v)
			}
			for _, sec := range secrets {
				fields := map[string]any{"password": sec, "token": []any{sec}}
				for prop := range op.Body.Schema.Properties.KeysFromOldest() {
					fields[prop] = sec
				}
				body, _ := json.Marshal(fields)
				status, rh, rb := h.doWith(client, "POST", path, hdr, string(body))
				fmt.Fprintf(&responses, "POST %s\n%v\n%s\n", path, rh, rb)
				if status >= 500 {
					t.Errorf("POST %s: %d %s", path, status, rb)
				}
				requests++
			}
		}
	}
	for _, p := range embeddedProfiles(t) {
		// Every secret in every position, one position at a time, for the
		// profile's own full key (which gets furthest into the pipeline) …
		full := fixtureKey(t, p.Name, "full")
		own := full.Secret + full.PrivateKey
		for _, apply := range positions {
			send(p, own, apply)
			requests++
		}
		// … and every other secret in all positions at once.
		all := make([]func(*http.Request, string), 0, len(positions))
		for _, apply := range positions {
			all = append(all, apply)
		}
		for _, sec := range secrets {
			send(p, sec, all...)
			requests++
		}
	}
	var journal []Request
	h.control("GET", "requests", "", &journal)
	recorded, _ := json.Marshal(journal)
	logs := h.logBuf.String()
	if !strings.Contains(logs, Redacted) || !strings.Contains(string(recorded), Redacted) || len(journal) < 100 {
		t.Fatalf("%d requests sent, %d journalled, and no REDACTED in the outputs: the run proves nothing\n%s", requests, len(journal), logs)
	}
	channels := map[string]string{"log": logs, "journal": string(recorded)}
	for _, sec := range secrets {
		for name, out := range channels {
			if strings.Contains(out, sec) {
				t.Errorf("the %s contains secret …%s", name, sec[len(sec)-4:])
			}
		}
	}
	// A response may show what its own request authenticated with only in
	// redacted form; the echo of a request URL in this test's own record
	// is not a response, so look at bodies and headers only.
	for _, block := range regexp.MustCompile("\n(GET|POST) ").Split(responses.String(), -1) {
		_, resp, _ := strings.Cut(block, "\n")
		for _, sec := range secrets {
			if strings.Contains(resp, sec) {
				t.Errorf("a response contains secret …%s:\n%.600s", sec[len(sec)-4:], block)
			}
		}
	}
}

func TestRedactorQuery(t *testing.T) {
	rd := newRedactor(embeddedProfiles(t), func(v string) bool { return v == "KNOWNSECRET123" })
	tests := []struct{ in, want string }{
		{"rows=5&page=2", "rows=5&page=2"},
		{"apiKey=abc123xyz&rows=5", "apiKey=REDACTED&rows=5"},
		{"APIKEY=abc123xyz", "APIKEY=REDACTED"},
		{"access_token=om_abcdefghijkl", "access_token=REDACTED"},
		{"Access%5FToken=xyzxyzxyz", "Access%5FToken=REDACTED"},
		{"x=1;apikey=abcdefgh", "x=1;apikey=REDACTED"},
		{"q=om_0123456789abcdef", "q=REDACTED"},
		{"om_0123456789abcdef", "REDACTED"},
		{"q=KNOWNSECRET123", "q=REDACTED"},
		{"f=rest_api_key%3DKNOWNSECRET123", "f=REDACTED"},
		{"apikey=", "apikey="},
		{"bad=%zz&token=abcdefgh&", "bad=%zz&token=REDACTED&"},
		{"om_=x", "om_=x"},
		{"user_password=hunter22", "user_password=REDACTED"},
		{"sortKey=name", "sortKey=name"},
	}
	for _, tt := range tests {
		if got := rd.query(tt.in); got != tt.want {
			t.Errorf("query(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestRedactorHeaderAndScrub(t *testing.T) {
	rd := newRedactor(embeddedProfiles(t), nil)
	tests := []struct{ name, value, want string }{
		{"Accept", "application/json", "application/json"},
		{"Authorization", "Bearer om_abcdef", "Bearer REDACTED"},
		{"authorization", "rest_api_key=ABCDEF", "REDACTED"},
		{"APIKEY", "abcdef", "REDACTED"},
		{"X-Custom", "om_0123456789", "REDACTED"},
	}
	for _, tt := range tests {
		if got := rd.header(tt.name, tt.value); got != tt.want {
			t.Errorf("header(%q, %q) = %q, want %q", tt.name, tt.value, got, tt.want)
		}
	}
	r, _ := http.NewRequest("GET", "http://x/p?token=SECRET1one&rows=5", nil)
	r.Header.Set("Authorization", "rest_api_key=SECRET2two")
	r.AddCookie(&http.Cookie{Name: "sid", Value: "SECRET3three"})
	got := scrub("token SECRET1one, key SECRET2two, cookie SECRET3three, rows 5", rd.secrets(r))
	if want := "token REDACTED, key REDACTED, cookie REDACTED, rows 5"; got != want {
		t.Errorf("scrub = %q, want %q", got, want)
	}
}
