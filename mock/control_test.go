package mock

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

const testControlToken = "c0ntrol-t0ken-for-tests-0123456789"

// controlServer serves the embedded profiles with the given control token.
func controlServer(t *testing.T, token string) *httptest.Server {
	t.Helper()
	srv, err := New(Options{Profiles: embeddedProfiles(t), Seed: 1, ControlToken: token})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	return hs
}

func controlCall(t *testing.T, hs *httptest.Server, method, path string, header http.Header) (int, http.Header, string) {
	t.Helper()
	req, err := http.NewRequest(method, hs.URL+ControlPrefix+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(body)
}

// TestControlToken: with a token, every control call but health needs it,
// in any letter case of the scheme, and nothing else will do.
func TestControlToken(t *testing.T) {
	hs := controlServer(t, testControlToken)
	calls := []struct{ method, path string }{
		{"GET", "profiles"},
		{"POST", "reset"},
		{"GET", "requests"},
		{"GET", "profiles/opsmerge/keys"},
		{"POST", "profiles/opsmerge/keys"},
		{"POST", "profiles/opsmerge/keys/key-ci-full/regenerate"},
		{"DELETE", "profiles/opsmerge/keys/key-ci-full"},
		{"GET", "faults"},
		{"DELETE", "faults"},
		{"GET", "nowhere"},
	}
	refused := []struct {
		name   string
		header http.Header
	}{
		{"no Authorization", nil},
		{"wrong token", http.Header{"Authorization": {"Bearer " + testControlToken + "x"}}},
		{"token prefix only", http.Header{"Authorization": {"Bearer " + testControlToken[:10]}}},
		{"wrong scheme", http.Header{"Authorization": {"Basic " + testControlToken}}},
		{"bare token", http.Header{"Authorization": {testControlToken}}},
		{"empty bearer", http.Header{"Authorization": {"Bearer "}}},
	}
	for _, c := range calls {
		for _, r := range refused {
			st, h, body := controlCall(t, hs, c.method, c.path, r.header)
			if st != 401 || !strings.HasPrefix(h.Get("WWW-Authenticate"), "Bearer ") || !strings.Contains(body, `"error"`) {
				t.Errorf("%s %s with %s: %d %q %s, want 401 with a Bearer challenge and a JSON error", c.method, c.path, r.name, st, h.Get("WWW-Authenticate"), body)
			}
			if strings.Contains(body, "om_") || strings.Contains(body, testControlToken) {
				t.Errorf("%s %s with %s: the refusal shows a secret: %s", c.method, c.path, r.name, body)
			}
		}
	}
	if st, _, _ := controlCall(t, hs, "GET", "health", nil); st != 200 {
		t.Errorf("health without a token: %d, want 200 (the suites detect the mock by it)", st)
	}
	for _, scheme := range []string{"Bearer", "bearer", "BEARER"} {
		if st, _, body := controlCall(t, hs, "GET", "profiles/opsmerge/keys", http.Header{"Authorization": {scheme + " " + testControlToken}}); st != 200 {
			t.Errorf("%s with the token: %d %s", scheme, st, body)
		}
	}
	if st, _, body := controlCall(t, hs, "POST", "reset", http.Header{"Authorization": {"Bearer " + testControlToken}}); st != 200 {
		t.Errorf("reset with the token: %d %s", st, body)
	}
}

// TestControlOpenOnLoopback: without a token the control API answers
// loopback clients, but not a browser sent by another site, nor a request
// that names another host (DNS rebinding).
func TestControlOpenOnLoopback(t *testing.T) {
	hs := controlServer(t, "")
	tests := []struct {
		name   string
		method string
		path   string
		header http.Header
		want   int
	}{
		{"plain client", "POST", "reset", nil, 200},
		{"localhost by name", "POST", "reset", http.Header{"Host": {"localhost:8060"}}, 200},
		{"same-origin browser", "POST", "reset", http.Header{"Sec-Fetch-Site": {"same-origin"}}, 200},
		{"cross-site browser", "POST", "reset", http.Header{"Sec-Fetch-Site": {"cross-site"}}, 403},
		{"cross-origin Origin", "POST", "profiles/opsmerge/keys", http.Header{"Origin": {"https://evil.example"}}, 403},
		{"rebound host name", "POST", "reset", http.Header{"Host": {"evil.example:8060"}}, 403},
		{"rebound host name reading keys", "GET", "profiles/opsmerge/keys", http.Header{"Host": {"evil.example"}}, 403},
		{"health for any host", "GET", "health", http.Header{"Host": {"evil.example"}}, 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest(tt.method, hs.URL+ControlPrefix+tt.path, nil)
			for k, v := range tt.header {
				if k == "Host" {
					req.Host = v[0]
					continue
				}
				req.Header[k] = v
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tt.want {
				t.Errorf("%d %s, want %d", resp.StatusCode, body, tt.want)
			}
		})
	}
}

func TestLoopbackHost(t *testing.T) {
	for host, want := range map[string]bool{
		"127.0.0.1:8060": true, "127.3.4.5": true, "[::1]:80": true, "::1": true, "localhost": true,
		"LOCALHOST:1": true, "app.localhost:9": true, "localhost.": true,
		"0.0.0.0:8060": false, "192.0.2.1": false, "example.com": false, "localhost.example.com": false, "": false,
	} {
		if got := loopbackHost(host); got != want {
			t.Errorf("loopbackHost(%q) = %v, want %v", host, got, want)
		}
	}
}
