package analysis

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"sort"
	"strings"

	"github.com/google/pprof/profile"
)

// DefaultTop is how many functions TopPreempted and TopCgoCalls list when
// Options.Top is 0.
const DefaultTop = 10

// Options tune Analyze. The zero value gives the documented defaults.
type Options struct {
	// Top is how many entries TopPreempted and TopCgoCalls keep (default
	// DefaultTop; negative keeps none).
	Top int
}

// Errors Analyze and Parse wrap; test for them with errors.Is.
var (
	// ErrEmpty: the input has no bytes.
	ErrEmpty = errors.New("empty input")
	// ErrNotCPUProfile: the profile is valid but not a CPU profile (a heap,
	// goroutine or other profile).
	ErrNotCPUProfile = errors.New("not a CPU profile")
	// ErrUnsymbolized: no location in the profile has a function name, so no
	// sample can be classified.
	ErrUnsymbolized = errors.New("profile has no symbol information")
	// ErrInvalid: the bytes are not a pprof profile (or a truncated one).
	ErrInvalid = errors.New("invalid profile")
	// ErrTooLarge: the profile decompresses to more than MaxProfileBytes.
	ErrTooLarge = errors.New("profile too large")
)

// MaxProfileBytes bounds what a profile may decompress to. A 100,000-record
// CPU profile is about 20 MB uncompressed; the bound keeps a gzip bomb (a
// few hundred kilobytes that inflate to gigabytes) from exhausting memory.
const MaxProfileBytes = 256 << 20

// maxDecompressed is MaxProfileBytes; tests lower it.
var maxDecompressed int64 = MaxProfileBytes

// maxGzipLayers bounds how many gzip layers Parse peels off: a profile is
// gzipped once, or twice when something gzipped the file again. Each layer
// holds a decompressor's window; the bound keeps a deeply nested input from
// piling them up.
const maxGzipLayers = 8

// Parse decodes a pprof profile, gzipped or not (any number of gzip layers up
// to maxGzipLayers, as profile.ParseData only gunzips one, without a bound).
// The bytes decompressed, summed over every layer, are at most
// MaxProfileBytes. It returns an error wrapping ErrEmpty, ErrTooLarge or
// ErrInvalid for bad input, and never panics, whatever the bytes.
func Parse(data []byte) (p *profile.Profile, err error) {
	if len(data) == 0 {
		return nil, fmt.Errorf("analysis: %w", ErrEmpty)
	}
	defer func() {
		if r := recover(); r != nil {
			p, err = nil, fmt.Errorf("analysis: %w: decoder failed: %v", ErrInvalid, r)
		}
	}()
	// profile.ParseData would gunzip without a bound: hand it plain bytes,
	// which it parses as they are.
	if data, err = gunzip(data, maxDecompressed); err != nil {
		return nil, err
	}
	p, err = profile.ParseData(data)
	if err != nil {
		return nil, fmt.Errorf("analysis: %w: %v", ErrInvalid, err)
	}
	return p, nil
}

// Decompress peels every gzip layer off data under the same budget as Parse
// (MaxProfileBytes over all layers, at most 8 layers) and returns the plain
// bytes: data itself when it is not gzipped. diagctl uses it for gzipped
// JSON documents.
func Decompress(data []byte) ([]byte, error) {
	return gunzip(data, maxDecompressed)
}

func isGzip(b []byte) bool { return len(b) >= 2 && b[0] == 0x1f && b[1] == 0x8b }

// gunzip peels every gzip layer off data and returns the plain bytes (data
// itself when it is not gzipped). The layers are decompressed as a stream,
// each from the one around it, and every byte any layer produces counts
// against one budget of limit bytes: once it is spent, gunzip fails. Only
// the innermost layer is held in memory.
func gunzip(data []byte, limit int64) ([]byte, error) {
	if !isGzip(data) {
		return data, nil
	}
	b := &budget{limit: limit, left: limit}
	var r io.Reader = bytes.NewReader(data)
	for layers := 0; ; layers++ {
		br := bufio.NewReader(r)
		magic, err := br.Peek(2)
		if !isGzip(magic) {
			if err != nil && err != io.EOF {
				return nil, b.fail(err)
			}
			r = br
			break
		}
		if layers == maxGzipLayers {
			return nil, fmt.Errorf("analysis: %w: more than %d gzip layers", ErrInvalid, maxGzipLayers)
		}
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, b.fail(err)
		}
		r = &budgetReader{r: zr, b: b}
	}
	out, err := readAll(r)
	if err != nil {
		return nil, b.fail(err)
	}
	return out, nil
}

