package procstat

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"reflect"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/diagkit/diagkit/diag/api"
)

func TestContextZeroSnapshots(t *testing.T) {
	c := Context(Snapshot{}, Snapshot{})
	checkAllNil(t, c, "GoVersion", "GOMAXPROCS", "NumCPU", "CgroupVersion", "AsyncPreemptOff", "RunQueueWaitUnavailable")
	if c.GoVersion != runtime.Version() {
		t.Errorf("GoVersion = %q", c.GoVersion)
	}
	if c.RunQueueWaitUnavailable != schedNotRead {
		t.Errorf("RunQueueWaitUnavailable = %q, want %q", c.RunQueueWaitUnavailable, schedNotRead)
	}
	if _, err := json.Marshal(c); err != nil {
		t.Fatal(err)
	}
	// A zero start against a real end: no deltas, but the gauges.
	c = Context(Snapshot{}, Take())
	if c.Goroutines == nil || c.ProcessCPUSeconds != nil || c.SchedLatency != nil || c.CgoCalls != nil {
		t.Errorf("zero start: %+v", c)
	}
}

// checkAllNil fails for every pointer field of c that is not nil, and every
// other field not in except that is not zero.
func checkAllNil(t *testing.T, c api.Context, except ...string) {
	t.Helper()
	v := reflect.ValueOf(c)
	skip := map[string]bool{}
	for _, e := range except {
		skip[e] = true
	}
	for i := range v.NumField() {
		name := v.Type().Field(i).Name
		if !skip[name] && !v.Field(i).IsZero() {
			t.Errorf("%s = %v, want nil", name, v.Field(i))
		}
	}
}

