package compare

import (
	"compress/gzip"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/diagkit/diagkit/diag/api"
)

// The recorded tests run Compare on agent histories recorded from real
// child processes (testdata/recorded, written by internal/record through
// go generate; manifest.json there says how). Each scenario ran two
// processes side by side over the same wall-clock span, like a canary and
// its baseline (those whose processes each want more than the machine's
// CPUs on a CPU of its own, as on two hosts). Their windows are paired by
// time and cut into consecutive blocks of blockWindows windows; comparison
// i compares block i of one process with block i of the other, so the
// comparisons are disjoint.
//
//   - A/A (two processes of the same workload): every figure must say "no
//     significant change" (or be untested, where it is unavailable) in at
//     least 95 % of the comparisons, and the scenario's main figures must
//     be available, so that the claim is not won by default.
//   - A/B (a problem and its fix): the figure the change is known to move
//     must get the right verdict in at least 95 % of the comparisons (19 of
//     20), from the problem to the fix (better) and back (worse).
//   - Over minutes: each pair in one comparison of all its windows, A/A
//     quiet on every figure, A/B finding the change (TestRecordedOverMinutes).
//   - Sequential A/A (reported, not asserted): each process's first half of
//     blocks against its second half, block i against block i+n/2, as a
//     before/after comparison of one process would be.

const (
	recordedDir = "testdata/recorded"
	// blockWindows is how many windows a side each comparison has.
	blockWindows = 5
	// minComparisons is the fewest comparisons a scenario must give.
	minComparisons = 20
	// aaPass is the share of A/A comparisons that must find no change, and
	// abPass the share of A/B comparisons that must find the change.
	aaPass = 0.95
	abPass = 0.95
)

// recordedManifest is what the tests read of manifest.json.
type recordedManifest struct {
	Window    string `json:"window"`
	Warmup    int    `json:"warmup_windows"`
	Windows   int    `json:"windows_per_process"`
	Scenarios []struct {
		Name  string `json:"name"`
		Doc   string `json:"doc"`
		Sides [2]struct {
			Name       string   `json:"name"`
			Args       []string `json:"args"`
			GOMAXPROCS int      `json:"gomaxprocs"`
			Quota      float64  `json:"cgroup_quota_cpus"`
		} `json:"sides"`
		Files map[string]string `json:"files"`
	} `json:"scenarios"`
}

// recordedPair is a scenario's two processes' windows, paired by time:
// a[i] and b[i] overlap by at least half a window. The warm-up windows are
// dropped.
type recordedPair struct {
	name       string
	sides      [2]string
	a, b       []Replicate
	gomaxprocs [2]int
	quota      [2]float64
}

var recorded struct {
	once  sync.Once
	m     recordedManifest
	pairs map[string]*recordedPair
	err   error
}

func loadRecorded(t *testing.T) (recordedManifest, map[string]*recordedPair) {
	t.Helper()
	recorded.once.Do(func() {
		recorded.m, recorded.pairs, recorded.err = readRecorded()
	})
	if recorded.err != nil {
		t.Fatalf("reading %s: %v (record it with go generate ./internal/compare)", recordedDir, recorded.err)
	}
	return recorded.m, recorded.pairs
}

func readRecorded() (recordedManifest, map[string]*recordedPair, error) {
	var m recordedManifest
	b, err := os.ReadFile(filepath.Join(recordedDir, "manifest.json"))
	if err != nil {
		return m, nil, err
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return m, nil, fmt.Errorf("manifest.json: %v", err)
	}
	window, err := time.ParseDuration(m.Window)
	if err != nil {
		return m, nil, fmt.Errorf("manifest.json: window %q: %v", m.Window, err)
	}
	pairs := map[string]*recordedPair{}
	for _, s := range m.Scenarios {
		p := &recordedPair{name: s.Name}
		var ws [2][]api.WindowReport
		for i, sd := range s.Sides {
			p.sides[i], p.gomaxprocs[i], p.quota[i] = sd.Name, sd.GOMAXPROCS, sd.Quota
			h, err := readHistory(filepath.Join(recordedDir, s.Files[sd.Name]))
			if err != nil {
				return m, nil, err
			}
			for _, w := range h.Windows {
				if w.Source == "periodic" {
					ws[i] = append(ws[i], w)
				}
			}
			if len(ws[i]) <= m.Warmup {
				return m, nil, fmt.Errorf("%s: %d windows", s.Files[sd.Name], len(ws[i]))
			}
			ws[i] = ws[i][m.Warmup:]
		}
		for _, pw := range pairWindows(ws[0], ws[1], window) {
			p.a = append(p.a, FromWindow(pw[0]))
			p.b = append(p.b, FromWindow(pw[1]))
		}
		pairs[s.Name] = p
	}
	return m, pairs, nil
}

