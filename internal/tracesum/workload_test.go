package tracesum

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/trace"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// The workloads below run in the test process under runtime/trace, one at a
// time (the tracer is per process), and their summaries are checked against
// what the workload did. None of these tests runs in parallel.

// thisPkg prefixes the test functions' names in stacks.
const thisPkg = "github.com/diagkit/diagkit/internal/tracesum."

// sink keeps the workloads' results alive.
var sink atomic.Uint64

// spinLoop is a loop with no function call in its body: only an async
// preemption (a signal) can stop it. It checks stop every 2^19 steps (about
// a millisecond).
//
//go:noinline
func spinLoop(stop *atomic.Bool) uint64 {
	x := uint64(1)
	for !stop.Load() {
		for range 1 << 19 {
			x = x*6364136223846793005 + 1442695040888963407
			x ^= x >> 31
		}
	}
	return x
}

// callLoop is a busy loop that calls a recursive function, whose prologue
// checks the stack: there, a preemption request is honored cooperatively,
// before the signal that also requests it arrives.
//
//go:noinline
func callLoop(stop *atomic.Bool) uint64 {
	x := uint64(1)
	for !stop.Load() {
		for range 1 << 12 {
			x = callStep(x, 8)
		}
	}
	return x
}

// pinnedSteps is countedLoop's length for TestBalance: about 0.15 s here
// (0.5 s when other work shares the CPUs), bounded on any machine, and short
// of the tracer's 1 s generations, whose switch a loop nothing can preempt
// would hold up (with the tracer's goroutine spinning on the other P
// meanwhile).
const pinnedSteps = 150

// countedLoop is spinLoop that stops by itself after n rounds of 2^19 steps.
//
//go:noinline
func countedLoop(n int) uint64 {
	x := uint64(1)
	for range n {
		for range 1 << 19 {
			x = x*6364136223846793005 + 1442695040888963407
			x ^= x >> 31
		}
	}
	return x
}

//go:noinline
func callStep(x uint64, depth int) uint64 {
	if depth == 0 {
		return x*6364136223846793005 + 1442695040888963407
	}
	return callStep(x, depth-1) ^ x>>31
}

// recorded is a workload's trace and summary.
type recorded struct {
	data    []byte
	s       *Summary
	elapsed time.Duration // wall time of the workload, inside the trace
}

// record runs work under an execution trace with GOMAXPROCS set to procs and
// summarizes the trace.
func record(t *testing.T, procs int, work func()) recorded {
	t.Helper()
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
	var buf bytes.Buffer
	if err := trace.Start(&buf); err != nil {
		t.Skipf("cannot start an execution trace (go test -trace?): %v", err)
	}
	start := time.Now()
	work()
	elapsed := time.Since(start)
	trace.Stop()
	s, err := Summarize(bytes.NewReader(buf.Bytes()), Options{})
	if err != nil {
		t.Fatalf("Summarize: %v", err)
	}
	checkInvariants(t, s)
	if testing.Verbose() {
		b, _ := json.Marshal(s)
		t.Logf("%d bytes of trace; summary: %s", buf.Len(), b)
	}
	return recorded{buf.Bytes(), s, elapsed}
}

// spinFor runs n goroutines running loop until d has passed.
func spinFor(n int, d time.Duration, loop func(*atomic.Bool) uint64) {
	var stop atomic.Bool
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sink.Add(loop(&stop))
		}()
	}
	time.Sleep(d)
	stop.Store(true)
	wg.Wait()
}

