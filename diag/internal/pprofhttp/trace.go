package pprofhttp

import (
	"fmt"
	"net/http"
	"runtime/trace"
	"time"
)

// traceWriteGrace bounds, past the trace's duration, how long a client that
// stops reading can keep trace.Stop waiting (and so the tracer on), when the
// server has no WriteTimeout of its own.
const traceWriteGrace = time.Minute

// serveTrace responds with a runtime/trace execution trace of seconds
// (default 1), streamed as the runtime produces it, like net/http/pprof.Trace.
func (h *handler) serveTrace(w http.ResponseWriter, r *http.Request) {
	p, err := parseParams(r.URL.Query(), epTrace, h.maxSeconds)
	if err != nil {
		serveError(w, http.StatusBadRequest, err.Error())
		return
	}
	if h.refuseStopped(w) {
		return
	}
	release := h.acquire(w, epTrace)
	if release == nil {
		return
	}
	defer release()
	configureWriteDeadline(w, r, p.dur, traceWriteGrace)

	// Set the headers assuming trace.Start works, because once it does it
	// starts writing from its own goroutine.
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Disposition", `attachment; filename="trace"`)
	if err := trace.Start(w); err != nil {
		// trace.Start fails only when an execution trace is already running
		// (another request, or the service's own runtime/trace.Start); it
		// wrote nothing.
		serveBusy(w, fmt.Sprintf("Could not enable tracing: %v. Another execution trace is running in this process; try again later.", err))
		return
	}
	ctx, cancel := h.waitContext(r)
	defer cancel()
	sleep(ctx, p.dur) // Options.Done cuts the trace short; what was traced is sent
	trace.Stop()      // returns after the last write to w
}
