package mock

import (
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"strconv"
	"strings"
	"sync"

	"github.com/icholy/digest"
	"github.com/opsconform/opsconform/specs"
)

// The Digest check is on every MongoDB request. What does not depend on the
// request is worked out once: a key's H(A1) is cached, and the credentials
// are read by slicing the header instead of rune by rune. Both agree with
// icholy/digest, which the rest of digest.go uses and the tests compare with;
// anything out of their fast path (escapes, non-ASCII, auth-int, other
// algorithms) goes to icholy/digest itself.

// parseDigestCredentials reads an Authorization header exactly as
// digest.ParseCredentials does: the same grammar (parameters separated by
// commas, spaces around them, values quoted or bare tokens of letters,
// digits and dashes), the same fields, the same errors. A header with a
// backslash or a byte outside ASCII is handed to digest.ParseCredentials,
// whose rune-wise reading of such strings is what counts.
func parseDigestCredentials(h string) (*digest.Credentials, error) {
	s, ok := digest.CutPrefix(h)
	if !ok {
		return nil, errors.New("digest: invalid credentials prefix")
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == '\\' || c >= 0x80 {
			return digest.ParseCredentials(h)
		}
	}
	var c digest.Credentials
	var ncErr error // the first bad nc, reported once the whole header has parsed
	for first := true; ; first = false {
		s = skipSpaces(s)
		if s == "" {
			if ncErr != nil {
				return nil, ncErr
			}
			return &c, nil
		}
		if !first {
			if s[0] != ',' {
				return digest.ParseCredentials(h) // its error, word for word
			}
			s = skipSpaces(s[1:])
		}
		var key, value string
		key, s = cutIdent(s)
		s = skipSpaces(s)
		if s == "" || s[0] != '=' {
			return digest.ParseCredentials(h)
		}
		s = skipSpaces(s[1:])
		if s != "" && s[0] == '"' {
			end := strings.IndexByte(s[1:], '"')
			if end < 0 {
				return digest.ParseCredentials(h)
			}
			value, s = s[1:1+end], s[2+end:]
		} else {
			value, s = cutIdent(s)
		}
		switch key {
		case "username":
			c.Username = value
		case "realm":
			c.Realm = value
		case "nonce":
			c.Nonce = value
		case "uri":
			c.URI = value
		case "response":
			c.Response = value
		case "algorithm":
			c.Algorithm = value
		case "cnonce":
			c.Cnonce = value
		case "opaque":
			c.Opaque = value
		case "qop":
			c.QOP = value
		case "nc":
			nc, err := strconv.ParseInt(value, 16, 32)
			if err != nil && ncErr == nil {
				ncErr = fmt.Errorf("digest: invalid nc: %w", err)
			}
			c.Nc = int(nc)
		case "userhash":
			c.Userhash = strings.ToLower(value) == "true"
		}
	}
}

func skipSpaces(s string) string {
	for s != "" && s[0] == ' ' {
		s = s[1:]
	}
	return s
}

// cutIdent splits off a leading run of letters, digits and dashes.
func cutIdent(s string) (ident, rest string) {
	i := 0
	for i < len(s) {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-') {
			break
		}
		i++
	}
	return s[:i], s[i:]
}

// ha1Cache keeps H(A1) = H(username:realm:password) per key, realm and
// algorithm: the one part of a Digest response that never changes between
// a key's requests. The password is part of the cache key, so a key given a
// new private key misses rather than reads a stale hash.
type ha1Cache struct {
	mu sync.RWMutex // guards m
	m  map[ha1Input]string
}

type ha1Input struct{ alg, user, realm, password string }

// maxHA1 bounds the cache: entries come from keys that answered right, but
// keys can be minted through the control API.
const maxHA1 = 4096

