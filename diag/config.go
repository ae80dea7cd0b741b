package diag

import (
	"errors"
	"fmt"
	"math"
	"net"
	"time"

	"github.com/diagkit/diagkit/diag/analysis"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"
)

// Defaults for the zero values of Config.
const (
	DefaultAddr                  = "127.0.0.1:6060"
	DefaultWindow                = 10 * time.Second
	DefaultInterval              = 60 * time.Second
	DefaultHistory               = 60
	DefaultAsyncPreemptThreshold = 0.01
	DefaultCgoThreshold          = 0.25
	DefaultCgoCallRateThreshold  = 100_000
	DefaultSchedLatencyThreshold = 10 * time.Millisecond
	DefaultThrottleThreshold     = 0.25
	DefaultContentionThreshold   = 0.5
	DefaultResolveAfter          = 3
	DefaultCooldown              = 10 * time.Minute
	DefaultMinSamples            = 100
	DefaultMaxProfileSeconds     = 60
	DefaultMaxConcurrentProfiles = 4
	// DefaultMaxConcurrentCPUProfiles is high because concurrent CPU
	// profile requests share one profiler run (the hub): one more costs
	// its own merged profile and encoding, not another profiler.
	DefaultMaxConcurrentCPUProfiles = 32
	// MaxWindow and MaxInterval bound Window and Interval. Beyond them a
	// window's deadline would be past any useful horizon (and, near the
	// limit of time.Duration, overflow).
	MaxWindow   = time.Hour
	MaxInterval = 24 * time.Hour
	// MaxHistory bounds History.
	MaxHistory = 100_000
	// AddrOff in Config.Addr starts no listener: mount Agent.Handler on a
	// mux of your own.
	AddrOff = "off"
)

// Config configures the agent. Every zero value means the documented default,
// so Config{} is a working configuration. Thresholds below zero disable their
// warning.
type Config struct {
	// Addr is where the agent's own HTTP server listens (default
	// DefaultAddr, loopback only). AddrOff starts no server. An address
	// beyond loopback requires Token unless AllowUnauthenticated is set.
	Addr string
	// Token, if set, is required as "Authorization: Bearer <Token>" on every
	// endpoint (the scheme in any case: "bearer" too, as RFC 7235 has it).
	Token string
	// AllowUnauthenticated lets Addr be reachable from other hosts without
	// a Token. Profiles reveal source paths, command lines and memory
	// contents: set it only when something in front of the agent
	// authenticates.
	AllowUnauthenticated bool
	// TLSCertFile and TLSKeyFile, both or neither, make the agent's own
	// server (Addr) serve HTTPS, TLS 1.2 or later, with this PEM
	// certificate (chain) and key. They are loaded at Start: a missing file
	// or a key that does not match fails it. Without them the server
	// speaks plain HTTP. They do not apply with AddrOff (an error): TLS is
	// then the job of the server Handler is mounted on.
	TLSCertFile string
	TLSKeyFile  string

	// Window is how long each periodic CPU profile lasts (default 10 s,
	// 100 ms to MaxWindow, 1 h).
	Window time.Duration
	// Interval is how often a window starts (default 60 s: a 1/6 duty
	// cycle; at most MaxInterval, 24 h). Interval equal to Window profiles
	// continuously. Interval shorter than Window is an error.
	Interval time.Duration
	// History is how many window reports the agent keeps (default 60, at
	// most MaxHistory).
	History int
	// Top is how many interrupted functions and cgo call sites a report
	// lists (default 10).
	Top int

	// AsyncPreemptThreshold warns when the async-preempt share of a window's
	// CPU is above it (default 0.01, the tuning guide's 1 %).
	AsyncPreemptThreshold float64
	// CgoThreshold warns when the cgo share (C time and crossing overhead)
	// is above it (default 0.25).
	CgoThreshold float64
	// CgoCallRateThreshold warns when Go→C calls per second are above it
	// (default 100,000: at ~80 ns a crossing, about 1 % of a core in
	// crossing overhead alone).
	CgoCallRateThreshold float64
	// SchedLatencyThreshold warns when the window's p99 scheduling latency
	// (runnable to running) is above it (default 10 ms).
	SchedLatencyThreshold time.Duration
	// ThrottleThreshold warns when the cgroup CPU quota throttled the
	// process in more than this share of the window's periods, with 95 %
	// confidence, judged on at least 10 periods (default 0.25, the
	// threshold of the CPUThrottlingHigh alert of kubernetes-mixin). The
	// quota is the tightest on the path from the process's cgroup to the
	// root.
	ThrottleThreshold float64
	// ContentionThreshold warns when the process's threads waited on the
	// kernel's run queue for a CPU longer than this share of the CPU time
	// they got (default 0.5: half as long as they ran), and at least
	// 0.1 CPU-seconds per second in all. It needs Linux's
	// /proc/self/task/*/schedstat; without it the kind cannot judge.
	ContentionThreshold float64
	// ResolveAfter is how many consecutive clean windows end a warning's
	// episode (default 3). Windows that cannot judge a kind (too few
	// samples, a figure unavailable) neither raise nor resolve it.
	ResolveAfter int
	// MinSamples is how many CPU samples a window needs before its shares
	// can raise a warning (default 100: one CPU-second at 100 Hz); the
	// window's report says so in its notes when it has fewer. Above it, a
	// share warns only when it is above its threshold with 95 % confidence
	// (the lower bound of its Wilson score interval), so one or two samples
	// in a small window do not warn: against 1 %, 3 of 100 samples or 20 of
	// 1,000 do. Rate and latency warnings do not depend on samples. 1
	// disables the minimum.
	MinSamples int
	// Cooldown is how long the agent stays quiet about a warning it logged
	// while the problem lasts (default 10 min). It logs once more, at info
	// level, when the problem is gone (after ResolveAfter clean windows).
	// Loop evidence (a goroutine profile and a short execution trace) is
	// gathered at most once per Cooldown too.
	Cooldown time.Duration

	// MaxProfileSeconds bounds ?seconds= on /debug/pprof/profile, trace
	// and delta profiles (default 60).
	MaxProfileSeconds int
	// MaxConcurrentProfiles bounds the expensive requests served at once
	// (default 4, at most 1000): those that wait for ?seconds= (trace,
	// delta profiles) and the symbol POST. One more is answered 429 Too
	// Many Requests with Retry-After. CPU profiles have their own bound,
	// MaxConcurrentCPUProfiles; snapshots and the JSON endpoints are not
	// limited (the metrics endpoint serves 10 at once, 503 beyond).
	MaxConcurrentProfiles int
	// MaxConcurrentCPUProfiles bounds the /debug/pprof/profile requests
	// served at once (default 32, at most 1000); one more is answered 429.
	// Concurrent requests share one profiler run, so each one more costs
	// its own copy of the merged profile, its encoding and its analysis
	// (about 0.3 MB of heap at the peak for 1 s; BenchmarkConcurrentCPUProfiles),
	// not another profiler.
	MaxConcurrentCPUProfiles int

	// Pyroscope, once its ServerAddress is set, pushes the agent's CPU
	// windows and pyroscope-go's other profiles to a Grafana Pyroscope
	// server (push.go). Off by default.
	Pyroscope PyroscopeConfig

	// Logger receives warnings and the agent's own errors (default: a zap
	// production logger writing JSON to standard error).
	Logger *zap.Logger

	// MetricsRegisterer, if set, also receives the agent's Prometheus
	// collector (the diagkit_* metrics), e.g. prometheus.DefaultRegisterer
	// to have them on the service's own /metrics. Nil (the default) touches
	// no registerer but the agent's own registry, which PathMetrics serves
	// either way. A registration error, such as a second agent on the same
	// registerer, fails Start; Stop unregisters the collector.
	MetricsRegisterer prometheus.Registerer
}

