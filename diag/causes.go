package diag

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/diagkit/diagkit/diag/analysis"
	"github.com/diagkit/diagkit/diag/api"
	"github.com/diagkit/diagkit/internal/doctor"
	"github.com/diagkit/diagkit/internal/stats"
	"github.com/diagkit/diagkit/internal/units"
)

// Figures above which the context counts as a cause's evidence. Each cause
// is listed only when its own evidence is present, so a cause without it is
// never the lead.
const (
	// minThrottlePeriods is how many cgroup periods a window needs before
	// its throttled share can warn; fewer, with some throttled, is a window
	// that cannot judge.
	minThrottlePeriods = 10
	// throttleEvidence is the throttled share of periods from which
	// throttling is named as a cause of other warnings.
	throttleEvidence = 0.05
	// minContentionCPUs is the run-queue wait, in CPUs (seconds per
	// second), below which waiting is not contention: a service that
	// wakes a hundred times a second waits about 0.05 s/s for its CPUs
	// to wake up on an idle virtual machine.
	minContentionCPUs = 0.1
	// defaultContentionEvidence is the run-queue wait ratio from which
	// contention is named as a cause when ContentionThreshold is off.
	defaultContentionEvidence = DefaultContentionThreshold
	// minOtherCPUs is how much CPU other processes (or the hypervisor)
	// must take before contention is blamed on them.
	minOtherCPUs = 0.25
	// gcEvidence is the GC's share of the CPU from which it is named.
	gcEvidence = 0.1
	// ctxSwitchRise: without run-queue figures, involuntary context
	// switches per second this many times their median over recent windows
	// are (weaker) evidence of contention. There is no fixed per-P rule:
	// on an idle 2-vCPU VM a busy process sees 70–230 a second.
	ctxSwitchRise = 4.0
)

// cause is one likely cause of a warning, with its evidence as text.
type cause struct {
	id   string
	text string
}

// judgement is what evaluate makes of one window.
type judgement struct {
	warnings []api.Warning
	// unjudged are the kinds the window could not judge: they neither
	// raise nor resolve a warning.
	unjudged []string
}

