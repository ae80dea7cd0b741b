//go:build linux

// Command record records the agent histories that internal/compare's
// recorded tests read: for each scenario, two real child processes
// (examples/service with diag/auto) run side by side over the same
// wall-clock span, like a canary and its baseline, each with the agent on a
// loopback port; when both have enough windows, record fetches each one's
// /debug/diag/history and writes it, compacted and gzipped, to
// OUT/<scenario>-<side>.json.gz, with OUT/manifest.json describing how.
//
// It runs from go generate in internal/compare (Linux, as root: it creates
// cgroups), for about half an hour on a 2-CPU machine:
//
//	go generate ./internal/compare
//	go run ./internal/compare/internal/record -out internal/compare/testdata/recorded -only cgo
//
// Every child runs in a cgroup of its own below one of ten times the
// default CPU weight, so that other processes on a shared machine take
// little of its CPU (the scenario's own neighbour, the other side, still
// does, unless the scenario gives each side a CPU of its own with an
// affinity); the gomaxprocs scenario gives each child's cgroup a quota. The
// agent's two thresholds that gather loop evidence (an execution trace, a
// second of tracing once per cooldown) are off, so that no window of one
// side carries a trace the other lacks. Children and cgroups are removed
// at the end, on an error, and at an interrupt.
package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/diagkit/diagkit/diag/api"
	"github.com/diagkit/diagkit/internal/cgroupfs"
)

// side is one child process of a scenario.
type side struct {
	Name string   `json:"name"`
	Args []string `json:"args"`
	// GOMAXPROCS is set in the child's environment (0: the runtime's
	// default).
	GOMAXPROCS int `json:"gomaxprocs"`
	// Quota is the CPU quota of the child's cgroup, in CPUs; 0 for none.
	Quota float64 `json:"cgroup_quota_cpus,omitempty"`
	// CPUs, when set, is the child's CPU affinity (CPU numbers), set
	// before it starts so that every thread it creates has it: the two
	// sides on CPUs of their own do not trade the CPUs between them.
	CPUs []int `json:"cpus,omitempty"`
}

// scenario is a pair of children run at the same time.
type scenario struct {
	Name  string  `json:"name"`
	Doc   string  `json:"doc"`
	Sides [2]side `json:"sides"`
	// SwapCPUs, when set, swaps the two sides' CPU affinities (every
	// thread of each child) at this interval, so that over a window each
	// process spends about as long on each CPU: what one CPU's other load
	// (interrupts, kernel threads, the recorder) does to a process then
	// falls on both alike.
	SwapCPUs duration `json:"swap_cpus_every,omitempty"`
}

// duration is a time.Duration that JSON writes as its String.
type duration time.Duration