func readHistory(path string) (*api.History, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	var h api.History
	if err := json.NewDecoder(zr).Decode(&h); err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	if h.WindowSchema != api.WindowSchema {
		return nil, fmt.Errorf("%s: window_schema %q", path, h.WindowSchema)
	}
	return &h, nil
}

// pairWindows pairs the windows of two histories (each oldest first) that
// overlap by at least half a window, in order.
func pairWindows(a, b []api.WindowReport, window time.Duration) [][2]*api.WindowReport {
	var out [][2]*api.WindowReport
	for i, j := 0, 0; i < len(a) && j < len(b); {
		end, start := a[i].End, a[i].Start
		if b[j].End.Before(end) {
			end = b[j].End
		}
		if b[j].Start.After(start) {
			start = b[j].Start
		}
		overlap := end.Sub(start)
		switch {
		case overlap*2 >= window:
			out = append(out, [2]*api.WindowReport{&a[i], &b[j]})
			i++
			j++
		case a[i].Start.Before(b[j].Start):
			i++
		default:
			j++
		}
	}
	return out
}

// blocks cuts reps into consecutive blocks of blockWindows.
func blocks(reps []Replicate) [][]Replicate {
	var out [][]Replicate
	for i := 0; i+blockWindows <= len(reps); i += blockWindows {
		out = append(out, reps[i:i+blockWindows])
	}
	return out
}

// outcomes counts the verdicts one figure (or function) got over a series
// of comparisons.
type outcomes struct {
	n        int
	verdicts map[string]int
	// examples are the comparisons with a significant verdict, for the log.
	examples []string
}

func (o *outcomes) add(comparison int, r Result) {
	if o.verdicts == nil {
		o.verdicts = map[string]int{}
	}
	o.n++
	o.verdicts[r.Verdict]++
	if r.Verdict != VerdictNoChange && r.Verdict != VerdictUntested && len(o.examples) < 3 {
		o.examples = append(o.examples, fmt.Sprintf("#%d %s %s→%s p_adj %.3g", comparison, r.Verdict,
			fmtValue(r.Unit, r.Before), fmtValue(r.Unit, r.After), *r.PAdjusted))
	}
}

// quiet is how many comparisons found no significant change.
func (o *outcomes) quiet() int { return o.verdicts[VerdictNoChange] + o.verdicts[VerdictUntested] }

func (o *outcomes) String() string {
	var parts []string
	for _, v := range []string{VerdictNoChange, VerdictUntested, VerdictBetter, VerdictWorse, VerdictHigher, VerdictLower} {
		if n := o.verdicts[v]; n > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", short(v), n))
		}
	}
	return strings.Join(parts, ", ")
}

func short(verdict string) string {
	if verdict == VerdictNoChange {
		return "no change"
	}
	return verdict
}

func fmtValue(unit string, v *float64) string {
	if v == nil {
		return "–"
	}
	switch unit {
	case UnitShare:
		return fmt.Sprintf("%.2f%%", *v*100)
	case UnitSeconds:
		return time.Duration(*v * float64(time.Second)).Round(time.Microsecond).String()
	}
	return fmt.Sprintf("%.4g", *v)
}

// tally runs the comparisons and counts each figure's verdicts, and the
// functions' (all of them together: any function significant in a
// comparison counts once).
type tally struct {
	comparisons int
	figures     map[string]*outcomes
	// tested counts, per figure, the comparisons that tested it.
	tested map[string]int
	// funcs counts comparisons by the functions' verdicts: those where
	// any listed function changed significantly, by kind.
	funcsChanged map[string]int
	funcsListed  int
	// anyChange counts comparisons with any significant verdict at all.
	anyChange int
	designs   map[string]int
	// means are each figure's means over the comparisons, per side.
	means map[string]*[2]meanOf
}

