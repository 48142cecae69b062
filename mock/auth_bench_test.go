package mock

import (
	"net/http"
	"net/http/httptest"
	"testing"

	icholy "github.com/icholy/digest"
	"github.com/opsconform/opsconform/specs"
)

// BenchmarkAuth measures routing plus authentication and authorization per
// mode. "route" is the baseline: routing alone, measured in the same run.
func BenchmarkAuth(b *testing.B) {
	h := newHarness(b)
	s := h.srv
	type bench struct {
		profile, path string
		header        func() string
	}
	fixed := func(p *specs.Profile, label string) func() string {
		hdr, _ := fixtureCredentials(b, p, label)
		for _, v := range hdr {
			return func() string { return v[0] }
		}
		return nil
	}
	cases := map[string]bench{
		"apikey":       {"opmanager", probePath["opmanager"], fixed(profileNamed(b, "opmanager"), "full")},
		"bearer":       {"opsmerge", probePath["opsmerge"], fixed(profileNamed(b, "opsmerge"), "full")},
		"rest_api_key": {"ivanti-ism", probePath["ivanti-ism"], fixed(profileNamed(b, "ivanti-ism"), "full")},
	}
	headerName := map[string]string{"opmanager": "Apikey", "opsmerge": "Authorization", "ivanti-ism": "Authorization", "mongodb-opsmanager": "Authorization"}

	b.Run("route", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if r, _, _ := s.router.match("GET", probePath["opsmerge"]); r == nil {
				b.Fatal("no route")
			}
		}
	})
	for name, c := range cases {
		b.Run(name, func(b *testing.B) {
			req := httptest.NewRequest("GET", h.http.URL+c.path, nil)
			req.Header.Set(headerName[c.profile], c.header())
			req.Host = "127.0.0.1"
			b.ReportAllocs()
			for b.Loop() {
				authOnce(b, s, req)
			}
		})
	}
	b.Run("digest", func(b *testing.B) {
		k := fixtureKey(b, "mongodb-opsmanager", "full")
		path := probePath["mongodb-opsmanager"]
		nonce := s.nonces["mongodb-opsmanager"].issue()
		chal := &icholy.Challenge{Realm: "MMS Public API", Nonce: nonce, Algorithm: "MD5", QOP: []string{"auth"}}
		req := httptest.NewRequest("GET", h.http.URL+path, nil)
		b.ReportAllocs()
		nc := 0
		for b.Loop() {
			b.StopTimer() // signing is the client's work, not the server's
			nc++
			cred, err := icholy.Digest(chal, icholy.Options{Method: "GET", URI: path, Username: k.PublicKey, Password: k.PrivateKey, Count: nc, Cnonce: "0a4f113b"})
			if err != nil {
				b.Fatal(err)
			}
			req.Header.Set("Authorization", cred.String())
			b.StartTimer()
			authOnce(b, s, req)
		}
	})
}

func authOnce(b *testing.B, s *Server, req *http.Request) {
	rt, params, _ := s.router.match(req.Method, req.URL.Path)
	auth, alt, fail := s.authenticate(rt.profile, rt.op, req)
	if fail != nil {
		b.Fatalf("refused: %s %s", fail.kind, fail.message)
	}
	if f := authorize(rt.profile, rt.op, auth, alt, params); f != nil {
		b.Fatalf("forbidden: %s", f.message)
	}
}
