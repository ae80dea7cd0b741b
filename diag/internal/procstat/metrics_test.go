package procstat

import (
	"math"
	"runtime/metrics"
	"testing"

	"github.com/diagkit/diagkit/diag/api"
)

var inf = math.Inf(1)

func TestHistogramLatency(t *testing.T) {
	tests := []struct {
		name    string
		buckets []float64
		counts  []uint64
		want    *api.Latency
	}{
		{
			name:    "empty",
			buckets: []float64{0, 1, 2},
			counts:  []uint64{0, 0},
			want:    nil,
		},
		{
			name:    "all in one bucket",
			buckets: []float64{0, 1, 2, 3},
			counts:  []uint64{0, 5, 0},
			want:    &api.Latency{Count: 5, P50: 2, P99: 2, P999: 2},
		},
		{
			name:    "one observation",
			buckets: []float64{0, 1, 2, 3},
			counts:  []uint64{0, 0, 1},
			want:    &api.Latency{Count: 1, P50: 3, P99: 3, P999: 3},
		},
		{
			name:    "all in the +Inf bucket: clamped to its lower boundary",
			buckets: []float64{-inf, 0, 1, inf},
			counts:  []uint64{0, 0, 4},
			want:    &api.Latency{Count: 4, P50: 1, P99: 1, P999: 1},
		},
		{
			name:    "all in the -Inf bucket: its upper boundary is finite",
			buckets: []float64{-inf, 0, 1, inf},
			counts:  []uint64{3, 0, 0},
			want:    &api.Latency{Count: 3, P50: 0, P99: 0, P999: 0},
		},
		{
			name:    "one bucket, both boundaries infinite",
			buckets: []float64{-inf, inf},
			counts:  []uint64{7},
			want:    nil,
		},
		{
			name:    "spread over 1000",
			buckets: []float64{0, 1, 2, 3, inf},
			counts:  []uint64{500, 490, 9, 1},
			want:    &api.Latency{Count: 1000, P50: 1, P99: 2, P999: 3},
		},
		{
			name:    "one past each rank",
			buckets: []float64{0, 1, 2, 3, inf},
			counts:  []uint64{499, 490, 10, 1},
			want:    &api.Latency{Count: 1000, P50: 2, P99: 3, P999: 3},
		},
		{
			name:    "tail in the +Inf bucket",
			buckets: []float64{0, 1, 2, inf},
			counts:  []uint64{90, 0, 10},
			want:    &api.Latency{Count: 100, P50: 1, P99: 2, P999: 2},
		},
		{
			name:    "huge counts do not overflow the rank",
			buckets: []float64{0, 1, 2},
			counts:  []uint64{1 << 61, 1 << 61},
			want:    &api.Latency{Count: 1 << 62, P50: 1, P99: 2, P999: 2},
		},
		{
			name:    "total beyond int64",
			buckets: []float64{0, 1, 2},
			counts:  []uint64{1 << 63, 1 << 63},
			want:    nil,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := histogram{counts: tt.counts, buckets: tt.buckets}.latency()
			if (got == nil) != (tt.want == nil) || got != nil && *got != *tt.want {
				t.Errorf("latency = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestFiniteBoundary(t *testing.T) {
	b := []float64{-inf, -inf, 0, 1, inf, inf}
	tests := []struct {
		i    int
		want float64
		ok   bool
	}{
		{0, 0, true}, // -Inf: the nearest finite boundary above
		{1, 0, true},
		{2, 0, true},
		{3, 1, true},
		{4, 1, true}, // +Inf: the nearest finite boundary below
		{5, 1, true},
	}
	for _, tt := range tests {
		if got, ok := finiteBoundary(b, tt.i); got != tt.want || ok != tt.ok {
			t.Errorf("finiteBoundary(b, %d) = %v, %v; want %v, %v", tt.i, got, ok, tt.want, tt.ok)
		}
	}
	if _, ok := finiteBoundary([]float64{inf, inf}, 1); ok {
		t.Error("finiteBoundary found a finite boundary in an all-infinite slice")
	}
	if _, ok := finiteBoundary([]float64{-inf, -inf}, 0); ok {
		t.Error("finiteBoundary found a finite boundary in an all-infinite slice")
	}
}

func TestHistogramSub(t *testing.T) {
	b := []float64{-inf, 0, 1, inf}
	h := func(counts ...uint64) histogram { return histogram{counts: counts, buckets: b} }
	tests := []struct {
		name       string
		start, end histogram
		want       []uint64
		ok         bool
	}{
		{"delta", h(1, 2, 3), h(1, 5, 4), []uint64{0, 3, 1}, true},
		{"no change", h(1, 2, 3), h(1, 2, 3), []uint64{0, 0, 0}, true},
		{"start unavailable", histogram{}, h(1, 2, 3), nil, false},
		{"end unavailable", h(1, 2, 3), histogram{}, nil, false},
		{"went backwards", h(1, 2, 3), h(1, 1, 9), nil, false},
		{"different lengths", h(1, 2, 3), histogram{counts: []uint64{1, 2}, buckets: b[:3]}, nil, false},
		{"different boundaries", h(1, 2, 3), histogram{counts: []uint64{1, 2, 3}, buckets: []float64{-inf, 0, 2, inf}}, nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := tt.end.sub(tt.start)
			if ok != tt.ok {
				t.Fatalf("sub ok = %v, want %v", ok, tt.ok)
			}
			if len(got.counts) != len(tt.want) {
				t.Fatalf("sub counts = %v, want %v", got.counts, tt.want)
			}
			for i := range tt.want {
				if got.counts[i] != tt.want[i] {
					t.Fatalf("sub counts = %v, want %v", got.counts, tt.want)
				}
			}
		})
	}
	// The delta must not write into either input.
	start, end := h(1, 2, 3), h(2, 3, 4)
	if _, ok := end.sub(start); !ok || start.counts[0] != 1 || end.counts[0] != 2 {
		t.Error("sub modified its inputs")
	}
}

func TestValueKinds(t *testing.T) {
	// A metric the running release lacks reads as KindBad: every accessor
	// must report it unavailable instead of panicking.
	s := []metrics.Sample{{Name: "/no/such/metric:units"}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindBad {
		t.Fatalf("kind = %v, want KindBad", s[0].Value.Kind())
	}
	if uint64Of(s[0].Value).ok || float64Of(s[0].Value).ok || histogramOf(s[0].Value).counts != nil {
		t.Error("a KindBad value read as available")
	}
	// And the wrong kind is unavailable too.
	s = []metrics.Sample{{Name: metricGoroutines}, {Name: metricCPUTotal}}
	metrics.Read(s)
	if float64Of(s[0].Value).ok || histogramOf(s[0].Value).counts != nil || uint64Of(s[1].Value).ok {
		t.Error("a value of the wrong kind read as available")
	}
}

func TestReadRuntime(t *testing.T) {
	r := readRuntime()
	supported := map[string]bool{}
	for _, d := range metrics.All() {
		supported[d.Name] = true
	}
	check := func(name string, ok bool) {
		t.Helper()
		if ok != supported[name] {
			t.Errorf("%s: available = %v, but this Go release supports it: %v", name, ok, supported[name])
		}
	}
	check(metricSchedLatencies, r.schedLat.counts != nil)
	check(metricCgoCalls, r.cgoCalls.ok)
	check(metricGoroutines, r.goroutines.ok)
	check(metricRunnable, r.runnable.ok)
	check(metricRunning, r.running.ok)
	check(metricThreads, r.threads.ok)
	check(metricCPUGC, r.cpuGC.ok)
	check(metricCPUTotal, r.cpuTotal.ok)
	check(metricCPUIdle, r.cpuIdle.ok)
	if !r.gomaxprocs.ok || r.gomaxprocs.v < 1 {
		t.Errorf("gomaxprocs = %+v", r.gomaxprocs)
	}
}
