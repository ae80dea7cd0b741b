//go:build !unix

package testenv

import "time"

// lockFile has no lock here: cgroups, and so CPU weights, are Linux's.
func lockFile(string, bool, time.Duration) (func() error, error) {
	return func() error { return nil }, nil
}
