package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/diagkit/diagkit/diag/analysis"
)

// maxProfileBytes bounds what preempt-share reads, so that a wrong argument
// (/dev/zero, a disk image) fails instead of eating memory. Real CPU profiles
// are kilobytes to a few megabytes.
const maxProfileBytes = 256 << 20

type preemptShareOptions struct {
	output      outputFormat
	top         int
	failAbove   shareFlag
	live        liveOptions
	targetsFile string
	parallel    int
}

func newPreemptShareCmd() *cobra.Command {
	opts := &preemptShareOptions{output: outputTable, top: analysis.DefaultTop, parallel: 8}
	opts.live.seconds = 10
	opts.live.timeout = 10 * time.Second
	cmd := &cobra.Command{
		Use:   "preempt-share [flags] FILE|HOST[:PORT]|URL...",
		Short: "Report the async-preemption and cgo shares of a profile or a live process",
		Long: `preempt-share tells how much CPU goes to async preemption, to C code called
through cgo, to threads Go does not own, and which functions are responsible.

A FILE is a saved CPU profile, as written by go test -cpuprofile,
/debug/pprof/profile or pprof.StartCPUProfile, gzipped or not; "-" reads
standard input.

A live target is HOST (port 6060), HOST:PORT or an http(s) URL, with a path
prefix if the agent is mounted under one. From a diagkit agent it reads the
latest window report, with the process context and warnings. From any other
Go server with net/http/pprof, or with --fresh, it takes a CPU profile of
--seconds from /debug/pprof/profile and analyzes it here (a progress bar shows
while it waits, when standard error is a terminal). A bearer token comes from
--token or DIAGKIT_TOKEN.

Several targets (arguments or --targets-file) are read concurrently and
summarized in one table sorted by async-preempt share; a target that fails is
reported in the table without stopping the others.

With -o json it prints the report (a diagkit.window/v1 document for an agent's
window, diagkit.report/v1 otherwise; a JSON array for several targets).

--fail-above turns it into a CI gate: exit 3 when the async-preempt share of
any target is above the threshold (the report is printed all the same).

Exit codes: 0 ok, 1 error, 2 usage, 3 threshold exceeded, 4 target unreachable
(refused, DNS, timeout), 5 not authorized (401/403), 6 busy (the target's
profiler is in use, or 429).
With several targets, the exit code is the one their errors share, 1 if they
differ, and 3 or 0 when none failed.`,
		Example: `  go test -cpuprofile cpu.out ./server && diagctl preempt-share cpu.out
  diagctl preempt-share localhost:6060
  diagctl preempt-share --fresh --seconds 30 https://api.internal:6060
  diagctl preempt-share --targets-file hosts.txt --parallel 16
  curl -s 'http://localhost:6060/debug/pprof/profile?seconds=10' | diagctl preempt-share -
  diagctl preempt-share -o json --top 3 cpu.pb.gz
  diagctl preempt-share --fail-above 1% cpu.out`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 && opts.targetsFile == "" {
				return usageErrorf("preempt-share takes a profile FILE or one or more targets (HOST[:PORT] or URL), or --targets-file")
			}
			return nil
		},
		ValidArgsFunction: func(_ *cobra.Command, args []string, _ string) ([]string, cobra.ShellCompDirective) {
			return nil, cobra.ShellCompDirectiveDefault // file names
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return preemptShare(cmd, args, opts)
		},
	}
	f := cmd.Flags()
	f.VarP(&opts.output, "output", "o", "output `format`: table or json")
	f.IntVar(&opts.top, "top", opts.top, "list the `N` functions with the most CPU (0 lists none)")
	f.Var(&opts.failAbove, "fail-above", "exit 3 when the async-preempt share is above `X`, a fraction (0.01) or a percentage (1%)")
	f.BoolVar(&opts.live.fresh, "fresh", false, "take a new CPU profile even when the target has a diagkit agent")
	f.IntVar(&opts.live.seconds, "seconds", opts.live.seconds, "length of a fresh CPU profile, in `seconds`")
	addTransportFlags(f, &opts.live.transportOptions, true)
	f.StringVar(&opts.targetsFile, "targets-file", "", "read targets from `FILE`, one per line (# comments)")
	f.IntVar(&opts.parallel, "parallel", opts.parallel, "query at most `N` targets at once")
	_ = cmd.RegisterFlagCompletionFunc("output", cobra.FixedCompletions(
		[]string{"table", "json"}, cobra.ShellCompDirectiveNoFileComp))
	_ = cmd.RegisterFlagCompletionFunc("top", cobra.NoFileCompletions)
	_ = cmd.RegisterFlagCompletionFunc("fail-above", cobra.FixedCompletions(
		[]string{"1%", "0.01"}, cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

func preemptShare(cmd *cobra.Command, args []string, opts *preemptShareOptions) error {
	if opts.top < 0 {
		return usageErrorf("invalid argument %d for --top: want 0 or more", opts.top)
	}
	if opts.live.seconds < 1 || opts.live.seconds > 3600 {
		return usageErrorf("invalid argument %d for --seconds: want 1 to 3600", opts.live.seconds)
	}
	if opts.live.timeout <= 0 {
		return usageErrorf("invalid argument %v for --timeout: want a positive duration", opts.live.timeout)
	}
	if opts.parallel < 1 {
		return usageErrorf("invalid argument %d for --parallel: want 1 or more", opts.parallel)
	}
	top := opts.top
	if top == 0 {
		top = -1 // analysis: 0 is the default, negative keeps none
	}
	opts.live.top = top
	targets := args
	if opts.targetsFile != "" {
		more, err := readTargetsFile(opts.targetsFile)
		if err != nil {
			return err
		}
		targets = append(append([]string(nil), args...), more...)
	}
	if len(targets) == 0 {
		return fmt.Errorf("%s: no targets in the file", opts.targetsFile)
	}
	if len(targets) > 1 {
		if slices.Contains(targets, "-") {
			return usageErrorf(`"-" (standard input) cannot be one of several targets`)
		}
		return preemptShareMany(cmd, targets, opts)
	}
	res, err := readOne(cmd.Context(), newClient(opts.live.transportOptions), targets[0], opts, cmd.InOrStdin(), cmd.ErrOrStderr())
	if err != nil {
		return err
	}
	out := cmd.OutOrStdout()
	switch {
	case opts.output == outputJSON && res.window != nil:
		err = writeJSON(out, res.window)
	case opts.output == outputJSON:
		err = writeJSON(out, res.report)
	case res.window != nil:
		err = renderWindow(out, res.target, res.window, opts.top > 0)
	default:
		err = renderTable(out, res.name(), res.report, opts.top > 0)
	}
	if err != nil {
		return fmt.Errorf("writing output: %w", err)
	}
	if opts.failAbove.set && res.report.Shares.AsyncPreempt > opts.failAbove.value {
		return thresholdErrorf("%s: async-preempt share %s is above --fail-above %s",
			res.name(), formatPercent(res.report.Shares.AsyncPreempt), formatPercent(opts.failAbove.value))
	}
	return nil
}

// readOne reads one argument: a profile file, or a live target.
func readOne(ctx context.Context, c *client, arg string, opts *preemptShareOptions, stdin io.Reader, progress io.Writer) (*liveResult, error) {
	if !isFileArg(arg) {
		return fetchLive(ctx, c, arg, opts.live, progress)
	}
	name, data, err := readProfile(arg, stdin)
	if err != nil {
		return nil, err
	}
	r, err := analysis.AnalyzeBytes(data, analysis.Options{Top: opts.live.top})
	if err != nil {
		return nil, fmt.Errorf("%s: %s", name, describeAnalysisError(err))
	}
	return &liveResult{target: name, source: "file", report: r}, nil
}

// name is how a result is named in tables: the file, or the target.
func (r *liveResult) name() string {
	if r.source == "profile" {
		return r.target + " (" + strconv.FormatFloat(r.report.DurationSeconds, 'f', 0, 64) + " s profile)"
	}
	return r.target
}

// readProfile reads the profile named by arg ("-": stdin). It returns the name
// to use in messages and the bytes.
func readProfile(arg string, stdin io.Reader) (name string, data []byte, err error) {
	name, r, done, err := openInput(arg, stdin, "profile")
	if err != nil {
		return name, nil, err
	}
	defer done()
	data, err = readLimited(r)
	switch {
	case err != nil && name == "stdin":
		return name, nil, fmt.Errorf("stdin: %w", err)
	case err != nil:
		return name, nil, fileError(name, err)
	}
	return name, data, nil
}

// openInput opens the file a command reads, named by arg ("-": stdin), and
// returns the name to use in messages. what names the kind of file in the
// error for a directory ("profile", "trace"). done releases the file.
func openInput(arg string, stdin io.Reader, what string) (name string, r io.Reader, done func(), err error) {
	if arg == "-" {
		return "stdin", stdin, func() {}, nil
	}
	f, err := os.Open(arg)
	if err != nil {
		return arg, nil, nil, fileError(arg, err)
	}
	if st, err := f.Stat(); err == nil && st.IsDir() {
		f.Close()
		return arg, nil, nil, fmt.Errorf("%s: is a directory, not a %s file", arg, what)
	}
	return arg, f, func() { f.Close() }, nil
}

func readLimited(r io.Reader) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxProfileBytes+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxProfileBytes {
		return nil, fmt.Errorf("larger than %d MiB: not a CPU profile", maxProfileBytes>>20)
	}
	return data, nil
}

// fileError words an error opening or reading a file: the name once, then the
// reason.
func fileError(name string, err error) error {
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%s: no such file", name)
	}
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return fmt.Errorf("%s: %w", name, pe.Err)
	}
	return fmt.Errorf("%s: %w", name, err)
}

// describeAnalysisError words an analysis error for a person, adding what to
// do where there is something to do.
func describeAnalysisError(err error) string {
	msg := strings.TrimPrefix(err.Error(), "analysis: ")
	switch {
	case errors.Is(err, analysis.ErrEmpty):
		return "file is empty"
	case errors.Is(err, analysis.ErrNotCPUProfile):
		return msg + "; take a CPU profile with go test -cpuprofile or /debug/pprof/profile"
	}
	return msg
}

// writeJSON prints the report as indented JSON, the same document the agent
// serves.
func writeJSON(w io.Writer, r any) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // function names like "main.F[...]" and files like "<autogenerated>"
	enc.SetIndent("", "  ")
	if err := enc.Encode(r); err != nil {
		return err
	}
	_, err := w.Write(buf.Bytes())
	return err
}
