package mock

import (
	"net/http/httptest"
	"testing"
	"time"
)

// BenchmarkJournal measures what recording one exchange costs the request
// that made it ("add": its URI, headers and both bodies' starts kept raw in
// a reused slot; an ordinary exchange, a GET with a key and a JSON page
// back, allocates nothing once the ring has come round), and what reading
// it back costs a reader ("add+read": the same, then the entry redacted
// and copied out). "entries" is a reader's filtered copy of the latest 50 4xx.
func BenchmarkJournal(b *testing.B) {
	h := newHarness(b)
	p := profileNamed(b, "opsmerge")
	hdr, _ := fixtureCredentials(b, p, "full")
	for _, size := range []struct{ name, query string }{{"page-1", "?per_page=1"}, {"page-100", "?per_page=100"}} {
		req := httptest.NewRequest("GET", "/api/v1/agents"+size.query, nil)
		req.Host = "127.0.0.1"
		req.Header = hdr.Clone()
		req.Header.Set("User-Agent", "opsconform-bench/1.0 (linux; go)")
		req.Header.Set("Accept", "application/json")
		w := httptest.NewRecorder()
		h.srv.ServeHTTP(w, req)
		if w.Code != 200 {
			b.Fatalf("%d %s", w.Code, w.Body)
		}
		body := w.Body.Bytes()
		x := &exchange{w: w, r: req, profile: p, op: p.Operation("listAgents"), status: 200}
		record := func() {
			h.srv.journal.capture(x, body)
			h.srv.journal.add(x, time.Time{}, time.Millisecond, "")
			x.respBody = nil
		}
		b.Run("add/"+size.name, func(b *testing.B) {
			for range 2 * JournalSize { // every slot's buffers grown once
				record()
			}
			b.ReportAllocs()
			b.SetBytes(int64(min(len(body), JournalBodyCap)))
			for b.Loop() {
				record()
			}
		})
		b.Run("add+read/"+size.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				record()
				if out, _ := h.srv.journal.entries(journalFilter{}, 1); len(out) != 1 || out[0].ResponseBody == nil {
					b.Fatal("no entry")
				}
			}
		})
	}
	b.Run("entries", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if out, _ := h.srv.journal.entries(journalFilter{statuses: []statusRange{{400, 499}}}, 50); out == nil {
				b.Fatal("nil")
			}
		}
	})
}
