package compare

import (
	"fmt"
	"slices"
	"sort"
	"time"
)

// Verdicts.
const (
	VerdictBetter   = "better"
	VerdictWorse    = "worse"
	VerdictHigher   = "higher" // significant, for a figure without a better direction
	VerdictLower    = "lower"
	VerdictNoChange = "no_significant_change"
	VerdictUntested = "untested"
)

// Function statuses.
const (
	StatusAppeared = "appeared" // in no before window, in some after window
	StatusVanished = "vanished"
	StatusGrew     = "grew"
	StatusShrank   = "shrank"
	StatusSame     = "same"
)

// Designs: how the two sides relate in time.
const (
	// DesignSameSpan: the sides were sampled over the same wall-clock span
	// (a canary and its baseline), so a load change hits both.
	DesignSameSpan = "same_span"
	// DesignSequential: one side ran before the other; a load change
	// between them shows as a difference.
	DesignSequential = "sequential"
	// DesignUnknown: a side has no times (saved profiles).
	DesignUnknown = "unknown"
)

// DefaultTop is how many functions of each kind a comparison lists.
const DefaultTop = 5

// Side is one side of a comparison.
type Side struct {
	// Input names where it came from, as the user gave it.
	Input string
	// Source says what it was: "agent history", "profiles", …
	Source string
	// Replicates are its windows, oldest first.
	Replicates []Replicate
	// Notes are said about this side in the document.
	Notes []string
}

// Options tune Compare.
type Options struct {
	// Top bounds the functions of each kind listed (DefaultTop when 0;
	// negative lists none).
	Top int
}

// Document is the result of a comparison, diagctl compare's JSON.
type Document struct {
	Schema string      `json:"schema"`
	Before SideSummary `json:"before"`
	After  SideSummary `json:"after"`
	// Design is one of the Design* constants.
	Design string `json:"design"`
	// Paired is how many windows of the sides were paired in time (same
	// span only); figures with that many pairs use TestPaired.
	Paired int `json:"paired,omitempty"`
	// Confidence is the level of every interval (0.95); Adjustment the
	// multiple-comparison method of the verdicts ("holm"), over Tested
	// results.
	Confidence float64 `json:"confidence"`
	Adjustment string  `json:"adjustment"`
	Tested     int     `json:"tested"`
	// Figures has one result per figure, in Figures order.
	Figures []Result `json:"figures"`
	// Interrupted are the functions async preemption interrupted, and
	// CgoCallSites the Go call sites of cgo calls: the union of both sides'
	// top functions, most CPU first.
	Interrupted  []FuncResult `json:"interrupted"`
	CgoCallSites []FuncResult `json:"cgo_call_sites"`
	// Methods describes each test used, for a reader to check.
	Methods map[string]string `json:"methods"`
	Notes   []string          `json:"notes,omitempty"`
	// FailOn is what --fail-on rules found, when any were given.
	FailOn []RuleResult `json:"fail_on,omitempty"`
}

// SideSummary describes one side.
type SideSummary struct {
	Input   string `json:"input"`
	Source  string `json:"source"`
	Windows int    `json:"windows"`
	// Start and End bound the windows, when their times are known.
	Start      *time.Time `json:"start,omitempty"`
	End        *time.Time `json:"end,omitempty"`
	Samples    int64      `json:"samples"`
	CPUSeconds float64    `json:"cpu_seconds"`
	// GOMAXPROCS, GoVersions and CgroupCPULimits are the distinct values
	// the windows reported, when they did.
	GOMAXPROCS      []int     `json:"gomaxprocs,omitempty"`
	GoVersions      []string  `json:"go_versions,omitempty"`
	CgroupCPULimits []float64 `json:"cgroup_cpu_limits,omitempty"`
	Notes           []string  `json:"notes,omitempty"`
}

