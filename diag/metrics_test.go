package diag

import (
	"math"
	"net/http"
	"os"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"
	"go.uber.org/zap"

	"github.com/diagkit/diagkit/diag/analysis"
	"github.com/diagkit/diagkit/diag/api"
)

// windowMetrics are the metrics read from the latest window: absent before
// the first one.
var windowMetrics = []string{
	"diagkit_cpu_share_ratio", "diagkit_window_timestamp_seconds", "diagkit_gomaxprocs_threads",
	"diagkit_cgroup_cpu_limit_cpus", "diagkit_run_queue_wait_ratio", "diagkit_cgroup_throttled_periods_ratio",
	"diagkit_other_processes_cpus",
}

// metricNames returns the name of every metric the collector describes.
func metricNames(t *testing.T) []string {
	t.Helper()
	re := regexp.MustCompile(`fqName: "([^"]+)"`)
	var names []string
	for _, d := range metricDescs {
		m := re.FindStringSubmatch(d.String())
		if m == nil {
			t.Fatalf("no fqName in %s", d)
		}
		names = append(names, m[1])
	}
	return names
}

// gather gathers g and indexes the families by name.
func gather(t *testing.T, g prometheus.Gatherer) map[string]*dto.MetricFamily {
	t.Helper()
	mfs, err := g.Gather()
	if err != nil {
		t.Fatalf("gather: %v", err)
	}
	out := map[string]*dto.MetricFamily{}
	for _, mf := range mfs {
		out[mf.GetName()] = mf
	}
	return out
}

// sample returns the value of the series of mf whose labels include the
// given name/value pairs.
func sample(mf *dto.MetricFamily, labels ...string) (float64, bool) {
	if mf == nil {
		return 0, false
	}
next:
	for _, m := range mf.GetMetric() {
		for i := 0; i+1 < len(labels); i += 2 {
			found := false
			for _, lp := range m.GetLabel() {
				if lp.GetName() == labels[i] && lp.GetValue() == labels[i+1] {
					found = true
				}
			}
			if !found {
				continue next
			}
		}
		switch {
		case m.Gauge != nil:
			return m.GetGauge().GetValue(), true
		case m.Counter != nil:
			return m.GetCounter().GetValue(), true
		}
	}
	return 0, false
}

// histogramOf returns the histogram of mf's first series, or nil.
func histogramOf(mf *dto.MetricFamily) *dto.Histogram {
	if mf == nil || len(mf.GetMetric()) == 0 {
		return nil
	}
	return mf.GetMetric()[0].GetHistogram()
}

func TestMetricsBeforeFirstWindow(t *testing.T) {
	a, _ := startAgent(t, Config{Window: time.Minute})
	fams := gather(t, a.metrics.registry)
	for _, name := range windowMetrics {
		if mf, ok := fams[name]; ok {
			t.Errorf("%s present before the first window: %v", name, mf)
		}
	}
	zero := []string{"diagkit_windows_analyzed_total", "diagkit_window_failures_total", "diagkit_profiler_busy_events_total",
		"diagkit_profiler_busy", "diagkit_push_sent_total", "diagkit_push_errors_total", "diagkit_push_dropped_total"}
	for _, name := range zero {
		if v, ok := sample(fams[name]); !ok || v != 0 {
			t.Errorf("%s = %v (present %v), want 0", name, v, ok)
		}
	}
	for _, kind := range warningKinds {
		for _, name := range []string{"diagkit_warnings_total", "diagkit_warnings_logged_total"} {
			if v, ok := sample(fams[name], "kind", kind); !ok || v != 0 {
				t.Errorf("%s{kind=%q} = %v (present %v), want 0", name, kind, v, ok)
			}
		}
	}
	if _, ok := sample(fams["diagkit_cgo_calls_total"]); !ok {
		t.Error("diagkit_cgo_calls_total absent: /cgo/go-to-c-calls:calls exists in every supported Go")
	}
	// The scheduling-latency histogram is the process's, from the start.
	if h := histogramOf(fams["diagkit_sched_latency_seconds"]); h == nil || len(h.GetBucket()) < 10 {
		t.Errorf("diagkit_sched_latency_seconds before the first window: %v, want a histogram of the process", h)
	}
	if runtime.GOOS != "windows" && runtime.GOOS != "plan9" {
		if _, ok := sample(fams["diagkit_involuntary_context_switches_total"]); !ok {
			t.Error("diagkit_involuntary_context_switches_total absent: getrusage has ru_nivcsw on unix")
		}
	}

	// The endpoint says the same.
	status, body := get(t, "http://"+a.Addr()+PathMetrics)
	if status != http.StatusOK || !strings.Contains(string(body), "\ndiagkit_windows_analyzed_total 0\n") ||
		strings.Contains(string(body), "diagkit_cpu_share_ratio") {
		t.Errorf("GET %s before the first window: %d\n%s", PathMetrics, status, body)
	}
}

