package diag

import (
	"fmt"
	"strings"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/diagkit/diagkit/diag/internal/pyropush"
)

// pushReporter logs the push's failures and drops, at most once per
// `every` each, and a recovery once the server answers again.
type pushReporter struct {
	log       *zap.Logger
	every     time.Duration
	queueSize int
	totals    func() (errors, dropped uint64)

	mu           sync.Mutex
	lastFailure  time.Time
	suppressed   uint64 // failures not logged since the last line
	failing      bool
	lastRecovery time.Time
	lastDrop     time.Time
	lastSession  time.Time
	labelsLogged bool
}

// labels runs on the sender's goroutine when a profile's sample labels were
// rewritten or dropped. It logs once per push, never per profile: the
// counts are in the push's stats.
func (r *pushReporter) labels(st pyropush.SampleLabelStats) {
	r.mu.Lock()
	logged := r.labelsLogged
	r.labelsLogged = true
	r.mu.Unlock()
	if logged {
		return
	}
	r.log.Warn("pprof sample labels Pyroscope would refuse were renamed or dropped before upload (logged once)",
		zap.Int("renamed", st.Renamed), zap.Int("dropped", st.Dropped),
		zap.String("rule", "letters, digits and _; no leading digit; dots become _; not a series label; at most 30 labels"))
}

func (r *pushReporter) failure(err error, status int) {
	r.mu.Lock()
	r.failing = true
	now := time.Now()
	if !r.lastFailure.IsZero() && now.Sub(r.lastFailure) < r.every {
		r.suppressed++
		r.mu.Unlock()
		return
	}
	suppressed := r.suppressed
	r.lastFailure, r.suppressed = now, 0
	r.mu.Unlock()

	errs, dropped := r.totals()
	fields := []zap.Field{
		zap.String("error", shortenPushError(err.Error())),
		zap.Uint64("errors", errs),
		zap.Uint64("dropped", dropped),
		zap.Uint64("suppressed", suppressed),
		zap.Duration("next_report_after", r.every),
	}
	if status != 0 {
		fields = append(fields, zap.Int("status", status))
	}
	r.log.Error("pushing profiles to Pyroscope failed; retrying with backoff (5xx, 429, no answer) or dropping the profile (other 4xx)", fields...)
}

func (r *pushReporter) success() {
	r.mu.Lock()
	if !r.failing {
		r.mu.Unlock()
		return
	}
	r.failing = false
	now := time.Now()
	if !r.lastRecovery.IsZero() && now.Sub(r.lastRecovery) < r.every {
		r.mu.Unlock()
		return
	}
	r.lastRecovery = now
	r.mu.Unlock()
	errs, dropped := r.totals()
	r.log.Info("pushing profiles to Pyroscope works again", zap.Uint64("errors", errs), zap.Uint64("dropped", dropped))
}

// dropped runs on the producer's goroutine when the queue dropped a profile.
func (r *pushReporter) dropped(total uint64) {
	if !r.due(&r.lastDrop) {
		return
	}
	r.log.Warn("Pyroscope upload queue full: dropping the oldest profiles",
		zap.Uint64("dropped", total), zap.Int("queue_size", r.queueSize))
}

// sessionError logs an error of pyroscope-go's session or of the CPU
// consumer, rate-limited.
func (r *pushReporter) sessionError(msg string) {
	if !r.due(&r.lastSession) {
		return
	}
	r.log.Warn("Pyroscope profile collection failed", zap.String("error", shortenPushError(msg)))
}

// due reports whether a line rate-limited by *last may be logged now, and
// if so records it.
func (r *pushReporter) due(last *time.Time) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := time.Now()
	if !last.IsZero() && now.Sub(*last) < r.every {
		return false
	}
	*last = now
	return true
}

// shortenPushError drops the query string of the URL pyroscope-go quotes
// in its errors (the ingest name with every tag), redacts the user info of
// any URL and bounds the length.
func shortenPushError(msg string) string {
	msg = pyropush.RedactURLs(msg)
	if i := strings.Index(msg, "?"); i >= 0 {
		if j := strings.IndexByte(msg[i:], '"'); j > 0 {
			msg = msg[:i] + msg[i+j:]
		}
	}
	if len(msg) > 512 {
		msg = strings.ToValidUTF8(msg[:512], "") + "…"
	}
	return msg
}

// sessionLog adapts zap to pyroscope-go's Logger: its startup banner goes
// to debug, its errors to the rate-limited reporter.
type sessionLog struct {
	log    *zap.Logger
	report *pushReporter
}

func (l *sessionLog) Infof(format string, args ...any) {
	if ce := l.log.Check(zap.DebugLevel, ""); ce != nil {
		ce.Message = "pyroscope-go: " + fmt.Sprintf(format, args...)
		ce.Write()
	}
}
func (l *sessionLog) Debugf(string, ...any) {}
func (l *sessionLog) Errorf(format string, args ...any) {
	l.report.sessionError("pyroscope-go: " + fmt.Sprintf(format, args...))
}