// readAll is io.ReadAll, reading into chunks that it copies into one slice
// only at the end: an input the budget cuts off holds at most the budget
// (io.ReadAll's doubling slice may hold one and a half times as much, in two
// copies).
func readAll(r io.Reader) ([]byte, error) {
	var chunks [][]byte
	total, size := 0, 64<<10
	for done := false; !done; size = min(2*size, 8<<20) {
		chunk := make([]byte, size)
		n := 0
		for n < len(chunk) {
			m, err := r.Read(chunk[n:])
			n += m
			if err == io.EOF {
				done = true
				break
			}
			if err != nil {
				return nil, err
			}
		}
		if n > 0 {
			chunks = append(chunks, chunk[:n])
			total += n
		}
	}
	if len(chunks) == 1 {
		return chunks[0], nil
	}
	out := make([]byte, 0, total)
	for _, c := range chunks {
		out = append(out, c...)
	}
	return out, nil
}

// budget is what the layers of a gzipped input may still decompress.
type budget struct {
	limit, left int64
}

// fail words an error met while decompressing: ErrTooLarge once the budget
// is spent (a layer reading from an exhausted one may report it in its own
// words), ErrInvalid otherwise.
func (b *budget) fail(err error) error {
	if b.left < 0 {
		return fmt.Errorf("analysis: %w: it decompresses to more than %d MiB", ErrTooLarge, b.limit>>20)
	}
	return fmt.Errorf("analysis: %w: decompressing: %v", ErrInvalid, err)
}

var errBudgetSpent = errors.New("decompression budget spent")

// budgetReader counts what r produces against b, and fails once b is spent.
type budgetReader struct {
	r io.Reader
	b *budget
}

func (l *budgetReader) Read(p []byte) (int, error) {
	if l.b.left < 0 {
		return 0, errBudgetSpent
	}
	// One byte more than is left tells an input of exactly the limit from a
	// larger one.
	if int64(len(p)) > l.b.left+1 {
		p = p[:l.b.left+1]
	}
	n, err := l.r.Read(p)
	l.b.left -= int64(n)
	if l.b.left < 0 {
		return n, errBudgetSpent
	}
	return n, err
}

// AnalyzeBytes parses a CPU profile, gzipped or not, and analyzes it.
func AnalyzeBytes(data []byte, opts Options) (*Report, error) {
	p, err := Parse(data)
	if err != nil {
		return nil, err
	}
	return Analyze(p, opts)
}

// Analyze classifies every sample of a CPU profile. It returns an error
// wrapping ErrNotCPUProfile, ErrUnsymbolized or ErrInvalid when the profile
// cannot be analyzed; a CPU profile without samples is not an error (its
// report says so in Notes). Analyze does not modify p.
func Analyze(p *profile.Profile, opts Options) (*Report, error) {
	if p == nil {
		return nil, fmt.Errorf("analysis: %w: nil profile", ErrInvalid)
	}
	// A profile that fails Profile.CheckValid is invalid. CheckValid on its
	// own costs a quarter of the analysis (it builds three maps keyed by
	// ID), so Analyze makes the same checks as it goes, with slices indexed
	// by ID, and calls CheckValid only when it needs CheckValid's error:
	// before returning any error, when one of its checks fails, or when the
	// IDs are too sparse to check this way. No result other than a report
	// is returned before CheckValid is known to pass.
	a := newAccumulator(p)
	validated := false
	validate := func() error {
		if validated {
			return nil
		}
		validated = true
		if err := p.CheckValid(); err != nil {
			return fmt.Errorf("analysis: %w: %v", ErrInvalid, err)
		}
		return nil
	}
	if !a.tablesValid {
		if err := validate(); err != nil {
			return nil, err
		}
	}
	cpuIndex, countIndex, err := valueIndexes(p)
	if err != nil {
		if verr := validate(); verr != nil {
			return nil, verr
		}
		return nil, err
	}
	top := opts.Top
	if top == 0 {
		top = DefaultTop
	}
	if len(p.Sample) > 0 && !a.symbolized {
		if verr := validate(); verr != nil {
			return nil, verr
		}
		return nil, fmt.Errorf("analysis: %w (no location has a function name; "+
			"profiles from runtime/pprof are symbolized, others may need `go tool pprof -proto` with the binary)",
			ErrUnsymbolized)
	}

	sampleLen := len(p.SampleType)
	stack := make([]sframe, 0, 64)
	for _, s := range p.Sample {
		// CheckValid's checks of samples.
		if s == nil || len(s.Value) != sampleLen {
			return nil, invalidSample(validate())
		}
		stack = stack[:0]
		for _, loc := range s.Location {
			if loc == nil {
				return nil, invalidSample(validate())
			}
			// The common case inline: a Location seen before, with one
			// line.
			var sp span
			if loc.ID < uint64(len(a.byID)) && a.byID[loc.ID].n > 0 {
				sp = a.byID[loc.ID]
			} else {
				sp = a.span(loc)
			}
			if sp.n == 1 {
				stack = append(stack, sp.first)
			} else {
				stack = append(stack, a.kinds[sp.off:sp.off+sp.n]...)
			}
		}
		var count int64 = 1
		if countIndex >= 0 {
			count = s.Value[countIndex]
		}
		a.add(stack, s.Value[cpuIndex], count)
	}
	if a.tooLarge {
		return nil, fmt.Errorf("analysis: %w: more than 2^31 frames", ErrInvalid)
	}
	r := a.report(p, top)
	r.Interpretation = Interpret(r)
	return r, nil
}

