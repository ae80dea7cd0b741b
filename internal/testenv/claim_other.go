//go:build !unix

package testenv

import "time"

// lockFile has no lock across processes here: cgroups, and so the highest
// CPU weight, are Linux's.
func lockFile(string, time.Duration) (func() error, error) {
	return func() error { return nil }, nil
}
