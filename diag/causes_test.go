package diag

import (
	"slices"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/diagkit/diagkit/diag/analysis"
	"github.com/diagkit/diagkit/diag/api"
)

func ptr[T any](v T) *T { return &v }

func preemptReport(share float64) *analysis.Report {
	return &analysis.Report{
		Samples:      1000,
		Shares:       analysis.Shares{AsyncPreempt: share, Go: 1 - share},
		Buckets:      map[analysis.Bucket]analysis.BucketStat{},
		TopPreempted: []analysis.FuncStat{{Function: "main.spin", File: "/app/spin.go", Line: 12, Share: share}},
	}
}

// quietReport is a window with plenty of samples and no preemption.
func quietReport() *analysis.Report {
	return &analysis.Report{Samples: 1000, Shares: analysis.Shares{Go: 1}, Buckets: map[analysis.Bucket]analysis.BucketStat{}}
}

// Contexts of the situations the end-to-end tests recreate, with the
// figures measured in them on a 2-vCPU VM.
var (
	quietCtx = api.Context{GOMAXPROCS: 2, NumCPU: 2, CgroupVersion: "v1",
		CgroupPeriods: ptr(int64(0)), CgroupThrottledPeriods: ptr(int64(0)),
		RunQueueWaitPerSecond: ptr(0.02), RunQueueWaitRatio: ptr(0.02), OtherCPUs: ptr(0.03), StealCPUs: ptr(0.0),
		SchedLatency: &api.Latency{P99: 0.0002}, CgoCallsPerSecond: ptr(0.0),
		InvoluntaryCtxSwitchesPerSecond: ptr(150.0), RunnableGoroutines: ptr(int64(0))}
	// 0.5-CPU quota on a service wanting 1.2 CPUs: throttled in every
	// period, no rise in scheduling latency.
	throttledCtx = with(quietCtx, func(c *api.Context) {
		c.CgroupCPULimit, c.CgroupCPULimitPath = ptr(0.5), "/diagkit-test"
		c.CgroupPeriods, c.CgroupThrottledPeriods = ptr(int64(21)), ptr(int64(21))
		c.CgroupThrottledShare, c.CgroupThrottledSecondsPerSecond = ptr(1.0), ptr(0.62)
		c.RunQueueWaitPerSecond, c.RunQueueWaitRatio = ptr(0.7), ptr(1.4) // throttled threads wait queued
	})
	// Three busy neighbours on the 2 CPUs.
	neighboursCtx = with(quietCtx, func(c *api.Context) {
		c.RunQueueWaitPerSecond, c.RunQueueWaitRatio, c.OtherCPUs = ptr(0.94), ptr(1.7), ptr(1.45)
		c.SchedLatency = &api.Latency{P99: 0.0126}
		c.InvoluntaryCtxSwitchesPerSecond = ptr(900.0)
	})
	// GOMAXPROCS 8 on 2 CPUs, nothing else running: the process's own
	// threads wait for the CPUs.
	oversubscribedCtx = with(quietCtx, func(c *api.Context) {
		c.GOMAXPROCS = 8
		c.RunQueueWaitPerSecond, c.RunQueueWaitRatio, c.OtherCPUs = ptr(5.8), ptr(2.9), ptr(0.02)
		c.SchedLatency = &api.Latency{P99: 0.11}
		c.RunnableGoroutines = ptr(int64(9))
	})
	// Eight call-free loops on GOMAXPROCS 2, nothing else running.
	loopsCtx = with(quietCtx, func(c *api.Context) {
		c.SchedLatency = &api.Latency{P99: 0.125}
		c.RunnableGoroutines = ptr(int64(7))
		c.InvoluntaryCtxSwitchesPerSecond = ptr(205.0)
	})
)

func with(c api.Context, f func(*api.Context)) api.Context { f(&c); return c }

