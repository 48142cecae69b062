package mock

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/opsconform/opsconform/specs"
)

// BenchmarkAuth measures routing plus authentication and authorization per
// mode: the apikey header, Bearer, rest_api_key and Digest (a response
// checked against a nonce, its count recorded). "route" is the baseline:
// routing alone, measured in the same run.
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
		p := profileNamed(b, "mongodb-opsmanager")
		path := probePath["mongodb-opsmanager"]
		headers := &signedHeaders{sign: digestSigner(b, s, h.clock, p, path)}
		req := httptest.NewRequest("GET", h.http.URL+path, nil)
		b.ReportAllocs()
		for b.Loop() {
			headers.set(b, req) // signing is the client's work: done in batches, off the timer
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
