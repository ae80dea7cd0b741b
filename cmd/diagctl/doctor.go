package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/diagkit/diagkit/diag/analysis"
	"github.com/diagkit/diagkit/diag/api"
	"github.com/diagkit/diagkit/internal/doctor"
	"github.com/diagkit/diagkit/internal/tracesum"
)

const pathDoctor = "/debug/diag/doctor"

// maxTextProfileBytes bounds a goroutine dump or another debug=1/2 text
// profile read from a target.
const maxTextProfileBytes = 64 << 20

type doctorOptions struct {
	output       outputFormat
	strict       bool
	seconds      int
	traceSeconds int
	transportOptions
}

func newDoctorCmd() *cobra.Command {
	opts := &doctorOptions{output: outputTable, seconds: 5, traceSeconds: 1}
	opts.timeout = 10 * time.Second
	cmd := &cobra.Command{
		Use:   "doctor [flags] HOST[:PORT]|URL|FILE",
		Short: "Check the preemption tuning guide's checklist against a process",
		Long: `doctor walks the preemption tuning guide's checklist for one process and says,
for each item, pass, warn, fail or unknown, with the evidence and the guide's
advice in one line:

  go_version           Go is a recent, supported release
  gomaxprocs           GOMAXPROCS fits the CPUs the process may use (cgroup, NumCPU)
  asyncpreemptoff      GODEBUG=asyncpreemptoff=1 is not set
  async_preempt_share  async preemption is under 1 % of CPU
  cgo                  cgo calls are short or batched (rate, crossing overhead)
  lock_os_thread       LockOSThread is used sparingly (locked goroutines, threads)
  sched_latency        scheduling latency p99 is under 10 ms
  gogc                 GOGC (and GOMEMLIMIT) are set thoughtfully
  hot_loops            hot loops reach a function call (the interrupted functions)
  cpu_throttling       the CPU quota does not throttle the process (cgroup periods)
  cpu_contention       runnable threads get a CPU (run-queue wait, who took the CPUs)

From a diagkit agent, the agent checks everything itself, from inside the
process and its last windows (thresholds are the agent's). From any other Go
server with net/http/pprof, diagctl checks what its endpoints show: a CPU
profile of --seconds, the goroutine dump (locked goroutines; it briefly stops
the target's world), the threadcreate and heap profiles, and an execution trace
of --trace-seconds (Go version, GOMAXPROCS, scheduling latency); the rest
(among it the cgroup's throttling and the run-queue wait) is unknown. A FILE is a saved CPU profile: only the profile-based items apply.

Exit codes: 0 no item failed, 3 an item failed (or warned, with --strict),
1 error, 2 usage, 4 unreachable, 5 not authorized, 6 busy (the target's
profiler or tracer is in use, or 429).`,
		Example: `  diagctl doctor localhost:6060
  diagctl doctor -o json https://api.internal:6060 | jq '.checks[] | select(.status=="fail")'
  diagctl doctor --strict --seconds 10 10.0.0.7:8080   # a plain net/http/pprof server
  diagctl doctor cpu.pprof`,
		Args: exactArgs(1, "one target (HOST[:PORT], URL or FILE)"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runDoctor(cmd, args[0], opts)
		},
	}
	f := cmd.Flags()
	f.VarP(&opts.output, "output", "o", "output `format`: table or json")
	f.BoolVar(&opts.strict, "strict", false, "exit 3 on warnings too, not only on failures")
	f.IntVar(&opts.seconds, "seconds", opts.seconds, "length of the CPU profile taken from a plain pprof server, in `seconds`")
	f.IntVar(&opts.traceSeconds, "trace-seconds", opts.traceSeconds, "length of the execution trace taken from a plain pprof server, in `seconds` (0: none)")
	addTransportFlags(f, &opts.transportOptions, true)
	_ = cmd.RegisterFlagCompletionFunc("output", cobra.FixedCompletions(
		[]string{"table", "json"}, cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

func runDoctor(cmd *cobra.Command, target string, opts *doctorOptions) error {
	if opts.seconds < 1 || opts.seconds > 3600 {
		return usageErrorf("invalid argument %d for --seconds: want 1 to 3600", opts.seconds)
	}
	if opts.traceSeconds < 0 || opts.traceSeconds > 60 {
		return usageErrorf("invalid argument %d for --trace-seconds: want 0 to 60", opts.traceSeconds)
	}
	if opts.timeout <= 0 {
		return usageErrorf("invalid argument %v for --timeout: want a positive duration", opts.timeout)
	}
	var (
		rep *api.DoctorReport
		err error
	)
	if isFileArg(target) {
		rep, err = doctorFile(cmd.InOrStdin(), target)
	} else {
		rep, err = doctorLive(cmd.Context(), newClient(opts.transportOptions), target, opts, cmd.ErrOrStderr())
	}
	if err != nil {
		return err
	}
	rep.Target = redactURLs(target)
	out := cmd.OutOrStdout()
	if opts.output == outputJSON {
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			return err
		}
	} else if err := renderDoctor(out, rep); err != nil {
		return fmt.Errorf("writing output: %w", err)
	}
	switch {
	case rep.Counts.Fail > 0:
		return thresholdErrorf("%d of %d checks failed", rep.Counts.Fail, len(rep.Checks))
	case opts.strict && rep.Counts.Warn > 0:
		return thresholdErrorf("%d of %d checks warned (--strict)", rep.Counts.Warn, len(rep.Checks))
	}
	return nil
}

// doctorFile checks what a saved CPU profile shows.
func doctorFile(stdin io.Reader, name string) (*api.DoctorReport, error) {
	name, data, err := readProfile(name, stdin)
	if err != nil {
		return nil, err
	}
	r, err := analysis.AnalyzeBytes(data, analysis.Options{})
	if err != nil {
		return nil, &codedError{exitError, fmt.Errorf("%s: %s", name, describeAnalysisError(err))}
	}
	f := doctor.Facts{Source: doctor.SourceFile, Profile: doctor.MergeReports([]*analysis.Report{r}, analysis.DefaultTop)}
	rep := doctor.Run(f, doctor.DefaultThresholds)
	rep.Time = time.Now()
	return &rep, nil
}

// doctorLive asks an agent for its checklist, or checks a plain pprof
// server from its endpoints.
func doctorLive(ctx context.Context, c *client, target string, opts *doctorOptions, progress io.Writer) (*api.DoctorReport, error) {
	if ctx == nil {
		ctx = context.Background()
	}
	base, err := parseTarget(target)
	if err != nil {
		return nil, &codedError{exitError, err}
	}
	rep, _, err := fetchAgentDoctor(ctx, c, base, opts.timeout)
	if err != nil {
		return nil, err
	}
	if rep != nil {
		return rep, nil
	}
	// No agent's report (404, or not a doctor document): a plain pprof
	// server.
	return doctorPprof(ctx, c, base, opts, progress)
}

// fetchAgentDoctor reads the agent's doctor report. Without one (a plain
// pprof server, or an agent older than the doctor) the report is nil and the
// note says why: doctor then checks the pprof endpoints, dashboard leaves its
// doctor panel empty. A refused token or an unreachable target is an error.
func fetchAgentDoctor(ctx context.Context, c *client, base *url.URL, timeout time.Duration) (*api.DoctorReport, string, error) {
	u := endpoint(base, pathDoctor)
	resp, body, err := c.get(ctx, base, pathDoctor, nil, timeout, maxReportBytes)
	if err != nil {
		return nil, "", err
	}
	switch resp.StatusCode {
	case http.StatusOK:
	case http.StatusNotFound:
		return nil, "the agent serves no doctor report (an agent older than the doctor)", nil
	case http.StatusUnauthorized, http.StatusForbidden:
		return nil, "", statusError(u, resp, body, "doctor report")
	default:
		return nil, "the agent's doctor report failed: " + statusError(u, resp, body, "doctor report").Error(), nil
	}
	rep, ok := decodeAgentDoctor(resp, body)
	if !ok {
		return nil, "the agent's doctor answer is not a " + api.DoctorSchema + " document", nil
	}
	return rep, "", nil
}

// decodeAgentDoctor accepts an agent's doctor report, and nothing else.
func decodeAgentDoctor(resp *http.Response, body []byte) (*api.DoctorReport, bool) {
	var rep api.DoctorReport
	if isHTML(resp) || json.Unmarshal(body, &rep) != nil || rep.Schema != api.DoctorSchema {
		return nil, false
	}
	return &rep, true
}

// doctorPprof checks a plain net/http/pprof server: each endpoint it reads
// fills some facts; one that fails leaves its checks unknown, saying why.
func doctorPprof(ctx context.Context, c *client, base *url.URL, opts *doctorOptions, progress io.Writer) (*api.DoctorReport, error) {
	f := doctor.Facts{Source: doctor.SourcePprof}
	var (
		mu      sync.Mutex
		wg      sync.WaitGroup
		errs    []error
		reached bool
	)
	fetch := func(path string, query url.Values, wait time.Duration, use func(body []byte) error) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, body, err := c.get(ctx, base, path, query, wait+opts.timeout, maxTextProfileBytes)
			if err == nil && resp.StatusCode != http.StatusOK {
				err = statusError(endpoint(base, path), resp, body, "pprof endpoint")
			}
			if err == nil && isHTML(resp) {
				err = fmt.Errorf("%s: answered with an HTML page", endpoint(base, path))
			}
			mu.Lock()
			defer mu.Unlock()
			if resp != nil {
				reached = true
			}
			if err == nil {
				err = use(body)
			}
			if err != nil {
				errs = append(errs, err)
			}
		}()
	}
	stop := showProgress(progress, base.Host, opts.seconds)
	fetch(pathProfile, url.Values{"seconds": {strconv.Itoa(opts.seconds)}}, time.Duration(opts.seconds)*time.Second, func(body []byte) error {
		r, err := analysis.AnalyzeBytes(body, analysis.Options{})
		if err != nil {
			return fmt.Errorf("%s: %s", endpoint(base, pathProfile), describeAnalysisError(err))
		}
		f.Profile = doctor.MergeReports([]*analysis.Report{r}, analysis.DefaultTop)
		return nil
	})
	fetch("/debug/pprof/goroutine", url.Values{"debug": {"2"}}, 0, func(body []byte) error {
		l, err := doctor.ScanLocked(bytes.NewReader(body))
		if err != nil {
			f.LockedUnknown = "goroutine dump unreadable: " + err.Error()
			return nil
		}
		f.Locked = l
		return nil
	})
	fetch("/debug/pprof/threadcreate", url.Values{"debug": {"1"}}, 0, func(body []byte) error {
		if n, err := doctor.ParseThreadCreate(bytes.NewReader(body)); err == nil {
			f.ThreadsCreated = &n
		}
		return nil
	})
	fetch("/debug/pprof/heap", url.Values{"debug": {"1"}}, 0, func(body []byte) error {
		if m, err := doctor.ParseMemStats(bytes.NewReader(body)); err == nil && m.GCCPUFraction != nil {
			f.GCCPUFraction = m.GCCPUFraction
			f.GCFrom = "runtime.MemStats, since the process started"
		}
		return nil
	})
	if opts.traceSeconds > 0 {
		fetch("/debug/pprof/trace", url.Values{"seconds": {strconv.Itoa(opts.traceSeconds)}}, time.Duration(opts.traceSeconds)*time.Second, func(body []byte) error {
			return traceFacts(&f, body, opts.traceSeconds)
		})
	}
	wg.Wait()
	stop()
	if !reached {
		// Nothing answered at all: report why, with its exit code.
		return nil, errs[0]
	}
	for _, err := range errs {
		var ce *codedError
		if errors.As(err, &ce) && ce.code == exitAuth {
			return nil, err
		}
	}
	rep := doctor.Run(f, doctor.DefaultThresholds)
	rep.Time = time.Now()
	for _, err := range errs {
		fmt.Fprintf(progress, "diagctl: doctor: %s\n", errorText(err))
	}
	return &rep, nil
}

