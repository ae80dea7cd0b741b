package diag

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"slices"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/diagkit/diagkit/diag/analysis"
	"github.com/diagkit/diagkit/diag/api"
	"github.com/diagkit/diagkit/diag/internal/cpuhub"
	"github.com/diagkit/diagkit/diag/internal/pprofhttp"
	"github.com/diagkit/diagkit/diag/internal/procstat"
	"github.com/diagkit/diagkit/internal/doctor"
)

// Agent samples CPU profiles periodically, analyzes them, logs warnings and
// serves its reports and the pprof endpoints. Create one with Start; it is
// safe for concurrent use.
type Agent struct {
	cfg     Config
	log     *zap.Logger
	hub     *cpuhub.Hub
	handler http.Handler
	limiter *pprofhttp.Limiter // bounds the expensive pprof requests
	cpuLim  *pprofhttp.Limiter // bounds /debug/pprof/profile requests
	stopped chan struct{}      // closed by Stop: ends waiting pprof requests
	push    *pusher            // Pyroscope push; nil when off (push.go)

	server   *http.Server
	listener net.Listener
	requests inflight     // on server
	metrics  agentMetrics // Prometheus registry and collector (metrics.go)

	cancel context.CancelFunc
	wg     sync.WaitGroup
	stop   sync.Once

	mu       sync.Mutex
	history  reportRing // the last History reports (history.go)
	seq      uint64
	warner   *warner
	failures uint64 // windows that produced no report
	scraped  uint64 // scraped windows analyzed
	skipped  uint64 // periodic windows skipped: a scrape had just covered them
	// lastScrape is when the latest analyzed scrape window ended.
	lastScrape time.Time
	started    time.Time

	evidence evidenceState // loop evidence gathered on warnings (evidence.go)

	doctorMu     sync.Mutex // serializes Doctor; guards its caches
	doctorAt     time.Time
	doctorReport api.DoctorReport
	lockedAt     time.Time // when the goroutine dump was last read
	locked       *doctor.Locked
	lockedWhy    string
}

// Start validates cfg, starts the periodic analysis and, unless cfg.Addr is
// AddrOff, the agent's HTTP server. It returns once the listener is bound,
// so an address in use is reported here. Errors are prefixed "diag: ".
//
// One agent runs in a process at a time, since it owns the process's one
// CPU profiler: while one runs (diag/auto's, for instance), Start returns an
// error naming it, where it listens and who started it. Use that agent, or
// Stop it first.
func Start(cfg Config) (_ *Agent, err error) {
	cfg, err = cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	a := &Agent{cfg: cfg, started: time.Now(), stopped: make(chan struct{})}
	if err := claimProcess(a, cfg.Addr, startedBy(1)); err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			releaseProcess(a)
		}
	}()
	a.history.max = cfg.History
	log := cfg.Logger
	if log == nil {
		if log, err = zap.NewProduction(); err != nil {
			return nil, fmt.Errorf("diag: creating a logger: %w", err)
		}
	}
	log = log.Named("diagkit")
	tlsConfig, err := loadTLS(cfg)
	if err != nil {
		return nil, err
	}

	a.log = log
	a.warner = newWarner(log, cfg.Cooldown, cfg.ResolveAfter)
	a.hub = cpuhub.New(cpuhub.Options{OnBusy: a.onProfilerBusy})
	if a.push, err = newPusher(cfg.Pyroscope, a.hub, log); err != nil { // starts nothing yet
		a.hub.Close()
		return nil, err
	}
	if err := a.initMetrics(); err != nil {
		a.hub.Close()
		return nil, err
	}
	a.handler = a.newHandler()

	if cfg.Addr != AddrOff {
		ln, err := net.Listen("tcp", cfg.Addr)
		if err != nil {
			a.unregisterMetrics()
			a.hub.Close()
			return nil, fmt.Errorf("diag: listening on %s: %w", cfg.Addr, err)
		}
		a.listener = ln
		setProcessAddr(a, a.Addr())
		a.server = newServer(a.requests.wrap(a.handler), cfg, log)
		a.server.TLSConfig = tlsConfig
		a.wg.Add(1)
		go func() {
			defer a.wg.Done()
			var err error
			if tlsConfig != nil {
				err = a.server.ServeTLS(ln, "", "") // the certificate is in TLSConfig
			} else {
				err = a.server.Serve(ln)
			}
			if err != nil && !errors.Is(err, http.ErrServerClosed) {
				a.log.Error("HTTP server stopped", zap.Error(err))
			}
		}()
	}

	ctx, cancel := context.WithCancel(context.Background())
	a.cancel = cancel
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		a.run(ctx)
	}()
	a.push.start()
	log.Info("agent started",
		zap.String("addr", a.Addr()),
		zap.Duration("window", cfg.Window),
		zap.Duration("interval", cfg.Interval),
		zap.Bool("token", cfg.Token != ""),
		zap.Bool("tls", tlsConfig != nil))
	return a, nil
}

