package workload

import (
	"context"
	"runtime"
	"sync"
	"time"
)

// LockThreads starts n goroutines that each lock themselves to their OS
// thread with runtime.LockOSThread and then block until ctx is done, while
// a little ordinary work runs (a 1 ms chunk of well-behaved Go every 10 ms,
// about a tenth of a CPU). Each blocked goroutine holds its thread the whole
// time: the runtime can neither reuse it nor run other goroutines on it, so
// the process has n more OS threads than it otherwise would. A goroutine dump
// shows each one "locked to thread", in holdThread, created by LockThreads.
func LockThreads(ctx context.Context, n int) {
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			holdThread(ctx.Done())
		}()
	}
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	var x uint64
	for {
		select {
		case <-ctx.Done():
			sink.Add(x)
			wg.Wait()
			return
		case <-tick.C:
			for start := time.Now(); time.Since(start) < time.Millisecond; {
				x = steadyStep(x)
			}
		}
	}
}

// holdThread locks the calling goroutine to its OS thread and blocks, still
// locked, until done is closed: the stuck goroutine the LockOSThread check
// looks for.
//
//go:noinline
func holdThread(done <-chan struct{}) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	<-done
}
