package mock

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	icholy "github.com/icholy/digest"
	mongodigest "github.com/mongodb-forks/digest"
	"github.com/opsconform/opsconform/fixtures"
	"github.com/opsconform/opsconform/specs"
)

// A path per profile that the full key may read and whose security is the profile's usual one.
var probePath = map[string]string{
	"opmanager":          "/api/json/v2/device/listDevices",
	"opsmerge":           "/api/v1/agents",
	"mongodb-opsmanager": "/api/public/v1.0/orgs/5980cfc70b6d97029d82e3f6/apiKeys",
	"ivanti-ism":         "/api/odata/businessobject/incidents",
}

// credentials returns what a client sends for a key: headers, or a digest client.
func credentials(p *specs.Profile, secret, publicKey string) (http.Header, *http.Client) {
	switch p.Auth.Mode {
	case specs.AuthDigest:
		return nil, &http.Client{Transport: mongodigest.NewTransport(publicKey, secret)}
	case specs.AuthBearer:
		return http.Header{"Authorization": {"Bearer " + secret}}, http.DefaultClient
	}
	sc := p.Auth.Schemes[0]
	return http.Header{http.CanonicalHeaderKey(sc.Param): {strings.ReplaceAll(sc.Format, "{key}", secret)}}, http.DefaultClient
}

func fixtureCredentials(t testing.TB, p *specs.Profile, label string) (http.Header, *http.Client) {
	k := fixtureKey(t, p.Name, label)
	secret := k.Secret
	if p.Auth.Mode == specs.AuthDigest {
		secret = k.PrivateKey
	}
	return credentials(p, secret, k.PublicKey)
}

func TestValidKeyIsAdmitted(t *testing.T) {
	h := newHarness(t)
	for _, p := range embeddedProfiles(t) {
		t.Run(p.Name, func(t *testing.T) {
			hdr, client := fixtureCredentials(t, p, "full")
			status, _, body := h.doWith(client, "GET", probePath[p.Name], hdr, "")
			if status != 200 {
				t.Fatalf("status %d, want 200: %s", status, body)
			}
		})
	}
}

func TestUnauthenticatedCauses(t *testing.T) {
	h := newHarness(t)
	type tc struct {
		name   string
		header http.Header
		label  string // a fixture key to present instead of header
	}
	cases := map[string][]tc{
		"opmanager": {
			{name: "missing"},
			{name: "unknown key", header: http.Header{"Apikey": {"0123456789abcdef0123456789abcdef"}}},
			{name: "empty key", header: http.Header{"Apikey": {""}}},
			{name: "key twice", header: http.Header{"Apikey": {"a", "b"}}},
			{name: "expired", label: "expired"},
			{name: "disabled", label: "disabled"},
			{name: "owner deactivated", label: "owner-deactivated"},
		},
		"opsmerge": {
			{name: "missing"},
			{name: "unknown key", header: http.Header{"Authorization": {"Bearer om_unknownunknownunknownunknown0000000000"}}},
			{name: "no om_ prefix", header: http.Header{"Authorization": {"Bearer sk_live_abcdef"}}},
			{name: "wrong scheme", header: http.Header{"Authorization": {"Basic b206c2VjcmV0"}}},
			{name: "two spaces", header: http.Header{"Authorization": {"Bearer  om_abc"}}},
			{name: "no token", header: http.Header{"Authorization": {"Bearer"}}},
			{name: "not a token68", header: http.Header{"Authorization": {"Bearer om_a b"}}},
			{name: "revoked", label: "revoked"},
			{name: "expired", label: "expired"},
			{name: "owner deactivated", label: "owner-deactivated"},
		},
		"mongodb-opsmanager": {
			{name: "missing"},
			{name: "basic instead of digest", header: http.Header{"Authorization": {"Basic ZXdtYXF2ZG86eA=="}}},
			{name: "garbage digest", header: http.Header{"Authorization": {`Digest username=`}}},
			{name: "unknown nonce", header: http.Header{"Authorization": {`Digest username="ewmaqvdo", realm="MMS Public API", nonce="abc", uri="/api/public/v1.0/orgs/5980cfc70b6d97029d82e3f6/apiKeys", response="00", qop=auth, nc=00000001, cnonce="x", algorithm=MD5`}}},
		},
		"ivanti-ism": {
			{name: "missing"},
			{name: "unknown key", header: http.Header{"Authorization": {"rest_api_key=00000000000000000000000000000000"}}},
			{name: "bare key without rest_api_key=", header: http.Header{"Authorization": {"BBF5C4A965E648CB64EEE382E9F97327"}}},
			{name: "bearer form", header: http.Header{"Authorization": {"Bearer rest_api_key=BBF5C4A965E648CB64EEE382E9F97327"}}},
			{name: "not activated", label: "disabled"},
			{name: "other tenant", label: "other-tenant"},
			{name: "other IP", label: "other-ip"},
			{name: "owner deactivated", label: "owner-deactivated"},
		},
	}
	for _, p := range embeddedProfiles(t) {
		for _, c := range cases[p.Name] {
			t.Run(p.Name+"/"+c.name, func(t *testing.T) {
				hdr, client := c.header, http.DefaultClient
				if c.label != "" {
					hdr, client = fixtureCredentials(t, p, c.label)
				}
				status, respHdr, body := h.doWith(client, "GET", probePath[p.Name], hdr, "")
				if status != 401 {
					t.Fatalf("status %d, want 401: %s", status, body)
				}
				assertErrorEnvelope(t, p, specs.Unauthenticated, body)
				switch p.Auth.Mode {
				case specs.AuthBearer:
					if got := respHdr.Get("WWW-Authenticate"); !strings.HasPrefix(got, `Bearer realm="OpsMerge"`) {
						t.Errorf("WWW-Authenticate = %q, want a Bearer challenge", got)
					}
				case specs.AuthDigest:
					if got := respHdr.Get("WWW-Authenticate"); !strings.HasPrefix(got, `Digest realm="MMS Public API", domain="", nonce="`) {
						t.Errorf("WWW-Authenticate = %q, want the MMS digest challenge", got)
					}
				default:
					if got := respHdr.Get("WWW-Authenticate"); got != "" {
						t.Errorf("WWW-Authenticate = %q on an apiKey scheme, which has no HTTP auth scheme", got)
					}
				}
			})
		}
	}
}

