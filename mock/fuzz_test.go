package mock

// Fuzz targets for every parser of the mock that sees untrusted input. Each
// asserts properties of the answer, not only that nothing panics. `make
// test` runs their seed corpora (the f.Add calls and testdata/fuzz); `make
// fuzz` runs each for a bounded time. The OData query values ($filter,
// $orderby, $select) get theirs when mock/odata exists: FuzzODataQuery there.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	icholy "github.com/icholy/digest"

	"github.com/opsconform/opsconform/specs"
)

var (
	fuzzOnce sync.Once
	fuzzSrv  *Server
	fuzzErr  error
)

// fuzzServer is one mock for every fuzz iteration of a test binary: on the
// wall clock, with rate-limit windows scaled to microseconds so budgets do
// not run out and hide the stages behind them.
func fuzzServer(t testing.TB) *Server {
	t.Helper()
	ps := embeddedProfiles(t)
	fuzzOnce.Do(func() { fuzzSrv, fuzzErr = New(Options{Profiles: ps, Seed: 1, TimeScale: 1e6}) })
	if fuzzErr != nil {
		t.Fatal(fuzzErr)
	}
	return fuzzSrv
}

// serveOnce runs one request through the mock in-process, from loopback.
func serveOnce(s *Server, r *http.Request) *httptest.ResponseRecorder {
	r.RemoteAddr = "127.0.0.1:40000"
	r.Host = "127.0.0.1"
	w := httptest.NewRecorder()
	s.ServeHTTP(w, r)
	return w
}

// checkAnswer holds for every answer of the mock: no 5xx, and an error in
// the profile's envelope.
func checkAnswer(t *testing.T, p *specs.Profile, w *httptest.ResponseRecorder, what string) {
	t.Helper()
	if w.Code >= 500 {
		t.Fatalf("%s: %d %s", what, w.Code, w.Body.Bytes())
	}
	if w.Code >= 400 && !json.Valid(w.Body.Bytes()) {
		t.Fatalf("%s: %d with a body that is not JSON: %q", what, w.Code, w.Body.Bytes())
	}
}

// digestChallenge is the form mongodb-forks/digest parses: split on ", ".
var digestChallenge = `Digest realm="MMS Public API", domain="", nonce="`

// FuzzDigestAuthorization sends any Authorization header to a digest
// operation. Without the private key no header can be right, so the answer
// is always 401 with a fresh challenge in MongoDB's exact form, and never
// stale=true, which RFC 7616 keeps for right responses on bad nonces.
func FuzzDigestAuthorization(f *testing.F) {
	for _, seed := range []string{
		"",
		`Digest username="ewmaqvdo", realm="MMS Public API", nonce="abc", uri="/api/public/v1.0/orgs", response="00", qop=auth, nc=00000001, cnonce="x", algorithm=MD5`,
		`Digest username="ewmaqvdo", realm="MMS Public API", nonce="` + strings.Repeat("0", nonceHexSize) + `", uri="/api/public/v1.0/orgs", response="0123456789abcdef0123456789abcdef", qop=auth, nc=ffffffffffffffff, cnonce="x"`,
		`Digest username="ewmaqvdo", nc=-1, nc=00000002`,
		`Digest username="\"", realm="MMS Public API`,
		`Digest ,,,, =, ="", username`,
		`Digest username="ewmaqvdo", realm="MMS Public API", nonce="n", uri="/x", response="r", qop="auth,auth-int", algorithm=SHA-256-sess`,
		`Basic ZXdtYXF2ZG86eA==`,
		`Bearer om_x`,
		`digest USERNAME=ewmaqvdo`,
		"Digest username=\"ewmaqvdo\"\x00, realm=\"MMS Public API\"",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, header string) {
		s := fuzzServer(t)
		p := s.byName["mongodb-opsmanager"]
		r := httptest.NewRequest("GET", probePath[p.Name], nil)
		if header != "" {
			r.Header.Set("Authorization", header)
		}
		w := serveOnce(s, r)
		if w.Code == 431 && headerBytes(r) > MaxHeaderBytes {
			return
		}
		if w.Code != 401 {
			t.Fatalf("Authorization %q: %d %s, want 401", header, w.Code, w.Body.Bytes())
		}
		if err := p.Errors.Match(specs.Unauthenticated, w.Body.Bytes()); err != nil {
			t.Fatalf("Authorization %q: %v", header, err)
		}
		chals := w.Header().Values("WWW-Authenticate")
		if len(chals) == 0 {
			t.Fatalf("Authorization %q: no challenge", header)
		}
		for _, c := range chals {
			if !strings.HasPrefix(c, digestChallenge) || !strings.HasSuffix(c, ", stale=false") {
				t.Fatalf("Authorization %q: challenge %q, want MongoDB's form with stale=false", header, c)
			}
			if _, err := icholy.ParseChallenge(c); err != nil {
				t.Fatalf("challenge %q does not parse: %v", c, err)
			}
		}
	})
}

