package main

import (
	"bytes"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/diagkit/diagkit/internal/compare"
	"github.com/diagkit/diagkit/internal/units"
)

// renderCompare prints a comparison as tables: the sides, every figure, the
// functions, and how the figures were tested.
func renderCompare(w io.Writer, d *compare.Document) error {
	var b bytes.Buffer
	for _, s := range []struct {
		label string
		sum   *compare.SideSummary
	}{{"Before", &d.Before}, {"After", &d.After}} {
		b.WriteString(wrap(termSafe(sideLine(s.sum)), fmt.Sprintf("%-8s", s.label), "        ", lineWidth))
	}
	b.WriteString(wrap(designLine(d.Design), "Design  ", "        ", lineWidth))

	b.WriteString("\nFigures (after − before, 95 % interval)\n")
	rows := [][]string{{"FIGURE", "BEFORE", "AFTER", "CHANGE", "95 % INTERVAL", "VERDICT"}}
	approx := false
	for i := range d.Figures {
		r := &d.Figures[i]
		rows = append(rows, resultRow(r.Label, r, ""))
		approx = approx || r.Approximate
	}
	writeTable(&b, rows, 1, 2, 3)

	for _, list := range []struct {
		title string
		funcs []compare.FuncResult
	}{
		{"Interrupted functions (share of CPU under runtime.asyncPreempt)", d.Interrupted},
		{"Cgo call sites (share of CPU, C time and crossing)", d.CgoCallSites},
	} {
		if list.funcs == nil {
			continue
		}
		b.WriteString("\n" + list.title + "\n")
		if len(list.funcs) == 0 {
			b.WriteString(indentNotes + "none on either side\n")
			continue
		}
		rows := [][]string{{"FUNCTION", "BEFORE", "AFTER", "CHANGE", "95 % INTERVAL", "VERDICT"}}
		for i := range list.funcs {
			f := &list.funcs[i]
			name := shortenFunc(f.Function, maxFuncCol)
			if f.CFunction != "" {
				name = shortenFunc(f.Function, maxFuncCol-len(f.CFunction)-3) + " → " + f.CFunction
			}
			rows = append(rows, resultRow(name, &f.Result, f.Status))
			approx = approx || f.Approximate
		}
		writeTable(&b, rows, 1, 2, 3)
	}

	b.WriteString("\n")
	b.WriteString(wrap(methodLine(d), "Method: ", indentNotes, lineWidth))
	if approx {
		b.WriteString(wrap("~ approximate: samples are treated as independent, which samples of one profile are not; "+
			"the interval is too narrow, so it gives no verdict. Compare several windows a side.", indentNotes, indentNotes, lineWidth))
	}
	var notes []string
	notes = append(notes, d.Notes...)
	for i, s := range []*compare.SideSummary{&d.Before, &d.After} {
		for _, n := range s.Notes {
			notes = append(notes, [2]string{"before: ", "after: "}[i]+n)
		}
	}
	if len(notes) > 0 {
		b.WriteString("\nNotes\n")
		for _, n := range dedupe(notes) {
			b.WriteString(wrap(termSafe(n), indentNotes+"- ", indentNotes+"  ", lineWidth))
		}
	}
	if len(d.FailOn) > 0 {
		b.WriteString("\n--fail-on\n")
		for _, r := range d.FailOn {
			mark := "ok    "
			if r.Failed {
				mark = "FAILED"
			}
			b.WriteString(wrap(termSafe(r.Text+": "+r.Why), indentNotes+mark+" ", indentNotes+"       ", lineWidth))
		}
	}
	_, err := io.WriteString(w, termSafeText(b.String()))
	return err
}

