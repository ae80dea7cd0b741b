package procstat

import (
	"math"
	"runtime"
	"time"

	"github.com/diagkit/diagkit/diag/api"
)

// Snapshot is the process's counters and gauges at one instant. The zero
// Snapshot is valid and has nothing available.
type Snapshot struct {
	at              time.Time
	rt              runtimeStats
	ru              opt[rusage]
	cg              cgroupStat
	sched           schedStat
	host            opt[hostCPU]
	numCPU          int
	asyncPreemptOff bool
}

// Take reads everything now: a runtime/metrics read and a getrusage call
// (about 1µs each), and on Linux a dozen small files under /proc and the
// cgroup filesystem, which dominate: about 175µs and 27KB of garbage on a
// small VM with a handful of threads (BenchmarkTake; the cgroup files are
// about 120µs of it, /proc/stat 17µs). Reading /proc/self/task/*/schedstat
// adds about 7µs a thread, up to MaxSchedstatThreads: 0.1ms at 10 threads,
// 0.7ms at 100, 8.6ms at 1,000 (BenchmarkSnapshotSchedstat), with no
// allocation per thread beyond listing the directory. That is cheap at both
// ends of a window of seconds; do not call it in a hot loop. It is safe to
// call from several goroutines at once.
func Take() Snapshot {
	s := Snapshot{
		at:              time.Now(),
		rt:              readRuntime(),
		ru:              readRusage(),
		cg:              readCgroup(),
		sched:           readSched(),
		host:            readHostCPU(),
		numCPU:          runtime.NumCPU(),
		asyncPreemptOff: effectiveAsyncPreemptOff(),
	}
	if !s.rt.threads.ok {
		s.rt.threads = readOSThreads()
	}
	return s
}

// Context turns the snapshots taken at the start and the end of a window into
// an api.Context: counters are deltas from start to end, rates are per second
// of wall time between the two, and gauges are end's. A counter that went
// backwards (end taken before start, a moved cgroup) is unavailable, as is
// everything start or end lacks.
//
// The run-queue wait sums the threads read at both ends and the threads
// created inside the window (their counters start at zero): a thread that
// ended inside the window contributes nothing (its time before it ended is
// not in the end's schedstat), and a thread whose counters went backwards
// (its tid reused) is skipped. So it undercounts a process that churns
// threads; a Go process mostly keeps its threads.
func Context(start, end Snapshot) api.Context {
	c := api.Context{
		GoVersion:       runtime.Version(),
		GOMAXPROCS:      int(end.rt.gomaxprocs.v),
		NumCPU:          end.numCPU,
		AsyncPreemptOff: end.asyncPreemptOff,
	}
	var secs float64
	if !start.at.IsZero() && !end.at.IsZero() {
		secs = end.at.Sub(start.at).Seconds()
	}
	perSecond := func(n int64) *float64 {
		if secs <= 0 {
			return nil
		}
		return ptr(float64(n) / secs)
	}

	// Cgroup: the limit is a gauge; throttling counts only when both ends
	// read the same cgroup.
	c.CgroupVersion = end.cg.version
	if end.cg.limit.ok {
		c.CgroupCPULimit = ptr(end.cg.limit.v)
		c.CgroupCPULimitPath = end.cg.limitPath
	}
	if start.cg.version != "" && start.cg.version == end.cg.version && start.cg.dir == end.cg.dir {
		if d, ok := deltaInt(start.cg.periods, end.cg.periods); ok {
			c.CgroupPeriods = ptr(d)
		}
		if d, ok := deltaInt(start.cg.throttled, end.cg.throttled); ok {
			c.CgroupThrottledPeriods = ptr(d)
		}
		if d, ok := deltaInt(start.cg.throttledNs, end.cg.throttledNs); ok {
			c.CgroupThrottledSeconds = ptr(time.Duration(d).Seconds())
			if secs > 0 {
				c.CgroupThrottledSecondsPerSecond = ptr(time.Duration(d).Seconds() / secs)
			}
		}
		if c.CgroupPeriods != nil && c.CgroupThrottledPeriods != nil && *c.CgroupPeriods > 0 {
			c.CgroupThrottledShare = ptr(float64(*c.CgroupThrottledPeriods) / float64(*c.CgroupPeriods))
		}
	}

	// schedstat, over the threads read at both ends.
	runQueue(&c, start.sched, end.sched, secs)

	// getrusage.
	if start.ru.ok && end.ru.ok {
		s, e := start.ru.v, end.ru.v
		if e.cpu >= s.cpu {
			c.ProcessCPUSeconds = ptr((e.cpu - s.cpu).Seconds())
		}
		if e.ivcsw >= s.ivcsw {
			d := e.ivcsw - s.ivcsw
			c.InvoluntaryCtxSwitches = ptr(d)
			c.InvoluntaryCtxSwitchesPerSecond = perSecond(d)
		}
		if e.vcsw >= s.vcsw {
			c.VoluntaryCtxSwitches = ptr(e.vcsw - s.vcsw)
		}
	}

	// /proc/stat, less this process's CPU.
	hostCPUs(&c, start.host, end.host, secs)

	// runtime/metrics.
	if d, ok := end.rt.schedLat.sub(start.rt.schedLat); ok {
		c.SchedLatency = d.latency()
	}
	if d, ok := deltaUint(start.rt.cgoCalls, end.rt.cgoCalls); ok {
		c.CgoCalls = ptr(d)
		c.CgoCallsPerSecond = perSecond(d)
	}
	c.Goroutines = gauge(end.rt.goroutines)
	c.RunnableGoroutines = gauge(end.rt.runnable)
	c.RunningGoroutines = gauge(end.rt.running)
	c.OSThreads = gauge(end.rt.threads)
	c.GCCPUFraction = gcFraction(start.rt, end.rt)
	return c
}

