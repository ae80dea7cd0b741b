package doctor

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/diagkit/diagkit/diag/analysis"
	"github.com/diagkit/diagkit/diag/api"
	"github.com/diagkit/diagkit/internal/stats"
)

func ptrTo[T any](v T) *T { return &v }

// checkOf returns the check with the given ID from r, failing the test when
// it is missing.
func checkOf(t *testing.T, r api.DoctorReport, id string) api.Check {
	t.Helper()
	for _, c := range r.Checks {
		if c.ID == id {
			return c
		}
	}
	t.Fatalf("no check %q in %v", id, r.Checks)
	return api.Check{}
}

// prof is a profile of n samples over three windows, 10 ms a sample.
func prof(n int64) *Profile {
	return &Profile{Windows: 3, Samples: n, CPUSeconds: float64(n) / 100}
}

// allChecks is the checklist's order.
var allChecks = []string{
	api.CheckGoVersion,
	api.CheckGOMAXPROCS,
	api.CheckAsyncPreemptOff,
	api.CheckAsyncPreemptShare,
	api.CheckCgo,
	api.CheckLockOSThread,
	api.CheckSchedLatency,
	api.CheckGOGC,
	api.CheckHotLoops,
	api.CheckCPUThrottling,
	api.CheckCPUContention,
	api.CheckReMeasure,
}

// throttled is facts under an effective limit of 2 CPUs set at an ancestor,
// throttled in k of n periods over 10 windows.
func throttled(k, n int64) Facts {
	return Facts{GOMAXPROCS: 2, NumCPU: 8, CgroupRead: true, CgroupCPULimit: ptrTo(2.0), CgroupCPULimitPath: "/kubepods/pod1",
		CgroupPeriods: ptrTo(n), CgroupThrottledPeriods: ptrTo(k), CgroupFrom: "over 10 windows",
		CgroupThrottledSecondsPerSecond: ptrTo(0.04)}
}

// waited is facts whose worst window's threads waited perSecond CPU-seconds
// a second on the run queue, ratio times the CPU they got, on 8 CPUs
// (GOMAXPROCS 8), other processes using others CPUs.
func waited(perSecond, ratio, others float64) Facts {
	return Facts{Source: SourceAgent, RunQueue: &RunQueue{WaitPerSecond: perSecond, WaitRatio: ratio,
		OtherCPUs: ptrTo(others), StealCPUs: ptrTo(0.0), GOMAXPROCS: 8, NumCPU: 8, From: "worst window of 10"}}
}

