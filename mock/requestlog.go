package mock

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"
)

// The journal's sizes.
const (
	// JournalSize is how many exchanges the journal keeps, the latest,
	// unless Options.JournalEntries says otherwise.
	JournalSize = 512
	// MaxJournalEntries bounds Options.JournalEntries: an entry holds up to
	// twice JournalBodyCap of bodies and its headers, about 5 KiB once
	// full, so the largest journal keeps about 320 MiB.
	MaxJournalEntries = 1 << 16
	// JournalBodyCap is how much of a request's and of a response's body
	// an entry keeps, secrets redacted.
	JournalBodyCap = 2 << 10
)

// Request is one served request as the journal keeps it, passed through the
// server's redactor: any query parameter, header or cookie that a loaded
// security scheme reads or that has a common credential name (in any letter
// case), any JSON member with such a name, and any value or word that is a
// key's secret or has a token prefix, shows as REDACTED, in the URI, the
// headers, both bodies and the reason alike.
type Request struct {
	// Seq numbers entries from 1 in the order they were recorded; a reset
	// does not restart it, so a client can poll with ?since=.
	Seq        uint64    `json:"seq"`
	Time       time.Time `json:"time"` // when the request arrived, by the mock's clock
	Method     string    `json:"method"`
	URI        string    `json:"uri"`
	Status     int       `json:"status"` // -1: no answer, the connection was closed (an injected fault)
	DurationMS float64   `json:"durationMs"`
	Profile    string    `json:"profile,omitempty"`
	Operation  string    `json:"operation,omitempty"`
	// Key is the id of the key the request presented, never its secret:
	// set when a stage found the key, whether or not it was admitted.
	Key string `json:"key,omitempty"`
	// ReasonCode says why the request was refused or answered otherwise
	// than its operation documents (see Reasons); Reason says it in words.
	ReasonCode Reason `json:"reasonCode,omitempty"`
	Reason     string `json:"reason,omitempty"`
	// Faults are the injected faults and deviations that fired: "f2 status 503".
	Faults          []string    `json:"faults,omitempty"`
	RequestHeaders  http.Header `json:"requestHeaders"`
	RequestBody     *Body       `json:"requestBody,omitempty"` // absent when the request had none
	ResponseHeaders http.Header `json:"responseHeaders,omitempty"`
	ResponseBody    *Body       `json:"responseBody,omitempty"`
}

// Body is the start of a request's or response's body.
type Body struct {
	Text      string `json:"text"`                // up to JournalBodyCap bytes, secrets redacted
	Size      int    `json:"size"`                // the whole body's length in bytes
	Truncated bool   `json:"truncated,omitempty"` // Text is the start only
}

// journal is a ring of the latest exchanges. Recording one takes the next
// sequence number and locks only its own slot, whose buffers are reused:
// no lock is shared between requests, nothing is encoded to JSON or
// redacted, and an ordinary request allocates nothing. An entry stays raw,
// as the request and response had it, until it is read or the key store
// is about to forget a secret it may show; then it is redacted in place,
// once (see forget.go). Readers lock one slot at a time to copy it out,
// and encode with no lock held.
type journal struct {
	rd    *redactor
	keys  *Store // whose lock readers take, and whose epoch tags raw entries
	slots []journalSlot
	seq   atomic.Uint64 // the last sequence number given out
	floor atomic.Uint64 // entries up to this one were cleared by a reset
	bufs  sync.Pool     // *[]byte: responses' bodies captured on their way out
}