var loopEv = &api.LoopEvidence{Goroutines: 12, Preempted: []api.PreemptedSite{
	{Function: "main.crunchRows", File: "/app/main.go", Line: 49, Goroutines: 6, LongRuns: 95}}}

func TestLeadCause(t *testing.T) {
	cfg, _ := Config{}.withDefaults()
	tests := []struct {
		name   string
		report *analysis.Report
		ctx    api.Context
		base   []float64
		ev     *api.LoopEvidence
		// want maps each warning kind expected to its lead cause; no other
		// kind may be raised.
		want map[string]string
		// notCause must appear in no cause of any warning.
		notCause []string
		// functions, when set, must be the first function of the
		// sched_latency_p99 warning, named from functionsFrom.
		functions, functionsFrom string
	}{
		{name: "quiet", report: quietReport(), ctx: quietCtx, want: map[string]string{}},
		{name: "throttled by a quota", report: quietReport(), ctx: throttledCtx,
			want:     map[string]string{api.WarnThrottling: api.CauseThrottling, api.WarnContention: api.CauseThrottling},
			notCause: []string{api.CauseHostContention}},
		{name: "throttled and preempted", report: preemptReport(0.1), ctx: with(throttledCtx, func(c *api.Context) { c.SchedLatency = &api.Latency{P99: 0.05} }),
			want: map[string]string{api.WarnThrottling: api.CauseThrottling, api.WarnContention: api.CauseThrottling,
				api.WarnAsyncPreempt: api.CauseThrottling, api.WarnSchedLatency: api.CauseThrottling}},
		{name: "busy neighbours", report: quietReport(), ctx: neighboursCtx,
			want:     map[string]string{api.WarnContention: api.CauseHostContention, api.WarnSchedLatency: api.CauseHostContention},
			notCause: []string{api.CauseGOMAXPROCS}},
		{name: "busy neighbours preempt a loop", report: preemptReport(0.3), ctx: neighboursCtx, ev: loopEv,
			want: map[string]string{api.WarnContention: api.CauseHostContention, api.WarnSchedLatency: api.CauseHostContention,
				api.WarnAsyncPreempt: api.CauseHostContention}},
		{name: "steal is the neighbour", report: quietReport(), ctx: with(neighboursCtx, func(c *api.Context) { c.OtherCPUs, c.StealCPUs = ptr(0.0), ptr(0.9) }),
			want: map[string]string{api.WarnContention: api.CauseHostContention, api.WarnSchedLatency: api.CauseHostContention}},
		{name: "gomaxprocs above the cpus", report: preemptReport(0.5), ctx: oversubscribedCtx, ev: loopEv,
			want: map[string]string{api.WarnContention: api.CauseGOMAXPROCS, api.WarnSchedLatency: api.CauseGOMAXPROCS,
				api.WarnAsyncPreempt: api.CauseGOMAXPROCS},
			notCause: []string{api.CauseHostContention}},
		{name: "gomaxprocs above the cpus beside a light neighbour", report: quietReport(), ctx: with(oversubscribedCtx, func(c *api.Context) { c.OtherCPUs = ptr(0.45) }),
			want:     map[string]string{api.WarnContention: api.CauseGOMAXPROCS, api.WarnSchedLatency: api.CauseGOMAXPROCS},
			notCause: []string{api.CauseHostContention}},
		{name: "gomaxprocs above the cpus beside busy neighbours", report: quietReport(), ctx: with(oversubscribedCtx, func(c *api.Context) {
			c.RunQueueWaitPerSecond, c.RunQueueWaitRatio, c.OtherCPUs = ptr(2.0), ptr(2.0), ptr(1.5) // got 1 CPU, wanted 3 of 2: excess 1
		}), want: map[string]string{api.WarnContention: api.CauseHostContention, api.WarnSchedLatency: api.CauseHostContention}},
		// Threads started during the window are missing from its run-queue
		// sums: the goroutines running and runnable at its end still tell
		// the process keeps 8 threads busy on 2 CPUs.
		{name: "gomaxprocs above the cpus, threads started mid-window", report: quietReport(), ctx: with(oversubscribedCtx, func(c *api.Context) {
			c.RunQueueWaitPerSecond, c.RunQueueWaitRatio, c.OtherCPUs = ptr(1.96), ptr(7.31), ptr(1.02)
			c.RunningGoroutines, c.RunnableGoroutines = ptr(int64(8)), ptr(int64(9))
		}), want: map[string]string{api.WarnContention: api.CauseGOMAXPROCS, api.WarnSchedLatency: api.CauseGOMAXPROCS}},
		{name: "gomaxprocs above the quota", report: preemptReport(0.2), ctx: with(quietCtx, func(c *api.Context) {
			c.GOMAXPROCS, c.NumCPU, c.CgroupCPULimit = 8, 8, ptr(2.0)
		}), want: map[string]string{api.WarnAsyncPreempt: api.CauseGOMAXPROCS}},
		// Go 1.25+ itself sets GOMAXPROCS to the quota rounded up: not a cause.
		{name: "quota rounded up is go's default", report: preemptReport(0.2), ctx: with(quietCtx, func(c *api.Context) {
			c.GOMAXPROCS, c.NumCPU, c.CgroupCPULimit = 3, 8, ptr(2.5)
		}), want: map[string]string{api.WarnAsyncPreempt: api.CauseLongRuns}, notCause: []string{api.CauseGOMAXPROCS}},
		{name: "call-free loops, named by the trace", report: quietReport(), ctx: loopsCtx, ev: loopEv,
			want:      map[string]string{api.WarnSchedLatency: api.CauseLongRuns},
			notCause:  []string{api.CauseHostContention, api.CauseGOMAXPROCS},
			functions: "main.crunchRows /app/main.go:49", functionsFrom: api.FromTrace},
		{name: "call-free loops, named by the cpu profile", report: preemptReport(0.005), ctx: loopsCtx,
			want:      map[string]string{api.WarnSchedLatency: api.CauseLongRuns},
			functions: "main.spin /app/spin.go:12", functionsFrom: api.FromCPUProfile},
		{name: "runnable backlog, no loop caught", report: quietReport(), ctx: loopsCtx,
			want: map[string]string{api.WarnSchedLatency: api.CauseLongRuns}},
		{name: "gc", report: quietReport(), ctx: with(quietCtx, func(c *api.Context) {
			c.SchedLatency, c.GCCPUFraction = &api.Latency{P99: 0.02}, ptr(0.3)
		}), want: map[string]string{api.WarnSchedLatency: api.CauseGC}},
		{name: "nothing explains it", report: quietReport(), ctx: with(quietCtx, func(c *api.Context) { c.SchedLatency = &api.Latency{P99: 0.02} }),
			want: map[string]string{api.WarnSchedLatency: api.CauseUnknown}},
		// Without schedstat: involuntary context switches, only as a rise
		// over the baseline, and marked as weaker evidence.
		{name: "context switches up, no run queue", report: preemptReport(0.1), ctx: with(loopsCtx, func(c *api.Context) {
			c.RunQueueWaitRatio, c.RunQueueWaitPerSecond, c.OtherCPUs, c.RunQueueWaitUnavailable = nil, nil, nil, "not Linux"
			c.InvoluntaryCtxSwitchesPerSecond = ptr(400.0)
		}), base: []float64{10, 8, 12},
			want: map[string]string{api.WarnSchedLatency: api.CauseHostContention, api.WarnAsyncPreempt: api.CauseHostContention}},
		// The fixed "50 per P" rule fired on a quiet machine: no longer.
		{name: "context switches high, no history", report: quietReport(), ctx: with(loopsCtx, func(c *api.Context) {
			c.RunQueueWaitRatio, c.RunQueueWaitPerSecond, c.OtherCPUs = nil, nil, nil
		}), want: map[string]string{api.WarnSchedLatency: api.CauseLongRuns}, notCause: []string{api.CauseHostContention}},
		{name: "tiny cgo calls", report: func() *analysis.Report {
			r := quietReport()
			r.Shares.Cgo = 0.9
			r.Buckets[analysis.BucketCgoCrossing] = analysis.BucketStat{Share: 0.48}
			r.Buckets[analysis.BucketCgoC] = analysis.BucketStat{Share: 0.42}
			r.TopCgoCalls = []analysis.FuncStat{{Function: "main.work", CFunction: "tiny", File: "/app/w.go", Line: 9}}
			return r
		}(), ctx: with(quietCtx, func(c *api.Context) { c.CgoCallsPerSecond = ptr(9e6) }),
			want: map[string]string{api.WarnCgoShare: api.CauseCgoCalls, api.WarnCgoCallRate: api.CauseCgoCalls}},
		// On tiny calls most samples "in C" land in the switch to the C
		// stack: 100 ns a call is the calls' cost, whatever the buckets say.
		{name: "tiny cgo calls, samples in C", report: func() *analysis.Report {
			r := quietReport()
			r.CPUSeconds, r.DurationSeconds = 2, 2
			r.Shares.Cgo = 0.9
			r.Buckets[analysis.BucketCgoCrossing] = analysis.BucketStat{Share: 0.2}
			r.Buckets[analysis.BucketCgoC] = analysis.BucketStat{Share: 0.7}
			return r
		}(), ctx: with(quietCtx, func(c *api.Context) { c.CgoCallsPerSecond = ptr(9e6) }),
			want: map[string]string{api.WarnCgoShare: api.CauseCgoCalls, api.WarnCgoCallRate: api.CauseCgoCalls}},
		// The window a quota arrives in has no throttling counters across
		// it; threads wanting four times the quota still say why they wait.
		{name: "quota without counters", report: quietReport(), ctx: with(throttledCtx, func(c *api.Context) {
			c.CgroupPeriods, c.CgroupThrottledPeriods, c.CgroupThrottledShare, c.CgroupThrottledSecondsPerSecond = nil, nil, nil, nil
			c.RunQueueWaitPerSecond, c.RunQueueWaitRatio = ptr(1.48), ptr(2.76)
		}), want: map[string]string{api.WarnContention: api.CauseThrottling}},
		{name: "long C calls", report: func() *analysis.Report {
			r := quietReport()
			r.Shares.Cgo = 0.6
			r.Buckets[analysis.BucketCgoC] = analysis.BucketStat{Share: 0.6}
			return r
		}(), ctx: with(quietCtx, func(c *api.Context) { c.CgoCallsPerSecond = ptr(50.0) }),
			want: map[string]string{api.WarnCgoShare: api.CauseCgoCode}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			j := evaluate(tt.report, tt.ctx, cfg, tt.base, tt.ev)
			got := map[string]string{}
			for _, w := range j.warnings {
				got[w.Kind] = w.LeadCause
				if len(w.Causes) == 0 {
					t.Errorf("%s: no causes", w.Kind)
				}
				for _, c := range tt.notCause {
					for _, text := range w.Causes {
						if causeID(text) == c {
							t.Errorf("%s lists %s without its evidence: %q", w.Kind, c, w.Causes)
						}
					}
				}
			}
			if len(got) != len(tt.want) {
				t.Errorf("warnings %v, want %v", got, tt.want)
			}
			for kind, lead := range tt.want {
				if got[kind] != lead {
					t.Errorf("%s: lead cause %q, want %q (all warnings: %+v)", kind, got[kind], lead, j.warnings)
				}
			}
			if tt.functions != "" {
				for _, w := range j.warnings {
					if w.Kind != api.WarnSchedLatency {
						continue
					}
					if len(w.Functions) == 0 || w.Functions[0] != tt.functions || w.FunctionsFrom != tt.functionsFrom {
						t.Errorf("functions %q from %q, want %q from %q", w.Functions, w.FunctionsFrom, tt.functions, tt.functionsFrom)
					}
					if !strings.Contains(w.Causes[0], tt.functions) {
						t.Errorf("lead cause %q does not name %s", w.Causes[0], tt.functions)
					}
				}
			}
		})
	}
}

