// The two ways watch draws its updates: plain lines, and a redrawn terminal screen.

package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"
	"unicode/utf8"

	"golang.org/x/term"

	"github.com/diagkit/diagkit/diag/api"
	"github.com/diagkit/diagkit/internal/units"
)

// plainView prints one line per update.
type plainView struct {
	w io.Writer
}

func (v *plainView) render(st *watchState, ev watchEvent, now time.Time) error {
	var line string
	switch ev {
	case watchNew:
		line = watchLine(st.target, st.cur)
	case watchError:
		line = fmt.Sprintf("%s %s error=%s exit=%d msg=%q", now.UTC().Format(time.RFC3339), st.target,
			watchErrorClass(st.err), exitCodeOf(st.err), redactURLs(st.err.Error()))
	default:
		return nil
	}
	_, err := io.WriteString(v.w, termSafe(line)+"\n")
	return err
}

func (v *plainView) resized() bool { return false }
func (v *plainView) close()        {}

// watchLine is the plain line of a sample: key=value fields, no spaces in
// the values, the same fields in the same order every time.
func watchLine(target string, s *watchSample) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s ", s.end.UTC().Format(time.RFC3339), target)
	if s.source == "agent" {
		fmt.Fprintf(&b, "window=%d", s.id)
	} else {
		fmt.Fprintf(&b, "profile=%d", s.id)
	}
	sh := s.report.Shares
	fmt.Fprintf(&b, " async_preempt=%s preempt_sched=%s cgo=%s external=%s go=%s",
		formatPercent(sh.AsyncPreempt), formatPercent(sh.PreemptSched), formatPercent(sh.Cgo),
		formatPercent(sh.External), formatPercent(sh.Go))
	sched, warns := "n/a", "n/a"
	if w := s.window; w != nil {
		if l := w.Context.SchedLatency; l != nil {
			sched = units.FormatSeconds(l.P99)
		}
		kinds := make([]string, 0, len(w.Warnings))
		for _, warn := range w.Warnings {
			kinds = append(kinds, warn.Kind)
		}
		warns = "none"
		if len(kinds) > 0 {
			warns = strings.Join(kinds, ",")
		}
	}
	top := "-"
	if len(s.report.TopPreempted) > 0 {
		top = strings.Join(strings.Fields(s.report.TopPreempted[0].Function), "")
	}
	fmt.Fprintf(&b, " sched_p99=%s warnings=%s top=%s", sched, warns, top)
	return b.String()
}

// terminalView redraws the screen in place.
type terminalView struct {
	w             io.Writer
	fd            int
	width, height int
	drawn         bool // the cursor is hidden and the screen ours
	clear         bool // erase the whole screen before the next frame
}

// newTerminalView returns a terminalView when w is a terminal that
// understands cursor movement, else nil.
func newTerminalView(w io.Writer) *terminalView {
	f, ok := w.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) || os.Getenv("TERM") == "dumb" {
		return nil
	}
	return &terminalView{w: w, fd: int(f.Fd()), clear: true}
}

// size is the terminal's size, 80x24 if it cannot tell.
func (v *terminalView) size() (width, height int) {
	width, height, err := term.GetSize(v.fd)
	if err != nil || width <= 0 || height <= 0 {
		return 80, 24
	}
	return width, height
}

func (v *terminalView) resized() bool {
	w, h := v.size()
	return w != v.width || h != v.height
}

func (v *terminalView) render(st *watchState, _ watchEvent, now time.Time) error {
	w, h := v.size()
	if w != v.width || h != v.height {
		v.width, v.height, v.clear = w, h, true
	}
	// Leave the last column and row alone: writing there makes some
	// terminals wrap or scroll.
	lines := watchScreen(st, w-1, h-1, now)
	var b bytes.Buffer
	if !v.drawn {
		b.WriteString(ansiHideCursor)
	}
	b.WriteString(ansiHome)
	if v.clear {
		b.WriteString(ansiClear)
	}
	for _, l := range lines {
		b.WriteString(l)
		b.WriteString(ansiEraseLine + "\n")
	}
	b.WriteString(ansiEraseBelow)
	v.drawn, v.clear = true, false
	_, err := v.w.Write(b.Bytes())
	return err
}

