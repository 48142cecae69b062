package mock

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	icholy "github.com/icholy/digest"
	"github.com/opsconform/opsconform/specs"
)

// BenchmarkList serves a paginated list per profile through the whole
// pipeline (route, auth, validation, paging, encoding); MongoDB's includes
// checking a digest response. The one-item page of
// the same list is the baseline measured in the same run: the difference is
// the cost of 99 more items.
func BenchmarkList(b *testing.B) {
	h := newHarness(b)
	lists := map[string]struct{ path, one, hundred string }{
		"opmanager":          {"/api/json/v2/device/listDevices", "?rows=1", "?rows=100"},
		"opsmerge":           {"/api/v1/agents", "?per_page=1", "?per_page=100"},
		"mongodb-opsmanager": {"/api/public/v1.0/orgs/5980cfc70b6d97029d82e3f6/apiKeys", "?itemsPerPage=1", "?itemsPerPage=100"},
		"ivanti-ism":         {"/api/odata/businessobject/incidents", "?$top=1", "?$top=100"},
	}
	for _, p := range embeddedProfiles(b) {
		l := lists[p.Name]
		hdr, _ := fixtureCredentials(b, p, "full")
		for _, size := range []struct{ name, query string }{{"1", l.one}, {"100", l.hundred}} {
			b.Run(p.Name+"/page-"+size.name, func(b *testing.B) {
				req := httptest.NewRequest("GET", l.path+size.query, nil)
				req.Host = "127.0.0.1"
				req.Header = hdr.Clone()
				if req.Header == nil {
					req.Header = http.Header{} // digest: the signer fills Authorization
				}
				sign := digestSigner(b, h, p, l.path+size.query)
				b.ReportAllocs()
				for b.Loop() {
					h.clock.Advance(time.Minute) // a fresh rate-limit window: this measures serving, not refusing
					if sign != nil {
						b.StopTimer() // signing is the client's work
						req.Header.Set("Authorization", sign())
						b.StartTimer()
					}
					w := httptest.NewRecorder()
					h.srv.ServeHTTP(w, req)
					if w.Code != 200 {
						b.Fatalf("%d %s", w.Code, w.Body)
					}
				}
			})
		}
	}
}

// digestSigner signs requests for a digest profile with a rising nonce count
// on a nonce of its own, refreshed before it expires; nil for other modes.
func digestSigner(b *testing.B, h *harness, p *specs.Profile, uri string) func() string {
	if p.Auth.Mode != specs.AuthDigest {
		return nil
	}
	k := fixtureKey(b, p.Name, "full")
	var chal *icholy.Challenge
	var issued time.Time
	nc := 0
	return func() string {
		if chal == nil || h.clock.Now().Sub(issued) > p.Auth.Digest.NonceLifetime/2 {
			chal = &icholy.Challenge{Realm: p.Auth.Digest.Realm, Nonce: h.srv.nonces[p.Name].issue(), Algorithm: "MD5", QOP: []string{"auth"}}
			issued, nc = h.clock.Now(), 0
		}
		nc++
		cred, err := icholy.Digest(chal, icholy.Options{Method: "GET", URI: uri, Username: k.PublicKey, Password: k.PrivateKey, Count: nc, Cnonce: "0a4f113b"})
		if err != nil {
			b.Fatal(err)
		}
		return cred.String()
	}
}
