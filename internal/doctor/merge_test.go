package doctor

import (
	"math"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/diagkit/diagkit/diag/analysis"
	"github.com/diagkit/diagkit/diag/api"
)

func near(a, b float64) bool { return math.Abs(a-b) <= 1e-12*math.Max(1, math.Abs(b)) }

// report is an analyzed profile of cpu seconds at 100 Hz with the given
// async-preempt, cgo and cgo-crossing shares.
func report(cpu, preempt, cgo, crossing float64) *analysis.Report {
	return &analysis.Report{
		Samples:    int64(math.Round(cpu * 100)),
		CPUSeconds: cpu,
		Shares:     analysis.Shares{AsyncPreempt: preempt, Cgo: cgo, Go: 1 - preempt - cgo},
		Buckets: map[analysis.Bucket]analysis.BucketStat{
			analysis.BucketCgoCrossing: {Samples: int64(math.Round(crossing * cpu * 100)), CPUSeconds: crossing * cpu, Share: crossing},
			analysis.BucketCgoC:        {CPUSeconds: (cgo - crossing) * cpu, Share: cgo - crossing},
		},
	}
}

func fn(name, file string, line, samples int64) analysis.FuncStat {
	return analysis.FuncStat{Function: name, File: file, Line: line, Samples: samples, CPUSeconds: float64(samples) / 100}
}

func TestMergeReportsWeighted(t *testing.T) {
	// 1 s of CPU with 10 % in async preemption, and 3 s with 2 %: 0.16 s
	// of 4 s is 4 %, not the plain mean 6 %.
	r1 := report(1, 0.10, 0.20, 0.02)
	r2 := report(3, 0.02, 0, 0)
	p := MergeReports([]*analysis.Report{r1, r2}, 10)
	if p == nil {
		t.Fatal("nil profile")
	}
	if p.Windows != 2 || p.Samples != 400 || !near(p.CPUSeconds, 4) {
		t.Errorf("windows %d samples %d CPU %v, want 2, 400, 4", p.Windows, p.Samples, p.CPUSeconds)
	}
	if !near(p.AsyncPreempt, 0.04) {
		t.Errorf("async preempt %v, want 0.04 (CPU-weighted)", p.AsyncPreempt)
	}
	if !near(p.Cgo, 0.05) {
		t.Errorf("cgo %v, want 0.05", p.Cgo)
	}
	if !near(p.CgoCrossing, 0.005) {
		t.Errorf("cgo crossing %v, want 0.005", p.CgoCrossing)
	}
	// Order does not matter.
	q := MergeReports([]*analysis.Report{r2, r1}, 10)
	if !near(q.AsyncPreempt, p.AsyncPreempt) || !near(q.Cgo, p.Cgo) || !near(q.CgoCrossing, p.CgoCrossing) {
		t.Errorf("reversed: %+v, want %+v", q, p)
	}
}

