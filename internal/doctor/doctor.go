// Package doctor checks the preemption tuning guide's checklist against what
// is known of one process: its runtime settings, its environment and its
// analyzed CPU profiles. The agent fills Facts from inside the process;
// diagctl fills what it can from a plain net/http/pprof server. Run is pure:
// no clock, no I/O.
package doctor

import (
	"fmt"
	"math"
	"runtime"
	"strconv"
	"strings"

	"github.com/diagkit/diagkit/diag/analysis"
	"github.com/diagkit/diagkit/diag/api"
	"github.com/diagkit/diagkit/internal/stats"
	"github.com/diagkit/diagkit/internal/units"
)

// Sources of a report.
const (
	SourceAgent = "agent" // the diagkit agent inside the process
	SourcePprof = "pprof" // a plain net/http/pprof server
	SourceFile  = "file"  // a saved CPU profile
)

// Facts is what is known of a process. Nil pointers and zero values are
// unknown: a check that needs them says so.
type Facts struct {
	// Source is one of the Source* constants.
	Source string

	// GoVersion is runtime.Version() of the process ("go1.26.8"). When only
	// a lower bound is known (a trace's format version), set GoAtLeast.
	GoVersion string
	GoAtLeast bool
	// GoAtMost, with GoAtLeast, is the newest release the process may be
	// ("go1.20"); empty when there is no upper bound.
	GoAtMost string
	// GoVersionFrom says where GoVersion comes from when it is not the
	// process's own report, e.g. "execution trace format".
	GoVersionFrom string

	GOMAXPROCS int
	NumCPU     int
	// CgroupRead is true when the process's cgroup was looked at, so a nil
	// CgroupCPULimit means "no limit" rather than "unknown".
	CgroupRead     bool
	CgroupCPULimit *float64
	// CgroupCPULimitPath is the cgroup that sets CgroupCPULimit: the
	// tightest quota from the process's cgroup up to the root.
	CgroupCPULimitPath string
	// Throttling: the quota's periods and those throttled, summed over the
	// windows that counted both (CgroupFrom says how many, e.g. "over 10
	// windows"), and the throttled time per second of those windows.
	CgroupPeriods                   *int64
	CgroupThrottledPeriods          *int64
	CgroupThrottledSecondsPerSecond *float64
	CgroupFrom                      string

	// RunQueue is the run-queue wait of the worst window; nil when no
	// window read it, RunQueueUnknown then saying why.
	RunQueue        *RunQueue
	RunQueueUnknown string

	AsyncPreemptOff *bool

	// GOGC is the GC percent (negative: off); MemoryLimit the soft memory
	// limit in bytes (math.MaxInt64: none).
	GOGC          *int64
	MemoryLimit   *int64
	GCCPUFraction *float64
	// GCFrom says what GCCPUFraction covers, e.g. "since the process
	// started".
	GCFrom string

	// OSThreads is the number of OS threads the process has now;
	// ThreadsCreated how many it created (the threadcreate profile).
	OSThreads      *int64
	ThreadsCreated *int64
	// Locked describes the goroutines locked to their OS thread; nil when
	// no goroutine dump was read, LockedUnknown then saying why.
	Locked        *Locked
	LockedUnknown string

	// Profile is the merged analysis of recent CPU profiles; nil when none.
	Profile *Profile
	// CgoCallsPerSecond is the Go→C call rate over the profiled windows.
	CgoCallsPerSecond *float64
	// Sched is the scheduling latency; SchedFrom says what it was measured
	// over, e.g. "worst of 6 windows" or "1s execution trace".
	Sched     *api.Latency
	SchedFrom string
}

// Locked is what a goroutine dump tells of runtime.LockOSThread.
type Locked struct {
	// Goroutines is how many goroutines are locked to their thread.
	Goroutines int
	// Where lists up to a few of them: the function each is in and the
	// function that started it.
	Where []string
	// Places groups them by where they are: up to a few distinct places,
	// each with how many locked goroutines are there.
	Places []Place
}

// Place is where some locked goroutines are, and how many.
type Place struct {
	Where string
	Count int
}

// RunQueue is how long the process's threads waited on the kernel's run
// queue for a CPU over one window (/proc/self/task/*/schedstat), with who
// else used the machine's CPUs then.
type RunQueue struct {
	// WaitPerSecond is the wait in CPU-seconds per second of wall time;
	// WaitRatio the wait per second of CPU the same threads got.
	WaitPerSecond float64
	WaitRatio     float64
	// OtherCPUs and StealCPUs are the CPUs other processes and the
	// hypervisor used in that window; nil when unknown.
	OtherCPUs *float64
	StealCPUs *float64
	// ContextSwitchesPerSecond is the process's voluntary and involuntary
	// context switches per second in that window (getrusage): each puts a
	// thread back on a run queue once it wakes or is preempted. Nil when
	// unknown.
	ContextSwitchesPerSecond *float64
	// GOMAXPROCS, NumCPU and the effective cgroup CPU limit (nil: none or
	// unknown) in that window.
	GOMAXPROCS int
	NumCPU     int
	CPULimit   *float64
	// BusyGoroutines is the goroutines running and runnable at the end of
	// that window; nil when unknown.
	BusyGoroutines *int64
	// From says which window it is, e.g. "worst window of 10".
	From string
}