type meanOf struct {
	sum float64
	n   int
}

func (m meanOf) String(unit string) string {
	if m.n == 0 {
		return "–"
	}
	v := m.sum / float64(m.n)
	return fmtValue(unit, &v)
}

func newTally() *tally {
	t := &tally{figures: map[string]*outcomes{}, tested: map[string]int{}, funcsChanged: map[string]int{}, designs: map[string]int{}, means: map[string]*[2]meanOf{}}
	for _, f := range Figures {
		t.figures[f.Name] = &outcomes{}
		t.means[f.Name] = &[2]meanOf{}
	}
	return t
}

func (t *tally) run(before, after [][]Replicate) []*Document {
	var docs []*Document
	for i := range before {
		doc := Compare(Side{Input: "before", Source: "agent history", Replicates: before[i]},
			Side{Input: "after", Source: "agent history", Replicates: after[i]}, Options{})
		docs = append(docs, doc)
		t.comparisons++
		t.designs[doc.Design]++
		significant := false
		for _, r := range doc.Figures {
			t.figures[r.Figure].add(i, r)
			if r.Test != "" {
				t.tested[r.Figure]++
			}
			if r.Before != nil {
				t.means[r.Figure][0].sum += *r.Before
				t.means[r.Figure][0].n++
			}
			if r.After != nil {
				t.means[r.Figure][1].sum += *r.After
				t.means[r.Figure][1].n++
			}
			significant = significant || isSignificant(r.Verdict)
		}
		changed := map[string]bool{}
		for _, list := range [][]FuncResult{doc.Interrupted, doc.CgoCallSites} {
			t.funcsListed += len(list)
			for _, fr := range list {
				if isSignificant(fr.Verdict) {
					changed[fr.Verdict] = true
					significant = true
				}
			}
		}
		for v := range changed {
			t.funcsChanged[v]++
		}
		if significant {
			t.anyChange++
		}
	}
	return docs
}

func isSignificant(verdict string) bool {
	return verdict != VerdictNoChange && verdict != VerdictUntested
}

// log prints the tally as a table.
func (t *tally) log(tb testing.TB, title string, sides [2]string) {
	tb.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %d comparisons of %d windows a side (designs %v)\n", title, t.comparisons, blockWindows, t.designs)
	fmt.Fprintf(&b, "  %-24s %12s %12s %7s  %s\n", "figure", "mean "+sides[0], "mean "+sides[1], "quiet", "verdicts")
	for _, f := range Figures {
		o := t.figures[f.Name]
		m := t.means[f.Name]
		fmt.Fprintf(&b, "  %-24s %12s %12s %3d/%-3d  %s", f.Name, m[0].String(f.Unit), m[1].String(f.Unit), o.quiet(), o.n, o.String())
		if len(o.examples) > 0 {
			fmt.Fprintf(&b, "  [%s]", strings.Join(o.examples, "; "))
		}
		b.WriteByte('\n')
	}
	var fc []string
	for _, v := range []string{VerdictBetter, VerdictWorse} {
		if n := t.funcsChanged[v]; n > 0 {
			fc = append(fc, fmt.Sprintf("%s in %d", v, n))
		}
	}
	if len(fc) == 0 {
		fc = append(fc, "none")
	}
	fmt.Fprintf(&b, "  functions (%d listed in all): comparisons with a significant one: %s\n", t.funcsListed, strings.Join(fc, ", "))
	fmt.Fprintf(&b, "  comparisons with any significant verdict (figures or functions): %d/%d", t.anyChange, t.comparisons)
	tb.Log(b.String())
}

func need(n int, share float64) int { return int(math.Ceil(share * float64(n))) }

