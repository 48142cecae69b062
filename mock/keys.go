package mock

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/opsconform/opsconform/fixtures"
	"github.com/opsconform/opsconform/mock/gen"
	"github.com/opsconform/opsconform/specs"
)

// Key is an API key as the mock holds it. Secrets are not in it: bearer and
// apikey secrets are kept only as hashes, digest private keys only inside the store.
type Key struct {
	ID          string     `json:"id"`
	Profile     string     `json:"profile"`
	Name        string     `json:"name,omitempty"`
	Description string     `json:"description,omitempty"`
	Owner       string     `json:"owner,omitempty"`
	Scopes      []string   `json:"scopes"`
	Role        string     `json:"role,omitempty"`
	Type        string     `json:"type,omitempty"`
	Group       string     `json:"group,omitempty"`
	Tenant      string     `json:"tenant,omitempty"`
	IPs         []string   `json:"ips,omitempty"`
	PublicKey   string     `json:"publicKey,omitempty"`
	Enabled     bool       `json:"enabled"`
	Revoked     bool       `json:"revoked"`
	RevokedAt   *time.Time `json:"revokedAt,omitempty"` // when the control API revoked it; nil for fixtures' revoked keys
	Created     time.Time  `json:"created"`
	Expires     *time.Time `json:"expires,omitempty"`
	Labels      []string   `json:"labels,omitempty"`
	// Redacted is the secret as lists show it: enough to recognise, not to use.
	Redacted string `json:"redacted"`
	// AccessAdded is when each entry of IPs was added through the vendor's
	// access-list API (entries from fixtures or the control API date from
	// the key's creation). Replaced, never changed in place: snapshots share it.
	AccessAdded map[string]time.Time `json:"-"`

	// granted is Scopes with everything they imply, worked out when the
	// key is stored or changed rather than on every request.
	granted []string
}

// User is a key owner.
type User struct {
	ID        string `json:"id"`
	Name      string `json:"name,omitempty"`
	Email     string `json:"email,omitempty"`
	Role      string `json:"role,omitempty"`
	Active    bool   `json:"active"`
	APIAccess bool   `json:"apiAccess"`
}

// storedKey is a Key with its secret material. A key may carry a secret
// (apikey, bearer, oauth2 and other token schemes), a public and private key
// (a user name and password: basic and digest), or both, when the profile's
// schemes take both kinds.
type storedKey struct {
	Key
	secretHash [sha256.Size]byte // token schemes
	hasSecret  bool
	private    string            // digest: the server must know it to check responses
	passHash   [sha256.Size]byte // basic: the password, hashed
	// previous are secrets a regeneration kept working (the regenerate-keeps-old deviation).
	previous [][sha256.Size]byte
	// auth is what a lookup of this key returns, made by ring.changed after
	// every change to the key or its owner, so a request's lookup allocates
	// nothing. Shared by every request: read-only.
	auth *Authenticated
}

// ring is one profile's users and keys.
type ring struct {
	profile  *specs.Profile
	users    map[string]*User
	keys     map[string]*storedKey // by ID
	order    []string              // key IDs in creation order
	bySecret map[[sha256.Size]byte]string
	byPublic map[string]string
	// list is the keys in creation order, rebuilt after every change: key
	// lists read it without copying. Read-only.
	list []Key
	// privates are the hashes of the private keys (digest and basic) in
	// use, so logs can recognise one wherever it is sent.
	privates map[[sha256.Size]byte]bool
	// filter rules out values that are none of the secrets and private
	// keys the ring ever held, cheaply (see secretFilter).
	filter secretFilter
	// dropped are the hashes a change took out of bySecret and privates,
	// for the store to forget (see forgetLocked).
	dropped [][sha256.Size]byte
}

// changed rebuilds what the ring derives from its keys and users.
func (r *ring) changed() {
	r.list = make([]Key, 0, len(r.order))
	for _, id := range r.order {
		sk := r.keys[id]
		sk.granted = r.profile.Access.Expand(sk.Scopes)
		sk.auth = nil
		sk.auth = r.snapshot(sk)
		r.list = append(r.list, sk.Key)
	}
}