// Profile is the merge of one or more analyzed CPU profiles.
type Profile struct {
	Windows    int
	Samples    int64
	CPUSeconds float64
	// Shares of the merged CPU time.
	AsyncPreempt float64
	Cgo          float64
	CgoCrossing  float64
	// TopPreempted and TopCgoCalls are merged by function, most CPU first.
	TopPreempted []analysis.FuncStat
	TopCgoCalls  []analysis.FuncStat
}

// Thresholds are the figures the checks compare with; the agent passes its
// configured ones, diagctl its flags.
type Thresholds struct {
	AsyncPreempt float64 // share, e.g. 0.01
	Cgo          float64 // share of CPU in cgo (C and crossing)
	CgoCallRate  float64 // calls per second
	SchedLatency float64 // seconds, p99
	Throttle     float64 // share of cgroup periods throttled
	Contention   float64 // run-queue wait per second of CPU got
	MinSamples   int
}

// DefaultThresholds are the agent's defaults.
var DefaultThresholds = Thresholds{AsyncPreempt: 0.01, Cgo: 0.25, CgoCallRate: 100_000, SchedLatency: 0.010,
	Throttle: 0.25, Contention: 0.5, MinSamples: 100}

// As the agent judges its cpu_throttling and cpu_contention warnings
// (diag/causes.go).
const (
	// minThrottlePeriods is how many cgroup periods a throttled share needs
	// before it can be judged.
	minThrottlePeriods = 10
	// minContentionCPUs is the run-queue wait, in CPU-seconds per second,
	// below which waiting is not contention.
	minContentionCPUs = 0.1
	// minOtherCPUs is how much CPU other processes (or the hypervisor)
	// must take before the wait is blamed on them.
	minOtherCPUs = 0.25
)

// LatestGoMinor is the newest Go release (1.N) this version of diagkit knows
// of. The newer of it and the Go that built the checker counts as the latest
// release: the Go team supports that one and the one before it.
const LatestGoMinor = 26

// minGuideMinor is the checklist's "I am on Go 1.20+".
const minGuideMinor = 20

// Run checks every item of the checklist, in its order.
func Run(f Facts, th Thresholds) api.DoctorReport {
	checks := []api.Check{
		goVersion(f),
		gomaxprocs(f),
		asyncPreemptOff(f),
		asyncPreemptShare(f, th),
		cgo(f, th),
		lockOSThread(f),
		schedLatency(f, th),
		gogc(f),
		hotLoops(f, th),
		cpuThrottling(f, th),
		cpuContention(f, th),
		reMeasure(),
	}
	r := api.DoctorReport{Schema: api.DoctorSchema, Source: f.Source, Checks: checks}
	if f.Profile != nil {
		r.Windows = f.Profile.Windows
	}
	for _, c := range checks {
		switch c.Status {
		case api.StatusPass:
			r.Counts.Pass++
		case api.StatusWarn:
			r.Counts.Warn++
		case api.StatusFail:
			r.Counts.Fail++
		default:
			r.Counts.Unknown++
		}
	}
	return r
}

func check(id, title, advice string) api.Check {
	return api.Check{ID: id, Title: title, Advice: advice, Status: api.StatusUnknown, Evidence: []string{}}
}

func unknown(c api.Check, why string) api.Check {
	return set(c, api.StatusUnknown, why)
}

func set(c api.Check, status string, evidence ...string) api.Check {
	c.Status = status
	c.Evidence = append(c.Evidence, evidence...)
	return c
}

// ParseGoMinor returns N of a "go1.N[.P|rcR|betaB]" version, and whether
// it is a development build ("devel go1.27-…"). ok is false when v names no
// Go 1.N release.
func ParseGoMinor(v string) (minor int, devel, ok bool) {
	v = strings.TrimSpace(v)
	if rest, found := strings.CutPrefix(v, "devel "); found {
		devel = true
		v = rest
	}
	v, found := strings.CutPrefix(v, "go1.")
	if !found {
		return 0, devel, false
	}
	end := 0
	for end < len(v) && v[end] >= '0' && v[end] <= '9' {
		end++
	}
	if end == 0 || end > 4 {
		return 0, devel, false
	}
	n, err := strconv.Atoi(v[:end])
	if err != nil {
		return 0, devel, false
	}
	return n, devel, true
}

// latestMinor is the newest release the checker knows of.
func latestMinor() int {
	latest := LatestGoMinor
	if n, _, ok := ParseGoMinor(runtime.Version()); ok && n > latest {
		latest = n
	}
	return latest
}

