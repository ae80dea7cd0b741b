package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/pprof/profile"

	"github.com/diagkit/diagkit/diag/analysis"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// checkGolden compares got with testdata/name, or rewrites the file with
// -update.
func checkGolden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("output differs from %s (run go test -update to accept it)\ngot:\n%s\nwant:\n%s", path, got, want)
	}
}

func TestPreemptShareTable(t *testing.T) {
	t.Parallel()
	noPeriod := newCPUProfile()
	noPeriod.p.PeriodType, noPeriod.p.Period, noPeriod.p.DurationNanos = nil, 0, 0
	leaf := noPeriod.location(frame{"main.loop", "/src/app/loop.go", 9})
	noPeriod.sample(cpu(7), leaf)
	noPeriod.sample([]int64{1, 0}, leaf) // a zero value: skipped with a note

	tests := []struct {
		name   string
		p      *profile.Profile
		args   []string
		golden string
	}{
		{"full", testProfile(), nil, "preempt-share.golden"},
		{"top 1", testProfile(), []string{"--top", "1"}, "preempt-share-top1.golden"},
		{"no lists", testProfile(), []string{"--top", "0"}, "preempt-share-top0.golden"},
		{"no samples", newCPUProfile().p, nil, "preempt-share-idle.golden"},
		{"notes", noPeriod.p, nil, "preempt-share-notes.golden"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			path := writeProfile(t, tt.p, "cpu.pb.gz")
			res := runDiagctl(t, nil, append(append([]string{"preempt-share"}, tt.args...), path)...)
			if res.code != exitOK {
				t.Fatalf("exit %d: %s", res.code, res.stderr)
			}
			out := strings.ReplaceAll(res.stdout, path, "cpu.pb.gz")
			checkGolden(t, tt.golden, out)
			for i, line := range strings.Split(out, "\n") {
				if n := utf8.RuneCountInString(line); n > lineWidth {
					t.Errorf("line %d is %d columns, more than %d: %q", i+1, n, lineWidth, line)
				}
				if strings.TrimRight(line, " ") != line {
					t.Errorf("line %d has trailing spaces: %q", i+1, line)
				}
			}
		})
	}
}

func TestPreemptShareJSON(t *testing.T) {
	t.Parallel()
	path := writeProfile(t, testProfile(), "cpu.pb.gz")
	for _, args := range [][]string{
		{"preempt-share", "-o", "json", path},
		{"preempt-share", "--output", "json", path},
		{"preempt-share", "--output=json", "--top", "1", path},
	} {
		t.Run(strings.Join(args[1:len(args)-1], " "), func(t *testing.T) {
			t.Parallel()
			res := runDiagctl(t, nil, args...)
			if res.code != exitOK || res.stderr != "" {
				t.Fatalf("exit %d: %s", res.code, res.stderr)
			}
			// Exactly one JSON document on stdout, nothing else.
			dec := json.NewDecoder(strings.NewReader(res.stdout))
			var keys map[string]json.RawMessage
			if err := dec.Decode(&keys); err != nil {
				t.Fatalf("stdout is not a JSON object: %v\n%s", err, res.stdout)
			}
			if _, err := dec.Token(); err != io.EOF {
				t.Fatalf("stdout has more than one JSON document (%v)", err)
			}
			for _, k := range []string{"schema", "samples", "cpu_seconds", "duration_seconds", "shares", "buckets"} {
				if _, ok := keys[k]; !ok {
					t.Errorf("JSON has no %q key", k)
				}
			}
			var shares map[string]float64
			if err := json.Unmarshal(keys["shares"], &shares); err != nil {
				t.Fatal(err)
			}
			for _, k := range []string{"async_preempt", "cgo", "external"} {
				if _, ok := shares[k]; !ok {
					t.Errorf("shares has no %q key", k)
				}
			}

			var r analysis.Report
			if err := json.Unmarshal([]byte(res.stdout), &r); err != nil {
				t.Fatal(err)
			}
			if r.Schema != analysis.Schema || r.Samples != 100 || r.CPUSeconds != 1 || r.DurationSeconds != 2 {
				t.Errorf("report header = %q %d samples %v s CPU %v s long, want %q 100 1 2",
					r.Schema, r.Samples, r.CPUSeconds, r.DurationSeconds, analysis.Schema)
			}
			if r.Shares.AsyncPreempt != 0.3 || r.Shares.Cgo != 0.2 || r.Shares.Go != 0.5 {
				t.Errorf("shares = %+v, want async_preempt 0.3, cgo 0.2, go 0.5", r.Shares)
			}
			if len(r.TopPreempted) == 0 || r.TopPreempted[0].Function != "main.spin" {
				t.Errorf("top_preempted = %+v, want main.spin first", r.TopPreempted)
			}
			if len(r.TopCgoCalls) != 1 || r.TopCgoCalls[0].Function != "main.work" || r.TopCgoCalls[0].CFunction != "burn" {
				t.Errorf("top_cgo_calls = %+v, want main.work → burn", r.TopCgoCalls)
			}
			if args[len(args)-2] == "1" && len(r.TopPreempted) != 1 {
				t.Errorf("--top 1: %d top_preempted entries", len(r.TopPreempted))
			}
			// The JSON carries names in full; only the table shortens them.
			if !strings.Contains(res.stdout, `"github.com/example/internal/checksums/fletcher.(*Accumulator).updateWithVeryLongName"`) &&
				len(r.TopPreempted) > 1 {
				t.Errorf("JSON does not have the full function name")
			}
		})
	}
}

// TestPreemptShareStdin reads the profile from standard input, gzipped and
// not, and checks that the result is the same as from the file.
func TestPreemptShareStdin(t *testing.T) {
	t.Parallel()
	p := testProfile()
	var gz, raw bytes.Buffer
	if err := p.Write(&gz); err != nil {
		t.Fatal(err)
	}
	if err := p.WriteUncompressed(&raw); err != nil {
		t.Fatal(err)
	}
	path := writeFile(t, "cpu.pb.gz", gz.Bytes())
	fromFile := runDiagctl(t, nil, "preempt-share", "-o", "json", path)
	if fromFile.code != exitOK {
		t.Fatalf("from file: exit %d: %s", fromFile.code, fromFile.stderr)
	}
	tests := []struct {
		name  string
		stdin []byte
		code  int
		err   string
	}{
		{"gzipped", gz.Bytes(), exitOK, ""},
		{"uncompressed", raw.Bytes(), exitOK, ""},
		{"empty", nil, exitError, "diagctl: stdin: file is empty"},
		{"garbage", []byte("garbage"), exitError, "diagctl: stdin: invalid profile"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			res := runDiagctl(t, bytes.NewReader(tt.stdin), "preempt-share", "-o", "json", "-")
			if res.code != tt.code {
				t.Fatalf("exit %d, want %d: %s", res.code, tt.code, res.stderr)
			}
			if tt.code == exitOK && res.stdout != fromFile.stdout {
				t.Errorf("report from stdin differs from the report from the file:\n%s\nvs\n%s", res.stdout, fromFile.stdout)
			}
			if !strings.HasPrefix(res.stderr, tt.err) {
				t.Errorf("stderr = %q, want prefix %q", res.stderr, tt.err)
			}
		})
	}

	t.Run("table names stdin", func(t *testing.T) {
		t.Parallel()
		res := runDiagctl(t, bytes.NewReader(gz.Bytes()), "preempt-share", "-")
		if res.code != exitOK || !strings.HasPrefix(res.stdout, "Profile   stdin\n") {
			t.Errorf("exit %d, output:\n%s", res.code, res.stdout)
		}
	})
}