func TestChecks(t *testing.T) {
	latest := latestMinor()
	if latest < LatestGoMinor {
		t.Fatalf("latestMinor() = %d, below LatestGoMinor %d", latest, LatestGoMinor)
	}
	// The premises of the "barely above, not significant" and the
	// "significant" rows.
	if s := 0.012; !(s > DefaultThresholds.AsyncPreempt) || stats.ShareAbove(s, 1000, DefaultThresholds.AsyncPreempt, DefaultThresholds.MinSamples) {
		t.Fatal("premise: 1.2 % of 1,000 samples is above 1 % but not significantly")
	}
	if !stats.ShareAbove(0.03, 100, DefaultThresholds.AsyncPreempt, DefaultThresholds.MinSamples) {
		t.Fatal("premise: 3 of 100 samples is significantly above 1 %")
	}
	sup := fmt.Sprintf("supported releases: go1.%d and go1.%d", latest, latest-1)
	manyCgoCalls := []analysis.FuncStat{
		{Function: "main.a", CFunction: "C.fa", Share: 0.02},
		{Function: "main.b", CFunction: "C.fb", Share: 0.015},
		{Function: "main.c", CFunction: "C.fc", Share: 0.01},
		{Function: "main.d", CFunction: "C.fd", Share: 0.005},
	}

	tests := []struct {
		name  string
		id    string
		f     Facts
		th    *Thresholds // nil: DefaultThresholds
		want  string
		ev    []string // each a substring of some evidence line
		notEv []string // none a substring of any evidence line
	}{
		// go_version
		{name: "no version", id: api.CheckGoVersion, f: Facts{Source: SourcePprof}, want: api.StatusUnknown,
			ev: []string{"the Go version is not exposed by net/http/pprof"}},
		{name: "no version, unnamed source", id: api.CheckGoVersion, f: Facts{}, want: api.StatusUnknown,
			ev: []string{"not exposed by this source"}},
		{name: "unrecognized version", id: api.CheckGoVersion, f: Facts{GoVersion: "go2.0"}, want: api.StatusUnknown,
			ev: []string{`unrecognized Go version "go2.0"`}},
		{name: "latest", id: api.CheckGoVersion, f: Facts{GoVersion: fmt.Sprintf("go1.%d.8", latest)}, want: api.StatusPass,
			ev: []string{fmt.Sprintf("go1.%d.8", latest), sup}},
		{name: "latest rc", id: api.CheckGoVersion, f: Facts{GoVersion: fmt.Sprintf("go1.%drc1", latest)}, want: api.StatusPass,
			ev: []string{fmt.Sprintf("go1.%drc1", latest)}},
		{name: "previous release", id: api.CheckGoVersion, f: Facts{GoVersion: fmt.Sprintf("go1.%d.0", latest-1)}, want: api.StatusPass,
			ev: []string{fmt.Sprintf("go1.%d.0", latest-1), sup}},
		{name: "newer than known", id: api.CheckGoVersion, f: Facts{GoVersion: fmt.Sprintf("go1.%d.1", latest+1)}, want: api.StatusPass},
		{name: "two releases back", id: api.CheckGoVersion, f: Facts{GoVersion: fmt.Sprintf("go1.%d.9", latest-2)}, want: api.StatusWarn,
			ev: []string{"no longer supported by the Go team", sup}},
		{name: "go1.24.3", id: api.CheckGoVersion, f: Facts{GoVersion: "go1.24.3"}, want: api.StatusWarn,
			ev: []string{"go1.24.3", "no longer supported by the Go team"}},
		{name: "go1.20, the guide's minimum", id: api.CheckGoVersion, f: Facts{GoVersion: "go1.20"}, want: api.StatusWarn,
			ev: []string{"go1.20"}, notEv: []string{"guide's minimum"}},
		{name: "go1.19.8", id: api.CheckGoVersion, f: Facts{GoVersion: "go1.19.8"}, want: api.StatusFail,
			ev: []string{"go1.19.8", "older than Go 1.20, the guide's minimum", sup}},
		{name: "devel", id: api.CheckGoVersion, f: Facts{GoVersion: "devel go1.27-abc123 Tue Jan 6 10:00:00 2026 +0000"}, want: api.StatusWarn,
			ev: []string{"devel go1.27-abc123", "a development build: pin a release in production"}},
		{name: "devel of the latest", id: api.CheckGoVersion, f: Facts{GoVersion: fmt.Sprintf("devel go1.%d-abc123", latest)}, want: api.StatusWarn,
			ev: []string{"a development build"}},
		{name: "lower bound, supported", id: api.CheckGoVersion,
			f:    Facts{GoVersion: fmt.Sprintf("go1.%d", latest-1), GoAtLeast: true, GoVersionFrom: "execution trace format"},
			want: api.StatusPass, ev: []string{fmt.Sprintf("go1.%d or later (from the execution trace format)", latest-1)}},
		{name: "lower bound, older", id: api.CheckGoVersion,
			f:    Facts{Source: SourcePprof, GoVersion: "go1.22", GoAtLeast: true},
			want: api.StatusUnknown, ev: []string{"go1.22 or later", sup, "the exact version is not exposed by net/http/pprof"}},
		{name: "lower bound below the guide's minimum", id: api.CheckGoVersion,
			f:    Facts{GoVersion: "go1.19", GoAtLeast: true},
			want: api.StatusUnknown, ev: []string{"go1.19 or later"}, notEv: []string{"guide's minimum"}},
		{name: "range below the guide's minimum", id: api.CheckGoVersion,
			f:    Facts{GoVersion: "go1.11", GoAtLeast: true, GoAtMost: "go1.18"},
			want: api.StatusFail, ev: []string{"go1.11 to go1.18", "older than Go 1.20, the guide's minimum"}},
		{name: "range reaching the minimum, unsupported", id: api.CheckGoVersion,
			f:    Facts{GoVersion: "go1.19", GoAtLeast: true, GoAtMost: "go1.20"},
			want: api.StatusWarn, ev: []string{"go1.19 to go1.20", "no longer supported"}, notEv: []string{"guide's minimum"}},
		{name: "range reaching a supported release", id: api.CheckGoVersion,
			f:    Facts{GoVersion: fmt.Sprintf("go1.%d", latest-2), GoAtLeast: true, GoAtMost: fmt.Sprintf("go1.%d", latest-1)},
			want: api.StatusUnknown, ev: []string{"the exact version is not exposed"}},

		// gomaxprocs
		{name: "no GOMAXPROCS", id: api.CheckGOMAXPROCS, f: Facts{Source: SourcePprof, NumCPU: 8}, want: api.StatusUnknown,
			ev: []string{"GOMAXPROCS is not exposed by net/http/pprof"}},
		{name: "nothing to compare with", id: api.CheckGOMAXPROCS, f: Facts{GOMAXPROCS: 8}, want: api.StatusUnknown,
			ev: []string{"neither the CPU count nor the cgroup limit is known"}},
		{name: "no limit, all CPUs", id: api.CheckGOMAXPROCS, f: Facts{GOMAXPROCS: 8, NumCPU: 8, CgroupRead: true}, want: api.StatusPass,
			ev: []string{"GOMAXPROCS 8", "8 CPUs (runtime.NumCPU)", "no cgroup CPU limit"}},
		{name: "cgroup not read", id: api.CheckGOMAXPROCS, f: Facts{GOMAXPROCS: 4, NumCPU: 8}, want: api.StatusPass,
			ev: []string{"GOMAXPROCS 4", "cgroup CPU limit unknown"}},
		{name: "cgroup read without CPU count", id: api.CheckGOMAXPROCS, f: Facts{GOMAXPROCS: 4, CgroupRead: true}, want: api.StatusPass,
			ev: []string{"GOMAXPROCS 4", "no cgroup CPU limit"}},
		{name: "above the CPUs", id: api.CheckGOMAXPROCS, f: Facts{GOMAXPROCS: 16, NumCPU: 8, CgroupRead: true}, want: api.StatusFail,
			ev: []string{"GOMAXPROCS 16", "8 CPUs (runtime.NumCPU)", "GOMAXPROCS above the CPUs"}},
		{name: "limit 0.5, Go default 2", id: api.CheckGOMAXPROCS, f: Facts{GOMAXPROCS: 2, NumCPU: 8, CgroupRead: true, CgroupCPULimit: ptrTo(0.5)},
			want: api.StatusPass, ev: []string{"GOMAXPROCS 2", "cgroup CPU limit 0.5 CPUs"}},
		{name: "limit 0.5, GOMAXPROCS 3", id: api.CheckGOMAXPROCS, f: Facts{GOMAXPROCS: 3, NumCPU: 8, CgroupRead: true, CgroupCPULimit: ptrTo(0.5)},
			want: api.StatusFail, ev: []string{"GOMAXPROCS 3", "cgroup CPU limit 0.5 CPUs", "GOMAXPROCS above 2, what the limit allows"}},
		{name: "limit 2.5, GOMAXPROCS 3", id: api.CheckGOMAXPROCS, f: Facts{GOMAXPROCS: 3, NumCPU: 8, CgroupRead: true, CgroupCPULimit: ptrTo(2.5)},
			want: api.StatusPass, ev: []string{"GOMAXPROCS 3", "cgroup CPU limit 2.5 CPUs"}},
		{name: "limit 2.5, GOMAXPROCS 4", id: api.CheckGOMAXPROCS, f: Facts{GOMAXPROCS: 4, NumCPU: 8, CgroupRead: true, CgroupCPULimit: ptrTo(2.5)},
			want: api.StatusFail, ev: []string{"GOMAXPROCS 4", "cgroup CPU limit 2.5 CPUs", "GOMAXPROCS above 3, what the limit allows"}},
		{name: "limit 2, GOMAXPROCS 8 (pre-1.25 default)", id: api.CheckGOMAXPROCS, f: Facts{GOMAXPROCS: 8, NumCPU: 8, CgroupRead: true, CgroupCPULimit: ptrTo(2.0)},
			want: api.StatusFail, ev: []string{"GOMAXPROCS 8", "cgroup CPU limit 2 CPUs", "GOMAXPROCS above 2"}},
		{name: "limit above the CPUs", id: api.CheckGOMAXPROCS, f: Facts{GOMAXPROCS: 2, NumCPU: 2, CgroupRead: true, CgroupCPULimit: ptrTo(4.0)},
			want: api.StatusPass, ev: []string{"GOMAXPROCS 2", "cgroup CPU limit 4 CPUs"}},
		{name: "limit above the CPUs, GOMAXPROCS at the limit", id: api.CheckGOMAXPROCS, f: Facts{GOMAXPROCS: 4, NumCPU: 2, CgroupRead: true, CgroupCPULimit: ptrTo(4.0)},
			want: api.StatusFail, ev: []string{"GOMAXPROCS above 2, what the limit allows"}},
		{name: "limit, CPU count unknown", id: api.CheckGOMAXPROCS, f: Facts{GOMAXPROCS: 3, CgroupCPULimit: ptrTo(2.5)},
			want: api.StatusPass, ev: []string{"cgroup CPU limit 2.5 CPUs"}},
		{name: "throttled half the periods", id: api.CheckGOMAXPROCS,
			f:    Facts{GOMAXPROCS: 2, NumCPU: 8, CgroupRead: true, CgroupCPULimit: ptrTo(2.0), CgroupPeriods: ptrTo[int64](100), CgroupThrottledPeriods: ptrTo[int64](50)},
			want: api.StatusWarn, ev: []string{"GOMAXPROCS 2", "throttled in 50 of 100 cgroup periods", "50% of periods throttled"}},
		{name: "throttled 11 %", id: api.CheckGOMAXPROCS,
			f:    Facts{GOMAXPROCS: 8, NumCPU: 8, CgroupRead: true, CgroupPeriods: ptrTo[int64](100), CgroupThrottledPeriods: ptrTo[int64](11)},
			want: api.StatusWarn, ev: []string{"throttled in 11 of 100 cgroup periods", "11% of periods throttled"}},
		{name: "throttled 10 %", id: api.CheckGOMAXPROCS,
			f:    Facts{GOMAXPROCS: 8, NumCPU: 8, CgroupRead: true, CgroupPeriods: ptrTo[int64](100), CgroupThrottledPeriods: ptrTo[int64](10)},
			want: api.StatusPass, ev: []string{"throttled in 10 of 100 cgroup periods"}, notEv: []string{"of periods throttled"}},
		{name: "no periods", id: api.CheckGOMAXPROCS,
			f:    Facts{GOMAXPROCS: 8, NumCPU: 8, CgroupRead: true, CgroupPeriods: ptrTo[int64](0), CgroupThrottledPeriods: ptrTo[int64](0)},
			want: api.StatusPass, notEv: []string{"throttled"}},
		{name: "over the limit and throttled", id: api.CheckGOMAXPROCS,
			f:    Facts{GOMAXPROCS: 8, NumCPU: 8, CgroupRead: true, CgroupCPULimit: ptrTo(1.0), CgroupPeriods: ptrTo[int64](100), CgroupThrottledPeriods: ptrTo[int64](90)},
			want: api.StatusFail, ev: []string{"throttled in 90 of 100 cgroup periods", "GOMAXPROCS above 2"}},

		// asyncpreemptoff
		{name: "GODEBUG unknown", id: api.CheckAsyncPreemptOff, f: Facts{Source: SourcePprof}, want: api.StatusUnknown,
			ev: []string{"GODEBUG is not exposed by net/http/pprof"}},
		{name: "asyncpreemptoff=1", id: api.CheckAsyncPreemptOff, f: Facts{AsyncPreemptOff: ptrTo(true)}, want: api.StatusFail,
			ev: []string{"asyncpreemptoff=1"}},
		{name: "asyncpreemptoff unset", id: api.CheckAsyncPreemptOff, f: Facts{AsyncPreemptOff: ptrTo(false)}, want: api.StatusPass,
			ev: []string{"asyncpreemptoff not set"}},

		// async_preempt_share
		{name: "share: no profile", id: api.CheckAsyncPreemptShare, f: Facts{}, want: api.StatusUnknown,
			ev: []string{"no CPU profile analyzed yet"}},
		{name: "share: no samples", id: api.CheckAsyncPreemptShare, f: Facts{Profile: &Profile{Windows: 1}}, want: api.StatusUnknown,
			ev: []string{"no CPU profile analyzed yet"}},
		{name: "share: too few samples", id: api.CheckAsyncPreemptShare, f: Facts{Profile: &Profile{Windows: 1, Samples: 99, CPUSeconds: 0.99, AsyncPreempt: 0.5}},
			want: api.StatusUnknown, ev: []string{"runtime.asyncPreempt 50.0% of CPU", "99 samples (990.0ms CPU) over 1 profile", "fewer than 100 samples: too few to judge"}},
		{name: "share: low", id: api.CheckAsyncPreemptShare, f: Facts{Profile: &Profile{Windows: 3, Samples: 1000, CPUSeconds: 10, AsyncPreempt: 0.005}},
			want: api.StatusPass, ev: []string{"runtime.asyncPreempt 0.50% of CPU", "1000 samples (10.00s CPU) over 3 profiles"}},
		{name: "share: at the threshold", id: api.CheckAsyncPreemptShare, f: Facts{Profile: &Profile{Windows: 3, Samples: 1000, CPUSeconds: 10, AsyncPreempt: 0.01}},
			want: api.StatusPass, ev: []string{"runtime.asyncPreempt 1.00% of CPU"}},
		{name: "share: barely above, not significant", id: api.CheckAsyncPreemptShare, f: Facts{Profile: &Profile{Windows: 3, Samples: 1000, CPUSeconds: 10, AsyncPreempt: 0.012}},
			want: api.StatusWarn, ev: []string{"runtime.asyncPreempt 1.20% of CPU", "above the threshold, but not by more than sampling noise"}},
		{name: "share: significant", id: api.CheckAsyncPreemptShare, f: Facts{Profile: &Profile{Windows: 3, Samples: 1000, CPUSeconds: 10, AsyncPreempt: 0.03}},
			want: api.StatusFail, ev: []string{"runtime.asyncPreempt 3.00% of CPU"}, notEv: []string{"sampling noise"}},
		{name: "share: 3 of 100 samples", id: api.CheckAsyncPreemptShare, f: Facts{Profile: &Profile{Windows: 1, Samples: 100, CPUSeconds: 1, AsyncPreempt: 0.03}},
			want: api.StatusFail, ev: []string{"runtime.asyncPreempt 3.00% of CPU", "100 samples (1.00s CPU) over 1 profile"}},

		// cgo
		{name: "cgo: nothing", id: api.CheckCgo, f: Facts{}, want: api.StatusUnknown,
			ev: []string{"no CPU profile analyzed and no cgo call count"}},
		{name: "cgo: empty profile", id: api.CheckCgo, f: Facts{Profile: &Profile{Windows: 1}}, want: api.StatusUnknown,
			ev: []string{"no CPU samples"}},
		{name: "cgo: too few samples", id: api.CheckCgo, f: Facts{Profile: &Profile{Windows: 1, Samples: 50, CPUSeconds: 0.5, Cgo: 0.9, CgoCrossing: 0.5}},
			want: api.StatusUnknown, ev: []string{"cgo 90.0% of CPU, of it crossing overhead 50.0%", "fewer than 100 samples: too few to judge"}},
		{name: "cgo: little", id: api.CheckCgo, f: Facts{Profile: &Profile{Windows: 3, Samples: 1000, CPUSeconds: 10, Cgo: 0.05, CgoCrossing: 0.001}, CgoCallsPerSecond: ptrTo(5000.0)},
			want: api.StatusPass, ev: []string{"5000 cgo calls/s", "cgo 5.00% of CPU, of it crossing overhead 0.10%"}},
		{name: "cgo: crossing overhead", id: api.CheckCgo,
			f:    Facts{Profile: &Profile{Windows: 3, Samples: 1000, CPUSeconds: 10, Cgo: 0.06, CgoCrossing: 0.05, TopCgoCalls: manyCgoCalls}},
			want: api.StatusFail,
			ev: []string{"cgo 6.00% of CPU, of it crossing overhead 5.00%", "crossing overhead above 1 % of CPU: many short calls",
				"call site main.a → C.fa: 2.00%", "call site main.b → C.fb: 1.50%", "call site main.c → C.fc: 1.00%"},
			notEv: []string{"main.d"}},
		{name: "cgo: crossing barely above 1 %, not significant", id: api.CheckCgo,
			f:    Facts{Profile: &Profile{Windows: 3, Samples: 1000, CPUSeconds: 10, Cgo: 0.02, CgoCrossing: 0.012}},
			want: api.StatusPass, ev: []string{"of it crossing overhead 1.20%"}},
		{name: "cgo: call rate", id: api.CheckCgo, f: Facts{Profile: prof(1000), CgoCallsPerSecond: ptrTo(250_000.0)},
			want: api.StatusWarn, ev: []string{"250000 cgo calls/s", "above 100000 calls/s"}},
		{name: "cgo: call rate without a profile", id: api.CheckCgo, f: Facts{CgoCallsPerSecond: ptrTo(250_000.0)},
			want: api.StatusWarn, ev: []string{"250000 cgo calls/s", "above 100000 calls/s"}},
		{name: "cgo: call rate with too few samples", id: api.CheckCgo, f: Facts{Profile: prof(50), CgoCallsPerSecond: ptrTo(250_000.0)},
			want: api.StatusWarn, ev: []string{"250000 cgo calls/s"}},
		{name: "cgo: low call rate without a profile", id: api.CheckCgo, f: Facts{CgoCallsPerSecond: ptrTo(50_000.0)},
			want: api.StatusPass, ev: []string{"50000 cgo calls/s"}},
		{name: "cgo: long C calls", id: api.CheckCgo, f: Facts{Profile: &Profile{Windows: 3, Samples: 1000, CPUSeconds: 10, Cgo: 0.4}},
			want: api.StatusWarn, ev: []string{"cgo 40.0% of CPU, of it crossing overhead 0%", "above 25.0% of CPU in C"}},
		{name: "cgo: call rate check disabled", id: api.CheckCgo, f: Facts{CgoCallsPerSecond: ptrTo(1e9)},
			th: &Thresholds{AsyncPreempt: 0.01, Cgo: 0.25, CgoCallRate: -1, SchedLatency: 0.01, MinSamples: 100}, want: api.StatusPass},
		{name: "cgo: share check disabled", id: api.CheckCgo, f: Facts{Profile: &Profile{Windows: 3, Samples: 1000, CPUSeconds: 10, Cgo: 0.9}},
			th: &Thresholds{AsyncPreempt: 0.01, Cgo: -1, CgoCallRate: 100_000, SchedLatency: 0.01, MinSamples: 100}, want: api.StatusPass},

		// lock_os_thread
		{name: "no dump", id: api.CheckLockOSThread, f: Facts{}, want: api.StatusUnknown,
			ev: []string{"no goroutine dump read"}},
		{name: "dump skipped", id: api.CheckLockOSThread, f: Facts{LockedUnknown: "3000 goroutines, above 2000: dump skipped"}, want: api.StatusUnknown,
			ev: []string{"3000 goroutines, above 2000: dump skipped"}},
		{name: "none locked", id: api.CheckLockOSThread,
			f:    Facts{GOMAXPROCS: 4, OSThreads: ptrTo[int64](12), ThreadsCreated: ptrTo[int64](15), Locked: &Locked{}},
			want: api.StatusPass, ev: []string{"0 goroutines locked to an OS thread", "12 OS threads", "15 threads created (threadcreate profile)", "GOMAXPROCS 4"}},
		{name: "one locked", id: api.CheckLockOSThread,
			f:    Facts{GOMAXPROCS: 4, Locked: &Locked{Goroutines: 1, Where: []string{"main.render, started by main.main"}}},
			want: api.StatusWarn, ev: []string{"1 goroutine locked to an OS thread", "locked: main.render, started by main.main", "audit these: are they needed?"}},
		{name: "as many locked as Ps", id: api.CheckLockOSThread, f: Facts{GOMAXPROCS: 4, Locked: &Locked{Goroutines: 4}},
			want: api.StatusWarn, ev: []string{"4 goroutines locked to an OS thread", "GOMAXPROCS 4"}},
		{name: "more locked than Ps", id: api.CheckLockOSThread, f: Facts{GOMAXPROCS: 4, Locked: &Locked{Goroutines: 5}},
			want: api.StatusFail, ev: []string{"5 goroutines locked to an OS thread", "GOMAXPROCS 4", "more locked goroutines than Ps"}},
		{name: "many locked, GOMAXPROCS unknown", id: api.CheckLockOSThread, f: Facts{Locked: &Locked{Goroutines: 50}},
			want: api.StatusWarn, ev: []string{"50 goroutines locked to an OS thread"}, notEv: []string{"GOMAXPROCS"}},

		// sched_latency
		{name: "latency unknown", id: api.CheckSchedLatency, f: Facts{Source: SourcePprof}, want: api.StatusUnknown,
			ev: []string{"scheduling latency is not exposed by net/http/pprof"}},
		{name: "latency low", id: api.CheckSchedLatency,
			f:    Facts{Sched: &api.Latency{Count: 1000, P50: 100e-6, P99: 500e-6, P999: 900e-6}, SchedFrom: "worst window of 6"},
			want: api.StatusPass, ev: []string{"p50 100µs, p99 500µs, p999 900µs (worst window of 6)"}},
		{name: "latency without observations", id: api.CheckSchedLatency, f: Facts{Sched: &api.Latency{}},
			want: api.StatusUnknown, ev: []string{"no scheduling event observed"}},
		{name: "latency on a bucket edge above a tenth", id: api.CheckSchedLatency, f: Facts{Sched: &api.Latency{Count: 1000, P99: 0.001048576}},
			want: api.StatusWarn, ev: []string{"p99 1.05ms", "above 1ms"}},
		{name: "latency at a tenth", id: api.CheckSchedLatency, f: Facts{Sched: &api.Latency{Count: 1000, P99: 0.001}},
			want: api.StatusPass, ev: []string{"p99 1ms"}},
		{name: "latency above a tenth", id: api.CheckSchedLatency, f: Facts{Sched: &api.Latency{Count: 1000, P50: 1e-4, P99: 0.002, P999: 0.004}},
			want: api.StatusWarn, ev: []string{"p99 2ms", "above 1ms, a tenth of the threshold"}},
		{name: "latency at the threshold", id: api.CheckSchedLatency, f: Facts{Sched: &api.Latency{Count: 1000, P99: 0.010}},
			want: api.StatusWarn, ev: []string{"p99 10ms"}},
		{name: "latency high", id: api.CheckSchedLatency,
			f:    Facts{Sched: &api.Latency{Count: 1000, P50: 0.001, P99: 0.025, P999: 0.1}, SchedFrom: "1s execution trace"},
			want: api.StatusFail, ev: []string{"p50 1ms, p99 25ms, p999 100ms (1s execution trace)"}, notEv: []string{"a tenth"}},

		// gogc
		{name: "GC unknown", id: api.CheckGOGC, f: Facts{Source: SourcePprof}, want: api.StatusUnknown,
			ev: []string{"GOGC is not exposed by net/http/pprof"}},
		{name: "GOGC default", id: api.CheckGOGC, f: Facts{GOGC: ptrTo[int64](100), MemoryLimit: ptrTo[int64](math.MaxInt64)},
			want: api.StatusPass, ev: []string{"GOGC 100", "no GOMEMLIMIT"}},
		{name: "GOGC off without GOMEMLIMIT", id: api.CheckGOGC, f: Facts{GOGC: ptrTo[int64](-1), MemoryLimit: ptrTo[int64](math.MaxInt64)},
			want: api.StatusFail, ev: []string{"GOGC off", "no GOMEMLIMIT", "the GC never runs"}},
		{name: "GOGC off, GOMEMLIMIT unknown", id: api.CheckGOGC, f: Facts{GOGC: ptrTo[int64](-1)},
			want: api.StatusWarn, ev: []string{"GOGC off", "whether a GOMEMLIMIT bounds the heap is unknown"}},
		{name: "GOGC off with GOMEMLIMIT", id: api.CheckGOGC, f: Facts{GOGC: ptrTo[int64](-1), MemoryLimit: ptrTo[int64](1 << 30)},
			want: api.StatusPass, ev: []string{"GOGC off", "GOMEMLIMIT 1.0 GiB"}},
		{name: "GOGC 50 with GOMEMLIMIT", id: api.CheckGOGC, f: Facts{GOGC: ptrTo[int64](50), MemoryLimit: ptrTo[int64](1536 << 20)},
			want: api.StatusPass, ev: []string{"GOGC 50", "GOMEMLIMIT 1.5 GiB"}},
		{name: "GOGC low", id: api.CheckGOGC, f: Facts{GOGC: ptrTo[int64](10)},
			want: api.StatusWarn, ev: []string{"GOGC 10", "GOGC under 25: collections are frequent"}},
		{name: "GOGC 0", id: api.CheckGOGC, f: Facts{GOGC: ptrTo[int64](0)},
			want: api.StatusWarn, ev: []string{"GOGC 0", "GOGC under 25"}},
		{name: "GOGC 25", id: api.CheckGOGC, f: Facts{GOGC: ptrTo[int64](25)},
			want: api.StatusPass, ev: []string{"GOGC 25"}},
		{name: "GC busy", id: api.CheckGOGC, f: Facts{GOGC: ptrTo[int64](100), GCCPUFraction: ptrTo(0.3), GCFrom: "since the process started"},
			want: api.StatusWarn, ev: []string{"GOGC 100", "GC 30.0% of CPU (since the process started)", "over a quarter of the CPU"}},
		{name: "GC at a quarter", id: api.CheckGOGC, f: Facts{GOGC: ptrTo[int64](100), GCCPUFraction: ptrTo(0.25)},
			want: api.StatusPass, ev: []string{"GC 25.0% of CPU"}},
		{name: "only the GC's share", id: api.CheckGOGC, f: Facts{Source: SourcePprof, GCCPUFraction: ptrTo(0.02)},
			want: api.StatusUnknown, ev: []string{"GC 2.00% of CPU", "GOGC itself is not exposed by net/http/pprof"}},

		// hot_loops
		{name: "loops: no profile", id: api.CheckHotLoops, f: Facts{}, want: api.StatusUnknown,
			ev: []string{"no CPU profile analyzed yet"}},
		{name: "loops: no samples", id: api.CheckHotLoops, f: Facts{Profile: &Profile{Windows: 2}}, want: api.StatusUnknown,
			ev: []string{"no CPU profile analyzed yet"}},
		{name: "loops: too few samples", id: api.CheckHotLoops,
			f:    Facts{Profile: &Profile{Windows: 1, Samples: 50, CPUSeconds: 0.5, TopPreempted: []analysis.FuncStat{{Function: "main.spin", Share: 0.5}}}},
			want: api.StatusUnknown, ev: []string{"50 samples (500.0ms CPU) over 1 profile", "fewer than 100 samples: too few to judge"}, notEv: []string{"main.spin"}},
		{name: "loops: none interrupted", id: api.CheckHotLoops, f: Facts{Profile: prof(1000)},
			want: api.StatusPass, ev: []string{"no function was interrupted by async preemption", "1000 samples (10.00s CPU) over 3 profiles"}},
		{name: "loops: a trace", id: api.CheckHotLoops,
			f:    Facts{Profile: &Profile{Windows: 3, Samples: 1000, CPUSeconds: 10, TopPreempted: []analysis.FuncStat{{Function: "main.spin", File: "/src/spin.go", Line: 12, Share: 0.0005}}}},
			want: api.StatusPass, ev: []string{"main.spin /src/spin.go:12 interrupted by async preemption: 0.050% of CPU"}},
		{name: "loops: above a tenth", id: api.CheckHotLoops,
			f:    Facts{Profile: &Profile{Windows: 3, Samples: 1000, CPUSeconds: 10, TopPreempted: []analysis.FuncStat{{Function: "main.spin", Share: 0.005}}}},
			want: api.StatusWarn, ev: []string{"main.spin interrupted by async preemption: 0.50% of CPU"}, notEv: []string{"main.spin :"}},
		{name: "loops: two stray samples in 1,000", id: api.CheckHotLoops,
			f:    Facts{Profile: &Profile{Windows: 3, Samples: 1000, CPUSeconds: 10, TopPreempted: []analysis.FuncStat{{Function: "main.gcScanned", Share: 0.002}}}},
			want: api.StatusPass, ev: []string{"main.gcScanned interrupted by async preemption: 0.20% of CPU"}},
		{name: "loops: above the threshold, not significant", id: api.CheckHotLoops,
			f:    Facts{Profile: &Profile{Windows: 3, Samples: 1000, CPUSeconds: 10, TopPreempted: []analysis.FuncStat{{Function: "main.spin", Share: 0.012}}}},
			want: api.StatusWarn, ev: []string{"main.spin interrupted by async preemption: 1.20% of CPU"}},
		{name: "loops: significant, then a small one", id: api.CheckHotLoops,
			f: Facts{Profile: &Profile{Windows: 3, Samples: 1000, CPUSeconds: 10, TopPreempted: []analysis.FuncStat{
				{Function: "main.spin", File: "/src/spin.go", Line: 12, Share: 0.05},
				{Function: "main.walk", File: "/src/walk.go", Line: 7, Share: 0.005},
			}}},
			want: api.StatusFail, ev: []string{"main.spin /src/spin.go:12 interrupted by async preemption: 5.00% of CPU", "main.walk /src/walk.go:7 interrupted by async preemption: 0.50% of CPU"}},
		{name: "loops: a small one, then significant", id: api.CheckHotLoops,
			f: Facts{Profile: &Profile{Windows: 3, Samples: 1000, CPUSeconds: 10, TopPreempted: []analysis.FuncStat{
				{Function: "main.walk", Share: 0.005},
				{Function: "main.spin", Share: 0.05},
			}}},
			want: api.StatusFail},
		{name: "loops: only the top 5 count", id: api.CheckHotLoops,
			f: Facts{Profile: &Profile{Windows: 3, Samples: 1000, CPUSeconds: 10, TopPreempted: []analysis.FuncStat{
				{Function: "main.f1"}, {Function: "main.f2"}, {Function: "main.f3"}, {Function: "main.f4"}, {Function: "main.f5"},
				{Function: "main.f6", Share: 0.5},
			}}},
			want: api.StatusPass, ev: []string{"main.f1 ", "main.f5 "}, notEv: []string{"main.f6"}},

		// cpu_throttling
		{name: "throttling: plain pprof", id: api.CheckCPUThrottling, f: Facts{Source: SourcePprof}, want: api.StatusUnknown,
			ev: []string{"cgroup CPU figures are not exposed by net/http/pprof"}},
		{name: "throttling: saved profile", id: api.CheckCPUThrottling, f: Facts{Source: SourceFile, Profile: prof(1000)}, want: api.StatusUnknown,
			ev: []string{"not exposed by a saved CPU profile"}},
		{name: "throttling: agent off Linux", id: api.CheckCPUThrottling, f: Facts{Source: SourceAgent, GOMAXPROCS: 8}, want: api.StatusUnknown,
			ev: []string{"no cgroup CPU figures here"}},
		{name: "throttling: no limit", id: api.CheckCPUThrottling, f: Facts{GOMAXPROCS: 8, CgroupRead: true}, want: api.StatusPass,
			ev: []string{"no CPU limit on the path to the root cgroup", "GOMAXPROCS 8"}},
		{name: "throttling: no limit, counters zero", id: api.CheckCPUThrottling,
			f:    Facts{CgroupRead: true, CgroupPeriods: ptrTo[int64](0), CgroupThrottledPeriods: ptrTo[int64](0)},
			want: api.StatusPass, ev: []string{"no CPU limit", "throttled in 0 of 0 cgroup periods", "no quota period elapsed"}},
		{name: "throttling: limit, no window yet", id: api.CheckCPUThrottling,
			f:    Facts{GOMAXPROCS: 2, CgroupRead: true, CgroupCPULimit: ptrTo(1.5), CgroupCPULimitPath: "/"},
			want: api.StatusUnknown, ev: []string{"effective CPU limit 1.5 CPUs, set by cgroup /", "no window has counted the quota's periods yet"}},
		{name: "throttling: never", id: api.CheckCPUThrottling, f: throttled(0, 6000), want: api.StatusPass,
			ev: []string{"effective CPU limit 2 CPUs, set by cgroup /kubepods/pod1", "throttled in 0 of 6000 cgroup periods (0%) over 10 windows",
				"40.0ms throttled per second", "GOMAXPROCS 2"}},
		{name: "throttling: under a fifth", id: api.CheckCPUThrottling, f: throttled(49, 1000), want: api.StatusPass,
			ev: []string{"throttled in 49 of 1000 cgroup periods (4.90%)"}},
		{name: "throttling: at a fifth", id: api.CheckCPUThrottling, f: throttled(50, 1000), want: api.StatusWarn,
			ev: []string{"throttled in 50 of 1000 cgroup periods (5.00%)", "at least 5.00%, a fifth of the threshold"}},
		{name: "throttling: at the threshold", id: api.CheckCPUThrottling, f: throttled(250, 1000), want: api.StatusWarn,
			ev: []string{"(25.0%)", "a fifth of the threshold"}},
		{name: "throttling: above, within chance", id: api.CheckCPUThrottling, f: throttled(6, 20), want: api.StatusWarn,
			ev: []string{"throttled in 6 of 20 cgroup periods (30.0%)", "not by more than chance"}},
		{name: "throttling: above with confidence", id: api.CheckCPUThrottling, f: throttled(50, 100), want: api.StatusFail,
			ev: []string{"throttled in 50 of 100 cgroup periods (50.0%)", "effective CPU limit 2 CPUs, set by cgroup /kubepods/pod1",
				"40.0ms throttled per second", "GOMAXPROCS 2", "needs more CPU than its quota"}},
		{name: "throttling: too few periods", id: api.CheckCPUThrottling, f: throttled(5, 9), want: api.StatusUnknown,
			ev: []string{"throttled in 5 of 9 cgroup periods", "fewer than 10 periods: too few to judge"}},
		{name: "throttling: a few periods, none throttled", id: api.CheckCPUThrottling, f: throttled(0, 9), want: api.StatusPass},
		{name: "throttling: threshold disabled", id: api.CheckCPUThrottling, f: throttled(90, 100),
			th: &Thresholds{Throttle: -1, Contention: 0.5, MinSamples: 100}, want: api.StatusPass, ev: []string{"throttled in 90 of 100"}},

		// cpu_contention
		{name: "contention: plain pprof", id: api.CheckCPUContention, f: Facts{Source: SourcePprof}, want: api.StatusUnknown,
			ev: []string{"the run-queue wait is not exposed by net/http/pprof"}},
		{name: "contention: agent without windows", id: api.CheckCPUContention, f: Facts{Source: SourceAgent}, want: api.StatusUnknown,
			ev: []string{"no window analyzed yet"}},
		{name: "contention: unavailable", id: api.CheckCPUContention,
			f:    Facts{Source: SourceAgent, RunQueueUnknown: "no window read the run-queue wait: not Linux"},
			want: api.StatusUnknown, ev: []string{"no window read the run-queue wait: not Linux"}},
		{name: "contention: none", id: api.CheckCPUContention, f: waited(0.02, 0.01, 0.1), want: api.StatusPass,
			ev: []string{"threads waited 20.0ms per second for a CPU, 0.01× the CPU they got (worst window of 10)",
				"other processes used 0.10 CPUs, the hypervisor took 0.00 (steal), of 8 CPUs", "GOMAXPROCS 8"},
			notEv: []string{"account for it"}},
		{name: "contention: high ratio, little wait", id: api.CheckCPUContention, f: waited(0.05, 3, 0), want: api.StatusPass,
			ev: []string{"3.00× the CPU they got", "too little to be contention"}},
		{name: "contention: at half the threshold", id: api.CheckCPUContention, f: waited(1, 0.25, 4), want: api.StatusPass},
		{name: "contention: above half the threshold", id: api.CheckCPUContention, f: waited(1, 0.3, 4), want: api.StatusWarn,
			ev: []string{"above 25.0%, half the threshold", "other processes account for it: they took 4.00 CPUs"}},
		{name: "contention: neighbours", id: api.CheckCPUContention, f: waited(3, 1.5, 6.5), want: api.StatusFail,
			ev: []string{"threads waited 3.00s per second for a CPU, 1.50× the CPU they got", "other processes used 6.50 CPUs",
				"other processes account for it: they took 6.50 CPUs while the threads waited"},
			notEv: []string{"own threads"}},
		{name: "contention: steal", id: api.CheckCPUContention,
			f:    Facts{RunQueue: &RunQueue{WaitPerSecond: 2, WaitRatio: 1, StealCPUs: ptrTo(3.0), GOMAXPROCS: 4, NumCPU: 4}},
			want: api.StatusFail, ev: []string{"the hypervisor took 3.00 (steal), of 4 CPUs", "other processes account for it: they took 3.00 CPUs"}},
		{name: "contention: own threads, GOMAXPROCS above the CPUs", id: api.CheckCPUContention,
			f:    Facts{RunQueue: &RunQueue{WaitPerSecond: 6, WaitRatio: 3, OtherCPUs: ptrTo(0.05), StealCPUs: ptrTo(0.0), GOMAXPROCS: 8, NumCPU: 2}},
			want: api.StatusFail, ev: []string{"the process's own threads account for it: GOMAXPROCS 8 above the 2 CPUs"},
			notEv: []string{"other processes account"}},
		{name: "contention: own threads, GOMAXPROCS above the limit", id: api.CheckCPUContention,
			f:    Facts{RunQueue: &RunQueue{WaitPerSecond: 2, WaitRatio: 1, OtherCPUs: ptrTo(0.0), GOMAXPROCS: 8, NumCPU: 8, CPULimit: ptrTo(2.0)}},
			want: api.StatusFail, ev: []string{"GOMAXPROCS 8, effective CPU limit 2 CPUs", "own threads account for it: GOMAXPROCS 8 above the 2 the CPU limit allows"}},
		{name: "contention: own threads beyond the CPUs", id: api.CheckCPUContention,
			f:    Facts{RunQueue: &RunQueue{WaitPerSecond: 2, WaitRatio: 1, OtherCPUs: ptrTo(0.1), GOMAXPROCS: 2, NumCPU: 2}},
			want: api.StatusFail, ev: []string{"own threads account for it: they wanted 4.00 CPUs of the 2 it can get"}},
		{name: "contention: neighbours and GOMAXPROCS", id: api.CheckCPUContention,
			f:    Facts{RunQueue: &RunQueue{WaitPerSecond: 1, WaitRatio: 1, OtherCPUs: ptrTo(3.0), GOMAXPROCS: 8, NumCPU: 4}},
			want: api.StatusFail, ev: []string{"other processes account for it: they took 3.00 CPUs", "GOMAXPROCS 8 above the 4 CPUs adds to it"}},
		// Threads started during the window are missing from its sums; its
		// 8 busy goroutines say the process keeps 8 threads busy on 2 CPUs.
		{name: "contention: GOMAXPROCS, threads started mid-window", id: api.CheckCPUContention,
			f: Facts{RunQueue: &RunQueue{WaitPerSecond: 1.96, WaitRatio: 7.31, OtherCPUs: ptrTo(1.5), GOMAXPROCS: 8, NumCPU: 2,
				BusyGoroutines: ptrTo(int64(17))}},
			want: api.StatusFail, ev: []string{"the process's own threads account for it: GOMAXPROCS 8 above the 2 CPUs"}, notEv: []string{"other processes account"}},
		{name: "contention: unexplained", id: api.CheckCPUContention,
			f:    Facts{RunQueue: &RunQueue{WaitPerSecond: 1, WaitRatio: 1, OtherCPUs: ptrTo(0.1), GOMAXPROCS: 8, NumCPU: 8}},
			want: api.StatusFail, ev: []string{"neither other processes nor GOMAXPROCS account for it"}, notEv: []string{"context switches"}},
		// The steady example alone on an idle 2-vCPU VM: its goroutines hand
		// work to each other some 35,000 times a second, each wake-up
		// waiting a few µs.
		{name: "contention: threads waking often", id: api.CheckCPUContention,
			f: Facts{RunQueue: &RunQueue{WaitPerSecond: 0.35, WaitRatio: 0.3, OtherCPUs: ptrTo(0.0), StealCPUs: ptrTo(0.0),
				ContextSwitchesPerSecond: ptrTo(35_000.0), GOMAXPROCS: 2, NumCPU: 2}},
			want: api.StatusPass, ev: []string{"35000 context switches per second, 10µs of run-queue wait each",
				"neither other processes nor GOMAXPROCS account for it: with CPUs to spare, threads wait as they wake"}},
		{name: "contention: others unknown", id: api.CheckCPUContention,
			f:    Facts{RunQueue: &RunQueue{WaitPerSecond: 1, WaitRatio: 1, GOMAXPROCS: 8, NumCPU: 8}},
			want: api.StatusFail, ev: []string{"other processes' CPU unknown, of 8 CPUs", "neither other processes nor GOMAXPROCS"}},
		{name: "contention: threshold disabled", id: api.CheckCPUContention, f: waited(3, 1.5, 6.5),
			th: &Thresholds{Throttle: 0.25, Contention: -1, MinSamples: 100}, want: api.StatusPass, notEv: []string{"account for it"}},
	}

	covered := map[string]map[string]bool{}
	for _, tt := range tests {
		t.Run(tt.id+"/"+tt.name, func(t *testing.T) {
			th := DefaultThresholds
			if tt.th != nil {
				th = *tt.th
			}
			c := checkOf(t, Run(tt.f, th), tt.id)
			if c.Status != tt.want {
				t.Errorf("status %s, want %s; evidence %q", c.Status, tt.want, c.Evidence)
			}
			if c.Title == "" || c.Advice == "" {
				t.Errorf("title %q, advice %q: want both", c.Title, c.Advice)
			}
			if len(c.Evidence) == 0 {
				t.Errorf("no evidence")
			}
			for _, want := range tt.ev {
				if !slices.ContainsFunc(c.Evidence, func(e string) bool { return strings.Contains(e, want) }) {
					t.Errorf("no evidence line contains %q: %q", want, c.Evidence)
				}
			}
			for _, not := range tt.notEv {
				if slices.ContainsFunc(c.Evidence, func(e string) bool { return strings.Contains(e, not) }) {
					t.Errorf("an evidence line contains %q: %q", not, c.Evidence)
				}
			}
		})
		if covered[tt.id] == nil {
			covered[tt.id] = map[string]bool{}
		}
		covered[tt.id][tt.want] = true
	}

	// Every check is driven to each status it can take.
	all := []string{api.StatusPass, api.StatusWarn, api.StatusFail, api.StatusUnknown}
	for _, id := range allChecks {
		want := all
		switch id {
		case api.CheckAsyncPreemptOff:
			want = []string{api.StatusPass, api.StatusFail, api.StatusUnknown} // it has no warn
		case api.CheckReMeasure:
			continue // always unknown: TestReMeasurePointsAtCompare
		}
		for _, s := range want {
			if !covered[id][s] {
				t.Errorf("no case drives %s to %s", id, s)
			}
		}
	}
}