// checkInvariants checks what holds for any summary.
func checkInvariants(t *testing.T, s *Summary) {
	t.Helper()
	if s.Schema != Schema {
		t.Errorf("schema %q", s.Schema)
	}
	p := s.Preemptions
	if p.Total != p.Async+p.Cooperative+p.RuntimeYield+p.Unknown {
		t.Errorf("preemptions: total %d != async %d + cooperative %d + yield %d + unknown %d",
			p.Total, p.Async, p.Cooperative, p.RuntimeYield, p.Unknown)
	}
	var busy float64
	for _, pb := range s.Balance.Procs {
		if pb.Share < 0 || pb.Share > 1+1e-9 {
			t.Errorf("P%d busy share %.4f outside [0, 1]", pb.ID, pb.Share)
		}
		busy += pb.BusySeconds
	}
	if d := busy + s.Balance.UnattributedSeconds - s.Balance.BusySeconds; d > 1e-6 || d < -1e-6 {
		t.Errorf("per-P busy time sums to %.6f s + %.6f unattributed, total says %.6f", busy, s.Balance.UnattributedSeconds, s.Balance.BusySeconds)
	}
	if s.Balance.MinShare > s.Balance.MeanShare+1e-12 || s.Balance.MeanShare > s.Balance.MaxShare+1e-12 {
		t.Errorf("shares: min %.4f, mean %.4f, max %.4f out of order", s.Balance.MinShare, s.Balance.MeanShare, s.Balance.MaxShare)
	}
	for i := 1; i < len(s.LongestRuns); i++ {
		if s.LongestRuns[i].Seconds > s.LongestRuns[i-1].Seconds {
			t.Errorf("longest runs not sorted at %d", i)
		}
	}
	w := s.RunnableWait
	if !(w.P50Seconds <= w.P90Seconds && w.P90Seconds <= w.P99Seconds && w.P99Seconds <= w.P999Seconds && w.P999Seconds <= w.MaxSeconds) {
		t.Errorf("wait percentiles out of order: %+v", w)
	}
	if s.RunnableWaitP99Seconds != w.P99Seconds {
		t.Errorf("runnable_wait_p99_seconds %v != runnable_wait.p99_seconds %v", s.RunnableWaitP99Seconds, w.P99Seconds)
	}
	var n int64
	for _, b := range w.Histogram {
		n += b.Count
	}
	if n != w.Count {
		t.Errorf("wait histogram holds %d waits, count says %d", n, w.Count)
	}
	if s.Cgo.TotalSeconds > s.DurationSeconds*float64(max(s.Goroutines, 1)) || s.Syscalls.MaxSeconds > s.DurationSeconds+1e-9 {
		t.Errorf("call times beyond the trace: %+v %+v", s.Syscalls, s.Cgo)
	}
	if s.Interpretation == "" {
		t.Error("no interpretation")
	}
}

// checkEven checks that two Ps kept busy by loops were evenly busy: each
// 99 % of the time on an idle machine, and, with other processes loading its
// CPUs, at least half of it (a thread woken to run a P may wait for a CPU,
// its P idle meanwhile), with a coefficient of variation well under the
// 0.5 that Interpret calls uneven (and that TestBalance's pinned loop
// exceeds).
func checkEven(t *testing.T, b Balance) {
	t.Helper()
	if len(b.Procs) != 2 || b.MinShare < 0.5 || b.CV > 0.3 {
		t.Errorf("loops on 2 Ps: %d Ps, busy shares %.3f to %.3f (cv %.3f); want both ≥ 0.5, cv ≤ 0.3", len(b.Procs), b.MinShare, b.MaxShare, b.CV)
	}
}

// checkSlices checks that n preemptions cut busy seconds of loops that
// never block into time slices of sysmon's making: at least its 10 ms (9 ms,
// for the trace's clock), about 20 ms on an idle machine, and at most a
// second, which a machine loaded enough to starve sysmon itself of CPU
// approaches (280 ms seen with a load average of 7.5 on 2 CPUs) but which
// preemptions left uncounted would exceed. It returns the mean slice.
func checkSlices(t *testing.T, n int64, busy float64) float64 {
	t.Helper()
	if n == 0 {
		t.Errorf("no preemptions in %.3f s of busy loops", busy)
		return 0
	}
	slice := busy / float64(n)
	if slice < 0.009 || slice > 1 {
		t.Errorf("%d preemptions in %.3f s of busy loops: slices of %s, want 10 ms to 1 s", n, busy, FormatDuration(slice))
	}
	return slice
}