func TestForbiddenCauses(t *testing.T) {
	h := newHarness(t)
	tests := []struct {
		profile, label string
	}{
		{"opmanager", "limited"},
		{"opmanager", "specific-api"},
		{"opmanager", "mcp"},
		{"opmanager", "api-disabled"},
		{"opsmerge", "limited"},
		{"opsmerge", "role-bounded"},
		{"mongodb-opsmanager", "limited"},
		{"mongodb-opsmanager", "other-org"},
		{"ivanti-ism", "limited"},
	}
	for _, tt := range tests {
		t.Run(tt.profile+"/"+tt.label, func(t *testing.T) {
			p := profileNamed(t, tt.profile)
			k := fixtureKey(t, tt.profile, tt.label)
			hdr, client := fixtureCredentials(t, p, tt.label)
			method, path, body := "GET", probePath[tt.profile], ""
			if k.Lacks != nil {
				op := p.Operation(k.Lacks.Operation)
				if op == nil {
					t.Fatalf("fixture names an unknown operation %q", k.Lacks.Operation)
				}
				method, path = op.Method, fillPath(op, k.Lacks.Params)
				if op.Body != nil {
					body = "{}"
				}
			}
			status, _, resp := h.doWith(client, method, path, hdr, body)
			if status != 403 {
				t.Fatalf("%s %s: status %d, want 403: %s", method, path, status, resp)
			}
			assertErrorEnvelope(t, p, specs.Forbidden, resp)
		})
	}
}

// fillPath writes an operation's path with its parameters: path ones in
// place, the rest as a query.
func fillPath(op *specs.Operation, params map[string]string) string {
	path := op.Path
	var q []string
	for k, v := range params {
		if strings.Contains(path, "{"+k+"}") {
			path = strings.ReplaceAll(path, "{"+k+"}", v)
		} else {
			q = append(q, k+"="+v)
		}
	}
	if len(q) > 0 {
		path += "?" + strings.Join(q, "&")
	}
	return path
}