// close shows the cursor again. The last frame stays on the screen, the
// cursor under it.
func (v *terminalView) close() {
	if v.drawn {
		_, _ = io.WriteString(v.w, ansiShowCursor)
	}
}

// watchScreen lays out one frame: at most height lines of at most width
// columns.
func watchScreen(st *watchState, width, height int, now time.Time) []string {
	width = max(width, 20)
	var lines []string
	add := func(format string, args ...any) {
		lines = append(lines, fmt.Sprintf(format, args...))
	}

	// Header: target and clock, window, status.
	title := "diagctl watch " + st.target
	clock := now.UTC().Format("15:04:05 UTC")
	add("%s%s%s", title, strings.Repeat(" ", max(2, width-utf8.RuneCountInString(title)-len(clock))), clock)
	s := st.cur
	switch {
	case s == nil:
		add("waiting for the first update")
	case s.source == "agent":
		add("agent window #%d  %s-%s UTC  %d samples  updated %s", s.id, s.start.UTC().Format("15:04:05"),
			s.end.UTC().Format("15:04:05"), s.report.Samples, st.updated.UTC().Format("15:04:05"))
	default:
		add("fresh profile #%d  %s-%s UTC  %d samples  updated %s", s.id, s.start.UTC().Format("15:04:05"),
			s.end.UTC().Format("15:04:05"), s.report.Samples, st.updated.UTC().Format("15:04:05"))
	}
	progress := ""
	if st.count > 0 {
		progress = fmt.Sprintf("; update %d of %d", st.updates, st.count)
	}
	switch {
	case st.busy != "":
		add("%s...%s", st.busy, progress)
	case st.err != nil:
		add("! %s %s, retrying every %v: %s", st.errAt.UTC().Format("15:04:05"), watchErrorClass(st.err), st.interval, watchShortError(st.err, st.target))
	case !st.checked.IsZero():
		add("checked %s, every %v%s; Ctrl-C quits", st.checked.UTC().Format("15:04:05"), st.interval, progress)
	default:
		add("connecting%s; Ctrl-C quits", progress)
	}
	if s == nil {
		return watchFit(lines, width, height)
	}

	// Shares, with the history of two of them.
	sh := s.report.Shares
	const prefix = 13 + 2 + 7 + 2 // name, gap, share, gap
	const suffix = 2 + 4 + 7      // "  max 100.00%"
	room := width - prefix - suffix
	n := min(len(st.async), room)
	rows := []struct {
		name    string
		share   float64
		history []float64
	}{
		{"async_preempt", sh.AsyncPreempt, st.async},
		{"preempt_sched", sh.PreemptSched, nil},
		{"cgo", sh.Cgo, st.cgo},
		{"external", sh.External, nil},
		{"go", sh.Go, nil},
	}
	lines = append(lines, "")
	if n >= 2 {
		what := "windows"
		if s.source != "agent" {
			what = "profiles"
		}
		add("%-13s  %7s  HISTORY (last %d %s, newest right)", "BUCKET", "SHARE", n, what)
	} else {
		add("%-13s  %7s", "BUCKET", "SHARE")
	}
	for _, r := range rows {
		line := fmt.Sprintf("%-13s  %7s", r.name, formatPercent(r.share))
		if n >= 2 && r.history != nil {
			h := r.history[len(r.history)-n:]
			line += "  " + sparkline(h) + "  max " + formatPercent(watchMax(h))
		}
		lines = append(lines, line)
	}

	// Context.
	lines = append(lines, "")
	if s.window == nil {
		add("No process context: a fresh profile has none (the diagkit agent adds it).")
	} else {
		lines = append(lines, watchContext(s.window.Context, width)...)
	}

	// Top interrupted function.
	lines = append(lines, "")
	if len(s.report.TopPreempted) == 0 {
		add("Top interrupted  none")
	} else {
		fs := s.report.TopPreempted[0]
		loc := location(fs)
		fn := shortenFunc(fs.Function, max(12, width-len("Top interrupted  ")-len(loc)-2-7-2))
		add("Top interrupted  %s  %s  %s", fn, loc, formatPercent(fs.Share))
	}

	// Warnings, each with its first cause.
	if s.window != nil {
		lines = append(lines, "")
		if len(s.window.Warnings) == 0 {
			add("Warnings  none")
		} else {
			add("Warnings")
			for _, w := range s.window.Warnings {
				line := fmt.Sprintf("  %s %s above %s", w.Kind, formatWarnValue(w.Kind, w.Value), formatWarnValue(w.Kind, w.Threshold))
				if len(w.Causes) > 0 {
					line += ": " + w.Causes[0]
				}
				lines = append(lines, line)
			}
		}
	}
	return watchFit(lines, width, height)
}

