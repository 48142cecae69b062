package mock

import (
	"net/url"
	"testing"
	"time"

	"github.com/opsconform/opsconform/specs"
)

// TestHotPathAllocations pins what every request does to zero allocations:
// spending from a budget, finding a key by its secret or public key,
// judging a path and query that hold no secret, the header values of the
// current second, and Digest's MD5 hashes. A change that makes one of them
// allocate fails here, not in a load run.
func TestHotPathAllocations(t *testing.T) {
	s, clock := quietServer(t)
	om := fixtureKey(t, "opsmerge", "full")
	mdb := fixtureKey(t, "mongodb-opsmanager", "full")
	lim := specs.Limit{Limit: 1 << 30, Window: time.Minute}
	bk := budgetKey{"opsmerge", "key-ci-full", "default"}
	u, err := url.Parse("/api/public/v1.0/orgs/5980cfc70b6d97029d82e3f6/apiKeys?pageNum=1&itemsPerPage=100&per_page=2")
	if err != nil {
		t.Fatal(err)
	}
	now := clock.Now()
	buf := make([]byte, 0, 512) // the journal redacts into a reused buffer
	var hx [64]byte
	uri := u.RequestURI()
	tests := []struct {
		name string
		f    func()
	}{
		{"limiter take", func() { s.limiter.take(bk, lim) }},
		{"key by secret", func() {
			if _, ok := s.keys.BySecret("opsmerge", om.Secret); !ok {
				t.Fatal("key not found")
			}
		}},
		{"key by public key", func() {
			if _, _, ok := s.keys.DigestKey("mongodb-opsmanager", mdb.PublicKey); !ok {
				t.Fatal("key not found")
			}
		}},
		{"is a value a secret", func() {
			if s.keys.Holds("5980cfc70b6d97029d82e3f6") {
				t.Fatal("an org id is a secret")
			}
		}},
		{"redact a path", func() { buf = s.redact.appendPath(buf[:0], u.EscapedPath()) }},
		{"redact a query", func() { buf = s.redact.appendQuery(buf[:0], u.RawQuery) }},
		{"a Digest MD5 hash (H(A2), the response)", func() {
			hexHash(&hx, nil, "GET", uri, "0a4f113b", "auth", "939e7578ed9e3c518a452acee763bce9")
		}},
		{"rate-limit count", func() { intValue(299) }},
		{"Date", func() { s.clockValues.dateValue(now) }},
		{"X-RateLimit-Reset", func() { s.clockValues.resetValue(now) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.f() // fill what is filled on first use
			if n := testing.AllocsPerRun(100, tt.f); n != 0 {
				t.Errorf("%v allocations per run, want 0", n)
			}
		})
	}
}

// TestSnapshotsFollowChanges: a key lookup returns a snapshot shared by
// requests; a change to the key or to its owner must show in the next one.
func TestSnapshotsFollowChanges(t *testing.T) {
	s, _ := quietServer(t)
	om := fixtureKey(t, "opsmerge", "full")
	first, _ := s.keys.BySecret("opsmerge", om.Secret)
	again, _ := s.keys.BySecret("opsmerge", om.Secret)
	if first != again {
		t.Fatal("two lookups of an unchanged key made two snapshots")
	}
	if _, err := s.keys.UpdateUser("opsmerge", om.Owner, func(u *User) { u.Active = false }); err != nil {
		t.Fatal(err)
	}
	after, _ := s.keys.BySecret("opsmerge", om.Secret)
	if after.Owner == nil || after.Owner.Active {
		t.Fatalf("after deactivating the owner, the snapshot's owner is %+v", after.Owner)
	}
	if !first.Owner.Active {
		t.Fatal("the earlier snapshot changed under its reader")
	}
	if _, err := s.keys.Update("opsmerge", om.ID, func(k *Key) error { k.Description = "changed"; return nil }); err != nil {
		t.Fatal(err)
	}
	if k, _ := s.keys.BySecret("opsmerge", om.Secret); k.Key.Description != "changed" {
		t.Fatalf("after an update, the snapshot's description is %q", k.Key.Description)
	}
}

// TestHoldsKnowsRegeneratedSecrets: the length filter in front of Holds
// learns the lengths of secrets made after start.
func TestHoldsKnowsRegeneratedSecrets(t *testing.T) {
	s, _ := quietServer(t)
	for _, profile := range []string{"opsmerge", "mongodb-opsmanager", "ivanti-ism", "opmanager"} {
		k := fixtureKey(t, profile, "full")
		_, secret, err := s.keys.Regenerate(profile, k.ID, false)
		if err != nil {
			t.Fatal(err)
		}
		if !s.keys.Holds(secret) {
			t.Errorf("%s: a regenerated secret is not recognised", profile)
		}
	}
	k, secret, err := s.keys.Create("opsmerge", KeySpec{Owner: fixtureKey(t, "opsmerge", "full").Owner, Scopes: []string{"*"}})
	if err != nil {
		t.Fatal(err)
	}
	if !s.keys.Holds(secret) || s.keys.Holds(secret[:len(secret)-1]) {
		t.Errorf("key %s: Holds(secret) %v, Holds(a prefix) %v", k.ID, s.keys.Holds(secret), s.keys.Holds(secret[:len(secret)-1]))
	}
}

// TestAppendFoldedAgreesWithFoldName: the allocation-free folding is the
// folding redaction documents, beyond ASCII too.
func TestAppendFoldedAgreesWithFoldName(t *testing.T) {
	for _, name := range []string{"", "api_key", "X-API-Key", "Rest.Api[Key]", "per_page", "ÄPI-Key", "tökén", "a b", "PASSWORD"} {
		if got, want := string(appendFolded(nil, name)), foldName(name); got != want {
			t.Errorf("appendFolded(%q) = %q, foldName gives %q", name, got, want)
		}
	}
}
