//go:build linux

package main

import (
	"fmt"
	"os"
	"time"

	"github.com/diagkit/diagkit/internal/cgroupfs"
)

// removeCgroup removes a cgroup the recorder made, moving any process left
// in it to the hierarchy's root first; it says so when the kernel does not
// let go within 5 s.
func removeCgroup(g *cgroupfs.Group) {
	if err := g.Remove(5 * time.Second); err != nil {
		fmt.Fprintf(os.Stderr, "record: %v\n", err)
	}
}
