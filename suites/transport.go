package suites

import (
	"bytes"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"
	"time"

	mongodigest "github.com/mongodb-forks/digest"
	"github.com/opsconform/opsconform/specs"
)

// Bounds on what the harness holds for any one response: a target that
// streams forever, or sends megabytes of headers, must fail a check, not
// exhaust the harness.
const (
	maxBody        = 8 << 20  // the largest response body any check reads
	maxHeaderBytes = 1 << 20  // the largest response header block
	maxShownBody   = 2 << 10  // how much of a body an exchange in a report shows
	maxRequestBody = 64 << 10 // how much of a request body the recorder keeps
	maxDiscard     = 64 << 10 // how much of an unread body is drained to reuse its connection
	maxErrorBody   = 1 << 20  // the largest error body read only to match an envelope
)

// errBodyTooLarge is what a read past maxBody gets.
var errBodyTooLarge = errors.New("the response body exceeds 8 MiB")

// newTransport is the connection layer of a run. Every phase of a request
// has its own bound here, and the clients built on it carry the per-request
// deadline (http.Client.Timeout), which covers connecting, the headers and
// the whole body. Proxies come from proxy (nil: none); TLS from tlsConfig.
func newTransport(timeout time.Duration, tlsConfig *tls.Config, proxy func(*http.Request) (*url.URL, error)) *http.Transport {
	dialer := &net.Dialer{Timeout: timeout, KeepAlive: 30 * time.Second}
	return &http.Transport{
		Proxy:                  proxy,
		DialContext:            dialer.DialContext,
		TLSClientConfig:        tlsConfig,
		TLSHandshakeTimeout:    timeout,
		ResponseHeaderTimeout:  timeout,
		ExpectContinueTimeout:  time.Second,
		MaxResponseHeaderBytes: maxHeaderBytes,
		MaxIdleConns:           64,
		MaxIdleConnsPerHost:    32,
		IdleConnTimeout:        30 * time.Second,
		ForceAttemptHTTP2:      true,
	}
}

// boundedTransport caps response bodies at maxBody. A response that
// declares a longer body fails its reader at once, without reading it.
type boundedTransport struct{ next http.RoundTripper }

func (b boundedTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := b.next.RoundTrip(r)
	if err != nil {
		return nil, err
	}
	if resp.ContentLength > maxBody {
		resp.Body.Close()
		resp.Body = io.NopCloser(errReader{fmt.Errorf("the response declares a %d-byte body: %w", resp.ContentLength, errBodyTooLarge)})
		return resp, nil
	}
	resp.Body = &boundedBody{rc: resp.Body, left: maxBody}
	return resp, nil
}

type boundedBody struct {
	rc   io.ReadCloser
	left int64
}

func (b *boundedBody) Read(p []byte) (int, error) {
	if b.left <= 0 {
		return 0, errBodyTooLarge
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.rc.Read(p)
	b.left -= int64(n)
	return n, err
}

func (b *boundedBody) Close() error { return b.rc.Close() }

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

// discard drains what is left of a body nobody inspects, up to maxDiscard so
// the connection can carry the next request, and closes it: a concurrent
// burst holds no bodies. It returns the error that cut the body short, if
// any (a longer body is not one: it is closed unread).
func discard(body io.ReadCloser) error {
	_, err := io.CopyN(io.Discard, body, maxDiscard)
	_ = body.Close()
	if err == io.EOF {
		err = nil
	}
	return err
}

// eagerTransport reads every body to its end, within the request's
// deadline, before handing the response on: a check that only looks at the
// status must still not pass on an answer whose body never arrives whole.
type eagerTransport struct{ next http.RoundTripper }

func (e eagerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := e.next.RoundTrip(r)
	if err != nil {
		return nil, err
	}
	data, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, fmt.Errorf("reading the %d response's body: %w", resp.StatusCode, err)
	}
	resp.Body = io.NopCloser(bytes.NewReader(data))
	return resp, nil
}

// recorder keeps the last exchange of a check for the report: the request
// as sent and the response as far as it was read. Bodies stream through it;
// it keeps only the first maxShownBody bytes. What it keeps is unredacted;
// the runner redacts it, with every secret the check learnt, when reporting.
type recorder struct {
	next http.RoundTripper
	// secrets are the secrets of keys the check created; they are redacted
	// and shown in curl commands as placeholders. Checks append to it.
	secrets []string

	mu   sync.Mutex // guards the fields below; bursts record concurrently
	seq  int        // exchanges started; only the latest one may set last
	last string     // the last exchange, unredacted
	req  *recordedRequest
}

// recordedRequest is a request as sent, for the curl command that repeats it.
type recordedRequest struct {
	method string
	url    *url.URL
	header http.Header
	body   []byte
}