func TestContextFromSnapshots(t *testing.T) {
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	b := []float64{-inf, 0, 0.001, 0.01, inf}
	base := Snapshot{
		at: t0,
		rt: runtimeStats{
			schedLat:   histogram{counts: []uint64{0, 10, 5, 1}, buckets: b},
			cgoCalls:   some[uint64](100),
			goroutines: some[uint64](5),
			gomaxprocs: some[uint64](8),
			cpuGC:      some(1.0),
			cpuTotal:   some(100.0),
			cpuIdle:    some(50.0),
		},
		ru: some(rusage{cpu: time.Second, vcsw: 10, ivcsw: 20}),
		cg: cgroupStat{version: "v2", dir: "sys/fs/cgroup", limit: some(2.0), limitPath: "/kube",
			periods: some[int64](10), throttled: some[int64](1), throttledNs: some[int64](1e6)},
		sched: schedStat{threads: []threadSched{
			{tid: 1, run: 1e9, wait: 1e8},
			{tid: 5, run: 2e9, wait: 2e8},
			{tid: 7, run: 3e9, wait: 3e8}, // exits in the window
		}},
		host:   some(hostCPU{busy: 1000, steal: 10}),
		numCPU: 16,
	}
	end := base
	end.at = t0.Add(2 * time.Second)
	end.rt.schedLat = histogram{counts: []uint64{0, 110, 5, 1}, buckets: b}
	end.rt.cgoCalls = some[uint64](300)
	end.rt.goroutines = some[uint64](7)
	end.rt.running = some[uint64](2)
	end.rt.threads = some[uint64](12)
	end.rt.cpuGC = some(3.0)
	end.rt.cpuTotal = some(120.0)
	end.rt.cpuIdle = some(60.0)
	end.ru = some(rusage{cpu: 2500 * time.Millisecond, vcsw: 15, ivcsw: 30})
	end.cg.periods = some[int64](30)
	end.cg.throttled = some[int64](5)
	end.cg.throttledNs = some[int64](251e6)
	end.sched = schedStat{threads: []threadSched{
		{tid: 1, run: 1.5e9, wait: 3.5e8},
		{tid: 5, run: 2.5e9, wait: 4.5e8},
		{tid: 9, run: 1e9, wait: 1e9}, // created in the window
	}}
	end.host = some(hostCPU{busy: 1600, steal: 60}) // 3 CPUs busy, 0.25 stolen
	end.asyncPreemptOff = true

	c := Context(base, end)
	want := api.Context{
		GoVersion:                       runtime.Version(),
		GOMAXPROCS:                      8,
		NumCPU:                          16,
		CgroupVersion:                   "v2",
		CgroupCPULimit:                  ptr(2.0),
		CgroupCPULimitPath:              "/kube",
		CgroupPeriods:                   ptr[int64](20),
		CgroupThrottledPeriods:          ptr[int64](4),
		CgroupThrottledSeconds:          ptr(0.25),
		CgroupThrottledShare:            ptr(0.2),
		CgroupThrottledSecondsPerSecond: ptr(0.125),
		RunQueueWaitSeconds:             ptr(1.5), // threads 1 and 5 (0.25 s each), and 9 from its creation
		RunQueueWaitPerSecond:           ptr(0.75),
		RunQueueWaitRatio:               ptr(0.75), // of 2 s run: 0.5 s by 1 and 5, 1 s by 9
		RunQueueThreads:                 ptr[int64](3),
		HostBusyCPUs:                    ptr(3.0),
		StealCPUs:                       ptr(0.25),
		OtherCPUs:                       ptr(2.0), // 3 - 0.25 - 1.5/2
		ProcessCPUSeconds:               ptr(1.5),
		InvoluntaryCtxSwitches:          ptr[int64](10),
		InvoluntaryCtxSwitchesPerSecond: ptr(5.0),
		VoluntaryCtxSwitches:            ptr[int64](5),
		SchedLatency:                    &api.Latency{Count: 100, P50: 0.001, P99: 0.001, P999: 0.001},
		CgoCalls:                        ptr[int64](200),
		CgoCallsPerSecond:               ptr(100.0),
		Goroutines:                      ptr[int64](7),
		RunningGoroutines:               ptr[int64](2),
		OSThreads:                       ptr[int64](12),
		GCCPUFraction:                   ptr(0.2), // 2 GC seconds of (20-10) used
		AsyncPreemptOff:                 true,
	}
	if !reflect.DeepEqual(c, want) {
		gj, _ := json.Marshal(c)
		wj, _ := json.Marshal(want)
		t.Errorf("Context =\n%s\nwant\n%s", gj, wj)
	}

	t.Run("no GC in the window", func(t *testing.T) {
		e := end
		e.rt.cpuGC, e.rt.cpuTotal, e.rt.cpuIdle = base.rt.cpuGC, base.rt.cpuTotal, base.rt.cpuIdle
		if c := Context(base, e); c.GCCPUFraction != nil {
			t.Errorf("GCCPUFraction = %v, want nil", *c.GCCPUFraction)
		}
	})
	t.Run("no scheduling in the window", func(t *testing.T) {
		if c := Context(base, base); c.SchedLatency != nil {
			t.Errorf("SchedLatency = %+v, want nil", c.SchedLatency)
		}
	})
	t.Run("swapped: counters went backwards", func(t *testing.T) {
		c := Context(end, base)
		checkAllNil(t, c, "GoVersion", "GOMAXPROCS", "NumCPU", "CgroupVersion", "CgroupCPULimit", "CgroupCPULimitPath", "Goroutines", "RunQueueWaitUnavailable")
		if c.RunQueueWaitUnavailable != schedNoProgress {
			t.Errorf("RunQueueWaitUnavailable = %q, want %q", c.RunQueueWaitUnavailable, schedNoProgress)
		}
	})
	t.Run("cgroup moved", func(t *testing.T) {
		e := end
		e.cg.dir = "sys/fs/cgroup/other"
		c := Context(base, e)
		if c.CgroupPeriods != nil || c.CgroupThrottledPeriods != nil || c.CgroupThrottledSeconds != nil ||
			c.CgroupThrottledShare != nil || c.CgroupThrottledSecondsPerSecond != nil {
			t.Errorf("throttling across cgroups: %+v", c)
		}
		if c.CgroupCPULimit == nil || c.CgroupVersion != "v2" {
			t.Errorf("the end's cgroup gauges are lost: %+v", c)
		}
	})
	t.Run("same instant: no rates", func(t *testing.T) {
		e := end
		e.at = base.at
		c := Context(base, e)
		if c.CgoCallsPerSecond != nil || c.InvoluntaryCtxSwitchesPerSecond != nil || c.CgroupThrottledSecondsPerSecond != nil ||
			c.RunQueueWaitPerSecond != nil || c.HostBusyCPUs != nil || c.StealCPUs != nil || c.OtherCPUs != nil {
			t.Errorf("rates over no time: %+v", c)
		}
		if c.CgoCalls == nil || c.InvoluntaryCtxSwitches == nil || c.CgroupThrottledShare == nil ||
			c.RunQueueWaitSeconds == nil || c.RunQueueWaitRatio == nil {
			t.Errorf("counts lost: %+v", c)
		}
	})
	t.Run("no period elapsed: no throttled share", func(t *testing.T) {
		e := end
		e.cg.periods, e.cg.throttled = base.cg.periods, base.cg.throttled
		c := Context(base, e)
		if c.CgroupPeriods == nil || *c.CgroupPeriods != 0 || c.CgroupThrottledShare != nil {
			t.Errorf("periods %v, share %v; want 0 and nil", c.CgroupPeriods, c.CgroupThrottledShare)
		}
	})
	t.Run("no rusage: no OtherCPUs", func(t *testing.T) {
		e := end
		e.ru = opt[rusage]{}
		c := Context(base, e)
		if c.OtherCPUs != nil || c.HostBusyCPUs == nil || c.StealCPUs == nil {
			t.Errorf("other %v busy %v steal %v", c.OtherCPUs, c.HostBusyCPUs, c.StealCPUs)
		}
	})
	t.Run("process above the host's busy time: OtherCPUs floors at 0", func(t *testing.T) {
		e := end
		e.host = some(hostCPU{busy: 1100, steal: 10}) // 0.5 CPUs, the process used 0.75
		c := Context(base, e)
		if c.OtherCPUs == nil || *c.OtherCPUs != 0 || *c.HostBusyCPUs != 0.5 || *c.StealCPUs != 0 {
			t.Errorf("other %v busy %v steal %v", c.OtherCPUs, c.HostBusyCPUs, c.StealCPUs)
		}
	})
}

