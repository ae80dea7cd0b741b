package pprofhttp

import (
	"context"
	"net/http"
	"net/http/httptest"
	"runtime/metrics"
	"strings"
	"testing"
	"time"

	"github.com/google/pprof/profile"
)

// forcedGCs counts the GC cycles forced by runtime.GC so far.
func forcedGCs() uint64 {
	s := []metrics.Sample{{Name: "/gc/cycles/forced:gc-cycles"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

func TestHeapGC(t *testing.T) {
	srv := newServer(t, Options{}, "/debug/pprof")
	before := forcedGCs()
	resp, body := do(t, srv.Client(), "GET", srv.URL+"/debug/pprof/heap?gc=1", "")
	if resp.StatusCode != 200 {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	if forcedGCs() == before {
		t.Fatal("heap?gc=1 did not run a garbage collection")
	}
	if _, err := profile.ParseData(body); err != nil {
		t.Fatalf("heap?gc=1 is not a profile: %v", err)
	}
}

var sink []byte

func TestDeltaAllocs(t *testing.T) {
	srv := newServer(t, Options{}, "/debug/pprof")
	stop := make(chan struct{})
	defer close(stop)
	go func() { // allocate during the window, so the delta has something
		for {
			select {
			case <-stop:
				return
			case <-time.After(time.Millisecond):
				sink = make([]byte, 1<<16)
			}
		}
	}()

	start := time.Now()
	resp, body := do(t, srv.Client(), "GET", srv.URL+"/debug/pprof/allocs?seconds=1", "")
	if resp.StatusCode != 200 {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	if took := time.Since(start); took < time.Second {
		t.Errorf("delta took %v, want at least the 1 s window", took)
	}
	if ct, cd := resp.Header.Get("Content-Type"), resp.Header.Get("Content-Disposition"); ct != "application/octet-stream" || cd != `attachment; filename="allocs-delta"` {
		t.Errorf("Content-Type %q, Content-Disposition %q", ct, cd)
	}
	p, err := profile.ParseData(body)
	if err != nil {
		t.Fatalf("delta is not a profile: %v", err)
	}
	if p.DurationNanos < int64(900*time.Millisecond) || p.DurationNanos > int64(10*time.Second) {
		t.Errorf("DurationNanos = %v, want about 1 s", time.Duration(p.DurationNanos))
	}
	if len(p.SampleType) == 0 || p.SampleType[0].Type != "alloc_objects" {
		t.Errorf("sample types %v, want the allocs profile's", p.SampleType)
	}
	for _, s := range p.Sample {
		zero := true
		for _, v := range s.Value {
			zero = zero && v == 0
		}
		if zero {
			t.Fatalf("delta kept a zero sample: %v", s)
		}
	}
}

func TestDeltaRejected(t *testing.T) {
	srv := newServer(t, Options{}, "/debug/pprof")
	tests := []struct{ path, want string }{
		{customProfile.Name() + "?seconds=1", "not supported"},
		{"heap?seconds=1&debug=1", "incompatible"},
		{"allocs?seconds=61", "at most 60"},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			start := time.Now()
			resp, body := do(t, srv.Client(), "GET", srv.URL+"/debug/pprof/"+tt.path, "")
			if resp.StatusCode != 400 || !strings.Contains(string(body), tt.want) {
				t.Fatalf("got %d %q, want 400 containing %q", resp.StatusCode, body, tt.want)
			}
			if took := time.Since(start); took > 500*time.Millisecond {
				t.Errorf("rejection took %v: it waited", took)
			}
		})
	}
}

func TestDeltaStopsWithRequest(t *testing.T) {
	h := Handler(Options{CPU: (&fakeCPU{}).profile})
	tests := []struct {
		name       string
		ctx        func() (context.Context, context.CancelFunc)
		wantStatus int
		wantBody   bool
	}{
		{name: "client gone", ctx: func() (context.Context, context.CancelFunc) {
			ctx, cancel := context.WithCancel(context.Background())
			time.AfterFunc(50*time.Millisecond, cancel)
			return ctx, cancel
		}, wantStatus: 200 /* recorder default: nothing written */},
		{name: "deadline", ctx: func() (context.Context, context.CancelFunc) {
			return context.WithTimeout(context.Background(), 50*time.Millisecond)
		}, wantStatus: http.StatusRequestTimeout, wantBody: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := tt.ctx()
			defer cancel()
			rec := httptest.NewRecorder()
			start := time.Now()
			h.ServeHTTP(rec, httptest.NewRequest("GET", "/allocs?seconds=30", nil).WithContext(ctx))
			if took := time.Since(start); took > 5*time.Second {
				t.Fatalf("delta went on for %v after the request ended", took)
			}
			if rec.Code != tt.wantStatus || (rec.Body.Len() > 0) != tt.wantBody {
				t.Fatalf("got %d %q, want %d (body: %v)", rec.Code, rec.Body, tt.wantStatus, tt.wantBody)
			}
		})
	}
}

// leakedDuringWindow blocks until release is closed: a goroutine "leaked"
// while a goroutine delta was being taken.
//
//go:noinline
func leakedDuringWindow(release <-chan struct{}) { <-release }

// A goroutine delta shows what appeared during the window, as with
// net/http/pprof: the way to find a leak.
func TestDeltaGoroutineShowsNewGoroutines(t *testing.T) {
	srv := newServer(t, Options{}, "/debug/pprof")
	release := make(chan struct{})
	defer close(release)
	go func() {
		time.Sleep(300 * time.Millisecond)
		for range 3 {
			go leakedDuringWindow(release)
		}
	}()
	resp, err := http.Get(srv.URL + "/debug/pprof/goroutine?seconds=1")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d", resp.StatusCode)
	}
	p, err := profile.Parse(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	var leaked int64
	for _, s := range p.Sample {
		for _, loc := range s.Location {
			for _, ln := range loc.Line {
				if strings.HasSuffix(ln.Function.Name, ".leakedDuringWindow") {
					leaked += s.Value[0]
				}
			}
		}
	}
	if leaked != 3 {
		t.Errorf("delta shows %d new leakedDuringWindow goroutines, want 3", leaked)
	}
}
