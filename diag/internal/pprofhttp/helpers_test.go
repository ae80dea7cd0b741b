package pprofhttp

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime/pprof"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/pprof/profile"
)

// customProfile is a profile registered with pprof.NewProfile, as a service
// would register its own.
var customProfile = pprof.NewProfile("pprofhttp.test.custom")

func init() { customProfile.Add("one", 0) }

// fakeCPU is a CPUProfiler for tests: it records the durations it is asked
// for and answers with fn, or at once with a small valid CPU profile.
type fakeCPU struct {
	mu    sync.Mutex
	calls []time.Duration
	fn    func(ctx context.Context, d time.Duration) ([]byte, error)
}

func (f *fakeCPU) profile(ctx context.Context, d time.Duration) ([]byte, error) {
	f.mu.Lock()
	f.calls = append(f.calls, d)
	fn := f.fn
	f.mu.Unlock()
	if fn != nil {
		return fn(ctx, d)
	}
	return cpuProfileBytes(d), nil
}

func (f *fakeCPU) durations() []time.Duration {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]time.Duration(nil), f.calls...)
}

// cpuProfileBytes is a gzipped CPU profile of duration d with one sample.
func cpuProfileBytes(d time.Duration) []byte {
	fn := &profile.Function{ID: 1, Name: "main.work"}
	loc := &profile.Location{ID: 1, Line: []profile.Line{{Function: fn}}}
	p := &profile.Profile{
		SampleType:    []*profile.ValueType{{Type: "samples", Unit: "count"}, {Type: "cpu", Unit: "nanoseconds"}},
		PeriodType:    &profile.ValueType{Type: "cpu", Unit: "nanoseconds"},
		Period:        10_000_000,
		DurationNanos: int64(d),
		Function:      []*profile.Function{fn},
		Location:      []*profile.Location{loc},
		Sample:        []*profile.Sample{{Location: []*profile.Location{loc}, Value: []int64{1, 10_000_000}}},
	}
	var buf bytes.Buffer
	if err := p.Write(&buf); err != nil {
		panic(err)
	}
	return buf.Bytes()
}

// newServer serves Handler(opts) under prefix (no trailing slash) on a
// loopback httptest server, mounted as the package doc says.
func newServer(t *testing.T, opts Options, prefix string) *httptest.Server {
	t.Helper()
	if opts.CPU == nil {
		opts.CPU = (&fakeCPU{}).profile
	}
	mux := http.NewServeMux()
	mux.Handle(prefix+"/", http.StripPrefix(prefix, Handler(opts)))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

// do sends one request and returns the response with its body read.
func do(t *testing.T, client *http.Client, method, url, body string) (*http.Response, []byte) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: reading body: %v", method, url, err)
	}
	return resp, b
}