func dedupe(xs []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, x := range xs {
		if !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	return out
}

// resultRow is one figure's or function's row. status, for functions, is
// shown beside the verdict.
func resultRow(name string, r *compare.Result, status string) []string {
	row := []string{name, formatFigure(r.Unit, r.Before), formatFigure(r.Unit, r.After), "", "", ""}
	if r.Difference != nil && r.Before != nil && r.After != nil {
		row[3] = formatChange(r.Unit, *r.Difference)
		if r.Relative != nil && !math.IsInf(*r.Relative, 0) && math.Abs(*r.Relative) < 100 {
			row[3] += " (" + formatRelative(*r.Relative) + ")"
		}
	}
	if r.Low != nil && r.High != nil {
		row[4] = "[" + formatChange(r.Unit, *r.Low) + ", " + formatChange(r.Unit, *r.High) + "]"
		if r.Approximate {
			row[4] = "~" + row[4]
		}
	}
	verdict := strings.ReplaceAll(r.Verdict, "_", " ")
	if r.Verdict == compare.VerdictUntested && r.Note != "" {
		verdict += " (" + r.Note + ")"
	}
	if status != "" {
		verdict = status + ", " + verdict
	}
	row[5] = verdict
	return row
}

// formatRelative prints a relative change as a signed percentage, with a
// decimal below 10 %.
func formatRelative(rel float64) string {
	pct := 100 * rel
	if math.Abs(pct) < 10 {
		return fmt.Sprintf("%+.1f%%", pct)
	}
	return fmt.Sprintf("%+.0f%%", pct)
}

func formatFigure(unit string, v *float64) string {
	if v == nil {
		return "-"
	}
	switch unit {
	case compare.UnitShare:
		return formatPercent(*v)
	case compare.UnitSeconds:
		return units.FormatSeconds(*v)
	case compare.UnitPerSecond:
		return formatRate(*v)
	}
	return strconv.FormatFloat(*v, 'f', 3, 64)
}

// formatChange prints a signed difference in the figure's unit: shares in
// percentage points.
func formatChange(unit string, v float64) string {
	sign := "+"
	if v < 0 || (v == 0 && math.Signbit(v)) {
		sign = "-"
	}
	a := math.Abs(v)
	switch unit {
	case compare.UnitShare:
		return sign + strconv.FormatFloat(100*a, 'f', 2, 64) + " pp"
	case compare.UnitSeconds:
		return sign + units.FormatSeconds(a)
	case compare.UnitPerSecond:
		return sign + formatRate(a)
	}
	return sign + strconv.FormatFloat(a, 'f', 3, 64)
}

func formatRate(v float64) string {
	if v >= 100 {
		return groupThousands(int64(math.Round(v))) + "/s"
	}
	return strconv.FormatFloat(v, 'f', 1, 64) + "/s"
}

func groupThousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	var out []byte
	for i, c := range []byte(s) {
		if i > 0 && (len(s)-i)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, c)
	}
	return string(out)
}

// sideLine describes one side: what it is, its windows and their span.
func sideLine(s *compare.SideSummary) string {
	parts := []string{s.Input + " (" + s.Source + ")"}
	parts = append(parts, fmt.Sprintf("%d window%s, %d samples, %s CPU-s", s.Windows, plural(s.Windows), s.Samples, formatCPU(s.CPUSeconds)))
	if s.Start != nil && s.End != nil {
		parts = append(parts, s.Start.UTC().Format("2006-01-02 15:04:05")+" to "+s.End.UTC().Format("15:04:05 UTC")+
			" ("+s.End.Sub(*s.Start).Round(time.Second).String()+")")
	}
	if len(s.GOMAXPROCS) > 0 {
		var g []string
		for _, v := range s.GOMAXPROCS {
			g = append(g, strconv.Itoa(v))
		}
		parts = append(parts, "GOMAXPROCS "+strings.Join(g, "/"))
	}
	if len(s.CgroupCPULimits) > 0 {
		var l []string
		for _, v := range s.CgroupCPULimits {
			l = append(l, strconv.FormatFloat(v, 'f', -1, 64))
		}
		parts = append(parts, "CPU limit "+strings.Join(l, "/"))
	}
	if len(s.GoVersions) > 0 {
		parts = append(parts, strings.Join(s.GoVersions, "/"))
	}
	return strings.Join(parts, ", ")
}

func designLine(design string) string {
	switch design {
	case compare.DesignSameSpan:
		return "same span: both sides sampled over the same wall-clock time, so a load change hits both"
	case compare.DesignSequential:
		return "sequential: one side ran before the other"
	}
	return "unknown: a side has no times (saved profiles)"
}

func methodLine(d *compare.Document) string {
	var tests []string
	seen := map[string]bool{}
	all := make([]*compare.Result, 0, len(d.Figures))
	for i := range d.Figures {
		all = append(all, &d.Figures[i])
	}
	for _, fs := range [][]compare.FuncResult{d.Interrupted, d.CgoCallSites} {
		for i := range fs {
			all = append(all, &fs[i].Result)
		}
	}
	for _, r := range all {
		if r.Test != "" && !seen[r.Test] {
			seen[r.Test] = true
			switch r.Test {
			case compare.TestWelch:
				tests = append(tests, "Welch's t-test on per-window values (each window one observation; assumes windows independent)")
			case compare.TestPaired:
				tests = append(tests, fmt.Sprintf("paired t-test on %d windows paired in time (the same span: a load change hitting both cancels)", d.Paired))
			case compare.TestNewcombe:
				tests = append(tests, "Newcombe's score interval on sample counts (~, approximate: no verdict)")
			}
		}
	}
	if len(tests) == 0 {
		return "nothing could be tested."
	}
	return strings.Join(tests, "; ") + fmt.Sprintf(". A verdict needs p < 0.05 after Holm's adjustment over the %d figures and functions tested.", d.Tested)
}