// evaluate returns the warnings a window's report crosses, each with its
// likely causes ranked by evidence, and the kinds it could not judge.
// baseline holds the involuntary context switches per second of recent
// windows; ev is loop evidence gathered for this window, or nil. It is pure:
// no clock, no logging.
func evaluate(r *analysis.Report, c api.Context, cfg Config, baseline []float64, ev *api.LoopEvidence) judgement {
	var j judgement
	ranked := rankCauses(r, c, cfg, baseline, ev)
	add := func(w api.Warning, causes []cause) {
		if len(causes) == 0 {
			causes = []cause{{api.CauseUnknown, "no cause found in the process context"}}
		}
		w.LeadCause = causes[0].id
		for _, c := range causes {
			w.Causes = append(w.Causes, c.text)
		}
		j.warnings = append(j.warnings, w)
	}

	// CPU throttling: the problem itself, not only a symptom's cause.
	if t := cfg.ThrottleThreshold; t >= 0 {
		switch {
		case c.CgroupPeriods == nil || c.CgroupThrottledPeriods == nil:
			if c.CgroupVersion != "" && c.CgroupCPULimit != nil {
				j.unjudged = append(j.unjudged, api.WarnThrottling) // a limit, but no counters across the window
			}
		case *c.CgroupPeriods < minThrottlePeriods:
			if *c.CgroupThrottledPeriods > 0 {
				j.unjudged = append(j.unjudged, api.WarnThrottling)
			}
		case stats.ShareAbove(float64(*c.CgroupThrottledPeriods)/float64(*c.CgroupPeriods), *c.CgroupPeriods, t, minThrottlePeriods):
			add(api.Warning{Kind: api.WarnThrottling, Value: float64(*c.CgroupThrottledPeriods) / float64(*c.CgroupPeriods), Threshold: t},
				withLead(ranked, api.CauseThrottling))
		}
	}

	// CPU contention: threads waiting on the run queue.
	if t := cfg.ContentionThreshold; t >= 0 {
		switch {
		case c.RunQueueWaitRatio == nil || c.RunQueueWaitPerSecond == nil:
			j.unjudged = append(j.unjudged, api.WarnContention)
		case *c.RunQueueWaitRatio > t && *c.RunQueueWaitPerSecond >= minContentionCPUs:
			causes := filterCauses(ranked, api.CauseThrottling, api.CauseHostContention, api.CauseGOMAXPROCS)
			if len(causes) == 0 {
				others := "other processes' CPU unknown"
				if c.OtherCPUs != nil {
					others = fmt.Sprintf("other processes used only %.2f CPUs", *c.OtherCPUs)
				}
				causes = []cause{{api.CauseUnknown, fmt.Sprintf(
					"threads waited %s per second for a CPU; %s and GOMAXPROCS fits the CPUs: look for threads outside Go's scheduler (cgo calls, LockOSThread, blocking system calls)",
					units.FormatSeconds(*c.RunQueueWaitPerSecond), others)}}
			}
			add(api.Warning{Kind: api.WarnContention, Value: *c.RunQueueWaitRatio, Threshold: t}, causes)
		}
	}

	if t := cfg.AsyncPreemptThreshold; t >= 0 {
		switch {
		case r.Samples < int64(cfg.MinSamples):
			j.unjudged = append(j.unjudged, api.WarnAsyncPreempt)
		case stats.ShareAbove(r.Shares.AsyncPreempt, r.Samples, t, cfg.MinSamples):
			w := api.Warning{Kind: api.WarnAsyncPreempt, Value: r.Shares.AsyncPreempt, Threshold: t}
			w.Functions, w.FunctionsFrom, w.Evidence = loopFunctions(r, ev)
			add(w, ranked)
		}
	}

	if t := cfg.SchedLatencyThreshold.Seconds(); t >= 0 {
		switch {
		case c.SchedLatency == nil:
			j.unjudged = append(j.unjudged, api.WarnSchedLatency)
		case c.SchedLatency.P99 > t:
			w := api.Warning{Kind: api.WarnSchedLatency, Value: c.SchedLatency.P99, Threshold: t}
			w.Functions, w.FunctionsFrom, w.Evidence = loopFunctions(r, ev)
			add(w, ranked)
		}
	}

	if t := cfg.CgoThreshold; t >= 0 {
		switch {
		case r.Samples < int64(cfg.MinSamples):
			j.unjudged = append(j.unjudged, api.WarnCgoShare)
		case stats.ShareAbove(r.Shares.Cgo, r.Samples, t, cfg.MinSamples):
			add(api.Warning{Kind: api.WarnCgoShare, Value: r.Shares.Cgo, Threshold: t,
				Functions: funcNames(r.TopCgoCalls, true), FunctionsFrom: fromCgo(r)}, cgoCauses(r, c, api.WarnCgoShare))
		}
	}
	if t := cfg.CgoCallRateThreshold; t >= 0 {
		switch {
		case c.CgoCallsPerSecond == nil:
			j.unjudged = append(j.unjudged, api.WarnCgoCallRate)
		case *c.CgoCallsPerSecond > t:
			add(api.Warning{Kind: api.WarnCgoCallRate, Value: *c.CgoCallsPerSecond, Threshold: t,
				Functions: funcNames(r.TopCgoCalls, true), FunctionsFrom: fromCgo(r)}, cgoCauses(r, c, api.WarnCgoCallRate))
		}
	}
	return j
}

// rankCauses lists the causes of CPU contention and scheduling delay whose
// evidence the window holds, strongest first: a quota that throttles, other
// processes taking the CPUs (the run queue says the threads waited, and
// someone else used the CPU), GOMAXPROCS above the CPUs the process can
// get, more runnable goroutines than Ps with long runs, and the GC.
func rankCauses(r *analysis.Report, c api.Context, cfg Config, baseline []float64, ev *api.LoopEvidence) []cause {
	var causes []cause
	switch s := c.CgroupThrottledShare; {
	case s != nil && *s >= throttleEvidence && c.CgroupThrottledPeriods != nil && c.CgroupPeriods != nil:
		causes = append(causes, cause{api.CauseThrottling, throttlingText(c)})
	case s == nil && c.CgroupCPULimit != nil:
		// No throttling counters across the window (the limit changed, or
		// the process moved): the run queue still says whether the threads
		// wanted more CPU than the quota allows.
		if wanted, ok := wantedCPUs(c); ok && wanted > *c.CgroupCPULimit*1.1 && *c.RunQueueWaitPerSecond >= minContentionCPUs {
			causes = append(causes, cause{api.CauseThrottling, fmt.Sprintf(
				"threads wanted %.2f CPUs under a quota of %s CPUs%s (no throttling counters across this window)%s",
				wanted, trimFloat(*c.CgroupCPULimit), limitPath(c), throttleAdvice)})
		}
	}
	if text, ok := hostContention(c, cfg, baseline); ok {
		causes = append(causes, cause{api.CauseHostContention, text})
	}
	if text, ok := gomaxprocsAbove(c); ok {
		causes = append(causes, cause{api.CauseGOMAXPROCS, text})
	}
	if text, ok := longRuns(r, c, ev); ok {
		causes = append(causes, cause{api.CauseLongRuns, text})
	}
	if f := c.GCCPUFraction; f != nil && *f >= gcEvidence {
		causes = append(causes, cause{api.CauseGC, fmt.Sprintf(
			"the GC used %.0f%% of the CPU: its mark workers and assists take Ps from goroutines; reduce allocation or raise GOGC/GOMEMLIMIT", 100**f)})
	}
	return causes
}

