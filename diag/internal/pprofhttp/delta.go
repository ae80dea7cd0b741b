package pprofhttp

import (
	"bytes"
	"fmt"
	"net/http"
	"runtime"
	"runtime/pprof"
	"time"

	"github.com/google/pprof/profile"
)

// profileSupportsDelta lists the profiles whose seconds=N is a delta, as in
// net/http/pprof: the difference of two snapshots taken N seconds apart. For
// goroutine and threadcreate that shows what appeared meanwhile (a leak).
var profileSupportsDelta = map[string]bool{
	"allocs":        true,
	"block":         true,
	"goroutine":     true,
	"goroutineleak": true,
	"heap":          true,
	"mutex":         true,
	"threadcreate":  true,
}

// serveDelta responds with prof at the end of p.dur minus prof at its start:
// a proto profile of what was recorded in between. With gc on heap, each
// snapshot follows a garbage collection.
func (h *handler) serveDelta(w http.ResponseWriter, r *http.Request, prof *pprof.Profile, p params) {
	name := prof.Name()
	if !profileSupportsDelta[name] {
		serveError(w, http.StatusBadRequest, `"seconds" parameter is not supported for this profile type`)
		return
	}
	if h.refuseStopped(w) {
		return
	}
	release := h.acquire(w, epNamed)
	if release == nil {
		return
	}
	defer release()
	configureWriteDeadline(w, r, p.dur, 0)
	gc := p.gc && name == "heap"

	p0, err := collectProfile(prof, gc)
	if err != nil {
		serveError(w, http.StatusInternalServerError, fmt.Sprintf("Failed to collect profile: %v", err))
		return
	}
	ctx, cancel := h.waitContext(r)
	defer cancel()
	sleep(ctx, p.dur)
	if r.Context().Err() != nil {
		serveContextDone(w, r)
		return
	}
	if ctx.Err() != nil && serveStopping(ctx, w) {
		return
	}
	p1, err := collectProfile(prof, gc)
	if err != nil {
		serveError(w, http.StatusInternalServerError, fmt.Sprintf("Failed to collect profile: %v", err))
		return
	}

	ts := p1.TimeNanos
	dur := p1.TimeNanos - p0.TimeNanos
	p0.Scale(-1)
	// Merge adds the negated start to the end and drops the samples that
	// come out zero: what did not change.
	delta, err := profile.Merge([]*profile.Profile{p0, p1})
	if err != nil {
		serveError(w, http.StatusInternalServerError, fmt.Sprintf("Failed to compute delta: %v", err))
		return
	}
	delta.TimeNanos = ts // Merge keeps the earliest; the delta is as of the end
	delta.DurationNanos = dur

	var buf bytes.Buffer
	if err := delta.Write(&buf); err != nil {
		serveError(w, http.StatusInternalServerError, fmt.Sprintf("Failed to encode delta: %v", err))
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Disposition", attachment(name+"-delta"))
	w.Write(buf.Bytes())
}

// collectProfile takes a snapshot of prof, after a garbage collection if gc.
func collectProfile(prof *pprof.Profile, gc bool) (*profile.Profile, error) {
	if gc {
		runtime.GC()
	}
	var buf bytes.Buffer
	if err := prof.WriteTo(&buf, 0); err != nil {
		return nil, err
	}
	ts := time.Now().UnixNano()
	p, err := profile.Parse(&buf)
	if err != nil {
		return nil, err
	}
	p.TimeNanos = ts
	return p, nil
}
