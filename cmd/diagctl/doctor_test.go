package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/diagkit/diagkit/diag/api"
	"github.com/diagkit/diagkit/internal/doctor"
	"github.com/diagkit/diagkit/internal/testenv"
)

func decodeDoctor(t *testing.T, out string) api.DoctorReport {
	t.Helper()
	var rep api.DoctorReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("not a doctor report: %v\n%s", err, out)
	}
	if rep.Schema != api.DoctorSchema || len(rep.Checks) != 12 {
		t.Fatalf("schema %q with %d checks", rep.Schema, len(rep.Checks))
	}
	return rep
}

func statusOf(rep api.DoctorReport, id string) api.Check {
	for _, c := range rep.Checks {
		if c.ID == id {
			return c
		}
	}
	return api.Check{}
}

// A saved profile of loops without calls: the profile-based items fail, the
// others are unknown, and the exit code is 3.
func TestDoctorFile(t *testing.T) {
	r := runDiagctl(t, nil, "doctor", "-o", "json", "../../diag/analysis/testdata/tightloop.pprof")
	if r.code != exitThreshold {
		t.Fatalf("exit %d, want 3; stderr %s", r.code, r.stderr)
	}
	rep := decodeDoctor(t, r.stdout)
	if rep.Source != "file" || rep.Target == "" {
		t.Errorf("source %q target %q", rep.Source, rep.Target)
	}
	want := map[string]string{
		api.CheckAsyncPreemptShare: api.StatusFail,
		api.CheckHotLoops:          api.StatusFail,
		api.CheckCgo:               api.StatusPass,
		api.CheckGoVersion:         api.StatusUnknown,
		api.CheckGOMAXPROCS:        api.StatusUnknown,
		api.CheckAsyncPreemptOff:   api.StatusUnknown,
		api.CheckLockOSThread:      api.StatusUnknown,
		api.CheckSchedLatency:      api.StatusUnknown,
		api.CheckGOGC:              api.StatusUnknown,
		api.CheckCPUThrottling:     api.StatusUnknown,
		api.CheckCPUContention:     api.StatusUnknown,
	}
	for id, status := range want {
		if c := statusOf(rep, id); c.Status != status {
			t.Errorf("%s = %s, want %s: %q", id, c.Status, status, c.Evidence)
		}
	}
	if ev := strings.Join(statusOf(rep, api.CheckHotLoops).Evidence, "\n"); !strings.Contains(ev, "spinLoop") {
		t.Errorf("hot_loops evidence does not name the loop: %s", ev)
	}

	// The cgo fixture: crossing overhead fails the cgo item.
	r = runDiagctl(t, nil, "doctor", "-o", "json", "../../diag/analysis/testdata/cgotiny.pprof")
	if c := statusOf(decodeDoctor(t, r.stdout), api.CheckCgo); c.Status != api.StatusFail {
		t.Errorf("cgotiny: cgo = %s: %q", c.Status, c.Evidence)
	}

	// Table output: every item, its advice for failures, and the tally.
	r = runDiagctl(t, nil, "doctor", "../../diag/analysis/testdata/tightloop.pprof")
	for _, s := range []string{"FAIL    async preemption", "→ Give loops that run long without calls", "UNKNOWN Go is a recent", "1 pass, 0 warn, 2 fail, 9 unknown"} {
		if !strings.Contains(r.stdout, s) {
			t.Errorf("table output lacks %q:\n%s", s, r.stdout)
		}
	}
}

// An agent's report is printed as served; the exit code follows its counts.
func TestDoctorAgent(t *testing.T) {
	report := func(status string) api.DoctorReport {
		rep := api.DoctorReport{Schema: api.DoctorSchema, Source: "agent"}
		for _, id := range []string{api.CheckGoVersion, api.CheckGOMAXPROCS, api.CheckAsyncPreemptOff, api.CheckAsyncPreemptShare,
			api.CheckCgo, api.CheckLockOSThread, api.CheckSchedLatency, api.CheckGOGC, api.CheckHotLoops,
			api.CheckCPUThrottling, api.CheckCPUContention} {
			rep.Checks = append(rep.Checks, api.Check{ID: id, Title: id, Status: api.StatusPass, Evidence: []string{"ok"}, Advice: "advice " + id})
		}
		rep.Checks[1].Status = status
		rep.Checks[1].Evidence = []string{"GOMAXPROCS 8", "2 CPUs (runtime.NumCPU)"}
		rep.Counts.Pass = len(rep.Checks) - 1
		switch status {
		case api.StatusFail:
			rep.Counts.Fail = 1
		case api.StatusWarn:
			rep.Counts.Warn = 1
		default:
			rep.Counts.Pass = len(rep.Checks)
		}
		return rep
	}
	var served api.DoctorReport
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != pathDoctor {
			http.NotFound(w, r)
			return
		}
		if r.Header.Get("Authorization") != "Bearer tok" {
			http.Error(w, "missing or wrong bearer token", http.StatusUnauthorized)
			return
		}
		_ = json.NewEncoder(w).Encode(served)
	}))
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "http://")

	tests := []struct {
		status string
		args   []string
		code   int
	}{
		{api.StatusPass, nil, exitOK},
		{api.StatusWarn, nil, exitOK},
		{api.StatusWarn, []string{"--strict"}, exitThreshold},
		{api.StatusFail, nil, exitThreshold},
	}
	for _, tt := range tests {
		served = report(tt.status)
		args := append([]string{"doctor", "--token", "tok", host}, tt.args...)
		r := runDiagctl(t, nil, args...)
		if r.code != tt.code {
			t.Errorf("%s %v: exit %d, want %d; stderr %s", tt.status, tt.args, r.code, tt.code, r.stderr)
		}
		if !strings.Contains(r.stdout, strings.ToUpper(tt.status)+"    gomaxprocs") || !strings.Contains(r.stdout, "GOMAXPROCS 8") {
			t.Errorf("%s: output:\n%s", tt.status, r.stdout)
		}
		if shows := strings.Contains(r.stdout, "→ advice gomaxprocs"); shows != (tt.status != api.StatusPass) {
			t.Errorf("%s: advice shown = %v:\n%s", tt.status, shows, r.stdout)
		}
	}
	if r := runDiagctl(t, nil, "doctor", host); r.code != exitAuth {
		t.Errorf("without the token: exit %d, want 5; stderr %s", r.code, r.stderr)
	}
}

