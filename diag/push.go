package diag

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/grafana/pyroscope-go"
	"github.com/grafana/pyroscope-go/upstream"
	"github.com/grafana/pyroscope-go/upstream/remote"
	"go.uber.org/zap"

	"github.com/diagkit/diagkit/diag/internal/cpuhub"
	"github.com/diagkit/diagkit/diag/internal/pyropush"
)

// The push is split by idea: push_config.go (PyroscopeConfig, its defaults
// and validation, the labels from the build info), push_env.go (its
// environment setters), push.go (the pusher) and push_report.go (its
// rate-limited log lines).

// pusher pushes the hub's CPU windows and pyroscope-go's other profiles to
// Pyroscope. Producers (the CPU consumer, pyroscope-go's session) only
// append to a bounded queue; one sender goroutine does the network.
type pusher struct {
	cfg     PyroscopeConfig
	log     *zap.Logger
	hub     *cpuhub.Hub
	queue   *pyropush.Queue
	sender  *pyropush.Sender
	session *pyroscope.Session // nil without non-CPU types
	report  *pushReporter
	cpu     bool
	cpuName string // the ingest name of the CPU windows

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	stop1  sync.Once

	windows   atomic.Uint64 // CPU windows queued
	cpuErrors atomic.Uint64 // CPU windows that could not be taken
}

// pushMaxAge is how old a profile may get in the queue before it is dropped
// instead of sent: the server refuses profiles older than its ingestion
// window (1 h by default), less a minute for clock skew. Tests shorten it.
var pushMaxAge = pyropush.ServerIngestionWindow - time.Minute

// pushStats are the push's counters.
type pushStats struct {
	Sent, Errors, Dropped uint64
	Windows               uint64 // CPU windows queued
	Queue                 pyropush.QueueStats
	Sender                pyropush.SenderStats // retries, rejections, stale drops, sample labels
}

// newPusher prepares the push, or returns nil when no server is configured.
// It starts no goroutine.
func newPusher(cfg PyroscopeConfig, hub *cpuhub.Hub, log *zap.Logger) (*pusher, error) {
	if cfg.ServerAddress == "" {
		return nil, nil
	}
	log = log.Named("pyroscope")
	p := &pusher{cfg: cfg, log: log, hub: hub}
	p.report = &pushReporter{log: log, every: pushLogEvery, queueSize: cfg.QueueSize}
	p.queue = pyropush.NewQueue(cfg.QueueSize, p.report.dropped)

	tags := defaultTags()
	for k, v := range cfg.Tags {
		tags[k] = v
	}
	var others []pyroscope.ProfileType
	for _, t := range cfg.ProfileTypes {
		if t == pyroscope.ProfileCPU {
			p.cpu = true
		} else {
			others = append(others, t)
		}
	}
	if p.cpu {
		// The labels pyroscope-go puts on its own profiles, with diagkit as
		// the instrumentation scope (the CPU profiles are diagkit's).
		labels := map[string]string{
			"__session_id__":          pyropush.NewSessionID(),
			"process.runtime.name":    "go",
			"process.runtime.version": pyropush.SanitizeValue(runtime.Version()),
			"otel.scope.name":         "github.com/diagkit/diagkit",
		}
		if v := diagkitVersion(); v != "" {
			labels["otel.scope.version"] = v
		}
		for k, v := range tags {
			for l := range labels { // a tag replaces the label the server would store under its name
				if pyropush.ServerLabelName(l) == pyropush.ServerLabelName(k) {
					delete(labels, l)
				}
			}
			labels[k] = v
		}
		p.cpuName = pyropush.FormatName(cfg.ApplicationName, labels)
	}
	if len(others) > 0 {
		s, err := pyroscope.NewSession(pyroscope.SessionConfig{
			Upstream:       p.queue,
			Logger:         &sessionLog{log: log, report: p.report},
			AppName:        cfg.ApplicationName,
			Tags:           maps.Clone(tags),
			ProfilingTypes: others, // never ProfileCPU: the session would start its own CPU profiler
			DisableGCRuns:  cfg.DisableGCRuns,
			UploadRate:     cfg.UploadRate,
		})
		if err != nil {
			return nil, fmt.Errorf("diag: pyroscope session: %w", err)
		}
		p.session = s
	}
	sender, err := pyropush.NewSender(p.queue, pyropush.SenderConfig{
		Remote: remote.Config{
			Address:           cfg.ServerAddress,
			BasicAuthUser:     cfg.BasicAuthUser,
			BasicAuthPassword: cfg.BasicAuthPassword,
			TenantID:          cfg.TenantID,
			HTTPHeaders:       maps.Clone(cfg.HTTPHeaders),
		},
		Timeout:      cfg.Timeout,
		FlushTimeout: cfg.FlushTimeout,
		MinBackoff:   max(10*time.Millisecond, min(cfg.UploadRate/4, time.Second)),
		MaxBackoff:   min(2*cfg.UploadRate, 30*time.Second),
		MaxAttempts:  pyropush.DefaultMaxAttempts,
		MaxAge:       pushMaxAge,
		// The application's pprof labels (pprof.Do, pyroscope.TagWrapper)
		// become series labels on the server: one bad key refuses the
		// whole profile (grafana/pyroscope-go#183).
		SanitizeSampleLabels: true,
		OnLabels:             p.report.labels,
		OnFailure:            p.report.failure,
		OnSuccess:            p.report.success,
	})
	if err != nil {
		return nil, fmt.Errorf("diag: pyroscope uploader: %w", err)
	}
	p.sender = sender
	p.report.totals = func() (uint64, uint64) { return sender.Failed(), p.queue.Stats().Dropped }
	return p, nil
}

