package compare

import (
	"fmt"
	"testing"
	"time"
)

// BenchmarkPairInTime pairs two agent histories of n windows of 10 s (the
// second side started 300 ms later), with the binary search (search) and
// trying every window against every other (one_by_one), as pairing did
// before the search.
func BenchmarkPairInTime(b *testing.B) {
	for _, n := range []int{1_000, 10_000} {
		before, after := make([]Replicate, n), make([]Replicate, n)
		for i := range n {
			at := t0.Add(time.Duration(i) * 10 * time.Second)
			before[i] = Replicate{Start: at, End: at.Add(10 * time.Second)}
			at = at.Add(300 * time.Millisecond)
			after[i] = Replicate{Start: at, End: at.Add(10 * time.Second)}
		}
		for _, impl := range []struct {
			name   string
			search bool
		}{{"search", true}, {"one_by_one", false}} {
			b.Run(fmt.Sprintf("%s/n=%d", impl.name, n), func(b *testing.B) {
				for b.Loop() {
					if len(pairWindowsIn(before, after, impl.search)) != n {
						b.Fatal("not every window paired")
					}
				}
			})
		}
	}
}