// TestDisabledThresholds: a threshold below zero disables its judgment (the
// agent's Config says so), so a disabled threshold must not make its check
// warn or fail.
func TestDisabledThresholds(t *testing.T) {
	off := Thresholds{AsyncPreempt: -1, Cgo: -1, CgoCallRate: -1, SchedLatency: -1, Throttle: -1, Contention: -1, MinSamples: 100}
	f := Facts{
		Profile: &Profile{Windows: 3, Samples: 1000, CPUSeconds: 10, AsyncPreempt: 0.3, Cgo: 0.5,
			TopPreempted: []analysis.FuncStat{{Function: "main.spin", Share: 0.3}}},
		CgoCallsPerSecond: ptrTo(1e7),
		Sched:             &api.Latency{Count: 100, P50: 0.1, P99: 0.5, P999: 1},
		CgroupRead:        true, CgroupCPULimit: ptrTo(1.0), CgroupPeriods: ptrTo[int64](1000), CgroupThrottledPeriods: ptrTo[int64](900),
		RunQueue: &RunQueue{WaitPerSecond: 5, WaitRatio: 5, GOMAXPROCS: 8, NumCPU: 2},
	}
	r := Run(f, off)
	for _, id := range []string{api.CheckAsyncPreemptShare, api.CheckCgo, api.CheckSchedLatency, api.CheckHotLoops,
		api.CheckCPUThrottling, api.CheckCPUContention} {
		if c := checkOf(t, r, id); c.Status != api.StatusPass {
			t.Errorf("%s with its threshold disabled: %s %q, want pass", id, c.Status, c.Evidence)
		}
	}
	// Even an idle process, with nothing above any threshold.
	f = Facts{Profile: prof(1000), Sched: &api.Latency{Count: 100},
		CgroupRead: true, CgroupPeriods: ptrTo[int64](0), CgroupThrottledPeriods: ptrTo[int64](0), RunQueue: &RunQueue{}}
	r = Run(f, off)
	for _, id := range []string{api.CheckAsyncPreemptShare, api.CheckSchedLatency, api.CheckHotLoops, api.CheckCPUThrottling, api.CheckCPUContention} {
		if c := checkOf(t, r, id); c.Status != api.StatusPass {
			t.Errorf("idle, %s with its threshold disabled: %s %q, want pass", id, c.Status, c.Evidence)
		}
	}
	// The titles say the threshold is off.
	for id, want := range map[string]string{
		api.CheckCPUThrottling: "the CPU quota does not throttle the process (under its threshold of periods) (threshold disabled)",
		api.CheckCPUContention: "runnable threads get a CPU (run-queue wait under its threshold of the CPU they get) (threshold disabled)",
	} {
		if c := checkOf(t, r, id); c.Title != want {
			t.Errorf("%s title %q, want %q", id, c.Title, want)
		}
	}
}

