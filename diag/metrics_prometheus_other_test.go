//go:build !linux

package diag

import "os/exec"

// setChildDeathSignal does nothing where there is no parent-death signal:
// the test's cleanup is what stops the child.
func setChildDeathSignal(cmd *exec.Cmd) {}
