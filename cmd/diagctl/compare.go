package main

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/diagkit/diagkit/internal/compare"
)

type compareOptions struct {
	output      outputFormat
	top         int
	beforeRange string
	afterRange  string
	windows     int
	live        liveOptions
	failOn      []string
}

// Defaults of compare's fresh profiles: six windows of 5 s a side, so that
// the windows are the replicates of the test.
const (
	defaultCompareWindows = 6
	defaultCompareSeconds = 5
	// maxCompareWindows bounds --windows.
	maxCompareWindows = 1000
)

func newCompareCmd() *cobra.Command {
	opts := &compareOptions{output: outputTable, top: compare.DefaultTop, windows: defaultCompareWindows}
	opts.live.seconds = defaultCompareSeconds
	opts.live.timeout = 10 * time.Second
	cmd := &cobra.Command{
		Use:   "compare [flags] BEFORE AFTER",
		Short: "Tell whether a change helped: two sides' figures, with 95 % intervals and a verdict",
		Long: `compare compares every figure diagctl knows between two sides — before and
after a change, or a canary and its baseline — and says for each whether it
got better, worse, or did not change significantly: the async-preemption,
cgo (C time and crossing) and non-Go thread shares, scheduling latency p50
and p99, cgo calls per second, cgroup throttling and run-queue wait where the
agent records them, and the top interrupted functions and cgo call sites
(appeared, vanished, grew, shrank).

Each side is anything diagctl reads:
  a saved CPU profile, or a directory of them (one window per file);
  a saved report or window (preempt-share -o json), an agent's history or a
  dashboard's JSON (dashboard -o json): one window per window;
  a live diagkit agent: its window history (--before-range/--after-range
  select part of it);
  a plain net/http/pprof server, or an agent with --fresh: --windows CPU
  profiles of --seconds each, taken one after another.
Two live targets are read at the same time, over the same wall-clock span,
so that a change of load hits both (canary and baseline); two agents'
histories are cut to the span both cover. The same agent twice, with two
ranges, compares before and after a change in one process.

A range is FROM..TO; each end is an RFC 3339 time, a duration back from the
newest window's end (30m), or empty. "1h..30m" is the half hour before the
last 30 minutes; "15m.." the last 15 minutes. A window counts when it lies
wholly inside.

Method: with several windows a side, each window is one observation, and
the difference of the means gets a 95 % interval from Welch's t-test; when
the sides ran over the same span and their windows pair up in time, the
paired differences are tested instead (a paired t-test). With
one window a side, shares get an interval on sample counts (Newcombe's
score interval); samples of one profile are not independent, so that
interval is approximate, marked "~", and gives no verdict (nor exit 3);
latency and rates are not tested. A verdict
needs the p-value, adjusted by Holm's method over every figure and function
tested, below 0.05, so comparing a workload with itself reports any change
at most one time in twenty.

--fail-on FIGURE[:CHANGE] (repeatable) exits 3 when the figure changed
significantly in that direction by more than CHANGE: percentage points for
shares (async_preempt:+0.5pp), a percentage of the before value
(sched_latency_p99:+20%), a duration for latencies (sched_latency_p99:+2ms),
a number for rates (cgo_calls_per_second:+1000). Without a sign, up is bad;
without CHANGE, any significant worsening fails. Figures: ` + strings.Join(compare.FigureNames(), ", ") + `.

With -o json it prints a diagkit.compare/v1 document.

Exit codes: 0 ok, 1 error, 2 usage, 3 a --fail-on rule failed, 4 target
unreachable, 5 not authorized, 6 busy.`,
		Example: `  diagctl compare before.pb.gz after.pb.gz
  diagctl compare profiles/before/ profiles/after/
  diagctl compare --before-range 2h..1h --after-range 1h.. host:6060 host:6060
  diagctl compare baseline:6060 canary:6060
  diagctl compare --windows 10 --seconds 3 old-build:8080 new-build:8080
  diagctl compare -o json --fail-on async_preempt:+0.5pp --fail-on sched_latency_p99:+2ms base:6060 canary:6060`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 2 {
				return usageErrorf("compare takes two sides, BEFORE and AFTER (files, directories or targets); got %d argument%s", len(args), plural(len(args)))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return runCompare(cmd, args, opts)
		},
	}
	f := cmd.Flags()
	f.VarP(&opts.output, "output", "o", "output `format`: table or json")
	f.IntVar(&opts.top, "top", opts.top, "compare the `N` top interrupted functions and cgo call sites (0 lists none)")
	f.StringVar(&opts.beforeRange, "before-range", "", "the windows of BEFORE's history to use: `FROM..TO`")
	f.StringVar(&opts.afterRange, "after-range", "", "the windows of AFTER's history to use: `FROM..TO`")
	f.IntVar(&opts.windows, "windows", opts.windows, "fresh CPU profiles to take of a live side, `N` one after another")
	f.IntVar(&opts.live.seconds, "seconds", opts.live.seconds, "length of each fresh CPU profile, in `seconds`")
	f.BoolVar(&opts.live.fresh, "fresh", false, "take fresh CPU profiles even from a diagkit agent, instead of its history")
	f.StringArrayVar(&opts.failOn, "fail-on", nil, "exit 3 on a significant change of `FIGURE[:CHANGE]` (repeatable), e.g. async_preempt:+0.5pp")
	addTransportFlags(f, &opts.live.transportOptions, true)
	_ = cmd.RegisterFlagCompletionFunc("output", cobra.FixedCompletions(
		[]string{"table", "json"}, cobra.ShellCompDirectiveNoFileComp))
	_ = cmd.RegisterFlagCompletionFunc("fail-on", cobra.FixedCompletions(
		compare.FigureNames(), cobra.ShellCompDirectiveNoFileComp))
	for _, name := range []string{"top", "before-range", "after-range", "windows", "seconds"} {
		_ = cmd.RegisterFlagCompletionFunc(name, cobra.NoFileCompletions)
	}
	return cmd
}