// checkPreemptionsFlag checks that the interpretation flags the preemptions
// exactly when their rate reaches the threshold, which loops preempted every
// ~20 ms do (on a machine too loaded for sysmon to keep that pace, the rate
// may fall under it; TestInterpret checks the rule itself).
func checkPreemptionsFlag(t *testing.T, s *Summary, fn string) {
	t.Helper()
	flagged := strings.Contains(s.Interpretation, "preemptions (")
	want := s.Preemptions.Total >= preemptionsMinFlag && s.Preemptions.PerBusySecond >= PreemptionsPerBusySecondFlag
	if flagged != want || want && !strings.Contains(s.Interpretation, fn) {
		t.Errorf("interpretation %q for %d preemptions, %.1f per busy second: want them flagged (in %s) = %v",
			s.Interpretation, s.Preemptions.Total, s.Preemptions.PerBusySecond, fn, want)
	}
	if !want {
		t.Logf("preemptions at %.1f per busy second, under the %.0f flagged: sysmon starved of CPU?", s.Preemptions.PerBusySecond, PreemptionsPerBusySecondFlag)
	}
}

// ours returns the runs of goroutines started by this package's tests whose
// function (where the run ended) is fn, or any if fn is "".
func ours(runs []Run, fn string) []Run {
	var out []Run
	for _, r := range runs {
		if strings.HasPrefix(r.GoroutineFunction, thisPkg) && (fn == "" || r.Function == thisPkg+fn) {
			out = append(out, r)
		}
	}
	return out
}

// TestTightLoops: four goroutines in call-free loops on two Ps. Each runs
// until sysmon has it preempted, which for such a loop takes a signal, so
// nearly every preemption is async; the runs last a time slice (10 ms, a
// little more as sysmon samples); the Ps are busy all along and a runnable
// goroutine waits about one slice of the other goroutine on its P.
func TestTightLoops(t *testing.T) {
	const d = time.Second
	rec := record(t, 2, func() { spinFor(4, d, spinLoop) })
	s := rec.s
	t.Logf("preemptions %+v; busy %.3f s of %.3f s × %d Ps (cv %.3f); wait p50 %s p99 %s",
		s.Preemptions, s.Balance.BusySeconds, s.DurationSeconds, s.Procs, s.Balance.CV,
		FormatDuration(s.RunnableWait.P50Seconds), FormatDuration(s.RunnableWait.P99Seconds))

	if s.Procs != 2 || s.ProcsSource != "gomaxprocs" {
		t.Errorf("procs %d (%s), want 2 from GOMAXPROCS", s.Procs, s.ProcsSource)
	}
	if want := "go1." + strings.TrimPrefix(runtime.Version(), "go1.")[:2]; s.GoVersion != want {
		t.Errorf("go_version %q, want %q (this test binary's %s)", s.GoVersion, want, runtime.Version())
	}
	p := s.Preemptions
	// The loops never block: preemptions are all that cut the Ps' busy
	// time into slices, which sysmon makes at least 10 ms long (here ~20
	// ms; more on a loaded machine, where sysmon itself waits for a CPU).
	slice := checkSlices(t, p.Async, s.Balance.BusySeconds) // ~20 ms here
	if p.Async < p.Total*9/10 {
		t.Errorf("%d of %d preemptions async: a call-free loop can only be stopped by a signal", p.Async, p.Total)
	}
	if len(p.Functions) == 0 || p.Functions[0].Function != thisPkg+"spinLoop" || !strings.HasSuffix(p.Functions[0].File, "workload_test.go") {
		t.Errorf("preempted functions %+v, want spinLoop in workload_test.go first", p.Functions)
	}
	// The longest runs are the loops, stopped by an async preemption,
	// each at least a time slice (on a loaded machine, where sysmon waits
	// for a CPU too, up to a good part of the trace).
	loops := ours(s.LongestRuns, "spinLoop")
	if len(loops) < len(s.LongestRuns)-1 || len(loops) == 0 {
		t.Fatalf("longest runs %+v: want spinLoop's", s.LongestRuns)
	}
	top := loops[0]
	if top.Seconds < 0.010 || top.Line == 0 || !strings.HasSuffix(top.File, "workload_test.go") {
		t.Errorf("longest run %+v: want 10 ms or more in spinLoop at workload_test.go:NN", top)
	}
	if top.Ended != "preempted (async)" && top.Ended != "trace end" && !strings.HasPrefix(top.Ended, "blocked") {
		t.Errorf("longest run ended %q, want preempted (async)", top.Ended)
	}
	// Both Ps ran loops nearly all the time (99 % when the machine is
	// idle; when other processes load its CPUs, a thread woken to run a P
	// may wait for one, and its P shows idle meanwhile).
	checkEven(t, s.Balance)
	// A preempted loop waits while the other goroutines queued on the Ps
	// run their slices: 4 goroutines on 2 Ps, so the typical wait is a
	// good part of a slice (10 ms and more), not the microseconds a
	// goroutine waits for an idle P (TestSleeper).
	w := s.RunnableWait
	if w.Count < p.Async {
		t.Errorf("%d waits, fewer than the %d preemptions that each made a goroutine runnable", w.Count, p.Async)
	}
	if w.P50Seconds < 0.003 || w.P50Seconds > 3*slice {
		t.Errorf("runnable wait p50 %s: want 3 ms to three time slices (%s each)", FormatDuration(w.P50Seconds), FormatDuration(slice))
	}
	checkPreemptionsFlag(t, s, "spinLoop")
}

