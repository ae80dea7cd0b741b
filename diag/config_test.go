package diag

import (
	"math"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestConfigDefaults(t *testing.T) {
	c, err := Config{}.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	if c.MaxConcurrentProfiles != DefaultMaxConcurrentProfiles {
		t.Errorf("MaxConcurrentProfiles default %d", c.MaxConcurrentProfiles)
	}
	if c.Addr != "127.0.0.1:6060" || c.Window != 10*time.Second || c.Interval != 60*time.Second ||
		c.AsyncPreemptThreshold != 0.01 || c.History != 60 || c.MaxProfileSeconds != 60 || c.Cooldown != 10*time.Minute {
		t.Errorf("defaults = %+v", c)
	}
	// A window longer than the default interval profiles continuously.
	c, err = Config{Window: 90 * time.Second}.withDefaults()
	if err != nil || c.Interval != 90*time.Second {
		t.Errorf("Window 90s: interval %v, err %v", c.Interval, err)
	}
}

func TestConfigInvalid(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		want string
	}{
		{"interval shorter than window", Config{Window: 10 * time.Second, Interval: 5 * time.Second}, "Interval 5s is shorter than Window 10s"},
		{"tiny window", Config{Window: time.Millisecond}, "Window 1ms: want 100ms to 1h"},
		{"huge window", Config{Window: 2562047 * time.Hour}, "Window 2562047h0m0s: want 100ms to 1h"},
		{"huge interval", Config{Interval: 25 * time.Hour}, "Interval 25h0m0s: want at most 24h"},
		{"huge history", Config{History: MaxHistory + 1}, "History 100001: want 1 to 100000"},
		{"negative concurrent CPU profiles", Config{MaxConcurrentCPUProfiles: -1}, "MaxConcurrentCPUProfiles -1"},
		{"share above 1", Config{AsyncPreemptThreshold: 2}, "a share is at most 1"},
		{"bad addr", Config{Addr: "nope"}, `Addr "nope"`},
		{"all interfaces without token", Config{Addr: ":6060"}, "reachable beyond loopback: set a Token"},
		{"public ip without token", Config{Addr: "0.0.0.0:6060"}, "reachable beyond loopback"},
		{"huge max seconds", Config{MaxProfileSeconds: 100000}, "MaxProfileSeconds"},
		{"negative history", Config{History: -1}, "History"},
		{"negative concurrent profiles", Config{MaxConcurrentProfiles: -1}, "MaxConcurrentProfiles -1"},
		{"TLS cert without key", Config{TLSCertFile: "c.pem"}, "TLSCertFile and TLSKeyFile: set both or neither"},
		{"TLS key without cert", Config{TLSKeyFile: "k.pem"}, "set both or neither"},
		{"TLS without a server", Config{Addr: AddrOff, TLSCertFile: "c.pem", TLSKeyFile: "k.pem"}, "Addr is off"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.cfg.withDefaults()
			if err == nil || !strings.HasPrefix(err.Error(), "diag: invalid config: ") || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want it to contain %q", err, tt.want)
			}
		})
	}
	for _, ok := range []Config{
		{Addr: ":6060", Token: "t"},
		{Addr: "0.0.0.0:6060", AllowUnauthenticated: true},
		{Addr: "localhost:0"},
		{Addr: "[::1]:6060"},
		{Addr: AddrOff},
	} {
		if _, err := ok.withDefaults(); err != nil {
			t.Errorf("%+v: %v", ok, err)
		}
	}
}

