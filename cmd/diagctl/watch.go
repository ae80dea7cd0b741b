package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/diagkit/diagkit/diag/analysis"
	"github.com/diagkit/diagkit/diag/api"
)

// watchHistory bounds the shares watch remembers for its history bars.
const watchHistory = 512

// Terminal control sequences (ANSI/VT100) the terminal view uses, and the
// only ones it writes.
const (
	ansiHome       = "\x1b[H"    // cursor to the top left corner
	ansiClear      = "\x1b[2J"   // erase the whole screen
	ansiEraseLine  = "\x1b[K"    // erase to the end of the line
	ansiEraseBelow = "\x1b[J"    // erase from the cursor to the end of the screen
	ansiHideCursor = "\x1b[?25l" // hide the cursor
	ansiShowCursor = "\x1b[?25h" // show it again
)

// watchResizePoll is how often the terminal view checks the terminal's size,
// to redraw at once when it changes.
const watchResizePoll = 250 * time.Millisecond

type watchOptions struct {
	live     liveOptions
	interval time.Duration
	count    int
	plain    bool
	output   watchFormat
}

// watchFormat is watch's -o/--output: the terminal view or plain lines
// (text), or a JSON document per window (json).
type watchFormat string

const (
	watchText watchFormat = "text"
	watchJSON watchFormat = "json"
)

func (o *watchFormat) String() string { return string(*o) }
func (o *watchFormat) Type() string   { return "format" }

func (o *watchFormat) Set(s string) error {
	switch f := watchFormat(s); f {
	case watchText, watchJSON:
		*o = f
		return nil
	case "table": // as trace takes it
		*o = watchText
		return nil
	}
	return errors.New("want text or json")
}

func newWatchCmd() *cobra.Command {
	opts := &watchOptions{interval: 2 * time.Second, output: watchText}
	opts.live.seconds = 5
	opts.live.timeout = 10 * time.Second
	opts.live.top = 1 // the view shows the top interrupted function only
	cmd := &cobra.Command{
		Use:   "watch [flags] HOST[:PORT]|URL",
		Short: "Follow the shares and context of a live process as they change",
		Long: `watch follows one live process. Every --interval it reads the diagkit agent's
latest window report and shows the window when it is a new one. From a plain
net/http/pprof server, or with --fresh, it takes CPU profiles of --seconds
back to back instead and analyzes each here. The target is HOST (port 6060),
HOST:PORT or an http(s) URL, as for preempt-share; a bearer token comes from
--token or DIAGKIT_TOKEN.

On a terminal the screen is redrawn in place: the target and window, the
shares (async_preempt, preempt_sched, cgo, external, go) with a history of
the async-preempt and cgo shares over the last windows, the process context
(GOMAXPROCS, CPU limit, throttling, involuntary context switches, scheduling
latency p99, cgo calls, runnable goroutines; "n/a" where the agent could not
measure it), the top interrupted function and the active warnings with their
first cause. Anywhere else, or with --plain, it prints one line per update:

  2026-11-22T11:31:42Z 127.0.0.1:6060 window=11 async_preempt=89.70%
    preempt_sched=0.10% cgo=0.00% external=0.00% go=10.20% sched_p99=100.7ms
    warnings=async_preempt_share,sched_latency_p99 top=main.spin
  2026-11-22T11:31:44Z 127.0.0.1:6060 error=busy exit=6 msg="..."

(each update is one line, wrapped here; window=N is the agent's window,
profile=N a fresh profile; the time is the end of the window or profile, UTC.)

With -o json it prints one JSON document per line for each new window, the
document preempt-share -o json prints: diagkit.window/v1 for an agent's
window, diagkit.report/v1 for a fresh profile. A failed attempt prints no
document; it is reported on standard error as one "diagctl: " line.

A target that does not answer (refused, DNS, timeout) or whose CPU profiler is
busy is shown as such and tried again at the next tick. A refused token
(401/403), a 404 or an answer that is not a profile ends the watch. So does
Ctrl-C, and --count N after N updates (new windows, new profiles or failed
attempts), which suits scripts.

Exit codes: 0 ok (stopped by Ctrl-C or --count), 1 error, 2 usage, 4 target
unreachable (refused, DNS, timeout), 5 not authorized (401/403), 6 busy (the
target's profiler is in use, or 429). With --count, a watch whose last update
failed exits with the code of that failure.`,
		Example: `  diagctl watch localhost:6060
  diagctl watch --fresh --seconds 10 https://api.internal:6060
  diagctl watch --count 1 --plain localhost:6060 | grep -q 'warnings=none'
  diagctl watch localhost:6060 | tee watch.log
  diagctl watch -o json localhost:6060 | jq -c '{seq, async: .shares.async_preempt}'`,
		Args:              exactArgs(1, "one target (HOST[:PORT] or URL)"),
		ValidArgsFunction: cobra.NoFileCompletions,
		RunE: func(cmd *cobra.Command, args []string) error {
			return watch(cmd, args[0], opts)
		},
	}
	f := cmd.Flags()
	f.DurationVar(&opts.interval, "interval", opts.interval, "look for a new window every `DURATION`")
	f.IntVar(&opts.count, "count", 0, "stop after `N` updates (0: until Ctrl-C)")
	f.BoolVar(&opts.live.fresh, "fresh", false, "take new CPU profiles even from a diagkit agent")
	f.IntVar(&opts.live.seconds, "seconds", opts.live.seconds, "length of each fresh CPU profile, in `seconds`")
	f.BoolVar(&opts.plain, "plain", false, "print one line per update even on a terminal")
	f.VarP(&opts.output, "output", "o", "output `format`: text (the terminal view or plain lines) or json (a document per window)")
	addTransportFlags(f, &opts.live.transportOptions, true)
	_ = cmd.RegisterFlagCompletionFunc("interval", cobra.FixedCompletions(
		[]string{"1s", "2s", "5s", "10s"}, cobra.ShellCompDirectiveNoFileComp))
	_ = cmd.RegisterFlagCompletionFunc("count", cobra.NoFileCompletions)
	_ = cmd.RegisterFlagCompletionFunc("output", cobra.FixedCompletions(
		[]string{"text", "json"}, cobra.ShellCompDirectiveNoFileComp))
	_ = cmd.RegisterFlagCompletionFunc("seconds", cobra.NoFileCompletions)
	return cmd
}

