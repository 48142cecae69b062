package mock

import "hash/maphash"

// secretFilter tells, without a lock or a cryptographic hash, that a value
// is not a key's secret: the set of lengths secrets have, and a Bloom
// filter of the secrets' fast hashes (two bits each in 2^16, under a seed
// made at start). A value it does not rule out is looked up for real
// (Store.Holds). Redaction runs it on every word of every journalled body,
// so it must be this cheap; it holds nothing a secret could be read back
// from.
type secretFilter struct {
	lengths [8]uint64 // lengths past 511 are always in
	bits    [filterWords]uint64
}

const (
	filterWords = 1 << 10 // 2^16 bits
	filterMask  = filterWords*64 - 1
)

var filterSeed = maphash.MakeSeed()

func (f *secretFilter) add(secret string) {
	if n := len(secret); n < len(f.lengths)*64 {
		f.lengths[n/64] |= 1 << (n % 64)
	}
	h := maphash.String(filterSeed, secret)
	for _, b := range [2]uint64{h & filterMask, h >> 32 & filterMask} {
		f.bits[b/64] |= 1 << (b % 64)
	}
}

// union adds every secret of g.
func (f *secretFilter) union(g *secretFilter) {
	for i := range f.lengths {
		f.lengths[i] |= g.lengths[i]
	}
	for i := range f.bits {
		f.bits[i] |= g.bits[i]
	}
}

func (f *secretFilter) hasLength(n int) bool {
	return n >= len(f.lengths)*64 || f.lengths[n/64]&(1<<(n%64)) != 0
}

func (f *secretFilter) hasHash(h uint64) bool {
	a, b := h&filterMask, h>>32&filterMask
	return f.bits[a/64]&(1<<(a%64)) != 0 && f.bits[b/64]&(1<<(b%64)) != 0
}

// mayHold reports whether v may be a secret the filter was given.
func (f *secretFilter) mayHold(v string) bool {
	return f.hasLength(len(v)) && f.hasHash(maphash.String(filterSeed, v))
}

// mayHoldBytes is mayHold for bytes; it allocates nothing.
func (f *secretFilter) mayHoldBytes(v []byte) bool {
	return f.hasLength(len(v)) && f.hasHash(maphash.Bytes(filterSeed, v))
}
