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
// worst window's scheduling latency, and throttling summed over them.
func FromWindows(f *Facts, windows []api.WindowReport, top int) {
	if len(windows) == 0 {
		return
	}
	reports := make([]*analysis.Report, len(windows))
	var calls int64
	var callSecs float64
	var periods, throttled int64
	var havePeriods bool
	for i := range windows {
		w := &windows[i]
		reports[i] = &w.Report
		if c := w.Context.CgoCalls; c != nil {
			if d := w.End.Sub(w.Start).Seconds(); d > 0 {
				calls += *c
				callSecs += d
			}
		}
		if l := w.Context.SchedLatency; l != nil && (f.Sched == nil || l.P99 > f.Sched.P99) {
			lat := *l
			f.Sched = &lat
		}
		if w.Context.CgroupPeriods != nil && w.Context.CgroupThrottledPeriods != nil {
			periods += *w.Context.CgroupPeriods
			throttled += *w.Context.CgroupThrottledPeriods
			havePeriods = true
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
	if havePeriods {
		f.CgroupPeriods, f.CgroupThrottledPeriods = &periods, &throttled
	}
}
