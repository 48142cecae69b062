package suites

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"

	"github.com/icholy/digest"
	"github.com/opsconform/opsconform/specs"
)

// The Digest checks sign requests by hand, so they can send what a
// well-behaved client never would: the same nonce count twice, a nonce the
// server never issued, a URI that is not the request's.

// challenge asks for the probe without credentials and parses the first
// Digest challenge of the 401.
func (t *T) challenge(path string) *digest.Challenge {
	resp, _ := t.Raw(t.Client(""), http.MethodGet, path, nil, "")
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("401 with a Digest challenge", fmt.Sprint(resp.StatusCode), "an unsigned request was not challenged")
	}
	for _, v := range resp.Header.Values("WWW-Authenticate") {
		if c, err := digest.ParseChallenge(v); err == nil {
			return c
		}
	}
	t.Fatalf("WWW-Authenticate: Digest …", fmt.Sprint(resp.Header.Values("WWW-Authenticate")), "the 401 carries no Digest challenge")
	return nil
}

// signed is an Authorization header for GET uri answering chal with k.
func (t *T) signed(chal *digest.Challenge, k Credential, uri string, nc int, password string) http.Header {
	cred, err := digest.Digest(chal, digest.Options{Method: http.MethodGet, URI: uri, Username: k.PublicKey, Password: password, Count: nc})
	if err != nil {
		t.Fatalf("a challenge a client can answer", chal.String(), "cannot sign: %v", err)
	}
	return http.Header{"Authorization": {cred.String()}}
}

func (t *T) digestProbe() (string, Credential) {
	e := t.env
	op := e.probe()
	if op == nil {
		t.Skipf("no operation the credentials can call")
	}
	k, ok := e.creds.Keys["full"]
	if !ok {
		t.Skipf(`no "full" credential for %s`, e.profile.Name)
	}
	t.markUsed("full")
	return e.path(op, nil), k
}

// checkDigestReplay signs a request, has it admitted, then sends the very
// same Authorization again.
func checkDigestReplay(t *T) {
	path, k := t.digestProbe()
	chal := t.challenge(path)
	h := t.signed(chal, k, path, 1, k.PrivateKey)
	resp, body := t.Raw(t.Client(""), http.MethodGet, path, h, "")
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		t.Fatalf("2xx", fmt.Sprint(resp.StatusCode), "a correctly signed request was refused: %s", truncate(body))
	}
	resp, body = t.Raw(t.Client(""), http.MethodGet, path, h, "")
	expectError(t, resp, body, specs.Unauthenticated, http.StatusUnauthorized)
}

// checkDigestStale answers with the right password on a nonce the server
// never issued: RFC 7616 wants a new challenge with stale=true, so the
// client retries without asking its user for credentials again.
func checkDigestStale(t *T) {
	path, k := t.digestProbe()
	chal := t.challenge(path)
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	chal.Nonce = hex.EncodeToString(b)
	resp, body := t.Raw(t.Client(""), http.MethodGet, path, t.signed(chal, k, path, 1, k.PrivateKey), "")
	expectError(t, resp, body, specs.Unauthenticated, http.StatusUnauthorized)
	for _, v := range resp.Header.Values("WWW-Authenticate") {
		if c, err := digest.ParseChallenge(v); err == nil && c.Stale {
			return
		}
	}
	t.Errorf("a challenge with stale=true", fmt.Sprint(resp.Header.Values("WWW-Authenticate")), "a right response on an unknown nonce must be answered stale=true")
}

// checkDigestURI signs for another URI than the one requested.
func checkDigestURI(t *T) {
	path, k := t.digestProbe()
	chal := t.challenge(path)
	other := path + "x"
	if u := withQuery(path, "opsconform", "1"); u != path {
		other = u
	}
	resp, body := t.Raw(t.Client(""), http.MethodGet, path, t.signed(chal, k, other, 1, k.PrivateKey), "")
	expectError(t, resp, body, specs.Unauthenticated, http.StatusUnauthorized)
}

// checkDigestWrongPassword signs with a known public key and a wrong private key.
func checkDigestWrongPassword(t *T) {
	path, k := t.digestProbe()
	chal := t.challenge(path)
	resp, body := t.Raw(t.Client(""), http.MethodGet, path, t.signed(chal, k, path, 1, "00000000-0000-4000-8000-00000000dead"), "")
	expectError(t, resp, body, specs.Unauthenticated, http.StatusUnauthorized)
}