// invalidSample is the error for a sample that fails CheckValid's checks:
// CheckValid's own (err), which cannot be nil since it makes the same checks.
func invalidSample(err error) error {
	if err == nil {
		err = fmt.Errorf("analysis: %w: malformed sample", ErrInvalid)
	}
	return err
}

// valueIndexes finds the CPU-time and sample-count values of a CPU profile.
func valueIndexes(p *profile.Profile) (cpu, count int, err error) {
	cpu, count = -1, -1
	for i, st := range p.SampleType {
		switch {
		case st == nil:
			return -1, -1, fmt.Errorf("analysis: %w: sample type %d is nil", ErrInvalid, i)
		case st.Type == "cpu" && st.Unit == "nanoseconds":
			cpu = i
		case st.Type == "samples" && st.Unit == "count":
			count = i
		}
	}
	if cpu < 0 {
		types := make([]string, len(p.SampleType))
		for i, st := range p.SampleType {
			types[i] = st.Type + "/" + st.Unit
		}
		return -1, -1, fmt.Errorf("analysis: %w (sample types: %s; want cpu/nanoseconds)",
			ErrNotCPUProfile, strings.Join(types, ", "))
	}
	return cpu, count, nil
}

// accumulator sums one profile's samples. Frames are computed once per
// Location, so the cost per sample is a walk over cached kinds.
//
// The frames of every Location seen so far sit one Location after another in
// frames, and what classify reads of each (its kind and two flags) at the
// same index in kinds, which is three times smaller: a sample's stack is a
// copy of its Locations' runs of kinds, and the classifier's scans stay in
// cache. A span locates one Location's run.
type accumulator struct {
	byID       []span // by dense Location ID; n is 0 until computed
	byPtr      map[*profile.Location]span
	frames     []frame
	kinds      []sframe
	funcs      []funcSlot // by dense Function ID
	symbolized bool
	tooLarge   bool // more frames than int32 indexes; the analysis is void
	// tablesValid: p's mappings, functions and locations pass CheckValid's
	// checks (false: they fail, or their IDs are too sparse to tell cheaply).
	tablesValid bool

	cpu       [numBuckets]float64 // nanoseconds, by bucketIndex
	samples   [numBuckets]int64
	totalCPU  float64
	total     int64
	dropped   int // records with a negative or zero CPU value
	preempted map[attrKey]*attr
	cgoCalls  map[attrKey]*attr
	// preemptedAt caches, by frame index, the victim's entry in preempted
	// and its line's sum, so that a preempted sample costs no lookup keyed
	// by strings after its victim's first.
	preemptedAt []attrSlot
}

type attrSlot struct {
	e    *attr
	line int // index in e.lines
}

// numBuckets is len(Buckets); bucketIndex maps a Bucket to its position
// there, so that the per-sample sums are arrays rather than maps keyed by
// strings.
const numBuckets = 9

