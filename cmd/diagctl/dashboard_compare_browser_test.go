package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/diagkit/diagkit/diag"
	"github.com/diagkit/diagkit/diag/analysis"
	"github.com/diagkit/diagkit/diag/api"
	"github.com/diagkit/diagkit/diag/dashboard"
	"github.com/diagkit/diagkit/internal/compare"
)

// cmpWindow describes one window of compareHistory: its bucket sample
// counts (shares are counts/samples), its context figures (nil:
// unavailable) and its top lists.
type cmpWindow struct {
	start      time.Time
	d          time.Duration
	source     string
	samples    int64
	cpu        *float64 // CPU seconds; nil: samples/100
	buckets    map[analysis.Bucket]int64
	p50, p99   float64 // 0: no scheduling latency
	cgoRate    *float64
	throttled  *float64
	rqwait     *float64
	preempted  []analysis.FuncStat
	cgo        []analysis.FuncStat
	gomaxprocs int
	goVersion  string
	limit      *float64 // the cgroup's CPU limit
}

func (c cmpWindow) report(seq int) api.WindowReport {
	cpu := float64(c.samples) / 100
	if c.cpu != nil {
		cpu = *c.cpu
	}
	w := api.WindowReport{
		Report: analysis.Report{Schema: analysis.Schema, Samples: c.samples, CPUSeconds: cpu,
			Buckets: map[analysis.Bucket]analysis.BucketStat{}, TopPreempted: c.preempted, TopCgoCalls: c.cgo},
		WindowSchema: api.WindowSchema, Seq: uint64(seq), Start: c.start, End: c.start.Add(c.d), Source: c.source,
		Context: api.Context{GoVersion: c.goVersion, GOMAXPROCS: c.gomaxprocs, NumCPU: 8,
			CgoCallsPerSecond: c.cgoRate, CgroupThrottledShare: c.throttled, RunQueueWaitRatio: c.rqwait, CgroupCPULimit: c.limit},
	}
	if c.p99 > 0 {
		w.Context.SchedLatency = &api.Latency{Count: 500, P50: c.p50, P99: c.p99, P999: 2 * c.p99}
	}
	rest := c.samples
	for _, b := range analysis.Buckets {
		n := c.buckets[b]
		if b == analysis.BucketGo {
			continue
		}
		rest -= n
		w.Buckets[b] = bucketStat(n, c.samples)
	}
	w.Buckets[analysis.BucketGo] = bucketStat(rest, c.samples)
	w.Shares = analysis.Shares{Go: w.Buckets[analysis.BucketGo].Share, AsyncPreempt: w.Buckets[analysis.BucketAsyncPreempt].Share,
		PreemptSched: w.Buckets[analysis.BucketPreemptSched].Share,
		Cgo:          w.Buckets[analysis.BucketCgoC].Share + w.Buckets[analysis.BucketCgoCrossing].Share,
		External: w.Buckets[analysis.BucketExternalThread].Share + w.Buckets[analysis.BucketExternalNoStack].Share +
			w.Buckets[analysis.BucketExternalLost].Share}
	return w
}

func bucketStat(n, total int64) analysis.BucketStat {
	if total <= 0 {
		return analysis.BucketStat{}
	}
	return analysis.BucketStat{Samples: n, CPUSeconds: float64(n) / 100, Share: float64(n) / float64(total)}
}

func fn(name string, samples, total int64) analysis.FuncStat {
	return analysis.FuncStat{Function: name, File: "/src/" + name + ".go", Line: samples, Samples: samples,
		CPUSeconds: float64(samples) / 100, Share: float64(samples) / float64(total)}
}

func cgoFn(name, c string, samples, total int64) analysis.FuncStat {
	f := fn(name, samples, total)
	f.CFunction = c
	return f
}

func fp(v float64) *float64 { return &v }