// FuzzDigestSignedMutation changes one byte of a correctly signed header.
// The mock may admit the result only if it still says the same thing: the
// same user, nonce, URI, count, client nonce and response (the response
// compared in any case, as hex is), the same qop and realm.
func FuzzDigestSignedMutation(f *testing.F) {
	f.Add(uint16(0), byte('x'))
	f.Add(uint16(10), byte('"'))
	f.Add(uint16(40), byte(','))
	f.Add(uint16(100), byte('A'))
	f.Add(uint16(150), byte(' '))
	f.Add(uint16(200), byte('0'))
	f.Add(uint16(9999), byte('='))
	f.Fuzz(func(t *testing.T, pos uint16, b byte) {
		s := fuzzServer(t)
		p := s.byName["mongodb-opsmanager"]
		k := fixtureKey(t, p.Name, "full")
		path := probePath[p.Name]
		chal := &icholy.Challenge{Realm: p.Auth.Digest.Realm, Nonce: s.nonces[p.Name].issue(), Algorithm: "MD5", QOP: []string{"auth"}}
		cred, err := icholy.Digest(chal, icholy.Options{Method: "GET", URI: path, Username: k.PublicKey, Password: k.PrivateKey, Count: 1})
		if err != nil {
			t.Fatal(err)
		}
		orig := cred.String()
		mut := []byte(orig)
		mut[int(pos)%len(mut)] = b
		r := httptest.NewRequest("GET", path, nil)
		r.Header.Set("Authorization", string(mut))
		w := serveOnce(s, r)
		checkAnswer(t, p, w, "mutated digest")
		if w.Code != 200 {
			return
		}
		got, err := icholy.ParseCredentials(string(mut))
		if err != nil {
			t.Fatalf("admitted %q, which does not parse: %v", mut, err)
		}
		same := got.Username == cred.Username && got.Nonce == cred.Nonce && got.URI == cred.URI && got.Nc == cred.Nc &&
			got.Cnonce == cred.Cnonce && strings.EqualFold(got.Response, cred.Response) && got.QOP == cred.QOP && got.Realm == cred.Realm
		if !same {
			t.Fatalf("admitted a changed header:\n was %s\n now %s", orig, mut)
		}
	})
}

// FuzzNonce: only a nonce this store issued is ever accepted, and one
// changed anywhere (beyond the letter case of its hex) is unknown.
func FuzzNonce(f *testing.F) {
	f.Add("", uint8(0), byte('0'), 1)
	f.Add(strings.Repeat("0", nonceHexSize), uint8(3), byte('f'), 1)
	f.Add(strings.Repeat("g", nonceHexSize), uint8(40), byte('A'), 2)
	f.Add("deadbeef", uint8(63), byte('1'), 0)
	f.Fuzz(func(t *testing.T, forged string, pos uint8, b byte, nc int) {
		ns, _ := newTestNonceStore()
		if v := ns.use("k", forged, nc); v != nonceUnknown {
			t.Fatalf("a nonce the store never issued (%q) got verdict %d", forged, v)
		}
		issued := ns.issue()
		mut := []byte(issued)
		mut[int(pos)%len(mut)] = b
		v := ns.use("k", string(mut), 1)
		switch {
		case strings.EqualFold(string(mut), issued):
			if v != nonceOK {
				t.Fatalf("the issued nonce (as %q) got verdict %d", mut, v)
			}
		case v != nonceUnknown:
			t.Fatalf("nonce %q changed to %q got verdict %d, want unknown", issued, mut, v)
		}
	})
}

