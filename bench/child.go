package main

// The agent benchmarks (overhead, latency, heap) run their workloads in child
// processes, so that each run's CPU time, as the parent's wait4 reports it,
// is that run's alone. The child is this same binary, re-executed with the
// hidden first argument childArg: the runs with and without the agent are
// the same executable.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"runtime/metrics"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"go.uber.org/zap"

	"github.com/diagkit/diagkit/diag"
)

// childArg, as the first argument, makes the binary a benchmark child.
const childArg = "__diagkit_bench_child"

// agentConfig says whether and how a child runs the agent.
type agentConfig struct {
	name             string // label in the tables
	on               bool
	window, interval time.Duration
	history          int // 0: the default
	// Thresholds of the evidence warnings and Cooldown; 0: the default,
	// below zero (thresholds): off.
	schedLatency time.Duration
	asyncPreempt float64
	cooldown     time.Duration
}

func (a agentConfig) args() []string {
	if !a.on {
		return []string{"-agent=false"}
	}
	args := []string{"-agent", "-window", a.window.String(), "-interval", a.interval.String(),
		"-history", strconv.Itoa(a.history)}
	if a.schedLatency != 0 {
		args = append(args, "-sched-threshold", a.schedLatency.String())
	}
	if a.asyncPreempt != 0 {
		args = append(args, "-async-threshold", strconv.FormatFloat(a.asyncPreempt, 'g', -1, 64))
	}
	if a.cooldown != 0 {
		args = append(args, "-cooldown", a.cooldown.String())
	}
	return args
}

// expectWindows is how many windows an agent must at least have completed
// after wall time of running: those that fit when each interval takes 10 %
// longer than it should (back to back, a window also waits for the profiler
// to stop and for its analysis).
func (a agentConfig) expectWindows(wall time.Duration) uint64 {
	if !a.on || wall < a.window {
		return 0
	}
	return uint64(float64(wall-a.window)/(1.1*float64(a.interval))) + 1
}

// childResult is what a child prints as its last line of standard output.
type childResult struct {
	Units       int     `json:"units,omitempty"`
	Sink        uint64  `json:"sink,omitempty"`
	WallSeconds float64 `json:"wall_seconds"`
	Windows     uint64  `json:"windows"`
	Failures    uint64  `json:"failures"`
	// Warnings counts the agent's kept window reports by warning kind.
	Warnings map[string]int `json:"warnings,omitempty"`
	// evidence (with -evidence-poll)
	Evidence *evidenceResult `json:"evidence,omitempty"`
	// heap
	Heap *heapResult `json:"heap,omitempty"`
}

func childMain(args []string) int {
	if len(args) == 0 {
		fmt.Fprintln(os.Stderr, "bench child: no mode")
		return 2
	}
	var err error
	switch args[0] {
	case "overhead":
		err = childOverhead(args[1:])
	case "latency":
		err = childLatency(args[1:])
	case "heap":
		err = childHeap(args[1:])
	default:
		err = fmt.Errorf("unknown mode %q", args[0])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench child:", err)
		return 1
	}
	return 0
}

// agentFlags registers the flags of agentConfig.args.
func agentFlags(fs *flag.FlagSet) *agentConfig {
	var a agentConfig
	fs.BoolVar(&a.on, "agent", false, "run the diagkit agent")
	fs.DurationVar(&a.window, "window", diag.DefaultWindow, "agent Window")
	fs.DurationVar(&a.interval, "interval", diag.DefaultInterval, "agent Interval")
	fs.IntVar(&a.history, "history", 0, "agent History (0: default)")
	fs.DurationVar(&a.schedLatency, "sched-threshold", 0, "agent SchedLatencyThreshold (0: default, below 0: off)")
	fs.Float64Var(&a.asyncPreempt, "async-threshold", 0, "agent AsyncPreemptThreshold (0: default, below 0: off)")
	fs.DurationVar(&a.cooldown, "cooldown", 0, "agent Cooldown (0: default)")
	return &a
}

// startAgent starts the agent as a service would, on a free loopback port,
// logging nowhere; nil when a.on is false.
func startAgent(a *agentConfig) (*diag.Agent, error) {
	if !a.on {
		return nil, nil
	}
	return diag.Start(diag.Config{
		Addr:     "127.0.0.1:0",
		Window:   a.window,
		Interval: a.interval,
		History:  a.history,
		Logger:   zap.NewNop(),

		SchedLatencyThreshold: a.schedLatency,
		AsyncPreemptThreshold: a.asyncPreempt,
		Cooldown:              a.cooldown,
	})
}

