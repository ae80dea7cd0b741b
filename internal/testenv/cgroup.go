package testenv

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// CPUCgroup is a cgroup the test created under the writable CPU
// controller (cgroup v1's cpu hierarchy, or v2 with the cpu controller),
// removed when the test ends. Tests put child processes in it to give them
// a CPU quota or, with a high weight, to keep other processes on a shared
// machine from taking their CPUs.
type CPUCgroup struct {
	// Dir is the cgroup's directory; Path its path inside the hierarchy
	// ("/diagkit-test-123-1"), as /proc/PID/cgroup names it.
	Dir, Path string
	// Version is "v1" or "v2".
	Version string
}

var cgroupSeq atomic.Int64

// NewCPUCgroup creates a cgroup below the root of the CPU controller's
// hierarchy, or below parent when it is not nil. It fails the test under
// CI=true (which runs as root, with a writable controller) and skips it
// elsewhere when there is none to write to. The cgroup is removed at
// cleanup, after the processes in it are gone: stop them in a cleanup
// registered after this call.
func NewCPUCgroup(t testing.TB, parent *CPUCgroup) *CPUCgroup {
	t.Helper()
	var root, version string
	if parent != nil {
		root, version = parent.Dir, parent.Version
	} else {
		var err error
		root, version, err = cpuControllerRoot()
		if err != nil {
			MustRun(t, "no writable cgroup CPU controller: %v (run as root on Linux)", err)
		}
	}
	if version == "v2" {
		// A v2 cgroup's children get the cpu controller only when it is
		// enabled in its subtree_control.
		if err := os.WriteFile(filepath.Join(root, "cgroup.subtree_control"), []byte("+cpu"), 0); err != nil {
			MustRun(t, "enabling the cpu controller below %s: %v", root, err)
		}
	}
	dir := filepath.Join(root, fmt.Sprintf("diagkit-test-%d-%d", os.Getpid(), cgroupSeq.Add(1)))
	if err := os.Mkdir(dir, 0o755); err != nil {
		MustRun(t, "creating a cgroup: %v (run as root)", err)
	}
	cg := &CPUCgroup{Dir: dir, Version: version}
	cg.Path = "/" + filepath.Base(dir)
	if parent != nil {
		cg.Path = strings.TrimSuffix(parent.Path, "/") + cg.Path
	}
	t.Cleanup(func() { cg.remove(t) })
	return cg
}

// cpuControllerRoot finds where the CPU controller is mounted: a v1
// hierarchy with "cpu" among its options, else a v2 mount whose root offers
// the cpu controller.
func cpuControllerRoot() (string, string, error) {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return "", "", err
	}
	defer f.Close()
	var v2 string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		sep := -1
		for i, x := range fields {
			if x == "-" {
				sep = i
				break
			}
		}
		if sep < 5 || len(fields) < sep+4 {
			continue
		}
		point, fstype, opts := fields[4], fields[sep+1], fields[sep+3]
		switch fstype {
		case "cgroup":
			for _, o := range strings.Split(opts, ",") {
				if o == "cpu" {
					return point, "v1", nil
				}
			}
		case "cgroup2":
			if data, err := os.ReadFile(filepath.Join(point, "cgroup.controllers")); err == nil &&
				strings.Contains(" "+string(data)+" ", " cpu ") {
				v2 = point
			}
		}
	}
	if v2 != "" {
		return v2, "v2", nil
	}
	return "", "", errors.New("no cpu controller in /proc/self/mountinfo")
}

// SetQuota limits the cgroup (and every cgroup below it) to cpus CPUs per
// 100 ms period.
func (cg *CPUCgroup) SetQuota(t testing.TB, cpus float64) {
	t.Helper()
	quota := int64(cpus * 100_000)
	if cg.Version == "v2" {
		cg.write(t, "cpu.max", fmt.Sprintf("%d 100000", quota))
		return
	}
	cg.write(t, "cpu.cfs_period_us", "100000")
	cg.write(t, "cpu.cfs_quota_us", strconv.FormatInt(quota, 10))
}

// SetMaxWeight gives the cgroup the highest CPU weight there is (v1
// cpu.shares 262144, v2 cpu.weight 10000): against processes of the default
// weight it gets the CPUs it asks for, as on a quiet machine.
func (cg *CPUCgroup) SetMaxWeight(t testing.TB) {
	t.Helper()
	if cg.Version == "v2" {
		cg.write(t, "cpu.weight", "10000")
		return
	}
	cg.write(t, "cpu.shares", "262144")
}

// SetHighWeight gives the cgroup ten times the default CPU weight (v1
// cpu.shares 10240, v2 cpu.weight 1000): enough to get its CPUs beside
// processes of the default weight, and less than SetMaxWeight's, so tests
// of another package running at the same time keep theirs.
func (cg *CPUCgroup) SetHighWeight(t testing.TB) {
	t.Helper()
	if cg.Version == "v2" {
		cg.write(t, "cpu.weight", "1000")
		return
	}
	cg.write(t, "cpu.shares", "10240")
}

// Add moves a process, with all its threads, into the cgroup.
func (cg *CPUCgroup) Add(t testing.TB, pid int) {
	t.Helper()
	cg.write(t, "cgroup.procs", strconv.Itoa(pid))
}

func (cg *CPUCgroup) write(t testing.TB, file, value string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(cg.Dir, file), []byte(value), 0); err != nil {
		t.Fatalf("writing %q to %s: %v", value, filepath.Join(cg.Dir, file), err)
	}
}

// remove moves any process left in the cgroup to the hierarchy's root and
// removes the directory, retrying while the kernel lets go of exited tasks.
func (cg *CPUCgroup) remove(t testing.TB) {
	// A killed child's threads may take seconds to exit on a busy machine
	// (one busy run saw a spinning child's outlast 5 s), and until they
	// have, the kernel refuses to remove the cgroup.
	deadline := time.Now().Add(30 * time.Second)
	for {
		err := os.Remove(cg.Dir)
		if err == nil || errors.Is(err, os.ErrNotExist) {
			return
		}
		if data, rerr := os.ReadFile(filepath.Join(cg.Dir, "cgroup.procs")); rerr == nil {
			root, _, _ := cpuControllerRoot()
			for _, pid := range strings.Fields(string(data)) {
				_ = os.WriteFile(filepath.Join(root, "cgroup.procs"), []byte(pid), 0)
			}
		}
		if time.Now().After(deadline) {
			t.Errorf("removing cgroup %s: %v", cg.Dir, err)
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// AddSelf moves the test process into the cgroup until the test ends, then
// back to the cgroup it was in. Tests that measure the process's own CPU
// use it with SetMaxWeight to have the CPUs they ask for on a busy machine.
func (cg *CPUCgroup) AddSelf(t testing.TB) {
	t.Helper()
	back, err := ownCgroupDir(cg.Version)
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

// ownCgroupDir is the directory of this process's cgroup in the CPU
// controller's hierarchy.
func ownCgroupDir(version string) (string, error) {
	root, _, err := cpuControllerRoot()
	if err != nil {
		return "", err
	}
	data, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		return "", err
	}
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.SplitN(line, ":", 3)
		if len(f) != 3 {
			continue
		}
		v1 := false
		for _, c := range strings.Split(f[1], ",") {
			v1 = v1 || c == "cpu"
		}
		if (version == "v1" && v1) || (version == "v2" && f[0] == "0" && f[1] == "") {
			return filepath.Join(root, f[2]), nil
		}
	}
	return "", errors.New("no cpu cgroup in /proc/self/cgroup")
}
