//go:build !linux

package testenv

import (
	"errors"
	"os/exec"
)

// StartOnCPUs needs Linux's CPU affinity.
func StartOnCPUs(cmd *exec.Cmd, cpus ...int) error {
	return errors.New("CPU affinity is set on Linux only")
}

// LastCPU needs Linux's CPU affinity.
func LastCPU() (int, error) { return 0, errors.New("CPU affinity is read on Linux only") }
