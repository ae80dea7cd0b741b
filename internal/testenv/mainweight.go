package testenv

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

// TestingM is what a TestMain runs: *testing.M, or goleak's wrapper of it.
type TestingM interface{ Run() int }

// HighWeightMain wraps a test binary's m so that the whole run happens in a
// cgroup of SetHighWeight's CPU weight, removed afterwards. On a shared
// machine the children other packages' tests start at that weight (diagctl's
// end-to-end children) would otherwise take the CPUs this binary's tests
// need to make progress in time (scrapes within their timeout, windows with
// samples); at the same weight they share them. Children at SetMaxWeight
// still come first. Without a writable CPU controller it runs m as it is,
// but under CI=true, which has one, it fails instead.
func HighWeightMain(m TestingM) TestingM { return highWeightM{m} }

type highWeightM struct{ m TestingM }

func (h highWeightM) Run() int {
	leave, err := joinHighWeight()
	if err != nil {
		if ci, _ := strconv.ParseBool(os.Getenv("CI")); ci {
			fmt.Fprintf(os.Stderr, "testenv: CI=%s: cannot run the tests at a high CPU weight: %v\n", os.Getenv("CI"), err)
			return 1
		}
		return h.m.Run()
	}
	code := h.m.Run()
	if err := leave(); err != nil {
		fmt.Fprintf(os.Stderr, "testenv: %v\n", err)
		if code == 0 {
			code = 1
		}
	}
	return code
}

// joinHighWeight moves this process into a new cgroup of high CPU weight
// and returns the function that moves it back and removes the cgroup.
func joinHighWeight() (leave func() error, err error) {
	root, version, err := cpuControllerRoot()
	if err != nil {
		return nil, err
	}
	back, err := ownCgroupDir(version)
	if err != nil {
		return nil, err
	}
	if version == "v2" {
		if err := os.WriteFile(filepath.Join(root, "cgroup.subtree_control"), []byte("+cpu"), 0); err != nil {
			return nil, err
		}
	}
	dir := filepath.Join(root, fmt.Sprintf("diagkit-test-%d-main", os.Getpid()))
	if err := os.Mkdir(dir, 0o755); err != nil {
		return nil, err
	}
	file, weight := "cpu.shares", "10240"
	if version == "v2" {
		file, weight = "cpu.weight", "1000"
	}
	pid := []byte(strconv.Itoa(os.Getpid()))
	err = os.WriteFile(filepath.Join(dir, file), []byte(weight), 0)
	if err == nil {
		err = os.WriteFile(filepath.Join(dir, "cgroup.procs"), pid, 0)
	}
	if err != nil {
		_ = os.Remove(dir)
		return nil, err
	}
	return func() error {
		if err := os.WriteFile(filepath.Join(back, "cgroup.procs"), pid, 0); err != nil {
			return fmt.Errorf("moving the test process back to %s: %v", back, err)
		}
		deadline := time.Now().Add(5 * time.Second)
		for {
			err := os.Remove(dir)
			if err == nil || errors.Is(err, os.ErrNotExist) {
				return nil
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("removing cgroup %s: %v", dir, err)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}, nil
}
