package testenv

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// A weight above the default is a claim on the machine. Tests raise their
// children's weight to keep other processes, of the default weight, from
// taking the CPUs they need; but two cgroups of the same high weight split
// the CPUs between them like any two processes, and one of the highest
// weight starves one of a lower high weight. go test ./... runs two
// packages' tests at once, and both happened:
//
//   - examples/internal/workload's accuracy test (two busy workers) beside
//     diag's TestJudgement, both at the highest weight: the steady service
//     there waited 1.0–1.2 s per second on the run queue and was rightly
//     told its host was oversubscribed, while the accuracy test kept only
//     2 of its 6 slices;
//   - cmd/diagctl's doctor baseline, at ten times the default weight,
//     beside TestJudgement's call-free loops at the highest: its threads
//     waited 2.76 s per second, 52 times the CPU they got, and 5 % of its
//     samples landed in runtime.asyncPreempt, more than its check allows.
//
// So SetMaxWeight takes the claim exclusively and SetHighWeight shares it:
// any number of high-weight children at once (the doctor test shares out
// the CPUs among its own), or one test at the highest weight, never both.
// Each holds it until the test ends. The claim is a lock on a file in the
// temporary directory, taken through a descriptor of its own each time,
// so it works the same between two tests of one process, two packages'
// test processes, or two clones' runs.
//
// A test that holds the exclusive claim must not ask for it again, nor
// its subtests while it does: that waits for itself until claimTimeout.

// claimTimeout bounds the wait: longer than any test holds the claim
// (TestJudgement's subtests hold it under a minute each, the doctor's
// scenarios share it for about a minute and a half in all).
const claimTimeout = 5 * time.Minute

// claimFile is the lock's file.
var claimFile = filepath.Join(os.TempDir(), "diagkit-test-cpu-weight.lock")

// claimWeight takes the claim, exclusive or shared, for the rest of t, or
// fails t when it cannot within claimTimeout.
func claimWeight(t testing.TB, exclusive bool) {
	t.Helper()
	start := time.Now()
	release, err := lockFile(claimFile, exclusive, claimTimeout)
	if err != nil {
		t.Fatalf("claiming a high CPU weight: %v", err)
	}
	if waited := time.Since(start); waited > time.Second {
		t.Logf("waited %v for other tests to give up their CPU weight", waited.Round(100*time.Millisecond))
	}
	t.Cleanup(func() {
		if err := release(); err != nil {
			t.Errorf("releasing the CPU weight claim: %v", err)
		}
	})
}
