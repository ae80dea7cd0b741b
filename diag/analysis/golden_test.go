package analysis

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/pprof/profile"
)

var updateGolden = flag.Bool("update", false, "rewrite testdata/*.golden.json from the recorded profiles")

// The recorded profiles come from the workloads of examples/internal/workload
// (see record_test.go there, which also says how to record them again).
const workloadPkg = "github.com/diagkit/diagkit/examples/internal/workload."

// goldenCases are the recorded profiles, each with the property it exists to
// show.
var goldenCases = []struct {
	name  string
	check func(t *testing.T, p *profile.Profile, r *Report)
}{{
	// Spinning goroutines, GOMAXPROCS 4× the CPUs: async preemption.
	name: "tightloop",
	check: func(t *testing.T, p *profile.Profile, r *Report) {
		if r.Shares.AsyncPreempt <= HighAsyncPreemptShare {
			t.Errorf("async_preempt share %.4f, want above %.2f", r.Shares.AsyncPreempt, HighAsyncPreemptShare)
		}
		if len(r.TopPreempted) == 0 || r.TopPreempted[0].Function != workloadPkg+"spinLoop" {
			t.Errorf("top preempted %+v, want spinLoop first", r.TopPreempted)
		}
		sub := analyzeSamples(t, p, func(s *profile.Sample) bool { return leafName(s) == "runtime.asyncPreempt" })
		if sub.Shares.AsyncPreempt != 1 {
			t.Errorf("samples whose leaf is runtime.asyncPreempt: shares %+v, want all async_preempt", sub.Shares)
		}
		if !strings.HasPrefix(Interpret(r), "Async preemption at") || !strings.Contains(Interpret(r), "spinLoop") {
			t.Errorf("Interpret = %q, want it to blame async preemption and spinLoop", Interpret(r))
		}
	},
}, {
	// Workers spending half their CPU in C (wl_burn), half in Go.
	name: "cgoburn",
	check: func(t *testing.T, p *profile.Profile, r *Report) {
		if r.Shares.Cgo < 0.4 || r.Shares.Cgo > 0.6 {
			t.Errorf("cgo share %.4f, want about the 0.5 the workload spent in C", r.Shares.Cgo)
		}
		if len(r.TopCgoCalls) == 0 || r.TopCgoCalls[0].CFunction != "wl_burn" ||
			r.TopCgoCalls[0].Function != workloadPkg+"burnWorker" {
			t.Errorf("top cgo calls %+v, want burnWorker calling wl_burn first", r.TopCgoCalls)
		}
		sub := analyzeSamples(t, p, func(s *profile.Sample) bool { return hasFunction(s, workloadPkg+"goSpin") })
		if sub.Shares.Cgo != 0 {
			t.Errorf("samples in the Go chunks (goSpin): shares %+v, want no cgo", sub.Shares)
		}
	},
}, {
	// A flood of cgo calls to a C function that does almost nothing.
	name: "cgotiny",
	check: func(t *testing.T, p *profile.Profile, r *Report) {
		if r.Buckets[BucketCgoCrossing].Share <= 0 {
			t.Errorf("cgo_crossing share %.4f, want some", r.Buckets[BucketCgoCrossing].Share)
		}
		if r.Shares.Cgo < 0.5 {
			t.Errorf("cgo share %.4f, want most of the CPU", r.Shares.Cgo)
		}
		if len(r.TopCgoCalls) == 0 || r.TopCgoCalls[0].CFunction != "wl_tiny" ||
			r.TopCgoCalls[0].Function != workloadPkg+"CgoTiny" {
			t.Errorf("top cgo calls %+v, want CgoTiny calling wl_tiny first", r.TopCgoCalls)
		}
	},
}, {
	// A thread created by C, unknown to Go, burning CPU.
	name: "cthread",
	check: func(t *testing.T, p *profile.Profile, r *Report) {
		if r.Shares.External <= 0.9 {
			t.Errorf("external share %.4f, want nearly all", r.Shares.External)
		}
		sub := analyzeSamples(t, p, func(s *profile.Sample) bool { return hasFunction(s, "runtime._ExternalCode") })
		if sub.Buckets[BucketExternalThread].Share != 1 {
			t.Errorf("samples under runtime._ExternalCode: buckets %+v, want all external_thread", sub.Buckets)
		}
	},
}, {
	// Go calling C calling back into Go, where the work is.
	name: "callback",
	check: func(t *testing.T, p *profile.Profile, r *Report) {
		if r.Shares.Go < 0.9 || r.Shares.Cgo > 0.1 {
			t.Errorf("shares %+v, want nearly all go and little cgo", r.Shares)
		}
		sub := analyzeSamples(t, p, func(s *profile.Sample) bool { return leafName(s) == workloadPkg+"workloadCallback" })
		if sub.Samples == 0 || sub.Shares.Go != 1 {
			t.Errorf("samples in the exported callback: %d, shares %+v, want all go", sub.Samples, sub.Shares)
		}
	},
}}

