// Package api defines the JSON documents the diagkit agent serves and diagctl
// reads, so the wire format has exactly one definition. It holds types only.
//
// Figures a platform cannot provide are null in JSON (nil pointers here),
// never 0: a missing cgroup limit, or a runtime/metrics name an older Go
// release does not have, is "unavailable", not "zero".
package api

import (
	"time"

	"github.com/diagkit/diagkit/diag/analysis"
)

// WindowSchema versions WindowReport and the documents built from it.
const WindowSchema = "diagkit.window/v1"

// WindowReport is the analysis of one profiling window together with what the
// process looked like while it ran. It embeds analysis.Report, so every key
// of the file report (schema, samples, shares, …) is present at top level.
type WindowReport struct {
	analysis.Report
	// WindowSchema is WindowSchema.
	WindowSchema string `json:"window_schema"`
	// Seq numbers windows from 1 since the agent started.
	Seq uint64 `json:"seq"`
	// Start and End bound the window in wall-clock time.
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
	// Source says who asked for the samples: "periodic" for the agent's own
	// windows, "http" for /debug/pprof/profile requests it analyzed too.
	Source string `json:"source"`
	// Context is the process and its environment over the window.
	Context Context `json:"context"`
	// Warnings are the thresholds this window crossed (logged or not,
	// depending on the cooldown).
	Warnings []Warning `json:"warnings"`
	// Active lists the kinds in an ongoing episode after this window: the
	// ones it raised, and earlier ones not yet resolved (a kind resolves
	// after ResolveAfter consecutive clean windows).
	Active []string `json:"active"`
	// Unjudged lists the kinds this window could not judge (too few
	// samples, a figure unavailable); they neither raise nor resolve.
	Unjudged []string `json:"unjudged,omitempty"`
}

// Context describes the process over one window. Counters are deltas over the
// window; gauges are read at its end. Nil means unavailable.
type Context struct {
	GoVersion  string `json:"go_version"`
	GOMAXPROCS int    `json:"gomaxprocs"`
	NumCPU     int    `json:"num_cpu"`
	// CgroupVersion is "v1", "v2", or "" when no cgroup CPU controller was
	// found.
	CgroupVersion string `json:"cgroup_version,omitempty"`
	// CgroupCPULimit is the effective CPU quota in CPUs (quota/period): the
	// tightest one on the path from the process's cgroup up to the root,
	// since a parent's quota throttles every cgroup below it. Nil when no
	// cgroup on the path has a limit, or it is unknown.
	CgroupCPULimit *float64 `json:"cgroup_cpu_limit"`
	// CgroupCPULimitPath is the cgroup that sets CgroupCPULimit, as a path
	// inside its hierarchy ("/" for the root, "/kubepods/pod1" for an
	// ancestor); empty without a limit.
	CgroupCPULimitPath string `json:"cgroup_cpu_limit_path,omitempty"`
	// Throttling over the window: cpu.stat deltas of the cgroup that sets
	// the effective limit (of the process's own cgroup without one).
	CgroupPeriods          *int64   `json:"cgroup_periods"`
	CgroupThrottledPeriods *int64   `json:"cgroup_throttled_periods"`
	CgroupThrottledSeconds *float64 `json:"cgroup_throttled_seconds"`
	// CgroupThrottledShare is CgroupThrottledPeriods / CgroupPeriods; nil
	// when no period elapsed or either is unavailable.
	CgroupThrottledShare *float64 `json:"cgroup_throttled_share"`
	// CgroupThrottledSecondsPerSecond is CgroupThrottledSeconds per second
	// of wall time. The kernel counts it per CPU run queue, so it can
	// exceed 1 on a machine of several CPUs.
	CgroupThrottledSecondsPerSecond *float64 `json:"cgroup_throttled_seconds_per_second"`

	// Run-queue wait: how long the process's threads were runnable but
	// waiting for a CPU (field 2 of /proc/self/task/*/schedstat), summed
	// over the threads alive at both ends of the window. It is the kernel's
	// direct record of CPU contention; nil where it is unavailable (not
	// Linux, no schedstat), see RunQueueWaitUnavailable.
	RunQueueWaitSeconds *float64 `json:"run_queue_wait_seconds"`
	// RunQueueWaitPerSecond is RunQueueWaitSeconds per second of wall time:
	// the CPUs' worth of time the threads wanted and did not get.
	RunQueueWaitPerSecond *float64 `json:"run_queue_wait_per_second"`
	// RunQueueWaitRatio is RunQueueWaitSeconds per second of CPU the same
	// threads got (field 1 of schedstat): 1 means they waited as long as
	// they ran.
	RunQueueWaitRatio *float64 `json:"run_queue_wait_ratio"`
	// RunQueueThreads is how many threads were read; at most
	// MaxSchedstatThreads, and RunQueueThreadsCapped says that cap was hit.
	RunQueueThreads       *int64 `json:"run_queue_threads"`
	RunQueueThreadsCapped bool   `json:"run_queue_threads_capped,omitempty"`
	// RunQueueWaitUnavailable says why the run-queue wait is nil; the
	// contention judgement then falls back to involuntary context switches,
	// weaker evidence.
	RunQueueWaitUnavailable string `json:"run_queue_wait_unavailable,omitempty"`

	// The CPUs this process may run on over the window (/proc/stat), in
	// CPUs: the machine's, or only those its CPU affinity allows when that
	// leaves some out (taskset, a cpuset cgroup, a pinned container), so
	// that a neighbour on a CPU it cannot use is not counted. HostBusyCPUs
	// is their busy time, of every process, per second of wall time;
	// OtherCPUs is that minus this process's CPU (ProcessCPUSeconds),
	// floored at 0; StealCPUs is time the hypervisor ran other guests on
	// those vCPUs. Nil where unavailable, and for a window in which the
	// affinity changed. On a container host /proc/stat is the host's, so
	// OtherCPUs counts every other container on those CPUs too.
	HostBusyCPUs *float64 `json:"host_busy_cpus"`
	OtherCPUs    *float64 `json:"other_cpus"`
	StealCPUs    *float64 `json:"steal_cpus"`
	// ProcessCPUSeconds is user+system CPU time over the window (getrusage).
	ProcessCPUSeconds *float64 `json:"process_cpu_seconds"`
	// Context switches over the window (getrusage), and per second.
	InvoluntaryCtxSwitches          *int64   `json:"involuntary_ctx_switches"`
	InvoluntaryCtxSwitchesPerSecond *float64 `json:"involuntary_ctx_switches_per_second"`
	VoluntaryCtxSwitches            *int64   `json:"voluntary_ctx_switches"`
	// SchedLatency is how long goroutines waited between becoming runnable
	// and running, over the window (/sched/latencies:seconds delta).
	SchedLatency *Latency `json:"sched_latency"`
	// Cgo calls over the window (/cgo/go-to-c-calls:calls delta).
	CgoCalls          *int64   `json:"cgo_calls"`
	CgoCallsPerSecond *float64 `json:"cgo_calls_per_second"`
	// Goroutine and thread gauges at the end of the window.
	Goroutines         *int64 `json:"goroutines"`
	RunnableGoroutines *int64 `json:"runnable_goroutines"`
	RunningGoroutines  *int64 `json:"running_goroutines"`
	OSThreads          *int64 `json:"os_threads"`
	// GCCPUFraction is the share of the process's CPU the GC used
	// (/cpu/classes/gc/total over /cpu/classes/total, idle excluded). The
	// runtime updates these figures when a GC cycle ends, so the fraction
	// covers the GC cycles that ended during the window, and is nil in a
	// window without one.
	GCCPUFraction *float64 `json:"gc_cpu_fraction"`
	// AsyncPreemptOff is true when GODEBUG (environment or the binary's
	// default) sets asyncpreemptoff=1.
	AsyncPreemptOff bool `json:"async_preempt_off"`
}

