//go:build unix

package procstat

import (
	"syscall"
	"time"
)

// readRusage calls getrusage(RUSAGE_SELF).
func readRusage() opt[rusage] {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return opt[rusage]{}
	}
	return some(rusage{
		cpu:   time.Duration(ru.Utime.Nano() + ru.Stime.Nano()),
		vcsw:  int64(ru.Nvcsw),
		ivcsw: int64(ru.Nivcsw),
	})
}
