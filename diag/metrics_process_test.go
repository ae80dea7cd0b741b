package diag

import (
	"math"
	"runtime/metrics"
	"sync"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/diagkit/diagkit/diag/internal/procstat"
)

// collectProcess runs one scrape of s and returns its metrics by name.
func collectProcess(t *testing.T, s *scrapeState) map[string]*dto.Metric {
	t.Helper()
	names := metricNames(t)
	ch := make(chan prometheus.Metric, 100)
	s.collect(ch)
	close(ch)
	out := map[string]*dto.Metric{}
	for m := range ch {
		var pb dto.Metric
		if err := m.Write(&pb); err != nil {
			t.Fatalf("%s: %v", m.Desc(), err)
		}
		for i, d := range metricDescs {
			if d == m.Desc() {
				out[names[i]] = &pb
			}
		}
	}
	return out
}

// The histogram's buckets are the runtime's boundaries one per factor of 2
// from 1µs to 1s, and each holds exactly the runtime's counts at or below
// it.
func TestMetricsSchedLatencyBuckets(t *testing.T) {
	s := []metrics.Sample{{Name: rmSchedLatencies}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindFloat64Histogram {
		t.Skipf("%s: not in this Go release", rmSchedLatencies)
	}
	bounds := s[0].Value.Float64Histogram().Buckets
	sb := newSchedBuckets(bounds)
	if sb == nil {
		t.Fatalf("no buckets from %d runtime boundaries", len(bounds))
	}
	if len(sb.upper) < 15 || len(sb.upper) > 25 || sb.upper[0] < schedBucketMin || sb.upper[len(sb.upper)-1] > schedBucketMax {
		t.Errorf("bounds %v: want about 21 from %v to %v", sb.upper, schedBucketMin, schedBucketMax)
	}
	for i := 1; i < len(sb.upper); i++ {
		if r := sb.upper[i] / sb.upper[i-1]; r < 2 || r > 2.5 {
			t.Errorf("bounds %v and %v: ratio %v, want about 2", sb.upper[i-1], sb.upper[i], r)
		}
	}

	// Synthetic counts: n in runtime bucket n%7.
	h := &metrics.Float64Histogram{Buckets: bounds, Counts: make([]uint64, len(bounds)-1)}
	var total uint64
	for i := range h.Counts {
		h.Counts[i] = uint64(i % 7)
		total += h.Counts[i]
	}
	m, ok := sb.metric(h)
	if !ok {
		t.Fatal("no metric")
	}
	var pb dto.Metric
	if err := m.Write(&pb); err != nil {
		t.Fatal(err)
	}
	hist := pb.GetHistogram()
	if hist.GetSampleCount() != total {
		t.Errorf("count %d, want %d", hist.GetSampleCount(), total)
	}
	if got := len(hist.GetBucket()); got != len(sb.upper) {
		t.Fatalf("%d buckets, want %d", got, len(sb.upper))
	}
	var wantSum float64
	for i, n := range h.Counts {
		if lo, hi := bounds[i], bounds[i+1]; n > 0 && !math.IsInf(lo, 0) {
			if math.IsInf(hi, 0) {
				wantSum += lo * float64(n)
			} else {
				wantSum += (lo + hi) / 2 * float64(n)
			}
		}
	}
	if math.Abs(hist.GetSampleSum()-wantSum) > 1e-9*wantSum {
		t.Errorf("sum %v, want %v", hist.GetSampleSum(), wantSum)
	}
	for _, b := range hist.GetBucket() {
		var want uint64
		for i, n := range h.Counts {
			if bounds[i+1] <= b.GetUpperBound() {
				want += n
			}
		}
		if b.GetCumulativeCount() != want {
			t.Errorf("bucket le=%v: %d, want %d", b.GetUpperBound(), b.GetCumulativeCount(), want)
		}
	}

	// Another layout than the one the buckets were made from: no metric
	// rather than a wrong one.
	if _, ok := sb.metric(&metrics.Float64Histogram{Buckets: bounds[:10], Counts: make([]uint64, 9)}); ok {
		t.Error("a histogram of another layout gave a metric")
	}
	if newSchedBuckets([]float64{math.Inf(-1), 0, 1e-9, math.Inf(1)}) != nil {
		t.Error("buckets from boundaries none of which is in range")
	}
}

// The process counters only go up, whatever the readings do: threads that
// end, tids reused, a moved cgroup, a cgroup counter that drops.
func TestMetricsProcessCountersAreMonotonic(t *testing.T) {
	i64 := func(v int64) *int64 { return &v }
	f64 := func(v float64) *float64 { return &v }
	th := func(tid uint32, waitNs uint64) procstat.ThreadWait {
		return procstat.ThreadWait{TID: tid, WaitNs: waitNs}
	}
	readings := []procstat.Totals{
		{InvoluntaryCtxSwitches: i64(10), CgroupPeriods: i64(100), CgroupThrottledPeriods: i64(10), CgroupThrottledSeconds: f64(1), CgroupDir: "a",
			Threads: []procstat.ThreadWait{th(1, 1e9), th(2, 2e9)}},
		// Thread 2 waits 0.5 s more, thread 3 starts having waited 0.25 s.
		{InvoluntaryCtxSwitches: i64(15), CgroupPeriods: i64(150), CgroupThrottledPeriods: i64(20), CgroupThrottledSeconds: f64(1.5), CgroupDir: "a",
			Threads: []procstat.ThreadWait{th(1, 1e9), th(2, 2.5e9), th(3, 0.25e9)}},
		// Thread 2 ends; thread 3's tid is reused by a thread that waited
		// 0.125 s. The cgroup moved: its counters are another's.
		{InvoluntaryCtxSwitches: i64(16), CgroupPeriods: i64(7), CgroupThrottledPeriods: i64(1), CgroupThrottledSeconds: f64(0.1), CgroupDir: "b",
			Threads: []procstat.ThreadWait{th(1, 1.5e9), th(3, 0.125e9)}},
		// schedstat unreadable this time; the new cgroup counts on.
		{InvoluntaryCtxSwitches: i64(16), CgroupPeriods: i64(17), CgroupThrottledPeriods: i64(6), CgroupThrottledSeconds: f64(0.6), CgroupDir: "b"},
	}
	want := []map[string]float64{
		{"diagkit_involuntary_context_switches_total": 10, "diagkit_run_queue_wait_seconds_total": 3,
			"diagkit_cgroup_periods_total": 100, "diagkit_cgroup_throttled_periods_total": 10, "diagkit_cgroup_throttled_seconds_total": 1},
		{"diagkit_involuntary_context_switches_total": 15, "diagkit_run_queue_wait_seconds_total": 3.75,
			"diagkit_cgroup_periods_total": 150, "diagkit_cgroup_throttled_periods_total": 20, "diagkit_cgroup_throttled_seconds_total": 1.5},
		{"diagkit_involuntary_context_switches_total": 16, "diagkit_run_queue_wait_seconds_total": 4.375,
			"diagkit_cgroup_periods_total": 150, "diagkit_cgroup_throttled_periods_total": 20, "diagkit_cgroup_throttled_seconds_total": 1.5},
		{"diagkit_involuntary_context_switches_total": 16, "diagkit_run_queue_wait_seconds_total": 4.375,
			"diagkit_cgroup_periods_total": 160, "diagkit_cgroup_throttled_periods_total": 25, "diagkit_cgroup_throttled_seconds_total": 2},
	}
	s := newScrapeState()
	i := 0
	s.readTotals = func() procstat.Totals { return readings[i] }
	for ; i < len(readings); i++ {
		got := collectProcess(t, s)
		for name, w := range want[i] {
			m := got[name]
			if m == nil || m.GetCounter() == nil {
				t.Errorf("scrape %d: %s absent or not a counter", i, name)
				continue
			}
			if v := m.GetCounter().GetValue(); math.Abs(v-w) > 1e-9 {
				t.Errorf("scrape %d: %s = %v, want %v", i, name, v, w)
			}
		}
		if got["diagkit_sched_latency_seconds"].GetHistogram() == nil || got["diagkit_cgo_calls_total"] == nil {
			t.Errorf("scrape %d: no scheduling-latency histogram or cgo calls", i)
		}
	}

	// Where the platform has none of them, they are absent, not 0.
	s = newScrapeState()
	s.readTotals = func() procstat.Totals { return procstat.Totals{} }
	got := collectProcess(t, s)
	for name := range want[0] {
		if m, ok := got[name]; ok {
			t.Errorf("%s present without a reading: %v", name, m)
		}
	}
}

// TestConcurrentScrapesShareNoHistogram: a scrape's metrics are written out
// after collect returns, while the next scrape collects; the histogram's
// buckets must not be shared between them (the race detector caught a
// reused map when two scrapes overlapped on a busy machine).
func TestConcurrentScrapesShareNoHistogram(t *testing.T) {
	s := newScrapeState()
	s.readTotals = func() procstat.Totals { return procstat.Totals{} }
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 50 {
				ch := make(chan prometheus.Metric, 100)
				s.collect(ch)
				close(ch)
				for m := range ch {
					var pb dto.Metric
					if err := m.Write(&pb); err != nil {
						t.Error(err)
					}
				}
			}
		}()
	}
	wg.Wait()
}
