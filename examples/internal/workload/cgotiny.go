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
