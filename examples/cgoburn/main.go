// Command cgoburn splits CPU between C and Go in a known proportion: each
// worker alternates a busy chunk in C (one cgo call) with a busy chunk in Go,
// with random chunk lengths, and measures the CPU time it spent in C with its
// thread's CPU clock.
//
//	go run ./examples/cgoburn -fraction 0.3 -cpuprofile cgoburn.pprof
//	diagctl preempt-share cgoburn.pprof
//
// Reading the profile: the cgo share should match the measured C fraction
// printed at exit within a few points (sampling noise, about 2.5 points for
// 300 samples, shrinks with a longer run; on a machine whose CPUs are busy
// with other work, the profiler also under-samples C), and the top cgo call
// should be wl_burn.
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
	fraction := flag.Float64("fraction", 0.3, "share of each worker's time to spend in C, in [0, 1]")
	workers := flag.Int("workers", runtime.NumCPU(), "busy goroutines")
	flag.Parse()
	if !(*fraction >= 0 && *fraction <= 1) {
		run.Fatal("cgoburn", fmt.Errorf("-fraction %v: want a value in [0, 1]", *fraction))
	}

	var measured float64
	elapsed, err := run.Run(f, func(ctx context.Context) {
		measured = workload.CgoBurn(ctx, *fraction, *workers)
	})
	if err != nil {
		run.Fatal("cgoburn", err)
	}
	fmt.Printf("cgoburn: measured C fraction %.3f (asked %.3f) over %d workers for %v; %s\n",
		measured, *fraction, max(*workers, 1), elapsed.Round(time.Millisecond), run.ProfileHint(f))
}
