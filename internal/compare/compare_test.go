package compare

import (
	"encoding/json"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/diagkit/diagkit/diag/analysis"
	"github.com/diagkit/diagkit/diag/api"
)

var t0 = time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)

// window builds an agent window of 1,000 samples with the given
// async-preempt samples, p99 and cgo call rate, and one interrupted
// function.
func window(seq int, asyncSamples int64, p99, cgoRate float64, fn string) api.WindowReport {
	const n = 1000
	r := analysis.Report{
		Schema: analysis.Schema, Samples: n, CPUSeconds: n * 0.01,
		Buckets: map[analysis.Bucket]analysis.BucketStat{},
	}
	r.Buckets[analysis.BucketAsyncPreempt] = analysis.BucketStat{Samples: asyncSamples, CPUSeconds: float64(asyncSamples) * 0.01, Share: float64(asyncSamples) / n}
	r.Buckets[analysis.BucketGo] = analysis.BucketStat{Samples: n - asyncSamples, Share: float64(n-asyncSamples) / n}
	r.Shares.AsyncPreempt = float64(asyncSamples) / n
	if fn != "" && asyncSamples > 0 {
		r.TopPreempted = []analysis.FuncStat{{Function: fn, File: "main.go", Line: 7, Samples: asyncSamples, Share: float64(asyncSamples) / n}}
	}
	return api.WindowReport{
		Report: r, WindowSchema: api.WindowSchema, Seq: uint64(seq),
		Start: t0.Add(time.Duration(seq) * 10 * time.Second), End: t0.Add(time.Duration(seq+1) * 10 * time.Second),
		Source: "periodic",
		Context: api.Context{
			GoVersion: "go1.26.8", GOMAXPROCS: 2,
			SchedLatency:      &api.Latency{Count: 500, P50: p99 / 10, P99: p99},
			CgoCallsPerSecond: &cgoRate,
		},
	}
}

func side(name string, ws ...api.WindowReport) Side {
	s := Side{Input: name, Source: "agent history"}
	for i := range ws {
		s.Replicates = append(s.Replicates, FromWindow(&ws[i]))
	}
	return s
}

func figure(t *testing.T, d *Document, name string) Result {
	t.Helper()
	for _, r := range d.Figures {
		if r.Figure == name {
			return r
		}
	}
	t.Fatalf("no figure %s", name)
	return Result{}
}

func TestVerdicts(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	jitter := func(v float64) float64 { return v * (1 + 0.05*(rng.Float64()-0.5)) }
	var before, after []api.WindowReport
	for i := range 8 {
		before = append(before, window(i, 30+int64(rng.IntN(5)), jitter(0.020), jitter(5000), "main.loop"))
		after = append(after, window(100+i, 5+int64(rng.IntN(3)), jitter(0.020), jitter(500000), "main.loop"))
	}
	d := Compare(side("a", before...), side("b", after...), Options{})
	if d.Schema != Schema || d.Design != DesignSequential || d.Before.Windows != 8 {
		t.Fatalf("document header: %+v", d)
	}
	ap := figure(t, d, FigAsyncPreempt)
	if ap.Verdict != VerdictBetter || ap.Test != TestWelch || ap.Approximate || *ap.High >= 0 {
		t.Errorf("async_preempt: %+v, want better by Welch, interval below 0", ap)
	}
	if r := figure(t, d, FigCgoCallsPerSec); r.Verdict != VerdictWorse {
		t.Errorf("cgo calls/s up 100×: verdict %s, want worse", r.Verdict)
	}
	if r := figure(t, d, FigSchedLatencyP99); r.Verdict != VerdictNoChange {
		t.Errorf("p99 unchanged but for jitter: verdict %s (p %v, adjusted %v), want no change", r.Verdict, *r.P, *r.PAdjusted)
	}
	if r := figure(t, d, FigThrottledShare); r.Verdict != VerdictUntested || r.Note != "unavailable on both sides" {
		t.Errorf("throttling without a cgroup: %+v, want untested, unavailable", r)
	}
	if r := figure(t, d, FigCgoC); r.Verdict != VerdictNoChange || r.Test != "" || *r.Difference != 0 {
		t.Errorf("no cgo on either side: %+v, want no change, untested, not counted", r)
	}
	// Tested: async_preempt, both latencies, the cgo call rate and main.loop;
	// the other shares are 0 throughout, throttling and run-queue wait
	// missing.
	if d.Tested != 5 {
		t.Errorf("tested %d figures and functions, want 5", d.Tested)
	}
	if len(d.Interrupted) != 1 || d.Interrupted[0].Status != StatusShrank || d.Interrupted[0].Verdict != VerdictBetter {
		t.Errorf("interrupted: %+v, want main.loop shrank, better", d.Interrupted)
	}
	// The reverse comparison mirrors it.
	r := Compare(side("b", after...), side("a", before...), Options{})
	if v := figure(t, r, FigAsyncPreempt).Verdict; v != VerdictWorse {
		t.Errorf("reversed async_preempt: %s, want worse", v)
	}
}

