package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"strconv"
	"strings"

	"github.com/diagkit/diagkit/diag/analysis"
	"github.com/spf13/cobra"
)

// maxProfileBytes bounds what preempt-share reads, so that a wrong argument
// (/dev/zero, a disk image) fails instead of eating memory. Real CPU profiles
// are kilobytes to a few megabytes.
const maxProfileBytes = 256 << 20

type preemptShareOptions struct {
	output    outputFormat
	top       int
	failAbove shareFlag
}

func newPreemptShareCmd() *cobra.Command {
	opts := &preemptShareOptions{output: outputTable, top: analysis.DefaultTop}
	cmd := &cobra.Command{
		Use:   "preempt-share [flags] FILE",
		Short: "Report the async-preemption and cgo shares of a saved CPU profile",
		Long: `preempt-share analyzes a saved CPU profile, as written by go test -cpuprofile,
/debug/pprof/profile or pprof.StartCPUProfile, gzipped or not; FILE "-" reads
standard input. It prints the share of CPU time in each bucket (ordinary Go,
async preemption, cgo, threads Go does not own, ...), the functions async
preemption interrupted, the Go call sites of cgo calls, and a one-line reading.

With -o json it prints the diagkit.report/v1 document instead, and nothing else.

--fail-above turns it into a CI gate: exit 3 when the async-preempt share is
above the threshold (the report is printed all the same).

Exit codes: 0 ok, 1 error, 2 usage, 3 threshold exceeded.`,
		Example: `  go test -cpuprofile cpu.out ./server && diagctl preempt-share cpu.out
  curl -s 'http://localhost:6060/debug/pprof/profile?seconds=10' | diagctl preempt-share -
  diagctl preempt-share -o json --top 3 cpu.pb.gz
  diagctl preempt-share --fail-above 1% cpu.out`,
		Args: exactArgs(1, `one argument, a CPU profile file ("-" for standard input)`),
		ValidArgsFunction: func(_ *cobra.Command, args []string, _ string) ([]string, cobra.ShellCompDirective) {
			if len(args) > 0 {
				return nil, cobra.ShellCompDirectiveNoFileComp
			}
			return nil, cobra.ShellCompDirectiveDefault // file names
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return preemptShare(cmd, args[0], opts)
		},
	}
	f := cmd.Flags()
	f.VarP(&opts.output, "output", "o", "output `format`: table or json")
	f.IntVar(&opts.top, "top", opts.top, "list the `N` functions with the most CPU (0 lists none)")
	f.Var(&opts.failAbove, "fail-above", "exit 3 when the async-preempt share is above `X`, a fraction (0.01) or a percentage (1%)")
	_ = cmd.RegisterFlagCompletionFunc("output", cobra.FixedCompletions(
		[]string{"table", "json"}, cobra.ShellCompDirectiveNoFileComp))
	_ = cmd.RegisterFlagCompletionFunc("top", cobra.NoFileCompletions)
	_ = cmd.RegisterFlagCompletionFunc("fail-above", cobra.FixedCompletions(
		[]string{"1%", "0.01"}, cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

func preemptShare(cmd *cobra.Command, arg string, opts *preemptShareOptions) error {
	if opts.top < 0 {
		return usageErrorf("invalid argument %d for --top: want 0 or more", opts.top)
	}
	name, data, err := readProfile(arg, cmd.InOrStdin())
	if err != nil {
		return err
	}
	top := opts.top
	if top == 0 {
		top = -1 // analysis: 0 is the default, negative keeps none
	}
	r, err := analysis.AnalyzeBytes(data, analysis.Options{Top: top})
	if err != nil {
		return fmt.Errorf("%s: %s", name, describeAnalysisError(err))
	}

	out := cmd.OutOrStdout()
	switch opts.output {
	case outputJSON:
		err = writeJSON(out, r)
	default:
		err = renderTable(out, name, r, opts.top > 0)
	}
	if err != nil {
		return fmt.Errorf("writing output: %w", err)
	}

	if opts.failAbove.set && r.Shares.AsyncPreempt > opts.failAbove.value {
		return thresholdErrorf("%s: async-preempt share %s is above --fail-above %s",
			name, formatPercent(r.Shares.AsyncPreempt), formatPercent(opts.failAbove.value))
	}
	return nil
}

// readProfile reads the profile named by arg ("-": stdin). It returns the name
// to use in messages and the bytes.
func readProfile(arg string, stdin io.Reader) (name string, data []byte, err error) {
	if arg == "-" {
		data, err := readLimited(stdin)
		if err != nil {
			return "stdin", nil, fmt.Errorf("stdin: %w", err)
		}
		return "stdin", data, nil
	}
	f, err := os.Open(arg)
	if err != nil {
		return arg, nil, fileError(arg, err)
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && st.IsDir() {
		return arg, nil, fmt.Errorf("%s: is a directory, not a profile file", arg)
	}
	data, err = readLimited(f)
	if err != nil {
		return arg, nil, fileError(arg, err)
	}
	return arg, data, nil
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
		if looksLikeHostPort(name) {
			return fmt.Errorf("%s: no such file (live targets are not supported yet: "+
				"save a profile from /debug/pprof/profile and pass the file)", name)
		}
		return fmt.Errorf("%s: no such file", name)
	}
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return fmt.Errorf("%s: %w", name, pe.Err)
	}
	return fmt.Errorf("%s: %w", name, err)
}

// looksLikeHostPort reports whether s has the shape HOST:PORT.
func looksLikeHostPort(s string) bool {
	_, port, err := net.SplitHostPort(s)
	if err != nil {
		return false
	}
	n, err := strconv.ParseUint(port, 10, 16)
	return err == nil && n > 0
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
func writeJSON(w io.Writer, r *analysis.Report) error {
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
