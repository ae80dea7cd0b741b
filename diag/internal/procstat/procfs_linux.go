package procstat

import (
	"io/fs"
	"os"
)

// hostFS is where Take finds /proc and the cgroup filesystems. Tests read
// fake trees through cgroupFrom and threadsFrom instead.
var hostFS fs.FS = os.DirFS("/")

// readCgroup reads the process's cgroup CPU limit and throttling counters.
func readCgroup() cgroupStat { return cgroupFrom(hostFS) }

// readOSThreads reads the thread count from /proc/self/status, for Go
// releases without /sched/threads/total:threads.
func readOSThreads() opt[uint64] { return threadsFrom(hostFS) }
