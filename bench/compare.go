package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/google/pprof/profile"

	"github.com/diagkit/diagkit/internal/compare"
	"github.com/diagkit/diagkit/internal/synthprof"
)

// benchCompare compares whole processes on a before/after pair of profiles:
// `diagctl compare -o json BEFORE AFTER` against `pprof -top -diff_base
// BEFORE AFTER`, the resolved pprof binary and the literal `go tool pprof`.
// No target: the figures are for BENCHMARKS.md.
func benchCompare(c config) error {
	root, err := moduleRoot(c.goCmd)
	if err != nil {
		return err
	}
	dir, done, err := tempDir(c, "compare", "diagkit-bench-compare-")
	if err != nil {
		return err
	}
	defer done()

	logf("compare: generating two %d-record profiles of the same program", c.records)
	bp, ap := synthprof.Pair(c.records, c.seed)
	var files [2]string
	var sizes [2]int
	var samples [2]int64
	for i, p := range []*profile.Profile{bp, ap} {
		data := synthprof.Encode(p)
		files[i] = filepath.Join(dir, fmt.Sprintf("%s-%d.pb.gz", [2]string{"before", "after"}[i], c.records))
		if err := os.WriteFile(files[i], data, 0o644); err != nil {
			return err
		}
		sizes[i] = len(data)
		for _, s := range p.Sample {
			samples[i] += s.Value[0]
		}
	}
	both, inBefore := sharedFunctions(bp, ap)
	locations := len(bp.Location)
	bp, ap = nil, nil // garbage before the timed runs

	pprofBin, err := resolvePprof(c)
	if err != nil {
		return err
	}
	diagctl := c.diagctl
	if diagctl == "" {
		if diagctl, err = buildDiagctl(c, root, dir); err != nil {
			return err
		}
	}

	cmds := []command{
		{name: "diagctl compare", argv: []string{diagctl, "compare", "-o", "json", files[0], files[1]}},
		{name: "pprof -diff_base", argv: []string{pprofBin, "-top", "-diff_base", files[0], files[1]}},
		{name: "go tool pprof -diff_base", argv: []string{c.goCmd, "tool", "pprof", "-top", "-diff_base", files[0], files[1]}},
	}
	// One checked run of each: it must succeed; diagctl must have compared
	// the two profiles whole, and pprof printed a table. It also warms the
	// page cache and the go command's.
	for i := range cmds {
		out, err := cmds[i].check(root)
		if err != nil {
			return err
		}
		if i == 0 {
			if err := checkCompareDoc(out, samples); err != nil {
				return err
			}
		} else if !strings.Contains(string(out), "flat%") {
			return fmt.Errorf("%s printed no top table:\n%s", strings.Join(cmds[i].argv, " "), firstLine(string(out)))
		}
	}

	logf("compare: %d rounds of diagctl compare, pprof -diff_base, go tool pprof -diff_base (order reversed every other round)", c.pairs)
	load := newLoadTracker()
	wall, cpu, err := interleave(cmds, root, c.pairs, func(i int) {
		load.sample()
		if (i+1)%5 == 0 && i+1 < c.pairs {
			logf("compare: %d of %d rounds, load average %s", i+1, c.pairs, loadavg())
		}
	})
	load.stop()
	if err != nil {
		return err
	}
	speedup := ratiosTo

	fmt.Printf("### diagctl compare vs pprof -diff_base, whole process (two %d-record profiles, %.1f and %.1f MB gzipped, %d locations each, %d of before's %d functions with samples in both)\n\n",
		c.records, float64(sizes[0])/1e6, float64(sizes[1])/1e6, locations, both, inBefore)
	fmt.Printf("%d rounds; each runs `diagctl compare -o json BEFORE AFTER`, `pprof -top -diff_base BEFORE AFTER` (the binary `go tool pprof` runs: %s) and `go tool pprof -top -diff_base BEFORE AFTER`, in that order on even rounds and reversed on odd ones, stdout and stderr to /dev/null. Wall clock from start to exit of each process, CPU time (user + sys) from its rusage; speed-up = pprof's / diagctl's within the round. %s.\n\n",
		c.pairs, tilde(pprofBin), load)
	fmt.Println("| speed-up of diagctl compare over | pairs | median | min | max | IQR (p25–p75) |")
	fmt.Println("|---|---|---|---|---|---|")
	for _, row := range []struct {
		label string
		m     [][]float64
		k     int
	}{
		{"`pprof -top -diff_base` (resolved binary), wall", wall, 1},
		{"`go tool pprof -top -diff_base` (literal), wall", wall, 2},
		{"`pprof -top -diff_base` (resolved binary), CPU time", cpu, 1},
		{"`go tool pprof -top -diff_base` (literal), CPU time", cpu, 2},
	} {
		s := summarize(speedup(row.m, row.k))
		fmt.Printf("| %s | %d | **%.2f×** | %.2f× | %.2f× | %.2f×–%.2f× |\n",
			row.label, s.n, s.median, s.min, s.max, s.p25, s.p75)
	}
	fmt.Println()
	fmt.Println("| per run (absolute, noisy) | median wall | wall range | median CPU | CPU range | CPU / wall |")
	fmt.Println("|---|---|---|---|---|---|")
	for k := range cmds {
		w, cp := summarize(wall[k]), summarize(cpu[k])
		fmt.Printf("| %s | %.0f ms | %.0f–%.0f ms | %.0f ms | %.0f–%.0f ms | %.2f |\n",
			cmds[k].name, 1000*w.median, 1000*w.min, 1000*w.max, 1000*cp.median, 1000*cp.min, 1000*cp.max, cp.median/w.median)
	}
	fmt.Println()
	return nil
}

// checkCompareDoc checks diagctl compare's JSON: a comparison of one window
// a side holding every sample of each profile.
func checkCompareDoc(out []byte, samples [2]int64) error {
	var doc compare.Document
	if err := json.Unmarshal(out, &doc); err != nil {
		return fmt.Errorf("diagctl compare -o json printed something else than a comparison: %v", err)
	}
	if doc.Schema != compare.Schema {
		return fmt.Errorf("diagctl compare -o json: schema %q, want %q", doc.Schema, compare.Schema)
	}
	for i, s := range []compare.SideSummary{doc.Before, doc.After} {
		if s.Windows != 1 || s.Samples != samples[i] {
			return fmt.Errorf("diagctl compare: %s has %d windows and %d samples, want 1 and %d",
				[2]string{"before", "after"}[i], s.Windows, s.Samples, samples[i])
		}
	}
	// One window a side gives intervals (Newcombe's, approximate) but no
	// verdict, so doc.Tested is 0: the work timed is the intervals.
	for _, r := range doc.Figures {
		if r.Test != "" && r.Low != nil && r.High != nil {
			return nil
		}
	}
	return fmt.Errorf("diagctl compare computed no interval for any figure")
}

// sharedFunctions counts the functions with samples in both profiles, and
// those with samples in a.
func sharedFunctions(a, b *profile.Profile) (both, inA int) {
	names := func(p *profile.Profile) map[string]bool {
		m := map[string]bool{}
		for _, s := range p.Sample {
			for _, l := range s.Location {
				for _, ln := range l.Line {
					m[ln.Function.Name] = true
				}
			}
		}
		return m
	}
	na, nb := names(a), names(b)
	n := 0
	for f := range na {
		if nb[f] {
			n++
		}
	}
	return n, len(na)
}
