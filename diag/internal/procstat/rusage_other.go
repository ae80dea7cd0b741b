//go:build !unix

package procstat

// readRusage: this platform has no getrusage.
func readRusage() opt[rusage] { return opt[rusage]{} }