func TestCgoCShareHasNoBetterDirection(t *testing.T) {
	mk := func(seq int, c int64) api.WindowReport {
		w := window(seq, 0, 0.001, 1, "")
		w.Buckets[analysis.BucketCgoC] = analysis.BucketStat{Samples: c, Share: float64(c) / 1000}
		return w
	}
	d := Compare(side("a", mk(1, 100), mk(2, 102), mk(3, 98)), side("b", mk(4, 300), mk(5, 305), mk(6, 297)), Options{})
	if v := figure(t, d, FigCgoC).Verdict; v != VerdictHigher {
		t.Errorf("cgo_c up: %s, want higher", v)
	}
}

func TestOneWindowASide(t *testing.T) {
	d := Compare(side("a", window(1, 10, 0.01, 100, "f")), side("b", window(2, 60, 0.01, 100, "f")), Options{})
	ap := figure(t, d, FigAsyncPreempt)
	// The interval excludes 0 by far, but an interval on clustered samples
	// judges nothing.
	if ap.Test != TestNewcombe || !ap.Approximate || ap.Verdict != VerdictUntested || *ap.Low <= 0 || ap.PAdjusted != nil {
		t.Errorf("one window a side, 1 %% → 6 %% of 1,000 samples: %+v, want an approximate Newcombe interval above 0, no verdict", ap)
	}
	if d.Tested != 0 {
		t.Errorf("tested %d, want 0: nothing is judged with one window a side", d.Tested)
	}
	if r := figure(t, d, FigSchedLatencyP99); r.Verdict != VerdictUntested || r.Test != "" {
		t.Errorf("latency with one window a side: %+v, want untested", r)
	}
	if len(d.Notes) == 0 {
		t.Errorf("no note about the single windows")
	}
}

func TestFunctionStatuses(t *testing.T) {
	var before, after []api.WindowReport
	for i := range 4 {
		before = append(before, window(i, 40+int64(i), 0.01, 1, "main.old"))
		after = append(after, window(10+i, 40+int64(i), 0.01, 1, "main.new"))
	}
	d := Compare(side("a", before...), side("b", after...), Options{})
	got := map[string]string{}
	for _, f := range d.Interrupted {
		got[f.Function] = f.Status + "/" + f.Verdict
	}
	if got["main.old"] != StatusVanished+"/"+VerdictBetter || got["main.new"] != StatusAppeared+"/"+VerdictWorse {
		t.Errorf("statuses: %v", got)
	}
	if v := figure(t, d, FigAsyncPreempt).Verdict; v != VerdictNoChange {
		t.Errorf("same share, other function: %s, want no change", v)
	}
}

