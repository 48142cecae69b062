package mock

import (
	"net/http/httptest"
	"testing"
	"time"
)

// BenchmarkList serves a paginated list per profile through the whole
// pipeline (route, auth, validation, paging, encoding). The one-item page of
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
		if p.Name == "mongodb-opsmanager" {
			continue // digest needs a round trip per request; BenchmarkAuth covers its cost
		}
		hdr, _ := fixtureCredentials(b, p, "full")
		for _, size := range []struct{ name, query string }{{"1", l.one}, {"100", l.hundred}} {
			b.Run(p.Name+"/page-"+size.name, func(b *testing.B) {
				req := httptest.NewRequest("GET", l.path+size.query, nil)
				req.Host = "127.0.0.1"
				req.Header = hdr.Clone()
				b.ReportAllocs()
				for b.Loop() {
					h.clock.Advance(time.Minute) // a fresh rate-limit window: this measures serving, not refusing
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
