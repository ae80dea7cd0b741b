package main

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"runtime"
	"runtime/pprof"
	"runtime/trace"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/diagkit/diagkit/internal/testenv"
	"github.com/diagkit/diagkit/internal/tracesum"
)

// traceFixture is the trace internal/tracesum's tests keep: 1 s of Debian's
// prometheus (go1.19, an old-format trace) answering queries, gzipped.
const traceFixture = "../../internal/tracesum/testdata/prometheus-go1.19.trace.gz"

// rawTrace returns the fixture's trace, decompressed.
func rawTrace(t testing.TB) []byte {
	t.Helper()
	f, err := os.Open(traceFixture)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	data, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestTraceExitCodes(t *testing.T) {
	t.Parallel()
	f := makeTestFiles(t)
	raw := rawTrace(t)
	rawFile := writeFile(t, "trace.out", raw)
	truncated := writeFile(t, "truncated.trace", raw[:len(raw)/2])
	tooOld := writeFile(t, "go15.trace", []byte("go 1.5 trace\x00\x00\x00\x00\x01\x02"))
	tests := []struct {
		name    string
		args    []string
		code    int
		stderr  []string
		wantOut bool
	}{
		{"gzipped file", []string{"trace", traceFixture}, exitOK, nil, true},
		{"raw file json", []string{"trace", "-o", "json", rawFile}, exitOK, nil, true},
		{"table is text", []string{"trace", "-o", "table", "--top", "2", rawFile}, exitOK, nil, true},
		{"no lists", []string{"trace", "--top", "0", rawFile}, exitOK, nil, true},
		{"help", []string{"trace", "--help"}, exitOK, nil, true},

		{"missing file", []string{"trace", f.missing}, exitError, []string{f.missing, "no such file"}, false},
		{"directory", []string{"trace", f.dir}, exitError, []string{f.dir, "is a directory"}, false},
		{"garbage", []string{"trace", f.garbage}, exitError, []string{f.garbage, "not a Go execution trace"}, false},
		{"a CPU profile", []string{"trace", f.cpu}, exitError, []string{f.cpu, "not a Go execution trace", "preempt-share"}, false},
		{"empty file", []string{"trace", f.empty}, exitError, []string{f.empty, "file is empty"}, false},
		{"truncated", []string{"trace", truncated}, exitError, []string{truncated, "truncated or corrupt"}, false},
		{"too old a format", []string{"trace", tooOld}, exitError, []string{tooOld, "unsupported trace version", "go 1.5"}, false},
		{"dead target", []string{"trace", "--seconds", "1", f.deadTarget}, exitUnreachable, []string{f.deadTarget, "connection refused"}, false},

		{"no args", []string{"trace"}, exitUsage, []string{"trace takes one trace FILE"}, false},
		{"two args", []string{"trace", rawFile, rawFile}, exitUsage, []string{"got 2 arguments"}, false},
		{"seconds 0", []string{"trace", "--seconds", "0", rawFile}, exitUsage, []string{"--seconds", "1 to 3600"}, false},
		{"seconds 3601", []string{"trace", "--seconds", "3601", f.deadTarget}, exitUsage, []string{"--seconds"}, false},
		{"bad output", []string{"trace", "-o", "yaml", rawFile}, exitUsage, []string{`invalid argument "yaml"`, "want text or json"}, false},
		{"negative top", []string{"trace", "--top", "-1", rawFile}, exitUsage, []string{"--top"}, false},
		{"bad timeout", []string{"trace", "--timeout", "0s", f.deadTarget}, exitUsage, []string{"--timeout"}, false},
		{"usage beats missing file", []string{"trace", "-o", "yaml", f.missing}, exitUsage, nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			res := runDiagctl(t, nil, tt.args...)
			if res.code != tt.code {
				t.Fatalf("diagctl %q: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", tt.args, res.code, tt.code, res.stdout, res.stderr)
			}
			if got := res.stdout != ""; got != tt.wantOut {
				t.Errorf("diagctl %q: stdout non-empty = %v, want %v:\n%s", tt.args, got, tt.wantOut, res.stdout)
			}
			for _, want := range tt.stderr {
				if !strings.Contains(res.stderr, want) {
					t.Errorf("diagctl %q: stderr does not contain %q:\n%s", tt.args, want, res.stderr)
				}
			}
			switch {
			case res.code == exitOK && res.stderr != "":
				t.Errorf("diagctl %q: exit 0 with stderr:\n%s", tt.args, res.stderr)
			case res.code == exitUsage:
				if !strings.Contains(lastLine(res.stderr), "--help' for usage") {
					t.Errorf("diagctl %q: usage error without a pointer to --help:\n%s", tt.args, res.stderr)
				}
			case res.code != exitOK:
				if strings.Count(res.stderr, "\n") != 1 || !strings.HasPrefix(res.stderr, "diagctl: ") {
					t.Errorf("diagctl %q: want one \"diagctl: \" line on stderr:\n%s", tt.args, res.stderr)
				}
			}
		})
	}
}