// TestHolmGuardsTheFamily: a p-value below 0.05 that does not survive the
// adjustment gives no verdict, though its own interval excludes 0.
func TestHolmGuardsTheFamily(t *testing.T) {
	all := []*Result{
		{Test: TestWelch, P: ptr(0.03), Difference: ptr(1.0), higherIsWorse: true},
		{Test: TestWelch, P: ptr(0.5), Difference: ptr(1.0), higherIsWorse: true},
		{Test: TestWelch, P: ptr(0.001), Difference: ptr(-1.0), higherIsWorse: true},
		{Difference: ptr(1.0)},
	}
	judge(all)
	want := []string{VerdictNoChange, VerdictNoChange, VerdictBetter, VerdictUntested}
	for i, r := range all {
		if r.Verdict != want[i] {
			t.Errorf("result %d: %s, want %s", i, r.Verdict, want[i])
		}
	}
}

func TestDesign(t *testing.T) {
	a := side("a", window(1, 1, 0, 0, ""), window(2, 1, 0, 0, ""))
	b := side("b", window(1, 1, 0, 0, ""), window(2, 1, 0, 0, ""))
	if d := Compare(a, b, Options{}); d.Design != DesignSameSpan {
		t.Errorf("same windows' times: %s", d.Design)
	}
	b.Replicates = append(b.Replicates, FromReport("file.pb.gz", &analysis.Report{}))
	if d := Compare(a, b, Options{}); d.Design != DesignUnknown {
		t.Errorf("a replicate without times: %s", d.Design)
	}
}

// TestHugeValuesAreNotTested: rates near the float limit overflow any
// spread; the figure is then untested, and the document still encodes.
func TestHugeValuesAreNotTested(t *testing.T) {
	var before, after []api.WindowReport
	for i := range 3 {
		before = append(before, window(i, 1, 0.01, 1e308*float64(i%2), ""))
		after = append(after, window(10+i, 1, 0.01, 1.7e308, ""))
	}
	d := Compare(side("a", before...), side("b", after...), Options{})
	if r := figure(t, d, FigCgoCallsPerSec); r.Verdict != VerdictUntested || r.Note != "values too large to test" {
		t.Errorf("huge rates: %+v", r)
	}
	if _, err := json.Marshal(d); err != nil {
		t.Errorf("the document does not encode: %v", err)
	}
}

// TestConstantSidesUseTheCounts: shares constant on each side but not
// alike (0 of 200 samples in every before window, 1 of 200 in every after
// one) are compared on their sample counts, not called certain.
func TestConstantSidesUseTheCounts(t *testing.T) {
	mk := func(seq int, async int64) api.WindowReport {
		w := window(seq, async, 0.01, 1, "")
		w.Samples, w.CPUSeconds = 200, 2
		w.Buckets[analysis.BucketAsyncPreempt] = analysis.BucketStat{Samples: async, Share: float64(async) / 200}
		return w
	}
	d := Compare(side("a", mk(1, 0), mk(2, 0), mk(3, 0)), side("b", mk(4, 1), mk(5, 1), mk(6, 1)), Options{})
	r := figure(t, d, FigAsyncPreempt)
	if r.Test != TestNewcombe || !r.Approximate || r.Verdict != VerdictUntested || *r.P < 0.05 {
		t.Errorf("0/600 vs 3/600: %+v (p %v), want an approximate Newcombe interval, no verdict", r, *r.P)
	}
}

// TestSameSpanPairsTheWindows: a canary and its baseline sampled over the
// same span are compared window by window, so that a load change hitting
// both cancels: here every window's share moves a lot with the load, and
// the canary's is always 0.5 pp above the baseline's.
// TestSameSpanPairsAcrossAGap: one side skipped three windows (an agent
// gathering loop evidence on a busy machine); the other side's windows in
// that gap are left out, and the rest stay paired. Windows that do not line
// up (5 s against 10 s) are still compared unpaired.
func TestSameSpanPairsAcrossAGap(t *testing.T) {
	var base, canary []api.WindowReport
	for i, load := range []int64{10, 60, 20, 80, 30, 50, 40, 70, 20, 60} {
		base = append(base, window(i, load, 0.01, 1, ""))
		if i < 3 || i > 5 {
			canary = append(canary, window(i, load+5, 0.01, 1, ""))
		}
	}
	d := Compare(side("base", base...), side("canary", canary...), Options{})
	if r := figure(t, d, FigAsyncPreempt); d.Paired != 7 || r.Test != TestPaired || r.Verdict != VerdictWorse {
		t.Errorf("a 30 s gap in one side: %d pairs, %s, %s; want 7 pairs, paired, worse", d.Paired, r.Test, r.Verdict)
	}
	// Half as long windows on one side: each 10 s window overlaps two.
	var halves []api.WindowReport
	for i := range 2 * len(base) {
		w := window(i, 15, 0.01, 1, "")
		w.Start, w.End = t0.Add(time.Duration(i)*5*time.Second), t0.Add(time.Duration(i+1)*5*time.Second)
		halves = append(halves, w)
	}
	d = Compare(side("base", base...), side("halves", halves...), Options{})
	if r := figure(t, d, FigAsyncPreempt); d.Paired != 0 || r.Test != TestWelch {
		t.Errorf("10 s against 5 s windows: %d pairs, %s; want unpaired, Welch", d.Paired, r.Test)
	}
}

