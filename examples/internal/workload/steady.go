package workload

import (
	"context"
	"runtime"
)

const (
	// steadyStages is how many goroutines Steady passes each item through
	// per CPU it keeps busy.
	steadyStages = 4
	// steadyItemSteps is the work an item takes at each stage, in calls to
	// steadyStep: a couple of microseconds.
	steadyItemSteps = 16
	// steadyYieldEvery is how many items a stage handles between yields:
	// well under a millisecond of work.
	steadyYieldEvery = 256
)

// Steady keeps about busy CPUs (at least 1) working with well-behaved Go
// until ctx is done: a ring of 4×busy goroutines passes busy items around
// over channels, and each goroutine does a small chunk of work on the item
// it receives (function calls, a couple of microseconds), hands it on and
// blocks until the next one comes. No goroutine runs for long at a stretch,
// every iteration reaches a function call, nothing allocates and nothing
// calls C. Its CPU profile shows no async preemption, and since a hand-off
// runs the receiver at once, goroutines spend almost no time waiting to
// run: its scheduling latency stays low even when other processes keep the
// machine's CPUs busy.
//
// Each goroutine yields (runtime.Gosched) every 256 items. A goroutine
// woken by a channel runs next on the waker's P and inherits its time
// slice, and the scheduler's monitor preempts a P whose slice has lasted
// 10 ms with a signal, however short each goroutine's part of it was:
// without the yields, the ring would be async-preempted like a loop without
// calls. Yielding starts a fresh slice, as a goroutine woken by the network
// poller gets one.
func Steady(ctx context.Context, busy int) {
	busy = max(busy, 1)
	n := steadyStages * busy
	// Each channel can hold every item, so a hand-off never blocks, even
	// to a goroutine that has already returned.
	ring := make([]chan uint64, n)
	for i := range ring {
		ring[i] = make(chan uint64, busy)
	}
	for i := range busy {
		ring[i*steadyStages] <- uint64(i + 1)
	}
	done := make(chan struct{})
	for i := range n {
		go func() {
			defer func() { done <- struct{}{} }()
			steadyStage(ctx.Done(), ring[i], ring[(i+1)%n])
		}()
	}
	for range n {
		<-done
	}
}

// steadyStage takes an item from in, works on it and passes it on to out,
// until stop is closed.
func steadyStage(stop <-chan struct{}, in <-chan uint64, out chan<- uint64) {
	for handled := 1; ; handled++ {
		var x uint64
		select {
		case <-stop:
			return
		case x = <-in:
		}
		for range steadyItemSteps {
			x = steadyStep(x)
		}
		if handled%steadyYieldEvery == 0 {
			sink.Add(x)
			runtime.Gosched()
		}
		out <- x
	}
}

// steadyStep is a short piece of work; calling it is a cooperative
// preemption point.
//
//go:noinline
func steadyStep(x uint64) uint64 {
	for range 64 {
		x = mix(x)
	}
	return x
}
