package diag

import (
	"os"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/diagkit/diagkit/diag/api"
)

// The evidence names call-free loops directly: the execution trace sees
// their goroutines run for 10 ms and more until async preemption, and the
// goroutine dump finds them in the loop, at its line.
func TestEvidenceNamesCallFreeLoops(t *testing.T) {
	startTightLoops(t, 8)

	a := &Agent{cfg: Config{Cooldown: time.Minute}, log: zap.NewNop(), stopped: make(chan struct{})}
	ev, data := a.gatherEvidence(time.Now())
	if ev.Trace == nil || len(data) == 0 {
		t.Fatalf("no trace: %+v", ev)
	}
	if ev.Trace.AsyncPreemptions < 10 || ev.Trace.RunsOver10ms < 10 {
		t.Errorf("trace saw %d async preemptions and %d runs over 10 ms, want 10 or more of each", ev.Trace.AsyncPreemptions, ev.Trace.RunsOver10ms)
	}
	if len(ev.Preempted) == 0 {
		t.Fatalf("no loop located: %+v", ev)
	}
	top := ev.Preempted[0]
	if top.Function != "github.com/diagkit/diagkit/diag.tightLoop" || !strings.HasSuffix(top.File, "diag/agent_test.go") || top.Line == 0 ||
		top.Goroutines < 2 || top.LongRuns < top.Goroutines {
		t.Errorf("top site = %+v, want tightLoop in agent_test.go at its line, found in 2+ goroutines", top)
	}
	for _, s := range ev.Preempted[1:] {
		t.Logf("also: %+v", s)
	}
	t.Logf("trace %+v; %d goroutines", *ev.Trace, ev.Goroutines)
}

func TestLocateGoroutines(t *testing.T) {
	dump, err := os.Open("testdata/goroutines-loops.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer dump.Close()
	// 21 sleeps: it is not in a loop now, whatever its last run.
	sites, total, err := locateGoroutines(dump, map[int64]int64{18: 12, 19: 11, 20: 10, 21: 9, 22: 9})
	if err != nil {
		t.Fatal(err)
	}
	if total != 6 {
		t.Errorf("%d goroutines, want 6", total)
	}
	if len(sites) != 3 {
		t.Fatalf("sites = %+v, want 3", sites)
	}
	if s := sites[0]; s.Function != "main.crunchRows" || s.File != "/app/main.go" || s.Line != 49 || s.Goroutines != 2 || s.LongRuns != 23 {
		t.Errorf("first site = %+v", s)
	}
	for _, s := range sites {
		if s.Function == "time.Sleep" || s.Function == "main.worker" {
			t.Errorf("a sleeping goroutine located: %+v", s)
		}
	}
	if !slices.ContainsFunc(sites, func(s api.PreemptedSite) bool { return s.Function == "main.(*table).scan" && s.Line == 77 }) {
		t.Errorf("sites = %+v, want main.(*table).scan at line 77", sites)
	}
}

// Well-behaved code caught by a goroutine profile's own stop-the-world, or
// by a GC stack scan, also shows runtime.asyncPreempt; the trace's long runs
// rule it out. The reverse holds too: a function the trace located but no
// goroutine profile finds async-preempted is not a call-free loop.
func TestPreemptedFunctions(t *testing.T) {
	startTightLoops(t, 8)
	time.Sleep(100 * time.Millisecond)
	found := false
	for range 20 {
		fns, err := asyncPreempted()
		if err != nil {
			t.Fatal(err)
		}
		if found = fns["github.com/diagkit/diagkit/diag.tightLoop"]; found {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if !found {
		t.Error("the goroutine profile never found tightLoop stopped by async preemption")
	}
}

// startTightLoops runs n goroutines in tightLoop on GOMAXPROCS 2 until the
// test ends.
func startTightLoops(t *testing.T, n int) {
	prev := runtime.GOMAXPROCS(2)
	var stop atomic.Bool
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() { defer wg.Done(); sink.Add(tightLoop(&stop)) }()
	}
	t.Cleanup(func() { stop.Store(true); wg.Wait(); runtime.GOMAXPROCS(prev) })
}