// TestCustomThresholds: the checks compare with the thresholds passed, not
// the defaults.
func TestCustomThresholds(t *testing.T) {
	th := Thresholds{AsyncPreempt: 0.05, Cgo: 0.5, CgoCallRate: 1000, SchedLatency: 0.1, Throttle: 0.5, Contention: 2, MinSamples: 10}
	f := Facts{
		Profile:           &Profile{Windows: 1, Samples: 20, CPUSeconds: 0.2, AsyncPreempt: 0.03, Cgo: 0.3},
		CgoCallsPerSecond: ptrTo(2000.0),
		Sched:             &api.Latency{Count: 100, P99: 0.02},
		CgroupRead:        true, CgroupCPULimit: ptrTo(2.0), CgroupPeriods: ptrTo[int64](1000), CgroupThrottledPeriods: ptrTo[int64](300),
		RunQueue: &RunQueue{WaitPerSecond: 1.5, WaitRatio: 1.5, OtherCPUs: ptrTo(3.0), GOMAXPROCS: 4, NumCPU: 4},
	}
	r := Run(f, th)
	for id, want := range map[string]string{
		api.CheckAsyncPreemptShare: api.StatusPass, // 3 % < 5 %
		api.CheckCgo:               api.StatusWarn, // 2,000 calls/s > 1,000
		api.CheckSchedLatency:      api.StatusWarn, // 20 ms > 10 ms, a tenth of 100 ms
		api.CheckHotLoops:          api.StatusPass, // 20 samples ≥ 10
		api.CheckCPUThrottling:     api.StatusWarn, // 30 % of periods: under 50 %, above a fifth of it
		api.CheckCPUContention:     api.StatusWarn, // 1.5× the CPU: under 2×, above half of it
	} {
		if c := checkOf(t, r, id); c.Status != want {
			t.Errorf("%s: %s %q, want %s", id, c.Status, c.Evidence, want)
		}
	}
	if c := checkOf(t, r, api.CheckAsyncPreemptShare); c.Title != "async preemption under 5.00% of CPU" {
		t.Errorf("title %q", c.Title)
	}
	if c := checkOf(t, r, api.CheckSchedLatency); c.Title != "scheduling latency p99 under 100.0ms" {
		t.Errorf("title %q", c.Title)
	}
	if c := checkOf(t, r, api.CheckCPUThrottling); c.Title != "the CPU quota does not throttle the process (under 50.0% of periods)" {
		t.Errorf("title %q", c.Title)
	}
	if c := checkOf(t, r, api.CheckCPUContention); c.Title != "runnable threads get a CPU (run-queue wait under 200.0% of the CPU they get)" {
		t.Errorf("title %q", c.Title)
	}
	if c := checkOf(t, r, api.CheckCgo); !slices.Contains(c.Evidence, "above 1000 calls/s") {
		t.Errorf("cgo evidence %q", c.Evidence)
	}
}

