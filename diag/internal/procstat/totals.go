package procstat

// Totals is what the process (or its cgroup) has accumulated so far, read
// now: the counters behind the agent's Prometheus *_total metrics. Unlike a
// Snapshot it is exported field by field, since the caller keeps its own
// running sums. Nil (or an empty Threads) is unavailable.
type Totals struct {
	// InvoluntaryCtxSwitches is ru_nivcsw of getrusage(RUSAGE_SELF).
	InvoluntaryCtxSwitches *int64
	// CgroupPeriods, CgroupThrottledPeriods and CgroupThrottledSeconds are
	// the cpu.stat counters of the cgroup that sets the effective CPU limit
	// (the process's own without a limit), as in a Snapshot. CgroupDir is
	// that cgroup's directory: when it changes, so do the counters.
	CgroupPeriods          *int64
	CgroupThrottledPeriods *int64
	CgroupThrottledSeconds *float64
	CgroupDir              string
	// Threads is the run-queue wait of each thread read from
	// /proc/self/task/*/schedstat (the lowest MaxSchedstatThreads tids),
	// sorted by tid; ThreadsCapped says the process had more.
	Threads       []ThreadWait
	ThreadsCapped bool
}

// ThreadWait is one thread's time waiting on a run queue since the thread
// started (field 2 of its schedstat).
type ThreadWait struct {
	TID    uint32
	WaitNs uint64
}

// ReadTotals reads the counters now: a getrusage call, and on Linux the
// cgroup files and the threads' schedstat, as Take does (about 0.2ms for a
// handful of threads).
func ReadTotals() Totals {
	var t Totals
	if ru := readRusage(); ru.ok {
		t.InvoluntaryCtxSwitches = ptr(ru.v.ivcsw)
	}
	if cg := readCgroup(); cg.version != "" {
		t.CgroupDir = cg.dir
		if cg.periods.ok {
			t.CgroupPeriods = ptr(cg.periods.v)
		}
		if cg.throttled.ok {
			t.CgroupThrottledPeriods = ptr(cg.throttled.v)
		}
		if cg.throttledNs.ok {
			t.CgroupThrottledSeconds = ptr(float64(cg.throttledNs.v) / 1e9)
		}
	}
	s := readSched()
	if len(s.threads) > 0 {
		t.Threads = make([]ThreadWait, len(s.threads))
		for i, th := range s.threads {
			t.Threads[i] = ThreadWait{TID: th.tid, WaitNs: th.wait}
		}
		t.ThreadsCapped = s.capped
	}
	return t
}
