package mock

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	icholy "github.com/icholy/digest"
)

func newTestNonceStore() (*nonceStore, *fakeClock) {
	clock := &fakeClock{t: time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)}
	return newNonceStore(clock.Now, 5*time.Minute), clock
}

// TestNonceFloodEvictsNothing is issue #12's flood: 60,000 challenges in a
// burst must not cost an outstanding nonce its validity, because issuing
// stores nothing.
func TestNonceFloodEvictsNothing(t *testing.T) {
	ns, clock := newTestNonceStore()
	outstanding := make([]string, 40)
	for i := range outstanding {
		outstanding[i] = ns.issue()
	}
	for range 60_000 {
		ns.issue()
	}
	clock.Advance(2 * time.Second)
	if keys, counts := ns.tracked(); keys != 0 || counts != 0 {
		t.Fatalf("after unsigned traffic only, the store holds %d keys and %d counts, want none", keys, counts)
	}
	for i, nonce := range outstanding {
		if v := ns.use("key-a", nonce, 1); v != nonceOK {
			t.Errorf("outstanding nonce %d after the flood: verdict %d, want ok", i, v)
		}
	}
}

func TestNonceVerdicts(t *testing.T) {
	other, _ := newTestNonceStore()
	tests := []struct {
		name string
		// run prepares the store and returns the verdict of the use under test.
		run  func(ns *nonceStore, clock *fakeClock) nonceVerdict
		want nonceVerdict
	}{
		{"fresh nonce", func(ns *nonceStore, _ *fakeClock) nonceVerdict { return ns.use("k", ns.issue(), 1) }, nonceOK},
		{"count goes up", func(ns *nonceStore, _ *fakeClock) nonceVerdict {
			n := ns.issue()
			ns.use("k", n, 1)
			return ns.use("k", n, 2)
		}, nonceOK},
		{"same count again", func(ns *nonceStore, _ *fakeClock) nonceVerdict {
			n := ns.issue()
			ns.use("k", n, 1)
			return ns.use("k", n, 1)
		}, nonceReplayed},
		{"lower count", func(ns *nonceStore, _ *fakeClock) nonceVerdict {
			n := ns.issue()
			ns.use("k", n, 5)
			return ns.use("k", n, 4)
		}, nonceReplayed},
		{"another key may use the same nonce", func(ns *nonceStore, _ *fakeClock) nonceVerdict {
			n := ns.issue()
			ns.use("k", n, 1)
			return ns.use("other", n, 1)
		}, nonceOK},
		{"expired", func(ns *nonceStore, clock *fakeClock) nonceVerdict {
			n := ns.issue()
			clock.Advance(5*time.Minute + time.Second)
			return ns.use("k", n, 1)
		}, nonceStale},
		{"just inside the lifetime", func(ns *nonceStore, clock *fakeClock) nonceVerdict {
			n := ns.issue()
			clock.Advance(5 * time.Minute)
			return ns.use("k", n, 1)
		}, nonceOK},
		{"garbage", func(ns *nonceStore, _ *fakeClock) nonceVerdict { return ns.use("k", "abc", 1) }, nonceUnknown},
		{"not hex", func(ns *nonceStore, _ *fakeClock) nonceVerdict {
			return ns.use("k", strings.Repeat("zz", nonceBytes), 1)
		}, nonceUnknown},
		{"one digit changed", func(ns *nonceStore, _ *fakeClock) nonceVerdict {
			n := []byte(ns.issue())
			n[20] = "01"[(n[20]-'0'+1)%2] // a sequence-number digit: the MAC no longer fits
			return ns.use("k", string(n), 1)
		}, nonceUnknown},
		{"another store's nonce", func(ns *nonceStore, _ *fakeClock) nonceVerdict { return ns.use("k", other.issue(), 1) }, nonceUnknown},
		{"older than the key's window", func(ns *nonceStore, _ *fakeClock) nonceVerdict {
			old := ns.issue()
			for range maxNoncesPerKey + 1 {
				ns.use("k", ns.issue(), 1)
			}
			return ns.use("k", old, 1)
		}, nonceForgotten},
		{"another key's window is its own", func(ns *nonceStore, _ *fakeClock) nonceVerdict {
			old := ns.issue()
			for range maxNoncesPerKey + 1 {
				ns.use("k", ns.issue(), 1)
			}
			return ns.use("other", old, 1)
		}, nonceOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ns, clock := newTestNonceStore()
			if got := tt.run(ns, clock); got != tt.want {
				t.Errorf("verdict %d, want %d", got, tt.want)
			}
		})
	}
}

