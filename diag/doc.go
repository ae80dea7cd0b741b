// Package diag is the diagkit agent: it finds out, inside a running Go
// service, when the scheduler is fighting the code.
//
// The agent owns the process's CPU profiler. Every Interval it profiles for
// Window, classifies every sample (package analysis: async preemption, cgo C
// time, cgo crossing overhead, threads Go does not own, Go), reads what the
// process looked like meanwhile (GOMAXPROCS against the cgroup quota and
// NumCPU, throttling, involuntary context switches, scheduling latency, cgo
// call rate) and logs a structured warning through zap when a share crosses
// its threshold, with the likely cause and the functions involved. It serves
// its reports as JSON and every net/http/pprof endpoint, with
// /debug/pprof/profile shared through the agent instead of fighting it.
//
// The simplest use is the side-effect import, configured by DIAGKIT_*
// environment variables:
//
//	import _ "github.com/diagkit/diagkit/diag/auto"
//
// To choose the logger or thresholds in code:
//
//	agent, err := diag.Start(diag.Config{Logger: logger, Window: 10 * time.Second})
//	if err != nil {
//		log.Fatal(err)
//	}
//	defer agent.Stop()
//
// # Endpoints
//
// The agent listens on 127.0.0.1:6060 by default (Config.Addr). To serve on
// your own mux instead, set Addr to AddrOff and mount Agent.Handler, under a
// prefix if net/http/pprof already owns /debug/pprof/ on that mux:
//
//	mux.Handle("/diagkit/", http.StripPrefix("/diagkit", agent.Handler()))
//
// Relative to that mount point:
//
//	/debug/pprof/            index of the profiles (links are relative)
//	/debug/pprof/profile     CPU profile, through the agent (?seconds=N, default 30)
//	/debug/pprof/trace       execution trace (?seconds=N, default 1)
//	/debug/pprof/heap, allocs, goroutine, block, mutex, threadcreate, cmdline, symbol
//	/debug/diag/report       the latest window report (api.WindowReport)
//	/debug/diag/history      recent window reports, oldest first (?n=N)
//	/debug/diag/status       configuration and counters (Status)
//
// Unlike importing net/http/pprof, importing diag registers nothing on
// http.DefaultServeMux: nothing is exposed unless you start the agent.
//
// # Parameters
//
// seconds is bounded by Config.MaxProfileSeconds (default 60); beyond it, or
// not a positive whole number, the request is a 400. A CPU profile request
// stops when the client goes away. When something outside diagkit holds the
// CPU profiler, profile answers 503 with Retry-After and the agent logs the
// state once, not per retry.
//
// # Safety
//
// The agent runs inside someone else's process: background failures are
// logged, never returned as panics; Stop ends everything it started; the
// history is bounded; an address beyond loopback requires Config.Token.
package diag
