package cpuhub

import (
	"bytes"
	"fmt"
	"slices"
	"time"

	"github.com/google/pprof/profile"

	"github.com/diagkit/diagkit/diag/analysis"
)

// loop is the hub's only goroutine; all profiler state lives here.
type loopState struct {
	h         *Hub
	reqs      []*request
	running   bool
	segStart  time.Time
	buf       *bytes.Buffer
	busy      bool
	busyUntil time.Time
	backoff   time.Duration
	lastErr   error

	// Counters, published to Hub.stats as one snapshot by publish.
	segments, busyEvents, windows, streamDropped uint64
	streams                                      int
}

// publish makes the loop's state visible to Stats as one consistent
// snapshot. step calls it before sending results, so a consumer that has its
// window already sees the state that followed.
func (s *loopState) publish() {
	s.h.mu.Lock()
	defer s.h.mu.Unlock()
	s.h.stats = Stats{
		Profiling:  s.running,
		Busy:       s.busy,
		Waiting:    len(s.reqs),
		Segments:   s.segments,
		BusyEvents: s.busyEvents,
		Windows:    s.windows,
		Streams:    s.streams,

		StreamDropped: s.streamDropped,
	}
}

func (h *Hub) loop() {
	defer close(h.done)
	s := &loopState{h: h, backoff: h.opts.BusyRetry}
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		wait := s.nextWake(time.Now())
		timer.Reset(wait)
		select {
		case r := <-h.requests:
			r.deadline = deadline(time.Now(), r.want)
			s.reqs = append(s.reqs, r)
			if r.stream != nil {
				s.streams++
			}
		case r := <-h.cancels:
			s.reqs = slices.DeleteFunc(s.reqs, func(x *request) bool { return x == r })
		case st := <-h.streamEnds:
			s.endStream(st)
		case <-timer.C:
		case <-h.quit:
			s.shutdown()
			return
		}
		// Drain a timer that fired while we handled a message, so the next
		// Reset starts clean.
		if !timer.Stop() {
			select {
			case <-timer.C:
			default:
			}
		}
		s.step(time.Now())
	}
}

// nextWake is how long until something is due: a cut, a start, a deadline.
func (s *loopState) nextWake(now time.Time) time.Duration {
	next := now.Add(time.Hour)
	earlier := func(t time.Time) {
		if t.Before(next) {
			next = t
		}
	}
	if s.running {
		earliestCut := s.segStart.Add(s.h.opts.MinSegment)
		if len(s.reqs) == 0 {
			earlier(earliestCut) // the last consumer left: stop the profiler
		}
		for _, r := range s.reqs {
			if !r.inSeg {
				earlier(earliestCut)
				continue
			}
			due := s.segStart.Add(r.want - r.profiled)
			if r.deadline.Before(due) {
				due = r.deadline
			}
			if due.Before(earliestCut) {
				due = earliestCut
			}
			earlier(due)
		}
	} else if len(s.reqs) > 0 {
		earlier(s.busyUntil)
		for _, r := range s.reqs {
			earlier(r.deadline)
		}
	}
	if d := next.Sub(now); d > 0 {
		return d
	}
	return 0
}

// step does what is due at now: cut the running segment, hand out finished
// windows, start the next segment.
func (s *loopState) step(now time.Time) {
	var seg *segment
	if s.running && now.Sub(s.segStart) >= s.h.opts.MinSegment && s.cutDue(now) {
		seg = s.stopSegment(now)
		for _, r := range s.reqs {
			if r.inSeg {
				r.inSeg = false
				r.segs = append(r.segs, seg)
				r.profiled += seg.end.Sub(seg.start)
			}
		}
	}
	var finished []*request
	if !s.running {
		finished, s.reqs = partition(s.reqs, func(r *request) bool {
			return r.profiled >= r.want || !now.Before(r.deadline)
		})
		// A stream's next window joins the segment that starts at this very
		// cut, so consecutive windows are adjacent.
		for _, r := range finished {
			if r.stream != nil {
				s.reqs = append(s.reqs, r.stream.next(now))
			}
		}
		if len(s.reqs) > 0 && !now.Before(s.busyUntil) {
			s.startSegment(now)
		}
	}
	// Parse and merge only now, after the profiler restarted, so the work
	// does not widen the gap between segments.
	results := make([]result, len(finished))
	for i, r := range finished {
		results[i] = s.deliver(r)
	}
	s.publish()
	for i, r := range finished {
		switch {
		case r.stream == nil:
			r.result <- results[i]
		case !r.stream.offer(results[i]):
			s.streamDropped++ // published with the next step
		}
	}
}