func TestMergeReportsFunctions(t *testing.T) {
	r1 := report(1, 0.07, 0.1, 0.01)
	r1.TopPreempted = []analysis.FuncStat{fn("main.spin", "/src/spin.go", 10, 5), fn("main.other", "/src/x.go", 3, 2)}
	r1.TopCgoCalls = []analysis.FuncStat{
		{Function: "main.call", CFunction: "C.a", File: "/src/c.go", Line: 5, Samples: 4, CPUSeconds: 0.04},
		{Function: "main.call", CFunction: "C.b", File: "/src/c.go", Line: 5, Samples: 6, CPUSeconds: 0.06},
	}
	r2 := report(3, 0.1, 0.01, 0)
	r2.TopPreempted = []analysis.FuncStat{fn("main.spin", "/src/spin.go", 10, 10), fn("main.spin", "/src/spin.go", 11, 1), fn("main.other", "/src/y.go", 3, 4)}
	r2.TopCgoCalls = []analysis.FuncStat{{Function: "main.call", CFunction: "C.a", File: "/src/c.go", Line: 5, Samples: 3, CPUSeconds: 0.03}}
	before := slices.Clone(r1.TopPreempted)

	p := MergeReports([]*analysis.Report{r1, r2}, -1)
	// Summed by function, file and line; shares of the 4 s merged.
	wantPre := []analysis.FuncStat{
		{Function: "main.spin", File: "/src/spin.go", Line: 10, Samples: 15, CPUSeconds: 0.15, Share: 0.15 / 4},
		{Function: "main.other", File: "/src/y.go", Line: 3, Samples: 4, CPUSeconds: 0.04, Share: 0.04 / 4},
		{Function: "main.other", File: "/src/x.go", Line: 3, Samples: 2, CPUSeconds: 0.02, Share: 0.02 / 4},
		{Function: "main.spin", File: "/src/spin.go", Line: 11, Samples: 1, CPUSeconds: 0.01, Share: 0.01 / 4},
	}
	checkFuncs(t, "preempted", p.TopPreempted, wantPre)
	// Summed by C function too.
	wantCgo := []analysis.FuncStat{
		{Function: "main.call", CFunction: "C.a", File: "/src/c.go", Line: 5, Samples: 7, CPUSeconds: 0.07, Share: 0.07 / 4},
		{Function: "main.call", CFunction: "C.b", File: "/src/c.go", Line: 5, Samples: 6, CPUSeconds: 0.06, Share: 0.06 / 4},
	}
	checkFuncs(t, "cgo calls", p.TopCgoCalls, wantCgo)
	if !reflect.DeepEqual(r1.TopPreempted, before) {
		t.Errorf("the input report changed: %+v, was %+v", r1.TopPreempted, before)
	}

	// Truncated to the top.
	for _, top := range []int{0, 1, 2, 4, 10} {
		p := MergeReports([]*analysis.Report{r1, r2}, top)
		want := wantPre[:min(top, len(wantPre))]
		checkFuncs(t, "top", p.TopPreempted, want)
		if top == 0 && p.TopPreempted == nil {
			t.Errorf("top 0: nil list, want an empty one")
		}
	}
}

func checkFuncs(t *testing.T, what string, got, want []analysis.FuncStat) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s: %d functions, want %d: %+v", what, len(got), len(want), got)
		return
	}
	for i := range want {
		g, w := got[i], want[i]
		if g.Function != w.Function || g.CFunction != w.CFunction || g.File != w.File || g.Line != w.Line ||
			g.Samples != w.Samples || !near(g.CPUSeconds, w.CPUSeconds) || !near(g.Share, w.Share) {
			t.Errorf("%s[%d] = %+v, want %+v", what, i, g, w)
		}
	}
}

// TestMergeReportsTies: functions with as much CPU come out in the same
// order every time, whatever the map iteration order.
func TestMergeReportsTies(t *testing.T) {
	r := report(10, 0.1, 0, 0)
	for _, line := range []int64{9, 3, 7, 1, 5} {
		r.TopPreempted = append(r.TopPreempted, fn("main.spin", "/src/spin.go", line, 2), fn("main.spin", "/src/alt.go", line, 2))
	}
	reversed := report(10, 0.1, 0, 0)
	reversed.TopPreempted = slices.Clone(r.TopPreempted)
	slices.Reverse(reversed.TopPreempted)
	first := MergeReports([]*analysis.Report{r}, 3)
	for i := range 50 {
		in := r
		if i%2 == 1 {
			in = reversed
		}
		if again := MergeReports([]*analysis.Report{in}, 3); !reflect.DeepEqual(again.TopPreempted, first.TopPreempted) {
			t.Fatalf("ties ordered differently: %+v, then %+v", first.TopPreempted, again.TopPreempted)
		}
	}
}

func TestMergeReportsNil(t *testing.T) {
	if p := MergeReports(nil, 10); p != nil {
		t.Errorf("no reports: %+v, want nil", p)
	}
	if p := MergeReports([]*analysis.Report{nil, nil}, 10); p != nil {
		t.Errorf("all nil: %+v, want nil", p)
	}
	r := report(2, 0.05, 0.1, 0.01)
	r.TopPreempted = []analysis.FuncStat{fn("main.spin", "/src/spin.go", 10, 5)}
	want := MergeReports([]*analysis.Report{r}, 10)
	got := MergeReports([]*analysis.Report{nil, r, nil}, 10)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("nil skipped: %+v, want %+v", got, want)
	}
	if got.Windows != 1 {
		t.Errorf("windows %d, want 1", got.Windows)
	}
}

