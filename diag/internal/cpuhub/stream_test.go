package cpuhub

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

func segIndex(t *testing.T, name string) int {
	t.Helper()
	n, err := strconv.Atoi(strings.TrimPrefix(name, "seg"))
	if err != nil {
		t.Fatalf("segment name %q", name)
	}
	return n
}

// A stream's windows are adjacent: window i+1 starts with the segment right
// after window i's last one, even while one-shot consumers come and go and
// force extra cuts; each covers what it asked for.
func TestStreamWindowsAreAdjacent(t *testing.T) {
	f := &fakeProfiler{}
	h := f.hub(Options{MinSegment: 20 * time.Millisecond})
	defer h.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ch, err := h.Stream(ctx, 100*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	others, stopOthers := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // one-shot consumers arriving at odd times
		defer wg.Done()
		for i := 0; others.Err() == nil; i++ {
			_, _ = h.Profile(others, time.Duration(30+i%5*17)*time.Millisecond)
			time.Sleep(time.Duration(i%3*11) * time.Millisecond)
		}
	}()
	var windows []*Window
	for len(windows) < 8 {
		select {
		case res, ok := <-ch:
			if !ok {
				t.Fatal("stream closed early")
			}
			if res.Err != nil {
				t.Fatal(res.Err)
			}
			windows = append(windows, res.Window)
		case <-time.After(5 * time.Second):
			t.Fatal("no window within 5 s")
		}
	}
	stopOthers()
	wg.Wait()
	multi := 0
	for i, w := range windows {
		names := segmentNames(w.Profile)
		if w.Profiled < 100*time.Millisecond || w.Profile.DurationNanos != int64(w.Profiled) {
			t.Errorf("window %d: profiled %v", i, w.Profiled)
		}
		first, last := segIndex(t, names[0]), segIndex(t, names[len(names)-1])
		if last-first+1 != len(names) {
			t.Errorf("window %d: segments %v not consecutive", i, names)
		}
		if len(names) > 1 {
			multi++
		}
		if i > 0 {
			prev := segmentNames(windows[i-1].Profile)
			if p := segIndex(t, prev[len(prev)-1]); first != p+1 {
				t.Errorf("window %d starts with segment %d, the previous one ended with %d", i, first, p)
			}
		}
	}
	if multi == 0 {
		t.Error("no window spans several segments: the one-shot consumers forced no cuts")
	}
	if st := h.Stats(); st.Streams != 1 || st.StreamDropped != 0 {
		t.Errorf("stats %+v", st)
	}
}

func TestStreamEndsWithItsContextAndWithTheHub(t *testing.T) {
	f := &fakeProfiler{}
	h := f.hub(Options{MinSegment: 10 * time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	ch, err := h.Stream(ctx, 30*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	<-ch
	cancel()
	drainClosed(t, ch)
	deadline := time.Now().Add(2 * time.Second)
	for st := h.Stats(); st.Streams != 0 || st.Profiling; st = h.Stats() {
		if time.Now().After(deadline) {
			t.Fatalf("after the stream ended: %+v", st)
		}
		time.Sleep(5 * time.Millisecond)
	}

	ch2, err := h.Stream(context.Background(), 30*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	h.Close()
	drainClosed(t, ch2)
	if _, err := h.Stream(context.Background(), time.Second); !errors.Is(err, ErrClosed) {
		t.Errorf("Stream after Close: %v", err)
	}
}

func drainClosed(t *testing.T, ch <-chan StreamResult) {
	t.Helper()
	timeout := time.After(2 * time.Second)
	for {
		select {
		case _, ok := <-ch:
			if !ok {
				return
			}
		case <-timeout:
			t.Fatal("stream channel not closed")
		}
	}
}

// The hub never waits for a stream's consumer: windows it does not take
// are dropped and counted, and other consumers are served meanwhile.
func TestStreamDoesNotWaitForItsConsumer(t *testing.T) {
	f := &fakeProfiler{}
	h := f.hub(Options{MinSegment: 10 * time.Millisecond})
	defer h.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if _, err := h.Stream(ctx, 20*time.Millisecond); err != nil { // never read
		t.Fatal(err)
	}
	start := time.Now()
	if _, err := h.Profile(context.Background(), 150*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("a one-shot request took %v next to a stuck stream", d)
	}
	if st := h.Stats(); st.StreamDropped == 0 {
		t.Errorf("stats %+v: want dropped stream windows", st)
	}
}
