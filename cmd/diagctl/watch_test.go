package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/creack/pty"

	"github.com/diagkit/diagkit/diag/analysis"
	"github.com/diagkit/diagkit/diag/api"
)

// watchEpoch is when the fake agent's first window ends.
var watchEpoch = time.Date(2026, 11, 22, 11, 31, 42, 0, time.UTC)

// watchWindow is an agent window report numbered seq, ending seq-1 windows
// of 10 s after watchEpoch, with the given async-preempt and cgo shares. A
// high async-preempt share comes with the warnings an agent would raise.
func watchWindow(seq uint64, async, cgo float64) *api.WindowReport {
	f := func(v float64) *float64 { return &v }
	i := func(v int64) *int64 { return &v }
	end := watchEpoch.Add(time.Duration(seq-1) * 10 * time.Second)
	sched := 0.0012
	wr := &api.WindowReport{
		Report: analysis.Report{
			Schema:  analysis.Schema,
			Samples: 1534,
			Shares: analysis.Shares{
				AsyncPreempt: async, PreemptSched: 0.005, Cgo: cgo, Go: 1 - async - cgo - 0.005,
			},
			TopPreempted: []analysis.FuncStat{{
				Function: "main.spin", File: "/src/spinner/main.go", Line: 12, Share: async * 0.9,
			}},
		},
		WindowSchema: api.WindowSchema,
		Seq:          seq,
		Start:        end.Add(-10 * time.Second),
		End:          end,
		Source:       "periodic",
		Context: api.Context{
			GoVersion: "go1.26.8", GOMAXPROCS: 8, NumCPU: 16,
			CgroupVersion: "v2", CgroupCPULimit: f(2),
			InvoluntaryCtxSwitchesPerSecond: f(1520),
			CgoCallsPerSecond:               f(0),
			Goroutines:                      i(120), RunnableGoroutines: i(37),
			// Throttling unknown: "n/a".
		},
	}
	if async > 0.5 {
		sched = 0.1007
		wr.Warnings = []api.Warning{
			{Kind: api.WarnAsyncPreempt, Value: async, Threshold: 0.05,
				Causes: []string{"GOMAXPROCS 8 > cgroup limit 2 CPUs", "second cause, not shown"}},
			{Kind: api.WarnSchedLatency, Value: sched, Threshold: 0.01,
				Causes: []string{"37 runnable goroutines on 2 CPUs"}},
		}
	}
	wr.Context.SchedLatency = &api.Latency{Count: 100, P50: sched / 10, P99: sched, P999: sched * 2}
	return wr
}

// watchStep is one answer of the fake agent's report endpoint: a window, or
// a status and body.
type watchStep struct {
	window *api.WindowReport
	status int
	body   string
}

// watchTarget is a fake target. Its report endpoint answers with steps in
// turn, repeating the last one; profile answers /debug/pprof/profile (404
// when nil).
type watchTarget struct {
	*httptest.Server
	profile http.HandlerFunc

	mu      sync.Mutex
	steps   []watchStep
	reports int // report requests so far
}

func newWatchTarget(t *testing.T, profile http.HandlerFunc, steps ...watchStep) *watchTarget {
	t.Helper()
	wt := &watchTarget{profile: profile, steps: steps}
	wt.Server = httptest.NewServer(http.HandlerFunc(wt.serve))
	t.Cleanup(wt.Close)
	return wt
}

func (wt *watchTarget) serve(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case pathReport:
		wt.mu.Lock()
		step := watchStep{status: http.StatusNotFound, body: "404 page not found"}
		if len(wt.steps) > 0 {
			step = wt.steps[min(wt.reports, len(wt.steps)-1)]
		}
		wt.reports++
		wt.mu.Unlock()
		if step.window != nil {
			w.Header().Set("Content-Type", "application/json")
			_ = json.NewEncoder(w).Encode(step.window)
			return
		}
		http.Error(w, step.body, step.status)
	case pathProfile:
		if wt.profile != nil {
			wt.profile(w, r)
			return
		}
		http.NotFound(w, r)
	default:
		http.NotFound(w, r)
	}
}

func (wt *watchTarget) reportRequests() int {
	wt.mu.Lock()
	defer wt.mu.Unlock()
	return wt.reports
}

func (wt *watchTarget) addr() string { return strings.TrimPrefix(wt.URL, "http://") }

