package main

import (
	"bytes"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
	"unicode/utf8"

	"github.com/diagkit/diagkit/diag/analysis"
)

// Table layout: everything fits in lineWidth columns. Function names and
// locations longer than their column are shortened in the table only; the
// JSON output always has them in full.
const (
	lineWidth   = 100
	maxFuncCol  = 40
	maxLocCol   = 28
	tablePad    = 2
	indentNotes = "  "
)

// renderTable prints a report as a readable table. name is the profile's name
// as the user gave it; lists is false when the user asked for no top lists
// (--top 0). Every string from the report goes through termSafe: a profile's
// function names, an agent's notes, are not to drive the terminal.
func renderTable(w io.Writer, name string, r *analysis.Report, lists bool) error {
	var b bytes.Buffer

	// Header.
	tw := tabwriter.NewWriter(&b, 0, 0, tablePad, ' ', 0)
	fmt.Fprintf(tw, "Profile\t%s\n", termSafe(name))
	fmt.Fprintf(tw, "Samples\t%d (%d stack%s)\n", r.Samples, r.Records, plural(r.Records))
	fmt.Fprintf(tw, "CPU time\t%s s\n", formatCPU(r.CPUSeconds))
	fmt.Fprintf(tw, "Duration\t%s\n", formatSeconds(r.DurationSeconds))
	fmt.Fprintf(tw, "Period\t%s\n", formatPeriod(r.PeriodSeconds))
	fmt.Fprintf(tw, "Headline\tasync_preempt %s   cgo %s   external %s\n",
		formatPercent(r.Shares.AsyncPreempt), formatPercent(r.Shares.Cgo), formatPercent(r.Shares.External))
	tw.Flush()

	// Buckets.
	b.WriteString("\nShares of CPU time\n")
	rows := [][]string{{"BUCKET", "SHARE", "CPU s", "SAMPLES"}}
	for _, bucket := range analysis.Buckets {
		st := r.Buckets[bucket]
		rows = append(rows, []string{string(bucket), formatPercent(st.Share),
			formatCPU(st.CPUSeconds), strconv.FormatInt(st.Samples, 10)})
	}
	writeTable(&b, rows, 1, 2, 3)

	if lists {
		renderLists(&b, r)
	}

	if len(r.Notes) > 0 {
		b.WriteString("\nNotes\n")
		for _, n := range r.Notes {
			b.WriteString(wrap(termSafe(n), indentNotes+"- ", indentNotes+"  ", lineWidth))
		}
	}

	b.WriteString("\n")
	// The report carries its reading; an agent older than that field does not.
	interpretation := r.Interpretation
	if interpretation == "" {
		interpretation = analysis.Interpret(r)
	}
	b.WriteString(wrap(termSafe(interpretation), "Interpretation: ", indentNotes, lineWidth))
	_, err := io.WriteString(w, termSafeText(b.String()))
	return err
}

// renderLists prints the top interrupted functions and the top cgo call sites.
func renderLists(b *bytes.Buffer, r *analysis.Report) {
	b.WriteString("\nTop interrupted functions (the frame under runtime.asyncPreempt)\n")
	if len(r.TopPreempted) == 0 {
		b.WriteString(indentNotes + "none\n")
	} else {
		rows := [][]string{{"FUNCTION", "LOCATION", "INLINED", "CPU s", "SHARE"}}
		for _, fs := range r.TopPreempted {
			inlined := ""
			if fs.Inlined {
				inlined = "yes"
			}
			rows = append(rows, []string{shortenFunc(fs.Function, maxFuncCol), location(fs),
				inlined, formatCPU(fs.CPUSeconds), formatPercent(fs.Share)})
		}
		writeTable(b, rows, 3, 4)
	}

	// Top cgo call sites.
	b.WriteString("\nTop cgo call sites (Go caller → C function)\n")
	if len(r.TopCgoCalls) == 0 {
		b.WriteString(indentNotes + "none\n")
	} else {
		rows := [][]string{{"CALL", "LOCATION", "CPU s", "SHARE"}}
		for _, fs := range r.TopCgoCalls {
			rows = append(rows, []string{cgoCall(fs), location(fs),
				formatCPU(fs.CPUSeconds), formatPercent(fs.Share)})
		}
		writeTable(b, rows, 2, 3)
	}
}