// TestTraceFile checks the text report of the fixture against its golden
// file, and that the JSON output is the library's summary of the same trace,
// from the file, gzipped or not, and from standard input.
func TestTraceFile(t *testing.T) {
	t.Parallel()
	raw := rawTrace(t)
	res := runDiagctl(t, nil, "trace", traceFixture)
	if res.code != exitOK {
		t.Fatalf("exit %d: %s", res.code, res.stderr)
	}
	checkGolden(t, "trace-prometheus.golden", res.stdout)
	for _, want := range []string{"Go          go1.19 (trace format go 1.19, written by go1.19–go1.20)", "Preemptions: ",
		"P balance", "Longest uninterrupted runs", "System calls: ", "Cgo calls: 0", "Runnable wait", "Interpretation: "} {
		if !strings.Contains(res.stdout, want) {
			t.Errorf("report has no %q", want)
		}
	}
	for _, line := range strings.Split(res.stdout, "\n") {
		if n := len([]rune(line)); n > lineWidth {
			t.Errorf("line of %d runes, more than %d: %q", n, lineWidth, line)
		}
	}

	want, err := tracesum.Summarize(bytes.NewReader(raw), tracesum.Options{Top: 3})
	if err != nil {
		t.Fatal(err)
	}
	var wantJSON bytes.Buffer
	if err := writeJSON(&wantJSON, want); err != nil {
		t.Fatal(err)
	}
	gz, err := os.ReadFile(traceFixture)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name  string
		stdin []byte
		arg   string
	}{
		{"gzipped file", nil, traceFixture},
		{"raw file", nil, writeFile(t, "trace.out", raw)},
		{"raw stdin", raw, "-"},
		{"gzipped stdin", gz, "-"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			res := runDiagctl(t, bytes.NewReader(tt.stdin), "trace", "-o", "json", "--top", "3", tt.arg)
			if res.code != exitOK || res.stderr != "" {
				t.Fatalf("exit %d: %s", res.code, res.stderr)
			}
			if res.stdout != wantJSON.String() {
				t.Errorf("JSON differs from tracesum.Summarize's:\n%s", res.stdout)
			}
			var s tracesum.Summary
			if err := json.Unmarshal([]byte(res.stdout), &s); err != nil || s.Schema != tracesum.Schema || s.GoVersion != "go1.19" {
				t.Errorf("JSON: schema %q, go_version %q, %v", s.Schema, s.GoVersion, err)
			}
		})
	}
	t.Run("stdin errors", func(t *testing.T) {
		for stdin, msg := range map[string]string{"": "diagctl: stdin: file is empty\n", "garbage": "diagctl: stdin: not a Go execution trace"} {
			res := runDiagctl(t, strings.NewReader(stdin), "trace", "-")
			if res.code != exitError || !strings.HasPrefix(res.stderr, msg) {
				t.Errorf("stdin %q: exit %d, stderr %q; want 1, %q", stdin, res.code, res.stderr, msg)
			}
		}
	})
}

