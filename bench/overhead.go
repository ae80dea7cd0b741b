package main

import (
	"fmt"
	"maps"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/diagkit/diagkit/diag"
)

// The agent's configurations the overhead part compares with no agent.
//
// The default duty cycle is a 10 s window every 60 s; runs of several
// minutes per side would make 20 pairs take hours, so the main comparison
// scales the cycle down to a 1 s window every 6 s, the same 1/6 duty cycle.
// That is conservative: what a window costs beyond the sampling itself
// (starting and stopping the profiler, building, parsing and analyzing the
// profile, reading /proc) is per window, and there are ten times as many.
var (
	agentOff            = agentConfig{name: "off"}
	agentDefaultScaled  = agentConfig{name: "default duty cycle, scaled (1 s every 6 s)", on: true, window: time.Second, interval: 6 * time.Second}
	agentContinuous2s   = agentConfig{name: "continuous (2 s windows)", on: true, window: 2 * time.Second, interval: 2 * time.Second}
	agentDefaultReal    = agentConfig{name: "defaults (10 s every 60 s)", on: true, window: 10 * time.Second, interval: 60 * time.Second}
	agentContinuous10s  = agentConfig{name: "continuous (10 s windows)", on: true, window: 10 * time.Second, interval: 10 * time.Second}
	overheadTargetLabel = map[string]string{
		agentDefaultScaled.name: "≤ 0.5 %",
		agentDefaultReal.name:   "≤ 0.5 %",
		agentContinuous2s.name:  "≤ 2 %",
		agentContinuous10s.name: "≤ 2 %",
	}
	overheadTarget = map[string]float64{
		agentDefaultScaled.name: 1.005,
		agentDefaultReal.name:   1.005,
		agentContinuous2s.name:  1.02,
		agentContinuous10s.name: 1.02,
	}
)

// unitCPU measures the CPU time of one unit of work in this process, one
// goroutine, best of three blocks.
func unitCPU() time.Duration {
	b := newBurner(1)
	for r := range 200 {
		b.unit(r)
	}
	best := time.Duration(1 << 62)
	for range 3 {
		const n = 2000
		c0 := cpuTime()
		for r := range n {
			b.unit(r)
		}
		best = min(best, (cpuTime()-c0)/n)
	}
	return max(best, time.Microsecond)
}

// sizeWork returns how many units of work make an overhead child without
// the agent take about run of wall time under the load of the moment (one
// run to warm up, one to measure), and the CPU time of one unit.
func sizeWork(exe string, run time.Duration) (units int, per time.Duration, err error) {
	procs := runtime.GOMAXPROCS(0)
	per = unitCPU()
	units = int(2 * time.Second * time.Duration(procs) / per)
	var wall time.Duration
	for i := range 2 {
		r, err := runChild(exe, "overhead", append([]string{"-units", strconv.Itoa(units)}, agentOff.args()...)...)
		if err != nil {
			return 0, 0, err
		}
		if i == 1 {
			wall = r.wall
		}
	}
	return max(procs, int(float64(units)*run.Seconds()/wall.Seconds())), per, nil
}