// A recorded window's figures, exactly as Prometheus's text format has them.
func TestMetricsExposition(t *testing.T) {
	a, _ := startAgent(t, Config{Addr: AddrOff, Window: time.Hour}) // no window of its own completes
	report := &analysis.Report{
		Schema:  analysis.Schema,
		Samples: 1000,
		Shares:  analysis.Shares{Go: 0.5, AsyncPreempt: 0.25, PreemptSched: 0.0625, Cgo: 0.125, External: 0.0625},
		Buckets: map[analysis.Bucket]analysis.BucketStat{
			analysis.BucketGo: {Share: 0.5}, analysis.BucketAsyncPreempt: {Share: 0.25},
			analysis.BucketPreemptSched: {Share: 0.0625}, analysis.BucketCgoC: {Share: 0.1},
			analysis.BucketCgoCrossing: {Share: 0.025}, analysis.BucketExternalThread: {Share: 0.03125},
			analysis.BucketExternalNoStack: {Share: 0.015625}, analysis.BucketExternalLost: {Share: 0.015625},
			analysis.BucketRuntimeNoStack: {Share: 0},
		},
	}
	pctx := api.Context{
		GOMAXPROCS: 8, NumCPU: 2,
		CgroupCPULimit:                  ptr(1.5),
		InvoluntaryCtxSwitchesPerSecond: ptr(589.5),
		SchedLatency:                    &api.Latency{Count: 100, P50: 0.001, P99: 0.1174, P999: 0.25},
		CgoCallsPerSecond:               ptr(12.5),
		RunQueueWaitRatio:               ptr(0.75),
		CgroupThrottledShare:            ptr(0.375),
		OtherCPUs:                       ptr(0.5),
	}
	start := time.Unix(1_700_000_000, 0)
	// Two windows crossing the async-preempt and scheduling-latency
	// thresholds: both raised twice, logged once (the cooldown).
	a.record(report, pctx, start, start.Add(10*time.Second), "periodic")
	a.record(report, pctx, start.Add(60*time.Second), start.Add(70*time.Second+500*time.Millisecond), "periodic")

	const want = `
# HELP diagkit_cgroup_cpu_limit_cpus The effective cgroup CPU quota in CPUs (quota/period, the tightest from the process's cgroup up to the root) at the end of the latest profiling window; absent when there is no limit or it is unknown.
# TYPE diagkit_cgroup_cpu_limit_cpus gauge
diagkit_cgroup_cpu_limit_cpus 1.5
# HELP diagkit_cpu_share_ratio Fraction of the process's CPU time in each sample bucket (see diag/analysis) over the latest profiling window; the buckets sum to 1, or are all 0 for a window without samples.
# TYPE diagkit_cpu_share_ratio gauge
diagkit_cpu_share_ratio{bucket="async_preempt"} 0.25
diagkit_cpu_share_ratio{bucket="cgo_c"} 0.1
diagkit_cpu_share_ratio{bucket="cgo_crossing"} 0.025
diagkit_cpu_share_ratio{bucket="external_lost"} 0.015625
diagkit_cpu_share_ratio{bucket="external_no_stack"} 0.015625
diagkit_cpu_share_ratio{bucket="external_thread"} 0.03125
diagkit_cpu_share_ratio{bucket="go"} 0.5
diagkit_cpu_share_ratio{bucket="preempt_sched"} 0.0625
diagkit_cpu_share_ratio{bucket="runtime_no_stack"} 0
# HELP diagkit_cgroup_throttled_periods_ratio Share of the cgroup's CPU periods in which the effective quota throttled the process, over the latest profiling window; absent without periods.
# TYPE diagkit_cgroup_throttled_periods_ratio gauge
diagkit_cgroup_throttled_periods_ratio 0.375
# HELP diagkit_gomaxprocs_threads GOMAXPROCS (the most threads running Go code at once) at the end of the latest profiling window.
# TYPE diagkit_gomaxprocs_threads gauge
diagkit_gomaxprocs_threads 8
# HELP diagkit_other_processes_cpus CPUs other processes used over the latest profiling window on the CPUs the process may run on (its affinity; /proc/stat busy time less the process's own, steal excluded); absent where unavailable.
# TYPE diagkit_other_processes_cpus gauge
diagkit_other_processes_cpus 0.5
# HELP diagkit_run_queue_wait_ratio Seconds the process's threads waited on the run queue for a CPU per second of CPU they got, over the latest profiling window (/proc/self/task/*/schedstat); absent where unavailable.
# TYPE diagkit_run_queue_wait_ratio gauge
diagkit_run_queue_wait_ratio 0.75
# HELP diagkit_window_timestamp_seconds End of the latest profiling window, in seconds since the Unix epoch.
# TYPE diagkit_window_timestamp_seconds gauge
diagkit_window_timestamp_seconds 1.7000000705e+09
# HELP diagkit_windows_analyzed_total Profiling windows analyzed since the agent started.
# TYPE diagkit_windows_analyzed_total counter
diagkit_windows_analyzed_total 2
# HELP diagkit_warnings_total Warnings raised, by kind: one per window that crossed the kind's threshold, logged or suppressed by the cooldown.
# TYPE diagkit_warnings_total counter
diagkit_warnings_total{kind="async_preempt_share"} 2
diagkit_warnings_total{kind="cgo_call_rate"} 0
diagkit_warnings_total{kind="cgo_share"} 0
diagkit_warnings_total{kind="cpu_contention"} 0
diagkit_warnings_total{kind="cpu_throttling"} 0
diagkit_warnings_total{kind="sched_latency_p99"} 2
# HELP diagkit_warnings_logged_total Warnings logged, by kind: the raised warnings the cooldown did not suppress.
# TYPE diagkit_warnings_logged_total counter
diagkit_warnings_logged_total{kind="async_preempt_share"} 1
diagkit_warnings_logged_total{kind="cgo_call_rate"} 0
diagkit_warnings_logged_total{kind="cgo_share"} 0
diagkit_warnings_logged_total{kind="cpu_contention"} 0
diagkit_warnings_logged_total{kind="cpu_throttling"} 0
diagkit_warnings_logged_total{kind="sched_latency_p99"} 1
`
	compared := append(append([]string(nil), windowMetrics...),
		"diagkit_windows_analyzed_total", "diagkit_warnings_total", "diagkit_warnings_logged_total")
	if err := testutil.GatherAndCompare(a.metrics.registry, strings.NewReader(want), compared...); err != nil {
		t.Error(err)
	}
	// Every metric is present now (the process ones as far as this
	// platform has them): they pass Prometheus's own linter (names, units,
	// help, counters' _total, the histogram's buckets), without exception.
	problems, err := testutil.GatherAndLint(a.metrics.registry)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("promlint: %s: %s", p.Metric, p.Text)
	}
	if st := a.Status(); st.WarningsLogged != 2 {
		t.Errorf("Status().WarningsLogged = %d, want 2 (the sum of diagkit_warnings_logged_total)", st.WarningsLogged)
	}

	// Unavailable figures are absent, not 0.
	a.record(report, api.Context{}, start.Add(120*time.Second), start.Add(130*time.Second), "periodic")
	fams := gather(t, a.metrics.registry)
	for _, name := range []string{"diagkit_cgroup_cpu_limit_cpus", "diagkit_gomaxprocs_threads",
		"diagkit_run_queue_wait_ratio", "diagkit_cgroup_throttled_periods_ratio", "diagkit_other_processes_cpus"} {
		if mf, ok := fams[name]; ok {
			t.Errorf("%s present for a window without it: %v", name, mf)
		}
	}
	if n := len(fams["diagkit_cpu_share_ratio"].GetMetric()); n != len(analysis.Buckets) {
		t.Errorf("%d share series, want %d", n, len(analysis.Buckets))
	}

}