func goVersion(f Facts) api.Check {
	c := check(api.CheckGoVersion, "Go is a recent, supported release",
		"Stay on a supported Go release (the latest two): each one improves preemption, cgo and the scheduler; re-benchmark before you upgrade production.")
	if f.GoVersion == "" {
		return unknown(c, "the Go version is not exposed by "+sourceName(f.Source))
	}
	minor, devel, ok := ParseGoMinor(f.GoVersion)
	if !ok {
		return unknown(c, fmt.Sprintf("unrecognized Go version %q", f.GoVersion))
	}
	latest := latestMinor()
	ev := f.GoVersion
	if f.GoAtLeast {
		ev = fmt.Sprintf("%s or later", f.GoVersion)
	}
	if f.GoVersionFrom != "" {
		ev += " (from the " + f.GoVersionFrom + ")"
	}
	supported := fmt.Sprintf("supported releases: go1.%d and go1.%d", latest, latest-1)
	switch {
	case devel:
		return set(c, api.StatusWarn, ev, "a development build: pin a release in production")
	case minor >= latest-1:
		return set(c, api.StatusPass, ev, supported)
	case f.GoAtLeast:
		// A range: judge by its newest release, which the process may be.
		most, _, ok := ParseGoMinor(f.GoAtMost)
		switch {
		case !ok:
			return set(c, api.StatusUnknown, ev, supported, "the exact version is not exposed by "+sourceName(f.Source))
		case most < minGuideMinor:
			return set(c, api.StatusFail, fmt.Sprintf("%s to %s", f.GoVersion, f.GoAtMost), fmt.Sprintf("older than Go 1.%d, the guide's minimum", minGuideMinor), supported)
		case most < latest-1:
			return set(c, api.StatusWarn, fmt.Sprintf("%s to %s", f.GoVersion, f.GoAtMost), "no longer supported by the Go team: no security fixes", supported)
		}
		return set(c, api.StatusUnknown, ev, supported, "the exact version is not exposed by "+sourceName(f.Source))
	case minor < minGuideMinor:
		return set(c, api.StatusFail, ev, fmt.Sprintf("older than Go 1.%d, the guide's minimum", minGuideMinor), supported)
	default:
		return set(c, api.StatusWarn, ev, "no longer supported by the Go team: no security fixes", supported)
	}
}

// DefaultGOMAXPROCS is what Go 1.25+ sets GOMAXPROCS to by default under a
// cgroup CPU limit: the limit rounded up, at least 2, at most NumCPU.
func DefaultGOMAXPROCS(limit float64, numCPU int) int {
	n := max(int(math.Ceil(limit)), 2)
	if numCPU > 0 && n > numCPU {
		n = numCPU
	}
	return n
}

func gomaxprocs(f Facts) api.Check {
	c := check(api.CheckGOMAXPROCS, "GOMAXPROCS fits the CPUs the process may use",
		"Let GOMAXPROCS follow the cgroup CPU limit (Go 1.25+ does by default; older Go: go.uber.org/automaxprocs) and remove any GOMAXPROCS override above it.")
	if f.GOMAXPROCS <= 0 {
		return unknown(c, "GOMAXPROCS is not exposed by "+sourceName(f.Source))
	}
	ev := []string{fmt.Sprintf("GOMAXPROCS %d", f.GOMAXPROCS)}
	if f.NumCPU > 0 {
		ev = append(ev, fmt.Sprintf("%d CPUs (runtime.NumCPU)", f.NumCPU))
	}
	var throttled float64
	if f.CgroupThrottledPeriods != nil && f.CgroupPeriods != nil && *f.CgroupPeriods > 0 {
		throttled = float64(*f.CgroupThrottledPeriods) / float64(*f.CgroupPeriods)
		ev = append(ev, fmt.Sprintf("throttled in %d of %d cgroup periods", *f.CgroupThrottledPeriods, *f.CgroupPeriods))
	}
	switch {
	case f.CgroupCPULimit != nil:
		limit := *f.CgroupCPULimit
		want := DefaultGOMAXPROCS(limit, f.NumCPU)
		ev = append(ev, fmt.Sprintf("cgroup CPU limit %s CPUs", trimFloat(limit)))
		if f.GOMAXPROCS > want {
			return set(c, api.StatusFail, append(ev, fmt.Sprintf("GOMAXPROCS above %d, what the limit allows: threads are throttled and preempted", want))...)
		}
	case f.CgroupRead:
		ev = append(ev, "no cgroup CPU limit")
	default:
		ev = append(ev, "cgroup CPU limit unknown")
	}
	if f.NumCPU > 0 && f.GOMAXPROCS > f.NumCPU {
		return set(c, api.StatusFail, append(ev, "GOMAXPROCS above the CPUs: more runnable threads than CPUs to run them")...)
	}
	if throttled > 0.1 {
		return set(c, api.StatusWarn, append(ev, fmt.Sprintf("%.0f%% of periods throttled: the process needs more CPU than its quota", 100*throttled))...)
	}
	if f.CgroupCPULimit == nil && !f.CgroupRead && f.NumCPU <= 0 {
		return set(c, api.StatusUnknown, append(ev, "neither the CPU count nor the cgroup limit is known")...)
	}
	return set(c, api.StatusPass, ev...)
}