// loadTLS loads cfg's certificate and key, or returns nil without them.
func loadTLS(cfg Config) (*tls.Config, error) {
	if cfg.TLSCertFile == "" {
		return nil, nil
	}
	certPEM, err := readTLSFile("TLSCertFile", cfg.TLSCertFile)
	if err != nil {
		return nil, err
	}
	keyPEM, err := readTLSFile("TLSKeyFile", cfg.TLSKeyFile)
	if err != nil {
		return nil, err
	}
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return nil, fmt.Errorf("diag: loading the TLS certificate %s and key %s: %w", cfg.TLSCertFile, cfg.TLSKeyFile, err)
	}
	return &tls.Config{
		MinVersion:   tls.VersionTLS12,
		Certificates: []tls.Certificate{cert},
	}, nil
}

// maxTLSFile bounds a TLS certificate or key file: a PEM chain is a few
// kilobytes.
const maxTLSFile = 1 << 20

// readTLSFile reads a PEM file for Start, which may run in an init
// (diag/auto) and so must never block or read without bound: only a
// regular file of at most maxTLSFile bytes is read. A FIFO would block the
// open until a writer came, a device such as /dev/zero would read forever.
// The file is opened non-blocking (a FIFO swapped in after the Stat does
// not block the open either) and checked again once open.
func readTLSFile(field, path string) ([]byte, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("diag: %s: %w", field, err)
	}
	notRegular := func(fi os.FileInfo) error {
		return fmt.Errorf("diag: %s %s: not a regular file (%v): want a PEM file", field, path, fi.Mode().Type())
	}
	if !fi.Mode().IsRegular() {
		return nil, notRegular(fi)
	}
	f, err := os.OpenFile(path, os.O_RDONLY|oNonblock, 0)
	if err != nil {
		return nil, fmt.Errorf("diag: %s: %w", field, err)
	}
	defer f.Close()
	if fi, err = f.Stat(); err != nil {
		return nil, fmt.Errorf("diag: %s: %w", field, err)
	}
	if !fi.Mode().IsRegular() {
		return nil, notRegular(fi)
	}
	tooLarge := fmt.Errorf("diag: %s %s: larger than %d bytes: want a PEM file", field, path, maxTLSFile)
	if fi.Size() > maxTLSFile {
		return nil, tooLarge
	}
	data, err := io.ReadAll(io.LimitReader(f, maxTLSFile+1))
	if err != nil {
		return nil, fmt.Errorf("diag: %s: %w", field, err)
	}
	if len(data) > maxTLSFile {
		return nil, tooLarge
	}
	return data, nil
}

// Addr returns the address the agent's server listens on ("off" without
// one). With a ":0" port it tells the port chosen.
func (a *Agent) Addr() string {
	if a.listener == nil {
		return AddrOff
	}
	return a.listener.Addr().String()
}