// TestTakeRealWork does work between two Takes and checks the window's
// figures are there and plausible.
func TestTakeRealWork(t *testing.T) {
	start := Take()
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			deadline := time.Now().Add(50 * time.Millisecond)
			x := 1.0
			for time.Now().Before(deadline) {
				for i := range 10000 {
					x = math.Sqrt(x + float64(i))
				}
				_ = syscall.Getpid()
				if _, err := os.Stat(os.TempDir()); err != nil {
					t.Error(err)
				}
				time.Sleep(100 * time.Microsecond)
			}
			_ = x
		})
	}
	wg.Wait()
	runtime.GC()
	end := Take()
	c := Context(start, end)
	wall := end.at.Sub(start.at).Seconds()
	j, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%.3fs window:\n%s", wall, j)

	if c.GoVersion != runtime.Version() || c.GOMAXPROCS != runtime.GOMAXPROCS(0) || c.NumCPU != runtime.NumCPU() {
		t.Errorf("GoVersion %q GOMAXPROCS %d NumCPU %d", c.GoVersion, c.GOMAXPROCS, c.NumCPU)
	}
	checkNonNegative(t, c)

	supported := map[string]bool{}
	for _, d := range metrics.All() {
		supported[d.Name] = true
	}
	if c.SchedLatency == nil || c.SchedLatency.Count < 4 {
		t.Errorf("SchedLatency = %+v, want the goroutines' scheduling", c.SchedLatency)
	} else if l := c.SchedLatency; !(l.P50 <= l.P99 && l.P99 <= l.P999) {
		t.Errorf("quantiles out of order: %+v", l)
	}
	if c.CgoCalls == nil || c.CgoCallsPerSecond == nil {
		t.Error("cgo calls unavailable")
	}
	if c.Goroutines == nil || *c.Goroutines < 1 {
		t.Errorf("Goroutines = %v", c.Goroutines)
	}
	if supported[metricRunning] {
		if c.RunningGoroutines == nil || *c.RunningGoroutines < 1 {
			t.Errorf("RunningGoroutines = %v; Take itself runs on one", c.RunningGoroutines)
		}
		if c.RunnableGoroutines == nil {
			t.Error("RunnableGoroutines unavailable")
		}
	} else if c.RunningGoroutines != nil || c.RunnableGoroutines != nil {
		t.Error("running/runnable goroutines without the metrics")
	}
	if runtime.GOOS == "linux" || supported[metricThreads] {
		if c.OSThreads == nil || *c.OSThreads < 1 {
			t.Errorf("OSThreads = %v", c.OSThreads)
		}
	}
	if c.GCCPUFraction == nil || *c.GCCPUFraction > 1 {
		t.Errorf("GCCPUFraction = %v after a runtime.GC in the window", c.GCCPUFraction)
	}
	if runtime.GOOS != "windows" && runtime.GOOS != "plan9" && runtime.GOOS != "js" && runtime.GOOS != "wasip1" {
		if c.ProcessCPUSeconds == nil || *c.ProcessCPUSeconds <= 0 {
			t.Errorf("ProcessCPUSeconds = %v after busy work", c.ProcessCPUSeconds)
		} else if max := wall*float64(runtime.NumCPU()) + 0.05; *c.ProcessCPUSeconds > max {
			t.Errorf("ProcessCPUSeconds = %v, more than %d CPUs for %.3fs", *c.ProcessCPUSeconds, runtime.NumCPU(), wall)
		}
		if c.VoluntaryCtxSwitches == nil || c.InvoluntaryCtxSwitches == nil || c.InvoluntaryCtxSwitchesPerSecond == nil {
			t.Error("context switches unavailable")
		}
	}
	if cg := readCgroup(); c.CgroupVersion != cg.version {
		t.Errorf("CgroupVersion = %q, host has %q", c.CgroupVersion, cg.version)
	}
}

