package analysis

import (
	"bytes"
	"errors"
	"fmt"
	"math"
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
)

// Parse decodes a pprof profile, gzipped or not. It returns an error wrapping
// ErrEmpty or ErrInvalid for bad input, and never panics, whatever the bytes.
func Parse(data []byte) (p *profile.Profile, err error) {
	if len(data) == 0 {
		return nil, fmt.Errorf("analysis: %w", ErrEmpty)
	}
	defer func() {
		if r := recover(); r != nil {
			p, err = nil, fmt.Errorf("analysis: %w: decoder failed: %v", ErrInvalid, r)
		}
	}()
	p, err = profile.Parse(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("analysis: %w: %v", ErrInvalid, err)
	}
	return p, nil
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
	if err := p.CheckValid(); err != nil {
		return nil, fmt.Errorf("analysis: %w: %v", ErrInvalid, err)
	}
	cpuIndex, countIndex, err := valueIndexes(p)
	if err != nil {
		return nil, err
	}
	top := opts.Top
	if top == 0 {
		top = DefaultTop
	}

	a := newAccumulator(p)
	if len(p.Sample) > 0 && !a.symbolized {
		return nil, fmt.Errorf("analysis: %w (no location has a function name; "+
			"profiles from runtime/pprof are symbolized, others may need `go tool pprof -proto` with the binary)",
			ErrUnsymbolized)
	}
	stack := make([]*frame, 0, 64)
	for _, s := range p.Sample {
		stack = stack[:0]
		for _, loc := range s.Location {
			fs := a.frames(loc)
			for i := range fs {
				stack = append(stack, &fs[i])
			}
		}
		var count int64 = 1
		if countIndex >= 0 {
			count = s.Value[countIndex]
		}
		a.add(stack, s.Value[cpuIndex], count)
	}
	return a.report(p, top), nil
}

