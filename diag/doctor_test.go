package diag

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

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
