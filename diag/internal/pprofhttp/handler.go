package pprofhttp

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"
)

// CPUProfiler provides CPU profiles; the agent passes an adapter over its CPU
// profiler hub. It blocks for d, or until ctx is done, and returns a gzipped
// pprof CPU profile. When the CPU profiler is held by someone else it returns
// an error that wraps [ErrBusy].
type CPUProfiler func(ctx context.Context, d time.Duration) ([]byte, error)

// ErrBusy is what a [CPUProfiler] returns (possibly wrapped, see errors.Is)
// when the process's CPU profiler is held by someone else. The handler answers
// such a request with 503 Service Unavailable and a Retry-After header.
var ErrBusy = errors.New("the CPU profiler is held by another profiler in this process")

// DefaultMaxSeconds is the upper bound for the seconds parameter when
// Options.MaxSeconds is zero.
const DefaultMaxSeconds = 60

// Options configure [Handler].
type Options struct {
	// CPU provides the CPU profiles served at "profile". Required.
	CPU CPUProfiler
	// MaxSeconds is the upper bound for the seconds parameter of profile,
	// trace and delta profiles (DefaultMaxSeconds if zero or negative). A
	// larger value is a 400. When it is below profile's default of 30 s,
	// profile without seconds profiles for MaxSeconds.
	MaxSeconds int
	// Limiter, if set, bounds the expensive requests served at once (see
	// [Limiter]); nil limits nothing.
	Limiter *Limiter
	// CPULimiter, if set, bounds the profile requests apart from Limiter,
	// which then does not count them: concurrent CPU profiles from a
	// CPUProfiler that shares one profiler run cost far less than the
	// others. Nil leaves profile to Limiter.
	CPULimiter *Limiter
	// Done, once closed, ends every wait for seconds (profile, trace,
	// delta profiles): the agent closes it on Stop so that no request, and
	// no Limiter slot, outlives it. Once it is closed, those requests are
	// answered 503 at once. Nil never ends them.
	Done <-chan struct{}
}

const (
	// busyRetryAfter is the Retry-After, in seconds, of a 503 for a CPU
	// profiler or tracer held by someone else.
	busyRetryAfter = 30
	// maxSecondsLimit keeps seconds*time.Second from overflowing.
	maxSecondsLimit = math.MaxInt64 / int64(time.Second)
)

type handler struct {
	cpu        CPUProfiler
	maxSeconds int64
	limiter    *Limiter
	cpuLimiter *Limiter // nil: limiter
	done       <-chan struct{}
}

// Handler returns the http.Handler serving the pprof endpoints relative to
// wherever it is mounted: "" or "/" is the index, then "profile", "trace",
// "cmdline", "symbol" and every runtime/pprof profile by name. Mount it with
// http.StripPrefix, for example
//
//	mux.Handle("/debug/pprof/", http.StripPrefix("/debug/pprof", h))
//
// Handler panics if opts.CPU is nil.
func Handler(opts Options) http.Handler {
	if opts.CPU == nil {
		panic("pprofhttp: Options.CPU is nil")
	}
	maxSec := int64(opts.MaxSeconds)
	if maxSec <= 0 {
		maxSec = DefaultMaxSeconds
	}
	return &handler{
		cpu:        opts.CPU,
		maxSeconds: min(maxSec, maxSecondsLimit),
		limiter:    opts.Limiter,
		cpuLimiter: opts.CPULimiter,
		done:       opts.Done,
	}
}

// ServeHTTP dispatches on the path left after the mount prefix.
func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("X-Content-Type-Options", "nosniff")
	name := strings.TrimPrefix(r.URL.Path, "/")

	allow := "GET, HEAD"
	if name == "symbol" {
		allow = "GET, HEAD, POST"
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead &&
		!(name == "symbol" && r.Method == http.MethodPost) {
		w.Header().Set("Allow", allow)
		serveError(w, http.StatusMethodNotAllowed, fmt.Sprintf("Method %s not allowed; use %s", r.Method, allow))
		return
	}

	switch name {
	case "":
		if r.URL.Path == "" && redirectToSlash(w, r) {
			return
		}
		serveIndex(w, r)
	case "cmdline":
		serveCmdline(w)
	case "profile":
		h.serveCPU(w, r)
	case "trace":
		h.serveTrace(w, r)
	case "symbol":
		h.serveSymbol(w, r)
	default:
		h.serveNamed(w, r, name)
	}
}

