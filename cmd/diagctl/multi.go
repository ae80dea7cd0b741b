package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"sync"

	"github.com/spf13/cobra"

	"github.com/diagkit/diagkit/diag/analysis"
)

// maxTargets bounds a targets file.
const maxTargets = 10_000

// readTargetsFile reads targets one per line; blank lines and # comments are
// skipped.
func readTargetsFile(name string) ([]string, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, fileError(name, err)
	}
	defer f.Close()
	var targets []string
	sc := bufio.NewScanner(f)
	for line := 1; sc.Scan(); line++ {
		t := strings.TrimSpace(sc.Text())
		if i := strings.IndexByte(t, '#'); i >= 0 {
			t = strings.TrimSpace(t[:i])
		}
		if t == "" {
			continue
		}
		if len(targets) == maxTargets {
			return nil, fmt.Errorf("%s: more than %d targets", name, maxTargets)
		}
		targets = append(targets, t)
	}
	if err := sc.Err(); err != nil {
		return nil, fileError(name, err)
	}
	return targets, nil
}

// manyResult is one target's line in the summary.
type manyResult struct {
	Target string           `json:"target"`
	Source string           `json:"source,omitempty"`
	Report *analysis.Report `json:"report,omitempty"`
	Error  string           `json:"error,omitempty"`
	code   int
}

// preemptShareMany reads every target with at most opts.parallel at once,
// then prints one summary sorted by async-preempt share.
func preemptShareMany(cmd *cobra.Command, targets []string, opts *preemptShareOptions) error {
	c := newClient(opts.live.transportOptions)
	results := make([]manyResult, len(targets))
	sem := make(chan struct{}, opts.parallel)
	var wg sync.WaitGroup
	for i, t := range targets {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			// No progress bars: several would fight over the terminal.
			res, err := readOne(cmd.Context(), c, t, opts, nil, nil)
			if err != nil {
				results[i] = manyResult{Target: redactURLs(t), Error: redactURLs(err.Error()), code: exitCodeOf(err)}
				return
			}
			results[i] = manyResult{Target: redactURLs(t), Source: res.source, Report: res.report}
		}()
	}
	wg.Wait()
	sortResults(results)

	out := cmd.OutOrStdout()
	var err error
	if opts.output == outputJSON {
		err = writeJSON(out, results)
	} else {
		err = renderSummary(out, results)
	}
	if err != nil {
		return fmt.Errorf("writing output: %w", err)
	}
	return manyExit(results, opts)
}

// sortResults puts the highest async-preempt share first and failures last,
// each group in target order for ties.
func sortResults(rs []manyResult) {
	sort.SliceStable(rs, func(i, j int) bool {
		a, b := rs[i], rs[j]
		if (a.Report == nil) != (b.Report == nil) {
			return a.Report != nil
		}
		if a.Report != nil && a.Report.Shares.AsyncPreempt != b.Report.Shares.AsyncPreempt {
			return a.Report.Shares.AsyncPreempt > b.Report.Shares.AsyncPreempt
		}
		return a.Target < b.Target
	})
}

// manyExit is the exit status of a many-target run: the code the failures
// share (1 if they differ), else 3 if any share is above --fail-above.
func manyExit(rs []manyResult, opts *preemptShareOptions) error {
	failed, code := 0, 0
	var above []string
	for _, r := range rs {
		switch {
		case r.Error != "":
			failed++
			if code == 0 {
				code = r.code
			} else if code != r.code {
				code = exitError
			}
		case opts.failAbove.set && r.Report.Shares.AsyncPreempt > opts.failAbove.value:
			above = append(above, r.Target)
		}
	}
	if failed > 0 {
		return &codedError{code, fmt.Errorf("%d of %d targets failed", failed, len(rs))}
	}
	if len(above) > 0 {
		return thresholdErrorf("async-preempt share above --fail-above %s on %s",
			formatPercent(opts.failAbove.value), strings.Join(above, ", "))
	}
	return nil
}

func exitCodeOf(err error) int {
	var ce *codedError
	if errors.As(err, &ce) {
		return ce.code
	}
	return exitError
}

// renderSummary prints one line per target.
func renderSummary(w io.Writer, rs []manyResult) error {
	var b bytes.Buffer
	rows := [][]string{{"TARGET", "SOURCE", "SAMPLES", "ASYNC_PREEMPT", "CGO", "EXTERNAL", "TOP INTERRUPTED"}}
	var failures []manyResult
	for _, r := range rs {
		if r.Report == nil {
			failures = append(failures, r)
			continue
		}
		top := "-"
		if len(r.Report.TopPreempted) > 0 {
			top = shortenFunc(r.Report.TopPreempted[0].Function, 40)
		}
		rows = append(rows, []string{
			truncateLeft(r.Target, 32), r.Source, fmt.Sprint(r.Report.Samples),
			formatPercent(r.Report.Shares.AsyncPreempt), formatPercent(r.Report.Shares.Cgo),
			formatPercent(r.Report.Shares.External), top,
		})
	}
	if len(rows) > 1 {
		writeTable(&b, rows, 2, 3, 4, 5)
	}
	if len(failures) > 0 {
		if len(rows) > 1 {
			b.WriteString("\n")
		}
		fmt.Fprintf(&b, "Failed (%d)\n", len(failures))
		for _, r := range failures {
			// Every error already names its target.
			msg := r.Error
			if !strings.Contains(msg, r.Target) {
				msg = r.Target + ": " + msg
			}
			fmt.Fprintf(&b, "  %s\n", termSafe(redactURLs(msg)))
		}
	}
	_, err := io.WriteString(w, termSafeText(b.String()))
	return err
}
