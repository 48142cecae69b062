package mock

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/opsconform/opsconform/specs"
)

// BenchmarkRoute matches request paths the four profiles serve: a concrete
// path, templated ones (MongoDB's org keys, Ivanti's OData key), a path no
// profile serves (404) and a wrong method (405). "literal" is the baseline
// measured in the same run: one map lookup of the path, the least a router
// can do.
func BenchmarkRoute(b *testing.B) {
	s, _ := quietServer(b)
	paths := map[string]bool{}
	for _, l := range benchLists {
		paths[l.path] = true
	}
	b.Run("literal", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if !paths["/api/v1/agents"] {
				b.Fatal("no path")
			}
		}
	})
	cases := []struct{ name, method, path string }{
		{"concrete", "GET", "/api/v1/agents"},
		{"templated", "GET", "/api/public/v1.0/orgs/5980cfc70b6d97029d82e3f6/apiKeys"},
		{"odata-key", "GET", "/api/odata/businessobject/incidents('0123456789ABCDEF0123456789ABCDEF')"},
		{"not-found", "GET", "/api/v1/nothing-here"},
		{"wrong-method", "PUT", "/api/v1/agents"},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				s.router.match(c.method, c.path)
			}
		})
	}
}

// BenchmarkAnswer renders the 100-item page per profile once the request
// is routed, authenticated and admitted: the answer stage alone (paging,
// envelope, items from their stored bytes, MongoDB's links), written to a
// writer that keeps nothing.
func BenchmarkAnswer(b *testing.B) {
	s, _ := quietServer(b)
	for _, p := range embeddedProfiles(b) {
		l := benchLists[p.Name]
		b.Run(p.Name, func(b *testing.B) {
			req := httptest.NewRequest("GET", l.path+l.hundred, nil)
			req.Host = "127.0.0.1"
			rt, params, _ := s.router.match("GET", req.URL.EscapedPath())
			k := fixtureKey(b, p.Name, "full")
			auth, ok := s.keys.BySecret(p.Name, k.Secret)
			if p.Auth.Mode == specs.AuthDigest {
				auth, _, ok = s.keys.DigestKey(p.Name, k.PublicKey)
			}
			if rt == nil || !ok {
				b.Fatalf("%s: no route or key", p.Name)
			}
			w := &discardWriter{h: http.Header{}}
			b.ReportAllocs()
			cpu := processCPU()
			for b.Loop() {
				w.reset()
				x := &exchange{w: w, r: req, profile: rt.profile, op: rt.op, params: params, info: s.ops[rt.op].get(), auth: auth}
				if f := s.answer(x); f != nil || w.status != 200 {
					b.Fatalf("%d %v", w.status, f)
				}
			}
			reportCPU(b, cpu)
		})
	}
}

// BenchmarkStart is what `opsconform mock` does before it listens: model
// the four embedded specs and build the server (keys, routes; each
// profile's data waits for its first request). "new" is the second half
// alone, on specs modelled once; "data" is what the first requests to the
// four profiles then build, in turn.
func BenchmarkStart(b *testing.B) {
	b.Run("specs+new", func(b *testing.B) {
		b.ReportAllocs()
		cpu := processCPU()
		for b.Loop() {
			ps, err := specs.LoadEmbedded()
			if err != nil {
				b.Fatal(err)
			}
			if _, err := New(Options{Profiles: ps, Seed: 1}); err != nil {
				b.Fatal(err)
			}
		}
		reportCPU(b, cpu)
	})
	b.Run("new", func(b *testing.B) {
		ps := embeddedProfiles(b)
		b.ReportAllocs()
		cpu := processCPU()
		for b.Loop() {
			if _, err := New(Options{Profiles: ps, Seed: 1, Now: func() time.Time { return time.Unix(0, 0) }}); err != nil {
				b.Fatal(err)
			}
		}
		reportCPU(b, cpu)
	})
	b.Run("data", func(b *testing.B) {
		ps := embeddedProfiles(b)
		srv, err := New(Options{Profiles: ps, Seed: 1})
		if err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		cpu := processCPU()
		for b.Loop() {
			for _, p := range ps {
				if _, err := buildDataset(p, srv.fixtures[p.Name], 1); err != nil {
					b.Fatal(err)
				}
			}
		}
		reportCPU(b, cpu)
	})
}
