package tracesum

import (
	"io"
	"os"
	"os/signal"
	"runtime/pprof"
	"strings"
	"syscall"
	"testing"
	"time"
)

// byDesignNames are the waiters TestByDesignWaits starts: the CPU profiler's
// reader and os/signal's receiver.
var byDesignNames = []string{"runtime.(*profBuf).read", "os/signal.signal_recv"}

// TestByDesignWaits: a CPU profile and signal.Notify during the trace, as a
// diagkit agent runs them. Their goroutines wait in the syscall state by
// design (the profiler's reader until there are samples to read, os/signal's
// receiver until a signal comes): not long Syscall regions of the program.
// They are counted apart, in ByDesign.
func TestByDesignWaits(t *testing.T) {
	rec := record(t, 2, func() {
		if err := pprof.StartCPUProfile(io.Discard); err != nil {
			t.Skipf("cannot start a CPU profile: %v", err)
		}
		c := make(chan os.Signal, 1)
		signal.Notify(c, syscall.SIGUSR1)
		// Idle: the profiler's reader has nothing to read, and waits.
		time.Sleep(300 * time.Millisecond)
		// One signal: the receiver's wait ends and another begins.
		if err := syscall.Kill(os.Getpid(), syscall.SIGUSR1); err != nil {
			t.Error(err)
		}
		<-c
		time.Sleep(300 * time.Millisecond)
		signal.Stop(c)
		// Stopping the profile wakes its reader: a wait seen whole.
		pprof.StopCPUProfile()
	})
	s := rec.s
	t.Logf("syscalls %+v\nby design %+v\ninterpretation %q", s.Syscalls.Sites, s.ByDesign, s.Interpretation)
	for _, name := range byDesignNames {
		if strings.Contains(s.Interpretation, name) {
			t.Errorf("interpretation %q names %s, which waits by design", s.Interpretation, name)
		}
		for _, site := range s.Syscalls.Sites {
			if site.Function == name {
				t.Errorf("system call site %+v: %s waits by design, it is not the program's system call", site, name)
			}
		}
		for _, c := range s.Syscalls.Longest {
			if c.Function == name {
				t.Errorf("longest system call %+v: %s waits by design", c, name)
			}
		}
	}
	if strings.Contains(strings.ToLower(s.Interpretation), "long syscall regions") {
		t.Errorf("interpretation %q: the workload made no long system call of its own", s.Interpretation)
	}
	// Counted apart, not dropped: both waiters, the profiler's reader at
	// least once seen whole (StopCPUProfile woke it).
	found := map[string]int64{}
	for _, site := range s.ByDesign.Sites {
		found[site.Function] = site.Count
	}
	for _, name := range byDesignNames {
		if found[name] == 0 {
			t.Errorf("by-design waits %+v: no %s", s.ByDesign.Sites, name)
		}
	}
	if s.ByDesign.Count < 2 || s.ByDesign.Count-s.ByDesign.Open < 1 || s.ByDesign.TotalSeconds <= 0 {
		t.Errorf("by-design waits: %d, %d cut by the trace, %.3f s in all; want 2 or more, one seen whole", s.ByDesign.Count, s.ByDesign.Open, s.ByDesign.TotalSeconds)
	}
}
