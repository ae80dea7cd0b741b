package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/pprof/profile"

	"github.com/diagkit/diagkit/diag/analysis"
	"github.com/diagkit/diagkit/diag/api"
	"github.com/diagkit/diagkit/internal/compare"
)

// compareWindow is an agent window of n samples: async async-preempt
// samples in main.spin, cgo calls at rate, p99 latency.
func compareWindow(seq int, start time.Time, n, async int64, p99, rate float64, gomaxprocs int) api.WindowReport {
	share := func(k int64) float64 { return float64(k) / float64(n) }
	r := analysis.Report{
		Schema: analysis.Schema, Samples: n, Records: 3, CPUSeconds: float64(n) / 100,
		DurationSeconds: 10, PeriodSeconds: 0.01,
		Shares:  analysis.Shares{Go: share(n - async), AsyncPreempt: share(async)},
		Buckets: map[analysis.Bucket]analysis.BucketStat{},
	}
	for _, b := range analysis.Buckets {
		r.Buckets[b] = analysis.BucketStat{}
	}
	r.Buckets[analysis.BucketGo] = analysis.BucketStat{Samples: n - async, CPUSeconds: float64(n-async) / 100, Share: share(n - async)}
	r.Buckets[analysis.BucketAsyncPreempt] = analysis.BucketStat{Samples: async, CPUSeconds: float64(async) / 100, Share: share(async)}
	r.TopPreempted = []analysis.FuncStat{}
	if async > 0 {
		r.TopPreempted = append(r.TopPreempted, analysis.FuncStat{Function: "main.spin", File: "/src/app/main.go", Line: 12,
			Samples: async, CPUSeconds: float64(async) / 100, Share: share(async)})
	}
	r.TopCgoCalls = []analysis.FuncStat{}
	r.Interpretation = analysis.Interpret(&r)
	calls := int64(rate * 10)
	return api.WindowReport{
		Report: r, WindowSchema: api.WindowSchema, Seq: uint64(seq),
		Start: start, End: start.Add(10 * time.Second), Source: "periodic",
		Context: api.Context{
			GoVersion: "go1.26.8", GOMAXPROCS: gomaxprocs, NumCPU: 2,
			SchedLatency: &api.Latency{Count: 400, P50: p99 / 20, P99: p99, P999: p99 * 2},
			CgoCalls:     &calls, CgoCallsPerSecond: &rate,
		},
		Warnings: []api.Warning{}, Active: []string{},
	}
}

// compareHistories are a before and an after history of 8 windows each:
// GOMAXPROCS 8 → 2 on 2 CPUs, async preemption 3 % → 0.5 %, p99 25 ms → 4
// ms, the cgo call rate unchanged but for noise.
func compareHistories() (before, after api.History) {
	rng := rand.New(rand.NewPCG(7, 11))
	t := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	noisy := func(v float64) float64 { return v * (1 + 0.1*(rng.Float64()-0.5)) }
	before.WindowSchema, after.WindowSchema = api.WindowSchema, api.WindowSchema
	for i := range 8 {
		before.Windows = append(before.Windows, compareWindow(i+1, t.Add(time.Duration(i)*10*time.Second), 1000, 28+int64(rng.IntN(5)), noisy(0.025), noisy(2000), 8))
		after.Windows = append(after.Windows, compareWindow(i+1, t.Add(time.Hour+time.Duration(i)*10*time.Second), 1000, 4+int64(rng.IntN(3)), noisy(0.004), noisy(2000), 2))
	}
	return before, after
}

