package diag

import (
	"fmt"
	"testing"
	"time"
)

// BenchmarkDoctor measures one uncached doctor check with parked goroutines,
// up to maxDumpGoroutines: its cost is dominated by the goroutine dump,
// which stops the world while it runs.
func BenchmarkDoctor(b *testing.B) {
	for _, n := range []int{100, 1_000, 1_900} {
		b.Run(fmt.Sprintf("goroutines=%d", n), func(b *testing.B) {
			stop := make(chan struct{})
			for range n {
				go func() { <-stop }()
			}
			defer close(stop)
			a := &Agent{}
			a.cfg, _ = Config{}.withDefaults()
			b.ResetTimer()
			for b.Loop() {
				a.lockedAt = time.Time{} // dump every time
				_ = a.doctorFacts()
			}
		})
	}
}
