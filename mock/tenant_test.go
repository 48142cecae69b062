package mock

import (
	"net"
	"net/http"
	"testing"
)

// TestLoopbackNamesAreOneTenant: a key bound to any loopback name is valid
// through every loopback name, and only there; other tenants stay apart.
func TestLoopbackNamesAreOneTenant(t *testing.T) {
	h := newHarness(t)
	_, port, _ := net.SplitHostPort(h.http.Listener.Addr().String())
	full := fixtureKey(t, "ivanti-ism", "full")          // tenant 127.0.0.1
	other := fixtureKey(t, "ivanti-ism", "other-tenant") // tenant tenant-b.example.com
	var localhostKey struct{ Secret string }             // tenant localhost
	if st := h.control("POST", "profiles/ivanti-ism/keys", `{"owner":"svc-integration","role":"Admin","scopes":["*"],"tenant":"localhost"}`, &localhostKey); st != http.StatusCreated {
		t.Fatalf("creating a key: %d", st)
	}
	tests := []struct {
		secret, host string
		want         int
	}{
		{full.Secret, "127.0.0.1:" + port, 200},
		{full.Secret, "localhost:" + port, 200},
		{full.Secret, "LOCALHOST:" + port, 200},
		{full.Secret, "[::1]:" + port, 200},
		{full.Secret, "127.0.0.2:" + port, 200}, // all of 127/8 is loopback
		{localhostKey.Secret, "127.0.0.1:" + port, 200},
		{localhostKey.Secret, "[::1]:" + port, 200},
		{full.Secret, "tenant-b.example.com:" + port, 401},
		{full.Secret, "10.0.0.1:" + port, 401},
		{full.Secret, "localhost.example.com:" + port, 401},
		{other.Secret, "localhost:" + port, 401},
		{other.Secret, "tenant-b.example.com:" + port, 200},
	}
	for _, tt := range tests {
		req, _ := http.NewRequest("GET", h.http.URL+"/api/odata/businessobject/incidents", nil)
		req.Host = tt.host
		req.Header.Set("Authorization", "rest_api_key="+tt.secret)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tt.want {
			t.Errorf("key …%s via Host %s: %d, want %d", tt.secret[len(tt.secret)-4:], tt.host, resp.StatusCode, tt.want)
		}
	}
}

// TestControlUsers: the control API creates owners (so a client can have
// users of its own to deactivate) and deletes those that own no key.
func TestControlUsers(t *testing.T) {
	h := newHarness(t)
	var u User
	if st := h.control("POST", "profiles/opsmerge/users", `{"name":"run user","role":"admin"}`, &u); st != http.StatusCreated || u.ID == "" || !u.Active || !u.APIAccess || u.Role != "admin" {
		t.Fatalf("create: %d %+v", st, u)
	}
	if st := h.control("POST", "profiles/opsmerge/users", `{"id":"`+u.ID+`"}`, nil); st != http.StatusConflict {
		t.Errorf("a second user with the same id: %d, want 409", st)
	}
	if st := h.control("POST", "profiles/opsmerge/users", `{"nmae":"typo"}`, nil); st != http.StatusBadRequest {
		t.Errorf("an unknown field: %d, want 400", st)
	}
	var k struct{ Key Key }
	if st := h.control("POST", "profiles/opsmerge/keys", `{"owner":"`+u.ID+`"}`, &k); st != http.StatusCreated {
		t.Fatalf("a key for the new user: %d", st)
	}
	if st := h.control("DELETE", "profiles/opsmerge/users/"+u.ID, "", nil); st != http.StatusConflict {
		t.Errorf("deleting a user who owns a key: %d, want 409", st)
	}
	h.control("DELETE", "profiles/opsmerge/keys/"+k.Key.ID, "", nil)
	if st := h.control("DELETE", "profiles/opsmerge/users/"+u.ID, "", nil); st != http.StatusNoContent {
		t.Errorf("deleting a user who owns nothing: %d, want 204", st)
	}
	if st := h.control("DELETE", "profiles/opsmerge/users/"+u.ID, "", nil); st != http.StatusNotFound {
		t.Errorf("deleting again: %d, want 404", st)
	}
	if st := h.control("POST", "profiles/nope/users", `{}`, nil); st != http.StatusNotFound {
		t.Errorf("an unknown profile: %d, want 404", st)
	}
}

// TestBaseURL: the banner's URL is one a client on this machine can use.
func TestBaseURL(t *testing.T) {
	tests := []struct {
		addr   *net.TCPAddr
		scheme string
		want   string
	}{
		{&net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 8060}, "http", "http://127.0.0.1:8060"},
		{&net.TCPAddr{IP: net.IPv4zero, Port: 8060}, "http", "http://127.0.0.1:8060"},
		{&net.TCPAddr{IP: net.IPv6unspecified, Port: 8060}, "https", "https://127.0.0.1:8060"},
		{&net.TCPAddr{IP: net.IPv6loopback, Port: 8060}, "http", "http://[::1]:8060"},
		{&net.TCPAddr{IP: net.ParseIP("192.0.2.7"), Port: 443}, "https", "https://192.0.2.7:443"},
	}
	for _, tt := range tests {
		if got := BaseURL(tt.scheme, tt.addr); got != tt.want {
			t.Errorf("BaseURL(%s, %s) = %s, want %s", tt.scheme, tt.addr, got, tt.want)
		}
	}
}