func TestConfigFromEnv(t *testing.T) {
	env := func(kv ...string) func(string) (string, bool) {
		m := map[string]string{}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
	}
	cfg, disabled, err := ConfigFromEnv(env(
		"DIAGKIT_ADDR", "127.0.0.1:7070",
		"DIAGKIT_WINDOW", "2s",
		"DIAGKIT_INTERVAL", "2s",
		"DIAGKIT_PREEMPT_THRESHOLD", "5%",
		"DIAGKIT_CGO_THRESHOLD", "off",
		"DIAGKIT_CGO_RATE_THRESHOLD", "2500",
		"DIAGKIT_SCHED_P99_THRESHOLD", "25ms",
		"DIAGKIT_TOKEN", "  s3cret ",
		"DIAGKIT_HISTORY", "10",
		"DIAGKIT_TLS_CERT", "/etc/diagkit/tls.crt",
		"DIAGKIT_TLS_KEY", "/etc/diagkit/tls.key",
		"DIAGKIT_MAX_CONCURRENT_PROFILES", "2",
	))
	if err != nil || disabled {
		t.Fatalf("err %v disabled %v", err, disabled)
	}
	want := Config{Addr: "127.0.0.1:7070", Window: 2 * time.Second, Interval: 2 * time.Second,
		AsyncPreemptThreshold: 0.05, CgoThreshold: -1, CgoCallRateThreshold: 2500,
		SchedLatencyThreshold: 25 * time.Millisecond, Token: "s3cret", History: 10,
		TLSCertFile: "/etc/diagkit/tls.crt", TLSKeyFile: "/etc/diagkit/tls.key", MaxConcurrentProfiles: 2}
	if !reflect.DeepEqual(cfg, want) {
		t.Errorf("cfg = %+v\nwant %+v", cfg, want)
	}
	if _, disabled, _ := ConfigFromEnv(env("DIAGKIT_DISABLE", "true")); !disabled {
		t.Error("DIAGKIT_DISABLE=true not seen")
	}
	if cfg, _, err := ConfigFromEnv(env()); err != nil || !reflect.DeepEqual(cfg, Config{}) {
		t.Errorf("empty env: %+v, %v", cfg, err)
	}

	// The judgement's settings.
	cfg, _, err = ConfigFromEnv(env("DIAGKIT_THROTTLE_THRESHOLD", "10%", "DIAGKIT_CONTENTION_THRESHOLD", "150%", "DIAGKIT_RESOLVE_AFTER", "5"))
	if err != nil || cfg.ThrottleThreshold != 0.1 || cfg.ContentionThreshold != 1.5 || cfg.ResolveAfter != 5 {
		t.Errorf("judgement settings: %+v, %v", cfg, err)
	}
	cfg, _, err = ConfigFromEnv(env("DIAGKIT_THROTTLE_THRESHOLD", "off", "DIAGKIT_CONTENTION_THRESHOLD", "off"))
	if err != nil || cfg.ThrottleThreshold != -1 || cfg.ContentionThreshold != -1 {
		t.Errorf("off: %+v, %v", cfg, err)
	}
	for _, bad := range []string{"0", "-1", "nan", "inf", "0x10", "1_0", "20000%"} {
		if _, _, err := ConfigFromEnv(env("DIAGKIT_CONTENTION_THRESHOLD", bad)); err == nil || !strings.Contains(err.Error(), "DIAGKIT_CONTENTION_THRESHOLD") {
			t.Errorf("DIAGKIT_CONTENTION_THRESHOLD=%q: %v", bad, err)
		}
	}

	// Every bad value is named; nothing is guessed.
	_, _, err = ConfigFromEnv(env(
		"DIAGKIT_WINDOW", "10",
		"DIAGKIT_PREEMPT_THRESHOLD", "5",
		"DIAGKIT_HISTORY", "-3",
		"DIAGKIT_DISABLE", "maybe",
		"DIAGKIT_CGO_THRESHOLD", "0",
	))
	for _, name := range []string{"DIAGKIT_WINDOW", "DIAGKIT_PREEMPT_THRESHOLD", "DIAGKIT_HISTORY", "DIAGKIT_DISABLE", "DIAGKIT_CGO_THRESHOLD"} {
		if err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("error %v does not name %s", err, name)
		}
	}
}

