package main

import (
	"flag"
	"fmt"
	"strconv"
	"sync/atomic"
	"time"
)

// heapPoint is the heap after runtime.GC() once the agent had completed
// Windows windows.
type heapPoint struct {
	Windows     uint64  `json:"windows"`
	HeapObjects uint64  `json:"heap_objects"`
	Seconds     float64 `json:"seconds"` // since diag.Start
}

// heapResult is what the heap child measured.
type heapResult struct {
	Before    uint64      `json:"before"` // heap objects before diag.Start
	Points    []heapPoint `json:"points"`
	AfterStop uint64      `json:"after_stop"` // after Agent.Stop
	Kept      int         `json:"kept"`       // window reports in the history at the end
	Records   float64     `json:"records"`    // mean distinct stacks per kept window
	Samples   float64     `json:"samples"`    // mean samples per kept window
	Warnings  int         `json:"warnings"`   // warnings in the kept windows
}

// background is the heap child's light workload: two goroutines that spin
// for 12 ms (loops without calls, so the sampler and async preemption see
// them) and sleep 28 ms, and one that allocates 64 KiB of short-lived
// garbage every millisecond, so that the collector runs as in a real
// service. About 0.7 CPU in all.
func background(stop *atomic.Bool) {
	spin := func(f func(uint64) uint64) {
		x := uint64(1)
		for !stop.Load() {
			deadline := time.Now().Add(12 * time.Millisecond)
			for time.Now().Before(deadline) {
				x = f(x)
			}
			time.Sleep(28 * time.Millisecond)
		}
		sinkU64.Add(x)
	}
	go spin(spinMul)
	go spin(spinXor)
	go func() {
		var keep [4][]byte // a constant live set: the heap reads do not depend on when they come
		for i := 0; !stop.Load(); i++ {
			keep[i%len(keep)] = make([]byte, 64<<10)
			time.Sleep(time.Millisecond)
		}
	}()
}

var sinkU64 atomic.Uint64

//go:noinline
func spinMul(x uint64) uint64 {
	for range 20_000 {
		x = x*2862933555777941757 + 3037000493
	}
	return x
}

//go:noinline
func spinXor(x uint64) uint64 {
	for range 20_000 {
		x ^= x << 7
		x ^= x >> 9
	}
	return x
}

