package main

import (
	"bytes"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"unicode/utf8"

	"github.com/diagkit/diagkit/internal/tracesum"
)

// maxProcRows is how many Ps the text report lists one by one; beyond that
// it lists the least and the most busy.
const maxProcRows = 16

// renderTrace prints a trace summary as a compact report. name is the trace
// as the user gave it; lists is false when the user asked for no top lists
// (--top 0).
func renderTrace(w io.Writer, name string, s *tracesum.Summary, lists bool) error {
	var b bytes.Buffer
	dur := tracesum.FormatDuration

	// Header.
	tw := tabwriter.NewWriter(&b, 0, 0, tablePad, ' ', 0)
	fmt.Fprintf(tw, "Trace\t%s\n", termSafe(name))
	fmt.Fprintf(tw, "Go\t%s (trace format go 1.%d, written by %s)\n", termSafe(s.GoVersion), s.FormatVersion, termSafe(orUnknown(s.GoVersions)))
	fmt.Fprintf(tw, "Duration\t%s\n", formatSeconds(s.DurationSeconds))
	if s.ProcsSource == "gomaxprocs" {
		fmt.Fprintf(tw, "Ps\t%d (GOMAXPROCS)\n", s.Procs)
	} else {
		fmt.Fprintf(tw, "Ps\t%d seen (the trace does not record GOMAXPROCS)\n", s.Procs)
	}
	fmt.Fprintf(tw, "Goroutines\t%d (%d events)\n", s.Goroutines, s.Events)
	tw.Flush()

	// Preemptions.
	p := s.Preemptions
	fmt.Fprintf(&b, "\nPreemptions: %d (%.1f/s, %.1f per busy second; fewer is better)\n", p.Total, p.PerSecond, p.PerBusySecond)
	fmt.Fprintf(&b, "%sasync %d   cooperative %d   runtime yield %d   unknown %d\n", indentNotes, p.Async, p.Cooperative, p.RuntimeYield, p.Unknown)
	fmt.Fprintf(&b, "%snot counted: %d parked for a GC stack scan, %d runtime.Gosched\n", indentNotes, p.GCSuspend, p.Gosched)
	if lists && len(p.Functions) > 0 {
		rows := [][]string{{"PREEMPTED IN", "FILE", "COUNT"}}
		for _, f := range p.Functions {
			rows = append(rows, []string{shortenFunc(f.Function, maxFuncCol), fileCol(f.File, 0), strconv.FormatInt(f.Count, 10)})
		}
		writeTable(&b, rows, 2)
	}

	// P balance.
	bal := s.Balance
	fmt.Fprintf(&b, "\nP balance (time running goroutines): utilization %s, per P %s to %s, cv %.2f\n",
		formatPercent(bal.Utilization), formatPercent(bal.MinShare), formatPercent(bal.MaxShare), bal.CV)
	if len(bal.Procs) > 0 {
		rows := [][]string{{"P", "BUSY", "SHARE", "RUNS"}}
		for _, pb := range procRows(bal.Procs) {
			if pb.ID < 0 {
				rows = append(rows, []string{"…", "", "", ""})
				continue
			}
			rows = append(rows, []string{strconv.Itoa(pb.ID), dur(pb.BusySeconds), formatPercent(pb.Share), strconv.FormatInt(pb.Runs, 10)})
		}
		writeTable(&b, rows, 0, 1, 2, 3)
	}

	// Longest runs.
	if lists {
		b.WriteString("\nLongest uninterrupted runs\n")
		if len(s.LongestRuns) == 0 {
			b.WriteString(indentNotes + "none\n")
		} else {
			rows := [][]string{{"G", "RAN", "AT", "P", "ENDED", "WHERE"}}
			for _, r := range s.LongestRuns {
				ran := dur(r.Seconds)
				if r.Truncated {
					ran = "≥" + ran
				}
				p := "?"
				if r.P >= 0 {
					p = strconv.Itoa(r.P)
				}
				rows = append(rows, []string{strconv.FormatInt(r.Goroutine, 10), ran, dur(r.StartSeconds), p,
					truncateLeft(r.Ended, 24), ""})
			}
			// An inferred WHERE may take what the other columns leave of
			// a line.
			width := max(lineWidth-utf8.RuneCountInString(indentNotes)-tableWidth(rows, 5), maxWhereCol)
			for i, r := range s.LongestRuns {
				rows[i+1][5] = runWhere(r, width)
			}
			writeTable(&b, rows, 0, 1, 2, 3)
		}
	}

	// System calls and cgo.
	renderCalls(&b, "System calls", s.Syscalls, lists)
	renderCalls(&b, "Cgo calls", s.Cgo, lists)
	renderByDesign(&b, s.ByDesign, lists)

	// Runnable waits.
	wt := s.RunnableWait
	fmt.Fprintf(&b, "\nRunnable wait (runnable → running): %d waits\n", wt.Count)
	if wt.Count > 0 {
		fmt.Fprintf(&b, "%sp50 %s   p90 %s   p99 %s   p99.9 %s   max %s   mean %s\n", indentNotes,
			dur(wt.P50Seconds), dur(wt.P90Seconds), dur(wt.P99Seconds), dur(wt.P999Seconds), dur(wt.MaxSeconds), dur(wt.MeanSeconds))
		rows := [][]string{{"WAIT", "COUNT", "SHARE", ""}}
		for _, bk := range wt.Histogram {
			label := "≥ " + dur(bk.FromSeconds)
			if bk.ToSeconds > 0 {
				label = "< " + dur(bk.ToSeconds)
				if bk.FromSeconds > 0 {
					label = dur(bk.FromSeconds) + "–" + dur(bk.ToSeconds)
				}
			}
			share := float64(bk.Count) / float64(wt.Count)
			rows = append(rows, []string{label, strconv.FormatInt(bk.Count, 10), formatPercent(share), bar(share, 30)})
		}
		var t bytes.Buffer
		writeTable(&t, rows, 1, 2)
		for _, line := range strings.SplitAfter(t.String(), "\n") {
			b.WriteString(strings.TrimRight(line, " \n"))
			if strings.HasSuffix(line, "\n") {
				b.WriteString("\n")
			}
		}
	}
	if wt.Pending > 0 {
		fmt.Fprintf(&b, "%sstill runnable at the end: %d (the longest for %s)\n", indentNotes, wt.Pending, dur(wt.PendingMaxSeconds))
	}

	if len(s.Notes) > 0 {
		b.WriteString("\nNotes\n")
		for _, n := range s.Notes {
			b.WriteString(wrap(termSafe(n), indentNotes+"- ", indentNotes+"  ", lineWidth))
		}
	}
	b.WriteString("\n")
	b.WriteString(wrap(termSafe(s.Interpretation), "Interpretation: ", indentNotes, lineWidth))
	_, err := io.WriteString(w, termSafeText(b.String()))
	return err
}