// writeTable prints rows (the first is the header) with tabwriter, the
// columns listed in right right-aligned. Every cell goes through termSafe
// first, so that a tab, a newline or an escape sequence in one neither breaks
// the table nor reaches the terminal.
func writeTable(b *bytes.Buffer, rows [][]string, right ...int) {
	for _, row := range rows {
		for i := range row {
			row[i] = termSafe(row[i])
		}
	}
	for _, col := range right {
		width := 0
		for _, row := range rows {
			width = max(width, utf8.RuneCountInString(row[col]))
		}
		for _, row := range rows {
			row[col] = strings.Repeat(" ", width-utf8.RuneCountInString(row[col])) + row[col]
		}
	}
	tw := tabwriter.NewWriter(b, 0, 0, tablePad, ' ', 0)
	for _, row := range rows {
		fmt.Fprintln(tw, indentNotes+strings.Join(row, "\t"))
	}
	tw.Flush()
}

func formatSeconds(s float64) string {
	if s <= 0 {
		return "unknown"
	}
	return strconv.FormatFloat(s, 'f', 2, 64) + " s"
}

func formatCPU(s float64) string {
	return strconv.FormatFloat(s, 'f', 2, 64)
}

func formatPeriod(s float64) string {
	if s <= 0 {
		return "unknown"
	}
	d := time.Duration(s * float64(time.Second))
	return fmt.Sprintf("%v (%s Hz)", d, strconv.FormatFloat(1/s, 'f', -1, 64))
}

// location is a FuncStat's file:line, the file shortened to its last two
// path elements, or to its base name when those do not fit the column. The
// line number is never cut.
func location(fs analysis.FuncStat) string {
	if fs.File == "" {
		return "?"
	}
	line := ""
	if fs.Line > 0 {
		line = ":" + strconv.FormatInt(fs.Line, 10)
	}
	room := maxLocCol - len(line)
	file := shortenPath(fs.File)
	if utf8.RuneCountInString(file) > room {
		file = baseName(file)
	}
	return truncateLeft(file, room) + line
}

// cgoCall is "caller → C function" for a cgo call site, shortened to the
// function column.
func cgoCall(fs analysis.FuncStat) string {
	cfunc := fs.CFunction
	if cfunc == "" {
		cfunc = "?"
	}
	suffix := " → " + cfunc
	room := max(maxFuncCol-utf8.RuneCountInString(suffix), maxFuncCol/2)
	return truncateLeft(shortenFunc(fs.Function, room)+suffix, maxFuncCol)
}

// shortenPath keeps the last two elements of a file path, enough to find the
// file in a module ("server/handler.go"), with either separator.
func shortenPath(p string) string {
	p = strings.TrimRight(p, `/\`)
	cut := 0
	for seen, i := 0, len(p)-1; i >= 0; i-- {
		if p[i] == '/' || p[i] == '\\' {
			seen++
			if seen == 2 {
				cut = i + 1
				break
			}
		}
	}
	return p[cut:]
}

// baseName is the last element of a file path, with either separator.
func baseName(p string) string {
	return p[strings.LastIndexAny(p, `/\`)+1:]
}

// shortenFunc fits a Go function name into max runes: first it drops the
// import path ("github.com/a/b.(*T).F" → "b.(*T).F"), then the front.
func shortenFunc(name string, max int) string {
	if utf8.RuneCountInString(name) <= max {
		return name
	}
	// A type argument may hold paths too: only look before the first '['.
	head := name
	if i := strings.IndexByte(head, '['); i >= 0 {
		head = head[:i]
	}
	if i := strings.LastIndexByte(head, '/'); i >= 0 {
		name = name[i+1:]
	}
	return truncateLeft(name, max)
}

// truncateLeft fits s into max runes by replacing its front with "…".
func truncateLeft(s string, max int) string {
	n := utf8.RuneCountInString(s)
	if n <= max || max < 1 {
		return s
	}
	r := []rune(s)
	return "…" + string(r[n-max+1:])
}

// wrap fills text into lines of at most width runes, the first starting with
// first, the others with rest. A word longer than a line gets one to itself.
func wrap(text, first, rest string, width int) string {
	var b strings.Builder
	line, n := first, utf8.RuneCountInString(first)
	empty := true
	for _, word := range strings.Fields(text) {
		wn := utf8.RuneCountInString(word)
		if !empty && n+1+wn > width {
			b.WriteString(line + "\n")
			line, n, empty = rest, utf8.RuneCountInString(rest), true
		}
		if !empty {
			line += " "
			n++
		}
		line += word
		n += wn
		empty = false
	}
	b.WriteString(strings.TrimRight(line, " ") + "\n")
	return b.String()
}
