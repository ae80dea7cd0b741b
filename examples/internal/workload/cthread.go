package workload

// #cgo linux LDFLAGS: -lpthread
// #include "workload.h"
import "C"

import (
	"context"
	"fmt"
	"syscall"
)

// CThread starts a thread with pthread_create, in C, that burns CPU until ctx
// is done; then it stops the thread and joins it before returning. Go does
// not know the thread exists: a CPU profile sees it only through the
// process-wide profiling timer, as runtime._ExternalCode with no Go stack
// (the external_thread bucket).
//
// CThread panics if the thread cannot be created (the C library is out of
// memory or threads).
func CThread(ctx context.Context) {
	var errno C.int
	t := C.wl_cthread_start(&errno)
	if t == nil {
		panic(fmt.Sprintf("workload.CThread: pthread_create: %v", syscall.Errno(errno)))
	}
	<-ctx.Done()
	sink.Add(uint64(C.wl_cthread_stop(t)))
}

// cThreadCounts reports how many threads CThread started and how many of
// them have finished.
func cThreadCounts() (started, finished int) {
	var s, f C.int
	C.wl_cthreads_count(&s, &f)
	return int(s), int(f)
}