// After real windows, every window metric is the latest report's figure,
// and all come from the same window.
func TestMetricsMatchTheLatestWindow(t *testing.T) {
	a, _ := startAgent(t, Config{Window: 100 * time.Millisecond, Interval: 100 * time.Millisecond, History: 1000})
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); spin(stop) }()
	defer func() { close(stop); wg.Wait() }()

	// Scrape until the window the metrics come from has samples (a 100 ms
	// window at 100 Hz may have none). That window is the one whose end is
	// diagkit_window_timestamp_seconds: every window metric must be its.
	var (
		fams map[string]*dto.MetricFamily
		w    *api.WindowReport
		hist []api.WindowReport
	)
	deadline := time.Now().Add(10 * time.Second)
	for w == nil || w.Samples == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("no window with samples within 10 s (latest: %+v)", a.Latest())
		}
		time.Sleep(20 * time.Millisecond)
		recorded := a.Latest() != nil // before the scrape: a window may end during it
		fams = gather(t, a.metrics.registry)
		ts, ok := sample(fams["diagkit_window_timestamp_seconds"])
		if !ok {
			if recorded {
				t.Fatal("diagkit_window_timestamp_seconds absent after a window")
			}
			continue
		}
		w, hist = nil, a.History(0)
		for i := range hist {
			if unixSeconds(&hist[i]) == ts {
				w = &hist[i]
			}
		}
		if w == nil {
			t.Fatalf("no window in the history ends at %v", ts)
		}
	}
	t.Logf("window %d of %d: shares %+v", w.Seq, len(hist), w.Shares)
	sum := 0.0
	for _, b := range analysis.Buckets {
		got, ok := sample(fams["diagkit_cpu_share_ratio"], "bucket", string(b))
		if want := w.Buckets[b].Share; !ok || got != want {
			t.Errorf("diagkit_cpu_share_ratio{bucket=%q} = %v (present %v), want %v", b, got, ok, want)
		}
		sum += got
	}
	if w.CPUSeconds > 0 && math.Abs(sum-1) > 1e-9 {
		t.Errorf("shares sum to %v", sum)
	}
	c := w.Context
	if v, ok := sample(fams["diagkit_gomaxprocs_threads"]); !ok || v != float64(c.GOMAXPROCS) {
		t.Errorf("diagkit_gomaxprocs_threads = %v (present %v), want %d", v, ok, c.GOMAXPROCS)
	}
	optional := map[string]*float64{
		"diagkit_cgroup_cpu_limit_cpus":          c.CgroupCPULimit,
		"diagkit_run_queue_wait_ratio":           c.RunQueueWaitRatio,
		"diagkit_cgroup_throttled_periods_ratio": c.CgroupThrottledShare,
		"diagkit_other_processes_cpus":           c.OtherCPUs,
	}
	for name, want := range optional {
		got, ok := sample(fams[name])
		switch {
		case want == nil && ok:
			t.Errorf("%s = %v, want absent (unavailable in the window)", name, got)
		case want != nil && (!ok || got != *want):
			t.Errorf("%s = %v (present %v), want %v", name, got, ok, *want)
		}
	}
	if v, _ := sample(fams["diagkit_windows_analyzed_total"]); v < float64(w.Seq) {
		t.Errorf("diagkit_windows_analyzed_total = %v, below the window's seq %d", v, w.Seq)
	}
}

