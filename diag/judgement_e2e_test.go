//go:build linux

package diag_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/diagkit/diagkit/diag/api"
	"github.com/diagkit/diagkit/internal/testenv"
)

// The agent's judgement, end to end: examples/service with diag/auto in a
// child process, put in each situation for real (a quiet machine, a CPU
// quota, busy neighbour processes, call-free loops, tiny cgo calls), and the
// verdict read from its history and its log.
//
// CI shares its 2 CPUs with whatever else runs, and the situations other
// than "busy neighbours" need the child to have the CPUs it asks for. So
// those children run in a cgroup of the highest CPU weight, which against
// processes of the default weight makes the machine quiet from the child's
// point of view: measured beside four busy processes, eight call-free loops
// waited 0.03 s per second on the run queue there, against 0.5 s outside.
// (A service that sleeps between short bursts still waits for other
// processes' time slices at every wake-up, whatever its weight: 0.5–0.7 s
// per second beside four busy processes. That is real contention, so the
// steady case keeps its one worker busy without sleeping.) Only one test at
// a time, across go test's packages, holds that weight (testenv's
// SetMaxWeight waits for it): at the same weight, the steady service beside
// examples/internal/workload's accuracy test waited 1.0–1.2 s per second
// and was, rightly, told its host was oversubscribed.
//
// The weight is the cgroup's, shared out among the CPUs by where its
// threads have been running: one that wakes on a CPU where the cgroup has
// had little load gets little of the weight there, and waits behind a busy
// process. The steady service, one busy goroutine that yields every
// millisecond, hops between threads, and beside two busy loops 2 of 4 runs
// had a window with 0.16 and 0.57 s per second of waiting, enough for a
// (true) contention warning. So it runs on one CPU of its own, as a
// service given a whole CPU (a cpuset) would: 6 of 6 runs there waited
// 0.003–0.017 s per second in every window, beside the same two loops.
const (
	judgeWindow = 2 * time.Second
	// judgeCooldown is short so that a lasting problem is logged again
	// within the test.
	judgeCooldown = 5 * time.Second
)