// FuzzAPIKeyAuthorization sends any credential value the way each
// non-digest profile reads keys. It is admitted only when it carries a
// fixture key's secret; otherwise 401 in the envelope, with a Bearer
// challenge where the scheme is Bearer.
func FuzzAPIKeyAuthorization(f *testing.F) {
	opsmerge := fixtureKey(f, "opsmerge", "full").Secret
	ivanti := fixtureKey(f, "ivanti-ism", "full").Secret
	opm := fixtureKey(f, "opmanager", "full").Secret
	for _, seed := range []struct {
		profile uint8
		value   string
	}{
		{0, "Bearer " + opsmerge}, {0, "bearer " + opsmerge}, {0, "Bearer  " + opsmerge}, {0, "Bearer om_"}, {0, "Bearer om_x=y"},
		{0, "Basic " + opsmerge}, {0, ""}, {0, "Bearer " + opsmerge + "\x00"},
		{1, opm}, {1, " " + opm}, {1, opm + ","}, {1, ""},
		{2, "rest_api_key=" + ivanti}, {2, "rest_api_key= " + ivanti}, {2, "REST_API_KEY=" + ivanti}, {2, "rest_api_key="}, {2, ivanti},
	} {
		f.Add(seed.profile, seed.value)
	}
	names := []string{"opsmerge", "opmanager", "ivanti-ism"}
	f.Fuzz(func(t *testing.T, which uint8, value string) {
		s := fuzzServer(t)
		p := s.byName[names[int(which)%len(names)]]
		header := "Authorization"
		if p.Auth.Mode == specs.AuthAPIKey && p.Auth.Schemes[0].In == "header" {
			header = p.Auth.Schemes[0].Param
		}
		r := httptest.NewRequest("GET", probePath[p.Name], nil)
		r.Header[http.CanonicalHeaderKey(header)] = []string{value}
		w := serveOnce(s, r)
		checkAnswer(t, p, w, fmt.Sprintf("%s %q", header, value))
		if w.Code == 200 {
			ok := false
			for _, sec := range knownSecretsOf(t, p) {
				ok = ok || strings.Contains(value, sec)
			}
			if !ok {
				t.Fatalf("%s: %s %q was admitted, but carries no key", p.Name, header, value)
			}
			return
		}
		if w.Code == 401 {
			if err := p.Errors.Match(specs.Unauthenticated, w.Body.Bytes()); err != nil {
				t.Fatalf("%s: %v", p.Name, err)
			}
			if p.Auth.Mode == specs.AuthBearer && !strings.HasPrefix(w.Header().Get("WWW-Authenticate"), "Bearer realm=") {
				t.Fatalf("%s: 401 without a Bearer challenge", p.Name)
			}
		}
	})
}

func knownSecretsOf(t *testing.T, p *specs.Profile) []string {
	set := fuzzServer(t).fixtures[p.Name]
	var out []string
	for _, k := range set.Keys {
		if k.Secret != "" {
			out = append(out, k.Secret)
		}
	}
	return out
}

// FuzzCutFormat: a key extracted from a value is exactly what, put back
// into the format, gives the value; it is never empty nor padded; and any
// such key is extracted again.
func FuzzCutFormat(f *testing.F) {
	for _, seed := range [][2]string{
		{"{key}", "abc"}, {"rest_api_key={key}", "rest_api_key=ABC"}, {"rest_api_key={key}", "rest_api_key="},
		{"Bearer {key}", "Bearer  x"}, {"{key}{key}", "aa"}, {"a{key}a", "aaa"}, {"x", "x"}, {"{key}", " a "},
	} {
		f.Add(seed[0], seed[1])
	}
	f.Fuzz(func(t *testing.T, format, value string) {
		key, ok := cutFormat(format, value)
		if !ok {
			return
		}
		before, after, _ := strings.Cut(format, "{key}")
		if key == "" || strings.TrimSpace(key) != key || before+key+after != value {
			t.Fatalf("cutFormat(%q, %q) = %q: not the key that gives the value", format, value, key)
		}
		if again, ok := cutFormat(format, before+key+after); !ok || again != key {
			t.Fatalf("cutFormat(%q, fill(%q)) = %q, %v", format, key, again, ok)
		}
	})
}

