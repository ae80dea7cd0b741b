package diag

// Failure injection: the agent runs inside someone else's production
// service, so each test breaks something underneath it and asserts what the
// agent does about it.

import (
	"io"
	"net/http"
	"runtime/pprof"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/pprof/profile"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/diagkit/diagkit/diag/analysis"
)

// waitFor polls cond every 10 ms until it holds, failing after timeout.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after %v: %s", timeout, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// getWithin GETs url and fails unless it answers 200 within limit.
func getWithin(t *testing.T, url string, limit time.Duration) {
	t.Helper()
	start := time.Now()
	status, body := get(t, url)
	if status != http.StatusOK {
		t.Errorf("GET %s: %d %s", url, status, body)
	}
	if took := time.Since(start); took > limit {
		t.Errorf("GET %s took %v, want under %v", url, took, limit)
	}
}

// A window's analysis panics: the panic is recovered and logged once, and
// the agent goes on recording windows and answering HTTP.
func TestFailureAnalysisPanics(t *testing.T) {
	var calls atomic.Int64
	t.Cleanup(func() { analyze = analysis.Analyze }) // runs after the agent's Stop
	analyze = func(p *profile.Profile, opts analysis.Options) (*analysis.Report, error) {
		if calls.Add(1) == 1 {
			panic("injected analysis panic")
		}
		return analysis.Analyze(p, opts)
	}
	a, logs := startAgent(t, Config{Window: 200 * time.Millisecond, Interval: 200 * time.Millisecond})

	waitFor(t, 10*time.Second, "no window recorded after the panic", func() bool { return a.Status().Windows >= 2 })
	panics := logs.FilterMessage("window analysis panicked; continuing").All()
	if len(panics) != 1 {
		t.Fatalf("%d panic log lines, want 1", len(panics))
	}
	if e := panics[0]; e.Level != zapcore.ErrorLevel || e.ContextMap()["panic"] != "injected analysis panic" {
		t.Errorf("panic logged as %v %v", e.Level, e.ContextMap())
	}
	if calls.Load() < 3 {
		t.Errorf("analyze called %d times, want the panicking window and later ones", calls.Load())
	}
	base := "http://" + a.Addr()
	for _, p := range []string{PathReport, PathStatus, PathMetrics, "/debug/pprof/goroutine?debug=1"} {
		getWithin(t, base+p, 2*time.Second)
	}
	if st := a.Status(); st.Failures != 0 {
		t.Errorf("Failures = %d: a recovered panic is logged, not counted as a failure", st.Failures)
	}
}

// The analysis of a scraped /debug/pprof/profile window panics: the scrape
// still gets its profile, and the panic is logged once.
func TestFailureScrapedAnalysisPanics(t *testing.T) {
	var calls atomic.Int64
	t.Cleanup(func() { analyze = analysis.Analyze })
	analyze = func(p *profile.Profile, opts analysis.Options) (*analysis.Report, error) {
		calls.Add(1)
		panic("injected analysis panic")
	}
	a, logs := startAgent(t, Config{Window: time.Minute})
	status, body := get(t, "http://"+a.Addr()+"/debug/pprof/profile?seconds=1")
	if status != http.StatusOK {
		t.Fatalf("profile: %d %s", status, body)
	}
	if _, err := analysis.Parse(body); err != nil {
		t.Errorf("profile: %v", err)
	}
	if n := logs.FilterMessage("scraped window analysis panicked; continuing").Len(); n != 1 || calls.Load() != 1 {
		t.Errorf("%d panic log lines for %d analyses, want 1 for 1", n, calls.Load())
	}
}

