package workload

import "time"

// goSpin burns CPU in Go for about d of wall-clock time and returns a value
// derived from the work.
//
//go:noinline
func goSpin(d time.Duration) uint64 {
	start := time.Now()
	x := uint64(d)
	for time.Since(start) < d {
		for range 256 {
			x = mix(x)
		}
	}
	return x
}