// benchOverhead compares the CPU time a child takes for a fixed amount of
// CPU-bound work with the agent off and on.
func benchOverhead(c config) error {
	exe, err := benchExe()
	if err != nil {
		return err
	}
	procs := runtime.GOMAXPROCS(0)
	units, per, err := sizeWork(exe, c.overheadRun)
	if err != nil {
		return err
	}
	logf("overhead: one unit of work is %v of CPU; %d units per run (about %v of wall time now)", per, units, c.overheadRun)

	fmt.Printf("### Agent overhead on a CPU-bound job (fixed work, child process CPU time)\n\n")
	if c.pairs > 0 {
		scaled := []agentConfig{agentOff, agentDefaultScaled, agentContinuous2s}
		rs, err := overheadRounds(exe, units, scaled, c.pairs)
		if err != nil {
			return err
		}
		fmt.Printf("%d rounds; each runs the same child job (%d units of CPU-bound work, %.1f s of CPU at %v a unit, in %d goroutines) with the agent off, at the default duty cycle scaled down, and continuous; in that order on even rounds and reversed on odd ones. Ratio = the child's CPU time (wait4: user+sys, all threads) with the agent / without it, within the round. The agent listens on 127.0.0.1:0 and logs to zap.NewNop(); the child exits when the work is done, without stopping it. The agent keeps its default thresholds and Cooldown, so a window that raises a scheduling-latency or async-preemption warning has it gather loop evidence (a 1 s trace and a goroutine dump), at most once per Cooldown (%v): once per run at most here; the child polls Agent.Evidence every %v to count the gatherings.\n\n",
			c.pairs, units, (time.Duration(units) * per).Seconds(), per.Round(100*time.Nanosecond), procs, diag.DefaultCooldown, evidencePoll)
		rs.print(scaled)
	}

	if c.realPairs > 0 {
		realUnits := int(float64(units) * c.realRun.Seconds() / c.overheadRun.Seconds())
		real := []agentConfig{agentOff, agentDefaultReal, agentContinuous10s}
		logf("overhead: %d rounds at the real defaults, %d units per run (about %v)", c.realPairs, realUnits, c.realRun)
		rr, err := overheadRounds(exe, realUnits, real, c.realPairs)
		if err != nil {
			return err
		}
		fmt.Printf("#### At the real window lengths (%d rounds: fewer than 20)\n\n", c.realPairs)
		fmt.Printf("The same, with %d units (%.0f s of CPU) per run and the agent at its real defaults (10 s every 60 s) and continuous with 10 s windows.\n\n",
			realUnits, (time.Duration(realUnits) * per).Seconds())
		rr.print(real)
	}
	if c.cpuprofileDir != "" {
		return overheadProfiles(exe, units, c.cpuprofileDir)
	}
	return nil
}

type overheadResult struct {
	cfgs    []agentConfig
	cpu     [][]float64 // seconds, [config][round]
	wall    [][]float64
	windows [][]float64
	// gatherings of loop evidence per run, and the warnings raised
	// (window reports by kind), per config
	gatherings [][]float64
	warnings   []map[string]int
	load       *loadTracker
}

func overheadRounds(exe string, units int, cfgs []agentConfig, rounds int) (*overheadResult, error) {
	r := &overheadResult{cfgs: cfgs, cpu: make([][]float64, len(cfgs)), wall: make([][]float64, len(cfgs)), windows: make([][]float64, len(cfgs)),
		gatherings: make([][]float64, len(cfgs)), warnings: make([]map[string]int, len(cfgs))}
	for k := range r.warnings {
		r.warnings[k] = map[string]int{}
	}
	r.load = newLoadTracker()
	for i := range rounds {
		order := make([]int, len(cfgs))
		for k := range order {
			order[k] = k
			if i%2 == 1 {
				order[k] = len(cfgs) - 1 - k
			}
		}
		for _, k := range order {
			ac := cfgs[k]
			// The agent at its default thresholds gathers loop evidence
			// when this job raises a scheduling-latency warning; the
			// child counts the gatherings (polling Evidence), which hold
			// up the next window by about their 1 s trace.
			run, err := runChild(exe, "overhead", append([]string{"-units", strconv.Itoa(units), "-evidence-poll", evidencePoll.String()}, ac.args()...)...)
			if err != nil {
				return nil, err
			}
			wall := time.Duration(run.res.WallSeconds * float64(time.Second))
			var n int
			if ev := run.res.Evidence; ev != nil {
				n = len(ev.Gatherings)
			}
			if want := ac.expectWindows(max(0, wall-time.Duration(n)*1500*time.Millisecond)); run.res.Windows < want || run.res.Failures > 0 {
				return nil, fmt.Errorf("overhead: agent %q completed %d windows (%d failed) and %d evidence gatherings in %v; want at least %d windows and no failure",
					ac.name, run.res.Windows, run.res.Failures, n, wall.Round(time.Millisecond), want)
			}
			r.gatherings[k] = append(r.gatherings[k], float64(n))
			for kind, c := range run.res.Warnings {
				r.warnings[k][kind] += c
			}
			r.cpu[k] = append(r.cpu[k], run.cpu.Seconds())
			r.wall[k] = append(r.wall[k], run.wall.Seconds())
			r.windows[k] = append(r.windows[k], float64(run.res.Windows))
		}
		r.load.sample()
		logf("overhead: round %d/%d: CPU %s s; load %s", i+1, rounds, r.lastCPU(), loadavg())
	}
	r.load.stop()
	return r, nil
}

