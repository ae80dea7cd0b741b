package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/diagkit/diagkit/internal/tracesum"
)

// pathTrace is the execution trace endpoint of net/http/pprof and the agent.
const pathTrace = "/debug/pprof/trace"

// pathEvidenceTrace is where a diagkit agent keeps the trace it took when it
// last raised a scheduling-latency or async-preemption warning.
const pathEvidenceTrace = "/debug/diag/evidence/trace"

// maxTraceBytes bounds the trace diagctl trace reads, from a target or a
// file (after decompression, for a gzipped file), so that a huge or endless
// answer fails instead of eating memory. A busy server's 5 s trace is a few
// to tens of megabytes; a trace in the format before Go 1.22 is parsed whole
// in memory, at several times its size.
const maxTraceBytes = 256 << 20

// traceOutput is the value of trace's -o/--output: text (table is the same,
// as the other commands name it) or json.
type traceOutput string

func (o *traceOutput) String() string { return string(*o) }
func (o *traceOutput) Type() string   { return "format" }

func (o *traceOutput) Set(s string) error {
	switch s {
	case "text", "table":
		*o = "text"
	case "json":
		*o = "json"
	default:
		return errors.New("want text or json")
	}
	return nil
}

type traceOptions struct {
	output    traceOutput
	top       int
	seconds   int
	evidence  bool
	transport transportOptions
}

func newTraceCmd() *cobra.Command {
	opts := &traceOptions{output: "text", top: tracesum.DefaultTop, seconds: 5}
	opts.transport.timeout = 10 * time.Second
	cmd := &cobra.Command{
		Use:   "trace [flags] FILE|-|HOST[:PORT]|URL",
		Short: "Summarize an execution trace: preemptions, P balance, long runs, syscalls, cgo, scheduling latency",
		Long: `trace reads a Go execution trace and reports what the tuning guide says to
look for in one: preemptions by kind (fewer is better), how evenly the Ps were
busy (work-stealing at work), the longest uninterrupted goroutine runs and
where they ran, time in system calls and cgo calls (no long Syscall regions),
and how long runnable goroutines waited for a P.

A FILE is a saved trace (runtime/trace, go test -trace, /debug/pprof/trace),
gzipped or not; "-" reads standard input. A live target is HOST (port 6060),
HOST:PORT or an http(s) URL, with a path prefix if the agent is mounted under
one: diagctl fetches /debug/pprof/trace?seconds=N from it, from a diagkit
agent or any Go server with net/http/pprof. A bearer token comes from --token
or DIAGKIT_TOKEN.

Traces from Go 1.11 to the newest release the parser knows are read. The
report's Go version is the format's (the Go release that introduced it): a
lower bound on the traced program's Go version. In the format before Go 1.22,
system calls have a duration only when they blocked.

With --evidence, diagctl reads instead the trace a diagkit agent took when it
last raised a scheduling-latency or async-preemption warning
(/debug/diag/evidence/trace), the one that named the loops.

With -o json it prints the diagkit.trace/v1 summary.

Exit codes: 0 ok, 1 error (unreadable or invalid trace, 404), 2 usage,
4 target unreachable (refused, DNS, timeout), 5 not authorized (401/403),
6 busy (another trace is running, or 429).`,
		Example: `  diagctl trace localhost:6060                 # a 5 s trace of a live process
  diagctl trace --seconds 2 -o json host:6060   # the diagkit.trace/v1 summary
  diagctl trace --evidence localhost:6060       # the trace behind the agent's last warning
  go test -trace trace.out ./pkg && diagctl trace trace.out
  curl -s 'http://localhost:6060/debug/pprof/trace?seconds=5' | diagctl trace -`,
		Args: exactArgs(1, `one trace FILE, "-" or a target (HOST[:PORT] or URL)`),
		ValidArgsFunction: func(_ *cobra.Command, args []string, _ string) ([]string, cobra.ShellCompDirective) {
			return nil, cobra.ShellCompDirectiveDefault // file names
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return runTrace(cmd, args[0], opts)
		},
	}
	f := cmd.Flags()
	f.VarP(&opts.output, "output", "o", "output `format`: text or json")
	f.IntVar(&opts.top, "top", opts.top, "list the `N` longest runs, calls and most preempted functions (0 lists none)")
	f.IntVar(&opts.seconds, "seconds", opts.seconds, "length of a live trace, in `seconds`")
	f.BoolVar(&opts.evidence, "evidence", false, "read a diagkit agent's evidence trace, taken with its last scheduling-latency or async-preemption warning")
	addTransportFlags(f, &opts.transport, true)
	_ = cmd.RegisterFlagCompletionFunc("output", cobra.FixedCompletions(
		[]string{"text", "json"}, cobra.ShellCompDirectiveNoFileComp))
	_ = cmd.RegisterFlagCompletionFunc("top", cobra.NoFileCompletions)
	_ = cmd.RegisterFlagCompletionFunc("seconds", cobra.NoFileCompletions)
	return cmd
}

