package doctor

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/diagkit/diagkit/diag/analysis"
	"github.com/diagkit/diagkit/diag/api"
)

// MergeReports merges analyzed CPU profiles into one Profile: samples and
// CPU time add up, shares are weighted by each profile's CPU time, and the
// attributed functions are summed by function and line. Each report lists
// only its top functions, so the merged lists are the top of those. Nil
// reports are skipped; with none left the result is nil.
func MergeReports(reports []*analysis.Report, top int) *Profile {
	var p Profile
	type key struct {
		fn, cfn, file string
		line          int64
	}
	preempted := map[key]*analysis.FuncStat{}
	cgoCalls := map[key]*analysis.FuncStat{}
	add := func(into map[key]*analysis.FuncStat, stats []analysis.FuncStat) {
		for _, s := range stats {
			k := key{s.Function, s.CFunction, s.File, s.Line}
			if m, ok := into[k]; ok {
				m.Samples += s.Samples
				m.CPUSeconds += s.CPUSeconds
				continue
			}
			c := s
			into[k] = &c
		}
	}
	for _, r := range reports {
		if r == nil {
			continue
		}
		p.Windows++
		p.Samples += r.Samples
		p.CPUSeconds += r.CPUSeconds
		p.AsyncPreempt += r.Shares.AsyncPreempt * r.CPUSeconds
		p.Cgo += r.Shares.Cgo * r.CPUSeconds
		p.CgoCrossing += r.Buckets[analysis.BucketCgoCrossing].Share * r.CPUSeconds
		add(preempted, r.TopPreempted)
		add(cgoCalls, r.TopCgoCalls)
	}
	if p.Windows == 0 {
		return nil
	}
	if p.CPUSeconds > 0 {
		p.AsyncPreempt /= p.CPUSeconds
		p.Cgo /= p.CPUSeconds
		p.CgoCrossing /= p.CPUSeconds
	} else {
		p.AsyncPreempt, p.Cgo, p.CgoCrossing = 0, 0, 0
	}
	p.TopPreempted = sortedTop(preempted, p.CPUSeconds, top)
	p.TopCgoCalls = sortedTop(cgoCalls, p.CPUSeconds, top)
	return &p
}

func sortedTop[K comparable](m map[K]*analysis.FuncStat, total float64, top int) []analysis.FuncStat {
	out := make([]analysis.FuncStat, 0, len(m))
	for _, s := range m {
		if total > 0 {
			s.Share = s.CPUSeconds / total
		} else {
			s.Share = 0
		}
		out = append(out, *s)
	}
	slices.SortFunc(out, func(a, b analysis.FuncStat) int {
		if c := cmp.Compare(b.CPUSeconds, a.CPUSeconds); c != 0 {
			return c
		}
		return cmp.Or(cmp.Compare(a.Function, b.Function), cmp.Compare(a.CFunction, b.CFunction),
			cmp.Compare(a.File, b.File), cmp.Compare(a.Line, b.Line))
	})
	if top >= 0 && len(out) > top {
		out = out[:top]
	}
	return out
}

