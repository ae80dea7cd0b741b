//go:build !linux

package workload

import "time"

// epoch anchors threadCPUTime's readings.
var epoch = time.Now()

// threadCPUTime stands in for the calling thread's CPU time where the
// package does not read it: it returns monotonic wall-clock time, which
// matches CPU time only while the thread is never descheduled.
func threadCPUTime() time.Duration { return time.Since(epoch) }