// checkNonNegative fails for any available figure that is negative or not
// finite: deltas of counters cannot be, and JSON cannot carry NaN or Inf.
func checkNonNegative(t *testing.T, c api.Context) {
	t.Helper()
	v := reflect.ValueOf(c)
	for i := range v.NumField() {
		f, name := v.Field(i), v.Type().Field(i).Name
		if f.Kind() != reflect.Pointer || f.IsNil() {
			continue
		}
		switch x := f.Interface().(type) {
		case *int64:
			if *x < 0 {
				t.Errorf("%s = %d", name, *x)
			}
		case *float64:
			if *x < 0 || math.IsNaN(*x) || math.IsInf(*x, 0) {
				t.Errorf("%s = %v", name, *x)
			}
		case *api.Latency:
			for _, q := range []float64{x.P50, x.P99, x.P999} {
				if q < 0 || math.IsNaN(q) || math.IsInf(q, 0) || x.Count < 0 {
					t.Errorf("%s = %+v", name, *x)
				}
			}
		}
	}
}

func TestTakeConcurrent(t *testing.T) {
	var wg sync.WaitGroup
	snaps := make([]Snapshot, 8)
	for i := range snaps {
		wg.Go(func() { snaps[i] = Take() })
	}
	wg.Wait()
	for i := 1; i < len(snaps); i++ {
		checkNonNegative(t, Context(snaps[0], snaps[i]))
		checkNonNegative(t, Context(snaps[i], snaps[0]))
	}
}

