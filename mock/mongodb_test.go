package mock

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	icholy "github.com/icholy/digest"
	mongodigest "github.com/mongodb-forks/digest"

	"github.com/opsconform/opsconform/specs"
)

// The MongoDB Ops Manager profile beyond the seeds: the digest challenge
// Ops Manager sends, API key access lists and the organization and project
// reads real clients call.

const (
	mdbBase     = "/api/public/v1.0"
	mdbDocs     = "5980cfc70b6d97029d82e3f6" // organization Docs
	mdbPlatform = "5980cfe20b6d97029d82fa63" // organization Platform
	mdbProd     = "5e2211c17a3e5a48f5497de3" // project docs-prod, in Docs
	mdbOtherIP  = "61a0c3e5f2b4d8a9c7e10b2d" // the fixture key usable only from 192.0.2.0/24 and 198.51.100.7
)

// mongoServer is a mock of the MongoDB profile alone, with opts applied.
func mongoServer(t *testing.T, opts Options) *httptest.Server {
	t.Helper()
	opts.Profiles = []*specs.Profile{profileNamed(t, "mongodb-opsmanager")}
	opts.Seed = 7
	srv, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	return hs
}

// challengeAlgorithms are the algorithms of a 401's Digest challenges, in order.
func challengeAlgorithms(t *testing.T, h http.Header) []string {
	t.Helper()
	var out []string
	for _, v := range h.Values("WWW-Authenticate") {
		c, err := icholy.ParseChallenge(v)
		if err != nil {
			t.Fatalf("challenge %q: %v", v, err)
		}
		out = append(out, c.Algorithm)
	}
	return out
}

// TestDigestAlgorithmsOffered: by default the mock sends exactly the one
// challenge Ops Manager sends (MD5), so clients that keep the last
// challenge (Python's requests) sign MD5; --digest-algorithms offers
// others, each verified, and an algorithm not offered is refused.
func TestDigestAlgorithmsOffered(t *testing.T) {
	k := fixtureKey(t, "mongodb-opsmanager", "full")
	path := mdbBase + "/orgs"
	tests := []struct {
		name    string
		algs    []string
		offered []string
		refused []string
	}{
		{"default: MD5 alone, as Ops Manager", nil, []string{"MD5"}, []string{"SHA-256"}},
		{"MD5 and SHA-256", []string{"MD5", "SHA-256"}, []string{"MD5", "SHA-256"}, nil},
		{"SHA-256 first, any case", []string{"sha-256", "md5"}, []string{"SHA-256", "MD5"}, nil},
		{"SHA-256 alone", []string{"SHA-256"}, []string{"SHA-256"}, []string{"MD5"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hs := mongoServer(t, Options{DigestAlgorithms: tt.algs})
			sign := func(alg string) (int, http.Header, []byte) {
				resp, err := http.Get(hs.URL + path)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				if got := challengeAlgorithms(t, resp.Header); !slices.Equal(got, tt.offered) {
					t.Fatalf("challenges offer %v, want %v", got, tt.offered)
				}
				chal, _ := icholy.ParseChallenge(resp.Header.Get("WWW-Authenticate"))
				chal.Algorithm = alg
				cred, err := icholy.Digest(chal, icholy.Options{Method: "GET", URI: path, Username: k.PublicKey, Password: k.PrivateKey, Count: 1})
				if err != nil {
					t.Fatal(err)
				}
				req, _ := http.NewRequest("GET", hs.URL+path, nil)
				req.Header.Set("Authorization", cred.String())
				resp, err = http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				defer resp.Body.Close()
				var body json.RawMessage
				_ = json.NewDecoder(resp.Body).Decode(&body)
				return resp.StatusCode, resp.Header, body
			}
			for _, alg := range tt.offered {
				status, h, body := sign(alg)
				if status != 200 {
					t.Errorf("%s response: %d %s", alg, status, body)
				}
				if v := h.Get("X-MongoDB-Service-Version"); !strings.HasPrefix(v, "gitHash=") || !strings.Contains(v, "; versionString=") {
					t.Errorf("X-MongoDB-Service-Version = %q", v)
				}
			}
			for _, alg := range tt.refused {
				if status, _, body := sign(alg); status != 401 || !strings.Contains(string(body), "algorithm must be one of") {
					t.Errorf("%s response to a server that did not offer it: %d %s, want 401", alg, status, body)
				}
			}
			// mongodb-forks/digest, what MongoDB's Go tools use, signs with the first challenge.
			c := &http.Client{Transport: mongodigest.NewTransport(k.PublicKey, k.PrivateKey)}
			resp, err := c.Get(hs.URL + path)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != 200 {
				t.Errorf("mongodb-forks/digest: %d", resp.StatusCode)
			}
		})
	}
}