func bucketIndex(b Bucket) int {
	switch b {
	case BucketGo:
		return 0
	case BucketAsyncPreempt:
		return 1
	case BucketPreemptSched:
		return 2
	case BucketCgoC:
		return 3
	case BucketCgoCrossing:
		return 4
	case BucketExternalThread:
		return 5
	case BucketExternalNoStack:
		return 6
	case BucketExternalLost:
		return 7
	}
	return 8 // BucketRuntimeNoStack
}

// span locates one Location's frames and kinds: n of them from off. first
// is kinds[off], the only one for most Locations. The frames are counted
// with int32: 2^31 distinct frames would take 48 GiB for frames alone;
// beyond that computeFrames sets tooLarge and Analyze returns an error.
type span struct {
	first  sframe
	off, n int32
}

type attrKey struct{ function, cfunc string }

type attr struct {
	cpu     float64
	samples int64
	lines   []lineSum
	// index finds a line in lines once there are many (most entries have
	// a few lines, found faster by a scan).
	index map[lineKey]int
}

type lineSum struct {
	key lineKey
	cpu float64
}

// maxLineScan is how many lines an attr scans before it indexes them.
const maxLineScan = 16

// line returns the index of lk in e.lines, adding it.
func (e *attr) line(lk lineKey) int {
	if e.index != nil {
		if i, ok := e.index[lk]; ok {
			return i
		}
	} else {
		for i := range e.lines {
			if e.lines[i].key == lk {
				return i
			}
		}
	}
	e.lines = append(e.lines, lineSum{key: lk})
	i := len(e.lines) - 1
	if e.index != nil {
		e.index[lk] = i
	} else if len(e.lines) > maxLineScan {
		e.index = make(map[lineKey]int, 2*len(e.lines))
		for j, l := range e.lines {
			e.index[l.key] = j
		}
	}
	return i
}

type lineKey struct {
	file    string
	line    int64
	inlined bool
}

func newAccumulator(p *profile.Profile) *accumulator {
	a := &accumulator{
		preempted:   make(map[attrKey]*attr),
		cgoCalls:    make(map[attrKey]*attr),
		tablesValid: tablesValid(p),
	}
	// Location IDs are usually 1..N; index them densely when they are.
	// (Analyze checks p as it goes: it may hold nil entries here.)
	maxID := uint64(0)
	for _, loc := range p.Location {
		if loc != nil {
			maxID = max(maxID, loc.ID)
		}
	}
	if maxID <= uint64(2*len(p.Location)+16) {
		a.byID = make([]span, maxID+1)
	} else {
		a.byPtr = make(map[*profile.Location]span, len(p.Location))
	}
	maxFuncID := uint64(0)
	for _, fn := range p.Function {
		if fn != nil {
			maxFuncID = max(maxFuncID, fn.ID)
		}
	}
	if maxFuncID <= uint64(2*len(p.Function)+16) {
		a.funcs = make([]funcSlot, maxFuncID+1)
	}
	frames := 0
	for _, loc := range p.Location {
		if loc == nil {
			continue
		}
		frames += max(len(loc.Line), 1)
		for _, ln := range loc.Line {
			if ln.Function != nil && ln.Function.Name != "" {
				a.symbolized = true
				break
			}
		}
	}
	a.frames = make([]frame, 0, frames)
	a.kinds = make([]sframe, 0, frames)
	return a
}

// span returns the span of a Location's frames and kinds (leaf first),
// computing them on first use.
func (a *accumulator) span(loc *profile.Location) span {
	var sp span
	if loc.ID < uint64(len(a.byID)) {
		if sp = a.byID[loc.ID]; sp.n == 0 {
			sp = a.computeFrames(loc) // never empty
			a.byID[loc.ID] = sp
		}
	} else {
		if a.byPtr == nil {
			a.byPtr = make(map[*profile.Location]span)
		}
		var ok bool
		if sp, ok = a.byPtr[loc]; !ok {
			sp = a.computeFrames(loc)
			a.byPtr[loc] = sp
		}
	}
	return sp
}

// computeFrames appends a Location's frames and kinds and returns their span.
func (a *accumulator) computeFrames(loc *profile.Location) span {
	off := len(a.frames)
	if off+len(loc.Line)+1 > math.MaxInt32 {
		a.tooLarge = true // Analyze reports it; never a panic
		return span{}
	}
	a.frames = a.appendLocationFrames(a.frames, loc)
	for i, f := range a.frames[off:] {
		a.kinds = append(a.kinds, sframe{kind: f.kind, isCfunc: f.isCfunc, goAnchor: f.goAnchor, idx: int32(off + i)})
	}
	return span{first: a.kinds[off], off: int32(off), n: int32(len(a.frames) - off)}
}

