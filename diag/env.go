package diag

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/diagkit/diagkit/internal/units"
)

// EnvVar documents one environment variable that ConfigFromEnv reads.
type EnvVar struct {
	Name    string // e.g. "DIAGKIT_ADDR"
	Field   string // the Config field it sets
	Example string
	Doc     string
	set     func(c *Config, v string) error
}

// EnvVars lists every variable ConfigFromEnv reads, in documentation order.
var EnvVars = []EnvVar{
	{"DIAGKIT_DISABLE", "", "1", "1 or true: diag/auto does not start the agent", nil},
	{"DIAGKIT_ADDR", "Addr", "127.0.0.1:6060", `listen address, or "off" for no server`, func(c *Config, v string) error { c.Addr = v; return nil }},
	{"DIAGKIT_TOKEN", "Token", "s3cret", "bearer token required on every endpoint", func(c *Config, v string) error { c.Token = v; return nil }},
	{"DIAGKIT_ALLOW_UNAUTHENTICATED", "AllowUnauthenticated", "1", "allow a non-loopback Addr without a token", setBool(func(c *Config) *bool { return &c.AllowUnauthenticated })},
	{"DIAGKIT_TLS_CERT", "TLSCertFile", "/etc/diagkit/tls.crt", "serve HTTPS with this PEM certificate (with DIAGKIT_TLS_KEY)", func(c *Config, v string) error { c.TLSCertFile = v; return nil }},
	{"DIAGKIT_TLS_KEY", "TLSKeyFile", "/etc/diagkit/tls.key", "the PEM private key of DIAGKIT_TLS_CERT", func(c *Config, v string) error { c.TLSKeyFile = v; return nil }},
	{"DIAGKIT_WINDOW", "Window", "10s", "length of each periodic CPU profile", setDuration(func(c *Config) *time.Duration { return &c.Window })},
	{"DIAGKIT_INTERVAL", "Interval", "60s", "how often a window starts (= window: continuous)", setDuration(func(c *Config) *time.Duration { return &c.Interval })},
	{"DIAGKIT_HISTORY", "History", "60", "window reports kept", setInt(func(c *Config) *int { return &c.History })},
	{"DIAGKIT_TOP", "Top", "10", "functions listed per report", setInt(func(c *Config) *int { return &c.Top })},
	{"DIAGKIT_PREEMPT_THRESHOLD", "AsyncPreemptThreshold", "1%", "warn above this async-preempt share (off: never)", setShare(func(c *Config) *float64 { return &c.AsyncPreemptThreshold })},
	{"DIAGKIT_CGO_THRESHOLD", "CgoThreshold", "25%", "warn above this cgo share (off: never)", setShare(func(c *Config) *float64 { return &c.CgoThreshold })},
	{"DIAGKIT_CGO_RATE_THRESHOLD", "CgoCallRateThreshold", "100000", "warn above this many cgo calls/s (off: never)", setRate(func(c *Config) *float64 { return &c.CgoCallRateThreshold })},
	{"DIAGKIT_SCHED_P99_THRESHOLD", "SchedLatencyThreshold", "10ms", "warn above this p99 scheduling latency (off: never)", setThresholdDuration(func(c *Config) *time.Duration { return &c.SchedLatencyThreshold })},
	{"DIAGKIT_THROTTLE_THRESHOLD", "ThrottleThreshold", "25%", "warn above this share of cgroup periods throttled (off: never)", setShare(func(c *Config) *float64 { return &c.ThrottleThreshold })},
	{"DIAGKIT_CONTENTION_THRESHOLD", "ContentionThreshold", "50%", "warn above this run-queue wait per second of CPU (off: never)", setRatio(func(c *Config) *float64 { return &c.ContentionThreshold })},
	{"DIAGKIT_RESOLVE_AFTER", "ResolveAfter", "3", "consecutive clean windows that end a warning's episode", setInt(func(c *Config) *int { return &c.ResolveAfter })},
	{"DIAGKIT_MIN_SAMPLES", "MinSamples", "100", "CPU samples a window needs before its shares can warn", setInt(func(c *Config) *int { return &c.MinSamples })},
	{"DIAGKIT_COOLDOWN", "Cooldown", "10m", "quiet time after a warning while the problem lasts", setDuration(func(c *Config) *time.Duration { return &c.Cooldown })},
	{"DIAGKIT_MAX_PROFILE_SECONDS", "MaxProfileSeconds", "60", "upper bound for ?seconds= on profile endpoints", setInt(func(c *Config) *int { return &c.MaxProfileSeconds })},
	{"DIAGKIT_MAX_CONCURRENT_PROFILES", "MaxConcurrentProfiles", "4", "expensive requests (trace, deltas, symbol POST) at once; more get 429", setInt(func(c *Config) *int { return &c.MaxConcurrentProfiles })},
	{"DIAGKIT_MAX_CONCURRENT_CPU_PROFILES", "MaxConcurrentCPUProfiles", "32", "CPU profile requests at once (they share one profiler run); more get 429", setInt(func(c *Config) *int { return &c.MaxConcurrentCPUProfiles })},
	// Pyroscope push (push.go).
	{"DIAGKIT_PYROSCOPE_URL", "Pyroscope.ServerAddress", "http://pyroscope:4040", "push profiles to this Pyroscope server (unset: no push)", setPyroscopeString(func(c *Config) *string { return &c.Pyroscope.ServerAddress })},
	{"DIAGKIT_PYROSCOPE_APP", "Pyroscope.ApplicationName", "checkout", "application name in Pyroscope (default: the executable's name)", setPyroscopeString(func(c *Config) *string { return &c.Pyroscope.ApplicationName })},
	{"DIAGKIT_PYROSCOPE_TAGS", "Pyroscope.Tags", "env=prod,region=eu", "extra tags: name=value pairs separated by commas", setPyroscopeTags},
	{"DIAGKIT_PYROSCOPE_USER", "Pyroscope.BasicAuthUser", "123456", "HTTP basic auth user", setPyroscopeString(func(c *Config) *string { return &c.Pyroscope.BasicAuthUser })},
	{"DIAGKIT_PYROSCOPE_PASSWORD", "Pyroscope.BasicAuthPassword", "s3cret", "HTTP basic auth password (never logged)", setPyroscopeString(func(c *Config) *string { return &c.Pyroscope.BasicAuthPassword })},
	{"DIAGKIT_PYROSCOPE_TENANT", "Pyroscope.TenantID", "team-a", "tenant ID sent as X-Scope-OrgID", setPyroscopeString(func(c *Config) *string { return &c.Pyroscope.TenantID })},
	{"DIAGKIT_PYROSCOPE_PROFILE_TYPES", "Pyroscope.ProfileTypes", "cpu,alloc_space,inuse_space", "profile types to push, separated by commas", setPyroscopeProfileTypes},
	{"DIAGKIT_PYROSCOPE_UPLOAD_RATE", "Pyroscope.UploadRate", "15s", "length of each pushed CPU window; upload period", setDuration(func(c *Config) *time.Duration { return &c.Pyroscope.UploadRate })},
	{"DIAGKIT_PYROSCOPE_QUEUE_SIZE", "Pyroscope.QueueSize", "32", "profiles waiting for upload at most (oldest dropped)", setInt(func(c *Config) *int { return &c.Pyroscope.QueueSize })},
}