func TestMergeReportsZeroCPU(t *testing.T) {
	r := &analysis.Report{
		Shares:       analysis.Shares{AsyncPreempt: 0.5, Cgo: 0.5},
		Buckets:      map[analysis.Bucket]analysis.BucketStat{analysis.BucketCgoCrossing: {Share: 0.5}},
		TopPreempted: []analysis.FuncStat{{Function: "main.spin", Samples: 1}},
	}
	p := MergeReports([]*analysis.Report{r, {}}, 10)
	if p == nil {
		t.Fatal("nil profile")
	}
	for name, v := range map[string]float64{"async preempt": p.AsyncPreempt, "cgo": p.Cgo, "crossing": p.CgoCrossing, "function share": p.TopPreempted[0].Share} {
		if v != 0 || math.IsNaN(v) {
			t.Errorf("%s %v, want 0", name, v)
		}
	}
	if p.Windows != 2 || p.Samples != 0 || p.CPUSeconds != 0 {
		t.Errorf("windows %d samples %d CPU %v", p.Windows, p.Samples, p.CPUSeconds)
	}
	// And the checks say so rather than judging a NaN.
	rep := Run(Facts{Profile: p}, DefaultThresholds)
	for _, id := range []string{api.CheckAsyncPreemptShare, api.CheckHotLoops} {
		if c := checkOf(t, rep, id); c.Status != api.StatusUnknown {
			t.Errorf("%s: %s, want unknown", id, c.Status)
		}
	}
}

func window(start time.Time, secs float64, r *analysis.Report, ctx api.Context) api.WindowReport {
	return api.WindowReport{Report: *r, Start: start, End: start.Add(time.Duration(secs * float64(time.Second))), Context: ctx}
}

