package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/diagkit/diagkit/diag/api"
	"github.com/diagkit/diagkit/internal/testenv"
)

// The end-to-end doctor tests drive every checklist item to pass and to fail
// on real processes: the example programs (and one plain net/http/pprof
// server) built with go build, started as children with the diagkit agent on
// a free loopback port and one-second windows, and read by diagctl doctor
// in-process. Each child is killed by its PID when its subtest ends.
//
// go_version is the one item no child can fail: every child is built with
// the Go running this test, a supported release. internal/doctor's unit
// tests drive it to fail with older versions. GOMAXPROCS above a cgroup CPU
// limit needs a cgroup no test can create unprivileged: diag/doctor_test.go
// drives it through the agent's doctorContext hook. cpu_throttling needs such
// a quota too, to throttle anything: the children only pass it (or, from a
// plain pprof server, leave it unknown), and internal/doctor's unit tests
// drive it to warn and fail.

// notFail in a scenario's want accepts any judgment (pass or warn) but fail
// and unknown.
const notFail = "not fail"

// e2eScenario is one child process and what diagctl doctor must say of it.
type e2eScenario struct {
	name string
	bin  string   // binary in the build directory
	args []string // beyond -agent and -duration
	env  []string // beyond DIAGKIT_WINDOW and DIAGKIT_INTERVAL
	// pprof: the child serves only net/http/pprof (no agent, no -agent
	// flag); doctorArgs then bound the CPU profile diagctl takes.
	pprof      bool
	doctorArgs []string
	// cpus is about how many CPUs the child keeps busy: 2 runs it alone.
	cpus int
	// defaultWeight leaves the child at the default CPU weight, for a test
	// whose verdicts do not need the CPUs it asks for: above it, its
	// children would take them from the other packages' tests.
	defaultWeight bool
	// minSamples is how many CPU samples the agent's windows (the last 10,
	// what the doctor merges) must hold, over at least 3 windows, before
	// the doctor is asked.
	minSamples int64
	// want maps check IDs to statuses (or notFail).
	want map[string]string
	// evidence maps check IDs to a string their evidence must contain.
	evidence map[string]string
	// contention marks a baseline whose passes depend on the CPU the child
	// gets (see contentionSensitive).
	contention bool
	// slow scenarios are skipped with -short.
	slow bool
}

// contentionSensitive are the items that measure CPU contention itself: on
// a machine whose CPUs are taken by other processes (other test binaries of
// go test ./...), the OS deschedules even well-behaved threads for 10 ms and
// more, the runtime's monitor then preempts them with a signal, and a
// sample or two in a hundred lands in runtime.asyncPreempt: the baseline
// can then warn on them, legitimately. cpu_contention reads that waiting
// directly (the threads' run-queue wait), so the baseline can warn or fail
// it too, but only legitimately when its evidence blames the other
// processes (contentionExplains). Its scheduling latency does not move
// (goroutines that hand work to each other run at once), so it is judged
// on every attempt.
var contentionSensitive = []string{api.CheckAsyncPreemptShare, api.CheckHotLoops, api.CheckCPUContention}

// contentionExplains reports whether a contention-sensitive item's result
// can be the machine's load: cpu_contention only when its evidence says
// other processes took the CPUs, not the process's own threads.
func contentionExplains(ck api.Check) bool {
	if ck.ID != api.CheckCPUContention {
		return true
	}
	return slices.ContainsFunc(ck.Evidence, func(e string) bool { return strings.HasPrefix(e, "other processes account for it") })
}

const workloadPkg = "github.com/diagkit/diagkit/examples/internal/workload."

