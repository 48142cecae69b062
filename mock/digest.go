package mock

import (
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/icholy/digest"
	"github.com/opsconform/opsconform/specs"
)

// nonceStore issues digest nonces and tracks their use, so a nonce expires
// after the policy's lifetime and a (nonce, nc) pair is accepted only once.
type nonceStore struct {
	mu       sync.Mutex
	now      func() time.Time
	lifetime time.Duration
	nonces   map[string]*nonceState
}

type nonceState struct {
	issued time.Time
	lastNC int
}

// maxNonces bounds memory under a flood of unsigned requests: past it,
// expired nonces are swept and, if that is not enough, the oldest go.
const maxNonces = 50_000

type nonceVerdict int

const (
	nonceOK nonceVerdict = iota
	nonceUnknown
	nonceStale
	nonceReplayed
)

func newNonceStore(now func() time.Time, lifetime time.Duration) *nonceStore {
	return &nonceStore{now: now, lifetime: lifetime, nonces: map[string]*nonceState{}}
}

func (n *nonceStore) issue() string {
	nonce := hex.EncodeToString(randomBytes(16))
	n.mu.Lock()
	defer n.mu.Unlock()
	if len(n.nonces) >= maxNonces {
		n.sweep()
	}
	n.nonces[nonce] = &nonceState{issued: n.now()}
	return nonce
}

// sweep drops expired nonces and, if the store is still full, enough others
// to leave a quarter free. A client whose nonce was dropped is challenged anew.
func (n *nonceStore) sweep() {
	now := n.now()
	for k, st := range n.nonces {
		if now.Sub(st.issued) > n.lifetime {
			delete(n.nonces, k)
		}
	}
	for k := range n.nonces {
		if len(n.nonces) < maxNonces*3/4 {
			break
		}
		delete(n.nonces, k)
	}
}

// use records one use of nonce with count nc.
func (n *nonceStore) use(nonce string, nc int) nonceVerdict {
	n.mu.Lock()
	defer n.mu.Unlock()
	st, ok := n.nonces[nonce]
	switch {
	case !ok:
		return nonceUnknown
	case n.now().Sub(st.issued) > n.lifetime:
		return nonceStale
	case nc <= st.lastNC:
		return nonceReplayed
	}
	st.lastNC = nc
	return nonceOK
}

// challenges renders WWW-Authenticate values, one per algorithm in the
// policy's order. The form is exactly what MongoDB's servers send, because
// mongodb-forks/digest splits it on ", " and rejects anything else:
//
//	Digest realm="MMS Public API", domain="", nonce="…", algorithm=MD5, qop="auth", stale=false
func challenges(d *specs.DigestPolicy, nonce string, stale bool) []string {
	out := make([]string, 0, len(d.Algorithms))
	for _, alg := range d.Algorithms {
		out = append(out, fmt.Sprintf(`Digest realm="%s", domain="%s", nonce="%s", algorithm=%s, qop="%s", stale=%t`,
			d.Realm, d.Domain, nonce, alg, d.QOP, stale))
	}
	return out
}

// authenticateDigest checks an RFC 7616 Authorization header against the profile's digest policy.
func (s *Server) authenticateDigest(p *specs.Profile, r *http.Request) (*Authenticated, *authFailure) {
	return s.authenticateDigestWith(p, p.Auth.Digest, r)
}

// authenticateDigestWith checks an RFC 7616 Authorization header against policy d.
func (s *Server) authenticateDigestWith(p *specs.Profile, d *specs.DigestPolicy, r *http.Request) (*Authenticated, *authFailure) {
	ns := s.nonces[p.Name]
	challenge := func(msg string, stale bool) *authFailure {
		return &authFailure{kind: specs.Unauthenticated, message: msg, challenges: challenges(d, ns.issue(), stale)}
	}
	h := r.Header.Get("Authorization")
	if h == "" {
		return nil, challenge("", false)
	}
	if deviates(r, devWrongSchemeAccepted) {
		if user, pass, ok := r.BasicAuth(); ok {
			if auth, private, found := s.keys.DigestKey(p.Name, user); found && subtle.ConstantTimeCompare([]byte(pass), []byte(private)) == 1 {
				return auth, nil
			}
		}
	}
	if !digest.IsDigest(h) {
		return nil, challenge("The Authorization header must use the Digest scheme.", false)
	}
	cred, err := digest.ParseCredentials(h)
	if err != nil {
		return nil, challenge("The Digest credentials could not be parsed.", false)
	}
	switch {
	case cred.Username == "" || cred.Nonce == "" || cred.Response == "" || cred.URI == "":
		return nil, challenge("The Digest credentials lack username, nonce, uri or response.", false)
	case cred.Realm != d.Realm:
		return nil, challenge(fmt.Sprintf("The Digest realm must be %q.", d.Realm), false)
	case cred.QOP != d.QOP:
		return nil, challenge(fmt.Sprintf("The Digest qop must be %q.", d.QOP), false)
	case !algorithmAllowed(d, cred.Algorithm) && !(deviates(r, devDigestSHA256Only) && cred.Algorithm == "SHA-256"):
		return nil, challenge(fmt.Sprintf("The Digest algorithm must be one of %s.", strings.Join(d.Algorithms, ", ")), false)
	case cred.URI != r.RequestURI && cred.URI != r.URL.RequestURI() && !deviates(r, devDigestURIUnchecked):
		return nil, challenge("The Digest uri does not match the request.", false)
	case cred.Nc < 1 || cred.Cnonce == "":
		return nil, challenge("The Digest credentials lack nc or cnonce.", false)
	}
	auth, private, ok := s.keys.DigestKey(p.Name, cred.Username)
	if !ok {
		return nil, challenge("", false)
	}
	alg := cred.Algorithm
	if alg == "" {
		alg = "MD5"
	}
	want, err := digest.Digest(&digest.Challenge{Realm: d.Realm, Nonce: cred.Nonce, Algorithm: alg, QOP: []string{d.QOP}, Opaque: cred.Opaque},
		digest.Options{Method: r.Method, URI: cred.URI, Username: cred.Username, Password: private, Cnonce: cred.Cnonce, Count: cred.Nc})
	if err != nil || subtle.ConstantTimeCompare([]byte(strings.ToLower(cred.Response)), []byte(want.Response)) != 1 && !deviates(r, devDigestPasswordUnchecked) {
		return nil, challenge("", false)
	}
	// The response is right; only now does the nonce count, so a wrong guess cannot burn it.
	stale := !deviates(r, devDigestStaleFalse)
	switch ns.use(cred.Nonce, cred.Nc) {
	case nonceUnknown:
		// RFC 7616: a right response on a nonce the server does not know is stale.
		return nil, challenge("The Digest nonce was not issued by this server, or has been forgotten.", stale)
	case nonceStale:
		return nil, challenge("The Digest nonce has expired.", stale)
	case nonceReplayed:
		if !deviates(r, devDigestReplayAccepted) {
			return nil, challenge("The Digest nonce count was already used: replayed request.", false)
		}
	}
	return auth, nil
}

func algorithmAllowed(d *specs.DigestPolicy, alg string) bool {
	if alg == "" {
		alg = "MD5"
	}
	for _, a := range d.Algorithms {
		if strings.EqualFold(a, alg) {
			return true
		}
	}
	return false
}
