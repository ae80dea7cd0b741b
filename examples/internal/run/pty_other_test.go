//go:build !linux

package run

import (
	"os"
	"testing"
)

// openTerminal opens the controlling terminal, or skips where there is none.
func openTerminal(t *testing.T) *os.File {
	t.Helper()
	tty, err := os.OpenFile("/dev/tty", os.O_WRONLY, 0)
	if err != nil {
		t.Skipf("no terminal: %v", err)
	}
	t.Cleanup(func() { tty.Close() })
	return tty
}
