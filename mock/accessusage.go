package mock

import (
	"sync"
	"time"
)

// accessUsage is what each access-list entry has admitted. Ops Manager shows
// it on the entry: count, the requests that came from the entry's
// addresses; lastUsed and lastUsedAddress, when the last came and from
// where, absent until one has ("Get One Access List Entry for One
// Organization API Key", Ops Manager reference). It is kept apart from the
// key store because every admitted request writes it, and a change to the
// store rebuilds the keys' encoded views.
type accessUsage struct {
	mu sync.Mutex
	m  map[usageKey]entryUse
}

// usageKey names one entry of one key's access list.
type usageKey struct{ profile, key, entry string }

// entryUse is one entry's usage; the zero value is an entry never used.
type entryUse struct {
	count int
	last  time.Time
	addr  string
}

// record counts a request from addr that entry admitted at now.
func (u *accessUsage) record(profile, key, entry, addr string, now time.Time) {
	k := usageKey{profile, key, entry}
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.m == nil {
		u.m = map[usageKey]entryUse{}
	}
	e := u.m[k]
	e.count++
	e.last, e.addr = now, addr
	u.m[k] = e
}

// get is entry's usage so far.
func (u *accessUsage) get(profile, key, entry string) entryUse {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.m[usageKey{profile, key, entry}]
}

// forget drops entry's usage: it was taken off the list, and an entry added
// again later starts unused.
func (u *accessUsage) forget(profile, key, entry string) {
	u.mu.Lock()
	defer u.mu.Unlock()
	delete(u.m, usageKey{profile, key, entry})
}

// reset drops every entry's usage, as a reset restores the fixtures' keys.
func (u *accessUsage) reset() {
	u.mu.Lock()
	defer u.mu.Unlock()
	clear(u.m)
}
