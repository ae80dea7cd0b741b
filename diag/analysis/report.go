package analysis

// Schema identifies the version of the report format. It changes only when a
// field is removed or its meaning changes; new fields may be added within a
// version.
const Schema = "diagkit.report/v1"

// Bucket names one class of CPU samples. See the package documentation for
// what puts a sample in each bucket.
type Bucket string

// The buckets, in the order reports list them.
const (
	BucketGo              Bucket = "go"
	BucketAsyncPreempt    Bucket = "async_preempt"
	BucketPreemptSched    Bucket = "preempt_sched"
	BucketCgoC            Bucket = "cgo_c"
	BucketCgoCrossing     Bucket = "cgo_crossing"
	BucketExternalThread  Bucket = "external_thread"
	BucketExternalNoStack Bucket = "external_no_stack"
	BucketExternalLost    Bucket = "external_lost"
	BucketRuntimeNoStack  Bucket = "runtime_no_stack"
)

// Buckets lists every bucket in report order.
var Buckets = []Bucket{
	BucketGo, BucketAsyncPreempt, BucketPreemptSched,
	BucketCgoC, BucketCgoCrossing,
	BucketExternalThread, BucketExternalNoStack, BucketExternalLost,
	BucketRuntimeNoStack,
}

// Report is the result of analyzing one CPU profile. It is the JSON document
// that diagctl prints with -o json and that the diagkit agent serves.
//
// All shares are fractions of the profile's CPU time in [0, 1]. A profile with
// no CPU time has every share 0 and says so in Notes.
type Report struct {
	// Schema is the format version, Schema.
	Schema string `json:"schema"`
	// Samples is the number of CPU samples (the samples/count values, lost
	// non-Go samples included).
	Samples int64 `json:"samples"`
	// Records is the number of distinct sample records (stacks) in the profile.
	Records int `json:"records"`
	// CPUSeconds is the CPU time the profile accounts for.
	CPUSeconds float64 `json:"cpu_seconds"`
	// DurationSeconds is the wall-clock length of the profile, 0 if unknown.
	DurationSeconds float64 `json:"duration_seconds"`
	// PeriodSeconds is the sampling period (0.01 at the default 100 Hz), 0 if
	// unknown.
	PeriodSeconds float64 `json:"period_seconds"`
	// Shares groups the buckets into the figures most readers want. They sum
	// to 1 when the profile has CPU time.
	Shares Shares `json:"shares"`
	// Buckets has one entry per bucket (every bucket is present), keyed by
	// Bucket name. Their shares sum to 1 when the profile has CPU time.
	Buckets map[Bucket]BucketStat `json:"buckets"`
	// TopPreempted lists the functions async preemption interrupted (the
	// frame under runtime.asyncPreempt), most CPU first.
	TopPreempted []FuncStat `json:"top_preempted"`
	// TopCgoCalls lists the Go call sites of cgo calls (the Go function that
	// called the _Cfunc_ stub) with the C function called, most CPU first.
	// Both C time and crossing overhead count.
	TopCgoCalls []FuncStat `json:"top_cgo_calls"`
	// Interpretation is one line saying what the figures most likely mean
	// (Interpret's reading of this report).
	Interpretation string `json:"interpretation"`
	// Notes explains anything that limits how far the figures can be
	// trusted: an empty profile, unsymbolized frames, dropped values.
	Notes []string `json:"notes,omitempty"`
}

// Shares are the headline fractions of CPU time. The JSON keys
// "async_preempt", "cgo" and "external" are part of the stable format.
type Shares struct {
	// Go is ordinary Go code, the runtime included.
	Go float64 `json:"go"`
	// AsyncPreempt is samples whose leaf is runtime.asyncPreempt.
	AsyncPreempt float64 `json:"async_preempt"`
	// PreemptSched is scheduling work that follows an async preemption.
	PreemptSched float64 `json:"preempt_sched"`
	// Cgo is C time plus cgo crossing overhead.
	Cgo float64 `json:"cgo"`
	// External is non-Go threads, lost non-Go samples and external code run
	// by Go threads whose stacks could not be walked.
	External float64 `json:"external"`
	// RuntimeNoStack is Go threads whose stacks could not be walked.
	RuntimeNoStack float64 `json:"runtime_no_stack"`
}

// BucketStat is the CPU one bucket accounts for.
type BucketStat struct {
	Samples    int64   `json:"samples"`
	CPUSeconds float64 `json:"cpu_seconds"`
	Share      float64 `json:"share"`
}

// FuncStat attributes CPU time to one function.
type FuncStat struct {
	// Function is the Go function's full name, e.g. "main.spin".
	Function string `json:"function"`
	// File and Line locate the hottest line of Function among the samples
	// counted here.
	File string `json:"file,omitempty"`
	Line int64  `json:"line,omitempty"`
	// Inlined is true when that line was inlined into its caller.
	Inlined bool `json:"inlined,omitempty"`
	// CFunction is the C function called, for cgo call sites ("" when the
	// profile does not show it).
	CFunction string `json:"c_function,omitempty"`
	// Samples and CPUSeconds are the samples and CPU time attributed here;
	// Share is CPUSeconds as a fraction of the whole profile's CPU time.
	Samples    int64   `json:"samples"`
	CPUSeconds float64 `json:"cpu_seconds"`
	Share      float64 `json:"share"`
}