func TestDoctorErrors(t *testing.T) {
	dead := deadAddr(t)
	tests := []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"doctor"}, exitUsage, "takes one target"},
		{[]string{"doctor", "a:1", "b:2"}, exitUsage, "takes one target"},
		{[]string{"doctor", "--seconds", "0", "a:1"}, exitUsage, "--seconds"},
		{[]string{"doctor", "--trace-seconds", "-1", "a:1"}, exitUsage, "--trace-seconds"},
		{[]string{"doctor", "-o", "xml", "a:1"}, exitUsage, "want table or json"},
		{[]string{"doctor", "--timeout", "2s", dead}, exitUnreachable, "connection refused"},
		{[]string{"doctor", "testdata/no-such.pprof"}, exitError, "no such file"},
	}
	for _, tt := range tests {
		r := runDiagctl(t, nil, tt.args...)
		if r.code != tt.code || !strings.Contains(r.stderr, tt.msg) {
			t.Errorf("%v: exit %d, stderr %q; want %d and %q", tt.args, r.code, r.stderr, tt.code, tt.msg)
		}
	}
}

// An execution trace from Go 1.19 (Debian's prometheus) tells the doctor the
// version range its format implies, and the runnable waits.
func TestDoctorTraceFacts(t *testing.T) {
	body := rawTrace(t)
	var f doctor.Facts
	if err := traceFacts(&f, body, 1); err != nil {
		t.Fatal(err)
	}
	if f.GoVersion != "go1.19" || !f.GoAtLeast || f.GoAtMost != "go1.20" {
		t.Errorf("version %q at least %v at most %q, want go1.19 to go1.20", f.GoVersion, f.GoAtLeast, f.GoAtMost)
	}
	if f.GOMAXPROCS != 2 { // the trace's GOMAXPROCS event; prometheus ran on 2 CPUs
		t.Errorf("GOMAXPROCS %d, want 2", f.GOMAXPROCS)
	}
	if f.Sched == nil || f.Sched.Count == 0 || f.Sched.P99 <= 0 || f.Sched.P99 < f.Sched.P50 {
		t.Errorf("sched = %+v", f.Sched)
	}
	rep := doctor.Run(f, doctor.DefaultThresholds)
	if c := statusOf(rep, api.CheckGoVersion); c.Status != api.StatusWarn {
		t.Errorf("go_version = %s %q, want warn (go1.20 at best: unsupported)", c.Status, c.Evidence)
	}
	if err := traceFacts(&f, []byte("go 1.22 trace\x00\x00\x00garbage"), 1); err == nil {
		t.Error("a corrupt trace gave no error")
	}
}

// Against Debian's prometheus, a Go 1.19 server with plain net/http/pprof:
// the doctor checks what its endpoints show and says unknown for the rest.
func TestPrometheusDoctor(t *testing.T) {
	addr := testenv.Prometheus(t)
	var rep api.DoctorReport
	for attempt := 1; ; attempt++ {
		r := runDiagctl(t, nil, "doctor", "-o", "json", "--seconds", "2", addr)
		if r.code != exitOK && r.code != exitThreshold {
			t.Fatalf("exit %d: %s", r.code, r.stderr)
		}
		rep = decodeDoctor(t, r.stdout)
		// Another package's test may be tracing prometheus at this moment
		// (one trace at a time): the version then comes back unknown.
		if statusOf(rep, api.CheckGoVersion).Status != api.StatusUnknown || attempt == 3 {
			t.Logf("attempt %d: stderr %s", attempt, r.stderr)
			break
		}
	}
	if rep.Source != "pprof" {
		t.Errorf("source %q, want pprof", rep.Source)
	}
	want := map[string]string{
		api.CheckGoVersion:       api.StatusWarn, // go1.19 format: go1.19 or go1.20
		api.CheckAsyncPreemptOff: api.StatusUnknown,
		api.CheckLockOSThread:    api.StatusPass,
		api.CheckCPUThrottling:   api.StatusUnknown,
		api.CheckCPUContention:   api.StatusUnknown,
	}
	for id, status := range want {
		if c := statusOf(rep, id); c.Status != status {
			t.Errorf("%s = %s, want %s: %q", id, c.Status, status, c.Evidence)
		}
	}
	if c := statusOf(rep, api.CheckSchedLatency); c.Status == api.StatusUnknown {
		t.Errorf("sched_latency unknown despite the trace: %q", c.Evidence)
	}
	if c := statusOf(rep, api.CheckGOGC); !strings.Contains(strings.Join(c.Evidence, " "), "runtime.MemStats") {
		t.Errorf("gogc evidence lacks the heap profile's GC share: %q", c.Evidence)
	}
}
