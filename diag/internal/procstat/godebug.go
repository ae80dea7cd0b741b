package procstat

import (
	"os"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
)

// startupGODEBUG is $GODEBUG as the runtime saw it. The runtime reads
// asyncpreemptoff once, at startup, so a later os.Setenv changes nothing;
// reading the variable at package init, before main runs, matches that.
var startupGODEBUG = os.Getenv("GODEBUG")

// effectiveAsyncPreemptOff is asyncPreemptOff for this process, worked out
// once: neither input changes while it runs.
var effectiveAsyncPreemptOff = sync.OnceValue(func() bool {
	return asyncPreemptOff(defaultGODEBUG(debug.ReadBuildInfo), startupGODEBUG)
})

// defaultGODEBUG returns the binary's default GODEBUG, the build setting
// "DefaultGODEBUG" (from the main module's go version and //go:debug lines),
// or "" when there is none.
func defaultGODEBUG(readBuildInfo func() (*debug.BuildInfo, bool)) string {
	bi, ok := readBuildInfo()
	if !ok || bi == nil {
		return ""
	}
	for _, s := range bi.Settings {
		if s.Key == "DefaultGODEBUG" {
			return s.Value
		}
	}
	return ""
}

// asyncPreemptOff reports whether the runtime runs with asynchronous
// preemption off, given the binary's default GODEBUG and the GODEBUG
// environment variable. It applies them as the runtime does at startup: the
// defaults, then the environment, each a comma-separated list of key=value
// read left to right, so the last occurrence of a key wins; a field without
// "=" or a value that is not a 32-bit decimal integer is skipped and leaves
// the key as it was. asyncpreemptoff is off when non-zero, and gccheckmark>0
// turns it off as well.
func asyncPreemptOff(defaults, env string) bool {
	var off, checkmark int32
	for _, list := range [...]string{defaults, env} {
		for field := range strings.SplitSeq(list, ",") {
			key, value, ok := strings.Cut(field, "=")
			if !ok {
				continue
			}
			var dst *int32
			switch key {
			case "asyncpreemptoff":
				dst = &off
			case "gccheckmark":
				dst = &checkmark
			default:
				continue
			}
			if n, err := strconv.ParseInt(value, 10, 32); err == nil {
				*dst = int32(n)
			}
		}
	}
	return off != 0 || checkmark > 0
}