// validate returns c with zero values replaced by defaults, and an error
// for every invalid field (each a *fieldError).
func (c Config) validate() (Config, []error) {
	if c.Addr == "" {
		c.Addr = DefaultAddr
	}
	if c.Window == 0 {
		c.Window = DefaultWindow
	}
	if c.Interval == 0 {
		c.Interval = max(DefaultInterval, c.Window)
	}
	if c.History == 0 {
		c.History = DefaultHistory
	}
	if c.Top == 0 {
		c.Top = analysis.DefaultTop
	}
	if c.AsyncPreemptThreshold == 0 {
		c.AsyncPreemptThreshold = DefaultAsyncPreemptThreshold
	}
	if c.CgoThreshold == 0 {
		c.CgoThreshold = DefaultCgoThreshold
	}
	if c.CgoCallRateThreshold == 0 {
		c.CgoCallRateThreshold = DefaultCgoCallRateThreshold
	}
	if c.SchedLatencyThreshold == 0 {
		c.SchedLatencyThreshold = DefaultSchedLatencyThreshold
	}
	if c.Cooldown == 0 {
		c.Cooldown = DefaultCooldown
	}
	if c.ThrottleThreshold == 0 {
		c.ThrottleThreshold = DefaultThrottleThreshold
	}
	if c.ContentionThreshold == 0 {
		c.ContentionThreshold = DefaultContentionThreshold
	}
	if c.ResolveAfter == 0 {
		c.ResolveAfter = DefaultResolveAfter
	}
	if c.MinSamples == 0 {
		c.MinSamples = DefaultMinSamples
	}
	if c.MaxProfileSeconds == 0 {
		c.MaxProfileSeconds = DefaultMaxProfileSeconds
	}
	if c.MaxConcurrentProfiles == 0 {
		c.MaxConcurrentProfiles = DefaultMaxConcurrentProfiles
	}
	if c.MaxConcurrentCPUProfiles == 0 {
		c.MaxConcurrentCPUProfiles = DefaultMaxConcurrentCPUProfiles
	}

	var errs []error
	bad := func(fields []string, format string, args ...any) {
		errs = append(errs, &fieldError{fields: fields, err: fmt.Errorf(format, args...)})
	}
	one := func(f string) []string { return []string{f} }
	if c.Window < 100*time.Millisecond || c.Window > MaxWindow {
		bad(one("Window"), "Window %v: want 100ms to 1h", c.Window)
	}
	if c.Interval > MaxInterval {
		bad(one("Interval"), "Interval %v: want at most 24h", c.Interval)
	}
	if c.Interval < c.Window {
		bad([]string{"Interval", "Window"}, "Interval %v is shorter than Window %v", c.Interval, c.Window)
	}
	if c.History < 0 || c.History > MaxHistory {
		bad(one("History"), "History %d: want 1 to %d", c.History, MaxHistory)
	}
	if c.Top < 0 {
		bad(one("Top"), "Top %d: want 0 or more", c.Top)
	}
	if c.AsyncPreemptThreshold > 1 {
		bad(one("AsyncPreemptThreshold"), "AsyncPreemptThreshold %v: a share is at most 1", c.AsyncPreemptThreshold)
	}
	if c.CgoThreshold > 1 {
		bad(one("CgoThreshold"), "CgoThreshold %v: a share is at most 1", c.CgoThreshold)
	}
	if c.ThrottleThreshold > 1 {
		bad(one("ThrottleThreshold"), "ThrottleThreshold %v: a share is at most 1", c.ThrottleThreshold)
	}
	if c.ContentionThreshold > 100 || math.IsNaN(c.ContentionThreshold) {
		bad(one("ContentionThreshold"), "ContentionThreshold %v: want a ratio of at most 100", c.ContentionThreshold)
	}
	if c.ResolveAfter < 1 || c.ResolveAfter > 1000 {
		bad(one("ResolveAfter"), "ResolveAfter %d: want 1 to 1000", c.ResolveAfter)
	}
	if c.MinSamples < 0 {
		bad(one("MinSamples"), "MinSamples %d: want 1 or more", c.MinSamples)
	}
	if c.Cooldown < 0 {
		bad(one("Cooldown"), "Cooldown %v: want 0 or more", c.Cooldown)
	}
	if c.MaxProfileSeconds < 1 || c.MaxProfileSeconds > 3600 {
		bad(one("MaxProfileSeconds"), "MaxProfileSeconds %d: want 1 to 3600", c.MaxProfileSeconds)
	}
	if c.MaxConcurrentProfiles < 1 || c.MaxConcurrentProfiles > 1000 {
		bad(one("MaxConcurrentProfiles"), "MaxConcurrentProfiles %d: want 1 to 1000", c.MaxConcurrentProfiles)
	}
	if c.MaxConcurrentCPUProfiles < 1 || c.MaxConcurrentCPUProfiles > 1000 {
		bad(one("MaxConcurrentCPUProfiles"), "MaxConcurrentCPUProfiles %d: want 1 to 1000", c.MaxConcurrentCPUProfiles)
	}
	tls := []string{"TLSCertFile", "TLSKeyFile"}
	switch {
	case (c.TLSCertFile == "") != (c.TLSKeyFile == ""):
		bad(tls, "TLSCertFile and TLSKeyFile: set both or neither")
	case c.TLSCertFile != "" && c.Addr == AddrOff:
		bad(append(tls, "Addr"), "TLSCertFile and TLSKeyFile apply to the agent's own server, and Addr is off")
	}
	if c.Addr != AddrOff {
		host, _, err := net.SplitHostPort(c.Addr)
		switch {
		case err != nil:
			bad(one("Addr"), "Addr %q: %v", c.Addr, err)
		case !isLoopback(host) && c.Token == "" && !c.AllowUnauthenticated:
			bad([]string{"Addr", "Token", "AllowUnauthenticated"}, "Addr %q is reachable beyond loopback: set a Token "+
				"(or AllowUnauthenticated if something in front of the agent authenticates)", c.Addr)
		}
	}
	var pushErrs []error
	c.Pyroscope, pushErrs = c.Pyroscope.withDefaults()
	errs = append(errs, pushErrs...)
	return c, errs
}

// withDefaults returns c with zero values replaced by defaults, or an error
// naming every invalid field.
func (c Config) withDefaults() (Config, error) {
	c, errs := c.validate()
	if len(errs) > 0 {
		return c, fmt.Errorf("diag: invalid config: %w", errors.Join(errs...))
	}
	return c, nil
}

// fieldError is one invalid setting: its message names the Config field,
// and fields lists every field it concerns, the one to change first, so
// that ConfigFromEnv can name their variables.
type fieldError struct {
	fields []string
	err    error
}

func (e *fieldError) Error() string { return e.err.Error() }
func (e *fieldError) Unwrap() error { return e.err }

// isLoopback reports whether a listen host only accepts local connections.
// An empty host ("" in ":6060") listens on every interface.
func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
