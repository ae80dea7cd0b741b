package pprofhttp

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// blockingCPU is a CPUProfiler that holds every request until release is
// closed or its context ends.
func blockingCPU(release <-chan struct{}) CPUProfiler {
	return func(ctx context.Context, d time.Duration) ([]byte, error) {
		select {
		case <-release:
			return cpuProfileBytes(d), nil
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// waitInFlight waits until lim serves n requests, failing after 10 s.
func waitInFlight(t *testing.T, lim *Limiter, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for lim.InFlight() != n {
		if time.Now().After(deadline) {
			t.Fatalf("in flight: %d, want %d", lim.InFlight(), n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// getAsync sends a GET in the background; the status arrives on the channel
// (0 for a transport error, such as a cancelled request).
func getAsync(ctx context.Context, client *http.Client, url string) <-chan int {
	ch := make(chan int, 1)
	go func() {
		req, _ := http.NewRequestWithContext(ctx, "GET", url, nil)
		resp, err := client.Do(req)
		if err != nil {
			ch <- 0
			return
		}
		resp.Body.Close()
		ch <- resp.StatusCode
	}()
	return ch
}

func TestLimiterAnswers429BeyondTheBound(t *testing.T) {
	release := make(chan struct{})
	lim := NewLimiter(2)
	srv := newServer(t, Options{CPU: blockingCPU(release), Limiter: lim}, "/debug/pprof")
	base := srv.URL + "/debug/pprof/"

	first := getAsync(context.Background(), srv.Client(), base+"profile?seconds=30")
	second := getAsync(context.Background(), srv.Client(), base+"profile?seconds=30")
	waitInFlight(t, lim, 2)

	for _, tc := range []struct{ method, path, body string }{
		{"GET", "profile?seconds=1", ""},
		{"GET", "trace?seconds=1", ""},
		{"GET", "allocs?seconds=1", ""},
		{"POST", "symbol", "0x1"},
	} {
		start := time.Now()
		resp, body := do(t, srv.Client(), tc.method, base+tc.path, tc.body)
		if resp.StatusCode != http.StatusTooManyRequests {
			t.Errorf("%s %s: status %d, want 429: %s", tc.method, tc.path, resp.StatusCode, body)
		}
		if took := time.Since(start); took > 2*time.Second {
			t.Errorf("%s %s: 429 took %v, want it at once", tc.method, tc.path, took)
		}
		if resp.Header.Get("Retry-After") == "" || resp.Header.Get("X-Go-Pprof") != "1" ||
			!strings.Contains(string(body), "at most 2 at once") {
			t.Errorf("%s %s: headers %v, body %q: want Retry-After and serveError's form", tc.method, tc.path, resp.Header, body)
		}
	}
	// Cheap requests, and bad parameters, take no slot.
	for path, want := range map[string]int{
		"":                     200,
		"heap":                 200,
		"goroutine?debug=1":    200,
		"cmdline":              200,
		"symbol?0x1":           200,
		"profile?seconds=abc":  400,
		"cmdline?seconds=1":    200,
		"threadcreate?debug=1": 200,
	} {
		if resp, body := do(t, srv.Client(), "GET", base+path, ""); resp.StatusCode != want {
			t.Errorf("GET %s with the limit reached: status %d, want %d: %s", path, resp.StatusCode, want, body)
		}
	}
	if got := lim.Rejected(); got != 4 {
		t.Errorf("Rejected() = %d, want 4", got)
	}

	close(release)
	for i, ch := range []<-chan int{first, second} {
		if status := <-ch; status != 200 {
			t.Errorf("long request %d: status %d, want 200", i+1, status)
		}
	}
	waitInFlight(t, lim, 0)
	if resp, body := do(t, srv.Client(), "GET", base+"profile?seconds=1", ""); resp.StatusCode != 200 {
		t.Errorf("after the first two finished: status %d, want 200: %s", resp.StatusCode, body)
	}
}

func TestLimiterReleasesOnClientDisconnect(t *testing.T) {
	lim := NewLimiter(1)
	srv := newServer(t, Options{CPU: blockingCPU(nil), Limiter: lim}, "/debug/pprof")
	base := srv.URL + "/debug/pprof/"

	for _, path := range []string{"profile?seconds=60", "allocs?seconds=60", "trace?seconds=60"} {
		ctx, cancel := context.WithCancel(context.Background())
		done := getAsync(ctx, srv.Client(), base+path)
		waitInFlight(t, lim, 1)
		cancel()
		<-done
		waitInFlight(t, lim, 0) // the handler returned and gave its slot back
	}
	if resp, body := do(t, srv.Client(), "GET", base+"allocs?seconds=1", ""); resp.StatusCode != 200 {
		t.Errorf("after the disconnects: status %d, want 200: %s", resp.StatusCode, body)
	}
}

func TestDoneEndsWaitsAndReleases(t *testing.T) {
	lim := NewLimiter(3)
	stop := make(chan struct{})
	srv := newServer(t, Options{CPU: blockingCPU(nil), Limiter: lim, Done: stop}, "/debug/pprof")
	base := srv.URL + "/debug/pprof/"

	var wg sync.WaitGroup
	status := map[string]int{}
	var mu sync.Mutex
	for _, path := range []string{"profile?seconds=60", "allocs?seconds=60", "trace?seconds=60"} {
		ch := getAsync(context.Background(), srv.Client(), base+path)
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := <-ch
			mu.Lock()
			status[path] = s
			mu.Unlock()
		}()
	}
	waitInFlight(t, lim, 3)
	start := time.Now()
	close(stop)
	wg.Wait()
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("requests took %v to end after Done", took)
	}
	waitInFlight(t, lim, 0)
	want := map[string]int{
		"profile?seconds=60": http.StatusServiceUnavailable,
		"allocs?seconds=60":  http.StatusServiceUnavailable,
		"trace?seconds=60":   http.StatusOK, // cut short: the trace so far
	}
	for path, w := range want {
		if status[path] != w {
			t.Errorf("%s after Done: status %d, want %d", path, status[path], w)
		}
	}
}

// With CPULimiter, profile requests are bounded apart from the others.
func TestCPULimiterBoundsProfileApart(t *testing.T) {
	release := make(chan struct{})
	lim, cpuLim := NewLimiter(1), NewCPULimiter(3)
	srv := newServer(t, Options{CPU: blockingCPU(release), Limiter: lim, CPULimiter: cpuLim}, "/debug/pprof")
	base := srv.URL + "/debug/pprof/"
	var waits []<-chan int
	for range 3 {
		waits = append(waits, getAsync(context.Background(), srv.Client(), base+"profile?seconds=30"))
	}
	waitInFlight(t, cpuLim, 3)
	if lim.InFlight() != 0 {
		t.Errorf("profile requests took %d slots of Limiter", lim.InFlight())
	}
	resp, body := do(t, srv.Client(), "GET", base+"profile?seconds=1", "")
	if resp.StatusCode != http.StatusTooManyRequests || !strings.Contains(string(body), "Too many CPU profile requests: at most 3 at once (profile)") {
		t.Errorf("fourth profile: %d %q", resp.StatusCode, body)
	}
	// Limiter's slot is free for a delta profile.
	if resp, body := do(t, srv.Client(), "GET", base+"heap?seconds=1", ""); resp.StatusCode != 200 {
		t.Errorf("delta profile beside 3 CPU profiles: %d %s", resp.StatusCode, body)
	}
	close(release)
	for _, ch := range waits {
		if status := <-ch; status != 200 {
			t.Errorf("CPU profile: %d", status)
		}
	}
	if cpuLim.Rejected() != 1 || lim.Rejected() != 0 {
		t.Errorf("rejected: CPU %d, others %d; want 1 and 0", cpuLim.Rejected(), lim.Rejected())
	}
}

// Once Done is closed, the requests that wait for seconds answer 503 at
// once, whatever the CPUProfiler says (the agent's stopped hub answered an
// error, which was a 500).
func TestAfterDoneWaitsAnswer503(t *testing.T) {
	done := make(chan struct{})
	close(done)
	stoppedHub := func(context.Context, time.Duration) ([]byte, error) { return nil, errStopping }
	srv := newServer(t, Options{CPU: stoppedHub, Done: done}, "/debug/pprof")
	for _, ep := range []string{"profile?seconds=1", "trace?seconds=1", "heap?seconds=1"} {
		if resp, body := do(t, srv.Client(), "GET", srv.URL+"/debug/pprof/"+ep, ""); resp.StatusCode != http.StatusServiceUnavailable {
			t.Errorf("%s after Done: %d %s, want 503", ep, resp.StatusCode, body)
		}
	}
	if resp, body := do(t, srv.Client(), "GET", srv.URL+"/debug/pprof/heap", ""); resp.StatusCode != 200 {
		t.Errorf("heap snapshot after Done: %d %s", resp.StatusCode, body)
	}
}