// cutDue reports whether the running segment must end: a consumer waiting
// to join, one that has its duration, one past its deadline, or no consumer
// left.
func (s *loopState) cutDue(now time.Time) bool {
	if len(s.reqs) == 0 {
		return true // nobody is subscribed any more (cancelled requests, ended streams)
	}
	elapsed := now.Sub(s.segStart)
	for _, r := range s.reqs {
		if !r.inSeg || r.profiled+elapsed >= r.want || !now.Before(r.deadline) {
			return true
		}
	}
	return false
}

func (s *loopState) startSegment(now time.Time) {
	buf := new(bytes.Buffer)
	if err := s.h.opts.StartCPUProfile(buf); err != nil {
		s.busyUntil = now.Add(s.backoff)
		s.backoff = min(2*s.backoff, maxBusyRetry)
		s.lastErr = err
		if !s.busy {
			s.busy = true
			s.busyEvents++
			s.notifyBusy(err)
		}
		return
	}
	s.running, s.segStart, s.buf = true, time.Now(), buf
	s.backoff = s.h.opts.BusyRetry
	for _, r := range s.reqs {
		r.inSeg = true
	}
	if s.busy {
		s.busy = false
		s.notifyBusy(nil)
	}
}

func (s *loopState) stopSegment(now time.Time) *segment {
	s.h.opts.StopCPUProfile()
	seg := &segment{start: s.segStart, end: now, data: s.buf.Bytes()}
	s.running, s.buf = false, nil
	s.segments++
	return seg
}

func (s *loopState) notifyBusy(err error) {
	if s.h.opts.OnBusy == nil {
		return
	}
	defer func() { _ = recover() }() // a callback's panic must not stop the hub
	s.h.opts.OnBusy(err)
}

// deliver merges a finished request's segments into its window.
func (s *loopState) deliver(r *request) result {
	if len(r.segs) == 0 {
		err := ErrBusy
		if s.lastErr != nil {
			err = fmt.Errorf("%w (%v)", ErrBusy, s.lastErr)
		}
		return result{err: err}
	}
	profiles := make([]*profile.Profile, 0, len(r.segs))
	for _, seg := range r.segs {
		if seg.parsed == nil && seg.err == nil {
			seg.parsed, seg.err = analysis.Parse(seg.data)
			seg.data = nil
		}
		if seg.err != nil {
			return result{err: fmt.Errorf("cpuhub: segment profile: %w", seg.err)}
		}
		profiles = append(profiles, seg.parsed)
	}
	merged, err := merge(profiles)
	if err != nil {
		return result{err: fmt.Errorf("cpuhub: merging %d segments: %w", len(profiles), err)}
	}
	first, last := r.segs[0], r.segs[len(r.segs)-1]
	merged.TimeNanos = first.start.UnixNano()
	merged.DurationNanos = int64(r.profiled)
	s.windows++
	return result{window: &Window{
		Profile:  merged,
		Start:    first.start,
		End:      last.end,
		Profiled: r.profiled,
		Segments: len(r.segs),
	}}
}

// merge combines segments into a new profile that shares nothing with its
// inputs, which other consumers' windows are built from too, recovering from
// a panic in the merge.
func merge(profiles []*profile.Profile) (p *profile.Profile, err error) {
	defer func() {
		if r := recover(); r != nil {
			p, err = nil, fmt.Errorf("merge failed: %v", r)
		}
	}()
	if len(profiles) == 1 {
		return profiles[0].Copy(), nil
	}
	if p, err = profile.Merge(profiles); err != nil {
		return nil, err
	}
	// profile.Merge reuses its first input's *ValueType headers, and
	// Profile.Write mutates them while encoding: two windows written at once
	// would race.
	for i, st := range p.SampleType {
		c := *st
		p.SampleType[i] = &c
	}
	if p.PeriodType != nil {
		c := *p.PeriodType
		p.PeriodType = &c
	}
	return p, nil
}

func (s *loopState) shutdown() {
	if s.running {
		s.stopSegment(time.Now())
	}
	reqs := s.reqs
	s.reqs = nil
	s.streams = 0
	s.publish()
	for _, r := range reqs {
		if r.stream != nil {
			r.stream.end()
			continue
		}
		r.result <- result{err: ErrClosed}
	}
}

// partition splits reqs into those matching pred and the rest, keeping order.
func partition(reqs []*request, pred func(*request) bool) (yes, no []*request) {
	no = reqs[:0:0]
	for _, r := range reqs {
		if pred(r) {
			yes = append(yes, r)
		} else {
			no = append(no, r)
		}
	}
	return yes, no
}