// Store holds every profile's keys. Its methods are safe for concurrent use;
// changes apply to the very next request.
type Store struct {
	mu    sync.RWMutex
	now   func() time.Time
	rings map[string]*ring
	// rev counts changes to any key or user, so what is derived from them
	// (encoded key views) knows when it is stale.
	rev atomic.Uint64
	// filter is every ring's secretFilter in one, rebuilt on every change
	// and read without the lock.
	filter atomic.Pointer[secretFilter]
	// epoch, forgotten and settle keep secrets out of the request journal
	// after the store stops holding them (see forget.go).
	epoch     atomic.Uint64
	forgotten map[[sha256.Size]byte]uint64 // hash: the epoch that forgot it
	settle    journalSettler               // nil: no journal to settle
}

// bump marks a change to keys or users; the caller holds s.mu.
func (s *Store) bump() {
	s.rev.Add(1)
	f := &secretFilter{}
	for _, r := range s.rings {
		f.union(&r.filter)
	}
	s.filter.Store(f)
}

// Rev is the store's revision: it grows with every change to a key or user.
func (s *Store) Rev() uint64 { return s.rev.Load() }

// Errors the store returns; the control API maps them to statuses.
var (
	ErrNoProfile = errors.New("no such profile")
	ErrNoKey     = errors.New("no such key")
	ErrNoUser    = errors.New("no such user")
	ErrConflict  = errors.New("already exists")
	ErrInvalid   = errors.New("invalid key")
)

// NewStore builds an empty store; now is its clock.
func NewStore(now func() time.Time) *Store {
	return &Store{now: now, rings: map[string]*ring{}}
}

// Reset replaces a profile's users and keys with its fixtures.
func (s *Store) Reset(p *specs.Profile, set *fixtures.Set) error {
	r := &ring{profile: p, users: map[string]*User{}, keys: map[string]*storedKey{},
		bySecret: map[[sha256.Size]byte]string{}, byPublic: map[string]string{}, privates: map[[sha256.Size]byte]bool{}}
	for _, u := range set.Users {
		r.users[u.ID] = &User{ID: u.ID, Name: u.Name, Email: u.Email, Role: u.Role,
			Active: fixtures.Bool(u.Active, true), APIAccess: fixtures.Bool(u.APIAccess, true)}
	}
	for _, fk := range set.Keys {
		k := Key{ID: fk.ID, Profile: p.Name, Name: fk.Name, Description: fk.Description, Owner: fk.Owner,
			Scopes: slices.Clone(fk.Scopes), Role: fk.Role, Type: fk.Type, Group: fk.Group, Tenant: fk.Tenant,
			IPs: slices.Clone(fk.IPs), PublicKey: fk.PublicKey, Enabled: fixtures.Bool(fk.Enabled, true),
			Revoked: fk.Revoked, Expires: fk.Expires, Labels: slices.Clone(fk.Labels)}
		if fk.Created != nil {
			k.Created = *fk.Created
		}
		if err := r.add(k, fk.Secret, fk.PrivateKey); err != nil {
			return fmt.Errorf("fixtures: %s: key %s: %w", p.Name, fk.ID, err)
		}
	}
	if b := set.GeneratedKeys; b != nil {
		for i := 1; i <= b.Count; i++ {
			k, secret := generatedKey(p, b, i)
			private := ""
			if p.Auth.Mode == specs.AuthDigest {
				secret, private = "", secret
			}
			if err := r.add(k, secret, private); err != nil {
				return fmt.Errorf("fixtures: %s: generated key %d: %w", p.Name, i, err)
			}
		}
	}
	r.changed()
	s.presettle()
	s.mu.Lock()
	defer s.mu.Unlock()
	old := s.rings[p.Name]
	if old != nil {
		r.filter.union(&old.filter) // the old secrets stay recognisable while forgotten
	}
	s.rings[p.Name] = r
	s.bump()
	if old != nil {
		s.forgetLocked(old.hashes())
	}
	return nil
}

