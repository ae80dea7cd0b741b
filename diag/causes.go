package diag

import (
	"fmt"
	"slices"

	"github.com/diagkit/diagkit/diag/analysis"
	"github.com/diagkit/diagkit/diag/api"
	"github.com/diagkit/diagkit/internal/doctor"
	"github.com/diagkit/diagkit/internal/stats"
	"github.com/diagkit/diagkit/internal/units"
)

// Figures above which the context counts as evidence of CPU contention.
const (
	// ctxSwitchRise: involuntary context switches per second this many times
	// their median over recent windows.
	ctxSwitchRise = 4.0
	// ctxSwitchesPerProc: involuntary context switches per second per P with
	// no history to compare against. A thread that is never descheduled by
	// the kernel sees a handful a second.
	ctxSwitchesPerProc = 50.0
)

// evaluate returns the warnings a window's report crosses, each with its
// likely causes. baseline holds the involuntary context switches per second
// of recent windows. It is pure: no clock, no logging.
func evaluate(r *analysis.Report, c api.Context, cfg Config, baseline []float64) []api.Warning {
	var out []api.Warning
	if t := cfg.AsyncPreemptThreshold; t >= 0 && stats.ShareAbove(r.Shares.AsyncPreempt, r.Samples, t, cfg.MinSamples) {
		causes := contentionCauses(c, baseline)
		if len(causes) == 0 {
			causes = []string{"no CPU contention in the process context: the interrupted functions are long loops without function calls"}
		}
		out = append(out, api.Warning{
			Kind: api.WarnAsyncPreempt, Value: r.Shares.AsyncPreempt, Threshold: t,
			Causes: causes, Functions: funcNames(r.TopPreempted, false),
		})
	}
	if t := cfg.CgoThreshold; t >= 0 && stats.ShareAbove(r.Shares.Cgo, r.Samples, t, cfg.MinSamples) {
		out = append(out, api.Warning{
			Kind: api.WarnCgoShare, Value: r.Shares.Cgo, Threshold: t,
			Causes: cgoCauses(r, c), Functions: funcNames(r.TopCgoCalls, true),
		})
	}
	if t := cfg.CgoCallRateThreshold; t >= 0 && c.CgoCallsPerSecond != nil && *c.CgoCallsPerSecond > t {
		out = append(out, api.Warning{
			Kind: api.WarnCgoCallRate, Value: *c.CgoCallsPerSecond, Threshold: t,
			Causes: cgoCauses(r, c), Functions: funcNames(r.TopCgoCalls, true),
		})
	}
	if t := cfg.SchedLatencyThreshold.Seconds(); t >= 0 && c.SchedLatency != nil && c.SchedLatency.P99 > t {
		causes := contentionCauses(c, baseline)
		if len(causes) == 0 {
			causes = []string{"more runnable goroutines than GOMAXPROCS can run at once"}
		}
		out = append(out, api.Warning{
			Kind: api.WarnSchedLatency, Value: c.SchedLatency.P99, Threshold: t,
			Causes: causes, Functions: funcNames(r.TopPreempted, false),
		})
	}
	return out
}

// contentionCauses reads why goroutines may be fighting for CPU, most telling
// first.
func contentionCauses(c api.Context, baseline []float64) []string {
	var causes []string
	if c.CgroupCPULimit != nil && c.GOMAXPROCS > doctor.DefaultGOMAXPROCS(*c.CgroupCPULimit, c.NumCPU) {
		causes = append(causes, fmt.Sprintf("GOMAXPROCS %d > cgroup limit %s CPUs: set GOMAXPROCS to the quota (Go 1.25+ does by default; check for an override)",
			c.GOMAXPROCS, trimFloat(*c.CgroupCPULimit)))
	}
	if c.NumCPU > 0 && c.GOMAXPROCS > c.NumCPU {
		causes = append(causes, fmt.Sprintf("GOMAXPROCS %d > %d CPUs (runtime.NumCPU)", c.GOMAXPROCS, c.NumCPU))
	}
	if c.CgroupThrottledPeriods != nil && *c.CgroupThrottledPeriods > 0 {
		msg := fmt.Sprintf("CPU throttled in %d", *c.CgroupThrottledPeriods)
		if c.CgroupPeriods != nil && *c.CgroupPeriods > 0 {
			msg += fmt.Sprintf(" of %d", *c.CgroupPeriods)
		}
		msg += " cgroup periods"
		if c.CgroupThrottledSeconds != nil {
			msg += fmt.Sprintf(" (%.2fs throttled)", *c.CgroupThrottledSeconds)
		}
		causes = append(causes, msg+": the process uses more CPU than its quota")
	}
	if rate := c.InvoluntaryCtxSwitchesPerSecond; rate != nil && *rate > 0 {
		base := median(baseline)
		switch {
		case base > 0 && *rate >= ctxSwitchRise*base:
			causes = append(causes, fmt.Sprintf("involuntary context switches up %.0f× (%.0f/s): CPU contention", *rate/base, *rate))
		case c.GOMAXPROCS > 0 && *rate > ctxSwitchesPerProc*float64(c.GOMAXPROCS):
			causes = append(causes, fmt.Sprintf("%.0f involuntary context switches/s: threads are descheduled (other busy threads or processes)", *rate))
		}
	}
	if c.RunnableGoroutines != nil && c.GOMAXPROCS > 0 && *c.RunnableGoroutines > int64(c.GOMAXPROCS) {
		causes = append(causes, fmt.Sprintf("%d runnable goroutines for %d Ps", *c.RunnableGoroutines, c.GOMAXPROCS))
	}
	if c.SchedLatency != nil && c.SchedLatency.P99 >= 0.001 {
		causes = append(causes, fmt.Sprintf("goroutines waited %s to run (p99 scheduling latency)", units.FormatSeconds(c.SchedLatency.P99)))
	}
	return causes
}

func cgoCauses(r *analysis.Report, c api.Context) []string {
	var causes []string
	crossing := r.Buckets[analysis.BucketCgoCrossing].Share
	if c.CgoCallsPerSecond != nil && *c.CgoCallsPerSecond > 0 {
		causes = append(causes, fmt.Sprintf("%.0f cgo calls/s", *c.CgoCallsPerSecond))
	}
	if crossing > 0.01 {
		causes = append(causes, fmt.Sprintf("crossing overhead %.1f%% of CPU: batch small C calls into fewer, larger ones", 100*crossing))
	}
	if c := r.Buckets[analysis.BucketCgoC].Share; c > 0 {
		causes = append(causes, fmt.Sprintf("C code itself %.1f%% of CPU", 100*c))
	}
	return causes
}

// funcNames lists attributed functions as "name file:line", or for cgo call
// sites "caller → C function".
func funcNames(stats []analysis.FuncStat, cgo bool) []string {
	out := make([]string, 0, min(len(stats), 5))
	for _, s := range stats[:min(len(stats), 5)] {
		name := s.Function
		if cgo && s.CFunction != "" {
			name += " → " + s.CFunction
		}
		if s.File != "" {
			name += fmt.Sprintf(" %s:%d", s.File, s.Line)
		}
		out = append(out, name)
	}
	return out
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[len(s)/2]
}

func trimFloat(f float64) string { return fmt.Sprintf("%.3g", f) }