// watchContext lays out the context in two columns, or one on a narrow
// terminal. What the agent could not measure reads "n/a".
func watchContext(c api.Context, width int) []string {
	limit := "n/a"
	switch {
	case c.CgroupCPULimit != nil:
		limit = fmt.Sprintf("%.3g CPUs, cgroup %s", *c.CgroupCPULimit, c.CgroupVersion)
	case c.CgroupVersion != "":
		limit = "none, cgroup " + c.CgroupVersion
	}
	throttled := "n/a"
	if c.CgroupThrottledPeriods != nil {
		throttled = fmt.Sprint(*c.CgroupThrottledPeriods)
		if c.CgroupPeriods != nil {
			throttled += fmt.Sprintf("/%d", *c.CgroupPeriods)
		}
		throttled += " periods"
		if c.CgroupThrottledSeconds != nil {
			throttled += fmt.Sprintf(" %.2fs", *c.CgroupThrottledSeconds)
		}
	}
	sched := "n/a"
	if l := c.SchedLatency; l != nil {
		sched = units.FormatSeconds(l.P99)
	}
	runnable := "n/a"
	if c.RunnableGoroutines != nil {
		runnable = fmt.Sprintf("%d runnable", *c.RunnableGoroutines)
		if c.Goroutines != nil {
			runnable += fmt.Sprintf(" of %d", *c.Goroutines)
		}
	}
	left := [][2]string{
		{"GOMAXPROCS", fmt.Sprintf("%d (NumCPU %d)", c.GOMAXPROCS, c.NumCPU)},
		{"CPU limit", limit},
		{"Throttled", throttled},
		{"Goroutines", runnable},
	}
	right := [][2]string{
		{"Sched latency p99", sched},
		{"Invol. ctx switches", optFloat(c.InvoluntaryCtxSwitchesPerSecond, "%.0f/s")},
		{"cgo calls", optFloat(c.CgoCallsPerSecond, "%.0f/s")},
	}
	var b bytes.Buffer
	tw := tabwriter.NewWriter(&b, 0, 0, tablePad, ' ', 0)
	if width >= 76 {
		for i, l := range left {
			r := [2]string{}
			if i < len(right) {
				r = right[i]
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", l[0], l[1], r[0], r[1])
		}
	} else {
		for _, kv := range append(left, right...) {
			fmt.Fprintf(tw, "%s\t%s\n", kv[0], kv[1])
		}
	}
	tw.Flush()
	lines := strings.Split(strings.TrimRight(b.String(), "\n"), "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(l, " ")
	}
	return lines
}

// watchFit cuts lines to width columns and the list to height lines. The
// lines go through termSafe first: they hold function names, causes and
// errors from the target, and the view writes its own control sequences
// around them.
func watchFit(lines []string, width, height int) []string {
	for i, l := range lines {
		lines[i] = termSafe(l)
	}
	if height < 1 {
		height = 1
	}
	if len(lines) > height {
		lines = append(lines[:height-1:height-1], fmt.Sprintf("... %d more lines: enlarge the terminal", len(lines)-height+1))
	}
	for i, l := range lines {
		if utf8.RuneCountInString(l) > width {
			r := []rune(l)
			lines[i] = string(r[:width-1]) + "…"
		}
	}
	return lines
}

// sparkBars are the eight heights of a sparkline.
var sparkBars = []rune("▁▂▃▄▅▆▇█")

// sparkline draws shares as bars scaled to their maximum, or to 1% when all
// are smaller, so that noise near zero stays flat.
func sparkline(shares []float64) string {
	scale := max(watchMax(shares), 0.01)
	r := make([]rune, len(shares))
	for i, v := range shares {
		level := int(v/scale*float64(len(sparkBars)-1) + 0.5)
		r[i] = sparkBars[min(max(level, 0), len(sparkBars)-1)]
	}
	return string(r)
}

func watchMax(vs []float64) float64 {
	m := 0.0
	for _, v := range vs {
		m = max(m, v)
	}
	return m
}