func TestOpManagerQueryKey(t *testing.T) {
	h := newHarness(t)
	k := fixtureKey(t, "opmanager", "full")
	tests := []struct {
		path   string
		status int
		says   string
	}{
		{"/api/json/v2/device/listDevices?apiKey=" + k.Secret, 200, ""},
		{"/api/json/alarm/listAlarms?apiKey=" + k.Secret, 401, "header apikey"},
	}
	for _, tt := range tests {
		status, _, body := h.do("GET", tt.path, nil, "")
		if status != tt.status || !strings.Contains(string(body), tt.says) {
			t.Errorf("GET %s: %d %s, want %d mentioning %q", strings.Split(tt.path, "?")[0], status, body, tt.status, tt.says)
		}
	}
	status, _, _ := h.do("GET", "/api/json/alarm/listAlarms", http.Header{"Apikey": {k.Secret}}, "")
	if status != 200 {
		t.Errorf("header key on a header-only endpoint: %d", status)
	}
}

func TestBearerSchemeIsCaseInsensitive(t *testing.T) {
	h := newHarness(t)
	k := fixtureKey(t, "opsmerge", "full")
	for _, scheme := range []string{"Bearer", "bearer", "BEARER"} {
		status, _, body := h.do("GET", "/api/v1/auth/me", http.Header{"Authorization": {scheme + " " + k.Secret}}, "")
		if status != 200 {
			t.Errorf("%s: %d %s", scheme, status, body)
		}
	}
}

func TestIvantiTenantIsTheHost(t *testing.T) {
	h := newHarness(t)
	p := profileNamed(t, "ivanti-ism")
	hdr, _ := fixtureCredentials(t, p, "full")
	req, _ := http.NewRequest("GET", h.http.URL+probePath["ivanti-ism"], nil)
	req.Header = hdr
	req.Host = "tenant-b.example.com"
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 401 {
		t.Errorf("key of 127.0.0.1 used on tenant-b: %d, want 401", resp.StatusCode)
	}
}

func TestAuthMeReportsTheKey(t *testing.T) {
	h := newHarness(t)
	p := profileNamed(t, "opsmerge")
	hdr, _ := fixtureCredentials(t, p, "limited")
	status, _, body := h.do("GET", "/api/v1/auth/me", hdr, "")
	if status != 200 {
		t.Fatalf("%d %s", status, body)
	}
	var got struct {
		Data struct {
			KeyID  string   `json:"keyId"`
			Scopes []string `json:"scopes"`
			User   struct{ Role string }
		}
	}
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatal(err)
	}
	if got.Data.KeyID != "key-reporting" || strings.Join(got.Data.Scopes, ",") != "agents:read,clients:read" || got.Data.User.Role != "admin" {
		t.Errorf("auth/me = %s", body)
	}
	if strings.Contains(string(body), fixtureKey(t, "opsmerge", "limited").Secret) {
		t.Error("auth/me echoes the secret")
	}
}

