package tracesum

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/url"
	"os/exec"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/diagkit/diagkit/internal/testenv"
)

// prometheusGoVersion is the go1.N the installed prometheus says it was
// built with, or "" when there is no prometheus command to ask.
func prometheusGoVersion(t *testing.T) string {
	t.Helper()
	bin, err := exec.LookPath("prometheus")
	if err != nil {
		return ""
	}
	out, err := exec.Command(bin, "--version").CombinedOutput()
	if err != nil {
		t.Fatalf("prometheus --version: %v\n%s", err, out)
	}
	m := regexp.MustCompile(`go version:\s*go1\.(\d+)`).FindSubmatch(out)
	if m == nil {
		t.Fatalf("prometheus --version says no go version:\n%s", out)
	}
	return "go1." + string(m[1])
}

// formatOf is the trace format version a Go release writes.
func formatOf(minor int) int {
	switch {
	case minor >= 26:
		return 26
	case minor == 25:
		return 25
	case minor >= 23:
		return 23
	case minor >= 21:
		return minor
	case minor >= 19:
		return 19
	}
	return 11
}

// fetchTrace takes a trace of Prometheus, retrying while its tracer is
// busy: cmd/diagctl's tests may be tracing it at the same time.
func fetchTrace(t *testing.T, addr string, seconds int) []byte {
	t.Helper()
	c := &http.Client{Timeout: time.Duration(seconds)*time.Second + 10*time.Second, Transport: &http.Transport{Proxy: nil}}
	u := "http://" + addr + "/debug/pprof/trace?" + url.Values{"seconds": {strconv.Itoa(seconds)}}.Encode()
	for try := 1; ; try++ {
		resp, err := c.Get(u)
		if err != nil {
			t.Fatalf("GET %s: %v", u, err)
		}
		body, err := io.ReadAll(io.LimitReader(resp.Body, 256<<20))
		resp.Body.Close()
		if err != nil {
			t.Fatalf("GET %s: %v", u, err)
		}
		if resp.StatusCode == http.StatusOK {
			return body
		}
		if !strings.Contains(string(body), "tracing is already enabled") || try == 20 {
			t.Fatalf("GET %s: %s: %.200s", u, resp.Status, body)
		}
		time.Sleep(time.Second)
	}
}

// TestPrometheus summarizes a live trace of Debian's prometheus, a Go
// 1.19 build nobody on this team wrote, while it answers queries: the trace
// must say its Go version, in the old format, and add up to a sane picture.
func TestPrometheus(t *testing.T) {
	addr := testenv.Prometheus(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	// Keep it busy with queries while the trace runs: 2 workers, bounded
	// in count and time.
	var wg sync.WaitGroup
	var answered sync.Map
	for w := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{Proxy: nil}}
			q := "http://" + addr + "/api/v1/query?" + url.Values{"query": {`sum by (__name__) ({__name__=~"prometheus_.+"})`}}.Encode()
			for i := 0; i < 2000 && ctx.Err() == nil; i++ {
				req, _ := http.NewRequestWithContext(ctx, http.MethodGet, q, nil)
				resp, err := c.Do(req)
				if err != nil {
					continue
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				answered.Store(w*10000+i, resp.StatusCode)
			}
		}()
	}
	data := fetchTrace(t, addr, 1)
	cancel()
	wg.Wait()

	s, err := Summarize(bytes.NewReader(data), Options{})
	if err != nil {
		t.Fatalf("%d bytes from %s: %v", len(data), addr, err)
	}
	checkInvariants(t, s)
	t.Logf("prometheus at %s: %d bytes, %s (format %d), %.3f s, %d Ps (%s), %d goroutines, %d runs, %d syscalls, %d cgo calls, utilization %.3f, wait p99 %s; %s",
		addr, len(data), s.GoVersion, s.FormatVersion, s.DurationSeconds, s.Procs, s.ProcsSource, s.Goroutines, s.Balance.Runs,
		s.Syscalls.Count, s.Cgo.Count, s.Balance.Utilization, FormatDuration(s.RunnableWaitP99Seconds), s.Interpretation)

	// The version: the one prometheus --version reports, to the format.
	if gov := prometheusGoVersion(t); gov != "" {
		minor, _ := strconv.Atoi(strings.TrimPrefix(gov, "go1."))
		if s.FormatVersion != formatOf(minor) || s.GoVersion != "go1."+strconv.Itoa(formatOf(minor)) {
			t.Errorf("trace says %s (format %d); prometheus --version says %s, which writes format %d",
				s.GoVersion, s.FormatVersion, gov, formatOf(minor))
		}
		if minor < 22 && !s.OldFormat {
			t.Errorf("a %s trace not flagged as old format", gov)
		}
		t.Logf("prometheus --version: %s", gov)
	} else if s.FormatVersion < 11 || s.FormatVersion > 26 {
		t.Errorf("format %d", s.FormatVersion)
	}
	if s.DurationSeconds < 0.9 || s.DurationSeconds > 2 {
		t.Errorf("duration %.3f s for a 1 s trace", s.DurationSeconds)
	}
	// Prometheus runs with GOMAXPROCS = the CPUs of this machine (it is on
	// loopback), and its Ps are what the trace saw.
	if s.Procs < 1 || s.Procs > runtime.NumCPU() || s.ProcsSeen > s.Procs {
		t.Errorf("procs %d (%s), seen %d: want 1 to %d", s.Procs, s.ProcsSource, s.ProcsSeen, runtime.NumCPU())
	}
	// An HTTP server answering queries: goroutines by the dozen, network
	// system calls, short runs, no cgo on its hot paths.
	if s.Goroutines < 20 || s.Balance.Runs < 100 || s.Syscalls.Count < 20 || s.Cgo.Count != 0 {
		t.Errorf("%d goroutines, %d runs, %d syscalls, %d cgo calls: not a busy HTTP server", s.Goroutines, s.Balance.Runs, s.Syscalls.Count, s.Cgo.Count)
	}
	if u := s.Balance.Utilization; u <= 0 || u > 1 {
		t.Errorf("utilization %.3f", u)
	}
	if w := s.RunnableWait; w.Count < 100 || w.P99Seconds <= 0 || w.P99Seconds > 0.5 {
		t.Errorf("runnable waits %+v: want many, p99 between 0 and 0.5 s", w)
	}
	n := 0
	answered.Range(func(_, _ any) bool { n++; return true })
	if n == 0 {
		t.Errorf("the load generator got no answer")
	}
}
