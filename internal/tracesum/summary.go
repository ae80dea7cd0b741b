package tracesum

import "errors"

// Schema names the JSON document a Summary encodes to. Fields may be added
// within a schema version; none is removed or changes meaning.
const Schema = "diagkit.trace/v1"

// DefaultTop is how many entries the top lists keep when Options.Top is 0.
const DefaultTop = 10

// Defaults for the bounds on work and memory.
const (
	DefaultMaxEvents     = 200_000_000
	DefaultMaxGoroutines = 1_000_000
)

// Errors Summarize returns, wrapped with details.
var (
	// ErrEmpty: the input has no bytes.
	ErrEmpty = errors.New("empty input")
	// ErrNotTrace: the input does not start like a Go execution trace.
	ErrNotTrace = errors.New("not a Go execution trace")
	// ErrUnsupported: a Go execution trace in a format the parser does not
	// read (before Go 1.11, or newer than it knows).
	ErrUnsupported = errors.New("unsupported trace version")
	// ErrInvalid: a trace that is truncated or corrupt.
	ErrInvalid = errors.New("invalid trace")
)

// Options tune Summarize.
type Options struct {
	// Top is how many entries each top list keeps: 0 means DefaultTop, a
	// negative value keeps none.
	Top int
	// MaxEvents stops the summary after that many events (0:
	// DefaultMaxEvents); the Summary then says it is partial.
	MaxEvents int64
	// MaxGoroutines bounds the goroutines tracked at once (0:
	// DefaultMaxGoroutines); the ones beyond are not followed.
	MaxGoroutines int
}

// Summary is what a trace says about scheduling, preemption, system calls and
// cgo. Times are in seconds; StartSeconds fields are offsets from the start of
// the trace.
type Summary struct {
	Schema string `json:"schema"`

	// GoVersion is the Go release that introduced the trace's format, as its
	// header says ("go 1.19 trace" → "go1.19"): a lower bound on the
	// version of the Go that built the traced program, which may be any
	// release that writes that format (GoVersions). It is the figure to
	// compare with a program's `go version`, to the minor version.
	GoVersion string `json:"go_version"`
	// GoVersions are the releases known to write the format, such as
	// "go1.19–go1.20".
	GoVersions string `json:"go_versions"`
	// FormatVersion is the minor version in the header (19 for "go 1.19
	// trace").
	FormatVersion int `json:"format_version"`
	// OldFormat is set for the format of Go 1.11–1.21, which the parser
	// converts: system calls there have a duration only when they blocked.
	OldFormat bool `json:"old_format"`

	// DurationSeconds is the time from the first event to the last.
	DurationSeconds float64 `json:"duration_seconds"`
	// Procs is GOMAXPROCS: the value the trace records (the last one, if it
	// changed), or, where it records none (old-format traces), the number of
	// Ps seen, a lower bound. ProcsSource says which.
	Procs       int    `json:"procs"`
	ProcsSource string `json:"procs_source"` // "gomaxprocs" or "ps_seen"
	// ProcsSeen is the number of distinct Ps that appear in the trace.
	ProcsSeen int `json:"procs_seen"`
	// Goroutines is the number of distinct goroutines that appear.
	Goroutines int   `json:"goroutines"`
	Events     int64 `json:"events"`

	// RunnableWaitP99Seconds is RunnableWait.P99Seconds: the 99th
	// percentile of how long a runnable goroutine waited for a P.
	RunnableWaitP99Seconds float64 `json:"runnable_wait_p99_seconds"`

	Preemptions Preemptions `json:"preemptions"`
	Balance     Balance     `json:"balance"`
	LongestRuns []Run       `json:"longest_runs"`
	// Syscalls are the system calls, but for cgo calls (Cgo) and the
	// by-design waits (ByDesign).
	Syscalls CallStats `json:"syscalls"`
	Cgo      CallStats `json:"cgo"`
	// ByDesign are the system call states in which the runtime's and the
	// standard library's own goroutines wait by design, for as long as
	// there is nothing to do: the CPU profiler's reader
	// (runtime.(*profBuf).read, runtime/pprof.readProfile), os/signal's
	// receiver (os/signal.signal_recv), the execution tracer's reader
	// (runtime.ReadTrace) and the network poller. A diagkit agent runs the
	// first two. They are counted here, by waiter, and not in Syscalls;
	// Interpret does not judge them.
	ByDesign     CallStats `json:"by_design"`
	RunnableWait WaitStats `json:"runnable_wait"`

	// Partial is set when a bound (Options) stopped the summary short or
	// left goroutines unfollowed; Notes say which.
	Partial bool     `json:"partial"`
	Notes   []string `json:"notes"`
	// Interpretation reads the figures the way the tuning guide does, in
	// one sentence or a few.
	Interpretation string `json:"interpretation"`
}

