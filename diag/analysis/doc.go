// Package analysis classifies the samples of a Go CPU profile and reports how
// much CPU went to async preemption, to C code called through cgo, to cgo
// crossing overhead, to threads Go does not own, and to ordinary Go code.
//
// It is pure: a *profile.Profile (or raw profile bytes, gzipped or not) goes
// in, a *Report comes out. It reads no clock, keeps no global state and does
// no logging, so the diagkit agent, the diagctl command and your own tools all
// get the same answer for the same profile.
//
// # Buckets
//
// Every sample falls in exactly one bucket, weighted by its CPU time (the
// cpu/nanoseconds sample value). The stack is read from the leaf, with inlined
// frames expanded, and the first cgo boundary frame decides:
//
//   - async_preempt: the leaf is runtime.asyncPreempt, the function the
//     runtime injects into a goroutine it preempts with a signal. The frame
//     under it is the interrupted function (see Report.TopPreempted).
//   - preempt_sched: the scheduler's work after an async preemption
//     (runtime.asyncPreempt2 and what it calls).
//   - cgo_c: C code called from Go: above runtime.asmcgocall, or the sample
//     stops at runtime.cgocall (the profile has no C frames unless the binary
//     installs runtime.SetCgoTraceback).
//   - cgo_crossing: the price of crossing into C and back: runtime frames above
//     runtime.cgocall (entersyscall, exitsyscall) or runtime.asmcgocall (the
//     switch to the C stack), the _Cfunc_ stubs, cgo pointer checks, and the
//     runtime's side of a C→Go callback.
//   - external_thread: threads Go did not create (runtime._ExternalCode roots,
//     or stacks with no Go frame at all).
//   - external_no_stack: a Go thread in code outside the Go binary whose stack
//     could not be walked (runtime._ExternalCode under runtime._System).
//   - external_lost: non-Go samples the runtime had to drop
//     (runtime._LostExternalCode; the sample value counts them).
//   - runtime_no_stack: a Go thread whose stack could not be walked
//     (runtime._System, runtime._GC, runtime._VDSO).
//   - go: everything else, including Go code called back from C.
//
// A frame is the runtime's when its function is in package runtime (or
// internal/runtime/...), or, for the runtime's file-local assembly functions
// whose names carry no package (gosave_systemstack_switch), when its file is
// in the runtime's source directory (.../src/runtime/asm_amd64.s, or
// runtime/asm_amd64.s in a -trimpath build).
//
// Without C frames, a sample taken while a thread is in a cgo call stops at
// runtime.cgocall wherever the signal landed: in the C code, but also in the
// switch to the C stack and cgo's C wrapper. For long C calls that is C time;
// for many tiny ones (a multiply-add per call) part of cgo_c is really
// crossing overhead, so cgo_crossing is a lower bound there. The cgo call
// rate the agent reports tells the two cases apart.
//
// Report.Shares groups these into the figures most people want; the three keys
// "async_preempt", "cgo" and "external" are stable for other tools to rely on.
//
// # What a high share means
//
// A high async_preempt share mostly means CPU contention (GOMAXPROCS above the
// CPUs the process really gets, or other busy processes), not that preemption
// itself is expensive: the samples land on asyncPreempt's first instruction
// because the thread was descheduled there. The interrupted functions are the
// loops that never reach a cooperative preemption point. Interpret returns a
// one-line reading of a report.
package analysis

// The recorded profiles of the golden tests (testdata/*.pprof) come from
// real workloads; see examples/internal/record.
//go:generate go run -trimpath ../../examples/internal/record -out testdata