// journalSlot is one entry in the ring, in the form cheapest to record.
type journalSlot struct {
	mu sync.Mutex // guards every field; held while one entry is written or copied out

	seq                     uint64 // 0 while empty
	time                    time.Time
	dur                     time.Duration
	method                  string
	uri                     []byte // redacted; empty while raw
	status                  int
	profile, operation, key string
	reason                  Reason
	why                     string
	faults                  []string      // shared with the exchange's activeFaults, never changed
	reqHeaders, respHeaders []shownHeader // values as sent while raw
	reqBody, respBody       []byte        // up to JournalBodyCap+bodyMargin bytes as sent while raw
	reqSize, respSize       int
	hasReqBody, hasRespBody bool

	// raw says the entry is not redacted yet: its path and query are the
	// request's own, its headers and bodies as sent. epoch is the key
	// store's forgetting epoch when it was recorded.
	raw         bool
	epoch       uint64
	path, query string
	forceQuery  bool
}

// shownHeader is one header field as the journal shows it; its strings are
// the request's or response's own, never copied.
type shownHeader struct {
	name, value string
	redacted    bool // value is only what may be shown before REDACTED (a scheme), or empty
}

func newJournal(rd *redactor, keys *Store, size int) *journal {
	j := &journal{rd: rd, keys: keys, slots: make([]journalSlot, size)}
	j.bufs.New = func() any { b := make([]byte, 0, JournalBodyCap+bodyMargin); return &b }
	keys.settleWith(j.settle)
	return j
}

// capture keeps the start of a response's body for the journal: the
// caller's buffer goes back to its pool when the answer is written.
func (j *journal) capture(x *exchange, body []byte) {
	if len(body) == 0 || x.r.Method == http.MethodHead {
		return
	}
	if x.respBody == nil {
		x.respBody = j.bufs.Get().(*[]byte)
	}
	*x.respBody = append((*x.respBody)[:0], body[:min(len(body), JournalBodyCap+bodyMargin)]...)
	x.respSize = len(body)
}

// add records one exchange, raw: it copies references and at most the
// body windows, and redacts nothing (why is redacted already).
func (j *journal) add(x *exchange, start time.Time, dur time.Duration, why string) {
	n := j.seq.Add(1)
	sl := &j.slots[n%uint64(len(j.slots))]
	sl.mu.Lock()
	defer sl.mu.Unlock()
	if x.respBody != nil {
		defer j.bufs.Put(x.respBody)
	}
	if sl.seq > n {
		return // the ring came round while this exchange was recorded: a later one holds the slot
	}
	r := x.r
	sl.seq, sl.time, sl.dur, sl.method, sl.status = n, start, dur, r.Method, x.status
	// The epoch is read under the slot's lock: a settle that locks this
	// slot after us sees the entry; one that locked it before moved the
	// epoch on first, so the entry carries the new one (see forget.go).
	sl.raw, sl.epoch = true, j.keys.Epoch()
	sl.uri = sl.uri[:0]
	sl.path, sl.query, sl.forceQuery = r.URL.EscapedPath(), r.URL.RawQuery, r.URL.ForceQuery
	sl.profile, sl.operation, sl.key = "", "", x.keyID
	if x.profile != nil {
		sl.profile = x.profile.Name
	}
	if x.op != nil {
		sl.operation = x.op.ID
	}
	if x.auth != nil {
		sl.key = x.auth.Key.ID
	}
	sl.reason, sl.why, sl.faults = x.reason, why, nil
	if x.faults != nil {
		sl.faults = x.faults.fired
	}
	sl.reqHeaders = append(sl.reqHeaders[:0], shownHeader{name: "Host", value: r.Host})
	sl.reqHeaders = appendHeaders(sl.reqHeaders, r.Header)
	sl.respHeaders = appendHeaders(sl.respHeaders[:0], x.w.Header())
	body, size := x.body, len(x.body)
	if body == nil && x.unread != nil {
		body, size = x.unread, x.unreadSize
	}
	sl.hasReqBody, sl.reqSize = body != nil, size
	sl.reqBody = append(sl.reqBody[:0], body[:min(len(body), JournalBodyCap+bodyMargin)]...)
	sl.hasRespBody, sl.respSize = x.respBody != nil, x.respSize
	sl.respBody = sl.respBody[:0]
	if x.respBody != nil {
		// The captured window becomes the slot's; the slot's old buffer goes to the pool.
		sl.respBody, *x.respBody = *x.respBody, sl.respBody
	}
}

