// Package tracesum summarizes a Go execution trace (runtime/trace,
// /debug/pprof/trace) into the figures the tuning guide says to look at:
//
//   - preemptions, by kind: fewer GoPreempt events is better;
//   - how evenly the Ps were busy: even distribution means work-stealing works;
//   - the longest uninterrupted goroutine runs, and where they ran;
//   - time in system calls and in cgo calls: no long Syscall regions;
//   - how long runnable goroutines waited for a P (scheduling latency).
//
// It is pure: it reads the trace from an io.Reader and returns a Summary. It
// does no I/O of its own, reads no clock and logs nothing.
//
// # Parsing
//
// Traces are parsed with golang.org/x/exp/trace, which reads the format of Go
// 1.22 and later natively and converts the older one (Go 1.11 to 1.21) into
// the same events, loading such a trace whole into memory to do so. The
// conversion keeps everything this package uses with one loss: an old-format
// trace records a system call as an instant, and gives it a duration only when
// it blocked long enough for the P to be handed off. Summary.OldFormat says
// when that applies; the syscall and cgo totals of such a trace only count
// the calls that blocked.
//
// # Untrusted input
//
// Summarize never panics: a panic in the parser, which can happen on corrupt
// input, comes back as an error wrapping ErrInvalid. The work is bounded by
// Options.MaxEvents and the memory by Options.MaxGoroutines (live goroutines
// tracked) and fixed-size tables for everything else; the caller bounds the
// input's size, which matters for old-format traces, read whole.
//
// # Definitions
//
// A run is an interval during which a goroutine was continuously in the
// Running state on one P: it starts when the goroutine is scheduled and ends
// when it stops, blocks, enters a system call or exits. The busy time of a P
// is the sum of the runs on it. A runnable wait is the time from a goroutine
// becoming runnable (created, woken, preempted, back from a system call that
// lost its P) to its next run; waits already under way when the trace starts
// are not counted, those still under way at its end are counted apart
// (Pending). A goroutine back from a system call whose thread got a P on the
// way out, which the trace records as runnable and running at once, did not
// wait, as for the runtime's own /sched/latencies:seconds.
//
// A preemption (the guide's GoPreempt event) is a goroutine stopped with the
// reason "preempted". Its stack tells the kind: runtime.asyncPreempt on it
// means the runtime stopped the goroutine with a signal (async preemption,
// requested by sysmon for a goroutine that ran more than 10 ms, typically a
// loop without function calls); runtime.goyield, or its only caller
// runtime.semrelease1 as the leaf, means a runtime-internal yield (a
// semaphore hand-off); any other stack is a cooperative
// preemption at a function prologue's stack check; no stack is unknown.
// Goroutines parked for a garbage collector stack scan (a goroutine "blocked"
// with the reason "preempted") and voluntary runtime.Gosched calls are counted
// apart, not as preemptions.
//
// A run's location is the first frame outside the runtime of the stack the
// trace recorded where it ended. When there is none (no stack, or the
// runtime's frames only: on Go 1.26 the stack of an async preemption can end
// at runtime.asyncPreempt2 ← runtime.asyncPreempt, without the interrupted
// function), Run.Inferred says what the trace knows of the goroutine instead:
// the function it was started with, and the last frame outside the runtime
// seen for it earlier (in its other stacks, or in CPU profile samples when the
// CPU profiler ran during the trace). That is context, not the location.
//
// Some of the runtime's and the standard library's goroutines wait in the
// system call state by design, for as long as there is nothing to do: the CPU
// profiler's reader (runtime.(*profBuf).read, which a diagkit agent's CPU
// profiles start), os/signal's receiver (os/signal.signal_recv), the
// execution tracer's reader and the network poller. Their waits are counted
// apart (Summary.ByDesign), not as system calls, and Interpret does not judge
// them.
//
// A cgo call is a system call whose stack has a cgo stub (a function named
// _Cfunc_NAME or _C2func_NAME, the code cgo generates for C.NAME) or
// runtime.cgocall; the runtime enters the syscall state around every call
// into C. Calls from C back into Go show as the goroutine leaving the syscall
// and running.
package tracesum
