// Command lockthread shows goroutines stuck while locked to their OS thread:
// -n goroutines call runtime.LockOSThread and then block, each holding a
// thread the runtime can neither reuse nor run other goroutines on, while a
// little ordinary work runs beside them.
//
//	GOMAXPROCS=2 go run ./examples/lockthread -n 8 -agent 127.0.0.1:6060 -duration 60s
//	diagctl doctor 127.0.0.1:6060
//
// Reading the checklist: the LockOSThread item fails when more goroutines
// are locked than GOMAXPROCS (8 against 2 above; GOMAXPROCS is set only to
// make the comparison the same on every machine), and its evidence names
// the function each one is stuck in (workload.holdThread) and the one that
// started it (workload.LockThreads), with the process's OS thread count.
// With -n 1 it warns instead: audit it. The other items pass. Without
// -agent, diagctl doctor reads the same from any net/http/pprof server's
// goroutine dump.
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
	n := flag.Int("n", 8, "goroutines locked to their OS thread")
	flag.Parse()
	if *n < 0 {
		run.Fatal("lockthread", fmt.Errorf("-n %d: want 0 or more", *n))
	}

	elapsed, err := run.Run(f, func(ctx context.Context) { workload.LockThreads(ctx, *n) })
	if err != nil {
		run.Fatal("lockthread", err)
	}
	fmt.Printf("lockthread: %d goroutines locked to their threads for %v; %s\n", *n, elapsed.Round(time.Millisecond), run.ProfileHint(f))
}
