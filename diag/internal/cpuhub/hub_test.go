package cpuhub

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime/pprof"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/pprof/profile"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// fakeProfiler stands in for runtime/pprof: each segment's profile has one
// sample whose function names the segment, so a test can tell exactly which
// segments a window merged.
type fakeProfiler struct {
	mu       sync.Mutex
	w        io.Writer
	n        int
	segments []fakeSegment
	failNext int // StartCPUProfile fails this many more times
}

type fakeSegment struct {
	name       string
	start, end time.Time
}

func (f *fakeProfiler) start(w io.Writer) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.failNext > 0 {
		f.failNext--
		return errors.New("cpu profiling already in use")
	}
	if f.w != nil {
		panic("StartCPUProfile while running")
	}
	f.w = w
	f.n++
	f.segments = append(f.segments, fakeSegment{name: fmt.Sprintf("seg%03d", f.n), start: time.Now()})
	return nil
}

func (f *fakeProfiler) stop() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.w == nil {
		return
	}
	seg := &f.segments[len(f.segments)-1]
	seg.end = time.Now()
	fn := &profile.Function{ID: 1, Name: seg.name}
	loc := &profile.Location{ID: 1, Line: []profile.Line{{Function: fn}}}
	p := &profile.Profile{
		SampleType:    []*profile.ValueType{{Type: "samples", Unit: "count"}, {Type: "cpu", Unit: "nanoseconds"}},
		PeriodType:    &profile.ValueType{Type: "cpu", Unit: "nanoseconds"},
		Period:        10_000_000,
		Function:      []*profile.Function{fn},
		Location:      []*profile.Location{loc},
		Sample:        []*profile.Sample{{Location: []*profile.Location{loc}, Value: []int64{1, 10_000_000}}},
		DurationNanos: seg.end.Sub(seg.start).Nanoseconds(),
	}
	if err := p.Write(f.w); err != nil {
		panic(err)
	}
	f.w = nil
}

func (f *fakeProfiler) hub(opts Options) *Hub {
	opts.StartCPUProfile, opts.StopCPUProfile = f.start, f.stop
	return New(opts)
}

func segmentNames(p *profile.Profile) []string {
	var names []string
	for _, s := range p.Sample {
		names = append(names, s.Location[0].Line[0].Function.Name)
	}
	sort.Strings(names)
	return names
}

// Each consumer gets exactly the segments profiled while it was subscribed:
// consecutive ones, none started before it asked, none ended after it got its
// window, covering at least what it asked for.
func TestWindowsHoldExactlyTheirSegments(t *testing.T) {
	f := &fakeProfiler{}
	h := f.hub(Options{MinSegment: 20 * time.Millisecond})
	defer h.Close()

	type outcome struct {
		asked, got time.Time
		want       time.Duration
		w          *Window
		err        error
	}
	wants := []time.Duration{300, 120, 500, 60, 250, 400, 90, 200}
	out := make([]outcome, len(wants))
	var wg sync.WaitGroup
	for i, ms := range wants {
		wg.Add(1)
		go func() {
			defer wg.Done()
			time.Sleep(time.Duration(i*37) * time.Millisecond) // staggered arrivals
			o := outcome{asked: time.Now(), want: ms * time.Millisecond}
			o.w, o.err = h.Profile(context.Background(), o.want)
			o.got = time.Now()
			out[i] = o
		}()
	}
	wg.Wait()

	f.mu.Lock()
	segs := append([]fakeSegment(nil), f.segments...)
	f.mu.Unlock()
	index := map[string]int{}
	for i, s := range segs {
		index[s.name] = i
	}
	for i, o := range out {
		if o.err != nil {
			t.Fatalf("consumer %d: %v", i, o.err)
		}
		names := segmentNames(o.w.Profile)
		if len(names) != o.w.Segments || len(names) == 0 {
			t.Fatalf("consumer %d: %d samples for %d segments", i, len(names), o.w.Segments)
		}
		first, last := index[names[0]], index[names[len(names)-1]]
		if last-first+1 != len(names) {
			t.Errorf("consumer %d: segments %v are not consecutive", i, names)
		}
		if segs[first].start.Before(o.asked) {
			t.Errorf("consumer %d: got %s, which started %v before it asked", i, names[0], o.asked.Sub(segs[first].start))
		}
		if segs[last].end.After(o.got) {
			t.Errorf("consumer %d: got %s, which ended after the window was delivered", i, names[len(names)-1])
		}
		var profiled time.Duration
		for _, s := range segs[first : last+1] {
			profiled += s.end.Sub(s.start)
		}
		if o.w.Profiled < o.want || profiled < o.want {
			t.Errorf("consumer %d: profiled %v (segments %v), asked %v", i, o.w.Profiled, profiled, o.want)
		}
		if o.w.Profile.DurationNanos != int64(o.w.Profiled) {
			t.Errorf("consumer %d: DurationNanos %d, Profiled %v", i, o.w.Profile.DurationNanos, o.w.Profiled)
		}
	}
	// The burst shares cuts: far fewer segments than two per consumer.
	if n := len(segs); n >= 2*len(wants) {
		t.Errorf("%d segments for %d consumers: cuts are not shared", n, len(wants))
	}
	t.Logf("%d consumers, %d segments", len(wants), len(segs))
}