// TestCallLoops: the same, but the loops call a function whose prologue
// checks the stack, where a preemption request can be honored cooperatively.
// In this process a signal races with the check and wins whenever the thread
// is off the CPU when sysmon asks (the machine is shared), so both kinds
// show; in a child with async preemption off (GODEBUG=asyncpreemptoff=1)
// every preemption must be cooperative.
func TestCallLoops(t *testing.T) {
	if os.Getenv(childEnv) == "callloops" {
		recordChild(t, 2, func() { spinFor(4, time.Second, callLoop) })
		return
	}
	checkCallLoops := func(t *testing.T, s *Summary) {
		t.Helper()
		p := s.Preemptions
		t.Logf("preemptions %+v", p)
		checkSlices(t, p.Total, s.Balance.BusySeconds)
		if len(p.Functions) == 0 || !strings.HasPrefix(p.Functions[0].Function, thisPkg+"call") {
			t.Errorf("preempted functions %+v: want callLoop or callStep first", p.Functions)
		}
	}
	t.Run("async on", func(t *testing.T) {
		rec := record(t, 2, func() { spinFor(4, time.Second, callLoop) })
		p := rec.s.Preemptions
		checkCallLoops(t, rec.s)
		if p.Cooperative < p.Total/10 {
			t.Errorf("%d of %d preemptions cooperative: want at least 10%%, the loop reaches a stack check every few ns", p.Cooperative, p.Total)
		}
	})
	t.Run("async off", func(t *testing.T) {
		s, _ := runChild(t, "callloops", "GODEBUG=asyncpreemptoff=1")
		p := s.Preemptions
		checkCallLoops(t, s)
		if p.Async != 0 || p.Unknown != 0 || p.Cooperative < p.Total*9/10 {
			t.Errorf("with async preemption off: %d async, %d unknown, %d of %d cooperative; want 0, 0 and nearly all",
				p.Async, p.Unknown, p.Cooperative, p.Total)
		}
	})
}

// childEnv tells a test binary started by runChild which workload to trace,
// and childTraceEnv where to write the trace.
const (
	childEnv      = "DIAGKIT_TRACESUM_CHILD"
	childTraceEnv = "DIAGKIT_TRACESUM_CHILD_TRACE"
)