// TestGolden analyzes each recorded profile, compares the JSON report with
// testdata/<name>.golden.json (go test -run TestGolden -update rewrites
// them), and checks the property the profile was recorded to show.
func TestGolden(t *testing.T) {
	for _, gc := range goldenCases {
		t.Run(gc.name, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join("testdata", gc.name+".pprof"))
			if err != nil {
				t.Fatal(err)
			}
			r, err := AnalyzeBytes(data, Options{})
			if err != nil {
				t.Fatal(err)
			}
			got, err := json.MarshalIndent(r, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, '\n')

			golden := filepath.Join("testdata", gc.name+".golden.json")
			if *updateGolden {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
			} else if want, err := os.ReadFile(golden); err != nil {
				t.Errorf("%v (go test -run TestGolden -update writes it)", err)
			} else if !bytes.Equal(got, want) {
				t.Errorf("report differs from %s at %s\n(if the change is intended: go test -run TestGolden -update)",
					golden, firstDifference(got, want))
			}

			checkSumsToOne(t, r)
			p, err := Parse(data)
			if err != nil {
				t.Fatal(err)
			}
			gc.check(t, p, r)
		})
	}
}

// checkSumsToOne checks that the buckets, and the headline shares, each
// account for all of the profile's CPU and samples.
func checkSumsToOne(t *testing.T, r *Report) {
	t.Helper()
	var buckets float64
	var samples int64
	for _, b := range Buckets {
		buckets += r.Buckets[b].Share
		samples += r.Buckets[b].Samples
	}
	if math.Abs(buckets-1) > 1e-9 {
		t.Errorf("bucket shares sum to %.12f, want 1", buckets)
	}
	if samples != r.Samples {
		t.Errorf("bucket samples sum to %d, want %d", samples, r.Samples)
	}
	s := r.Shares
	if sum := s.Go + s.AsyncPreempt + s.PreemptSched + s.Cgo + s.External + s.RuntimeNoStack; math.Abs(sum-1) > 1e-9 {
		t.Errorf("shares sum to %.12f, want 1", sum)
	}
}

// analyzeSamples analyzes the samples of p that keep selects, alone.
func analyzeSamples(t *testing.T, p *profile.Profile, keep func(*profile.Sample) bool) *Report {
	t.Helper()
	q := p.Copy()
	q.Sample = q.Sample[:0]
	for _, s := range p.Copy().Sample {
		if keep(s) {
			q.Sample = append(q.Sample, s)
		}
	}
	r, err := Analyze(q, Options{})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// leafName is the function a sample's stack ends in, inlined frames
// expanded.
func leafName(s *profile.Sample) string {
	if len(s.Location) == 0 || len(s.Location[0].Line) == 0 || s.Location[0].Line[0].Function == nil {
		return ""
	}
	return s.Location[0].Line[0].Function.Name
}

func hasFunction(s *profile.Sample, name string) bool {
	for _, loc := range s.Location {
		for _, ln := range loc.Line {
			if ln.Function != nil && ln.Function.Name == name {
				return true
			}
		}
	}
	return false
}

// firstDifference locates the first line where got and want differ.
func firstDifference(got, want []byte) string {
	g, w := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
	for i := range max(len(g), len(w)) {
		var gl, wl string
		if i < len(g) {
			gl = g[i]
		}
		if i < len(w) {
			wl = w[i]
		}
		if gl != wl {
			return fmt.Sprintf("line %d:\n  got:  %s\n  want: %s", i+1, strings.TrimSpace(gl), strings.TrimSpace(wl))
		}
	}
	return "(no line differs)"
}