func (c *ha1Cache) get(in ha1Input, newHash func() hash.Hash) string {
	c.mu.RLock()
	v, ok := c.m[in]
	c.mu.RUnlock()
	if ok {
		return v
	}
	v = hashJoin(newHash(), in.user, in.realm, in.password)
	c.mu.Lock()
	if c.m == nil || len(c.m) >= maxHA1 {
		c.m = map[ha1Input]string{}
	}
	c.m[in] = v
	c.mu.Unlock()
	return v
}

// hashJoin is the hex hash of parts joined by colons, as RFC 7616 writes H(a:b:c).
func hashJoin(h hash.Hash, parts ...string) string {
	var out [2 * sha256.Size]byte
	return string(hexHash(&out, h, parts...))
}

// hexHash writes the hex hash of parts joined by colons into out and
// returns it: with h (reset first), or with MD5's array form when h is nil,
// which allocates nothing (hexMD5).
func hexHash(out *[2 * sha256.Size]byte, h hash.Hash, parts ...string) []byte {
	if h == nil {
		return hexMD5(out, parts...)
	}
	// What h.Write is given escapes (h is an interface), so this buffer is
	// on the heap; MD5 hashes in a function of its own to stay on the stack.
	b := joinColons(make([]byte, 0, 256), parts...)
	h.Reset()
	h.Write(b)
	return out[:hex.Encode(out[:], h.Sum(nil))]
}

// hexMD5 is hexHash for MD5, on the stack: nothing it hashes escapes.
func hexMD5(out *[2 * sha256.Size]byte, parts ...string) []byte {
	var buf [256]byte
	sum := md5.Sum(joinColons(buf[:0], parts...))
	return out[:hex.Encode(out[:], sum[:])]
}

// joinColons appends parts to dst with a colon between each two.
func joinColons(dst []byte, parts ...string) []byte {
	for i, p := range parts {
		if i > 0 {
			dst = append(dst, ':')
		}
		dst = append(dst, p...)
	}
	return dst
}

// digestResponse is the response a client holding password must send for
// cred with algorithm alg under policy d: what digest.Digest computes, with
// H(A1) from the cache for qop=auth and MD5 or SHA-256, and digest.Digest
// itself otherwise.
func (s *Server) digestResponse(d *specs.DigestPolicy, cred *digest.Credentials, alg, method, password string) (string, error) {
	var newHash func() hash.Hash
	switch strings.ToUpper(alg) {
	case "MD5":
		newHash = md5.New
	case "SHA-256":
		newHash = sha256.New
	}
	if newHash == nil || d.QOP != "auth" || cred.Nc < 1 {
		want, err := digest.Digest(&digest.Challenge{Realm: d.Realm, Nonce: cred.Nonce, Algorithm: alg, QOP: []string{d.QOP}, Opaque: cred.Opaque},
			digest.Options{Method: method, URI: cred.URI, Username: cred.Username, Password: password, Cnonce: cred.Cnonce, Count: cred.Nc})
		if err != nil {
			return "", err
		}
		return want.Response, nil
	}
	ha1 := s.digestHA1.get(ha1Input{alg: strings.ToUpper(alg), user: cred.Username, realm: d.Realm, password: password}, newHash)
	var h hash.Hash // nil for MD5, which hexHash hashes without allocating
	if strings.ToUpper(alg) != "MD5" {
		h = newHash()
	}
	var ha2, resp [2 * sha256.Size]byte
	var nc [8]byte
	a2 := hexHash(&ha2, h, method, cred.URI)
	return string(hexHash(&resp, h, ha1, cred.Nonce, hex8(&nc, uint32(cred.Nc)), cred.Cnonce, "auth", string(a2))), nil
}

// hex8 is n as eight lower-case hex digits, as %08x writes it.
func hex8(buf *[8]byte, n uint32) string {
	const digits = "0123456789abcdef"
	for i := 7; i >= 0; i-- {
		buf[i] = digits[n&0xf]
		n >>= 4
	}
	return string(buf[:])
}
