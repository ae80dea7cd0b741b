package diag

import (
	"fmt"
	"maps"
	"net/http"
	"slices"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.uber.org/zap"

	"github.com/diagkit/diagkit/diag/analysis"
	"github.com/diagkit/diagkit/diag/api"
)

// The agent's Prometheus metrics. The package documentation and the README
// list them; metrics_test.go checks that both name every one.
//
// Window metrics describe the latest window report (Agent.Latest) and are
// absent until the first window completes: "no window yet" is not 0. Figures
// the window's context lacks (no cgroup limit, a runtime/metrics name this Go
// release does not have) are absent too, never 0. Counters and the
// profiler-busy gauge are present from the start.
var (
	// Latest window.
	descCPUShare = prometheus.NewDesc("diagkit_cpu_share_ratio",
		"Fraction of the process's CPU time in each sample bucket (see diag/analysis) over the latest profiling window; the buckets sum to 1, or are all 0 for a window without samples.",
		[]string{"bucket"}, nil)
	descWindowTimestamp = prometheus.NewDesc("diagkit_window_timestamp_seconds",
		"End of the latest profiling window, in seconds since the Unix epoch.", nil, nil)
	descGOMAXPROCS = prometheus.NewDesc("diagkit_gomaxprocs_threads",
		"GOMAXPROCS (the most threads running Go code at once) at the end of the latest profiling window.", nil, nil)
	descCgroupLimit = prometheus.NewDesc("diagkit_cgroup_cpu_limit_cpus",
		"The effective cgroup CPU quota in CPUs (quota/period, the tightest from the process's cgroup up to the root) at the end of the latest profiling window; absent when there is no limit or it is unknown.", nil, nil)
	descRunQueueWait = prometheus.NewDesc("diagkit_run_queue_wait_ratio",
		"Seconds the process's threads waited on the run queue for a CPU per second of CPU they got, over the latest profiling window (/proc/self/task/*/schedstat); absent where unavailable.", nil, nil)
	descThrottled = prometheus.NewDesc("diagkit_cgroup_throttled_periods_ratio",
		"Share of the cgroup's CPU periods in which the effective quota throttled the process, over the latest profiling window; absent without periods.", nil, nil)
	descOtherCPUs = prometheus.NewDesc("diagkit_other_processes_cpus",
		"CPUs other processes used over the latest profiling window on the CPUs the process may run on (its affinity; /proc/stat busy time less the process's own, steal excluded); absent where unavailable.", nil, nil)

	// Read from the process at scrape time, present from the start (each
	// absent where the platform cannot tell).
	descSchedLatency = prometheus.NewDesc("diagkit_sched_latency_seconds",
		"Time goroutines spent runnable before running, since the process started (/sched/latencies:seconds, re-bucketed to powers of 2 from 1µs to 1s; the sum is estimated from the runtime's finer buckets).",
		nil, nil)
	descCgoCalls = prometheus.NewDesc("diagkit_cgo_calls_total",
		"Go-to-C calls by the process since it started (/cgo/go-to-c-calls:calls), read at scrape time.", nil, nil)
	descInvoluntaryCS = prometheus.NewDesc("diagkit_involuntary_context_switches_total",
		"Involuntary context switches of the process since it started (getrusage ru_nivcsw), read at scrape time.", nil, nil)
	descRunQueueWaitTotal = prometheus.NewDesc("diagkit_run_queue_wait_seconds_total",
		"Seconds the process's threads waited on a run queue for a CPU (field 2 of /proc/self/task/*/schedstat, at most 1024 threads), summed at scrape time over every thread seen at a scrape since the first; absent where unavailable.", nil, nil)
	descCgroupPeriods = prometheus.NewDesc("diagkit_cgroup_periods_total",
		"CPU enforcement periods of the cgroup that sets the effective CPU limit (the process's own without one): nr_periods of its cpu.stat; absent without a CPU cgroup.", nil, nil)
	descCgroupThrottledPeriods = prometheus.NewDesc("diagkit_cgroup_throttled_periods_total",
		"Of diagkit_cgroup_periods_total, the periods in which the quota throttled the cgroup (nr_throttled).", nil, nil)
	descCgroupThrottledSeconds = prometheus.NewDesc("diagkit_cgroup_throttled_seconds_total",
		"Seconds the cgroup's threads were held back by the quota (throttled_time or throttled_usec of cpu.stat).", nil, nil)

	// The agent's own counters, present from the start.
	descWindows = prometheus.NewDesc("diagkit_windows_analyzed_total",
		"Profiling windows analyzed since the agent started.", nil, nil)
	descFailures = prometheus.NewDesc("diagkit_window_failures_total",
		"Profiling windows that produced no report (CPU profiler busy, analysis error) since the agent started.", nil, nil)
	descBusyEvents = prometheus.NewDesc("diagkit_profiler_busy_events_total",
		"Times the CPU profiler became held by another profiler in the process.", nil, nil)
	descBusy = prometheus.NewDesc("diagkit_profiler_busy",
		"1 while another profiler in the process holds the CPU profiler, else 0.", nil, nil)
	descWarnings = prometheus.NewDesc("diagkit_warnings_total",
		"Warnings raised, by kind: one per window that crossed the kind's threshold, logged or suppressed by the cooldown.",
		[]string{"kind"}, nil)
	descWarningsLogged = prometheus.NewDesc("diagkit_warnings_logged_total",
		"Warnings logged, by kind: the raised warnings the cooldown did not suppress.",
		[]string{"kind"}, nil)
	descWarningActive = prometheus.NewDesc("diagkit_warning_active",
		"1 while a warning of the kind is in an ongoing episode (raised and not yet resolved by ResolveAfter clean windows), else 0.",
		[]string{"kind"}, nil)
	descPushSent = prometheus.NewDesc("diagkit_push_sent_total",
		"Profiles the push backend delivered; 0 without one.", nil, nil)
	descPushErrors = prometheus.NewDesc("diagkit_push_errors_total",
		"Failed push attempts; 0 without a push backend.", nil, nil)
	descPushDropped = prometheus.NewDesc("diagkit_push_dropped_total",
		"Profiles the push backend dropped (queue full or retries exhausted); 0 without one.", nil, nil)
	descPushRetries = prometheus.NewDesc("diagkit_push_retries_total",
		"Upload attempts that were retries of a retryable failure (no answer, 408, 429, 5xx); 0 without a push backend.", nil, nil)
	descPushRejected = prometheus.NewDesc("diagkit_push_rejected_total",
		"Profiles the Pyroscope server refused with a 4xx other than 408 and 429, not retried; 0 without a push backend.", nil, nil)
	descPushStale = prometheus.NewDesc("diagkit_push_stale_total",
		"Profiles dropped unsent as older than the server's ingestion window; 0 without a push backend.", nil, nil)
	descPushSampleLabels = prometheus.NewDesc("diagkit_push_sample_labels_total",
		"pprof sample label keys the push rewrote to names the server accepts (action=renamed) or dropped (action=dropped), once per profile they were in.",
		[]string{"action"}, nil)
)