func TestJudgement(t *testing.T) {
	if testing.Short() {
		t.Skip("starts child processes for about two minutes")
	}
	if runtime.GOOS != "linux" {
		testenv.MustRun(t, "the situations need Linux cgroups and schedstat")
	}
	bin := buildService(t)

	t.Run("steady", func(t *testing.T) {
		// On the last CPU, at GOMAXPROCS 1 (the runtime's default for
		// one CPU of affinity): see above.
		cpu, err := testenv.LastCPU()
		if err != nil {
			t.Fatal(err)
		}
		cg := quietCgroup(t)
		c := startServiceOn(t, bin, cg, []int{cpu}, nil, "-problem", "none", "-workers", "1", "-busy", "1")
		ws := c.waitWindows(t, 6, time.Minute, func(ws []api.WindowReport) bool { return len(judged(ws)) >= 5 })
		if n := len(judged(ws)); n < 5 {
			t.Fatalf("only %d of %d windows had enough samples to judge", n, len(ws))
		}
		for _, w := range ws {
			logWindow(t, w)
			if w.Context.NumCPU != 1 || w.Context.GOMAXPROCS != 1 {
				t.Errorf("window %d: %d CPUs, GOMAXPROCS %d; want the one CPU it was given", w.Seq, w.Context.NumCPU, w.Context.GOMAXPROCS)
			}
			for _, warn := range w.Warnings {
				t.Errorf("window %d: %s %.4g (lead %s): %q", w.Seq, warn.Kind, warn.Value, warn.LeadCause, warn.Causes)
			}
		}
		if n := c.logs.count("warn"); n != 0 {
			t.Errorf("%d warning lines logged", n)
		}
		logVerdict(t, ws, time.Time{})
	})

	t.Run("cpu quota", func(t *testing.T) {
		parent := quietCgroup(t)
		leaf := testenv.NewCPUCgroup(t, parent) // no quota of its own
		c := startService(t, bin, leaf, nil, "-problem", "none")
		c.waitWindows(t, 2, time.Minute, nil)
		// The quota goes on the parent: the child's own cgroup has none,
		// and is throttled all the same (golang/go#81180).
		onset := time.Now()
		parent.SetQuota(t, 0.5)
		ws := c.waitWindows(t, 0, time.Minute, afterOnset(onset, 5))
		// The window the quota arrived in has no throttling counters across
		// it (the limit moved to another cgroup): it lists cpu_throttling
		// as unjudged, and the next one, the first whole window, warns.
		after := 0
		for _, w := range ws {
			logWindow(t, w)
			if !w.End.After(onset) {
				continue
			}
			after++
			warn, ok := findWarning(w, api.WarnThrottling)
			switch {
			case ok:
			case after == 1 && slices.Contains(w.Unjudged, api.WarnThrottling):
				continue
			default:
				t.Errorf("window %d, %s after the quota: no %s warning: %+v", w.Seq, ordinal(after), api.WarnThrottling, w.Warnings)
				continue
			}
			if warn.LeadCause != api.CauseThrottling || !strings.Contains(warn.Causes[0], "quota of 0.5 CPUs set at "+parent.Path) {
				t.Errorf("window %d: lead %s: %q, want the quota of 0.5 CPUs at %s", w.Seq, warn.LeadCause, warn.Causes, parent.Path)
			}
			if l := w.Context.CgroupCPULimit; l == nil || *l != 0.5 || w.Context.CgroupCPULimitPath != parent.Path {
				t.Errorf("window %d: effective limit %v at %q, want 0.5 at %s", w.Seq, deref(l), w.Context.CgroupCPULimitPath, parent.Path)
			}
			for _, other := range w.Warnings {
				if other.LeadCause != api.CauseThrottling {
					t.Errorf("window %d: %s blamed on %s while the quota throttles: %q", w.Seq, other.Kind, other.LeadCause, other.Causes)
				}
			}
		}
		logVerdict(t, ws, onset)
		if n := c.logs.countKind(api.WarnThrottling); n < 2 {
			t.Errorf("%s logged %d times over %v of throttling, want again after the %v cooldown", api.WarnThrottling, n, time.Since(onset).Round(time.Second), judgeCooldown)
		}
	})

	t.Run("busy neighbours", func(t *testing.T) {
		// No cgroup: the child competes for the CPUs like any process, in
		// a session (so a scheduler autogroup) of its own, as are the
		// three neighbours. Those would starve other packages' tests that
		// need their CPUs: the claim keeps them from running meanwhile.
		testenv.HoldWeightClaim(t)
		c := startService(t, bin, nil, nil, "-problem", "none")
		c.waitWindows(t, 2, time.Minute, nil)
		onset := time.Now()
		for range 3 {
			startBusyNeighbour(t)
		}
		ws := c.waitWindows(t, 0, time.Minute, afterOnset(onset, 3))
		first := true
		for _, w := range ws {
			logWindow(t, w)
			if !w.Start.After(onset) {
				continue
			}
			warn, ok := findWarning(w, api.WarnContention)
			if first && !ok {
				t.Errorf("window %d, the first beside the neighbours: no %s warning: %+v", w.Seq, api.WarnContention, w.Warnings)
			}
			first = false
			if ok && (warn.LeadCause != api.CauseHostContention || !strings.Contains(warn.Causes[0], "other processes used")) {
				t.Errorf("window %d: lead %s: %q, want other processes", w.Seq, warn.LeadCause, warn.Causes)
			}
			for _, other := range w.Warnings {
				if other.LeadCause == api.CauseLongRuns || other.LeadCause == api.CauseGOMAXPROCS {
					t.Errorf("window %d: %s blamed on %s while neighbours starve the process: %q", w.Seq, other.Kind, other.LeadCause, other.Causes)
				}
			}
		}
		logVerdict(t, ws, onset)
		if n := c.logs.countKind(api.WarnContention); n < 2 {
			t.Errorf("%s logged %d times, want again after the %v cooldown", api.WarnContention, n, judgeCooldown)
		}
	})

	t.Run("call-free loops", func(t *testing.T) {
		cg := quietCgroup(t)
		c := startService(t, bin, cg, []string{"GOMAXPROCS=2"}, "-problem", "loops", "-onset", "4s")
		// Judge the windows wholly after the loops start: before them the
		// two workers sleep between bursts, and beside busy processes
		// their wake-ups wait whatever the cgroup's weight.
		onset := c.started.Add(4 * time.Second)
		// The goroutines are found at one of the loop's lines.
		first := sourceLine(t, "../examples/service/main.go", "func crunchRows(")
		last := sourceLine(t, "../examples/service/main.go", "// the call-free loop") + 1
		ws := c.waitWindows(t, 0, time.Minute, func(ws []api.WindowReport) bool {
			return slices.ContainsFunc(ws, func(w api.WindowReport) bool {
				warn, ok := findWarning(w, api.WarnSchedLatency)
				return ok && warn.FunctionsFrom == api.FromTrace && w.Start.After(onset)
			}) || len(ws) >= 9
		})
		var named *api.Warning
		for _, w := range ws {
			logWindow(t, w)
			if warn, ok := findWarning(w, api.WarnSchedLatency); ok && warn.FunctionsFrom == api.FromTrace && named == nil && w.Start.After(onset) {
				named = &warn
			}
		}
		logVerdict(t, ws, onset)
		if named == nil {
			t.Fatalf("no %s warning named the loops from the execution trace", api.WarnSchedLatency)
		}
		var line int
		if named.LeadCause != api.CauseLongRuns || len(named.Functions) == 0 ||
			!strings.HasPrefix(named.Functions[0], "main.crunchRows ") || !strings.Contains(named.Functions[0], "examples/service/main.go:") ||
			func() bool {
				_, err := fmt.Sscanf(named.Functions[0][strings.LastIndex(named.Functions[0], ":")+1:], "%d", &line)
				return err != nil
			}() ||
			line < first || line > last {
			t.Errorf("lead %s, functions %q; want long_runs naming main.crunchRows at examples/service/main.go:%d-%d", named.LeadCause, named.Functions, first, last)
		}
		if len(named.Functions) > 1 {
			t.Errorf("functions %q: only crunchRows loops without calls", named.Functions)
		}
		for _, text := range named.Causes {
			if strings.Contains(text, "other processes used") {
				t.Errorf("blames other processes on a quiet machine: %q", named.Causes)
			}
		}
		if ev := named.Evidence; ev == nil || ev.Trace == nil || ev.Trace.AsyncPreemptions < 10 || len(ev.Preempted) == 0 || ev.Preempted[0].LongRuns < 5 {
			t.Errorf("evidence = %+v, want the trace's async preemptions and the long runs", ev)
		}
		// The trace is kept for diagctl trace.
		body := c.get(t, "/debug/diag/evidence/trace")
		if len(body) < 1000 || !bytes.HasPrefix(body, []byte("go 1.")) {
			t.Errorf("evidence trace: %d bytes starting %q", len(body), body[:min(len(body), 16)])
		}
	})

	t.Run("tiny cgo calls", func(t *testing.T) {
		cg := quietCgroup(t)
		c := startService(t, bin, cg, nil, "-problem", "cgo", "-onset", "2s")
		ws := c.waitWindows(t, 0, time.Minute, func(ws []api.WindowReport) bool {
			return slices.ContainsFunc(ws, func(w api.WindowReport) bool {
				warn, ok := findWarning(w, api.WarnCgoCallRate)
				return ok && len(warn.Functions) > 0
			}) || len(ws) >= 6
		})
		found, named := false, false
		for _, w := range ws {
			logWindow(t, w)
			warn, ok := findWarning(w, api.WarnCgoCallRate)
			if !ok {
				continue
			}
			found = true
			if warn.LeadCause != api.CauseCgoCalls {
				t.Errorf("window %d: lead %s: %q, want cgo_calls", w.Seq, warn.LeadCause, warn.Causes)
			}
			// The window the calls start in may hold none of their samples
			// yet: then no call site, but the rate still warns.
			if len(warn.Functions) > 0 {
				named = true
				if !strings.Contains(warn.Functions[0], "workload.CgoTiny → wl_tiny") || warn.FunctionsFrom != api.FromCgoCallSites {
					t.Errorf("window %d: functions %q from %q, want the CgoTiny → wl_tiny call site", w.Seq, warn.Functions, warn.FunctionsFrom)
				}
			}
		}
		logVerdict(t, ws, time.Time{})
		if !found || !named {
			t.Errorf("%s warned %v, named the call site %v; want both", api.WarnCgoCallRate, found, named)
		}
	})
}

