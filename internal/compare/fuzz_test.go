package compare

import (
	"math"
	"testing"
	"time"
)

// FuzzParseRule: --fail-on is user input. Whatever it is, ParseRule
// answers without panicking, and an accepted rule names a known figure with
// a finite threshold of 0 or more.
func FuzzParseRule(f *testing.F) {
	for _, s := range []string{"async_preempt", "async_preempt:+0.5pp", "sched_latency_p99:+2ms", "cgo_c:-10%", "cgo_calls_per_second:+1e3/s", ":", "x:+1pp"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParseRule(s)
		if err != nil {
			return
		}
		if _, ok := FigureByName(r.Figure); !ok || math.IsNaN(r.Delta) || math.IsInf(r.Delta, 0) || r.Delta < 0 || r.Direction < -1 || r.Direction > 1 {
			t.Fatalf("ParseRule(%q) accepted %+v", s, r)
		}
	})
}

// FuzzParseRange: the range flags are user input. An accepted range
// selects without panicking.
func FuzzParseRange(f *testing.F) {
	for _, s := range []string{"..", "30m..", "1h..30m", "-15m..now", "2026-12-01T10:00:00Z..2026-12-01T11:00:00Z", "..2026-12-01T10:00:00.5+02:00", "9999999h.."} {
		f.Add(s)
	}
	reps := []Replicate{{Label: "w", Start: t0, End: t0.Add(time.Second)}}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParseRange(s)
		if err != nil {
			return
		}
		if _, err := r.Select(reps, t0.Add(time.Second)); err != nil {
			t.Fatalf("ParseRange(%q) accepted, then Select failed: %v", s, err)
		}
	})
}
