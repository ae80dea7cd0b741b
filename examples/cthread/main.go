// Command cthread burns CPU on a thread created in C with pthread_create,
// which Go neither created nor knows about, while Go itself stays idle.
//
//	go run ./examples/cthread -cpuprofile cthread.pprof
//	diagctl preempt-share cthread.pprof
//
// Reading the profile: nearly all CPU is external (runtime._ExternalCode
// samples with no Go stack). Go's profiler cannot say what such a thread
// does; a native profiler such as perf can.
//
// With -agent ADDR instead of -cpuprofile, the diagkit agent serves the run
// live: read it with diagctl doctor ADDR while it runs.
package main

import (
	"flag"
	"fmt"
	"time"

	"github.com/diagkit/diagkit/examples/internal/run"
	"github.com/diagkit/diagkit/examples/internal/workload"
)

func main() {
	var f run.Flags
	f.Register(flag.CommandLine, 5*time.Second)
	flag.Parse()

	elapsed, err := run.Run(f, workload.CThread)
	if err != nil {
		run.Fatal("cthread", err)
	}
	fmt.Printf("cthread: a C thread burned CPU for %v and was joined; %s\n", elapsed.Round(time.Millisecond), run.ProfileHint(f))
}
