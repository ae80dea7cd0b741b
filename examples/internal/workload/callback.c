// The C side of Callback: C calling back into Go.
#include "workload.h"
#include "_cgo_export.h"

uint64_t wl_callback_loop(int n, uint64_t seed) {
	uint64_t x = seed;
	for (int i = 0; i < n; i++) {
		x = workloadCallback(x);
	}
	return x;
}