// Handler serves the agent's endpoints (see the package documentation). The
// agent's own server serves it at its root; to serve it on your own mux
// instead, set Config.Addr to AddrOff and mount it, under a prefix of your
// choice if /debug/pprof/ is taken:
//
//	mux.Handle("/debug/", agent.Handler())
//	mux.Handle("/diagkit/", http.StripPrefix("/diagkit", agent.Handler()))
func (a *Agent) Handler() http.Handler { return a.handler }

// Stop stops the periodic analysis, ends in-flight profile requests, shuts
// the server down and waits for every goroutine the agent started; then
// another agent may start in the process. It is safe to call more than once
// and from several goroutines, and on a nil *Agent (what a failed Start
// returns), which does nothing.
func (a *Agent) Stop() {
	if a == nil {
		return
	}
	a.stop.Do(func() {
		a.unregisterMetrics()
		a.cancel()
		close(a.stopped) // in-flight trace and delta profile requests return now
		a.hub.Close()    // and /debug/pprof/profile ones
		a.push.stop()    // flushes queued profiles for at most Pyroscope.FlushTimeout
		if a.server != nil {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			if err := a.server.Shutdown(ctx); err != nil {
				a.server.Close()
			}
			cancel()
			// Close does not wait for handlers; their connections are
			// closed, so they return promptly.
			if ok, n := a.requests.wait(2 * time.Second); !ok {
				a.log.Warn("requests still running after Stop", zap.Int("requests", n))
			}
		}
		a.wg.Wait()
		releaseProcess(a)
		a.log.Info("agent stopped")
		_ = a.log.Sync()
	})
}

// Latest returns the most recent window report, or nil before the first
// window completes.
func (a *Agent) Latest() *api.WindowReport {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.history.latest()
}

// History returns up to n recent window reports, oldest first (all kept
// when n <= 0).
func (a *Agent) History(n int) []api.WindowReport {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.history.last(n)
}

