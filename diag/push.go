package diag

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
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

// Defaults for the zero values of PyroscopeConfig.
const (
	// DefaultPyroscopeUploadRate is pyroscope-go's default upload rate.
	DefaultPyroscopeUploadRate   = 15 * time.Second
	DefaultPyroscopeQueueSize    = 32
	DefaultPyroscopeTimeout      = 30 * time.Second
	DefaultPyroscopeFlushTimeout = 5 * time.Second
)

// pushLogEvery is the most often the push logs that it is failing or
// dropping profiles.
const pushLogEvery = time.Minute

// PyroscopeConfig configures pushing profiles to a Grafana Pyroscope server.
// Push is off unless ServerAddress is set; every other zero value means the
// documented default.
//
// The CPU profiles pushed are the agent's own: windows of UploadRate taken
// back to back from the profiler the agent shares, so nothing starts a
// second CPU profiler. The other profile types are pyroscope-go's.
type PyroscopeConfig struct {
	// ServerAddress is the Pyroscope server's URL, e.g.
	// http://pyroscope:4040; profiles are POSTed to its /ingest.
	ServerAddress string
	// ApplicationName is the application (service) name in Pyroscope
	// (default: the executable's name). Letters, digits and _ . - /.
	ApplicationName string
	// Tags are added to every profile. The agent adds hostname, and
	// version and service_git_ref when the build info has them; a tag given
	// here replaces the one the agent would add. Names: letters, digits,
	// _ and .; values: no spaces, controls or , { } = " \.
	Tags map[string]string
	// BasicAuthUser and BasicAuthPassword, both or neither, authenticate
	// with HTTP basic auth (Grafana Cloud). The password is never logged.
	BasicAuthUser     string
	BasicAuthPassword string
	// TenantID is sent as X-Scope-OrgID, for a multi-tenant Pyroscope.
	TenantID string
	// HTTPHeaders are added to every upload request.
	HTTPHeaders map[string]string
	// ProfileTypes are the profile types to push (default
	// pyroscope.DefaultProfileTypes: CPU and alloc/inuse objects/space).
	// ProfileCPU is the agent's CPU windows; the others are collected by
	// pyroscope-go. Mutex and block profiles are empty unless the program
	// sets runtime.SetMutexProfileFraction / SetBlockProfileRate.
	ProfileTypes []pyroscope.ProfileType
	// UploadRate is the length of each CPU window and how often the other
	// profiles are taken (default 15 s, as pyroscope-go; at least 100 ms).
	UploadRate time.Duration
	// QueueSize is how many profiles wait for upload at most (default 32).
	// When the server is slow or down the oldest are dropped, and counted
	// in Status.PushDropped.
	QueueSize int
	// Timeout bounds each upload request (default 30 s, as pyroscope-go).
	Timeout time.Duration
	// FlushTimeout bounds how long Agent.Stop spends sending what is queued
	// (default 5 s); what is left then is dropped.
	FlushTimeout time.Duration
	// DisableGCRuns stops pyroscope-go from running a GC before a heap
	// profile when none ran during the period.
	DisableGCRuns bool
}

// String describes the configuration without the password.
func (c PyroscopeConfig) String() string {
	if c.ServerAddress == "" {
		return "pyroscope push off"
	}
	pw := ""
	if c.BasicAuthPassword != "" {
		pw = "(redacted)"
	}
	return fmt.Sprintf("pyroscope push to %s: app %q, tags %q, user %q, password %s, tenant %q, "+
		"%d headers, types %v, upload rate %v, queue %d, timeout %v, flush timeout %v",
		redactURL(c.ServerAddress), c.ApplicationName, pyropush.FormatTags(c.Tags), c.BasicAuthUser, pw,
		c.TenantID, len(c.HTTPHeaders), c.ProfileTypes, c.UploadRate, c.QueueSize, c.Timeout, c.FlushTimeout)
}

// GoString is String, so that %#v does not print the password either.
func (c PyroscopeConfig) GoString() string { return c.String() }

// knownProfileTypes are the types pyroscope-go v1.4 collects.
var knownProfileTypes = []pyroscope.ProfileType{
	pyroscope.ProfileCPU,
	pyroscope.ProfileInuseObjects, pyroscope.ProfileAllocObjects,
	pyroscope.ProfileInuseSpace, pyroscope.ProfileAllocSpace,
	pyroscope.ProfileGoroutines,
	pyroscope.ProfileMutexCount, pyroscope.ProfileMutexDuration,
	pyroscope.ProfileBlockCount, pyroscope.ProfileBlockDuration,
	pyroscope.ProfileGoroutineLeak,
}

