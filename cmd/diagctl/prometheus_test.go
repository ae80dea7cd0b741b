package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/diagkit/diagkit/diag/analysis"
	"github.com/diagkit/diagkit/internal/testenv"
)

// Bounds on the load TestPrometheus puts on Prometheus.
const (
	promLoadWorkers     = 3
	promLoadMaxRequests = 20_000
	promLoadMaxTime     = 60 * time.Second
	promRequestTimeout  = 5 * time.Second
)

// promGet fetches a path from Prometheus and returns the status and body.
func promGet(ctx context.Context, c *http.Client, addr, pathQuery string) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+pathQuery, nil)
	if err != nil {
		return 0, nil, err
	}
	resp, err := c.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	return resp.StatusCode, body, err
}

func promClient() *http.Client {
	return &http.Client{
		Timeout:   promRequestTimeout,
		Transport: &http.Transport{Proxy: nil, MaxIdleConnsPerHost: promLoadWorkers},
	}
}

// promLoad keeps Prometheus busy with PromQL queries, so that its CPU
// profile has samples: range queries over every series it scrapes from
// itself, and instant queries. It is bounded in requests and in time.
type promLoad struct {
	cancel context.CancelFunc
	wg     sync.WaitGroup
	sent   atomic.Int64 // requests started
	ok     atomic.Int64 // answered 200 with a PromQL success
	failed atomic.Int64 // no answer (refused, timed out)
	bad    atomic.Int64 // an answer, but an error: a wrong query
	mu     sync.Mutex
	first  error // the first failure or bad answer
}

// promQueries are the queries the load cycles through. {__name__=~".+"}
// selects every series Prometheus has scraped from itself (about a thousand).
var promQueries = []func(now time.Time) string{
	func(now time.Time) string {
		return "/api/v1/query_range?" + url.Values{
			"query": {`topk(50, sum by (__name__) ({__name__=~".+"}))`},
			"start": {strconv.FormatInt(now.Add(-10*time.Minute).Unix(), 10)},
			"end":   {strconv.FormatInt(now.Unix(), 10)},
			"step":  {"1"},
		}.Encode()
	},
	func(now time.Time) string {
		return "/api/v1/query?" + url.Values{
			"query": {`topk(20, count by (__name__) ({__name__=~".+"}))`},
		}.Encode()
	},
	func(now time.Time) string {
		return "/api/v1/query_range?" + url.Values{
			"query": {`histogram_quantile(0.9, sum by (le, handler) (rate(prometheus_http_request_duration_seconds_bucket[10s])))`},
			"start": {strconv.FormatInt(now.Add(-5*time.Minute).Unix(), 10)},
			"end":   {strconv.FormatInt(now.Unix(), 10)},
			"step":  {"1"},
		}.Encode()
	},
	func(now time.Time) string {
		return "/api/v1/query?" + url.Values{
			"query": {`quantile_over_time(0.5, go_memstats_heap_alloc_bytes[1m]) + on () group_left sum(rate(prometheus_http_response_size_bytes_bucket[1m]))`},
		}.Encode()
	},
}

func startPromLoad(t *testing.T, addr string) *promLoad {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), promLoadMaxTime)
	l := &promLoad{cancel: cancel}
	c := promClient()
	for w := range promLoadWorkers {
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			for i := w; ctx.Err() == nil; i++ {
				if l.sent.Add(1) > promLoadMaxRequests {
					return
				}
				q := promQueries[i%len(promQueries)](time.Now())
				code, body, err := promGet(ctx, c, addr, q)
				switch {
				case ctx.Err() != nil:
					return // stopped mid-request: not a failure
				case err != nil:
					l.failed.Add(1)
				case code != http.StatusOK || !strings.Contains(string(body), `"status":"success"`):
					err = fmt.Errorf("GET %s: %d: %.200s", q, code, body)
					l.bad.Add(1)
				}
				if err != nil {
					l.mu.Lock()
					if l.first == nil {
						l.first = err
					}
					l.mu.Unlock()
					time.Sleep(50 * time.Millisecond) // do not spin on a broken server
					continue
				}
				l.ok.Add(1)
			}
		}()
	}
	t.Cleanup(l.stop)
	return l
}

// stop ends the load and waits for its goroutines.
func (l *promLoad) stop() {
	l.cancel()
	l.wg.Wait()
}

