// Package diag is the diagkit agent: it finds out, inside a running Go
// service, when the scheduler is fighting the code.
//
// The agent owns the process's CPU profiler. Every Interval it profiles for
// Window, classifies every sample (package analysis: async preemption, cgo C
// time, cgo crossing overhead, threads Go does not own, Go), reads what the
// process looked like meanwhile (throttling by the effective cgroup quota,
// its threads' run-queue wait, other processes' CPU, GOMAXPROCS against the
// quota and NumCPU, scheduling latency, cgo call rate) and logs a
// structured warning through zap for each problem it finds, with the likely
// causes ranked by evidence and the functions involved. It serves
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
// The agent listens on 127.0.0.1:6060 by default (Config.Addr). Every
// redirect it answers is relative, so it works under a prefix. To serve on
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
//	/debug/diag/             the dashboard: an HTML page over the history and the doctor (package dashboard)
//	/debug/diag/report       the latest window report (api.WindowReport)
//	/debug/diag/history      recent window reports, oldest first (?n=N)
//	/debug/diag/status       configuration and counters (Status)
//	/debug/diag/doctor       the tuning guide's checklist for this process (Agent.Doctor)
//	/debug/diag/evidence     the latest loop evidence (Agent.Evidence); /evidence/trace, its trace
//	/debug/diag/metrics      Prometheus metrics (see Metrics below)
//
// The dashboard fetches history and doctor relative to its own URL, so it
// works under any prefix. With a Token, a browser signs in to it with HTTP
// Basic: any user name, the token as the password. Basic credentials count
// on the paths under /debug/diag/ only (pprof takes the bearer token), and
// not on requests another site caused (Sec-Fetch-Site), but for a link to
// the page.
//
// Pull mode: a CPU profile someone scrapes from /debug/pprof/profile
// (Grafana Alloy takes 14 s of every 15, Parca 10 of every 10) comes from
// the same hub as the agent's own windows, and a window of 1 s or more is
// analyzed and reported too (Source "http"). While scrapes keep coming, the
// periodic loop skips its own windows: the analysis stays fed and the agent
// adds no profiling.
//
// Unlike importing net/http/pprof, importing diag registers nothing on
// http.DefaultServeMux: nothing is exposed unless you start the agent.
//
// # Parameters
//
// seconds is bounded by Config.MaxProfileSeconds (default 60); beyond it, or
// not a positive whole number, the request is a 400. A CPU profile request
// stops when the client goes away.
//
// At most Config.MaxConcurrentProfiles (default 4) expensive requests are
// served at once: trace, delta profiles (anything else that waits for
// seconds) and the symbol POST; and at most Config.MaxConcurrentCPUProfiles
// (default 32) CPU profiles, which share one profiler run. One more is
// answered at once with 429 Too Many Requests and Retry-After, never
// queued. The metrics endpoint serves 10 requests at once (503 beyond); the
// index, snapshots, cmdline and the other JSON endpoints are not limited,
// and the history is streamed a few reports at a time. A request gives its
// slot back when it ends, when its client goes away, or on Stop, which ends
// every such wait (503 for a profile or delta cut short, and for one asked
// for after Stop; a trace sends what it traced). Status.ProfilesInFlight,
// ProfilesRejected, CPUProfilesInFlight and CPUProfilesRejected count them.
// When something outside diagkit holds the CPU profiler, profile answers
// 503 with Retry-After and the agent logs the state once, not per retry.
//
// One agent runs in a process at a time: it owns the process's CPU
// profiler. While one runs, Start returns an error naming it (where it
// listens, who started it); use it or Stop it first.
//
// # Metrics
//
// PathMetrics serves the agent's Prometheus metrics in the text exposition
// format, from a registry of the agent's own that holds nothing else (no
// go_* or process_* metrics: the service's own /metrics has those). The
// token protects it like every endpoint; with one, give Prometheus an
// authorization block (type Bearer) in the scrape config. Nothing is
// registered on prometheus.DefaultRegisterer unless Config.MetricsRegisterer
// says so: a registerer given there receives the same collector, in addition
// to the agent's registry, and loses it on Stop. A registration error (a
// second agent on the same registerer, a metric of the same name already
// there) fails Start.
//
// The metrics are read when scraped; no goroutine updates them. Those of
// the latest window are gauges, absent until the first window completes
// ("no window yet" is not 0), and each is absent, never 0, while its figure
// is unavailable (api.Context's nil):
//
//	diagkit_cpu_share_ratio{bucket}          share of CPU time per bucket (go, async_preempt,
//	                                         preempt_sched, cgo_c, cgo_crossing, external_thread,
//	                                         external_no_stack, external_lost, runtime_no_stack); sums to 1
//	                                         (all 0 for a window without samples)
//	diagkit_window_timestamp_seconds         end of the window, Unix seconds
//	diagkit_gomaxprocs_threads               GOMAXPROCS at the window's end
//	diagkit_cgroup_cpu_limit_cpus            cgroup CPU quota in CPUs; absent without a limit
//	diagkit_run_queue_wait_ratio             run-queue wait per second of CPU (schedstat)
//	diagkit_cgroup_throttled_periods_ratio   share of cgroup periods throttled
//	diagkit_other_processes_cpus             CPUs other processes used on its CPUs (/proc/stat)
//
// The process's own counters are read from it at each scrape, present from
// the start (each absent where the platform cannot tell); rate() them:
//
//	diagkit_sched_latency_seconds            histogram of the time goroutines waited between runnable
//	                                         and running (/sched/latencies:seconds, powers of 2 from
//	                                         1µs to 1s): histogram_quantile(0.99, rate(..._bucket[5m]))
//	diagkit_cgo_calls_total                  Go→C calls (/cgo/go-to-c-calls:calls)
//	diagkit_involuntary_context_switches_total  involuntary context switches (getrusage)
//	diagkit_run_queue_wait_seconds_total     the threads' run-queue wait (/proc/self/task/*/schedstat)
//	diagkit_cgroup_periods_total             cpu.stat of the cgroup that sets the effective limit:
//	diagkit_cgroup_throttled_periods_total   periods, periods throttled,
//	diagkit_cgroup_throttled_seconds_total   and the time throttled
//
// The agent's own, present from the start:
//
//	diagkit_windows_analyzed_total          windows analyzed (Status.Windows)
//	diagkit_window_failures_total           windows that produced no report (Status.Failures)
//	diagkit_profiler_busy_events_total      times another profiler took the CPU profiler
//	diagkit_profiler_busy                   gauge: 1 while it holds it, else 0
//	diagkit_warnings_total{kind}            warnings raised: one per window crossing kind's threshold,
//	                                        logged or not (api.Warn* kinds, all present from 0)
//	diagkit_warnings_logged_total{kind}     of those, logged (the cooldown let them through)
//	diagkit_warning_active{kind}            gauge: 1 while the kind's episode lasts, else 0
//	diagkit_push_sent_total                 push backend counters (Status.Push*); 0 without one
//	diagkit_push_errors_total
//	diagkit_push_dropped_total
//	diagkit_push_retries_total              retries of retryable upload failures
//	diagkit_push_rejected_total             profiles refused with a non-retryable 4xx
//	diagkit_push_stale_total                profiles dropped as older than the ingestion window
//	diagkit_push_sample_labels_total{action} sample label keys renamed or dropped for the server
//
// diag/alerts/diagkit.rules.yml has Prometheus alerting rules over them,
// one per warning kind.
//
// A window metric changes once per Interval; scraping more often than that
// reads the same window again, which diagkit_window_timestamp_seconds tells.
//
// # Pyroscope
//
// With Config.Pyroscope.ServerAddress set (DIAGKIT_PYROSCOPE_URL), the agent
// pushes profiles to a Grafana Pyroscope server's /ingest, with
// pyroscope-go's uploader (upstream/remote), every UploadRate (default 15 s):
//
//   - CPU: back-to-back windows of UploadRate taken from the profiler the
//     agent shares (cpuhub's Stream), so no second StartCPUProfile happens
//     anywhere. pyroscope.Start is not used: its session would call
//     runtime/pprof.StartCPUProfile for ProfileCPU.
//   - The other types (heap by default; goroutines, mutex and block as
//     configured): pyroscope-go's own Session, created without ProfileCPU,
//     which then never touches the CPU profiler, uploading into diagkit's
//     queue instead of its uploader.
//
// Profiles are named "app{k=v,...}": the application name (default: the
// executable's), tags hostname, version, service_repository and
// service_git_ref (from the build info), the configured Tags (at most 17,
// so a series stays within the server's 30 labels), and pyroscope-go's
// session and runtime labels. Tag names follow the server's own grammar
// (github.com/grafana/pyroscope/api/model/labelset); pprof sample label
// keys the server would refuse are rewritten or dropped in the uploaded
// bytes, and counted. Basic auth, the tenant (X-Scope-OrgID) and extra
// headers are sent as pyroscope-go sends them; HTTPHeaders may not
// override the first two. The password, and the URL's user info and query,
// are never logged or printed.
//
// The push never holds the program up: producers only append to a queue of
// QueueSize profiles that drops its oldest when full; one goroutine uploads,
// each request bounded by Timeout. A retryable failure (no answer, 408,
// 429, 5xx) is retried up to 4 tries with jittered backoff, at least the
// server's Retry-After; another 4xx is a rejection, never retried; a
// profile older than the server's ingestion window (1 h) is dropped unsent.
// Status.PushSent, PushErrors and PushDropped and the diagkit_push_*
// metrics count it all; the log gets at most a line a minute about failures and one about
// drops. Stop sends what is queued for at most FlushTimeout (5 s), then
// drops the rest.
//
// # Safety
//
// The agent runs inside someone else's process: background failures are
// logged, never returned as panics; Stop ends everything it started; the
// history is bounded; an address beyond loopback requires Config.Token;
// expensive requests are bounded (429 beyond MaxConcurrentProfiles); the
// only request body read (symbol's POST) is bounded to 1 MiB and headers to
// 64 KiB; net/http's own errors go to the agent's logger, not the process's
// standard logger.
//
// With Config.TLSCertFile and TLSKeyFile (DIAGKIT_TLS_CERT, DIAGKIT_TLS_KEY)
// the agent's own server serves HTTPS only, TLS 1.2 or later. The pair is
// loaded at Start: a missing file or a key that does not match the
// certificate fails Start with a "diag: " error. Loaded once, the files are
// not watched: restart the agent to rotate them. With AddrOff, TLS is the job
// of the server Handler is mounted on.
//
// CI runs staticcheck (pinned in .ci/run) besides go vet, and the code is
// kept free of its findings.
package diag