// checkRecording checks what every scenario must have: enough paired
// windows for the comparisons, and the GOMAXPROCS and quota the manifest
// says it ran with.
func checkRecording(t *testing.T, p *recordedPair) {
	t.Helper()
	if n := len(blocks(p.a)); n < minComparisons {
		t.Fatalf("%s: %d paired windows make %d comparisons of %d windows a side, want at least %d",
			p.name, len(p.a), n, blockWindows, minComparisons)
	}
	for i, reps := range [2][]Replicate{p.a, p.b} {
		for _, r := range reps {
			if p.gomaxprocs[i] > 0 && r.GOMAXPROCS != p.gomaxprocs[i] {
				t.Fatalf("%s-%s %s: GOMAXPROCS %d, the manifest says %d", p.name, p.sides[i], r.Label, r.GOMAXPROCS, p.gomaxprocs[i])
			}
			switch l := r.CgroupCPULimit; {
			case p.quota[i] == 0 && l != nil:
				t.Fatalf("%s-%s %s: a CPU limit of %v, the manifest says none", p.name, p.sides[i], r.Label, *l)
			case p.quota[i] > 0 && (l == nil || math.Abs(*l-p.quota[i]) > 1e-9):
				t.Fatalf("%s-%s %s: CPU limit %v, the manifest says %v", p.name, p.sides[i], r.Label, l, p.quota[i])
			}
		}
	}
}

// knownFailures are the checks the recorded data fails, each with why.
// They are logged with their numbers ("KNOWN FAILURE") instead of failing
// the test, so that the evidence stays visible and the rest stays checked;
// one that starts passing fails the test until it is removed from here.
// Keys are "TEST/SCENARIO/FIGURE".
var knownFailures = map[string]string{
	// (aa/aa_loops/run_queue_wait_ratio was one until the recorder swapped
	// the two processes' CPUs every second. With a fixed CPU each, the two
	// agreed over 4 minutes (1.035 and 1.034 per CPU-second) but drifted
	// apart for tens of seconds: the paired windows' differences had a
	// lag-1 autocorrelation of +0.42 to +0.55, and 3 of 24 comparisons
	// found a 1.5-2 % change the t-tests took for significant. Swapped, the
	// autocorrelation is +0.01 and 23 of 23 find none: the drift was what
	// each CPU's other work did to the process on it.)
	// The change is not reliably there. With each process on a CPU of its
	// own, the async preemption share was 39.4 % for the loops and 35.2 %
	// for the loops with a call over the recording's 4 minutes; one
	// comparison of all 111 paired windows finds that (better, -4.2 pp,
	// interval -6.2 to -2.2; TestRecordedOverMinutes), and the A/A pair
	// over the same span does not (-1.1 pp, -2.9 to +0.6). But one window's
	// share varies by 7-8 points (sd; twice the binomial spread of its 200
	// samples), so 5 windows a side cannot find 4 points, and four later
	// runs of the same pair on the same machine, 44-64 s (17-27 windows a
	// side, CPUs swapped in two), had the loops with a call 1.0 to 7.0
	// points higher. By mechanism the call changes little here: the process's two
	// threads and sysmon share one CPU, so the thread sysmon preempts is
	// off the CPU and takes the signal on resuming, before its next call.
	// Measured by hand at GOMAXPROCS=1 (each process pinned): loops 6.33 %,
	// calls 5.72 %, 93 % and 82 % of their preemptions by signal
	// (execution traces).
	"ab/calls/" + FigAsyncPreempt: "under CPU contention a call per iteration does not reliably lower the share (recorded -4.2 pp over 4 minutes, +1 to +7 pp in later runs) beside a window-to-window spread of 7-8 points",
}

// check reports a check's outcome: an error, or for a known failure a log
// line (and an error when it passes).
func check(t *testing.T, key string, ok bool, msg string) {
	t.Helper()
	why, known := knownFailures[key]
	switch {
	case known && ok:
		t.Errorf("%s passes now (%s): remove it from knownFailures", key, msg)
	case known:
		t.Logf("KNOWN FAILURE %s: %s; why: %s", key, msg, why)
	case !ok:
		t.Error(msg)
	}
}

// aaScenarios are the A/A scenarios, with the figures each must test
// (values that vary, in every window of both sides) in every comparison.
// Figures that are 0 throughout (cgo in a program without cgo calls) are
// "the same in every window on both sides", untested, and pass by default,
// so they are not counted as evidence.
var aaScenarios = []struct {
	name   string
	tested []string
}{
	{"aa", []string{FigAsyncPreempt, FigSchedLatencyP50, FigSchedLatencyP99, FigThrottledShare, FigRunQueueWaitRate}},
	{"aa_loops", []string{FigAsyncPreempt, FigSchedLatencyP50, FigSchedLatencyP99, FigRunQueueWaitRate}},
}

