package procstat

import (
	"os"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"
)

func TestAsyncPreemptOff(t *testing.T) {
	tests := []struct {
		name          string
		defaults, env string
		want          bool
	}{
		{"nothing", "", "", false},
		{"env on", "", "asyncpreemptoff=1", true},
		{"env explicit off", "", "asyncpreemptoff=0", false},
		{"any non-zero", "", "asyncpreemptoff=2", true},
		{"negative is non-zero", "", "asyncpreemptoff=-1", true},
		{"default on", "asyncpreemptoff=1", "", true},
		{"env overrides default", "asyncpreemptoff=1", "asyncpreemptoff=0", false},
		{"env turns on over default", "asyncpreemptoff=0", "asyncpreemptoff=1", true},
		{"last occurrence wins", "", "asyncpreemptoff=1,gctrace=1,asyncpreemptoff=0", false},
		{"last occurrence wins, on", "", "asyncpreemptoff=0,asyncpreemptoff=1", true},
		{"among other settings", "panicnil=1,httpmuxgo121=1", "gctrace=1,asyncpreemptoff=1,madvdontneed=1", true},
		{"bad value is skipped, earlier stands", "", "asyncpreemptoff=1,asyncpreemptoff=yes", true},
		{"bad value over default", "asyncpreemptoff=1", "asyncpreemptoff=", true},
		{"value beyond int32 is skipped", "", "asyncpreemptoff=4294967296", false},
		{"field without =", "", "asyncpreemptoff", false},
		{"key is exact", "", "Asyncpreemptoff=1, asyncpreemptoff=1,asyncpreemptoff =1", false},
		{"value is exact", "", "asyncpreemptoff= 1", false},
		{"empty fields", "", ",,asyncpreemptoff=1,,", true},
		{"value with =", "", "asyncpreemptoff=1=1", false},
		{"gccheckmark forces it off", "", "gccheckmark=1", true},
		{"gccheckmark=0", "", "gccheckmark=0,asyncpreemptoff=0", false},
		{"gccheckmark overridden", "gccheckmark=1", "gccheckmark=0", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := asyncPreemptOff(tt.defaults, tt.env); got != tt.want {
				t.Errorf("asyncPreemptOff(%q, %q) = %v, want %v", tt.defaults, tt.env, got, tt.want)
			}
		})
	}
}

func TestDefaultGODEBUG(t *testing.T) {
	info := func(settings ...debug.BuildSetting) func() (*debug.BuildInfo, bool) {
		return func() (*debug.BuildInfo, bool) { return &debug.BuildInfo{Settings: settings}, true }
	}
	tests := []struct {
		name string
		read func() (*debug.BuildInfo, bool)
		want string
	}{
		{"set", info(debug.BuildSetting{Key: "-compiler", Value: "gc"}, debug.BuildSetting{Key: "DefaultGODEBUG", Value: "asyncpreemptoff=1,panicnil=1"}), "asyncpreemptoff=1,panicnil=1"},
		{"not set", info(debug.BuildSetting{Key: "GOOS", Value: "linux"}), ""},
		{"no build info", func() (*debug.BuildInfo, bool) { return nil, false }, ""},
		{"nil build info", func() (*debug.BuildInfo, bool) { return nil, true }, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := defaultGODEBUG(tt.read); got != tt.want {
				t.Errorf("defaultGODEBUG = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestEffectiveAsyncPreemptOff checks the wiring: this test binary's build
// info and environment, as the runtime saw them.
func TestEffectiveAsyncPreemptOff(t *testing.T) {
	want := asyncPreemptOff(defaultGODEBUG(debug.ReadBuildInfo), os.Getenv("GODEBUG"))
	if got := effectiveAsyncPreemptOff(); got != want {
		t.Errorf("effectiveAsyncPreemptOff() = %v, want %v", got, want)
	}
	if got := Context(Take(), Take()).AsyncPreemptOff; got != want {
		t.Errorf("Context().AsyncPreemptOff = %v, want %v", got, want)
	}
}

// referenceAsyncPreemptOff is a second reading of the runtime's rule, for the
// fuzz target: scanning from the right, the first field whose key matches and
// whose value parses decides.
func referenceAsyncPreemptOff(defaults, env string) bool {
	fields := strings.Split(defaults+","+env, ",")
	last := func(key string) int64 {
		for i := len(fields) - 1; i >= 0; i-- {
			k, v, ok := strings.Cut(fields[i], "=")
			if !ok || k != key {
				continue
			}
			if n, err := strconv.ParseInt(v, 10, 32); err == nil {
				return n
			}
		}
		return 0
	}
	return last("asyncpreemptoff") != 0 || last("gccheckmark") > 0
}

// FuzzAsyncPreemptOff feeds arbitrary GODEBUG strings (the binary's default
// and the environment's) to the parser: it must not panic, must agree with
// the reference reading, and a trailing setting must win.
func FuzzAsyncPreemptOff(f *testing.F) {
	f.Add("", "")
	f.Add("", "asyncpreemptoff=1")
	f.Add("asyncpreemptoff=1", "asyncpreemptoff=0")
	f.Fuzz(func(t *testing.T, defaults, env string) {
		got := asyncPreemptOff(defaults, env)
		if want := referenceAsyncPreemptOff(defaults, env); got != want {
			t.Fatalf("asyncPreemptOff(%q, %q) = %v, reference says %v", defaults, env, got, want)
		}
		if joined := asyncPreemptOff("", defaults+","+env); joined != got {
			t.Fatalf("joining default and environment changed the answer: %v, then %v", got, joined)
		}
		if !asyncPreemptOff(defaults, env+",asyncpreemptoff=1") {
			t.Fatal("a trailing asyncpreemptoff=1 did not win")
		}
		if asyncPreemptOff(defaults, env+",asyncpreemptoff=0,gccheckmark=0") {
			t.Fatal("a trailing asyncpreemptoff=0,gccheckmark=0 did not win")
		}
	})
}
