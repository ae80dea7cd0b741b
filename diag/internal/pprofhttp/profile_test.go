package pprofhttp

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestCPUProfileDuration(t *testing.T) {
	tests := []struct {
		name       string
		maxSeconds int
		query      string
		want       time.Duration
	}{
		{name: "default 30s", query: "", want: 30 * time.Second},
		{name: "seconds=7", query: "?seconds=7", want: 7 * time.Second},
		{name: "at the default max", query: "?seconds=60", want: 60 * time.Second},
		{name: "default capped by MaxSeconds", maxSeconds: 10, query: "", want: 10 * time.Second},
		{name: "raised MaxSeconds", maxSeconds: 120, query: "?seconds=120", want: 120 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cpu := &fakeCPU{}
			srv := newServer(t, Options{CPU: cpu.profile, MaxSeconds: tt.maxSeconds}, "/debug/pprof")
			resp, body := do(t, srv.Client(), "GET", srv.URL+"/debug/pprof/profile"+tt.query, "")
			if resp.StatusCode != 200 {
				t.Fatalf("status %d: %s", resp.StatusCode, body)
			}
			if got := cpu.durations(); len(got) != 1 || got[0] != tt.want {
				t.Fatalf("CPUProfiler called with %v, want [%v]", got, tt.want)
			}
			if !bytes.Equal(body, cpuProfileBytes(tt.want)) {
				t.Errorf("body is not the CPUProfiler's profile")
			}
			if got := resp.Header.Get("Content-Disposition"); got != `attachment; filename="profile"` {
				t.Errorf("Content-Disposition = %q", got)
			}
		})
	}
}

func TestCPUProfileClientDisconnect(t *testing.T) {
	started := make(chan struct{})
	ended := make(chan error, 1)
	cpu := &fakeCPU{fn: func(ctx context.Context, d time.Duration) ([]byte, error) {
		close(started)
		select {
		case <-ctx.Done():
			ended <- ctx.Err()
			return nil, ctx.Err()
		case <-time.After(d):
			ended <- nil
			return cpuProfileBytes(d), nil
		}
	}}
	srv := newServer(t, Options{CPU: cpu.profile}, "/debug/pprof")

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL+"/debug/pprof/profile?seconds=30", nil)
	errc := make(chan error, 1)
	go func() {
		resp, err := srv.Client().Do(req)
		if err == nil {
			resp.Body.Close()
		}
		errc <- err
	}()
	<-started
	cancel()
	select {
	case err := <-ended:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("CPUProfiler ended with %v, want context.Canceled", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the client went away but the CPUProfiler's context was not cancelled")
	}
	if err := <-errc; err == nil {
		t.Fatal("client request succeeded after cancel")
	}
}

func TestCPUProfileErrors(t *testing.T) {
	tests := []struct {
		name       string
		data       []byte
		err        error
		wantStatus int
		wantBody   string
		wantRetry  bool
	}{
		{name: "busy", err: fmt.Errorf("%w (cpu profiling already in use)", ErrBusy), wantStatus: 503, wantBody: "held by another profiler", wantRetry: true},
		{name: "other error", err: errors.New("hub stopped"), wantStatus: 500, wantBody: "hub stopped"},
		{name: "no data", wantStatus: 500, wantBody: "no data"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cpu := &fakeCPU{fn: func(context.Context, time.Duration) ([]byte, error) { return tt.data, tt.err }}
			srv := newServer(t, Options{CPU: cpu.profile}, "/debug/pprof")
			resp, body := do(t, srv.Client(), "GET", srv.URL+"/debug/pprof/profile?seconds=1", "")
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("status = %d, want %d: %s", resp.StatusCode, tt.wantStatus, body)
			}
			if !strings.Contains(string(body), tt.wantBody) {
				t.Errorf("body %q does not contain %q", body, tt.wantBody)
			}
			if got := resp.Header.Get("Retry-After"); (got != "") != tt.wantRetry {
				t.Errorf("Retry-After = %q, want one: %v", got, tt.wantRetry)
			}
			if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") || resp.Header.Get("Content-Disposition") != "" {
				t.Errorf("error served as Content-Type %q, Content-Disposition %q", ct, resp.Header.Get("Content-Disposition"))
			}
		})
	}
}

func TestCPUProfileRequestDeadline(t *testing.T) {
	cpu := &fakeCPU{fn: func(ctx context.Context, d time.Duration) ([]byte, error) {
		<-ctx.Done()
		return nil, ctx.Err()
	}}
	h := Handler(Options{CPU: cpu.profile})
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/profile?seconds=30", nil).WithContext(ctx))
	if rec.Code != http.StatusRequestTimeout {
		t.Fatalf("status = %d, want 408", rec.Code)
	}
}
