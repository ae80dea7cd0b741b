//go:build linux

package diag

import (
	"os/exec"
	"syscall"
)

// setChildDeathSignal has the kernel SIGKILL the child if the test binary
// dies without running its cleanups (a crash, go test's -timeout), so that
// no prometheus outlives the test.
func setChildDeathSignal(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