// generatedKey is the i-th key of a batch: its id, public key and secret are
// derived from the profile's name and i, so every start has the same keys.
func generatedKey(p *specs.Profile, b *fixtures.KeyBatch, i int) (Key, string) {
	sum := sha256.Sum256([]byte(fmt.Sprintf("opsconform generated key %s %d", p.Name, i)))
	k := Key{ID: hex.EncodeToString(sum[:12]), Profile: p.Name, Owner: b.Owner, Scopes: slices.Clone(b.Scopes), Enabled: true,
		Description: strings.ReplaceAll(b.Description, "%d", strconv.Itoa(i)), Created: gen.Epoch.Add(time.Duration(i) * time.Minute)}
	secret := hex.EncodeToString(sum[12:28])
	switch p.Auth.Mode {
	case specs.AuthDigest:
		var pub strings.Builder
		for _, c := range sum[24:32] {
			pub.WriteByte(lowerLetters[int(c)%len(lowerLetters)])
		}
		k.PublicKey = pub.String()
		secret = secret[:8] + "-" + secret[8:12] + "-4" + secret[13:16] + "-8" + secret[17:20] + "-" + secret[20:32]
	case specs.AuthBearer:
		secret = p.Auth.TokenPrefix + secret
	}
	return k, secret
}

// add stores a key with its secret material, checking it fits the
// profile's schemes: a secret for token schemes, a public and private key
// for digest and basic.
func (r *ring) add(k Key, secret, private string) error {
	if _, dup := r.keys[k.ID]; dup {
		return fmt.Errorf("%w: key id %q", ErrConflict, k.ID)
	}
	if k.Owner != "" && r.users[k.Owner] == nil {
		return fmt.Errorf("%w: owner %q", ErrNoUser, k.Owner)
	}
	ips, err := canonicalEntries(k.IPs)
	if err != nil {
		return err
	}
	k.IPs = ips
	a := &r.profile.Auth
	userPass := a.Has(specs.AuthDigest) || a.Has(specs.AuthBasic)
	switch {
	case a.Mode == specs.AuthDigest && !a.Mixed() && (k.PublicKey == "" || private == ""):
		return fmt.Errorf("%w: a digest key needs publicKey and privateKey", ErrInvalid)
	case secret == "" && (k.PublicKey == "" || private == ""):
		if userPass {
			return fmt.Errorf("%w: a key needs a secret, or a publicKey and privateKey", ErrInvalid)
		}
		return fmt.Errorf("%w: secret is missing", ErrInvalid)
	}
	sk := &storedKey{Key: k}
	if k.PublicKey != "" && private != "" {
		if _, dup := r.byPublic[k.PublicKey]; dup {
			return fmt.Errorf("%w: public key %q", ErrConflict, k.PublicKey)
		}
		if a.Has(specs.AuthDigest) {
			sk.private = private
		}
		sk.passHash = sha256.Sum256([]byte(private))
		r.privates[sk.passHash] = true
		r.byPublic[k.PublicKey] = k.ID
		r.filter.add(private)
	}
	if secret != "" {
		if p := a.TokenPrefix; p != "" && a.Mode == specs.AuthBearer && !strings.HasPrefix(secret, p) {
			return fmt.Errorf("%w: the secret must start with %q", ErrInvalid, p)
		}
		h := sha256.Sum256([]byte(secret))
		if _, dup := r.bySecret[h]; dup {
			return fmt.Errorf("%w: another key has the same secret", ErrConflict)
		}
		sk.secretHash, sk.hasSecret = h, true
		r.bySecret[h] = k.ID
		r.filter.add(secret)
	}
	if secret != "" {
		sk.Redacted = redact(specs.AuthBearer, secret)
	} else {
		sk.Redacted = redact(specs.AuthDigest, private)
	}
	r.keys[k.ID] = sk
	r.order = append(r.order, k.ID)
	return nil
}

func (r *ring) remove(id string) {
	sk := r.keys[id]
	if sk == nil {
		return
	}
	if sk.hasSecret {
		delete(r.bySecret, sk.secretHash)
		r.dropped = append(r.dropped, sk.secretHash)
	}
	for _, h := range sk.previous {
		delete(r.bySecret, h)
		r.dropped = append(r.dropped, h)
	}
	if sk.PublicKey != "" {
		delete(r.byPublic, sk.PublicKey)
		delete(r.privates, sk.passHash)
		r.dropped = append(r.dropped, sk.passHash)
	}
	delete(r.keys, id)
	r.order = slices.DeleteFunc(r.order, func(x string) bool { return x == id })
}

