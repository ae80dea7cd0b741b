// Package procstat records what the process looked like over a window: the
// scheduler, goroutines and threads (runtime/metrics), CPU time and context
// switches (getrusage), and on Linux the effective cgroup CPU limit and its
// throttling, how long the threads waited on a run queue for a CPU
// (/proc/self/task/*/schedstat) and how busy the machine's CPUs were
// (/proc/stat); and whether async preemption is off (GODEBUG).
//
// Take two snapshots, one at each end of a window, and turn them into an
// api.Context:
//
//	start := procstat.Take()
//	// ... the window ...
//	ctx := procstat.Context(start, procstat.Take())
//
// Counters become deltas over the window and gauges are read at its end.
// Whatever the platform or the running Go release cannot tell is left nil in
// the api.Context, never 0. Nothing here panics, blocks or logs: a file that
// is missing or holds garbage, or a runtime/metrics name this Go release does
// not have, just makes that figure unavailable.
package procstat
