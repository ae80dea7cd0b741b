package diag

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// waitProfilesInFlight waits until Status reports n expensive requests in
// flight, CPU profiles included, failing after 10 s.
func waitProfilesInFlight(t *testing.T, a *Agent, n int) {
	t.Helper()
	inFlight := func() int { st := a.Status(); return st.ProfilesInFlight + st.CPUProfilesInFlight }
	deadline := time.Now().Add(10 * time.Second)
	for inFlight() != n {
		if time.Now().After(deadline) {
			t.Fatalf("profiles in flight: %d, want %d", inFlight(), n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// getInBackground GETs url; the status arrives on the channel, 0 for a
// transport error (such as a cancelled request).
func getInBackground(ctx context.Context, url string) <-chan int {
	ch := make(chan int, 1)
	go func() {
		req, _ := http.NewRequestWithContext(ctx, "GET", url, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			ch <- 0
			return
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		ch <- resp.StatusCode
	}()
	return ch
}

func TestMaxConcurrentProfilesAnswers429(t *testing.T) {
	a, _ := startAgent(t, Config{MaxConcurrentProfiles: 2})
	base := "http://" + a.Addr()

	first := getInBackground(context.Background(), base+"/debug/pprof/heap?seconds=2")
	second := getInBackground(context.Background(), base+"/debug/pprof/allocs?seconds=2")
	waitProfilesInFlight(t, a, 2)

	start := time.Now()
	req, _ := http.NewRequest("GET", base+"/debug/pprof/mutex?seconds=1", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("third request: status %d, want 429: %s", resp.StatusCode, body)
	}
	if took := time.Since(start); took > time.Second {
		t.Errorf("the 429 took %v, want it at once", took)
	}
	if resp.Header.Get("Retry-After") == "" || !strings.Contains(string(body), "at most 2 at once") {
		t.Errorf("429 headers %v body %q: want Retry-After and the limit", resp.Header, body)
	}
	// Cheap endpoints are not limited, nor CPU profiles by this bound.
	for _, path := range []string{PathStatus, PathMetrics, PathHistory, PathPprof, "/debug/pprof/heap", "/debug/pprof/goroutine?debug=1",
		"/debug/pprof/profile?seconds=1"} {
		if status, body := get(t, base+path); status != 200 {
			t.Errorf("GET %s with the limit reached: %d %s", path, status, body)
		}
	}

	for i, ch := range []<-chan int{first, second} {
		if status := <-ch; status != 200 {
			t.Errorf("long request %d: status %d, want 200", i+1, status)
		}
	}
	waitProfilesInFlight(t, a, 0)
	if status, body := get(t, base+"/debug/pprof/mutex?seconds=1"); status != 200 {
		t.Errorf("after the first two finished: status %d: %s", status, body)
	}
	if st := a.Status(); st.ProfilesRejected != 1 || st.CPUProfilesRejected != 0 {
		t.Errorf("ProfilesRejected = %d, CPUProfilesRejected = %d, want 1 and 0", st.ProfilesRejected, st.CPUProfilesRejected)
	}
}

// CPU profiles have a bound of their own, MaxConcurrentCPUProfiles.
func TestMaxConcurrentCPUProfilesAnswers429(t *testing.T) {
	a, _ := startAgent(t, Config{MaxConcurrentCPUProfiles: 2, MaxConcurrentProfiles: 1})
	base := "http://" + a.Addr()
	first := getInBackground(context.Background(), base+"/debug/pprof/profile?seconds=2")
	second := getInBackground(context.Background(), base+"/debug/pprof/profile?seconds=2")
	waitProfilesInFlight(t, a, 2)

	status, body := get(t, base+"/debug/pprof/profile?seconds=1")
	if status != http.StatusTooManyRequests || !strings.Contains(string(body), "CPU profile requests: at most 2 at once") {
		t.Fatalf("third CPU profile: %d %q, want 429 naming the bound", status, body)
	}
	// The other bound has its own slot free.
	if status, body := get(t, base+"/debug/pprof/allocs?seconds=1"); status != 200 {
		t.Errorf("a delta profile with the CPU bound reached: %d %s", status, body)
	}
	for i, ch := range []<-chan int{first, second} {
		if status := <-ch; status != 200 {
			t.Errorf("CPU profile %d: status %d, want 200", i+1, status)
		}
	}
	if st := a.Status(); st.CPUProfilesRejected != 1 || st.ProfilesRejected != 0 {
		t.Errorf("CPUProfilesRejected = %d, ProfilesRejected = %d, want 1 and 0", st.CPUProfilesRejected, st.ProfilesRejected)
	}
}

func TestMaxConcurrentProfilesReleasesOnDisconnect(t *testing.T) {
	a, _ := startAgent(t, Config{MaxConcurrentProfiles: 1})
	base := "http://" + a.Addr()
	for _, path := range []string{"/debug/pprof/profile?seconds=60", "/debug/pprof/heap?seconds=60"} {
		ctx, cancel := context.WithCancel(context.Background())
		done := getInBackground(ctx, base+path)
		waitProfilesInFlight(t, a, 1)
		cancel()
		<-done
		waitProfilesInFlight(t, a, 0)
	}
	if status, body := get(t, base+"/debug/pprof/heap?seconds=1"); status != 200 {
		t.Errorf("after the disconnects: status %d: %s", status, body)
	}
}

func TestMaxConcurrentProfilesReleasesOnStop(t *testing.T) {
	a, _ := startAgent(t, Config{MaxConcurrentProfiles: 2})
	base := "http://" + a.Addr()
	first := getInBackground(context.Background(), base+"/debug/pprof/profile?seconds=60")
	second := getInBackground(context.Background(), base+"/debug/pprof/allocs?seconds=60")
	waitProfilesInFlight(t, a, 2)

	start := time.Now()
	a.Stop()
	if took := time.Since(start); took > 3*time.Second {
		t.Errorf("Stop took %v with two 60 s requests in flight", took)
	}
	for i, ch := range []<-chan int{first, second} {
		select {
		case status := <-ch:
			if status == 200 {
				t.Errorf("request %d: a 60 s request completed with 200 after Stop", i+1)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("request %d still hanging after Stop", i+1)
		}
	}
	if st := a.Status(); st.ProfilesInFlight+st.CPUProfilesInFlight != 0 {
		t.Errorf("after Stop: %d + %d profiles in flight", st.ProfilesInFlight, st.CPUProfilesInFlight)
	}
}

// Mounted on a mux of one's own (AddrOff), Stop still ends the waits, and
// a trace too.
func TestStopEndsWaitsOnAMountedHandler(t *testing.T) {
	a, _ := startAgent(t, Config{Addr: AddrOff, MaxConcurrentProfiles: 2})
	srv := httptest.NewServer(a.Handler())
	defer srv.Close()
	delta := getInBackground(context.Background(), srv.URL+"/debug/pprof/mutex?seconds=60")
	trace := getInBackground(context.Background(), srv.URL+"/debug/pprof/trace?seconds=60")
	waitProfilesInFlight(t, a, 2)
	a.Stop()
	for name, ch := range map[string]<-chan int{"delta": delta, "trace": trace} {
		select {
		case status := <-ch:
			if name == "delta" && status != http.StatusServiceUnavailable {
				t.Errorf("delta after Stop: status %d, want 503", status)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("%s still hanging after Stop", name)
		}
	}
	waitProfilesInFlight(t, a, 0)
}
