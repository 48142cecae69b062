package suites

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/gavv/httpexpect/v2"
	mongodigest "github.com/mongodb-forks/digest"
	"github.com/opsconform/opsconform/reports"
	"github.com/opsconform/opsconform/specs"
)

// maxBody bounds every response the suite reads: a target that streams
// forever must fail a check, not exhaust the harness.
const maxBody = 8 << 20

// env is what every check of one run shares.
type env struct {
	ctx     context.Context
	profile *specs.Profile
	target  *url.URL
	creds   *Credentials
	timeout time.Duration
	maxWait time.Duration
	secrets []string
	base    http.RoundTripper
	isMock  bool // the target answers the mock's control API
	sleep   func(context.Context, time.Duration) error

	burstState    burstState
	rateTolerance float64                    // against a real server: how far the admitted count may stray, as a fraction of the limit
	usedBy        map[string]map[string]bool // requirement ID → credential roles its check asked for
	largest       *listOf                    // the largest paginated list, found once
	walk          *walk                      // the walk through it, shared by the paging checks

	// The generic checks' memo (suites/generic.go): the valid sweep's
	// exchanges and the ids found per collection. Checks run one at a time.
	sweepDone   bool
	sweepResult []exchange
	ids         map[string]string
}

// errBodyTooLarge is what a read past maxBody gets.
var errBodyTooLarge = errors.New("the response body exceeds 8 MiB")

// boundedTransport caps response bodies.
type boundedTransport struct{ next http.RoundTripper }