func TestFromWindows(t *testing.T) {
	t0 := time.Date(2026, 1, 6, 10, 0, 0, 0, time.UTC)
	r1 := report(2, 0.05, 0, 0)
	r1.TopPreempted = []analysis.FuncStat{fn("main.spin", "/src/spin.go", 10, 8), fn("main.a", "/src/a.go", 1, 1)}
	r2 := report(6, 0.01, 0.02, 0.01)
	r2.TopPreempted = []analysis.FuncStat{fn("main.spin", "/src/spin.go", 10, 4)}
	r3 := report(1, 0, 0, 0)
	windows := []api.WindowReport{
		// The highest run-queue ratio, but too little wait to be
		// contention.
		window(t0, 10, r1, api.Context{
			CgoCalls:      ptrTo[int64](1000),
			SchedLatency:  &api.Latency{Count: 100, P50: 1e-5, P99: 0.002, P999: 0.003},
			CgroupPeriods: ptrTo[int64](100), CgroupThrottledPeriods: ptrTo[int64](1), CgroupThrottledSeconds: ptrTo(0.1),
			RunQueueWaitPerSecond: ptrTo(0.05), RunQueueWaitRatio: ptrTo(5.0),
		}),
		// The worst run-queue wait.
		window(t0.Add(60*time.Second), 30, r2, api.Context{
			CgoCalls:      ptrTo[int64](5000),
			SchedLatency:  &api.Latency{Count: 200, P50: 2e-5, P99: 0.008, P999: 0.009},
			CgroupPeriods: ptrTo[int64](100), CgroupThrottledPeriods: ptrTo[int64](4), CgroupThrottledSeconds: ptrTo(0.3),
			RunQueueWaitPerSecond: ptrTo(0.5), RunQueueWaitRatio: ptrTo(0.8), OtherCPUs: ptrTo(1.2), StealCPUs: ptrTo(0.1),
			GOMAXPROCS: 4, NumCPU: 8, CgroupCPULimit: ptrTo(6.0),
			VoluntaryCtxSwitches: ptrTo[int64](600_000), InvoluntaryCtxSwitches: ptrTo[int64](300_000),
		}),
		// No cgo count, a lower latency, half the throttling figures.
		window(t0.Add(120*time.Second), 10, r3, api.Context{
			SchedLatency:          &api.Latency{Count: 300, P50: 3e-5, P99: 0.004, P999: 0.02},
			CgroupPeriods:         ptrTo[int64](100),
			RunQueueWaitPerSecond: ptrTo(0.4), RunQueueWaitRatio: ptrTo(0.6),
		}),
		// No time: its calls cannot make a rate.
		window(t0.Add(180*time.Second), 0, r3, api.Context{CgoCalls: ptrTo[int64](1_000_000), RunQueueWaitUnavailable: "not Linux"}),
	}
	var f Facts
	FromWindows(&f, windows, 1)

	if f.Profile == nil || f.Profile.Windows != 4 || f.Profile.Samples != 1000 || !near(f.Profile.CPUSeconds, 10) {
		t.Fatalf("profile %+v, want 4 windows, 1000 samples, 10 s", f.Profile)
	}
	if !near(f.Profile.AsyncPreempt, (0.05*2+0.01*6)/10) {
		t.Errorf("async preempt %v", f.Profile.AsyncPreempt)
	}
	checkFuncs(t, "top 1", f.Profile.TopPreempted, []analysis.FuncStat{
		{Function: "main.spin", File: "/src/spin.go", Line: 10, Samples: 12, CPUSeconds: 0.12, Share: 0.012},
	})
	// 6,000 calls over the 40 s of the two windows that counted them: not
	// over the 180 s they span, nor over all four, nor the mean of their
	// rates (133/s).
	if f.CgoCallsPerSecond == nil || !near(*f.CgoCallsPerSecond, 150) {
		t.Errorf("cgo calls/s %v, want 150", f.CgoCallsPerSecond)
	}
	// The worst p99, with that window's other quantiles.
	if want := (api.Latency{Count: 200, P50: 2e-5, P99: 0.008, P999: 0.009}); f.Sched == nil || *f.Sched != want {
		t.Errorf("sched %+v, want %+v", f.Sched, want)
	}
	if f.SchedFrom != "worst window of 4" {
		t.Errorf("sched from %q", f.SchedFrom)
	}
	if f.CgroupPeriods == nil || *f.CgroupPeriods != 200 || f.CgroupThrottledPeriods == nil || *f.CgroupThrottledPeriods != 5 {
		t.Errorf("periods %v throttled %v, want 200 and 5", f.CgroupPeriods, f.CgroupThrottledPeriods)
	}
	if f.CgroupFrom != "over 2 windows" {
		t.Errorf("cgroup from %q", f.CgroupFrom)
	}
	// 0.4 s throttled over the 40 s of the two windows that counted it.
	if v := f.CgroupThrottledSecondsPerSecond; v == nil || !near(*v, 0.01) {
		t.Errorf("throttled s/s %v, want 0.01", v)
	}
	// The worst run-queue wait that is contention, with that window's
	// figures.
	want := RunQueue{WaitPerSecond: 0.5, WaitRatio: 0.8, OtherCPUs: ptrTo(1.2), StealCPUs: ptrTo(0.1),
		ContextSwitchesPerSecond: ptrTo(30_000.0), GOMAXPROCS: 4, NumCPU: 8, CPULimit: ptrTo(6.0), From: "worst window of 3"}
	if f.RunQueue == nil || !reflect.DeepEqual(*f.RunQueue, want) {
		t.Errorf("run queue %+v, want %+v", f.RunQueue, want)
	}
	if f.RunQueueUnknown != "" {
		t.Errorf("run queue unknown %q", f.RunQueueUnknown)
	}
	// The facts own their figures.
	windows[1].Context.SchedLatency.P99 = 1
	if f.Sched.P99 != 0.008 {
		t.Errorf("f.Sched aliases the window's latency")
	}
	*windows[1].Context.OtherCPUs = 7
	if *f.RunQueue.OtherCPUs != 1.2 {
		t.Errorf("f.RunQueue aliases the window's other CPUs")
	}
	// And the checks read them.
	rep := Run(f, DefaultThresholds)
	if c := checkOf(t, rep, api.CheckSchedLatency); !slices.Contains(c.Evidence, "p50 20µs, p99 8ms, p999 9ms (worst window of 4)") {
		t.Errorf("sched evidence %q", c.Evidence)
	}
	if rep.Windows != 4 {
		t.Errorf("report windows %d", rep.Windows)
	}
	if c := checkOf(t, rep, api.CheckCPUContention); c.Status != api.StatusFail ||
		!slices.Contains(c.Evidence, "threads waited 500.0ms per second for a CPU, 0.80× the CPU they got (worst window of 3)") ||
		!slices.Contains(c.Evidence, "30000 context switches per second, 17µs of run-queue wait each") {
		t.Errorf("cpu_contention %s %q", c.Status, c.Evidence)
	}
	if c := checkOf(t, rep, api.CheckCPUThrottling); c.Status != api.StatusPass ||
		!slices.Contains(c.Evidence, "throttled in 5 of 200 cgroup periods (2.50%) over 2 windows") {
		t.Errorf("cpu_throttling %s %q", c.Status, c.Evidence)
	}
}