// warningKinds counts the agent's kept window reports by the kinds of
// warning they raised.
func warningKinds(a *diag.Agent) map[string]int {
	kinds := map[string]int{}
	for _, r := range a.History(0) {
		for _, w := range r.Warnings {
			kinds[w.Kind]++
		}
	}
	return kinds
}

func printResult(r childResult) error {
	return json.NewEncoder(os.Stdout).Encode(r)
}

// childOverhead does a fixed amount of CPU-bound work in GOMAXPROCS
// goroutines, with or without the agent, and exits without stopping the
// agent, as a process that is killed would.
func childOverhead(args []string) error {
	fs := flag.NewFlagSet("overhead", flag.ContinueOnError)
	units := fs.Int("units", 1000, "units of work")
	cpuprofile := fs.String("cpuprofile", "", "write a CPU profile of the run here (through the agent when it runs)")
	profileSeconds := fs.Int("profile-seconds", 30, "with -cpuprofile and the agent: seconds to ask the agent for")
	evidencePoll := fs.Duration("evidence-poll", 0, "with the agent: poll its loop evidence this often and report the gatherings (0: no polling)")
	evidenceWait := fs.Bool("evidence-wait", false, "with -evidence-poll: once the work is done, wait for a gathering in progress to finish")
	ac := agentFlags(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	start := time.Now()
	burn := prepareBurn(*units, runtime.GOMAXPROCS(0))
	a, err := startAgent(ac)
	if err != nil {
		return err
	}
	profDone := make(chan error, 1)
	if *cpuprofile != "" {
		if a == nil {
			f, err := os.Create(*cpuprofile)
			if err != nil {
				return err
			}
			if err := pprof.StartCPUProfile(f); err != nil {
				return err
			}
			defer func() { pprof.StopCPUProfile(); f.Close() }()
			profDone <- nil
		} else {
			// The agent owns the profiler; ask it, as a user would.
			go func() {
				profDone <- fetchToFile(fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", a.Addr(), *profileSeconds), *cpuprofile)
			}()
		}
	}
	var watch *evidenceWatch
	if a != nil && *evidencePoll > 0 {
		watch = watchEvidence(a, start, *evidencePoll)
	}
	sink := burn()
	res := childResult{Units: *units, Sink: sink, WallSeconds: time.Since(start).Seconds()}
	if watch != nil {
		res.Evidence = watch.finish(*evidenceWait)
	}
	if a != nil {
		st := a.Status()
		res.Windows, res.Failures = st.Windows, st.Failures
		res.Warnings = warningKinds(a)
	}
	if *cpuprofile != "" {
		if err := <-profDone; err != nil {
			return err
		}
	}
	return printResult(res)
}

func fetchToFile(url, file string) error {
	resp, err := http.Get(url)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		return fmt.Errorf("GET %s: %s: %s", url, resp.Status, b)
	}
	f, err := os.Create(file)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// childLatency serves a small HTTP service (each request does -units units
// of work and answers 17 bytes) until its standard input closes. It prints
// "ready SERVICE_ADDR AGENT_ADDR" once both listen, and its result at the
// end.
func childLatency(args []string) error {
	fs := flag.NewFlagSet("latency", flag.ContinueOnError)
	units := fs.Int("units", 5, "units of work per request")
	ac := agentFlags(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	start := time.Now()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	var served atomic.Int64
	n := *units
	srv := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			var b burner
			b.acc = uint64(served.Add(1))
			for i := range n {
				b.unit(i)
			}
			w.Header().Set("Content-Type", "text/plain")
			fmt.Fprintf(w, "%016x\n", b.acc)
		}),
		// Only this process's load generator connects. A shorter timeout
		// would close connections the client dialed but did not use yet
		// (it dials when no idle connection is free, then may use one that
		// became free instead), and the next request on one fails with EOF.
		ReadHeaderTimeout: time.Hour,
	}
	go srv.Serve(ln)
	a, err := startAgent(ac)
	if err != nil {
		return err
	}
	agentAddr := "off"
	if a != nil {
		agentAddr = a.Addr()
	}
	fmt.Printf("ready %s %s\n", ln.Addr(), agentAddr)
	_, _ = io.Copy(io.Discard, os.Stdin) // until the parent closes it
	res := childResult{Units: int(served.Load()), WallSeconds: time.Since(start).Seconds()}
	if a != nil {
		st := a.Status()
		res.Windows, res.Failures = st.Windows, st.Failures
	}
	return printResult(res)
}

