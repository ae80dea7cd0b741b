package main

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"
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

// benchOverhead compares the CPU time a child takes for a fixed amount of
// CPU-bound work with the agent off and on.
func benchOverhead(c config) error {
	exe, err := benchExe()
	if err != nil {
		return err
	}
	procs := runtime.GOMAXPROCS(0)
	per := unitCPU()
	// Size the work so that a run takes about c.overheadRun of wall time
	// under the load of the moment: one run to warm up, one to measure.
	units := int(2 * time.Second * time.Duration(procs) / per)
	var wall time.Duration
	for i := range 2 {
		r, err := runChild(exe, "overhead", append([]string{"-units", strconv.Itoa(units)}, agentOff.args()...)...)
		if err != nil {
			return err
		}
		if i == 1 {
			wall = r.wall
		}
	}
	units = max(procs, int(float64(units)*c.overheadRun.Seconds()/wall.Seconds()))
	logf("overhead: one unit of work is %v of CPU; %d units per run (about %v of wall time now)", per, units, c.overheadRun)

	fmt.Printf("### Agent overhead on a CPU-bound job (fixed work, child process CPU time)\n\n")
	if c.pairs > 0 {
		scaled := []agentConfig{agentOff, agentDefaultScaled, agentContinuous2s}
		rs, err := overheadRounds(exe, units, scaled, c.pairs)
		if err != nil {
			return err
		}
		fmt.Printf("%d rounds; each runs the same child job (%d units of CPU-bound work, %.1f s of CPU at %v a unit, in %d goroutines) with the agent off, at the default duty cycle scaled down, and continuous; in that order on even rounds and reversed on odd ones. Ratio = the child's CPU time (wait4: user+sys, all threads) with the agent / without it, within the round. The agent listens on 127.0.0.1:0 and logs to zap.NewNop(); the child exits when the work is done, without stopping it.\n\n",
			c.pairs, units, (time.Duration(units) * per).Seconds(), per.Round(100*time.Nanosecond), procs)
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
	load    *loadTracker
}

func overheadRounds(exe string, units int, cfgs []agentConfig, rounds int) (*overheadResult, error) {
	r := &overheadResult{cfgs: cfgs, cpu: make([][]float64, len(cfgs)), wall: make([][]float64, len(cfgs)), windows: make([][]float64, len(cfgs))}
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
			run, err := runChild(exe, "overhead", append([]string{"-units", strconv.Itoa(units)}, ac.args()...)...)
			if err != nil {
				return nil, err
			}
			wall := time.Duration(run.res.WallSeconds * float64(time.Second))
			if want := ac.expectWindows(wall); run.res.Windows < want || run.res.Failures > 0 {
				return nil, fmt.Errorf("overhead: agent %q completed %d windows (%d failed) in %v; want at least %d and no failure",
					ac.name, run.res.Windows, run.res.Failures, wall.Round(time.Millisecond), want)
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