// renderCalls prints the system call or cgo call section.
func renderCalls(b *bytes.Buffer, title string, c tracesum.CallStats, lists bool) {
	dur := tracesum.FormatDuration
	head := fmt.Sprintf("%s: %d, %s in all, longest %s, %d lost their P", title, c.Count, dur(c.TotalSeconds), dur(c.MaxSeconds), c.Blocked)
	if c.Open > 0 {
		head += fmt.Sprintf("; %d cut by the trace's edges (longest seen whole: %s)", c.Open, dur(c.MaxCompleteSeconds))
	}
	b.WriteString("\n")
	b.WriteString(wrap(head, "", indentNotes, lineWidth))
	if !lists || c.Count == 0 {
		return
	}
	rows := [][]string{{"CALLED", "COUNT", "TOTAL", "MAX"}}
	for _, site := range c.Sites {
		rows = append(rows, []string{shortenFunc(callName(site.Function), maxFuncCol), strconv.FormatInt(site.Count, 10),
			dur(site.TotalSeconds), dur(site.MaxSeconds)})
	}
	writeTable(b, rows, 1, 2, 3)
	rows = [][]string{{"LONGEST", "TOOK", "AT", "G", "CALLER"}}
	for _, call := range c.Longest {
		took := dur(call.Seconds)
		if call.Truncated {
			took = "≥" + took
		}
		rows = append(rows, []string{shortenFunc(callName(call.Function), 28), took, dur(call.StartSeconds),
			strconv.FormatInt(call.Goroutine, 10), where(call.Caller, call.File, call.Line, maxWhereCol)})
	}
	writeTable(b, rows, 1, 2, 3)
}

