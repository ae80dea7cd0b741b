package compare

import (
	"strings"
	"testing"
	"time"
)

func TestParseRule(t *testing.T) {
	for _, c := range []struct {
		in       string
		figure   string
		dir      int
		delta    float64
		relative bool
	}{
		{"async_preempt", FigAsyncPreempt, 1, 0, false},
		{"async_preempt:+0.5pp", FigAsyncPreempt, 1, 0.005, false},
		{"async_preempt:0.5pp", FigAsyncPreempt, 1, 0.005, false},
		{"async_preempt:-1pp", FigAsyncPreempt, -1, 0.01, false},
		{"async_preempt:+20%", FigAsyncPreempt, 1, 0.2, true},
		{"sched_latency_p99:+2ms", FigSchedLatencyP99, 1, 0.002, false},
		{"cgo_calls_per_second:+1000/s", FigCgoCallsPerSec, 1, 1000, false},
		{"run_queue_wait_ratio:+0.1", FigRunQueueWaitRate, 1, 0.1, false},
		{"cgo_c", FigCgoC, 0, 0, false},
		{"cgo_c:-5pp", FigCgoC, -1, 0.05, false},
	} {
		r, err := ParseRule(c.in)
		if err != nil {
			t.Errorf("ParseRule(%q): %v", c.in, err)
			continue
		}
		if r.Figure != c.figure || r.Direction != c.dir || r.Relative != c.relative || r.Delta < c.delta-1e-12 || r.Delta > c.delta+1e-12 {
			t.Errorf("ParseRule(%q) = %+v", c.in, r)
		}
	}
	for in, want := range map[string]string{
		"":                          "unknown figure",
		"async":                     "unknown figure",
		"async_preempt:":            "no change",
		"async_preempt:+":           "no change",
		"async_preempt:0.5":         "in pp",
		"async_preempt:+2ms":        "in pp",
		"sched_latency_p99:+2pp":    "for shares",
		"sched_latency_p99:+abc":    "duration",
		"cgo_c:5pp":                 "sign",
		"cgo_calls_per_second:NaN":  "not a number",
		"cgo_calls_per_second:+Inf": "not a number",
		"cgo_calls_per_second:0x10": "not a number",
		"async_preempt:+-1pp":       "not a number",
	} {
		if _, err := ParseRule(in); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseRule(%q): error %v, want one saying %q", in, err, want)
		}
	}
}

func TestCheck(t *testing.T) {
	doc := &Document{Figures: []Result{
		{Figure: FigAsyncPreempt, Verdict: VerdictWorse, Before: ptr(0.01), Difference: ptr(0.008)},
		{Figure: FigCgoCallsPerSec, Verdict: VerdictNoChange, Before: ptr(10.0), Difference: ptr(5.0)},
		{Figure: FigSchedLatencyP99, Verdict: VerdictBetter, Before: ptr(0.02), Difference: ptr(-0.01)},
		{Figure: FigThrottledShare, Verdict: VerdictUntested, Note: "unavailable on both sides"},
	}}
	for _, c := range []struct {
		rule   string
		failed bool
	}{
		{"async_preempt", true},
		{"async_preempt:+0.5pp", true},
		{"async_preempt:+1pp", false},
		{"async_preempt:+50%", true},
		{"async_preempt:+100%", false},
		{"async_preempt:-0.1pp", false},
		{"cgo_calls_per_second", false},
		{"sched_latency_p99", false},
		{"sched_latency_p99:-5ms", true},
		{"cgroup_throttled_share", false},
	} {
		r, err := ParseRule(c.rule)
		if err != nil {
			t.Fatal(err)
		}
		if got := Check(doc, []Rule{r}); got != c.failed || doc.FailOn[0].Failed != c.failed || doc.FailOn[0].Why == "" {
			t.Errorf("%s: failed %v (%+v), want %v", c.rule, got, doc.FailOn, c.failed)
		}
	}
}

func TestParseRangeAndSelect(t *testing.T) {
	var reps []Replicate
	for i := range 6 { // six 10 s windows from t0
		reps = append(reps, Replicate{Label: "w", Start: t0.Add(time.Duration(i) * 10 * time.Second), End: t0.Add(time.Duration(i+1) * 10 * time.Second)})
	}
	ref := Newest(reps) // t0+60s
	for in, want := range map[string]int{
		"..":       6,
		"30s..":    3,
		"-30s..":   3,
		"1m..30s":  3,
		"45s..now": 4, // windows starting at 20 s or later
		"2026-12-01T10:00:10Z..2026-12-01T10:00:40Z": 3,
		"..2026-12-01T10:00:35Z":                     3,
		"2026-12-01T10:00:10Z..10s":                  4,
	} {
		r, err := ParseRange(in)
		if err != nil {
			t.Errorf("ParseRange(%q): %v", in, err)
			continue
		}
		got, err := r.Select(reps, ref)
		if err != nil || len(got) != want {
			t.Errorf("%q selects %d windows (%v), want %d", in, len(got), err, want)
		}
	}
	for in, want := range map[string]string{
		"30m":       "FROM..TO",
		"abc..":     "neither",
		"10m..20m":  "before",
		"--5m..":    "neither",
		"200000h..": "longer ago",
		"2026-12-01T10:00:40Z..2026-12-01T10:00:10Z": "before",
	} {
		if _, err := ParseRange(in); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseRange(%q): %v, want an error saying %q", in, err, want)
		}
	}
	r, _ := ParseRange("1m..")
	if _, err := r.Select([]Replicate{{Label: "cpu.pb.gz"}}, ref); err == nil || !strings.Contains(err.Error(), "cpu.pb.gz") {
		t.Errorf("a range over a saved profile: %v", err)
	}
}
