package stats

import "testing"

// A share warns when it is above its threshold with 95 % confidence, and
// only from MinSamples samples on.
func TestShareAbove(t *testing.T) {
	tests := []struct {
		k, n       int64
		t          float64
		minSamples int
		want       bool
	}{
		{1, 4, 0.01, 1, true},      // 25 %: even 4 samples are evidence against 1 %
		{1, 4, 0.01, 100, false},   // but fewer than MinSamples
		{1, 67, 0.01, 1, false},    // one stray sample: 1.5 %, not evidence
		{2, 100, 0.01, 100, false}, // 2 %: bound 0.55 %
		{3, 100, 0.01, 100, true},  // 3 %: bound 1.03 %
		{15, 1000, 0.01, 100, false},
		{20, 1000, 0.01, 100, true},
		{30, 100, 0.25, 100, false}, // cgo 30 % of 100 samples against 25 %
		{40, 100, 0.25, 100, true},
		{0, 1000, 0.01, 100, false},
		{1000, 1000, 0.01, 100, true},
		{0, 0, 0, 1, false},
	}
	for _, tt := range tests {
		share := 0.0
		if tt.n > 0 {
			share = float64(tt.k) / float64(tt.n)
		}
		if got := ShareAbove(share, tt.n, tt.t, tt.minSamples); got != tt.want {
			t.Errorf("ShareAbove(%d/%d, threshold %v, min %d) = %v, want %v (lower bound %.4f)",
				tt.k, tt.n, tt.t, tt.minSamples, got, tt.want, WilsonLower(share, float64(tt.n)))
		}
	}
}