// ConfigFromEnv reports every bad variable at once: those that do not parse
// and those Start's validation refuses (out of range, or not going
// together), each named by its variable, so that one restart fixes them all.
func TestConfigFromEnvReportsEveryBadVariableAtOnce(t *testing.T) {
	env := func(kv ...string) func(string) (string, bool) {
		m := map[string]string{}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
	}
	_, _, err := ConfigFromEnv(env("DIAGKIT_WINDOW", "-1s", "DIAGKIT_HISTORY", "10000000", "DIAGKIT_MAX_PROFILE_SECONDS", "5000"))
	if err == nil {
		t.Fatal("accepted")
	}
	for _, want := range []string{
		`DIAGKIT_WINDOW="-1s": want a positive duration`,
		`DIAGKIT_HISTORY="10000000": History 10000000: want 1 to 100000`,
		`DIAGKIT_MAX_PROFILE_SECONDS="5000": MaxProfileSeconds 5000: want 1 to 3600`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	if !strings.HasPrefix(err.Error(), "diag: invalid environment: ") || strings.Count(err.Error(), "\n") != 2 {
		t.Errorf("error %q: want the prefix and three lines", err)
	}

	for _, tc := range []struct {
		name string
		env  []string
		want string // in the error; "" for none
		not  string // never in the error
	}{
		// The deadline of a window this long overflowed: every window
		// failed as "busy", with Retry-After: 9223369201.
		{"huge window", []string{"DIAGKIT_WINDOW", "2562047h"}, `DIAGKIT_WINDOW="2562047h": Window 2562047h0m0s: want 100ms to 1h`, ""},
		{"huge interval", []string{"DIAGKIT_INTERVAL", "2562047h"}, `DIAGKIT_INTERVAL="2562047h": Interval 2562047h0m0s: want at most 24h`, ""},
		{"longest window", []string{"DIAGKIT_WINDOW", "1h", "DIAGKIT_INTERVAL", "24h"}, "", ""},
		{"interval shorter", []string{"DIAGKIT_WINDOW", "10s", "DIAGKIT_INTERVAL", "5s"},
			`DIAGKIT_INTERVAL="5s", DIAGKIT_WINDOW="10s": Interval 5s is shorter than Window 10s`, ""},
		// Judged on the default window, Interval would be "shorter than
		// Window 10s": the window's own error is enough.
		{"interval beside a bad window", []string{"DIAGKIT_WINDOW", "ten", "DIAGKIT_INTERVAL", "5s"}, `DIAGKIT_WINDOW="ten"`, "shorter than"},
		{"cert without key", []string{"DIAGKIT_TLS_CERT", "/etc/c.pem"}, `DIAGKIT_TLS_CERT="/etc/c.pem": TLSCertFile and TLSKeyFile: set both or neither`, ""},
		{"public address", []string{"DIAGKIT_ADDR", "0.0.0.0:6060"}, `DIAGKIT_ADDR="0.0.0.0:6060": Addr "0.0.0.0:6060" is reachable beyond loopback`, ""},
		{"CPU profiles", []string{"DIAGKIT_MAX_CONCURRENT_CPU_PROFILES", "5000"}, `DIAGKIT_MAX_CONCURRENT_CPU_PROFILES="5000": MaxConcurrentCPUProfiles 5000: want 1 to 1000`, ""},
		{"pyroscope query", []string{"DIAGKIT_PYROSCOPE_URL", "http://host/?apikey=SECRET"}, `DIAGKIT_PYROSCOPE_URL="http://host/?(redacted)": Pyroscope.ServerAddress`, "SECRET"},
		{"pyroscope user", []string{"DIAGKIT_PYROSCOPE_URL", "ftp://alice:SECRET@host/"}, `DIAGKIT_PYROSCOPE_URL="ftp://(redacted)@host/"`, "alice"},
		{"half basic auth", []string{"DIAGKIT_PYROSCOPE_URL", "http://host", "DIAGKIT_PYROSCOPE_PASSWORD", "SECRET"},
			`DIAGKIT_PYROSCOPE_PASSWORD=(redacted): Pyroscope.BasicAuthUser and BasicAuthPassword`, "SECRET"},
	} {
		cfg, _, err := ConfigFromEnv(env(tc.env...))
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case tc.want == "":
			if _, err := cfg.withDefaults(); err != nil {
				t.Errorf("%s: accepted from the environment, refused by Start: %v", tc.name, err)
			}
		case err == nil || !strings.Contains(err.Error(), tc.want):
			t.Errorf("%s: err = %v\nwant it to contain %s", tc.name, err, tc.want)
		case tc.not != "" && strings.Contains(err.Error(), tc.not):
			t.Errorf("%s: err = %v, shows %q", tc.name, err, tc.not)
		}
	}
}

// FuzzConfigFromEnv: whatever the variables hold, ConfigFromEnv does not
// panic, and a configuration it accepts passes Start's validation: one
// restart shows every error. Seeds are in testdata/fuzz/FuzzConfigFromEnv
// too.
func FuzzConfigFromEnv(f *testing.F) {
	f.Add("DIAGKIT_WINDOW", "10s")
	f.Add("DIAGKIT_PREEMPT_THRESHOLD", "1%")
	f.Add("DIAGKIT_PREEMPT_THRESHOLD", "1e400")
	f.Add("DIAGKIT_CGO_RATE_THRESHOLD", "NaN")
	f.Add("DIAGKIT_INTERVAL", "-5s")
	f.Add("DIAGKIT_HISTORY", "99999999999999999999")
	f.Add("DIAGKIT_ADDR", "[::1]:0")
	f.Add("DIAGKIT_SCHED_P99_THRESHOLD", "off")
	f.Add("DIAGKIT_CONTENTION_THRESHOLD", "250%")
	f.Add("DIAGKIT_CONTENTION_THRESHOLD", "0x1p3")
	f.Add("DIAGKIT_THROTTLE_THRESHOLD", "25%")
	f.Add("DIAGKIT_RESOLVE_AFTER", "0")
	f.Fuzz(func(t *testing.T, name, value string) {
		lookup := func(k string) (string, bool) {
			if k == name {
				return value, true
			}
			return "", false
		}
		cfg, _, err := ConfigFromEnv(lookup)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "diag: invalid environment: ") {
				t.Fatalf("error without prefix: %v", err)
			}
			return
		}
		full, err := cfg.withDefaults()
		if err != nil {
			t.Fatalf("%s=%q accepted by ConfigFromEnv, refused by Start: %v", name, value, err)
		}
		if full.AsyncPreemptThreshold > 1 || full.CgoThreshold > 1 || full.ThrottleThreshold > 1 || full.ContentionThreshold > 100 ||
			math.IsNaN(full.ContentionThreshold) || full.ResolveAfter < 1 ||
			full.Window <= 0 || full.Window > MaxWindow || full.Interval < full.Window || full.Interval > MaxInterval ||
			full.History <= 0 || full.History > MaxHistory {
			t.Fatalf("accepted an impossible config: %+v", full)
		}
	})
}