func TestParseDigestAlgorithms(t *testing.T) {
	tests := []struct {
		in      []string
		want    []string
		errPart string
	}{
		{nil, nil, ""},
		{[]string{"MD5"}, []string{"MD5"}, ""},
		{[]string{" sha-256 ", "Md5"}, []string{"SHA-256", "MD5"}, ""},
		{[]string{"MD5", "SHA-1"}, nil, `"SHA-1": want MD5 or SHA-256`},
		{[]string{"MD5-sess"}, nil, `"MD5-sess"`},
		{[]string{"MD5", "md5"}, nil, "MD5 is given twice"},
		{[]string{""}, nil, `""`},
	}
	for _, tt := range tests {
		got, err := ParseDigestAlgorithms(tt.in)
		switch {
		case tt.errPart == "" && err != nil:
			t.Errorf("%q: %v", tt.in, err)
		case tt.errPart != "" && (err == nil || !strings.Contains(err.Error(), tt.errPart)):
			t.Errorf("%q: error %v, want one saying %s", tt.in, err, tt.errPart)
		case !slices.Equal(got, tt.want):
			t.Errorf("%q = %q, want %q", tt.in, got, tt.want)
		}
	}
	if _, err := New(Options{Profiles: embeddedProfiles(t), DigestAlgorithms: []string{"SHA-512"}}); err == nil || !strings.Contains(err.Error(), "SHA-512") {
		t.Errorf("New with SHA-512: %v, want an error naming it", err)
	}
}

// mdbStep is one request of a scenario and what it must answer.
type mdbStep struct {
	name   string
	as     string // fixture key label, or "new" for the key the scenario created
	method string
	path   string
	body   string
	status int
	code   string // errorCode, for errors
	has    []string
	hasnt  []string
}

// runSteps sends each step with the digest client of its key and checks
// the answer.
func runSteps(t *testing.T, hs *httptest.Server, clients map[string]*http.Client, steps []mdbStep) {
	t.Helper()
	for _, st := range steps {
		var body *strings.Reader
		if st.body != "" {
			body = strings.NewReader(st.body)
		} else {
			body = strings.NewReader("")
		}
		req, _ := http.NewRequest(st.method, hs.URL+mdbBase+st.path, body)
		if st.body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		resp, err := clients[st.as].Do(req)
		if err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		var raw json.RawMessage
		_ = json.NewDecoder(resp.Body).Decode(&raw)
		resp.Body.Close()
		if resp.StatusCode != st.status {
			t.Errorf("%s: %s %s as %s: %d %s, want %d", st.name, st.method, st.path, st.as, resp.StatusCode, raw, st.status)
			continue
		}
		if st.code != "" {
			var e struct{ ErrorCode string }
			_ = json.Unmarshal(raw, &e)
			if e.ErrorCode != st.code {
				t.Errorf("%s: errorCode %q, want %q: %s", st.name, e.ErrorCode, st.code, raw)
			}
		}
		for _, w := range st.has {
			if !strings.Contains(string(raw), w) {
				t.Errorf("%s: the answer lacks %s: %s", st.name, w, raw)
			}
		}
		for _, w := range st.hasnt {
			if strings.Contains(string(raw), w) {
				t.Errorf("%s: the answer shows %s: %s", st.name, w, raw)
			}
		}
	}
}

