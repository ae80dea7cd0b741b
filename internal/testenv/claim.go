package testenv

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// The highest CPU weight is a claim on the machine, and only one test may
// hold it at a time. Two cgroups at the highest weight split the CPUs
// between them like any two processes: go test ./... runs two packages'
// tests at once, and when examples/internal/workload's accuracy test (two
// busy workers) overlapped diag's TestJudgement, the steady service there
// waited 1.0–1.2 s per second on the run queue and was rightly told its
// host was oversubscribed, while the accuracy test kept only 2 of its 6
// slices. So SetMaxWeight takes this claim first, and holds it until the
// test ends: across the module's test processes (a lock on a file in the
// temporary directory, so another clone's tests wait too) and within one.
//
// A test takes it at most once, and a subtest must not take it while its
// parent holds it: that waits for itself until claimTimeout.

// claimTimeout bounds the wait: longer than any test holds the claim
// (TestJudgement's subtests hold it under a minute each).
const claimTimeout = 5 * time.Minute

// claimFile is the lock's file.
var claimFile = filepath.Join(os.TempDir(), "diagkit-test-max-cpu-weight.lock")

// claimInProcess serializes the claims of one test process's tests.
var claimInProcess = make(chan struct{}, 1)

// claimMaxWeight takes the claim for the rest of t, or fails t when it
// cannot within claimTimeout.
func claimMaxWeight(t testing.TB) {
	t.Helper()
	start := time.Now()
	select {
	case claimInProcess <- struct{}{}:
	case <-time.After(claimTimeout):
		t.Fatalf("another test of this process held the highest CPU weight for %v", claimTimeout)
	}
	release, err := lockFile(claimFile, time.Until(start.Add(claimTimeout)))
	if err != nil {
		<-claimInProcess
		t.Fatalf("claiming the highest CPU weight: %v", err)
	}
	if waited := time.Since(start); waited > time.Second {
		t.Logf("waited %v for another test to give up the highest CPU weight", waited.Round(100*time.Millisecond))
	}
	t.Cleanup(func() {
		if err := release(); err != nil {
			t.Errorf("releasing the highest CPU weight: %v", err)
		}
		<-claimInProcess
	})
}
