package analysis

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/google/pprof/profile"
)

func TestTopPreemptedExpandsInlinedFrames(t *testing.T) {
	p := cpuProfile(t,
		// main.inner was inlined into main.outer: the interrupted function is
		// main.inner, at the line inside it.
		sampleSpec{stack: stack{asyncPreempt, "main.inner@/app/m.go:7+main.outer@/app/m.go:30", mainMain}, cpu: 50_000_000},
		sampleSpec{stack: stack{asyncPreempt, "main.inner@/app/m.go:8+main.outer@/app/m.go:30", mainMain}, cpu: 20_000_000},
		sampleSpec{stack: stack{asyncPreempt, spin, mainMain}, cpu: 10_000_000},
		sampleSpec{stack: stack{spin, mainMain}, cpu: 120_000_000},
	)
	r, err := Analyze(p, Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := []FuncStat{
		{Function: "main.inner", File: "/app/m.go", Line: 7, Inlined: true, Samples: 7, CPUSeconds: 0.07, Share: 0.35},
		{Function: "main.spin", File: "/app/main.go", Line: 12, Samples: 1, CPUSeconds: 0.01, Share: 0.05},
	}
	assertFuncStats(t, r.TopPreempted, want)
	if got := r.Shares.AsyncPreempt; !near(got, 0.40) {
		t.Errorf("async_preempt share = %v, want 0.40", got)
	}
}

func TestTopCgoCalls(t *testing.T) {
	p := cpuProfile(t,
		sampleSpec{stack: stack{cgocall, cfuncBurn, work, mainMain}, cpu: 60_000_000},
		sampleSpec{stack: stack{cUnnamed, asmcgocall, cgocall, "main._Cfunc_burn@_cgo_gotypes.go:61", "main.work@/app/main.go:21", mainMain}, cpu: 10_000_000},
		sampleSpec{stack: stack{exitsyscall, cgocall, cfuncTiny, mainMain, runtimeMain}, cpu: 20_000_000},
		sampleSpec{stack: stack{cfuncTiny, mainMain, runtimeMain}, cpu: 10_000_000},
		// Pointer checks have no stub in the stack: the first Go frame is
		// the call site.
		sampleSpec{stack: stack{"runtime.cgoCheckPointer@/usr/local/go/src/runtime/cgocall.go:600", "main.check@/app/main.go:50", mainMain}, cpu: 10_000_000},
		// C called from a callback is attributed to the callback's call.
		sampleSpec{stack: stack{cUnnamed, asmcgocall, cgocall, "main._Cfunc_inner@_cgo_gotypes.go:80", goCallback, cgoexp, cgocallbackg1, cgocallbackg, cgocallback, cUnnamed, asmcgocall, cgocall, cfuncBurn, work}, cpu: 5_000_000, count: 1},
		sampleSpec{stack: stack{work, mainMain}, cpu: 85_000_000},
	)
	r, err := Analyze(p, Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := []FuncStat{
		{Function: "main.work", CFunction: "burn", File: "/app/main.go", Line: 20, Samples: 7, CPUSeconds: 0.07, Share: 0.35},
		{Function: "main.main", CFunction: "tiny", File: "/app/main.go", Line: 40, Samples: 3, CPUSeconds: 0.03, Share: 0.15},
		{Function: "main.check", File: "/app/main.go", Line: 50, Samples: 1, CPUSeconds: 0.01, Share: 0.05},
		{Function: "main.goCallback", CFunction: "inner", File: "/app/callback.go", Line: 9, Samples: 1, CPUSeconds: 0.005, Share: 0.025},
	}
	assertFuncStats(t, r.TopCgoCalls, want)
	if got := r.Shares.Cgo; !near(got, 0.575) {
		t.Errorf("cgo share = %v, want 0.575", got)
	}
}

func TestTopLimit(t *testing.T) {
	var specs []sampleSpec
	for _, fn := range []string{"main.a", "main.b", "main.c", "main.d"} {
		specs = append(specs, sampleSpec{stack: stack{asyncPreempt, fn + "@/app/x.go:1"}, cpu: 10_000_000})
	}
	p := cpuProfile(t, specs...)
	for _, tt := range []struct{ top, want int }{{0, 4}, {2, 2}, {-1, 0}} {
		r, err := Analyze(p, Options{Top: tt.top})
		if err != nil {
			t.Fatal(err)
		}
		if len(r.TopPreempted) != tt.want {
			t.Errorf("Top %d: %d entries, want %d", tt.top, len(r.TopPreempted), tt.want)
		}
	}
	// Equal CPU lists in name order, so reports are deterministic.
	r, _ := Analyze(p, Options{Top: 2})
	if r.TopPreempted[0].Function != "main.a" || r.TopPreempted[1].Function != "main.b" {
		t.Errorf("tie order = %s, %s; want main.a, main.b", r.TopPreempted[0].Function, r.TopPreempted[1].Function)
	}
}

func TestLostExternalCountsLostSamples(t *testing.T) {
	// The runtime records lost non-Go samples as one record whose count is
	// the number lost (and CPU value count×period).
	p := cpuProfile(t,
		sampleSpec{stack: stack{lostExternal, externalCode}, cpu: 70_000_000, count: 7},
		sampleSpec{stack: stack{spin}, cpu: 30_000_000, count: 3},
	)
	r, err := Analyze(p, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := r.Buckets[BucketExternalLost]; got.Samples != 7 || !near(got.Share, 0.7) {
		t.Errorf("external_lost = %+v, want 7 samples, share 0.7", got)
	}
	if r.Samples != 10 || r.Records != 2 {
		t.Errorf("samples, records = %d, %d; want 10, 2", r.Samples, r.Records)
	}
	if !near(r.Shares.External, 0.7) {
		t.Errorf("external share = %v, want 0.7", r.Shares.External)
	}
}

func TestSharesSumToOne(t *testing.T) {
	p := cpuProfile(t,
		sampleSpec{stack: stack{spin}, cpu: 10_000_000},
		sampleSpec{stack: stack{asyncPreempt, spin}, cpu: 20_000_000},
		sampleSpec{stack: stack{asyncPreempt2, asyncPreempt, spin}, cpu: 30_000_000},
		sampleSpec{stack: stack{cgocall, cfuncBurn, work}, cpu: 40_000_000},
		sampleSpec{stack: stack{cfuncTiny, work}, cpu: 50_000_000},
		sampleSpec{stack: stack{cUnnamed, externalCode}, cpu: 60_000_000},
		sampleSpec{stack: stack{externalCode, system}, cpu: 70_000_000},
		sampleSpec{stack: stack{lostExternal, externalCode}, cpu: 80_000_000},
		sampleSpec{stack: stack{vdso, system}, cpu: 90_000_000},
	)
	r, err := Analyze(p, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var buckets float64
	for _, b := range Buckets {
		if r.Buckets[b].Share == 0 {
			t.Errorf("bucket %s empty; the profile has a sample for every bucket", b)
		}
		buckets += r.Buckets[b].Share
	}
	s := r.Shares
	shares := s.Go + s.AsyncPreempt + s.PreemptSched + s.Cgo + s.External + s.RuntimeNoStack
	if !near(buckets, 1) || !near(shares, 1) {
		t.Errorf("buckets sum to %v, shares to %v; want 1", buckets, shares)
	}
	if !near(r.CPUSeconds, 0.45) || r.PeriodSeconds != 0.01 || r.DurationSeconds != 10 {
		t.Errorf("totals: cpu %v period %v duration %v", r.CPUSeconds, r.PeriodSeconds, r.DurationSeconds)
	}
}

func TestBadInput(t *testing.T) {
	good := encode(t, cpuProfile(t, sampleSpec{stack: stack{spin}, cpu: 10_000_000}))
	heap := &profile.Profile{
		SampleType: []*profile.ValueType{{Type: "alloc_objects", Unit: "count"}, {Type: "alloc_space", Unit: "bytes"}},
		PeriodType: &profile.ValueType{Type: "space", Unit: "bytes"},
	}
	unsymbolized := cpuProfile(t, sampleSpec{stack: stack{"?", "?"}, cpu: 10_000_000})
	var raw bytes.Buffer
	if err := cpuProfile(t, sampleSpec{stack: stack{spin}, cpu: 10_000_000}).WriteUncompressed(&raw); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		data    []byte
		wantErr error
		wantMsg string
	}{
		{"empty", nil, ErrEmpty, "empty input"},
		{"garbage", []byte("this is not a profile"), ErrInvalid, "invalid profile"},
		{"html", []byte("<!DOCTYPE html><html><body>404</body></html>"), ErrInvalid, "invalid profile"},
		{"truncated gzip", good[:len(good)/2], ErrInvalid, "invalid profile"},
		{"gzip of garbage", gzipBytes(t, []byte("\xff\xff\xff\xff garbage")), ErrInvalid, "invalid profile"},
		{"heap profile", encode(t, heap), ErrNotCPUProfile, "sample types: alloc_objects/count, alloc_space/bytes"},
		{"unsymbolized", encode(t, unsymbolized), ErrUnsymbolized, "no symbol information"},
		{"gzipped", good, nil, ""},
		{"not gzipped", raw.Bytes(), nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := AnalyzeBytes(tt.data, Options{})
			if tt.wantErr == nil {
				if err != nil || r.Samples != 1 {
					t.Fatalf("AnalyzeBytes = %+v, %v; want one sample", r, err)
				}
				return
			}
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if !strings.HasPrefix(err.Error(), "analysis: ") || !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("err = %q, want prefix %q and %q", err, "analysis: ", tt.wantMsg)
			}
		})
	}
}

func TestEmptyProfileIsMarkedNotAnError(t *testing.T) {
	p := cpuProfile(t)
	r, err := AnalyzeBytes(encode(t, p), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if r.Samples != 0 || r.CPUSeconds != 0 || len(r.Notes) == 0 {
		t.Errorf("report = %+v; want zero samples and a note", r)
	}
	assertFinite(t, r)
	if got := Interpret(r); !strings.Contains(got, "No CPU time") {
		t.Errorf("Interpret = %q", got)
	}
}

func TestNonPositiveValuesAreSkipped(t *testing.T) {
	p := cpuProfile(t,
		sampleSpec{stack: stack{spin}, cpu: 10_000_000},
		sampleSpec{stack: stack{asyncPreempt, spin}, cpu: -50_000_000, count: 1},
		sampleSpec{stack: stack{cgocall, cfuncBurn}, cpu: 0, count: 1},
	)
	r, err := Analyze(p, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if r.Shares.Go != 1 || r.Samples != 1 || len(r.Notes) != 1 || !strings.Contains(r.Notes[0], "2 sample records") {
		t.Errorf("report = %+v %q; want only the Go sample and a note about 2 skipped records", r.Shares, r.Notes)
	}
	assertFinite(t, r)
}

func TestSparseLocationIDs(t *testing.T) {
	p := cpuProfile(t, sampleSpec{stack: stack{asyncPreempt, spin}, cpu: 10_000_000}, sampleSpec{stack: stack{spin}, cpu: 10_000_000})
	for i, loc := range p.Location {
		loc.ID = uint64(1_000_000_000 * (i + 1))
	}
	r, err := Analyze(p, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !near(r.Shares.AsyncPreempt, 0.5) {
		t.Errorf("async_preempt = %v, want 0.5", r.Shares.AsyncPreempt)
	}
}

func TestAnalyzeRejectsInvalidProfiles(t *testing.T) {
	p := cpuProfile(t, sampleSpec{stack: stack{spin}, cpu: 10_000_000})
	p.Sample[0].Value = p.Sample[0].Value[:1] // fewer values than sample types
	if _, err := Analyze(p, Options{}); !errors.Is(err, ErrInvalid) {
		t.Errorf("err = %v, want ErrInvalid", err)
	}
	if _, err := Analyze(nil, Options{}); !errors.Is(err, ErrInvalid) {
		t.Errorf("nil profile: err = %v, want ErrInvalid", err)
	}
}

// The JSON keys other tools rely on.
func TestReportStableKeys(t *testing.T) {
	r, err := Analyze(cpuProfile(t, sampleSpec{stack: stack{asyncPreempt, spin}, cpu: 10_000_000}), Options{})
	if err != nil {
		t.Fatal(err)
	}
	data, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	if doc["schema"] != "diagkit.report/v1" {
		t.Errorf("schema = %v", doc["schema"])
	}
	if n, ok := doc["samples"].(float64); !ok || n != 1 || n != math.Trunc(n) {
		t.Errorf("samples = %v, want the integer 1", doc["samples"])
	}
	for _, key := range []string{"cpu_seconds", "duration_seconds"} {
		if _, ok := doc[key].(float64); !ok {
			t.Errorf("%s missing or not a number: %v", key, doc[key])
		}
	}
	shares, _ := doc["shares"].(map[string]any)
	for _, key := range []string{"async_preempt", "cgo", "external"} {
		v, ok := shares[key].(float64)
		if !ok || v < 0 || v > 1 {
			t.Errorf("shares.%s = %v, want a fraction", key, shares[key])
		}
	}
	if shares["async_preempt"] != 1.0 {
		t.Errorf("shares.async_preempt = %v, want 1", shares["async_preempt"])
	}
}

func TestInterpret(t *testing.T) {
	tests := []struct {
		name  string
		stack stack
		want  string
	}{
		{"contention", stack{asyncPreempt, spin}, "likely competing for CPU"},
		{"crossing", stack{exitsyscall, cgocall, cfuncTiny}, "batch them"},
		{"c time", stack{cgocall, cfuncBurn}, "SetCgoTraceback"},
		{"external", stack{cUnnamed, externalCode}, "Threads Go does not own"},
		{"healthy", stack{spin}, "not fighting this code"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := Analyze(cpuProfile(t, sampleSpec{stack: tt.stack, cpu: 10_000_000}), Options{})
			if err != nil {
				t.Fatal(err)
			}
			if got := Interpret(r); !strings.Contains(got, tt.want) {
				t.Errorf("Interpret = %q, want it to mention %q", got, tt.want)
			}
		})
	}
}

func assertFuncStats(t *testing.T, got, want []FuncStat) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d entries %+v, want %d %+v", len(got), got, len(want), want)
	}
	for i := range want {
		g, w := got[i], want[i]
		if g.Function != w.Function || g.CFunction != w.CFunction || g.File != w.File || g.Line != w.Line ||
			g.Inlined != w.Inlined || g.Samples != w.Samples || !near(g.CPUSeconds, w.CPUSeconds) || !near(g.Share, w.Share) {
			t.Errorf("entry %d = %+v, want %+v", i, g, w)
		}
	}
}

// assertFinite checks a report has no NaN or Inf anywhere JSON would carry.
func assertFinite(t *testing.T, r *Report) {
	t.Helper()
	if _, err := json.Marshal(r); err != nil {
		t.Fatalf("report does not encode: %v", err)
	}
}

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

func gzipBytes(t *testing.T, data []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(data)
	zw.Close()
	return buf.Bytes()
}

func TestNilSampleTypeIsAnErrorNotAPanic(t *testing.T) {
	p := cpuProfile(t, sampleSpec{stack: stack{spin}, cpu: 10_000_000})
	p.SampleType[0] = nil
	if _, err := Analyze(p, Options{}); !errors.Is(err, ErrInvalid) {
		t.Errorf("err = %v, want ErrInvalid", err)
	}
}

// A gzip bomb is refused once it inflates past the bound, before it can
// exhaust memory.
func TestGzipBombIsRefused(t *testing.T) {
	defer func(old int64) { maxDecompressed = old }(maxDecompressed)
	maxDecompressed = 1 << 20
	bomb := gzipBytes(t, make([]byte, 4<<20)) // 4 MiB of zeros: ~4 KiB gzipped
	if len(bomb) > 64<<10 {
		t.Fatalf("bomb is %d bytes", len(bomb))
	}
	_, err := AnalyzeBytes(bomb, Options{})
	if !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "more than 1 MiB") {
		t.Fatalf("err = %v, want ErrTooLarge", err)
	}
	// A real profile under the bound still parses.
	good := encode(t, cpuProfile(t, sampleSpec{stack: stack{spin}, cpu: 10_000_000}))
	if _, err := AnalyzeBytes(good, Options{}); err != nil {
		t.Fatal(err)
	}
}