// watchProfilerBusy answers a profile request the way the agent does when
// someone else holds the CPU profiler.
func watchProfilerBusy(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Retry-After", "5")
	http.Error(w, "CPU profiler busy: held by another profiler in this process", http.StatusServiceUnavailable)
}

// runWatch runs diagctl in-process and fails the test if it has not ended
// within limit.
func runWatch(t *testing.T, limit time.Duration, args ...string) result {
	t.Helper()
	done := make(chan result, 1)
	go func() {
		var stdout, stderr bytes.Buffer
		code := run(args, strings.NewReader(""), &stdout, &stderr)
		done <- result{code, stdout.String(), stderr.String()}
	}()
	select {
	case res := <-done:
		return res
	case <-time.After(limit):
		t.Fatalf("diagctl %q still running after %v", args, limit)
		return result{}
	}
}

func TestWatchPlain(t *testing.T) {
	t.Parallel()
	wt := newWatchTarget(t, watchProfilerBusy,
		watchStep{window: watchWindow(1, 0.10, 0.02)},
		watchStep{window: watchWindow(1, 0.10, 0.02)}, // unchanged: no line
		watchStep{window: watchWindow(2, 0.455, 0)},
		// No window: a fresh profile is asked for, and the profiler is busy.
		watchStep{status: http.StatusServiceUnavailable, body: "no window analyzed yet"},
		watchStep{window: watchWindow(3, 0.897, 0)},
		watchStep{window: watchWindow(4, 0.5, 0)}, // never read: --count 4
	)
	host := wt.addr()
	res := runWatch(t, 10*time.Second, "watch", "--count", "4", "--interval", "10ms", host)
	if res.code != exitOK || res.stderr != "" {
		t.Fatalf("exit %d, want 0\nstdout:\n%s\nstderr:\n%s", res.code, res.stdout, res.stderr)
	}
	lines := strings.Split(strings.TrimSuffix(res.stdout, "\n"), "\n")
	want := []string{
		"2026-11-22T11:31:42Z " + host + " window=1 async_preempt=10.00% preempt_sched=0.50% cgo=2.00% external=0.00% go=87.50% sched_p99=1.2ms warnings=none top=main.spin",
		"2026-11-22T11:31:52Z " + host + " window=2 async_preempt=45.50% preempt_sched=0.50% cgo=0.00% external=0.00% go=54.00% sched_p99=1.2ms warnings=none top=main.spin",
		`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ ` + regexp.QuoteMeta(host) + ` error=busy exit=6 msg="http://` + regexp.QuoteMeta(host) + `/debug/pprof/profile: the target's CPU profiler is busy .*retry later"$`,
		"2026-11-22T11:32:02Z " + host + " window=3 async_preempt=89.70% preempt_sched=0.50% cgo=0.00% external=0.00% go=9.80% sched_p99=100.7ms warnings=async_preempt_share,sched_latency_p99 top=main.spin",
	}
	if len(lines) != len(want) {
		t.Fatalf("got %d lines, want %d:\n%s", len(lines), len(want), res.stdout)
	}
	for i, w := range want {
		if strings.HasPrefix(w, "^") {
			if !regexp.MustCompile(w).MatchString(lines[i]) {
				t.Errorf("line %d:\n got %s\nwant %s", i+1, lines[i], w)
			}
		} else if lines[i] != w {
			t.Errorf("line %d:\n got %s\nwant %s", i+1, lines[i], w)
		}
	}
	if n := wt.reportRequests(); n != 5 {
		t.Errorf("the report was read %d times, want 5 (4 updates and one unchanged window)", n)
	}
}