func asyncPreemptOff(f Facts) api.Check {
	c := check(api.CheckAsyncPreemptOff, "async preemption is on (no GODEBUG=asyncpreemptoff=1)",
		"Never set GODEBUG=asyncpreemptoff=1 in production: it is a debugging tool, and loops without calls then stall the GC and the scheduler.")
	if f.AsyncPreemptOff == nil {
		return unknown(c, "GODEBUG is not exposed by "+sourceName(f.Source))
	}
	if *f.AsyncPreemptOff {
		return set(c, api.StatusFail, "asyncpreemptoff=1 (GODEBUG or the binary's //go:debug default)")
	}
	return set(c, api.StatusPass, "asyncpreemptoff not set")
}

func profileEvidence(p *Profile) string {
	return fmt.Sprintf("%d samples (%s CPU) over %d %s", p.Samples, units.FormatSeconds(p.CPUSeconds), p.Windows, plural(p.Windows, "profile", "profiles"))
}

func asyncPreemptShare(f Facts, th Thresholds) api.Check {
	c := check(api.CheckAsyncPreemptShare, thresholdTitle("async preemption under %s of CPU", th.AsyncPreempt >= 0, pct(th.AsyncPreempt)),
		"Above the threshold (the guide's is 1 %), preemption is unusually frequent: check GOMAXPROCS against the CPUs, goroutines competing for Ps, and loops that never reach a function call.")
	p := f.Profile
	if p == nil || p.Samples == 0 {
		return unknown(c, "no CPU profile analyzed yet")
	}
	ev := []string{fmt.Sprintf("runtime.asyncPreempt %s of CPU", pct(p.AsyncPreempt)), profileEvidence(p)}
	switch {
	case p.Samples < int64(th.MinSamples):
		return set(c, api.StatusUnknown, append(ev, fmt.Sprintf("fewer than %d samples: too few to judge", th.MinSamples))...)
	case th.AsyncPreempt >= 0 && stats.ShareAbove(p.AsyncPreempt, p.Samples, th.AsyncPreempt, th.MinSamples):
		return set(c, api.StatusFail, ev...)
	case th.AsyncPreempt >= 0 && p.AsyncPreempt > th.AsyncPreempt:
		return set(c, api.StatusWarn, append(ev, "above the threshold, but not by more than sampling noise")...)
	}
	return set(c, api.StatusPass, ev...)
}

func cgo(f Facts, th Thresholds) api.Check {
	c := check(api.CheckCgo, "cgo calls are short or batched",
		"Batch short C calls into fewer, larger ones: each crossing costs ~200 ns and cannot be preempted; keep long C calls off latency-sensitive paths.")
	p := f.Profile
	if p == nil && f.CgoCallsPerSecond == nil {
		return unknown(c, "no CPU profile analyzed and no cgo call count")
	}
	var ev []string
	if f.CgoCallsPerSecond != nil {
		ev = append(ev, fmt.Sprintf("%.0f cgo calls/s", *f.CgoCallsPerSecond))
	}
	if p != nil && p.Samples > 0 {
		ev = append(ev, fmt.Sprintf("cgo %s of CPU, of it crossing overhead %s", pct(p.Cgo), pct(p.CgoCrossing)))
		for _, s := range p.TopCgoCalls[:min(len(p.TopCgoCalls), 3)] {
			ev = append(ev, fmt.Sprintf("call site %s → %s: %s", s.Function, s.CFunction, pct(s.Share)))
		}
	}
	if p != nil && p.Samples > 0 && p.Samples < int64(th.MinSamples) && f.CgoCallsPerSecond == nil {
		return set(c, api.StatusUnknown, append(ev, fmt.Sprintf("fewer than %d samples: too few to judge", th.MinSamples))...)
	}
	switch {
	case p != nil && stats.ShareAbove(p.CgoCrossing, p.Samples, 0.01, th.MinSamples):
		return set(c, api.StatusFail, append(ev, "crossing overhead above 1 % of CPU: many short calls")...)
	case f.CgoCallsPerSecond != nil && th.CgoCallRate >= 0 && *f.CgoCallsPerSecond > th.CgoCallRate:
		return set(c, api.StatusWarn, append(ev, fmt.Sprintf("above %.0f calls/s", th.CgoCallRate))...)
	case p != nil && th.Cgo >= 0 && stats.ShareAbove(p.Cgo, p.Samples, th.Cgo, th.MinSamples):
		return set(c, api.StatusWarn, append(ev, fmt.Sprintf("above %s of CPU in C: long calls the scheduler cannot preempt", pct(th.Cgo)))...)
	}
	if len(ev) == 0 {
		return unknown(c, "no CPU samples")
	}
	return set(c, api.StatusPass, ev...)
}