// heapObjects is the bytes of live heap objects after a full collection.
func heapObjects() uint64 {
	runtime.GC()
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// childRun is one finished child process.
type childRun struct {
	wall, cpu time.Duration
	maxRSS    int64 // bytes
	res       childResult
}

// benchExe is the binary to re-execute as a child.
func benchExe() (string, error) {
	exe, err := os.Executable()
	if err != nil {
		return "", fmt.Errorf("finding the bench binary to re-execute: %v", err)
	}
	return exe, nil
}

// runChild runs the child to completion and checks that it printed a result.
func runChild(exe, mode string, args ...string) (childRun, error) {
	cmd := exec.Command(exe, append([]string{childArg, mode}, args...)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	if err := cmd.Run(); err != nil {
		return childRun{}, fmt.Errorf("child %s %s: %v\n%s", mode, strings.Join(args, " "), err, stderr.Bytes())
	}
	run := finished(cmd, time.Since(start))
	if err := decodeLast(stdout.Bytes(), &run.res); err != nil {
		return childRun{}, fmt.Errorf("child %s: %v\n%s", mode, err, stderr.Bytes())
	}
	return run, nil
}

func finished(cmd *exec.Cmd, wall time.Duration) childRun {
	r := childRun{wall: wall, cpu: cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		r.maxRSS = int64(ru.Maxrss) * 1024 // KiB on Linux
	}
	return r
}

func decodeLast(out []byte, v any) error {
	out = bytes.TrimSpace(out)
	if i := bytes.LastIndexByte(out, '\n'); i >= 0 {
		out = out[i+1:]
	}
	if len(out) == 0 {
		return errors.New("printed no result")
	}
	return json.Unmarshal(out, v)
}

// server is a running latency child.
type server struct {
	cmd       *exec.Cmd
	stdin     io.WriteCloser
	stdout    *bufio.Reader
	stderr    bytes.Buffer
	start     time.Time
	addr      string // the service
	agentAddr string // "off" without the agent
}

func startServer(exe string, args ...string) (*server, error) {
	s := &server{cmd: exec.Command(exe, append([]string{childArg, "latency"}, args...)...)}
	var err error
	if s.stdin, err = s.cmd.StdinPipe(); err != nil {
		return nil, err
	}
	out, err := s.cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	s.stdout = bufio.NewReader(out)
	s.cmd.Stderr = &s.stderr
	s.start = time.Now()
	if err := s.cmd.Start(); err != nil {
		return nil, err
	}
	line, err := s.stdout.ReadString('\n')
	f := strings.Fields(line)
	if err != nil || len(f) != 3 || f[0] != "ready" {
		s.stdin.Close()
		_ = s.cmd.Wait()
		return nil, fmt.Errorf("latency child did not start: %q %v\n%s", line, err, s.stderr.Bytes())
	}
	s.addr, s.agentAddr = f[1], f[2]
	return s, nil
}

// stop closes the child's standard input and waits for it to exit.
func (s *server) stop() (childRun, error) {
	s.stdin.Close()
	rest, _ := io.ReadAll(s.stdout)
	err := s.cmd.Wait()
	if err != nil {
		return childRun{}, fmt.Errorf("latency child: %v\n%s", err, s.stderr.Bytes())
	}
	run := finished(s.cmd, time.Since(s.start))
	if err := decodeLast(rest, &run.res); err != nil {
		return childRun{}, fmt.Errorf("latency child: %v\n%s", err, s.stderr.Bytes())
	}
	return run, nil
}

// agentStatus reads the agent's /debug/diag/status over HTTP.
func agentStatus(ctx context.Context, addr string) (diag.Status, error) {
	var st diag.Status
	req, err := http.NewRequestWithContext(ctx, "GET", "http://"+addr+diag.PathStatus, nil)
	if err != nil {
		return st, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return st, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return st, fmt.Errorf("GET %s: %s", diag.PathStatus, resp.Status)
	}
	return st, json.NewDecoder(resp.Body).Decode(&st)
}
