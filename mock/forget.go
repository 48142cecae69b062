package mock

import "crypto/sha256"

// Forgetting secrets without leaking them from the journal.
//
// The request journal records what a request carried as it came and
// redacts an entry only when someone reads it: recording costs a request a
// copy, not a parse (see journal.add). Redaction recognises a secret by
// value only while the store holds it, so the store must not forget one
// (a key deleted, a secret regenerated, a profile reset) while a raw entry
// may still show it. Before forgetting, the store settles the journal:
// every raw entry is redacted in place while the secret is still known.
// Entries recorded while the change is under way are covered by the
// forgetting epoch: the store keeps each forgotten hash, still recognised,
// until the next settle has redacted every entry recorded before the epoch
// that forgot it moved on.
//
// Lock order is the store's lock, then a journal slot's: add takes no store
// lock, and readers and settles take the store's lock (shared or
// exclusive) before any slot's.

// journalSettler redacts the journal's raw entries recorded before epoch
// below, recognising secrets with known; the caller holds the store's lock.
type journalSettler func(below uint64, known func(string) bool)

// Epoch is the store's forgetting epoch: it grows each time the store
// forgets secrets. The journal tags each raw entry with it.
func (s *Store) Epoch() uint64 { return s.epoch.Load() }

// settleWith makes the store settle a journal before it forgets secrets.
func (s *Store) settleWith(settle journalSettler) {
	s.mu.Lock()
	s.settle = settle
	s.mu.Unlock()
}

// presettle redacts the journal's raw entries before a change that may
// forget secrets, under the shared lock, so that the settle under the
// exclusive lock has only the entries recorded meanwhile left to do and
// requests are not held up by the bulk.
func (s *Store) presettle() {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.settle != nil {
		s.settle(^uint64(0), s.holdsLocked)
	}
}

// forgetLocked forgets hashes the store no longer holds: it moves the
// epoch on, keeps them recognised under the new epoch, settles every entry
// of an older epoch (some may show them), and drops the hashes of older
// epochs, which no raw entry can show any more. The caller holds s.mu.
func (s *Store) forgetLocked(hashes [][sha256.Size]byte) {
	if len(hashes) == 0 {
		return
	}
	e := s.epoch.Add(1)
	if s.forgotten == nil {
		s.forgotten = map[[sha256.Size]byte]uint64{}
	}
	for _, h := range hashes {
		s.forgotten[h] = e
	}
	if s.settle != nil {
		s.settle(e, s.holdsLocked)
	}
	for h, at := range s.forgotten {
		if at < e {
			delete(s.forgotten, h)
		}
	}
}

// holdsLocked is Holds for a caller that holds s.mu.
func (s *Store) holdsLocked(v string) bool {
	if f := s.filter.Load(); f == nil || !f.mayHold(v) {
		return false
	}
	h := hashSecret(v)
	for _, r := range s.rings {
		if _, ok := r.bySecret[h]; ok || r.privates[h] {
			return true
		}
	}
	_, ok := s.forgotten[h]
	return ok
}

// hashes lists every secret and private key hash the ring holds.
func (r *ring) hashes() [][sha256.Size]byte {
	out := make([][sha256.Size]byte, 0, len(r.bySecret)+len(r.privates))
	for h := range r.bySecret {
		out = append(out, h)
	}
	for h := range r.privates {
		out = append(out, h)
	}
	return out
}