func lockOSThread(f Facts) api.Check {
	c := check(api.CheckLockOSThread, "LockOSThread is used sparingly",
		"Every goroutine locked to its thread pins an OS thread the runtime cannot reuse: keep runtime.LockOSThread to what needs it (OpenGL, some C libraries, per-thread syscalls) and unlock when done.")
	if f.Locked == nil {
		why := f.LockedUnknown
		if why == "" {
			why = "no goroutine dump read"
		}
		return unknown(c, why)
	}
	var ev []string
	ev = append(ev, fmt.Sprintf("%d %s locked to an OS thread", f.Locked.Goroutines, plural(f.Locked.Goroutines, "goroutine", "goroutines")))
	if f.OSThreads != nil {
		ev = append(ev, fmt.Sprintf("%d OS threads", *f.OSThreads))
	}
	if f.ThreadsCreated != nil {
		ev = append(ev, fmt.Sprintf("%d threads created (threadcreate profile)", *f.ThreadsCreated))
	}
	if f.GOMAXPROCS > 0 {
		ev = append(ev, fmt.Sprintf("GOMAXPROCS %d", f.GOMAXPROCS))
	}
	if len(f.Locked.Places) > 0 {
		for _, p := range f.Locked.Places {
			ev = append(ev, fmt.Sprintf("locked: %d× %s", p.Count, p.Where))
		}
	} else {
		for _, w := range f.Locked.Where {
			ev = append(ev, "locked: "+w)
		}
	}
	switch {
	case f.Locked.Goroutines == 0:
		return set(c, api.StatusPass, ev...)
	case f.GOMAXPROCS > 0 && f.Locked.Goroutines > f.GOMAXPROCS:
		return set(c, api.StatusFail, append(ev, "more locked goroutines than Ps: each holds an OS thread of its own")...)
	}
	return set(c, api.StatusWarn, append(ev, "audit these: are they needed?")...)
}

func schedLatency(f Facts, th Thresholds) api.Check {
	c := check(api.CheckSchedLatency, thresholdTitle("scheduling latency p99 under %s", th.SchedLatency >= 0, units.FormatSeconds(th.SchedLatency)),
		"Goroutines waiting long to run point at CPU contention: too few CPUs for the work, GOMAXPROCS above the quota, or long non-preemptible work.")
	if f.Sched == nil {
		return unknown(c, "scheduling latency is not exposed by "+sourceName(f.Source))
	}
	if f.Sched.Count == 0 {
		return unknown(c, "no scheduling event observed")
	}
	ev := fmt.Sprintf("p50 %s, p99 %s, p999 %s", seconds3(f.Sched.P50), seconds3(f.Sched.P99), seconds3(f.Sched.P999))
	if f.SchedFrom != "" {
		ev += " (" + f.SchedFrom + ")"
	}
	switch {
	case th.SchedLatency >= 0 && f.Sched.P99 > th.SchedLatency:
		return set(c, api.StatusFail, ev)
	case th.SchedLatency >= 0 && f.Sched.P99 > th.SchedLatency/10:
		return set(c, api.StatusWarn, ev, fmt.Sprintf("above %s, a tenth of the threshold", seconds3(th.SchedLatency/10)))
	}
	return set(c, api.StatusPass, ev)
}

// reMeasure is the checklist's last item: whether each change was measured
// before and after. Nothing in one process says so; diagctl compare does.
func reMeasure() api.Check {
	c := check(api.CheckReMeasure, "Re-measured after every change",
		"Change one thing at a time, then compare: diagctl compare BEFORE AFTER tells, figure by figure, whether it got better, worse "+
			"or did not change significantly (an agent's history with --before-range and --after-range, a baseline and a canary side by side, "+
			"or saved profiles).")
	return unknown(c, "one process cannot show what changed: compare the windows before and after each change with diagctl compare")
}