func TestRun(t *testing.T) {
	latest := latestMinor()
	healthy := Facts{
		Source:          SourceAgent,
		GoVersion:       fmt.Sprintf("go1.%d.1", latest),
		GOMAXPROCS:      2,
		NumCPU:          8,
		CgroupRead:      true,
		CgroupCPULimit:  ptrTo(1.5),
		AsyncPreemptOff: ptrTo(false),
		GOGC:            ptrTo[int64](100),
		MemoryLimit:     ptrTo[int64](math.MaxInt64),
		Locked:          &Locked{},
		Profile:         &Profile{Windows: 6, Samples: 6000, CPUSeconds: 60, AsyncPreempt: 0.001, Cgo: 0.01},
		Sched:           &api.Latency{Count: 500, P50: 1e-5, P99: 1e-4, P999: 2e-4},
		CgroupPeriods:   ptrTo[int64](6000), CgroupThrottledPeriods: ptrTo[int64](0),
		RunQueue: &RunQueue{WaitPerSecond: 0.01, WaitRatio: 0.02, GOMAXPROCS: 2, NumCPU: 8, CPULimit: ptrTo(1.5)},
	}
	mixed := healthy
	mixed.GoVersion = "go1.19.8"                                                          // fail
	mixed.CgroupPeriods, mixed.CgroupThrottledPeriods = ptrTo[int64](10), ptrTo[int64](5) // warn, twice: gomaxprocs and cpu_throttling
	mixed.AsyncPreemptOff = nil                                                           // unknown
	mixed.Locked = &Locked{Goroutines: 3}                                                 // fail: 3 > 2

	tests := []struct {
		name string
		f    Facts
		want api.Counts
	}{
		{"nothing known", Facts{}, api.Counts{Unknown: len(allChecks)}},
		// re_measure is unknown whatever the facts.
		{"healthy", healthy, api.Counts{Pass: len(allChecks) - 1, Unknown: 1}},
		{"mixed", mixed, api.Counts{Pass: 6, Warn: 2, Fail: 2, Unknown: 2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := Run(tt.f, DefaultThresholds)
			if r.Schema != api.DoctorSchema || r.Source != tt.f.Source {
				t.Errorf("schema %q source %q", r.Schema, r.Source)
			}
			ids := make([]string, len(r.Checks))
			var counted api.Counts
			for i, c := range r.Checks {
				ids[i] = c.ID
				switch c.Status {
				case api.StatusPass:
					counted.Pass++
				case api.StatusWarn:
					counted.Warn++
				case api.StatusFail:
					counted.Fail++
				case api.StatusUnknown:
					counted.Unknown++
				default:
					t.Errorf("%s: status %q", c.ID, c.Status)
				}
				if c.Evidence == nil {
					t.Errorf("%s: nil evidence (JSON null)", c.ID)
				}
			}
			if !slices.Equal(ids, allChecks) {
				t.Errorf("checks %v, want %v", ids, allChecks)
			}
			if r.Counts != counted {
				t.Errorf("counts %+v, but the checks count %+v", r.Counts, counted)
			}
			if r.Counts != tt.want {
				t.Errorf("counts %+v, want %+v", r.Counts, tt.want)
			}
			if n := r.Counts.Pass + r.Counts.Warn + r.Counts.Fail + r.Counts.Unknown; n != len(r.Checks) {
				t.Errorf("counts add up to %d, want %d", n, len(r.Checks))
			}
			wantWindows := 0
			if tt.f.Profile != nil {
				wantWindows = tt.f.Profile.Windows
			}
			if r.Windows != wantWindows {
				t.Errorf("windows %d, want %d", r.Windows, wantWindows)
			}
			b, err := json.Marshal(r)
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(string(b), `"evidence":null`) {
				t.Errorf("evidence marshals as null: %s", b)
			}
		})
	}
}