func (b boundedTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := b.next.RoundTrip(r)
	if err != nil {
		return nil, err
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

// recorder keeps the last exchange of a check, redacted, for the report.
type recorder struct {
	next    http.RoundTripper
	secrets []string
	mu      sync.Mutex
	last    string
}

func (rec *recorder) RoundTrip(r *http.Request) (*http.Response, error) {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s\n", r.Method, r.URL.RequestURI())
	writeHeaders(&b, r.Header)
	resp, err := rec.next.RoundTrip(r)
	if err != nil {
		fmt.Fprintf(&b, "\n(no response: %v)\n", err)
		rec.set(b.String())
		return nil, err
	}
	fmt.Fprintf(&b, "\n%s %s\n", resp.Proto, resp.Status)
	writeHeaders(&b, resp.Header)
	body, readErr := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	resp.Body.Close()
	shown := body
	if len(shown) > 2048 {
		shown = append(shown[:2048:2048], []byte("…")...)
	}
	fmt.Fprintf(&b, "\n%s\n", shown)
	rec.set(b.String())
	if readErr == nil && len(body) > maxBody {
		readErr = errBodyTooLarge
	}
	if readErr != nil {
		resp.Body = io.NopCloser(io.MultiReader(bytes.NewReader(body), errReader{readErr}))
	} else {
		resp.Body = io.NopCloser(bytes.NewReader(body))
	}
	return resp, nil
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

func (rec *recorder) set(s string) {
	s = reports.Redact(s, rec.secrets)
	rec.mu.Lock()
	rec.last = s
	rec.mu.Unlock()
}

// credentialHeaders are never shown, whatever their value.
var credentialHeaders = map[string]bool{"Authorization": true, "Apikey": true, "Cookie": true, "Proxy-Authorization": true}

func writeHeaders(b *strings.Builder, h http.Header) {
	names := make([]string, 0, len(h))
	for k := range h {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		for _, v := range h[k] {
			if credentialHeaders[http.CanonicalHeaderKey(k)] {
				v = redactCredential(v)
			}
			fmt.Fprintf(b, "%s: %s\n", k, v)
		}
	}
}

// redactCredential keeps a credential's scheme and shape, not its secret.
func redactCredential(v string) string {
	if scheme, _, ok := strings.Cut(v, " "); ok && !strings.Contains(scheme, "=") {
		return scheme + " REDACTED"
	}
	if pre, _, ok := strings.Cut(v, "="); ok {
		return pre + "=REDACTED"
	}
	return "REDACTED"
}

// T is one requirement's check in progress, much as testing.T is a test's.
// It is also httpexpect's assertion handler: a failed assertion fails the
// requirement with what was expected and what came back.
type T struct {
	env *env
	// lastBody is the body of the request validRequest built last.
	lastBody []byte
	rec      *recorder
	undo     cleanups
	// impatient clients take a 429 as final instead of waiting Retry-After.
	impatient bool
	used      map[string]bool // credential roles the check asked for
	status    reports.Status
	reason    string
	expected  string
	got       string
}

type stopCheck struct{}

// Success implements httpexpect.AssertionHandler.
func (t *T) Success(*httpexpect.AssertionContext) {}

// Failure implements httpexpect.AssertionHandler: the first failure is the one reported.
func (t *T) Failure(ctx *httpexpect.AssertionContext, f *httpexpect.AssertionFailure) {
	if f.Severity != httpexpect.SeverityError {
		return
	}
	var msgs []string
	for _, e := range f.Errors {
		if e != nil {
			msgs = append(msgs, e.Error())
		}
	}
	reason := strings.Join(msgs, "; ")
	if reason == "" {
		reason = strings.Join(ctx.Path, ".")
	}
	t.fail(reason, assertionValue(f.Expected), assertionValue(f.Actual))
}

func assertionValue(v *httpexpect.AssertionValue) string {
	if v == nil {
		return ""
	}
	s := fmt.Sprint(v.Value)
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	return s
}

func (t *T) fail(reason, expected, got string) {
	if t.status == reports.Fail || t.status == reports.Error {
		return
	}
	t.status, t.reason, t.expected, t.got = reports.Fail, reason, expected, got
}

// Errorf fails the requirement with what was expected and what came back.
func (t *T) Errorf(expected, got, format string, args ...any) {
	t.fail(fmt.Sprintf(format, args...), expected, got)
}

// Fatalf fails the requirement and stops its check.
func (t *T) Fatalf(expected, got, format string, args ...any) {
	t.fail(fmt.Sprintf(format, args...), expected, got)
	panic(stopCheck{})
}

// Skipf stops the check: it cannot run here, for the reason given.
func (t *T) Skipf(format string, args ...any) {
	if t.status == "" {
		t.status, t.reason = reports.Skip, fmt.Sprintf(format, args...)
	}
	panic(stopCheck{})
}

// Failed reports whether the requirement has failed so far.
func (t *T) Failed() bool { return t.status == reports.Fail || t.status == reports.Error }

// Expect is an httpexpect instance that presents credential role (the empty
// role presents none). A role the credentials lack skips the check.
func (t *T) Expect(role string) *httpexpect.Expect {
	client := t.Client(role)
	return httpexpect.WithConfig(httpexpect.Config{
		BaseURL:          strings.TrimSuffix(t.env.target.String(), "/"),
		Client:           client,
		Context:          t.env.ctx,
		AssertionHandler: t,
	})
}

// Request is an httpexpect request presenting role, for a path that may
// carry a query (httpexpect would escape a "?" written into the path).
func (t *T) Request(role, method, path string) *httpexpect.Request {
	u, err := url.Parse(path)
	if err != nil {
		t.Fatalf("", "", "bad path %q: %v", path, err)
	}
	req := t.Expect(role).Request(method, u.EscapedPath())
	for k, vs := range u.Query() {
		for _, v := range vs {
			req = req.WithQuery(k, v)
		}
	}
	return req
}

// Client is an HTTP client presenting credential role, or none for "".
func (t *T) Client(role string) *http.Client {
	var rt http.RoundTripper = t.rec
	if role != "" {
		t.markUsed(role)
		if t.env.creds.Keys == nil {
			t.Skipf("no credentials for %s", t.env.profile.Name)
		}
		k, ok := t.env.creds.Keys[role]
		if !ok {
			t.Skipf("no %q credential for %s (add it to --credentials)", role, t.env.profile.Name)
		}
		rt = t.authTransport(k, rt)
	}
	timeout := t.env.timeout
	if !t.impatient {
		rt, timeout = patient{next: rt, env: t.env}, 0 // each attempt has its own deadline
	}
	return &http.Client{Transport: rt, Timeout: timeout, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// authTransport presents a credential the way the profile's clients do.
func (t *T) authTransport(k Credential, next http.RoundTripper) http.RoundTripper {
	p := t.env.profile
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

// Raw sends one request with a plain client and returns the response and its
// body; a transport error fails the check.
func (t *T) Raw(client *http.Client, method, path string, header http.Header, body string) (*http.Response, []byte) {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(t.env.ctx, method, t.url(path), rd)
	if err != nil {
		t.Fatalf("", "", "cannot build the request %s %s: %v", method, path, err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	if body != "" && req.Header.Get("Content-Type") == "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := client.Do(req)
	if err != nil {
		t.status, t.reason = reports.Error, fmt.Sprintf("%s %s: %v", method, path, err)
		panic(stopCheck{})
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.status, t.reason = reports.Error, fmt.Sprintf("%s %s: reading the response: %v", method, path, err)
		panic(stopCheck{})
	}
	return resp, data
}

func (t *T) url(path string) string {
	return strings.TrimSuffix(t.env.target.String(), "/") + path
}
