package diag

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// A caller that defers Stop after a failed Start calls it on nil.
func TestStopOnNilAgent(t *testing.T) {
	a, err := Start(Config{Window: -time.Second})
	if err == nil {
		t.Fatal("Start accepted a negative window")
	}
	defer a.Stop()
	var nilAgent *Agent
	nilAgent.Stop()
	nilAgent.Stop()
}

// After Stop, the endpoints that wait for seconds answer 503 at once on a
// mounted handler: the CPU profile as the trace and delta profiles do
// (it answered 500: the hub had stopped before the request's wait began).
func TestProfilesAfterStopAnswer503(t *testing.T) {
	a, _ := startAgent(t, Config{Addr: AddrOff, Window: time.Minute})
	srv := httptest.NewServer(a.Handler())
	defer srv.Close()
	a.Stop()
	for _, path := range []string{"/debug/pprof/profile?seconds=1", "/debug/pprof/trace?seconds=1", "/debug/pprof/heap?seconds=1"} {
		for range 5 { // the race it had was with a goroutine: try a few times
			start := time.Now()
			status := <-getInBackground(context.Background(), srv.URL+path)
			if status != http.StatusServiceUnavailable {
				t.Errorf("%s after Stop: %d, want 503", path, status)
				break
			}
			if took := time.Since(start); took > 5*time.Second {
				t.Errorf("%s after Stop took %v", path, took)
			}
		}
	}
	// Snapshots still answer: they need nothing the agent stopped.
	if status, body := get(t, srv.URL+"/debug/pprof/heap"); status != 200 {
		t.Errorf("heap snapshot after Stop: %d %s", status, body)
	}
}

// RFC 7235: the auth scheme is case-insensitive.
func TestBearerSchemeIsCaseInsensitive(t *testing.T) {
	a, _ := startAgent(t, Config{Addr: AddrOff, Token: "s3cret", Window: time.Minute})
	h := a.Handler()
	for auth, want := range map[string]int{
		"Bearer s3cret":  200,
		"bearer s3cret":  200,
		"BEARER s3cret":  200,
		"bEaReR s3cret":  200,
		"Bearer  s3cret": 200, // 1*SP
		"Bearer s3cre":   401,
		"bearer wrong":   401,
		"Bearers3cret":   401,
		"Token s3cret":   401,
		"s3cret":         401,
		"Bearer":         401,
		"":               401,
	} {
		req := httptest.NewRequest("GET", PathStatus, nil)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != want {
			t.Errorf("Authorization %q: %d, want %d", auth, rec.Code, want)
		}
	}
}