func TestParseGoMinor(t *testing.T) {
	tests := []struct {
		v         string
		minor     int
		devel, ok bool
	}{
		{"go1.26.8", 26, false, true},
		{"go1.25", 25, false, true},
		{"go1.25.0", 25, false, true},
		{"go1.25rc1", 25, false, true},
		{"go1.26beta2", 26, false, true},
		{"go1.24.3 X:nocoverageredesign", 24, false, true},
		{"go1.0", 0, false, true},
		{"go1.9999", 9999, false, true},
		{"  go1.22.1\n", 22, false, true},
		{"devel go1.27-abc123 Tue Jan 6 10:00:00 2026 +0000", 27, true, true},
		{"devel go1.26-0123456789", 26, true, true},
		{"devel +abcdef Tue Jan 6", 0, true, false},
		{"devel ", 0, false, false}, // trimmed to "devel": no prefix
		{"go1", 0, false, false},
		{"go1.", 0, false, false},
		{"", 0, false, false},
		{"go1.x", 0, false, false},
		{"go1.-1", 0, false, false},
		{"go2.0", 0, false, false},
		{"go1.12345", 0, false, false},
		{"1.22", 0, false, false},
		{"Go1.22", 0, false, false},
		{"gccgo (GCC) 14.2.0", 0, false, false},
	}
	for _, tt := range tests {
		minor, devel, ok := ParseGoMinor(tt.v)
		if minor != tt.minor || devel != tt.devel || ok != tt.ok {
			t.Errorf("ParseGoMinor(%q) = %d, %v, %v; want %d, %v, %v", tt.v, minor, devel, ok, tt.minor, tt.devel, tt.ok)
		}
	}
}

