package workload

import "sync/atomic"

// sink receives every loop's result, so the compiler cannot delete the work
// that produced it. Nothing reads it.
var sink atomic.Uint64

// isDone reports whether a context's Done channel is closed, without blocking.
func isDone(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// mix is the arithmetic the busy loops repeat: one step of a 64-bit linear
// congruential generator with an xorshift. spinLoop and workloadCallback
// spell it out instead, so that their loop bodies have no call in them even
// before inlining.
func mix(x uint64) uint64 {
	x = x*6364136223846793005 + 1442695040888963407
	return x ^ x>>31
}
