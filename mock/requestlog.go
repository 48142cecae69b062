package mock

import (
	"sync"
	"time"
)

// Request is one served request as the log keeps it: no headers and no
// credentials. Its URI passes through the server's redactor: any query
// parameter a loaded security scheme reads or that has a common credential
// name (in any letter case), and any value that is a key's secret or has a
// token prefix, shows as REDACTED.
type Request struct {
	Time       time.Time `json:"time"`
	Method     string    `json:"method"`
	URI        string    `json:"uri"`
	Status     int       `json:"status"`
	Profile    string    `json:"profile,omitempty"`
	Operation  string    `json:"operation,omitempty"`
	Key        string    `json:"key,omitempty"` // the key's id, never its secret
	DurationMS float64   `json:"durationMs"`
}

// requestLog is a ring of the most recent requests.
type requestLog struct {
	mu   sync.Mutex
	buf  []Request
	next int
	full bool
}

func newRequestLog(n int) *requestLog { return &requestLog{buf: make([]Request, n)} }

func (l *requestLog) add(r Request) {
	l.mu.Lock()
	l.buf[l.next] = r
	l.next = (l.next + 1) % len(l.buf)
	if l.next == 0 {
		l.full = true
	}
	l.mu.Unlock()
}

// recent returns up to n requests, newest first.
func (l *requestLog) recent(n int) []Request {
	l.mu.Lock()
	defer l.mu.Unlock()
	size := l.next
	if l.full {
		size = len(l.buf)
	}
	if n <= 0 || n > size {
		n = size
	}
	out := make([]Request, 0, n)
	for i := 1; i <= n; i++ {
		out = append(out, l.buf[(l.next-i+len(l.buf))%len(l.buf)])
	}
	return out
}

func (l *requestLog) reset() {
	l.mu.Lock()
	l.next, l.full = 0, false
	clear(l.buf)
	l.mu.Unlock()
}

// record logs one exchange, to the ring and the logger.
func (s *Server) record(x *exchange, start time.Time) {
	rec := Request{Time: start.UTC(), Method: x.r.Method, URI: s.redact.uri(x.r.URL), Status: x.status,
		DurationMS: float64(s.now().Sub(start).Microseconds()) / 1000}
	if x.profile != nil {
		rec.Profile = x.profile.Name
	}
	if x.op != nil {
		rec.Operation = x.op.ID
	}
	if x.auth != nil {
		rec.Key = x.auth.Key.ID
	}
	s.requests.add(rec)
	s.log.Info("request", "method", rec.Method, "uri", rec.URI, "status", rec.Status,
		"profile", rec.Profile, "operation", rec.Operation, "key", rec.Key, "ms", rec.DurationMS)
}
