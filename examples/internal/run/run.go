// Package run is what the example programs share: the -duration,
// -cpuprofile and -agent flags, and running a workload for that long under
// a CPU profile or with the diagkit agent.
//
// With -agent ADDR the example starts the diagkit agent on ADDR before the
// workload (configured by the DIAGKIT_* environment variables, as diag/auto
// is, but for the address), prints
//
//	diagkit agent on http://127.0.0.1:PORT
//
// with the address it bound (so 127.0.0.1:0 works), and stops the agent when
// the workload ends. Point diagctl at it while the example runs:
//
//	go run ./examples/tightloop -agent 127.0.0.1:6060 -duration 60s
//	diagctl doctor 127.0.0.1:6060
//
// The agent owns the process's CPU profiler, so -agent and -cpuprofile
// cannot be used together.
package run

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/pprof"
	"time"

	"github.com/diagkit/diagkit/diag"
)

// stdout receives the agent's address line; tests replace it.
var stdout io.Writer = os.Stdout

// Flags are the options every example takes.
type Flags struct {
	// Duration is how long the workload runs (-duration).
	Duration time.Duration
	// CPUProfile is the file to write a CPU profile of the run to, "" for
	// none (-cpuprofile).
	CPUProfile string
	// Agent is the address the diagkit agent listens on while the workload
	// runs, "" for no agent (-agent).
	Agent string
}

// Register defines -duration (defaulting to def), -cpuprofile and -agent on
// fs.
func (f *Flags) Register(fs *flag.FlagSet, def time.Duration) {
	fs.DurationVar(&f.Duration, "duration", def, "how long to run the workload")
	fs.StringVar(&f.CPUProfile, "cpuprofile", "", "write a CPU profile of the run to `file`")
	fs.StringVar(&f.Agent, "agent", "", "run the diagkit agent on `addr` (e.g. 127.0.0.1:0) while the workload runs; not with -cpuprofile")
}

// UsageError is an invalid combination of flags; Fatal exits 2 for it, as
// the flag package does for a bad flag.
type UsageError struct{ msg string }

func (e *UsageError) Error() string { return e.msg }

// Run calls work with a context that ends after f.Duration or at an
// interrupt (Ctrl-C), whichever comes first. When f.CPUProfile is set, the
// call runs under a CPU profile written to that file; when f.Agent is set,
// the diagkit agent serves on that address from before the call until after
// it, and its address is printed to standard output first. Run returns the
// time work took.
func Run(f Flags, work func(ctx context.Context)) (time.Duration, error) {
	if f.Agent != "" && f.CPUProfile != "" {
		return 0, &UsageError{"-agent and -cpuprofile cannot be used together: the agent owns the CPU profiler (read the profile from the agent's /debug/pprof/profile instead)"}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()

	if f.Agent != "" {
		agent, err := startAgent(f.Agent)
		if err != nil {
			return 0, err
		}
		defer agent.Stop()
	}

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
	// The duration starts with the workload, not with the agent.
	ctx, cancel := context.WithTimeout(ctx, f.Duration)
	defer cancel()
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

// startAgent starts the diagkit agent on addr, configured otherwise by the
// DIAGKIT_* environment variables (its logger is diag's default: JSON on
// standard error), and prints where it listens.
func startAgent(addr string) (*diag.Agent, error) {
	// DIAGKIT_DISABLE concerns diag/auto; -agent asks for the agent.
	cfg, _, err := diag.ConfigFromEnv(os.LookupEnv)
	if err != nil {
		return nil, err
	}
	cfg.Addr = addr
	agent, err := diag.Start(cfg)
	if err != nil {
		return nil, err
	}
	scheme := "http"
	if cfg.TLSCertFile != "" {
		scheme = "https"
	}
	fmt.Fprintf(stdout, "diagkit agent on %s://%s\n", scheme, agent.Addr())
	return agent, nil
}

// Fatal prints err, prefixed with the program's name, and exits with status
// 1, or 2 for a UsageError.
func Fatal(name string, err error) {
	fmt.Fprintf(os.Stderr, "%s: %v\n", name, err)
	if ue := (*UsageError)(nil); errors.As(err, &ue) {
		os.Exit(2)
	}
	os.Exit(1)
}

// ProfileHint is the end of every summary line: how to read the profile, or
// how to get one.
func ProfileHint(f Flags) string {
	switch {
	case f.Agent != "":
		return "the agent served it at the address printed first; diagctl doctor reads it while it runs"
	case f.CPUProfile == "":
		return "run with -cpuprofile FILE to record a profile, or -agent ADDR to read it live"
	}
	return "read it with: diagctl preempt-share " + f.CPUProfile
}