func TestSameSpanPairsTheWindows(t *testing.T) {
	var base, canary []api.WindowReport
	for i, load := range []int64{10, 60, 20, 80, 30, 50} {
		base = append(base, window(i, load, 0.01, 1, ""))
		canary = append(canary, window(i, load+5, 0.01, 1, ""))
	}
	d := Compare(side("base", base...), side("canary", canary...), Options{})
	r := figure(t, d, FigAsyncPreempt)
	if d.Design != DesignSameSpan || d.Paired != 6 || r.Test != TestPaired || r.Pairs != 6 || r.Verdict != VerdictNoChange && r.Verdict != VerdictWorse {
		t.Fatalf("design %s, %d pairs, %+v; want the same span, 6 pairs, a paired test", d.Design, d.Paired, r)
	}
	if r.Verdict != VerdictWorse || *r.Low < 0.0049 || *r.High > 0.0051 {
		t.Errorf("paired: %s [%g, %g], want worse, exactly +0.5 pp", r.Verdict, *r.Low, *r.High)
	}
	// Unpaired, the load's spread hides the same difference.
	for i := range canary {
		canary[i].Start = canary[i].Start.Add(time.Hour)
		canary[i].End = canary[i].End.Add(time.Hour)
	}
	d = Compare(side("base", base...), side("canary", canary...), Options{})
	if r := figure(t, d, FigAsyncPreempt); d.Paired != 0 || r.Test != TestWelch || r.Verdict != VerdictNoChange {
		t.Errorf("an hour apart: %d pairs, %+v; want Welch, no significant change", d.Paired, r)
	}
}

// TestPairInTimeSearchesAsOneByOne: on histories with jittered starts,
// varied lengths, gaps and (for some) windows out of order, the binary
// search pairs exactly as comparing every window with every other.
func TestPairInTimeSearchesAsOneByOne(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	hist := func(n int, shuffle bool) []Replicate {
		var rs []Replicate
		at := t0.Add(time.Duration(r.IntN(3000)) * time.Millisecond)
		for range n {
			at = at.Add(time.Duration(r.IntN(200)) * time.Millisecond) // a small gap
			if r.IntN(10) == 0 {
				at = at.Add(time.Duration(r.IntN(5000)) * time.Millisecond) // a larger one
			}
			d := time.Duration(500+r.IntN(2000)) * time.Millisecond
			rs = append(rs, Replicate{Start: at, End: at.Add(d)})
			at = at.Add(d)
		}
		if shuffle {
			r.Shuffle(len(rs), func(i, j int) { rs[i], rs[j] = rs[j], rs[i] })
		}
		return rs
	}
	paired := 0
	for i := range 500 {
		b, a := hist(1+r.IntN(30), i%7 == 0), hist(1+r.IntN(30), i%5 == 0)
		got, want := pairInTime(b, a), pairWindowsIn(b, a, false)
		if !slices.Equal(got, want) {
			t.Fatalf("case %d: pairs %v, one by one %v", i, got, want)
		}
		if got != nil {
			paired++
		}
	}
	if paired < 50 {
		t.Errorf("only %d of 500 cases paired: the cases do not exercise the pairing", paired)
	}
}
