package procstat

import (
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/diagkit/diagkit/internal/testenv"
)

// TestReadHostCPUPinned reads /proc/stat from a thread allowed one CPU of
// the machine's: the figures are that CPU's line, between the test's own
// readings of it just before and just after, and not the machine's.
func TestReadHostCPUPinned(t *testing.T) {
	var all unix.CPUSet
	if err := unix.SchedGetaffinity(0, &all); err != nil || all.Count() < 2 {
		testenv.MustRun(t, "needs a thread allowed two CPUs or more (affinity %d CPUs, %v)", all.Count(), err)
	}
	cpu := -1
	for i := 0; cpu < 0; i++ {
		if all.IsSet(i) {
			cpu = i
		}
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var one unix.CPUSet
	one.Set(cpu)
	if err := unix.SchedSetaffinity(0, &one); err != nil {
		t.Fatalf("sched_setaffinity: %v", err)
	}
	defer func() {
		if err := unix.SchedSetaffinity(0, &all); err != nil {
			t.Errorf("restoring the affinity: %v", err)
		}
	}()
	if got := affinity(); len(got) != 1 || got[0] != cpu {
		t.Fatalf("affinity() = %v, want [%d]", got, cpu)
	}
	before := cpuLineBusy(t, cpu)
	got := readHostCPU()
	after := cpuLineBusy(t, cpu)
	if !got.ok || got.v.cpus != cpuDigest([]int{cpu}) {
		t.Fatalf("readHostCPU() = %+v, want CPU %d's line", got, cpu)
	}
	if got.v.busy < before || got.v.busy > after {
		t.Errorf("busy %d ticks, want cpu%d's, %d to %d", got.v.busy, cpu, before, after)
	}
	if whole := hostCPUFrom(hostFS, nil); !whole.ok || whole.v.busy < got.v.busy || whole.v.cpus != 0 {
		t.Errorf("the machine's %+v, want at least CPU %d's %d ticks", whole, cpu, got.v.busy)
	}
}

// cpuLineBusy is user+nice+system+irq+softirq+steal of /proc/stat's cpuN line.
func cpuLineBusy(t *testing.T, cpu int) uint64 {
	t.Helper()
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.Lines(string(b)) {
		f := strings.Fields(line)
		if len(f) < 9 || f[0] != "cpu"+strconv.Itoa(cpu) {
			continue
		}
		var busy uint64
		for _, i := range []int{1, 2, 3, 6, 7, 8} {
			n, err := strconv.ParseUint(f[i], 10, 64)
			if err != nil {
				t.Fatalf("%q: %v", line, err)
			}
			busy += n
		}
		return busy
	}
	t.Fatalf("no cpu%d line in /proc/stat", cpu)
	return 0
}
