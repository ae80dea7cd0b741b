package main

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/pprof/profile"

	"github.com/diagkit/diagkit/internal/compare"
	"github.com/diagkit/diagkit/internal/synthprof"
)

// Two 100,000-record CPU profiles of the same synthetic program, profiled
// twice (synthprof.Pair), 4.3 MB gzipped each: what the bench harness's
// compare part gives diagctl compare and go tool pprof -diff_base.
const (
	compareBenchRecords = 100_000
	compareBenchSeed    = 1
)

// BenchmarkCompareProfiles is `diagctl compare -o json BEFORE AFTER` on two
// saved profiles, in-process: the whole command, then its parts. The
// profiles are generated (a few seconds) only when the benchmark runs.
//
//	go test -run '^$' -bench CompareProfiles -benchmem ./cmd/diagctl
func BenchmarkCompareProfiles(b *testing.B) {
	dir := b.TempDir()
	before, after := synthprof.Pair(compareBenchRecords, compareBenchSeed)
	var files [2]string
	var size int64
	for i, name := range []string{"before.pb.gz", "after.pb.gz"} {
		data := synthprof.Encode([]*profile.Profile{before, after}[i])
		files[i] = filepath.Join(dir, name)
		if err := os.WriteFile(files[i], data, 0o644); err != nil {
			b.Fatal(err)
		}
		size += int64(len(data))
	}
	before, after = nil, nil

	// The whole command, as a process runs it: both sides read and
	// analyzed (concurrently), compared, and the JSON written.
	b.Run("command", func(b *testing.B) {
		b.SetBytes(size)
		b.ReportAllocs()
		for b.Loop() {
			if r := runDiagctl(b, nil, "compare", "-o", "json", files[0], files[1]); r.code != exitOK {
				b.Fatalf("exit %d: %s", r.code, r.stderr)
			}
		}
	})

	opts := &compareOptions{output: outputJSON, top: compare.DefaultTop, windows: defaultCompareWindows}
	load := func(b *testing.B) [2]*loadedSide {
		var sides [2]*loadedSide
		for i, f := range files {
			s, err := loadSide(context.Background(), nil, f, opts, nil, nil)
			if err != nil {
				b.Fatal(err)
			}
			sides[i] = s
		}
		return sides
	}
	// Reading both files, one after the other: gunzip, profile.Parse and
	// Analyze of each (the command does the two at the same time).
	b.Run("load", func(b *testing.B) {
		b.SetBytes(size)
		b.ReportAllocs()
		for b.Loop() {
			load(b)
		}
	})

	sides := load(b)
	// The statistics alone, on the two loaded sides.
	b.Run("compare", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			compare.Compare(sides[0].Side, sides[1].Side, compare.Options{Top: opts.top})
		}
	})

	doc := compare.Compare(sides[0].Side, sides[1].Side, compare.Options{Top: opts.top})
	if doc.Before.Windows != 1 || doc.After.Windows != 1 || doc.Tested == 0 {
		b.Fatalf("compared %d and %d windows, tested %d", doc.Before.Windows, doc.After.Windows, doc.Tested)
	}
	b.Run("json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if err := writeJSON(io.Discard, doc); err != nil {
				b.Fatal(err)
			}
		}
	})
}
