package diag

import (
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

func TestEvaluateCauses(t *testing.T) {
	cfg, _ := Config{}.withDefaults()
	tests := []struct {
		name     string
		ctx      api.Context
		baseline []float64
		want     string
	}{
		{"gomaxprocs above quota", api.Context{GOMAXPROCS: 8, NumCPU: 8, CgroupCPULimit: ptr(2.0)}, nil, "GOMAXPROCS 8 > cgroup limit 2 CPUs"},
		{"above a fractional quota", api.Context{GOMAXPROCS: 4, NumCPU: 8, CgroupCPULimit: ptr(2.5)}, nil, "GOMAXPROCS 4 > cgroup limit 2.5 CPUs"},
		// Go 1.25+ itself sets GOMAXPROCS to the quota rounded up: not a cause.
		{"quota rounded up is go's default", api.Context{GOMAXPROCS: 3, NumCPU: 8, CgroupCPULimit: ptr(2.5)}, nil, "long loops without function calls"},
		{"gomaxprocs above numcpu", api.Context{GOMAXPROCS: 8, NumCPU: 2}, nil, "GOMAXPROCS 8 > 2 CPUs (runtime.NumCPU)"},
		{"throttled", api.Context{GOMAXPROCS: 2, NumCPU: 2, CgroupPeriods: ptr(int64(100)), CgroupThrottledPeriods: ptr(int64(37)), CgroupThrottledSeconds: ptr(1.2)}, nil, "CPU throttled in 37 of 100 cgroup periods (1.20s throttled)"},
		{"ctx switches up", api.Context{GOMAXPROCS: 2, NumCPU: 2, InvoluntaryCtxSwitchesPerSecond: ptr(400.0)}, []float64{10, 8, 12}, "involuntary context switches up 40× (400/s): CPU contention"},
		{"ctx switches high without history", api.Context{GOMAXPROCS: 2, NumCPU: 2, InvoluntaryCtxSwitchesPerSecond: ptr(900.0)}, nil, "900 involuntary context switches/s"},
		{"runnable backlog", api.Context{GOMAXPROCS: 2, NumCPU: 2, RunnableGoroutines: ptr(int64(14))}, nil, "14 runnable goroutines for 2 Ps"},
		{"nothing in the context", api.Context{GOMAXPROCS: 2, NumCPU: 2, InvoluntaryCtxSwitchesPerSecond: ptr(3.0)}, []float64{3}, "long loops without function calls"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			warns := evaluate(preemptReport(0.2), tt.ctx, cfg, tt.baseline)
			if len(warns) != 1 || warns[0].Kind != api.WarnAsyncPreempt {
				t.Fatalf("warnings = %+v, want one async-preempt warning", warns)
			}
			w := warns[0]
			if w.Value != 0.2 || w.Threshold != 0.01 || len(w.Functions) != 1 || w.Functions[0] != "main.spin /app/spin.go:12" {
				t.Errorf("warning = %+v", w)
			}
			if !strings.Contains(w.Causes[0], tt.want) {
				t.Errorf("first cause = %q, want %q (all: %q)", w.Causes[0], tt.want, w.Causes)
			}
		})
	}
}

