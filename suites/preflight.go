package suites

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"strings"
	"syscall"
	"time"

	"github.com/opsconform/opsconform/specs"
)

// Diagnosis before judgment: a run whose target URL, TLS trust or `full`
// key is wrong would fail dozens of requirements that say nothing about the
// target. These checks stop such a run first, with one paragraph that says
// what is wrong and how to fix it.

// checkURL finds mistakes in --target that need no request.
func (e *env) checkURL() error {
	t, p := e.target, e.profile
	if t.RawQuery != "" || t.Fragment != "" {
		return errorf(ErrSetup, "--target %s has a query or fragment; give the server's base URL, such as %s://%s", t, t.Scheme, t.Host)
	}
	if ip := net.ParseIP(t.Hostname()); ip != nil && ip.IsUnspecified() {
		return errorf(ErrSetup, "--target %s names %s, the address a server listens on to accept connections on every interface, not one to connect to; use %s://%s",
			t, t.Hostname(), t.Scheme, net.JoinHostPort(loopbackFor(ip), t.Port()))
	}
	if base := strings.TrimSuffix(p.BasePath, "/"); base != "" && strings.HasSuffix(strings.TrimSuffix(t.Path, "/"), base) {
		fixed := *t
		fixed.Path = strings.TrimSuffix(strings.TrimSuffix(t.Path, "/"), base)
		example := "/…"
		if op := e.probe(); op != nil {
			example = op.Path
		}
		return errorf(ErrSetup, "the target URL already ends in the profile's base path %s: the suite adds it to every request, so it would ask for %s%s; use --target %s",
			base, t, example, fixed.String())
	}
	return nil
}

func loopbackFor(ip net.IP) string {
	if ip.To4() != nil {
		return "127.0.0.1"
	}
	return "::1"
}

// preflight asks the probe operation once, with the `full` key when the
// credentials have one, and stops the run when the answer shows the target
// is not the profile's API or the key does not work.
func (e *env) preflight() error {
	op := e.probe()
	if op == nil {
		return nil
	}
	p := e.profile
	var rt http.RoundTripper = markNet{e.base}
	k, hasFull := e.creds.Keys["full"]
	// A plain OpenAPI file's keys are demo keys under whatever schemes it
	// declares: its probe goes without credentials, and only what needs
	// none (transport, TLS, redirects, a web page) is judged.
	hasFull = hasFull && p.Extended
	if hasFull {
		rt = e.authTransport(k, rt)
	}
	client := &http.Client{Transport: rt, Timeout: e.timeout, CheckRedirect: noRedirects}
	path := e.path(op, nil)
	where := op.Method + " " + e.target.String() + path
	req, err := http.NewRequestWithContext(e.ctx, op.Method, e.target.String()+path, nil)
	if err != nil {
		return errorf(ErrConfig, "%v", err)
	}
	resp, err := client.Do(req)
	if err != nil {
		var ne netError
		var timeout net.Error
		if !errors.As(err, &ne) && !(errors.As(err, &timeout) && timeout.Timeout()) {
			// The server answered, and the credential's own layer (a Digest
			// challenge it cannot parse) failed on it: that is for the checks
			// to judge, not a set-up mistake.
			return nil
		}
		return e.transportError(err)
	}
	head, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	_ = discard(resp.Body)
	ct := resp.Header.Get("Content-Type")
	what := fmt.Sprintf("%s answered %d", e.redact.text(where), resp.StatusCode)
	switch {
	case resp.StatusCode == http.StatusBadRequest && bytes.Contains(head, []byte("HTTP request to an HTTPS server")):
		return errorf(ErrSetup, "%s: %s. The target speaks TLS: use --target https://%s", what, strings.TrimSuffix(snippet(string(head)), "."), e.target.Host)
	case resp.StatusCode >= 300 && resp.StatusCode < 400:
		return errorf(ErrSetup, "%s, a redirect to %q; the suite follows no redirect, so point --target at where the API answers (http or https, host, base path)",
			what, e.redact.text(resp.Header.Get("Location")))
	case isHTML(ct, head):
		return errorf(ErrSetup, "the target does not answer like the %s API: %s with an HTML page (%s), not JSON. Is --target the base URL of the %s API (the suite adds the operations' paths, such as %s, to it), not a web console or another server?",
			p.Name, what, orNone(ct), p.Name, op.Path)
	case resp.StatusCode == http.StatusNotFound && p.Extended:
		return errorf(ErrSetup, "the target does not answer like the %s API: %s (not found) for the operation %s. Is --target the base URL of the %s API? The suite adds the operations' paths, such as %s, to it.",
			p.Name, what, op.ID, p.Name, op.Path)
	}
	if !hasFull {
		return nil
	}
	switch resp.StatusCode {
	case http.StatusUnauthorized, http.StatusForbidden, http.StatusTooManyRequests:
	default:
		return nil
	}
	var mockSays string
	if e.isMock {
		// The mock can say whether the key is good. If it is, the refusal is
		// the server's own to answer for, and the checks judge it.
		if mockSays = e.mockKeyProblem(k, resp); mockSays == "" {
			return nil
		}
	}
	switch resp.StatusCode {
	case http.StatusUnauthorized:
		msg := fmt.Sprintf("%s: the `full` key was refused with 401 (%s). Most checks need a working `full` key: make sure the credentials' %s key is current for this server, not revoked, expired or disabled",
			what, snippet(e.redact.text(string(head))), credentialPath(e, "full"))
		if p.Auth.BindTenant && !e.isMock {
			msg += fmt.Sprintf(". %s keys are bound to the tenant (host) they were made for, and this run reaches the server as %s: use the host name the key was made for in --target", p.Title, e.target.Hostname())
		}
		if e.isMock {
			msg += ". Here " + mockSays + "; against the mock, leave --credentials out to use its fixture keys"
		}
		return errorf(ErrSetup, "%s.", msg)
	case http.StatusForbidden:
		msg := fmt.Sprintf("%s: the `full` key is not allowed to call %s (403: %s). The `full` role needs a key that may call every operation the profile documents: give %s a key with full access",
			what, op.ID, snippet(e.redact.text(string(head))), credentialPath(e, "full"))
		if e.isMock {
			msg += " (here " + mockSays + ")"
		}
		return errorf(ErrSetup, "%s.", msg)
	case http.StatusTooManyRequests:
		return errorf(ErrSetup, "%s: the `full` key is rate-limited right now (Retry-After %s), so every check would see 429s. Wait for its window to pass or use another key; against the mock, check that no other run spends the same key.",
			what, orNone(resp.Header.Get("Retry-After")))
	}
	return nil
}

