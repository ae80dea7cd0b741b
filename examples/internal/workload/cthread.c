// A thread Go does not own, for CThread.
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include "workload.h"

// How many threads wl_cthread_start started, and how many of them finished.
static atomic_int wl_cthreads_started, wl_cthreads_finished;

struct wl_cthread {
	pthread_t tid;
	atomic_int stop;
	uint64_t result;
};

static void *wl_cthread_run(void *arg) {
	wl_cthread *t = arg;
	uint64_t x = 1;
	while (!atomic_load_explicit(&t->stop, memory_order_relaxed)) {
		for (int i = 0; i < 100000; i++) {
			x = x * 6364136223846793005ULL + 1442695040888963407ULL;
			x ^= x >> 31;
		}
	}
	t->result = x;
	atomic_fetch_add(&wl_cthreads_finished, 1);
	return NULL;
}

wl_cthread *wl_cthread_start(int *err) {
	wl_cthread *t = calloc(1, sizeof *t);
	if (t == NULL) {
		*err = ENOMEM;
		return NULL;
	}
	atomic_init(&t->stop, 0);
	int rc = pthread_create(&t->tid, NULL, wl_cthread_run, t);
	if (rc != 0) {
		free(t);
		*err = rc;
		return NULL;
	}
	atomic_fetch_add(&wl_cthreads_started, 1);
	return t;
}

uint64_t wl_cthread_stop(wl_cthread *t) {
	atomic_store(&t->stop, 1);
	pthread_join(t->tid, NULL);
	uint64_t r = t->result;
	free(t);
	return r;
}

void wl_cthreads_count(int *started, int *finished) {
	*finished = atomic_load(&wl_cthreads_finished);
	*started = atomic_load(&wl_cthreads_started);
}
