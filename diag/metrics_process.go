package diag

import (
	"math"
	"runtime/metrics"
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/diagkit/diagkit/diag/internal/procstat"
)

// The runtime/metrics names the scrape reads.
const (
	rmSchedLatencies = "/sched/latencies:seconds"
	rmCgoCalls       = "/cgo/go-to-c-calls:calls"
)

// Bounds of diagkit_sched_latency_seconds's buckets: the runtime's own
// boundaries (about 160, four per power of 2), kept one per factor of 2
// from the first at or above schedBucketMin up to schedBucketMax. Faster
// latencies count in the first bucket, slower ones only in +Inf. That is 21
// buckets, against client_golang's 8 powers of 10 for
// go_sched_latencies_seconds: fine enough for histogram_quantile(0.99, …)
// to tell 5ms from 10ms, the default SchedLatencyThreshold.
const (
	schedBucketMin = 1e-6
	schedBucketMax = 1.1
)

// scrapeState is what the collector keeps between scrapes to turn the
// process's raw readings into monotonic counters, and the buffers it reuses.
// One mutex serializes scrapes (of the agent's registry and of
// Config.MetricsRegisterer's): each reads the process and updates the sums
// in one step, so the counters never go backwards between them.
type scrapeState struct {
	mu      sync.Mutex
	samples []metrics.Sample // rmSchedLatencies, rmCgoCalls

	// sched is the re-bucketing of rmSchedLatencies, made from its first
	// read: the runtime's boundaries do not change while the process runs.
	sched     *schedBuckets
	schedOnce bool

	runQueue runQueueCounter
	// The cgroup's counters, rebased when the cgroup they come from changes.
	cgPeriods, cgThrottled, cgThrottledSecs monotonic
	ivcsw                                   monotonic

	readTotals func() procstat.Totals // procstat.ReadTotals; a test's fake
}

func newScrapeState() *scrapeState {
	return &scrapeState{
		samples:    []metrics.Sample{{Name: rmSchedLatencies}, {Name: rmCgoCalls}},
		readTotals: procstat.ReadTotals,
	}
}

// collect reads the process now and sends the process metrics: the
// scheduling-latency histogram, the cgo call count and the *_total counters
// of procstat.Totals, each only where available.
func (s *scrapeState) collect(ch chan<- prometheus.Metric) {
	s.mu.Lock()
	defer s.mu.Unlock()

	metrics.Read(s.samples)
	if v := s.samples[0].Value; v.Kind() == metrics.KindFloat64Histogram {
		h := v.Float64Histogram()
		if !s.schedOnce {
			s.sched, s.schedOnce = newSchedBuckets(h.Buckets), true
		}
		if s.sched != nil {
			if m, ok := s.sched.metric(h); ok {
				ch <- m
			}
		}
	}
	if v := s.samples[1].Value; v.Kind() == metrics.KindUint64 {
		sendMetric(ch, descCgoCalls, prometheus.CounterValue, float64(v.Uint64()))
	}

	t := s.readTotals()
	if t.InvoluntaryCtxSwitches != nil {
		sendMetric(ch, descInvoluntaryCS, prometheus.CounterValue, s.ivcsw.update(float64(*t.InvoluntaryCtxSwitches), ""))
	}
	if len(t.Threads) > 0 {
		s.runQueue.add(t.Threads)
	}
	if s.runQueue.ok {
		sendMetric(ch, descRunQueueWaitTotal, prometheus.CounterValue, float64(s.runQueue.totalNs)/1e9)
	}
	if t.CgroupPeriods != nil && t.CgroupThrottledPeriods != nil {
		sendMetric(ch, descCgroupPeriods, prometheus.CounterValue, s.cgPeriods.update(float64(*t.CgroupPeriods), t.CgroupDir))
		sendMetric(ch, descCgroupThrottledPeriods, prometheus.CounterValue, s.cgThrottled.update(float64(*t.CgroupThrottledPeriods), t.CgroupDir))
	}
	if t.CgroupThrottledSeconds != nil {
		sendMetric(ch, descCgroupThrottledSeconds, prometheus.CounterValue, s.cgThrottledSecs.update(*t.CgroupThrottledSeconds, t.CgroupDir))
	}
}

