package workload

// #include "workload.h"
import "C"

import (
	"context"
	"math"
	"math/rand/v2"
	"runtime"
	"sync"
	"time"
)

// Chunk lengths for CgoBurn: the side (C or Go) that takes the larger share
// draws each chunk uniformly from [minChunk, maxChunk]; the other side's
// chunks are scaled down so that the expected split is the fraction asked
// for. Varied lengths keep the chunks from beating against the profiler's
// 10 ms period, which fixed 1 ms chunks would.
const (
	minChunk = 200 * time.Microsecond
	maxChunk = 3 * time.Millisecond
)

// CgoBurn runs workers goroutines (at least one) until ctx is done. Each
// alternates a chunk of busy work in C (one cgo call) with a chunk of busy
// work in Go, with random chunk lengths chosen so that C takes about
// fraction of the time (fraction is clamped to [0, 1]).
//
// It returns the fraction it measured: the CPU time spent in the cgo calls,
// summed over workers, divided by the workers' total CPU time. Each worker is
// locked to its thread and reads the thread's CPU clock (on Linux; elsewhere
// the monotonic clock) around each call and around its whole run, so the
// figure is the one a CPU profile of the run should show as cgo, crossings
// included. Wall-clock time would not do on a busy machine: while a thread
// is in C the scheduler may give its P away, and the wait to get one back,
// time off the CPU, would count as C (measured that way, a 0.30 run read
// 0.34–0.37 while two other processes kept the CPUs busy).
//
// Chunk lengths are wall-clock time, so on a machine short of CPU the C share
// of CPU can drift from fraction; the returned figure is the one to trust.
func CgoBurn(ctx context.Context, fraction float64, workers int) (measuredCFraction float64) {
	if math.IsNaN(fraction) {
		fraction = 0
	}
	fraction = min(max(fraction, 0), 1)
	workers = max(workers, 1)

	type tally struct{ c, total time.Duration }
	tallies := make([]tally, workers)
	var wg sync.WaitGroup
	for i := range tallies {
		wg.Go(func() {
			tallies[i].c, tallies[i].total = burnWorker(ctx.Done(), fraction)
		})
	}
	wg.Wait()

	var c, total time.Duration
	for _, t := range tallies {
		c += t.c
		total += t.total
	}
	if total <= 0 {
		return 0
	}
	return float64(c) / float64(total)
}

// burnWorker is one CgoBurn worker. It returns the CPU time it spent in C
// and its whole CPU time.
func burnWorker(done <-chan struct{}, fraction float64) (inC, total time.Duration) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	rng := rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))
	larger := max(fraction, 1-fraction)
	cScale, goScale := fraction/larger, (1-fraction)/larger
	chunk := func(scale float64) time.Duration {
		d := minChunk + time.Duration(rng.Int64N(int64(maxChunk-minChunk)))
		return time.Duration(scale * float64(d))
	}

	start := threadCPUTime()
	for !isDone(done) {
		if d := chunk(cScale); d > 0 {
			t := threadCPUTime()
			sink.Add(uint64(C.wl_burn(C.int64_t(d))))
			inC += threadCPUTime() - t
		}
		if d := chunk(goScale); d > 0 {
			sink.Add(goSpin(d))
		}
	}
	return inC, threadCPUTime() - start
}