func TestRecordedAA(t *testing.T) {
	_, pairs := loadRecorded(t)
	for _, sc := range aaScenarios {
		t.Run(sc.name, func(t *testing.T) {
			p := pairs[sc.name]
			if p == nil {
				t.Fatalf("no recorded scenario %s", sc.name)
			}
			checkRecording(t, p)
			ta := newTally()
			docs := ta.run(blocks(p.a), blocks(p.b))
			ta.log(t, sc.name+" "+p.sides[0]+" vs "+p.sides[1], p.sides)
			for i, doc := range docs {
				if doc.Design != DesignSameSpan {
					t.Errorf("comparison %d: design %s, want %s: the processes ran side by side", i, doc.Design, DesignSameSpan)
				}
			}
			for _, name := range sc.tested {
				if n := ta.tested[name]; n != ta.comparisons {
					t.Errorf("%s tested in %d of %d comparisons: the scenario must make it available", name, n, ta.comparisons)
				}
			}
			for _, f := range Figures {
				o := ta.figures[f.Name]
				q, want := o.quiet(), need(o.n, aaPass)
				check(t, "aa/"+sc.name+"/"+f.Name, q >= want,
					fmt.Sprintf("%s: no significant change in %d of %d comparisons, want at least %d (%.0f %%): %s [%s]",
						f.Name, q, o.n, want, aaPass*100, o, strings.Join(o.examples, "; ")))
			}
		})
	}
}

// abScenarios are the A/B scenarios: the problem (side 0), its fix (side
// 1), and the figures the fix is expected to improve (the issue's
// expectations; knownFailures says which the recordings do not bear out).
// The gomaxprocs scenario's change shows in the run-queue wait: the
// GOMAXPROCS=4 side's threads wait for the CPU it can get. Its throttled
// share (better in 11 of 24, from 16.8 % of the periods to 1.0 %) is
// reported in the table, not asserted: beside its neighbour on 2 CPUs that
// side seldom reached its 1-CPU quota.
var abScenarios = []struct {
	name   string
	better []string
}{
	{"calls", []string{FigAsyncPreempt}},
	{"gomaxprocs", []string{FigRunQueueWaitRate}},
	{"cgo", []string{FigCgoCallsPerSec, FigCgoCrossing}},
}

func TestRecordedAB(t *testing.T) {
	_, pairs := loadRecorded(t)
	for _, sc := range abScenarios {
		t.Run(sc.name, func(t *testing.T) {
			p := pairs[sc.name]
			if p == nil {
				t.Fatalf("no recorded scenario %s", sc.name)
			}
			checkRecording(t, p)
			for _, dir := range []struct {
				name          string
				before, after []Replicate
				sides         [2]string
				want          string
			}{
				{"problem→fix", p.a, p.b, p.sides, VerdictBetter},
				{"fix→problem", p.b, p.a, [2]string{p.sides[1], p.sides[0]}, VerdictWorse},
			} {
				ta := newTally()
				ta.run(blocks(dir.before), blocks(dir.after))
				ta.log(t, fmt.Sprintf("%s %s (%s → %s)", sc.name, dir.name, dir.sides[0], dir.sides[1]), dir.sides)
				for _, name := range sc.better {
					o := ta.figures[name]
					got, want := o.verdicts[dir.want], need(o.n, abPass)
					check(t, "ab/"+sc.name+"/"+name, got >= want,
						fmt.Sprintf("%s %s: %s in %d of %d comparisons, want at least %d (%.0f %%): %s",
							dir.name, name, dir.want, got, o.n, want, abPass*100, o))
				}
			}
		})
	}
}

