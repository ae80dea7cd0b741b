package analysis_test

import (
	"bytes"
	"sync"
	"testing"

	"github.com/google/pprof/profile"

	"github.com/diagkit/diagkit/diag/analysis"
	"github.com/diagkit/diagkit/internal/synthprof"
)

// The benchmarks share one synthetic profile: 10,000 distinct stacks shaped
// like runtime/pprof's output (see internal/synthprof). It is built on first
// use, so plain `go test` (without -bench) never pays for it.
const (
	benchRecords = 10_000
	benchSeed    = 1
)

var benchData = sync.OnceValues(func() ([]byte, *profile.Profile) {
	data := synthprof.Bytes(benchRecords, benchSeed)
	p, err := profile.Parse(bytes.NewReader(data))
	if err != nil {
		panic(err)
	}
	return data, p
})

// BenchmarkParse10k is the cost Analyze is measured against: profile.Parse of
// the gzipped bytes, what every caller pays before analysis.
func BenchmarkParse10k(b *testing.B) {
	data, _ := benchData()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := profile.Parse(bytes.NewReader(data)); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAnalyze10k is the analysis alone, on an already parsed profile.
func BenchmarkAnalyze10k(b *testing.B) {
	_, p := benchData()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := analysis.Analyze(p, analysis.Options{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAnalyzeBytes10k is parse plus analysis, what diagctl does with a
// file's bytes.
func BenchmarkAnalyzeBytes10k(b *testing.B) {
	data, _ := benchData()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := analysis.AnalyzeBytes(data, analysis.Options{}); err != nil {
			b.Fatal(err)
		}
	}
}
