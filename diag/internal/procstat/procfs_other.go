//go:build !linux

package procstat

// readCgroup: cgroups are Linux's.
func readCgroup() cgroupStat { return cgroupStat{} }

// readOSThreads: no /proc/self/status to fall back on.
func readOSThreads() opt[uint64] { return opt[uint64]{} }

// readSched: schedstat is Linux's.
func readSched() schedStat { return schedStat{why: schedNotLinux} }

// readHostCPU: no /proc/stat.
func readHostCPU() opt[hostCPU] { return opt[hostCPU]{} }