// FuzzPagingValues sends any value as each profile's page and size
// parameters. The answer is a page (never larger than the documented
// maximum) or 400 naming the parameter, in the vendor's envelope.
func FuzzPagingValues(f *testing.F) {
	for _, seed := range []struct {
		profile     uint8
		page, size  string
		repeat, raw bool
	}{
		{0, "1", "10", false, false}, {1, "2", "5", false, false}, {2, "0", "100", false, false}, {3, "3", "7", false, false},
		{0, "-1", "0", false, false}, {1, "abc", "1e3", false, false}, {2, "99999999999999999999", "2147483648", false, false},
		{3, " 5 ", "+5", false, false}, {0, "1", "1001", false, false}, {1, "1", "101", false, false}, {2, "", "", false, false},
		{3, "1", "1", true, false}, {0, "%zz", "1", false, true}, {1, "1;2", "3&x=4", false, true}, {2, "0x10", "٣", false, false},
		{3, "9223372036854775807", "100", false, false},
	} {
		f.Add(seed.profile, seed.page, seed.size, seed.repeat, seed.raw)
	}
	f.Fuzz(func(t *testing.T, which uint8, pageValue, sizeValue string, repeat, raw bool) {
		s := fuzzServer(t)
		p := s.profiles[int(which)%len(s.profiles)]
		pg := p.Pagination
		if pg == nil {
			return
		}
		pageParam := pg.Page.Param
		if pg.Style == specs.StyleOffset {
			pageParam = pg.Skip.Param
		}
		var query string
		if raw {
			query = pageParam + "=" + pageValue + "&" + pg.Size.Param + "=" + sizeValue
			if strings.IndexFunc(query, func(r rune) bool { return r <= ' ' || r > '~' }) >= 0 {
				return // not a request target (RFC 9112 allows visible ASCII only): clients escape it
			}
		} else {
			q := url.Values{pageParam: {pageValue}, pg.Size.Param: {sizeValue}}
			if repeat {
				q.Add(pg.Size.Param, sizeValue)
			}
			query = q.Encode()
		}
		path := pagedPath(p)
		r, err := http.NewRequest("GET", path+"?"+query, nil)
		if err != nil {
			return // not a request a client can send
		}
		r.RequestURI = r.URL.RequestURI()
		hdr, _ := fixtureCredentials(t, p, "full")
		if p.Auth.Mode == specs.AuthDigest {
			hdr = http.Header{"Authorization": {fuzzDigest(t, s, p, r.RequestURI)}}
		}
		for k, v := range hdr {
			r.Header[k] = v
		}
		w := serveOnce(s, r)
		checkAnswer(t, p, w, "GET "+path+"?"+query)
		switch w.Code {
		case 200:
			var body map[string]any
			if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil {
				t.Fatalf("200 that is not a JSON object: %s", w.Body.Bytes())
			}
			if p.Envelope.Success != "" {
				body, _ = body[p.Envelope.Success].(map[string]any)
			}
			items, ok := body[pg.Response.Items].([]any)
			if !ok {
				t.Fatalf("200 without %q: %.300s", pg.Response.Items, w.Body.Bytes())
			}
			if pg.Size.Max > 0 && len(items) > pg.Size.Max {
				t.Fatalf("%d items on a page, past the maximum %d", len(items), pg.Size.Max)
			}
		case 400:
			if err := p.Errors.Match(specs.InvalidParameter, w.Body.Bytes()); err != nil {
				t.Fatalf("400 for %s: %v", query, err)
			}
		case 429:
		default:
			t.Fatalf("GET %s?%s: %d %s, want a page or 400", path, query, w.Code, w.Body.Bytes())
		}
	})
}