// lifecycle steps through the control API and checks the very next request.
func TestKeyLifecycleAppliesToTheNextRequest(t *testing.T) {
	for _, p := range embeddedProfiles(t) {
		t.Run(p.Name, func(t *testing.T) {
			h := newHarness(t)
			var created struct {
				Key    Key    `json:"key"`
				Secret string `json:"secret"`
			}
			spec := `{"name":"lifecycle","owner":` + jsonOwner(t, p) + `,"tenant":"127.0.0.1"}`
			if p.Auth.Mode == specs.AuthDigest {
				spec = `{"name":"lifecycle","scopes":["ORG_OWNER@5980cfc70b6d97029d82e3f6"]}`
			}
			if st := h.control("POST", "profiles/"+p.Name+"/keys", spec, &created); st != 201 {
				t.Fatalf("create: %d", st)
			}
			if created.Secret == "" || created.Key.Redacted == "" || strings.Contains(created.Key.Redacted, created.Secret) {
				t.Fatalf("create returned secret %q, redacted %q", created.Secret, created.Key.Redacted)
			}
			secret := created.Secret
			probe := func(want int, step string) {
				t.Helper()
				hdr, client := credentials(p, secret, created.Key.PublicKey)
				status, _, body := h.doWith(client, "GET", probePath[p.Name], hdr, "")
				if status != want {
					t.Fatalf("after %s: %d, want %d: %s", step, status, want, body)
				}
			}
			action := func(a string) {
				t.Helper()
				if st := h.control("POST", "profiles/"+p.Name+"/keys/"+created.Key.ID+"/"+a, "", nil); st != 200 {
					t.Fatalf("%s: %d", a, st)
				}
			}
			probe(200, "create")
			var listed []Key
			h.control("GET", "profiles/"+p.Name+"/keys", "", &listed)
			for _, k := range listed {
				raw, _ := json.Marshal(k)
				if strings.Contains(string(raw), secret) {
					t.Fatalf("list shows the secret of %s", k.ID)
				}
			}
			action("disable")
			probe(401, "disable")
			action("enable")
			probe(200, "enable")
			old := secret
			var regen struct {
				Secret string `json:"secret"`
			}
			if st := h.control("POST", "profiles/"+p.Name+"/keys/"+created.Key.ID+"/regenerate", "", &regen); st != 200 || regen.Secret == "" || regen.Secret == old {
				t.Fatalf("regenerate: %d %q", st, regen.Secret)
			}
			probe(401, "regenerate (old secret)")
			secret = regen.Secret
			probe(200, "regenerate (new secret)")
			action("expire")
			probe(401, "expire")
			h.clock.Advance(-time.Hour) // before the expiry: the clock, not a flag, decides
			probe(200, "clock before expiry")
			h.clock.Advance(time.Hour)
			action("revoke")
			probe(401, "revoke")
			if st := h.control("DELETE", "profiles/"+p.Name+"/keys/"+created.Key.ID, "", nil); st != 204 {
				t.Fatalf("delete: %d", st)
			}
			probe(401, "delete")
		})
	}
}

// jsonOwner is a fixture user id of the profile, as JSON, or null.
func jsonOwner(t testing.TB, p *specs.Profile) string {
	set, err := fixtures.Load(fixtures.Embedded(), p.Name)
	if err != nil {
		t.Fatal(err)
	}
	if len(set.Users) == 0 {
		return `""`
	}
	b, _ := json.Marshal(set.Users[0].ID)
	return string(b)
}

func TestOwnerDeactivationAppliesToTheNextRequest(t *testing.T) {
	h := newHarness(t)
	p := profileNamed(t, "opsmerge")
	hdr, _ := fixtureCredentials(t, p, "full")
	if st, _, _ := h.do("GET", "/api/v1/agents", hdr, ""); st != 200 {
		t.Fatalf("before: %d", st)
	}
	h.control("POST", "profiles/opsmerge/users/u-ada/deactivate", "", nil)
	if st, _, _ := h.do("GET", "/api/v1/agents", hdr, ""); st != 401 {
		t.Errorf("after deactivating the owner: %d, want 401", st)
	}
	h.control("POST", "profiles/opsmerge/users/u-ada/activate", "", nil)
	h.control("POST", "profiles/opsmerge/users/u-ada/disable-api", "", nil)
	if st, _, _ := h.do("GET", "/api/v1/agents", hdr, ""); st != 401 {
		t.Errorf("OpsMerge with owner API access off: %d, want the profile's 401", st)
	}
	h.control("POST", "reset", "", nil)
	if st, _, _ := h.do("GET", "/api/v1/agents", hdr, ""); st != 200 {
		t.Errorf("after reset: %d", st)
	}
}