func TestMetricsEndpointRequiresTheToken(t *testing.T) {
	a, _ := startAgent(t, Config{Token: "s3cret", Window: time.Minute})
	url := "http://" + a.Addr() + PathMetrics
	if status, _ := get(t, url); status != http.StatusUnauthorized {
		t.Errorf("no token: %d, want 401", status)
	}
	if status, _ := get(t, url, "Authorization", "Bearer wrong"); status != http.StatusUnauthorized {
		t.Errorf("wrong token: %d, want 401", status)
	}
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	req.Header.Set("Authorization", "Bearer s3cret")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); resp.StatusCode != http.StatusOK || !strings.HasPrefix(ct, "text/plain; version=0.0.4") {
		t.Errorf("token: %d %q, want 200 in the Prometheus text format", resp.StatusCode, ct)
	}
	req, _ = http.NewRequest(http.MethodPost, url, nil)
	req.Header.Set("Authorization", "Bearer s3cret")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST: %d, want 405", resp.StatusCode)
	}
}

func TestMetricsRegisterer(t *testing.T) {
	reg := prometheus.NewRegistry()
	a, _ := startAgent(t, Config{Addr: AddrOff, Window: time.Minute, MetricsRegisterer: reg})
	if n, err := testutil.GatherAndCount(reg, "diagkit_windows_analyzed_total", "diagkit_warnings_total"); err != nil || n != 1+len(warningKinds) {
		t.Fatalf("the registerer has %d diagkit series (%v), want %d", n, err, 1+len(warningKinds))
	}

	// A second agent (on the same registerer): Start fails, since one
	// agent runs in a process, and starts nothing.
	_, err := Start(Config{Addr: "127.0.0.1:0", Window: time.Minute, MetricsRegisterer: reg, Logger: zap.NewNop()})
	if err == nil || !strings.HasPrefix(err.Error(), "diag: an agent is already running") {
		t.Fatalf("second agent on the same registerer: err = %v, want the running agent named", err)
	}
	// The failed Start did not take the first agent's collector off.
	if n, _ := testutil.GatherAndCount(reg, "diagkit_windows_analyzed_total"); n != 1 {
		t.Errorf("after the failed Start, %d series, want 1", n)
	}

	// Stop unregisters, so that a new agent can register.
	a.Stop()
	if n, _ := testutil.GatherAndCount(reg); n != 0 {
		t.Errorf("after Stop, the registerer still has %d series", n)
	}
	b, _ := startAgent(t, Config{Addr: AddrOff, Window: time.Minute, MetricsRegisterer: reg})
	b.Stop()

	// A metric of the same name already there is a conflict too.
	other := prometheus.NewRegistry()
	other.MustRegister(prometheus.NewGauge(prometheus.GaugeOpts{Name: "diagkit_gomaxprocs_threads", Help: "someone else's"}))
	if _, err := Start(Config{Addr: AddrOff, Window: time.Minute, MetricsRegisterer: other, Logger: zap.NewNop()}); err == nil ||
		!strings.HasPrefix(err.Error(), "diag: ") {
		t.Errorf("conflicting metric: err = %v, want a diag: error", err)
	}
	// That failed Start released the process too.
	startAgent(t, Config{Addr: AddrOff, Window: time.Minute})
}

// Without MetricsRegisterer, the default registry stays untouched.
func TestMetricsLeaveTheDefaultRegistryAlone(t *testing.T) {
	startAgent(t, Config{Addr: AddrOff, Window: time.Minute})
	for name := range gather(t, prometheus.DefaultGatherer) {
		if strings.HasPrefix(name, "diagkit_") {
			t.Errorf("%s on prometheus.DefaultRegisterer", name)
		}
	}
}

// The package documentation and the README's table name every metric.
func TestMetricsAreDocumented(t *testing.T) {
	doc, err := os.ReadFile("doc.go")
	if err != nil {
		t.Fatal(err)
	}
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range metricNames(t) {
		if !strings.Contains(string(doc), name) {
			t.Errorf("doc.go does not document %s", name)
		}
		if !strings.Contains(string(readme), "| `"+name) {
			t.Errorf("README's metrics table has no row for %s", name)
		}
	}
	if !strings.Contains(string(doc), PathMetrics) || !strings.Contains(string(readme), PathMetrics) {
		t.Errorf("doc.go or README does not name %s", PathMetrics)
	}
}