func TestDefaultGOMAXPROCS(t *testing.T) {
	tests := []struct {
		limit  float64
		numCPU int
		want   int
	}{
		{0.1, 8, 2},
		{0.5, 8, 2},
		{1, 8, 2},
		{2, 8, 2},
		{2.01, 8, 3},
		{2.5, 8, 3},
		{3, 8, 3},
		{7.5, 64, 8},
		{16, 8, 8},
		{0.5, 1, 1},
		{2.5, 0, 3}, // CPU count unknown: no cap
		{0.5, 0, 2},
	}
	for _, tt := range tests {
		if got := DefaultGOMAXPROCS(tt.limit, tt.numCPU); got != tt.want {
			t.Errorf("DefaultGOMAXPROCS(%v, %d) = %d, want %d", tt.limit, tt.numCPU, got, tt.want)
		}
	}
}

func TestFormatting(t *testing.T) {
	for share, want := range map[float64]string{
		0:       "0%",
		0.0005:  "0.050%",
		0.001:   "0.10%",
		0.0123:  "1.23%",
		0.099:   "9.90%",
		0.1:     "10.0%",
		0.256:   "25.6%",
		1:       "100.0%",
		0.00001: "0.001%",
	} {
		if got := pct(share); got != want {
			t.Errorf("pct(%v) = %q, want %q", share, got, want)
		}
	}
	for b, want := range map[int64]string{
		0:                 "0 B",
		1023:              "1023 B",
		1024:              "1.0 KiB",
		1536:              "1.5 KiB",
		1 << 20:           "1.0 MiB",
		512 << 20:         "512.0 MiB",
		1 << 30:           "1.0 GiB",
		3 << 40:           "3.0 TiB",
		math.MaxInt64 - 1: "8.0 EiB",
	} {
		if got := bytesString(b); got != want {
			t.Errorf("bytesString(%d) = %q, want %q", b, got, want)
		}
	}
	for f, want := range map[float64]string{0.5: "0.5", 2: "2", 2.5: "2.5", 1.3333333: "1.33", 12.75: "12.8"} {
		if got := trimFloat(f); got != want {
			t.Errorf("trimFloat(%v) = %q, want %q", f, got, want)
		}
	}
}

