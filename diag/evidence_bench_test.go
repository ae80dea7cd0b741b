//go:build linux

package diag

import (
	"fmt"
	"io"
	"runtime"
	"runtime/pprof"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"go.uber.org/zap"
)

// BenchmarkGatherEvidence measures one loop-evidence gathering (a 1 s
// execution trace, its summary, then a goroutine dump) in a process with N
// goroutines parked on a channel and 2 goroutines in a call-free loop
// (tightLoop) on GOMAXPROCS 2, so that the trace sees long runs end in
// async preemption and the dump is taken. Per op it reports, besides the
// wall time (≈ the 1 s trace):
//
//   - cpu-s/op: the process's CPU time (getrusage, user+sys) / ops. The two
//     loops keep both CPUs busy, so this is ≈ 2 × the wall time whatever
//     the gathering costs.
//   - gather-cpu-s/op: the same less the loops' own CPU time. Each loop
//     goroutine is locked to its thread and reads that thread's CPU time
//     (RUSAGE_THREAD) when it stops: what remains is the gathering's (and
//     the idle runtime's).
//   - trace-bytes, dumped (share of ops that took the goroutine dump) and
//     sites (places the long runs were located).
//   - max-pause-ms: the longest stop-the-world pause during the ops, as
//     BenchmarkDoctor reads it (upper bound of the histogram bucket of
//     /sched/pauses/total/other:seconds); it includes trace.Start's and
//     trace.Stop's pauses as well as the dump's.
//   - dump-pause-ms: the same over 3 bare goroutine dumps
//     (pprof.Lookup("goroutine").WriteTo(io.Discard, 2), the dump
//     gatherEvidence takes) with the same goroutines and loops, before
//     the timed ops: the dump's pause alone.
//
// Linux only (RUSAGE_THREAD). Run it with
// go test -run XXX -bench GatherEvidence -benchtime 3x ./diag/
func BenchmarkGatherEvidence(b *testing.B) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2))
	for _, n := range []int{10, 100, 1000} {
		b.Run(fmt.Sprintf("goroutines=%d", n), func(b *testing.B) {
			park := make(chan struct{})
			for range n {
				go func() { <-park }()
			}
			defer close(park)

			// The dump's pause alone, with the loops running.
			loops := startLockedLoops(2)
			before := pauseCounts()
			for range 3 {
				if err := pprof.Lookup("goroutine").WriteTo(io.Discard, 2); err != nil {
					b.Fatal(err)
				}
			}
			dumpPause := maxNewPause(before, pauseCounts())
			loops.stop()

			a := &Agent{cfg: Config{Cooldown: time.Minute}, log: zap.NewNop(), stopped: make(chan struct{})}
			var ops, dumped, sites, traceBytes int
			c0 := processCPU()
			loops = startLockedLoops(2)
			before = pauseCounts()
			for b.Loop() {
				ev, _ := a.gatherEvidence(time.Now())
				if ev.Trace == nil {
					b.Fatalf("no trace: %+v", ev)
				}
				ops++
				traceBytes += ev.Trace.Bytes
				sites += len(ev.Preempted)
				if ev.Goroutines > 0 {
					dumped++
				}
			}
			b.StopTimer()
			maxPause := maxNewPause(before, pauseCounts())
			loopCPU := loops.stop()
			cpu := processCPU() - c0

			per := func(x float64) float64 { return x / float64(ops) }
			b.ReportMetric(per(cpu.Seconds()), "cpu-s/op")
			b.ReportMetric(per((cpu - loopCPU).Seconds()), "gather-cpu-s/op")
			b.ReportMetric(per(float64(traceBytes)), "trace-bytes")
			b.ReportMetric(per(float64(dumped)), "dumped")
			b.ReportMetric(per(float64(sites)), "sites")
			b.ReportMetric(maxPause*1e3, "max-pause-ms")
			b.ReportMetric(dumpPause*1e3, "dump-pause-ms")
		})
	}
}

// lockedLoops are goroutines running tightLoop, each locked to its OS
// thread so that the thread's CPU time is the loop's.
type lockedLoops struct {
	flag atomic.Bool
	wg   sync.WaitGroup
	cpu  atomic.Int64 // ns, summed over the loops' threads when they stop
}

func startLockedLoops(n int) *lockedLoops {
	l := &lockedLoops{}
	for range n {
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			runtime.LockOSThread() // never unlocked: the thread exits with the goroutine
			t0 := threadCPU()
			sink.Add(tightLoop(&l.flag))
			l.cpu.Add(int64(threadCPU() - t0))
		}()
	}
	return l
}

// stop ends the loops and returns the CPU time their threads used.
func (l *lockedLoops) stop() time.Duration {
	l.flag.Store(true)
	l.wg.Wait()
	return time.Duration(l.cpu.Load())
}

func threadCPU() time.Duration { return rusage(syscall.RUSAGE_THREAD) }

func processCPU() time.Duration { return rusage(syscall.RUSAGE_SELF) }

func rusage(who int) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(who, &ru); err != nil {
		panic(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
