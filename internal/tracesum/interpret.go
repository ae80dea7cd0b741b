package tracesum

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Thresholds Interpret flags at. They follow the tuning guide's reading of a
// trace: fewer GoPreempt events, Ps busy with real work, an even spread
// across Ps, no long Syscall regions.
const (
	// Sysmon preempts a goroutine that has run 10 ms, so a P kept busy by
	// goroutines that never block sees up to ~100 preemptions per busy
	// second (~50 as sysmon samples); a server whose goroutines block on
	// I/O sees about none. One per 200 ms of busy time is where preemption
	// shapes the schedule.
	PreemptionsPerBusySecondFlag = 5.0
	preemptionsMinFlag           = 10
	// A coefficient of variation of the Ps' busy time above 0.5 (for two
	// Ps: one busy three times as long as the other) is uneven, when the
	// Ps did enough work for it to matter.
	UnevenCVFlag         = 0.5
	unevenMinUtilization = 0.10
	idleUtilizationBelow = 0.05
	// A system call or cgo call of 10 ms holds a thread, and its P until
	// sysmon hands it off, for a whole time slice.
	LongCallFlag          = 10 * time.Millisecond
	RunnableWaitP99Flag   = 5 * time.Millisecond
	minWaitsForPercentile = 100
)

// Interpret reads a Summary the way the tuning guide reads a trace, in one
// line.
func Interpret(s *Summary) string {
	if s.Events == 0 || s.DurationSeconds <= 0 {
		return "The trace has no events to judge."
	}
	var flags []string
	p := s.Preemptions
	if p.Total >= preemptionsMinFlag && p.PerBusySecond >= PreemptionsPerBusySecondFlag {
		where := ""
		if len(p.Functions) > 0 {
			where = ", most often in " + p.Functions[0].Function
		}
		flags = append(flags, fmt.Sprintf("%d preemptions (%.0f per busy second, %d async): goroutines hold a P for 10 ms and more without blocking%s; fewer is better (split long loops, or run CPU-bound work on fewer goroutines)",
			p.Total, p.PerBusySecond, p.Async, where))
	}
	b := s.Balance
	judged := len(b.Procs) >= 2 && b.Utilization >= unevenMinUtilization
	if judged && b.CV > UnevenCVFlag {
		flags = append(flags, fmt.Sprintf("the Ps are unevenly busy (from %s to %s of the time, cv %.2f): work is not spreading across Ps (too few runnable goroutines, or a few hot ones)",
			pct(b.MinShare), pct(b.MaxShare), b.CV))
	}
	// Calls the trace cut (a goroutine parked in a blocking read all
	// along) are not judged by their length, which the trace does not
	// know; the time in calls counts them.
	longest, what := s.Syscalls, "system call"
	if s.Cgo.MaxCompleteSeconds > longest.MaxCompleteSeconds {
		longest, what = s.Cgo, "cgo call"
	}
	if long := s.Syscalls.LongCalls + s.Cgo.LongCalls; long > 0 {
		name := ""
		for _, c := range longest.Longest {
			if !c.Truncated {
				name = " " + c.Function
				break
			}
		}
		flags = append(flags, fmt.Sprintf("long Syscall regions (%d system or cgo call%s of %s or more, the longest a %s%s of %s): keep blocking calls and C calls short, or batch them",
			long, plural(long), dur(LongCallFlag.Seconds()), what, name, dur(longest.MaxCompleteSeconds)))
	}
	w := s.RunnableWait
	if w.Count >= minWaitsForPercentile && w.P99Seconds >= RunnableWaitP99Flag.Seconds() {
		flags = append(flags, fmt.Sprintf("runnable goroutines waited %s for a P at p99 (max %s): the Ps are saturated (more runnable work than GOMAXPROCS, or CPU-bound goroutines holding the Ps)",
			dur(w.P99Seconds), dur(w.MaxSeconds)))
	}
	idle := ""
	if b.Utilization < idleUtilizationBelow && len(b.Procs) > 0 {
		idle = fmt.Sprintf("The process was mostly idle (Ps busy %s of the time). ", pct(b.Utilization))
	}
	if len(flags) == 0 {
		spread := fmt.Sprintf("Ps %s busy", pct(b.Utilization))
		if judged {
			spread = fmt.Sprintf("Ps evenly busy (cv %.2f)", b.CV)
		}
		return idle + fmt.Sprintf("Nothing the tuning guide flags: %d preemption%s, %s, longest system call %s, runnable wait p99 %s.",
			p.Total, plural(p.Total), spread, dur(max(s.Syscalls.MaxCompleteSeconds, s.Cgo.MaxCompleteSeconds)), dur(w.P99Seconds))
	}
	text := strings.Join(flags, "; ")
	return idle + strings.ToUpper(text[:1]) + text[1:] + "."
}

func pct(share float64) string {
	return strconv.FormatFloat(100*share, 'f', 1, 64) + "%"
}

// dur prints seconds as a duration with three significant digits.
func dur(sec float64) string {
	return FormatDuration(sec)
}

// FormatDuration prints seconds the way the summary's text does: "0", "850ns",
// "12.3µs", "4.56ms", "1.20s".
func FormatDuration(sec float64) string {
	switch {
	case sec <= 0:
		return "0"
	case sec < 1e-6:
		return strconv.FormatFloat(sec*1e9, 'f', 0, 64) + "ns"
	case sec < 1e-3:
		return sig3(sec*1e6) + "µs"
	case sec < 1:
		return sig3(sec*1e3) + "ms"
	}
	return sig3(sec) + "s"
}

func sig3(v float64) string {
	switch {
	case v >= 100:
		return strconv.FormatFloat(v, 'f', 0, 64)
	case v >= 10:
		return strconv.FormatFloat(v, 'f', 1, 64)
	}
	return strconv.FormatFloat(v, 'f', 2, 64)
}

func plural(n int64) string {
	if n == 1 {
		return ""
	}
	return "s"
}