func runTrace(cmd *cobra.Command, arg string, opts *traceOptions) error {
	if opts.top < 0 {
		return usageErrorf("invalid argument %d for --top: want 0 or more", opts.top)
	}
	if opts.seconds < 1 || opts.seconds > 3600 {
		return usageErrorf("invalid argument %d for --seconds: want 1 to 3600", opts.seconds)
	}
	if opts.transport.timeout <= 0 {
		return usageErrorf("invalid argument %v for --timeout: want a positive duration", opts.transport.timeout)
	}
	top := opts.top
	if top == 0 {
		top = -1 // tracesum: 0 is the default, negative keeps none
	}
	sopts := tracesum.Options{Top: top}

	var name string
	var s *tracesum.Summary
	var err error
	switch {
	case isFileArg(arg):
		if opts.evidence {
			return usageErrorf("--evidence reads from a diagkit agent: give HOST[:PORT] or a URL, not a file")
		}
		name, s, err = summarizeTraceFile(arg, cmd.InOrStdin(), sopts)
	case opts.evidence:
		name = redactURLs(arg) + " (the agent's evidence trace)"
		s, err = fetchEvidenceTrace(cmd.Context(), newClient(opts.transport), arg, opts.transport.timeout, sopts)
	default:
		name = fmt.Sprintf("%s (%d s trace)", redactURLs(arg), opts.seconds)
		s, err = fetchTrace(cmd.Context(), newClient(opts.transport), arg, opts.seconds, opts.transport.timeout, sopts, cmd.ErrOrStderr())
	}
	if err != nil {
		return err
	}
	out := cmd.OutOrStdout()
	if opts.output == "json" {
		err = writeJSON(out, s)
	} else {
		err = renderTrace(out, name, s, opts.top > 0)
	}
	if err != nil {
		return fmt.Errorf("writing output: %w", err)
	}
	return nil
}

// summarizeTraceFile summarizes the trace file named by arg ("-": stdin). It
// returns the name to use in messages.
func summarizeTraceFile(arg string, stdin io.Reader, opts tracesum.Options) (string, *tracesum.Summary, error) {
	name, r, done, err := openInput(arg, stdin, "trace")
	if err != nil {
		return name, nil, err
	}
	defer done()
	s, err := summarizeTrace(r, maxTraceBytes, opts)
	if err != nil {
		var pe *os.PathError
		if name != "stdin" && errors.As(err, &pe) {
			return name, nil, fileError(name, err)
		}
		return name, nil, fmt.Errorf("%s: %s", name, describeTraceError(err))
	}
	return name, s, nil
}

// errTraceTooLarge is what summarizeTrace returns for a trace over its limit.
type errTraceTooLarge struct{ limit int64 }

func (e *errTraceTooLarge) Error() string {
	return fmt.Sprintf("larger than %d MiB: too large a trace (take a shorter one)", e.limit>>20)
}

// limitReader reads at most limit bytes from r, then fails with
// errTraceTooLarge, remembering it: the trace parser may report a read error
// in its own words.
type limitReader struct {
	r        io.Reader
	left     int64
	limit    int64
	exceeded bool
	readErr  error // the first error from r other than io.EOF
}

func (l *limitReader) Read(p []byte) (int, error) {
	if l.left <= 0 {
		// One byte more tells a trace of exactly limit bytes from a larger one.
		var one [1]byte
		n, err := l.r.Read(one[:])
		if n > 0 {
			l.exceeded = true
			return 0, &errTraceTooLarge{l.limit}
		}
		return 0, err
	}
	if int64(len(p)) > l.left {
		p = p[:l.left]
	}
	n, err := l.r.Read(p)
	l.left -= int64(n)
	if err != nil && !errors.Is(err, io.EOF) && l.readErr == nil {
		l.readErr = err
	}
	return n, err
}

