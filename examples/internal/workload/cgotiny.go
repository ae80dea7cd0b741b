package workload

// #include "workload.h"
import "C"

import "context"

// tinyBatch is how many cgo calls CgoTiny makes between looks at its
// context.
const tinyBatch = 1024

// CgoTiny calls a C function that does almost nothing (wl_tiny, one
// multiply-add), as fast as it can, until ctx is done. Nearly all its CPU is
// the price of crossing from Go to C and back. A CPU profile shows it as cgo:
// cgo_crossing for the samples in entersyscall, exitsyscall and the _Cfunc_
// stub, and cgo_c for the rest, because while a thread is inside a cgo call
// the profiler reports only the Go stack down from runtime.cgocall, wherever
// the signal landed: the switch to the C stack, cgo's C wrapper, the tiny
// function itself.
func CgoTiny(ctx context.Context) {
	ch := ctx.Done()
	x := C.uint64_t(1)
	for !isDone(ch) {
		for range tinyBatch {
			x = C.wl_tiny(x)
		}
	}
	sink.Add(uint64(x))
}

// CgoBatched does CgoTiny's work in batches: each cgo call runs wl_tiny's
// multiply-add batch times in C (wl_tiny_batch; at least once), as fast as it
// can, until ctx is done. It is CgoTiny with the usual fix applied, fewer and
// bigger C calls: the same C work for 1/batch of the crossings, so its CPU
// profile shows mostly cgo_c and little cgo_crossing, and the agent a cgo
// call rate batch times lower per unit of work.
func CgoBatched(ctx context.Context, batch int) {
	batch = max(batch, 1)
	ch := ctx.Done()
	x := C.uint64_t(1)
	for !isDone(ch) {
		x = C.wl_tiny_batch(x, C.int(batch))
	}
	sink.Add(uint64(x))
}
