// Package cpuhub owns the process's CPU profiler and shares it.
//
// A Go process has one CPU profiler: a second runtime/pprof.StartCPUProfile
// fails with "cpu profiling already in use". The Hub is the only caller of
// StartCPUProfile in diagkit. Consumers (the periodic analysis,
// /debug/pprof/profile requests, a push backend) ask it for a duration of CPU
// samples, or for a stream of back-to-back windows (Stream); it profiles
// while anyone needs it and hands each consumer exactly the samples of its
// own range.
//
// It does so by profiling in segments and cutting a segment (Stop, then Start
// at once) whenever a consumer joins or has what it asked for. A consumer's
// profile is the merge of the whole segments it took part in, so it holds
// exactly the samples taken while it was subscribed. Cuts are at least
// MinSegment apart, so a burst of consumers shares a few cuts; each cut loses
// the few milliseconds runtime/pprof needs to build a profile, and a consumer
// keeps collecting until it has the profiled time it asked for, so the
// duration its profile states is what was really sampled.
package cpuhub

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"runtime/pprof"
	"sync"
	"time"

	"github.com/google/pprof/profile"
)

// Errors from Profile.
var (
	// ErrBusy: something outside the hub held the CPU profiler for the whole
	// request.
	ErrBusy = errors.New("cpu profiler busy: another profiler in this process holds it")
	// ErrClosed: the hub was closed before the request completed.
	ErrClosed = errors.New("cpu profiler hub stopped")
)

// Defaults for Options.
const (
	DefaultMinSegment = 100 * time.Millisecond
	DefaultBusyRetry  = time.Second
	maxBusyRetry      = 30 * time.Second
)

// Options configure a Hub. The zero value is ready to use.
type Options struct {
	// MinSegment is the shortest time between two cuts (default
	// DefaultMinSegment). A consumer that arrives sooner waits for it.
	MinSegment time.Duration
	// BusyRetry is how soon the hub tries again after StartCPUProfile failed
	// because someone else holds the profiler (default DefaultBusyRetry,
	// doubling up to 30 s while it stays busy).
	BusyRetry time.Duration
	// OnBusy, if set, is called when the profiler becomes busy (err is
	// StartCPUProfile's error) and when it is free again (err nil): once per
	// change, never per retry. It runs on the hub's goroutine and must not
	// block.
	OnBusy func(err error)

	// Test seams: runtime/pprof's StartCPUProfile and StopCPUProfile.
	StartCPUProfile func(io.Writer) error
	StopCPUProfile  func()
}

// Window is the CPU profile of one consumer's range.
type Window struct {
	// Profile holds the samples of the range, merged from its segments. Its
	// DurationNanos is Profiled, TimeNanos is Start. The consumer owns it.
	Profile *profile.Profile
	// Start and End bound the range in wall-clock time.
	Start, End time.Time
	// Profiled is the time the profiler was on within the range: End-Start
	// minus the cuts' gaps and any time the profiler was busy.
	Profiled time.Duration
	// Segments is how many segments were merged.
	Segments int
}

// Stats are the hub's counters since it started.
type Stats struct {
	Profiling  bool   // the CPU profiler is running for the hub now
	Busy       bool   // the last StartCPUProfile failed: someone else holds it
	Waiting    int    // consumers currently waiting
	Segments   uint64 // segments profiled
	BusyEvents uint64 // times the profiler became busy
	Windows    uint64 // windows delivered
	Streams    int    // streams open now (Stream)
	// StreamDropped counts stream windows dropped because the consumer had
	// not received the previous one when the next was ready.
	StreamDropped uint64
}

// Hub shares the CPU profiler. Create it with New; Close stops it.
type Hub struct {
	opts       Options
	requests   chan *request
	cancels    chan *request
	streamEnds chan *stream
	quit       chan struct{}
	done       chan struct{}
	close      sync.Once

	mu    sync.Mutex
	stats Stats
}

type request struct {
	stream   *stream // set for a Stream's current window
	want     time.Duration
	deadline time.Time
	inSeg    bool // subscribed to the running segment
	profiled time.Duration
	segs     []*segment
	result   chan result
}

type result struct {
	window *Window
	err    error
}

type segment struct {
	start, end time.Time
	data       []byte
	parsed     *profile.Profile
	err        error
}

// New starts a hub. It does not profile until someone asks.
func New(opts Options) *Hub {
	if opts.MinSegment <= 0 {
		opts.MinSegment = DefaultMinSegment
	}
	if opts.BusyRetry <= 0 {
		opts.BusyRetry = DefaultBusyRetry
	}
	if opts.StartCPUProfile == nil {
		opts.StartCPUProfile = pprof.StartCPUProfile
	}
	if opts.StopCPUProfile == nil {
		opts.StopCPUProfile = pprof.StopCPUProfile
	}
	h := &Hub{
		opts:       opts,
		requests:   make(chan *request),
		cancels:    make(chan *request),
		streamEnds: make(chan *stream),
		quit:       make(chan struct{}),
		done:       make(chan struct{}),
	}
	go h.loop()
	return h
}

// Profile collects d of CPU samples, starting now. It blocks until it has
// them, ctx is done (ctx.Err()), or the hub closes (ErrClosed). When someone
// else held the profiler for part of the range, the window covers what could
// be sampled before a deadline of d plus a grace period; for all of it,
// ErrBusy.
func (h *Hub) Profile(ctx context.Context, d time.Duration) (*Window, error) {
	if d <= 0 {
		return nil, fmt.Errorf("cpuhub: duration %v is not positive", d)
	}
	r := &request{want: d, result: make(chan result, 1)}
	select {
	case h.requests <- r:
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-h.done:
		return nil, ErrClosed
	}
	select {
	case res := <-r.result:
		return res.window, res.err
	case <-ctx.Done():
		select {
		case h.cancels <- r:
		case <-h.done:
		}
		return nil, ctx.Err()
	}
}

// Stats returns the hub's counters.
func (h *Hub) Stats() Stats {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.stats
}

// Close stops profiling, fails waiting consumers with ErrClosed and returns
// when the hub's goroutine has exited. It is safe to call more than once.
func (h *Hub) Close() {
	h.close.Do(func() { close(h.quit) })
	<-h.done
}

// grace is how long past its duration a request may wait for samples when
// the profiler is busy or cuts fell behind.
func grace(d time.Duration) time.Duration { return d/4 + time.Second }

// deadline is when a request of d made at now gives up: d plus its grace,
// saturated, so that a duration near the limit of time.Duration does not
// overflow into a deadline in the past (a request failed at once as busy).
func deadline(now time.Time, d time.Duration) time.Time {
	total := d + grace(d)
	if total < d {
		total = math.MaxInt64
	}
	return now.Add(total)
}
