//go:build linux

package main

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

// cgroup is a cgroup record created under the CPU controller (cgroup v1's
// cpu hierarchy, or v2 with the cpu controller), as internal/testenv's
// CPUCgroup is for tests.
type cgroup struct {
	dir, version, root string
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

// newCgroup creates the cgroup name below dir.
func newCgroup(dir, version, name string) (*cgroup, error) {
	if version == "v2" {
		// A v2 cgroup's children get the cpu controller only when it is
		// enabled in its subtree_control.
		if err := os.WriteFile(filepath.Join(dir, "cgroup.subtree_control"), []byte("+cpu"), 0); err != nil {
			return nil, fmt.Errorf("enabling the cpu controller below %s: %v", dir, err)
		}
	}
	root, _, err := cpuControllerRoot()
	if err != nil {
		return nil, err
	}
	cg := &cgroup{dir: filepath.Join(dir, name), version: version, root: root}
	if err := os.Mkdir(cg.dir, 0o755); err != nil {
		return nil, fmt.Errorf("creating a cgroup: %v", err)
	}
	return cg, nil
}

// setQuota limits the cgroup to cpus CPUs per 100 ms period.
func (cg *cgroup) setQuota(cpus float64) error {
	quota := int64(cpus * 100_000)
	if cg.version == "v2" {
		return cg.write("cpu.max", fmt.Sprintf("%d 100000", quota))
	}
	if err := cg.write("cpu.cfs_period_us", "100000"); err != nil {
		return err
	}
	return cg.write("cpu.cfs_quota_us", strconv.FormatInt(quota, 10))
}

// setHighWeight gives the cgroup ten times the default CPU weight (v1
// cpu.shares 10240, v2 cpu.weight 1000).
func (cg *cgroup) setHighWeight() error {
	if cg.version == "v2" {
		return cg.write("cpu.weight", "1000")
	}
	return cg.write("cpu.shares", "10240")
}

func (cg *cgroup) write(file, value string) error {
	if err := os.WriteFile(filepath.Join(cg.dir, file), []byte(value), 0); err != nil {
		return fmt.Errorf("writing %q to %s: %v", value, filepath.Join(cg.dir, file), err)
	}
	return nil
}

// remove moves any process left in the cgroup to the hierarchy's root and
// removes the directory, retrying while the kernel lets go of exited tasks.
func (cg *cgroup) remove() {
	deadline := time.Now().Add(5 * time.Second)
	for {
		err := os.Remove(cg.dir)
		if err == nil || errors.Is(err, os.ErrNotExist) {
			return
		}
		if data, rerr := os.ReadFile(filepath.Join(cg.dir, "cgroup.procs")); rerr == nil {
			for _, pid := range strings.Fields(string(data)) {
				_ = os.WriteFile(filepath.Join(cg.root, "cgroup.procs"), []byte(pid), 0)
			}
		}
		if time.Now().After(deadline) {
			fmt.Fprintf(os.Stderr, "record: removing cgroup %s: %v\n", cg.dir, err)
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
}