func (a *accumulator) add(stack []sframe, cpuNanos, count int64) {
	if cpuNanos <= 0 || count < 0 {
		a.dropped++
		return
	}
	v := classify(stack)
	cpu := float64(cpuNanos)
	b := bucketIndex(v.bucket)
	a.cpu[b] += cpu
	a.samples[b] = satAdd(a.samples[b], count)
	a.totalCPU += cpu
	a.total = satAdd(a.total, count)

	switch v.bucket {
	case BucketAsyncPreempt:
		if v.victim >= 0 {
			idx := int(stack[v.victim].idx)
			if idx >= len(a.preemptedAt) {
				grown := make([]attrSlot, max(cap(a.frames), 2*idx+1))
				copy(grown, a.preemptedAt)
				a.preemptedAt = grown
			}
			slot := &a.preemptedAt[idx]
			if slot.e == nil {
				f := &a.frames[idx]
				*slot = a.slot(a.preempted, attrKey{function: nameOrUnknown(f.function())}, f)
			}
			slot.add(cpu, count)
		}
	case BucketCgoC, BucketCgoCrossing:
		caller, cfunc := a.cgoCallSite(stack)
		if caller != nil {
			a.attribute(a.cgoCalls, attrKey{function: caller.function(), cfunc: cfunc}, caller, cpu, count)
		} else {
			a.attribute(a.cgoCalls, attrKey{function: "(unknown)", cfunc: cfunc}, &frame{}, cpu, count)
		}
	}
}

func (a *accumulator) attribute(m map[attrKey]*attr, key attrKey, f *frame, cpu float64, count int64) {
	a.slot(m, key, f).add(cpu, count)
}

// slot finds (or makes) the entry for key in m and, in it, the sum for f's
// line.
func (a *accumulator) slot(m map[attrKey]*attr, key attrKey, f *frame) attrSlot {
	e := m[key]
	if e == nil {
		e = &attr{}
		m[key] = e
	}
	return attrSlot{e, e.line(lineKey{f.file(), f.line, f.inlined})}
}

func (s attrSlot) add(cpu float64, count int64) {
	s.e.cpu += cpu
	s.e.samples = satAdd(s.e.samples, count)
	s.e.lines[s.line].cpu += cpu
}

// cgoCallSite finds the Go function that made a cgo call: the frame below the
// _Cfunc_ stub nearest the leaf, skipping glue. Without a stub in the stack,
// the first user Go frame below the leaf stands in.
func (a *accumulator) cgoCallSite(stack []sframe) (caller *frame, cfunc string) {
	for i, f := range stack {
		if !f.isCfunc {
			continue
		}
		cfunc := a.funcInfo(a.frames[f.idx].fn).cfunc // isCfunc: fn is not nil
		for _, g := range stack[i+1:] {
			if g.kind == kindGo {
				return &a.frames[g.idx], cfunc
			}
		}
		return nil, cfunc
	}
	for _, f := range stack {
		if f.kind == kindGo {
			return &a.frames[f.idx], ""
		}
	}
	return nil, ""
}