// watchSample is one update with data: an agent window or a fresh profile.
type watchSample struct {
	source string // "agent" or "profile"
	// id is the agent's window seq, or the number of the profile since the
	// watch started.
	id         uint64
	start, end time.Time
	report     *analysis.Report
	window     *api.WindowReport // for source "agent"
}

// watchState is everything the views show.
type watchState struct {
	target   string
	interval time.Duration
	count    int

	cur      *watchSample
	updated  time.Time // when cur arrived
	async    []float64 // async-preempt share of the last samples, oldest first
	cgo      []float64 // cgo share, likewise
	profiles uint64    // fresh profiles shown
	updates  int       // updates so far: samples and failed attempts
	checked  time.Time // when the last attempt ended
	err      error     // the last attempt's error, if it failed
	errAt    time.Time // when it failed
	busy     string    // what the watch is doing, when it takes a while
	nextAt   time.Time // when the next attempt starts
}

// watchEvent is what an attempt brought.
type watchEvent int

const (
	watchNone  watchEvent = iota
	watchNew              // a new window or profile
	watchSame             // the agent's window has not changed
	watchError            // the attempt failed, transiently
	watchBusy             // an attempt that takes a while has started
)

// watchView shows the state as it changes.
type watchView interface {
	// render shows st after ev.
	render(st *watchState, ev watchEvent, now time.Time) error
	// resized reports whether the view must be drawn again because the
	// terminal changed size.
	resized() bool
	// close restores the terminal, if the view changed it.
	close()
}

func watch(cmd *cobra.Command, target string, opts *watchOptions) error {
	switch {
	case opts.interval <= 0:
		return usageErrorf("invalid argument %v for --interval: want a positive duration", opts.interval)
	case opts.count < 0:
		return usageErrorf("invalid argument %d for --count: want 0 (no limit) or more", opts.count)
	case opts.live.seconds < 1 || opts.live.seconds > 3600:
		return usageErrorf("invalid argument %d for --seconds: want 1 to 3600", opts.live.seconds)
	case opts.live.timeout <= 0:
		return usageErrorf("invalid argument %v for --timeout: want a positive duration", opts.live.timeout)
	}
	if _, err := parseTarget(target); err != nil {
		return usageErrorf("%v (watch follows a live process; preempt-share reads profile files)", err)
	}

	ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	out := cmd.OutOrStdout()
	var view watchView = &plainView{w: out}
	if opts.output == watchJSON {
		view = &jsonView{w: out, errw: cmd.ErrOrStderr()}
	} else if tv := newTerminalView(out); tv != nil && !opts.plain {
		view = tv
	}
	defer view.close()

	var resize <-chan time.Time
	if _, ok := view.(*terminalView); ok {
		tick := time.NewTicker(watchResizePoll)
		defer tick.Stop()
		resize = tick.C
	}

	st := &watchState{target: redactURLs(target), interval: opts.interval, count: opts.count}
	c := newClient(opts.live.transportOptions)
	if err := view.render(st, watchNone, time.Now()); err != nil {
		return watchOutputError(err)
	}
	for {
		start := time.Now()
		st.nextAt = start.Add(opts.interval)
		if opts.live.fresh || st.cur != nil && st.cur.source == "profile" {
			st.busy = fmt.Sprintf("taking a %ds CPU profile", opts.live.seconds)
			if err := view.render(st, watchBusy, start); err != nil {
				return watchOutputError(err)
			}
		}
		res, err := watchFetch(ctx, c, target, opts.live, view, st, resize)
		st.busy = ""
		if ctx.Err() != nil {
			return nil // Ctrl-C: the usual way to stop
		}
		now := time.Now()
		ev := st.apply(res, err, now)
		if ev == watchError && !watchTransient(err) {
			return err
		}
		if err := view.render(st, ev, now); err != nil {
			return watchOutputError(err)
		}
		if opts.count > 0 && st.updates >= opts.count {
			if ev == watchError {
				return err
			}
			return nil
		}
		// Profiles follow each other back to back; agent windows are
		// looked for every interval.
		if !watchWait(ctx, time.Until(st.nextAt), view, st, resize) {
			return nil
		}
	}
}

