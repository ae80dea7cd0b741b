package tracesum

import (
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestSyscalls: a goroutine makes 20 blocking nanosleep system calls of
// 10 ms (straight through package syscall, not the runtime's timers). The
// trace must count them all at syscall.Nanosleep, called from this test, and
// their time must lie between the 10 ms the kernel sleeps at least and what
// the caller measured around the calls. A signal to the thread (the runtime
// preempting what it thinks runs there, a profiler's timer) interrupts a
// nanosleep whatever SA_RESTART says: the call is then made again for the
// time left, one more call.
func TestSyscalls(t *testing.T) {
	const (
		n   = 20
		nap = 10 * time.Millisecond
	)
	var around, longest time.Duration
	var interrupted, whole int
	rec := record(t, 2, func() {
		done := make(chan struct{})
		go func() {
			defer close(done)
			for range n {
				ts := syscall.NsecToTimespec(int64(nap))
				start := time.Now()
				cut := false
				for {
					var rem syscall.Timespec
					err := syscall.Nanosleep(&ts, &rem)
					if err == syscall.EINTR {
						interrupted++
						cut = true
						ts = rem
						continue
					}
					if err != nil {
						t.Error(err)
					}
					break
				}
				if !cut {
					whole++
				}
				d := time.Since(start)
				around += d
				longest = max(longest, d)
			}
		}()
		<-done
	})
	if interrupted > 0 {
		t.Logf("%d nanosleeps interrupted by a signal, made again for the time left", interrupted)
	}
	s := rec.s
	t.Logf("syscalls %+v; measured around the calls %v (longest %v)", s.Syscalls.Sites, around, longest)
	var site *Site
	for i := range s.Syscalls.Sites {
		if s.Syscalls.Sites[i].Function == "syscall.Nanosleep" {
			site = &s.Syscalls.Sites[i]
		}
	}
	if site == nil {
		t.Fatalf("no syscall.Nanosleep among %+v", s.Syscalls.Sites)
	}
	if site.Count != int64(n+interrupted) {
		t.Errorf("%d calls to syscall.Nanosleep, want %d (%d interrupted and made again)", site.Count, n+interrupted, interrupted)
	}
	lo, hi := (n * nap).Seconds(), around.Seconds()*(1+clockSlack)
	if site.TotalSeconds < lo || site.TotalSeconds > hi {
		t.Errorf("syscall.Nanosleep took %.6f s in all: want at least the %.3f s slept and at most the %.6f s measured around the calls", site.TotalSeconds, lo, hi)
	}
	if whole > 0 && site.MaxSeconds < nap.Seconds() || site.MaxSeconds > longest.Seconds()*(1+clockSlack) {
		t.Errorf("longest call %.6f s: want %v to %v", site.MaxSeconds, nap, longest)
	}
	if s.Syscalls.MaxSeconds < site.MaxSeconds || len(s.Syscalls.Longest) == 0 {
		t.Fatalf("syscalls %+v", s.Syscalls)
	}
	top := s.Syscalls.Longest[0]
	if top.Function != "syscall.Nanosleep" || !strings.HasPrefix(top.Caller, thisPkg+"TestSyscalls") || !strings.HasSuffix(top.File, "syscall_linux_test.go") {
		t.Errorf("longest syscall %+v: want syscall.Nanosleep called from TestSyscalls", top)
	}
	if s.Cgo.Count != 0 {
		t.Errorf("%d cgo calls in a pure Go workload", s.Cgo.Count)
	}
	if !strings.Contains(strings.ToLower(s.Interpretation), "long syscall regions") {
		t.Errorf("interpretation %q: want the 10 ms system calls flagged", s.Interpretation)
	}
}