func TestWatchPlainFreshProfiles(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	if err := testProfile().Write(&buf); err != nil {
		t.Fatal(err)
	}
	profile := func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("seconds") != "1" {
			http.Error(w, "want seconds=1, got "+r.URL.RawQuery, http.StatusBadRequest)
			return
		}
		_, _ = w.Write(buf.Bytes())
	}
	line := regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ \S+ profile=(\d) async_preempt=30.00% preempt_sched=0.00% cgo=20.00% external=0.00% go=50.00% sched_p99=n/a warnings=n/a top=main.spin$`)
	for _, tt := range []struct {
		name    string
		steps   []watchStep // none: a plain net/http/pprof server
		args    []string
		reports int
	}{
		{"pprof server", nil, nil, 2},
		{"agent with --fresh", []watchStep{{window: watchWindow(1, 0.1, 0)}}, []string{"--fresh"}, 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			wt := newWatchTarget(t, profile, tt.steps...)
			args := append([]string{"watch", "--count", "2", "--interval", "10ms", "--seconds", "1"}, tt.args...)
			res := runWatch(t, 10*time.Second, append(args, wt.URL)...)
			if res.code != exitOK || res.stderr != "" {
				t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", res.code, res.stdout, res.stderr)
			}
			lines := strings.Split(strings.TrimSuffix(res.stdout, "\n"), "\n")
			if len(lines) != 2 {
				t.Fatalf("want 2 lines:\n%s", res.stdout)
			}
			for i, l := range lines {
				m := line.FindStringSubmatch(l)
				if m == nil || m[1] != strconv.Itoa(i+1) {
					t.Errorf("line %d does not match %v:\n%s", i+1, line, l)
				}
			}
			if n := wt.reportRequests(); n != tt.reports {
				t.Errorf("the report was read %d times, want %d", n, tt.reports)
			}
		})
	}
}

func TestWatchErrors(t *testing.T) {
	t.Parallel()
	status := func(code int, body string) http.HandlerFunc {
		return func(w http.ResponseWriter, _ *http.Request) { http.Error(w, body, code) }
	}
	unauthorized := httptest.NewServer(status(http.StatusUnauthorized, "missing or wrong bearer token"))
	t.Cleanup(unauthorized.Close)
	forbidden := httptest.NewServer(status(http.StatusForbidden, "no"))
	t.Cleanup(forbidden.Close)
	notFound := httptest.NewServer(http.NotFoundHandler())
	t.Cleanup(notFound.Close)
	busy := newWatchTarget(t, watchProfilerBusy)
	dead := deadAddr(t)
	errLine := func(class string, code int, host string) *regexp.Regexp {
		return regexp.MustCompile(fmt.Sprintf(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ %s error=%s exit=%d msg=".+"$`,
			regexp.QuoteMeta(host), class, code))
	}

	tests := []struct {
		name   string
		args   []string
		code   int
		stderr string
		// lines are the lines stdout must have, in order.
		lines []*regexp.Regexp
	}{
		// Fatal errors end the watch at once, whatever --interval says.
		{"401", []string{"--interval", "1h", unauthorized.URL}, exitAuth, "401 Unauthorized: not authorized", nil},
		{"403", []string{"--interval", "1h", forbidden.URL}, exitAuth, "403 Forbidden: not authorized", nil},
		{"404", []string{"--interval", "1h", notFound.URL}, exitError, "404: no pprof endpoint there", nil},
		// Transient ones are retried; with --count the last one decides.
		{"refused", []string{"--count", "2", "--interval", "10ms", dead}, exitUnreachable, "connection refused",
			[]*regexp.Regexp{errLine("unreachable", 4, dead), errLine("unreachable", 4, dead)}},
		{"busy", []string{"--count", "1", busy.addr()}, exitBusy, "profiler is busy",
			[]*regexp.Regexp{errLine("busy", 6, busy.addr())}},

		{"no target", nil, exitUsage, "watch takes one target", nil},
		{"two targets", []string{dead, dead}, exitUsage, "got 2 arguments", nil},
		{"file", []string{"testdata/cpu.pb.gz"}, exitUsage, "preempt-share reads profile files", nil},
		{"zero interval", []string{"--interval", "0s", dead}, exitUsage, "--interval", nil},
		{"bad interval", []string{"--interval", "2", dead}, exitUsage, "missing unit", nil},
		{"negative count", []string{"--count", "-1", dead}, exitUsage, "--count", nil},
		{"bad seconds", []string{"--seconds", "0", dead}, exitUsage, "--seconds", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			args := append([]string{"watch"}, tt.args...)
			start := time.Now()
			res := runWatch(t, 10*time.Second, args...)
			if res.code != tt.code {
				t.Fatalf("diagctl %q: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", args, res.code, tt.code, res.stdout, res.stderr)
			}
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("diagctl %q took %v", args, d)
			}
			if !strings.HasPrefix(res.stderr, "diagctl: ") || !strings.Contains(res.stderr, tt.stderr) {
				t.Errorf("diagctl %q: stderr does not contain %q:\n%s", args, tt.stderr, res.stderr)
			}
			var lines []string
			if res.stdout != "" {
				lines = strings.Split(strings.TrimSuffix(res.stdout, "\n"), "\n")
			}
			if len(lines) != len(tt.lines) {
				t.Fatalf("diagctl %q: %d lines on stdout, want %d:\n%s", args, len(lines), len(tt.lines), res.stdout)
			}
			for i, re := range tt.lines {
				if !re.MatchString(lines[i]) {
					t.Errorf("line %d does not match %v:\n%s", i+1, re, lines[i])
				}
			}
		})
	}
}