// compareHistory is a fixed history for the Compare panel:
//
//   - #1–#6 (before) and #8–#13 (after), 10 s periodic windows, and #7, an
//     http scrape inside #2 (its own function, main.scraped, and latency):
//     shares varying, preempt_sched constant 0 on both sides, cgo_crossing
//     constant but different (compared on sample counts), cgo calls/s in
//     one before window only, throttling after only, run-queue wait
//     nowhere; GOMAXPROCS and Go version change; functions that vanish
//     (constant before: on sample counts too), appear, grow and stay the
//     same, two of them tied for the fifth place with names that sort
//     differently by UTF-16 and by UTF-8;
//   - #14 and #15, two large single windows, and #16, the same as #15;
//   - #17–#76, random windows for random ranges;
//   - #77–#79 (before) and #80–#83 (after): async preemption 0 of 200
//     samples in every before window, 1 of 200 in every after one, main.k
//     2 of 200, then 3 of 200, cgo calls/s constant and different (no
//     sample counts), sched latency p99 the same throughout; #83 has
//     samples but no CPU time, so no shares, and functions (main.ghost) that
//     must not count; #85, an http scrape inside #80, and #84, one that
//     ends after the newest periodic window: relative ranges count back
//     from #97's end, as diagctl compare does;
//   - #86–#91 and #92–#97, periodic windows 3 s apart, overlapping: the
//     ranges of each are the same span, and their windows pair in time.
func compareHistory() api.History {
	base := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	at := func(i int) time.Time { return base.Add(time.Duration(i) * 10 * time.Second) }
	var ws []cmpWindow
	const n = 200
	asyncB := []int64{20, 25, 22, 30, 18, 24}
	asyncA := []int64{31, 36, 29, 40, 33, 35}
	cgoC := []int64{10, 12, 9, 14, 11, 13}
	for i := range 6 {
		w := cmpWindow{start: at(i), d: 10 * time.Second, source: "periodic", samples: n, gomaxprocs: 8, goVersion: "go1.26.1",
			buckets: map[analysis.Bucket]int64{analysis.BucketAsyncPreempt: asyncB[i], analysis.BucketCgoC: cgoC[i],
				analysis.BucketCgoCrossing: 2, analysis.BucketExternalThread: int64(i % 3), analysis.BucketExternalLost: 1},
			p50: 0.0001 * float64(i+1), p99: 0.002 + 0.0003*float64(i%4),
			preempted: []analysis.FuncStat{fn("main.hot", asyncB[i]-6, n), fn("main.old", 3, n), fn("main.ｆ", 2, n), fn("main.𝔣", 2, n)},
			cgo:       []analysis.FuncStat{cgoFn("main.query", "sqlite3_step", cgoC[i], n)},
		}
		if i == 2 {
			w.cgoRate = fp(1500)
		}
		if i%2 == 0 {
			w.limit = fp(2)
		}
		ws = append(ws, w)
	}
	ws = append(ws, cmpWindow{start: at(1).Add(2 * time.Second), d: 5 * time.Second, source: "http", samples: 100, gomaxprocs: 8,
		goVersion: "go1.26.1", p50: 0.0009, p99: 0.009, cgoRate: fp(9000),
		buckets:   map[analysis.Bucket]int64{analysis.BucketAsyncPreempt: 60, analysis.BucketCgoCrossing: 9},
		preempted: []analysis.FuncStat{fn("main.scraped", 55, 100), fn("main.hot", 5, 100)}})
	for i := range 6 {
		ws = append(ws, cmpWindow{start: at(7 + i), d: 10 * time.Second, source: "periodic", samples: n, gomaxprocs: 4, goVersion: "go1.26.2",
			buckets: map[analysis.Bucket]int64{analysis.BucketAsyncPreempt: asyncA[i], analysis.BucketCgoC: cgoC[5-i],
				analysis.BucketCgoCrossing: 4, analysis.BucketExternalThread: int64(i % 2), analysis.BucketExternalLost: 1},
			p50: 0.0001 * float64(i+2), p99: 0.003 + 0.0004*float64(i%3),
			cgoRate: fp(1800 + 40*float64(i)), throttled: fp(0.1 + 0.01*float64(i)),
			preempted: []analysis.FuncStat{fn("main.hot", asyncA[i]-8, n), fn("main.new", 4, n), fn("main.ｆ", 2, n), fn("main.𝔣", 2, n),
				fn("main.</td><b>x", 5, n)},
			cgo: []analysis.FuncStat{cgoFn("main.query", "sqlite3_step", cgoC[5-i], n), cgoFn("main.query", "sqlite3_prepare", 2, n)},
		})
	}
	big := func(i int, async, crossing int64) cmpWindow {
		const total = 5000
		return cmpWindow{start: at(13 + i), d: 10 * time.Second, source: "periodic", samples: total, gomaxprocs: 4, goVersion: "go1.26.2",
			buckets: map[analysis.Bucket]int64{analysis.BucketAsyncPreempt: async, analysis.BucketCgoCrossing: crossing,
				analysis.BucketCgoC: 300, analysis.BucketExternalNoStack: 7},
			p50: 0.0003, p99: 0.004, cgoRate: fp(2000), rqwait: fp(0.2),
			preempted: []analysis.FuncStat{fn("main.hot", async-50, total), fn("main.big", 50, total)},
			cgo:       []analysis.FuncStat{cgoFn("main.query", "sqlite3_step", 300, total)}}
	}
	ws = append(ws, big(0, 400, 40), big(1, 520, 40), big(2, 520, 40))

	r := rand.New(rand.NewPCG(7, 11))
	names := []string{"main.a", "main.b", "main.c", "main.d", "main.e", "main.f", "main.g"}
	for i := range 60 {
		total := int64(50 + r.IntN(3000))
		if r.IntN(15) == 0 {
			total = 0
		}
		count := func(max float64) int64 { return int64(r.Float64() * max * float64(total)) }
		w := cmpWindow{start: at(16 + i), d: 10 * time.Second, source: "periodic", samples: total, gomaxprocs: 8, goVersion: "go1.26.2",
			buckets: map[analysis.Bucket]int64{analysis.BucketAsyncPreempt: count(0.3), analysis.BucketPreemptSched: count(0.05),
				analysis.BucketCgoC: count(0.2), analysis.BucketCgoCrossing: count(0.02), analysis.BucketExternalThread: count(0.05)}}
		if r.IntN(5) > 0 {
			w.p50, w.p99 = r.Float64()*0.001, 0.001+r.Float64()*0.01
		}
		if r.IntN(3) > 0 {
			w.cgoRate = fp(r.Float64() * 5000)
		}
		if r.IntN(2) > 0 {
			w.throttled = fp(r.Float64() * 0.3)
		}
		if r.IntN(4) > 0 {
			w.rqwait = fp(r.Float64())
		}
		if r.IntN(3) == 0 {
			w.limit = fp(float64(1 + r.IntN(3)))
		}
		if total > 0 {
			for _, k := range r.Perm(len(names))[:r.IntN(5)] {
				w.preempted = append(w.preempted, fn(names[k], count(0.05), total))
			}
			for _, k := range r.Perm(3)[:r.IntN(3)] {
				w.cgo = append(w.cgo, cgoFn("main.call", names[k], count(0.05), total))
			}
		}
		ws = append(ws, w)
	}

	constant := func(i int, async, k int64, rate float64) cmpWindow {
		return cmpWindow{start: at(76 + i), d: 10 * time.Second, source: "periodic", samples: n, gomaxprocs: 8, goVersion: "go1.26.2",
			buckets: map[analysis.Bucket]int64{analysis.BucketAsyncPreempt: async, analysis.BucketCgoC: 20},
			p50:     0.0001 * float64(1+i%2), p99: 0.002, cgoRate: fp(rate),
			preempted: []analysis.FuncStat{fn("main.k", k, n)},
			cgo:       []analysis.FuncStat{cgoFn("main.call", "step", 20, n)}}
	}
	for i := range 3 {
		ws = append(ws, constant(i, 0, 2, 1000))
	}
	for i := range 3 {
		ws = append(ws, constant(3+i, 1, 3, 1200))
	}
	noCPU := constant(6, 70, 50, 1200)
	noCPU.cpu = fp(0)
	noCPU.preempted = append(noCPU.preempted, fn("main.ghost", 20, n))
	ws = append(ws, noCPU)
	ws = append(ws, cmpWindow{start: at(86).Add(5 * time.Second), d: 30 * time.Second, source: "http", samples: 3000, gomaxprocs: 8,
		goVersion: "go1.26.2", p50: 0.0005, p99: 0.002, cgoRate: fp(1200),
		buckets:   map[analysis.Bucket]int64{analysis.BucketAsyncPreempt: 900},
		preempted: []analysis.FuncStat{fn("main.scraped", 800, 3000), fn("main.k", 100, 3000)}})
	ws = append(ws, cmpWindow{start: at(79).Add(2 * time.Second), d: 5 * time.Second, source: "http", samples: 150, gomaxprocs: 8,
		goVersion: "go1.26.2", p50: 0.0001, p99: 0.002, cgoRate: fp(1200),
		buckets:   map[analysis.Bucket]int64{analysis.BucketAsyncPreempt: 100, analysis.BucketCgoC: 10},
		preempted: []analysis.FuncStat{fn("main.scraped", 90, 150), fn("main.k", 6, 150)}})

	// Staggered windows: A₀–A₅ at at(83+i), B₀–B₅ 3 s later, so that
	// A₀–A₅ and B₀–B₅ overlap, for same-span sides whose windows pair
	// up in time, and pairs that are not a window with itself.
	stagger := func(i int, start time.Time, async, cgoC, k int64, p99 float64) cmpWindow {
		const total = 300
		return cmpWindow{start: start, d: 10 * time.Second, source: "periodic", samples: total, gomaxprocs: 8, goVersion: "go1.26.2",
			buckets: map[analysis.Bucket]int64{analysis.BucketAsyncPreempt: async, analysis.BucketCgoC: cgoC,
				analysis.BucketExternalThread: int64(i % 2)},
			p50: 0.0001 * float64(1+i%3), p99: p99, cgoRate: fp(1000 + 37*float64(i)),
			preempted: []analysis.FuncStat{fn("main.p", k, total), fn("main.q", 3+int64(i%2), total)},
			cgo:       []analysis.FuncStat{cgoFn("main.call", "step", cgoC, total)}}
	}
	asyncS := []int64{30, 42, 35, 51, 38, 45}
	for i := range 6 {
		ws = append(ws, stagger(i, at(83+i), asyncS[i], 20+int64(3*i), asyncS[i]-10, 0.002+0.0002*float64(i)))
	}
	for i := range 6 {
		ws = append(ws, stagger(i+1, at(83+i).Add(3*time.Second), asyncS[i]+5+int64(i%3), 22+int64(3*i), asyncS[i]-7, 0.0021+0.0002*float64(i)))
	}
	h := api.History{WindowSchema: api.WindowSchema}
	for i, w := range ws {
		h.Windows = append(h.Windows, w.report(i+1))
	}
	return h
}

