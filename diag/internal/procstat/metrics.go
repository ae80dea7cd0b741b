package procstat

import (
	"math"
	"runtime"
	"runtime/metrics"

	"github.com/diagkit/diagkit/diag/api"
)

// The runtime/metrics this package reads, in the order readRuntime asks for
// them. A name the running Go release lacks reads as metrics.KindBad and
// leaves its figure unavailable.
const (
	metricSchedLatencies = "/sched/latencies:seconds"
	metricCgoCalls       = "/cgo/go-to-c-calls:calls"
	metricGoroutines     = "/sched/goroutines:goroutines"
	metricRunnable       = "/sched/goroutines/runnable:goroutines" // Go 1.26+
	metricRunning        = "/sched/goroutines/running:goroutines"  // Go 1.26+
	metricThreads        = "/sched/threads/total:threads"          // Go 1.26+
	metricGOMAXPROCS     = "/sched/gomaxprocs:threads"
	metricCPUGC          = "/cpu/classes/gc/total:cpu-seconds"
	metricCPUTotal       = "/cpu/classes/total:cpu-seconds"
	metricCPUIdle        = "/cpu/classes/idle:cpu-seconds"
	metricGOGC           = "/gc/gogc:percent"
	metricMemoryLimit    = "/gc/gomemlimit:bytes"
)

var metricNames = [...]string{
	metricSchedLatencies,
	metricCgoCalls,
	metricGoroutines,
	metricRunnable,
	metricRunning,
	metricThreads,
	metricGOMAXPROCS,
	metricCPUGC,
	metricCPUTotal,
	metricCPUIdle,
	metricGOGC,
	metricMemoryLimit,
}

// runtimeStats is one runtime/metrics read.
type runtimeStats struct {
	schedLat                                           histogram
	cgoCalls                                           opt[uint64]
	goroutines, runnable, running, threads, gomaxprocs opt[uint64]
	cpuGC, cpuTotal, cpuIdle                           opt[float64]
	gogc, memoryLimit                                  opt[uint64]
}

// readRuntime reads metricNames. Each call uses fresh samples, so the
// histogram it returns is its own and concurrent calls share nothing.
func readRuntime() runtimeStats {
	samples := make([]metrics.Sample, len(metricNames))
	for i, name := range metricNames {
		samples[i].Name = name
	}
	metrics.Read(samples)
	var r runtimeStats
	for _, s := range samples {
		switch s.Name {
		case metricSchedLatencies:
			r.schedLat = histogramOf(s.Value)
		case metricCgoCalls:
			r.cgoCalls = uint64Of(s.Value)
		case metricGoroutines:
			r.goroutines = uint64Of(s.Value)
		case metricRunnable:
			r.runnable = uint64Of(s.Value)
		case metricRunning:
			r.running = uint64Of(s.Value)
		case metricThreads:
			r.threads = uint64Of(s.Value)
		case metricGOMAXPROCS:
			r.gomaxprocs = uint64Of(s.Value)
		case metricCPUGC:
			r.cpuGC = float64Of(s.Value)
		case metricCPUTotal:
			r.cpuTotal = float64Of(s.Value)
		case metricCPUIdle:
			r.cpuIdle = float64Of(s.Value)
		case metricGOGC:
			r.gogc = uint64Of(s.Value)
		case metricMemoryLimit:
			r.memoryLimit = uint64Of(s.Value)
		}
	}
	if !r.gomaxprocs.ok {
		r.gomaxprocs = some(uint64(runtime.GOMAXPROCS(0)))
	}
	return r
}

// The accessors of metrics.Value panic on the wrong kind; these check first.

func uint64Of(v metrics.Value) opt[uint64] {
	if v.Kind() != metrics.KindUint64 {
		return opt[uint64]{}
	}
	return some(v.Uint64())
}

func float64Of(v metrics.Value) opt[float64] {
	if v.Kind() != metrics.KindFloat64 {
		return opt[float64]{}
	}
	f := v.Float64()
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return opt[float64]{}
	}
	return some(f)
}

func histogramOf(v metrics.Value) histogram {
	if v.Kind() != metrics.KindFloat64Histogram {
		return histogram{}
	}
	h := v.Float64Histogram()
	if h == nil || len(h.Counts) == 0 || len(h.Buckets) != len(h.Counts)+1 {
		return histogram{}
	}
	return histogram{counts: h.Counts, buckets: h.Buckets}
}

// histogram is a runtime/metrics Float64Histogram: counts[i] observations
// fell in [buckets[i], buckets[i+1]). The first and last boundaries may be
// -Inf and +Inf. A nil counts means unavailable. buckets may alias the
// runtime's and is never written.
type histogram struct {
	counts  []uint64
	buckets []float64
}

// sub returns h - start, bucket by bucket: the observations made between the
// two reads. It fails when either is unavailable, their buckets differ, or a
// count went backwards.
func (h histogram) sub(start histogram) (histogram, bool) {
	if h.counts == nil || start.counts == nil || len(h.counts) != len(start.counts) || len(h.buckets) != len(start.buckets) {
		return histogram{}, false
	}
	for i := range h.buckets {
		a, b := h.buckets[i], start.buckets[i]
		if a != b && !(math.IsNaN(a) && math.IsNaN(b)) {
			return histogram{}, false
		}
	}
	d := histogram{counts: make([]uint64, len(h.counts)), buckets: h.buckets}
	for i, c := range h.counts {
		if c < start.counts[i] {
			return histogram{}, false
		}
		d.counts[i] = c - start.counts[i]
	}
	return d, true
}

// latency is the count and the p50, p99 and p99.9 of h, or nil when h holds
// no observation or has no finite boundary to report.
func (h histogram) latency() *api.Latency {
	var total uint64
	for _, c := range h.counts {
		if total+c < total {
			return nil // overflow: not a real histogram
		}
		total += c
	}
	if total == 0 || total > math.MaxInt64 {
		return nil
	}
	p50, ok50 := h.quantile(total, 500)
	p99, ok99 := h.quantile(total, 990)
	p999, ok999 := h.quantile(total, 999)
	if !ok50 || !ok99 || !ok999 {
		return nil
	}
	return &api.Latency{Count: int64(total), P50: p50, P99: p99, P999: p999}
}

// quantile returns the upper boundary of the bucket holding the
// ceil(perMille/1000 × total)-th smallest observation: the smallest boundary
// at least that share of observations are known to lie below. An infinite
// boundary is clamped to the nearest finite one on the inner side. total
// must be the sum of h.counts and non-zero.
func (h histogram) quantile(total uint64, perMille uint64) (float64, bool) {
	// rank = ceil(total × perMille / 1000), without overflowing.
	rank := total/1000*perMille + (total%1000*perMille+999)/1000
	rank = max(rank, 1)
	var cum uint64
	for i, c := range h.counts {
		cum += c
		if cum >= rank {
			return finiteBoundary(h.buckets, i+1)
		}
	}
	return 0, false
}

// finiteBoundary returns b[i] if it is finite; else the nearest finite
// boundary below a +Inf, or above a -Inf.
func finiteBoundary(b []float64, i int) (float64, bool) {
	step := -1
	if math.IsInf(b[i], -1) {
		step = 1
	}
	for ; i >= 0 && i < len(b); i += step {
		if v := b[i]; !math.IsInf(v, 0) && !math.IsNaN(v) {
			return v, true
		}
	}
	return 0, false
}