// mockKeyProblem asks the mock about the key a credential holds and says,
// in a phrase, why the mock refuses it; "" when the mock holds it as a good
// `full` key: known, enabled, not revoked or expired, owner active with API
// access, made for the host the run uses, labelled full.
func (e *env) mockKeyProblem(k Credential, resp *http.Response) string {
	keys, err := e.mockKeys()
	if err != nil {
		return "the mock's key list could not be read: " + err.Error()
	}
	var mk *mockKey
	for i := range keys {
		if keyOf(k, e.profile.Auth.Mode, keys[i]) {
			mk = &keys[i]
			break
		}
	}
	now, err := http.ParseTime(resp.Header.Get("Date"))
	if err != nil {
		now = time.Now()
	}
	switch {
	case mk == nil:
		return "the mock has no such key"
	case mk.Revoked:
		return fmt.Sprintf("the mock has this key (%s) revoked", mk.ID)
	case !mk.Enabled:
		return fmt.Sprintf("the mock has this key (%s) disabled", mk.ID)
	case mk.Expires != nil && !now.Before(*mk.Expires):
		return fmt.Sprintf("the mock has this key (%s) expired on %s", mk.ID, mk.Expires.UTC().Format(time.RFC3339))
	case e.profile.Auth.BindTenant && mk.Tenant != "" && !specs.SameTenant(e.target.Hostname(), mk.Tenant):
		return fmt.Sprintf("the mock has this key (%s) bound to tenant %s, and this run reaches it as %s: use --target %s://%s",
			mk.ID, mk.Tenant, e.target.Hostname(), e.target.Scheme, net.JoinHostPort(mk.Tenant, e.target.Port()))
	case !mk.has("full"):
		return fmt.Sprintf("the mock's key %s is not its `full` key (labels: %s)", mk.ID, orNone(strings.Join(mk.Labels, ", ")))
	}
	if mk.Owner != "" {
		var users []struct {
			ID        string
			Active    bool
			APIAccess bool
		}
		if err := e.control(e.ctx, http.MethodGet, "profiles/"+e.profile.Name+"/users", nil, &users); err == nil {
			for _, u := range users {
				switch {
				case u.ID != mk.Owner:
				case !u.Active:
					return fmt.Sprintf("the mock has this key's owner %s deactivated", u.ID)
				case !u.APIAccess:
					return fmt.Sprintf("the mock has REST API access off for this key's owner %s", u.ID)
				}
			}
		}
	}
	return ""
}