// Result is one figure's comparison. Pointers are nil when a side lacks the
// figure or it was not tested.
type Result struct {
	Figure string `json:"figure"`
	Label  string `json:"label"`
	Unit   string `json:"unit"`
	// Before and After are the sides' means over the windows that had the
	// figure (NBefore, NAfter of them); with one window a side and sample
	// counts, the pooled proportion.
	Before  *float64 `json:"before"`
	After   *float64 `json:"after"`
	NBefore int      `json:"n_before"`
	NAfter  int      `json:"n_after"`
	// Difference is After − Before, with its 95 % interval.
	Difference *float64 `json:"difference"`
	Low        *float64 `json:"ci_low"`
	High       *float64 `json:"ci_high"`
	// Relative is Difference / Before, when Before is not 0.
	Relative *float64 `json:"relative,omitempty"`
	// P is the test's two-sided p-value; PAdjusted is Holm's.
	P         *float64 `json:"p"`
	PAdjusted *float64 `json:"p_adjusted"`
	// Test is TestWelch, TestNewcombe, or "" when untested.
	Test string `json:"test,omitempty"`
	// DF is the t-test's degrees of freedom.
	DF float64 `json:"df,omitempty"`
	// Pairs is how many pairs of windows TestPaired used.
	Pairs int `json:"pairs,omitempty"`
	// Approximate is set when the interval rests on assumptions the data
	// is known to break (TestNewcombe).
	Approximate bool   `json:"approximate,omitempty"`
	Verdict     string `json:"verdict"`
	Note        string `json:"note,omitempty"`

	higherIsWorse bool
	same          bool // the same value in every window on both sides
}

// FuncResult is one function's comparison: its share of CPU on each side.
type FuncResult struct {
	Function  string `json:"function"`
	CFunction string `json:"c_function,omitempty"`
	File      string `json:"file,omitempty"`
	Line      int64  `json:"line,omitempty"`
	// Status is one of the Status* constants, from the point estimates.
	Status string `json:"status"`
	Result
}

// Methods describe the tests, for Document.Methods.
var Methods = map[string]string{
	TestPaired: "paired t-test on the differences of windows paired in time (the sides sampled over the same span): " +
		"a change of load that hits both sides cancels, and one they share unequally widens the interval; " +
		"assumes the pairs are independent (a drift across the pairs breaks it)",
	TestWelch: "Welch's t-test on per-window values: each window is one observation; " +
		"assumes the windows are independent and their mean roughly normal (a drift within a side breaks it)",
	TestNewcombe: "Newcombe's hybrid score interval on sample counts, pooled z-test p-value: " +
		"treats samples as independent, which samples of one profile are not, so the interval is approximate and too narrow, and gives no verdict",
	"holm": "a verdict needs the p-value, adjusted by Holm's method over every figure and function tested, below 0.05",
}

// Compare compares after against before.
func Compare(before, after Side, opts Options) *Document {
	top := opts.Top
	if top == 0 {
		top = DefaultTop
	}
	doc := &Document{
		Schema:     Schema,
		Before:     summarize(before),
		After:      summarize(after),
		Design:     design(before.Replicates, after.Replicates),
		Confidence: confidence,
		Adjustment: "holm",
		Methods:    Methods,
	}
	var pairs []windowPair
	if doc.Design == DesignSameSpan {
		pairs = pairInTime(before.Replicates, after.Replicates)
	}
	doc.Paired = len(pairs)
	for _, f := range Figures {
		doc.Figures = append(doc.Figures, compareFigure(f, before.Replicates, after.Replicates, pairs))
	}
	if top > 0 {
		doc.Interrupted = compareFuncs(before.Replicates, after.Replicates, pairs, top, true,
			func(r *Replicate) []Func { return r.Interrupted })
		doc.CgoCallSites = compareFuncs(before.Replicates, after.Replicates, pairs, top, false,
			func(r *Replicate) []Func { return r.CgoSites })
	}
	var all []*Result
	for i := range doc.Figures {
		all = append(all, &doc.Figures[i])
	}
	for i := range doc.Interrupted {
		all = append(all, &doc.Interrupted[i].Result)
	}
	for i := range doc.CgoCallSites {
		all = append(all, &doc.CgoCallSites[i].Result)
	}
	judge(all)
	for _, r := range all {
		if r.PAdjusted != nil {
			doc.Tested++
		}
	}
	doc.Notes = notes(doc)
	return doc
}

