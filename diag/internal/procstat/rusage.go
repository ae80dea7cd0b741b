package procstat

import "time"

// rusage is the part of getrusage(RUSAGE_SELF) this package reports.
type rusage struct {
	cpu   time.Duration // user + system
	vcsw  int64         // voluntary context switches (ru_nvcsw)
	ivcsw int64         // involuntary context switches (ru_nivcsw)
}