// renderByDesign prints the waits of the runtime's and the standard
// library's goroutines that block by design (the CPU profiler's reader,
// os/signal's receiver...), counted apart from the system calls: a line when
// there are some, and what waited.
func renderByDesign(b *bytes.Buffer, c tracesum.CallStats, lists bool) {
	if c.Count == 0 {
		return
	}
	dur := tracesum.FormatDuration
	head := fmt.Sprintf("Waits by design, not counted above: %d, %s in all (goroutines that wait in a system call for as long as there is nothing to do)",
		c.Count, dur(c.TotalSeconds))
	b.WriteString("\n")
	b.WriteString(wrap(head, "", indentNotes, lineWidth))
	if !lists {
		return
	}
	rows := [][]string{{"WAITED IN", "COUNT", "TOTAL", "MAX", "WHOSE"}}
	for _, site := range c.Sites {
		rows = append(rows, []string{shortenFunc(site.Function, maxFuncCol), strconv.FormatInt(site.Count, 10),
			dur(site.TotalSeconds), dur(site.MaxSeconds), tracesum.ByDesignWaiter(site.Function)})
	}
	writeTable(b, rows, 1, 2, 3)
}

// callName names a called function; "?" is a call the trace has no stack for.
func callName(fn string) string {
	if fn == "?" || fn == "" {
		return "(no stack)"
	}
	return fn
}

// procRows is the Ps to list: all of them, or, when there are many, the
// maxProcRows/2 least busy and most busy with a row of ID -1 between.
func procRows(ps []tracesum.ProcBusy) []tracesum.ProcBusy {
	if len(ps) <= maxProcRows {
		return ps
	}
	sorted := append([]tracesum.ProcBusy(nil), ps...)
	// Insertion sort by share: the list is at most a few thousand long.
	for i := 1; i < len(sorted); i++ {
		for j := i; j > 0 && sorted[j].Share < sorted[j-1].Share; j-- {
			sorted[j], sorted[j-1] = sorted[j-1], sorted[j]
		}
	}
	half := maxProcRows / 2
	out := append([]tracesum.ProcBusy(nil), sorted[:half]...)
	out = append(out, tracesum.ProcBusy{ID: -1})
	return append(out, sorted[len(sorted)-half:]...)
}

// maxWhereCol is the width of a "function (file.go:line)" column.
const maxWhereCol = 46

// where is "function (file.go:line)" shortened to fit width runes, or "?"
// for no function.
func where(fn, file string, line int, width int) string {
	if fn == "" {
		return "?"
	}
	loc := ""
	if file != "" {
		loc = " (" + fileCol(file, line) + ")"
	}
	return shortenFunc(fn, max(width-utf8.RuneCountInString(loc), 16)) + loc
}

// runWhere is where a run ended. When its stack does not say (no stack, or
// the runtime's frames only, as an async preemption's can be), it is what the
// trace knows of the goroutine instead, marked as such and in up to width
// runes: "in goroutine started at F (file:line)", or "last seen in F
// (file:line)"; "?" when it knows nothing.
func runWhere(r tracesum.Run, width int) string {
	if r.Function != "" {
		return where(r.Function, r.File, r.Line, maxWhereCol)
	}
	if in := r.Inferred; in != nil {
		if f := in.Started; f != nil {
			return inferredWhere("in goroutine started at ", *f, width)
		}
		if f := in.LastSeen; f != nil {
			return inferredWhere("last seen in ", *f, width)
		}
	}
	return "?"
}

// inferredWhere is prefix and "function (file.go:line)" in width runes,
// without the file when the function would not fit otherwise.
func inferredWhere(prefix string, f tracesum.Frame, width int) string {
	room := width - utf8.RuneCountInString(prefix)
	loc := ""
	if f.File != "" {
		loc = " (" + fileCol(f.File, f.Line) + ")"
	}
	if utf8.RuneCountInString(f.Function)+utf8.RuneCountInString(loc) > room && room-utf8.RuneCountInString(loc) < 16 {
		loc = ""
	}
	return prefix + shortenFunc(f.Function, max(room-utf8.RuneCountInString(loc), 16)) + loc
}

// tableWidth is the width writeTable gives the first n columns of rows,
// their padding included.
func tableWidth(rows [][]string, n int) int {
	w := 0
	for col := 0; col < n; col++ {
		cw := 0
		for _, row := range rows {
			cw = max(cw, utf8.RuneCountInString(row[col]))
		}
		w += cw + tablePad
	}
	return w
}

// fileCol is a file's base name with the line, if any.
func fileCol(file string, line int) string {
	if file == "" {
		return "?"
	}
	s := truncateLeft(baseName(file), maxLocCol)
	if line > 0 {
		s += ":" + strconv.Itoa(line)
	}
	return s
}

// bar draws share (0 to 1) as a bar of up to width cells.
func bar(share float64, width int) string {
	n := int(share*float64(width) + 0.5)
	if n == 0 && share > 0 {
		return "▏"
	}
	return strings.Repeat("█", min(n, width))
}

func orUnknown(s string) string {
	if s == "" {
		return "an unknown release"
	}
	return s
}