// logVerdict logs, on one line, each kind raised in the windows that ended
// after onset, with its first lead cause and function: the closing note's
// table of runs reads it from go test -v.
func logVerdict(t *testing.T, ws []api.WindowReport, onset time.Time) {
	var parts []string
	seen := map[string]bool{}
	n := 0
	for _, w := range ws {
		if !w.End.After(onset) {
			continue
		}
		n++
		for _, warn := range w.Warnings {
			if seen[warn.Kind] {
				continue
			}
			seen[warn.Kind] = true
			part := warn.Kind + " (lead " + warn.LeadCause + ")"
			if len(warn.Functions) > 0 {
				part += " " + warn.Functions[0]
			}
			parts = append(parts, part)
		}
	}
	if len(parts) == 0 {
		parts = []string{"no warning"}
	}
	t.Logf("verdict: %s: %d windows: %s", t.Name(), n, strings.Join(parts, "; "))
}

func ordinal(n int) string {
	switch n {
	case 1:
		return "the first"
	case 2:
		return "the second"
	}
	return fmt.Sprintf("the %dth", n)
}

// quietCgroup is a cgroup of the highest CPU weight (see TestJudgement).
func quietCgroup(t *testing.T) *testenv.CPUCgroup {
	cg := testenv.NewCPUCgroup(t, nil)
	cg.SetMaxWeight(t)
	return cg
}

