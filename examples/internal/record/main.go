// Command record records the CPU profiles that diag/analysis's golden tests
// read (diag/analysis/testdata/*.pprof): real workloads from
// examples/internal/workload, each checked to show what it exists to show.
// They are recorded once and committed. To record them again, on an
// otherwise idle machine, from the repository's root:
//
//	go generate ./diag/analysis
//
// (which runs go run -trimpath ./examples/internal/record, so that no
// local path ends up in them), then review and rewrite the goldens:
//
//	go test ./diag/analysis -run TestGolden -update
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"log"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"time"

	"github.com/diagkit/diagkit/diag/analysis"
	"github.com/diagkit/diagkit/examples/internal/workload"
)

const (
	recordDuration = 4 * time.Second
	recordMaxBytes = 100 << 10
)

// recording is one fixture: the workload to run, and a check that its
// profile shows what it exists to show.
type recording struct {
	name string
	// run runs the workload until ctx is done; its result, if any, is
	// handed to check.
	run   func(ctx context.Context) float64
	check func(r *analysis.Report, result float64) error
}

const workloadPkg = "github.com/diagkit/diagkit/examples/internal/workload."

var recordings = []recording{{
	name: "tightloop",
	run: func(ctx context.Context) float64 {
		// The standard demonstration: GOMAXPROCS at 4× the CPUs and twice
		// as many spinning goroutines as Ps.
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(4 * runtime.NumCPU()))
		workload.TightLoops(ctx, 2*4*runtime.NumCPU())
		return 0
	},
	check: func(r *analysis.Report, _ float64) error {
		if r.Shares.AsyncPreempt < 0.05 {
			return fmt.Errorf("async_preempt share %.4f, want a substantial one (> 5%%)", r.Shares.AsyncPreempt)
		}
		if len(r.TopPreempted) == 0 || r.TopPreempted[0].Function != workloadPkg+"spinLoop" {
			return fmt.Errorf("top preempted %+v, want spinLoop first", r.TopPreempted)
		}
		return nil
	},
}, {
	name: "cgoburn",
	run: func(ctx context.Context) float64 {
		return workload.CgoBurn(ctx, 0.5, runtime.GOMAXPROCS(0))
	},
	check: func(r *analysis.Report, measured float64) error {
		if d := math.Abs(r.Shares.Cgo - measured); d > 0.05 {
			return fmt.Errorf("cgo share %.4f, measured C fraction %.4f", r.Shares.Cgo, measured)
		}
		return quiet(r)
	},
}, {
	name: "cgotiny",
	run: func(ctx context.Context) float64 {
		workload.CgoTiny(ctx)
		return 0
	},
	check: func(r *analysis.Report, _ float64) error {
		if r.Buckets[analysis.BucketCgoCrossing].Share < 0.05 {
			return fmt.Errorf("cgo_crossing share %.4f, want > 5%%", r.Buckets[analysis.BucketCgoCrossing].Share)
		}
		if len(r.TopCgoCalls) == 0 || r.TopCgoCalls[0].CFunction != "wl_tiny" {
			return fmt.Errorf("top cgo calls %+v, want wl_tiny first", r.TopCgoCalls)
		}
		return quiet(r)
	},
}, {
	name: "cthread",
	run: func(ctx context.Context) float64 {
		workload.CThread(ctx)
		return 0
	},
	check: func(r *analysis.Report, _ float64) error {
		if r.Shares.External < 0.9 {
			return fmt.Errorf("external share %.4f, want nearly all", r.Shares.External)
		}
		return quiet(r)
	},
}, {
	name: "callback",
	run: func(ctx context.Context) float64 {
		workload.Callback(ctx)
		return 0
	},
	check: func(r *analysis.Report, _ float64) error {
		if r.Shares.Go < 0.9 {
			return fmt.Errorf("go share %.4f, want nearly all", r.Shares.Go)
		}
		return quiet(r)
	},
}}

// quiet rejects a profile recorded while other processes competed for the
// CPU: their mark is async preemption in workloads that should have none.
func quiet(r *analysis.Report) error {
	if r.Shares.AsyncPreempt > 0.02 {
		return fmt.Errorf("async_preempt share %.4f: the machine was busy; record on an idle one", r.Shares.AsyncPreempt)
	}
	return nil
}

func main() {
	out := flag.String("out", "diag/analysis/testdata", "directory to write the fixtures to")
	only := flag.String("only", "", "record only the fixture of this name")
	flag.Parse()
	if builtWith("-race") {
		log.Fatal("record without -race: the race detector's frames would end up in the fixtures")
	}
	if !builtWith("-trimpath") {
		log.Fatal("record with go run -trimpath, so that the fixtures hold no local paths")
	}
	failed := false
	for _, rec := range recordings {
		if *only != "" && rec.name != *only {
			continue
		}
		if err := record(rec, *out); err != nil {
			log.Printf("%s: not recorded: %v", rec.name, err)
			failed = true
		}
	}
	if failed {
		os.Exit(1)
	}
}

// record runs one workload under the CPU profiler, checks its profile and
// writes it to dir.
func record(rec recording, dir string) error {
	var buf bytes.Buffer
	if err := pprof.StartCPUProfile(&buf); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), recordDuration)
	result := rec.run(ctx)
	cancel()
	pprof.StopCPUProfile()

	r, err := analysis.AnalyzeBytes(buf.Bytes(), analysis.Options{})
	if err != nil {
		return err
	}
	log.Printf("%s: %d bytes, %d samples, result %.4f, shares %+v", rec.name, buf.Len(), r.Samples, result, r.Shares)
	if err := rec.check(r, result); err != nil {
		return err
	}
	if buf.Len() > recordMaxBytes {
		return fmt.Errorf("%d bytes, more than %d", buf.Len(), recordMaxBytes)
	}
	return os.WriteFile(filepath.Join(dir, rec.name+".pprof"), buf.Bytes(), 0o644)
}

// builtWith reports whether the binary was built with a boolean build flag
// (-race, -trimpath).
func builtWith(flagName string) bool {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return false
	}
	for _, s := range info.Settings {
		if s.Key == flagName {
			return s.Value == "true"
		}
	}
	return false
}
