package workload

import (
	"context"
	"runtime"
	"testing"
	"time"
)

// runBriefly runs work for d and checks that it returns promptly once its
// context is done and leaves no goroutine behind.
func runBriefly(t *testing.T, d time.Duration, work func(ctx context.Context)) {
	t.Helper()
	before := runtime.NumGoroutine()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	start := time.Now()
	work(ctx)
	// A generous bound: the race detector and a busy machine slow the
	// workers' last chunk, but never by seconds.
	if late := time.Since(start) - d; late > 2*time.Second {
		t.Errorf("returned %v after its context ended", late)
	}
	deadline := time.Now().Add(2 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		t.Errorf("%d goroutines left behind", n-before)
	}
}

func TestTightLoops(t *testing.T) {
	runBriefly(t, 200*time.Millisecond, func(ctx context.Context) { TightLoops(ctx, 3) })
	runBriefly(t, 100*time.Millisecond, func(ctx context.Context) { TightLoops(ctx, 0) })
}

func TestCgoBurn(t *testing.T) {
	for _, tc := range []struct {
		fraction float64
		lo, hi   float64
	}{
		{0, 0, 0},
		{-1, 0, 0},
		// Only a sanity check: in a fraction of a second on a busy machine,
		// a few long deschedules move the figure a lot. accuracy_test.go
		// checks it properly.
		{0.5, 0.15, 0.85},
		{1, 0.9, 1},
		{2, 0.9, 1},
	} {
		var got float64
		runBriefly(t, 200*time.Millisecond, func(ctx context.Context) { got = CgoBurn(ctx, tc.fraction, 2) })
		if got < tc.lo || got > tc.hi {
			t.Errorf("CgoBurn(fraction %v) measured %.3f, want within [%v, %v]", tc.fraction, got, tc.lo, tc.hi)
		}
	}
}

func TestCgoBurnDoneContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if got := CgoBurn(ctx, 0.5, 0); got < 0 || got > 1 {
		t.Errorf("CgoBurn on a done context measured %v, want a fraction", got)
	}
}

func TestCgoTiny(t *testing.T) {
	runBriefly(t, 100*time.Millisecond, CgoTiny)
}

func TestCgoBatched(t *testing.T) {
	runBriefly(t, 100*time.Millisecond, func(ctx context.Context) { CgoBatched(ctx, 1024) })
	runBriefly(t, 100*time.Millisecond, func(ctx context.Context) { CgoBatched(ctx, 0) })
}

func TestCThread(t *testing.T) {
	started, finished := cThreadCounts()
	runBriefly(t, 100*time.Millisecond, CThread)
	s, f := cThreadCounts()
	if s != started+1 || f != finished+1 {
		t.Errorf("CThread started %d C threads and %d finished, want 1 and 1", s-started, f-finished)
	}
}

func TestCallback(t *testing.T) {
	runBriefly(t, 100*time.Millisecond, Callback)
	if got, want := workloadCallback(1), workloadCallback(1); got != want {
		t.Errorf("workloadCallback is not a pure function: %v then %v", got, want)
	}
}
