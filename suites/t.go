package suites

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/gavv/httpexpect/v2"
	"github.com/opsconform/opsconform/reports"
)

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
	client.Transport = eagerTransport{next: client.Transport}
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

// Client is an HTTP client presenting credential role, or none for "". It
// follows no redirect: a 3xx is an answer to judge, and a loop cannot spin.
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
		rt = t.env.authTransport(k, rt)
	}
	timeout := t.env.timeout
	if !t.impatient {
		rt, timeout = patient{next: rt, env: t.env}, 0 // each attempt has its own deadline
	}
	return &http.Client{Transport: rt, Timeout: timeout, CheckRedirect: noRedirects}
}

func noRedirects(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

// authTransport presents a credential the way the profile's clients do.
func (t *T) authTransport(k Credential, next http.RoundTripper) http.RoundTripper {
	return t.env.authTransport(k, next)
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
	if client.CheckRedirect == nil {
		cp := *client
		cp.CheckRedirect = noRedirects
		client = &cp
	}
	resp, err := client.Do(req)
	if err != nil {
		t.status, t.reason = reports.Error, fmt.Sprintf("%s %s: %v", method, path, transportReason(err, t.env.timeout))
		panic(stopCheck{})
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.status, t.reason = reports.Error, fmt.Sprintf("%s %s: reading the %d response's body: %v", method, path, resp.StatusCode, transportReason(err, t.env.timeout))
		panic(stopCheck{})
	}
	return resp, data
}

func (t *T) url(path string) string {
	return strings.TrimSuffix(t.env.target.String(), "/") + path
}