func runCompare(cmd *cobra.Command, args []string, opts *compareOptions) error {
	switch {
	case opts.top < 0:
		return usageErrorf("invalid argument %d for --top: want 0 or more", opts.top)
	case opts.windows < 1 || opts.windows > maxCompareWindows:
		return usageErrorf("invalid argument %d for --windows: want 1 to %d", opts.windows, maxCompareWindows)
	case opts.live.seconds < 1 || opts.live.seconds > 3600:
		return usageErrorf("invalid argument %d for --seconds: want 1 to 3600", opts.live.seconds)
	case opts.live.timeout <= 0:
		return usageErrorf("invalid argument %v for --timeout: want a positive duration", opts.live.timeout)
	case args[0] == "-" && args[1] == "-":
		return usageErrorf(`"-" (standard input) can be only one of the two sides`)
	}
	var rules []compare.Rule
	for _, s := range opts.failOn {
		r, err := compare.ParseRule(s)
		if err != nil {
			return usageErrorf("%v", err)
		}
		rules = append(rules, r)
	}
	var ranges [2]*compare.Range
	for i, s := range []string{opts.beforeRange, opts.afterRange} {
		if s == "" {
			continue
		}
		r, err := compare.ParseRange(s)
		if err != nil {
			return usageErrorf("--%s-range: %v", [2]string{"before", "after"}[i], err)
		}
		ranges[i] = &r
	}
	top := opts.top
	if top == 0 {
		top = -1
	}

	sides, err := loadSides(cmd, args, opts)
	if err != nil {
		return err
	}
	if err := selectWindows(&sides, ranges); err != nil {
		return err
	}
	doc := compare.Compare(sides[0].Side, sides[1].Side, compare.Options{Top: top})
	failed := compare.Check(doc, rules)
	out := cmd.OutOrStdout()
	if opts.output == outputJSON {
		err = writeJSON(out, doc)
	} else {
		err = renderCompare(out, doc)
	}
	if err != nil {
		return fmt.Errorf("writing output: %w", err)
	}
	if failed {
		var which []string
		for _, r := range doc.FailOn {
			if r.Failed {
				which = append(which, r.Text)
			}
		}
		return thresholdErrorf("--fail-on %s: significant change beyond the threshold", strings.Join(which, ", "))
	}
	return nil
}

