//go:build linux

package testenv

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"sync"
	"syscall"

	"github.com/diagkit/diagkit/internal/cgroupfs"
)

// staleName matches the cgroups the tests create, diagkit-test-PID-..., PID
// being the test process's.
var staleName = regexp.MustCompile(`^diagkit-test-([0-9]+)-`)

var sweepOnce sync.Once

// sweepStale removes, once per process, the empty cgroups left by test
// processes that were killed before their cleanups ran (an interrupted go
// test, a timeout): each one's PID is gone. A cgroup that still holds a
// process is left alone (rmdir refuses it), as are other processes'.
func sweepStale() {
	sweepOnce.Do(func() {
		if root, _, err := cgroupfs.ControllerRoot(); err == nil {
			sweepRoot(root)
		}
	})
}

// sweepRoot removes the stale test cgroups directly below root.
func sweepRoot(root string) {
	entries, err := os.ReadDir(root)
	if err != nil {
		return
	}
	for _, e := range entries {
		m := staleName.FindStringSubmatch(e.Name())
		if !e.IsDir() || m == nil {
			continue
		}
		pid, err := strconv.Atoi(m[1])
		if err != nil || pid == os.Getpid() || syscall.Kill(pid, 0) != syscall.ESRCH {
			continue
		}
		removeTree(filepath.Join(root, e.Name()))
	}
}

// removeTree removes a cgroup and the cgroups below it, deepest first;
// errors leave what cannot be removed.
func removeTree(dir string) {
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if e.IsDir() {
			removeTree(filepath.Join(dir, e.Name()))
		}
	}
	_ = os.Remove(dir)
}