// serveCmdline responds with the running program's command line, with
// arguments separated by NUL bytes.
func serveCmdline(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	fmt.Fprint(w, strings.Join(os.Args, "\x00"))
}

// serveError is the one way this package reports an error: plain text, the
// X-Go-Pprof header the pprof tool looks for, and no Content-Disposition left
// over from a binary response that was about to start.
func serveError(w http.ResponseWriter, status int, txt string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Go-Pprof", "1")
	w.Header().Del("Content-Disposition")
	w.WriteHeader(status)
	fmt.Fprintln(w, txt)
}

// serveBusy answers 503 with Retry-After for a profiler held by someone else.
func serveBusy(w http.ResponseWriter, txt string) {
	w.Header().Set("Retry-After", strconv.Itoa(busyRetryAfter))
	serveError(w, http.StatusServiceUnavailable, txt)
}

// serveContextDone reports a request whose context ended before the work was
// done. A cancelled request (the client went away) gets nothing; a deadline
// set by a middleware gets 408, as net/http/pprof answers.
func serveContextDone(w http.ResponseWriter, r *http.Request) {
	if errors.Is(r.Context().Err(), context.DeadlineExceeded) {
		serveError(w, http.StatusRequestTimeout, "Request deadline exceeded before the profile was complete")
	}
}

// errStopping is the cause of a wait ended by Options.Done.
var errStopping = errors.New("the diagkit agent is stopping")

// waitContext returns the request's context, also cancelled (with cause
// errStopping) when Options.Done is closed. Call cancel when the request is
// served.
func (h *handler) waitContext(r *http.Request) (ctx context.Context, cancel context.CancelFunc) {
	if h.done == nil {
		return r.Context(), func() {}
	}
	ctx, cancelCause := context.WithCancelCause(r.Context())
	go func() {
		select {
		case <-h.done:
			cancelCause(errStopping)
		case <-ctx.Done():
		}
	}()
	return ctx, func() { cancelCause(context.Canceled) }
}

// stopped reports whether Options.Done is closed.
func (h *handler) stopped() bool {
	if h.done == nil {
		return false
	}
	select {
	case <-h.done:
		return true
	default:
		return false
	}
}

// refuseStopped answers 503 to a request that would wait for seconds once
// Options.Done is closed, and reports whether it did: nothing is left to
// serve it (the agent stopped its profiler).
func (h *handler) refuseStopped(w http.ResponseWriter) bool {
	if !h.stopped() {
		return false
	}
	serveError(w, http.StatusServiceUnavailable, "Could not complete the request: "+errStopping.Error())
	return true
}

// acquire takes a slot of the Limiter that bounds ep's requests (see
// Limiter.acquire).
func (h *handler) acquire(w http.ResponseWriter, ep endpoint) (release func()) {
	if ep == epCPU && h.cpuLimiter != nil {
		return h.cpuLimiter.acquire(w, "profile")
	}
	kinds := "profile, trace, delta profiles, symbol POST"
	if h.cpuLimiter != nil {
		kinds = "trace, delta profiles, symbol POST"
	}
	return h.limiter.acquire(w, kinds)
}

// serveStopping reports a wait ended by Options.Done; it returns false when
// that is not what ended it.
func serveStopping(ctx context.Context, w http.ResponseWriter) bool {
	if !errors.Is(context.Cause(ctx), errStopping) {
		return false
	}
	serveError(w, http.StatusServiceUnavailable, "Could not complete the request: "+errStopping.Error())
	return true
}

// sleep waits for d or until ctx is done.
func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

// configureWriteDeadline extends the server's WriteTimeout, if it has one, by
// the time the request will spend collecting, so a long profile is not cut
// off. Without a WriteTimeout it sets a deadline of d plus fallback, when
// fallback is positive. net/http resets the deadline after the request.
func configureWriteDeadline(w http.ResponseWriter, r *http.Request, d, fallback time.Duration) {
	extra := fallback
	if srv, ok := r.Context().Value(http.ServerContextKey).(*http.Server); ok && srv.WriteTimeout > 0 {
		extra = srv.WriteTimeout
	}
	if extra <= 0 {
		return
	}
	rc := http.NewResponseController(w)
	_ = rc.SetWriteDeadline(time.Now().Add(d + extra)) // unsupported by some writers; nothing to do then
}