// GC is the garbage collector's settings at a snapshot, and its cost since
// the process started. Nil is unavailable.
type GC struct {
	// Percent is GOGC, -1 when off.
	Percent *int64
	// MemoryLimit is GOMEMLIMIT in bytes, math.MaxInt64 when there is none.
	MemoryLimit *int64
	// CPUFraction is the GC's share of the CPU the process has used since
	// it started (as of the last GC cycle's end).
	CPUFraction *float64
}

// GC reads the garbage collector's figures from the snapshot.
func (s Snapshot) GC() GC {
	var g GC
	if p := s.rt.gogc; p.ok {
		// GOGC=off reads as the uint64 of -1.
		v := int64(p.v)
		if v < 0 {
			v = -1
		}
		g.Percent = &v
	}
	if l := s.rt.memoryLimit; l.ok {
		g.MemoryLimit = ptr(int64(min(l.v, math.MaxInt64)))
	}
	zero := some(0.0)
	g.CPUFraction = gcFraction(runtimeStats{cpuGC: zero, cpuTotal: zero, cpuIdle: zero}, s.rt)
	return g
}

// gcFraction is the GC's share of the CPU the process used between two
// reads of /cpu/classes, or nil. The runtime updates those metrics only when
// a GC cycle ends, so a window without a GC has nothing to divide.
func gcFraction(s, e runtimeStats) *float64 {
	if !s.cpuGC.ok || !e.cpuGC.ok || !s.cpuTotal.ok || !e.cpuTotal.ok || !s.cpuIdle.ok || !e.cpuIdle.ok {
		return nil
	}
	gc := e.cpuGC.v - s.cpuGC.v
	used := (e.cpuTotal.v - e.cpuIdle.v) - (s.cpuTotal.v - s.cpuIdle.v)
	if !(used > 0) || gc < 0 {
		return nil
	}
	f := gc / used
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return nil
	}
	return ptr(min(f, 1))
}

// opt is a value that may be unavailable.
type opt[T any] struct {
	v  T
	ok bool
}

func some[T any](v T) opt[T] { return opt[T]{v: v, ok: true} }

func ptr[T any](v T) *T { return &v }

// gauge is an unsigned gauge as api.Context wants it, or nil.
func gauge(g opt[uint64]) *int64 {
	if !g.ok || g.v > math.MaxInt64 {
		return nil
	}
	return ptr(int64(g.v))
}

// deltaUint is end-start, when both are available and end >= start.
func deltaUint(start, end opt[uint64]) (int64, bool) {
	if !start.ok || !end.ok || end.v < start.v || end.v-start.v > math.MaxInt64 {
		return 0, false
	}
	return int64(end.v - start.v), true
}

// deltaInt is end-start, when both are available and end >= start.
func deltaInt(start, end opt[int64]) (int64, bool) {
	if !start.ok || !end.ok || end.v < start.v {
		return 0, false
	}
	return end.v - start.v, true
}