func e2eScenarios() []e2eScenario {
	allPass := map[string]string{}
	for _, id := range []string{api.CheckGoVersion, api.CheckGOMAXPROCS, api.CheckAsyncPreemptOff, api.CheckAsyncPreemptShare,
		api.CheckCgo, api.CheckLockOSThread, api.CheckSchedLatency, api.CheckGOGC, api.CheckHotLoops,
		api.CheckCPUThrottling, api.CheckCPUContention} {
		allPass[id] = api.StatusPass
	}
	// Alone on an idle 2-vCPU VM, the steady child's threads wait 0.2–0.33 s
	// on the run queue per second of CPU they get, at its ~35,000 context
	// switches a second (about 7 µs each: goroutines handing work to each
	// other wake threads all the time). Below the threshold, with no one
	// taking the CPUs, that is wake-up latency and the item passes; on a
	// loaded machine other processes take them and it may warn or fail,
	// which contentionSensitive excuses only when they are named.
	steady := maps.Clone(allPass)
	return []e2eScenario{{
		name: "steady", bin: "steady", cpus: 2, minSamples: 150, contention: true,
		want: steady,
	}, {
		// Without async preemption no sample can land in
		// runtime.asyncPreempt, however busy the machine: the profile-based
		// items pass here whatever the load.
		name: "asyncpreemptoff", bin: "steady", env: []string{"GODEBUG=asyncpreemptoff=1"}, cpus: 1, minSamples: 150,
		want: map[string]string{
			api.CheckAsyncPreemptOff:   api.StatusFail,
			api.CheckAsyncPreemptShare: api.StatusPass,
			api.CheckHotLoops:          api.StatusPass,
		},
		evidence: map[string]string{api.CheckHotLoops: "no function was interrupted by async preemption"},
	}, {
		// GOMAXPROCS from the environment (-gomaxprocs 0 leaves it), 4×
		// the CPUs, and 2 spinning goroutines per P: 4 threads always
		// runnable per CPU, each waiting on the run queue about 3 times as
		// long as it runs, for each other.
		name: "tightloop", bin: "tightloop", args: []string{"-gomaxprocs", "0"},
		env: []string{"GOMAXPROCS=" + strconv.Itoa(4*runtime.NumCPU())}, cpus: 2, minSamples: 150,
		want: map[string]string{
			api.CheckGOMAXPROCS:        api.StatusFail,
			api.CheckAsyncPreemptShare: api.StatusFail,
			api.CheckHotLoops:          api.StatusFail,
			api.CheckSchedLatency:      api.StatusFail,
			api.CheckCPUContention:     api.StatusFail,
			api.CheckAsyncPreemptOff:   api.StatusPass,
			api.CheckLockOSThread:      api.StatusPass,
		},
		evidence: map[string]string{
			api.CheckHotLoops:   workloadPkg + "spinLoop",
			api.CheckGOMAXPROCS: "GOMAXPROCS above the CPUs",
			api.CheckCPUContention: fmt.Sprintf("the process's own threads account for it: GOMAXPROCS %d above the %d CPUs",
				4*runtime.NumCPU(), runtime.NumCPU()),
		},
	}, {
		name: "cgotiny", bin: "cgotiny", cpus: 1, minSamples: 150,
		want:     map[string]string{api.CheckCgo: api.StatusFail},
		evidence: map[string]string{api.CheckCgo: "crossing overhead"},
	}, {
		// GOMAXPROCS=2 makes "more locked goroutines than Ps" hold on any
		// machine.
		name: "lockthread-8", bin: "lockthread", args: []string{"-n", "8"}, env: []string{"GOMAXPROCS=2"}, cpus: 1,
		want:     map[string]string{api.CheckLockOSThread: api.StatusFail},
		evidence: map[string]string{api.CheckLockOSThread: workloadPkg + "holdThread"},
	}, {
		name: "lockthread-1", bin: "lockthread", args: []string{"-n", "1"}, env: []string{"GOMAXPROCS=2"}, cpus: 1,
		want:     map[string]string{api.CheckLockOSThread: api.StatusWarn},
		evidence: map[string]string{api.CheckLockOSThread: workloadPkg + "holdThread"},
	}, {
		name: "gogc-off", bin: "steady", env: []string{"GOGC=off"}, cpus: 1,
		want: map[string]string{api.CheckGOGC: api.StatusFail},
	}, {
		name: "gogc-off-memlimit", bin: "steady", env: []string{"GOGC=off", "GOMEMLIMIT=1GiB"}, cpus: 1,
		want:     map[string]string{api.CheckGOGC: notFail},
		evidence: map[string]string{api.CheckGOGC: "GOMEMLIMIT 1.0 GiB"},
	}, {
		// A plain pprof server: what its endpoints show is judged, the
		// rest is unknown.
		name: "plainpprof", bin: "plainpprof", pprof: true, cpus: 2, slow: true,
		doctorArgs: []string{"--seconds", "3", "--trace-seconds", "0"},
		want: map[string]string{
			api.CheckAsyncPreemptShare: api.StatusFail,
			api.CheckHotLoops:          api.StatusFail,
			api.CheckLockOSThread:      api.StatusWarn,
			api.CheckGoVersion:         api.StatusUnknown,
			api.CheckGOMAXPROCS:        api.StatusUnknown,
			api.CheckAsyncPreemptOff:   api.StatusUnknown,
			api.CheckCPUThrottling:     api.StatusUnknown,
			api.CheckCPUContention:     api.StatusUnknown,
		},
		evidence: map[string]string{
			api.CheckHotLoops:     "main.spin",
			api.CheckLockOSThread: "main.lockedWait",
		},
	}}
}