// runChild runs the current test again in a child process with the extra
// environment, for a workload that needs another runtime setting, and
// summarizes the trace it writes, which it returns with the file's name.
func runChild(t *testing.T, workload string, env ...string) (*Summary, string) {
	t.Helper()
	file := filepath.Join(t.TempDir(), "child.trace")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	name := strings.SplitN(t.Name(), "/", 2)[0]
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^"+name+"$", "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), append(env, childEnv+"="+workload, childTraceEnv+"="+file)...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	f, err := os.Open(file)
	if err != nil {
		t.Fatalf("child wrote no trace: %v\n%s", err, out)
	}
	defer f.Close()
	s, err := Summarize(f, Options{})
	if err != nil {
		t.Fatal(err)
	}
	checkInvariants(t, s)
	return s, file
}

// recordChild is the child's side of runChild: it traces work with
// GOMAXPROCS procs into the file the parent named.
func recordChild(t *testing.T, procs int, work func()) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
	f, err := os.Create(os.Getenv(childTraceEnv))
	if err != nil {
		t.Fatal(err)
	}
	if err := trace.Start(f); err != nil {
		t.Fatal(err)
	}
	work()
	trace.Stop()
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestSleeper: one goroutine that sleeps 10 ms, 50 times. The Ps are idle
// nearly all the time, the goroutine's runs are short, it is woken 50 times
// and, with idle Ps, gets one at once.
func TestSleeper(t *testing.T) {
	const naps = 50
	rec := record(t, 2, func() {
		done := make(chan struct{})
		go func() {
			defer close(done)
			for range naps {
				time.Sleep(10 * time.Millisecond)
			}
		}()
		<-done
	})
	s := rec.s
	b := s.Balance
	t.Logf("busy %.6f s over %.3f s (utilization %.5f); waits %+v", b.BusySeconds, s.DurationSeconds, b.Utilization, s.RunnableWait)
	// 50 wake-ups of a few microseconds each, plus the test's own
	// goroutines: far below 1 % of two Ps.
	if b.Utilization > 0.01 {
		t.Errorf("utilization %.4f: want < 1%% for a goroutine that sleeps", b.Utilization)
	}
	if s.Preemptions.Total > 2 {
		t.Errorf("%d preemptions of a sleeper", s.Preemptions.Total)
	}
	for _, r := range ours(s.LongestRuns, "") {
		if r.Seconds > 0.005 {
			t.Errorf("run %+v: a sleeper's run took more than 5 ms", r)
		}
	}
	w := s.RunnableWait
	if w.Count < naps || w.Count > naps+200 {
		t.Errorf("%d runnable waits: want the %d wake-ups and a few more", w.Count, naps)
	}
	// Woken with idle Ps: scheduled in microseconds. p50 allows for a
	// machine busy with other work.
	if w.P50Seconds > 0.002 {
		t.Errorf("runnable wait p50 %s with idle Ps: want < 2 ms", FormatDuration(w.P50Seconds))
	}
	if rec.elapsed < naps*10*time.Millisecond || s.DurationSeconds < rec.elapsed.Seconds() {
		t.Errorf("trace of %.3f s for a workload of %v", s.DurationSeconds, rec.elapsed)
	}
	if !strings.Contains(s.Interpretation, "mostly idle") {
		t.Errorf("interpretation %q: want it to say the process was mostly idle", s.Interpretation)
	}
}