func (l *promLoad) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := fmt.Sprintf("%d queries answered, %d unanswered, %d wrong", l.ok.Load(), l.failed.Load(), l.bad.Load())
	if l.first != nil {
		s += fmt.Sprintf(" (first failure: %v)", l.first)
	}
	return s
}

// TestPrometheus runs diagctl against a real server nobody on this team
// wrote: Debian's prometheus, a Go binary that serves net/http/pprof and has
// no diagkit agent. The subtests run one after the other: net/http/pprof
// allows one CPU profile at a time.
func TestPrometheus(t *testing.T) {
	t.Parallel()
	addr := testenv.Prometheus(t)

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c := promClient()
	if code, body, err := promGet(ctx, c, addr, "/-/ready"); err != nil || code != http.StatusOK {
		t.Fatalf("%s=%s: Prometheus is not ready: %d %.200s %v", testenv.PrometheusEnv, addr, code, body, err)
	}
	// No agent there: diagctl must take the plain-pprof path.
	if code, _, err := promGet(ctx, c, addr, pathReport); err != nil || code != http.StatusNotFound {
		t.Fatalf("GET %s%s: %d %v, want 404 (a plain net/http/pprof server)", addr, pathReport, code, err)
	}

	load := startPromLoad(t, addr)

	t.Run("json", func(t *testing.T) {
		start := time.Now()
		res := runDiagctl(t, nil, "preempt-share", "--seconds", "3", "-o", "json", addr)
		if res.code != exitOK || res.stderr != "" {
			t.Fatalf("exit %d, want 0 (load: %v)\nstderr:\n%s", res.code, load, res.stderr)
		}
		if took := time.Since(start); took < 3*time.Second {
			t.Errorf("a 3 s profile took %v: was one taken?", took)
		}
		var doc map[string]json.RawMessage
		if err := json.Unmarshal([]byte(res.stdout), &doc); err != nil {
			t.Fatalf("output is not a JSON object: %v\n%s", err, res.stdout)
		}
		for _, key := range []string{"window_schema", "seq", "context", "warnings"} {
			if _, ok := doc[key]; ok {
				t.Errorf("output has %q: a window report, but Prometheus has no agent", key)
			}
		}
		var r analysis.Report
		if err := json.Unmarshal([]byte(res.stdout), &r); err != nil {
			t.Fatal(err)
		}
		if r.Schema != analysis.Schema {
			t.Errorf("schema %q, want %q", r.Schema, analysis.Schema)
		}
		t.Logf("prometheus %s: %d samples, %.2f CPU s in %.2f s; shares: go %.4f async_preempt %.4f cgo %.4f external %.4f; load: %v",
			addr, r.Samples, r.CPUSeconds, r.DurationSeconds, r.Shares.Go, r.Shares.AsyncPreempt, r.Shares.Cgo, r.Shares.External, load)
		if r.Samples <= 0 {
			t.Fatalf("no samples: the load generator did not make Prometheus work (load: %v)", load)
		}
		if r.DurationSeconds < 2.85 {
			t.Errorf("duration_seconds %.3f, want ≥ 2.85 for --seconds 3", r.DurationSeconds)
		}
		checkShares(t, &r)
		if r.Shares.Go <= 0.5 {
			t.Errorf("go share %.4f, want > 0.5: Prometheus is a Go server", r.Shares.Go)
		}
		if r.Shares.Cgo > 0.05 || r.Shares.External > 0.05 {
			t.Errorf("cgo %.4f, external %.4f: want both ≤ 0.05, Prometheus's hot paths are Go", r.Shares.Cgo, r.Shares.External)
		}
	})

	t.Run("table", func(t *testing.T) {
		res := runDiagctl(t, nil, "preempt-share", "--seconds", "2", addr)
		if res.code != exitOK || res.stderr != "" {
			t.Fatalf("exit %d, want 0 (load: %v)\nstderr:\n%s", res.code, load, res.stderr)
		}
		// The header names the target and says a profile was taken.
		first := strings.SplitN(res.stdout, "\n", 2)[0]
		if !strings.HasPrefix(first, "Profile ") || !strings.Contains(first, addr+" (2 s profile)") {
			t.Errorf("first line %q: want Profile %s (2 s profile)\n%s", first, addr, res.stdout)
		}
		for _, want := range []string{"Shares of CPU time", "Interpretation: "} {
			if !strings.Contains(res.stdout, want) {
				t.Errorf("table has no %q:\n%s", want, res.stdout)
			}
		}
	})

	t.Run("with a dead target", func(t *testing.T) {
		dead := deadAddr(t)
		res := runDiagctl(t, nil, "preempt-share", "--seconds", "2", addr, dead)
		if res.code != exitUnreachable {
			t.Fatalf("exit %d, want %d (the failure's)\nstdout:\n%s\nstderr:\n%s", res.code, exitUnreachable, res.stdout, res.stderr)
		}
		if !strings.Contains(res.stderr, "1 of 2 targets failed") {
			t.Errorf("stderr %q: want \"1 of 2 targets failed\"", res.stderr)
		}
		lines := strings.Split(res.stdout, "\n")
		var row, failure string
		for _, l := range lines {
			f := strings.Fields(l)
			switch {
			case len(f) > 2 && f[0] == addr:
				row = l
				if f[1] != "profile" {
					t.Errorf("prometheus row %q: source %q, want profile", l, f[1])
				}
				if n, err := strconv.Atoi(f[2]); err != nil || n <= 0 {
					t.Errorf("prometheus row %q: samples %q, want > 0", l, f[2])
				}
			case strings.Contains(l, dead):
				failure = l
			}
		}
		if row == "" || failure == "" || !strings.Contains(res.stdout, "Failed (1)") {
			t.Fatalf("want a row for %s and a failure for %s:\n%s", addr, dead, res.stdout)
		}
		if !strings.Contains(failure, "connection refused") {
			t.Errorf("failure line %q: want connection refused", failure)
		}
	})

	t.Run("heap profile", func(t *testing.T) {
		// Prometheus's other pprof surface: a real heap profile, saved to
		// a file as curl -o would.
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		code, body, err := promGet(ctx, c, addr, "/debug/pprof/heap")
		if err != nil || code != http.StatusOK || len(body) == 0 {
			t.Fatalf("GET /debug/pprof/heap: %d, %d bytes, %v", code, len(body), err)
		}
		file := filepath.Join(t.TempDir(), "prometheus-heap.pb.gz")
		if err := os.WriteFile(file, body, 0o600); err != nil {
			t.Fatal(err)
		}
		res := runDiagctl(t, nil, "preempt-share", file)
		if res.code != exitError || res.stdout != "" {
			t.Fatalf("exit %d, want %d and no output\nstdout:\n%s\nstderr:\n%s", res.code, exitError, res.stdout, res.stderr)
		}
		for _, want := range []string{file, "not a CPU profile", "inuse_space"} {
			if !strings.Contains(res.stderr, want) {
				t.Errorf("stderr does not contain %q:\n%s", want, res.stderr)
			}
		}
	})

	load.stop()
	if load.ok.Load() == 0 || load.bad.Load() > 0 {
		t.Errorf("the load generator is broken: %v", load)
	}
	t.Logf("load: %v", load)
}