// schedBuckets maps the runtime's scheduling-latency buckets onto the
// exported ones.
type schedBuckets struct {
	upper []float64 // the exported upper bounds, ascending, finite
	// last[j] is the index of the runtime bucket whose upper boundary is
	// upper[j]: runtime buckets 0..last[j] are at or below it.
	last []int
}

// newSchedBuckets picks the exported bounds from the runtime's boundaries
// (len(counts)+1 of them, the first possibly -Inf, the last possibly +Inf),
// or returns nil if fewer than two are in range.
func newSchedBuckets(bounds []float64) *schedBuckets {
	sb := &schedBuckets{}
	for i := 1; i < len(bounds); i++ { // bounds[i] is bucket i-1's upper bound
		b := bounds[i]
		if math.IsInf(b, 0) || b < schedBucketMin || b > schedBucketMax {
			continue
		}
		if n := len(sb.upper); n > 0 && b < 2*sb.upper[n-1] {
			continue
		}
		sb.upper = append(sb.upper, b)
		sb.last = append(sb.last, i-1)
	}
	if len(sb.upper) < 2 {
		return nil
	}
	return sb
}

// metric is the histogram for one read. Its sum is estimated: the runtime
// keeps none, so each observation counts at its bucket's midpoint (at the
// lower boundary in a bucket without a finite upper one), an error within
// the runtime's bucket width of 12.5 to 25 %.
func (sb *schedBuckets) metric(h *metrics.Float64Histogram) (prometheus.Metric, bool) {
	if len(h.Buckets) != len(h.Counts)+1 || sb.last[len(sb.last)-1] >= len(h.Counts) {
		return nil, false // not the layout the buckets were made from
	}
	var count uint64
	var sum float64
	// A map of its own: the metric keeps it, and is written out after
	// collect returns, while the next scrape may already be collecting.
	buckets := make(map[float64]uint64, len(sb.upper))
	j := 0
	for i, n := range h.Counts {
		count += n
		if n > 0 {
			lo, hi := h.Buckets[i], h.Buckets[i+1]
			switch {
			case math.IsInf(lo, 0):
				// Nothing is below 0 in a latency.
			case math.IsInf(hi, 0):
				sum += lo * float64(n)
			default:
				sum += (lo + hi) / 2 * float64(n)
			}
		}
		if j < len(sb.last) && i == sb.last[j] {
			buckets[sb.upper[j]] = count
			j++
		}
	}
	m, err := prometheus.NewConstHistogram(descSchedLatency, count, sum, buckets)
	if err != nil {
		return prometheus.NewInvalidMetric(descSchedLatency, err), true
	}
	return m, true
}

// runQueueCounter sums the threads' run-queue wait into a counter that only
// goes up: each scrape adds, for every thread read, what it waited since the
// previous scrape read it, or all it has waited when that did not (a thread
// started since, the first scrape, or a tid reused: its wait went down).
// The wait of a thread that ends is kept up to the last scrape that read it;
// a thread that starts and ends between two scrapes is missed. Past
// MaxSchedstatThreads threads, a thread entering the lowest tids again is
// counted whole again: an overcount only a process of more than 1024
// threads can see.
type runQueueCounter struct {
	totalNs    uint64
	ok         bool
	last, next map[uint32]uint64 // wait by tid at the previous scrape; spare
}

func (r *runQueueCounter) add(threads []procstat.ThreadWait) {
	if r.next == nil {
		r.next = make(map[uint32]uint64, len(threads))
	}
	clear(r.next)
	for _, th := range threads {
		prev, seen := r.last[th.TID]
		if seen && th.WaitNs >= prev {
			r.totalNs += th.WaitNs - prev
		} else {
			r.totalNs += th.WaitNs
		}
		r.next[th.TID] = th.WaitNs
	}
	r.last, r.next = r.next, r.last
	r.ok = true
}

// monotonic turns a raw counter read from key (a cgroup directory) into a
// counter that only goes up: it starts at the first reading and then adds
// each increase. A reading from another key, or a lower one, rebases it
// without adding.
type monotonic struct {
	total, last float64
	key         string
	ok          bool
}

func (m *monotonic) update(v float64, key string) float64 {
	switch {
	case !m.ok:
		m.total = v
	case key == m.key && v >= m.last:
		m.total += v - m.last
	}
	m.last, m.key, m.ok = v, key, true
	return m.total
}