func buildService(t *testing.T) string {
	bin := filepath.Join(t.TempDir(), "service")
	out, err := exec.Command("go", "build", "-o", bin, "../examples/service").CombinedOutput()
	if err != nil {
		t.Fatalf("building examples/service: %v\n%s", err, out)
	}
	return bin
}

// service is a running child with the agent.
type service struct {
	addr    string
	logs    *logSink
	started time.Time // when the child was started
}

// startService starts the service with diag/auto on a free loopback port,
// 2 s continuous windows and a short cooldown, in cg when not nil, in a
// session of its own. It is killed at cleanup.
func startService(t *testing.T, bin string, cg *testenv.CPUCgroup, env []string, args ...string) *service {
	t.Helper()
	return startServiceOn(t, bin, cg, nil, env, args...)
}

// startServiceOn is startService with the child restricted to the CPUs
// listed (all when none).
func startServiceOn(t *testing.T, bin string, cg *testenv.CPUCgroup, cpus []int, env []string, args ...string) *service {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"-duration", "3m"}, args...)...)
	cmd.Env = append(os.Environ(), "DIAGKIT_ADDR=127.0.0.1:0",
		"DIAGKIT_WINDOW="+judgeWindow.String(), "DIAGKIT_INTERVAL="+judgeWindow.String(),
		"DIAGKIT_COOLDOWN="+judgeCooldown.String())
	cmd.Env = append(cmd.Env, env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	started := time.Now()
	start := cmd.Start
	if len(cpus) > 0 {
		start = func() error { return testenv.StartOnCPUs(cmd, cpus...) }
	}
	if err := start(); err != nil {
		t.Fatal(err)
	}
	if cg != nil {
		cg.Add(t, cmd.Process.Pid)
	}
	logs := &logSink{addr: make(chan string, 1)}
	done := make(chan struct{})
	go func() { defer close(done); logs.read(stderr) }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		<-done
	})
	select {
	case addr := <-logs.addr:
		return &service{addr: addr, logs: logs, started: started}
	case <-done:
		t.Fatalf("the service exited before its agent started; stderr:\n%s", logs.text())
	case <-time.After(30 * time.Second):
		t.Fatalf("no agent address in 30 s; stderr:\n%s", logs.text())
	}
	return nil
}

// startBusyNeighbour starts a shell busy loop in a session of its own,
// killed at cleanup.
func startBusyNeighbour(t *testing.T) {
	cmd := exec.Command("sh", "-c", "while :; do :; done")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
}