func (a *accumulator) report(p *profile.Profile, top int) *Report {
	r := &Report{
		Schema:       Schema,
		Samples:      a.total,
		Records:      len(p.Sample),
		CPUSeconds:   a.totalCPU / 1e9,
		Buckets:      make(map[Bucket]BucketStat, len(Buckets)),
		TopPreempted: []FuncStat{},
		TopCgoCalls:  []FuncStat{},
	}
	if p.DurationNanos > 0 {
		r.DurationSeconds = float64(p.DurationNanos) / 1e9
	}
	if p.Period > 0 && p.PeriodType != nil && p.PeriodType.Unit == "nanoseconds" {
		r.PeriodSeconds = float64(p.Period) / 1e9
	}
	share := func(cpu float64) float64 {
		if a.totalCPU <= 0 || math.IsInf(a.totalCPU, 0) {
			return 0
		}
		return clamp01(cpu / a.totalCPU)
	}
	cpu := func(b Bucket) float64 { return a.cpu[bucketIndex(b)] }
	for _, b := range Buckets {
		r.Buckets[b] = BucketStat{Samples: a.samples[bucketIndex(b)], CPUSeconds: cpu(b) / 1e9, Share: share(cpu(b))}
	}
	r.Shares = Shares{
		Go:             share(cpu(BucketGo)),
		AsyncPreempt:   share(cpu(BucketAsyncPreempt)),
		PreemptSched:   share(cpu(BucketPreemptSched)),
		Cgo:            share(cpu(BucketCgoC) + cpu(BucketCgoCrossing)),
		External:       share(cpu(BucketExternalThread) + cpu(BucketExternalNoStack) + cpu(BucketExternalLost)),
		RuntimeNoStack: share(cpu(BucketRuntimeNoStack)),
	}
	if top > 0 {
		r.TopPreempted = topFuncs(a.preempted, top, share)
		r.TopCgoCalls = topFuncs(a.cgoCalls, top, share)
	}

	if a.totalCPU <= 0 {
		r.Notes = append(r.Notes, "the profile has no CPU time: the process was idle or the window was empty; every share is 0")
	}
	if a.dropped > 0 {
		r.Notes = append(r.Notes, fmt.Sprintf("%d sample record%s with a zero or negative value %s skipped",
			a.dropped, plural(a.dropped, "", "s"), plural(a.dropped, "was", "were")))
	}
	if r.PeriodSeconds == 0 {
		r.Notes = append(r.Notes, "the profile does not state its sampling period")
	}
	return r
}

// topFuncs returns the top attributions by CPU, most first, then by name so
// that equal figures list in a stable order. The order is total (no two
// entries have the same names), so it selects the top entries as they come
// rather than sorting them all, and finds the hottest line of those only.
func topFuncs(m map[attrKey]*attr, top int, share func(float64) float64) []FuncStat {
	type entry struct {
		key        attrKey
		e          *attr
		cpuSeconds float64
	}
	before := func(a, b entry) bool {
		if a.cpuSeconds != b.cpuSeconds {
			return a.cpuSeconds > b.cpuSeconds
		}
		if a.key.function != b.key.function {
			return a.key.function < b.key.function
		}
		return a.key.cfunc < b.key.cfunc
	}
	var kept []entry
	if top > 64 || 4*top >= len(m) {
		kept = make([]entry, 0, len(m))
		for key, e := range m {
			kept = append(kept, entry{key, e, e.cpu / 1e9})
		}
		sort.Slice(kept, func(i, j int) bool { return before(kept[i], kept[j]) })
		kept = kept[:min(top, len(kept))]
	} else {
		kept = make([]entry, 0, top)
		for key, e := range m {
			c := entry{key, e, e.cpu / 1e9}
			if len(kept) == top {
				if !before(c, kept[top-1]) {
					continue
				}
				kept = kept[:top-1]
			}
			i := sort.Search(len(kept), func(i int) bool { return before(c, kept[i]) })
			kept = slices.Insert(kept, i, c)
		}
	}

	out := make([]FuncStat, 0, len(kept))
	for _, k := range kept {
		fs := FuncStat{
			Function:   k.key.function,
			CFunction:  k.key.cfunc,
			Samples:    k.e.samples,
			CPUSeconds: k.cpuSeconds,
			Share:      share(k.e.cpu),
		}
		var best lineKey
		bestCPU := -1.0
		for _, l := range k.e.lines {
			if l.cpu > bestCPU || l.cpu == bestCPU && lineLess(l.key, best) {
				best, bestCPU = l.key, l.cpu
			}
		}
		fs.File, fs.Line, fs.Inlined = best.file, best.line, best.inlined
		out = append(out, fs)
	}
	return out
}

func lineLess(a, b lineKey) bool {
	if a.file != b.file {
		return a.file < b.file
	}
	if a.line != b.line {
		return a.line < b.line
	}
	return !a.inlined && b.inlined
}

func nameOrUnknown(name string) string {
	if name == "" {
		return "(unknown)"
	}
	return name
}

func satAdd(a, b int64) int64 {
	if b > 0 && a > math.MaxInt64-b {
		return math.MaxInt64
	}
	return a + b
}

func clamp01(x float64) float64 {
	switch {
	case math.IsNaN(x) || x < 0:
		return 0
	case x > 1:
		return 1
	}
	return x
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