// start starts the sender, the session and the CPU consumer.
func (p *pusher) start() {
	if p == nil {
		return
	}
	p.ctx, p.cancel = context.WithCancel(context.Background())
	p.sender.Start()
	if p.session != nil {
		if err := p.session.Start(); err != nil { // never fails in pyroscope-go v1.4
			p.log.Error("pyroscope session did not start", zap.Error(err))
		}
	}
	if p.cpu {
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			p.consumeCPU()
		}()
	}
	p.log.Info("pyroscope push started",
		zap.String("server", redactURL(p.cfg.ServerAddress)),
		zap.String("application", p.cfg.ApplicationName),
		zap.Any("profile_types", p.cfg.ProfileTypes),
		zap.Duration("upload_rate", p.cfg.UploadRate),
		zap.Int("queue_size", p.cfg.QueueSize),
		zap.Bool("basic_auth", p.cfg.BasicAuthUser != ""),
		zap.Bool("tenant", p.cfg.TenantID != ""))
}

// stop stops the producers, then flushes the queue for at most
// FlushTimeout. Safe on a nil pusher and more than once.
func (p *pusher) stop() {
	if p == nil {
		return
	}
	p.stop1.Do(func() {
		if p.cancel != nil {
			p.cancel()
		}
		p.wg.Wait()
		if p.session != nil {
			p.session.Stop()
		}
		p.sender.Stop()
		st := p.stats()
		p.log.Info("pyroscope push stopped",
			zap.Uint64("sent", st.Sent), zap.Uint64("errors", st.Errors), zap.Uint64("dropped", st.Dropped),
			zap.Uint64("retries", st.Sender.Retries), zap.Uint64("rejected", st.Sender.Rejected),
			zap.Uint64("stale", st.Sender.Stale), zap.Uint64("sample_labels_dropped", st.Sender.LabelsDropped),
			zap.Uint64("cpu_windows", st.Windows), zap.Uint64("cpu_windows_failed", p.cpuErrors.Load()))
	})
}

// stats returns the push's counters, zero on a nil pusher.
func (p *pusher) stats() pushStats {
	if p == nil {
		return pushStats{}
	}
	q := p.queue.Stats()
	return pushStats{Sent: p.sender.Sent(), Errors: p.sender.Failed(), Dropped: q.Dropped, Windows: p.windows.Load(), Queue: q,
		Sender: p.sender.Stats()}
}

// consumeCPU takes back-to-back windows of UploadRate from the hub's stream
// (adjacent: no sample lost or counted twice between two windows) and
// queues them. It never waits on the network: queueing is a short mutex,
// and the hub drops a window rather than wait for it.
func (p *pusher) consumeCPU() {
	windows, err := p.hub.Stream(p.ctx, p.cfg.UploadRate)
	if err != nil {
		return // stopping: the context is done or the hub closed
	}
	for res := range windows { // closed when the context is done or the hub closes
		if p.ctx.Err() == nil {
			p.cpuWindow(res)
		}
	}
}

// cpuWindow queues one window of the stream.
func (p *pusher) cpuWindow(res cpuhub.StreamResult) {
	defer func() {
		if r := recover(); r != nil {
			p.report.sessionError(fmt.Sprintf("CPU window for Pyroscope panicked: %v", r))
		}
	}()
	switch {
	case errors.Is(res.Err, cpuhub.ErrBusy):
		p.cpuErrors.Add(1) // the agent logs the busy state once
		return
	case res.Err != nil:
		p.cpuErrors.Add(1)
		p.report.sessionError("CPU window for Pyroscope failed: " + res.Err.Error())
		return
	}
	w := res.Window
	var buf bytes.Buffer
	if err := w.Profile.Write(&buf); err != nil {
		p.report.sessionError("encoding a CPU window for Pyroscope: " + err.Error())
		return
	}
	rate := uint32(pyroscope.DefaultSampleRate)
	if per := w.Profile.Period; per > 0 && per <= int64(time.Second) {
		rate = uint32(int64(time.Second) / per)
	}
	p.queue.Upload(&upstream.UploadJob{
		Name:            p.cpuName,
		StartTime:       w.Start,
		EndTime:         w.End,
		SpyName:         "gospy",
		SampleRate:      rate,
		Units:           "samples",
		AggregationType: "sum",
		Format:          upstream.FormatPprof,
		Profile:         bytes.Clone(buf.Bytes()),
	})
	p.windows.Add(1)
}
