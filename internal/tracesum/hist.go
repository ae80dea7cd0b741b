package tracesum

import (
	"math"
	"math/bits"
	"time"
)

// histogram counts non-negative durations (nanoseconds) in log-linear
// buckets: exact below 2^subBits ns, then 2^subBits buckets per power of two,
// so that any value is known within 1/2^subBits (0.8 %) of itself. Its size
// is fixed whatever it counts.
type histogram struct {
	counts [histBuckets]int64
	n      int64
	sum    float64 // nanoseconds
	min    int64
	max    int64
}

const (
	subBits     = 7
	subBuckets  = 1 << subBits
	histBuckets = subBuckets + (64-subBits)*subBuckets
)

func bucketOf(v int64) int {
	if v < subBuckets {
		return int(max(v, 0))
	}
	shift := bits.Len64(uint64(v)) - subBits - 1
	top := int(uint64(v) >> uint(shift)) // in [subBuckets, 2*subBuckets)
	return subBuckets + shift*subBuckets + top - subBuckets
}

// bucketBounds returns the smallest and largest value that fall in bucket i.
func bucketBounds(i int) (lo, hi int64) {
	if i < subBuckets {
		return int64(i), int64(i)
	}
	shift := (i - subBuckets) / subBuckets
	top := int64(i-subBuckets-shift*subBuckets) + subBuckets
	lo = top << uint(shift)
	hi = lo + (int64(1) << uint(shift)) - 1
	if hi < lo { // overflow in the last bucket
		hi = math.MaxInt64
	}
	return lo, hi
}

func (h *histogram) add(v int64) {
	v = max(v, 0)
	h.counts[bucketOf(v)]++
	if h.n == 0 || v < h.min {
		h.min = v
	}
	h.max = max(h.max, v)
	h.n++
	h.sum += float64(v)
}

// quantile returns the nearest-rank q-quantile (0 < q ≤ 1): the middle of
// the bucket that holds it, clamped to the exact minimum and maximum.
func (h *histogram) quantile(q float64) int64 {
	if h.n == 0 {
		return 0
	}
	rank := int64(math.Ceil(q * float64(h.n)))
	rank = min(max(rank, 1), h.n)
	if rank == h.n {
		return h.max
	}
	var seen int64
	for i, c := range h.counts {
		seen += c
		if seen >= rank {
			lo, hi := bucketBounds(i)
			mid := lo + (hi-lo)/2
			return min(max(mid, h.min), h.max)
		}
	}
	return h.max
}

// countBelow returns how many values are below limit (exactly when limit is a
// power of two or small, else within a bucket's width).
func (h *histogram) countBelow(limit int64) int64 {
	var n int64
	for i, c := range h.counts {
		lo, _ := bucketBounds(i)
		if lo >= limit {
			break
		}
		n += c
	}
	return n
}

// waitBucketEdges are the edges of the runnable-wait histogram in the
// Summary: a decade each from 10 µs to 100 ms.
var waitBucketEdges = []time.Duration{
	10 * time.Microsecond,
	100 * time.Microsecond,
	time.Millisecond,
	10 * time.Millisecond,
	100 * time.Millisecond,
}
