// Command steady is the well-behaved baseline: about one CPU (-busy) of
// ordinary Go work, in chunks of a few microseconds of function calls that
// goroutines hand to each other over channels, blocking between chunks, so
// that no goroutine runs 10 ms at a stretch and none waits long for a P.
//
//	go run ./examples/steady -agent 127.0.0.1:6060 -duration 60s
//	diagctl doctor 127.0.0.1:6060
//
// Reading the checklist: after a few windows, every item passes: the
// async-preempt share is near 0 and no hot loop is named, there are no cgo
// calls and no locked goroutines, and scheduling latency stays low. Run it
// with GODEBUG=asyncpreemptoff=1 or GOGC=off and the item for that setting
// fails while the others still pass. With -cpuprofile instead of -agent,
// diagctl preempt-share reads the profile: nearly all of it is go.
package main

import (
	"context"
	"flag"
	"fmt"
	"time"

	"github.com/diagkit/diagkit/examples/internal/run"
	"github.com/diagkit/diagkit/examples/internal/workload"
)

func main() {
	var f run.Flags
	f.Register(flag.CommandLine, 5*time.Second)
	busy := flag.Int("busy", 1, "CPUs to keep busy")
	flag.Parse()

	elapsed, err := run.Run(f, func(ctx context.Context) { workload.Steady(ctx, *busy) })
	if err != nil {
		run.Fatal("steady", err)
	}
	fmt.Printf("steady: %d CPU of well-behaved Go for %v; %s\n", max(*busy, 1), elapsed.Round(time.Millisecond), run.ProfileHint(f))
}
