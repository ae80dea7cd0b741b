package analysis

import "fmt"

// Thresholds above which Interpret calls a share high. The async-preempt
// figure is the tuning guide's: above 1 % of CPU, preemption is unusually
// frequent.
const (
	HighAsyncPreemptShare = 0.01
	HighCgoShare          = 0.20
	HighCgoCrossingShare  = 0.05
	HighExternalShare     = 0.20
)

// Interpret returns one line that says what a report most likely means. It
// reads only the report; the agent adds the process context (GOMAXPROCS,
// cgroup quota, throttling) that can confirm a cause.
func Interpret(r *Report) string {
	if r == nil || r.CPUSeconds <= 0 {
		return "No CPU time in this profile: nothing to judge."
	}
	preempt := r.Shares.AsyncPreempt
	crossing := r.Buckets[BucketCgoCrossing].Share
	switch {
	case preempt > HighAsyncPreemptShare:
		msg := fmt.Sprintf("Async preemption at %.1f%% of CPU (above %.0f%%): goroutines were likely competing for CPU "+
			"(GOMAXPROCS above the CPUs the process really gets, CPU throttling, or other busy processes)", 100*preempt, 100*HighAsyncPreemptShare)
		if len(r.TopPreempted) > 0 {
			msg += fmt.Sprintf("; %s is a loop without cooperative preemption points", r.TopPreempted[0].Function)
		}
		return msg + "."
	case crossing > HighCgoCrossingShare:
		return fmt.Sprintf("cgo crossing overhead at %.1f%% of CPU: many short C calls; batch them so each crossing does more work.", 100*crossing)
	case r.Shares.Cgo > HighCgoShare:
		return fmt.Sprintf("C code called through cgo uses %.1f%% of CPU; Go's profiler cannot see inside it without runtime.SetCgoTraceback.", 100*r.Shares.Cgo)
	case r.Shares.External > HighExternalShare:
		return fmt.Sprintf("Threads Go does not own use %.1f%% of CPU (C libraries' own threads); profile them with a native profiler.", 100*r.Shares.External)
	}
	return fmt.Sprintf("Async preemption at %.2f%% of CPU (below %.0f%%): the scheduler is not fighting this code.", 100*preempt, 100*HighAsyncPreemptShare)
}