// checkShares checks that every share is a fraction and that the buckets and
// the headline shares each sum to 1.
func checkShares(t *testing.T, r *analysis.Report) {
	t.Helper()
	sum := 0.0
	for _, b := range analysis.Buckets {
		st, ok := r.Buckets[b]
		if !ok {
			t.Errorf("bucket %s missing", b)
		}
		if st.Share < 0 || st.Share > 1 || math.IsNaN(st.Share) {
			t.Errorf("bucket %s share %v, want within [0,1]", b, st.Share)
		}
		sum += st.Share
	}
	if math.Abs(sum-1) > 1e-6 {
		t.Errorf("bucket shares sum to %.9f, want 1", sum)
	}
	s := r.Shares
	headline := map[string]float64{"go": s.Go, "async_preempt": s.AsyncPreempt, "preempt_sched": s.PreemptSched,
		"cgo": s.Cgo, "external": s.External, "runtime_no_stack": s.RuntimeNoStack}
	sum = 0
	for name, v := range headline {
		if v < 0 || v > 1 || math.IsNaN(v) {
			t.Errorf("share %s %v, want within [0,1]", name, v)
		}
		sum += v
	}
	if math.Abs(sum-1) > 1e-6 {
		t.Errorf("headline shares sum to %.9f, want 1", sum)
	}
}