func TestDoctorE2E(t *testing.T) {
	bins := buildE2EBinaries(t)
	slots := newCPUSlots(2)
	for _, sc := range e2eScenarios() {
		t.Run(sc.name, func(t *testing.T) {
			if sc.slow && testing.Short() {
				t.Skip("slow; skipped with -short")
			}
			t.Parallel()
			release := slots.acquire(sc.cpus)
			t.Cleanup(release) // after the child is killed: cleanups run last-in first-out
			runE2EScenario(t, bins, sc)
		})
	}
}

// maxContendedShare is the most async preemption the baseline shows when
// other processes keep both CPUs busy: measured at up to 2 % (a CPU hog per
// CPU beside it, on 2 CPUs), against tens of percent for a loop without
// calls.
const maxContendedShare = 0.05

// maxContendedAttempts bounds how often a contention-sensitive baseline is
// started again when the machine's CPUs were taken. Beside two busy loops
// 4 of 14 attempts had a sample or two in runtime.asyncPreempt (hot_loops
// warns), so all of three attempts would in about 2 runs in a hundred, all
// of five in about 2 in a thousand.
const maxContendedAttempts = 5

func runE2EScenario(t *testing.T, bins string, sc e2eScenario) {
	for attempt := 1; ; attempt++ {
		c := startE2EChild(t, bins, sc)
		if !sc.pprof {
			c.waitWindows(t, 3, sc.minSamples)
		}
		args := append([]string{"doctor", "-o", "json"}, sc.doctorArgs...)
		r := runDiagctl(t, nil, append(args, c.addr)...)
		rep := decodeDoctor(t, r.stdout)
		logReport(t, sc.name, rep)

		// The items no machine load changes: judged on every attempt.
		wantSource := "agent"
		if sc.pprof {
			wantSource = "pprof"
		}
		if rep.Source != wantSource {
			t.Errorf("source %q, want %q", rep.Source, wantSource)
		}
		var contended []string
		for id, want := range sc.want {
			ck := statusOf(rep, id)
			if ck.ID == "" {
				t.Errorf("no %s item in the report", id)
				continue
			}
			if statusMatches(ck.Status, want) {
				continue
			}
			if sc.contention && slices.Contains(contentionSensitive, id) && contentionExplains(ck) {
				contended = append(contended, fmt.Sprintf("%s %s: %s", id, ck.Status, strings.Join(ck.Evidence, "; ")))
				continue
			}
			t.Errorf("%s = %s, want %s\n\tevidence: %s\n\tstderr of diagctl: %s", id, ck.Status, want, strings.Join(ck.Evidence, "; "), r.stderr)
		}
		for id, s := range sc.evidence {
			if ev := strings.Join(statusOf(rep, id).Evidence, "\n"); !strings.Contains(ev, s) {
				t.Errorf("%s evidence does not mention %q:\n%s", id, s, ev)
			}
		}
		// The exit code follows the report: 3 when an item failed.
		wantCode := exitOK
		if rep.Counts.Fail > 0 {
			wantCode = exitThreshold
		}
		if r.code != wantCode {
			t.Errorf("exit %d with %d failed items, want %d; stderr: %s", r.code, rep.Counts.Fail, wantCode, r.stderr)
		}
		if len(contended) == 0 {
			return
		}
		// A contention-sensitive item did not pass: a finding when the
		// child had the CPU it asked for, or when its share is more than
		// contention explains; noise otherwise.
		load := c.contention()
		if !load.contended() {
			t.Fatalf("on a machine with CPUs to spare (%s), the baseline does not pass:\n\t%s", load, strings.Join(contended, "\n\t"))
		}
		share, err := c.asyncPreemptShare()
		if err != nil {
			t.Fatalf("reading the windows: %v", err)
		}
		if share > maxContendedShare {
			t.Fatalf("async preemption %.2f%% of the baseline's CPU, more than contention explains (%s):\n\t%s", 100*share, load, strings.Join(contended, "\n\t"))
		}
		t.Logf("attempt %d: the machine's CPUs were taken (%s), so these say nothing of the baseline:\n\t%s", attempt, load, strings.Join(contended, "\n\t"))
		// At a high CPU weight the baseline's async-preempt share and hot
		// loops usually hold beside busy processes; what is left is its
		// threads waiting for a CPU as they wake, which the doctor rightly
		// blames on the other processes (contentionExplains). That is the
		// judgement to check on a busy machine, on whichever attempt gives
		// it: the attempts after it could only add a sample or two in
		// runtime.asyncPreempt, which the contention explains as well.
		var other []string
		for _, line := range contended {
			if !strings.HasPrefix(line, api.CheckCPUContention+" ") {
				other = append(other, line)
			}
		}
		if len(other) == 0 {
			t.Logf("the busy machine's contention is blamed on the other processes, as it should be")
			return
		}
		if attempt == maxContendedAttempts {
			testenv.MustRun(t, "the machine stayed too busy for a well-behaved baseline over %d attempts: %s", attempt, strings.Join(other, "; "))
		}
		c.stop()
	}
}