// ConfigFromEnv builds a Config from environment variables (see EnvVars);
// lookup is usually os.LookupEnv. Unset or empty variables keep the default.
// disabled reports DIAGKIT_DISABLE. The Config is validated as Start
// validates it, and every invalid value, unparsable or out of range, is
// named by its variable in one error; nothing is guessed: with an error, do
// not start the agent. A Config returned without an error passes Start's
// validation. Secret values (the token, the Pyroscope password, the user
// info and query of the Pyroscope URL) are never quoted.
func ConfigFromEnv(lookup func(string) (string, bool)) (cfg Config, disabled bool, err error) {
	type envErr struct {
		order int // position of the first variable named, for the order of the message
		err   error
	}
	var errs []envErr
	values := map[string]string{} // field -> value, for the variables set
	failed := map[string]bool{}   // fields whose variable did not parse
	vars := map[string]int{}      // field -> index in EnvVars
	for i, ev := range EnvVars {
		vars[ev.Field] = i
		v, ok := lookup(ev.Name)
		v = strings.TrimSpace(v)
		if !ok || v == "" {
			continue
		}
		if ev.set == nil { // DIAGKIT_DISABLE
			b, perr := parseBool(v)
			if perr != nil {
				errs = append(errs, envErr{i, fmt.Errorf("%s=%s: %v", ev.Name, quoteEnv(ev.Name, v), perr)})
			}
			disabled = b
			continue
		}
		values[ev.Field] = v
		if serr := ev.set(&cfg, v); serr != nil {
			failed[ev.Field] = true
			errs = append(errs, envErr{i, fmt.Errorf("%s=%s: %v", ev.Name, quoteEnv(ev.Name, v), serr)})
		}
	}
	// The second pass, Start's validation, on what parsed: the values out
	// of range, and those that do not go together.
	_, verrs := cfg.validate()
	for _, verr := range verrs {
		fields := []string(nil)
		var fe *fieldError
		if errors.As(verr, &fe) {
			fields = fe.fields
		}
		if slices.ContainsFunc(fields, func(f string) bool { return failed[f] }) {
			continue // judged on a default that stands for a value already reported
		}
		var names []string
		order := len(EnvVars)
		for _, f := range fields {
			if i, ok := vars[f]; ok {
				if v, set := values[f]; set {
					names = append(names, EnvVars[i].Name+"="+quoteEnv(EnvVars[i].Name, v))
					order = min(order, i)
				}
			}
		}
		msg := verr.Error()
		if len(names) > 0 {
			msg = strings.Join(names, ", ") + ": " + msg
		}
		errs = append(errs, envErr{order, errors.New(msg)})
	}
	if len(errs) > 0 {
		slices.SortStableFunc(errs, func(a, b envErr) int { return a.order - b.order })
		joined := make([]error, len(errs))
		for i, e := range errs {
			joined[i] = e.err
		}
		return Config{}, disabled, fmt.Errorf("diag: invalid environment: %w", errors.Join(joined...))
	}
	return cfg, disabled, nil
}

