package analysis

import (
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"testing"
)

var writeCorpus = flag.Bool("write-corpus", false, "rewrite the generated seeds in testdata/fuzz/FuzzAnalyzeBytes")

// FuzzAnalyzeBytes feeds arbitrary bytes to the analysis. Whatever the input,
// it must not panic, and a report it returns must be sane: finite, shares in
// [0, 1] that sum to 1 when there is CPU time. The seed corpus in
// testdata/fuzz/FuzzAnalyzeBytes holds real recorded profiles, synthetic ones
// for every rule, and broken variants of them.
func FuzzAnalyzeBytes(f *testing.F) {
	for _, seed := range generatedSeeds(f) {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := AnalyzeBytes(data, Options{})
		if err != nil {
			if r != nil {
				t.Fatalf("report and error both returned: %v", err)
			}
			return
		}
		checkReportSane(t, r)
	})
}

func checkReportSane(t *testing.T, r *Report) {
	t.Helper()
	if _, err := json.Marshal(r); err != nil {
		t.Fatalf("report does not encode (NaN or Inf?): %v", err)
	}
	var sum float64
	for _, b := range Buckets {
		s := r.Buckets[b].Share
		if s < 0 || s > 1 || math.IsNaN(s) {
			t.Fatalf("bucket %s share %v out of [0,1]", b, s)
		}
		sum += s
	}
	s := r.Shares
	for _, v := range []float64{s.Go, s.AsyncPreempt, s.PreemptSched, s.Cgo, s.External, s.RuntimeNoStack} {
		if v < 0 || v > 1 {
			t.Fatalf("share %v out of [0,1]: %+v", v, s)
		}
	}
	if r.CPUSeconds > 0 && math.Abs(sum-1) > 1e-6 {
		t.Fatalf("bucket shares sum to %v with %v CPU seconds", sum, r.CPUSeconds)
	}
	if r.CPUSeconds < 0 || r.Samples < 0 || r.DurationSeconds < 0 || r.PeriodSeconds < 0 {
		t.Fatalf("negative totals: %+v", r)
	}
}

// generatedSeeds are synthetic profiles covering every classification rule,
// plus broken encodings of them. With -write-corpus they are also written to
// testdata/fuzz/FuzzAnalyzeBytes, next to the recorded profiles' seeds.
func generatedSeeds(f *testing.F) [][]byte {
	p := cpuProfile(f,
		sampleSpec{stack: stack{spin, mainMain}, cpu: 10_000_000},
		sampleSpec{stack: stack{asyncPreempt, "main.inner@/app/m.go:7+main.outer@/app/m.go:30"}, cpu: 20_000_000},
		sampleSpec{stack: stack{asyncPreempt2, asyncPreempt, spin}, cpu: 10_000_000},
		sampleSpec{stack: stack{cgocall, cfuncBurn, work}, cpu: 30_000_000},
		sampleSpec{stack: stack{cUnnamed, asmcgocall, cgocall, cfuncBurn, work}, cpu: 10_000_000},
		sampleSpec{stack: stack{exitsyscall, cgocall, cfuncTiny, mainMain}, cpu: 10_000_000},
		sampleSpec{stack: stack{goCallback, cgoexp, cgocallbackg1, cgocallbackg, cgocallback, cUnnamed, asmcgocall, cgocall, cfuncBurn, work}, cpu: 10_000_000},
		sampleSpec{stack: stack{cUnnamed, externalCode}, cpu: 10_000_000},
		sampleSpec{stack: stack{lostExternal, externalCode}, cpu: 30_000_000, count: 3},
		sampleSpec{stack: stack{externalCode, system}, cpu: 10_000_000},
		sampleSpec{stack: stack{vdso, system}, cpu: 10_000_000},
		sampleSpec{stack: stack{"?", "?"}, cpu: 10_000_000},
	)
	gz := encode(f, p)
	var raw []byte
	{
		var buf bytesBuffer
		if err := p.WriteUncompressed(&buf); err != nil {
			f.Fatal(err)
		}
		raw = buf.b
	}
	seeds := map[string][]byte{
		"synthetic-gzip":      gz,
		"synthetic-raw":       raw,
		"synthetic-truncated": gz[:len(gz)*2/3],
		"synthetic-raw-cut":   raw[:len(raw)/2],
		"empty-cpu-profile":   encode(f, cpuProfile(f)),
		"garbage":             []byte("not a profile at all"),
		"legacy-text":         []byte("--- contention:\ncycles/second=3000000000\n"),
	}
	if *writeCorpus {
		dir := filepath.Join("testdata", "fuzz", "FuzzAnalyzeBytes")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			f.Fatal(err)
		}
		for name, data := range seeds {
			content := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", data)
			if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
				f.Fatal(err)
			}
		}
	}
	out := make([][]byte, 0, len(seeds))
	for _, data := range seeds {
		out = append(out, data)
	}
	return out
}

type bytesBuffer struct{ b []byte }

func (w *bytesBuffer) Write(p []byte) (int, error) { w.b = append(w.b, p...); return len(p), nil }