// TestReMeasurePointsAtCompare: the checklist's last item cannot be seen in
// a process; it says so and names the command that checks it.
func TestReMeasurePointsAtCompare(t *testing.T) {
	for _, f := range []Facts{{}, {Source: SourceAgent, GOMAXPROCS: 2, NumCPU: 2}} {
		r := Run(f, DefaultThresholds)
		c := r.Checks[len(r.Checks)-1]
		if c.ID != api.CheckReMeasure || c.Status != api.StatusUnknown ||
			!strings.Contains(c.Advice, "diagctl compare") || !strings.Contains(strings.Join(c.Evidence, " "), "diagctl compare") {
			t.Errorf("last item: %+v, want re_measure, unknown, pointing at diagctl compare", c)
		}
	}
}

// TestOwnExcessCPUs: the rule the agent's lead cause and the doctor's
// cpu_contention item share.
func TestOwnExcessCPUs(t *testing.T) {
	one := 1.0
	busy := func(n int64) *int64 { return &n }
	for _, c := range []struct {
		name             string
		wait, ratio      float64
		busy             *int64
		gomaxprocs, cpus int
		limit            *float64
		want             float64
	}{
		{"fits", 0.1, 0.1, nil, 2, 2, nil, 0},                    // got 1, wanted 1.1 of 2
		{"own threads", 3, 1, nil, 8, 2, nil, 4},                 // got 3 and waited 3: 6 of 2
		{"under a limit", 0.5, 0.5, nil, 2, 2, &one, 0.5},        // got 1, wanted 1.5 of 1
		{"busy goroutines count", 0.1, 1, busy(8), 4, 2, nil, 2}, // 0.2 counted, 4 busy up to GOMAXPROCS
		{"no wait ratio", 1, 0, busy(8), 4, 2, nil, 0},
		{"no CPUs known", 1, 1, nil, 4, 0, nil, 0},
	} {
		if got := OwnExcessCPUs(c.wait, c.ratio, c.busy, c.gomaxprocs, c.cpus, c.limit); math.Abs(got-c.want) > 1e-9 {
			t.Errorf("%s: %g, want %g", c.name, got, c.want)
		}
	}
}