func digestClient(publicKey, privateKey string) *http.Client {
	return &http.Client{Transport: mongodigest.NewTransport(publicKey, privateKey), Timeout: 10 * time.Second}
}

// TestAPIKeyAccessListEnforced: a key whose access list leaves out the
// client's address (127.0.0.1 on loopback) is refused with 403
// IP_ADDRESS_NOT_ON_ACCESS_LIST naming the address; adding the address
// admits it; deleting entries (a block's slash URL-encoded) and emptying
// the list admits any address again.
func TestAPIKeyAccessListEnforced(t *testing.T) {
	hs := mongoServer(t, Options{})
	full := fixtureKey(t, "mongodb-opsmanager", "full")
	clients := map[string]*http.Client{"full": digestClient(full.PublicKey, full.PrivateKey)}
	req, _ := http.NewRequest("POST", hs.URL+mdbBase+"/orgs/"+mdbDocs+"/apiKeys", strings.NewReader(`{"desc":"access list test","roles":["ORG_READ_ONLY"]}`))
	req.Header.Set("Content-Type", "application/json")
	resp, err := clients["full"].Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var created struct{ ID, PublicKey, PrivateKey string }
	_ = json.NewDecoder(resp.Body).Decode(&created)
	resp.Body.Close()
	if resp.StatusCode != 200 || created.PrivateKey == "" {
		t.Fatalf("creating a key: %d %+v", resp.StatusCode, created)
	}
	clients["new"] = digestClient(created.PublicKey, created.PrivateKey)
	list := "/orgs/" + mdbDocs + "/apiKeys/" + created.ID + "/accessList"
	runSteps(t, hs, clients, []mdbStep{
		{name: "an empty list admits any address", as: "new", method: "GET", path: "/orgs", status: 200},
		{name: "the empty list", as: "full", method: "GET", path: list, status: 200, has: []string{`"totalCount":0`}},
		{name: "add another network only", as: "full", method: "POST", path: list, body: `[{"cidrBlock":"10.0.0.0/8"}]`, status: 200,
			has: []string{`"cidrBlock":"10.0.0.0/8"`, `"totalCount":1`, `/accessList/10.0.0.0%2F8"`, `"count":0`}, hasnt: []string{`"lastUsed`}},
		{name: "refused from 127.0.0.1", as: "new", method: "GET", path: "/orgs", status: 403, code: "IP_ADDRESS_NOT_ON_ACCESS_LIST",
			has: []string{`"parameters":["127.0.0.1"]`, "IP address 127.0.0.1 is not allowed"}},
		{name: "refused on every operation", as: "new", method: "GET", path: "/orgs/" + mdbDocs, status: 403, code: "IP_ADDRESS_NOT_ON_ACCESS_LIST"},
		{name: "add the client's address", as: "full", method: "POST", path: list, body: `[{"ipAddress":"127.0.0.1"},{"cidrBlock":"10.0.0.0/8"}]`, status: 200,
			has: []string{`"ipAddress":"127.0.0.1"`, `"cidrBlock":"127.0.0.1/32"`, `"totalCount":2`}},
		{name: "admitted from 127.0.0.1", as: "new", method: "GET", path: "/orgs", status: 200},
		{name: "admitted again", as: "new", method: "GET", path: "/orgs/" + mdbDocs, status: 200},
		{name: "one entry by address, counting what it admitted", as: "full", method: "GET", path: list + "/127.0.0.1", status: 200,
			has: []string{`"ipAddress":"127.0.0.1"`, `"count":2`, `"lastUsedAddress":"127.0.0.1"`, `"lastUsed":"20`}},
		{name: "one entry by encoded block, which admitted none", as: "full", method: "GET", path: list + "/10.0.0.0%2F8", status: 200,
			has: []string{`"cidrBlock":"10.0.0.0/8"`, `"count":0`}, hasnt: []string{`"lastUsed`}},
		{name: "delete the client's address", as: "full", method: "DELETE", path: list + "/127.0.0.1", status: 204},
		{name: "refused again", as: "new", method: "GET", path: "/orgs", status: 403, code: "IP_ADDRESS_NOT_ON_ACCESS_LIST"},
		{name: "delete the block, encoded", as: "full", method: "DELETE", path: list + "/10.0.0.0%2F8", status: 204},
		{name: "an emptied list admits any address", as: "new", method: "GET", path: "/orgs", status: 200},
		{name: "a loopback block admits too", as: "full", method: "POST", path: list, body: `[{"cidrBlock":"127.0.0.0/8"}]`, status: 200},
		{name: "admitted through the block", as: "new", method: "GET", path: "/orgs", status: 200},
		{name: "the block counts it", as: "full", method: "GET", path: list, status: 200,
			has: []string{`"cidrBlock":"127.0.0.0/8"`, `"count":1`, `"lastUsedAddress":"127.0.0.1"`}},
		{name: "the client's address added again starts unused", as: "full", method: "POST", path: list, body: `[{"ipAddress":"127.0.0.1"}]`, status: 200},
		{name: "its entry is unused", as: "full", method: "GET", path: list + "/127.0.0.1", status: 200,
			has: []string{`"count":0`}, hasnt: []string{`"lastUsed`}},
	})
}