func TestMongoDBKeyManagement(t *testing.T) {
	h := newHarness(t)
	p := profileNamed(t, "mongodb-opsmanager")
	_, owner := fixtureCredentials(t, p, "full")
	const org, group = "5980cfc70b6d97029d82e3f6", "5e2211c17a3e5a48f5497de4"
	base := "/api/public/v1.0/orgs/" + org + "/apiKeys"

	status, _, body := h.doWith(owner, "POST", base, nil, `{"desc":"made by a test","roles":["ORG_MEMBER"]}`)
	if status != 200 {
		t.Fatalf("create: %d %s", status, body)
	}
	var key struct {
		ID, PublicKey, PrivateKey string
		Roles                     []map[string]string
	}
	_ = json.Unmarshal(body, &key)
	if len(key.PrivateKey) != 36 || strings.HasPrefix(key.PrivateKey, "*") {
		t.Fatalf("create must show the private key once: %s", body)
	}
	if len(key.Roles) != 1 || key.Roles[0]["orgId"] != org || key.Roles[0]["roleName"] != "ORG_MEMBER" {
		t.Errorf("roles = %v", key.Roles)
	}
	newKey := &http.Client{Transport: mongodigest.NewTransport(key.PublicKey, key.PrivateKey)}

	status, _, body = h.doWith(owner, "GET", base+"/"+key.ID, nil, "")
	if status != 200 || strings.Contains(string(body), key.PrivateKey) || !strings.Contains(string(body), `"privateKey":"********-****-****-`+key.PrivateKey[24:]+`"`) {
		t.Errorf("get must redact: %d %s", status, body)
	}
	if st, _, b := h.doWith(newKey, "GET", base, nil, ""); st != 200 {
		t.Errorf("the new key cannot list its org's keys: %d %s", st, b)
	}
	// Not yet assigned to the project: no project role.
	if st, _, _ := h.doWith(newKey, "GET", "/api/public/v1.0/groups/"+group, nil, ""); st != 403 {
		t.Errorf("unassigned key reads the project: %d, want 403", st)
	}
	if st, _, b := h.doWith(owner, "PATCH", "/api/public/v1.0/groups/"+group+"/apiKeys/"+key.ID, nil, `{"roles":["GROUP_READ_ONLY"]}`); st != 200 {
		t.Fatalf("assign: %d %s", st, b)
	}
	if st, _, b := h.doWith(newKey, "GET", "/api/public/v1.0/groups/"+group, nil, ""); st != 200 {
		t.Errorf("assigned key cannot read the project: %d %s", st, b)
	}
	if st, _, _ := h.doWith(owner, "DELETE", "/api/public/v1.0/groups/"+group+"/apiKeys/"+key.ID, nil, ""); st != 204 {
		t.Errorf("unassign: %d", st)
	}
	if st, _, _ := h.doWith(newKey, "GET", "/api/public/v1.0/groups/"+group, nil, ""); st != 403 {
		t.Errorf("unassigned again, still reads the project: %d", st)
	}
	if st, _, b := h.doWith(owner, "PATCH", base+"/"+key.ID, nil, `{"desc":"renamed"}`); st != 200 || !strings.Contains(string(b), "renamed") {
		t.Errorf("update: %d %s", st, b)
	}
	if st, _, _ := h.doWith(owner, "DELETE", base+"/"+key.ID, nil, ""); st != 204 {
		t.Errorf("delete: %d", st)
	}
	if st, _, _ := h.doWith(newKey, "GET", base, nil, ""); st != 401 {
		t.Errorf("deleted key still works: %d", st)
	}
	if st, _, _ := h.doWith(owner, "GET", base+"/"+key.ID, nil, ""); st != 404 {
		t.Errorf("deleted key still readable: %d", st)
	}
}

func TestDigestClients(t *testing.T) {
	h := newHarness(t)
	k := fixtureKey(t, "mongodb-opsmanager", "full")
	path := probePath["mongodb-opsmanager"]
	clients := map[string]*http.Client{
		"mongodb-forks/digest": {Transport: mongodigest.NewTransport(k.PublicKey, k.PrivateKey)},
		"icholy/digest":        {Transport: &icholy.Transport{Username: k.PublicKey, Password: k.PrivateKey}},
	}
	for name, c := range clients {
		t.Run(name, func(t *testing.T) {
			for i := range 3 {
				status, _, body := h.doWith(c, "GET", path, nil, "")
				if status != 200 || !strings.Contains(string(body), `"publicKey":"ewmaqvdo"`) {
					t.Fatalf("call %d: %d %s", i, status, body)
				}
			}
		})
	}
}