// Something else in the process holds the CPU profiler (the service's own
// runtime/pprof.StartCPUProfile): /debug/pprof/profile answers 503 with
// Retry-After, the status says so, the state is logged once over several
// retries, and the agent recovers when the profiler is free again.
func TestFailureProfilerHeldBySomeoneElse(t *testing.T) {
	if err := pprof.StartCPUProfile(io.Discard); err != nil {
		t.Fatalf("taking the CPU profiler: %v", err)
	}
	held := true
	release := func() {
		if held {
			pprof.StopCPUProfile()
			held = false
		}
	}
	defer release()
	heldSince := time.Now()
	a, logs := startAgent(t, Config{Window: time.Second, Interval: time.Second})
	base := "http://" + a.Addr()

	req, _ := http.NewRequest("GET", base+"/debug/pprof/profile?seconds=1", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" ||
		!strings.Contains(string(body), "held by another profiler") {
		t.Errorf("profile while held: %d Retry-After %q %s", resp.StatusCode, resp.Header.Get("Retry-After"), body)
	}
	st := a.Status()
	if !st.ProfilerBusy || st.BusyEvents != 1 || st.Windows != 0 {
		t.Errorf("status while held: busy %v, busy events %d, windows %d; want true, 1, 0", st.ProfilerBusy, st.BusyEvents, st.Windows)
	}
	status, sbody := get(t, base+PathStatus)
	if status != http.StatusOK || !strings.Contains(string(sbody), `"profiler_busy": true`) ||
		!strings.Contains(string(sbody), `"profiler_busy_events": 1,`) {
		t.Errorf("status endpoint while held: %d %s", status, sbody)
	}
	// Hold it a few seconds: the hub retries (1 s, then 2 s later) and the
	// periodic windows fail, but the log says it once.
	time.Sleep(4*time.Second - time.Since(heldSince))
	const busyMsg = "CPU profiler held by another profiler in this process; diagkit retries with backoff " +
		"(serve /debug/pprof/ from diagkit instead of net/http/pprof to share it)"
	if n := logs.FilterMessage(busyMsg).Len(); n != 1 {
		t.Errorf("busy state logged %d times over 4 s, want once", n)
	}
	if st := a.Status(); st.Failures < 1 || st.BusyEvents != 1 {
		t.Errorf("after 4 s held: failures %d, busy events %d; want at least 1 and 1", st.Failures, st.BusyEvents)
	}
	if n := logs.FilterLevelExact(zapcore.ErrorLevel).Len(); n != 0 {
		t.Errorf("%d error lines while the profiler was held: %v", n, logs.FilterLevelExact(zapcore.ErrorLevel).All())
	}

	release()
	// The next retry is at most 4 s away (backoff 1, 2, 4 s), then a window.
	waitFor(t, 15*time.Second, "no window recorded after the profiler was released", func() bool { return a.Status().Windows >= 1 })
	if n := logs.FilterMessage("CPU profiler available again").Len(); n != 1 {
		t.Errorf("%d \"available again\" lines, want 1", n)
	}
	if n := logs.FilterMessage(busyMsg).Len(); n != 1 {
		t.Errorf("busy state logged %d times in all, want once", n)
	}
	if st := a.Status(); st.ProfilerBusy || st.BusyEvents != 1 {
		t.Errorf("after release: busy %v, busy events %d; want false, 1", st.ProfilerBusy, st.BusyEvents)
	}
	if status, body := get(t, base+"/debug/pprof/profile?seconds=1"); status != http.StatusOK {
		t.Errorf("profile after release: %d %s", status, body)
	}
}

// The agent's listener is closed underneath it: the server's end is logged
// once, the periodic analysis goes on, and Stop returns cleanly.
func TestFailureListenerClosed(t *testing.T) {
	a, logs := startAgent(t, Config{Window: 200 * time.Millisecond, Interval: 200 * time.Millisecond})
	if err := a.listener.Close(); err != nil {
		t.Fatal(err)
	}
	serverStopped := func() *observer.ObservedLogs { return logs.FilterMessage("HTTP server stopped") }
	waitFor(t, 5*time.Second, "the server's end was not logged", func() bool { return serverStopped().Len() > 0 })
	windows := a.Status().Windows
	waitFor(t, 5*time.Second, "no window after the listener closed", func() bool { return a.Status().Windows >= windows+2 })
	if _, err := http.Get("http://" + a.Addr() + PathStatus); err == nil {
		t.Error("the closed listener still answers")
	}

	start := time.Now()
	a.Stop()
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("Stop took %v", took)
	}
	if n := serverStopped().Len(); n != 1 {
		t.Errorf("the server's end logged %d times, want once", n)
	}
	if e := serverStopped().All()[0]; e.Level != zapcore.ErrorLevel || !strings.Contains(e.ContextMap()["error"].(string), "closed") {
		t.Errorf("logged as %v %v", e.Level, e.ContextMap())
	}
}