func gogc(f Facts) api.Check {
	c := check(api.CheckGOGC, "GOGC is set thoughtfully",
		"Too low a GOGC collects too often, too high (or off without GOMEMLIMIT) lets the heap grow; latency-sensitive services often start at GOGC=50..100 with a GOMEMLIMIT.")
	var ev []string
	noLimit := f.MemoryLimit == nil || *f.MemoryLimit == math.MaxInt64
	if f.GOGC != nil {
		if *f.GOGC < 0 {
			ev = append(ev, "GOGC off")
		} else {
			ev = append(ev, fmt.Sprintf("GOGC %d", *f.GOGC))
		}
	}
	if f.MemoryLimit != nil {
		if noLimit {
			ev = append(ev, "no GOMEMLIMIT")
		} else {
			ev = append(ev, "GOMEMLIMIT "+bytesString(*f.MemoryLimit))
		}
	}
	if f.GCCPUFraction != nil {
		e := fmt.Sprintf("GC %s of CPU", pct(*f.GCCPUFraction))
		if f.GCFrom != "" {
			e += " (" + f.GCFrom + ")"
		}
		ev = append(ev, e)
	}
	if len(ev) == 0 {
		return unknown(c, "GOGC is not exposed by "+sourceName(f.Source))
	}
	switch {
	case f.GOGC != nil && *f.GOGC < 0 && f.MemoryLimit != nil && noLimit:
		return set(c, api.StatusFail, append(ev, "the GC never runs: the heap grows without bound")...)
	case f.GOGC != nil && *f.GOGC < 0 && f.MemoryLimit == nil:
		return set(c, api.StatusWarn, append(ev, "GOGC off, and whether a GOMEMLIMIT bounds the heap is unknown")...)
	case f.GCCPUFraction != nil && *f.GCCPUFraction > 0.25:
		return set(c, api.StatusWarn, append(ev, "the GC uses over a quarter of the CPU: raise GOGC or reduce allocation")...)
	case f.GOGC != nil && *f.GOGC >= 0 && *f.GOGC < 25:
		return set(c, api.StatusWarn, append(ev, "GOGC under 25: collections are frequent")...)
	case f.GOGC == nil:
		return set(c, api.StatusUnknown, append(ev, "GOGC itself is not exposed by "+sourceName(f.Source))...)
	}
	return set(c, api.StatusPass, ev...)
}

func hotLoops(f Facts, th Thresholds) api.Check {
	c := check(api.CheckHotLoops, "hot loops reach a function call",
		"Give loops that run long without calls a preemption point: a small //go:noinline call per iteration, or chunk the work (e.g. 1024 items) and check ctx.Done() between chunks.")
	p := f.Profile
	if p == nil || p.Samples == 0 {
		return unknown(c, "no CPU profile analyzed yet")
	}
	if p.Samples < int64(th.MinSamples) {
		return set(c, api.StatusUnknown, profileEvidence(p), fmt.Sprintf("fewer than %d samples: too few to judge", th.MinSamples))
	}
	var ev []string
	worst := api.StatusPass
	for _, s := range p.TopPreempted[:min(len(p.TopPreempted), 5)] {
		where := s.Function
		if s.File != "" {
			where += fmt.Sprintf(" %s:%d", s.File, s.Line)
		}
		ev = append(ev, fmt.Sprintf("%s interrupted by async preemption: %s of CPU", where, pct(s.Share)))
		switch {
		case th.AsyncPreempt >= 0 && stats.ShareAbove(s.Share, p.Samples, th.AsyncPreempt, th.MinSamples):
			worst = api.StatusFail
		case th.AsyncPreempt >= 0 && stats.ShareAbove(s.Share, p.Samples, th.AsyncPreempt/10, th.MinSamples) && worst == api.StatusPass:
			worst = api.StatusWarn
		}
	}
	if len(ev) == 0 {
		ev = append(ev, "no function was interrupted by async preemption")
	}
	return set(c, worst, append(ev, profileEvidence(p))...)
}

func cpuThrottling(f Facts, th Thresholds) api.Check {
	c := check(api.CheckCPUThrottling, thresholdTitle("the CPU quota does not throttle the process (under %s of periods)", th.Throttle >= 0, pct(th.Throttle)),
		"Raise the CPU quota (resources.limits.cpu) or cut the work, and keep GOMAXPROCS at the quota (Go 1.25+ does by default).")
	var ev []string
	switch {
	case f.CgroupCPULimit != nil:
		e := fmt.Sprintf("effective CPU limit %s CPUs", trimFloat(*f.CgroupCPULimit))
		if f.CgroupCPULimitPath != "" {
			e += ", set by cgroup " + f.CgroupCPULimitPath
		}
		ev = append(ev, e)
	case f.CgroupRead:
		ev = append(ev, "no CPU limit on the path to the root cgroup")
	}
	periods, throttled := f.CgroupPeriods, f.CgroupThrottledPeriods
	counted := periods != nil && throttled != nil
	if counted {
		e := fmt.Sprintf("throttled in %d of %d cgroup periods", *throttled, *periods)
		if *periods > 0 {
			e += fmt.Sprintf(" (%s)", pct(float64(*throttled)/float64(*periods)))
		}
		if f.CgroupFrom != "" {
			e += " " + f.CgroupFrom
		}
		ev = append(ev, e)
	}
	if v := f.CgroupThrottledSecondsPerSecond; v != nil {
		ev = append(ev, fmt.Sprintf("%s throttled per second", units.FormatSeconds(*v)))
	}
	if f.GOMAXPROCS > 0 {
		ev = append(ev, fmt.Sprintf("GOMAXPROCS %d", f.GOMAXPROCS))
	}
	switch {
	case !counted && f.CgroupCPULimit != nil:
		return set(c, api.StatusUnknown, append(ev, "no window has counted the quota's periods yet")...)
	case !counted && f.CgroupRead:
		return set(c, api.StatusPass, ev...)
	case !counted:
		if f.Source == SourceAgent {
			return unknown(c, "no cgroup CPU figures here (cgroups are Linux's)")
		}
		return unknown(c, "cgroup CPU figures are not exposed by "+sourceName(f.Source))
	case *periods == 0:
		return set(c, api.StatusPass, append(ev, "no quota period elapsed while the process ran")...)
	}
	share := float64(*throttled) / float64(*periods)
	t := th.Throttle
	switch {
	case t < 0:
		return set(c, api.StatusPass, ev...)
	case *periods < minThrottlePeriods && *throttled > 0:
		return set(c, api.StatusUnknown, append(ev, fmt.Sprintf("fewer than %d periods: too few to judge", minThrottlePeriods))...)
	case stats.ShareAbove(share, *periods, t, minThrottlePeriods):
		return set(c, api.StatusFail, append(ev, "the process needs more CPU than its quota: the kernel stops its threads until the next period")...)
	case share > t:
		return set(c, api.StatusWarn, append(ev, "above the threshold, but not by more than chance over so few periods")...)
	case *throttled > 0 && share >= t/5:
		return set(c, api.StatusWarn, append(ev, fmt.Sprintf("at least %s, a fifth of the threshold", pct(t/5)))...)
	}
	return set(c, api.StatusPass, ev...)
}