// TestTraceSizeBound: a trace over the bound fails, however it comes
// (counted after decompression); one at the bound passes.
func TestTraceSizeBound(t *testing.T) {
	t.Parallel()
	raw := rawTrace(t)
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(raw)
	zw.Close()
	limit := int64(len(raw))
	if _, err := summarizeTrace(bytes.NewReader(raw), limit, tracesum.Options{}); err != nil {
		t.Errorf("a trace of exactly the bound: %v", err)
	}
	for name, in := range map[string][]byte{"raw": raw, "gzipped": gz.Bytes()} {
		_, err := summarizeTrace(bytes.NewReader(in), limit-1, tracesum.Options{})
		var tooLarge *errTraceTooLarge
		if !errors.As(err, &tooLarge) {
			t.Errorf("%s: a trace one byte over the bound: %v, want too large", name, err)
		}
	}
}

// traceServer is a fake target serving /debug/pprof/trace under prefix with
// handler, recording the requests.
type traceServer struct {
	*httptest.Server
	mu       sync.Mutex
	requests []*http.Request
}

func newTraceServer(t *testing.T, prefix string, handler http.HandlerFunc) *traceServer {
	t.Helper()
	ts := &traceServer{}
	mux := http.NewServeMux()
	mux.HandleFunc(prefix+pathTrace, func(w http.ResponseWriter, r *http.Request) {
		ts.mu.Lock()
		ts.requests = append(ts.requests, r.Clone(r.Context()))
		ts.mu.Unlock()
		handler(w, r)
	})
	ts.Server = httptest.NewServer(mux) // 127.0.0.1
	t.Cleanup(ts.Close)
	return ts
}

func (ts *traceServer) addr() string { return strings.TrimPrefix(ts.URL, "http://") }

func (ts *traceServer) lastRequest(t *testing.T) *http.Request {
	t.Helper()
	ts.mu.Lock()
	defer ts.mu.Unlock()
	if len(ts.requests) == 0 {
		t.Fatal("no request reached the server")
	}
	return ts.requests[len(ts.requests)-1]
}

// TestTraceLive fetches a trace from a fake pprof server on loopback: the
// request asks for --seconds, carries the token, and the summary is the
// trace's.
func TestTraceLive(t *testing.T) {
	t.Parallel()
	raw := rawTrace(t)
	srv := newTraceServer(t, "/diag", respond(http.StatusOK, "application/octet-stream", raw))
	target := srv.URL + "/diag/"

	res := runDiagctl(t, nil, "trace", "--seconds", "2", "--token", "s3cret", "-o", "json", target)
	if res.code != exitOK || res.stderr != "" {
		t.Fatalf("exit %d: %s", res.code, res.stderr)
	}
	req := srv.lastRequest(t)
	if req.URL.Path != "/diag"+pathTrace || req.URL.Query().Get("seconds") != "2" {
		t.Errorf("request %s, want /diag%s?seconds=2", req.URL, pathTrace)
	}
	if got := req.Header.Get("Authorization"); got != "Bearer s3cret" {
		t.Errorf("Authorization %q", got)
	}
	var s tracesum.Summary
	if err := json.Unmarshal([]byte(res.stdout), &s); err != nil {
		t.Fatal(err)
	}
	if s.GoVersion != "go1.19" || s.Events != 10907 || s.Procs != 2 {
		t.Errorf("summary: %s, %d events, %d Ps; want the fixture's go1.19, 10907, 2", s.GoVersion, s.Events, s.Procs)
	}

	res = runDiagctl(t, nil, "trace", "--seconds", "1", target)
	if res.code != exitOK {
		t.Fatalf("exit %d: %s", res.code, res.stderr)
	}
	if first := strings.SplitN(res.stdout, "\n", 2)[0]; first != "Trace       "+target+" (1 s trace)" {
		t.Errorf("first line %q: want the target and the trace's length", first)
	}
}