// Preemptions counts how goroutines were stopped against their will.
type Preemptions struct {
	// Total is the number of goroutines stopped with the reason "preempted"
	// (the tuning guide's GoPreempt events): Async + Cooperative +
	// RuntimeYield + Unknown.
	Total int64 `json:"total"`
	// Async: stopped by a signal (runtime.asyncPreempt on the stack).
	Async int64 `json:"async"`
	// Cooperative: stopped at a function prologue's stack check.
	Cooperative int64 `json:"cooperative"`
	// RuntimeYield: the runtime yielding internally (runtime.goyield).
	RuntimeYield int64 `json:"runtime_yield"`
	// Unknown: no stack to tell.
	Unknown int64 `json:"unknown"`
	// PerSecond is Total over the trace's duration; PerBusySecond over the
	// Ps' busy time, which does not grow with idle Ps.
	PerSecond     float64 `json:"per_second"`
	PerBusySecond float64 `json:"per_busy_second"`
	// GCSuspend counts goroutines parked so that the garbage collector
	// could scan their stacks (a block with the reason "preempted"), apart
	// from Total.
	GCSuspend int64 `json:"gc_suspend"`
	// Gosched counts voluntary runtime.Gosched yields, apart from Total.
	Gosched int64 `json:"gosched"`
	// Functions are where preempted goroutines were stopped: the first
	// frame outside the runtime, most preemptions first.
	Functions []FuncCount `json:"functions"`
}

// FuncCount is a function and how often something happened in it.
type FuncCount struct {
	Function string `json:"function"`
	File     string `json:"file,omitempty"`
	Count    int64  `json:"count"`
}

// Balance says how evenly the Ps were busy running goroutines.
type Balance struct {
	// Procs has one entry per P: the Ps 0 to Summary.Procs-1, and any
	// other P that ran something.
	Procs []ProcBusy `json:"procs"`
	// BusySeconds is the time goroutines ran, summed over Ps.
	BusySeconds float64 `json:"busy_seconds"`
	// Utilization is BusySeconds over DurationSeconds × len(Procs).
	Utilization float64 `json:"utilization"`
	// The least, most and mean busy share (busy time over the duration) of
	// the Ps.
	MinShare  float64 `json:"min_share"`
	MaxShare  float64 `json:"max_share"`
	MeanShare float64 `json:"mean_share"`
	// CV is the coefficient of variation of the Ps' busy time (standard
	// deviation over mean): 0 is perfectly even; one busy P among n idle
	// ones gives √(n-1).
	CV float64 `json:"cv"`
	// Runs is the number of goroutine runs.
	Runs int64 `json:"runs"`
	// UnattributedSeconds is run time on no known P (rare: events that name
	// no P); it is in BusySeconds but in no P's share.
	UnattributedSeconds float64 `json:"unattributed_seconds,omitempty"`
}

// ProcBusy is one P's busy time.
type ProcBusy struct {
	ID          int     `json:"id"`
	BusySeconds float64 `json:"busy_seconds"`
	Share       float64 `json:"share"`
	Runs        int64   `json:"runs"`
}

// Run is one uninterrupted stretch of a goroutine running.
type Run struct {
	Goroutine    int64   `json:"goroutine"`
	Seconds      float64 `json:"seconds"`
	StartSeconds float64 `json:"start_seconds"`
	// P is the P it ran on, -1 if unknown.
	P int `json:"p"`
	// Ended says how the run ended: "preempted (async)", "preempted
	// (cooperative)", "gosched", "gc stack scan", "blocked: REASON",
	// "syscall", "cgo", "exited", or "trace end" (still running).
	Ended string `json:"ended"`
	// Truncated is set when the run began before the trace or outlasted
	// it: its length is a lower bound.
	Truncated bool `json:"truncated,omitempty"`
	// Function, File and Line are where the run ended: the first frame
	// outside the runtime of the stack the trace recorded then (for a
	// preempted loop, the loop). Empty when the trace has no stack there.
	Function string `json:"function,omitempty"`
	File     string `json:"file,omitempty"`
	Line     int    `json:"line,omitempty"`
	// GoroutineFunction is the function the goroutine was started with,
	// when the trace tells.
	GoroutineFunction string `json:"goroutine_function,omitempty"`
	// Inferred is set when Function is empty (no stack, or one with
	// frames of the runtime only: on Go 1.26 the stack of an async
	// preemption can end at runtime.asyncPreempt2 ← runtime.asyncPreempt,
	// without the interrupted function) and the trace knows something of
	// the goroutine: where it started, where it was seen last. That is
	// context, not where the run ended.
	Inferred *InferredWhere `json:"inferred_where,omitempty"`
	// Stack is the recorded stack, leaf first, at most maxStackFrames.
	Stack []Frame `json:"stack,omitempty"`
}