// metricDescs lists every metric the collector may emit, in documentation
// order.
var metricDescs = []*prometheus.Desc{
	descCPUShare, descWindowTimestamp, descGOMAXPROCS, descCgroupLimit, descRunQueueWait, descThrottled, descOtherCPUs,
	descSchedLatency, descCgoCalls, descInvoluntaryCS, descRunQueueWaitTotal,
	descCgroupPeriods, descCgroupThrottledPeriods, descCgroupThrottledSeconds,
	descWindows, descFailures, descBusyEvents, descBusy,
	descWarnings, descWarningsLogged, descWarningActive, descPushSent, descPushErrors, descPushDropped,
	descPushRetries, descPushRejected, descPushStale, descPushSampleLabels,
}

// warningKinds are the kinds diagkit_warnings_total and
// diagkit_warnings_logged_total always carry, at 0 until raised, so that
// rate() and increase() see the first one.
var warningKinds = api.WarningKinds

// metricsCollector is the agent's prometheus.Collector. It reads the agent's
// state and the process's counters at scrape time: no goroutine. What it
// keeps between scrapes (scrapeState) is only what makes the process
// counters monotonic.
type metricsCollector struct {
	a  *Agent
	st *scrapeState
}

// Describe sends every metric's description.
func (c metricsCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range metricDescs {
		ch <- d
	}
}

// Collect sends the metrics for the agent's current state.
func (c metricsCollector) Collect(ch chan<- prometheus.Metric) {
	latest, raised, logged := c.a.metricsState()
	st := c.a.Status()

	if latest != nil {
		for _, b := range analysis.Buckets {
			if s, ok := latest.Buckets[b]; ok {
				sendMetric(ch, descCPUShare, prometheus.GaugeValue, s.Share, string(b))
			}
		}
		ctx := latest.Context
		sendMetric(ch, descWindowTimestamp, prometheus.GaugeValue, unixSeconds(latest))
		if ctx.GOMAXPROCS > 0 { // 0: the runtime metric was unavailable
			sendMetric(ch, descGOMAXPROCS, prometheus.GaugeValue, float64(ctx.GOMAXPROCS))
		}
		if v := ctx.CgroupCPULimit; v != nil {
			sendMetric(ch, descCgroupLimit, prometheus.GaugeValue, *v)
		}
		if v := ctx.RunQueueWaitRatio; v != nil {
			sendMetric(ch, descRunQueueWait, prometheus.GaugeValue, *v)
		}
		if v := ctx.CgroupThrottledShare; v != nil {
			sendMetric(ch, descThrottled, prometheus.GaugeValue, *v)
		}
		if v := ctx.OtherCPUs; v != nil {
			sendMetric(ch, descOtherCPUs, prometheus.GaugeValue, *v)
		}
	}

	if c.st != nil {
		c.st.collect(ch)
	}
	sendMetric(ch, descWindows, prometheus.CounterValue, float64(st.Windows))
	sendMetric(ch, descFailures, prometheus.CounterValue, float64(st.Failures))
	sendMetric(ch, descBusyEvents, prometheus.CounterValue, float64(st.BusyEvents))
	busy := 0.0
	if st.ProfilerBusy {
		busy = 1
	}
	sendMetric(ch, descBusy, prometheus.GaugeValue, busy)
	for _, kind := range sortedKinds(raised, logged) {
		sendMetric(ch, descWarnings, prometheus.CounterValue, float64(raised[kind]), kind)
		sendMetric(ch, descWarningsLogged, prometheus.CounterValue, float64(logged[kind]), kind)
		active := 0.0
		if latest != nil && slices.Contains(latest.Active, kind) {
			active = 1
		}
		sendMetric(ch, descWarningActive, prometheus.GaugeValue, active, kind)
	}
	sendMetric(ch, descPushSent, prometheus.CounterValue, float64(st.PushSent))
	sendMetric(ch, descPushErrors, prometheus.CounterValue, float64(st.PushErrors))
	sendMetric(ch, descPushDropped, prometheus.CounterValue, float64(st.PushDropped))
	ps := c.a.push.stats().Sender
	sendMetric(ch, descPushRetries, prometheus.CounterValue, float64(ps.Retries))
	sendMetric(ch, descPushRejected, prometheus.CounterValue, float64(ps.Rejected))
	sendMetric(ch, descPushStale, prometheus.CounterValue, float64(ps.Stale))
	sendMetric(ch, descPushSampleLabels, prometheus.CounterValue, float64(ps.LabelsRenamed), "renamed")
	sendMetric(ch, descPushSampleLabels, prometheus.CounterValue, float64(ps.LabelsDropped), "dropped")
}