// TestRecordedSequentialAA reports, for every recorded process, its first
// half of blocks against its second half: a before/after comparison of one
// process running the same workload all along. Unlike two processes side
// by side, it sees a change of load between the halves as a difference, as
// Compare's design note says; so it is reported, not asserted.
func TestRecordedSequentialAA(t *testing.T) {
	m, pairs := loadRecorded(t)
	all := newTally()
	for _, s := range m.Scenarios {
		p := pairs[s.Name]
		for i, reps := range [2][]Replicate{p.a, p.b} {
			bs := blocks(reps)
			half := len(bs) / 2
			ta := newTally()
			docs := ta.run(bs[:half], bs[half:2*half])
			all.run(bs[:half], bs[half:2*half])
			for j, doc := range docs {
				if doc.Design != DesignSequential {
					t.Errorf("%s-%s comparison %d: design %s, want %s", s.Name, p.sides[i], j, doc.Design, DesignSequential)
				}
			}
			ta.log(t, fmt.Sprintf("sequential %s-%s (first half of blocks → second half)", s.Name, p.sides[i]), [2]string{"1st", "2nd"})
		}
	}
	all.log(t, "sequential, all processes together", [2]string{"1st", "2nd"})
}

// TestPairWindows checks the pairing of two processes' windows by time.
func TestPairWindows(t *testing.T) {
	t0 := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	w := func(seq uint64, start, end time.Duration) api.WindowReport {
		return api.WindowReport{Seq: seq, Start: t0.Add(start), End: t0.Add(end)}
	}
	s := time.Second
	a := []api.WindowReport{w(1, 0, 2*s), w(2, 2*s, 4*s), w(3, 4*s, 6*s), w(4, 6*s, 8*s)}
	// b started 300 ms later and lost a window's worth of time after its
	// second (a long pause).
	b := []api.WindowReport{w(1, 300*time.Millisecond, 2300*time.Millisecond), w(2, 2300*time.Millisecond, 4300*time.Millisecond),
		w(3, 6300*time.Millisecond, 8300*time.Millisecond)}
	var got [][2]uint64
	for _, p := range pairWindows(a, b, 2*s) {
		got = append(got, [2]uint64{p[0].Seq, p[1].Seq})
	}
	want := [][2]uint64{{1, 1}, {2, 2}, {4, 3}}
	if !slices.Equal(got, want) {
		t.Errorf("pairs %v, want %v", got, want)
	}
}

// TestRecordedOverMinutes compares each scenario's two processes over the
// whole recording (all their paired windows, about 4 minutes, in one
// comparison), as a canary would be compared with its baseline after a
// few minutes: the A/A pairs must find no significant change on any
// figure, and the A/B pairs the difference the recording has, including
// the calls pair's 4.2 points that 5-window blocks cannot find (see
// knownFailures: ab/calls, for why that difference is not the fix's).
func TestRecordedOverMinutes(t *testing.T) {
	_, pairs := loadRecorded(t)
	compareAll := func(t *testing.T, name string) *Document {
		p := pairs[name]
		if p == nil {
			t.Fatalf("no recorded scenario %s", name)
		}
		doc := Compare(Side{Input: p.sides[0], Source: "agent history", Replicates: p.a},
			Side{Input: p.sides[1], Source: "agent history", Replicates: p.b}, Options{})
		if doc.Design != DesignSameSpan {
			t.Errorf("design %s, want %s", doc.Design, DesignSameSpan)
		}
		for _, r := range doc.Figures {
			t.Logf("%s %s → %s: %s, %s (%s)", r.Figure, fmtValue(r.Unit, r.Before), fmtValue(r.Unit, r.After), r.Verdict, r.Test, p.sides)
		}
		return doc
	}
	for _, sc := range aaScenarios {
		t.Run(sc.name, func(t *testing.T) {
			doc := compareAll(t, sc.name)
			for _, r := range doc.Figures {
				if isSignificant(r.Verdict) {
					t.Errorf("%s: %s over the whole A/A recording (p_adj %s)", r.Figure, r.Verdict, fmtP(r.PAdjusted))
				}
			}
		})
	}
	for _, sc := range abScenarios {
		t.Run(sc.name, func(t *testing.T) {
			doc := compareAll(t, sc.name)
			for _, name := range sc.better {
				i := slices.IndexFunc(doc.Figures, func(r Result) bool { return r.Figure == name })
				if i < 0 {
					t.Fatalf("no figure %s", name)
				}
				if r := doc.Figures[i]; r.Verdict != VerdictBetter {
					t.Errorf("%s: %s over the whole recording, want %s (p_adj %s)", name, r.Verdict, VerdictBetter, fmtP(r.PAdjusted))
				}
			}
		})
	}
}

func fmtP(p *float64) string {
	if p == nil {
		return "–"
	}
	return fmt.Sprintf("%.3g", *p)
}
