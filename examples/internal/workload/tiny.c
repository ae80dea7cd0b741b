// The smallest useful C function, for CgoTiny, and its batched
// counterpart, for CgoBatched.
#include "workload.h"

uint64_t wl_tiny(uint64_t x) {
	return x * 6364136223846793005ULL + 1;
}

uint64_t wl_tiny_batch(uint64_t x, int n) {
	for (int i = 0; i < n; i++) {
		x = wl_tiny(x);
	}
	return x;
}
