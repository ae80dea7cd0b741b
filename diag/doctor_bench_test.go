package diag

import (
	"fmt"
	"runtime/metrics"
	"testing"
	"time"
)

// BenchmarkDoctor measures one uncached doctor check with parked goroutines,
// up to maxDumpGoroutines and past it: its cost is dominated by the
// goroutine dump, which stops the world while it runs. It reports the
// longest stop-the-world pause seen (the upper bound of the runtime's
// histogram bucket) as max-pause-ms; above maxDumpGoroutines the agent
// does not dump, so the pause is the runtime's usual.
func BenchmarkDoctor(b *testing.B) {
	for _, n := range []int{100, 1_000, 1_900, 9_000} {
		b.Run(fmt.Sprintf("goroutines=%d", n), func(b *testing.B) {
			stop := make(chan struct{})
			for range n {
				go func() { <-stop }()
			}
			defer close(stop)
			a := &Agent{}
			a.cfg, _ = Config{}.withDefaults()
			before := pauseCounts()
			b.ResetTimer()
			for b.Loop() {
				a.lockedAt = time.Time{} // dump every time
				_ = a.doctorFacts()
			}
			b.StopTimer()
			b.ReportMetric(maxNewPause(before, pauseCounts())*1e3, "max-pause-ms")
		})
	}
}

const pauseMetric = "/sched/pauses/total/other:seconds"

func pauseCounts() *metrics.Float64Histogram {
	s := []metrics.Sample{{Name: pauseMetric}}
	metrics.Read(s)
	return s[0].Value.Float64Histogram()
}

// maxNewPause is the upper bound of the highest bucket that gained a pause
// between two reads.
func maxNewPause(before, after *metrics.Float64Histogram) float64 {
	var top float64
	for i, c := range after.Counts {
		if c > before.Counts[i] {
			top = after.Buckets[i+1]
		}
	}
	return top
}
