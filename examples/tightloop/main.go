// Command tightloop shows async preemption: goroutines spin in loops with no
// function call in their body, more goroutines than Ps and, by default,
// GOMAXPROCS at 4× the CPUs, so that they compete for CPU and the scheduler
// must preempt them with signals.
//
//	go run ./examples/tightloop -cpuprofile tightloop.pprof
//	diagctl preempt-share tightloop.pprof
//
// Reading the profile: the async_preempt share should be above 1% (the
// runtime.asyncPreempt samples), with workload.spinLoop at the top of the
// preempted functions. Run it again with -gomaxprocs set to the number of
// CPUs and the share drops: contention, not the loops alone, makes it high.
//
// With -agent ADDR instead of -cpuprofile, the diagkit agent serves the run
// live: read it with diagctl doctor ADDR while it runs.
package main

import (
	"context"
	"flag"
	"fmt"
	"runtime"
	"time"

	"github.com/diagkit/diagkit/examples/internal/run"
	"github.com/diagkit/diagkit/examples/internal/workload"
)

func main() {
	var f run.Flags
	f.Register(flag.CommandLine, 5*time.Second)
	procs := flag.Int("gomaxprocs", 4*runtime.NumCPU(), "GOMAXPROCS for the run")
	goroutines := flag.Int("goroutines", 0, "spinning goroutines (0: 2×GOMAXPROCS)")
	flag.Parse()

	if *procs > 0 {
		runtime.GOMAXPROCS(*procs)
	}
	n := *goroutines
	if n < 1 {
		n = 2 * runtime.GOMAXPROCS(0)
	}
	elapsed, err := run.Run(f, func(ctx context.Context) { workload.TightLoops(ctx, n) })
	if err != nil {
		run.Fatal("tightloop", err)
	}
	fmt.Printf("tightloop: %d goroutines spun for %v with GOMAXPROCS=%d on %d CPUs; %s\n",
		n, elapsed.Round(time.Millisecond), runtime.GOMAXPROCS(0), runtime.NumCPU(), run.ProfileHint(f))
}