func (rec *recorder) RoundTrip(r *http.Request) (*http.Response, error) {
	req := &recordedRequest{method: r.Method, url: r.URL, header: r.Header.Clone()}
	if r.Body != nil && r.Body != http.NoBody {
		data, err := io.ReadAll(io.LimitReader(r.Body, maxRequestBody+1))
		r.Body.Close()
		if err != nil {
			return nil, fmt.Errorf("reading the request body: %w", err)
		}
		if len(data) > maxRequestBody {
			return nil, fmt.Errorf("the suite's request body exceeds %d bytes", maxRequestBody)
		}
		req.body = data
		r = r.Clone(r.Context())
		r.Body = io.NopCloser(bytes.NewReader(data))
		r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil }
	}
	var head strings.Builder
	fmt.Fprintf(&head, "%s %s\n", r.Method, r.URL.RequestURI())
	writeHeaders(&head, r.Header)
	if len(req.body) > 0 {
		fmt.Fprintf(&head, "\n%s\n", req.body)
	}
	rec.mu.Lock()
	rec.seq++
	seq := rec.seq
	rec.req = req
	rec.mu.Unlock()

	resp, err := rec.next.RoundTrip(r)
	if err != nil {
		fmt.Fprintf(&head, "\n(no response: %v)\n", err)
		rec.set(seq, head.String())
		return nil, err
	}
	fmt.Fprintf(&head, "\n%s %s\n", resp.Proto, resp.Status)
	writeHeaders(&head, resp.Header)
	exchange := head.String()
	rec.set(seq, exchange+"\n(body not read)\n")
	resp.Body = &capture{rc: resp.Body, done: func(shown []byte, n int64, err error) {
		var b strings.Builder
		b.WriteString(exchange)
		b.WriteString("\n")
		b.Write(shown)
		if n > int64(len(shown)) {
			b.WriteString("…")
		}
		switch {
		case err != nil && err != io.EOF:
			fmt.Fprintf(&b, "\n(reading the body failed after %d bytes: %v)", n, err)
		case err == nil:
			fmt.Fprintf(&b, "\n(%d bytes read; the rest was not)", n)
		}
		b.WriteString("\n")
		rec.set(seq, b.String())
	}}
	return resp, nil
}

func (rec *recorder) set(seq int, s string) {
	rec.mu.Lock()
	if seq == rec.seq {
		rec.last = s
	}
	rec.mu.Unlock()
}

// exchange returns the last exchange and request.
func (rec *recorder) exchange() (string, *recordedRequest) {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return rec.last, rec.req
}

// capture passes a body through, keeping its first maxShownBody bytes, and
// reports once: at the end of the body, on a read error or on Close.
type capture struct {
	rc    io.ReadCloser
	shown []byte
	n     int64
	done  func(shown []byte, n int64, err error)
	once  sync.Once
}

func (c *capture) Read(p []byte) (int, error) {
	n, err := c.rc.Read(p)
	if room := maxShownBody - len(c.shown); room > 0 {
		c.shown = append(c.shown, p[:min(n, room)]...)
	}
	c.n += int64(n)
	if err != nil {
		c.once.Do(func() { c.done(c.shown, c.n, err) })
	}
	return n, err
}

func (c *capture) Close() error {
	c.once.Do(func() { c.done(c.shown, c.n, nil) })
	return c.rc.Close()
}

// writeHeaders writes headers sorted by name. Credentials stay: the
// redactor, which knows the profile's credential names, removes them.
func writeHeaders(b *strings.Builder, h http.Header) {
	names := make([]string, 0, len(h))
	for k := range h {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		for _, v := range h[k] {
			fmt.Fprintf(b, "%s: %s\n", k, v)
		}
	}
}

// authTransport presents a credential the way the profile's clients do.
func (e *env) authTransport(k Credential, next http.RoundTripper) http.RoundTripper {
	p := e.profile
	switch p.Auth.Mode {
	case specs.AuthDigest:
		return &mongodigest.Transport{Username: k.PublicKey, Password: k.PrivateKey, Transport: next}
	case specs.AuthBearer:
		return headerTransport{name: "Authorization", value: "Bearer " + k.Secret, next: next}
	case specs.AuthAPIKey:
		sc := p.Auth.Schemes[0]
		v := strings.ReplaceAll(sc.Format, "{key}", k.Secret)
		if sc.In == "query" {
			return queryTransport{name: sc.Param, value: v, next: next}
		}
		return headerTransport{name: sc.Param, value: v, next: next}
	}
	return next
}

type headerTransport struct {
	name, value string
	next        http.RoundTripper
}

func (h headerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set(h.name, h.value)
	return h.next.RoundTrip(r)
}

type queryTransport struct {
	name, value string
	next        http.RoundTripper
}

func (q queryTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	v := r.URL.Query()
	v.Set(q.name, q.value)
	r.URL.RawQuery = v.Encode()
	return q.next.RoundTrip(r)
}
