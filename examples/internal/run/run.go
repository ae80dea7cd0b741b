// Package run is what the example programs share: the -duration and
// -cpuprofile flags, and running a workload for that long under a CPU
// profile.
package run

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"runtime/pprof"
	"time"
)

// Flags are the options every example takes.
type Flags struct {
	// Duration is how long the workload runs (-duration).
	Duration time.Duration
	// CPUProfile is the file to write a CPU profile of the run to, "" for
	// none (-cpuprofile).
	CPUProfile string
}

// Register defines -duration (defaulting to def) and -cpuprofile on fs.
func (f *Flags) Register(fs *flag.FlagSet, def time.Duration) {
	fs.DurationVar(&f.Duration, "duration", def, "how long to run the workload")
	fs.StringVar(&f.CPUProfile, "cpuprofile", "", "write a CPU profile of the run to `file`")
}

// Run calls work with a context that ends after f.Duration or at an
// interrupt (Ctrl-C), whichever comes first. When f.CPUProfile is set, the
// call runs under a CPU profile written to that file. Run returns the time
// work took.
func Run(f Flags, work func(ctx context.Context)) (time.Duration, error) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, f.Duration)
	defer cancel()

	var out *os.File
	if f.CPUProfile != "" {
		var err error
		if out, err = os.Create(f.CPUProfile); err != nil {
			return 0, err
		}
		defer out.Close()
		if err := pprof.StartCPUProfile(out); err != nil {
			return 0, fmt.Errorf("starting the CPU profile: %w", err)
		}
	}
	start := time.Now()
	work(ctx)
	elapsed := time.Since(start)
	if out != nil {
		pprof.StopCPUProfile()
		if err := out.Close(); err != nil {
			return elapsed, fmt.Errorf("writing the CPU profile: %w", err)
		}
	}
	return elapsed, nil
}

// Fatal prints err, prefixed with the program's name, and exits with status 1.
func Fatal(name string, err error) {
	fmt.Fprintf(os.Stderr, "%s: %v\n", name, err)
	os.Exit(1)
}

// ProfileHint is the end of every summary line: how to read the profile, or
// how to get one.
func ProfileHint(f Flags) string {
	if f.CPUProfile == "" {
		return "run with -cpuprofile FILE to record a profile"
	}
	return "read it with: diagctl preempt-share " + f.CPUProfile
}