// TestTraceEvidence reads the trace an agent kept with its last warning.
func TestTraceEvidence(t *testing.T) {
	t.Parallel()
	raw := rawTrace(t)
	var got []string
	var mu sync.Mutex
	mux := http.NewServeMux()
	mux.HandleFunc(pathEvidenceTrace, func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got = append(got, r.URL.String())
		mu.Unlock()
		w.Write(raw)
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	res := runDiagctl(t, nil, "trace", "--evidence", "-o", "json", srv.URL)
	if res.code != exitOK {
		t.Fatalf("exit %d: %s", res.code, res.stderr)
	}
	var s tracesum.Summary
	if err := json.Unmarshal([]byte(res.stdout), &s); err != nil || s.Events != 10907 {
		t.Fatalf("summary %+v, %v: want the fixture's", s, err)
	}
	if len(got) != 1 || got[0] != pathEvidenceTrace {
		t.Errorf("requests %q, want one GET %s without ?seconds", got, pathEvidenceTrace)
	}
	// An agent without evidence yet says 404: say what that means.
	empty := httptest.NewServer(http.NotFoundHandler())
	defer empty.Close()
	res = runDiagctl(t, nil, "trace", "--evidence", empty.URL)
	if res.code != exitError || !strings.Contains(res.stderr, "takes one when it raises a scheduling-latency or async-preemption warning") {
		t.Errorf("404: exit %d: %s", res.code, res.stderr)
	}
	if res := runDiagctl(t, nil, "trace", "--evidence", traceFixture); res.code != exitUsage {
		t.Errorf("--evidence with a file: exit %d, want usage: %s", res.code, res.stderr)
	}
}

func TestTraceLiveErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		handler http.HandlerFunc
		code    int
		stderr  []string
	}{
		{"net/http/pprof busy", respond(http.StatusInternalServerError, "text/plain",
			[]byte("Could not enable tracing: tracing is already enabled\n")), exitBusy, []string{"tracer is busy", "retry later"}},
		{"agent busy", respond(http.StatusServiceUnavailable, "text/plain",
			[]byte("Could not enable tracing: tracing is already enabled. Another execution trace is running in this process; try again later.\n")),
			exitBusy, []string{"tracer is busy"}},
		{"unauthorized", respond(http.StatusUnauthorized, "text/plain", []byte("unauthorized\n")), exitAuth, []string{"401", "--token"}},
		{"seconds too long", respond(http.StatusBadRequest, "text/plain",
			[]byte(`invalid value for "seconds" - must be at most 60`)), exitError, []string{"400", "at most 60"}},
		{"html", respond(http.StatusOK, "text/html; charset=utf-8", []byte("<html>login</html>")), exitError, []string{"HTML page"}},
		{"not a trace", respond(http.StatusOK, "application/octet-stream", []byte("hello")), exitError, []string{"not a Go execution trace"}},
		{"empty", respond(http.StatusOK, "application/octet-stream", nil), exitError, []string{"answered with nothing"}},
		{"truncated", respond(http.StatusOK, "application/octet-stream", rawTrace(t)[:20000]), exitError, []string{"truncated or corrupt"}},
		{"proxy down", respond(http.StatusBadGateway, "text/plain", []byte("bad gateway")), exitUnreachable, []string{"502"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := newTraceServer(t, "", tt.handler)
			res := runDiagctl(t, nil, "trace", "--seconds", "1", srv.addr())
			if res.code != tt.code || res.stdout != "" {
				t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", res.code, tt.code, res.stdout, res.stderr)
			}
			for _, want := range append(tt.stderr, srv.addr()) {
				if !strings.Contains(res.stderr, want) {
					t.Errorf("stderr does not contain %q:\n%s", want, res.stderr)
				}
			}
		})
	}
	t.Run("not found", func(t *testing.T) {
		t.Parallel()
		srv := httptest.NewServer(http.NotFoundHandler())
		defer srv.Close()
		res := runDiagctl(t, nil, "trace", "--seconds", "1", srv.URL)
		if res.code != exitError || !strings.Contains(res.stderr, "404") || !strings.Contains(res.stderr, "no trace endpoint") {
			t.Errorf("exit %d: %s", res.code, res.stderr)
		}
	})
	t.Run("no answer in time", func(t *testing.T) {
		t.Parallel()
		release := make(chan struct{})
		srv := newTraceServer(t, "", func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-release:
			case <-r.Context().Done():
			case <-time.After(10 * time.Second):
			}
		})
		defer close(release)
		start := time.Now()
		res := runDiagctl(t, nil, "trace", "--seconds", "1", "--timeout", "300ms", srv.addr())
		if res.code != exitUnreachable || !strings.Contains(res.stderr, "timeout") {
			t.Errorf("exit %d: %s", res.code, res.stderr)
		}
		if took := time.Since(start); took < time.Second || took > 5*time.Second {
			t.Errorf("gave up after %v, want --seconds 1 + --timeout 300ms", took)
		}
	})
}

