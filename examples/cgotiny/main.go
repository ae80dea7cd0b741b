// Command cgotiny makes many tiny cgo calls: a loop calling a C function that
// does one multiply-add, so the CPU goes to crossing between Go and C.
//
//	go run ./examples/cgotiny -cpuprofile cgotiny.pprof
//	diagctl preempt-share cgotiny.pprof
//
// Reading the profile: most CPU is cgo, a large part of it the cgo_crossing
// bucket (entersyscall, exitsyscall, the _Cfunc_ stub), and the top cgo call
// is wl_tiny. The fix for such a profile is fewer, bigger C calls.
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

	elapsed, err := run.Run(f, workload.CgoTiny)
	if err != nil {
		run.Fatal("cgotiny", err)
	}
	fmt.Printf("cgotiny: tiny cgo calls for %v; %s\n", elapsed.Round(time.Millisecond), run.ProfileHint(f))
}