// childHeap runs the background workload, measures the heap, starts the
// agent and measures the heap again at checkpoints until it has completed
// -windows windows; then stops the agent and measures once more. With the
// agent off it runs the workload for -off and reports the heap then.
func childHeap(args []string) error {
	fs := flag.NewFlagSet("heap", flag.ContinueOnError)
	windows := fs.Uint64("windows", 1000, "windows to wait for")
	off := fs.Duration("off", 10*time.Second, "without the agent: how long to run")
	ac := agentFlags(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	var stop atomic.Bool
	background(&stop)
	time.Sleep(time.Second) // the workload's own heap settles
	var hr heapResult
	hr.Before = heapObjects()
	start := time.Now()
	a, err := startAgent(ac)
	if err != nil {
		return err
	}
	if a == nil {
		time.Sleep(*off)
		hr.Points = append(hr.Points, heapPoint{HeapObjects: heapObjects(), Seconds: time.Since(start).Seconds()})
		stop.Store(true)
		return printResult(childResult{WallSeconds: time.Since(start).Seconds(), Heap: &hr})
	}
	var checkpoints []uint64
	for _, n := range []uint64{10, 100, 250, 500, 750, 1000} {
		if n < *windows {
			checkpoints = append(checkpoints, n)
		}
	}
	checkpoints = append(checkpoints, *windows)
	for _, want := range checkpoints {
		for a.Status().Windows < want {
			time.Sleep(10 * time.Millisecond)
		}
		st := a.Status()
		hr.Points = append(hr.Points, heapPoint{Windows: st.Windows, HeapObjects: heapObjects(), Seconds: time.Since(start).Seconds()})
	}
	st := a.Status()
	h := a.History(0)
	hr.Kept = len(h)
	for _, w := range h {
		hr.Records += float64(w.Records) / float64(len(h))
		hr.Samples += float64(w.Samples) / float64(len(h))
		hr.Warnings += len(w.Warnings)
	}
	h = nil
	a.Stop()
	a = nil
	hr.AfterStop = heapObjects()
	stop.Store(true)
	return printResult(childResult{WallSeconds: time.Since(start).Seconds(), Windows: st.Windows, Failures: st.Failures, Heap: &hr})
}

// benchHeap measures the heap the agent keeps after c.heapWindows windows of
// the shortest length, continuous, at the default History and with every
// report kept.
func benchHeap(c config) error {
	exe, err := benchExe()
	if err != nil {
		return err
	}
	win := 100 * time.Millisecond
	cfgs := []agentConfig{
		{name: "History 60 (the default)", on: true, window: win, interval: win},
		{name: fmt.Sprintf("History %d (every window kept)", c.heapWindows), on: true, window: win, interval: win, history: c.heapWindows},
	}
	load := newLoadTracker()
	off, err := runChild(exe, "heap", agentOff.args()...)
	if err != nil {
		return err
	}
	type row struct {
		cfg agentConfig
		run childRun
	}
	var rows []row
	for i := range c.heapRuns {
		for _, ac := range cfgs {
			logf("heap: %s, run %d/%d: %d windows of %v", ac.name, i+1, c.heapRuns, c.heapWindows, win)
			run, err := runChild(exe, "heap", append([]string{"-windows", strconv.FormatUint(uint64(c.heapWindows), 10)}, ac.args()...)...)
			if err != nil {
				return err
			}
			if run.res.Windows < uint64(c.heapWindows) || run.res.Failures > 0 || run.res.Heap == nil {
				return fmt.Errorf("heap: agent completed %d windows (%d failed); want %d", run.res.Windows, run.res.Failures, c.heapWindows)
			}
			rows = append(rows, row{ac, run})
			load.sample()
		}
	}
	load.stop()

	mib := func(b float64) float64 { return b / (1 << 20) }
	fmt.Printf("### The agent's heap after %d windows\n\n", c.heapWindows)
	fmt.Printf("Child process: a light workload (two goroutines spinning 12 ms in every 40, one allocating 64 KiB of garbage a millisecond), then the agent with %v windows back to back (the shortest it allows), logging to zap.NewNop(), until Status().Windows reaches %d. Heap = `/memory/classes/heap/objects:bytes` after `runtime.GC()`; the agent's heap = that minus the same read just before `diag.Start`, with the agent still running (so a profile in progress counts).\n\n",
		win, c.heapWindows)
	fmt.Println("| agent | run | heap before Start | agent's heap after 10 / 100 / 500 / final windows | final | after Stop | max RSS (off: " + fmt.Sprintf("%.1f MiB", mib(float64(off.maxRSS))) + ") | reports kept | wall | target | met |")
	fmt.Println("|---|---|---|---|---|---|---|---|---|---|---|")
	runNo := map[string]int{}
	for _, r := range rows {
		hr := r.run.res.Heap
		runNo[r.cfg.name]++
		delta := func(p heapPoint) float64 { return mib(float64(p.HeapObjects) - float64(hr.Before)) }
		var steps string
		for _, p := range hr.Points {
			if p.Windows == 10 || p.Windows == 100 || p.Windows == 500 {
				steps += fmt.Sprintf("%.2f / ", delta(p))
			}
		}
		final := hr.Points[len(hr.Points)-1]
		target, met := "", ""
		if r.cfg.history == 0 {
			target, met = "≤ 8 MiB", yesNo(delta(final) <= 8)
		}
		fmt.Printf("| %s | %d | %.2f MiB | %s**%.2f** MiB | **%.2f MiB** (at %d windows) | %+.2f MiB | %.1f MiB | %d | %.0f s | %s | %s |\n",
			r.cfg.name, runNo[r.cfg.name], mib(float64(hr.Before)), steps, delta(final), delta(final), final.Windows,
			mib(float64(hr.AfterStop)-float64(hr.Before)), mib(float64(r.run.maxRSS)), hr.Kept, r.run.res.WallSeconds, target, met)
	}
	fmt.Println()
	hr := rows[0].run.res.Heap
	fmt.Printf("Context: the windows held %.0f samples and %.0f distinct stacks on average (first run, History 60); the same workload without the agent: heap %.2f MiB before and %.2f MiB %v later, max RSS %.1f MiB. Machine during the runs: %s.\n\n",
		hr.Samples, hr.Records, mib(float64(off.res.Heap.Before)), mib(float64(off.res.Heap.Points[0].HeapObjects)), 10*time.Second, mib(float64(off.maxRSS)), load)
	return nil
}