// judge sets every tested result's adjusted p-value and verdict.
func judge(all []*Result) {
	var tested []*Result
	var ps []float64
	for _, r := range all {
		if r.Test == "" {
			r.Verdict = VerdictUntested
			if r.same {
				r.Verdict = VerdictNoChange
			}
			continue
		}
		if r.Approximate {
			// Samples of one profile come in clusters (a thread in a long
			// call is in it for every sample), so an interval on sample
			// counts is too narrow: on two profiles of one program that
			// differ by sampling alone it called 14 of 15 figures
			// significant. It is shown, marked, but judges nothing.
			r.Verdict = VerdictUntested
			continue
		}
		tested = append(tested, r)
		ps = append(ps, *r.P)
	}
	for i, adj := range holm(ps) {
		r := tested[i]
		r.PAdjusted = ptr(adj)
		switch {
		case adj >= 1-confidence || *r.Difference == 0:
			r.Verdict = VerdictNoChange
		case r.higherIsWorse && *r.Difference > 0:
			r.Verdict = VerdictWorse
		case r.higherIsWorse:
			r.Verdict = VerdictBetter
		case *r.Difference > 0:
			r.Verdict = VerdictHigher
		default:
			r.Verdict = VerdictLower
		}
	}
}

// series is one figure's values over the windows that have it, and its
// sample counts when it is a share.
type series struct {
	values         []float64
	counts, totals []int64
	// at is the replicate each value comes from.
	at []int
}

func (s *series) add(at int, v float64, count, total int64, hasCount bool) {
	s.values = append(s.values, v)
	s.at = append(s.at, at)
	if hasCount {
		s.counts = append(s.counts, count)
		s.totals = append(s.totals, total)
	}
}

func (s *series) pooled() (x, n float64, ok bool) {
	if len(s.counts) == 0 || len(s.counts) != len(s.values) {
		return 0, 0, false
	}
	for i := range s.counts {
		x += float64(s.counts[i])
		n += float64(s.totals[i])
	}
	return x, n, n > 0
}

func seriesOf(reps []Replicate, name string) series {
	var s series
	for i := range reps {
		v, ok := reps[i].Values[name]
		if !ok {
			continue
		}
		n, hasCount := reps[i].Counts[name]
		s.add(i, v, n, reps[i].Samples, hasCount)
	}
	return s
}

func compareFigure(f Figure, before, after []Replicate, pairs []windowPair) Result {
	r := Result{Figure: f.Name, Label: f.Label, Unit: f.Unit, higherIsWorse: f.HigherIsWorse}
	test(&r, seriesOf(before, f.Name), seriesOf(after, f.Name), pairs)
	return r
}

// windowPair is a before window and the after window it ran beside.
type windowPair struct{ b, a int }

// pairInTime pairs the windows of two sides sampled over the same span:
// each before window with the after window that overlaps it most, by at
// least half the shorter one, one to one. It returns nil unless there are
// two pairs or more and they hold at least 80 % of each side's windows
// that overlap the other side's so (pairable): two histories whose windows
// do not line up are compared unpaired, but a gap in one (an agent that
// skipped a few seconds of windows while it gathered loop evidence on a
// busy machine) leaves the other's windows in the gap out of the pairs and
// of the 80 %, instead of unpairing the whole comparison.
//
// Over an agent's history, whose windows follow each other, the after
// windows a before window can overlap are a run found by binary search:
// two histories of 10,000 windows took 3.7 s to pair one by one, and
// MaxHistory allows 100,000. Windows out of order (profiles in a
// directory) are paired one by one.
func pairInTime(before, after []Replicate) []windowPair {
	return pairWindowsIn(before, after, inSequence(after))
}