// Latency holds quantiles of a latency distribution, in seconds.
type Latency struct {
	// Count is how many observations the quantiles rest on. For scheduling
	// latency the runtime records one transition in 8, so it is a sample
	// size, not the number of scheduling events.
	Count int64   `json:"count"`
	P50   float64 `json:"p50"`
	P99   float64 `json:"p99"`
	P999  float64 `json:"p999"`
}

// Warning kinds.
const (
	WarnAsyncPreempt = "async_preempt_share"
	WarnCgoShare     = "cgo_share"
	WarnCgoCallRate  = "cgo_call_rate"
	WarnSchedLatency = "sched_latency_p99"
	// WarnThrottling: the cgroup CPU quota throttled the process in more
	// than its threshold's share of periods.
	WarnThrottling = "cpu_throttling"
	// WarnContention: the process's threads waited on the run queue for a
	// CPU longer than its threshold's share of the time they ran.
	WarnContention = "cpu_contention"
)

// WarningKinds lists every warning kind, in the order evaluate checks them.
var WarningKinds = []string{WarnThrottling, WarnContention, WarnAsyncPreempt, WarnSchedLatency, WarnCgoShare, WarnCgoCallRate}

// Cause IDs, for Warning.LeadCause, ranked as the agent ranks them.
const (
	// CauseThrottling: the cgroup's CPU quota throttles the process.
	CauseThrottling = "cpu_throttling"
	// CauseHostContention: other processes (or the hypervisor) take the
	// CPUs the process's threads are waiting for.
	CauseHostContention = "host_contention"
	// CauseGOMAXPROCS: GOMAXPROCS is above the CPUs the process can get,
	// so its own threads contend for them.
	CauseGOMAXPROCS = "gomaxprocs_above_cpus"
	// CauseLongRuns: more runnable goroutines than Ps while some run for
	// long stretches, typically loops without function calls.
	CauseLongRuns = "long_runs"
	// CauseGC: the garbage collector's workers take Ps from goroutines.
	CauseGC = "gc"
	// CauseCgoCalls: many small cgo calls, each paying the crossing.
	CauseCgoCalls = "cgo_calls"
	// CauseCgoCode: time spent in C code itself.
	CauseCgoCode = "cgo_c_code"
	// CauseUnknown: no cause's evidence was present in the context.
	CauseUnknown = "unknown"
)