// TestTracePrometheus traces Debian's prometheus (see TestPrometheus), a Go
// server nobody on this team wrote, built with go1.19: the report must say
// the Go version prometheus --version says, to the trace format.
func TestTracePrometheus(t *testing.T) {
	t.Parallel()
	addr := testenv.Prometheus(t)
	load := startPromLoad(t, addr)

	// internal/tracesum's test may be tracing the same prometheus: one
	// trace at a time per process, so retry while its tracer is busy.
	trace := func(args ...string) result {
		t.Helper()
		for try := 1; ; try++ {
			res := runDiagctl(t, nil, append([]string{"trace", "--seconds", "1"}, args...)...)
			if res.code != exitBusy || try == 20 {
				return res
			}
			time.Sleep(time.Second)
		}
	}
	res := trace("-o", "json", addr)
	if res.code != exitOK || res.stderr != "" {
		t.Fatalf("exit %d (load: %v)\nstderr:\n%s", res.code, load, res.stderr)
	}
	var s tracesum.Summary
	if err := json.Unmarshal([]byte(res.stdout), &s); err != nil {
		t.Fatalf("output is not a summary: %v\n%s", err, res.stdout)
	}
	t.Logf("prometheus %s: %s (format %d), %.3f s, %d Ps, %d goroutines, %d syscalls, %d preemptions, wait p99 %s; load: %v",
		addr, s.GoVersion, s.FormatVersion, s.DurationSeconds, s.Procs, s.Goroutines, s.Syscalls.Count,
		s.Preemptions.Total, tracesum.FormatDuration(s.RunnableWaitP99Seconds), load)
	if s.Schema != tracesum.Schema {
		t.Errorf("schema %q", s.Schema)
	}
	if bin, err := exec.LookPath("prometheus"); err == nil {
		out, err := exec.Command(bin, "--version").CombinedOutput()
		m := regexp.MustCompile(`go version:\s*go1\.(\d+)`).FindSubmatch(out)
		if err != nil || m == nil {
			t.Fatalf("prometheus --version: %v\n%s", err, out)
		}
		minor, _ := strconv.Atoi(string(m[1]))
		// go1.19 and go1.20 write the go1.19 format; the format's version
		// is the report's.
		if !(s.FormatVersion == minor || s.FormatVersion == 19 && minor == 20) || s.GoVersion != fmt.Sprintf("go1.%d", s.FormatVersion) {
			t.Errorf("trace says %s (format %d), prometheus --version says go1.%d", s.GoVersion, s.FormatVersion, minor)
		}
	}
	if s.DurationSeconds < 0.9 || s.DurationSeconds > 2 || s.Goroutines < 10 || s.Syscalls.Count == 0 || s.Cgo.Count != 0 {
		t.Errorf("a 1 s trace of a busy HTTP server: %.3f s, %d goroutines, %d syscalls, %d cgo calls", s.DurationSeconds, s.Goroutines, s.Syscalls.Count, s.Cgo.Count)
	}

	res = trace(addr)
	if res.code != exitOK {
		t.Fatalf("exit %d: %s", res.code, res.stderr)
	}
	for _, want := range []string{"Trace       " + addr + " (1 s trace)", "Go          go1.", "Runnable wait", "Interpretation: "} {
		if !strings.Contains(res.stdout, want) {
			t.Errorf("report has no %q:\n%s", want, res.stdout)
		}
	}
}