// pairWindowsIn is pairInTime, trying for each before window only the run
// of after windows a binary search finds when search is set (after must
// then be inSequence), every after window otherwise.
func pairWindowsIn(before, after []Replicate, search bool) []windowPair {
	var pairs []windowPair
	used := make([]bool, len(after))
	pairableAfter := make([]bool, len(after))
	nBefore, nAfter := 0, 0 // windows that pair with one of the other side's
	for i, b := range before {
		best, bestOverlap := -1, time.Duration(0)
		pairable := false
		lo, hi := 0, len(after)
		if search {
			lo = sort.Search(len(after), func(j int) bool { return after[j].End.After(b.Start) })
			hi = sort.Search(len(after), func(j int) bool { return !after[j].Start.Before(b.End) })
		}
		for j := lo; j < hi; j++ {
			if !pairsWith(b, after[j]) {
				continue
			}
			pairable = true
			if !pairableAfter[j] {
				pairableAfter[j] = true
				nAfter++
			}
			if overlap := overlapOf(b, after[j]); !used[j] && overlap > bestOverlap {
				best, bestOverlap = j, overlap
			}
		}
		if pairable {
			nBefore++
		}
		if best >= 0 {
			used[best] = true
			pairs = append(pairs, windowPair{i, best})
		}
	}
	if len(pairs) < 2 || len(pairs)*5 < nBefore*4 || len(pairs)*5 < nAfter*4 {
		return nil
	}
	return pairs
}

// inSequence reports whether rs's starts and ends both never decrease, as
// an agent's windows do: then the windows overlapping any span are a run.
func inSequence(rs []Replicate) bool {
	for i := 1; i < len(rs); i++ {
		if rs[i].Start.Before(rs[i-1].Start) || rs[i].End.Before(rs[i-1].End) {
			return false
		}
	}
	return true
}

// overlapOf is how long windows a and b overlap (negative when apart).
func overlapOf(a, b Replicate) time.Duration {
	return minTime(a.End, b.End).Sub(maxTime(a.Start, b.Start))
}

// pairsWith reports whether a and b overlap by at least half the shorter.
func pairsWith(a, b Replicate) bool {
	overlap := overlapOf(a, b)
	return overlap > 0 && overlap*2 >= min(a.End.Sub(a.Start), b.End.Sub(b.Start))
}

// paired returns the differences after − before of the pairs where both
// windows have a value.
func paired(b, a series, pairs []windowPair) []float64 {
	bv, av := map[int]float64{}, map[int]float64{}
	for i, at := range b.at {
		bv[at] = b.values[i]
	}
	for i, at := range a.at {
		av[at] = a.values[i]
	}
	var d []float64
	for _, p := range pairs {
		x, okb := bv[p.b]
		y, oka := av[p.a]
		if okb && oka {
			d = append(d, y-x)
		}
	}
	return d
}

// test fills r from the two series; pairs, when not nil, pair their
// windows in time.
func test(r *Result, b, a series, pairs []windowPair) {
	r.NBefore, r.NAfter = len(b.values), len(a.values)
	if r.NBefore > 0 {
		r.Before = ptr(average(b.values))
	}
	if r.NAfter > 0 {
		r.After = ptr(average(a.values))
	}
	switch {
	case r.NBefore == 0 && r.NAfter == 0:
		r.Note = "unavailable on both sides"
		return
	case r.NBefore == 0:
		r.Note = "unavailable before"
		return
	case r.NAfter == 0:
		r.Note = "unavailable after"
		return
	}
	if r.NBefore >= 2 && r.NAfter >= 2 && allEqual(b.values) && allEqual(a.values) && b.values[0] == a.values[0] {
		// The same value in every window of both sides (typically 0: no
		// cgo at all): nothing to test, and no test to count in Holm's
		// adjustment.
		r.Difference, r.same = ptr(0.0), true
		r.Note = "the same in every window on both sides"
		return
	}
	var e estimate
	xb, nb, okb := b.pooled()
	xa, na, oka := a.pooled()
	noSpread := allEqual(b.values) && allEqual(a.values) // and not the same value: see above
	d := paired(b, a, pairs)                             // none without pairs
	switch {
	case r.NBefore >= 2 && r.NAfter >= 2 && noSpread && okb && oka:
		// Each side constant, but not alike: Welch would call that
		// certain (no spread, p 0), though a share quantized by few
		// samples a window (0 of 200 in each, then 1 of 200 in each) can
		// be constant by chance. The sample counts say how sure to be.
		e = newcombe(xb, nb, xa, na)
		r.Test, r.Approximate = TestNewcombe, true
		r.Before, r.After = ptr(xb/nb), ptr(xa/na)
		r.Note = "no spread within either side: an approximate interval on sample counts, no verdict"
	case r.NBefore >= 2 && r.NAfter >= 2 && len(d) >= 2 && len(d)*5 >= min(r.NBefore, r.NAfter)*4:
		e = pairedT(d)
		r.Test, r.DF, r.Pairs = TestPaired, e.df, len(d)
	case r.NBefore >= 2 && r.NAfter >= 2:
		e = welch(b.values, a.values)
		r.Test, r.DF = TestWelch, e.df
	case okb:
		if !oka {
			r.Note = "one window a side and no sample counts: not tested"
			r.Difference = ptr(*r.After - *r.Before)
			return
		}
		e = newcombe(xb, nb, xa, na)
		r.Test, r.Approximate = TestNewcombe, true
		r.Before, r.After = ptr(xb/nb), ptr(xa/na)
		r.Note = "one window on a side: an approximate interval on sample counts, no verdict"
	default:
		r.Note = "one window on a side: no test for a figure without sample counts"
		r.Difference = ptr(*r.After - *r.Before)
		return
	}
	if !finite(e.diff) || !finite(e.low) || !finite(e.high) || !finite(*r.Before) || !finite(*r.After) {
		// Values so large that their spread overflows: no test is honest.
		r.Test, r.DF, r.Approximate = "", 0, false
		r.Note = "values too large to test"
		return
	}
	r.Difference, r.Low, r.High, r.P = ptr(e.diff), ptr(e.low), ptr(e.high), ptr(e.p)
	if *r.Before != 0 {
		r.Relative = ptr(e.diff / *r.Before)
	}
}