// Where Warning.Functions came from.
const (
	// FromTrace: goroutines an execution trace saw run 10 ms or more
	// before async preemption, located in a goroutine dump taken with it.
	FromTrace = "execution_trace"
	// FromCPUProfile: CPU samples inside runtime.asyncPreempt, which land
	// there mostly when the kernel deschedules threads (weaker evidence).
	FromCPUProfile   = "cpu_profile"
	FromCgoCallSites = "cgo_call_sites"
)

// LoopEvidence is what the agent gathers, once per cooldown, to name
// call-free loops directly: a short execution trace, which sees every
// async preemption and how long each run lasted before it, and a goroutine
// dump that locates the goroutines the trace saw run long.
type LoopEvidence struct {
	// Time is when gathering started.
	Time time.Time `json:"time"`
	// Goroutines is how many goroutines the dump held; 0 when skipped.
	Goroutines int `json:"goroutines"`
	// Preempted are the places where goroutines the trace saw
	// async-preempted after a long run were found, most goroutines
	// first.
	Preempted []PreemptedSite `json:"preempted"`
	// Trace summarizes the execution trace; nil when it could not be
	// taken (see TraceNote).
	Trace *TraceEvidence `json:"trace,omitempty"`
	// Note says why something was skipped, e.g. too many goroutines.
	Note string `json:"note,omitempty"`
	// TraceNote says why the trace is missing or incomplete.
	TraceNote string `json:"trace_note,omitempty"`
}

// PreemptedSite is one place where goroutines that run without yielding
// were found.
type PreemptedSite struct {
	// Function, File and Line are the first frame outside the runtime of
	// the goroutines' stacks in the dump: the loop, at the line it was
	// interrupted.
	Function string `json:"function"`
	File     string `json:"file,omitempty"`
	Line     int64  `json:"line,omitempty"`
	// Goroutines is how many goroutines were found there; LongRuns how
	// many runs of theirs the trace saw end in async preemption after 10
	// ms or more.
	Goroutines int64 `json:"goroutines"`
	LongRuns   int64 `json:"long_runs"`
}

// TraceEvidence is the summary of the on-warning execution trace, which the
// agent keeps for download (Path) until the next one.
type TraceEvidence struct {
	Start   time.Time `json:"start"`
	Seconds float64   `json:"seconds"`
	Bytes   int       `json:"bytes"`
	// AsyncPreemptions and CooperativePreemptions count the trace's
	// preemptions by kind.
	AsyncPreemptions       int `json:"async_preemptions"`
	CooperativePreemptions int `json:"cooperative_preemptions"`
	// LongestRunSeconds is the longest uninterrupted goroutine run.
	LongestRunSeconds float64 `json:"longest_run_seconds"`
	// RunsOver10ms counts runs of 10 ms or more, the time after which
	// sysmon asks a goroutine to yield.
	RunsOver10ms int `json:"runs_over_10ms"`
	// Path is where the agent serves the raw trace, for diagctl trace.
	Path string `json:"path"`
	// Cut is set when the trace outgrew the agent's cap and was cut short.
	Cut bool `json:"cut,omitempty"`
}

// Warning is one threshold a window crossed.
type Warning struct {
	// Kind is one of the Warn* constants.
	Kind string `json:"kind"`
	// Value and Threshold are in the kind's unit: a fraction of CPU for
	// shares, calls per second, seconds for latency.
	Value     float64 `json:"value"`
	Threshold float64 `json:"threshold"`
	// Causes are the likely causes read from the context, most telling
	// first, e.g. "GOMAXPROCS 8 > cgroup limit 2 CPUs".
	Causes []string `json:"causes"`
	// LeadCause is the Cause* ID of Causes[0], the cause with the strongest
	// evidence; CauseUnknown when no cause's evidence is present.
	LeadCause string `json:"lead_cause"`
	// Functions are the interrupted functions or cgo call sites involved.
	Functions []string `json:"functions,omitempty"`
	// FunctionsFrom says which evidence named Functions: FromTrace,
	// FromCPUProfile or FromCgoCallSites.
	FunctionsFrom string `json:"functions_from,omitempty"`
	// Evidence is what the agent gathered when the warning was raised to
	// name call-free loops (sched_latency_p99 and async_preempt_share only;
	// at most once per cooldown).
	Evidence *LoopEvidence `json:"evidence,omitempty"`
	// Logged is false when the cooldown suppressed the log line.
	Logged bool `json:"logged"`
}

// History is the agent's bounded list of recent windows, oldest first.
type History struct {
	WindowSchema string         `json:"window_schema"`
	Windows      []WindowReport `json:"windows"`
}
