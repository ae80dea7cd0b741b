package testenv

import (
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"
)

func cpusAllowed(t *testing.T, status string) string {
	t.Helper()
	for _, line := range strings.Split(status, "\n") {
		if v, ok := strings.CutPrefix(line, "Cpus_allowed_list:"); ok {
			return strings.TrimSpace(v)
		}
	}
	t.Fatalf("no Cpus_allowed_list in:\n%s", status)
	return ""
}

func TestStartOnCPUs(t *testing.T) {
	self, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	before := cpusAllowed(t, string(self))
	last, err := LastCPU()
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	cmd := exec.Command("cat", "/proc/self/status")
	cmd.Stdout = &out
	if err := StartOnCPUs(cmd, last); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatal(err)
	}
	if got, want := cpusAllowed(t, out.String()), fmt.Sprint(last); got != want {
		t.Errorf("the child may run on CPUs %s, want %s", got, want)
	}
	// The thread that started it ended with its affinity: this process's
	// threads keep theirs.
	for range 20 {
		self, err := os.ReadFile("/proc/thread-self/status")
		if err != nil {
			t.Fatal(err)
		}
		if got := cpusAllowed(t, string(self)); got != before {
			t.Fatalf("a thread of the test process may run on CPUs %s, was %s", got, before)
		}
		runtime.Gosched()
	}
	if err := StartOnCPUs(exec.Command("true"), maxCPUs); err == nil {
		t.Error("a CPU past the set's end: no error")
	}
}
