package suites

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestRedactor: whatever a run reports loses every credential: known
// secrets, the values of headers and query parameters named by any of the
// profile's security schemes or by common credential names, in any case,
// and credential fields of JSON bodies.
func TestRedactor(t *testing.T) {
	creds := &Credentials{Keys: map[string]Credential{
		"full":   {Secret: "KNOWNSECRETFULL0000"},
		"second": {Secret: "KNOWNSECRETSECOND00"},
	}}
	tests := []struct {
		profile, in string
		gone        []string
		kept        []string
	}{
		{"opmanager", "GET /api/json/device/listDevices?apiKey=unknownsecret1&page=1\nApikey: unknownsecret2\nAPIKEY: unknownsecret3\n",
			[]string{"unknownsecret1", "unknownsecret2", "unknownsecret3"}, []string{"page=1", "Apikey: REDACTED", "apiKey=REDACTED"}},
		{"opmanager", "GET /x?APIKEY=unknownsecret1&api_key=unknownsecret2&access_token=unknownsecret3&Token=unknownsecret4&password=unknownsecret5&sort_key=name",
			[]string{"unknownsecret"}, []string{"sort_key=name"}},
		{"ivanti-ism", "GET /api/odata/businessobject/incidents\nAuthorization: rest_api_key=UNKNOWNREFERENCEID0\n\nreason: rest_api_key=UNKNOWNREFERENCEID1",
			[]string{"UNKNOWNREFERENCEID"}, []string{"Authorization: rest_api_key=REDACTED"}},
		{"opsmerge", "Authorization: Bearer om_unknownunknownunknown\nX-Api-Key: unknownsecret9\nCookie: session=unknownsecret8\nX-Request-Id: keepme",
			[]string{"unknown"}, []string{"Authorization: Bearer REDACTED", "X-Request-Id: keepme"}},
		{"opsmerge", `{"key":{"id":"key-1"},"secret":"om_createdcreatedcreated","privateKey":"d0eda82f-8f6d","password":"hunter22hunter"}`,
			[]string{"om_created", "d0eda82f", "hunter22"}, []string{`"secret":"REDACTED"`, `"id":"key-1"`}},
		{"mongodb-opsmanager", "Authorization: Digest username=\"pub\", realm=\"MMS Public API\", response=\"abcdef0123456789\"",
			[]string{"abcdef0123456789"}, []string{"Authorization: Digest REDACTED"}},
		{"opsmerge", "the key KNOWNSECRETFULL0000 and KNOWNSECRETSECOND00 in a reason", []string{"KNOWNSECRET"}, []string{"the key REDACTED and REDACTED"}},
	}
	for _, tt := range tests {
		rd := newRedactor(profile(t, tt.profile), creds)
		got := rd.text(tt.in)
		for _, g := range tt.gone {
			if strings.Contains(got, g) {
				t.Errorf("%s: %q survives in\n%s", tt.profile, g, got)
			}
		}
		for _, k := range tt.kept {
			if !strings.Contains(got, k) {
				t.Errorf("%s: %q is missing from\n%s", tt.profile, k, got)
			}
		}
	}
}

// TestCurlRepeatsTheRequest: the curl command of a failure names each
// known key as a ${VARIABLE}, shows no secret, and, run by a shell with the
// variable set, sends what the check sent.
func TestCurlRepeatsTheRequest(t *testing.T) {
	if _, err := exec.LookPath("curl"); err != nil {
		t.Skip("curl is not installed; .ci/run installs it")
	}
	var seen http.Header
	var seenURL string
	var seenBody string
	hs := newRecordingServer(t, func(r *http.Request, body string) { seen, seenURL, seenBody = r.Header.Clone(), r.URL.String(), body })
	creds := &Credentials{Keys: map[string]Credential{"full": {Secret: "om_Sec'ret$`\"withshell&chars"}, "second": {PublicKey: "pubuser", PrivateKey: "private-digest-key"}}}
	rd := newRedactor(profile(t, "opmanager"), creds)
	u, _ := url.Parse(hs.URL + "/api/json/alarm/listAlarms?apiKey=om_Sec'ret$`\"withshell%26chars&x=1")
	req := &recordedRequest{method: "POST", url: u, header: http.Header{
		"Apikey": {"om_Sec'ret$`\"withshell&chars"}, "Content-Type": {"application/json"}, "X-Empty": {""}, "User-Agent": {"Go"}},
		body: []byte(`{"name":"it's"}`)}
	cmd := rd.curl(req)
	if strings.Contains(cmd, "Sec'ret") || !strings.Contains(cmd, "${OPMANAGER_FULL_KEY}") {
		t.Fatalf("curl = %s", cmd)
	}
	c := exec.Command("sh", "-c", cmd)
	c.Env = append(os.Environ(), "OPMANAGER_FULL_KEY=om_Sec'ret$`\"withshell&chars")
	if out, err := c.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", cmd, err, out)
	}
	if seen.Get("Apikey") != "om_Sec'ret$`\"withshell&chars" || seenBody != `{"name":"it's"}` || !strings.Contains(seenURL, "x=1") {
		t.Errorf("the server saw apikey %q, body %q, URL %q", seen.Get("Apikey"), seenBody, seenURL)
	}
	if _, ok := seen["X-Empty"]; !ok {
		t.Errorf("the empty header was not sent: %v", seen)
	}
	// A secret several roles share is named after the first in a fixed order.
	shared := &Credentials{Keys: map[string]Credential{"demo": {Secret: "sharedsecret"}, "full": {Secret: "sharedsecret"}, "zeta": {Secret: "sharedsecret"}}}
	for range 20 {
		if got := newRedactor(profile(t, "opsmerge"), shared).curl(&recordedRequest{method: "GET", url: u, header: http.Header{"Authorization": {"Bearer sharedsecret"}}}); !strings.Contains(got, "${OPSMERGE_FULL_KEY}") {
			t.Fatalf("curl = %s, want the full key's name", got)
		}
	}
	// A digest request is repeated with --digest and the private key as a variable.
	dreq := &recordedRequest{method: "GET", url: u, header: http.Header{"Authorization": {`Digest username="pubuser", realm="r", response="0123456789abcdef"`}}}
	if got := rd.curl(dreq); !strings.Contains(got, `--digest -u "pubuser:${OPMANAGER_SECOND_PRIVATE_KEY}"`) || strings.Contains(got, "0123456789abcdef") {
		t.Errorf("digest curl = %s", got)
	}
}

// newRecordingServer calls see with every request and its body.
func newRecordingServer(t *testing.T, see func(*http.Request, string)) *httptest.Server {
	t.Helper()
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b := new(strings.Builder)
		_, _ = io.Copy(b, r.Body)
		see(r, b.String())
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(hs.Close)
	return hs
}