// compareFuncs compares the functions of the sides' top lists: the top of
// their union by the larger of the two means. A function missing from a
// window's top list counts as 0 there.
func compareFuncs(before, after []Replicate, pairs []windowPair, top int, higherIsWorse bool, list func(*Replicate) []Func) []FuncResult {
	type info struct {
		fn         Func
		sumB, sumA float64
		inB, inA   bool
	}
	byKey := map[string]*info{}
	var order []string
	visit := func(reps []Replicate, isBefore bool) {
		for i := range reps {
			if !reps[i].hasShares() {
				continue
			}
			for _, f := range list(&reps[i]) {
				k := f.key()
				in := byKey[k]
				if in == nil {
					in = &info{fn: f}
					byKey[k] = in
					order = append(order, k)
				}
				if isBefore {
					in.sumB += f.Share
					in.inB = true
				} else {
					in.sumA += f.Share
					in.inA = true
					in.fn.File, in.fn.Line = f.File, f.Line // the line the latest after window names
				}
			}
		}
	}
	visit(before, true)
	visit(after, false)
	nb, na := withSamples(before), withSamples(after)
	weight := func(in *info) float64 {
		return max(in.sumB/float64(max(nb, 1)), in.sumA/float64(max(na, 1)))
	}
	sort.SliceStable(order, func(i, j int) bool {
		wi, wj := weight(byKey[order[i]]), weight(byKey[order[j]])
		if wi != wj {
			return wi > wj
		}
		return order[i] < order[j]
	})
	if len(order) > top {
		order = order[:top]
	}
	out := []FuncResult{}
	for _, k := range order {
		in := byKey[k]
		fr := FuncResult{Function: in.fn.Function, CFunction: in.fn.CFunction, File: in.fn.File, Line: in.fn.Line}
		fr.Figure, fr.Label, fr.Unit, fr.higherIsWorse = k, k, UnitShare, higherIsWorse
		test(&fr.Result, funcSeries(before, k, list), funcSeries(after, k, list), pairs)
		switch {
		case !in.inB:
			fr.Status = StatusAppeared
		case !in.inA:
			fr.Status = StatusVanished
		case fr.Difference != nil && *fr.Difference > 0:
			fr.Status = StatusGrew
		case fr.Difference != nil && *fr.Difference < 0:
			fr.Status = StatusShrank
		default:
			fr.Status = StatusSame
		}
		out = append(out, fr)
	}
	return out
}

func withSamples(reps []Replicate) int {
	n := 0
	for i := range reps {
		if reps[i].Samples > 0 {
			n++
		}
	}
	return n
}