// redact shows the end of a secret: MongoDB's "********-****-****-db2c132ca78d"
// for digest private keys, "om_…a1b2" style otherwise.
func redact(mode specs.AuthMode, secret string) string {
	if mode == specs.AuthDigest && len(secret) >= 12 {
		return "********-****-****-" + secret[len(secret)-12:]
	}
	if len(secret) < 8 {
		return "…"
	}
	head := ""
	if i := strings.IndexByte(secret, '_'); i > 0 && i < 6 {
		head = secret[:i+1]
	}
	return head + "…" + secret[len(secret)-4:]
}

// Authenticated is what a successful credential lookup yields: a snapshot of
// the key and its owner, safe to read without the store's lock. Lookups of
// one key share one snapshot until the key or its owner changes: it must
// not be changed (copy it first).
type Authenticated struct {
	Key   Key
	Owner *User // nil when the key has no owner
}

// BySecret finds the key whose secret is secret, comparing in constant time.
func (s *Store) BySecret(profile, secret string) (*Authenticated, bool) {
	h := hashSecret(secret)
	s.mu.RLock()
	defer s.mu.RUnlock()
	r := s.rings[profile]
	if r == nil {
		return nil, false
	}
	// The map is keyed by the secret's hash, so the lookup's timing says
	// nothing about the secret; the final comparison is constant-time anyway.
	id, ok := r.bySecret[h]
	if !ok {
		return nil, false
	}
	sk := r.keys[id]
	if subtle.ConstantTimeCompare(sk.secretHash[:], h[:]) != 1 && !slices.Contains(sk.previous, h) {
		return nil, false
	}
	return r.snapshot(sk), true
}

// hashSecret is the SHA-256 of a secret as the store keys it, without
// copying the secret to the heap (every authenticated request hashes one).
func hashSecret(secret string) [sha256.Size]byte {
	var buf [128]byte
	return sha256.Sum256(append(buf[:0], secret...))
}