func TestFromWindowsSparse(t *testing.T) {
	t0 := time.Date(2026, 1, 6, 10, 0, 0, 0, time.UTC)
	// No windows: nothing changes.
	f := Facts{GOMAXPROCS: 4, CgoCallsPerSecond: ptrTo(7.0)}
	want := f
	FromWindows(&f, nil, 10)
	if !reflect.DeepEqual(f, want) {
		t.Errorf("no windows: %+v, want %+v", f, want)
	}
	// Windows without the context figures: only the profile.
	f = Facts{}
	FromWindows(&f, []api.WindowReport{
		window(t0, 10, report(1, 0, 0, 0), api.Context{CgroupThrottledPeriods: ptrTo[int64](3)}),
		window(t0.Add(time.Minute), 10, report(1, 0, 0, 0), api.Context{}),
	}, 10)
	if f.Profile == nil || f.Profile.Windows != 2 {
		t.Errorf("profile %+v", f.Profile)
	}
	if f.CgoCallsPerSecond != nil || f.Sched != nil || f.SchedFrom != "" || f.CgroupPeriods != nil || f.CgroupThrottledPeriods != nil ||
		f.CgroupThrottledSecondsPerSecond != nil || f.CgroupFrom != "" || f.RunQueue != nil {
		t.Errorf("figures from nothing: calls/s %v sched %v %q periods %v/%v %q throttled s/s %v run queue %+v",
			f.CgoCallsPerSecond, f.Sched, f.SchedFrom, f.CgroupThrottledPeriods, f.CgroupPeriods, f.CgroupFrom,
			f.CgroupThrottledSecondsPerSecond, f.RunQueue)
	}
	if f.RunQueueUnknown != "no window read the run-queue wait" {
		t.Errorf("run queue unknown %q", f.RunQueueUnknown)
	}
	// The windows' reason, the latest one; a window without a ratio (its
	// threads got no CPU) has no figure to judge either.
	f = Facts{}
	FromWindows(&f, []api.WindowReport{
		window(t0, 10, report(1, 0, 0, 0), api.Context{RunQueueWaitUnavailable: "no /proc/self/task (procfs not mounted?)"}),
		window(t0.Add(time.Minute), 10, report(1, 0, 0, 0), api.Context{RunQueueWaitPerSecond: ptrTo(0.5)}),
		window(t0.Add(2*time.Minute), 10, report(1, 0, 0, 0), api.Context{RunQueueWaitUnavailable: "not Linux"}),
	}, 10)
	if f.RunQueue != nil || f.RunQueueUnknown != "no window read the run-queue wait: not Linux" {
		t.Errorf("run queue %+v, unknown %q", f.RunQueue, f.RunQueueUnknown)
	}
	if c := checkOf(t, Run(f, DefaultThresholds), api.CheckCPUContention); c.Status != api.StatusUnknown ||
		!slices.Contains(c.Evidence, "no window read the run-queue wait: not Linux") {
		t.Errorf("cpu_contention %s %q", c.Status, c.Evidence)
	}
	// Zero calls is a rate of zero, not unknown.
	f = Facts{}
	FromWindows(&f, []api.WindowReport{window(t0, 10, report(1, 0, 0, 0), api.Context{CgoCalls: ptrTo[int64](0)})}, 10)
	if f.CgoCallsPerSecond == nil || *f.CgoCallsPerSecond != 0 {
		t.Errorf("zero calls: %v", f.CgoCallsPerSecond)
	}
}