// pagedPath is a paginated list of the profile that needs no parameters.
func pagedPath(p *specs.Profile) string {
	set := fuzzSrv.fixtures[p.Name]
	for _, op := range p.Operations {
		if op.Method != "GET" || !op.Paginated {
			continue
		}
		path := op.Path
		for name, v := range set.Params {
			path = strings.ReplaceAll(path, "{"+name+"}", v)
		}
		if !strings.Contains(path, "{") {
			return path
		}
	}
	return probePath[p.Name]
}

// fuzzDigest signs a GET of uri for the profile's full key on a fresh nonce.
func fuzzDigest(t *testing.T, s *Server, p *specs.Profile, uri string) string {
	k := fixtureKey(t, p.Name, "full")
	chal := &icholy.Challenge{Realm: p.Auth.Digest.Realm, Nonce: s.nonces[p.Name].issue(), Algorithm: "MD5", QOP: []string{"auth"}}
	cred, err := icholy.Digest(chal, icholy.Options{Method: "GET", URI: uri, Username: k.PublicKey, Password: k.PrivateKey, Count: 1})
	if err != nil {
		t.Fatal(err)
	}
	return cred.String()
}

// FuzzJSONBody decodes any bytes as a request body: either one JSON object
// whose re-encoding is valid JSON, or a 400 that says why. Sent to every
// profile's create, the answer is 2xx or 4xx in the vendor's envelope.
func FuzzJSONBody(f *testing.F) {
	for _, seed := range []string{
		``, `{}`, `[]`, `null`, `{"a":1}{"b":2}`, `{"a":1} `, `{"a":1}}`, `{"a":1}]`, `{"a":`, `{"n":1e400}`, `{"n":-0}`, `{"n":12345678901234567890}`,
		`{"s":"\ud800"}`, `{"Subject":"x","ProfileLink_RecID":"0123456789ABCDEF0123456789ABCDEF"}`,
		`{"subject":"x","clientId":"7a1d2e7c-1b1f-4d0e-9a8b-6f0f7a5e9d11"}`, `{"desc":"k","roles":["ORG_MEMBER"]}`,
		"\xef\xbb\xbf{}", `{"a":{"b":{"c":[[[[[[[[[[]]]]]]]]]]}}}`, `{"__proto__":1}`, `"string"`, `{"a":1,"a":2}`,
	} {
		f.Add(uint8(0), []byte(seed))
		f.Add(uint8(3), []byte(seed))
	}
	f.Fuzz(func(t *testing.T, which uint8, body []byte) {
		s := fuzzServer(t)
		var withBody []*specs.Profile
		for _, p := range s.profiles {
			if op, _ := postOperationOf(p); op != nil {
				withBody = append(withBody, p)
			}
		}
		p := withBody[int(which)%len(withBody)]
		op, path := postOperationOf(p)
		x := &exchange{op: op, body: body}
		m, fail := x.jsonBody()
		switch {
		case fail != nil:
			if fail.kind != specs.InvalidBody || fail.message == "" {
				t.Fatalf("body %q: failure %+v, want invalid-body with a message", body, fail)
			}
		case m == nil:
			t.Fatalf("body %q: neither an object nor a failure", body)
		case !json.Valid(body):
			t.Fatalf("body %q is not JSON, yet decoded to %v", body, m)
		default:
			if b, err := json.Marshal(m); err != nil || !json.Valid(b) {
				t.Fatalf("body %q decoded to %v, which does not encode: %v", body, m, err)
			}
		}
		r := httptest.NewRequest("POST", path, bytes.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		hdr, _ := fixtureCredentials(t, p, "full")
		if p.Auth.Mode == specs.AuthDigest {
			hdr = http.Header{"Authorization": {fuzzPostDigest(t, s, p, path)}}
		}
		for k, v := range hdr {
			r.Header[k] = v
		}
		w := serveOnce(s, r)
		checkAnswer(t, p, w, fmt.Sprintf("POST %s %q", path, body))
		if w.Code >= 300 && w.Code != 400 && w.Code != 413 && w.Code != 429 {
			t.Fatalf("POST %s %q: %d %s", path, body, w.Code, w.Body.Bytes())
		}
	})
}

func postOperationOf(p *specs.Profile) (*specs.Operation, string) {
	set := fuzzSrv.fixtures[p.Name]
	for _, op := range p.Operations {
		if op.Method != http.MethodPost || op.Body == nil {
			continue
		}
		path := op.Path
		for name, v := range set.Params {
			path = strings.ReplaceAll(path, "{"+name+"}", v)
		}
		if !strings.Contains(path, "{") {
			return op, path
		}
	}
	return nil, ""
}

func fuzzPostDigest(t *testing.T, s *Server, p *specs.Profile, uri string) string {
	k := fixtureKey(t, p.Name, "full")
	chal := &icholy.Challenge{Realm: p.Auth.Digest.Realm, Nonce: s.nonces[p.Name].issue(), Algorithm: "MD5", QOP: []string{"auth"}}
	cred, err := icholy.Digest(chal, icholy.Options{Method: "POST", URI: uri, Username: k.PublicKey, Password: k.PrivateKey, Count: 1})
	if err != nil {
		t.Fatal(err)
	}
	return cred.String()
}

// FuzzParseFault: a fault --fault accepts is one the control API accepts
// as JSON and reads back the same, and one faultSet.add takes has sane
// bounds; nothing --fault is given makes the mock panic.
func FuzzParseFault(f *testing.F) {
	for _, seed := range []string{
		"kind=status,status=503,operation=listAgents,probability=0.5,count=3",
		"kind=latency,latency=400ms,latencyMax=1s", "kind=deviation,deviation=page-size-ignored,profile=opsmerge",
		`{"kind":"reset","count":1}`, `{"kind":"latency","latency":250}`, "kind=status,status=99", "probability=NaN,kind=empty",
		"kind=latency,latency=-1s", "kind", "=", ",,,", `{"kind":"status","status":500,"extra":1}`, "kind=truncate,probability=1e-320",
		"kind=latency,latency=9223372036854775807ns", "count=-1,kind=reset", `{"kind":"reset"} {"kind":"empty"}`, `{"kind":"reset"}}`,
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		fault, err := ParseFault(s)
		if err != nil {
			if strings.TrimSpace(err.Error()) == "" {
				t.Fatalf("ParseFault(%q): an empty error", s)
			}
			return
		}
		if trimmed := strings.TrimSpace(s); strings.HasPrefix(trimmed, "{") && !json.Valid([]byte(trimmed)) {
			t.Fatalf("ParseFault(%q) took JSON that is not one valid value", s)
		}
		fs, err := newFaultSet(embeddedProfiles(t), 1, nil)
		if err != nil {
			t.Fatal(err)
		}
		added, err := fs.add(fault)
		if err != nil {
			return
		}
		if p := added.Probability; p != nil && !(*p >= 0 && *p <= 1) || added.Count < 0 || time.Duration(added.Latency) > maxLatency || added.ID == "" {
			t.Fatalf("ParseFault(%q) then add: %+v is out of bounds", s, added)
		}
		b, err := json.Marshal(fault)
		if err != nil {
			t.Fatalf("fault %+v from %q was added but does not encode: %v", fault, s, err)
		}
		back, err := ParseFault(string(b))
		if err != nil || !reflect.DeepEqual(back, fault) {
			t.Fatalf("fault %q → %s → %+v, %v; want %+v", s, b, back, err, fault)
		}
	})
}