func TestEvaluateThresholds(t *testing.T) {
	cfg, _ := Config{}.withDefaults()
	quiet := api.Context{GOMAXPROCS: 2, NumCPU: 2, CgoCallsPerSecond: ptr(10.0), SchedLatency: &api.Latency{P99: 0.0001}}
	if w := evaluate(preemptReport(0.005), quiet, cfg, nil); len(w) != 0 {
		t.Errorf("below every threshold: %+v", w)
	}
	busy := api.Context{GOMAXPROCS: 2, NumCPU: 2, CgoCallsPerSecond: ptr(2e6), SchedLatency: &api.Latency{P99: 0.05}}
	r := preemptReport(0.3)
	r.Shares.Cgo = 0.5
	r.Buckets[analysis.BucketCgoCrossing] = analysis.BucketStat{Share: 0.2}
	r.TopCgoCalls = []analysis.FuncStat{{Function: "main.work", CFunction: "tiny", File: "/app/w.go", Line: 9}}
	warns := evaluate(r, busy, cfg, nil)
	kinds := map[string]api.Warning{}
	for _, w := range warns {
		kinds[w.Kind] = w
	}
	for _, k := range []string{api.WarnAsyncPreempt, api.WarnCgoShare, api.WarnCgoCallRate, api.WarnSchedLatency} {
		if _, ok := kinds[k]; !ok {
			t.Errorf("missing %s warning; got %+v", k, warns)
		}
	}
	if w := kinds[api.WarnCgoShare]; len(w.Functions) == 0 || w.Functions[0] != "main.work → tiny /app/w.go:9" ||
		!strings.Contains(strings.Join(w.Causes, ";"), "batch small C calls") {
		t.Errorf("cgo warning = %+v", w)
	}
	// Too few samples: the shares cannot warn, the rate and latency still do.
	few := *r
	few.Samples = int64(cfg.MinSamples) - 1
	kinds = map[string]api.Warning{}
	for _, w := range evaluate(&few, busy, cfg, nil) {
		kinds[w.Kind] = w
	}
	if _, ok := kinds[api.WarnAsyncPreempt]; ok {
		t.Errorf("async-preempt warning from %d samples (MinSamples %d)", few.Samples, cfg.MinSamples)
	}
	if _, ok := kinds[api.WarnCgoShare]; ok {
		t.Errorf("cgo-share warning from %d samples (MinSamples %d)", few.Samples, cfg.MinSamples)
	}
	if len(kinds) != 2 {
		t.Errorf("with too few samples got %v, want the cgo call rate and latency warnings", kinds)
	}
	few.Samples = int64(cfg.MinSamples)
	if w := evaluate(&few, busy, cfg, nil); len(w) != 4 {
		t.Errorf("at exactly MinSamples: %d warnings, want 4", len(w))
	}
	// Negative thresholds disable.
	cfg.AsyncPreemptThreshold, cfg.CgoThreshold, cfg.CgoCallRateThreshold, cfg.SchedLatencyThreshold = -1, -1, -1, -1
	if w := evaluate(r, busy, cfg, nil); len(w) != 0 {
		t.Errorf("disabled thresholds still warn: %+v", w)
	}
}

func TestWarnerCooldownAndRecovery(t *testing.T) {
	core, logs := observer.New(zapcore.InfoLevel)
	w := newWarner(zap.New(core), time.Minute)
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	window := func(seq uint64, warn bool) *api.WindowReport {
		wr := &api.WindowReport{Seq: seq, Start: t0, End: t0.Add(time.Duration(seq) * 10 * time.Second)}
		if warn {
			wr.Warnings = []api.Warning{{Kind: api.WarnAsyncPreempt, Value: 0.3, Threshold: 0.01, Causes: []string{"GOMAXPROCS 8 > 2 CPUs (runtime.NumCPU)"}}}
		}
		return wr
	}
	var logged []bool
	for seq := uint64(1); seq <= 8; seq++ { // 8 windows 10 s apart, cooldown 1 min
		wr := window(seq, true)
		w.observe(wr, wr.End)
		logged = append(logged, wr.Warnings[0].Logged)
	}
	// Logged at 10 s and again at 70 s, not in between.
	want := []bool{true, false, false, false, false, false, true, false}
	for i := range want {
		if logged[i] != want[i] {
			t.Fatalf("logged per window = %v, want %v", logged, want)
		}
	}
	w.observe(window(9, false), t0.Add(90*time.Second)) // recovered
	w.observe(window(10, false), t0.Add(100*time.Second))
	warns := logs.FilterMessage("diagkit: async preemption share above threshold").All()
	if len(warns) != 2 {
		t.Fatalf("%d warning lines, want 2", len(warns))
	}
	fields := warns[0].ContextMap()
	if fields["kind"] != api.WarnAsyncPreempt || fields["value"] != 0.3 || fields["threshold"] != 0.01 ||
		fields["likely_cause"] != "GOMAXPROCS 8 > 2 CPUs (runtime.NumCPU)" {
		t.Errorf("warning fields = %v", fields)
	}
	if n := logs.FilterMessage("diagkit: async_preempt_share back under its threshold").Len(); n != 1 {
		t.Errorf("%d recovery lines, want exactly 1", n)
	}
	// A new episode after recovery logs at once.
	wr := window(11, true)
	w.observe(wr, t0.Add(110*time.Second))
	if !wr.Warnings[0].Logged {
		t.Error("a new episode after recovery was not logged")
	}
}
