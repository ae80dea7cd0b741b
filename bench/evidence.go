package main

// The evidence part: what the agent's loop evidence costs a CPU-bound job.
// When a window raises a scheduling-latency or async-preemption warning the
// agent gathers loop evidence, at most once per Cooldown: a 1 s execution
// trace, summarized, then (when the trace saw goroutines run 10 ms or more
// until async preemption) a goroutine dump, which stops the world. Both
// sides run the agent continuously; only B's thresholds make every window
// warn, so the difference is the gatherings.

import (
	"fmt"
	"runtime"
	"runtime/trace"
	"strconv"
	"sync"
	"time"

	"github.com/diagkit/diagkit/diag"
)

// evidencePoll is how often the evidence children poll Agent.Evidence: far
// more often than a gathering (one per cooldown, each about 1 s long) can
// be missed.
const evidencePoll = 250 * time.Millisecond

// gatheringInfo is one loop evidence a child saw the agent gather.
type gatheringInfo struct {
	At               float64 `json:"at"` // seconds since the child started
	TraceSeconds     float64 `json:"trace_seconds"`
	TraceBytes       int     `json:"trace_bytes"`
	AsyncPreemptions int     `json:"async_preemptions"`
	RunsOver10ms     int     `json:"runs_over_10ms"`
	Dumped           bool    `json:"dumped"` // a goroutine dump was taken
	Goroutines       int     `json:"goroutines"`
	Sites            int     `json:"sites"` // places the long runs were located
	Note             string  `json:"note,omitempty"`
}

// evidenceResult is what an evidence child saw.
type evidenceResult struct {
	Gatherings []gatheringInfo `json:"gatherings"`
	// Tail: the work ended while a trace ran; the child waited for that
	// gathering to finish, so its whole cost is in the child's CPU time.
	Tail bool `json:"tail,omitempty"`
}

// evidenceWatch polls an agent's loop evidence and records each distinct
// one (by Time).
type evidenceWatch struct {
	a     *diag.Agent
	start time.Time
	done  chan struct{}
	wg    sync.WaitGroup

	mu   sync.Mutex
	last time.Time
	res  evidenceResult
}

func watchEvidence(a *diag.Agent, start time.Time, every time.Duration) *evidenceWatch {
	w := &evidenceWatch{a: a, start: start, done: make(chan struct{})}
	w.wg.Add(1)
	go func() {
		defer w.wg.Done()
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-w.done:
				return
			case <-t.C:
				w.poll()
			}
		}
	}()
	return w
}

func (w *evidenceWatch) poll() int {
	ev := w.a.Evidence()
	w.mu.Lock()
	defer w.mu.Unlock()
	if ev != nil && !ev.Time.Equal(w.last) {
		w.last = ev.Time
		g := gatheringInfo{At: ev.Time.Sub(w.start).Seconds(), Dumped: ev.Goroutines > 0, Goroutines: ev.Goroutines,
			Sites: len(ev.Preempted), Note: ev.Note + ev.TraceNote}
		if t := ev.Trace; t != nil {
			g.TraceSeconds, g.TraceBytes = t.Seconds, t.Bytes
			g.AsyncPreemptions, g.RunsOver10ms = t.AsyncPreemptions, t.RunsOver10ms
		}
		w.res.Gatherings = append(w.res.Gatherings, g)
	}
	return len(w.res.Gatherings)
}

