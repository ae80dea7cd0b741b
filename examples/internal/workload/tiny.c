// The smallest useful C function, for CgoTiny.
#include "workload.h"

uint64_t wl_tiny(uint64_t x) {
	return x * 6364136223846793005ULL + 1;
}
