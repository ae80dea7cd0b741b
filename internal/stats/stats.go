// Package stats holds the statistics diagkit's judgments share, so that the
// agent's warnings and the doctor's checks decide alike.
package stats

import "math"

// ShareAbove reports whether a share measured on n samples is above the
// threshold t with 95 % confidence: n is at least minSamples and the lower
// bound of the share's Wilson score interval is above t. A sample or two in
// a window, such as the garbage collector preempting an ordinary goroutine
// to scan its stack, is then not mistaken for a pattern, while a share well
// above t counts at once: 3 in 100 samples, or 20 in 1,000, is enough
// against a 1 % threshold.
func ShareAbove(share float64, n int64, t float64, minSamples int) bool {
	if share <= t || n < int64(minSamples) || n <= 0 {
		return false
	}
	return WilsonLower(share, float64(n)) > t
}

// WilsonLower is the lower bound of the 95 % Wilson score interval of a
// proportion p observed in n > 0 trials.
func WilsonLower(p, n float64) float64 {
	low, _ := WilsonInterval(p, n, 1.96)
	return low
}

// WilsonInterval is the Wilson score interval of a proportion p observed in
// n > 0 trials, at the confidence whose two-sided normal quantile is z.
func WilsonInterval(p, n, z float64) (low, high float64) {
	z2 := z * z
	centre := p + z2/(2*n)
	spread := z * math.Sqrt(p*(1-p)/n+z2/(4*n*n))
	den := 1 + z2/n
	return (centre - spread) / den, (centre + spread) / den
}