const throttleAdvice = ": the process needs more CPU than its quota; raise the limit or cut the work, and keep GOMAXPROCS at the quota"

func throttlingText(c api.Context) string {
	msg := fmt.Sprintf("CPU throttled in %d of %d cgroup periods", *c.CgroupThrottledPeriods, *c.CgroupPeriods)
	if v := c.CgroupThrottledSecondsPerSecond; v != nil {
		msg += fmt.Sprintf(" (%s throttled per second)", units.FormatSeconds(*v))
	}
	if l := c.CgroupCPULimit; l != nil {
		msg += fmt.Sprintf(" by a quota of %s CPUs", trimFloat(*l)) + limitPath(c)
	}
	msg += fmt.Sprintf(", GOMAXPROCS %d", c.GOMAXPROCS)
	return msg + throttleAdvice
}

func limitPath(c api.Context) string {
	if c.CgroupCPULimitPath == "" {
		return ""
	}
	return " set at " + c.CgroupCPULimitPath
}

// wantedCPUs is the CPUs the counted threads wanted: what they got plus
// what they waited for.
func wantedCPUs(c api.Context) (float64, bool) {
	if c.RunQueueWaitPerSecond == nil || c.RunQueueWaitRatio == nil || *c.RunQueueWaitRatio <= 0 {
		return 0, false
	}
	wait := *c.RunQueueWaitPerSecond
	return wait/(*c.RunQueueWaitRatio) + wait, true
}

// hostContention reads the run-queue wait and who else used the CPUs; where
// the run queue is unread it falls back to a rise in involuntary context
// switches, and says the evidence is weaker.
func hostContention(c api.Context, cfg Config, baseline []float64) (string, bool) {
	threshold := cfg.ContentionThreshold
	if threshold < 0 {
		threshold = defaultContentionEvidence
	}
	if c.RunQueueWaitRatio != nil && c.RunQueueWaitPerSecond != nil {
		if *c.RunQueueWaitRatio <= threshold || *c.RunQueueWaitPerSecond < minContentionCPUs {
			return "", false
		}
		others := 0.0
		known := false
		if c.OtherCPUs != nil {
			others, known = *c.OtherCPUs, true
		}
		if c.StealCPUs != nil {
			others += *c.StealCPUs
			known = true
		}
		// The process's own threads can make each other wait: with more
		// runnable threads than CPUs, the wait beyond what the CPUs could
		// serve is its own. Neighbours are blamed only when they took at
		// least that much.
		if known && others < max(minOtherCPUs, selfExcess(c)) {
			return "", false
		}
		if !known {
			if _, self := gomaxprocsAbove(c); self {
				return "", false
			}
		}
		msg := fmt.Sprintf("threads waited %s per second for a CPU (%.2f× the CPU they got)",
			units.FormatSeconds(*c.RunQueueWaitPerSecond), *c.RunQueueWaitRatio)
		var who []string
		if c.OtherCPUs != nil && *c.OtherCPUs >= 0.05 {
			who = append(who, fmt.Sprintf("other processes used %.2f CPUs", *c.OtherCPUs))
		}
		if c.StealCPUs != nil && *c.StealCPUs >= 0.05 {
			who = append(who, fmt.Sprintf("the hypervisor took %.2f CPUs (steal)", *c.StealCPUs))
		}
		if len(who) > 0 {
			msg += " while " + strings.Join(who, " and ")
		}
		if c.NumCPU > 0 {
			msg += fmt.Sprintf(" of %d", c.NumCPU)
		}
		return msg + ": the host is oversubscribed; reserve CPUs for the service (requests, cpuset) or move its neighbours", true
	}
	if rate := c.InvoluntaryCtxSwitchesPerSecond; rate != nil && *rate > 0 {
		if base := median(baseline); base > 0 && *rate >= ctxSwitchRise*base {
			return fmt.Sprintf("involuntary context switches up %.0f× (%.0f/s): threads are descheduled by the kernel "+
				"(weaker evidence: no run-queue figures here, %s)", *rate/base, *rate, orUnknown(c.RunQueueWaitUnavailable)), true
		}
	}
	return "", false
}

