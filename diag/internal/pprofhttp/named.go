package pprofhttp

import (
	"fmt"
	"io"
	"mime"
	"net/http"
	"runtime"
	"runtime/pprof"
	"strings"
)

// serveNamed responds with the runtime/pprof profile name: binary, text with
// debug=N, or a delta over seconds=N, like net/http/pprof.Handler(name).
func (h *handler) serveNamed(w http.ResponseWriter, r *http.Request, name string) {
	prof := pprof.Lookup(name)
	if prof == nil {
		txt := "Unknown profile"
		if strings.Contains(name, "/") {
			txt += " (is the handler mounted with http.StripPrefix?)"
		}
		serveError(w, http.StatusNotFound, txt)
		return
	}
	p, err := parseParams(r.URL.Query(), epNamed, h.maxSeconds)
	if err != nil {
		serveError(w, http.StatusBadRequest, err.Error())
		return
	}
	if p.dur > 0 {
		h.serveDelta(w, r, prof, p)
		return
	}

	if name == "heap" && p.gc {
		runtime.GC()
	}
	if p.debug != 0 {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	} else {
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Header().Set("Content-Disposition", attachment(name))
	}
	cw := &countingWriter{w: w}
	if err := prof.WriteTo(cw, p.debug); err != nil && cw.n == 0 {
		// Nothing sent yet, so the status can still say so.
		serveError(w, http.StatusInternalServerError, fmt.Sprintf("Could not write profile: %v", err))
	}
}

// attachment is the Content-Disposition of a binary profile, quoted safely
// whatever the name of a custom profile holds.
func attachment(filename string) string {
	if safeFilename(filename) {
		return `attachment; filename="` + filename + `"` // as net/http/pprof writes it
	}
	if v := mime.FormatMediaType("attachment", map[string]string{"filename": filename}); v != "" {
		return v
	}
	return "attachment"
}

// countingWriter counts the bytes written through it.
type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// safeFilename reports whether name needs no quoting or encoding in a header.
func safeFilename(name string) bool {
	if name == "" {
		return false
	}
	for _, c := range name {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}