// jsComparison is what the page's diagkitDashboard.comparison() returns.
type jsComparison struct {
	Before, After, Error, Command string
	Doc                           *compare.Document
}

// compareChecker compares the page's documents with compare.Compare's and
// keeps the largest disagreement it saw.
type compareChecker struct {
	t              *testing.T
	maxRel, maxAbs float64 // relative over every number; absolute over p-values
	maxRelAt       string
	numbers, exact int
}

// relTol is how far a number of the page may be from Go's, relative to
// it. P-values may also differ by pAbsTol: Go computes a normal tail as
// 1 − erf(x), which is only that close to the truth, whatever the page does.
const (
	relTol  = 1e-9
	pAbsTol = 1e-15
)

func (c *compareChecker) num(where, field string, js, gov *float64, isP bool) {
	c.t.Helper()
	if (js == nil) != (gov == nil) {
		c.t.Errorf("%s: %s: page %v, Go %v", where, field, fmtPtr(js), fmtPtr(gov))
		return
	}
	if js == nil {
		return
	}
	c.numbers++
	a, b := *js, *gov
	if a == b {
		c.exact++
		return
	}
	d := math.Abs(a - b)
	rel := d / math.Max(math.Abs(a), math.Abs(b))
	if rel > c.maxRel {
		c.maxRel, c.maxRelAt = rel, fmt.Sprintf("%s %s: page %.17g, Go %.17g", where, field, a, b)
	}
	if isP && d > c.maxAbs {
		c.maxAbs = d
	}
	if rel > relTol && !(isP && d <= pAbsTol) {
		c.t.Errorf("%s: %s: page %.17g, Go %.17g (relative difference %.2g)", where, field, a, b, rel)
	}
}

func fmtPtr(p *float64) string {
	if p == nil {
		return "null"
	}
	return fmt.Sprint(*p)
}

func (c *compareChecker) result(where string, js, gov compare.Result) {
	c.t.Helper()
	if js.Figure != gov.Figure || js.Label != gov.Label || js.Unit != gov.Unit || js.NBefore != gov.NBefore || js.NAfter != gov.NAfter ||
		js.Test != gov.Test || js.Approximate != gov.Approximate || js.Verdict != gov.Verdict || js.Note != gov.Note {
		c.t.Errorf("%s:\npage %s %q %s n %d/%d test %q approx %v verdict %q note %q\nGo   %s %q %s n %d/%d test %q approx %v verdict %q note %q", where,
			js.Figure, js.Label, js.Unit, js.NBefore, js.NAfter, js.Test, js.Approximate, js.Verdict, js.Note,
			gov.Figure, gov.Label, gov.Unit, gov.NBefore, gov.NAfter, gov.Test, gov.Approximate, gov.Verdict, gov.Note)
	}
	for _, f := range []struct {
		name    string
		js, gov *float64
		isP     bool
	}{
		{"before", js.Before, gov.Before, false}, {"after", js.After, gov.After, false},
		{"difference", js.Difference, gov.Difference, false}, {"ci_low", js.Low, gov.Low, false}, {"ci_high", js.High, gov.High, false},
		{"relative", js.Relative, gov.Relative, false}, {"p", js.P, gov.P, true}, {"p_adjusted", js.PAdjusted, gov.PAdjusted, true},
	} {
		c.num(where, f.name, f.js, f.gov, f.isP)
	}
	jd, gd := js.DF, gov.DF
	c.num(where, "df", &jd, &gd, false)
}

