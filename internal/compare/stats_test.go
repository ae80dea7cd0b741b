package compare

import (
	"math"
	"testing"
)

func near(t *testing.T, what string, got, want, tol float64) {
	t.Helper()
	if math.Abs(got-want) > tol {
		t.Errorf("%s = %.6g, want %.6g (± %g)", what, got, want, tol)
	}
}

// TestWelchAgainstPublishedExample checks Welch's test on the example of
// its Wikipedia article: t = 2.46, ν ≈ 25.0, p ≈ 0.021.
func TestWelchAgainstPublishedExample(t *testing.T) {
	a1 := []float64{27.5, 21.0, 19.0, 23.6, 17.0, 17.9, 16.9, 20.1, 21.9, 22.6, 23.1, 19.6, 19.0, 21.7, 21.4}
	a2 := []float64{27.1, 22.0, 20.8, 23.4, 23.4, 23.5, 25.8, 22.0, 24.8, 20.2, 21.9, 22.1, 22.9, 20.5, 24.4}
	e := welch(a1, a2)
	near(t, "difference", e.diff, average(a2)-average(a1), 1e-12)
	near(t, "df", e.df, 24.99, 0.02)
	near(t, "p", e.p, 0.021, 0.001)
	if e.low <= 0 || e.high <= e.low {
		t.Errorf("interval [%g, %g] should exclude 0 above it", e.low, e.high)
	}
	// The interval is symmetric about the difference, and p < 0.05 exactly
	// when it excludes 0.
	near(t, "symmetry", e.high-e.diff, e.diff-e.low, 1e-12)
}

func TestWelchConstantSides(t *testing.T) {
	e := welch([]float64{0.2, 0.2}, []float64{0.2, 0.2, 0.2})
	if e.p != 1 || e.diff != 0 {
		t.Errorf("equal constants: %+v, want p 1, no difference", e)
	}
	e = welch([]float64{0, 0}, []float64{0.1, 0.1})
	if e.p != 0 || e.low != 0.1 || e.high != 0.1 {
		t.Errorf("different constants: %+v, want p 0, interval [0.1, 0.1]", e)
	}
	// One side constant: the other's spread alone makes the test.
	e = welch([]float64{0, 0, 0}, []float64{0.1, 0.12, 0.08})
	if !(e.p < 0.05 && e.low > 0) {
		t.Errorf("one constant side: %+v, want a significant rise", e)
	}
}

// TestNewcombeAgainstPublishedExample checks method 10 on Newcombe's own
// example (Statistics in Medicine 17, 1998, table II): 56/70 − 48/80 =
// 0.2, interval (0.0524, 0.3339).
func TestNewcombeAgainstPublishedExample(t *testing.T) {
	e := newcombe(48, 80, 56, 70)
	near(t, "difference", e.diff, 0.2, 1e-12)
	near(t, "low", e.low, 0.0524, 5e-5)
	near(t, "high", e.high, 0.3339, 5e-5)
	if e.p >= 0.05 {
		t.Errorf("p = %g, want < 0.05", e.p)
	}
	// Zero counts on both sides: no difference, p 1.
	if e := newcombe(0, 100, 0, 100); e.p != 1 || e.diff != 0 {
		t.Errorf("0/100 vs 0/100: %+v", e)
	}
}

func TestHolm(t *testing.T) {
	got := holm([]float64{0.01, 0.04, 0.03, 0.005})
	want := []float64{0.03, 0.06, 0.06, 0.02}
	for i := range want {
		near(t, "adjusted p", got[i], want[i], 1e-12)
	}
	if got := holm([]float64{0.6, 0.9}); got[0] != 1 || got[1] != 1 {
		t.Errorf("holm caps at 1: %v", got)
	}
	if got := holm(nil); len(got) != 0 {
		t.Errorf("holm(nil) = %v", got)
	}
}
