package mock

import (
	"fmt"
	"net/http"
	"sync"
	"time"
)

// What the control API offers beyond single calls, for the web console and
// scripts alike: keys with their state in one word, every key's budgets in
// one call, and regenerated secrets kept for one pickup, so that a page
// can rotate a key without a secret ever reaching it.

// keyWithState is a key as the control API shows it: with its state.
type keyWithState struct {
	Key
	// State is what a request with the key meets first: revoked, expired,
	// disabled or active (its owner aside).
	State string `json:"state"`
}

func keyState(k Key, now time.Time) string {
	switch {
	case k.Revoked:
		return "revoked"
	case k.Expires != nil && !now.Before(*k.Expires):
		return "expired"
	case !k.Enabled:
		return "disabled"
	}
	return "active"
}

// controlBudgets serves every key's rate-limit counters, by key id.
func (s *Server) controlBudgets(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("profile")
	p := s.byName[name]
	if p == nil {
		controlError(w, fmt.Errorf("%w: %q", ErrNoProfile, name))
		return
	}
	keys, err := s.keys.Keys(name)
	if err != nil {
		controlError(w, err)
		return
	}
	out := make(map[string][]Budget, len(keys))
	for _, k := range keys {
		out[k.ID] = s.limiter.budgets(p, k.ID)
	}
	controlJSON(w, http.StatusOK, out)
}

// pickupLifetime is how long a regenerated secret waits for its pickup.
const pickupLifetime = 10 * time.Minute

// pickups holds secrets regenerated with ?reveal=pickup until they are
// fetched, once, through the control API (with its token when one is set).
type pickups struct {
	mu sync.Mutex // guards m
	m  map[string]pickup
}

type pickup struct {
	secret string
	until  time.Time
}

func pickupKey(profile, id string) string { return profile + "\x00" + id }

func (p *pickups) put(profile, id, secret string, until time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.m == nil {
		p.m = map[string]pickup{}
	}
	p.m[pickupKey(profile, id)] = pickup{secret: secret, until: until}
}

// take hands a secret out once: it is forgotten whether or not it is still in time.
func (p *pickups) take(profile, id string, now time.Time) (string, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	k := pickupKey(profile, id)
	pk, ok := p.m[k]
	delete(p.m, k)
	if !ok || now.After(pk.until) {
		return "", false
	}
	return pk.secret, true
}

func (p *pickups) drop(profile, id string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.m, pickupKey(profile, id))
}

func (p *pickups) clear() {
	p.mu.Lock()
	defer p.mu.Unlock()
	clear(p.m)
}

// controlPickup hands out a secret regenerated with ?reveal=pickup, once.
// It is a POST: it changes what the next call gets, and a browser's
// cross-site POST is refused.
func (s *Server) controlPickup(w http.ResponseWriter, r *http.Request) {
	profile, id := r.PathValue("profile"), r.PathValue("id")
	k, err := s.keys.Get(profile, id)
	if err != nil {
		s.pickups.drop(profile, id)
		controlError(w, err)
		return
	}
	secret, ok := s.pickups.take(profile, id, s.now())
	if !ok {
		controlJSON(w, http.StatusNotFound, map[string]string{"error": fmt.Sprintf(
			"no secret of key %s waits for pickup: it was picked up, expired (after %s), or the key was not regenerated with ?reveal=pickup", id, pickupLifetime)})
		return
	}
	body := map[string]any{"key": keyWithState{Key: k, State: keyState(k, s.now())}, "secret": secret}
	if k.PublicKey != "" {
		body["publicKey"] = k.PublicKey // a digest key's user name, with the private key as secret
	}
	controlJSON(w, http.StatusOK, body)
}