// TestAPIKeyAccessListMistakes: clients' mistakes get 4xx in the vendor's
// envelope, never a 500, and the list is managed only by organization owners.
func TestAPIKeyAccessListMistakes(t *testing.T) {
	hs := mongoServer(t, Options{})
	clients := map[string]*http.Client{}
	for _, label := range []string{"full", "limited", "other-org", "other-ip"} {
		k := fixtureKey(t, "mongodb-opsmanager", label)
		clients[label] = digestClient(k.PublicKey, k.PrivateKey)
	}
	list := "/orgs/" + mdbDocs + "/apiKeys/" + mdbOtherIP + "/accessList"
	runSteps(t, hs, clients, []mdbStep{
		{name: "the fixture key is bound to other addresses", as: "other-ip", method: "GET", path: "/orgs", status: 403, code: "IP_ADDRESS_NOT_ON_ACCESS_LIST"},
		{name: "its list", as: "full", method: "GET", path: list, status: 200, has: []string{`"cidrBlock":"192.0.2.0/24"`, `"ipAddress":"198.51.100.7"`, `"totalCount":2`}},
		{name: "an object, not an array", as: "full", method: "POST", path: list, body: `{"ipAddress":"10.0.0.1"}`, status: 400, code: "VALIDATION_ERROR"},
		{name: "an empty array", as: "full", method: "POST", path: list, body: `[]`, status: 400, code: "VALIDATION_ERROR"},
		{name: "both fields", as: "full", method: "POST", path: list, body: `[{"ipAddress":"10.0.0.1","cidrBlock":"10.0.0.0/8"}]`, status: 400, code: "VALIDATION_ERROR"},
		{name: "an unknown field", as: "full", method: "POST", path: list, body: `[{"ip":"10.0.0.1"}]`, status: 400, code: "VALIDATION_ERROR"},
		{name: "not an address", as: "full", method: "POST", path: list, body: `[{"ipAddress":"ten.0.0.1"}]`, status: 400, code: "VALIDATION_ERROR", has: []string{"ten.0.0.1"}},
		{name: "a block as ipAddress", as: "full", method: "POST", path: list, body: `[{"ipAddress":"10.0.0.0/8"}]`, status: 400, code: "VALIDATION_ERROR", has: []string{"cidrBlock"}},
		{name: "a block without its length", as: "full", method: "POST", path: list, body: `[{"cidrBlock":"10.0.0.0"}]`, status: 400, code: "VALIDATION_ERROR"},
		{name: "a bad prefix length", as: "full", method: "POST", path: list, body: `[{"cidrBlock":"10.0.0.0/33"}]`, status: 400, code: "VALIDATION_ERROR"},
		{name: "trailing data", as: "full", method: "POST", path: list, body: `[{"ipAddress":"10.0.0.1"}] []`, status: 400, code: "VALIDATION_ERROR"},
		{name: "an entry not on the list", as: "full", method: "DELETE", path: list + "/203.0.113.9", status: 404, code: "RESOURCE_NOT_FOUND"},
		{name: "an entry that is no address", as: "full", method: "GET", path: list + "/not-an-ip", status: 400, code: "INVALID_QUERY_PARAMETER"},
		{name: "an unknown key", as: "full", method: "GET", path: "/orgs/" + mdbDocs + "/apiKeys/0123456789abcdef01234567/accessList", status: 404, code: "RESOURCE_NOT_FOUND"},
		{name: "a key of another organization", as: "full", method: "GET", path: "/orgs/" + mdbDocs + "/apiKeys/a7421eac36f1a8614399fa0b/accessList", status: 404, code: "RESOURCE_NOT_FOUND"},
		{name: "read-only members may not read it", as: "limited", method: "GET", path: list, status: 403, code: "USER_UNAUTHORIZED"},
		{name: "nor add to it", as: "limited", method: "POST", path: list, body: `[{"ipAddress":"10.0.0.1"}]`, status: 403, code: "USER_UNAUTHORIZED"},
		{name: "nor another organization's owner", as: "other-org", method: "DELETE", path: list + "/198.51.100.7", status: 403, code: "USER_UNAUTHORIZED"},
		{name: "nothing changed", as: "full", method: "GET", path: list, status: 200, has: []string{`"totalCount":2`}, hasnt: []string{"10.0.0.1"}},
	})
}

