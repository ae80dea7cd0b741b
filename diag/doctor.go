package diag

import (
	"fmt"
	"io"
	"runtime"
	"runtime/pprof"
	"time"

	"github.com/diagkit/diagkit/diag/api"
	"github.com/diagkit/diagkit/diag/internal/procstat"
	"github.com/diagkit/diagkit/internal/doctor"
)

// PathDoctor serves the tuning guide's checklist, checked against this
// process (Agent.Doctor).
const PathDoctor = "/debug/diag/doctor"

const (
	// doctorWindows is how many recent windows the profile-based checks
	// rest on: 10 minutes with the default 60 s interval.
	doctorWindows = 10
	// doctorCacheTTL is how long a doctor report is served again rather
	// than checked anew: a dashboard refreshing every few seconds must not
	// dump every goroutine's stack each time.
	doctorCacheTTL = 10 * time.Second
	// maxDumpGoroutines bounds the goroutine dump the LockOSThread check
	// reads: the dump stops the world while it runs, measured at 2.6 ms
	// for 1,000 goroutines, 4.2 ms for 2,000 and 25 ms for 9,000 on a
	// 2-vCPU VM (BENCHMARKS.md). Above it the check says unknown.
	maxDumpGoroutines = 2_000
	// lockedTTL is how long a dump's result is reused: at most one such
	// pause every 5 minutes, however often the doctor is asked.
	lockedTTL = 5 * time.Minute
)

// doctorContext turns a snapshot into the process's runtime and cgroup
// state for the doctor; tests replace it to put the process under a cgroup
// limit.
var doctorContext = func(s procstat.Snapshot) api.Context {
	return procstat.Context(procstat.Snapshot{}, s)
}

// Doctor checks the preemption tuning guide's checklist against this
// process: its Go version and settings, its cgroup, its locked goroutines,
// and the last windows the agent analyzed (up to 10). A report is reused for
// up to 10 s.
func (a *Agent) Doctor() api.DoctorReport {
	a.doctorMu.Lock()
	defer a.doctorMu.Unlock()
	now := time.Now()
	if a.doctorAt.IsZero() || now.Sub(a.doctorAt) >= doctorCacheTTL {
		a.doctorReport = doctor.Run(a.doctorFacts(), a.doctorThresholds())
		a.doctorReport.Time = now
		a.doctorAt = now
	}
	r := a.doctorReport
	r.Checks = append([]api.Check(nil), r.Checks...)
	return r
}

func (a *Agent) doctorThresholds() doctor.Thresholds {
	return doctor.Thresholds{
		AsyncPreempt: a.cfg.AsyncPreemptThreshold,
		Cgo:          a.cfg.CgoThreshold,
		CgoCallRate:  a.cfg.CgoCallRateThreshold,
		SchedLatency: a.cfg.SchedLatencyThreshold.Seconds(),
		Throttle:     a.cfg.ThrottleThreshold,
		Contention:   a.cfg.ContentionThreshold,
		MinSamples:   a.cfg.MinSamples,
	}
}

func (a *Agent) doctorFacts() doctor.Facts {
	snap := procstat.Take()
	c := doctorContext(snap)
	gc := snap.GC()
	off := c.AsyncPreemptOff
	f := doctor.Facts{
		Source:             doctor.SourceAgent,
		GoVersion:          runtime.Version(),
		GOMAXPROCS:         c.GOMAXPROCS,
		NumCPU:             c.NumCPU,
		CgroupRead:         runtime.GOOS == "linux",
		CgroupCPULimit:     c.CgroupCPULimit,
		CgroupCPULimitPath: c.CgroupCPULimitPath,
		AsyncPreemptOff:    &off,
		OSThreads:          c.OSThreads,
		GOGC:               gc.Percent,
		MemoryLimit:        gc.MemoryLimit,
		GCCPUFraction:      gc.CPUFraction,
	}
	if gc.CPUFraction != nil {
		f.GCFrom = "since the process started"
	}
	if p := pprof.Lookup("threadcreate"); p != nil {
		n := int64(p.Count())
		f.ThreadsCreated = &n
	}
	f.Locked, f.LockedUnknown = a.lockedGoroutines()
	doctor.FromWindows(&f, a.History(doctorWindows), a.cfg.Top)
	return f
}

// lockedGoroutines reads the goroutines locked to their thread from a
// goroutine dump, at most once per lockedTTL, and only with at most
// maxDumpGoroutines goroutines. The caller holds doctorMu.
func (a *Agent) lockedGoroutines() (*doctor.Locked, string) {
	if !a.lockedAt.IsZero() && time.Since(a.lockedAt) < lockedTTL {
		return a.locked, a.lockedWhy
	}
	a.locked, a.lockedWhy = nil, ""
	if n := runtime.NumGoroutine(); n > maxDumpGoroutines {
		a.lockedWhy = fmt.Sprintf("%d goroutines: not dumping their stacks above %d (the dump stops the world for milliseconds); "+
			"read /debug/pprof/goroutine?debug=2 at a quiet moment and look for \"locked to thread\"", n, maxDumpGoroutines)
	} else {
		pr, pw := io.Pipe()
		go func() {
			pw.CloseWithError(pprof.Lookup("goroutine").WriteTo(pw, 2))
		}()
		locked, err := doctor.ScanLocked(pr)
		pr.CloseWithError(io.EOF) // unblocks the writer if the scan stopped early
		if err != nil {
			a.lockedWhy = "goroutine dump unreadable: " + err.Error()
		}
		a.locked = locked
	}
	a.lockedAt = time.Now()
	return a.locked, a.lockedWhy
}
