package workload

// #include "workload.h"
import "C"

import "context"

// Each C call made by Callback calls back into Go callbacksPerCall times;
// each callback takes callbackIterations steps of arithmetic (tens of
// microseconds), so the work in Go dwarfs the crossings.
const (
	callbacksPerCall   = 8
	callbackIterations = 1 << 15
)

// Callback calls into C, which calls back into the exported Go function
// workloadCallback, which does the real CPU work; it repeats until ctx is
// done. A CPU profile counts the callback's work as go: Go code is Go code,
// whoever called it. Only the runtime's side of the crossings (cgocall,
// cgocallback) is cgo.
func Callback(ctx context.Context) {
	ch := ctx.Done()
	x := C.uint64_t(1)
	for !isDone(ch) {
		x = C.wl_callback_loop(callbacksPerCall, x)
	}
	sink.Add(uint64(x))
}

// workloadCallback is the Go function C calls back: callbackIterations steps
// of arithmetic on x.
//
//export workloadCallback
func workloadCallback(x C.uint64_t) C.uint64_t {
	v := uint64(x)
	for range callbackIterations {
		v = v*6364136223846793005 + 1442695040888963407
		v ^= v >> 31
	}
	return C.uint64_t(v)
}
