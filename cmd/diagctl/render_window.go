package main

import (
	"bytes"
	"fmt"
	"io"
	"strings"

	"github.com/diagkit/diagkit/diag/api"
	"github.com/diagkit/diagkit/internal/units"
)

// renderWindow prints an agent's window report: the usual table, then the
// process context over the window and the warnings it raised.
func renderWindow(w io.Writer, target string, wr *api.WindowReport, lists bool) error {
	name := fmt.Sprintf("%s (agent window #%d, %s–%s UTC)", target, wr.Seq,
		wr.Start.UTC().Format("15:04:05"), wr.End.UTC().Format("15:04:05"))
	if err := renderTable(w, name, &wr.Report, lists); err != nil {
		return err
	}
	var b bytes.Buffer
	b.WriteString("\nProcess context over the window\n")
	writeTable(&b, contextRows(wr.Context))
	b.WriteString("\n")
	if len(wr.Warnings) == 0 {
		b.WriteString("Warnings: none\n")
	} else {
		b.WriteString("Warnings\n")
		for _, warn := range wr.Warnings {
			fmt.Fprintf(&b, "  %s %s above %s", termSafe(warn.Kind), formatWarnValue(warn.Kind, warn.Value), formatWarnValue(warn.Kind, warn.Threshold))
			if warn.LeadCause != "" {
				fmt.Fprintf(&b, " (lead cause: %s)", termSafe(warn.LeadCause))
			}
			b.WriteString("\n")
			for _, c := range warn.Causes {
				b.WriteString(wrap(termSafe(c), "    - ", "      ", lineWidth))
			}
			if len(warn.Functions) > 0 {
				from := ""
				if warn.FunctionsFrom != "" {
					from = " (from the " + strings.ReplaceAll(warn.FunctionsFrom, "_", " ") + ")"
				}
				b.WriteString(wrap(termSafe("functions"+from+": "+strings.Join(warn.Functions, ", ")), "    ", "      ", lineWidth))
			}
		}
	}
	if len(wr.Active) > 0 {
		fmt.Fprintf(&b, "Ongoing episodes: %s\n", termSafe(strings.Join(wr.Active, ", ")))
	}
	_, err := io.WriteString(w, termSafeText(b.String()))
	return err
}

// contextRows lays the context out as name/value pairs; what the agent could
// not measure reads "n/a".
func contextRows(c api.Context) [][]string {
	limit := "none"
	if c.CgroupCPULimit != nil {
		limit = fmt.Sprintf("%.3g CPUs (cgroup %s", *c.CgroupCPULimit, c.CgroupVersion)
		if c.CgroupCPULimitPath != "" {
			limit += ", set at " + c.CgroupCPULimitPath
		}
		limit += ")"
	} else if c.CgroupVersion == "" {
		limit = "n/a"
	}
	wait := "n/a"
	switch {
	case c.RunQueueWaitPerSecond != nil && c.RunQueueWaitRatio != nil:
		wait = fmt.Sprintf("%s/s (%.2f× the CPU the threads got)", units.FormatSeconds(*c.RunQueueWaitPerSecond), *c.RunQueueWaitRatio)
	case c.RunQueueWaitUnavailable != "":
		wait = "n/a: " + c.RunQueueWaitUnavailable
	}
	others := optFloat(c.OtherCPUs, "%.2f CPUs")
	if c.StealCPUs != nil && *c.StealCPUs >= 0.005 {
		others += fmt.Sprintf(" (steal %.2f)", *c.StealCPUs)
	}
	throttled := "n/a"
	if c.CgroupThrottledPeriods != nil {
		throttled = fmt.Sprintf("%d periods", *c.CgroupThrottledPeriods)
		if c.CgroupPeriods != nil {
			throttled += fmt.Sprintf(" of %d", *c.CgroupPeriods)
		}
		if c.CgroupThrottledSeconds != nil {
			throttled += fmt.Sprintf(" (%.2fs)", *c.CgroupThrottledSeconds)
		}
	}
	if c.CgroupThrottledShare != nil {
		throttled += fmt.Sprintf(", %s", formatPercent(*c.CgroupThrottledShare))
	}
	sched := "n/a"
	if l := c.SchedLatency; l != nil {
		sched = fmt.Sprintf("p50 %s  p99 %s  p99.9 %s", units.FormatSeconds(l.P50), units.FormatSeconds(l.P99), units.FormatSeconds(l.P999))
	}
	return [][]string{
		{"Go", c.GoVersion},
		{"GOMAXPROCS", fmt.Sprintf("%d (NumCPU %d)", c.GOMAXPROCS, c.NumCPU)},
		{"CPU limit", limit},
		{"Throttled", throttled},
		{"Run-queue wait", wait},
		{"Other processes", others},
		{"Involuntary ctx switches", optFloat(c.InvoluntaryCtxSwitchesPerSecond, "%.0f/s")},
		{"Scheduling latency", sched},
		{"cgo calls", optFloat(c.CgoCallsPerSecond, "%.0f/s")},
		{"Goroutines", fmt.Sprintf("%s (runnable %s, running %s)", optInt(c.Goroutines), optInt(c.RunnableGoroutines), optInt(c.RunningGoroutines))},
		{"OS threads", optInt(c.OSThreads)},
		{"GC CPU", optFloat(percentOf(c.GCCPUFraction), "%.1f%%")},
		{"asyncpreemptoff", fmt.Sprint(c.AsyncPreemptOff)},
	}
}

func optFloat(v *float64, format string) string {
	if v == nil {
		return "n/a"
	}
	return fmt.Sprintf(format, *v)
}

func optInt(v *int64) string {
	if v == nil {
		return "n/a"
	}
	return fmt.Sprint(*v)
}

func percentOf(v *float64) *float64 {
	if v == nil {
		return nil
	}
	p := 100 * *v
	return &p
}

// formatWarnValue prints a warning's figure in its kind's unit.
func formatWarnValue(kind string, v float64) string {
	switch {
	case strings.HasSuffix(kind, "_share"):
		return formatPercent(v)
	case kind == api.WarnCgoCallRate:
		return fmt.Sprintf("%.0f calls/s", v)
	case kind == api.WarnSchedLatency:
		return units.FormatSeconds(v)
	case kind == api.WarnThrottling:
		return formatPercent(v) + " of periods"
	case kind == api.WarnContention:
		return fmt.Sprintf("%.2f s/s per CPU-second", v)
	}
	return fmt.Sprint(v)
}