// loadSides reads both sides; two live targets at the same time. The same
// live target twice is read once.
func loadSides(cmd *cobra.Command, args []string, opts *compareOptions) ([2]*loadedSide, error) {
	var sides [2]*loadedSide
	var errs [2]error
	ctx := cmd.Context()
	if ctx == nil {
		ctx = context.Background()
	}
	c := newClient(opts.live.transportOptions)
	load := func(i int) {
		progress := cmd.ErrOrStderr()
		if i == 1 && !isFileArg(args[0]) {
			progress = nil // one progress bar for two sides taken together
		}
		sides[i], errs[i] = loadSide(ctx, c, args[i], opts, cmd.InOrStdin(), progress)
	}
	if args[0] == args[1] && !isFileArg(args[0]) && !opts.live.fresh {
		if opts.beforeRange == "" || opts.afterRange == "" {
			return sides, usageErrorf("the same target on both sides needs --before-range and --after-range (two parts of its history)")
		}
		load(0)
		if errs[0] == nil {
			cp := *sides[0]
			cp.Replicates = slices.Clone(cp.Replicates)
			cp.Notes = slices.Clone(cp.Notes)
			sides[1] = &cp
		}
		errs[1] = errs[0]
	} else {
		var wg sync.WaitGroup
		for i := range 2 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				load(i)
			}()
		}
		wg.Wait()
	}
	for i, err := range errs {
		if err != nil {
			return sides, sideError(sideNames[i], err)
		}
	}
	return sides, nil
}

// sideNames name the sides in errors.
var sideNames = [2]string{"BEFORE", "AFTER"}

// sideError says which side failed, keeping the exit code.
func sideError(which string, err error) error {
	if ce, ok := err.(*codedError); ok {
		return &codedError{code: ce.code, err: fmt.Errorf("%s: %w", which, ce.err)}
	}
	return fmt.Errorf("%s: %w", which, err)
}

// selectWindows applies the ranges, and cuts two live agents' histories to
// the span both cover when no range is given.
func selectWindows(sides *[2]*loadedSide, ranges [2]*compare.Range) error {
	if ranges[0] == nil && ranges[1] == nil && sides[0].agent && sides[1].agent && sides[0].Input != sides[1].Input {
		if err := commonSpan(sides); err != nil {
			return err
		}
	}
	if sides[0].live && sides[1].live && sides[0].host != "" && sides[0].host == sides[1].host && sides[0].Input != sides[1].Input {
		sides[1].Notes = append(sides[1].Notes, "both sides run on "+sides[0].host+": they compete for its CPUs, and over a short span "+
			"the kernel's split between them shows in the run-queue wait and async preemption; compare over minutes, or on separate hosts")
	}
	if sides[0].live && sides[1].live && sides[0].agent != sides[1].agent {
		for _, s := range sides {
			if s.agent {
				s.Notes = append(s.Notes, "an agent's history beside fresh profiles of a plain pprof server: they cover different spans; "+
					"--fresh takes fresh profiles of both at the same time")
			}
		}
	}
	for i, r := range ranges {
		s := sides[i]
		which := sideNames[i]
		if r != nil {
			sel, err := r.Select(s.Replicates, compare.Newest(s.Replicates))
			if err != nil {
				return fmt.Errorf("%s: %v", which, err)
			}
			s.Replicates = sel
			s.Notes = append(s.Notes, "windows in range "+r.Text)
		}
		if len(s.Replicates) == 0 {
			where := ""
			if r != nil {
				where = " in range " + r.Text
			}
			return fmt.Errorf("%s: %s has no window to compare%s", which, termSafe(s.Input), where)
		}
	}
	return nil
}

// commonSpan keeps, on both sides, the windows inside the span both
// histories cover.
func commonSpan(sides *[2]*loadedSide) error {
	from, to := sides[0].first, sides[0].last
	if sides[1].first.After(from) {
		from = sides[1].first
	}
	if sides[1].last.Before(to) {
		to = sides[1].last
	}
	for _, s := range sides {
		var keep = s.Replicates[:0:0]
		for _, r := range s.Replicates {
			if !r.Start.Before(from) && !r.End.After(to) {
				keep = append(keep, r)
			}
		}
		if len(keep) == 0 {
			return fmt.Errorf("the two agents' histories do not overlap in time (%s and %s): give --before-range and --after-range, or --fresh to profile both now",
				spanText(sides[0]), spanText(sides[1]))
		}
		s.Replicates = keep
		s.Notes = append(s.Notes, "cut to the span both agents' histories cover")
	}
	return nil
}

func spanText(s *loadedSide) string {
	return s.first.UTC().Format(time.RFC3339) + ".." + s.last.UTC().Format(time.RFC3339)
}