// jsonView prints a JSON document per line for each new window or profile,
// and a "diagctl: " line on errw for each failed attempt.
type jsonView struct {
	w, errw io.Writer
}

func (v *jsonView) render(st *watchState, ev watchEvent, now time.Time) error {
	switch ev {
	case watchNew:
		var doc any = st.cur.report
		if st.cur.window != nil {
			doc = st.cur.window
		}
		b, err := json.Marshal(doc)
		if err != nil {
			return err
		}
		_, err = v.w.Write(append(b, '\n'))
		return err
	case watchError:
		if watchTransient(st.err) && (st.count == 0 || st.updates < st.count) {
			fmt.Fprintf(v.errw, "diagctl: %s (exit %d; trying again)\n", errorText(st.err), exitCodeOf(st.err))
		}
	}
	return nil
}

func (v *jsonView) resized() bool { return false }
func (v *jsonView) close()        {}

func watchOutputError(err error) error {
	return fmt.Errorf("writing output: %w", err)
}

// watchFetch reads the target once, redrawing the view meanwhile if the
// terminal changes size.
func watchFetch(ctx context.Context, c *client, target string, o liveOptions, view watchView, st *watchState, resize <-chan time.Time) (*liveResult, error) {
	type result struct {
		res *liveResult
		err error
	}
	done := make(chan result, 1)
	go func() {
		// No progress bar: the view says what is going on.
		res, err := fetchLive(ctx, c, target, o, nil)
		done <- result{res, err}
	}()
	for {
		select {
		case r := <-done:
			return r.res, r.err
		case now := <-resize:
			if view.resized() {
				_ = view.render(st, watchNone, now)
			}
		}
	}
}

// watchWait waits d, redrawing the view if the terminal changes size. It
// returns false when ctx is done.
func watchWait(ctx context.Context, d time.Duration, view watchView, st *watchState, resize <-chan time.Time) bool {
	timer := time.NewTimer(max(d, 0))
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return false
		case <-timer.C:
			return true
		case now := <-resize:
			if view.resized() {
				_ = view.render(st, watchNone, now)
			}
		}
	}
}

// watchTransient reports whether a failed attempt is worth repeating: the
// target did not answer, or its profiler was busy. Anything else (401/403, a
// 404, an answer that is not a profile) would fail the same way again.
func watchTransient(err error) bool {
	switch exitCodeOf(err) {
	case exitUnreachable, exitBusy:
		return true
	}
	return false
}

// apply records what an attempt brought and says what it was.
func (st *watchState) apply(res *liveResult, err error, now time.Time) watchEvent {
	st.checked = now
	if err != nil {
		st.err, st.errAt = err, now
		st.updates++
		return watchError
	}
	st.err = nil
	s := &watchSample{source: res.source, report: res.report, window: res.window}
	if res.window != nil {
		s.id, s.start, s.end = res.window.Seq, res.window.Start, res.window.End
		if cur := st.cur; cur != nil && cur.window != nil && cur.id == s.id && cur.end.Equal(s.end) {
			return watchSame
		}
	} else {
		st.profiles++
		s.id, s.end = st.profiles, now
		s.start = now.Add(-time.Duration(res.report.DurationSeconds * float64(time.Second)))
	}
	st.cur, st.updated = s, now
	st.async = watchAppend(st.async, s.report.Shares.AsyncPreempt)
	st.cgo = watchAppend(st.cgo, s.report.Shares.Cgo)
	st.updates++
	return watchNew
}

func watchAppend(s []float64, v float64) []float64 {
	if len(s) == watchHistory {
		s = append(s[:0], s[1:]...)
	}
	return append(s, v)
}

// watchErrorClass names an error's exit code in a plain line.
func watchErrorClass(err error) string {
	switch exitCodeOf(err) {
	case exitUnreachable:
		return "unreachable"
	case exitAuth:
		return "auth"
	case exitBusy:
		return "busy"
	}
	return "error"
}

// watchShortError is an error's message without the URL or host it starts with:
// the header already names the target.
func watchShortError(err error, target string) string {
	msg := err.Error()
	prefix := target
	if u, perr := parseTarget(target); perr == nil {
		prefix = u.Host
	}
	switch {
	case strings.HasPrefix(msg, "http://") || strings.HasPrefix(msg, "https://"):
		if i := strings.Index(msg, ": "); i >= 0 {
			return msg[i+2:]
		}
	case strings.HasPrefix(msg, prefix+": "):
		return msg[len(prefix)+2:]
	}
	return msg
}