// withDefaults returns c with defaults filled in when push is on, and the
// errors of its invalid fields, prefixed "Pyroscope.".
func (c PyroscopeConfig) withDefaults() (PyroscopeConfig, []error) {
	if c.ServerAddress == "" {
		return c, nil
	}
	if c.ApplicationName == "" {
		c.ApplicationName = defaultAppName()
	}
	if len(c.ProfileTypes) == 0 {
		c.ProfileTypes = slices.Clone(pyroscope.DefaultProfileTypes)
	}
	if c.UploadRate == 0 {
		c.UploadRate = DefaultPyroscopeUploadRate
	}
	if c.QueueSize == 0 {
		c.QueueSize = DefaultPyroscopeQueueSize
	}
	if c.Timeout == 0 {
		c.Timeout = DefaultPyroscopeTimeout
	}
	if c.FlushTimeout == 0 {
		c.FlushTimeout = DefaultPyroscopeFlushTimeout
	}

	var errs []error
	// bad reports field's error; the message starts with the field's name.
	bad := func(field, format string, args ...any) {
		fields := []string{"Pyroscope." + field}
		if f, g, ok := strings.Cut(field, " and "); ok {
			fields = []string{"Pyroscope." + f, "Pyroscope." + g}
		}
		errs = append(errs, &fieldError{fields: fields, err: fmt.Errorf("Pyroscope."+format, args...)})
	}
	if err := checkServerAddress(c.ServerAddress); err != nil {
		bad("ServerAddress", "ServerAddress %s", err)
	}
	if err := pyropush.ValidateAppName(c.ApplicationName); err != nil {
		bad("ApplicationName", "ApplicationName: %v", err)
	}
	if err := pyropush.ValidateTags(c.Tags); err != nil {
		bad("Tags", "Tags: %v", err)
	}
	if (c.BasicAuthUser == "") != (c.BasicAuthPassword == "") {
		bad("BasicAuthUser and BasicAuthPassword", "BasicAuthUser and BasicAuthPassword: set both or neither")
	}
	if strings.ContainsAny(c.TenantID, "\r\n\x00") {
		bad("TenantID", "TenantID: control characters")
	}
	for k, v := range c.HTTPHeaders {
		if err := checkHeader(k, v); err != nil {
			bad("HTTPHeaders", "HTTPHeaders: %v", err)
		}
	}
	seen := map[pyroscope.ProfileType]bool{}
	for _, t := range c.ProfileTypes {
		switch {
		case !slices.Contains(knownProfileTypes, t):
			bad("ProfileTypes", "ProfileTypes: unknown type %q (known: %v)", t, knownProfileTypes)
		case seen[t]:
			bad("ProfileTypes", "ProfileTypes: %q given twice", t)
		}
		seen[t] = true
	}
	if c.UploadRate < 100*time.Millisecond {
		bad("UploadRate", "UploadRate %v: want at least 100ms", c.UploadRate)
	}
	if c.QueueSize < 1 || c.QueueSize > 10_000 {
		bad("QueueSize", "QueueSize %d: want 1 to 10000", c.QueueSize)
	}
	if c.Timeout < 0 {
		bad("Timeout", "Timeout %v: want more than 0", c.Timeout)
	}
	if c.FlushTimeout < 0 {
		bad("FlushTimeout", "FlushTimeout %v: want more than 0", c.FlushTimeout)
	}
	return c, errs
}

// checkServerAddress wants an absolute http(s) URL. Its errors never
// include the user info or query of the URL (redactURL).
func checkServerAddress(addr string) error {
	u, err := url.Parse(addr)
	if err != nil {
		return errors.New("is not a URL") // the parse error would quote it, password included
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return fmt.Errorf("%q: want an http:// or https:// URL", redactURL(addr))
	case u.Host == "":
		return fmt.Errorf("%q: no host", redactURL(addr))
	case u.RawQuery != "" || u.ForceQuery || u.Fragment != "":
		return fmt.Errorf("%q: no query or fragment, please", redactURL(addr))
	}
	return nil
}

// redactURL is addr for a log line or an error: without its user info,
// query and fragment, which may hold credentials.
func redactURL(addr string) string { return pyropush.RedactURL(addr) }