func (c *compareChecker) funcs(where string, js, gov []compare.FuncResult) {
	c.t.Helper()
	key := func(fs []compare.FuncResult) (out []string) {
		for _, f := range fs {
			out = append(out, fmt.Sprintf("%s|%s|%s:%d|%s", f.Function, f.CFunction, f.File, f.Line, f.Status))
		}
		return out
	}
	if !slices.Equal(key(js), key(gov)) {
		c.t.Errorf("%s: page %q\nGo %q", where, key(js), key(gov))
		return
	}
	for i := range js {
		c.result(fmt.Sprintf("%s %q", where, js[i].Function), js[i].Result, gov[i].Result)
	}
}

func (c *compareChecker) side(where string, js, gov compare.SideSummary) {
	c.t.Helper()
	if js.Windows != gov.Windows || js.Samples != gov.Samples || !slices.Equal(js.GOMAXPROCS, gov.GOMAXPROCS) ||
		!slices.Equal(js.CgroupCPULimits, gov.CgroupCPULimits) ||
		!slices.Equal(js.GoVersions, gov.GoVersions) || !sameTime(js.Start, gov.Start) || !sameTime(js.End, gov.End) {
		c.t.Errorf("%s: page %+v\nGo %+v", where, js, gov)
	}
	c.num(where, "cpu_seconds", &js.CPUSeconds, &gov.CPUSeconds, false)
}

func sameTime(a, b *time.Time) bool { return (a == nil) == (b == nil) && (a == nil || a.Equal(*b)) }

func (c *compareChecker) doc(name string, js, gov *compare.Document) {
	c.t.Helper()
	c.side(name+": before", js.Before, gov.Before)
	c.side(name+": after", js.After, gov.After)
	if js.Schema != gov.Schema || js.Design != gov.Design || js.Confidence != gov.Confidence || js.Adjustment != gov.Adjustment ||
		js.Tested != gov.Tested || !slices.Equal(js.Notes, gov.Notes) || fmt.Sprint(js.Methods) != fmt.Sprint(gov.Methods) {
		c.t.Errorf("%s: page %s %s %v %s tested %d notes %q\nGo %s %s %v %s tested %d notes %q", name,
			js.Schema, js.Design, js.Confidence, js.Adjustment, js.Tested, js.Notes, gov.Schema, gov.Design, gov.Confidence, gov.Adjustment, gov.Tested, gov.Notes)
	}
	if len(js.Figures) != len(gov.Figures) {
		c.t.Errorf("%s: %d figures, want %d", name, len(js.Figures), len(gov.Figures))
		return
	}
	for i := range gov.Figures {
		c.result(name+": "+gov.Figures[i].Figure, js.Figures[i], gov.Figures[i])
	}
	c.funcs(name+": interrupted", js.Interrupted, gov.Interrupted)
	c.funcs(name+": cgo call sites", js.CgoCallSites, gov.CgoCallSites)
}

// loadHistoryAsCompareDoes reads the history as diagctl compare reads a
// history given as a side (loadFile, then addWindows): its periodic
// windows, the agent's http ones left out.
func loadHistoryAsCompareDoes(t *testing.T, raw []byte) *loadedSide {
	t.Helper()
	s := &loadedSide{}
	if err := loadFile(s, "history.json", raw); err != nil {
		t.Fatal(err)
	}
	return s
}

// goCompare is what diagctl compare makes of the history with these
// ranges, the same history on both sides, as its runCompare does: the
// document, the windows of each side and the command line the page should
// show (nil, nil… and an error when a range is bad or holds no window).
func goCompare(hist *loadedSide, before, after, target string) (*compare.Document, [2][]compare.Replicate, string, error) {
	var ranges [2]*compare.Range
	for i, s := range []string{before, after} {
		r, err := compare.ParseRange(s)
		if err != nil {
			return nil, [2][]compare.Replicate{}, "", err
		}
		ranges[i] = &r
	}
	var loaded [2]*loadedSide
	for i := range loaded {
		cp := *hist
		cp.Replicates = slices.Clone(hist.Replicates)
		cp.Notes = slices.Clone(hist.Notes)
		loaded[i] = &cp
	}
	if err := selectWindows(&loaded, ranges); err != nil {
		return nil, [2][]compare.Replicate{}, "", err
	}
	sides := [2][]compare.Replicate{loaded[0].Replicates, loaded[1].Replicates}
	doc := compare.Compare(loaded[0].Side, loaded[1].Side, compare.Options{Top: compare.DefaultTop})
	span := func(s compare.SideSummary) string {
		return s.Start.Format(time.RFC3339Nano) + ".." + s.End.Format(time.RFC3339Nano)
	}
	cmd := "diagctl compare --before-range " + span(doc.Before) + " --after-range " + span(doc.After) + " " + target + " " + target
	return doc, sides, cmd, nil
}

func figureOf(d *compare.Document, name string) compare.Result {
	for _, r := range d.Figures {
		if r.Figure == name {
			return r
		}
	}
	return compare.Result{}
}

func funcOf(fs []compare.FuncResult, function string) *compare.FuncResult {
	for i := range fs {
		if fs[i].Function == function {
			return &fs[i]
		}
	}
	return nil
}

func labels(reps []compare.Replicate) (out []string) {
	for _, r := range reps {
		out = append(out, r.Label)
	}
	return out
}

