package pprofhttp

import (
	"fmt"
	"net/url"
	"strconv"
	"time"
)

// endpoint says which query parameters a request takes and how.
type endpoint int

const (
	epCPU   endpoint = iota // profile: seconds, a positive integer, default 30
	epTrace                 // trace: seconds, a positive number, default 1
	epNamed                 // named profiles: seconds (delta), debug, gc
)

// Defaults for seconds, as net/http/pprof has them.
const (
	defaultCPUSeconds   = 30
	defaultTraceSeconds = 1
)

// params are the validated query parameters of one request.
type params struct {
	// dur is how long to profile or trace, or for a named profile how long
	// the delta covers (0: no seconds, a plain snapshot).
	dur time.Duration
	// debug is the runtime/pprof debug level of a named profile.
	debug int
	// gc asks for a garbage collection before a heap snapshot.
	gc bool
}

// paramError is a bad query parameter; its text is the 400's body.
type paramError string

func (e paramError) Error() string { return string(e) }

// parseParams validates the query parameters ep takes; maxSeconds (at least 1)
// bounds seconds. The error is a paramError to answer with 400.
func parseParams(q url.Values, ep endpoint, maxSeconds int64) (params, error) {
	var p params
	s := q.Get("seconds")
	switch ep {
	case epCPU:
		sec := min(int64(defaultCPUSeconds), maxSeconds)
		if s != "" {
			var err error
			if sec, err = parseSeconds(s, maxSeconds); err != nil {
				return params{}, err
			}
		}
		p.dur = time.Duration(sec) * time.Second
	case epTrace:
		p.dur = defaultTraceSeconds * time.Second
		if n, err := strconv.ParseInt(s, 10, 64); err == nil && n > 0 {
			// Whole seconds, exact: a float64 would round large ones.
			if n > maxSeconds {
				return params{}, tooLong(maxSeconds)
			}
			p.dur = time.Duration(n) * time.Second
		} else if s != "" {
			f, err := strconv.ParseFloat(s, 64)
			if err != nil || !(f > 0) { // !(f > 0) also rejects NaN
				return params{}, paramError(`invalid value for "seconds" - must be a positive number`)
			}
			if f > float64(maxSeconds) { // also +Inf; checked before the conversion can overflow
				return params{}, tooLong(maxSeconds)
			}
			if p.dur = time.Duration(f * float64(time.Second)); p.dur <= 0 {
				return params{}, paramError(`invalid value for "seconds" - must be a positive number`)
			}
		}
	case epNamed:
		if s != "" {
			sec, err := parseSeconds(s, maxSeconds)
			if err != nil {
				return params{}, err
			}
			p.dur = time.Duration(sec) * time.Second
		}
		if d := q.Get("debug"); d != "" {
			n, err := strconv.Atoi(d)
			if err != nil || n < 0 {
				return params{}, paramError(`invalid value for "debug" - must be a non-negative integer`)
			}
			p.debug = n
		}
		if g := q.Get("gc"); g != "" {
			n, err := strconv.Atoi(g)
			if err != nil {
				return params{}, paramError(`invalid value for "gc" - must be an integer`)
			}
			p.gc = n > 0
		}
		if p.dur > 0 && p.debug != 0 {
			return params{}, paramError("seconds and debug params are incompatible")
		}
	}
	return p, nil
}

// parseSeconds parses a whole number of seconds in [1, maxSeconds].
func parseSeconds(s string, maxSeconds int64) (int64, error) {
	sec, err := strconv.ParseInt(s, 10, 64)
	if err != nil || sec <= 0 {
		return 0, paramError(`invalid value for "seconds" - must be a positive integer`)
	}
	if sec > maxSeconds {
		return 0, tooLong(maxSeconds)
	}
	return sec, nil
}

func tooLong(maxSeconds int64) error {
	return paramError(fmt.Sprintf(`invalid value for "seconds" - must be at most %d`, maxSeconds))
}
