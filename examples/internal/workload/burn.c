// C busy work for CgoBurn.
#include <time.h>
#include "workload.h"

static int64_t wl_now_ns(void) {
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

uint64_t wl_burn(int64_t ns) {
	int64_t end = wl_now_ns() + ns;
	uint64_t x = (uint64_t)ns;
	do {
		for (int i = 0; i < 256; i++) {
			x = x * 6364136223846793005ULL + 1442695040888963407ULL;
			x ^= x >> 31;
		}
	} while (wl_now_ns() < end);
	return x;
}