// checkCase compares what the page shows for two ranges with Go's.
func (c *compareChecker) checkCase(name string, got jsComparison, hist *loadedSide, before, after, target string) *compare.Document {
	c.t.Helper()
	reps := hist.Replicates
	gov, sides, cmd, err := goCompare(hist, before, after, target)
	if err != nil {
		if got.Doc != nil || got.Error == "" {
			c.t.Errorf("%s: Go: %v; the page: error %q, a document %v", name, err, got.Error, got.Doc != nil)
		}
		return nil
	}
	if got.Doc == nil || got.Error != "" {
		c.t.Errorf("%s: the page did not compare %q with %q: %q", name, before, after, got.Error)
		return nil
	}
	if got.Command != cmd {
		c.t.Errorf("%s: command\n%s\nwant\n%s", name, got.Command, cmd)
	}
	// The command's ranges select the same windows as the page's.
	for i, r := range []string{before, after} {
		rest, _ := strings.CutPrefix(got.Command, "diagctl compare --before-range ")
		b, rest, _ := strings.Cut(rest, " --after-range ")
		a, _, _ := strings.Cut(rest, " ")
		cr, err := compare.ParseRange([]string{b, a}[i])
		if err != nil {
			c.t.Errorf("%s: the command's range: %v", name, err)
			continue
		}
		sel, _ := cr.Select(reps, compare.Newest(reps))
		if !slices.Equal(labels(sel), labels(sides[i])) {
			c.t.Errorf("%s: the command's range selects %q, %q selects %q", name, labels(sel), r, labels(sides[i]))
		}
	}
	c.doc(name, got.Doc, gov)
	return gov
}

func pageCompare(t *testing.T, tb *tab, before, after string) jsComparison {
	t.Helper()
	b, _ := json.Marshal(before)
	a, _ := json.Marshal(after)
	return pageJSON(t, tb, fmt.Sprintf("window.diagkitDashboard.compare(%s, %s)", b, a))
}

func pageJSON(t *testing.T, tb *tab, expr string) jsComparison {
	t.Helper()
	s, err := chromedp.Run(tb.ctx, chromedp.Evaluate[string](expr))
	if err != nil {
		t.Fatalf("%s: %v", expr, err)
	}
	var c jsComparison
	if err := json.Unmarshal([]byte(s), &c); err != nil {
		t.Fatalf("%s: %v\n%.2000s", expr, err, s)
	}
	return c
}

// compareView is what the Compare panel shows.
type compareView struct {
	State     string   `json:"state"`
	Rows      []string `json:"rows"`      // figure:verdict, in order
	Approx    []string `json:"approx"`    // the figures marked approximate
	NoVerdict string   `json:"noVerdict"` // the ~ approximate note, if shown
	Funcs     []string `json:"funcs"`
	Command   string   `json:"command"`
	Sides     []string `json:"sides"`
	Bands     []string `json:"bands"` // the sides shaded on the shares chart
	Before    string   `json:"before"`
	After     string   `json:"after"`
	Status    string   `json:"status"`
	Injected  bool     `json:"injected"`
	WinTitle  string   `json:"winTitle"`
}

const compareViewJS = `(() => {
  const all = (s) => [...document.querySelectorAll(s)];
  const code = document.querySelector('#cmp-cmd code');
  return {
    state: document.documentElement.getAttribute('data-compare'),
    rows: all('#cmp-figures tbody tr').map((r) => r.getAttribute('data-figure') + ':' + r.getAttribute('data-verdict')),
    approx: all('#cmp-figures tbody tr[data-approximate]').map((r) => r.getAttribute('data-figure') + ':' +
      r.querySelector('.verdict').parentElement.textContent),
    noVerdict: (document.querySelector('#cmp-notes li.approx') || {}).textContent || '',
    funcs: all('#cmp-interrupted tbody tr, #cmp-cgo tbody tr').map((r) => r.getAttribute('data-figure') + ':' + r.getAttribute('data-status')),
    command: code ? code.textContent : '',
    sides: all('#cmp-sides .cmp-side').map((e) => e.getAttribute('data-side') + ':' + e.getAttribute('data-windows')),
    bands: all('#chart-shares rect.cmp-band').map((e) => e.getAttribute('data-side')),
    before: document.getElementById('cmp-before').value,
    after: document.getElementById('cmp-after').value,
    status: document.getElementById('cmp-status').textContent,
    injected: document.querySelector('#cmp-result b, #cmp-result td > td') !== null,
    winTitle: document.getElementById('win-title').textContent,
  };
})()`

func compareViewOf(t *testing.T, tb *tab) compareView {
	t.Helper()
	v, err := chromedp.Run(tb.ctx, chromedp.Evaluate[compareView](compareViewJS))
	if err != nil {
		t.Fatalf("reading the Compare panel: %v", err)
	}
	return v
}

// checkPanel checks the panel shows doc: a row per figure with its verdict,
// the functions with their status, the command.
func checkPanel(t *testing.T, name string, v compareView, doc *compare.Document, cmd string) {
	t.Helper()
	var rows, funcs, approx []string
	for _, r := range doc.Figures {
		rows = append(rows, r.Figure+":"+r.Verdict)
		if r.Approximate {
			approx = append(approx, r.Figure+":untested~ approximate: no verdict")
		}
	}
	anyApprox := len(approx) > 0
	for _, f := range append(slices.Clone(doc.Interrupted), doc.CgoCallSites...) {
		funcs = append(funcs, f.Figure+":"+f.Status)
		anyApprox = anyApprox || f.Approximate
	}
	if v.State != "ready" || !slices.Equal(v.Rows, rows) || !slices.Equal(v.Funcs, funcs) || v.Command != cmd {
		t.Errorf("%s: the panel shows %q\nrows %q\nfuncs %q\ncommand %q\nwant rows %q\nfuncs %q\ncommand %q", name, v.State, v.Rows, v.Funcs, v.Command, rows, funcs, cmd)
	}
	// An approximate interval is shown, marked, with no verdict.
	if !slices.Equal(v.Approx, approx) || anyApprox != strings.Contains(v.NoVerdict, "so it gives no verdict") {
		t.Errorf("%s: approximate rows %q, want %q; note %q", name, v.Approx, approx, v.NoVerdict)
	}
	if want := []string{fmt.Sprintf("before:%d", doc.Before.Windows), fmt.Sprintf("after:%d", doc.After.Windows)}; !slices.Equal(v.Sides, want) {
		t.Errorf("%s: sides %q, want %q", name, v.Sides, want)
	}
	if !slices.Equal(v.Bands, []string{"before", "after"}) {
		t.Errorf("%s: bands on the shares chart %q", name, v.Bands)
	}
	if v.Injected {
		t.Errorf("%s: a function name became markup", name)
	}
}