// TestTraceRunWhere: a run whose stack does not say where it ended (an async
// preemption's stack ending at runtime.asyncPreempt, or no stack) shows what
// the trace knows of its goroutine, marked as such, and "?" only when it
// knows nothing; the JSON keeps that apart from the location.
func TestTraceRunWhere(t *testing.T) {
	t.Parallel()
	preempted := []tracesum.Frame{{Function: "runtime.asyncPreempt2", File: "/usr/local/go/src/runtime/preempt.go", Line: 320},
		{Function: "runtime.asyncPreempt", File: "/usr/local/go/src/runtime/preempt_amd64.s", Line: 124}}
	s := &tracesum.Summary{
		Schema: tracesum.Schema, GoVersion: "go1.26", FormatVersion: 26, DurationSeconds: 1, Procs: 2, ProcsSource: "gomaxprocs",
		Events: 100, Interpretation: "Nothing.",
		LongestRuns: []tracesum.Run{
			{Goroutine: 7, Seconds: 0.030, Ended: "preempted (async)", Stack: preempted, GoroutineFunction: "main.worker",
				Inferred: &tracesum.InferredWhere{
					Started:  &tracesum.Frame{Function: "main.worker", File: "/src/app/main.go", Line: 30},
					LastSeen: &tracesum.Frame{Function: "main.crunchRows", File: "/src/app/main.go", Line: 49}}},
			{Goroutine: 8, Seconds: 0.029, Ended: "preempted (async)", Stack: preempted,
				Inferred: &tracesum.InferredWhere{LastSeen: &tracesum.Frame{Function: "main.crunchRows", File: "/src/app/main.go", Line: 49}}},
			{Goroutine: 9, Seconds: 0.028, Ended: "preempted (async)", Stack: preempted, GoroutineFunction: "github.com/example/very/long/import/path/pkg.(*Scheduler).runWorkerLoop.func1",
				Inferred: &tracesum.InferredWhere{Started: &tracesum.Frame{Function: "github.com/example/very/long/import/path/pkg.(*Scheduler).runWorkerLoop.func1",
					File: "/src/example/very/long/path/scheduler_worker_loop.go", Line: 1234}}},
			{Goroutine: 10, Seconds: 0.027, Ended: "preempted (async)", Stack: preempted},
			{Goroutine: 11, Seconds: 0.026, Ended: "preempted (async)", Function: "main.crunchRows", File: "/src/app/main.go", Line: 49},
		},
	}
	var b bytes.Buffer
	if err := renderTrace(&b, "x.trace", s, true); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	t.Logf("\n%s", out)
	rows := map[string]string{}
	for _, line := range strings.Split(out, "\n") {
		if n := len([]rune(line)); n > lineWidth {
			t.Errorf("line of %d runes, more than %d: %q", n, lineWidth, line)
		}
		f := strings.Fields(line)
		if len(f) > 6 && f[4] == "preempted" {
			rows[f[0]] = strings.Join(f[6:], " ")
		}
	}
	for g, want := range map[string]string{
		"7":  "in goroutine started at main.worker (main.go:30)",
		"8":  "last seen in main.crunchRows (main.go:49)",
		"9":  "in goroutine started at pkg.(*Scheduler).runWorkerLoop.func1",
		"10": "?",
		"11": "main.crunchRows (main.go:49)",
	} {
		if got := rows[g]; got != want && !(g == "9" && strings.HasPrefix(got, want)) {
			t.Errorf("G %s: WHERE %q, want %q", g, got, want)
		}
	}

	var js bytes.Buffer
	if err := writeJSON(&js, s); err != nil {
		t.Fatal(err)
	}
	var back struct {
		LongestRuns []map[string]any `json:"longest_runs"`
	}
	if err := json.Unmarshal(js.Bytes(), &back); err != nil {
		t.Fatal(err)
	}
	if r := back.LongestRuns[0]; r["function"] != nil || r["inferred_where"] == nil {
		t.Errorf("JSON run %v: want no function, and inferred_where", r)
	}
}

// agentTraceEnv makes TestTraceAgentWaits's test binary, run again, record
// its trace into the file it names.
const agentTraceEnv = "DIAGCTL_TEST_AGENT_TRACE"

