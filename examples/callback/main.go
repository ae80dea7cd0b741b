// Command callback has Go call C, which calls back into an exported Go
// function that does the real work.
//
//	go run ./examples/callback -cpuprofile callback.pprof
//	diagctl preempt-share callback.pprof
//
// Reading the profile: nearly all CPU is go, because the work is Go code
// (workload.workloadCallback) even though C called it; only the runtime's
// side of the crossings (cgocall, cgocallback) counts as cgo.
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

	elapsed, err := run.Run(f, workload.Callback)
	if err != nil {
		run.Fatal("callback", err)
	}
	fmt.Printf("callback: Go→C→Go callbacks for %v; %s\n", elapsed.Round(time.Millisecond), run.ProfileHint(f))
}
