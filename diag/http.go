package diag

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	stdlog "log"
	"net/http"
	"strconv"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/diagkit/diagkit/diag/internal/cpuhub"
	"github.com/diagkit/diagkit/diag/internal/pprofhttp"
	"github.com/diagkit/diagkit/diag/internal/procstat"
)

// Paths the agent serves, relative to where Handler is mounted.
const (
	PathPprof   = "/debug/pprof/"
	PathReport  = "/debug/diag/report"
	PathHistory = "/debug/diag/history"
	PathStatus  = "/debug/diag/status"
	// PathMetrics serves the diagkit_* Prometheus metrics (metrics.go).
	PathMetrics = "/debug/diag/metrics"
)

// maxHistoryQuery bounds ?n= on the history endpoint.
const maxHistoryQuery = MaxHistory

func (a *Agent) newHandler() http.Handler {
	mux := http.NewServeMux()
	// The limit lives in pprofhttp, which alone knows which requests wait
	// for seconds (that takes parsing each endpoint's parameters); its 429
	// goes through pprofhttp's one error path, like every pprof error.
	a.limiter = pprofhttp.NewLimiter(a.cfg.MaxConcurrentProfiles)
	// CPU profiles are bounded apart: concurrent ones share one profiler
	// run, which is what the hub is for, so many can be served at once.
	a.cpuLim = pprofhttp.NewCPULimiter(a.cfg.MaxConcurrentCPUProfiles)
	pprofHandler := http.StripPrefix("/debug/pprof", pprofhttp.Handler(pprofhttp.Options{
		CPU:        a.cpuProfile,
		MaxSeconds: a.cfg.MaxProfileSeconds,
		Limiter:    a.limiter,
		CPULimiter: a.cpuLim,
		Done:       a.stopped,
	}))
	mux.Handle(PathPprof, pprofHandler)
	// /debug/pprof itself too: pprofhttp redirects it to the index with a
	// relative Location; ServeMux's own redirect is absolute and would drop
	// the prefix the handler may be mounted under.
	mux.Handle(strings.TrimSuffix(PathPprof, "/"), pprofHandler)
	mux.HandleFunc(PathReport, a.serveReport)
	mux.HandleFunc(PathHistory, a.serveHistory)
	mux.HandleFunc(PathStatus, a.serveStatus)
	mux.HandleFunc(PathDoctor, a.serveDoctor)
	mux.HandleFunc(PathEvidence, a.serveEvidence)
	mux.HandleFunc(PathEvidenceTrace, a.serveEvidenceTrace)
	mux.Handle(PathMetrics, a.metricsHandler())
	a.mountDashboard(mux) // PathDashboard (dashboard.go)
	var h http.Handler = cleanPaths(mux)
	if a.cfg.Token != "" {
		h = requireToken(a.cfg.Token, h)
	}
	return h
}