func (d duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

var scenarios = []scenario{{
	// The quota sits a little below the service's demand beside its
	// neighbour, so that some periods are throttled and some not: measured
	// over 8 s with both running, 0.6 CPU throttled nearly every period (a
	// figure at 100 % in every window is not tested), 0.7 CPU 67-81 %,
	// 0.75 CPU 38-48 %, 0.8 CPU 20-22 % and 1 CPU about 1 %.
	Name: "aa",
	Doc: "A/A: the same steady service twice, a little over its CPU quota: two workers hashing half of every 10 ms " +
		"(up to 1 CPU of demand, in bursts), GOMAXPROCS=2, each process in a cgroup with a quota of 0.75 CPU " +
		"(throttled in about half the periods, some async preemption)",
	Sides: [2]side{
		{Name: "a", Args: []string{"-problem", "none", "-workers", "2", "-busy", "0.5"}, GOMAXPROCS: 2, Quota: 0.75},
		{Name: "b", Args: []string{"-problem", "none", "-workers", "2", "-busy", "0.5"}, GOMAXPROCS: 2, Quota: 0.75},
	},
}, {
	// Each side on a CPU of its own, like a canary and its baseline on two
	// hosts: recorded on the same two CPUs, two processes that each want
	// both traded them over tens of seconds, and their run-queue waits
	// differed by which one the kernel favoured in a block (12 of 23 A/A
	// comparisons found no change). With a fixed CPU each, the figure
	// still drifted apart for tens of seconds (lag-1 autocorrelation of the
	// paired differences +0.42 to +0.55; 21 of 24 found no change); with
	// the two swapping CPUs every second, each window falls on both CPUs
	// alike, and the autocorrelation was +0.01 (23 of 23).
	Name: "aa_loops",
	Doc: "A/A: the same service with a problem twice, each process on a CPU of its own (affinity CPU 0 and CPU 1, " +
		"swapped every second): two workers (60 % busy) and 8 call-free loops on GOMAXPROCS=2, above its one CPU, " +
		"no quota (async preemption, long scheduling latency, run-queue wait)",
	Sides: [2]side{
		{Name: "a", Args: []string{"-problem", "loops", "-onset", "0s"}, GOMAXPROCS: 2, CPUs: []int{0}},
		{Name: "b", Args: []string{"-problem", "loops", "-onset", "0s"}, GOMAXPROCS: 2, CPUs: []int{1}},
	},
	SwapCPUs: duration(time.Second),
}, {
	Name: "calls",
	Doc: "A/B: 8 call-free loops (main.crunchRows) vs the same loops with a non-inlined, stack-checked call per iteration " +
		"(main.crunchRowsCalls), beside two workers (60 % busy), GOMAXPROCS=2 (more goroutines than Ps), " +
		"each process on a CPU of its own (affinity CPU 0 and CPU 1), no quota",
	Sides: [2]side{
		{Name: "loops", Args: []string{"-problem", "loops", "-onset", "0s"}, GOMAXPROCS: 2, CPUs: []int{0}},
		{Name: "calls", Args: []string{"-problem", "calls", "-onset", "0s"}, GOMAXPROCS: 2, CPUs: []int{1}},
	},
}, {
	Name: "gomaxprocs",
	Doc: "A/B: four always-busy workers (yielding every millisecond) in a cgroup with a quota of 1 CPU, " +
		"GOMAXPROCS=4 (above the CPUs the quota gives) vs GOMAXPROCS=1 (equal)",
	Sides: [2]side{
		{Name: "above", Args: []string{"-problem", "none", "-workers", "4", "-busy", "1"}, GOMAXPROCS: 4, Quota: 1},
		{Name: "equal", Args: []string{"-problem", "none", "-workers", "4", "-busy", "1"}, GOMAXPROCS: 1, Quota: 1},
	},
}, {
	Name: "cgo",
	Doc: "A/B: a goroutine making tiny cgo calls (one multiply-add in C per call) vs the same C work batched " +
		"(1024 iterations per call), beside one worker (60 % busy), GOMAXPROCS=2, no quota",
	Sides: [2]side{
		{Name: "tiny", Args: []string{"-problem", "cgo", "-onset", "0s", "-workers", "1"}, GOMAXPROCS: 2},
		{Name: "batched", Args: []string{"-problem", "cgobatch", "-batch", "1024", "-onset", "0s", "-workers", "1"}, GOMAXPROCS: 2},
	},
}}

// manifest is OUT/manifest.json.
type manifest struct {
	// Recorder is how to record again.
	Recorder string `json:"recorder"`
	// Program is the child's package, built with -trimpath.
	Program       string            `json:"program"`
	Env           map[string]string `json:"env"`
	Window        string            `json:"window"`
	Warmup        int               `json:"warmup_windows"`
	Windows       int               `json:"windows_per_process"`
	GoVersion     string            `json:"go_version"`
	NumCPU        int               `json:"num_cpu"`
	Kernel        string            `json:"kernel,omitempty"`
	CgroupVersion string            `json:"cgroup_version"`
	ParentWeight  string            `json:"parent_cgroup_weight"`
	Scenarios     []recorded        `json:"scenarios"`
}

type recorded struct {
	scenario
	Start time.Time         `json:"start"`
	End   time.Time         `json:"end"`
	Files map[string]string `json:"files"`
	// LoadBefore is /proc/loadavg just before the children started.
	LoadBefore string `json:"loadavg_before"`
}

const program = "github.com/diagkit/diagkit/examples/service"

func main() {
	if len(os.Args) > 1 && os.Args[1] == execInCgroup {
		childMain(os.Args[2:])
		return
	}
	out := flag.String("out", "testdata/recorded", "directory to write the histories to")
	window := flag.Duration("window", 2*time.Second, "the agent's window (and interval: continuous windows)")
	warmup := flag.Int("warmup", 2, "windows each process runs before the recorded ones (kept in the files; the tests skip them)")
	windows := flag.Int("windows", 120, "windows to record per process after the warm-up")
	top := flag.Int("top", 5, "DIAGKIT_TOP: functions listed per window")
	only := flag.String("only", "", "comma-separated scenarios to record (default all): "+names())
	flag.Parse()
	if err := run(*out, *window, *warmup, *windows, *top, *only); err != nil {
		fmt.Fprintln(os.Stderr, "record:", err)
		os.Exit(1)
	}
}

func names() string {
	var n []string
	for _, s := range scenarios {
		n = append(n, s.Name)
	}
	return strings.Join(n, ", ")
}

func run(out string, window time.Duration, warmup, windows, top int, only string) error {
	if os.Geteuid() != 0 {
		return errors.New("run as root: the scenarios need cgroups")
	}
	var todo []scenario
	for _, s := range scenarios {
		if only == "" || slices.Contains(strings.Split(only, ","), s.Name) {
			todo = append(todo, s)
		}
	}
	if len(todo) == 0 {
		return fmt.Errorf("-only %q: no such scenario (have %s)", only, names())
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	tmp, err := os.MkdirTemp("", "diagkit-record-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	bin := filepath.Join(tmp, "service")
	fmt.Fprintf(os.Stderr, "record: building %s\n", program)
	if b, err := exec.Command("go", "build", "-trimpath", "-o", bin, program).CombinedOutput(); err != nil {
		return fmt.Errorf("building %s: %v\n%s", program, err, b)
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}

	_, version, err := cgroupfs.ControllerRoot()
	if err != nil {
		return fmt.Errorf("no writable cgroup CPU controller: %v", err)
	}
	parent, err := cgroupfs.New(nil, fmt.Sprintf("diagkit-record-%d", os.Getpid()))
	if err != nil {
		return err
	}
	defer removeCgroup(parent)
	weight := "cpu.shares=10240"
	if version == "v2" {
		weight = "cpu.weight=1000"
	}
	if err := parent.SetHighWeight(); err != nil {
		return err
	}

	env := map[string]string{
		"DIAGKIT_ADDR":                "127.0.0.1:0",
		"DIAGKIT_WINDOW":              window.String(),
		"DIAGKIT_INTERVAL":            window.String(),
		"DIAGKIT_HISTORY":             strconv.Itoa(warmup + windows + 50),
		"DIAGKIT_TOP":                 strconv.Itoa(top),
		"DIAGKIT_PREEMPT_THRESHOLD":   "off",
		"DIAGKIT_SCHED_P99_THRESHOLD": "off",
	}
	m := manifest{
		Recorder:      "go generate ./internal/compare (go run ./internal/record -out testdata/recorded)",
		Program:       program + " (go build -trimpath)",
		Env:           env,
		Window:        window.String(),
		Warmup:        warmup,
		Windows:       windows,
		GoVersion:     runtime.Version(),
		NumCPU:        runtime.NumCPU(),
		CgroupVersion: version,
		ParentWeight:  weight,
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = strings.TrimSpace(string(b))
	}
	// Keep the scenarios recorded earlier in the manifest when only some
	// are recorded again.
	if b, err := os.ReadFile(filepath.Join(out, "manifest.json")); err == nil && only != "" {
		var old manifest
		if json.Unmarshal(b, &old) == nil {
			for _, r := range old.Scenarios {
				if !slices.ContainsFunc(todo, func(s scenario) bool { return s.Name == r.Name }) {
					m.Scenarios = append(m.Scenarios, r)
				}
			}
		}
	}
	for _, s := range todo {
		r, err := record(ctx, s, recordConfig{
			self: self, bin: bin, tmp: tmp, out: out, parent: parent, env: env,
			window: window, want: warmup + windows,
		})
		if err != nil {
			return fmt.Errorf("scenario %s: %w", s.Name, err)
		}
		m.Scenarios = append(m.Scenarios, r)
	}
	slices.SortStableFunc(m.Scenarios, func(a, b recorded) int { return order(a.Name) - order(b.Name) })
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(out, "manifest.json"), append(b, '\n'), 0o644)
}

func order(name string) int {
	for i, s := range scenarios {
		if s.Name == name {
			return i
		}
	}
	return len(scenarios)
}

type recordConfig struct {
	self, bin, tmp, out string
	parent              *cgroupfs.Group
	env                 map[string]string
	window              time.Duration
	want                int // windows per process
}

// record runs one scenario's two children until each has want windows,
// and writes their histories.
func record(ctx context.Context, s scenario, c recordConfig) (recorded, error) {
	r := recorded{scenario: s, Files: map[string]string{}}
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		r.LoadBefore = strings.TrimSpace(string(b))
	}
	duration := time.Duration(c.want+30) * c.window
	var children [2]*child
	defer func() {
		for _, ch := range children {
			if ch != nil {
				ch.stop()
			}
		}
	}()
	fmt.Fprintf(os.Stderr, "record: %s: %s and %s for %d windows of %v\n", s.Name, s.Sides[0].Name, s.Sides[1].Name, c.want, c.window)
	r.Start = time.Now().UTC()
	for i, sd := range s.Sides {
		ch, err := startChild(c, s.Name+"-"+sd.Name, sd, duration)
		if err != nil {
			return r, fmt.Errorf("%s: %w", sd.Name, err)
		}
		children[i] = ch
	}
	for i, ch := range children {
		if err := ch.waitAddr(ctx, 30*time.Second); err != nil {
			return r, fmt.Errorf("%s: %w", s.Sides[i].Name, err)
		}
	}
	if s.SwapCPUs > 0 {
		stop := make(chan struct{})
		swapped := make(chan error, 1)
		go func() { swapped <- swapCPUs(s, children, time.Duration(s.SwapCPUs), stop) }()
		defer func() {
			close(stop)
			if err := <-swapped; err != nil {
				fmt.Fprintln(os.Stderr, "record:", s.Name+":", err)
			}
		}()
	}
	deadline := time.Now().Add(duration)
	var hs [2][]byte
	for {
		done := true
		var counts []string
		for i, ch := range children {
			b, n, err := ch.history(ctx)
			if err != nil {
				return r, fmt.Errorf("%s: %w", s.Sides[i].Name, err)
			}
			hs[i] = b
			counts = append(counts, fmt.Sprintf("%s %d", s.Sides[i].Name, n))
			done = done && n >= c.want
		}
		if done {
			break
		}
		if time.Now().After(deadline) {
			return r, fmt.Errorf("timed out with %s windows of %d", strings.Join(counts, ", "), c.want)
		}
		fmt.Fprintf(os.Stderr, "\rrecord: %s: %s windows of %d ", s.Name, strings.Join(counts, ", "), c.want)
		select {
		case <-ctx.Done():
			return r, ctx.Err()
		case <-time.After(c.window):
		}
	}
	fmt.Fprintln(os.Stderr)
	r.End = time.Now().UTC()
	for i, ch := range children {
		ch.stop()
		children[i] = nil
	}
	for i, sd := range s.Sides {
		name := s.Name + "-" + sd.Name + ".json.gz"
		if err := writeHistory(filepath.Join(c.out, name), hs[i]); err != nil {
			return r, err
		}
		r.Files[sd.Name] = name
	}
	return r, nil
}

// swapCPUs gives each child the other side's CPUs every interval until
// stop, and reports the first error (a child that exited is not one).
func swapCPUs(s scenario, children [2]*child, interval time.Duration, stop <-chan struct{}) error {
	t := time.NewTicker(interval)
	defer t.Stop()
	for swapped := true; ; swapped = !swapped {
		select {
		case <-stop:
			return nil
		case <-t.C:
		}
		for i, ch := range children {
			cpus := s.Sides[i].CPUs
			if swapped {
				cpus = s.Sides[1-i].CPUs
			}
			if err := setProcessAffinity(ch.cmd.Process.Pid, cpus); err != nil {
				return fmt.Errorf("%s: %w", s.Sides[i].Name, err)
			}
		}
	}
}

// setProcessAffinity restricts every thread of pid to cpus. A thread that
// ends meanwhile is skipped; one created meanwhile inherits its creator's.
func setProcessAffinity(pid int, cpus []int) error {
	var set unix.CPUSet
	for _, c := range cpus {
		set.Set(c)
	}
	tasks, err := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
	if err != nil {
		return nil // the child exited
	}
	for _, task := range tasks {
		tid, err := strconv.Atoi(task.Name())
		if err != nil {
			continue
		}
		if err := unix.SchedSetaffinity(tid, &set); err != nil && !errors.Is(err, unix.ESRCH) {
			return fmt.Errorf("thread %d: %w", tid, err)
		}
	}
	return nil
}

// writeHistory checks a fetched history and writes it compacted and
// gzipped, with no name or time in the gzip header, so the bytes depend on
// the history only.
func writeHistory(path string, body []byte) error {
	var h api.History
	if err := json.Unmarshal(body, &h); err != nil {
		return fmt.Errorf("%s: the history does not parse: %v", path, err)
	}
	if h.WindowSchema != api.WindowSchema {
		return fmt.Errorf("%s: window_schema %q, want %q", path, h.WindowSchema, api.WindowSchema)
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, body); err != nil {
		return err
	}
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		return err
	}
	if _, err := zw.Write(append(compact.Bytes(), '\n')); err != nil {
		return err
	}
	if err := zw.Close(); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "record: wrote %s: %d windows, %d bytes\n", path, len(h.Windows), buf.Len())
	return os.WriteFile(path, buf.Bytes(), 0o644)
}

