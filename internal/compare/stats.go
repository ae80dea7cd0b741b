package compare

import (
	"math"
	"sort"

	"gonum.org/v1/gonum/stat/distuv"

	"github.com/diagkit/diagkit/internal/stats"
)

// Tests, as documents name them.
const (
	// TestWelch is Welch's t-test on per-window values.
	TestWelch = "welch_t"
	// TestPaired is the paired t-test on the differences of windows paired
	// in time: for sides sampled over the same span.
	TestPaired = "paired_t"
	// TestNewcombe is Newcombe's hybrid score interval (and a pooled
	// two-proportion z-test) on sample counts: approximate.
	TestNewcombe = "newcombe_score"
)

// confidence is the level of every interval.
const confidence = 0.95

// estimate is one test's result: the difference after − before, its
// interval and two-sided p-value.
type estimate struct {
	diff, low, high, p float64
	df                 float64 // Welch's degrees of freedom; 0 otherwise
}

// meanVar returns the mean and the sample variance of xs (len ≥ 2).
// Equal values have a variance of exactly 0, whatever rounding would make
// of their mean.
func meanVar(xs []float64) (mean, variance float64) {
	if allEqual(xs) {
		return xs[0], 0
	}
	mean = average(xs)
	for _, x := range xs {
		d := x - mean
		variance += d * d
	}
	return mean, variance / float64(len(xs)-1)
}

func allEqual(xs []float64) bool {
	for _, x := range xs {
		if x != xs[0] {
			return false
		}
	}
	return true
}

// welch compares the means of before and after (each of 2 or more values)
// with Welch's t-test.
func welch(before, after []float64) estimate {
	mb, vb := meanVar(before)
	ma, va := meanVar(after)
	nb, na := float64(len(before)), float64(len(after))
	d := ma - mb
	sb, sa := vb/nb, va/na
	se2 := sb + sa
	if se2 <= 0 || math.IsNaN(se2) {
		// Constant on both sides: no spread to test against. Equal
		// constants are no change; different ones are as certain as data
		// gets.
		p := 1.0
		if d != 0 {
			p = 0
		}
		return estimate{diff: d, low: d, high: d, p: p}
	}
	se := math.Sqrt(se2)
	df := se2 * se2 / (sb*sb/(nb-1) + sa*sa/(na-1))
	t := distuv.StudentsT{Mu: 0, Sigma: 1, Nu: df}
	q := t.Quantile(1 - (1-confidence)/2)
	p := 2 * t.Survival(math.Abs(d)/se)
	return estimate{diff: d, low: d - q*se, high: d + q*se, p: clampP(p), df: df}
}

// pairedT tests the mean of the differences d (2 or more) of paired
// windows: a one-sample t-test with n − 1 degrees of freedom.
func pairedT(d []float64) estimate {
	m, v := meanVar(d)
	n := float64(len(d))
	if v <= 0 {
		p := 1.0
		if m != 0 {
			p = 0
		}
		return estimate{diff: m, low: m, high: m, p: p}
	}
	se := math.Sqrt(v / n)
	t := distuv.StudentsT{Mu: 0, Sigma: 1, Nu: n - 1}
	q := t.Quantile(1 - (1-confidence)/2)
	return estimate{diff: m, low: m - q*se, high: m + q*se, p: clampP(2 * t.Survival(math.Abs(m)/se)), df: n - 1}
}

// wilson is the 95 % Wilson score interval of x successes in n > 0 trials,
// within [0, 1].
func wilson(x, n float64) (low, high float64) {
	low, high = stats.WilsonInterval(x/n, n, zQuantile())
	return max(0, low), min(1, high)
}

func zQuantile() float64 {
	return distuv.UnitNormal.Quantile(1 - (1-confidence)/2)
}

// newcombe compares two proportions xb/nb and xa/na (sample counts, n > 0):
// the difference pa − pb with Newcombe's hybrid score interval (his method
// 10), and the pooled two-proportion z-test's p-value.
func newcombe(xb, nb, xa, na float64) estimate {
	pb, pa := xb/nb, xa/na
	lb, ub := wilson(xb, nb)
	la, ua := wilson(xa, na)
	d := pa - pb
	e := estimate{
		diff: d,
		low:  d - math.Sqrt((pa-la)*(pa-la)+(ub-pb)*(ub-pb)),
		high: d + math.Sqrt((ua-pa)*(ua-pa)+(pb-lb)*(pb-lb)),
	}
	pool := (xb + xa) / (nb + na)
	se := math.Sqrt(pool * (1 - pool) * (1/nb + 1/na))
	switch {
	case se > 0:
		e.p = clampP(2 * distuv.UnitNormal.Survival(math.Abs(d)/se))
	case d == 0:
		e.p = 1
	}
	return e
}

func clampP(p float64) float64 {
	if math.IsNaN(p) {
		return 1
	}
	return min(1, max(0, p))
}

// holm adjusts p-values for multiple comparisons (Holm–Bonferroni): the
// adjusted value of the i-th smallest of m is the running maximum of
// (m−i)·p, capped at 1. A change is significant when its adjusted p-value is
// below 1 − confidence.
func holm(ps []float64) []float64 {
	m := len(ps)
	idx := make([]int, m)
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return ps[idx[a]] < ps[idx[b]] })
	adj := make([]float64, m)
	running := 0.0
	for rank, i := range idx {
		v := min(1, float64(m-rank)*ps[i])
		running = max(running, v)
		adj[i] = running
	}
	return adj
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }
