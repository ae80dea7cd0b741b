package procstat

import (
	"fmt"
	"math"
	"os"
	"runtime"
	"slices"
	"sync"
	"syscall"
	"testing"
	"time"
)

// TestRunQueueRealKernel keeps a goroutine busy for about 200ms between two
// snapshots: the threads that ran it are read at both ends, and their wait
// is there (zero or more: no timing is asserted).
func TestRunQueueRealKernel(t *testing.T) {
	start := Take()
	if why := start.sched.why; why == schedNoFiles || why == schedAllZero {
		t.Skipf("this kernel: %s", why)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		x := 1.0
		for deadline := time.Now().Add(200 * time.Millisecond); time.Now().Before(deadline); {
			for i := range 1000 {
				x = math.Sqrt(x + float64(i))
			}
		}
		_ = x
	}()
	<-done
	end := Take()
	c := Context(start, end)
	t.Logf("threads %v (capped %v), wait %v s, %v/s, ratio %v; %q", deref(c.RunQueueThreads), c.RunQueueThreadsCapped,
		deref(c.RunQueueWaitSeconds), deref(c.RunQueueWaitPerSecond), deref(c.RunQueueWaitRatio), c.RunQueueWaitUnavailable)
	t.Logf("host busy %v, other %v, steal %v CPUs; process %v s", deref(c.HostBusyCPUs), deref(c.OtherCPUs), deref(c.StealCPUs), deref(c.ProcessCPUSeconds))
	if c.RunQueueThreads == nil || *c.RunQueueThreads <= 0 {
		t.Errorf("RunQueueThreads = %v, want > 0", c.RunQueueThreads)
	}
	if c.RunQueueWaitSeconds == nil || c.RunQueueWaitPerSecond == nil || c.RunQueueWaitUnavailable != "" {
		t.Errorf("RunQueueWaitSeconds = %v, per second %v, unavailable %q", c.RunQueueWaitSeconds, c.RunQueueWaitPerSecond, c.RunQueueWaitUnavailable)
	}
	// The busy goroutine ran for 200ms on some thread read at both ends
	// (unless it exited, which idle Ms do not do this fast).
	if c.RunQueueWaitRatio == nil {
		t.Error("RunQueueWaitRatio = nil after 200ms of CPU")
	}
	if c.HostBusyCPUs == nil || c.StealCPUs == nil || c.OtherCPUs == nil {
		t.Errorf("host busy %v, steal %v, other %v: want /proc/stat's figures", c.HostBusyCPUs, c.StealCPUs, c.OtherCPUs)
	}
	checkNonNegative(t, c)
}

// TestSchedFromHost checks the host's task directory reads as the tids it
// lists, with this thread among them.
func TestSchedFromHost(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	self, me := uint32(os.Getpid()), uint32(syscall.Gettid())
	s := readSched()
	if s.why != "" {
		t.Skipf("unavailable: %s", s.why)
	}
	if !slices.IsSortedFunc(s.threads, func(a, b threadSched) int { return int(a.tid) - int(b.tid) }) {
		t.Errorf("threads not sorted: %v", s.threads)
	}
	for _, want := range []uint32{self, me} {
		if _, found := slices.BinarySearchFunc(s.threads, want, func(a threadSched, t uint32) int { return int(a.tid) - int(t) }); !found {
			t.Errorf("tid %d not read; read %v", want, s.threads)
		}
	}
}

// BenchmarkSnapshotSchedstat reads /proc/self/task/*/schedstat with this
// many OS threads in the process (goroutines locked to their thread and
// parked on a channel), as Take does.
func BenchmarkSnapshotSchedstat(b *testing.B) {
	for _, n := range []int{10, 100, 1000} {
		b.Run(fmt.Sprintf("threads=%d", n), func(b *testing.B) {
			stop := lockedThreads(b, n)
			defer stop()
			b.ReportAllocs()
			var s schedStat
			for b.Loop() {
				s = readSched()
			}
			b.ReportMetric(float64(len(s.threads)), "threads-read")
			if s.why != "" {
				b.Fatal(s.why)
			}
		})
	}
}

// lockedThreads makes the process have at least n threads, and returns the
// function that lets them go.
func lockedThreads(tb testing.TB, n int) (stop func()) {
	release := make(chan struct{})
	var started, wg sync.WaitGroup
	for range n {
		started.Add(1)
		wg.Go(func() {
			runtime.LockOSThread()
			started.Done()
			<-release
			runtime.UnlockOSThread()
		})
	}
	started.Wait()
	if th := readOSThreads(); th.ok && th.v < uint64(n) {
		tb.Fatalf("%d threads, want %d", th.v, n)
	}
	return func() { close(release); wg.Wait() }
}