func rfc(t time.Time) string { return t.Format(time.RFC3339Nano) }

// TestDashboardCompareInChromium checks the Compare panel against
// diagctl compare: a snapshot of a fixed history, two ranges selected
// through the page (its diagkitDashboard.compare, which is what its
// Compare button runs, a drag across a chart, and the range inputs with
// Enter), and every figure's and function's difference, interval,
// p-values and verdict equal within relTol to what compare.Compare makes
// of the sides diagctl compare reads (loadFile, selectWindows: the
// periodic windows, http ones left out); one window a side, constant
// series (on sample counts), windows without CPU time, figures missing on
// a side or both, same-span sides paired in time, bad and empty ranges
// and random ranges included. Live, the command the page prints is run
// against the agent. The screenshot is $DIAGKIT_ARTIFACTS/dashboard-compare.png.
func TestDashboardCompareInChromium(t *testing.T) {
	chromium := chromiumPath(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	browserCtx := startBrowser(t, ctx, chromium)

	hist := compareHistory()
	const target = "stand-in:6060"
	var buf bytes.Buffer
	if err := dashboard.Write(&buf, dashboard.Snapshot{Target: target, Saved: hist.Windows[len(hist.Windows)-1].End, History: hist}); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "compare.html")
	if err := os.WriteFile(file, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	// Go compares the windows the page reads, as diagctl compare reads
	// them: the history through JSON, its periodic windows.
	raw, _ := json.Marshal(hist)
	var seen api.History
	if err := json.Unmarshal(raw, &seen); err != nil {
		t.Fatal(err)
	}
	periodic := loadHistoryAsCompareDoes(t, raw)
	if n, http := len(periodic.Replicates), len(seen.Windows)-len(periodic.Replicates); http != 3 {
		t.Fatalf("diagctl compare reads %d windows of %d, want all but the 3 http ones", n, len(seen.Windows))
	}
	w := seen.Windows
	span := func(i, j int) string { return rfc(w[i-1].Start) + ".." + rfc(w[j-1].End) } // windows #i–#j

	tb := openTab(t, browserCtx, "http://127.0.0.1:1", "")
	fileURL := (&url.URL{Scheme: "file", Path: file}).String()
	if err := chromedp.Do(tb.ctx, chromedp.EmulateViewport(1400, 1000), chromedp.Navigate(fileURL)); err != nil {
		t.Fatal(err)
	}
	waitReady(t, tb, len(w))
	c := &compareChecker{t: t}

	type tcase struct{ name, before, after string }
	cases := []tcase{
		{"welch", span(1, 6), span(8, 13)},
		{"one window a side", span(14, 14), span(15, 15)},
		{"one window a side, no change", span(15, 15), span(16, 16)},
		{"one window before", span(14, 14), span(8, 13)},
		{"one window after", span(1, 6), span(16, 16)},
		{"a side with itself", span(1, 6), span(1, 6)},
		{"same span", span(1, 10), span(4, 13)},
		{"open ranges", ".." + rfc(w[6].End), rfc(w[7].Start) + ".." + rfc(w[12].End)},
		{"relative ranges", "12m..5m", "5m.."},
		{"relative and absolute", rfc(w[0].Start) + "..11m30s", "90.5s..now"},
		{"no window after", span(1, 6), rfc(w[0].Start.Add(time.Second)) + ".." + rfc(w[0].End)},
		{"only an http window", span(85, 85), span(80, 82)},
		{"constant sides", span(77, 79), span(80, 83)},
		{"relative, the newest window http", "63s..3s", "60s.."},
		{"paired", span(86, 91), span(92, 97)},
		{"around an http window", span(78, 78), rfc(w[83].Start) + ".." + rfc(w[83].End)},
		{"bad range", "yesterday..", span(8, 13)},
		{"backwards", rfc(w[5].End) + ".." + rfc(w[0].Start), span(8, 13)},
	}
	r := rand.New(rand.NewPCG(3, 5))
	const lastRandom = 76 // #17–#76
	for i := range 40 {
		a, b := 17+r.IntN(55), 17+r.IntN(55)
		n, m := r.IntN(8), r.IntN(8)
		if i%4 == 0 {
			n = 0
		}
		cases = append(cases, tcase{fmt.Sprintf("random %d", i), span(a, min(a+n, lastRandom)), span(b, min(b+m, lastRandom))})
	}
	docs := map[string]*compare.Document{}
	for _, tc := range cases {
		got := pageCompare(t, tb, tc.before, tc.after)
		if got.Before != tc.before || got.After != tc.after {
			t.Errorf("%s: the page compares %q with %q", tc.name, got.Before, got.After)
		}
		docs[tc.name] = c.checkCase(tc.name, got, periodic, tc.before, tc.after, target)
	}

	// What the cases are for did happen.
	welch := docs["welch"]
	verdicts := map[string]string{}
	notes := map[string]string{}
	for _, r := range welch.Figures {
		verdicts[r.Figure], notes[r.Figure] = r.Verdict, r.Note
	}
	for fig, want := range map[string]string{compare.FigAsyncPreempt: compare.VerdictWorse, compare.FigPreemptSched: compare.VerdictNoChange,
		compare.FigCgoCrossing: compare.VerdictUntested, compare.FigCgoCallsPerSec: compare.VerdictUntested,
		compare.FigThrottledShare: compare.VerdictUntested, compare.FigRunQueueWaitRate: compare.VerdictUntested} {
		if verdicts[fig] != want {
			t.Errorf("welch: %s is %q (%s), want %q", fig, verdicts[fig], notes[fig], want)
		}
	}
	if notes[compare.FigThrottledShare] != "unavailable before" || notes[compare.FigRunQueueWaitRate] != "unavailable on both sides" ||
		welch.Figures[0].Test != compare.TestWelch || welch.Design != compare.DesignSequential || len(welch.Notes) != 3 {
		t.Errorf("welch: notes %q, design %s, document notes %q", notes, welch.Design, welch.Notes)
	}
	const noSpread = "no spread within either side: an approximate interval on sample counts, no verdict"
	if r := figureOf(welch, compare.FigCgoCrossing); r.Test != compare.TestNewcombe || !r.Approximate || r.Note != noSpread || r.PAdjusted != nil {
		t.Errorf("welch: cgo_crossing, constant on each side, is tested by %q (%s)", r.Test, r.Note)
	}
	if welch.Before.Windows != 6 || welch.Figures[0].NBefore != 6 || funcOf(welch.Interrupted, "main.scraped") != nil {
		t.Errorf("welch: the before side has %d windows (%d with shares), main.scraped %+v: the http window #7 counted",
			welch.Before.Windows, welch.Figures[0].NBefore, funcOf(welch.Interrupted, "main.scraped"))
	}
	// One window a side: an approximate interval, above 0, but no verdict,
	// and nothing judged.
	if d := docs["one window a side"]; d == nil || d.Figures[0].Test != compare.TestNewcombe || !d.Figures[0].Approximate ||
		d.Figures[0].Verdict != compare.VerdictUntested || d.Figures[0].Low == nil || *d.Figures[0].Low <= 0 ||
		d.Figures[0].PAdjusted != nil || d.Tested != 0 {
		t.Errorf("one window a side: %+v", d)
	}
	if d := docs["constant sides"]; d == nil {
		t.Error("constant sides: not compared")
	} else {
		async, rate := figureOf(d, compare.FigAsyncPreempt), figureOf(d, compare.FigCgoCallsPerSec)
		k := funcOf(d.Interrupted, "main.k")
		if d.After.Windows != 4 || async.NAfter != 3 || async.Test != compare.TestNewcombe || async.Note != noSpread ||
			async.Verdict != compare.VerdictUntested || async.PAdjusted != nil || rate.Test != compare.TestWelch || figureOf(d, compare.FigSchedLatencyP99).Verdict != compare.VerdictNoChange {
			t.Errorf("constant sides: %d windows after; async_preempt %+v; cgo calls/s %+v", d.After.Windows, async, rate)
		}
		if k == nil || k.Test != compare.TestNewcombe || k.Note != noSpread || k.NAfter != 3 || len(d.Interrupted) != 1 {
			t.Errorf("constant sides: interrupted %+v: want main.k alone, on sample counts over the 3 after windows with CPU time", d.Interrupted)
		}
	}
	// #86–#91 and #92–#97 as ranges hold #86–#91 and #92–#95, then
	// #87–#97: A₀ pairs with B₀, every other window with itself.
	for _, name := range []string{"paired", "relative, the newest window http"} {
		d := docs[name]
		if d == nil {
			t.Errorf("%s: not compared", name)
			continue
		}
		async := figureOf(d, compare.FigAsyncPreempt)
		if d.Before.Windows != 11 || d.After.Windows != 11 || d.Design != compare.DesignSameSpan || d.Paired != 10 ||
			async.Test != compare.TestPaired || async.Pairs != 10 || async.DF != 9 || figureOf(d, compare.FigCgoCallsPerSec).Test != compare.TestPaired {
			t.Errorf("%s: %d and %d windows, %s, %d paired; async_preempt %+v", name, d.Before.Windows, d.After.Windows, d.Design, d.Paired, async)
		}
	}
	if d := docs["same span"]; d == nil || d.Design != compare.DesignSameSpan {
		t.Errorf("same span: %+v", d)
	}
	var statuses []string
	for _, f := range welch.Interrupted {
		statuses = append(statuses, f.Status)
	}
	for _, s := range []string{compare.StatusAppeared, compare.StatusVanished, compare.StatusGrew, compare.StatusSame} {
		if !slices.Contains(statuses, s) {
			t.Errorf("welch: interrupted functions %q lack one that %s", statuses, s)
		}
	}

	// The panel shows the last comparison a case made… and the welch
	// case, drawn.
	got := pageCompare(t, tb, cases[0].before, cases[0].after)
	v := compareViewOf(t, tb)
	checkPanel(t, "welch", v, welch, got.Command)

	// A drag across the shares chart sets the before range, a second one
	// the after range: each the windows whose middle it covers, and a
	// click without a drag still selects a window.
	if _, err := chromedp.Run(tb.ctx, chromedp.Evaluate[bool](`document.getElementById('cmp-clear').click(), true`)); err != nil {
		t.Fatal(err)
	}
	drag := func(from, to uint64) {
		t.Helper()
		if err := chromedp.Do(tb.ctx, chromedp.ScrollIntoView(chromedp.CSS("#chart-shares"))); err != nil {
			t.Fatal(err)
		}
		pts, err := chromedp.Run(tb.ctx, chromedp.Evaluate[[]float64](fmt.Sprintf(`(() => {
  const c = (s) => { const b = document.querySelector('#chart-shares circle.pt.s-async[data-seq="' + s + '"]').getBoundingClientRect(); return b.left + b.width / 2; };
  const box = document.querySelector('#chart-shares svg').getBoundingClientRect();
  return [c(%d) - 3, c(%d) + 3, box.top + box.height / 2];
})()`, from, to)))
		if err != nil {
			t.Fatal(err)
		}
		held := func(p *input.DispatchMouseEventParams) { p.Button, p.Buttons = input.MouseButtonLeft, 1 }
		steps := []chromedp.Action[chromedp.Void]{chromedp.MouseEvent(chromedp.MousePressed, pts[0], pts[2], held, chromedp.ClickCount(1))}
		for i := 1; i <= 5; i++ {
			steps = append(steps, chromedp.MouseEvent(chromedp.MouseMoved, pts[0]+(pts[1]-pts[0])*float64(i)/5, pts[2], held))
		}
		steps = append(steps, chromedp.MouseEvent(chromedp.MouseReleased, pts[1], pts[2], held, chromedp.ClickCount(1)))
		if err := chromedp.Do(tb.ctx, steps...); err != nil {
			t.Fatalf("dragging from #%d to #%d: %v", from, to, err)
		}
	}
	before0 := compareViewOf(t, tb).WinTitle
	drag(1, 6)
	waitCompare(t, tb, "partial")
	drag(8, 13)
	waitCompare(t, tb, "ready")
	v = compareViewOf(t, tb)
	// The drag over #1–#6 takes in #7, the scrape inside #2, and the range
	// holds it, but neither compares it: the panel, as diagctl compare,
	// compares the periodic windows.
	if v.Before != span(1, 6) || v.After != span(8, 13) {
		t.Errorf("after the drags the ranges are %q and %q, want %q and %q", v.Before, v.After, span(1, 6), span(8, 13))
	}
	if v.WinTitle != before0 {
		t.Errorf("a drag selected a window: %q, was %q", v.WinTitle, before0)
	}
	got = pageJSON(t, tb, "window.diagkitDashboard.comparison()")
	if doc := c.checkCase("dragged", got, periodic, span(1, 6), span(8, 13), target); doc != nil {
		checkPanel(t, "dragged", v, doc, got.Command)
	}
	screenshot(t, tb, filepath.Join(artifactDir(t), "dashboard-compare.png"))
	panel, err := chromedp.Run(tb.ctx, chromedp.Screenshot(chromedp.CSS("#compare")))
	if err != nil {
		t.Fatalf("screenshot of the Compare panel: %v", err)
	}
	if err := os.WriteFile(filepath.Join(artifactDir(t), "dashboard-compare-panel.png"), panel, 0o644); err != nil {
		t.Fatal(err)
	}
	selectWindow(t, tb, w[3])

	// The inputs: typed ranges, Enter compares.
	if _, err := chromedp.Run(tb.ctx, chromedp.Evaluate[bool](`(() => {
  for (const id of ['cmp-before', 'cmp-after']) document.getElementById(id).value = '';
  return true;
})()`)); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(tb.ctx, chromedp.SendKeys(chromedp.CSS("#cmp-before"), "14m..11m"),
		chromedp.SendKeys(chromedp.CSS("#cmp-after"), "9m..6m"+kb.Enter)); err != nil {
		t.Fatal(err)
	}
	waitCompareRanges(t, tb, "14m..11m", "9m..6m")
	got = pageJSON(t, tb, "window.diagkitDashboard.comparison()")
	c.checkCase("typed", got, periodic, "14m..11m", "9m..6m", target)

	t.Logf("%d cases, %d numbers compared, %d equal to the bit; largest relative difference %.3g (%s); largest absolute difference of a p-value %.3g",
		len(cases)+2, c.numbers, c.exact, c.maxRel, c.maxRelAt, c.maxAbs)
	if requests := checkClean(t, "compare", tb); len(requests) != 1 || requests[0] != fileURL {
		t.Errorf("the snapshot made requests %q, want only its own file", requests)
	}

	// Live, the command names the agent by its URL, prefix included.
	t.Run("live", func(t *testing.T) {
		const prefix = "/svc"
		mux := http.NewServeMux()
		mux.Handle(prefix+diag.PathDashboard, dashboard.Handler(dashboard.Options{Refresh: time.Hour}))
		mux.HandleFunc(prefix+diag.PathHistory, func(rw http.ResponseWriter, r *http.Request) {
			h := hist
			if r.URL.Query().Get("n") == "1" {
				h.Windows = h.Windows[len(h.Windows)-1:]
			}
			rw.Header().Set("Content-Type", "application/json")
			_ = json.NewEncoder(rw).Encode(h)
		})
		srv := httptest.NewServer(mux)
		defer srv.Close()
		tb := openTab(t, browserCtx, srv.URL, "")
		if err := chromedp.Do(tb.ctx, chromedp.EmulateViewport(1400, 1000), chromedp.Navigate(srv.URL+prefix+diag.PathDashboard)); err != nil {
			t.Fatal(err)
		}
		waitReady(t, tb, len(w))
		got := pageCompare(t, tb, span(1, 6), span(8, 13))
		c := &compareChecker{t: t}
		c.checkCase("live", got, periodic, span(1, 6), span(8, 13), srv.URL+prefix)
		// The command the page prints, run against the agent, says the same.
		args := strings.Fields(got.Command)
		if len(args) != 8 || args[0] != "diagctl" {
			t.Fatalf("the command %q", got.Command)
		}
		res := runDiagctl(t, nil, append(args[1:], "-o", "json")...)
		if res.code != 0 {
			t.Fatalf("%s: exit %d: %s", got.Command, res.code, res.stderr)
		}
		var cli compare.Document
		if err := json.Unmarshal([]byte(res.stdout), &cli); err != nil {
			t.Fatalf("%s: %v", got.Command, err)
		}
		c.doc("live: "+got.Command, got.Doc, &cli)
		if cli.Before.Windows != 6 || cli.Before.Source != "agent history" {
			t.Errorf("%s: before is %d windows of %s", got.Command, cli.Before.Windows, cli.Before.Source)
		}
		for _, p := range checkClean(t, "live", tb) {
			if !strings.HasPrefix(p, srv.URL) {
				t.Errorf("request to %s", p)
			}
		}
	})
}

func waitCompare(t *testing.T, tb *tab, state string) {
	t.Helper()
	expr := fmt.Sprintf(`document.documentElement.getAttribute('data-compare') === %q`, state)
	if _, err := chromedp.Run(tb.ctx, chromedp.Poll[bool](expr, chromedp.WithPollingTimeout(10*time.Second),
		chromedp.WithPollingInterval(50*time.Millisecond))); err != nil {
		t.Fatalf("the Compare panel is not %s: %v (%+v)", state, err, compareViewOf(t, tb))
	}
}

func waitCompareRanges(t *testing.T, tb *tab, before, after string) {
	t.Helper()
	expr := fmt.Sprintf(`(() => { const c = JSON.parse(window.diagkitDashboard.comparison()); return c.before === %q && c.after === %q && c.doc !== null; })()`, before, after)
	if _, err := chromedp.Run(tb.ctx, chromedp.Poll[bool](expr, chromedp.WithPollingTimeout(10*time.Second),
		chromedp.WithPollingInterval(50*time.Millisecond))); err != nil {
		t.Fatalf("the page did not compare %q with %q: %v (%+v)", before, after, err, compareViewOf(t, tb))
	}
}