// causeID recognizes a cause's text, for the tests' "never listed" checks.
func causeID(text string) string {
	switch {
	case strings.HasPrefix(text, "CPU throttled"):
		return api.CauseThrottling
	case strings.HasPrefix(text, "threads waited") && strings.Contains(text, "oversubscribed"),
		strings.HasPrefix(text, "involuntary context switches up"):
		return api.CauseHostContention
	case strings.HasPrefix(text, "GOMAXPROCS"):
		return api.CauseGOMAXPROCS
	case strings.Contains(text, "runnable goroutines"), strings.Contains(text, "async preemption in"), strings.Contains(text, "without yielding"):
		return api.CauseLongRuns
	case strings.HasPrefix(text, "the GC"):
		return api.CauseGC
	}
	return ""
}

func TestCauseTexts(t *testing.T) {
	cfg, _ := Config{}.withDefaults()
	tests := []struct {
		name string
		ctx  api.Context
		kind string
		want []string
	}{
		{"throttling names quota, path and gomaxprocs", throttledCtx, api.WarnThrottling,
			[]string{"CPU throttled in 21 of 21 cgroup periods", "quota of 0.5 CPUs set at /diagkit-test", "GOMAXPROCS 2"}},
		{"neighbours name the wait and the other processes", neighboursCtx, api.WarnContention,
			[]string{"threads waited 940.0ms per second for a CPU (1.70× the CPU they got)", "other processes used 1.45 CPUs of 2"}},
		{"gomaxprocs above numcpu", oversubscribedCtx, api.WarnContention, []string{"GOMAXPROCS 8 > 2 CPUs (runtime.NumCPU)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, w := range evaluate(quietReport(), tt.ctx, cfg, nil, nil).warnings {
				if w.Kind != tt.kind {
					continue
				}
				for _, s := range tt.want {
					if !strings.Contains(w.Causes[0], s) {
						t.Errorf("lead cause %q lacks %q", w.Causes[0], s)
					}
				}
				return
			}
			t.Fatalf("no %s warning", tt.kind)
		})
	}
}