// summarizeTrace summarizes a trace read from r, gunzipping it if it is
// gzipped, reading at most limit bytes of trace.
func summarizeTrace(r io.Reader, limit int64, opts tracesum.Options) (*tracesum.Summary, error) {
	br := bufio.NewReader(r)
	var src io.Reader = br
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("%w: gzip: %v", tracesum.ErrInvalid, err)
		}
		src = zr
	}
	lr := &limitReader{r: src, left: limit, limit: limit}
	s, err := tracesum.Summarize(lr, opts)
	switch {
	case lr.exceeded:
		return nil, &errTraceTooLarge{limit}
	case lr.readErr != nil && err != nil:
		var pe *os.PathError
		if errors.As(lr.readErr, &pe) {
			return nil, lr.readErr
		}
		return nil, fmt.Errorf("%w: reading: %v", tracesum.ErrInvalid, lr.readErr)
	}
	return s, err
}

// describeTraceError words a tracesum error for a person.
func describeTraceError(err error) string {
	var tooLarge *errTraceTooLarge
	switch {
	case errors.As(err, &tooLarge):
		return err.Error()
	case errors.Is(err, tracesum.ErrEmpty):
		return "file is empty"
	case errors.Is(err, tracesum.ErrNotTrace):
		return "not a Go execution trace; take one with /debug/pprof/trace?seconds=N, runtime/trace or go test -trace (a CPU profile is for diagctl preempt-share)"
	case errors.Is(err, tracesum.ErrInvalid):
		return "not a valid execution trace (truncated or corrupt): " + strings.TrimPrefix(err.Error(), tracesum.ErrInvalid.Error()+": ")
	}
	return err.Error()
}

// fetchTrace takes an execution trace of seconds from a live target and
// summarizes it. progress, if a terminal, shows a progress bar meanwhile.
func fetchTrace(ctx context.Context, c *client, target string, seconds int, timeout time.Duration, opts tracesum.Options, progress io.Writer) (*tracesum.Summary, error) {
	base, err := parseTarget(target)
	if err != nil {
		return nil, &codedError{exitError, err}
	}
	wait := time.Duration(seconds) * time.Second
	stop := showProgress(progress, base.Host, seconds)
	resp, body, err := c.get(ctx, base, pathTrace, url.Values{"seconds": {strconv.Itoa(seconds)}}, wait+timeout, maxTraceBytes)
	stop()
	u := endpoint(base, pathTrace)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, statusError(u, resp, body, "trace endpoint")
	}
	return summarizeFetched(u, resp, body, opts)
}

// fetchEvidenceTrace reads the agent's evidence trace.
func fetchEvidenceTrace(ctx context.Context, c *client, target string, timeout time.Duration, opts tracesum.Options) (*tracesum.Summary, error) {
	base, err := parseTarget(target)
	if err != nil {
		return nil, &codedError{exitError, err}
	}
	resp, body, err := c.get(ctx, base, pathEvidenceTrace, nil, timeout, maxTraceBytes)
	u := endpoint(base, pathEvidenceTrace)
	if err != nil {
		return nil, err
	}
	switch resp.StatusCode {
	case http.StatusOK:
	case http.StatusNotFound:
		return nil, &codedError{exitError, fmt.Errorf("%s: 404: no evidence trace: a diagkit agent takes one when it raises a scheduling-latency or async-preemption warning, and has none yet (or this is not a diagkit agent)", u)}
	default:
		return nil, statusError(u, resp, body, "evidence trace")
	}
	return summarizeFetched(u, resp, body, opts)
}

// summarizeFetched summarizes a trace a target answered with.
func summarizeFetched(u string, resp *http.Response, body []byte, opts tracesum.Options) (*tracesum.Summary, error) {
	if isHTML(resp) || bytes.HasPrefix(bytes.TrimSpace(body), []byte("<")) {
		return nil, &codedError{exitError, fmt.Errorf("%s: answered with an HTML page, not a trace (is this a pprof endpoint?)", u)}
	}
	s, err := summarizeTrace(bytes.NewReader(body), maxTraceBytes, opts)
	if err != nil {
		if errors.Is(err, tracesum.ErrEmpty) {
			return nil, &codedError{exitError, fmt.Errorf("%s: answered with nothing, not a trace", u)}
		}
		return nil, &codedError{exitError, fmt.Errorf("%s: %s", u, describeTraceError(err))}
	}
	return s, nil
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}
