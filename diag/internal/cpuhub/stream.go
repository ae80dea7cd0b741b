package cpuhub

import (
	"context"
	"fmt"
	"slices"
	"time"
)

// StreamResult is one window of a Stream, or why there is none (ErrBusy
// when someone else held the profiler for the whole window).
type StreamResult struct {
	Window *Window
	Err    error
}

// stream is a consumer of back-to-back windows. The loop owns it: only the
// loop sends on out and closes it.
type stream struct {
	want  time.Duration
	out   chan StreamResult
	ended bool
}

// next is the stream's request for the window that starts at now.
func (st *stream) next(now time.Time) *request {
	return &request{stream: st, want: st.want, deadline: deadline(now, st.want)}
}

// offer hands a window to the consumer without waiting, and reports
// whether it could.
func (st *stream) offer(r result) bool {
	select {
	case st.out <- StreamResult{Window: r.window, Err: r.err}:
		return true
	default:
		return false
	}
}

func (st *stream) end() {
	if !st.ended {
		st.ended = true
		close(st.out)
	}
}

// endStream removes a stream's pending window and closes its channel.
func (s *loopState) endStream(st *stream) {
	if st.ended {
		return
	}
	before := len(s.reqs)
	s.reqs = slices.DeleteFunc(s.reqs, func(r *request) bool { return r.stream == st })
	if len(s.reqs) != before {
		s.streams--
	}
	st.end()
}

// Stream delivers back-to-back windows of d of CPU samples on the returned
// channel, until ctx is done or the hub closes; then the channel is closed
// and the window in progress is discarded. Consecutive windows are
// adjacent: each starts at the very cut where the previous one ended, so
// between them no sample is lost or counted twice, even while other
// consumers share the profiler (a consumer calling Profile in a loop waits
// up to MinSegment to join each time). The hub does not wait for the
// consumer: a window not received by the time the next one is ready is
// dropped and counted in Stats.StreamDropped. While a stream is open the
// profiler runs continuously.
func (h *Hub) Stream(ctx context.Context, d time.Duration) (<-chan StreamResult, error) {
	if d <= 0 {
		return nil, fmt.Errorf("cpuhub: duration %v is not positive", d)
	}
	st := &stream{want: d, out: make(chan StreamResult, 1)}
	select {
	case h.requests <- &request{stream: st, want: d}:
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-h.done:
		return nil, ErrClosed
	}
	go func() {
		select {
		case <-ctx.Done():
			select {
			case h.streamEnds <- st:
			case <-h.done: // the loop closed it at shutdown
			}
		case <-h.done:
		}
	}()
	return st.out, nil
}