func statusMatches(got, want string) bool {
	if want == notFail {
		return got == api.StatusPass || got == api.StatusWarn
	}
	return got == want
}

// logReport logs each item's status and first figures: the table of the
// observed values.
func logReport(t *testing.T, name string, rep api.DoctorReport) {
	t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, "doctor of %s (%s, %d windows):", name, rep.Source, rep.Windows)
	for _, c := range rep.Checks {
		ev := c.Evidence
		if len(ev) > 2 {
			ev = ev[:2]
		}
		fmt.Fprintf(&b, "\n\t%-20s %-7s %s", c.ID, c.Status, strings.Join(ev, "; "))
	}
	t.Log(b.String())
}

// buildE2EBinaries builds the children into a directory that lasts as long
// as the test. The build cache makes it quick after the first time.
func buildE2EBinaries(t *testing.T) string {
	t.Helper()
	gotool, err := exec.LookPath("go") // go test puts its own GOROOT/bin first in PATH
	if err != nil {
		t.Fatalf("the go tool is needed to build the examples: %v", err)
	}
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	start := time.Now()
	cmd := exec.CommandContext(ctx, gotool, "build", "-o", dir+string(filepath.Separator),
		"github.com/diagkit/diagkit/examples/steady",
		"github.com/diagkit/diagkit/examples/tightloop",
		"github.com/diagkit/diagkit/examples/cgotiny",
		"github.com/diagkit/diagkit/examples/lockthread",
		"./testdata/plainpprof")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	t.Logf("built the children in %v", time.Since(start).Round(time.Millisecond))
	return dir
}

// cpuSlots runs scenarios two CPUs' worth at a time: a scenario keeping
// both busy runs alone.
type cpuSlots struct {
	mu    sync.Mutex // one acquirer at a time, so two cannot each hold half
	slots chan struct{}
}