func TestThrottlingNeedsEvidence(t *testing.T) {
	cfg, _ := Config{}.withDefaults()
	tests := []struct {
		name               string
		periods, throttled int64
		warn, unjudged     bool
	}{
		{"every period", 21, 21, true, false},
		{"40 of 100", 100, 40, true, false},
		{"33 of 100 is not sure to be above 25%", 100, 33, false, false},
		{"6 of 20 is not sure to be above 25%", 20, 6, false, false},
		{"few periods, none throttled: clean", 5, 0, false, false},
		{"few periods, some throttled: cannot judge", 5, 3, false, true},
		{"no limit, no periods", 0, 0, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := with(quietCtx, func(c *api.Context) {
				c.CgroupPeriods, c.CgroupThrottledPeriods = ptr(tt.periods), ptr(tt.throttled)
				if tt.periods > 0 {
					c.CgroupThrottledShare = ptr(float64(tt.throttled) / float64(tt.periods))
				}
			})
			j := evaluate(quietReport(), c, cfg, nil, nil)
			warned := slices.ContainsFunc(j.warnings, func(w api.Warning) bool { return w.Kind == api.WarnThrottling })
			if warned != tt.warn || slices.Contains(j.unjudged, api.WarnThrottling) != tt.unjudged {
				t.Errorf("warned %v unjudged %v, want %v %v", warned, j.unjudged, tt.warn, tt.unjudged)
			}
		})
	}
}