func TestDigestRejectsReplayAndWrongURI(t *testing.T) {
	h := newHarness(t)
	k := fixtureKey(t, "mongodb-opsmanager", "full")
	path := probePath["mongodb-opsmanager"]
	sign := func(uri string, nc int) string {
		_, hdr, _ := h.do("GET", path, nil, "")
		chal, err := icholy.ParseChallenge(hdr.Get("WWW-Authenticate"))
		if err != nil {
			t.Fatal(err)
		}
		cred, err := icholy.Digest(chal, icholy.Options{Method: "GET", URI: uri, Username: k.PublicKey, Password: k.PrivateKey, Count: nc})
		if err != nil {
			t.Fatal(err)
		}
		return cred.String()
	}
	auth := sign(path, 1)
	if st, _, b := h.do("GET", path, http.Header{"Authorization": {auth}}, ""); st != 200 {
		t.Fatalf("first use: %d %s", st, b)
	}
	st, _, body := h.do("GET", path, http.Header{"Authorization": {auth}}, "")
	if st != 401 || !strings.Contains(string(body), "replayed") {
		t.Errorf("replay: %d %s, want 401 naming the replay", st, body)
	}
	other := sign("/api/public/v1.0/orgs", 1)
	if st, _, b := h.do("GET", path, http.Header{"Authorization": {other}}, ""); st != 401 || !strings.Contains(string(b), "uri") {
		t.Errorf("signed for another uri: %d %s", st, b)
	}
	wrongPassword := func() string {
		_, hdr, _ := h.do("GET", path, nil, "")
		chal, _ := icholy.ParseChallenge(hdr.Get("WWW-Authenticate"))
		cred, _ := icholy.Digest(chal, icholy.Options{Method: "GET", URI: path, Username: k.PublicKey, Password: "wrong", Count: 1})
		return cred.String()
	}()
	if st, _, _ := h.do("GET", path, http.Header{"Authorization": {wrongPassword}}, ""); st != 401 {
		t.Errorf("wrong private key: %d", st)
	}
}

func TestDigestStaleNonce(t *testing.T) {
	h := newHarness(t)
	k := fixtureKey(t, "mongodb-opsmanager", "full")
	path := probePath["mongodb-opsmanager"]
	caching := &http.Client{Transport: &icholy.Transport{Username: k.PublicKey, Password: k.PrivateKey}}
	if st, _, b := h.doWith(caching, "GET", path, nil, ""); st != 200 {
		t.Fatalf("first: %d %s", st, b)
	}
	// A manual request on an old nonce sees stale=true.
	_, hdr, _ := h.do("GET", path, nil, "")
	chal, _ := icholy.ParseChallenge(hdr.Get("WWW-Authenticate"))
	cred, _ := icholy.Digest(chal, icholy.Options{Method: "GET", URI: path, Username: k.PublicKey, Password: k.PrivateKey, Count: 1})
	h.clock.Advance(6 * time.Minute)
	st, respHdr, _ := h.do("GET", path, http.Header{"Authorization": {cred.String()}}, "")
	if st != 401 || !strings.HasSuffix(respHdr.Get("WWW-Authenticate"), "stale=true") {
		t.Errorf("expired nonce: %d %q, want 401 with stale=true", st, respHdr.Get("WWW-Authenticate"))
	}
	// The caching client's nonce expired too; it recovers on the fresh challenge.
	if st, _, b := h.doWith(caching, "GET", path, nil, ""); st != 200 {
		t.Errorf("caching client after expiry: %d %s", st, b)
	}
}

// TestUserFixturesReplaceEmbeddedOnes: --fixtures DIR gives a profile its own keys.
func TestUserFixturesReplaceEmbeddedOnes(t *testing.T) {
	p := profileNamed(t, "opsmerge")
	fsys := fstest.MapFS{"opsmerge.yaml": {Data: []byte(`users:
  - {id: me, role: admin}
keys:
  - {id: mine, owner: me, secret: om_my_own_key_0123456789, scopes: ["agents:read"]}
`)}}
	srv, err := New(Options{Profiles: []*specs.Profile{p}, Fixtures: fsys})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	defer hs.Close()
	get := func(secret string) int {
		req, _ := http.NewRequest("GET", hs.URL+"/api/v1/agents", nil)
		req.Header.Set("Authorization", "Bearer "+secret)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if st := get("om_my_own_key_0123456789"); st != 200 {
		t.Errorf("own fixture key: %d", st)
	}
	if st := get(fixtureKey(t, "opsmerge", "full").Secret); st != 401 {
		t.Errorf("an embedded key still works with user fixtures: %d", st)
	}
	bad := fstest.MapFS{"opsmerge.yaml": {Data: []byte("keys:\n  - {id: k, secret: no_prefix}\n")}}
	if _, err := New(Options{Profiles: []*specs.Profile{p}, Fixtures: bad}); err == nil || !strings.Contains(err.Error(), `must start with "om_"`) {
		t.Errorf("a key without the om_ prefix: %v", err)
	}
}