func checkHeader(name, value string) error {
	if name == "" || strings.IndexFunc(name, func(r rune) bool {
		return r <= ' ' || r >= 0x7f || strings.ContainsRune(`()<>@,;:\"/[]?={}`, r)
	}) >= 0 {
		return fmt.Errorf("invalid header name %q", name)
	}
	if strings.EqualFold(name, "Content-Type") {
		return errors.New("Content-Type is the upload's multipart type and cannot be replaced")
	}
	if strings.ContainsAny(value, "\r\n\x00") {
		return fmt.Errorf("header %s: control characters in the value", name)
	}
	return nil
}

// defaultAppName is the executable's name, made a valid application name.
func defaultAppName() string {
	if n := pyropush.SanitizeAppName(filepath.Base(os.Args[0])); n != "" {
		return n
	}
	if exe, err := os.Executable(); err == nil {
		if n := pyropush.SanitizeAppName(filepath.Base(exe)); n != "" {
			return n
		}
	}
	return "go-app"
}

// defaultTags are the tags the agent adds: hostname, and from the build
// info the version (the main module's, or its VCS revision) and
// service_git_ref (the revision, which Pyroscope links to source code).
func defaultTags() map[string]string {
	tags := map[string]string{}
	if h, err := os.Hostname(); err == nil {
		if v := pyropush.SanitizeValue(h); v != "" {
			tags["hostname"] = v
		}
	}
	version, rev := buildVersion()
	if version != "" {
		tags["version"] = version
	}
	if rev != "" {
		tags["service_git_ref"] = rev
	}
	return tags
}

// buildVersion reads the main module's version and VCS revision from the
// build info, made valid tag values ("" when unknown).
func buildVersion() (version, revision string) {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "", ""
	}
	modified := false
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			revision = s.Value
		case "vcs.modified":
			modified = s.Value == "true"
		}
	}
	version = info.Main.Version
	if version == "(devel)" {
		version = ""
	}
	if version == "" && revision != "" {
		version = revision[:min(12, len(revision))]
		if modified {
			version += "-dirty"
		}
	}
	return pyropush.SanitizeValue(version), pyropush.SanitizeValue(revision)
}

// diagkitVersion is diagkit's module version in this binary, if known.
func diagkitVersion() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return ""
	}
	const path = "github.com/diagkit/diagkit"
	if info.Main.Path == path && info.Main.Version != "(devel)" {
		return pyropush.SanitizeValue(info.Main.Version)
	}
	for _, d := range info.Deps {
		if d.Path == path {
			return pyropush.SanitizeValue(d.Version)
		}
	}
	return ""
}

// Environment setters for PyroscopeConfig (see EnvVars).

func setPyroscopeString(field func(*Config) *string) func(*Config, string) error {
	return func(c *Config, v string) error { *field(c) = v; return nil }
}

func setPyroscopeTags(c *Config, v string) error {
	tags, err := pyropush.ParseTags(v)
	if err != nil {
		return err
	}
	c.Pyroscope.Tags = tags
	return nil
}

func setPyroscopeProfileTypes(c *Config, v string) error {
	var types []pyroscope.ProfileType
	for i, s := range strings.Split(v, ",") {
		t := pyroscope.ProfileType(s)
		switch {
		case s == "":
			return fmt.Errorf("type %d is empty (stray comma?)", i+1)
		case !slices.Contains(knownProfileTypes, t):
			return fmt.Errorf("unknown type %q (known: %v)", s, knownProfileTypes)
		case slices.Contains(types, t):
			return fmt.Errorf("%q given twice", s)
		}
		types = append(types, t)
	}
	c.Pyroscope.ProfileTypes = types
	return nil
}

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

// pushStats are the push's counters.
type pushStats struct {
	Sent, Errors, Dropped uint64
	Windows               uint64 // CPU windows queued
	Queue                 pyropush.QueueStats
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
		OnFailure:    p.report.failure,
		OnSuccess:    p.report.success,
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
			zap.Uint64("cpu_windows", st.Windows), zap.Uint64("cpu_windows_failed", p.cpuErrors.Load()))
	})
}

// stats returns the push's counters, zero on a nil pusher.
func (p *pusher) stats() pushStats {
	if p == nil {
		return pushStats{}
	}
	q := p.queue.Stats()
	return pushStats{Sent: p.sender.Sent(), Errors: p.sender.Failed(), Dropped: q.Dropped, Windows: p.windows.Load(), Queue: q}
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
	r.log.Error("pushing profiles to Pyroscope failed; backing off, oldest profiles dropped while it lasts", fields...)
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
