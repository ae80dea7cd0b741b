package testenv

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/diagkit/diagkit/internal/cgroupfs"
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
	_, version, err := cgroupfs.ControllerRoot()
	if err != nil {
		return nil, err
	}
	sweepStale()
	back, err := cgroupfs.OwnDir(version)
	if err != nil {
		return nil, err
	}
	g, err := cgroupfs.New(nil, fmt.Sprintf("diagkit-test-%d-main", os.Getpid()))
	if err != nil {
		return nil, err
	}
	if err = g.SetHighWeight(); err == nil {
		err = g.Add(os.Getpid())
	}
	if err != nil {
		_ = g.Remove(5 * time.Second)
		return nil, err
	}
	return func() error {
		if err := os.WriteFile(filepath.Join(back, "cgroup.procs"), []byte(strconv.Itoa(os.Getpid())), 0); err != nil {
			return fmt.Errorf("moving the test process back to %s: %v", back, err)
		}
		return g.Remove(5 * time.Second)
	}, nil
}
