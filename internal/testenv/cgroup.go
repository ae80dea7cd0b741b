package testenv

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/diagkit/diagkit/internal/cgroupfs"
)

// CPUCgroup is a cgroup the test created under the writable CPU
// controller (cgroup v1's cpu hierarchy, or v2 with the cpu controller),
// removed when the test ends. Tests put child processes in it to give them
// a CPU quota or, with a high weight, to keep other processes on a shared
// machine from taking their CPUs. Its Dir, Path and Version are
// cgroupfs.Group's.
type CPUCgroup struct {
	cgroupfs.Group
}

var cgroupSeq atomic.Int64

// removeTimeout bounds the wait for a cgroup to empty at cleanup. A killed
// child's threads may take seconds to exit on a busy machine (one busy run
// saw a spinning child's outlast 5 s), and until they have, the kernel
// refuses to remove the cgroup.
const removeTimeout = 30 * time.Second

// NewCPUCgroup creates a cgroup below the root of the CPU controller's
// hierarchy, or below parent when it is not nil. It fails the test under
// CI=true (which runs as root, with a writable controller) and skips it
// elsewhere when there is none to write to. The cgroup is removed at
// cleanup, after the processes in it are gone: stop them in a cleanup
// registered after this call.
func NewCPUCgroup(t testing.TB, parent *CPUCgroup) *CPUCgroup {
	t.Helper()
	sweepStale()
	var p *cgroupfs.Group
	if parent != nil {
		p = &parent.Group
	}
	g, err := cgroupfs.New(p, fmt.Sprintf("diagkit-test-%d-%d", os.Getpid(), cgroupSeq.Add(1)))
	if err != nil {
		MustRun(t, "no writable cgroup CPU controller: %v (run as root on Linux)", err)
	}
	cg := &CPUCgroup{Group: *g}
	t.Cleanup(func() {
		if err := cg.Remove(removeTimeout); err != nil {
			t.Error(err)
		}
	})
	return cg
}

// SetQuota limits the cgroup (and every cgroup below it) to cpus CPUs per
// 100 ms period.
func (cg *CPUCgroup) SetQuota(t testing.TB, cpus float64) {
	t.Helper()
	must(t, cg.Group.SetQuota(cpus))
}

// SetMaxWeight gives the cgroup the highest CPU weight there is (v1
// cpu.shares 262144, v2 cpu.weight 10000): against processes of the default
// weight it gets the CPUs it asks for, as on a quiet machine. It first
// takes the weight claim exclusively (see claimWeight), waiting while any
// other test, of this process or another, holds it; the claim lasts until
// the test ends.
func (cg *CPUCgroup) SetMaxWeight(t testing.TB) {
	t.Helper()
	claimWeight(t, true)
	must(t, cg.Group.SetMaxWeight())
}

// SetHighWeight gives the cgroup ten times the default CPU weight (v1
// cpu.shares 10240, v2 cpu.weight 1000): enough to get its CPUs beside
// processes of the default weight, and below SetMaxWeight's.
//
// It first shares the weight claim (see claimWeight), waiting while a test
// at the highest weight holds it; the claim lasts until the test ends.
func (cg *CPUCgroup) SetHighWeight(t testing.TB) {
	t.Helper()
	claimWeight(t, false)
	must(t, cg.Group.SetHighWeight())
}

// ShareWeightClaim shares the weight claim (see claimWeight) for the rest
// of t without a cgroup: for a test whose children run at the default
// weight, which busy processes of that weight cannot starve, but one at
// the highest weight can.
func ShareWeightClaim(t testing.TB) {
	t.Helper()
	claimWeight(t, false)
}

// HoldWeightClaim takes the weight claim exclusively (see claimWeight) for
// the rest of t without a cgroup: for a test that makes the machine busy
// on purpose, which would starve the children of tests that need their
// CPUs.
func HoldWeightClaim(t testing.TB) {
	t.Helper()
	claimWeight(t, true)
}

// Add moves a process, with all its threads, into the cgroup.
func (cg *CPUCgroup) Add(t testing.TB, pid int) {
	t.Helper()
	must(t, cg.Group.Add(pid))
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// AddSelf moves the test process into the cgroup until the test ends, then
// back to the cgroup it was in. Tests that measure the process's own CPU
// use it with SetMaxWeight to have the CPUs they ask for on a busy machine.
func (cg *CPUCgroup) AddSelf(t testing.TB) {
	t.Helper()
	back, err := cgroupfs.OwnDir(cg.Version)
	if err != nil {
		t.Fatalf("finding this process's cgroup: %v", err)
	}
	cg.Add(t, os.Getpid())
	t.Cleanup(func() {
		if err := os.WriteFile(filepath.Join(back, "cgroup.procs"), []byte(strconv.Itoa(os.Getpid())), 0); err != nil {
			t.Errorf("moving the test process back to %s: %v", back, err)
		}
	})
}