// finish stops polling. With wait, it first lets the agent become quiet:
// a short grace (a gathering past its trace finishes its summary and dump
// in it), and, if a trace is running, until that gathering is done (at
// most 5 s); both sides of the evidence comparison wait the grace. Without
// wait (the overhead part, which only counts the gatherings), a gathering
// in progress at exit is not counted.
func (w *evidenceWatch) finish(wait bool) *evidenceResult {
	close(w.done)
	w.wg.Wait()
	if !wait {
		w.poll()
		w.mu.Lock()
		defer w.mu.Unlock()
		res := w.res
		return &res
	}
	time.Sleep(300 * time.Millisecond)
	n := w.poll()
	if trace.IsEnabled() {
		w.res.Tail = true
		for deadline := time.Now().Add(5 * time.Second); w.poll() == n && time.Now().Before(deadline); {
			time.Sleep(20 * time.Millisecond)
		}
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	res := w.res
	return &res
}

// benchEvidence compares a continuous agent that never gathers evidence
// with one that gathers it once per cooldown.
func benchEvidence(c config) error {
	exe, err := benchExe()
	if err != nil {
		return err
	}
	procs := runtime.GOMAXPROCS(0)
	// Sized by CPU time, not by a timed run as the overhead part does: a run
	// takes c.evidenceRun of wall time when the child has every CPU, longer
	// when other processes take some, so that it holds at least two
	// gatherings whatever the load at the start.
	per := unitCPU()
	units := int(c.evidenceRun * time.Duration(procs) / per)
	off := agentConfig{name: "continuous, evidence off", on: true, window: 2 * time.Second, interval: 2 * time.Second,
		schedLatency: -1, asyncPreempt: -1, cooldown: c.evidenceCooldown}
	on := off
	on.name = fmt.Sprintf("continuous, evidence every %v", c.evidenceCooldown)
	on.schedLatency = time.Nanosecond // every window warns
	cfgs := []agentConfig{off, on}
	logf("evidence: one unit of work is %v of CPU; %d units per run (%v of wall time on %d idle CPUs); %d rounds", per, units, c.evidenceRun, procs, c.pairs)

	var (
		cpu, wall, windows [2][]float64
		gatherings, costs  []float64
		gs                 []gatheringInfo
		tails              int
	)
	load := newLoadTracker()
	for i := range c.pairs {
		order := []int{0, 1}
		if i%2 == 1 {
			order = []int{1, 0}
		}
		var runs [2]childRun
		for _, k := range order {
			ac := cfgs[k]
			run, err := runChild(exe, "overhead", append([]string{"-units", strconv.Itoa(units), "-evidence-poll", evidencePoll.String(), "-evidence-wait"}, ac.args()...)...)
			if err != nil {
				return err
			}
			ev := run.res.Evidence
			if ev == nil {
				return fmt.Errorf("evidence: agent %q: the child reported no evidence watch", ac.name)
			}
			n := len(ev.Gatherings)
			w := time.Duration(run.res.WallSeconds * float64(time.Second))
			// A gathering holds up the next window by its trace and more,
			// and on a loaded machine the windows' analyses lag: at least
			// half the windows that would fit is enough to show the agent
			// profiled all along.
			want := max(1, ac.expectWindows(max(0, w-time.Duration(n)*1500*time.Millisecond))/2)
			switch {
			case run.res.Windows < want || run.res.Failures > 0:
				return fmt.Errorf("evidence: agent %q completed %d windows (%d failed) in %v with %d gatherings; want at least %d and no failure",
					ac.name, run.res.Windows, run.res.Failures, w.Round(time.Millisecond), n, want)
			case k == 0 && n > 0:
				return fmt.Errorf("evidence: agent %q gathered evidence %d times; want none", ac.name, n)
			case k == 1 && n == 0:
				return fmt.Errorf("evidence: agent %q gathered no evidence in %v", ac.name, w.Round(time.Millisecond))
			case k == 1 && n < 2:
				logf("evidence: warning: only %d gathering in a run of %v", n, w.Round(time.Millisecond))
			}
			if k == 1 {
				gs = append(gs, ev.Gatherings...)
				if ev.Tail {
					tails++
				}
			}
			runs[k] = run
			cpu[k] = append(cpu[k], run.cpu.Seconds())
			wall[k] = append(wall[k], run.wall.Seconds())
			windows[k] = append(windows[k], float64(run.res.Windows))
		}
		n := float64(len(runs[1].res.Evidence.Gatherings))
		gatherings = append(gatherings, n)
		costs = append(costs, (runs[1].cpu-runs[0].cpu).Seconds()/n)
		load.sample()
		logf("evidence: round %d/%d: CPU %.2f/%.2f s, %d windows/%d, %.0f gatherings, %+.0f ms each; load %s", i+1, c.pairs,
			cpu[0][i], cpu[1][i], runs[0].res.Windows, runs[1].res.Windows, n, 1000*costs[i], loadavg())
	}
	load.stop()

	r := summarize(ratio(cpu[1], cpu[0]))
	cs := summarize(costs)
	ns := summarize(gatherings)
	fmt.Printf("### Loop evidence: its cost on a CPU-bound job (fixed work, child process CPU time)\n\n")
	fmt.Printf("%d rounds; each runs the same child job (%d units of CPU-bound work, %.1f s of CPU at %v a unit, in %d goroutines) twice, with the agent continuous (%v windows every %v, Cooldown %v): A with SchedLatencyThreshold and AsyncPreemptThreshold off, so that it never gathers loop evidence; B with SchedLatencyThreshold 1ns, so that every window warns and evidence is gathered once per cooldown (a %v execution trace, summarized, then a goroutine dump if the trace saw runs of 10 ms or more end in async preemption). A then B on even rounds, B then A on odd ones. Both children poll Agent.Evidence every %v and count the distinct Time values. Ratio = the child's CPU time (wait4: user+sys, all threads) B / A within the round; cost per gathering = (CPU B − CPU A) / B's gatherings, per round.\n\n",
		c.pairs, units, (time.Duration(units) * per).Seconds(), per.Round(100*time.Nanosecond), procs,
		off.window, off.interval, c.evidenceCooldown, time.Second, evidencePoll)
	fmt.Println("| measure | pairs | median | min | max | IQR (p25–p75) |")
	fmt.Println("|---|---|---|---|---|---|")
	fmt.Printf("| CPU ratio, evidence every %v / off | %d | **%.4f** (%+.2f %%) | %.4f | %.4f | %.4f–%.4f |\n",
		c.evidenceCooldown, r.n, r.median, 100*(r.median-1), r.min, r.max, r.p25, r.p75)
	fmt.Printf("| gatherings per B run | %d | %.0f | %.0f | %.0f | %.0f–%.0f |\n", ns.n, ns.median, ns.min, ns.max, ns.p25, ns.p75)
	fmt.Printf("| CPU per gathering, (B − A) / gatherings | %d | **%.0f ms** | %.0f ms | %.0f ms | %.0f–%.0f ms |\n",
		cs.n, 1000*cs.median, 1000*cs.min, 1000*cs.max, 1000*cs.p25, 1000*cs.p75)
	cooldown := diag.DefaultCooldown.Seconds()
	fmt.Printf("| amortized at the default Cooldown (%v), share of 1 CPU: cost / %.0f s | | **%.4f %%** | | | %.4f–%.4f %% |\n",
		diag.DefaultCooldown, cooldown, 100*cs.median/cooldown, 100*cs.p25/cooldown, 100*cs.p75/cooldown)
	fmt.Println()

	var traceBytes, traceSecs, async, long []float64
	dumped, located := 0, 0
	notes := map[string]int{}
	for _, g := range gs {
		traceBytes = append(traceBytes, float64(g.TraceBytes))
		traceSecs = append(traceSecs, g.TraceSeconds)
		async = append(async, float64(g.AsyncPreemptions))
		long = append(long, float64(g.RunsOver10ms))
		if g.Dumped {
			dumped++
		}
		if g.Sites > 0 {
			located++
		}
		if g.Note != "" {
			notes[g.Note]++
		}
	}
	tb, tsec, as, lr := summarize(traceBytes), summarize(traceSecs), summarize(async), summarize(long)
	fmt.Printf("Context: %d gatherings in all; per gathering (median, range): trace %.2f s (%.2f–%.2f), %.0f KB (%.0f–%.0f), %.0f async preemptions (%.0f–%.0f), %.0f runs of 10 ms or more (%.0f–%.0f); a goroutine dump in %d of %d, long runs located in %d; %d of %d B runs ended during a trace (the child waited for it to finish).",
		len(gs), tsec.median, tsec.min, tsec.max, tb.median/1e3, tb.min/1e3, tb.max/1e3, as.median, as.min, as.max,
		lr.median, lr.min, lr.max, dumped, len(gs), located, tails, c.pairs)
	for n, k := range notes {
		fmt.Printf(" Note %q in %d.", n, k)
	}
	fmt.Print(" Median CPU per run")
	for k := range cfgs {
		s := summarize(cpu[k])
		fmt.Printf("%s %s %.2f s (%.2f–%.2f)", sep(k), cfgs[k].name, s.median, s.min, s.max)
	}
	fmt.Print("; median wall per run")
	for k := range cfgs {
		s := summarize(wall[k])
		fmt.Printf("%s %s %.1f s (%.1f–%.1f)", sep(k), cfgs[k].name, s.median, s.min, s.max)
	}
	fmt.Print("; windows completed per run")
	for k := range cfgs {
		s := summarize(windows[k])
		fmt.Printf("%s %s %.0f (%.0f–%.0f)", sep(k), cfgs[k].name, s.median, s.min, s.max)
	}
	w := summarize(ratio(wall[1], wall[0]))
	fmt.Printf(". Wall-time ratio B / A (context) %.3f (IQR %.3f–%.3f). Machine during the rounds: %s.\n\n", w.median, w.p25, w.p75, load)
	return nil
}
