package main

import "sync/atomic"

// spinLoop is a loop with no function call in its body: only an async
// preemption can stop it. The dashboard and trace tests look for it by name.
//
//go:noinline
func spinLoop(stop *atomic.Bool) uint64 {
	x := uint64(1)
	for !stop.Load() {
		for range 1 << 19 {
			x = x*6364136223846793005 + 1442695040888963407
			x ^= x >> 31
		}
	}
	return x
}
