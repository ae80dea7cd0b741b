package workload

import (
	"context"
	"regexp"
	"runtime"
	"testing"
	"time"
)

func TestSteady(t *testing.T) {
	runBriefly(t, 200*time.Millisecond, func(ctx context.Context) { Steady(ctx, 1) })
	runBriefly(t, 100*time.Millisecond, func(ctx context.Context) { Steady(ctx, 2) })
	runBriefly(t, 50*time.Millisecond, func(ctx context.Context) { Steady(ctx, 0) })
}

// lockedHold matches a goroutine of LockThreads in a dump: locked to its
// thread, blocked in holdThread.
// workloadPkg prefixes this package's functions in stacks.
const workloadPkg = "github.com/diagkit/diagkit/examples/internal/workload."

var lockedHold = regexp.MustCompile(`(?m)^goroutine \d+ \[[^\]]*locked to thread\]:\n` + regexp.QuoteMeta(workloadPkg) + `holdThread\(`)

func TestLockThreads(t *testing.T) {
	runBriefly(t, 300*time.Millisecond, func(ctx context.Context) {
		done := make(chan struct{})
		go func() {
			defer close(done)
			LockThreads(ctx, 3)
		}()
		// The goroutines lock their threads and block at once.
		buf := make([]byte, 1<<20)
		var n int
		for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
			if n = len(lockedHold.FindAll(buf[:runtime.Stack(buf, true)], -1)); n == 3 {
				break
			}
		}
		if n != 3 {
			t.Errorf("%d goroutines locked in holdThread, want 3", n)
		}
		<-done
	})
}
