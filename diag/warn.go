package diag

import (
	"slices"
	"time"

	"go.uber.org/zap"

	"github.com/diagkit/diagkit/diag/api"
)

// warner keeps one episode per kind with hysteresis: a window that raises a
// kind starts or continues its episode, a window that cannot judge it
// changes nothing, and only resolveAfter consecutive clean windows end it.
// While an episode lasts, its warning is logged at most once per cooldown;
// a flap (fewer clean windows than resolveAfter) neither ends the episode
// nor resets the cooldown.
type warner struct {
	log          *zap.Logger
	cooldown     time.Duration
	resolveAfter int
	episodes     map[string]*episode
	emitted      uint64 // warnings logged
	recovered    uint64
	raised       map[string]uint64 // warnings raised (logged or not), by kind
	logged       map[string]uint64 // warnings logged, by kind
}

// episode is one lasting problem of one kind.
type episode struct {
	lastLog time.Time
	clean   int // consecutive clean windows
}

func newWarner(log *zap.Logger, cooldown time.Duration, resolveAfter int) *warner {
	return &warner{log: log, cooldown: cooldown, resolveAfter: max(resolveAfter, 1), episodes: map[string]*episode{},
		raised: map[string]uint64{}, logged: map[string]uint64{}}
}

// observe logs the window's warnings (setting their Logged field), advances
// the episodes by one window and records in wr which kinds are active after
// it. unjudged are the kinds the window could not judge.
func (w *warner) observe(wr *api.WindowReport, now time.Time) {
	seen := map[string]bool{}
	for i := range wr.Warnings {
		warn := &wr.Warnings[i]
		seen[warn.Kind] = true
		w.raised[warn.Kind]++
		ep := w.episodes[warn.Kind]
		if ep == nil {
			ep = &episode{}
			w.episodes[warn.Kind] = ep
		}
		ep.clean = 0
		if !ep.lastLog.IsZero() && now.Sub(ep.lastLog) < w.cooldown {
			continue
		}
		ep.lastLog = now
		warn.Logged = true
		w.emitted++
		w.logged[warn.Kind]++
		cause := ""
		if len(warn.Causes) > 0 {
			cause = warn.Causes[0]
		}
		fields := []zap.Field{
			zap.String("kind", warn.Kind),
			zap.Float64("value", warn.Value),
			zap.Float64("threshold", warn.Threshold),
			zap.String("lead_cause", warn.LeadCause),
			zap.String("likely_cause", cause),
			zap.Strings("causes", warn.Causes),
			zap.Strings("functions", warn.Functions),
		}
		if warn.FunctionsFrom != "" {
			fields = append(fields, zap.String("functions_from", warn.FunctionsFrom))
		}
		fields = append(fields,
			zap.Time("window_start", wr.Start),
			zap.Time("window_end", wr.End),
			zap.Uint64("window", wr.Seq),
			zap.Duration("cooldown", w.cooldown),
		)
		w.log.Warn(message(warn.Kind), fields...)
	}
	for _, kind := range episodeKinds(w.episodes) {
		ep := w.episodes[kind]
		if seen[kind] || slices.Contains(wr.Unjudged, kind) {
			continue
		}
		ep.clean++
		if ep.clean < w.resolveAfter {
			continue
		}
		delete(w.episodes, kind)
		w.recovered++
		w.log.Info("diagkit: "+kind+" back under its threshold",
			zap.String("kind", kind),
			zap.Int("clean_windows", ep.clean),
			zap.Time("window_start", wr.Start),
			zap.Time("window_end", wr.End),
			zap.Uint64("window", wr.Seq),
		)
	}
	wr.Active = episodeKinds(w.episodes)
}

// episodeKinds lists the episodes' kinds in api.WarningKinds order, unknown
// kinds last.
func episodeKinds(eps map[string]*episode) []string {
	out := make([]string, 0, len(eps))
	for _, k := range api.WarningKinds {
		if _, ok := eps[k]; ok {
			out = append(out, k)
		}
	}
	var rest []string
	for k := range eps {
		if !slices.Contains(api.WarningKinds, k) {
			rest = append(rest, k)
		}
	}
	slices.Sort(rest)
	return append(out, rest...)
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
	case api.WarnThrottling:
		return "diagkit: CPU throttled by the cgroup quota"
	case api.WarnContention:
		return "diagkit: threads waiting for a CPU (CPU contention)"
	}
	return "diagkit: " + kind + " above threshold"
}