// appendHeaders appends every field of h as sent.
func appendHeaders(dst []shownHeader, h http.Header) []shownHeader {
	for name, values := range h {
		for _, v := range values {
			dst = append(dst, shownHeader{name: name, value: v})
		}
	}
	return dst
}

// settle redacts, in place, every raw entry recorded before epoch below;
// known recognises secrets. The caller holds the key store's lock.
func (j *journal) settle(below uint64, known func(string) bool) {
	var rd *redactor
	var scratch []byte
	for i := range j.slots {
		sl := &j.slots[i]
		sl.mu.Lock()
		if sl.raw && sl.epoch < below {
			if rd == nil {
				rd, scratch = j.rd.with(known), make([]byte, 0, JournalBodyCap+bodyMargin)
			}
			scratch = sl.redact(rd, scratch)
		}
		sl.mu.Unlock()
	}
}

// redact turns a raw entry into what may be shown: its URI, headers and
// bodies passed through rd. scratch is a buffer to reuse, returned grown.
// The caller holds the slot's lock and the key store's.
func (sl *journalSlot) redact(rd *redactor, scratch []byte) []byte {
	sl.uri = rd.appendPathQuery(sl.uri[:0], sl.path, sl.query, sl.forceQuery)
	sl.path, sl.query = "", ""
	for _, hs := range [2][]shownHeader{sl.reqHeaders, sl.respHeaders} {
		for i := range hs {
			hs[i].value, hs[i].redacted = rd.headerShown(hs[i].name, hs[i].value)
		}
	}
	if sl.hasReqBody {
		scratch = rd.appendBody(scratch[:0], sl.reqBody, contentType(sl.reqHeaders), JournalBodyCap)
		sl.reqBody = append(sl.reqBody[:0], scratch...)
	}
	if sl.hasRespBody {
		scratch = rd.appendBody(scratch[:0], sl.respBody, contentType(sl.respHeaders), JournalBodyCap)
		sl.respBody = append(sl.respBody[:0], scratch...)
	}
	sl.raw = false
	return scratch
}

// contentType is the Content-Type among raw header fields.
func contentType(fields []shownHeader) string {
	for _, f := range fields {
		if strings.EqualFold(f.name, "Content-Type") {
			return f.value
		}
	}
	return ""
}

// entries copies out the entries after filter.since that pass filter,
// newest first, at most limit of them (0: all). cursor is the sequence
// number up to which every entry is final: a client that polls with
// since=cursor misses none, though it may see one again.
func (j *journal) entries(f journalFilter, limit int) (out []Request, cursor uint64) {
	last := j.seq.Load()
	first := max(j.floor.Load(), f.since) + 1
	if size := uint64(len(j.slots)); last > size {
		first = max(first, last-size+1)
	}
	cursor = max(last, f.since)
	out = []Request{}
	// Raw entries are redacted as they are read, under the key store's
	// shared lock: no secret can be forgotten meanwhile.
	j.keys.mu.RLock()
	defer j.keys.mu.RUnlock()
	var rd *redactor
	var scratch []byte
	for n := last; n >= first; n-- {
		sl := &j.slots[n%uint64(len(j.slots))]
		sl.mu.Lock()
		switch {
		case sl.seq < n:
			cursor = n - 1 // still being recorded
		case sl.seq == n && f.match(sl) && (limit == 0 || len(out) < limit):
			if sl.raw {
				if rd == nil {
					rd, scratch = j.rd.with(j.keys.holdsLocked), make([]byte, 0, JournalBodyCap+bodyMargin)
				}
				scratch = sl.redact(rd, scratch)
			}
			out = append(out, sl.export())
		}
		sl.mu.Unlock()
	}
	return out, cursor
}