// netError marks an error of the connection layer, below any credential's
// own transport, so the preflight can tell a network or TLS failure from a
// credential layer that failed on the server's answer.
type netError struct{ error }

func (e netError) Unwrap() error { return e.error }

// markNet marks the errors of the transport it wraps as netErrors.
type markNet struct{ next http.RoundTripper }

func (m markNet) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := m.next.RoundTrip(r)
	if err != nil {
		return nil, netError{err}
	}
	return resp, nil
}

func credentialPath(e *env, role string) string {
	return fmt.Sprintf("profiles.%s.keys.%s", e.profile.Name, role)
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

// snippet is the start of a body on one line, for a message.
func snippet(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 160 {
		s = s[:160] + "…"
	}
	if s == "" {
		return "an empty body"
	}
	return s
}

// isHTML reports whether a response is a web page: by its type, or by what
// it starts with when the type is missing or generic.
func isHTML(contentType string, head []byte) bool {
	if mt, _, err := mime.ParseMediaType(contentType); err == nil && (mt == "text/html" || mt == "application/xhtml+xml") {
		return true
	}
	start := bytes.ToLower(bytes.TrimSpace(head))
	return bytes.HasPrefix(start, []byte("<!doctype html")) || bytes.HasPrefix(start, []byte("<html"))
}

// transportError turns a failed request into the run's error: the target
// unreachable, or a TLS set-up problem, with what to do about it.
func (e *env) transportError(err error) error {
	kind := ErrUnreachable
	var unknown x509.UnknownAuthorityError
	var host x509.HostnameError
	var invalid x509.CertificateInvalidError
	var record tls.RecordHeaderError
	if errors.As(err, &unknown) || errors.As(err, &host) || errors.As(err, &invalid) || errors.As(err, &record) ||
		strings.Contains(err.Error(), "server gave HTTP response to HTTPS client") {
		kind = ErrSetup
	}
	if kind == ErrUnreachable {
		return errorf(kind, "the target is unreachable: %s: %s", e.target, diagnose(err, e))
	}
	return errorf(kind, "%s: %s", e.target, diagnose(err, e))
}

// diagnose explains a transport error and says what to do.
func diagnose(err error, e *env) string {
	var unknown x509.UnknownAuthorityError
	var host x509.HostnameError
	var invalid x509.CertificateInvalidError
	var record tls.RecordHeaderError
	msg := e.redact.text(transportReason(err, e.timeout))
	switch {
	case errors.As(err, &unknown):
		return msg + ". The target's certificate is signed by an authority this machine does not trust: pass that authority's certificate with --ca-cert FILE, or --insecure for a test server with a self-signed certificate (such as opsconform mock --tls)"
	case errors.As(err, &host):
		return msg + fmt.Sprintf(". The target's certificate does not name %s: use a host name it names in --target, or --insecure for a test server", e.target.Hostname())
	case errors.As(err, &invalid):
		return msg + ". The target's certificate is not valid (expired, not yet valid, or not for a server): renew it, or use --insecure for a test server"
	case errors.As(err, &record) || strings.Contains(err.Error(), "server gave HTTP response to HTTPS client"):
		return msg + fmt.Sprintf(". The target speaks plain HTTP: use --target http://%s", e.target.Host)
	case strings.Contains(err.Error(), "malformed HTTP response") && strings.Contains(err.Error(), `\x15\x03`):
		return msg + fmt.Sprintf(". The target speaks TLS: use --target https://%s", e.target.Host)
	case errors.Is(err, syscall.ECONNREFUSED):
		return msg + ". Nothing listens there: start the server first, or give --wait 30s to wait for one that is starting"
	}
	var dns *net.DNSError
	if errors.As(err, &dns) {
		return msg + ". The host name does not resolve: check the spelling in --target"
	}
	return msg
}

// keyOf reports whether a credential's redacted form fits a mock key.
func keyOf(k Credential, mode specs.AuthMode, mk mockKey) bool {
	if mode == specs.AuthDigest {
		return k.PublicKey != "" && k.PublicKey == mk.PublicKey
	}
	if len(k.Secret) < 4 {
		return false
	}
	return strings.HasSuffix(mk.Redacted, k.Secret[len(k.Secret)-4:])
}
