package mock

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/icholy/digest"
	"github.com/opsconform/opsconform/specs"
)

// nonceStore issues digest nonces and checks them without remembering them.
//
// A nonce carries its own issue time and sequence number, sealed with an
// HMAC under a secret made at start: validity and age are read from the
// nonce itself, so issuing one stores nothing and a flood of unsigned
// requests cannot push anyone's nonce out. What is stored is only what
// replay protection needs: for each key, the last nonce count of the nonces
// that key actually used (with a right response), at most maxNoncesPerKey of
// them. When a key exceeds that, its oldest nonces are forgotten and every
// nonce issued up to the newest forgotten one becomes stale for that key:
// the client is asked to retry with a fresh nonce (stale=true), never let
// replay.
type nonceStore struct {
	now      func() time.Time
	lifetime time.Duration
	secret   []byte        // the HMAC key; never leaves the store
	macs     sync.Pool     // HMAC-SHA256 states keyed with secret: keying one hashes two blocks
	seq      atomic.Uint64 // the last sequence number issued

	mu   sync.Mutex            // guards used
	used map[string]*keyNonces // by key id
}

// keyNonces is one key's used nonces.
type keyNonces struct {
	counts map[uint64]nonceUse // by sequence number
	floor  uint64              // nonces up to this sequence number that are not in counts were forgotten
	newest time.Time           // issue time of the newest nonce used, to drop idle keys
}

type nonceUse struct {
	issued time.Time
	lastNC int
}

// maxNoncesPerKey bounds the nonce counts kept for one key. A client using
// more nonces than this at once sees its oldest answered stale=true.
const maxNoncesPerKey = 256

// maxTrackedKeys is how many keys' nonce counts are kept before keys whose
// nonces have all expired are dropped.
const maxTrackedKeys = 4096

// A nonce is the hex form of issue time (Unix nanoseconds), sequence number
// and the first macSize bytes of their HMAC-SHA256.
const (
	macSize      = 16
	nonceBytes   = 8 + 8 + macSize
	nonceHexSize = 2 * nonceBytes
)

type nonceVerdict int

const (
	nonceOK        nonceVerdict = iota
	nonceUnknown                // not issued by this store: malformed or a wrong MAC
	nonceStale                  // issued here but expired
	nonceForgotten              // older than what this key's window of nonce counts still holds
	nonceReplayed               // this key already used this nonce with this count or a higher one
)

func newNonceStore(now func() time.Time, lifetime time.Duration) *nonceStore {
	n := &nonceStore{now: now, lifetime: lifetime, secret: randomBytes(32), used: map[string]*keyNonces{}}
	// A random start: sequence numbers say nothing about how long the mock has run.
	n.seq.Store(binary.BigEndian.Uint64(randomBytes(8)) >> 2)
	return n
}

// issue makes a fresh nonce. It stores nothing.
func (n *nonceStore) issue() string {
	var b [nonceBytes]byte
	binary.BigEndian.PutUint64(b[0:8], uint64(n.now().UnixNano()))
	binary.BigEndian.PutUint64(b[8:16], n.seq.Add(1))
	m := n.mac(b[:16])
	copy(b[16:], m[:])
	return hex.EncodeToString(b[:])
}

func (n *nonceStore) mac(payload []byte) (out [macSize]byte) {
	m, _ := n.macs.Get().(hash.Hash)
	if m == nil {
		m = hmac.New(sha256.New, n.secret)
	}
	m.Reset()
	m.Write(payload)
	var sum [sha256.Size]byte
	copy(out[:], m.Sum(sum[:0]))
	n.macs.Put(m)
	return out
}

// open reads a nonce's issue time and sequence number; ok is false unless
// this store issued it.
func (n *nonceStore) open(nonce string) (issued time.Time, seq uint64, ok bool) {
	if len(nonce) != nonceHexSize {
		return time.Time{}, 0, false
	}
	var b [nonceBytes]byte
	if _, err := hex.Decode(b[:], []byte(nonce)); err != nil {
		return time.Time{}, 0, false
	}
	if m := n.mac(b[:16]); !hmac.Equal(b[16:], m[:]) {
		return time.Time{}, 0, false
	}
	return time.Unix(0, int64(binary.BigEndian.Uint64(b[0:8]))), binary.BigEndian.Uint64(b[8:16]), true
}