func (r *overheadResult) lastCPU() string {
	var s []string
	for k := range r.cfgs {
		s = append(s, fmt.Sprintf("%.2f", r.cpu[k][len(r.cpu[k])-1]))
	}
	return strings.Join(s, "/")
}

func (r *overheadResult) print(cfgs []agentConfig) {
	fmt.Println("| agent | pairs | median CPU ratio | overhead | min | max | IQR (p25–p75) | target | met |")
	fmt.Println("|---|---|---|---|---|---|---|---|---|")
	for k := 1; k < len(cfgs); k++ {
		s := summarize(ratio(r.cpu[k], r.cpu[0]))
		fmt.Printf("| %s / off | %d | **%.4f** | %+.2f %% | %.4f | %.4f | %.4f–%.4f | %s | %s |\n",
			cfgs[k].name, s.n, s.median, 100*(s.median-1), s.min, s.max, s.p25, s.p75,
			overheadTargetLabel[cfgs[k].name], yesNo(s.median <= overheadTarget[cfgs[k].name]))
	}
	fmt.Println()
	fmt.Print("Context only: median CPU per run")
	for k := range cfgs {
		s := summarize(r.cpu[k])
		fmt.Printf("%s %s %.2f s (%.2f–%.2f)", sep(k), cfgs[k].name, s.median, s.min, s.max)
	}
	fmt.Print("; median wall per run")
	for k := range cfgs {
		s := summarize(r.wall[k])
		fmt.Printf("%s %s %.1f s (%.1f–%.1f)", sep(k), cfgs[k].name, s.median, s.min, s.max)
	}
	fmt.Print("; windows completed per run")
	for k := 1; k < len(cfgs); k++ {
		s := summarize(r.windows[k])
		fmt.Printf("%s %s %.0f (%.0f–%.0f)", sep(k-1), cfgs[k].name, s.median, s.min, s.max)
	}
	fmt.Print("; loop evidence gathered per run")
	for k := 1; k < len(cfgs); k++ {
		s := summarize(r.gatherings[k])
		fmt.Printf("%s %s %.0f (%.0f–%.0f)", sep(k-1), cfgs[k].name, s.median, s.min, s.max)
	}
	fmt.Print("; warnings raised (window reports, all runs)")
	for k := 1; k < len(cfgs); k++ {
		kinds := slices.Sorted(maps.Keys(r.warnings[k]))
		var ws []string
		for _, kind := range kinds {
			ws = append(ws, fmt.Sprintf("%s %d", kind, r.warnings[k][kind]))
		}
		if len(ws) == 0 {
			ws = []string{"none"}
		}
		fmt.Printf("%s %s: %s", sep(k-1), cfgs[k].name, strings.Join(ws, ", "))
	}
	fmt.Printf(". Wall-time ratio (context) %s. Machine during the rounds: %s.\n\n", r.wallRatios(cfgs), r.load)
}

func (r *overheadResult) wallRatios(cfgs []agentConfig) string {
	var s []string
	for k := 1; k < len(cfgs); k++ {
		w := summarize(ratio(r.wall[k], r.wall[0]))
		s = append(s, fmt.Sprintf("%s %.3f (IQR %.3f–%.3f)", cfgs[k].name, w.median, w.p25, w.p75))
	}
	return strings.Join(s, ", ")
}

// overheadProfiles writes a CPU profile of one run per configuration into
// dir, for go tool pprof: with the agent, the profile comes through the
// agent's own /debug/pprof/profile, since the agent holds the profiler.
func overheadProfiles(exe string, units int, dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for _, ac := range []agentConfig{agentOff, agentContinuous2s} {
		file := fmt.Sprintf("%s/overhead-%s.pb.gz", dir, map[bool]string{true: "continuous", false: "off"}[ac.on])
		run, err := runChild(exe, "overhead", append([]string{"-units", strconv.Itoa(units), "-cpuprofile", file, "-profile-seconds", "8"}, ac.args()...)...)
		if err != nil {
			return err
		}
		logf("overhead: wrote %s (%.2f s CPU)", file, run.cpu.Seconds())
	}
	return nil
}

func ratio(a, b []float64) []float64 {
	out := make([]float64, len(a))
	for i := range out {
		out[i] = a[i] / b[i]
	}
	return out
}

func sep(k int) string {
	if k == 0 {
		return ":"
	}
	return ","
}