// TestAsyncPreemptOffFromEnvironment runs this test binary again with
// GODEBUG set and checks what the child reports.
func TestAsyncPreemptOffFromEnvironment(t *testing.T) {
	if os.Getenv("PROCSTAT_TEST_CHILD") == "1" {
		fmt.Printf("async_preempt_off=%v\n", Context(Take(), Take()).AsyncPreemptOff)
		return
	}
	if testing.Short() {
		t.Skip("runs a child process")
	}
	for _, tt := range []struct {
		godebug string
		want    bool
	}{
		{"asyncpreemptoff=1", true},
		{"asyncpreemptoff=1,asyncpreemptoff=0", false},
		{"gctrace=0", false},
	} {
		t.Run(tt.godebug, func(t *testing.T) {
			cmd := exec.Command(os.Args[0], "-test.run=^TestAsyncPreemptOffFromEnvironment$", "-test.count=1")
			cmd.Env = append(os.Environ(), "PROCSTAT_TEST_CHILD=1", "GODEBUG="+tt.godebug, "GORACE=atexit_sleep_ms=0")
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("child: %v\n%s", err, out)
			}
			if want := fmt.Sprintf("async_preempt_off=%v\n", tt.want); !containsLine(string(out), want) {
				t.Errorf("child said %q, want %q", out, want)
			}
		})
	}
}

func containsLine(out, line string) bool { return strings.Contains("\n"+out, "\n"+line) }

func BenchmarkTake(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		_ = Take()
	}
}

// BenchmarkTakeParts splits Take's cost by source.
func BenchmarkTakeParts(b *testing.B) {
	b.Run("runtime-metrics", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_ = readRuntime()
		}
	})
	b.Run("getrusage", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_ = readRusage()
		}
	})
	b.Run("cgroup", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_ = readCgroup()
		}
	})
	b.Run("proc-threads", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_ = readOSThreads()
		}
	})
	b.Run("schedstat", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_ = readSched()
		}
	})
	b.Run("proc-stat", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_ = readHostCPU()
		}
	})
}

func BenchmarkContext(b *testing.B) {
	start := Take()
	end := Take()
	b.ReportAllocs()
	for b.Loop() {
		_ = Context(start, end)
	}
}

// Snapshot.GC reads GOGC (off as -1), GOMEMLIMIT and the GC's share of CPU
// since the process started.
func TestSnapshotGC(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(37))
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(1 << 30))
	runtime.GC()
	g := Take().GC()
	if g.Percent == nil || *g.Percent != 37 {
		t.Errorf("Percent = %v, want 37", g.Percent)
	}
	if g.MemoryLimit == nil || *g.MemoryLimit != 1<<30 {
		t.Errorf("MemoryLimit = %v, want 1 GiB", g.MemoryLimit)
	}
	if g.CPUFraction == nil || *g.CPUFraction <= 0 || *g.CPUFraction > 1 {
		t.Errorf("CPUFraction = %v, want a share in (0, 1] after a GC", g.CPUFraction)
	}
	debug.SetGCPercent(-1)
	debug.SetMemoryLimit(math.MaxInt64)
	g = Take().GC()
	if g.Percent == nil || *g.Percent != -1 {
		t.Errorf("GOGC off: Percent = %v, want -1", g.Percent)
	}
	if g.MemoryLimit == nil || *g.MemoryLimit != math.MaxInt64 {
		t.Errorf("no limit: MemoryLimit = %v, want MaxInt64", g.MemoryLimit)
	}
	if g := (Snapshot{}).GC(); g.Percent != nil || g.MemoryLimit != nil || g.CPUFraction != nil {
		t.Errorf("empty snapshot: %+v, want all unavailable", g)
	}
}
