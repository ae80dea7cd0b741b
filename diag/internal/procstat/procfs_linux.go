package procstat

import (
	"io/fs"
	"os"
)

// hostFS is where Take finds /proc and the cgroup filesystems, except the
// threads' schedstat files, which readSched opens relative to
// /proc/self/task. Tests read fake trees through cgroupFrom, threadsFrom,
// schedFrom and hostCPUFrom instead.
var hostFS fs.FS = os.DirFS("/")

// readCgroup reads the process's cgroup CPU limit and throttling counters.
func readCgroup() cgroupStat { return cgroupFrom(hostFS) }

// readOSThreads reads the thread count from /proc/self/status, for Go
// releases without /sched/threads/total:threads.
func readOSThreads() opt[uint64] { return threadsFrom(hostFS) }

// readHostCPU reads the machine's CPU time from /proc/stat.
func readHostCPU() opt[hostCPU] { return hostCPUFrom(hostFS) }
