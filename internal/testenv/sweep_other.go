//go:build !linux

package testenv

// sweepStale: test cgroups are made on Linux only.
func sweepStale() {}