// TestMongoDBOrganizationAndProjectReads: the reads clients call beyond the
// seeds, filtered by the organization or project in the path, every item
// linking to where it is read, fields kept for filtering not shown.
func TestMongoDBOrganizationAndProjectReads(t *testing.T) {
	hs := mongoServer(t, Options{})
	clients := map[string]*http.Client{}
	for _, label := range []string{"full", "other-org", "limited"} {
		k := fixtureKey(t, "mongodb-opsmanager", label)
		clients[label] = digestClient(k.PublicKey, k.PrivateKey)
	}
	runSteps(t, hs, clients, []mdbStep{
		{name: "an organization's projects", as: "full", method: "GET", path: "/orgs/" + mdbDocs + "/groups", status: 200,
			has: []string{`"totalCount":2`, `"name":"docs-prod"`, `"name":"docs-staging"`, mdbBase + `/groups/` + mdbProd + `"`}, hasnt: []string{"platform-prod"}},
		{name: "another organization's projects", as: "other-org", method: "GET", path: "/orgs/" + mdbPlatform + "/groups", status: 200,
			has: []string{`"totalCount":1`, "platform-prod"}},
		{name: "not for a key without a role there", as: "other-org", method: "GET", path: "/orgs/" + mdbDocs + "/groups", status: 403, code: "USER_UNAUTHORIZED"},
		{name: "an organization's users", as: "full", method: "GET", path: "/orgs/" + mdbDocs + "/users", status: 200,
			has: []string{`"totalCount":4`, "jane.doe@example.com", "sam.okafor@example.com", `"teamIds"`}, hasnt: []string{"ola.nordmann"}},
		{name: "users need a member", as: "limited", method: "GET", path: "/orgs/" + mdbDocs + "/users", status: 403, code: "USER_UNAUTHORIZED"},
		{name: "users page", as: "full", method: "GET", path: "/orgs/" + mdbDocs + "/users?itemsPerPage=3&pageNum=2", status: 200,
			has: []string{`"totalCount":4`, `"rel":"previous"`}, hasnt: []string{`"rel":"next"`}},
		{name: "a project's users", as: "full", method: "GET", path: "/groups/" + mdbProd + "/users", status: 200,
			has: []string{`"totalCount":3`, "jane.doe", "ravi.k", "sam.okafor"}, hasnt: []string{"mei.lin"}},
		{name: "a project's teams, without their project", as: "full", method: "GET", path: "/groups/" + mdbProd + "/teams", status: 200,
			has:   []string{`"totalCount":2`, `"teamId":"6194c4d1f0a2e33b8c5d7e01"`, `"roleNames":["GROUP_OWNER"]`, mdbBase + "/groups/" + mdbProd + "/teams/6194c4d1f0a2e33b8c5d7e01"},
			hasnt: []string{`"groupId"`, "6194c4d1f0a2e33b8c5d7e03"}},
		{name: "a project by name", as: "full", method: "GET", path: "/groups/byName/docs-prod", status: 200,
			has: []string{`"id":"` + mdbProd + `"`, mdbBase + "/groups/" + mdbProd + `"`}},
		{name: "a project by name, enveloped", as: "full", method: "GET", path: "/groups/byName/docs-staging?envelope=true", status: 200, has: []string{`"status":200`, `"content":`}},
		{name: "a project by name the key has no role in", as: "full", method: "GET", path: "/groups/byName/platform-prod", status: 404, code: "RESOURCE_NOT_FOUND"},
		{name: "no such project", as: "full", method: "GET", path: "/groups/byName/" + url.PathEscape("no such project"), status: 404, code: "RESOURCE_NOT_FOUND"},
		{name: "organizations by a name none has", as: "full", method: "GET", path: "/orgs?name=NoSuchOrg", status: 200, has: []string{`"totalCount":0`, `"results":[]`}},
	})
}