// TestWatchScreenFits lays frames out for small terminals: no line wider
// than the terminal, no more lines than it has.
func TestWatchScreenFits(t *testing.T) {
	t.Parallel()
	st := &watchState{target: "very-long-host-name.internal.example.com:6060", interval: 2 * time.Second, count: 10}
	now := watchEpoch.Add(time.Minute)
	for i := range 100 {
		w := watchWindow(uint64(i+1), float64(i%10)/10, float64(i%7)/20)
		w.TopPreempted[0].Function = "github.com/example/internal/checksums/fletcher.(*Accumulator).updateWithVeryLongName"
		w.Warnings = append(w.Warnings, api.Warning{Kind: api.WarnCgoCallRate, Value: 123456, Threshold: 10000,
			Causes: []string{strings.Repeat("a very long cause ", 10)}})
		st.apply(&liveResult{source: "agent", report: &w.Report, window: w}, nil, now)
	}
	st.err = &codedError{exitUnreachable, errors.New(strings.Repeat("timeout ", 30))}
	st.errAt = now
	for _, size := range [][2]int{{79, 23}, {99, 29}, {59, 40}, {30, 10}} {
		lines := watchScreen(st, size[0], size[1], now)
		if len(lines) > size[1] {
			t.Errorf("%dx%d: %d lines", size[0], size[1], len(lines))
		}
		for i, l := range lines {
			if n := utf8.RuneCountInString(l); n > size[0] {
				t.Errorf("%dx%d: line %d is %d columns: %q", size[0], size[1], i+1, n, l)
			}
		}
		screen := strings.Join(lines, "\n")
		if size[1] >= 23 {
			for _, want := range []string{"async_preempt", "max 90.00%", "GOMAXPROCS", "Throttled", "n/a", "Top interrupted", "! 11:32:42 unreachable, retrying every 2s: timeout"} {
				if !strings.Contains(screen, want) {
					t.Errorf("%dx%d: no %q in\n%s", size[0], size[1], want, screen)
				}
			}
		}
	}
}