// valueIndexes finds the CPU-time and sample-count values of a CPU profile.
func valueIndexes(p *profile.Profile) (cpu, count int, err error) {
	cpu, count = -1, -1
	for i, st := range p.SampleType {
		switch {
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
type accumulator struct {
	byID       []*[]frame // dense Location IDs
	byPtr      map[*profile.Location][]frame
	symbolized bool

	cpu       map[Bucket]float64 // nanoseconds
	samples   map[Bucket]int64
	totalCPU  float64
	total     int64
	dropped   int // records with a negative or zero CPU value
	preempted map[attrKey]*attr
	cgoCalls  map[attrKey]*attr
}

type attrKey struct{ function, cfunc string }

type attr struct {
	cpu     float64
	samples int64
	lines   map[lineKey]float64
}

type lineKey struct {
	file    string
	line    int64
	inlined bool
}

func newAccumulator(p *profile.Profile) *accumulator {
	a := &accumulator{
		cpu:       make(map[Bucket]float64, len(Buckets)),
		samples:   make(map[Bucket]int64, len(Buckets)),
		preempted: make(map[attrKey]*attr),
		cgoCalls:  make(map[attrKey]*attr),
	}
	// Location IDs are usually 1..N; index them densely when they are.
	maxID := uint64(0)
	for _, loc := range p.Location {
		maxID = max(maxID, loc.ID)
	}
	if maxID <= uint64(2*len(p.Location)+16) {
		a.byID = make([]*[]frame, maxID+1)
	} else {
		a.byPtr = make(map[*profile.Location][]frame, len(p.Location))
	}
	for _, loc := range p.Location {
		for _, ln := range loc.Line {
			if ln.Function != nil && ln.Function.Name != "" {
				a.symbolized = true
				break
			}
		}
	}
	return a
}

// frames returns the cached frames of a Location. The slice is computed once
// and never modified, so pointers into it stay valid for the whole analysis.
func (a *accumulator) frames(loc *profile.Location) []frame {
	if a.byID != nil && loc.ID < uint64(len(a.byID)) {
		if cached := a.byID[loc.ID]; cached != nil {
			return *cached
		}
		fs := locationFrames(loc)
		a.byID[loc.ID] = &fs
		return fs
	}
	if a.byPtr == nil {
		a.byPtr = make(map[*profile.Location][]frame)
	}
	fs, ok := a.byPtr[loc]
	if !ok {
		fs = locationFrames(loc)
		a.byPtr[loc] = fs
	}
	return fs
}

func (a *accumulator) add(stack []*frame, cpuNanos, count int64) {
	if cpuNanos <= 0 || count < 0 {
		a.dropped++
		return
	}
	v := classify(stack)
	cpu := float64(cpuNanos)
	a.cpu[v.bucket] += cpu
	a.samples[v.bucket] = satAdd(a.samples[v.bucket], count)
	a.totalCPU += cpu
	a.total = satAdd(a.total, count)

	switch v.bucket {
	case BucketAsyncPreempt:
		if v.victim >= 0 {
			f := stack[v.victim]
			a.attribute(a.preempted, attrKey{function: nameOrUnknown(f.function)}, f, cpu, count)
		}
	case BucketCgoC, BucketCgoCrossing:
		caller, cfunc := cgoCallSite(stack)
		if caller != nil {
			a.attribute(a.cgoCalls, attrKey{function: caller.function, cfunc: cfunc}, caller, cpu, count)
		} else {
			a.attribute(a.cgoCalls, attrKey{function: "(unknown)", cfunc: cfunc}, &frame{}, cpu, count)
		}
	}
}

func (a *accumulator) attribute(m map[attrKey]*attr, key attrKey, f *frame, cpu float64, count int64) {
	e := m[key]
	if e == nil {
		e = &attr{lines: make(map[lineKey]float64, 1)}
		m[key] = e
	}
	e.cpu += cpu
	e.samples = satAdd(e.samples, count)
	e.lines[lineKey{f.file, f.line, f.inlined}] += cpu
}

// cgoCallSite finds the Go function that made a cgo call: the frame below the
// _Cfunc_ stub nearest the leaf, skipping glue. Without a stub in the stack,
// the first user Go frame below the leaf stands in.
func cgoCallSite(stack []*frame) (caller *frame, cfunc string) {
	for i, f := range stack {
		if !f.isCfunc {
			continue
		}
		for _, g := range stack[i+1:] {
			if g.kind == kindGo {
				return g, f.cfunc
			}
		}
		return nil, f.cfunc
	}
	for _, f := range stack {
		if f.kind == kindGo {
			return f, ""
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
	for _, b := range Buckets {
		r.Buckets[b] = BucketStat{Samples: a.samples[b], CPUSeconds: a.cpu[b] / 1e9, Share: share(a.cpu[b])}
	}
	r.Shares = Shares{
		Go:             share(a.cpu[BucketGo]),
		AsyncPreempt:   share(a.cpu[BucketAsyncPreempt]),
		PreemptSched:   share(a.cpu[BucketPreemptSched]),
		Cgo:            share(a.cpu[BucketCgoC] + a.cpu[BucketCgoCrossing]),
		External:       share(a.cpu[BucketExternalThread] + a.cpu[BucketExternalNoStack] + a.cpu[BucketExternalLost]),
		RuntimeNoStack: share(a.cpu[BucketRuntimeNoStack]),
	}
	if top > 0 {
		r.TopPreempted = topFuncs(a.preempted, top, share)
		r.TopCgoCalls = topFuncs(a.cgoCalls, top, share)
	}

	if a.totalCPU <= 0 {
		r.Notes = append(r.Notes, "the profile has no CPU time: the process was idle or the window was empty; every share is 0")
	}
	if a.dropped > 0 {
		r.Notes = append(r.Notes, fmt.Sprintf("%d sample records with a zero or negative value were skipped", a.dropped))
	}
	if r.PeriodSeconds == 0 {
		r.Notes = append(r.Notes, "the profile does not state its sampling period")
	}
	return r
}

// topFuncs sorts attributions by CPU, most first, then by name so that equal
// figures list in a stable order.
func topFuncs(m map[attrKey]*attr, top int, share func(float64) float64) []FuncStat {
	out := make([]FuncStat, 0, len(m))
	for key, e := range m {
		fs := FuncStat{
			Function:   key.function,
			CFunction:  key.cfunc,
			Samples:    e.samples,
			CPUSeconds: e.cpu / 1e9,
			Share:      share(e.cpu),
		}
		var best lineKey
		bestCPU := -1.0
		for lk, cpu := range e.lines {
			if cpu > bestCPU || cpu == bestCPU && lineLess(lk, best) {
				best, bestCPU = lk, cpu
			}
		}
		fs.File, fs.Line, fs.Inlined = best.file, best.line, best.inlined
		out = append(out, fs)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].CPUSeconds != out[j].CPUSeconds {
			return out[i].CPUSeconds > out[j].CPUSeconds
		}
		if out[i].Function != out[j].Function {
			return out[i].Function < out[j].Function
		}
		return out[i].CFunction < out[j].CFunction
	})
	if len(out) > top {
		out = out[:top]
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
