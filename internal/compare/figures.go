// Package compare tells whether a change helped: it compares the figures of
// two sets of windows (before and after a change, or a canary and its
// baseline) and says, for each, whether it got better, worse, or did not
// change significantly. It is pure: no clock, no I/O. diagctl compare and the
// agent's dashboard read its Document.
//
// # Method
//
// A side is a list of replicates: an agent's windows, or profiles taken one
// after another. Samples inside one profile are not independent (a thread
// in a long cgo call is in C for every sample of it), so the windows, not
// the samples, are the unit of evidence:
//
//   - With two or more windows a side, a figure's value per window is one
//     observation. The difference of the two sides' means gets a 95 %
//     interval from Welch's t-test (unequal variances, Welch–Satterthwaite
//     degrees of freedom). It assumes the windows are independent and their
//     mean roughly normal: a slow drift across the windows of one side
//     breaks it.
//   - When the sides were sampled over the same span (a canary and its
//     baseline) and their windows pair up in time, the mean of the paired
//     differences is tested instead (a paired t-test): a change of load
//     that hits both sides cancels, and one they share unequally (two
//     processes competing for the same CPUs) widens the interval.
//   - With one window a side, a share gets Newcombe's hybrid score interval
//     for a difference of two proportions, on sample counts. That treats
//     samples as independent, which they are not, so the interval is
//     approximate and too narrow: it is shown, marked, and gives no
//     verdict (on two profiles of one program that differed by sampling
//     alone it called 14 of 15 figures significant). Figures without
//     sample counts (latency, rates) are then not tested.
//
// A verdict of better or worse needs the change to be significant after
// Holm's adjustment over every figure and function tested in the
// comparison: the chance that one comparison of a workload with itself
// reports any change is at most 5 %. The interval shown is each figure's
// own 95 % interval, so a figure whose interval just excludes 0 may still be
// "no significant change" when many figures were compared.
package compare

import (
	"github.com/diagkit/diagkit/diag/analysis"
	"github.com/diagkit/diagkit/diag/api"
)

// Schema versions Document.
const Schema = "diagkit.compare/v1"

// Units of figures.
const (
	UnitShare     = "share"      // a fraction of CPU time in [0, 1]
	UnitSeconds   = "seconds"    // a latency
	UnitPerSecond = "per_second" // a rate per second of wall time
	UnitRatio     = "ratio"      // a dimensionless ratio
)

// Figure is one figure compare knows.
type Figure struct {
	// Name is its ID in JSON and in --fail-on, e.g. "async_preempt".
	Name string
	// Label is how tables name it.
	Label string
	Unit  string
	// HigherIsWorse says which direction is a regression. Figures without
	// one (C time is the work a program asked for) get the verdicts
	// higher and lower instead of worse and better.
	HigherIsWorse bool
	// share reads a share figure from a report, with its sample count.
	share func(r *analysis.Report) (share float64, samples int64)
	// context reads a figure from a window's context; ok is false when it
	// is unavailable.
	context func(c *api.Context) (v float64, ok bool)
}

// Figure names.
const (
	FigAsyncPreempt     = "async_preempt"
	FigPreemptSched     = "preempt_sched"
	FigCgoC             = "cgo_c"
	FigCgoCrossing      = "cgo_crossing"
	FigExternal         = "external"
	FigSchedLatencyP50  = "sched_latency_p50"
	FigSchedLatencyP99  = "sched_latency_p99"
	FigCgoCallsPerSec   = "cgo_calls_per_second"
	FigThrottledShare   = "cgroup_throttled_share"
	FigRunQueueWaitRate = "run_queue_wait_ratio"
)

func bucket(b ...analysis.Bucket) func(r *analysis.Report) (float64, int64) {
	return func(r *analysis.Report) (float64, int64) {
		var share float64
		var n int64
		for _, k := range b {
			s := r.Buckets[k]
			share += s.Share
			n += s.Samples
		}
		return share, n
	}
}

// Figures lists every figure, in the order documents list them.
var Figures = []Figure{
	{Name: FigAsyncPreempt, Label: "async preemption", Unit: UnitShare, HigherIsWorse: true,
		share: bucket(analysis.BucketAsyncPreempt)},
	{Name: FigPreemptSched, Label: "scheduling after preemption", Unit: UnitShare, HigherIsWorse: true,
		share: bucket(analysis.BucketPreemptSched)},
	{Name: FigCgoC, Label: "cgo C time", Unit: UnitShare,
		share: bucket(analysis.BucketCgoC)},
	{Name: FigCgoCrossing, Label: "cgo crossing", Unit: UnitShare, HigherIsWorse: true,
		share: bucket(analysis.BucketCgoCrossing)},
	{Name: FigExternal, Label: "non-Go threads", Unit: UnitShare,
		share: bucket(analysis.BucketExternalThread, analysis.BucketExternalNoStack, analysis.BucketExternalLost)},
	{Name: FigSchedLatencyP50, Label: "sched latency p50", Unit: UnitSeconds, HigherIsWorse: true,
		context: func(c *api.Context) (float64, bool) {
			if c.SchedLatency == nil || c.SchedLatency.Count <= 0 {
				return 0, false
			}
			return c.SchedLatency.P50, true
		}},
	{Name: FigSchedLatencyP99, Label: "sched latency p99", Unit: UnitSeconds, HigherIsWorse: true,
		context: func(c *api.Context) (float64, bool) {
			if c.SchedLatency == nil || c.SchedLatency.Count <= 0 {
				return 0, false
			}
			return c.SchedLatency.P99, true
		}},
	{Name: FigCgoCallsPerSec, Label: "cgo calls/s", Unit: UnitPerSecond, HigherIsWorse: true,
		context: func(c *api.Context) (float64, bool) { return deref(c.CgoCallsPerSecond) }},
	{Name: FigThrottledShare, Label: "throttled periods", Unit: UnitShare, HigherIsWorse: true,
		context: func(c *api.Context) (float64, bool) { return deref(c.CgroupThrottledShare) }},
	{Name: FigRunQueueWaitRate, Label: "run-queue wait/CPU-s", Unit: UnitRatio, HigherIsWorse: true,
		context: func(c *api.Context) (float64, bool) { return deref(c.RunQueueWaitRatio) }},
}

func deref(p *float64) (float64, bool) {
	if p == nil {
		return 0, false
	}
	return *p, true
}

// FigureByName returns the figure called name.
func FigureByName(name string) (Figure, bool) {
	for _, f := range Figures {
		if f.Name == name {
			return f, true
		}
	}
	return Figure{}, false
}

// FigureNames lists the figures' names.
func FigureNames() []string {
	names := make([]string, len(Figures))
	for i, f := range Figures {
		names[i] = f.Name
	}
	return names
}
