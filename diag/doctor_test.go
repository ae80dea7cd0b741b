package diag

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/diagkit/diagkit/diag/analysis"
	"github.com/diagkit/diagkit/diag/api"
	"github.com/diagkit/diagkit/diag/internal/procstat"
)

// GOMAXPROCS against a cgroup CPU limit is the one item a test cannot drive
// with a child process: putting one under a CPU quota needs privileges to
// write a cgroup. The doctorContext hook stands in for the cgroup; the
// rest (the agent, its endpoint, the doctor's judgment) is real.
//
// Not parallel: it replaces a package variable. A fresh agent per case,
// because an agent reuses its report for 10 s.
func TestDoctorGOMAXPROCSAgainstCgroupLimit(t *testing.T) {
	orig := doctorContext
	t.Cleanup(func() { doctorContext = orig })
	for _, tc := range []struct {
		name       string
		gomaxprocs int
		limit      float64
		want       string
		evidence   []string
	}{
		{"above the limit", 8, 2, api.StatusFail,
			[]string{"GOMAXPROCS 8", "cgroup CPU limit 2 CPUs", "GOMAXPROCS above 2, what the limit allows"}},
		{"above a fractional limit rounded up", 4, 2.5, api.StatusFail,
			[]string{"cgroup CPU limit 2.5 CPUs", "GOMAXPROCS above 3, what the limit allows"}},
		{"at the limit", 4, 4, api.StatusPass,
			[]string{"GOMAXPROCS 4", "cgroup CPU limit 4 CPUs"}},
		{"at a fractional limit rounded up", 3, 2.5, api.StatusPass,
			[]string{"cgroup CPU limit 2.5 CPUs"}},
		// Go 1.25+ never defaults GOMAXPROCS below 2 under a limit.
		{"2 under a limit of half a CPU", 2, 0.5, api.StatusPass,
			[]string{"GOMAXPROCS 2", "cgroup CPU limit 0.5 CPUs"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			doctorContext = func(s procstat.Snapshot) api.Context {
				c := orig(s)
				// 16 CPUs: only the cgroup limit can make GOMAXPROCS
				// too high here.
				c.GOMAXPROCS, c.NumCPU = tc.gomaxprocs, 16
				limit := tc.limit
				c.CgroupCPULimit = &limit
				return c
			}
			a, _ := startAgent(t, Config{})
			code, body := get(t, "http://"+a.Addr()+PathDoctor)
			if code != http.StatusOK {
				t.Fatalf("GET %s: %d %s", PathDoctor, code, body)
			}
			var rep api.DoctorReport
			if err := json.Unmarshal(body, &rep); err != nil {
				t.Fatalf("not a doctor report: %v\n%s", err, body)
			}
			var c api.Check
			for _, ck := range rep.Checks {
				if ck.ID == api.CheckGOMAXPROCS {
					c = ck
				}
			}
			if c.Status != tc.want {
				t.Errorf("gomaxprocs = %q, want %q: %q", c.Status, tc.want, c.Evidence)
			}
			ev := strings.Join(c.Evidence, "\n")
			for _, s := range tc.evidence {
				if !strings.Contains(ev, s) {
					t.Errorf("evidence lacks %q:\n%s", s, ev)
				}
			}
			if tc.want == api.StatusFail && rep.Counts.Fail == 0 {
				t.Errorf("counts %+v: the failure is not counted", rep.Counts)
			}
		})
	}
}

// cpu_throttling and cpu_contention read the agent's windows with the
// agent's own thresholds: a window recorded as the agent records its own
// (a quota throttling half the periods, threads waiting 0.8 s per second of
// CPU while other processes take 3 CPUs) fails both with the defaults,
// warns with thresholds raised above it, and passes with them disabled.
// The doctorContext hook stands in for the cgroup that sets the limit.
func TestDoctorThrottlingAndContention(t *testing.T) {
	orig := doctorContext
	t.Cleanup(func() { doctorContext = orig })
	doctorContext = func(s procstat.Snapshot) api.Context {
		c := orig(s)
		c.GOMAXPROCS, c.NumCPU = 2, 16
		limit := 2.0
		c.CgroupCPULimit, c.CgroupCPULimitPath = &limit, "/kubepods/pod1"
		return c
	}
	ptr := func(v float64) *float64 { return &v }
	periods, throttled := int64(100), int64(50)
	window := api.Context{
		GOMAXPROCS: 2, NumCPU: 16, CgroupVersion: "v2", CgroupCPULimit: ptr(2), CgroupCPULimitPath: "/kubepods/pod1",
		CgroupPeriods: &periods, CgroupThrottledPeriods: &throttled, CgroupThrottledSeconds: ptr(0.5),
		CgroupThrottledShare: ptr(0.5), CgroupThrottledSecondsPerSecond: ptr(0.05),
		RunQueueWaitSeconds: ptr(5), RunQueueWaitPerSecond: ptr(0.5), RunQueueWaitRatio: ptr(0.8),
		OtherCPUs: ptr(3), StealCPUs: ptr(0),
	}
	for _, tc := range []struct {
		name                 string
		throttle, contention float64
		want                 string
		titles               []string
	}{
		{"defaults", 0, 0, api.StatusFail, []string{"under 25.0% of periods", "under 50.0% of the CPU they get"}},
		{"raised", 0.6, 1.2, api.StatusWarn, []string{"under 60.0% of periods", "under 120.0% of the CPU they get"}},
		{"disabled", -1, -1, api.StatusPass, []string{"(threshold disabled)", "(threshold disabled)"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, _ := startAgent(t, Config{ThrottleThreshold: tc.throttle, ContentionThreshold: tc.contention})
			end := time.Now()
			a.record(&analysis.Report{}, window, end.Add(-10*time.Second), end, "periodic")
			code, body := get(t, "http://"+a.Addr()+PathDoctor)
			if code != http.StatusOK {
				t.Fatalf("GET %s: %d %s", PathDoctor, code, body)
			}
			var rep api.DoctorReport
			if err := json.Unmarshal(body, &rep); err != nil {
				t.Fatalf("not a doctor report: %v\n%s", err, body)
			}
			for i, id := range []string{api.CheckCPUThrottling, api.CheckCPUContention} {
				var c api.Check
				for _, ck := range rep.Checks {
					if ck.ID == id {
						c = ck
					}
				}
				if c.Status != tc.want {
					t.Errorf("%s = %q, want %q: %q", id, c.Status, tc.want, c.Evidence)
				}
				if !strings.Contains(c.Title, tc.titles[i]) {
					t.Errorf("%s title %q lacks %q", id, c.Title, tc.titles[i])
				}
			}
			var ev []string
			for _, ck := range rep.Checks {
				if ck.ID == api.CheckCPUThrottling || ck.ID == api.CheckCPUContention {
					ev = append(ev, ck.Evidence...)
				}
			}
			all := strings.Join(ev, "\n")
			for _, s := range []string{
				"effective CPU limit 2 CPUs, set by cgroup /kubepods/pod1", "throttled in 50 of 100 cgroup periods (50.0%) over 1 window",
				"50.0ms throttled per second", "threads waited 500.0ms per second for a CPU, 0.80× the CPU they got (worst window of 1)",
			} {
				if !strings.Contains(all, s) {
					t.Errorf("evidence lacks %q:\n%s", s, all)
				}
			}
			if tc.want != api.StatusPass && !strings.Contains(all, "other processes account for it: they took 3.00 CPUs") {
				t.Errorf("contention evidence does not blame the other processes:\n%s", all)
			}
		})
	}
}