// TestControlAPIKeysBoundToAddresses: a key made through the control API
// with ips is bound as one restricted through the vendor's API; an entry
// that is no address or block is the caller's mistake, 400.
func TestControlAPIKeysBoundToAddresses(t *testing.T) {
	h := newHarness(t)
	if st := h.control("POST", "profiles/mongodb-opsmanager/keys", `{"ips":["not-an-ip"]}`, nil); st != 400 {
		t.Errorf("a key with ips [not-an-ip]: %d, want 400", st)
	}
	var created struct {
		Key    Key    `json:"key"`
		Secret string `json:"secret"`
	}
	body := `{"scopes":["ORG_READ_ONLY@` + mdbDocs + `"],"ips":["10.0.0.0/8"," 203.0.113.7 ","10.1.2.3/8"]}`
	if st := h.control("POST", "profiles/mongodb-opsmanager/keys", body, &created); st != 201 && st != 200 {
		t.Fatalf("creating a bound key: %d", st)
	}
	if want := []string{"10.0.0.0/8", "203.0.113.7"}; !slices.Equal(created.Key.IPs, want) {
		t.Errorf("stored ips %q, want %q (canonical, once each)", created.Key.IPs, want)
	}
	st, _, data := h.doWith(digestClient(created.Key.PublicKey, created.Secret), "GET", mdbBase+"/orgs", nil, "")
	if st != 403 || !strings.Contains(string(data), "IP_ADDRESS_NOT_ON_ACCESS_LIST") {
		t.Errorf("the bound key from 127.0.0.1: %d %s, want 403 IP_ADDRESS_NOT_ON_ACCESS_LIST", st, data)
	}
}

// TestAuthDescriptionNamesOfferedAlgorithms: the banner and the control
// API's profile list say which digest algorithms the server offers.
func TestAuthDescriptionNamesOfferedAlgorithms(t *testing.T) {
	p := profileNamed(t, "mongodb-opsmanager")
	for _, tt := range []struct {
		algs []string
		want string
	}{{nil, "digest MD5 (bound to ip)"}, {[]string{"SHA-256", "MD5"}, "digest SHA-256,MD5 (bound to ip)"}} {
		srv, err := New(Options{Profiles: []*specs.Profile{p}, DigestAlgorithms: tt.algs})
		if err != nil {
			t.Fatal(err)
		}
		if got := srv.AuthDescription(p); got != tt.want {
			t.Errorf("AuthDescription with %v = %q, want %q", tt.algs, got, tt.want)
		}
	}
}