// recordAgentTrace is TestTraceAgentWaits's child: a trace of what a diagkit
// agent runs beside a program (a CPU profile, signal.Notify) while 8
// goroutines spin in call-free loops on GOMAXPROCS 2.
func recordAgentTrace(t *testing.T, file string) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2))
	f, err := os.Create(file)
	if err != nil {
		t.Fatal(err)
	}
	if err := trace.Start(f); err != nil {
		t.Fatal(err)
	}
	if err := pprof.StartCPUProfile(io.Discard); err != nil {
		t.Fatal(err)
	}
	c := make(chan os.Signal, 1)
	signal.Notify(c, syscall.SIGUSR1)
	// Idle first: the profiler's reader waits, with nothing to read.
	time.Sleep(300 * time.Millisecond)
	var stop atomic.Bool
	var wg sync.WaitGroup
	var sum atomic.Uint64
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sum.Add(spinLoop(&stop))
		}()
	}
	time.Sleep(time.Second)
	stop.Store(true)
	wg.Wait()
	signal.Stop(c)
	pprof.StopCPUProfile()
	trace.Stop()
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestTraceAgentWaits: the report on a trace of a program with a diagkit
// agent's CPU profile and signal handling must not blame their goroutines,
// which wait by design (runtime.(*profBuf).read, os/signal.signal_recv), for
// long system calls; it counts them apart. The trace is recorded in a child
// process: this one's tests run agents that profile.
func TestTraceAgentWaits(t *testing.T) {
	if file := os.Getenv(agentTraceEnv); file != "" {
		recordAgentTrace(t, file)
		return
	}
	t.Parallel()
	file := filepath.Join(t.TempDir(), "agent.trace")
	cmd := exec.Command(os.Args[0], "-test.run=^TestTraceAgentWaits$", "-test.count=1")
	cmd.Env = append(os.Environ(), agentTraceEnv+"="+file)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}

	res := runDiagctl(t, nil, "trace", file)
	if res.code != exitOK {
		t.Fatalf("exit %d: %s", res.code, res.stderr)
	}
	t.Logf("\n%s", res.stdout)
	interp := res.stdout[strings.LastIndex(res.stdout, "Interpretation: "):]
	for _, name := range []string{"profBuf", "signal_recv"} {
		if strings.Contains(interp, name) {
			t.Errorf("interpretation blames a by-design wait (%s):\n%s", name, interp)
		}
	}
	sys := res.stdout[strings.Index(res.stdout, "\nSystem calls: "):strings.Index(res.stdout, "\nCgo calls: ")]
	for _, name := range []string{"runtime.(*profBuf).read", "os/signal.signal_recv"} {
		if strings.Contains(sys, name) {
			t.Errorf("system calls list %s, which waits by design:\n%s", name, sys)
		}
	}
	if !strings.Contains(res.stdout, "\nWaits by design") || !strings.Contains(res.stdout, "runtime.(*profBuf).read") {
		t.Errorf("report does not count the by-design waits apart")
	}
	async := 0
	for _, line := range strings.Split(res.stdout, "\n") {
		if f := strings.Fields(line); len(f) > 6 && f[4] == "preempted" && f[5] == "(async)" {
			async++
			if where := strings.Join(f[6:], " "); where == "?" || !strings.Contains(where, "spinLoop") && !strings.Contains(where, "started at") {
				t.Errorf("async-preempted run, WHERE %q: want the loop or its goroutine's start", where)
			}
		}
	}
	if async == 0 {
		t.Errorf("no async-preempted run among the longest of 8 call-free loops on 2 Ps")
	}

	res = runDiagctl(t, nil, "trace", "-o", "json", file)
	var s tracesum.Summary
	if err := json.Unmarshal([]byte(res.stdout), &s); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, site := range s.ByDesign.Sites {
		found = found || site.Function == "runtime.(*profBuf).read"
	}
	if !found || s.ByDesign.Count < 1 {
		t.Errorf("by_design %+v: want the profiler's reader counted", s.ByDesign)
	}
}
