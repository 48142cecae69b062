package main

import (
	"math"
	"math/bits"
	"time"
)

// histogram records latencies in log-linear buckets, as HdrHistogram does:
// values below 2×subBuckets nanoseconds are exact, and above that every
// power of two is split into subBuckets equal buckets, so a value is known
// to within 1/subBuckets (1.6%) of itself whatever its magnitude. Recording
// is an array increment: no allocation, no lock (each connection owns one;
// they are merged after the run).
type histogram struct {
	counts   [numBuckets]uint64
	n        uint64
	min, max uint64 // exact, in nanoseconds
	sum      float64
}

const (
	subBits    = 6
	subBuckets = 1 << subBits // 64
	// numBuckets covers every uint64: below 2×subBuckets one bucket per
	// value, then subBuckets per power of two up to 2^64.
	numBuckets = (64 - subBits + 1) * subBuckets
)

// bucketOf is the index of the bucket holding v.
func bucketOf(v uint64) int {
	if v < 2*subBuckets {
		return int(v)
	}
	shift := bits.Len64(v) - subBits - 1 // leaves v>>shift in [subBuckets, 2×subBuckets)
	return (shift+1)*subBuckets + int(v>>shift) - subBuckets
}

// bucketBounds is the smallest and largest value bucket i holds.
func bucketBounds(i int) (lo, hi uint64) {
	if i < 2*subBuckets {
		return uint64(i), uint64(i)
	}
	shift := i/subBuckets - 1
	m := uint64(i%subBuckets + subBuckets)
	lo = m << shift
	return lo, lo + (1 << shift) - 1
}

// record adds one latency.
func (h *histogram) record(d time.Duration) {
	v := uint64(max(d, 0))
	h.counts[bucketOf(v)]++
	if h.n == 0 || v < h.min {
		h.min = v
	}
	if v > h.max {
		h.max = v
	}
	h.n++
	h.sum += float64(v)
}

// merge adds o's counts to h.
func (h *histogram) merge(o *histogram) {
	if o.n == 0 {
		return
	}
	for i, c := range o.counts {
		h.counts[i] += c
	}
	if h.n == 0 || o.min < h.min {
		h.min = o.min
	}
	h.max = max(h.max, o.max)
	h.n += o.n
	h.sum += o.sum
}

// count is how many latencies were recorded.
func (h *histogram) count() uint64 { return h.n }

// quantile is the latency at or below which a fraction q (0 < q ≤ 1) of
// the recorded ones lie: the largest value of the bucket holding the
// ceil(q×n)-th smallest, clamped to the exact maximum, so the figure is
// never optimistic by more than a bucket's width. Zero when empty.
func (h *histogram) quantile(q float64) time.Duration {
	if h.n == 0 {
		return 0
	}
	rank := uint64(math.Ceil(q * float64(h.n)))
	rank = min(max(rank, 1), h.n)
	var seen uint64
	for i, c := range h.counts {
		seen += c
		if seen >= rank {
			_, hi := bucketBounds(i)
			return time.Duration(min(max(hi, h.min), h.max))
		}
	}
	return time.Duration(h.max)
}

// mean is the average latency; zero when empty.
func (h *histogram) mean() time.Duration {
	if h.n == 0 {
		return 0
	}
	return time.Duration(h.sum / float64(h.n))
}