func TestSparkline(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		in   []float64
		want string
	}{
		{[]float64{0, 0.5, 1}, "▁▅█"},
		{[]float64{0.10, 0.455, 0.897}, "▂▅█"},
		{[]float64{0, 0.001, 0.002}, "▁▂▂"}, // scaled to 1%: noise stays low
		{[]float64{0, 0, 0}, "▁▁▁"},
	} {
		if got := sparkline(tt.in); got != tt.want {
			t.Errorf("sparkline(%v) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// watchChildEnv, when set, makes the test binary run diagctl with the
// arguments it holds (JSON) instead of the tests: TestWatchTerminal runs it
// so on a pseudo-terminal.
const watchChildEnv = "DIAGCTL_WATCH_TEST_ARGS"

// TestWatchTerminal runs diagctl watch on a real pseudo-terminal of 100x30
// and reads the screen it draws.
func TestWatchTerminal(t *testing.T) {
	if args := os.Getenv(watchChildEnv); args != "" {
		var a []string
		if err := json.Unmarshal([]byte(args), &a); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(100)
		}
		os.Exit(run(a, os.Stdin, os.Stdout, os.Stderr))
	}
	t.Parallel()
	if runtime.GOOS == "windows" {
		t.Skip("no pseudo-terminals on Windows")
	}
	if f, err := os.OpenFile("/dev/ptmx", os.O_RDWR, 0); err != nil {
		t.Skipf("pseudo-terminals unavailable: %v", err)
	} else {
		f.Close()
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	steps := []watchStep{
		{window: watchWindow(1, 0.10, 0.02)},
		{window: watchWindow(2, 0.455, 0.01)},
		{window: watchWindow(3, 0.897, 0)},
	}

	t.Run("count", func(t *testing.T) {
		t.Parallel()
		wt := newWatchTarget(t, nil, steps...)
		c := startOnPTY(t, exe, "watch", "--count", "3", "--interval", "200ms", wt.addr())
		if err := c.wait(10 * time.Second); err != nil {
			t.Fatalf("diagctl watch: %v\noutput:\n%q", err, c.output())
		}
		out := c.output()
		scr := newVTScreen(30, 100)
		scr.feed(out)
		screen := scr.String()
		t.Logf("final screen:\n%s", screen)

		checkTerminalOutput(t, out, scr)
		// Every window was drawn: its share went through the screen.
		for _, share := range []string{"10.00%", "45.50%", "89.70%"} {
			if !strings.Contains(out, "async_preempt  "+watchPad(share, 7)) {
				t.Errorf("async_preempt %s was never drawn", share)
			}
		}
		if n := strings.Count(out, ansiHome); n < 4 {
			t.Errorf("%d frames drawn, want at least 4 (waiting, then 3 windows)", n)
		}
		// The last frame: header, window, history, context, warnings.
		for _, want := range []string{
			"diagctl watch " + wt.addr(),
			"agent window #3  11:31:52-11:32:02 UTC  1534 samples",
			"update 3 of 3",
			"async_preempt   89.70%  ▂▅█  max 89.70%",
			"cgo              0.00%  █▅▁  max 2.00%",
			"GOMAXPROCS  8 (NumCPU 16)",
			"Sched latency p99    100.7ms",
			"Throttled   n/a",
			"Goroutines  37 runnable of 120",
			"Top interrupted  main.spin  spinner/main.go:12  80.73%",
			"async_preempt_share 89.70% above 5.00%: GOMAXPROCS 8 > cgroup limit 2 CPUs",
			"sched_latency_p99 100.7ms above 10.0ms: 37 runnable goroutines on 2 CPUs",
		} {
			if !strings.Contains(screen, want) {
				t.Errorf("final screen does not show %q", want)
			}
		}
		if strings.Contains(screen, "second cause") {
			t.Errorf("final screen shows a warning's second cause")
		}
		// The clock sits at the right edge, one column short of it: the
		// view took the terminal's width.
		if first := scr.line(0); utf8.RuneCountInString(first) != 99 || !strings.HasSuffix(first, " UTC") {
			t.Errorf("header %q is not 99 columns wide ending with the clock", first)
		}
	})

	t.Run("ctrl-c", func(t *testing.T) {
		t.Parallel()
		wt := newWatchTarget(t, nil, steps...)
		c := startOnPTY(t, exe, "watch", "--interval", "200ms", wt.addr())
		if !c.waitFor("agent window #2", 10*time.Second) {
			t.Fatalf("window #2 never drawn; output:\n%q", c.output())
		}
		if _, err := c.pty.Write([]byte{3}); err != nil { // ^C: SIGINT from the terminal
			t.Fatal(err)
		}
		if err := c.wait(10 * time.Second); err != nil {
			t.Fatalf("diagctl watch after ^C: %v (want exit 0)\noutput:\n%q", err, c.output())
		}
		out := c.output()
		scr := newVTScreen(30, 100)
		scr.feed(out)
		t.Logf("final screen:\n%s", scr)
		checkTerminalOutput(t, out, scr)
		if !strings.Contains(scr.String(), "diagctl watch "+wt.addr()) {
			t.Errorf("the last frame is not on the screen after ^C")
		}
	})
}

// checkTerminalOutput checks what every run on a terminal must do: hide the
// cursor, clear the screen once, draw frames from the top left, never make
// the terminal wrap a line, show the cursor again at the end.
func checkTerminalOutput(t *testing.T, out string, scr *vtScreen) {
	t.Helper()
	if !strings.HasPrefix(out, ansiHideCursor+ansiHome+ansiClear) {
		t.Errorf("output does not start by hiding the cursor and clearing the screen: %q", out[:min(len(out), 40)])
	}
	if !strings.Contains(out, ansiEraseLine) || !strings.Contains(out, ansiEraseBelow) {
		t.Errorf("frames do not erase what the previous one left")
	}
	if !scr.cursorVisible {
		t.Errorf("cursor still hidden at exit")
	}
	if len(scr.unknown) > 0 {
		t.Errorf("unexpected control sequences: %q", scr.unknown)
	}
	if scr.wraps > 0 {
		t.Errorf("%d lines reached the right edge and wrapped", scr.wraps)
	}
}

func watchPad(s string, n int) string { return strings.Repeat(" ", max(0, n-len(s))) + s }

// ptyChild is diagctl running on a pseudo-terminal.
type ptyChild struct {
	cmd      *exec.Cmd
	pty      *os.File
	exited   chan error
	readDone chan struct{}

	mu  sync.Mutex
	out bytes.Buffer
}

// startOnPTY runs the test binary as diagctl with args on a new 100x30
// pseudo-terminal. The child is killed and the terminal closed when the
// test ends.
func startOnPTY(t *testing.T, exe string, args ...string) *ptyChild {
	t.Helper()
	enc, err := json.Marshal(args)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, "-test.run=^TestWatchTerminal$", "-test.timeout=60s")
	cmd.Env = append(os.Environ(), watchChildEnv+"="+string(enc), "TERM=xterm", tokenEnv+"=")
	f, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 30, Cols: 100})
	if err != nil {
		t.Fatalf("starting diagctl on a pseudo-terminal: %v", err)
	}
	c := &ptyChild{cmd: cmd, pty: f, exited: make(chan error, 1), readDone: make(chan struct{})}
	go func() {
		defer close(c.readDone)
		buf := make([]byte, 4096)
		for {
			n, err := f.Read(buf)
			c.mu.Lock()
			c.out.Write(buf[:n])
			c.mu.Unlock()
			if err != nil {
				return // EIO once the child is gone, or the pty closed
			}
		}
	}()
	go func() { c.exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		f.Close()
		<-c.readDone
	})
	return c
}