// traceFacts fills what an execution trace tells: the Go version range its
// format implies, GOMAXPROCS when the trace records it, and how long
// runnable goroutines waited.
func traceFacts(f *doctor.Facts, body []byte, seconds int) error {
	s, err := tracesum.Summarize(bytes.NewReader(body), tracesum.Options{})
	if err != nil {
		return fmt.Errorf("/debug/pprof/trace: %v", err)
	}
	if s.GoVersion != "" {
		f.GoVersion, f.GoAtLeast = s.GoVersion, true
		f.GoVersionFrom = "execution trace format, written by " + s.GoVersions
		if !strings.Contains(s.GoVersions, "later") {
			if i := strings.LastIndex(s.GoVersions, "go1."); i >= 0 {
				f.GoAtMost = s.GoVersions[i:]
			}
		}
	}
	if s.ProcsSource == "gomaxprocs" && s.Procs > 0 {
		f.GOMAXPROCS = s.Procs
	}
	if w := s.RunnableWait; w.Count > 0 {
		f.Sched = &api.Latency{Count: w.Count, P50: w.P50Seconds, P99: w.P99Seconds, P999: w.P999Seconds}
		f.SchedFrom = fmt.Sprintf("runnable goroutines' waits in a %d s execution trace", seconds)
	}
	return nil
}

