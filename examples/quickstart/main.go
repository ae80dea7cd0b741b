// Command quickstart shows diagkit end to end in about twenty seconds:
//
//		go run ./examples/quickstart
//
//	 1. A service starts with the diagkit agent (demo settings: 2 s windows,
//	    back to back) serving on 127.0.0.1:6060.
//	 2. It has the classic container problem: GOMAXPROCS far above the CPUs it
//	    really gets, and goroutines in loops without function calls.
//	 3. The agent logs a warning within seconds: the async-preempt share, the
//	    likely cause (GOMAXPROCS above the CPUs) and the loop responsible.
//	 4. diagctl reads the agent's latest window, with the process context
//	    and the warning, and explains it.
//	 5. diagctl doctor walks the tuning guide's checklist against the
//	    service: GOMAXPROCS, the async-preempt share, the hot loop and the
//	    scheduling latency fail, with the evidence and the advice.
//
// With -keep the service keeps running after the demo so you can point
// diagctl or a browser at it; stop it with Ctrl-C.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/diagkit/diagkit/diag"
	"github.com/diagkit/diagkit/diag/api"
	examplerun "github.com/diagkit/diagkit/examples/internal/run"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:6060", "agent address (a free port is used if it is taken)")
	keep := flag.Bool("keep", false, "keep serving after the demo, until interrupted")
	flag.Parse()
	if err := run(*addr, *keep); err != nil {
		fmt.Fprintln(os.Stderr, "quickstart:", err)
		os.Exit(1)
	}
}

func run(addr string, keep bool) error {
	cfg := diag.Config{
		Addr:     addr,
		Window:   2 * time.Second,
		Interval: 2 * time.Second, // continuous, so the demo is quick
		Cooldown: time.Minute,
		Logger:   consoleLogger(),
	}
	step("1. A service with the diagkit agent")
	agent, err := diag.Start(cfg)
	if err != nil {
		fmt.Printf("   %v; using a free port instead\n", err)
		cfg.Addr = "127.0.0.1:0"
		if agent, err = diag.Start(cfg); err != nil {
			return err
		}
	}
	defer agent.Stop()
	base := "http://" + agent.Addr()
	fmt.Printf("   agent on %s: pprof at %s/debug/pprof/, reports at %s%s\n", agent.Addr(), base, base, diag.PathReport)

	procs := 4 * runtime.NumCPU()
	goroutines := 2 * procs
	step(fmt.Sprintf("2. The problem: GOMAXPROCS=%d on %d CPUs, %d goroutines in loops without function calls",
		procs, runtime.NumCPU(), goroutines))
	runtime.GOMAXPROCS(procs)
	var stop atomic.Bool
	var wg sync.WaitGroup
	for range goroutines {
		wg.Add(1)
		go func() { defer wg.Done(); sink.Add(checksum(&stop)) }()
	}
	defer func() { stop.Store(true); wg.Wait() }()

	step("3. Waiting for the agent's warning (its log line is above)")
	warning, err := waitForWarning(agent, 30*time.Second)
	if err != nil {
		return err
	}
	fmt.Printf("   async preemption took %.1f%% of CPU (threshold %.0f%%)\n", 100*warning.Value, 100*warning.Threshold)
	if len(warning.Causes) > 0 {
		fmt.Printf("   likely cause: %s\n", warning.Causes[0])
	}
	if len(warning.Functions) > 0 {
		fmt.Printf("   loop responsible: %s\n", warning.Functions[0])
	}

	diagctl, cleanup, err := buildDiagctl()
	if err != nil {
		return err
	}
	defer cleanup()

	step("4. diagctl reads the service: the agent's latest window, with its context and warnings")
	fmt.Printf("   $ diagctl preempt-share %s\n\n", agent.Addr())
	if err := runDiagctl(diagctl, "preempt-share", agent.Addr()); err != nil {
		return err
	}

	step("5. diagctl doctor walks the tuning guide's checklist against the service")
	fmt.Printf("   $ diagctl doctor %s\n\n", agent.Addr())
	// Exit 3 is the doctor saying an item failed: the demo's point.
	if err := runDiagctl(diagctl, "doctor", agent.Addr()); err != nil {
		var exit *exec.ExitError
		if !errors.As(err, &exit) || exit.ExitCode() != 3 {
			return err
		}
	}

	if keep {
		step("Serving until interrupted: open  " + base + diag.PathDashboard + "  in a browser, or try  diagctl watch " + agent.Addr())
		ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt)
		defer cancel()
		<-ctx.Done()
	}
	step("Done: the fix is GOMAXPROCS at or below the CPUs the service gets (Go 1.25+ reads the cgroup quota itself)")
	return nil
}

var sink atomic.Uint64

// checksum is the kind of loop the tuning guide warns about: arithmetic with
// no function call, which only a signal (async preemption) can interrupt.
//
//go:noinline
func checksum(stop *atomic.Bool) uint64 {
	var x uint64
	for !stop.Load() {
		for i := range 100_000_000 {
			x = x*31 + uint64(i)
		}
	}
	return x
}

// buildDiagctl builds diagctl from this module into a temporary directory,
// so the demo can show its exit codes (go run turns them all into 1).
func buildDiagctl() (path string, cleanup func(), err error) {
	dir, err := os.MkdirTemp("", "diagkit-quickstart-")
	if err != nil {
		return "", nil, err
	}
	cleanup = func() { os.RemoveAll(dir) }
	path = filepath.Join(dir, "diagctl")
	cmd := exec.Command("go", "build", "-o", path, "github.com/diagkit/diagkit/cmd/diagctl")
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	if err := cmd.Run(); err != nil {
		cleanup()
		return "", nil, fmt.Errorf("building diagctl: %w", err)
	}
	return path, cleanup, nil
}

func runDiagctl(path string, args ...string) error {
	cmd := exec.Command(path, args...)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("diagctl %s: %w", args[0], err)
	}
	return nil
}

func waitForWarning(agent *diag.Agent, timeout time.Duration) (api.Warning, error) {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if r := agent.Latest(); r != nil {
			for _, w := range r.Warnings {
				if w.Kind == api.WarnAsyncPreempt {
					return w, nil
				}
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	return api.Warning{}, fmt.Errorf("no async-preempt warning within %v (is the machine idle enough to notice contention?)", timeout)
}

func step(s string) { fmt.Printf("\n== %s\n", s) }

// consoleLogger is zap's console format, easier on the eyes in a demo than
// the production JSON that diag/auto uses. It writes to standard output
// with the demo's steps, its levels in colour only on a terminal without
// NO_COLOR: a file or a pipe gets no escape codes.
func consoleLogger() *zap.Logger {
	cfg := zap.NewDevelopmentConfig()
	cfg.DisableStacktrace = true
	cfg.EncoderConfig.EncodeLevel = logLevelEncoder(examplerun.Colour(os.Stdout))
	cfg.OutputPaths = []string{"stdout"}
	log, err := cfg.Build()
	if err != nil {
		return zap.NewNop()
	}
	return log
}

// logLevelEncoder is the level in capitals, coloured or not.
func logLevelEncoder(colour bool) zapcore.LevelEncoder {
	if colour {
		return zapcore.CapitalColorLevelEncoder
	}
	return zapcore.CapitalLevelEncoder
}