func TestEvaluateThresholds(t *testing.T) {
	cfg, _ := Config{}.withDefaults()
	quiet := with(quietCtx, func(c *api.Context) { c.CgoCallsPerSecond = ptr(10.0) })
	if j := evaluate(preemptReport(0.005), quiet, cfg, nil, nil); len(j.warnings) != 0 || len(j.unjudged) != 0 {
		t.Errorf("below every threshold: %+v", j)
	}
	busy := with(quietCtx, func(c *api.Context) { c.CgoCallsPerSecond, c.SchedLatency = ptr(2e6), &api.Latency{P99: 0.05} })
	r := preemptReport(0.3)
	r.Shares.Cgo = 0.5
	r.Buckets[analysis.BucketCgoCrossing] = analysis.BucketStat{Share: 0.2}
	r.TopCgoCalls = []analysis.FuncStat{{Function: "main.work", CFunction: "tiny", File: "/app/w.go", Line: 9}}
	kinds := map[string]api.Warning{}
	for _, w := range evaluate(r, busy, cfg, nil, nil).warnings {
		kinds[w.Kind] = w
	}
	for _, k := range []string{api.WarnAsyncPreempt, api.WarnCgoShare, api.WarnCgoCallRate, api.WarnSchedLatency} {
		if _, ok := kinds[k]; !ok {
			t.Errorf("missing %s warning; got %+v", k, kinds)
		}
	}
	if w := kinds[api.WarnCgoShare]; len(w.Functions) == 0 || w.Functions[0] != "main.work → tiny /app/w.go:9" ||
		w.FunctionsFrom != api.FromCgoCallSites || !strings.Contains(strings.Join(w.Causes, ";"), "batch small C calls") {
		t.Errorf("cgo warning = %+v", w)
	}
	// Too few samples: the shares cannot judge, the rate and latency still do.
	few := *r
	few.Samples = int64(cfg.MinSamples) - 1
	j := evaluate(&few, busy, cfg, nil, nil)
	kinds = map[string]api.Warning{}
	for _, w := range j.warnings {
		kinds[w.Kind] = w
	}
	if len(kinds) != 2 || kinds[api.WarnCgoCallRate].Kind == "" || kinds[api.WarnSchedLatency].Kind == "" {
		t.Errorf("with too few samples got %v, want the cgo call rate and latency warnings", kinds)
	}
	if !slices.Contains(j.unjudged, api.WarnAsyncPreempt) || !slices.Contains(j.unjudged, api.WarnCgoShare) {
		t.Errorf("too few samples: unjudged %v, want the two shares", j.unjudged)
	}
	few.Samples = int64(cfg.MinSamples)
	if j := evaluate(&few, busy, cfg, nil, nil); len(j.warnings) != 4 {
		t.Errorf("at exactly MinSamples: %d warnings, want 4", len(j.warnings))
	}
	// Unavailable figures cannot judge.
	bare := api.Context{GOMAXPROCS: 2, NumCPU: 2}
	j = evaluate(quietReport(), bare, cfg, nil, nil)
	for _, k := range []string{api.WarnContention, api.WarnSchedLatency, api.WarnCgoCallRate} {
		if !slices.Contains(j.unjudged, k) {
			t.Errorf("context without figures: unjudged %v lacks %s", j.unjudged, k)
		}
	}
	// Negative thresholds disable.
	cfg.AsyncPreemptThreshold, cfg.CgoThreshold, cfg.CgoCallRateThreshold, cfg.SchedLatencyThreshold = -1, -1, -1, -1
	cfg.ThrottleThreshold, cfg.ContentionThreshold = -1, -1
	for _, c := range []api.Context{busy, throttledCtx, neighboursCtx} {
		if j := evaluate(r, c, cfg, nil, nil); len(j.warnings) != 0 || len(j.unjudged) != 0 {
			t.Errorf("disabled thresholds still judge: %+v", j)
		}
	}
	// Contention needs a floor of wait, not only a ratio: an idle service
	// waking 100 times a second waits ~0.05 s/s for idle vCPUs to wake.
	cfg, _ = Config{}.withDefaults()
	idle := with(quietCtx, func(c *api.Context) { c.RunQueueWaitPerSecond, c.RunQueueWaitRatio = ptr(0.054), ptr(0.47) })
	if j := evaluate(quietReport(), idle, cfg, nil, nil); len(j.warnings) != 0 {
		t.Errorf("idle wake-ups warned: %+v", j.warnings)
	}
}