// run is the periodic analysis: one window every Interval, back to back when
// Interval equals Window.
func (a *Agent) run(ctx context.Context) {
	for {
		start := time.Now()
		a.window(ctx)
		wait := time.Until(start.Add(a.cfg.Interval))
		if wait <= 0 {
			if ctx.Err() != nil {
				return
			}
			continue
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

// window profiles, analyzes and records one window. A failure is logged and
// the loop goes on; a panic is recovered, because the agent runs inside
// someone else's process.
func (a *Agent) window(ctx context.Context) {
	defer func() {
		if r := recover(); r != nil {
			a.log.Error("window analysis panicked; continuing", zap.Any("panic", r))
		}
	}()
	if a.coveredByScrape(time.Now()) {
		return
	}
	before := procstat.Take()
	w, err := a.hub.Profile(ctx, a.cfg.Window)
	if err != nil {
		if ctx.Err() == nil && !errors.Is(err, cpuhub.ErrClosed) {
			a.noteFailure(err)
		}
		return
	}
	after := procstat.Take()
	report, err := analyze(w.Profile, analysis.Options{Top: a.cfg.Top})
	if err != nil {
		a.noteFailure(err)
		return
	}
	a.record(report, procstat.Context(before, after), w.Start, w.End, "periodic")
}

// analyze is analysis.Analyze; failure_test.go replaces it to inject a
// panic into a window's analysis.
var analyze = analysis.Analyze

// minScrapedWindow is the shortest /debug/pprof/profile window the agent
// analyzes too: shorter ones hold too few samples to judge.
const minScrapedWindow = time.Second

// coveredByScrape reports, and counts, a periodic window that would repeat
// what a scrape analyzed less than an Interval ago: pull-mode backends
// (Alloy scrapes 14 s of every 15) then keep the analysis fed, and the agent
// adds no profiling of its own.
func (a *Agent) coveredByScrape(now time.Time) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.lastScrape.IsZero() || now.Sub(a.lastScrape) >= a.cfg.Interval {
		return false
	}
	a.skipped++
	return true
}

// analyzeScraped analyzes a window someone scraped from /debug/pprof/profile
// and records it as the latest report. It never fails the scrape: errors are
// logged like a periodic window's, and a panic is recovered.
func (a *Agent) analyzeScraped(w *cpuhub.Window, before, after procstat.Snapshot) {
	defer func() {
		if r := recover(); r != nil {
			a.log.Error("scraped window analysis panicked; continuing", zap.Any("panic", r))
		}
	}()
	report, err := analyze(w.Profile, analysis.Options{Top: a.cfg.Top})
	if err != nil {
		a.noteFailure(err)
		return
	}
	a.record(report, procstat.Context(before, after), w.Start, w.End, "http")
	a.mu.Lock()
	a.scraped++
	if w.End.After(a.lastScrape) {
		a.lastScrape = w.End
	}
	a.mu.Unlock()
}

// baselineWindows is how many recent windows the involuntary context
// switches' baseline (the fallback where schedstat is missing) rests on.
const baselineWindows = 60

// record judges a window, stores its report and logs its warnings. When
// the window raises a scheduling or preemption warning, it first gathers
// loop evidence (at most once per cooldown) and judges again with it, so
// that the loops are named from the goroutines found preempted.
func (a *Agent) record(report *analysis.Report, pctx api.Context, start, end time.Time, source string) {
	a.mu.Lock()
	// The baseline is the recent windows only: with History at its
	// maximum, reading all of them under the lock every window would cost
	// more than the window's own analysis.
	n := a.history.len()
	baseline := make([]float64, 0, min(n, baselineWindows))
	for i := max(0, n-baselineWindows); i < n; i++ {
		if r := a.history.at(i).Context.InvoluntaryCtxSwitchesPerSecond; r != nil {
			baseline = append(baseline, *r)
		}
	}
	a.mu.Unlock()
	j := evaluate(report, pctx, a.cfg, baseline, nil)
	if needsEvidence(j.warnings) {
		// A scrape's response must not wait for the trace: its window gets
		// the evidence gathered so far, and later windows the new one.
		if ev := a.loopEvidence(time.Now(), source == "periodic"); ev != nil {
			j = evaluate(report, pctx, a.cfg, baseline, ev)
		}
	}

	a.mu.Lock()
	defer a.mu.Unlock()
	a.seq++
	wr := api.WindowReport{
		Report:       *report,
		WindowSchema: api.WindowSchema,
		Seq:          a.seq,
		Start:        start,
		End:          end,
		Source:       source,
		Context:      pctx,
		Warnings:     j.warnings,
		Unjudged:     j.unjudged,
	}
	if wr.Warnings == nil {
		wr.Warnings = []api.Warning{}
	}
	if report.Samples < int64(a.cfg.MinSamples) {
		wr.Notes = append(slices.Clone(wr.Notes), fmt.Sprintf(
			"%d samples, fewer than the %d (MinSamples) needed for the shares to be judged", report.Samples, a.cfg.MinSamples))
	}
	if why := pctx.RunQueueWaitUnavailable; why != "" {
		wr.Notes = append(slices.Clone(wr.Notes), "run-queue wait unavailable ("+why+
			"): CPU contention is judged from involuntary context switches, weaker evidence")
	}
	a.warner.observe(&wr, end)
	a.history.push(wr)
}

// noteFailure logs a window that produced no report, at most once per
// cooldown so that a lasting problem does not flood the log.
func (a *Agent) noteFailure(err error) {
	a.mu.Lock()
	a.failures++
	n := a.failures
	a.mu.Unlock()
	if errors.Is(err, cpuhub.ErrBusy) {
		return // onProfilerBusy logs the state change once
	}
	if n == 1 || n%100 == 0 {
		a.log.Error("window not analyzed", zap.Error(err), zap.Uint64("failures", n))
	}
}

// onProfilerBusy runs on the hub's goroutine when someone else takes or
// releases the CPU profiler.
func (a *Agent) onProfilerBusy(err error) {
	if err != nil {
		a.log.Warn("CPU profiler held by another profiler in this process; diagkit retries with backoff "+
			"(serve /debug/pprof/ from diagkit instead of net/http/pprof to share it)", zap.Error(err))
		return
	}
	a.log.Info("CPU profiler available again")
}