// TestBalance: as many loops as Ps keep every P busy: even. One loop that
// nothing can preempt (async preemption off, no call in the loop) keeps one
// P busy and leaves the other idle: as uneven as two Ps get (cv 1).
func TestBalance(t *testing.T) {
	if os.Getenv(childEnv) == "pinned" {
		recordChild(t, 2, func() {
			// The loop decides when to stop, by counting: with async
			// preemption off, nothing can interrupt it, not even a
			// stop-the-world, so it must not wait for another goroutine.
			done := make(chan time.Duration)
			go func() {
				start := time.Now()
				sink.Add(countedLoop(pinnedSteps))
				done <- time.Since(start)
			}()
			took := <-done
			if err := os.WriteFile(os.Getenv(childTraceEnv)+".took", []byte(took.String()), 0o600); err != nil {
				t.Error(err)
			}
		})
		return
	}
	t.Run("even", func(t *testing.T) {
		rec := record(t, 2, func() { spinFor(2, time.Second, spinLoop) })
		b := rec.s.Balance
		t.Logf("shares %.3f–%.3f mean %.3f cv %.3f", b.MinShare, b.MaxShare, b.MeanShare, b.CV)
		checkEven(t, b)
		if strings.Contains(rec.s.Interpretation, "unevenly") {
			t.Errorf("interpretation %q flags an even load", rec.s.Interpretation)
		}
	})
	t.Run("one pinned goroutine", func(t *testing.T) {
		s, file := runChild(t, "pinned", "GODEBUG=asyncpreemptoff=1")
		raw, err := os.ReadFile(file + ".took")
		if err != nil {
			t.Fatal(err)
		}
		took, err := time.ParseDuration(string(raw))
		if err != nil {
			t.Fatal(err)
		}
		b := s.Balance
		t.Logf("loop took %v; trace %.3f s; procs %+v cv %.3f; preemptions %d; longest %+v",
			took, s.DurationSeconds, b.Procs, b.CV, s.Preemptions.Total, s.LongestRuns[0])
		// Nothing could stop the loop: it is one run, as long as the loop
		// measured itself. (The goroutine's clock readings bracket the
		// loop; the run ends at the first call after it, where the pending
		// preemption request stops it, so the second reading comes after
		// the goroutine waited to run again: "took" may exceed the run by
		// that wait.)
		if len(s.LongestRuns) == 0 {
			t.Fatal("no runs")
		}
		run := s.LongestRuns[0]
		if !strings.HasPrefix(run.GoroutineFunction, thisPkg+"TestBalance") ||
			math.Abs(run.Seconds-took.Seconds()) > 0.02*took.Seconds()+0.005 {
			t.Errorf("longest run %+v: want the loop's goroutine, %v long (±2%% + 5 ms)", run, took)
		}
		if len(b.Procs) != 2 {
			t.Fatalf("%d Ps, want 2", len(b.Procs))
		}
		// One P ran the loop. The other ran the rest: the main goroutine
		// (microseconds) and the tracer's advancer, which spins while it
		// waits for the unpreemptible P to acknowledge a new generation
		// (up to tens of milliseconds).
		busiest, other := b.Procs[0], b.Procs[1]
		if other.BusySeconds > busiest.BusySeconds {
			busiest, other = other, busiest
		}
		if busiest.BusySeconds < run.Seconds || other.BusySeconds > busiest.BusySeconds/4 || b.CV < 0.6 {
			t.Errorf("P busy %.3f s and %.3f s, cv %.3f: want one P busy for the %.3f s run, the other < 1/4 of that, cv > 0.6",
				busiest.BusySeconds, other.BusySeconds, b.CV, run.Seconds)
		}
		if !strings.Contains(s.Interpretation, "unevenly") {
			t.Errorf("interpretation %q: want the uneven Ps flagged", s.Interpretation)
		}
	})
	t.Run("one goroutine", func(t *testing.T) {
		// Preemptible, the loop may move between Ps; wherever it ran, it
		// did one P-second of work a second.
		rec := record(t, 4, func() { spinFor(1, time.Second, spinLoop) })
		b := rec.s.Balance
		t.Logf("procs %+v cv %.3f", b.Procs, b.CV)
		if len(b.Procs) != 4 || b.MeanShare < 0.2 || b.MeanShare > 0.3 {
			t.Errorf("%d Ps, mean share %.3f: want 4 Ps, ~0.25 (one loop on 4 Ps)", len(b.Procs), b.MeanShare)
		}
	})
}
