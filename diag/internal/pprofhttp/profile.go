package pprofhttp

import (
	"errors"
	"fmt"
	"net/http"
)

// serveCPU responds with a pprof CPU profile from the CPUProfiler, covering
// seconds (default 30). It stands for net/http/pprof.Profile, which would call
// runtime/pprof.StartCPUProfile itself.
func (h *handler) serveCPU(w http.ResponseWriter, r *http.Request) {
	p, err := parseParams(r.URL.Query(), epCPU, h.maxSeconds)
	if err != nil {
		serveError(w, http.StatusBadRequest, err.Error())
		return
	}
	if h.refuseStopped(w) {
		return
	}
	release := h.acquire(w, epCPU)
	if release == nil {
		return
	}
	defer release()
	configureWriteDeadline(w, r, p.dur, 0)

	ctx, cancel := h.waitContext(r)
	defer cancel()
	data, err := h.cpu(ctx, p.dur)
	if r.Context().Err() != nil {
		serveContextDone(w, r)
		return
	}
	if ctx.Err() != nil && serveStopping(ctx, w) {
		return
	}
	if err != nil && h.refuseStopped(w) {
		// The profiler stopped under the request (or before its context
		// saw Done): the same 503 as a wait cut short.
		return
	}
	switch {
	case errors.Is(err, ErrBusy):
		serveBusy(w, fmt.Sprintf("Could not collect a CPU profile: %v. Try again later.", err))
		return
	case err != nil:
		serveError(w, http.StatusInternalServerError, fmt.Sprintf("Could not collect a CPU profile: %v", err))
		return
	case len(data) == 0:
		serveError(w, http.StatusInternalServerError, "Could not collect a CPU profile: the profiler returned no data")
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Disposition", `attachment; filename="profile"`)
	w.Write(data)
}
