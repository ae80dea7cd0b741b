package testenv

import (
	"fmt"
	"os/exec"
	"runtime"

	"golang.org/x/sys/unix"
)

// StartOnCPUs starts cmd restricted to the CPUs listed: the child, and
// every thread it creates, runs only there, from its first instruction.
// A thread's affinity is inherited through fork, so the start happens on a
// thread of this process given that affinity, which ends with it.
func StartOnCPUs(cmd *exec.Cmd, cpus ...int) error {
	if len(cpus) == 0 {
		return fmt.Errorf("no CPUs listed")
	}
	var set unix.CPUSet
	for _, c := range cpus {
		if c < 0 || c >= maxCPUs {
			return fmt.Errorf("CPU %d: want 0 to %d", c, maxCPUs-1)
		}
		set.Set(c)
	}
	errc := make(chan error, 1)
	go func() {
		// Never unlocked: the goroutine's exit ends the thread, and with
		// it the affinity, instead of handing it to other goroutines.
		runtime.LockOSThread()
		if err := unix.SchedSetaffinity(0, &set); err != nil {
			errc <- fmt.Errorf("setting the CPU affinity: %v", err)
			return
		}
		errc <- cmd.Start()
	}()
	return <-errc
}

// maxCPUs is how many CPUs a unix.CPUSet holds.
const maxCPUs = 1024

// LastCPU is the highest-numbered CPU this process may run on: a CPU of
// its own for a child, when the machine (or its cpuset) has more than one.
func LastCPU() (int, error) {
	var set unix.CPUSet
	if err := unix.SchedGetaffinity(0, &set); err != nil {
		return 0, fmt.Errorf("reading the CPU affinity: %v", err)
	}
	for c := maxCPUs - 1; c >= 0; c-- {
		if set.IsSet(c) {
			return c, nil
		}
	}
	return 0, fmt.Errorf("no CPU in this process's affinity")
}
