package diag

import (
	"fmt"
	"math"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The PromQL arithmetic the real-Prometheus test recomputes from the raw
// samples Prometheus returned, to check the values its rate() and
// histogram_quantile() gave: Prometheus 2.x's extrapolatedRate and
// bucketQuantile (promql/functions.go, promql/quantile.go), for float
// samples.

// promPoint is one stored sample: its timestamp in milliseconds.
type promPoint struct {
	ms int64
	v  float64
}

// promPoints decodes a range-vector series' raw samples.
func promPoints(s promSeries) ([]promPoint, error) {
	pts := make([]promPoint, 0, len(s.Values))
	for _, raw := range s.Values {
		ts, v, err := point(raw)
		if err != nil {
			return nil, err
		}
		ms, err := promMillis(ts)
		if err != nil {
			return nil, err
		}
		pts = append(pts, promPoint{ms, v})
	}
	return pts, nil
}

// promMillis parses a timestamp as the query API writes it (seconds with
// at most three decimals) into exact milliseconds.
func promMillis(ts string) (int64, error) {
	sec, frac, _ := strings.Cut(ts, ".")
	if len(frac) > 3 {
		return 0, fmt.Errorf("timestamp %s: more than milliseconds", ts)
	}
	s, err := strconv.ParseInt(sec, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("timestamp %s: %v", ts, err)
	}
	var ms int64
	if frac != "" {
		if ms, err = strconv.ParseInt(frac+strings.Repeat("0", 3-len(frac)), 10, 64); err != nil {
			return 0, fmt.Errorf("timestamp %s: %v", ts, err)
		}
	}
	return s*1000 + ms, nil
}

// promRate is rate(x[rangeMs]) evaluated at atMs over the samples the range
// selected, or false with fewer than two.
func promRate(pts []promPoint, atMs, rangeMs int64) (float64, bool) {
	if len(pts) < 2 {
		return 0, false
	}
	first, last := pts[0], pts[len(pts)-1]
	result := last.v - first.v
	var prev float64
	for _, p := range pts { // counter resets
		if p.v < prev {
			result += prev
		}
		prev = p.v
	}
	toStart := float64(first.ms-(atMs-rangeMs)) / 1000
	toEnd := float64(atMs-last.ms) / 1000
	sampled := float64(last.ms-first.ms) / 1000
	avg := sampled / float64(len(pts)-1)
	if result > 0 && first.v >= 0 {
		if toZero := sampled * (first.v / result); toZero < toStart {
			toStart = toZero
		}
	}
	threshold := avg * 1.1
	interval := sampled
	if toStart < threshold {
		interval += toStart
	} else {
		interval += avg / 2
	}
	if toEnd < threshold {
		interval += toEnd
	} else {
		interval += avg / 2
	}
	return result * (interval / sampled) / (float64(rangeMs) / 1000), true
}

// promBucket is one bucket of a histogram_quantile input: its upper bound
// and its (rated) cumulative count.
type promBucket struct{ le, count float64 }

// promBucketQuantile is histogram_quantile(q, …) over buckets.
func promBucketQuantile(q float64, buckets []promBucket) float64 {
	b := append([]promBucket(nil), buckets...)
	sort.Slice(b, func(i, j int) bool { return b[i].le < b[j].le })
	if len(b) < 2 || !math.IsInf(b[len(b)-1].le, 1) {
		return math.NaN()
	}
	highest := math.Inf(-1) // ensureMonotonic
	for i := range b {
		if b[i].count > highest {
			highest = b[i].count
		} else if b[i].count < highest {
			b[i].count = highest
		}
	}
	observations := b[len(b)-1].count
	if observations == 0 {
		return math.NaN()
	}
	rank := q * observations
	i := sort.Search(len(b)-1, func(i int) bool { return b[i].count >= rank })
	switch {
	case i == len(b)-1:
		return b[len(b)-2].le
	case i == 0 && b[0].le <= 0:
		return b[0].le
	}
	start, end, count := 0.0, b[i].le, b[i].count
	if i > 0 {
		start = b[i-1].le
		count -= b[i-1].count
		rank -= b[i-1].count
	}
	return start + (end-start)*(rank/count)
}

// promClose reports whether got is want to within float64 rounding of a
// few operations.
func promClose(got, want float64) bool {
	return got == want || math.Abs(got-want) <= 1e-9*math.Max(math.Abs(got), math.Abs(want))
}

// promRange is the range of the rate() queries: ten scrapes at one a second.
const (
	promRange    = 10 * time.Second
	promRangeSel = "[10s]"
)

// checkPromQL runs rate() over the agent's counters and histogram_quantile()
// over its scheduling-latency histogram in the real Prometheus, at one
// instant well after its scrapes there committed, and checks each result is
// finite and exactly what Prometheus's formulas give over the raw samples it
// returned for the same range, that the raw counters never went backwards,
// and that the figures are plausible. It returns what it measured, to log.
func checkPromQL(t *testing.T, p *promServer, c *http.Client, a *Agent) string {
	t.Helper()
	var at string
	var atMs int64
	// Five scrapes in the range are plenty for rate() (two would do). On a
	// busy machine, beside children at a higher CPU weight, a scrape can
	// outlast its 1 s timeout and be lost: one busy run saw 6 in 10 s.
	const minScrapes = 5
	deadline := time.Now().Add(promRange + 30*time.Second)
	for {
		// 1.5 s back: every scrape up to then (1 s timeout) has committed,
		// so that every query below sees the same samples.
		atMs = time.Now().Add(-1500 * time.Millisecond).UnixMilli()
		at = fmt.Sprintf("%d.%03d", atMs/1000, atMs%1000)
		res, err := p.query(c, "count_over_time(diagkit_windows_analyzed_total"+promRangeSel+")", at)
		if err != nil {
			t.Fatal(err)
		}
		if len(res) == 1 {
			if _, n, err := point(res[0].Value); err == nil && n >= minScrapes {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("fewer than %d scrapes in %v at %s: %+v", minScrapes, promRange, at, res)
		}
		time.Sleep(500 * time.Millisecond)
	}
	var log []string

	// Every counter the agent has now, as Prometheus rates it.
	have := gather(t, a.metrics.registry)
	counters := []string{"diagkit_windows_analyzed_total", "diagkit_cgo_calls_total",
		"diagkit_involuntary_context_switches_total", "diagkit_run_queue_wait_seconds_total",
		"diagkit_cgroup_periods_total", "diagkit_cgroup_throttled_periods_total", "diagkit_cgroup_throttled_seconds_total"}
	rates := map[string]float64{}
	for _, name := range counters {
		if _, ok := have[name]; !ok {
			if name == "diagkit_windows_analyzed_total" || name == "diagkit_cgo_calls_total" {
				t.Errorf("%s: absent from the agent", name)
			}
			log = append(log, name+": absent on this platform")
			continue
		}
		whole, err := p.query(c, name+"[5m]", at)
		if err != nil {
			t.Fatal(err)
		}
		raw, err := p.query(c, name+promRangeSel, at)
		if err != nil {
			t.Fatal(err)
		}
		got, err := p.query(c, "rate("+name+promRangeSel+")", at)
		if err != nil {
			t.Fatal(err)
		}
		if len(whole) != 1 || len(raw) != 1 || len(got) != 1 {
			t.Errorf("%s at %s: %d, %d and %d series for [5m], %s and its rate(), want 1 each",
				name, at, len(whole), len(raw), len(got), promRangeSel)
			continue
		}
		all, err := promPoints(whole[0])
		if err != nil {
			t.Fatal(err)
		}
		for i := 1; i < len(all); i++ {
			if all[i].v < all[i-1].v {
				t.Errorf("%s went backwards in Prometheus: %v at %d ms, then %v at %d ms", name, all[i-1].v, all[i-1].ms, all[i].v, all[i].ms)
			}
		}
		pts, err := promPoints(raw[0])
		if err != nil {
			t.Fatal(err)
		}
		want, ok := promRate(pts, atMs, promRange.Milliseconds())
		_, v, err := point(got[0].Value)
		switch {
		case err != nil:
			t.Errorf("rate(%s): %v", name, err)
		case !ok || math.IsNaN(v) || math.IsInf(v, 0) || v < 0:
			t.Errorf("rate(%s%s) = %v over %d samples: want finite and at least 0", name, promRangeSel, v, len(pts))
		case !promClose(v, want):
			t.Errorf("rate(%s%s) = %v, but its %d raw samples give %v", name, promRangeSel, v, len(pts), want)
		}
		rates[name] = v
		log = append(log, fmt.Sprintf("rate(%s%s) = %.6g (%d samples, %v to %v)", name, promRangeSel, v, len(pts), pts[0].v, pts[len(pts)-1].v))
	}
	// 200 ms windows back to back: about five a second.
	if r := rates["diagkit_windows_analyzed_total"]; r < 1 || r > 6 {
		t.Errorf("rate(diagkit_windows_analyzed_total%s) = %v: want about 5 (a 200 ms window after another)", promRangeSel, r)
	}

	// The scheduling-latency histogram: consistent at every scrape, and
	// histogram_quantile over its rate.
	buckets, err := p.query(c, "diagkit_sched_latency_seconds_bucket"+promRangeSel, at)
	if err != nil {
		t.Fatal(err)
	}
	counts, err := p.query(c, "diagkit_sched_latency_seconds_count"+promRangeSel, at)
	if err != nil {
		t.Fatal(err)
	}
	if len(buckets) < 10 || len(counts) != 1 {
		t.Fatalf("diagkit_sched_latency_seconds at %s: %d bucket series and %d _count series, want 10 or more and 1", at, len(buckets), len(counts))
	}
	byTime := map[int64][]promBucket{} // the raw buckets of each scrape
	var rated []promBucket
	for _, s := range buckets {
		le, err := strconv.ParseFloat(s.Metric["le"], 64)
		if err != nil {
			t.Fatalf("bucket le %q: %v", s.Metric["le"], err)
		}
		pts, err := promPoints(s)
		if err != nil {
			t.Fatal(err)
		}
		for _, pt := range pts {
			byTime[pt.ms] = append(byTime[pt.ms], promBucket{le, pt.v})
		}
		r, ok := promRate(pts, atMs, promRange.Milliseconds())
		if !ok {
			t.Fatalf("bucket le=%s: %d samples", s.Metric["le"], len(pts))
		}
		rated = append(rated, promBucket{le, r})
	}
	countPts, err := promPoints(counts[0])
	if err != nil {
		t.Fatal(err)
	}
	for _, cp := range countPts {
		bs := byTime[cp.ms]
		sort.Slice(bs, func(i, j int) bool { return bs[i].le < bs[j].le })
		if len(bs) != len(buckets) || !math.IsInf(bs[len(bs)-1].le, 1) || bs[len(bs)-1].count != cp.v {
			t.Errorf("scrape at %d ms: %d buckets, +Inf %v, _count %v: want %d buckets ending in +Inf = _count", cp.ms, len(bs), bs[len(bs)-1], cp.v, len(buckets))
			continue
		}
		for i := 1; i < len(bs); i++ {
			if bs[i].count < bs[i-1].count {
				t.Errorf("scrape at %d ms: bucket le=%v has %v, below le=%v's %v", cp.ms, bs[i].le, bs[i].count, bs[i-1].le, bs[i-1].count)
			}
		}
	}
	quantiles := map[float64]float64{}
	for _, q := range []float64{0.5, 0.99} {
		expr := fmt.Sprintf("histogram_quantile(%v, rate(diagkit_sched_latency_seconds_bucket%s))", q, promRangeSel)
		got, err := p.query(c, expr, at)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 1 {
			t.Errorf("%s: %d series, want 1", expr, len(got))
			continue
		}
		_, v, err := point(got[0].Value)
		want := promBucketQuantile(q, rated)
		switch {
		case err != nil:
			t.Errorf("%s: %v", expr, err)
		case math.IsNaN(v) || math.IsInf(v, 0) || v <= 0 || v > schedBucketMax:
			t.Errorf("%s = %v: want finite, above 0 and within the finite buckets", expr, v)
		case !promClose(v, want):
			t.Errorf("%s = %v, but the raw buckets give %v", expr, v, want)
		}
		quantiles[q] = v
		log = append(log, fmt.Sprintf("%s = %.6g (%.3gs)", expr, v, v))
	}
	if quantiles[0.5] > quantiles[0.99] {
		t.Errorf("p50 %v above p99 %v", quantiles[0.5], quantiles[0.99])
	}
	obs := rated[len(rated)-1]
	for _, b := range rated {
		if math.IsInf(b.le, 1) {
			obs = b
		}
	}
	log = append(log, fmt.Sprintf("rate(diagkit_sched_latency_seconds_count%s) = %.6g latencies/s, over %d bucket series", promRangeSel, obs.count, len(rated)))
	return strings.Join(log, "\n")
}