func orUnknown(s string) string {
	if s == "" {
		return "reason unknown"
	}
	return s
}

// selfExcess is doctor.OwnExcessCPUs of a window: the CPUs the process's
// threads wanted beyond the CPUs it can get, its busy goroutines counted.
// It is 0 when the process alone fits, and when the wait is unknown.
func selfExcess(c api.Context) float64 {
	if c.RunQueueWaitPerSecond == nil || c.RunQueueWaitRatio == nil {
		return 0
	}
	var busy *int64
	if c.RunningGoroutines != nil && c.RunnableGoroutines != nil {
		n := *c.RunningGoroutines + *c.RunnableGoroutines
		busy = &n
	}
	return doctor.OwnExcessCPUs(*c.RunQueueWaitPerSecond, *c.RunQueueWaitRatio, busy, c.GOMAXPROCS, c.NumCPU, c.CgroupCPULimit)
}

// gomaxprocsAbove reports GOMAXPROCS above the CPUs the process can get: its
// effective cgroup limit (rounded up as Go 1.25 does) or the machine's CPUs.
func gomaxprocsAbove(c api.Context) (string, bool) {
	if c.CgroupCPULimit != nil && c.GOMAXPROCS > doctor.DefaultGOMAXPROCS(*c.CgroupCPULimit, c.NumCPU) {
		return fmt.Sprintf("GOMAXPROCS %d > cgroup limit %s CPUs: set GOMAXPROCS to the quota (Go 1.25+ does by default; check for an override)",
			c.GOMAXPROCS, trimFloat(*c.CgroupCPULimit)), true
	}
	if c.NumCPU > 0 && c.GOMAXPROCS > c.NumCPU {
		return fmt.Sprintf("GOMAXPROCS %d > %d CPUs (runtime.NumCPU): the process's own threads contend for the CPUs; unset GOMAXPROCS", c.GOMAXPROCS, c.NumCPU), true
	}
	return "", false
}

// longRuns is more runnable goroutines than Ps while some run for long
// stretches. The loops are named from the best evidence there is: the
// goroutines an execution trace saw run 10 ms or more until async
// preemption, located in a goroutine dump; else the CPU profile's samples
// in runtime.asyncPreempt.
func longRuns(r *analysis.Report, c api.Context, ev *api.LoopEvidence) (string, bool) {
	fns, from, _ := loopFunctions(r, ev)
	backlog := c.RunnableGoroutines != nil && c.GOMAXPROCS > 0 && *c.RunnableGoroutines > int64(c.GOMAXPROCS)
	if len(fns) == 0 {
		if !backlog {
			return "", false
		}
		msg := fmt.Sprintf("%d runnable goroutines for %d Ps", *c.RunnableGoroutines, c.GOMAXPROCS)
		if l := c.SchedLatency; l != nil && l.P99 >= 0.001 {
			msg += fmt.Sprintf(" waited up to %s to run (p99)", units.FormatSeconds(l.P99))
		}
		return msg + ": more work than Ps; no loop was caught being preempted", true
	}
	var msg string
	switch from {
	case api.FromTrace:
		var n, runs int64
		for _, p := range ev.Preempted {
			n, runs = n+p.Goroutines, runs+p.LongRuns
		}
		msg = fmt.Sprintf("%s: %d goroutines ran 10 ms or more without yielding until async preemption (%d such runs in the execution trace)",
			fns[0], n, runs)
	default:
		msg = "the CPU profile caught async preemption in " + fns[0]
	}
	if len(fns) > 1 {
		msg += fmt.Sprintf(" (and %d more)", len(fns)-1)
	}
	if backlog {
		msg += fmt.Sprintf(", with %d runnable goroutines for %d Ps", *c.RunnableGoroutines, c.GOMAXPROCS)
	}
	return msg + ": loops without function calls keep their P for whole time slices; add a call or runtime.Gosched() inside them, or bound the work per iteration", true
}

