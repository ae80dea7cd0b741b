// Package cgroupfs creates and sets up cgroups under the CPU controller
// (cgroup v1's cpu hierarchy, or v2 with the cpu controller): the tests' and
// internal/compare's recorder's way to give child processes a CPU quota or
// a weight. The agent only reads cgroups (diag/internal/procstat); nothing
// here runs in it.
package cgroupfs

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Group is a cgroup under the CPU controller.
type Group struct {
	// Dir is the cgroup's directory; Path its path inside the hierarchy
	// ("/diagkit-test-123-1"), as /proc/PID/cgroup names it.
	Dir, Path string
	// Version is "v1" or "v2".
	Version string
	// root is the hierarchy's root directory.
	root string
}

// ControllerRoot finds where the CPU controller is mounted: a v1 hierarchy
// with "cpu" among its options, else a v2 mount whose root offers the cpu
// controller. It returns the mount point and "v1" or "v2".
func ControllerRoot() (root, version string, err error) {
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

// OwnDir is the directory of this process's cgroup in the CPU controller's
// hierarchy of the given version.
func OwnDir(version string) (string, error) {
	root, _, err := ControllerRoot()
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

// New creates the cgroup name below parent, or below the hierarchy's root
// when parent is nil.
func New(parent *Group, name string) (*Group, error) {
	root, version, err := ControllerRoot()
	if err != nil {
		return nil, err
	}
	dir := root
	if parent != nil {
		dir, version = parent.Dir, parent.Version
	}
	if version == "v2" {
		// A v2 cgroup's children get the cpu controller only when it is
		// enabled in its subtree_control.
		if err := os.WriteFile(filepath.Join(dir, "cgroup.subtree_control"), []byte("+cpu"), 0); err != nil {
			return nil, fmt.Errorf("enabling the cpu controller below %s: %v", dir, err)
		}
	}
	g := &Group{Dir: filepath.Join(dir, name), Path: "/" + name, Version: version, root: root}
	if parent != nil {
		g.Path = strings.TrimSuffix(parent.Path, "/") + g.Path
	}
	if err := os.Mkdir(g.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("creating a cgroup: %v", err)
	}
	return g, nil
}

// SetQuota limits the cgroup (and every cgroup below it) to cpus CPUs per
// 100 ms period.
func (g *Group) SetQuota(cpus float64) error {
	quota := int64(cpus * 100_000)
	if g.Version == "v2" {
		return g.write("cpu.max", fmt.Sprintf("%d 100000", quota))
	}
	if err := g.write("cpu.cfs_period_us", "100000"); err != nil {
		return err
	}
	return g.write("cpu.cfs_quota_us", strconv.FormatInt(quota, 10))
}

// SetMaxWeight gives the cgroup the highest CPU weight there is (v1
// cpu.shares 262144, v2 cpu.weight 10000): against processes of the default
// weight it gets the CPUs it asks for, as on a quiet machine.
func (g *Group) SetMaxWeight() error {
	if g.Version == "v2" {
		return g.write("cpu.weight", "10000")
	}
	return g.write("cpu.shares", "262144")
}

// SetHighWeight gives the cgroup ten times the default CPU weight (v1
// cpu.shares 10240, v2 cpu.weight 1000): enough to get its CPUs beside
// processes of the default weight, and less than SetMaxWeight's.
func (g *Group) SetHighWeight() error {
	if g.Version == "v2" {
		return g.write("cpu.weight", "1000")
	}
	return g.write("cpu.shares", "10240")
}

// Add moves a process, with all its threads, into the cgroup.
func (g *Group) Add(pid int) error {
	return g.write("cgroup.procs", strconv.Itoa(pid))
}

func (g *Group) write(file, value string) error {
	if err := os.WriteFile(filepath.Join(g.Dir, file), []byte(value), 0); err != nil {
		return fmt.Errorf("writing %q to %s: %v", value, filepath.Join(g.Dir, file), err)
	}
	return nil
}

// Remove moves any process left in the cgroup to the hierarchy's root and
// removes the directory, retrying for up to timeout while the kernel lets
// go of exiting tasks: until a killed process's threads have exited, it
// refuses to remove the cgroup.
func (g *Group) Remove(timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		err := os.Remove(g.Dir)
		if err == nil || errors.Is(err, os.ErrNotExist) {
			return nil
		}
		if data, rerr := os.ReadFile(filepath.Join(g.Dir, "cgroup.procs")); rerr == nil {
			for _, pid := range strings.Fields(string(data)) {
				_ = os.WriteFile(filepath.Join(g.root, "cgroup.procs"), []byte(pid), 0)
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("removing cgroup %s: %v", g.Dir, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