// wait waits for the child to exit, at most limit, then for its last output.
func (c *ptyChild) wait(limit time.Duration) error {
	select {
	case err := <-c.exited:
		select {
		case <-c.readDone:
		case <-time.After(2 * time.Second):
		}
		return err
	case <-time.After(limit):
		_ = c.cmd.Process.Kill()
		return fmt.Errorf("still running after %v: killed", limit)
	}
}

// waitFor waits until the output contains s, at most limit.
func (c *ptyChild) waitFor(s string, limit time.Duration) bool {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		if strings.Contains(c.output(), s) {
			return true
		}
		time.Sleep(20 * time.Millisecond)
	}
	return false
}

func (c *ptyChild) output() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.out.String()
}

// vtScreen is a minimal terminal emulator: enough of VT100 to replay what
// the terminal view writes and see the screen it leaves. It records any
// control sequence it does not know.
type vtScreen struct {
	rows, cols    int
	cells         [][]rune
	row, col      int
	cursorVisible bool
	wraps         int      // lines that reached the right edge and wrapped
	unknown       []string // control sequences not understood
}

func newVTScreen(rows, cols int) *vtScreen {
	s := &vtScreen{rows: rows, cols: cols, cursorVisible: true}
	s.cells = make([][]rune, rows)
	for i := range s.cells {
		s.cells[i] = s.blank()
	}
	return s
}

func (s *vtScreen) blank() []rune {
	return []rune(strings.Repeat(" ", s.cols))
}

func (s *vtScreen) feed(out string) {
	rs := []rune(out)
	for i := 0; i < len(rs); i++ {
		switch r := rs[i]; {
		case r == '\x1b':
			if i+1 >= len(rs) || rs[i+1] != '[' {
				s.unknown = append(s.unknown, "ESC")
				continue
			}
			j := i + 2
			for j < len(rs) && (rs[j] >= '0' && rs[j] <= '9' || rs[j] == ';' || rs[j] == '?') {
				j++
			}
			if j == len(rs) {
				s.unknown = append(s.unknown, string(rs[i:]))
				return
			}
			s.csi(string(rs[i+2:j]), rs[j])
			i = j
		case r == '\r':
			s.col = 0
		case r == '\n':
			s.lineFeed()
		case r < ' ' || r == 0x7f:
			s.unknown = append(s.unknown, fmt.Sprintf("%q", r))
		default:
			if s.col == s.cols {
				s.wraps++
				s.col = 0
				s.lineFeed()
			}
			s.cells[s.row][s.col] = r
			s.col++
		}
	}
}