// loopFunctions names the loops: from the trace and goroutine dump when
// they found long runs, else from the CPU profile.
func loopFunctions(r *analysis.Report, ev *api.LoopEvidence) ([]string, string, *api.LoopEvidence) {
	if ev != nil && len(ev.Preempted) > 0 {
		// One entry a function, at the line where most of its goroutines
		// were (a loop's goroutines are found on each of its lines).
		var out, seen []string
		for _, p := range ev.Preempted {
			if slices.Contains(seen, p.Function) {
				continue
			}
			seen = append(seen, p.Function)
			name := p.Function
			if p.File != "" {
				name += fmt.Sprintf(" %s:%d", p.File, p.Line)
			}
			if out = append(out, name); len(out) == 5 {
				break
			}
		}
		return out, api.FromTrace, ev
	}
	if fns := funcNames(r.TopPreempted, false); len(fns) > 0 {
		return fns, api.FromCPUProfile, ev
	}
	return nil, "", ev
}

// withLead puts the cause id first, keeping the others' order.
func withLead(causes []cause, id string) []cause {
	i := slices.IndexFunc(causes, func(c cause) bool { return c.id == id })
	if i <= 0 {
		return causes
	}
	out := append([]cause{causes[i]}, causes[:i]...)
	return append(out, causes[i+1:]...)
}

// filterCauses keeps the causes with the given ids, in rank order.
func filterCauses(causes []cause, ids ...string) []cause {
	var out []cause
	for _, c := range causes {
		if slices.Contains(ids, c.id) {
			out = append(out, c)
		}
	}
	return out
}

func fromCgo(r *analysis.Report) string {
	if len(r.TopCgoCalls) == 0 {
		return ""
	}
	return api.FromCgoCallSites
}

// tinyCgoCall is the mean time per cgo call (C time and crossing) below
// which calls are tiny: the crossing, some 50–80 ns, is then a good part of
// each, and samples "in C" mostly land in the switch to the C stack.
const tinyCgoCall = 2 * time.Microsecond

// cgoCauses ranks many small calls paying the crossing against time in C
// code itself. The call rate warning is the calls' by definition; for the
// share, tiny calls (a mean under tinyCgoCall each) lead, else whichever of
// crossing and C time is larger.
func cgoCauses(r *analysis.Report, c api.Context, kind string) []cause {
	var calls, code []cause
	crossing := r.Buckets[analysis.BucketCgoCrossing].Share
	cShare := r.Buckets[analysis.BucketCgoC].Share
	tiny := false
	if c.CgoCallsPerSecond != nil && *c.CgoCallsPerSecond > 0 {
		msg := fmt.Sprintf("%.0f cgo calls/s", *c.CgoCallsPerSecond)
		if r.CPUSeconds > 0 && r.DurationSeconds > 0 {
			perCall := time.Duration(r.Shares.Cgo * r.CPUSeconds / r.DurationSeconds / *c.CgoCallsPerSecond * 1e9)
			tiny = perCall < tinyCgoCall
			msg += fmt.Sprintf(", %s each on average", perCall.Round(time.Nanosecond))
		}
		if crossing > 0.01 {
			msg += fmt.Sprintf(", crossing overhead %.1f%% of CPU", 100*crossing)
		}
		calls = append(calls, cause{api.CauseCgoCalls, msg + ": batch small C calls into fewer, larger ones"})
	} else if crossing > 0.01 {
		calls = append(calls, cause{api.CauseCgoCalls, fmt.Sprintf("crossing overhead %.1f%% of CPU: batch small C calls into fewer, larger ones", 100*crossing)})
	}
	if cShare > 0 {
		code = append(code, cause{api.CauseCgoCode, fmt.Sprintf("C code itself %.1f%% of CPU: profile the C side", 100*cShare)})
	}
	if kind == api.WarnCgoShare && !tiny && cShare > crossing && len(code) > 0 {
		return append(code, calls...)
	}
	return append(calls, code...)
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
