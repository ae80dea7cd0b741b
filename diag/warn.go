package diag

import (
	"time"

	"go.uber.org/zap"

	"github.com/diagkit/diagkit/diag/api"
)

// warner logs warnings with a cooldown per kind, and an info line when a
// kind that was warned about is no longer crossed.
type warner struct {
	log       *zap.Logger
	cooldown  time.Duration
	lastLog   map[string]time.Time
	active    map[string]bool
	emitted   uint64 // warnings logged
	recovered uint64
	raised    map[string]uint64 // warnings raised (logged or not), by kind
	logged    map[string]uint64 // warnings logged, by kind
}

func newWarner(log *zap.Logger, cooldown time.Duration) *warner {
	return &warner{log: log, cooldown: cooldown, lastLog: map[string]time.Time{}, active: map[string]bool{},
		raised: map[string]uint64{}, logged: map[string]uint64{}}
}

// observe logs the window's warnings (setting their Logged field) and the
// recoveries since the previous window.
func (w *warner) observe(wr *api.WindowReport, now time.Time) {
	seen := map[string]bool{}
	for i := range wr.Warnings {
		warn := &wr.Warnings[i]
		seen[warn.Kind] = true
		w.active[warn.Kind] = true
		w.raised[warn.Kind]++
		if last, ok := w.lastLog[warn.Kind]; ok && now.Sub(last) < w.cooldown {
			continue
		}
		w.lastLog[warn.Kind] = now
		warn.Logged = true
		w.emitted++
		w.logged[warn.Kind]++
		cause := ""
		if len(warn.Causes) > 0 {
			cause = warn.Causes[0]
		}
		w.log.Warn(message(warn.Kind),
			zap.String("kind", warn.Kind),
			zap.Float64("value", warn.Value),
			zap.Float64("threshold", warn.Threshold),
			zap.String("likely_cause", cause),
			zap.Strings("causes", warn.Causes),
			zap.Strings("functions", warn.Functions),
			zap.Time("window_start", wr.Start),
			zap.Time("window_end", wr.End),
			zap.Uint64("window", wr.Seq),
			zap.Duration("cooldown", w.cooldown),
		)
	}
	for kind := range w.active {
		if seen[kind] {
			continue
		}
		delete(w.active, kind)
		delete(w.lastLog, kind)
		w.recovered++
		w.log.Info("diagkit: "+kind+" back under its threshold",
			zap.String("kind", kind),
			zap.Time("window_start", wr.Start),
			zap.Time("window_end", wr.End),
			zap.Uint64("window", wr.Seq),
		)
	}
}

func message(kind string) string {
	switch kind {
	case api.WarnAsyncPreempt:
		return "diagkit: async preemption share above threshold"
	case api.WarnCgoShare:
		return "diagkit: cgo share above threshold"
	case api.WarnCgoCallRate:
		return "diagkit: cgo call rate above threshold"
	case api.WarnSchedLatency:
		return "diagkit: scheduling latency p99 above threshold"
	}
	return "diagkit: " + kind + " above threshold"
}