// FuzzControlAPI sends any method, path and body to the control API: never
// a 5xx, always JSON (but for 204), never a secret of a fixture key.
func FuzzControlAPI(f *testing.F) {
	for _, seed := range []struct{ method, path, body string }{
		{"GET", "health", ""}, {"GET", "requests?limit=5", ""}, {"GET", "requests?limit=-1", ""}, {"GET", "requests?limit=99999999999999999999", ""},
		{"POST", "profiles/opsmerge/keys", `{"name":"x","scopes":["agents:read"]}`}, {"POST", "profiles/opsmerge/keys", `{"nme":"x"}`},
		{"POST", "profiles/opsmerge/keys", `{"expires":"yesterday"}`}, {"POST", "profiles/nowhere/keys", `{}`},
		{"POST", "profiles/ivanti-ism/keys", `{"ips":["::1"],"tenant":"127.0.0.1"}`}, {"POST", "faults", `{"kind":"status","status":503}`},
		{"POST", "faults", `{"kind":"latency","latency":"1h"}`}, {"DELETE", "faults/f999", ""}, {"POST", "profiles/opsmerge/keys/key-ci-full/explode", ""},
		{"POST", "profiles/opsmerge/users/nobody/deactivate", ""}, {"DELETE", "profiles/opsmerge/keys/%2e%2e", ""}, {"GET", "profiles/opsmerge/keys/x/budget", ""},
		{"PUT", "reset", ""}, {"GET", "../etc/passwd", ""}, {"POST", "profiles/mongodb-opsmanager/keys", `[1,2,3]`},
	} {
		f.Add(seed.method, seed.path, seed.body)
	}
	secrets := map[string]bool{}
	for _, p := range embeddedProfiles(f) {
		for _, k := range fuzzServer(f).fixtures[p.Name].Keys {
			for _, s := range []string{k.Secret, k.PrivateKey} {
				if s != "" {
					secrets[s] = true
				}
			}
		}
	}
	s, err := New(Options{Profiles: embeddedProfiles(f), Seed: 1})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, method, path, body string) {
		r, err := http.NewRequest(method, "http://127.0.0.1"+ControlPrefix+path, strings.NewReader(body))
		if err != nil {
			return
		}
		r.RequestURI = r.URL.RequestURI()
		if strings.Contains(r.URL.Path, "faults") && method == http.MethodPost {
			// An injected reset or empty answer aborts the handler by design
			// (http.ErrAbortHandler), which an in-process recorder cannot take.
			return
		}
		w := serveOnce(s, r)
		if w.Code >= 500 {
			t.Fatalf("%s %s %q: %d %s", method, path, body, w.Code, w.Body.Bytes())
		}
		if w.Code != 204 && w.Body.Len() > 0 && !json.Valid(w.Body.Bytes()) && w.Code != 405 && w.Code != 301 && w.Code != 307 && w.Code != 308 {
			t.Fatalf("%s %s: %d with a body that is not JSON: %q", method, path, w.Code, w.Body.Bytes())
		}
		for sec := range secrets {
			if strings.Contains(w.Body.String(), sec) {
				t.Fatalf("%s %s: the answer shows a fixture key's secret", method, path)
			}
		}
	})
}