// waitWindows polls the history until it holds at least n windows and
// done (if any) holds, or the timeout passes, and returns it.
func (s *service) waitWindows(t *testing.T, n int, timeout time.Duration, done func([]api.WindowReport) bool) []api.WindowReport {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		var h api.History
		if err := json.Unmarshal(s.get(t, "/debug/diag/history"), &h); err != nil {
			t.Fatalf("history: %v", err)
		}
		if (len(h.Windows) >= n && (done == nil || done(h.Windows))) || time.Now().After(deadline) {
			return h.Windows
		}
		time.Sleep(250 * time.Millisecond)
	}
}

func (s *service) get(t *testing.T, path string) []byte {
	t.Helper()
	resp, err := http.Get("http://" + s.addr + path)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %v %s", path, resp.StatusCode, err, body)
	}
	return body
}

// afterOnset is done once n windows started after onset.
func afterOnset(onset time.Time, n int) func([]api.WindowReport) bool {
	return func(ws []api.WindowReport) bool {
		k := 0
		for _, w := range ws {
			if w.Start.After(onset) {
				k++
			}
		}
		return k >= n
	}
}

// judged are the windows with enough samples for the shares.
func judged(ws []api.WindowReport) []api.WindowReport {
	var out []api.WindowReport
	for _, w := range ws {
		if !slices.Contains(w.Unjudged, api.WarnAsyncPreempt) {
			out = append(out, w)
		}
	}
	return out
}

func findWarning(w api.WindowReport, kind string) (api.Warning, bool) {
	for _, warn := range w.Warnings {
		if warn.Kind == kind {
			return warn, true
		}
	}
	return api.Warning{}, false
}

func logWindow(t *testing.T, w api.WindowReport) {
	c := w.Context
	var kinds []string
	for _, warn := range w.Warnings {
		kinds = append(kinds, warn.Kind+"("+warn.LeadCause+")")
	}
	t.Logf("window %d %s: %d samples, cpu %.2fs, run-queue wait %v/s ratio %v, other cpus %v, throttled %v of %v, p99 %v, active %v, warnings %v",
		w.Seq, w.Start.Format("15:04:05.0"), w.Samples, deref(c.ProcessCPUSeconds), deref(c.RunQueueWaitPerSecond), deref(c.RunQueueWaitRatio),
		deref(c.OtherCPUs), deref(c.CgroupThrottledPeriods), deref(c.CgroupPeriods), schedP99(c), w.Active, kinds)
}

func schedP99(c api.Context) any {
	if c.SchedLatency == nil {
		return nil
	}
	return c.SchedLatency.P99
}

func deref[T any](p *T) any {
	if p == nil {
		return nil
	}
	return *p
}

// sourceLine is the line of file holding marker.
func sourceLine(t *testing.T, file, marker string) int {
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	for i, line := range strings.Split(string(data), "\n") {
		if strings.Contains(line, marker) {
			return i + 1
		}
	}
	t.Fatalf("%s has no %q", file, marker)
	return 0
}

// logSink keeps the child's zap log lines and finds the agent's address.
type logSink struct {
	mu    sync.Mutex
	lines []map[string]any
	raw   bytes.Buffer
	addr  chan string
}

func (l *logSink) read(r io.Reader) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	sent := false
	for sc.Scan() {
		var m map[string]any
		l.mu.Lock()
		l.raw.Write(sc.Bytes())
		l.raw.WriteByte('\n')
		if json.Unmarshal(sc.Bytes(), &m) == nil {
			l.lines = append(l.lines, m)
			if a, ok := m["addr"].(string); ok && m["msg"] == "agent started" && !sent {
				l.addr <- a
				sent = true
			}
		}
		l.mu.Unlock()
	}
}

func (l *logSink) text() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.raw.String()
}

func (l *logSink) count(level string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, m := range l.lines {
		if m["level"] == level {
			n++
		}
	}
	return n
}

func (l *logSink) countKind(kind string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, m := range l.lines {
		if m["level"] == "warn" && m["kind"] == kind {
			n++
		}
	}
	return n
}