// child is one running service.
type child struct {
	name string
	cmd  *exec.Cmd
	cg   *cgroupfs.Group
	addr chan string
	done chan struct{} // closed when its stderr is read to the end
	log  *os.File
	url  string
	once sync.Once
}

// startChild starts the service in a new cgroup below c.parent, through
// this program's exec-in-cgroup mode so that it runs there from its first
// instruction, in a session of its own.
func startChild(c recordConfig, name string, sd side, duration time.Duration) (*child, error) {
	cg, err := cgroupfs.New(c.parent, name)
	if err != nil {
		return nil, err
	}
	if sd.Quota > 0 {
		if err := cg.SetQuota(sd.Quota); err != nil {
			removeCgroup(cg)
			return nil, err
		}
	}
	var cpus []string
	for _, n := range sd.CPUs {
		if n < 0 || n >= runtime.NumCPU() {
			removeCgroup(cg)
			return nil, fmt.Errorf("CPU %d: this machine has CPUs 0 to %d", n, runtime.NumCPU()-1)
		}
		cpus = append(cpus, strconv.Itoa(n))
	}
	args := append([]string{execInCgroup, cg.Dir, strings.Join(cpus, ","), c.bin, "-duration", duration.String()}, sd.Args...)
	cmd := exec.Command(c.self, args...)
	cmd.Env = os.Environ()
	for k, v := range c.env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	if sd.GOMAXPROCS > 0 {
		cmd.Env = append(cmd.Env, "GOMAXPROCS="+strconv.Itoa(sd.GOMAXPROCS))
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	logf, err := os.Create(filepath.Join(c.tmp, name+".log"))
	if err != nil {
		removeCgroup(cg)
		return nil, err
	}
	cmd.Stdout = logf
	stderr, err := cmd.StderrPipe()
	if err != nil {
		removeCgroup(cg)
		logf.Close()
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		removeCgroup(cg)
		logf.Close()
		return nil, err
	}
	ch := &child{name: name, cmd: cmd, cg: cg, addr: make(chan string, 1), done: make(chan struct{}), log: logf}
	go ch.readLog(stderr)
	return ch, nil
}

// readLog copies the child's standard error to its log and sends the
// address from the agent's "agent started" line.
func (ch *child) readLog(r io.Reader) {
	defer close(ch.done)
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	sent := false
	for sc.Scan() {
		line := sc.Bytes()
		fmt.Fprintf(ch.log, "%s\n", line)
		var m map[string]any
		if !sent && json.Unmarshal(line, &m) == nil && m["msg"] == "agent started" {
			if a, ok := m["addr"].(string); ok {
				ch.addr <- a
				sent = true
			}
		}
	}
}

func (ch *child) waitAddr(ctx context.Context, timeout time.Duration) error {
	select {
	case a := <-ch.addr:
		ch.url = "http://" + a + "/debug/diag/history"
		return nil
	case <-ch.done:
		return fmt.Errorf("exited before its agent started (log %s)", ch.log.Name())
	case <-time.After(timeout):
		return fmt.Errorf("no agent address in %v (log %s)", timeout, ch.log.Name())
	case <-ctx.Done():
		return ctx.Err()
	}
}

// history fetches the child's history and counts its periodic windows.
func (ch *child) history(ctx context.Context) ([]byte, int, error) {
	rctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(rctx, http.MethodGet, ch.url, nil)
	if err != nil {
		return nil, 0, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, 0, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, 0, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, 0, fmt.Errorf("GET %s: %s: %s", ch.url, resp.Status, body)
	}
	var h api.History
	if err := json.Unmarshal(body, &h); err != nil {
		return nil, 0, fmt.Errorf("GET %s: %v", ch.url, err)
	}
	n := 0
	for _, w := range h.Windows {
		if w.Source == "periodic" {
			n++
		}
	}
	return body, n, nil
}

// stop kills the child by its PID, waits for it and removes its cgroup.
func (ch *child) stop() {
	ch.once.Do(func() {
		_ = ch.cmd.Process.Kill()
		_ = ch.cmd.Wait()
		<-ch.done
		ch.log.Close()
		removeCgroup(ch.cg)
	})
}

// execInCgroup is the first argument of the mode in which record moves
// itself into a cgroup, restricts itself to the CPUs listed (comma-separated;
// empty for all) and executes the service there:
//
//	record exec-in-cgroup DIR CPUS PROGRAM ARGS...
const execInCgroup = "exec-in-cgroup"

func childMain(args []string) {
	if len(args) < 3 {
		fmt.Fprintln(os.Stderr, "record: exec-in-cgroup DIR CPUS PROGRAM ARGS...")
		os.Exit(2)
	}
	if err := os.WriteFile(filepath.Join(args[0], "cgroup.procs"), []byte(strconv.Itoa(os.Getpid())), 0); err != nil {
		fmt.Fprintln(os.Stderr, "record: joining the cgroup:", err)
		os.Exit(1)
	}
	// The affinity is the calling thread's, and execve keeps the calling
	// thread's: set and exec on one locked thread.
	runtime.LockOSThread()
	if args[1] != "" {
		var set unix.CPUSet
		for _, f := range strings.Split(args[1], ",") {
			n, err := strconv.Atoi(f)
			if err != nil {
				fmt.Fprintf(os.Stderr, "record: CPU %q: %v\n", f, err)
				os.Exit(2)
			}
			set.Set(n)
		}
		if err := unix.SchedSetaffinity(0, &set); err != nil {
			fmt.Fprintln(os.Stderr, "record: setting the CPU affinity:", err)
			os.Exit(1)
		}
	}
	err := syscall.Exec(args[2], args[2:], os.Environ())
	fmt.Fprintln(os.Stderr, "record: exec:", err)
	os.Exit(1)
}