// TestNonceCountsBounded: however many nonces a key uses, the store keeps
// at most maxNoncesPerKey counts for it, and forgets keys whose nonces have
// all expired once it tracks many.
func TestNonceCountsBounded(t *testing.T) {
	ns, clock := newTestNonceStore()
	for range 10_000 {
		if v := ns.use("busy", ns.issue(), 1); v != nonceOK {
			t.Fatalf("a fresh nonce was refused: %d", v)
		}
	}
	if _, counts := ns.tracked(); counts > maxNoncesPerKey {
		t.Errorf("one key holds %d nonce counts, want at most %d", counts, maxNoncesPerKey)
	}
	for i := range maxTrackedKeys {
		ns.use(fmt.Sprint("k", i), ns.issue(), 1)
	}
	clock.Advance(6 * time.Minute)
	ns.use("late", ns.issue(), 1)
	if keys, _ := ns.tracked(); keys != 1 {
		t.Errorf("after every nonce expired, %d keys are tracked, want only the newest", keys)
	}
}

// signDigest answers a challenge for the mock's full MongoDB key.
func signDigest(t *testing.T, h *harness, chal, method, uri, password string, nc int) string {
	t.Helper()
	c, err := icholy.ParseChallenge(chal)
	if err != nil {
		t.Fatal(err)
	}
	k := fixtureKey(t, "mongodb-opsmanager", "full")
	if password == "" {
		password = k.PrivateKey
	}
	cred, err := icholy.Digest(c, icholy.Options{Method: method, URI: uri, Username: k.PublicKey, Password: password, Count: nc})
	if err != nil {
		t.Fatal(err)
	}
	return cred.String()
}

// TestDigestNoncesSurviveUnsignedTraffic: challenges fetched before a burst
// of unsigned requests still work after it, over HTTP.
func TestDigestNoncesSurviveUnsignedTraffic(t *testing.T) {
	h := newHarness(t)
	path := probePath["mongodb-opsmanager"]
	var chals []string
	for range 10 {
		_, hdr, _ := h.do("GET", path, nil, "")
		chals = append(chals, hdr.Get("WWW-Authenticate"))
	}
	for range 300 {
		h.do("GET", path, nil, "")
	}
	for i, c := range chals {
		auth := signDigest(t, h, c, "GET", path, "", 1)
		if st, _, body := h.do("GET", path, http.Header{"Authorization": {auth}}, ""); st != 200 {
			t.Errorf("challenge %d after the burst: %d %s", i, st, body)
		}
	}
}

// TestDigestStaleOnlyForRightResponses: RFC 7616 sets stale=true when the
// nonce is bad but the response is otherwise right, and only then.
func TestDigestStaleOnlyForRightResponses(t *testing.T) {
	h := newHarness(t)
	path := probePath["mongodb-opsmanager"]
	_, hdr, _ := h.do("GET", path, nil, "")
	fresh := hdr.Get("WWW-Authenticate")
	unknown := strings.Replace(fresh, `nonce="`, `nonce="ff`, 1) // a nonce this server never issued
	tests := []struct {
		name      string
		challenge string
		password  string
		advance   time.Duration
		stale     bool
	}{
		{"unknown nonce, right response", unknown, "", 0, true},
		{"unknown nonce, wrong private key", unknown, "wrong", 0, false},
		{"expired nonce, right response", fresh, "", 6 * time.Minute, true},
		{"expired nonce, wrong private key", fresh, "wrong", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h.clock.Advance(tt.advance)
			auth := signDigest(t, h, tt.challenge, "GET", path, tt.password, 1)
			st, rh, _ := h.do("GET", path, http.Header{"Authorization": {auth}}, "")
			want := fmt.Sprintf("stale=%t", tt.stale)
			if st != 401 || !strings.HasSuffix(rh.Get("WWW-Authenticate"), want) {
				t.Errorf("%d %q, want 401 with %s", st, rh.Get("WWW-Authenticate"), want)
			}
		})
	}
}
