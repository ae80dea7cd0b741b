package pprofhttp

import (
	"fmt"
	"net/http"
	"strconv"
	"sync/atomic"
)

// limitRetryAfter is the Retry-After, in seconds, of a 429 for a request
// beyond the Limiter's bound.
const limitRetryAfter = 5

// Limiter bounds the expensive requests a [Handler] serves at once: those
// that wait for seconds (profile, trace, delta profiles) and symbol's POST,
// or with [Options.CPULimiter] all of them but profile, which that one
// bounds.
// One beyond the bound is answered at once with 429 Too Many Requests and
// Retry-After, never queued. Cheap requests (the index, snapshots, cmdline,
// symbol's GET) are not counted. A slot is held until the handler returns,
// which it does when the request's context ends (the client went away) or
// Options.Done is closed. Create one with [NewLimiter]; it is safe for
// concurrent use and may be shared by several handlers.
type Limiter struct {
	slots    chan struct{}
	rejected atomic.Uint64
	what     string // the requests it bounds, for the 429's text
}

// NewLimiter returns a Limiter of n concurrent requests; n < 1 means 1.
func NewLimiter(n int) *Limiter {
	return &Limiter{slots: make(chan struct{}, max(n, 1)), what: "profile requests"}
}

// NewCPULimiter returns a Limiter of n concurrent CPU profile requests, for
// [Options.CPULimiter]; n < 1 means 1.
func NewCPULimiter(n int) *Limiter {
	return &Limiter{slots: make(chan struct{}, max(n, 1)), what: "CPU profile requests"}
}

// InFlight returns how many limited requests are being served.
func (l *Limiter) InFlight() int { return len(l.slots) }

// Rejected returns how many requests were answered 429.
func (l *Limiter) Rejected() uint64 { return l.rejected.Load() }

// acquire takes a slot and returns its release, or answers 429 and returns
// nil. A nil Limiter limits nothing. kinds lists what l bounds in this
// handler, for the 429's text.
func (l *Limiter) acquire(w http.ResponseWriter, kinds string) (release func()) {
	if l == nil {
		return func() {}
	}
	select {
	case l.slots <- struct{}{}:
		return func() { <-l.slots }
	default:
	}
	l.rejected.Add(1)
	w.Header().Set("Retry-After", strconv.Itoa(limitRetryAfter))
	serveError(w, http.StatusTooManyRequests, fmt.Sprintf(
		"Too many %s: at most %d at once (%s). Try again later.", l.what, cap(l.slots), kinds))
	return nil
}