// writeCompareInputs writes the histories to testdata/compare (with
// -update) or checks the files there still hold them, and returns their
// paths.
func writeCompareInputs(t *testing.T) (before, after string) {
	t.Helper()
	b, a := compareHistories()
	var paths [2]string
	for i, h := range []api.History{b, a} {
		data, err := json.MarshalIndent(h, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		paths[i] = filepath.Join("testdata", "compare", [2]string{"before-history.json", "after-history.json"}[i])
		if *update {
			if err := os.MkdirAll(filepath.Dir(paths[i]), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(paths[i], data, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if got, err := os.ReadFile(paths[i]); err != nil || !bytes.Equal(got, data) {
			t.Fatalf("%s is not what compareHistories builds (%v): run go test -update", paths[i], err)
		}
	}
	return paths[0], paths[1]
}

// checkGoldenJSON is checkGolden for JSON whose floats may differ in their
// last bits between platforms (arm64 fuses multiply-adds): both sides are
// compared with every number rounded to 9 significant digits.
func checkGoldenJSON(t *testing.T, name, got string) {
	t.Helper()
	if *update {
		checkGolden(t, name, got)
		return
	}
	want, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if g, w := roundedJSON(t, got), roundedJSON(t, string(want)); g != w {
		t.Errorf("output differs from testdata/%s (run go test -update to accept it)\ngot:\n%s\nwant:\n%s", name, got, want)
	}
}

func roundedJSON(t *testing.T, s string) string {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatalf("not JSON: %v", err)
	}
	var round func(any) any
	round = func(v any) any {
		switch x := v.(type) {
		case float64:
			r, _ := strconv.ParseFloat(strconv.FormatFloat(x, 'g', 9, 64), 64)
			return r
		case []any:
			for i := range x {
				x[i] = round(x[i])
			}
		case map[string]any:
			for k := range x {
				x[k] = round(x[k])
			}
		}
		return v
	}
	out, _ := json.Marshal(round(v))
	return string(out)
}

func TestCompareGolden(t *testing.T) {
	before, after := writeCompareInputs(t)
	res := runDiagctl(t, nil, "compare", before, after)
	if res.code != exitOK {
		t.Fatalf("exit %d: %s", res.code, res.stderr)
	}
	checkGolden(t, "compare.golden", res.stdout)
	res = runDiagctl(t, nil, "compare", "-o", "json", "--fail-on", "async_preempt:+0.5pp", before, after)
	if res.code != exitOK {
		t.Fatalf("json: exit %d: %s", res.code, res.stderr)
	}
	checkGoldenJSON(t, "compare.json.golden", res.stdout)

	var doc compare.Document
	if err := json.Unmarshal([]byte(res.stdout), &doc); err != nil || doc.Schema != compare.Schema {
		t.Fatalf("not a %s document: %v", compare.Schema, err)
	}
	want := map[string]string{
		compare.FigAsyncPreempt:    compare.VerdictBetter,
		compare.FigSchedLatencyP99: compare.VerdictBetter,
		compare.FigSchedLatencyP50: compare.VerdictBetter,
		compare.FigCgoCallsPerSec:  compare.VerdictNoChange,
		compare.FigCgoC:            compare.VerdictNoChange,
		compare.FigThrottledShare:  compare.VerdictUntested,
	}
	for _, r := range doc.Figures {
		if w, ok := want[r.Figure]; ok && r.Verdict != w {
			t.Errorf("%s: %s, want %s", r.Figure, r.Verdict, w)
		}
	}
	if doc.Before.Windows != 8 || doc.Design != compare.DesignSequential || len(doc.FailOn) != 1 || doc.FailOn[0].Failed {
		t.Errorf("document: %d windows before, design %s, fail_on %+v", doc.Before.Windows, doc.Design, doc.FailOn)
	}
	if !strings.Contains(strings.Join(doc.Notes, "\n"), "GOMAXPROCS differs: 8 before, 2 after") {
		t.Errorf("notes %q do not say GOMAXPROCS changed", doc.Notes)
	}
}

// TestCompareFailOn: the exit code is 3 exactly when a rule's figure got
// significantly worse beyond its threshold, and the output is printed
// all the same.
func TestCompareFailOn(t *testing.T) {
	before, after := writeCompareInputs(t)
	for _, c := range []struct {
		rules []string
		code  int
	}{
		{[]string{"async_preempt"}, exitOK}, // it got better
		{[]string{"async_preempt:-1pp"}, exitThreshold},
		{[]string{"async_preempt:-3pp"}, exitOK},
		{[]string{"sched_latency_p99:-10ms"}, exitThreshold},
		{[]string{"sched_latency_p99:-50%"}, exitThreshold},
		{[]string{"sched_latency_p99:-90%"}, exitOK},
		{[]string{"cgo_calls_per_second:+1"}, exitOK}, // noise only
		{[]string{"cgo_calls_per_second", "async_preempt:-1pp"}, exitThreshold},
		{[]string{"bogus"}, exitUsage},
		{[]string{"async_preempt:+1"}, exitUsage},
	} {
		args := []string{"compare"}
		for _, r := range c.rules {
			args = append(args, "--fail-on", r)
		}
		res := runDiagctl(t, nil, append(args, before, after)...)
		if res.code != c.code {
			t.Errorf("%v: exit %d, want %d; stderr %s", c.rules, res.code, c.code, res.stderr)
		}
		if c.code == exitThreshold && (!strings.Contains(res.stdout, "FAILED") || !strings.Contains(res.stderr, "--fail-on")) {
			t.Errorf("%v: exit 3 without the table's FAILED line or the error: %s / %s", c.rules, res.stdout, res.stderr)
		}
	}
	// The reverse: after → before is a regression.
	if res := runDiagctl(t, nil, "compare", "--fail-on", "async_preempt:+0.5pp", after, before); res.code != exitThreshold {
		t.Errorf("regression: exit %d, want 3: %s", res.code, res.stderr)
	}
}

// compareProfile is a profile of n samples, async of them async
// preemptions in main.spin.
func compareProfile(n, async int64) *profile.Profile {
	b := newCPUProfile()
	const mainGo = "/src/app/main.go"
	rt := b.location(frame{"runtime.main", "/usr/local/go/src/runtime/proc.go", 283})
	preempt := b.location(frame{"runtime.asyncPreempt", "/usr/local/go/src/runtime/preempt_amd64.s", 46})
	spin := b.location(frame{"main.spin", mainGo, 12})
	work := b.location(frame{"main.work", mainGo, 30})
	if async > 0 {
		b.sample(cpu(async), preempt, spin, rt)
	}
	b.sample(cpu(n-async), work, rt)
	return b.p
}

func TestCompareDirectoriesAndFiles(t *testing.T) {
	dirs := [2]string{t.TempDir(), t.TempDir()}
	for i := range 5 {
		for side, async := range []int64{40 + int64(i), 5 + int64(i%2)} {
			var buf bytes.Buffer
			if err := compareProfile(1000, async).Write(&buf); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dirs[side], fmt.Sprintf("cpu-%d.pb.gz", i)), buf.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	res := runDiagctl(t, nil, "compare", "-o", "json", dirs[0], dirs[1])
	if res.code != exitOK {
		t.Fatalf("exit %d: %s", res.code, res.stderr)
	}
	var doc compare.Document
	if err := json.Unmarshal([]byte(res.stdout), &doc); err != nil {
		t.Fatal(err)
	}
	ap := doc.Figures[0]
	if ap.Figure != compare.FigAsyncPreempt || ap.Test != compare.TestWelch || ap.NBefore != 5 || ap.Verdict != compare.VerdictBetter {
		t.Errorf("directories of 5 profiles: %+v, want better by Welch on 5 windows", ap)
	}
	if doc.Before.Source != "directory of 5 files" || doc.Design != compare.DesignUnknown {
		t.Errorf("source %q, design %q", doc.Before.Source, doc.Design)
	}
	if len(doc.Interrupted) != 1 || doc.Interrupted[0].Function != "main.spin" || doc.Interrupted[0].Status != compare.StatusShrank {
		t.Errorf("interrupted: %+v", doc.Interrupted)
	}

	// One profile a side: approximate, and said so.
	one := filepath.Join(dirs[0], "cpu-0.pb.gz")
	res = runDiagctl(t, nil, "compare", one, filepath.Join(dirs[1], "cpu-0.pb.gz"))
	if res.code != exitOK || !strings.Contains(res.stdout, "~[") || !strings.Contains(res.stdout, "approximate") {
		t.Errorf("one profile a side: exit %d, no approximate interval:\n%s%s", res.code, res.stdout, res.stderr)
	}
	// A profile against a saved report of it (preempt-share -o json),
	// from standard input.
	rep := runDiagctl(t, nil, "preempt-share", "-o", "json", one)
	res = runDiagctl(t, strings.NewReader(rep.stdout), "compare", one, "-")
	if res.code != exitOK || !strings.Contains(res.stdout, "stdin (report)") {
		t.Errorf("profile vs its report on stdin: exit %d\n%s%s", res.code, res.stdout, res.stderr)
	}
}

func TestCompareErrors(t *testing.T) {
	before, _ := writeCompareInputs(t)
	empty := t.TempDir()
	notDiagkit := filepath.Join(t.TempDir(), "x.json")
	if err := os.WriteFile(notDiagkit, []byte(`{"schema":"other/v1"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	prof := writeProfile(t, compareProfile(100, 1), "cpu.pb.gz")
	cmpDoc := filepath.Join(t.TempDir(), "cmp.json")
	if err := os.WriteFile(cmpDoc, []byte(`{"schema":"`+compare.Schema+`"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	dead := deadAddr(t)
	for _, c := range []struct {
		name   string
		args   []string
		code   int
		stderr string
	}{
		{"one side", []string{"compare", before}, exitUsage, "two sides"},
		{"three sides", []string{"compare", before, before, before}, exitUsage, "two sides"},
		{"stdin twice", []string{"compare", "-", "-"}, exitUsage, "standard input"},
		{"bad range", []string{"compare", "--before-range", "yesterday", before, before}, exitUsage, "--before-range"},
		{"bad windows", []string{"compare", "--windows", "0", before, before}, exitUsage, "--windows"},
		{"same target without ranges", []string{"compare", "127.0.0.1:1", "127.0.0.1:1"}, exitUsage, "--before-range and --after-range"},
		{"empty directory", []string{"compare", empty, before}, exitError, "BEFORE: " + empty + ": no files"},
		{"not diagkit JSON", []string{"compare", before, notDiagkit}, exitError, "AFTER: " + notDiagkit + ": JSON, but not a diagkit"},
		{"a comparison", []string{"compare", cmpDoc, before}, exitError, "is a comparison"},
		{"range over a profile", []string{"compare", "--before-range", "1m..", prof, before}, exitError, "ranges apply to histories"},
		{"range selects nothing", []string{"compare", "--after-range", "2000-01-01T00:00:00Z..2000-01-02T00:00:00Z", before, before}, exitError, "no window to compare"},
		{"dead target", []string{"compare", before, dead}, exitUnreachable, "AFTER: "},
	} {
		res := runDiagctl(t, nil, c.args...)
		if res.code != c.code || !strings.Contains(res.stderr, c.stderr) {
			t.Errorf("%s: exit %d, stderr %q; want %d and %q", c.name, res.code, res.stderr, c.code, c.stderr)
		}
	}
}

// TestCompareTwoPlainServers: two plain net/http/pprof servers give
// --windows fresh profiles each, taken at the same time.
func TestCompareTwoPlainServers(t *testing.T) {
	serve := func(async int64) *httptest.Server {
		return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			switch r.URL.Path {
			case pathProfile:
				if r.URL.Query().Get("seconds") != "1" {
					http.Error(w, "want seconds=1", http.StatusBadRequest)
					return
				}
				time.Sleep(50 * time.Millisecond)
				_ = compareProfile(1000, async+rand.Int64N(3)).Write(w)
			default:
				http.NotFound(w, r)
			}
		}))
	}
	a, b := serve(5), serve(50)
	defer a.Close()
	defer b.Close()
	res := runDiagctl(t, nil, "compare", "-o", "json", "--windows", "4", "--seconds", "1", a.URL, b.URL)
	if res.code != exitOK {
		t.Fatalf("exit %d: %s", res.code, res.stderr)
	}
	var doc compare.Document
	if err := json.Unmarshal([]byte(res.stdout), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Before.Windows != 4 || doc.After.Windows != 4 || doc.Design != compare.DesignSameSpan {
		t.Errorf("windows %d/%d, design %s; want 4/4, same span", doc.Before.Windows, doc.After.Windows, doc.Design)
	}
	if v := doc.Figures[0].Verdict; v != compare.VerdictWorse {
		t.Errorf("async_preempt 0.5 %% → 5 %%: %s, want worse", v)
	}
	if !strings.Contains(doc.Before.Source, "4 fresh profiles of 1 s") {
		t.Errorf("source %q", doc.Before.Source)
	}
}
