package tracesum

import (
	"bytes"
	"io"
	"runtime/pprof"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/exp/trace"
)

// cutAtAsyncPreempt reads a trace's events, cutting every goroutine stack
// that has runtime.asyncPreempt after that frame: the shape Go 1.26 was seen
// to record for an async preemption (runtime.asyncPreempt2 ←
// runtime.asyncPreempt, the interrupted function missing), which this
// machine's Go may not reproduce (go1.26.8 linux/amd64 records the
// interrupted function). The events are otherwise the recorded ones.
type cutAtAsyncPreempt struct {
	r   *trace.Reader
	cut int
}

func (c *cutAtAsyncPreempt) ReadEvent() (trace.Event, error) {
	ev, err := c.r.ReadEvent()
	if err != nil || ev.Kind() != trace.EventStateTransition {
		return ev, err
	}
	st := ev.StateTransition()
	if st.Resource.Kind != trace.ResourceGoroutine || st.Stack == trace.NoStack {
		return ev, nil
	}
	frames := slices.Collect(st.Stack.Frames())
	i := slices.IndexFunc(frames, func(f trace.StackFrame) bool { return f.Func == "runtime.asyncPreempt" })
	if i < 0 || i == len(frames)-1 {
		return ev, nil
	}
	st.Stack = trace.MakeStack(frames[:i+1])
	c.cut++
	return trace.MakeEvent(trace.EventConfig[trace.StateTransition]{
		Kind: ev.Kind(), Time: ev.Time(), Goroutine: ev.Goroutine(), Proc: ev.Proc(), Thread: ev.Thread(),
		Stack: st.Stack, Details: st,
	})
}

// summarizeCut summarizes a recorded trace with its async preemptions'
// stacks cut (cutAtAsyncPreempt).
func summarizeCut(t *testing.T, data []byte) *Summary {
	t.Helper()
	ver, ok := parseHeader(data)
	if !ok {
		t.Fatal("no trace header")
	}
	tr, err := trace.NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	c := &cutAtAsyncPreempt{r: tr}
	s, err := summarizeEvents(ver, c, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if c.cut == 0 {
		t.Fatal("no stack with runtime.asyncPreempt to cut")
	}
	checkInvariants(t, s)
	return s
}

// asyncRuns returns the runs of this package's goroutines (started before
// the trace, if GoroutineFunction is unknown: any) that an async preemption
// ended.
func asyncRuns(runs []Run) []Run {
	var out []Run
	for _, r := range runs {
		if r.Ended == "preempted (async)" && (r.GoroutineFunction == "" || strings.HasPrefix(r.GoroutineFunction, thisPkg)) {
			out = append(out, r)
		}
	}
	return out
}

// TestAsyncPreemptWhere: 8 goroutines in call-free loops on 2 Ps, their
// async preemptions' stacks ending at runtime.asyncPreempt. The trace does
// not say where the loops were stopped; a run's location stays empty, and
// Inferred says what the trace does know: the goroutine's start function,
// from its creation event.
func TestAsyncPreemptWhere(t *testing.T) {
	rec := record(t, 2, func() { spinFor(8, time.Second, spinLoop) })

	// As recorded here: the interrupted function is on the stack, and is
	// the run's location.
	for _, r := range asyncRuns(rec.s.LongestRuns) {
		if r.Function != thisPkg+"spinLoop" || r.Inferred != nil {
			t.Errorf("run %+v: want it located in spinLoop, nothing inferred", r)
		}
	}

	s := summarizeCut(t, rec.data)
	if s.Preemptions.Async < 8 {
		t.Errorf("%d async preemptions of 8 loops over a second", s.Preemptions.Async)
	}
	runs := asyncRuns(s.LongestRuns)
	if len(runs) == 0 {
		t.Fatalf("longest runs %+v: none of the loops, ended by an async preemption", s.LongestRuns)
	}
	for _, r := range runs {
		if r.Function != "" || r.File != "" || r.Line != 0 {
			t.Errorf("run %+v: a location the cut stack does not have", r)
		}
		in := r.Inferred
		if in == nil || in.Started == nil {
			t.Errorf("run %+v: nothing inferred, want the goroutine's start", r)
			continue
		}
		if in.Started.Function != thisPkg+"spinFor.func1" || !strings.HasSuffix(in.Started.File, "workload_test.go") || in.Started.Line == 0 {
			t.Errorf("run inferred %+v: want spinFor.func1 at workload_test.go:NN, where the loops' goroutines start", *in.Started)
		}
		if r.GoroutineFunction != in.Started.Function {
			t.Errorf("goroutine_function %q, inferred start %q", r.GoroutineFunction, in.Started.Function)
		}
	}
}

// TestAsyncPreemptWhereLastSeen: the same loops, started before the trace
// (as a diagkit agent's trace of a running program finds them), with the CPU
// profiler running, as the agent does: the trace has no creation event, but
// its CPU samples show each goroutine in spinLoop.
func TestAsyncPreemptWhereLastSeen(t *testing.T) {
	var stop atomic.Bool
	done := make(chan struct{})
	const n = 8
	for range n {
		go func() {
			sink.Add(spinLoop(&stop))
			done <- struct{}{}
		}()
	}
	defer func() {
		stop.Store(true)
		for range n {
			<-done
		}
	}()
	rec := record(t, 2, func() {
		if err := pprof.StartCPUProfile(io.Discard); err != nil {
			t.Skipf("cannot start a CPU profile: %v", err)
		}
		time.Sleep(time.Second)
		pprof.StopCPUProfile()
	})
	s := summarizeCut(t, rec.data)
	runs := asyncRuns(s.LongestRuns)
	if len(runs) == 0 {
		t.Fatalf("longest runs %+v: none of the loops, ended by an async preemption", s.LongestRuns)
	}
	seen := 0
	for _, r := range runs {
		if r.Function != "" {
			t.Errorf("run %+v: a location the cut stack does not have", r)
		}
		if r.Inferred == nil || r.Inferred.LastSeen == nil {
			// A run that ended before the goroutine's first CPU sample.
			continue
		}
		seen++
		if last := r.Inferred.LastSeen; last.Function != thisPkg+"spinLoop" || !strings.HasSuffix(last.File, "workload_test.go") {
			t.Errorf("run %+v: last seen in %+v, want spinLoop", r, *last)
		}
	}
	// 8 goroutines sampled 100 times a second on 2 CPUs: each seen some 25
	// times; the longest runs, spread over the second, after their first.
	if seen < len(runs)/2 {
		t.Errorf("%d of %d runs with a CPU sample of their goroutine before: want most", seen, len(runs))
	}
}