func cpuContention(f Facts, th Thresholds) api.Check {
	c := check(api.CheckCPUContention, thresholdTitle("runnable threads get a CPU (run-queue wait under %s of the CPU they get)", th.Contention >= 0, pct(th.Contention)),
		"Threads waiting for a CPU: reserve CPUs for the service (requests, a cpuset) or move its neighbours when others take them; set GOMAXPROCS to the CPUs (or unset it) when it is above them.")
	q := f.RunQueue
	if q == nil {
		why := f.RunQueueUnknown
		switch {
		case why != "":
		case f.Source == SourceAgent:
			why = "no window analyzed yet"
		default:
			why = "the run-queue wait is not exposed by " + sourceName(f.Source)
		}
		return unknown(c, why)
	}
	e := fmt.Sprintf("threads waited %s per second for a CPU, %.2f× the CPU they got", units.FormatSeconds(q.WaitPerSecond), q.WaitRatio)
	if q.From != "" {
		e += " (" + q.From + ")"
	}
	ev := []string{e}
	var others float64
	var who []string
	if q.OtherCPUs != nil {
		others += *q.OtherCPUs
		who = append(who, fmt.Sprintf("other processes used %.2f CPUs", *q.OtherCPUs))
	}
	if q.StealCPUs != nil {
		others += *q.StealCPUs
		who = append(who, fmt.Sprintf("the hypervisor took %.2f (steal)", *q.StealCPUs))
	}
	known := len(who) > 0
	if !known {
		who = append(who, "other processes' CPU unknown")
	}
	e = strings.Join(who, ", ")
	if q.NumCPU > 0 {
		e += fmt.Sprintf(", of %d CPUs", q.NumCPU)
	}
	ev = append(ev, e)
	if cs := q.ContextSwitchesPerSecond; cs != nil && *cs > 0 {
		ev = append(ev, fmt.Sprintf("%.0f context switches per second, %s of run-queue wait each", *cs, units.FormatSeconds(q.WaitPerSecond / *cs)))
	}
	avail := AvailableCPUs(q.NumCPU, q.CPULimit)
	if q.GOMAXPROCS > 0 {
		e := fmt.Sprintf("GOMAXPROCS %d", q.GOMAXPROCS)
		if q.CPULimit != nil {
			e += fmt.Sprintf(", effective CPU limit %s CPUs", trimFloat(*q.CPULimit))
		}
		ev = append(ev, e)
	}

	t := th.Contention
	status := api.StatusPass
	switch {
	case t < 0:
	case q.WaitRatio > t && q.WaitPerSecond >= minContentionCPUs:
		status = api.StatusFail
	case q.WaitRatio > t/2 && q.WaitPerSecond >= minContentionCPUs:
		status = api.StatusWarn
		ev = append(ev, fmt.Sprintf("above %s, half the threshold", pct(t/2)))
	case q.WaitRatio > t/2:
		ev = append(ev, fmt.Sprintf("under %s CPU-seconds per second in all: too little to be contention", trimFloat(minContentionCPUs)))
	}
	if status == api.StatusPass {
		return set(c, status, ev...)
	}

	// Who accounts for the wait, as the agent names its causes: the
	// process's own threads make each other wait when they want more CPUs
	// than it can get (got + wait above the CPUs, or GOMAXPROCS above them);
	// other processes are blamed only when they took at least that much.
	excess := OwnExcessCPUs(q.WaitPerSecond, q.WaitRatio, q.BusyGoroutines, q.GOMAXPROCS, q.NumCPU, q.CPULimit)
	above := ""
	switch {
	case q.CPULimit != nil && q.GOMAXPROCS > DefaultGOMAXPROCS(*q.CPULimit, q.NumCPU):
		above = fmt.Sprintf("GOMAXPROCS %d above the %d the CPU limit allows", q.GOMAXPROCS, DefaultGOMAXPROCS(*q.CPULimit, q.NumCPU))
	case q.NumCPU > 0 && q.GOMAXPROCS > q.NumCPU:
		above = fmt.Sprintf("GOMAXPROCS %d above the %d CPUs", q.GOMAXPROCS, q.NumCPU)
	}
	neighbours := known && others >= max(minOtherCPUs, excess)
	switch {
	case neighbours:
		ev = append(ev, fmt.Sprintf("other processes account for it: they took %.2f CPUs while the threads waited", others))
		if above != "" {
			ev = append(ev, above+" adds to it")
		}
	case above != "":
		ev = append(ev, "the process's own threads account for it: "+above+", more runnable threads than CPUs to run them")
	case excess > 0:
		ev = append(ev, fmt.Sprintf("the process's own threads account for it: they wanted %.2f CPUs of the %s it can get", excess+avail, trimFloat(avail)))
	default:
		ev = append(ev, "neither other processes nor GOMAXPROCS account for it: with CPUs to spare, threads wait as they wake "+
			"(many short waits: goroutines handing work to each other, blocking and waking often) or run outside Go's scheduler (cgo calls, LockOSThread, blocking system calls)")
		if status == api.StatusWarn {
			// Below the threshold and nobody took the CPUs: wake-up
			// latency (0.2–0.3 s/s for a service handing work between
			// goroutines 35,000 times a second on an idle VM), not a
			// finding.
			status = api.StatusPass
		}
	}
	return set(c, status, ev...)
}