// Holds reports whether v is a secret of any profile's key, current or kept
// working by a deviation: what redaction uses to recognise a key sent
// under a name nobody documents. Secrets the store has just forgotten count
// too, while the journal may still show them (see forgetLocked).
func (s *Store) Holds(v string) bool {
	if f := s.filter.Load(); f == nil || !f.mayHold(v) {
		return false
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.holdsLocked(v)
}

// First is the profile's oldest key: what a server that checks only a key's
// form (the format-only-validation deviation) acts as.
func (s *Store) First(profile string) (*Authenticated, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	r := s.rings[profile]
	if r == nil || len(r.order) == 0 {
		return nil, false
	}
	return r.snapshot(r.keys[r.order[0]]), true
}

// DigestKey finds a digest key by public key and returns its private key for
// the response check; the private key must not leave the auth path.
func (s *Store) DigestKey(profile, publicKey string) (*Authenticated, string, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	r := s.rings[profile]
	if r == nil {
		return nil, "", false
	}
	id, ok := r.byPublic[publicKey]
	if !ok {
		return nil, "", false
	}
	sk := r.keys[id]
	return r.snapshot(sk), sk.private, true
}

// ByPassword finds a key by public key (the basic user name) and checks its
// password, comparing hashes in constant time.
func (s *Store) ByPassword(profile, user, password string) (*Authenticated, bool) {
	h := sha256.Sum256([]byte(password))
	s.mu.RLock()
	defer s.mu.RUnlock()
	r := s.rings[profile]
	if r == nil {
		return nil, false
	}
	id, ok := r.byPublic[user]
	if !ok {
		return nil, false
	}
	sk := r.keys[id]
	if subtle.ConstantTimeCompare(sk.passHash[:], h[:]) != 1 {
		return nil, false
	}
	return r.snapshot(sk), true
}

func (r *ring) snapshot(sk *storedKey) *Authenticated {
	if sk.auth != nil {
		return sk.auth
	}
	a := &Authenticated{Key: sk.Key}
	if u := r.users[sk.Owner]; u != nil {
		cp := *u
		a.Owner = &cp
	}
	return a
}

// KeySpec is what a caller asks for when creating a key; empty fields get defaults.
type KeySpec struct {
	ID          string     `json:"id"`
	Name        string     `json:"name"`
	Description string     `json:"description"`
	Owner       string     `json:"owner"`
	Scopes      []string   `json:"scopes"`
	Role        string     `json:"role"`
	Type        string     `json:"type"`
	Group       string     `json:"group"`
	Tenant      string     `json:"tenant"`
	IPs         []string   `json:"ips"`
	Expires     *time.Time `json:"expires"`
	Labels      []string   `json:"labels"`
}

// Create makes a new key with a fresh secret. The secret is returned once and
// never again: lists and reads show it redacted.
func (s *Store) Create(profile string, spec KeySpec) (Key, string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.rings[profile]
	if r == nil {
		return Key{}, "", fmt.Errorf("%w: %q", ErrNoProfile, profile)
	}
	k := Key{ID: spec.ID, Profile: profile, Name: spec.Name, Description: spec.Description, Owner: spec.Owner,
		Scopes: slices.Clone(spec.Scopes), Role: spec.Role, Type: spec.Type, Group: spec.Group, Tenant: spec.Tenant,
		IPs: slices.Clone(spec.IPs), Enabled: true, Created: s.now().UTC(), Expires: spec.Expires, Labels: slices.Clone(spec.Labels)}
	if k.ID == "" {
		k.ID = newID(r.profile.Auth.Mode)
	}
	if k.Scopes == nil {
		// Like the vendors' "Full access" choice: everything the owner's role allows.
		k.Scopes = []string{"*"}
	}
	a := &r.profile.Auth
	secret, private := "", ""
	if a.Mode == specs.AuthDigest || a.Has(specs.AuthDigest) || a.Has(specs.AuthBasic) {
		private = newUserSecret()
		k.PublicKey = newPublicKey()
		for r.byPublic[k.PublicKey] != "" {
			k.PublicKey = newPublicKey()
		}
	}
	if a.Mode != specs.AuthDigest || a.Mixed() {
		secret = newSecret(r.profile)
	}
	if err := r.add(k, secret, private); err != nil {
		return Key{}, "", err
	}
	r.changed()
	s.bump()
	if secret == "" {
		secret = private
	}
	return r.keys[k.ID].Key, secret, nil
}

// KeysAt is Keys with the store's revision they are at, read together: what
// is derived from the list (encoded views, by position) is keyed by it.
func (s *Store) KeysAt(profile string) ([]Key, uint64, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	r := s.rings[profile]
	if r == nil {
		return nil, 0, fmt.Errorf("%w: %q", ErrNoProfile, profile)
	}
	return r.list, s.rev.Load(), nil
}

// Keys lists a profile's keys in creation order, secrets redacted. The
// slice is shared: callers must not change it.
func (s *Store) Keys(profile string) ([]Key, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	r := s.rings[profile]
	if r == nil {
		return nil, fmt.Errorf("%w: %q", ErrNoProfile, profile)
	}
	return r.list, nil
}

// Get returns one key, secret redacted.
func (s *Store) Get(profile, id string) (Key, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	r := s.rings[profile]
	if r == nil {
		return Key{}, fmt.Errorf("%w: %q", ErrNoProfile, profile)
	}
	sk := r.keys[id]
	if sk == nil {
		return Key{}, fmt.Errorf("%w: %q", ErrNoKey, id)
	}
	return sk.Key, nil
}

// Update changes a key in place with fn.
func (s *Store) Update(profile, id string, fn func(k *Key) error) (Key, error) {
	var out Key
	err := s.update(profile, id, func(_ *ring, sk *storedKey) error {
		cp := sk.Key
		if err := fn(&cp); err != nil {
			return err
		}
		// Identity and secret-derived fields are not the caller's to change.
		cp.ID, cp.Profile, cp.PublicKey, cp.Redacted, cp.Created = sk.ID, sk.Profile, sk.PublicKey, sk.Redacted, sk.Created
		sk.Key = cp
		out = cp
		return nil
	})
	return out, err
}

// Delete removes a key; it is rejected from the next request on.
func (s *Store) Delete(profile, id string) error {
	s.presettle()
	return s.update(profile, id, func(r *ring, _ *storedKey) error { r.remove(id); return nil })
}

// Regenerate gives a key a new secret: the old one stops working at once and
// the new one is returned this once. keepOld keeps the old secret working
// too, as the regenerate-keeps-old deviation does.
func (s *Store) Regenerate(profile, id string, keepOld bool) (Key, string, error) {
	var out Key
	var secret string
	s.presettle()
	err := s.update(profile, id, func(r *ring, sk *storedKey) error {
		if sk.PublicKey != "" {
			private := newUserSecret()
			if sk.private != "" {
				sk.private = private
			}
			delete(r.privates, sk.passHash)
			r.dropped = append(r.dropped, sk.passHash)
			sk.passHash = sha256.Sum256([]byte(private))
			r.privates[sk.passHash] = true
			r.filter.add(private)
			secret = private
			sk.Redacted = redact(specs.AuthDigest, private)
		}
		if sk.hasSecret {
			secret = newSecret(r.profile)
			if keepOld {
				sk.previous = append(sk.previous, sk.secretHash)
			} else {
				delete(r.bySecret, sk.secretHash)
				r.dropped = append(r.dropped, sk.secretHash)
			}
			sk.secretHash = sha256.Sum256([]byte(secret))
			r.bySecret[sk.secretHash] = sk.ID
			r.filter.add(secret)
			sk.Redacted = redact(specs.AuthBearer, secret)
		}
		out = sk.Key
		return nil
	})
	return out, secret, err
}

func (s *Store) update(profile, id string, fn func(r *ring, k *storedKey) error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.rings[profile]
	if r == nil {
		return fmt.Errorf("%w: %q", ErrNoProfile, profile)
	}
	sk := r.keys[id]
	if sk == nil {
		return fmt.Errorf("%w: %q", ErrNoKey, id)
	}
	err := fn(r, sk)
	r.changed()
	s.bump()
	s.forgetLocked(r.dropped)
	r.dropped = nil
	return err
}

// Users lists a profile's users, sorted by id.
func (s *Store) Users(profile string) ([]User, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	r := s.rings[profile]
	if r == nil {
		return nil, fmt.Errorf("%w: %q", ErrNoProfile, profile)
	}
	out := make([]User, 0, len(r.users))
	for _, u := range r.users {
		out = append(out, *u)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

// UpdateUser changes a user in place with fn (deactivate, turn API access off).
func (s *Store) UpdateUser(profile, id string, fn func(u *User)) (User, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.rings[profile]
	if r == nil {
		return User{}, fmt.Errorf("%w: %q", ErrNoProfile, profile)
	}
	u := r.users[id]
	if u == nil {
		return User{}, fmt.Errorf("%w: %q", ErrNoUser, id)
	}
	fn(u)
	u.ID = id
	r.changed() // the owner's keys' snapshots carry the user
	s.rev.Add(1)
	return *u, nil
}

const (
	lowerLetters = "abcdefghijklmnopqrstuvwxyz"
	base62       = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
)

// newSecret makes a secret in the form the profile's clients expect: om_ plus
// 40 base62 characters for a prefixed bearer token, a UUID for a digest
// private key, 32 upper-case hex digits for a formatted key (Ivanti's
// Reference ID), 32 hex digits otherwise.
func newSecret(p *specs.Profile) string {
	switch p.Auth.Mode {
	case specs.AuthDigest:
		if !p.Auth.Mixed() {
			return newUserSecret()
		}
	case specs.AuthBearer:
		return p.Auth.TokenPrefix + randomString(base62, 40)
	}
	for _, sc := range p.Auth.Schemes {
		if sc.Format != "{key}" {
			return strings.ToUpper(hex.EncodeToString(randomBytes(16)))
		}
	}
	return hex.EncodeToString(randomBytes(16))
}

// newUserSecret is a private key (password) for digest and basic: a UUID,
// as MongoDB's private keys are.
func newUserSecret() string {
	b := randomBytes(16)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b)
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

func newPublicKey() string { return randomString(lowerLetters, 8) }

// newID makes a key id: 24 hex digits, MongoDB's ObjectId form, for digest
// profiles; "key-" and 12 hex digits otherwise.
func newID(mode specs.AuthMode) string {
	if mode == specs.AuthDigest {
		return hex.EncodeToString(randomBytes(12))
	}
	return "key-" + hex.EncodeToString(randomBytes(6))
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on supported platforms
	return b
}

func randomString(alphabet string, n int) string {
	max := big.NewInt(int64(len(alphabet)))
	var sb strings.Builder
	for range n {
		i, _ := rand.Int(rand.Reader, max)
		sb.WriteByte(alphabet[i.Int64()])
	}
	return sb.String()
}
