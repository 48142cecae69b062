package mock

import (
	"reflect"
	"testing"

	"github.com/icholy/digest"
	"github.com/opsconform/opsconform/specs"
)

// digestHeaders are Authorization values the fast parser must read as
// digest.ParseCredentials does, well formed or not.
var digestHeaders = []string{
	`Digest username="ewmaqvdo", realm="MMS Public API", nonce="abc", uri="/api/public/v1.0/orgs?x=1", algorithm=MD5, response="0123456789abcdef0123456789abcdef", qop=auth, nc=00000001, cnonce="0a4f113b"`,
	`Digest username="u",realm="r",nonce="n",uri="/",response="x",qop=auth,nc=1,cnonce="c",algorithm=SHA-256,opaque="o",userhash=TRUE`,
	`digest   username = "u" ,  nc = ff ,qop="auth"`,
	`DIGEST username="u", username="again"`,
	`Digest `,
	`Digest username="u"`,
	`Digest username="u", nc=zz`,
	`Digest username="u", nc=7fffffff`,
	`Digest username="u", nc=80000000`,
	`Digest username="u", nc=-1`,
	`Digest username="u" realm="no comma"`,
	`Digest username="unterminated`,
	`Digest username="u",`,
	`Digest ="no key"`,
	`Digest username=`,
	`Digest username`,
	`Digest username="esc\"aped"`,
	`Digest username="caf` + "\xc3\xa9" + `"`,
	`Digest username="bad` + "\xff" + `utf8"`,
	`Digest user_name="underscore is not an ident"`,
	`Digest unknown="ignored", uri=bare-token-1`,
	`Basic dXNlcjpwYXNz`,
	`Digestusername="u"`,
}

func TestParseDigestCredentialsAgreesWithIcholy(t *testing.T) {
	for _, h := range digestHeaders {
		t.Run(h, func(t *testing.T) {
			checkDigestParse(t, h)
		})
	}
}

func checkDigestParse(t *testing.T, h string) {
	t.Helper()
	want, wantErr := digest.ParseCredentials(h)
	got, gotErr := parseDigestCredentials(h)
	if (wantErr == nil) != (gotErr == nil) {
		t.Fatalf("%q: error %v, icholy/digest's %v", h, gotErr, wantErr)
	}
	if wantErr != nil {
		if gotErr.Error() != wantErr.Error() {
			t.Fatalf("%q: error %q, icholy/digest's %q", h, gotErr, wantErr)
		}
		return
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%q:\n got %+v\nwant %+v", h, got, want)
	}
}

func FuzzParseDigestCredentials(f *testing.F) {
	for _, h := range digestHeaders {
		f.Add(h)
	}
	f.Fuzz(func(t *testing.T, h string) {
		checkDigestParse(t, h)
	})
}

// TestDigestResponseAgreesWithIcholy: the response the mock expects, H(A1)
// cached or not, is what digest.Digest computes for the same credentials.
func TestDigestResponseAgreesWithIcholy(t *testing.T) {
	s := &Server{}
	tests := []struct {
		name, alg, qop, method, uri string
		nc                          int
	}{
		{"md5", "MD5", "auth", "GET", "/api/public/v1.0/orgs/5980cfc70b6d97029d82e3f6/apiKeys?pageNum=1&itemsPerPage=100", 1},
		{"md5 lower case", "md5", "auth", "POST", "/a", 0x7fffffff},
		{"sha-256", "SHA-256", "auth", "GET", "/b", 255},
		{"sha-512 goes to icholy", "SHA-512", "auth", "GET", "/c", 2},
		{"auth-int goes to icholy", "MD5", "auth-int", "GET", "/d", 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := &specs.DigestPolicy{Realm: "MMS Public API", QOP: tt.qop}
			cred := &digest.Credentials{Username: "ewmaqvdo", Nonce: "n0nce", URI: tt.uri, Cnonce: "0a4f113b", Nc: tt.nc, Algorithm: tt.alg}
			for range 2 { // the second time from the cache
				got, err := s.digestResponse(d, cred, tt.alg, tt.method, "51529f5a-1c76-41b9-8b2b-db2c132ca78d")
				if err != nil {
					t.Fatal(err)
				}
				want, err := digest.Digest(&digest.Challenge{Realm: d.Realm, Nonce: cred.Nonce, Algorithm: tt.alg, QOP: []string{tt.qop}},
					digest.Options{Method: tt.method, URI: tt.uri, Username: cred.Username, Password: "51529f5a-1c76-41b9-8b2b-db2c132ca78d", Cnonce: cred.Cnonce, Count: tt.nc})
				if err != nil {
					t.Fatal(err)
				}
				if got != want.Response {
					t.Fatalf("response %s, icholy/digest's %s", got, want.Response)
				}
			}
		})
	}
	// A key given a new private key is not answered from the old one's H(A1).
	d := &specs.DigestPolicy{Realm: "r", QOP: "auth"}
	cred := &digest.Credentials{Username: "u", Nonce: "n", URI: "/", Cnonce: "c", Nc: 1}
	before, _ := s.digestResponse(d, cred, "MD5", "GET", "old")
	after, _ := s.digestResponse(d, cred, "MD5", "GET", "new")
	if before == after {
		t.Fatal("a new password gave the same response: H(A1) was read from the cache")
	}
}
