// Package pprofhttp serves everything net/http/pprof serves, without importing
// net/http/pprof.
//
// Importing net/http/pprof registers its handlers on http.DefaultServeMux, so
// a library that imported it would expose profiles on every service that
// serves DefaultServeMux. Its CPU profile handler also calls
// runtime/pprof.StartCPUProfile itself, which collides with diagkit's CPU
// profiler hub, and its index only resolves names under the literal
// /debug/pprof/ prefix. This package registers nothing: [Handler] returns one
// http.Handler that the agent mounts where it wants, CPU profiles come from the
// [CPUProfiler] it is given, and every link is relative to the mount point.
//
// # Mounting
//
// The handler serves paths relative to where it is mounted; strip the prefix
// without its trailing slash:
//
//	mux.Handle("/debug/pprof/", http.StripPrefix("/debug/pprof", h))
//
// The mux then redirects /debug/pprof to /debug/pprof/. If the handler sees
// the bare prefix itself (for example mounted for both patterns, or with
// http.StripPrefix("/debug/pprof/", h)), it redirects to the slash form so the
// index's relative links resolve under the prefix.
//
// # Endpoints
//
// Relative to the mount point (shown here under /debug/pprof/):
//
//	/debug/pprof/               HTML index of all profiles with counts and descriptions
//	/debug/pprof/profile        CPU profile from the CPUProfiler; seconds=N (default 30)
//	/debug/pprof/trace          runtime/trace execution trace; seconds=N (default 1, may be fractional)
//	/debug/pprof/cmdline        the command line, arguments separated by NUL bytes
//	/debug/pprof/symbol         program counters to function names (GET query or POST body, '+'-separated)
//	/debug/pprof/NAME           the runtime/pprof profile NAME: heap, goroutine, allocs, block,
//	                            mutex, threadcreate and any profile made with pprof.NewProfile
//
// Only GET and HEAD are served, plus POST on symbol; other methods get 405.
//
// # Parameters
//
// Parameters are read from the URL query only (never from a POST form):
//
//   - seconds=N on profile and trace: how long to profile, from 1 to
//     Options.MaxSeconds (default 60); anything else is a 400.
//   - seconds=N on allocs, block, heap and mutex: a delta profile, the
//     difference between a snapshot now and one N seconds later.
//   - debug=N on named profiles: 0 is the binary proto format, N > 0 is text
//     (debug=2 on goroutine is the format of an unrecovered panic).
//   - gc=N on heap: N > 0 runs a garbage collection before the snapshot(s).
//
// Waits end early when the request's context is done, or when
// Options.Done is closed (503, or for a trace what was traced so far). An
// Options.Limiter bounds the requests that wait or read a body (profile,
// trace, delta profiles, symbol's POST): beyond it, 429 with Retry-After.
//
// Errors are plain text with the X-Go-Pprof header, which the pprof tool
// prints as the error.
package pprofhttp