func TestCutsRespectMinSegment(t *testing.T) {
	f := &fakeProfiler{}
	h := f.hub(Options{MinSegment: 80 * time.Millisecond})
	defer h.Close()
	var wg sync.WaitGroup
	for i := range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			time.Sleep(time.Duration(i*10) * time.Millisecond)
			if _, err := h.Profile(context.Background(), 30*time.Millisecond); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, s := range f.segments {
		if d := s.end.Sub(s.start); d < 80*time.Millisecond {
			t.Errorf("%s lasted %v, shorter than MinSegment", s.name, d)
		}
	}
}

func TestBusyIsReportedOnceAndRecovers(t *testing.T) {
	f := &fakeProfiler{failNext: 3}
	var events []string
	var mu sync.Mutex
	h := f.hub(Options{BusyRetry: 30 * time.Millisecond, OnBusy: func(err error) {
		mu.Lock()
		defer mu.Unlock()
		events = append(events, fmt.Sprint(err))
	}})
	defer h.Close()
	// Start fails at 0, 30, 90 ms; succeeds at 210 ms.
	w, err := h.Profile(context.Background(), 100*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	if w.Profiled < 100*time.Millisecond {
		t.Errorf("profiled %v after recovering, want 100ms", w.Profiled)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(events) != 2 || !strings.Contains(events[0], "already in use") || events[1] != "<nil>" {
		t.Errorf("OnBusy events = %q, want one busy and one recovery", events)
	}
	if st := h.Stats(); st.BusyEvents != 1 || st.Busy {
		t.Errorf("stats = %+v, want 1 busy event and not busy now", st)
	}
}

func TestBusyForTheWholeRequestIsErrBusy(t *testing.T) {
	f := &fakeProfiler{failNext: 1 << 30}
	h := f.hub(Options{BusyRetry: 50 * time.Millisecond})
	defer h.Close()
	start := time.Now()
	_, err := h.Profile(context.Background(), 100*time.Millisecond)
	if !errors.Is(err, ErrBusy) || !strings.Contains(err.Error(), "already in use") {
		t.Fatalf("err = %v, want ErrBusy with the cause", err)
	}
	if waited := time.Since(start); waited > 100*time.Millisecond+grace(100*time.Millisecond)+500*time.Millisecond {
		t.Errorf("waited %v for a busy profiler", waited)
	}
}

func TestCancelLeavesOthersRunning(t *testing.T) {
	f := &fakeProfiler{}
	h := f.hub(Options{MinSegment: 10 * time.Millisecond})
	defer h.Close()
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		_, err := h.Profile(ctx, time.Hour)
		errc <- err
	}()
	time.Sleep(50 * time.Millisecond)
	cancel()
	select {
	case err := <-errc:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("err = %v, want context.Canceled", err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("cancelled request did not return")
	}
	if _, err := h.Profile(context.Background(), 50*time.Millisecond); err != nil {
		t.Errorf("next request: %v", err)
	}
	// With nobody waiting the profiler stops.
	deadline := time.Now().Add(2 * time.Second)
	for h.Stats().Profiling && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if st := h.Stats(); st.Profiling || st.Waiting != 0 {
		t.Errorf("stats = %+v, want idle", st)
	}
}

func TestCloseEndsInFlightRequests(t *testing.T) {
	f := &fakeProfiler{}
	h := f.hub(Options{})
	errc := make(chan error, 5)
	for range 5 {
		go func() {
			_, err := h.Profile(context.Background(), time.Hour)
			errc <- err
		}()
	}
	time.Sleep(50 * time.Millisecond)
	h.Close()
	h.Close() // idempotent
	for range 5 {
		select {
		case err := <-errc:
			if !errors.Is(err, ErrClosed) {
				t.Errorf("err = %v, want ErrClosed", err)
			}
		case <-time.After(2 * time.Second):
			t.Fatal("request outlived Close")
		}
	}
	if _, err := h.Profile(context.Background(), time.Second); !errors.Is(err, ErrClosed) {
		t.Errorf("after Close: err = %v, want ErrClosed", err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.w != nil {
		t.Error("profiler still running after Close")
	}
}

func TestOnBusyPanicDoesNotStopTheHub(t *testing.T) {
	f := &fakeProfiler{failNext: 1}
	h := f.hub(Options{BusyRetry: 10 * time.Millisecond, OnBusy: func(error) { panic("consumer bug") }})
	defer h.Close()
	if _, err := h.Profile(context.Background(), 50*time.Millisecond); err != nil {
		t.Fatal(err)
	}
}

// With the real runtime profiler: concurrent consumers of different lengths
// all get CPU profiles covering at least 95 % of what they asked for, and the
// profiler is free again afterwards.
func TestRealProfilerConcurrentConsumers(t *testing.T) {
	h := New(Options{})
	defer h.Close()
	stop := make(chan struct{})
	var burned atomic.Uint64
	go func() { // something to sample
		for {
			select {
			case <-stop:
				return
			default:
				x := burned.Load()
				for i := range 100_000 {
					x += uint64(i) * x
				}
				burned.Store(x)
			}
		}
	}()
	defer close(stop)

	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			want := time.Duration(200+100*i) * time.Millisecond
			w, err := h.Profile(context.Background(), want)
			if err != nil {
				t.Errorf("%v request: %v", want, err)
				return
			}
			if got := time.Duration(w.Profile.DurationNanos); got < want*95/100 {
				t.Errorf("%v request: profile covers %v", want, got)
			}
			if st := w.Profile.SampleType; len(st) != 2 || st[1].Type != "cpu" {
				t.Errorf("%v request: sample types %v", want, st)
			}
		}()
	}
	wg.Wait()
	// The hub let go of the profiler: runtime/pprof accepts a new profile.
	deadline := time.Now().Add(2 * time.Second)
	for {
		err := pprof.StartCPUProfile(io.Discard)
		if err == nil {
			pprof.StopCPUProfile()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("profiler still held after all consumers finished: %v", err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestRealProfilerHeldByOthers(t *testing.T) {
	if err := pprof.StartCPUProfile(io.Discard); err != nil {
		t.Skipf("profiler in use: %v", err)
	}
	h := New(Options{BusyRetry: 50 * time.Millisecond})
	defer h.Close()
	_, err := h.Profile(context.Background(), 100*time.Millisecond)
	pprof.StopCPUProfile()
	if !errors.Is(err, ErrBusy) {
		t.Fatalf("err = %v, want ErrBusy", err)
	}
	if _, err := h.Profile(context.Background(), 100*time.Millisecond); err != nil {
		t.Fatalf("after the other profiler stopped: %v", err)
	}
}

// Windows built from the same segments are independent: consumers may write
// them concurrently (profile.Merge alone would share their headers).
func TestWindowsShareNothing(t *testing.T) {
	f := &fakeProfiler{}
	h := f.hub(Options{MinSegment: 20 * time.Millisecond})
	defer h.Close()
	var windows [4]*Window
	var wg sync.WaitGroup
	for i := range windows {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w, err := h.Profile(context.Background(), 150*time.Millisecond)
			if err != nil {
				t.Error(err)
				return
			}
			windows[i] = w
		}()
	}
	wg.Wait()
	multi := 0
	for _, w := range windows {
		if w != nil && w.Segments > 1 {
			multi++
		}
	}
	if multi == 0 {
		t.Fatal("no window merged several segments; the test needs merges")
	}
	for _, w := range windows {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 20 {
				if err := w.Profile.Write(io.Discard); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
}

// When its only consumer goes away, the hub stops profiling: a cancelled
// request must not leave the CPU profiler running for nobody.
func TestProfilerStopsWhenTheOnlyConsumerCancels(t *testing.T) {
	f := &fakeProfiler{}
	h := f.hub(Options{MinSegment: 20 * time.Millisecond})
	defer h.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		h.Profile(ctx, time.Hour)
	}()
	deadline := time.Now().Add(2 * time.Second)
	for !h.Stats().Profiling && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	<-done
	for h.Stats().Profiling && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	f.mu.Lock()
	running := f.w != nil
	f.mu.Unlock()
	if st := h.Stats(); st.Profiling || running {
		t.Errorf("profiler still running with no consumer: stats %+v, fake running %v", st, running)
	}
}

// A duration near the limit of time.Duration must not overflow into a
// deadline in the past, which failed the request at once as busy.
func TestDeadlineDoesNotOverflow(t *testing.T) {
	now := time.Now()
	for _, d := range []time.Duration{time.Second, time.Hour, 2562047 * time.Hour, 1<<63 - 1} {
		if dl := deadline(now, d); !dl.After(now.Add(d - 1)) {
			t.Errorf("deadline(now, %v) = now%+v, want after now+%v", d, dl.Sub(now), d)
		}
	}
}