// InferredWhere is what a trace knows of a goroutine whose stack, where a run
// ended, does not say where it was.
type InferredWhere struct {
	// Started is the function the goroutine was started with: from its
	// creation event, File and Line are the function's entry; for a
	// goroutine older than the trace, the outermost frame of the first
	// stack the trace has of it.
	Started *Frame `json:"started,omitempty"`
	// LastSeen is the first frame outside the runtime of the latest
	// earlier stack of the goroutine that had one: a block, a system call,
	// a preemption, or a CPU profile sample (when the CPU profiler ran
	// during the trace). The goroutine may have moved on since.
	LastSeen *Frame `json:"last_seen,omitempty"`
}

// Frame is one stack frame.
type Frame struct {
	Function string `json:"function"`
	File     string `json:"file,omitempty"`
	Line     int    `json:"line,omitempty"`
}

// CallStats is time spent in system calls, or in cgo calls.
type CallStats struct {
	Count        int64   `json:"count"`
	TotalSeconds float64 `json:"total_seconds"`
	MaxSeconds   float64 `json:"max_seconds"`
	// Open counts the calls the trace cut: under way when it started, or
	// still when it ended (such as a goroutine parked in a blocking read
	// all along). Their times count up to the trace's edges.
	// MaxCompleteSeconds is the longest of the others, seen whole.
	Open               int64   `json:"open"`
	MaxCompleteSeconds float64 `json:"max_complete_seconds"`
	// LongCalls counts the calls seen whole that lasted LongCallFlag
	// (10 ms) or more.
	LongCalls int64 `json:"long_calls"`
	// Share is TotalSeconds over the duration: the mean number of
	// goroutines in such calls.
	Share float64 `json:"share"`
	// Blocked counts the calls that lost their P: the runtime handed it to
	// other work because the call lasted (more than about 20 µs).
	Blocked int64 `json:"blocked"`
	// Longest are the longest calls.
	Longest []Call `json:"longest"`
	// Sites are the called functions (the syscall wrapper, or the C
	// function for cgo) by total time.
	Sites []Site `json:"sites"`
}

// Call is one system call or cgo call.
type Call struct {
	Goroutine    int64   `json:"goroutine"`
	Seconds      float64 `json:"seconds"`
	StartSeconds float64 `json:"start_seconds"`
	// Function is what was called: the leaf frame for a system call
	// (syscall.read), the C function for cgo (as C.name).
	Function string `json:"function"`
	// Caller is the first frame outside the runtime, syscall and internal
	// packages (for cgo, the Go function calling C), with its location.
	Caller    string `json:"caller,omitempty"`
	File      string `json:"file,omitempty"`
	Line      int    `json:"line,omitempty"`
	Truncated bool   `json:"truncated,omitempty"`
}

// Site is a called function and the calls to it.
type Site struct {
	Function     string  `json:"function"`
	Count        int64   `json:"count"`
	TotalSeconds float64 `json:"total_seconds"`
	MaxSeconds   float64 `json:"max_seconds"`
}

// WaitStats is the distribution of runnable→running waits.
type WaitStats struct {
	Count        int64   `json:"count"`
	TotalSeconds float64 `json:"total_seconds"`
	MeanSeconds  float64 `json:"mean_seconds"`
	P50Seconds   float64 `json:"p50_seconds"`
	P90Seconds   float64 `json:"p90_seconds"`
	P99Seconds   float64 `json:"p99_seconds"`
	P999Seconds  float64 `json:"p999_seconds"`
	MaxSeconds   float64 `json:"max_seconds"`
	// Histogram counts the waits by decade: each bucket holds the waits
	// from FromSeconds up to (not including) ToSeconds; the last one has
	// no upper bound (ToSeconds 0).
	Histogram []Bucket `json:"histogram"`
	// Pending is the number of goroutines still runnable when the trace
	// ended, PendingMaxSeconds the longest they had waited by then.
	Pending           int64   `json:"pending"`
	PendingMaxSeconds float64 `json:"pending_max_seconds"`
}

// Bucket is a histogram bucket.
type Bucket struct {
	FromSeconds float64 `json:"from_seconds"`
	ToSeconds   float64 `json:"to_seconds"`
	Count       int64   `json:"count"`
}