func funcSeries(reps []Replicate, key string, list func(*Replicate) []Func) series {
	var s series
	for i := range reps {
		if !reps[i].hasShares() {
			continue
		}
		var share float64
		var n int64
		for _, f := range list(&reps[i]) {
			if f.key() == key {
				share += f.Share
				n += f.Samples
			}
		}
		s.add(i, share, n, reps[i].Samples, true)
	}
	return s
}

func summarize(s Side) SideSummary {
	sum := SideSummary{Input: s.Input, Source: s.Source, Windows: len(s.Replicates), Notes: s.Notes}
	for i := range s.Replicates {
		r := &s.Replicates[i]
		sum.Samples += r.Samples
		sum.CPUSeconds += r.CPUSeconds
		if !r.Start.IsZero() && (sum.Start == nil || r.Start.Before(*sum.Start)) {
			sum.Start = ptr(r.Start)
		}
		if !r.End.IsZero() && (sum.End == nil || r.End.After(*sum.End)) {
			sum.End = ptr(r.End)
		}
		if r.GOMAXPROCS > 0 && !slices.Contains(sum.GOMAXPROCS, r.GOMAXPROCS) {
			sum.GOMAXPROCS = append(sum.GOMAXPROCS, r.GOMAXPROCS)
		}
		if r.GoVersion != "" && !slices.Contains(sum.GoVersions, r.GoVersion) {
			sum.GoVersions = append(sum.GoVersions, r.GoVersion)
		}
		if r.CgroupCPULimit != nil && !slices.Contains(sum.CgroupCPULimits, *r.CgroupCPULimit) {
			sum.CgroupCPULimits = append(sum.CgroupCPULimits, *r.CgroupCPULimit)
		}
	}
	return sum
}

// design tells how the sides relate in time: the same span when their spans
// overlap by at least half the shorter one.
func design(before, after []Replicate) string {
	bs, be, okb := span(before)
	as, ae, oka := span(after)
	if !okb || !oka {
		return DesignUnknown
	}
	overlap := minTime(be, ae).Sub(maxTime(bs, as))
	shorter := min(be.Sub(bs), ae.Sub(as))
	if overlap > 0 && overlap*2 >= shorter {
		return DesignSameSpan
	}
	return DesignSequential
}

func span(reps []Replicate) (start, end time.Time, ok bool) {
	for i := range reps {
		if reps[i].Start.IsZero() || reps[i].End.IsZero() {
			return time.Time{}, time.Time{}, false
		}
		if start.IsZero() || reps[i].Start.Before(start) {
			start = reps[i].Start
		}
		if reps[i].End.After(end) {
			end = reps[i].End
		}
	}
	return start, end, len(reps) > 0
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func notes(doc *Document) []string {
	var out []string
	if doc.Before.Windows < 2 || doc.After.Windows < 2 {
		out = append(out, "a side has one window: shares get an approximate interval on sample counts but no verdict, and other figures are not tested; "+
			"give several windows a side (an agent's history, a directory of profiles, or live targets) for windows as replicates")
	}
	if doc.Design == DesignSequential {
		out = append(out, "the sides ran at different times: a change of load between them shows as a difference too")
	}
	if g := doc.Before.GOMAXPROCS; len(g) == 1 && len(doc.After.GOMAXPROCS) == 1 && g[0] != doc.After.GOMAXPROCS[0] {
		out = append(out, fmt.Sprintf("GOMAXPROCS differs: %d before, %d after", g[0], doc.After.GOMAXPROCS[0]))
	}
	if len(doc.Before.GoVersions) == 1 && len(doc.After.GoVersions) == 1 && doc.Before.GoVersions[0] != doc.After.GoVersions[0] {
		out = append(out, fmt.Sprintf("Go version differs: %s before, %s after", doc.Before.GoVersions[0], doc.After.GoVersions[0]))
	}
	return out
}

func average(xs []float64) float64 {
	if allEqual(xs) {
		return xs[0]
	}
	// A running mean: a sum of huge values would overflow.
	var m float64
	for i, x := range xs {
		m += (x - m) / float64(i+1)
	}
	return m
}

func ptr[T any](v T) *T { return &v }
