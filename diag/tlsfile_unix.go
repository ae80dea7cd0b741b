//go:build unix

package diag

import "syscall"

// oNonblock opens a FIFO without waiting for a writer (readTLSFile).
const oNonblock = syscall.O_NONBLOCK