func newCPUSlots(n int) *cpuSlots { return &cpuSlots{slots: make(chan struct{}, n)} }

func (s *cpuSlots) acquire(n int) (release func()) {
	n = min(max(n, 1), cap(s.slots))
	s.mu.Lock()
	for range n {
		s.slots <- struct{}{}
	}
	s.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			for range n {
				<-s.slots
			}
		})
	}
}

// e2eChild is a running child process.
type e2eChild struct {
	addr   string
	cmd    *exec.Cmd
	exited chan struct{} // closed once the child is reaped
	stderr *os.File
	once   sync.Once
	// psi0 and start are the machine's CPU pressure stall total
	// (microseconds) and the time when the child started.
	psi0  int64
	start time.Time
}

// startE2EChild starts the scenario's binary, reads the address line it
// prints and registers its killing.
func startE2EChild(t *testing.T, bins string, sc e2eScenario) *e2eChild {
	t.Helper()
	args := []string{"-duration", "120s"} // longer than any test uses it
	if !sc.pprof {
		args = append(args, "-agent", "127.0.0.1:0")
	}
	cmd := exec.Command(filepath.Join(bins, sc.bin), append(args, sc.args...)...)
	cmd.Env = append(childEnv(), "DIAGKIT_WINDOW=1s", "DIAGKIT_INTERVAL=1s")
	cmd.Env = append(cmd.Env, sc.env...)
	stderr, err := os.Create(filepath.Join(t.TempDir(), "stderr"))
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var cg *testenv.CPUCgroup
	if runtime.GOOS == "linux" && !sc.defaultWeight {
		// Every child runs at ten times the default CPU weight: beside
		// other busy processes it still gets the CPUs it asks for, as on a
		// quiet machine, so a profile of seconds holds the samples a check
		// needs. SetHighWeight first waits while a test of another package
		// (diag's TestJudgement) holds the highest weight, which would
		// starve it. The cgroup's removal moves out a child still in it.
		cg = testenv.NewCPUCgroup(t, nil)
		cg.SetHighWeight(t)
	}
	c := &e2eChild{cmd: cmd, exited: make(chan struct{}), stderr: stderr, start: time.Now()}
	c.psi0, _ = cpuPressureTotal()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.stop)
	if cg != nil {
		cg.Add(t, cmd.Process.Pid)
	}
	lines := make(chan string, 1)
	go func() {
		defer close(c.exited)
		br := bufio.NewReader(stdout)
		line, _ := br.ReadString('\n')
		lines <- line
		_, _ = io.Copy(io.Discard, br) // until the child exits
		_ = cmd.Wait()
	}()
	select {
	case line := <-lines:
		_, addr, ok := strings.Cut(strings.TrimSpace(line), "http://")
		if !ok {
			t.Fatalf("%s printed %q, not its address; stderr:\n%s", sc.bin, line, c.stderrText())
		}
		c.addr = addr
	case <-time.After(30 * time.Second):
		t.Fatalf("%s printed no address within 30 s; stderr:\n%s", sc.bin, c.stderrText())
	}
	return c
}

// childEnv is this process's environment without the variables the
// scenarios set, so that only theirs count.
func childEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		switch {
		case name == "GOMAXPROCS", name == "GOGC", name == "GOMEMLIMIT", name == "GODEBUG", strings.HasPrefix(name, "DIAGKIT_"):
			continue
		}
		env = append(env, kv)
	}
	return env
}

// stop kills the child by its PID and waits until it is reaped.
func (c *e2eChild) stop() {
	c.once.Do(func() {
		_ = c.cmd.Process.Kill()
		<-c.exited
		c.stderr.Close()
	})
}

func (c *e2eChild) stderrText() string {
	b, _ := os.ReadFile(c.stderr.Name())
	if len(b) > 4096 {
		b = b[len(b)-4096:]
	}
	return string(b)
}

