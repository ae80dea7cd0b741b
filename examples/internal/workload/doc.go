// Package workload produces, on demand, the CPU situations diagkit's
// analysis tells apart, so that examples, recorded test profiles and
// accuracy tests all exercise the same code:
//
//   - TightLoops: call-free Go loops that only async preemption can
//     interrupt (the async_preempt bucket, when goroutines compete for CPU).
//   - CgoBurn: workers that split their time between C and Go in a known
//     proportion (the cgo_c bucket against go), measured by the workers.
//   - CgoTiny: a flood of cgo calls to a C function that does almost nothing
//     (the cgo_crossing bucket); CgoBatched is the same C work in batches,
//     one cgo call per batch (the usual fix).
//   - CThread: a thread created by C, not by Go, burning CPU (the
//     external_thread bucket).
//   - Callback: Go calling C calling back into Go code that does the real
//     work (go, not cgo).
//   - Steady: well-behaved Go, as many CPUs of it as asked: small chunks
//     of function calls handed from goroutine to goroutine over channels
//     (nothing to preempt, nobody waiting to run).
//   - LockThreads: goroutines stuck while locked to their OS thread
//     (runtime.LockOSThread), beside a little ordinary work.
//
// Every function runs until its context is done, returns promptly after
// that, and leaves no goroutine or thread behind. None changes GOMAXPROCS or
// starts a profile: that is the caller's business.
//
// The package uses cgo; the C side is in the .c files next to the Go ones.
package workload