// sendMetric sends one constant metric; a mistake in its labels becomes a
// scrape error, not a panic in the service.
func sendMetric(ch chan<- prometheus.Metric, d *prometheus.Desc, t prometheus.ValueType, v float64, labels ...string) {
	m, err := prometheus.NewConstMetric(d, t, v, labels...)
	if err != nil {
		m = prometheus.NewInvalidMetric(d, err)
	}
	ch <- m
}

// unixSeconds is the value of diagkit_window_timestamp_seconds for a window.
func unixSeconds(wr *api.WindowReport) float64 {
	return float64(wr.End.UnixNano()) / 1e9
}

// sortedKinds is warningKinds and every other kind counted, sorted.
func sortedKinds(raised, logged map[string]uint64) []string {
	kinds := slices.Clone(warningKinds)
	for _, m := range []map[string]uint64{raised, logged} {
		for k := range m {
			if !slices.Contains(kinds, k) {
				kinds = append(kinds, k)
			}
		}
	}
	slices.Sort(kinds)
	return kinds
}

// metricsState is what Collect needs from under the agent's lock: the latest
// window and the warner's counts by kind (copies).
func (a *Agent) metricsState() (latest *api.WindowReport, raised, logged map[string]uint64) {
	a.mu.Lock()
	defer a.mu.Unlock()
	latest = a.history.latest()
	return latest, maps.Clone(a.warner.raised), maps.Clone(a.warner.logged)
}

// agentMetrics is the agent's registry, which PathMetrics serves, and its
// collector.
type agentMetrics struct {
	registry  *prometheus.Registry
	collector metricsCollector
}

// initMetrics creates the agent's own registry and registers the collector
// on it, and on Config.MetricsRegisterer if set. Nothing touches
// prometheus.DefaultRegisterer unless it is that registerer.
func (a *Agent) initMetrics() error {
	a.metrics.registry = prometheus.NewRegistry()
	a.metrics.collector = metricsCollector{a: a, st: newScrapeState()}
	if err := a.metrics.registry.Register(a.metrics.collector); err != nil {
		return fmt.Errorf("diag: registering metrics: %w", err) // a bug in the descriptions
	}
	if r := a.cfg.MetricsRegisterer; r != nil {
		if err := r.Register(a.metrics.collector); err != nil {
			return fmt.Errorf("diag: registering metrics on Config.MetricsRegisterer: %w", err)
		}
	}
	return nil
}

// unregisterMetrics takes the collector off Config.MetricsRegisterer, so
// that a stopped agent (or one that failed to start) does not linger there
// and a new agent can register on it.
func (a *Agent) unregisterMetrics() {
	if r := a.cfg.MetricsRegisterer; r != nil {
		r.Unregister(a.metrics.collector)
	}
}

// metricsHandler serves the agent's own registry at PathMetrics: the
// Prometheus text format, or protobuf when the scraper asks for it.
func (a *Agent) metricsHandler() http.Handler {
	errorLog, err := zap.NewStdLogAt(a.log.Named("metrics"), zap.ErrorLevel)
	if err != nil { // only for an invalid level
		errorLog = zap.NewStdLog(a.log.Named("metrics"))
	}
	h := promhttp.HandlerFor(a.metrics.registry, promhttp.HandlerOpts{
		ErrorLog:            errorLog,
		MaxRequestsInFlight: 10, // more at once answer 503
	})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !allowGet(w, r) {
			return
		}
		h.ServeHTTP(w, r)
	})
}