// use records that key used nonce with count nc, after a right response.
func (n *nonceStore) use(key, nonce string, nc int) nonceVerdict {
	issued, seq, ok := n.open(nonce)
	if !ok {
		return nonceUnknown
	}
	now := n.now()
	if now.Sub(issued) > n.lifetime {
		return nonceStale
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	kn := n.used[key]
	if kn == nil {
		if len(n.used) >= maxTrackedKeys {
			n.dropIdleKeys(now)
		}
		kn = &keyNonces{counts: map[uint64]nonceUse{}}
		n.used[key] = kn
	}
	u, seen := kn.counts[seq]
	switch {
	case !seen && seq <= kn.floor:
		return nonceForgotten
	case seen && nc <= u.lastNC:
		return nonceReplayed
	}
	kn.counts[seq] = nonceUse{issued: issued, lastNC: nc}
	if issued.After(kn.newest) {
		kn.newest = issued
	}
	if len(kn.counts) > maxNoncesPerKey {
		kn.forget(now, n.lifetime)
	}
	return nonceOK
}

// forget drops a key's expired nonces and, if it still holds too many, its
// oldest quarter, raising the floor past them.
func (kn *keyNonces) forget(now time.Time, lifetime time.Duration) {
	for seq, u := range kn.counts {
		if now.Sub(u.issued) > lifetime {
			delete(kn.counts, seq)
		}
	}
	if len(kn.counts) <= maxNoncesPerKey*3/4 {
		return
	}
	seqs := make([]uint64, 0, len(kn.counts))
	for seq := range kn.counts {
		seqs = append(seqs, seq)
	}
	slices.Sort(seqs)
	drop := seqs[:len(seqs)-maxNoncesPerKey*3/4]
	for _, seq := range drop {
		delete(kn.counts, seq)
	}
	kn.floor = max(kn.floor, drop[len(drop)-1])
}

// dropIdleKeys forgets keys none of whose used nonces is still valid: their
// floors no longer matter, since every nonce they could cover has expired.
func (n *nonceStore) dropIdleKeys(now time.Time) {
	for key, kn := range n.used {
		if now.Sub(kn.newest) > n.lifetime {
			delete(n.used, key)
		}
	}
}

// tracked reports how many keys and nonce counts the store holds, for tests
// that bound its memory.
func (n *nonceStore) tracked() (keys, counts int) {
	n.mu.Lock()
	defer n.mu.Unlock()
	for _, kn := range n.used {
		counts += len(kn.counts)
	}
	return len(n.used), counts
}

// challenges renders WWW-Authenticate values, one per algorithm the server
// offers for policy d, in that order. The form is exactly what MongoDB's
// servers send, because mongodb-forks/digest splits it on ", " and rejects
// anything else:
//
//	Digest realm="MMS Public API", domain="", nonce="…", algorithm=MD5, qop="auth", stale=false
func (s *Server) challenges(d *specs.DigestPolicy, nonce string, stale bool) []string {
	algs := s.offered(d)
	out := make([]string, 0, len(algs))
	for _, alg := range algs {
		out = append(out, fmt.Sprintf(`Digest realm="%s", domain="%s", nonce="%s", algorithm=%s, qop="%s", stale=%t`,
			d.Realm, d.Domain, nonce, alg, d.QOP, stale))
	}
	return out
}

// offered is the algorithms the server challenges with and verifies for
// policy d: Options.DigestAlgorithms when given, else the spec's.
func (s *Server) offered(d *specs.DigestPolicy) []string {
	if len(s.opts.DigestAlgorithms) > 0 {
		return s.opts.DigestAlgorithms
	}
	return d.Algorithms
}

// AuthDescription is the profile's auth in a few words (specs.Auth.Describe),
// naming the digest algorithms this server offers, which
// Options.DigestAlgorithms may have put in place of the spec's.
func (s *Server) AuthDescription(p *specs.Profile) string {
	d := p.Auth.Describe()
	if dp := p.Auth.Digest; dp != nil && len(s.opts.DigestAlgorithms) > 0 {
		d = strings.Replace(d, "digest "+strings.Join(dp.Algorithms, ","), "digest "+strings.Join(s.opts.DigestAlgorithms, ","), 1)
	}
	return d
}

// DigestAlgorithms are the digest algorithms the mock can challenge with
// and verify, as clients expect them written.
var DigestAlgorithms = []string{"MD5", "SHA-256"}

// ParseDigestAlgorithms reads a list of digest algorithms (--digest-algorithms
// MD5,SHA-256): each must be one the mock implements (any case), none twice.
// The result is in the given order, written as clients expect.
func ParseDigestAlgorithms(list []string) ([]string, error) {
	var out []string
	for _, a := range list {
		a = strings.TrimSpace(a)
		i := slices.IndexFunc(DigestAlgorithms, func(known string) bool { return strings.EqualFold(known, a) })
		switch {
		case i < 0:
			return nil, fmt.Errorf("digest algorithm %q: want %s", a, strings.Join(DigestAlgorithms, " or "))
		case slices.Contains(out, DigestAlgorithms[i]):
			return nil, fmt.Errorf("digest algorithm %s is given twice", DigestAlgorithms[i])
		}
		out = append(out, DigestAlgorithms[i])
	}
	if len(list) > 0 && len(out) == 0 {
		return nil, fmt.Errorf("no digest algorithm given: want %s", strings.Join(DigestAlgorithms, " or "))
	}
	return out, nil
}

// authenticateDigest checks an RFC 7616 Authorization header against the profile's digest policy.
func (s *Server) authenticateDigest(p *specs.Profile, r *http.Request) (*Authenticated, *authFailure) {
	return s.authenticateDigestWith(p, p.Auth.Digest, r)
}

// authenticateDigestWith checks an RFC 7616 Authorization header against policy d.
func (s *Server) authenticateDigestWith(p *specs.Profile, d *specs.DigestPolicy, r *http.Request) (*Authenticated, *authFailure) {
	ns := s.nonces[p.Name]
	challenge := func(msg string, stale bool) *authFailure {
		return &authFailure{kind: specs.Unauthenticated, message: msg, challenges: s.challenges(d, ns.issue(), stale)}
	}
	h := r.Header.Get("Authorization")
	if h == "" {
		return nil, challenge("", false).because(ReasonCredentialsMissing, "no Authorization header")
	}
	if deviates(r, devWrongSchemeAccepted) {
		if user, pass, ok := r.BasicAuth(); ok {
			if auth, private, found := s.keys.DigestKey(p.Name, user); found && subtle.ConstantTimeCompare([]byte(pass), []byte(private)) == 1 {
				return auth, nil
			}
		}
	}
	if !digest.IsDigest(h) {
		return nil, challenge("The Authorization header must use the Digest scheme.", false).because(ReasonCredentialsMalformed, "Authorization scheme is not Digest")
	}
	cred, err := parseDigestCredentials(h)
	if err != nil {
		return nil, challenge("The Digest credentials could not be parsed.", false).because(ReasonDigestInvalid, "Digest credentials could not be parsed")
	}
	invalid := func(msg string) *authFailure {
		return challenge(msg, false).because(ReasonDigestInvalid, "")
	}
	switch {
	case cred.Username == "" || cred.Nonce == "" || cred.Response == "" || cred.URI == "":
		return nil, invalid("The Digest credentials lack username, nonce, uri or response.")
	case cred.Realm != d.Realm:
		return nil, invalid(fmt.Sprintf("The Digest realm must be %q.", d.Realm))
	case cred.QOP != d.QOP:
		return nil, challenge(fmt.Sprintf("The Digest qop must be %q.", d.QOP), false)
	case !algorithmAllowed(s.offered(d), cred.Algorithm) && !(deviates(r, devDigestSHA256Only) && cred.Algorithm == "SHA-256"):
		return nil, challenge(fmt.Sprintf("The Digest algorithm must be one of %s.", strings.Join(s.offered(d), ", ")), false)
	case cred.URI != r.RequestURI && cred.URI != r.URL.RequestURI() && !deviates(r, devDigestURIUnchecked):
		return nil, invalid("The Digest uri does not match the request.")
	case cred.Nc < 1 || cred.Cnonce == "":
		return nil, invalid("The Digest credentials lack nc or cnonce.")
	}
	auth, private, ok := s.keys.DigestKey(p.Name, cred.Username)
	if !ok {
		return nil, challenge("", false).because(ReasonKeyUnknown, "unknown public key %q", cred.Username)
	}
	alg := cred.Algorithm
	if alg == "" {
		alg = "MD5"
	}
	want, err := s.digestResponse(d, cred, alg, r.Method, private)
	if err != nil || subtle.ConstantTimeCompare([]byte(strings.ToLower(cred.Response)), []byte(want)) != 1 && !deviates(r, devDigestPasswordUnchecked) {
		f := challenge("", false).because(ReasonDigestWrongResponse, "wrong Digest response for key %s", auth.Key.ID)
		f.key = auth.Key.ID
		return nil, f
	}
	// The response is right; only now does the nonce count, so a wrong guess cannot burn it.
	stale := !deviates(r, devDigestStaleFalse)
	refuse := func(msg string, stale bool, reason Reason, format string, args ...any) (*Authenticated, *authFailure) {
		f := challenge(msg, stale).because(reason, format, args...)
		f.key = auth.Key.ID
		return nil, f
	}
	switch ns.use(auth.Key.ID, cred.Nonce, cred.Nc) {
	case nonceUnknown:
		// RFC 7616: a right response on a nonce the server does not know is stale.
		return refuse("The Digest nonce was not issued by this server.", stale, ReasonNonceUnknown, "nonce not issued by this mock (key %s)", auth.Key.ID)
	case nonceStale:
		return refuse("The Digest nonce has expired.", stale, ReasonNonceStale, "nonce stale: older than %s (key %s)", ns.lifetime, auth.Key.ID)
	case nonceForgotten:
		return refuse("The Digest nonce is older than the nonces this key has in use; retry with a fresh one.", stale,
			ReasonNonceStale, "nonce stale: older than the %d nonces key %s has in use", maxNoncesPerKey, auth.Key.ID)
	case nonceReplayed:
		if !deviates(r, devDigestReplayAccepted) {
			return refuse("The Digest nonce count was already used: replayed request.", false, ReasonNonceReplayed, "nonce count %d already used with this nonce: a replay (key %s)", cred.Nc, auth.Key.ID)
		}
	}
	return auth, nil
}

// algorithmAllowed reports whether alg (MD5 when a client leaves it out,
// as RFC 7616 says) is among offered.
func algorithmAllowed(offered []string, alg string) bool {
	if alg == "" {
		alg = "MD5"
	}
	for _, a := range offered {
		if strings.EqualFold(a, alg) {
			return true
		}
	}
	return false
}