// AvailableCPUs is how many CPUs a process can get: its effective cgroup
// limit when that is below the machine's CPUs (or they are unknown), else
// the CPUs; 0 when neither is known.
func AvailableCPUs(numCPU int, cpuLimit *float64) float64 {
	avail := float64(numCPU)
	if cpuLimit != nil && (avail == 0 || *cpuLimit < avail) {
		avail = *cpuLimit
	}
	return avail
}

// OwnExcessCPUs is how many CPUs' worth the process's threads wanted beyond
// the CPUs it can get (AvailableCPUs): what they got plus their run-queue
// wait, both per second of wall time (the CPU they got is the wait over
// its ratio to it). Threads started during a window are not in its
// run-queue sums, so the goroutines busy at its end (running and runnable),
// up to GOMAXPROCS, count too when they are more. 0 when the wait or the
// CPUs are unknown. The agent's lead-cause decision and the doctor's
// cpu_contention item both blame other processes only when they took at
// least this much.
func OwnExcessCPUs(waitPerSecond, waitRatio float64, busyGoroutines *int64, gomaxprocs, numCPU int, cpuLimit *float64) float64 {
	avail := AvailableCPUs(numCPU, cpuLimit)
	if waitRatio <= 0 || avail <= 0 {
		return 0
	}
	wanted := waitPerSecond/waitRatio + waitPerSecond
	if busyGoroutines != nil && gomaxprocs > 0 {
		wanted = max(wanted, float64(min(int64(gomaxprocs), *busyGoroutines)))
	}
	return max(0, wanted-avail)
}

// thresholdTitle is a check's title with its threshold, or says the
// threshold is disabled.
func thresholdTitle(format string, enabled bool, threshold string) string {
	if !enabled {
		return fmt.Sprintf(format, "its threshold") + " (threshold disabled)"
	}
	return fmt.Sprintf(format, threshold)
}

func sourceName(source string) string {
	switch source {
	case SourcePprof:
		return "net/http/pprof"
	case SourceFile:
		return "a saved CPU profile"
	}
	return "this source"
}

// seconds3 prints seconds to three significant digits: latency quantiles
// sit on histogram bucket bounds (1.048576 ms), which one decimal would
// round onto the threshold they are compared with.
func seconds3(s float64) string {
	switch {
	case s >= 1:
		return strconv.FormatFloat(s, 'g', 3, 64) + "s"
	case s >= 1e-3:
		return strconv.FormatFloat(s*1e3, 'g', 3, 64) + "ms"
	}
	return strconv.FormatFloat(s*1e6, 'g', 3, 64) + "µs"
}

func pct(share float64) string {
	p := 100 * share
	switch {
	case p == 0:
		return "0%"
	case p < 0.1:
		return fmt.Sprintf("%.3f%%", p)
	case p < 10:
		return fmt.Sprintf("%.2f%%", p)
	}
	return fmt.Sprintf("%.1f%%", p)
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

func trimFloat(f float64) string { return strconv.FormatFloat(f, 'g', 3, 64) }

func bytesString(b int64) string {
	const unit = 1 << 10
	if b < unit {
		return fmt.Sprintf("%d B", b)
	}
	div, exp := int64(unit), 0
	for n := b / unit; n >= unit; n /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(b)/float64(div), "KMGTPE"[exp])
}