// renderDoctor prints a doctor report; what an agent wrote in it goes
// through termSafe.
func renderDoctor(out io.Writer, rep *api.DoctorReport) error {
	var w bytes.Buffer
	src := "diagkit agent"
	switch rep.Source {
	case doctor.SourcePprof:
		src = "net/http/pprof only: items it cannot show are unknown"
	case doctor.SourceFile:
		src = "a saved CPU profile: only the profile-based items apply"
	}
	fmt.Fprintf(&w, "diagkit doctor: %s (%s", termSafe(rep.Target), src)
	if rep.Windows > 0 {
		fmt.Fprintf(&w, "; profiles: %d", rep.Windows)
	}
	fmt.Fprintln(&w, ")")
	for _, c := range rep.Checks {
		fmt.Fprintf(&w, "\n  %-7s %s\n", termSafe(strings.ToUpper(c.Status)), termSafe(c.Title))
		for _, e := range c.Evidence {
			fmt.Fprintf(&w, "          %s\n", termSafe(e))
		}
		if c.Status == api.StatusFail || c.Status == api.StatusWarn {
			fmt.Fprintf(&w, "          → %s\n", termSafe(c.Advice))
		}
	}
	fmt.Fprintf(&w, "\n%d pass, %d warn, %d fail, %d unknown\n", rep.Counts.Pass, rep.Counts.Warn, rep.Counts.Fail, rep.Counts.Unknown)
	_, err := io.WriteString(out, termSafeText(w.String()))
	return err
}
