package tracesum

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/diagkit/diagkit/internal/testenv"
)

// cgoloadResult is what testdata/cgoload prints.
type cgoloadResult struct {
	Calls     int64   `json:"calls"`
	CSeconds  float64 `json:"c_seconds"`
	GoSeconds float64 `json:"go_seconds"`
	MaxC      float64 `json:"max_c_seconds"`
	MaxGo     float64 `json:"max_go_seconds"`
	Workers   int     `json:"workers"`
	Seconds   float64 `json:"seconds"`
	GoVersion string  `json:"go_version"`
}

// clockSlack is the relative disagreement allowed between the trace's clock
// and the monotonic clock the workload reads. The trace's timestamps are the
// CPU's timestamp counter, converted to nanoseconds with a frequency the
// runtime measures against the monotonic clock over each generation (about a
// second), which is good to far better than 0.2 %.
const clockSlack = 0.002

// TestCgo traces testdata/cgoload, two goroutines that alternate cgo calls
// of 0.5–3 ms with Go work for a second, and compares the trace's cgo figures
// with the workload's own measurements of the same calls:
//
//   - the count is exact: every C call is one syscall-state interval whose
//     stack has the _Cfunc_ stub;
//   - the time is bracketed: the runtime enters the syscall state just
//     before the C function's first clock reading and leaves it just after
//     its last, so the trace's total lies between the time the C function
//     measured inside itself and the time its Go caller measured around the
//     call (which also holds the crossings and, when the call lost its P,
//     the wait for one). Both are measured by the workload; on an idle
//     machine they differ by a few microseconds a call, on a loaded one by
//     more, and the check holds either way.
func TestCgo(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs a cgo program")
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		testenv.MustRun(t, "no go command to build the cgo workload: %v", err)
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "cgoload")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	build := exec.CommandContext(ctx, goTool, "build", "-o", bin, "./testdata/cgoload")
	build.Env = append(os.Environ(), "CGO_ENABLED=1")
	if out, err := build.CombinedOutput(); err != nil {
		testenv.MustRun(t, "cannot build the cgo workload (no C compiler?): %v\n%s", err, out)
	}
	file := filepath.Join(dir, "cgo.trace")
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, bin, "-trace", file, "-workers", "2", "-duration", "1s")
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("cgoload: %v\n%s", err, stderr.Bytes())
	}
	var want cgoloadResult
	if err := json.Unmarshal(stdout.Bytes(), &want); err != nil {
		t.Fatalf("cgoload printed %q: %v", stdout.Bytes(), err)
	}
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	s, err := Summarize(f, Options{})
	if err != nil {
		t.Fatal(err)
	}
	checkInvariants(t, s)
	c := s.Cgo
	t.Logf("workload: %+v", want)
	t.Logf("trace: %d cgo calls, %.6f s (%+.3f%% from the time in C), max %.6f s, %d blocked; %d syscalls, %.6f s",
		c.Count, c.TotalSeconds, 100*(c.TotalSeconds/want.CSeconds-1), c.MaxSeconds, c.Blocked, s.Syscalls.Count, s.Syscalls.TotalSeconds)

	if want.Calls < 100 {
		t.Fatalf("the workload made only %d calls in 1 s", want.Calls)
	}
	if c.Count != want.Calls {
		t.Errorf("%d cgo calls in the trace, the workload made %d", c.Count, want.Calls)
	}
	lo, hi := want.CSeconds*(1-clockSlack), want.GoSeconds*(1+clockSlack)
	if c.TotalSeconds < lo || c.TotalSeconds > hi {
		t.Errorf("cgo time %.6f s: want between the time inside C, %.6f s, and the time around the calls, %.6f s (±%.1f%%)",
			c.TotalSeconds, want.CSeconds, want.GoSeconds, 100*clockSlack)
	}
	if c.MaxSeconds < want.MaxC*(1-clockSlack) || c.MaxSeconds > want.MaxGo*(1+clockSlack) {
		t.Errorf("longest cgo call %.6f s: want between %.6f s (in C) and %.6f s (around)", c.MaxSeconds, want.MaxC, want.MaxGo)
	}
	if len(c.Sites) != 1 || c.Sites[0].Function != "C.cgoload_burn" || c.Sites[0].Count != c.Count {
		t.Errorf("cgo sites %+v: want C.cgoload_burn, all %d calls", c.Sites, c.Count)
	}
	if len(c.Longest) == 0 || c.Longest[0].Caller != "main.worker" || !strings.HasSuffix(c.Longest[0].File, "cgoload/main.go") || c.Longest[0].Line == 0 {
		t.Errorf("longest cgo calls %+v: want called from main.worker in cgoload/main.go", c.Longest)
	}
	// Two goroutines in C most of the second: the mean number in C is
	// the share, up to 2.
	if c.Share < 0.5 || c.Share > 2.01 {
		t.Errorf("cgo share %.3f: want 0.5 to 2 for two goroutines calling C most of the time", c.Share)
	}
	// cgo calls are not counted as system calls.
	for _, site := range s.Syscalls.Sites {
		if strings.HasPrefix(site.Function, "C.") {
			t.Errorf("syscall site %+v is a cgo call", site)
		}
	}
	if s.Syscalls.TotalSeconds > 0.05 {
		t.Errorf("%.3f s of system calls in a workload that makes almost none: %+v", s.Syscalls.TotalSeconds, s.Syscalls.Sites)
	}
}
