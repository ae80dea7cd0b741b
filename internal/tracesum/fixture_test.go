package tracesum

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"flag"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"runtime/trace"
	"strings"
	"sync"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// prometheusFixture is a 1 s execution trace of Debian's prometheus
// 2.42.0+ds (built with go1.19.8: an old-format "go 1.19 trace"), taken from
// its /debug/pprof/trace?seconds=1 on 127.0.0.1 while it answered PromQL
// queries and scrapes of its own /metrics, gzipped.
const prometheusFixture = "testdata/prometheus-go1.19.trace.gz"

// readFixture returns a gzipped fixture's trace bytes.
func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	f, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	data, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// TestPrometheusFixture checks the summary of the saved prometheus trace
// against its golden JSON (go test -run TestPrometheusFixture -update
// rewrites it), and spells out the figures that matter.
func TestPrometheusFixture(t *testing.T) {
	data := readFixture(t, prometheusFixture)
	s, err := Summarize(bytes.NewReader(data), Options{})
	if err != nil {
		t.Fatal(err)
	}
	checkInvariants(t, s)
	got, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, '\n')
	golden := filepath.Join("testdata", "prometheus-go1.19.golden.json")
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (go test -run TestPrometheusFixture -update writes it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("summary differs from %s (go test -run TestPrometheusFixture -update rewrites it after review):\n%s", golden, got)
	}

	// What the trace says of itself: the go1.19 format, written by
	// prometheus's go1.19.8, GOMAXPROCS 2 (the machine's 2 CPUs).
	if s.GoVersion != "go1.19" || s.FormatVersion != 19 || !s.OldFormat || s.GoVersions != "go1.19–go1.20" {
		t.Errorf("version %q (format %d, old %v, %q): want go1.19, old format", s.GoVersion, s.FormatVersion, s.OldFormat, s.GoVersions)
	}
	if s.Procs != 2 || s.ProcsSeen != 2 {
		t.Errorf("procs %d (%s), seen %d: want 2", s.Procs, s.ProcsSource, s.ProcsSeen)
	}
	if s.DurationSeconds < 0.99 || s.DurationSeconds > 1.05 {
		t.Errorf("duration %.3f s for a ?seconds=1 trace", s.DurationSeconds)
	}
	if len(s.Notes) == 0 || !strings.Contains(s.Notes[0], "old trace format") {
		t.Errorf("notes %q: want the old-format caveat", s.Notes)
	}
	// A Go server answering HTTP: many short goroutines, network system
	// calls (instants in this format, but for a few that blocked), no cgo,
	// runs far shorter than a time slice, hardly any preemption.
	if s.Goroutines < 100 || s.Balance.Runs < 1000 {
		t.Errorf("%d goroutines, %d runs: want the many of an HTTP server under load", s.Goroutines, s.Balance.Runs)
	}
	if s.Syscalls.Count < 100 || s.Cgo.Count != 0 {
		t.Errorf("%d syscalls, %d cgo calls: want many network syscalls and no cgo", s.Syscalls.Count, s.Cgo.Count)
	}
	if s.Preemptions.Total > 5 || s.LongestRuns[0].Seconds > 0.05 {
		t.Errorf("%d preemptions, longest run %.3f s: want few and short", s.Preemptions.Total, s.LongestRuns[0].Seconds)
	}
	if u := s.Balance.Utilization; u <= 0 || u > 0.5 {
		t.Errorf("utilization %.3f: want a lightly loaded server", u)
	}
	if w := s.RunnableWait; w.Count < 1000 || w.P99Seconds <= 0 || w.P99Seconds > 0.01 {
		t.Errorf("runnable waits %+v: want many, p99 under 10 ms", w)
	}
}

// BenchmarkSummarize summarizes the prometheus fixture (57 kB, 11k events,
// the old format, which the parser converts).
func BenchmarkSummarize(b *testing.B) {
	data := readFixture(b, prometheusFixture)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Summarize(bytes.NewReader(data), Options{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSummarizeCurrent summarizes a trace in this Go's format, recorded
// here: goroutines passing values over channels on all Ps for 200 ms.
func BenchmarkSummarizeCurrent(b *testing.B) {
	var buf bytes.Buffer
	if err := trace.Start(&buf); err != nil {
		b.Skipf("cannot start an execution trace: %v", err)
	}
	pingPong(200 * time.Millisecond)
	trace.Stop()
	data := buf.Bytes()
	s, err := Summarize(bytes.NewReader(data), Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("%d bytes, %d events", len(data), s.Events)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Summarize(bytes.NewReader(data), Options{}); err != nil {
			b.Fatal(err)
		}
	}
}

// pingPong has pairs of goroutines, as many as Ps, pass a value back and
// forth until d has passed.
func pingPong(d time.Duration) {
	deadline := time.Now().Add(d)
	var wg sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		ping, pong := make(chan int), make(chan int)
		wg.Add(2)
		go func() {
			defer wg.Done()
			defer close(ping)
			for i := 0; time.Now().Before(deadline); i++ {
				ping <- i
				<-pong
			}
		}()
		go func() {
			defer wg.Done()
			for v := range ping {
				pong <- v + 1
			}
		}()
	}
	wg.Wait()
}