// FromWindows fills the profile-based facts from an agent's window reports,
// oldest first: the merged profile, the cgo call rate over the windows, the
// worst window's scheduling latency and run-queue wait, and throttling
// summed over them.
func FromWindows(f *Facts, windows []api.WindowReport, top int) {
	if len(windows) == 0 {
		return
	}
	reports := make([]*analysis.Report, len(windows))
	var calls int64
	var callSecs float64
	var periods, throttled int64
	var periodWindows int
	var throttledSecs, throttledWall float64
	var haveThrottledSecs bool
	var runQueueWindows int
	var runQueueWhy string
	for i := range windows {
		w := &windows[i]
		reports[i] = &w.Report
		d := w.End.Sub(w.Start).Seconds()
		if c := w.Context.CgoCalls; c != nil {
			if d > 0 {
				calls += *c
				callSecs += d
			}
		}
		if s := w.Context.CgroupThrottledSeconds; s != nil && d > 0 {
			throttledSecs += *s
			throttledWall += d
			haveThrottledSecs = true
		}
		if q := runQueueOf(w.Context, d); q != nil {
			runQueueWindows++
			if f.RunQueue == nil || worseRunQueue(q, f.RunQueue) {
				f.RunQueue = q
			}
		} else if why := w.Context.RunQueueWaitUnavailable; why != "" {
			runQueueWhy = why // the latest reason
		}
		if l := w.Context.SchedLatency; l != nil && (f.Sched == nil || l.P99 > f.Sched.P99) {
			lat := *l
			f.Sched = &lat
		}
		if w.Context.CgroupPeriods != nil && w.Context.CgroupThrottledPeriods != nil {
			periods += *w.Context.CgroupPeriods
			throttled += *w.Context.CgroupThrottledPeriods
			periodWindows++
		}
	}
	f.Profile = MergeReports(reports, top)
	if callSecs > 0 {
		rate := float64(calls) / callSecs
		f.CgoCallsPerSecond = &rate
	}
	if f.Sched != nil {
		f.SchedFrom = fmt.Sprintf("worst window of %d", len(windows))
	}
	if periodWindows > 0 {
		f.CgroupPeriods, f.CgroupThrottledPeriods = &periods, &throttled
		f.CgroupFrom = fmt.Sprintf("over %d %s", periodWindows, plural(periodWindows, "window", "windows"))
	}
	if haveThrottledSecs {
		v := throttledSecs / throttledWall
		f.CgroupThrottledSecondsPerSecond = &v
	}
	switch {
	case f.RunQueue != nil && runQueueWindows > 0:
		f.RunQueue.From = fmt.Sprintf("worst window of %d", runQueueWindows)
	case f.RunQueue == nil && runQueueWhy != "":
		f.RunQueueUnknown = "no window read the run-queue wait: " + runQueueWhy
	case f.RunQueue == nil:
		f.RunQueueUnknown = "no window read the run-queue wait"
	}
}

// runQueueOf is the run-queue wait of a window of secs seconds, or nil when
// it has none.
func runQueueOf(c api.Context, secs float64) *RunQueue {
	if c.RunQueueWaitRatio == nil || c.RunQueueWaitPerSecond == nil {
		return nil
	}
	q := &RunQueue{WaitPerSecond: *c.RunQueueWaitPerSecond, WaitRatio: *c.RunQueueWaitRatio,
		GOMAXPROCS: c.GOMAXPROCS, NumCPU: c.NumCPU}
	if v := c.OtherCPUs; v != nil {
		other := *v
		q.OtherCPUs = &other
	}
	if v := c.StealCPUs; v != nil {
		steal := *v
		q.StealCPUs = &steal
	}
	if v := c.CgroupCPULimit; v != nil {
		limit := *v
		q.CPULimit = &limit
	}
	if c.RunningGoroutines != nil && c.RunnableGoroutines != nil {
		busy := *c.RunningGoroutines + *c.RunnableGoroutines
		q.BusyGoroutines = &busy
	}
	if c.VoluntaryCtxSwitches != nil && c.InvoluntaryCtxSwitches != nil && secs > 0 {
		cs := float64(*c.VoluntaryCtxSwitches+*c.InvoluntaryCtxSwitches) / secs
		q.ContextSwitchesPerSecond = &cs
	}
	return q
}

// worseRunQueue: a wait of at least minContentionCPUs is worse than any
// smaller one, which cannot be contention however high its ratio (a thread
// that runs 1 ms a second and waits 2 ms for it); then the higher ratio.
func worseRunQueue(a, b *RunQueue) bool {
	if sa, sb := a.WaitPerSecond >= minContentionCPUs, b.WaitPerSecond >= minContentionCPUs; sa != sb {
		return sa
	}
	return a.WaitRatio > b.WaitRatio
}
