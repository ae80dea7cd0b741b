package workload

import (
	"context"
	"runtime"
	"sync"
	"sync/atomic"
)

// spinIterations is how many steps spinLoop takes between looks at its stop
// flag: about a millisecond of work.
const spinIterations = 1 << 19

// TightLoops runs goroutines goroutines (2×GOMAXPROCS when goroutines < 1),
// each spinning in a loop of plain arithmetic with no function call in its
// body, until ctx is done. Such a loop never reaches a cooperative
// preemption point, so the scheduler can only stop it with an async
// preemption signal; its CPU profile shows runtime.asyncPreempt with
// spinLoop just below it.
//
// Async preemption only becomes visible when goroutines compete for CPU. The
// usual demonstration sets GOMAXPROCS well above the CPUs available (say
// 4×runtime.NumCPU()) before calling TightLoops; TightLoops itself leaves
// GOMAXPROCS alone.
func TightLoops(ctx context.Context, goroutines int) {
	if goroutines < 1 {
		goroutines = 2 * runtime.GOMAXPROCS(0)
	}
	var stop atomic.Bool
	var wg sync.WaitGroup
	for range goroutines {
		wg.Go(func() { sink.Add(spinLoop(&stop)) })
	}
	<-ctx.Done()
	stop.Store(true)
	wg.Wait()
}

// spinLoop is the tight loop: arithmetic only, checking stop (an inlined
// atomic load, not a call) once per spinIterations steps.
//
//go:noinline
func spinLoop(stop *atomic.Bool) uint64 {
	x := uint64(1)
	for !stop.Load() {
		for range spinIterations {
			x = x*6364136223846793005 + 1442695040888963407
			x ^= x >> 31
		}
	}
	return x
}
