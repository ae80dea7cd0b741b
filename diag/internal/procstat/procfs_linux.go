package procstat

import (
	"io/fs"
	"os"

	"golang.org/x/sys/unix"
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

// readHostCPU reads the CPU time of the CPUs this process may run on from
// /proc/stat.
func readHostCPU() opt[hostCPU] { return hostCPUFrom(hostFS, affinity()) }

// affinity is the CPUs the calling thread may run on, sorted, as the
// process's threads inherit them; nil when unknown. A sched_getaffinity
// call, about 1µs.
func affinity() []int {
	var set unix.CPUSet
	if err := unix.SchedGetaffinity(0, &set); err != nil {
		return nil
	}
	cpus := make([]int, 0, set.Count())
	for i := 0; len(cpus) < cap(cpus); i++ { // Count's bits are all in set
		if set.IsSet(i) {
			cpus = append(cpus, i)
		}
	}
	return cpus
}
