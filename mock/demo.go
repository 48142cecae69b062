package mock

import (
	"encoding/hex"
	"math/rand/v2"
	"slices"
	"strings"

	"github.com/opsconform/opsconform/fixtures"
	"github.com/opsconform/opsconform/mock/gen"
	"github.com/opsconform/opsconform/specs"
)

// demoFixtures mints demo credentials for a profile whose fixtures have no
// keys (any --spec file): a key usable with every scheme of the spec (a
// token for apiKey, bearer, oauth2 and other token schemes; a user name and
// password for basic and digest), labelled demo and full; a second one for
// checks that need two; and, where operations require scopes, a limited key
// with none. They derive from --seed, so the same seed mints the same keys:
// they are for a local mock, printed at start and listed by the control API.
func demoFixtures(p *specs.Profile, seed int64, set *fixtures.Set) *fixtures.Set {
	out := *set
	s := gen.Seed(seed, p.Name, "demo credentials")
	rng := rand.New(rand.NewChaCha8([32]byte{byte(s), byte(s >> 8), byte(s >> 16), byte(s >> 24), byte(s >> 32), byte(s >> 40), byte(s >> 48), byte(s >> 56)}))
	token := func() string {
		prefix := ""
		for _, sc := range p.Auth.Schemes {
			if sc.TokenPrefix != "" {
				prefix = sc.TokenPrefix
				break
			}
		}
		var sb strings.Builder
		sb.WriteString(prefix)
		for range 40 {
			sb.WriteByte(base62[rng.IntN(len(base62))])
		}
		return sb.String()
	}
	user := func() string {
		var sb strings.Builder
		for range 8 {
			sb.WriteByte(lowerLetters[rng.IntN(len(lowerLetters))])
		}
		return sb.String()
	}
	password := func() string {
		b := make([]byte, 16)
		for i := range b {
			b[i] = byte(rng.UintN(256))
		}
		b[6] = b[6]&0x0f | 0x40
		b[8] = b[8]&0x3f | 0x80
		h := hex.EncodeToString(b)
		return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
	}
	key := func(id string, labels []string, scopes []string) fixtures.Key {
		k := fixtures.Key{ID: id, Name: "opsconform demo key", Labels: labels, Scopes: scopes}
		if tokenSchemes(p) {
			k.Secret = token()
		}
		if p.Auth.Has(specs.AuthBasic) || p.Auth.Has(specs.AuthDigest) {
			k.PublicKey, k.PrivateKey = user(), password()
		}
		return k
	}
	out.Keys = []fixtures.Key{
		key("demo", []string{"demo", "full"}, []string{"*"}),
		key("second", []string{"second"}, []string{"*"}),
	}
	if op := scopedOperation(p); op != nil {
		k := key("limited", []string{"limited"}, []string{})
		k.Lacks = &fixtures.Lack{Operation: op.ID}
		out.Keys = append(out.Keys, k)
	}
	return &out
}

// tokenSchemes reports whether any scheme takes a token (anything but basic, digest and mutualTLS).
func tokenSchemes(p *specs.Profile) bool {
	return slices.ContainsFunc(p.Auth.Schemes, func(sc *specs.Scheme) bool {
		return sc.Mode == specs.AuthAPIKey || sc.Mode == specs.AuthBearer || sc.Mode == specs.AuthHTTP
	})
}

// scopedOperation is the first operation every alternative of which requires
// a scope: a key without scopes must get 403 there.
func scopedOperation(p *specs.Profile) *specs.Operation {
	for _, op := range p.Operations {
		if op.Public || len(op.Security) == 0 {
			continue
		}
		all := true
		for _, alt := range op.Security {
			scoped := false
			for _, req := range alt {
				if len(req.Scopes) > 0 {
					scoped = true
				}
			}
			all = all && scoped
		}
		if all {
			return op
		}
	}
	return nil
}
