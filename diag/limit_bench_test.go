package diag

import (
	"context"
	"fmt"
	"net/http/httptest"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/zap"
)

// liveHeapBytes is the heap in use after a collection.
func liveHeapBytes() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// BenchmarkConcurrentCPUProfiles measures what concurrent 1 s
// /debug/pprof/profile requests cost: they share one profiler run, and
// each has its own merged profile, its encoding and, being a scrape of
// 1 s or more, an analysis. It reports the peak heap above the idle agent's
// and the bytes allocated per request; the difference between n=1 and n=20
// over 19 is what each extra concurrent request costs. Run it with
// -benchtime=1x:
//
//	go test -run XXX -bench ConcurrentCPUProfiles -benchtime=1x ./diag/
func BenchmarkConcurrentCPUProfiles(b *testing.B) {
	for _, n := range []int{1, 20, 32} {
		b.Run(fmt.Sprintf("n=%d", n), func(b *testing.B) {
			a, err := Start(Config{Addr: AddrOff, Window: time.Hour, Interval: MaxInterval, Logger: zap.NewNop()})
			if err != nil {
				b.Fatal(err)
			}
			defer a.Stop()
			srv := httptest.NewServer(a.Handler())
			defer srv.Close()
			stop := make(chan struct{})
			go burn(stop)
			defer close(stop)

			var peak atomic.Uint64
			for range b.N {
				idle := liveHeapBytes()
				var ms0 runtime.MemStats
				runtime.ReadMemStats(&ms0)
				sampling := make(chan struct{})
				var sampler sync.WaitGroup
				sampler.Go(func() {
					var ms runtime.MemStats
					for {
						select {
						case <-sampling:
							return
						case <-time.After(20 * time.Millisecond):
						}
						runtime.ReadMemStats(&ms)
						if ms.HeapAlloc > idle && ms.HeapAlloc-idle > peak.Load() {
							peak.Store(ms.HeapAlloc - idle)
						}
					}
				})
				var wg sync.WaitGroup
				for range n {
					wg.Go(func() {
						if status := <-getInBackground(context.Background(), srv.URL+"/debug/pprof/profile?seconds=1"); status != 200 {
							b.Errorf("status %d", status)
						}
					})
				}
				wg.Wait()
				close(sampling)
				sampler.Wait()
				var ms1 runtime.MemStats
				runtime.ReadMemStats(&ms1)
				b.ReportMetric(float64(peak.Load()), "peak-heap-B")
				b.ReportMetric(float64(ms1.TotalAlloc-ms0.TotalAlloc)/float64(n), "alloc-B/req")
			}
		})
	}
}
