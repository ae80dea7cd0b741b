// Command service is a small service with diag/auto imported, to try the
// agent's judgement on: two workers each busy about 60 % of the time
// (hashing, plenty of function calls), and, after -onset, one problem.
//
//	DIAGKIT_WINDOW=2s DIAGKIT_INTERVAL=2s DIAGKIT_ADDR=127.0.0.1:6060 \
//	  go run ./examples/service -problem loops -onset 8s -duration 60s
//	diagctl preempt-share 127.0.0.1:6060
//
// Problems it starts itself:
//
//	-problem loops   8 more goroutines in loops without function calls
//	                 (run it with GOMAXPROCS=2): sched_latency_p99, lead
//	                 cause long_runs, naming main.crunchRows and its line
//	-problem cgo     a goroutine making tiny cgo calls: cgo_call_rate,
//	                 lead cause cgo_calls, naming the call site
//
// Their fixes, to compare against them (diagctl compare):
//
//	-problem calls     the loops' goroutines and work with a function call
//	                   per iteration (main.crunchRowsCalls): a running one
//	                   yields at a call, without a signal (a descheduled
//	                   thread still gets the signal first, so under CPU
//	                   contention its async_preempt share is the loops')
//	-problem cgobatch  the same C work in batches of -batch iterations per
//	                   cgo call: far fewer calls, little crossing
//
// Problems the environment brings, with -problem none:
//
//	a CPU quota      move the process into a cgroup with 0.5 CPU
//	                 (cpu.cfs_quota_us=50000 or cpu.max "50000 100000"):
//	                 cpu_throttling, lead cause cpu_throttling
//	busy neighbours  start three `while :; do :; done` beside it on 2 CPUs:
//	                 cpu_contention, lead cause host_contention
//
// With no problem the agent stays quiet. It prints "service: ready" once
// the workers run, and "service: problem started" at onset.
package main

import (
	"context"
	"crypto/sha256"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	_ "github.com/diagkit/diagkit/diag/auto"
)

func main() {
	duration := flag.Duration("duration", time.Minute, "how long to run")
	problem := flag.String("problem", "none", "none, loops, calls, cgo or cgobatch: the problem (or its fix) started at -onset")
	onset := flag.Duration("onset", 8*time.Second, "when the problem starts")
	workers := flag.Int("workers", 2, "workers, each busy -busy of the time")
	busy := flag.Float64("busy", 0.6, "share of each 10 ms a worker spends hashing (1: always, yielding every millisecond instead of sleeping)")
	loops := flag.Int("loops", 8, "goroutines started by -problem loops (call-free loops) or calls (a call per iteration)")
	batch := flag.Int("batch", 1024, "C iterations per cgo call of -problem cgobatch")
	flag.Parse()
	switch *problem {
	case "none", "loops", "calls":
	case "cgo", "cgobatch":
		if !haveCgo {
			fmt.Fprintf(os.Stderr, "service: -problem %s: built without cgo (CGO_ENABLED=0 or no C compiler)\n", *problem)
			os.Exit(2)
		}
	default:
		fmt.Fprintf(os.Stderr, "service: -problem %q: want none, loops, calls, cgo or cgobatch\n", *problem)
		os.Exit(2)
	}
	if *batch < 1 {
		fmt.Fprintln(os.Stderr, "service: -batch: want 1 or more")
		os.Exit(2)
	}
	if *busy <= 0 || *busy > 1 {
		fmt.Fprintln(os.Stderr, "service: -busy: want a share above 0, at most 1 (always busy)")
		os.Exit(2)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, *duration)
	defer cancel()

	var wg sync.WaitGroup
	for range *workers {
		wg.Go(func() { worker(ctx, *busy) })
	}
	fmt.Println("service: ready")
	select {
	case <-ctx.Done():
	case <-time.After(*onset):
		fmt.Printf("service: problem started: %s\n", *problem)
		switch *problem {
		case "loops":
			var stopLoops atomic.Bool
			for range *loops {
				wg.Go(func() { sink.Add(crunchRows(&stopLoops)) })
			}
			wg.Go(func() { <-ctx.Done(); stopLoops.Store(true) })
		case "calls":
			var stopLoops atomic.Bool
			for range *loops {
				wg.Go(func() { sink.Add(crunchRowsCalls(&stopLoops)) })
			}
			wg.Go(func() { <-ctx.Done(); stopLoops.Store(true) })
		case "cgo":
			wg.Go(func() { tinyCgoCalls(ctx) })
		case "cgobatch":
			wg.Go(func() { batchedCgoCalls(ctx, *batch) })
		}
	}
	<-ctx.Done()
	wg.Wait()
	fmt.Println("service: done")
}

var sink atomic.Uint64

// worker hashes for busy of every 10 ms and sleeps the rest: ordinary Go,
// which the scheduler preempts at its function calls. With busy 1 it never
// sleeps, and yields the P every millisecond instead (runtime.Gosched), as a
// well-behaved batch job does.
func worker(ctx context.Context, busy float64) {
	work := time.Duration(busy * float64(10*time.Millisecond))
	if busy >= 1 {
		work = time.Millisecond
	}
	var sum [32]byte
	for ctx.Err() == nil {
		start := time.Now()
		for time.Since(start) < work {
			sum = sha256.Sum256(sum[:])
		}
		if busy >= 1 {
			runtime.Gosched()
			continue
		}
		time.Sleep(10*time.Millisecond - work)
	}
	sink.Add(uint64(sum[0]))
}

// crunchRows is the problem: a loop with no function call in its body, which
// only async preemption can stop.
//
//go:noinline
func crunchRows(stop *atomic.Bool) uint64 {
	x := uint64(1)
	for !stop.Load() {
		for i := range 1 << 20 {
			x = x*6364136223846793005 + uint64(i) // the call-free loop
		}
	}
	return x
}

// crunchRowsCalls is crunchRows fixed: the same loop and arithmetic, with a
// function call per iteration. crunchStep is not inlined and, calling
// another function, is no leaf, so it starts with a stack check: the point
// where a goroutine the scheduler wants to preempt yields cooperatively,
// without a signal. The scheduler still asks every 10 ms, and still sends
// the signal: when the kernel has descheduled the thread, the signal is
// delivered before the goroutine reaches its next call, and preempts it
// asynchronously as it would the call-free loop.
//
//go:noinline
func crunchRowsCalls(stop *atomic.Bool) uint64 {
	x := uint64(1)
	for !stop.Load() {
		for i := range 1 << 20 {
			x = crunchStep(x, uint64(i))
		}
	}
	return x
}

// crunchStep is one iteration of crunchRowsCalls.
//
//go:noinline
func crunchStep(x, i uint64) uint64 { return crunchMul(x) + i }

//go:noinline
func crunchMul(x uint64) uint64 { return x * 6364136223846793005 }
