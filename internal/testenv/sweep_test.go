//go:build linux

package testenv

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/diagkit/diagkit/internal/cgroupfs"
)

// TestSweepStale: the cgroups of a test process that is gone are removed,
// nested ones too; a live process's, and one holding a process, stay.
func TestSweepStale(t *testing.T) {
	root, _, err := cgroupfs.ControllerRoot()
	if err != nil {
		MustRun(t, "no cgroup CPU controller: %v", err)
	}
	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Fatal(err)
	}
	gone := filepath.Join(root, fmt.Sprintf("diagkit-test-%d-7", dead.Process.Pid))
	live := filepath.Join(root, fmt.Sprintf("diagkit-test-%d-sweep", os.Getpid()))
	for _, dir := range []string{gone, filepath.Join(gone, "diagkit-test-leaf"), live} {
		if err := os.Mkdir(dir, 0o755); err != nil {
			MustRun(t, "cannot create a cgroup (run as root): %v", err)
		}
	}
	t.Cleanup(func() { removeTree(gone); removeTree(live) })
	// One holding a process stays, though its test process is gone.
	busy, err := cgroupfs.New(nil, fmt.Sprintf("diagkit-test-%d-8", dead.Process.Pid))
	if err != nil {
		t.Fatal(err)
	}
	sleeper := exec.Command("sleep", "60")
	if err := sleeper.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sleeper.Process.Kill(); _ = sleeper.Wait(); _ = busy.Remove(removeTimeout) })
	if err := busy.Add(sleeper.Process.Pid); err != nil {
		t.Fatal(err)
	}

	sweepRoot(root)
	if _, err := os.Stat(gone); !os.IsNotExist(err) {
		t.Errorf("%s: %v, want it removed", gone, err)
	}
	for _, dir := range []string{live, busy.Dir} {
		if _, err := os.Stat(dir); err != nil {
			t.Errorf("%s: %v, want it kept", dir, err)
		}
	}
}
