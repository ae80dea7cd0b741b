package diag

import (
	"os"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/zap"
)

// The evidence names call-free loops directly: the execution trace sees
// their goroutines run for 10 ms and more until async preemption, and the
// goroutine dump finds them in the loop, at its line.
func TestEvidenceNamesCallFreeLoops(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2))
	var stop atomic.Bool
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() { defer wg.Done(); sink.Add(tightLoop(&stop)) }()
	}
	defer func() { stop.Store(true); wg.Wait() }()

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
	sites, total, err := locateGoroutines(dump, map[int64]int64{18: 12, 19: 11, 20: 10})
	if err != nil {
		t.Fatal(err)
	}
	if total != 4 {
		t.Errorf("%d goroutines, want 4", total)
	}
	if len(sites) != 2 {
		t.Fatalf("sites = %+v, want 2", sites)
	}
	if s := sites[0]; s.Function != "main.crunchRows" || s.File != "/app/main.go" || s.Line != 49 || s.Goroutines != 2 || s.LongRuns != 23 {
		t.Errorf("first site = %+v", s)
	}
	if s := sites[1]; s.Function != "main.(*table).scan" || s.Line != 77 || s.Goroutines != 1 {
		t.Errorf("second site = %+v", s)
	}
}