func (s *vtScreen) lineFeed() {
	if s.row == s.rows-1 {
		s.cells = append(s.cells[1:], s.blank())
		return
	}
	s.row++
}

func (s *vtScreen) csi(params string, final rune) {
	switch {
	case final == 'H' && params == "":
		s.row, s.col = 0, 0
	case final == 'J' && params == "2":
		for i := range s.cells {
			s.cells[i] = s.blank()
		}
	case final == 'J' && (params == "" || params == "0"):
		s.eraseLine()
		for i := s.row + 1; i < s.rows; i++ {
			s.cells[i] = s.blank()
		}
	case final == 'K' && (params == "" || params == "0"):
		s.eraseLine()
	case params == "?25" && final == 'l':
		s.cursorVisible = false
	case params == "?25" && final == 'h':
		s.cursorVisible = true
	default:
		s.unknown = append(s.unknown, "ESC["+params+string(final))
	}
}

func (s *vtScreen) eraseLine() {
	for c := min(s.col, s.cols); c < s.cols; c++ {
		s.cells[s.row][c] = ' '
	}
}

func (s *vtScreen) line(i int) string { return strings.TrimRight(string(s.cells[i]), " ") }

func (s *vtScreen) String() string {
	lines := make([]string, s.rows)
	for i := range lines {
		lines[i] = s.line(i)
	}
	return strings.TrimRight(strings.Join(lines, "\n"), "\n") + "\n"
}

func TestWatchShortError(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		target string
		err    error
		want   string
	}{
		{"127.0.0.1:6060", transportError("127.0.0.1:6060", time.Second, errors.New("boom")), "boom"},
		{"http://h:8080/diagkit", transportError("h:8080", time.Second, errors.New("boom")), "boom"},
		{"h", errors.New("http://h:6060/debug/pprof/profile: the target's CPU profiler is busy"), "the target's CPU profiler is busy"},
		{"h", errors.New("something else: entirely"), "something else: entirely"},
	} {
		if got := watchShortError(tt.err, tt.target); got != tt.want {
			t.Errorf("watchShortError(%q, %q) = %q, want %q", tt.err, tt.target, got, tt.want)
		}
	}
}

// TestWatchJSON checks -o json: one diagkit.window/v1 document per line for
// each new window, none for an unchanged one or a failed attempt, which is
// one "diagctl: " line on standard error.
func TestWatchJSON(t *testing.T) {
	t.Parallel()
	wt := newWatchTarget(t, watchProfilerBusy,
		watchStep{window: watchWindow(1, 0.10, 0.02)},
		watchStep{window: watchWindow(1, 0.10, 0.02)}, // unchanged: no document
		watchStep{status: http.StatusServiceUnavailable, body: "no window analyzed yet"},
		watchStep{window: watchWindow(2, 0.897, 0)},
	)
	res := runWatch(t, 10*time.Second, "watch", "-o", "json", "--count", "3", "--interval", "10ms", wt.addr())
	if res.code != exitOK {
		t.Fatalf("exit %d, want 0\nstdout:\n%s\nstderr:\n%s", res.code, res.stdout, res.stderr)
	}
	lines := strings.Split(strings.TrimSuffix(res.stdout, "\n"), "\n")
	if len(lines) != 2 {
		t.Fatalf("%d lines, want 2 documents:\n%s", len(lines), res.stdout)
	}
	for i, line := range lines {
		var w api.WindowReport
		if err := json.Unmarshal([]byte(line), &w); err != nil {
			t.Fatalf("line %d: %v:\n%s", i+1, err, line)
		}
		if w.WindowSchema != api.WindowSchema || w.Seq != uint64(i+1) {
			t.Errorf("line %d: schema %q, seq %d", i+1, w.WindowSchema, w.Seq)
		}
	}
	if !strings.HasPrefix(res.stderr, "diagctl: ") || strings.Count(res.stderr, "\n") != 1 ||
		!strings.Contains(res.stderr, "busy") || !strings.Contains(res.stderr, "exit 6") {
		t.Errorf("stderr: want the busy attempt on one line:\n%s", res.stderr)
	}
	if res := runDiagctl(t, nil, "watch", "-o", "yaml", wt.addr()); res.code != exitUsage || !strings.Contains(res.stderr, "want text or json") {
		t.Errorf("watch -o yaml: exit %d\n%s", res.code, res.stderr)
	}
}
