package main

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// loadTracker records how busy the machine was over a part of the benchmark:
// the 1-minute load average after each round, and from /proc/stat the share
// of all CPUs that was busy, split into this process with its children and
// everything else.
type loadTracker struct {
	start            time.Time
	busy0, total0    uint64
	steal0           uint64
	own0             time.Duration
	loads            []float64
	busyFrac, others float64 // others: CPUs' worth of time used by other processes
	stealFrac        float64 // share of the CPUs' time the hypervisor gave elsewhere
	ok               bool
}

func newLoadTracker() *loadTracker {
	t := &loadTracker{start: time.Now(), own0: ownCPU()}
	t.busy0, t.steal0, t.total0, t.ok = procStat()
	t.sample()
	return t
}

func (t *loadTracker) sample() {
	if f, err := strconv.ParseFloat(strings.Fields(loadavg() + " x")[0], 64); err == nil {
		t.loads = append(t.loads, f)
	}
}

func (t *loadTracker) stop() {
	t.sample()
	busy, steal, total, ok := procStat()
	if !ok || !t.ok || total <= t.total0 {
		t.ok = false
		return
	}
	t.busyFrac = float64(busy-t.busy0) / float64(total-t.total0)
	t.stealFrac = float64(steal-t.steal0) / float64(total-t.total0)
	wall := time.Since(t.start).Seconds()
	machineBusy := t.busyFrac * float64(runtime.NumCPU()) * wall // CPU-seconds
	t.others = max(0, machineBusy-(ownCPU()-t.own0).Seconds()) / wall
}

func (t *loadTracker) String() string {
	if len(t.loads) == 0 {
		return "load unknown"
	}
	s := summarize(t.loads)
	out := fmt.Sprintf("load average (1 min) %.1f–%.1f, median %.1f", s.min, s.max, s.median)
	if t.ok {
		out += fmt.Sprintf("; CPUs %.0f %% busy, of which other processes than the harness used %.2f of %d CPUs on average; steal %.1f %%",
			100*t.busyFrac, t.others, runtime.NumCPU(), 100*t.stealFrac)
	}
	return out
}

// procStat reads the busy, steal and total jiffies of all CPUs from
// /proc/stat. Busy excludes idle, iowait and steal.
func procStat() (busy, steal, total uint64, ok bool) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, 0, 0, false
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	if len(f) < 8 || f[0] != "cpu" {
		return 0, 0, 0, false
	}
	var idle uint64
	for i, s := range f[1:] {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			return 0, 0, 0, false
		}
		if i >= 8 { // guest and guest_nice are already in user and nice
			break
		}
		total += v
		switch i {
		case 3, 4: // idle, iowait
			idle += v
		case 7:
			steal = v
		}
	}
	return total - idle - steal, steal, total, true
}

// ownCPU is the CPU time of this process and of its waited-for children.
func ownCPU() time.Duration {
	var self, children syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &self) != nil || syscall.Getrusage(syscall.RUSAGE_CHILDREN, &children) != nil {
		return 0
	}
	return time.Duration(self.Utime.Nano() + self.Stime.Nano() + children.Utime.Nano() + children.Stime.Nano())
}