// history reads the agent's last n windows (10 are the ones the doctor
// merges).
func (c *e2eChild) history(n int) (api.History, error) {
	var h api.History
	client := &http.Client{Timeout: 5 * time.Second}
	resp, err := client.Get(fmt.Sprintf("http://%s/debug/diag/history?n=%d", c.addr, n))
	if err != nil {
		return h, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return h, fmt.Errorf("history: %s", resp.Status)
	}
	return h, json.NewDecoder(resp.Body).Decode(&h)
}

// asyncPreemptShare is the async-preempt share of the CPU over the agent's
// last 10 windows, as the doctor merges them.
func (c *e2eChild) asyncPreemptShare() (float64, error) {
	h, err := c.history(10)
	if err != nil {
		return 0, err
	}
	var preempt, cpu float64
	for _, w := range h.Windows {
		preempt += w.Shares.AsyncPreempt * w.CPUSeconds
		cpu += w.CPUSeconds
	}
	if cpu == 0 {
		return 0, fmt.Errorf("no CPU time in %d windows", len(h.Windows))
	}
	return preempt / cpu, nil
}

// waitWindows waits, at most 40 s or 2 s a window, until the agent has
// analyzed at least n windows and its last max(n, 10) hold at least
// samples CPU samples.
func (c *e2eChild) waitWindows(t *testing.T, n int, samples int64) {
	t.Helper()
	wait := max(40*time.Second, time.Duration(n)*2*time.Second)
	deadline := time.Now().Add(wait)
	var (
		h   api.History
		got int64
		err error
	)
	for time.Now().Before(deadline) {
		select {
		case <-c.exited:
			t.Fatalf("the child exited early; stderr:\n%s", c.stderrText())
		default:
		}
		if h, err = c.history(max(n, 10)); err == nil {
			got = 0
			for _, w := range h.Windows {
				got += w.Samples
			}
			if len(h.Windows) >= n && got >= samples {
				return
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("after %v: %d windows with %d samples (want %d and %d), last error %v; stderr:\n%s", wait, len(h.Windows), got, n, samples, err, c.stderrText())
}

// e2eLoad is how busy the machine was while a child ran.
type e2eLoad struct {
	// pressure is the share of the time some task waited for a CPU (Linux
	// PSI, /proc/pressure/cpu) since the child started; -1 unknown.
	pressure float64
	// load1 is the 1-minute load average per CPU, read when the pressure is
	// unknown; -1 unknown.
	load1 float64
}

// Above these the machine's CPUs are taken. With the steady baseline alone
// on an idle machine the pressure stays at a few percent and the load
// under 1 per CPU; with the CPUs taken by other processes the pressure
// nears 100 %.
const (
	contendedPressure = 0.2
	contendedLoad     = 1
)

func (l e2eLoad) contended() bool {
	return l.pressure > contendedPressure || (l.pressure < 0 && l.load1 > contendedLoad)
}

func (l e2eLoad) String() string {
	if l.pressure >= 0 {
		return fmt.Sprintf("CPU pressure %.0f%%", 100*l.pressure)
	}
	return fmt.Sprintf("load average %.2f per CPU", l.load1)
}

func (c *e2eChild) contention() e2eLoad {
	l := e2eLoad{pressure: -1, load1: -1}
	if p1, err := cpuPressureTotal(); err == nil && c.psi0 > 0 {
		if d := time.Since(c.start); d > 0 {
			l.pressure = float64(p1-c.psi0) / float64(d.Microseconds())
		}
		return l
	}
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		if f := strings.Fields(string(b)); len(f) > 0 {
			if v, err := strconv.ParseFloat(f[0], 64); err == nil {
				l.load1 = v / float64(runtime.NumCPU())
			}
		}
	}
	return l
}

// cpuPressureTotal reads the "some" stall total of /proc/pressure/cpu, in
// microseconds.
func cpuPressureTotal() (int64, error) {
	b, err := os.ReadFile("/proc/pressure/cpu")
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if !strings.HasPrefix(line, "some ") {
			continue
		}
		for _, f := range strings.Fields(line) {
			if v, ok := strings.CutPrefix(f, "total="); ok {
				return strconv.ParseInt(v, 10, 64)
			}
		}
	}
	return 0, fmt.Errorf("no some total in /proc/pressure/cpu")
}