// cpuProfile serves /debug/pprof/profile through the hub. A scrape (Grafana
// Alloy, Parca, a person) of at least minScrapedWindow also feeds the
// analysis, so the agent need not profile on its own while someone scrapes.
func (a *Agent) cpuProfile(ctx context.Context, d time.Duration) ([]byte, error) {
	before := procstat.Take()
	w, err := a.hub.Profile(ctx, d)
	switch {
	case errors.Is(err, cpuhub.ErrBusy):
		return nil, fmt.Errorf("%w: %v", pprofhttp.ErrBusy, err)
	case err != nil:
		return nil, err
	}
	if w.Profiled >= minScrapedWindow {
		a.analyzeScraped(w, before, procstat.Take())
	}
	var buf bytes.Buffer
	if err := w.Profile.Write(&buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// writeTimeoutSlack is how long past MaxProfileSeconds a response may take
// to write; failure_test.go shortens it to see a stuck client cut off.
var writeTimeoutSlack = 30 * time.Second

func newServer(h http.Handler, cfg Config, log *zap.Logger) *http.Server {
	return &http.Server{
		Handler:           h,
		ErrorLog:          serverErrorLog(log),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		// The longest response is a profile or trace of MaxProfileSeconds.
		WriteTimeout: time.Duration(cfg.MaxProfileSeconds)*time.Second + writeTimeoutSlack,
		IdleTimeout:  2 * time.Minute,
		// Every endpoint is a GET but symbol's POST, whose body pprofhttp
		// bounds; the headers are bounded here (net/http's default is 1 MB).
		MaxHeaderBytes: 64 << 10,
	}
}

// serverErrorLog sends net/http's own errors to the agent's logger, not to
// the standard logger of the process the agent runs in. TLS handshake
// failures (scanners, plain HTTP on the HTTPS port, clients without the CA)
// are noise anyone can cause: debug level. The rest (a handler's panic,
// accept errors) are warnings.
func serverErrorLog(log *zap.Logger) *stdlog.Logger {
	return stdlog.New(serverLogWriter{log.Named("http")}, "", 0)
}

type serverLogWriter struct{ log *zap.Logger }

func (w serverLogWriter) Write(p []byte) (int, error) {
	msg := strings.TrimSpace(string(p))
	if strings.HasPrefix(msg, "http: TLS handshake error") {
		w.log.Debug(msg)
	} else {
		w.log.Warn(msg)
	}
	return len(p), nil
}

// requireToken checks "Authorization: Bearer <token>" in constant time; on
// the dashboard's paths, HTTP Basic credentials whose password is the token
// too (dashboard.go).
func requireToken(token string, next http.Handler) http.Handler {
	want := []byte(token)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !bearerToken(r.Header.Get("Authorization"), want) {
			switch basicToken(r, token) {
			case basicOK:
			case basicCrossSite:
				serveError(w, http.StatusForbidden, "browser credentials on a request another site caused: refused")
				return
			default:
				unauthorized(w, r)
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// bearerToken reports whether an Authorization header carries the bearer
// token want. The scheme is case-insensitive, as RFC 7235 has it ("bearer",
// "BEARER"), and one or more spaces follow it; the token is compared in
// constant time.
func bearerToken(header string, want []byte) bool {
	scheme, cred, _ := strings.Cut(header, " ")
	isBearer := strings.EqualFold(scheme, "Bearer")
	match := equalSecret(strings.TrimLeft(cred, " "), want) // whatever the scheme, to take the same time
	return isBearer && match
}

// equalSecret compares a secret in time that depends on neither its content
// nor its length: both sides are hashed first, since ConstantTimeCompare
// returns at once on a length mismatch.
func equalSecret(got string, want []byte) bool {
	g, w := sha256.Sum256([]byte(got)), sha256.Sum256(want)
	return subtle.ConstantTimeCompare(g[:], w[:]) == 1
}

// serveReport serves the latest window report. Mounted at PathReport.
func (a *Agent) serveReport(w http.ResponseWriter, r *http.Request) {
	if !allowGet(w, r) {
		return
	}
	latest := a.Latest()
	if latest == nil {
		w.Header().Set("Retry-After", strconv.Itoa(int(a.cfg.Window.Seconds())+1))
		serveError(w, http.StatusServiceUnavailable,
			fmt.Sprintf("no window analyzed yet: the first completes about %v after the agent starts", a.cfg.Window))
		return
	}
	serveJSON(w, latest)
}

// parseHistoryN parses the history endpoint's ?n=: empty means all.
func parseHistoryN(s string) (int, error) {
	if s == "" {
		return 0, nil
	}
	v, err := strconv.Atoi(s)
	if err != nil || v < 1 || v > maxHistoryQuery {
		return 0, fmt.Errorf("n=%q: want a whole number from 1 to %d", s, maxHistoryQuery)
	}
	return v, nil
}

// Status is what PathStatus serves: the agent's configuration and counters.
// diagctl uses it to tell a diagkit agent from a plain pprof server.
type Status struct {
	Agent           string    `json:"agent"`
	Started         time.Time `json:"started"`
	WindowSeconds   float64   `json:"window_seconds"`
	IntervalSeconds float64   `json:"interval_seconds"`
	Windows         uint64    `json:"windows"`
	Failures        uint64    `json:"failures"`
	WarningsLogged  uint64    `json:"warnings_logged"`
	Profiling       bool      `json:"profiling"`
	ProfilerBusy    bool      `json:"profiler_busy"`
	BusyEvents      uint64    `json:"profiler_busy_events"`
	// ScrapedWindows counts /debug/pprof/profile windows the agent analyzed
	// too; SkippedWindows counts periodic windows it did not take because a
	// scrape had just covered them.
	ScrapedWindows uint64 `json:"scraped_windows"`
	SkippedWindows uint64 `json:"skipped_windows"`
	// Push backend (Pyroscope) counters; zero when none is configured.
	PushSent    uint64 `json:"push_sent"`
	PushErrors  uint64 `json:"push_errors"`
	PushDropped uint64 `json:"push_dropped"`
	// ProfilesInFlight is how many expensive pprof requests (trace, delta
	// profiles, symbol POST) are being served; ProfilesRejected counts
	// those answered 429 (MaxConcurrentProfiles).
	ProfilesInFlight int    `json:"profiles_in_flight"`
	ProfilesRejected uint64 `json:"profiles_rejected"`
	// CPUProfilesInFlight and CPUProfilesRejected count the same for
	// /debug/pprof/profile (MaxConcurrentCPUProfiles).
	CPUProfilesInFlight int    `json:"cpu_profiles_in_flight"`
	CPUProfilesRejected uint64 `json:"cpu_profiles_rejected"`
}

func (a *Agent) serveDoctor(w http.ResponseWriter, r *http.Request) {
	if !allowGet(w, r) {
		return
	}
	serveJSON(w, a.Doctor())
}

func (a *Agent) serveStatus(w http.ResponseWriter, r *http.Request) {
	if !allowGet(w, r) {
		return
	}
	serveJSON(w, a.Status())
}

// Status returns the agent's configuration and counters.
func (a *Agent) Status() Status {
	hs := a.hub.Stats()
	ps := a.push.stats() // zero when push is off
	a.mu.Lock()
	defer a.mu.Unlock()
	return Status{
		Agent:            "diagkit",
		Started:          a.started,
		WindowSeconds:    a.cfg.Window.Seconds(),
		IntervalSeconds:  a.cfg.Interval.Seconds(),
		Windows:          a.seq,
		Failures:         a.failures,
		WarningsLogged:   a.warner.emitted,
		Profiling:        hs.Profiling,
		ProfilerBusy:     hs.Busy,
		BusyEvents:       hs.BusyEvents,
		ScrapedWindows:   a.scraped,
		SkippedWindows:   a.skipped,
		PushSent:         ps.Sent,
		PushErrors:       ps.Errors,
		PushDropped:      ps.Dropped,
		ProfilesInFlight: a.limiter.InFlight(),
		ProfilesRejected: a.limiter.Rejected(),

		CPUProfilesInFlight: a.cpuLim.InFlight(),
		CPUProfilesRejected: a.cpuLim.Rejected(),
	}
}

func allowGet(w http.ResponseWriter, r *http.Request) bool {
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		return true
	}
	w.Header().Set("Allow", "GET, HEAD")
	serveError(w, http.StatusMethodNotAllowed, "method not allowed")
	return false
}

func serveJSON(w http.ResponseWriter, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		serveError(w, http.StatusInternalServerError, "encoding the report: "+err.Error())
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(buf.Bytes())
}

// serveError is the one error path of the agent's own endpoints.
func serveError(w http.ResponseWriter, status int, text string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Del("Content-Disposition")
	w.WriteHeader(status)
	fmt.Fprintln(w, text)
}
