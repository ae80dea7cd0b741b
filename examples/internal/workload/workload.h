// C side of package workload. Declarations only: the package exports a Go
// function (callback.go), so its cgo preambles must not define anything.
#ifndef DIAGKIT_WORKLOAD_H
#define DIAGKIT_WORKLOAD_H

#include <stdint.h>

// wl_burn spins for ns nanoseconds of wall-clock (CLOCK_MONOTONIC) time.
uint64_t wl_burn(int64_t ns);

// wl_tiny does almost nothing: one multiply-add. Calling it measures the cost
// of the cgo call itself.
uint64_t wl_tiny(uint64_t x);

// wl_tiny_batch does wl_tiny's work n times over, in one call: the batched
// counterpart of n calls of wl_tiny.
uint64_t wl_tiny_batch(uint64_t x, int n);

// wl_cthread is a thread created with pthread_create, not by Go.
typedef struct wl_cthread wl_cthread;

// wl_cthread_start starts a thread that burns CPU until wl_cthread_stop. It
// returns NULL and sets *err (an errno value) when the thread cannot be
// created.
wl_cthread *wl_cthread_start(int *err);

// wl_cthread_stop tells the thread to stop, joins it and frees it. It returns
// the thread's result so that its work cannot be optimized away.
uint64_t wl_cthread_stop(wl_cthread *t);

// wl_cthreads_count reports how many threads wl_cthread_start started and
// how many of them have finished.
void wl_cthreads_count(int *started, int *finished);

// wl_callback_loop calls the exported Go function workloadCallback n times,
// feeding each result into the next call.
uint64_t wl_callback_loop(int n, uint64_t seed);

#endif
