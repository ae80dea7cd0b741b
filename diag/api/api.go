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
	// CgroupCPULimit is the CPU quota in CPUs (quota/period); nil when there
	// is no limit or it is unknown.
	CgroupCPULimit *float64 `json:"cgroup_cpu_limit"`
	// Throttling over the window (cgroup cpu.stat deltas).
	CgroupPeriods          *int64   `json:"cgroup_periods"`
	CgroupThrottledPeriods *int64   `json:"cgroup_throttled_periods"`
	CgroupThrottledSeconds *float64 `json:"cgroup_throttled_seconds"`
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
)

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
	// Functions are the interrupted functions or cgo call sites involved.
	Functions []string `json:"functions,omitempty"`
	// Logged is false when the cooldown suppressed the log line.
	Logged bool `json:"logged"`
}

// History is the agent's bounded list of recent windows, oldest first.
type History struct {
	WindowSchema string         `json:"window_schema"`
	Windows      []WindowReport `json:"windows"`
}