// quoteEnv quotes a variable's value for an error message, but for secrets:
// the token and the password are never shown, and the Pyroscope URL is shown
// without its user info and query.
func quoteEnv(name, v string) string {
	switch name {
	case "DIAGKIT_TOKEN", "DIAGKIT_PYROSCOPE_PASSWORD":
		return "(redacted)"
	case "DIAGKIT_PYROSCOPE_URL":
		return strconv.Quote(redactURL(v))
	}
	return strconv.Quote(v)
}

func parseBool(v string) (bool, error) {
	switch strings.ToLower(v) {
	case "1", "true", "yes", "on":
		return true, nil
	case "0", "false", "no", "off":
		return false, nil
	}
	return false, errors.New("want 1/true or 0/false")
}

// isOff reports the word that disables a threshold.
func isOff(v string) bool { return strings.EqualFold(v, "off") }

func setBool(field func(*Config) *bool) func(*Config, string) error {
	return func(c *Config, v string) error {
		b, err := parseBool(v)
		*field(c) = b
		return err
	}
}

func setDuration(field func(*Config) *time.Duration) func(*Config, string) error {
	return func(c *Config, v string) error {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return errors.New("want a positive duration such as 500ms, 10s or 2m")
		}
		*field(c) = d
		return nil
	}
}

func setThresholdDuration(field func(*Config) *time.Duration) func(*Config, string) error {
	return func(c *Config, v string) error {
		if isOff(v) {
			*field(c) = -1
			return nil
		}
		return setDuration(field)(c, v)
	}
}

func setInt(field func(*Config) *int) func(*Config, string) error {
	return func(c *Config, v string) error {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			return errors.New("want a whole number above 0")
		}
		*field(c) = n
		return nil
	}
}

func setShare(field func(*Config) *float64) func(*Config, string) error {
	return func(c *Config, v string) error {
		if isOff(v) {
			*field(c) = -1
			return nil
		}
		share, err := units.ParseShare(v)
		if err != nil {
			return err
		}
		if share == 0 {
			return errors.New(`0 would warn on every window; use "off" to disable`)
		}
		*field(c) = share
		return nil
	}
}

func setRate(field func(*Config) *float64) func(*Config, string) error {
	return func(c *Config, v string) error {
		if isOff(v) {
			*field(c) = -1
			return nil
		}
		r, err := strconv.ParseFloat(v, 64)
		if err != nil || r <= 0 || math.IsInf(r, 0) || math.IsNaN(r) {
			return errors.New("want a number of calls per second above 0")
		}
		*field(c) = r
		return nil
	}
}

// setRatio parses a positive ratio that may exceed 1 ("0.5", "50%", "2").
func setRatio(field func(*Config) *float64) func(*Config, string) error {
	return func(c *Config, v string) error {
		if isOff(v) {
			*field(c) = -1
			return nil
		}
		num, percent := strings.CutSuffix(v, "%")
		r, err := strconv.ParseFloat(strings.TrimSpace(num), 64)
		if err != nil || math.IsInf(r, 0) || math.IsNaN(r) || r <= 0 || strings.ContainsAny(num, "xXpP_nN") {
			return errors.New(`want a ratio above 0 such as 0.5, 50% or 2 (off: never)`)
		}
		if percent {
			r /= 100
		}
		if r > 100 {
			return errors.New("want a ratio of at most 100")
		}
		*field(c) = r
		return nil
	}
}