// FuzzRedactQuery: whatever the query string, the redacted one has the
// same parts in the same order, no credential's value, no known secret, and
// redacting it again changes nothing.
func FuzzRedactQuery(f *testing.F) {
	for _, seed := range []string{
		"", "a=1&b=2", "apiKey=secret123&rows=5", "ACCESS_TOKEN=x1y2z3w4", "q=om_abcdefghijkl", "om_abcdefghijkl", "a=%zz&token=abcdefgh",
		"x=1;apikey=abcdefgh", "f=rest_api_key%3DKNOWNSECRET", "api%5Fkey=abcdefgh", "&&&", "=&=", "key=", "password=p%00ssword",
	} {
		f.Add(seed)
	}
	const known = "KNOWNSECRET"
	f.Fuzz(func(t *testing.T, raw string) {
		rd := newRedactor(embeddedProfiles(t), func(v string) bool { return v == known })
		out := rd.query(raw)
		if rd.query(out) != out {
			t.Fatalf("redacting %q twice changes it: %q then %q", raw, out, rd.query(out))
		}
		in, got := strings.FieldsFunc(raw, isQuerySep), strings.FieldsFunc(out, isQuerySep)
		if strings.Count(raw, "&")+strings.Count(raw, ";") != strings.Count(out, "&")+strings.Count(out, ";") || len(in) != len(got) {
			t.Fatalf("redacting %q changed its parts: %q", raw, out)
		}
		for i, part := range got {
			name, value, _ := strings.Cut(part, "=")
			n, err := url.QueryUnescape(name)
			if err != nil {
				n = name
			}
			v, err := url.QueryUnescape(value)
			if err != nil {
				v = value
			}
			if value != "" && value != Redacted && (rd.sensitiveName(n) || rd.sensitiveValue(v)) {
				t.Fatalf("part %q of %q is shown as %q", in[i], raw, part)
			}
		}
	})
}

func isQuerySep(r rune) bool { return r == '&' || r == ';' }