// export copies a slot out as a Request; the caller holds its lock.
func (sl *journalSlot) export() Request {
	r := Request{Seq: sl.seq, Time: sl.time.UTC(), Method: sl.method, URI: string(sl.uri), Status: sl.status,
		DurationMS: float64(sl.dur.Microseconds()) / 1000, Profile: sl.profile, Operation: sl.operation, Key: sl.key,
		ReasonCode: sl.reason, Reason: sl.why, Faults: sl.faults,
		RequestHeaders: headerMap(sl.reqHeaders)}
	if len(sl.respHeaders) > 0 {
		r.ResponseHeaders = headerMap(sl.respHeaders)
	}
	if sl.hasReqBody {
		r.RequestBody = bodyOf(sl.reqBody, sl.reqSize)
	}
	if sl.hasRespBody {
		r.ResponseBody = bodyOf(sl.respBody, sl.respSize)
	}
	return r
}

func headerMap(fields []shownHeader) http.Header {
	h := make(http.Header, len(fields))
	for _, f := range fields {
		v := f.value
		switch {
		case f.redacted && v != "":
			v += " " + Redacted
		case f.redacted:
			v = Redacted
		}
		h[f.name] = append(h[f.name], v)
	}
	return h
}

func bodyOf(text []byte, size int) *Body {
	// Cut is judged against the cap, not the text kept: redaction shortens
	// a body it does not cut ("hunter2hunter2" is shown as REDACTED).
	return &Body{Text: strings.ToValidUTF8(string(text), string(utf8.RuneError)), Size: size, Truncated: size > JournalBodyCap}
}

// reset hides every entry recorded so far.
func (j *journal) reset() { j.floor.Store(j.seq.Load()) }

// record journals one exchange and logs it. The log line is formatted
// only when the logger is on.
func (s *Server) record(x *exchange, start time.Time) {
	dur := s.now().Sub(start)
	why := x.why
	if why != "" {
		why = s.redact.text(why)
	}
	s.journal.add(x, start, dur, why)
	if !s.log.Enabled(context.Background(), slog.LevelInfo) {
		return
	}
	key := x.keyID
	if x.auth != nil {
		key = x.auth.Key.ID
	}
	attrs := []any{"method", x.r.Method, "uri", s.redact.uri(x.r.URL), "status", x.status}
	if x.profile != nil {
		attrs = append(attrs, "profile", x.profile.Name)
	}
	if x.op != nil {
		attrs = append(attrs, "operation", x.op.ID)
	}
	if key != "" {
		attrs = append(attrs, "key", key)
	}
	attrs = append(attrs, "ms", float64(dur.Microseconds())/1000)
	if x.reason != "" {
		attrs = append(attrs, "reasonCode", string(x.reason), "reason", why)
	}
	if x.faults != nil && len(x.faults.fired) > 0 {
		attrs = append(attrs, "faults", strings.Join(x.faults.fired, "; "))
	}
	s.log.Info("request", attrs...)
}

// journalFilter selects journal entries; its zero value selects all.
type journalFilter struct {
	statuses  []statusRange // any of them; none means every status
	profile   string
	operation string
	key       string // a key id
	reason    Reason
	since     uint64 // only entries with a greater sequence number
}

// statusRange is a status or a class of them: 401 is [401, 401], 4xx [400, 499].
type statusRange struct{ lo, hi int }

func (f *journalFilter) match(sl *journalSlot) bool {
	if len(f.statuses) > 0 {
		in := false
		for _, r := range f.statuses {
			if sl.status >= r.lo && sl.status <= r.hi {
				in = true
				break
			}
		}
		if !in {
			return false
		}
	}
	return (f.profile == "" || sl.profile == f.profile) && (f.operation == "" || sl.operation == f.operation) &&
		(f.key == "" || sl.key == f.key) && (f.reason == "" || sl.reason == f.reason)
}