func TestWarnerCooldownAndRecovery(t *testing.T) {
	core, logs := observer.New(zapcore.InfoLevel)
	w := newWarner(zap.New(core), time.Minute, 3)
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	window := func(seq uint64, warn bool, unjudged ...string) *api.WindowReport {
		wr := &api.WindowReport{Seq: seq, Start: t0, End: t0.Add(time.Duration(seq) * 10 * time.Second), Unjudged: unjudged}
		if warn {
			wr.Warnings = []api.Warning{{Kind: api.WarnAsyncPreempt, Value: 0.3, Threshold: 0.01, LeadCause: api.CauseGOMAXPROCS,
				Causes: []string{"GOMAXPROCS 8 > 2 CPUs (runtime.NumCPU)"}}}
		}
		return wr
	}
	var logged []bool
	for seq := uint64(1); seq <= 8; seq++ { // 8 windows 10 s apart, cooldown 1 min
		wr := window(seq, true)
		w.observe(wr, wr.End)
		logged = append(logged, wr.Warnings[0].Logged)
		if !slices.Equal(wr.Active, []string{api.WarnAsyncPreempt}) {
			t.Fatalf("window %d: active %v", seq, wr.Active)
		}
	}
	// Logged at 10 s and again at 70 s, not in between.
	want := []bool{true, false, false, false, false, false, true, false}
	if !slices.Equal(logged, want) {
		t.Fatalf("logged per window = %v, want %v", logged, want)
	}
	fields := logs.FilterMessage("diagkit: async preemption share above threshold").All()[0].ContextMap()
	if fields["kind"] != api.WarnAsyncPreempt || fields["value"] != 0.3 || fields["threshold"] != 0.01 ||
		fields["likely_cause"] != "GOMAXPROCS 8 > 2 CPUs (runtime.NumCPU)" || fields["lead_cause"] != api.CauseGOMAXPROCS {
		t.Errorf("warning fields = %v", fields)
	}

	// A window that cannot judge (too few samples) neither raises nor
	// resolves; a flap of two clean windows does not resolve, and the
	// warning after it stays inside the cooldown.
	steps := []struct {
		wr     *api.WindowReport
		active bool
	}{
		{window(9, false, api.WarnAsyncPreempt), true},
		{window(10, false), true},
		{window(11, false), true},
		{window(12, true), true}, // the flap: 2 clean windows, then raised again
		{window(13, false), true},
		{window(14, false, api.WarnAsyncPreempt), true},
		{window(15, false), true},
		{window(16, false), false}, // the third consecutive clean window resolves
	}
	for _, s := range steps {
		w.observe(s.wr, s.wr.End)
		if got := slices.Contains(s.wr.Active, api.WarnAsyncPreempt); got != s.active {
			t.Fatalf("window %d: active %v, want %v", s.wr.Seq, s.wr.Active, s.active)
		}
		if s.wr.Seq == 12 && s.wr.Warnings[0].Logged {
			t.Error("the warning after a flap was logged inside the cooldown")
		}
	}
	if n := logs.FilterMessage("diagkit: async preemption share above threshold").Len(); n != 2 {
		t.Errorf("%d warning lines, want 2", n)
	}
	if n := logs.FilterMessage("diagkit: async_preempt_share back under its threshold").Len(); n != 1 {
		t.Errorf("%d recovery lines, want exactly 1", n)
	}
	// A new episode after a resolution logs at once.
	wr := window(17, true)
	w.observe(wr, wr.End)
	if !wr.Warnings[0].Logged {
		t.Error("a new episode after recovery was not logged")
	}
}
