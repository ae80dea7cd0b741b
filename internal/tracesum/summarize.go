package tracesum

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"golang.org/x/exp/trace"
)

// Fixed bounds on the tables the summary keeps, whatever the input.
const (
	maxStackFrames = 8       // frames kept per stack in the output
	maxScanFrames  = 64      // frames looked at per stack
	maxStackCache  = 1 << 16 // stacks whose reading is cached
	maxProcs       = 4096    // Ps followed
	maxSites       = 4096    // distinct functions counted per table
)

// headerLen is the length of a trace header: "go 1.NN trace\x00\x00\x00".
const headerLen = 16

// goVersions are the releases that write each trace format version.
var goVersions = map[int]string{
	11: "go1.11–go1.18",
	19: "go1.19–go1.20",
	21: "go1.21",
	22: "go1.22",
	23: "go1.23–go1.24",
	25: "go1.25",
	26: "go1.26 or later",
}

// parseHeader reads the format version from a trace header.
func parseHeader(h []byte) (int, bool) {
	rest, ok := bytes.CutPrefix(h, []byte("go 1."))
	if !ok {
		return 0, false
	}
	i := 0
	for i < len(rest) && i < 3 && rest[i] >= '0' && rest[i] <= '9' {
		i++
	}
	if i == 0 || !bytes.HasPrefix(rest[i:], []byte(" trace\x00")) {
		return 0, false
	}
	v, err := strconv.Atoi(string(rest[:i]))
	return v, err == nil
}

// Summarize reads a Go execution trace from r and summarizes it. It returns
// an error wrapping ErrEmpty, ErrNotTrace, ErrUnsupported or ErrInvalid when
// the input is not a trace it can read; it never panics.
func Summarize(r io.Reader, opts Options) (s *Summary, err error) {
	defer func() {
		if p := recover(); p != nil {
			s, err = nil, fmt.Errorf("%w: the parser failed: %v", ErrInvalid, p)
		}
	}()
	br := bufio.NewReaderSize(r, 64<<10)
	h, _ := br.Peek(headerLen)
	if len(h) == 0 {
		if _, err := br.ReadByte(); err != nil && !errors.Is(err, io.EOF) {
			return nil, err
		}
		return nil, ErrEmpty
	}
	ver, ok := parseHeader(h)
	if !ok {
		return nil, fmt.Errorf("%w: no \"go 1.N trace\" header", ErrNotTrace)
	}
	tr, err := trace.NewReader(br)
	if err != nil {
		if _, known := goVersions[ver]; !known {
			return nil, fmt.Errorf("%w: go 1.%d (this parser reads the formats of %s)", ErrUnsupported, ver, supportedRange())
		}
		return nil, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	return summarizeEvents(ver, tr, opts)
}

// eventReader is what the summary reads events from: a *trace.Reader, or
// in tests one that rewrites its events.
type eventReader interface {
	ReadEvent() (trace.Event, error)
}

// summarizeEvents summarizes the events of a trace in format version ver.
func summarizeEvents(ver int, r eventReader, opts Options) (*Summary, error) {
	a := newAnalyzer(ver, opts)
	if err := a.read(r); err != nil {
		return nil, err
	}
	return a.finish(), nil
}

func supportedRange() string {
	lo, hi := math.MaxInt, 0
	for v := range goVersions {
		lo, hi = min(lo, v), max(hi, v)
	}
	return fmt.Sprintf("go1.%d to go1.%d", lo, hi)
}

// gState is what the analyzer remembers of a live goroutine.
type gState struct {
	// start is the function it was started with, if known: from its
	// creation event (where File and Line are the function's entry), or
	// the outermost frame of the first stack the trace has of a goroutine
	// older than the trace.
	start Frame
	// lastSeen is the first frame outside the runtime of the latest stack
	// that had one (a block, a system call, a preemption, a CPU sample).
	lastSeen Frame

	running   bool
	runStart  trace.Time
	runP      trace.ProcID
	runBefore bool // the run began before the trace

	runnable      bool
	runnableKnown bool // runnableSince is when it became runnable
	runnableSince trace.Time

	inCall      bool
	callStart   trace.Time
	callBefore  bool
	callStack   *stackInfo
	callBlocked bool
}

// procState is one P's tally.
type procState struct {
	busy time.Duration
	runs int64
}

// siteKey identifies a function in a count table.
type siteKey struct {
	fn, file string
}

type siteStat struct {
	count int64
	total time.Duration
	max   time.Duration
}

// callTally accumulates system calls or cgo calls.
type callTally struct {
	count, blocked, open, long int64
	total, max, maxWhole       time.Duration
	longest                    topList[Call]
	sites                      map[string]*siteStat
	sitesDropped               bool
}

func (c *callTally) add(fn string, d time.Duration) {
	c.count++
	c.total += d
	c.max = max(c.max, d)
	st := c.sites[fn]
	if st == nil {
		if len(c.sites) >= maxSites {
			c.sitesDropped = true
			return
		}
		st = &siteStat{}
		c.sites[fn] = st
	}
	st.count++
	st.total += d
	st.max = max(st.max, d)
}

type analyzer struct {
	ver  int
	top  int
	opts Options

	events     int64
	start, end trace.Time
	started    bool

	gs         map[trace.GoID]*gState
	goroutines int
	gsDropped  int64

	procs       map[trace.ProcID]*procState
	procsSeen   map[trace.ProcID]struct{}
	procsDrop   bool
	unattrib    time.Duration
	runs        int64
	gomaxprocs  int
	sawMaxprocs bool

	pre          Preemptions
	preemptSites map[siteKey]int64
	preemptDrop  bool
	longest      topList[Run]

	sys, cgo callTally
	design   callTally // system calls of by-design waiters
	waits    histogram

	stacks map[trace.Stack]*stackInfo

	stoppedEarly bool
}

func newAnalyzer(ver int, opts Options) *analyzer {
	top := opts.Top
	switch {
	case top == 0:
		top = DefaultTop
	case top < 0:
		top = 0
	}
	if opts.MaxEvents <= 0 {
		opts.MaxEvents = DefaultMaxEvents
	}
	if opts.MaxGoroutines <= 0 {
		opts.MaxGoroutines = DefaultMaxGoroutines
	}
	a := &analyzer{
		ver:          ver,
		top:          top,
		opts:         opts,
		gs:           make(map[trace.GoID]*gState),
		procs:        make(map[trace.ProcID]*procState),
		procsSeen:    make(map[trace.ProcID]struct{}),
		preemptSites: make(map[siteKey]int64),
		stacks:       make(map[trace.Stack]*stackInfo),
	}
	a.longest.n = top
	a.sys.longest.n = top
	a.cgo.longest.n = top
	a.design.longest.n = top
	a.sys.sites = make(map[string]*siteStat)
	a.cgo.sites = make(map[string]*siteStat)
	a.design.sites = make(map[string]*siteStat)
	return a
}

func (a *analyzer) read(tr eventReader) error {
	for {
		ev, err := tr.ReadEvent()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%w: %v", ErrInvalid, err)
		}
		if a.events >= a.opts.MaxEvents {
			a.stoppedEarly = true
			return nil
		}
		a.event(ev)
	}
}

func (a *analyzer) event(ev trace.Event) {
	a.events++
	t := ev.Time()
	if !a.started {
		a.start, a.end, a.started = t, t, true
	}
	a.end = max(a.end, t)
	if p := ev.Proc(); p != trace.NoProc {
		a.seeProc(p)
	}
	switch ev.Kind() {
	case trace.EventSync:
		// A new generation: its stacks are new too.
		clear(a.stacks)
	case trace.EventMetric:
		if m := ev.Metric(); m.Name == "/sched/gomaxprocs:threads" && m.Value.Kind() == trace.ValueUint64 {
			if v := m.Value.Uint64(); v > 0 && v <= math.MaxInt32 {
				a.gomaxprocs, a.sawMaxprocs = int(v), true
			}
		}
	case trace.EventStackSample:
		// A CPU profile sample, when the profiler ran during the trace:
		// where a goroutine was, even one whose own stacks end in the
		// runtime.
		if g := a.gs[ev.Goroutine()]; ev.Goroutine() != trace.NoGoroutine && g != nil {
			if stk := ev.Stack(); stk != trace.NoStack {
				if si := a.stack(stk); si.where.Function != "" {
					g.lastSeen = si.where
				}
			}
		}
	case trace.EventStateTransition:
		st := ev.StateTransition()
		switch st.Resource.Kind {
		case trace.ResourceGoroutine:
			a.goTransition(ev, st, t)
		case trace.ResourceProc:
			a.seeProc(st.Resource.Proc())
		}
	}
}

// fakeProcs is where the old trace format numbers the pseudo-Ps it files
// some events under (timers, network poller, system calls, GC).
const fakeProcs = 1_000_000

// realProc reports whether p names a real P.
func (a *analyzer) realProc(p trace.ProcID) bool {
	return p >= 0 && (a.ver >= 22 || p < fakeProcs)
}

func (a *analyzer) seeProc(p trace.ProcID) {
	if !a.realProc(p) {
		return
	}
	if _, ok := a.procsSeen[p]; ok {
		return
	}
	if len(a.procsSeen) >= maxProcs {
		a.procsDrop = true
		return
	}
	a.procsSeen[p] = struct{}{}
}

// g returns the state of goroutine id, creating it; nil when the table is
// full.
func (a *analyzer) g(id trace.GoID) *gState {
	if g := a.gs[id]; g != nil {
		return g
	}
	if len(a.gs) >= a.opts.MaxGoroutines {
		a.gsDropped++
		return nil
	}
	g := &gState{}
	a.gs[id] = g
	a.goroutines++
	return g
}

func (a *analyzer) goTransition(ev trace.Event, st trace.StateTransition, t trace.Time) {
	id := st.Resource.Goroutine()
	from, to := st.Goroutine()
	if from == to {
		return // a status report at the start of a generation
	}
	g := a.g(id)
	if g == nil {
		return
	}
	if g.start.Function == "" && st.Stack != trace.NoStack && (from == trace.GoNotExist || from == trace.GoUndetermined) {
		// A new goroutine's stack is its start function; a goroutine's
		// first status report may carry its current stack, whose outermost
		// frame is the same when the stack is whole.
		if si := a.stack(st.Stack); from == trace.GoNotExist || si.whole {
			g.start = si.outer
		}
	}

	switch from {
	case trace.GoRunning:
		a.endRun(id, g, st, to, t)
	case trace.GoSyscall:
		a.endCall(id, g, to, t)
	case trace.GoRunnable:
		if to != trace.GoRunning {
			g.runnable = false
		}
	}

	switch to {
	case trace.GoRunning:
		a.startRun(g, ev, from, t)
	case trace.GoRunnable:
		g.runnable = true
		g.runnableKnown = from != trace.GoUndetermined
		g.runnableSince = t
		if from == trace.GoSyscall && a.ver >= 22 && ev.Proc() != trace.NoProc {
			// Back from a system call that lost its P, the thread got
			// another P at once: the trace says runnable, then running,
			// in the same breath. The goroutine never queued (nor does
			// the runtime count it as runnable).
			g.runnableKnown = false
		}
	case trace.GoSyscall:
		g.inCall = true
		g.callStart = t
		g.callBefore = from == trace.GoUndetermined
		g.callBlocked = false
		g.callStack = nil
		if st.Stack != trace.NoStack {
			g.callStack = a.stack(st.Stack)
		}
	case trace.GoNotExist:
		delete(a.gs, id)
	}
	if st.Stack != trace.NoStack && from != trace.GoNotExist {
		// (A creation event's stack is the new goroutine's start, seen
		// above.)
		if si := a.stack(st.Stack); si.where.Function != "" {
			g.lastSeen = si.where
		}
	}
}

func (a *analyzer) startRun(g *gState, ev trace.Event, from trace.GoState, t trace.Time) {
	if from == trace.GoRunnable && g.runnable && g.runnableKnown {
		a.waits.add(int64(t.Sub(g.runnableSince)))
	}
	g.runnable = false
	g.running = true
	g.runStart = t
	g.runP = ev.Proc()
	g.runBefore = from == trace.GoUndetermined
}

func (a *analyzer) endRun(id trace.GoID, g *gState, st trace.StateTransition, to trace.GoState, t trace.Time) {
	if !g.running {
		return
	}
	g.running = false
	d := t.Sub(g.runStart)
	a.addBusy(g.runP, d)

	var si *stackInfo
	if st.Stack != trace.NoStack {
		si = a.stack(st.Stack)
	}
	ended := "stopped"
	switch to {
	case trace.GoRunnable:
		switch st.Reason {
		case "preempted":
			ended = a.preempted(si)
		case "runtime.Gosched":
			a.pre.Gosched++
			ended = "gosched"
		}
	case trace.GoWaiting:
		if st.Reason == "preempted" {
			a.pre.GCSuspend++
			ended = "gc stack scan"
		} else {
			ended = "blocked" // and the reason, for a run in the top list
		}
	case trace.GoSyscall:
		ended = "syscall"
		if si != nil && si.cgo {
			ended = "cgo"
		}
	case trace.GoNotExist:
		ended = "exited"
	}
	if !a.longest.wants(float64(d)) {
		return
	}
	if to == trace.GoWaiting && ended == "blocked" && st.Reason != "" {
		ended += ": " + st.Reason
	}
	a.offerRun(id, g, d, ended, g.runBefore, si)
}

// preempted counts a preemption and returns how the run ended.
func (a *analyzer) preempted(si *stackInfo) string {
	a.pre.Total++
	kind := preemptUnknown
	if si != nil {
		kind = si.preempt
	}
	switch kind {
	case preemptAsync:
		a.pre.Async++
	case preemptCooperative:
		a.pre.Cooperative++
	case preemptYield:
		a.pre.RuntimeYield++
	default:
		a.pre.Unknown++
	}
	if si != nil && si.where.Function != "" {
		k := siteKey{si.where.Function, si.where.File}
		if _, ok := a.preemptSites[k]; ok || len(a.preemptSites) < maxSites {
			a.preemptSites[k]++
		} else {
			a.preemptDrop = true
		}
	}
	return preemptEnded[kind]
}

// preemptEnded is Run.Ended for each kind of preemption.
var preemptEnded = map[string]string{
	preemptAsync:       "preempted (" + preemptAsync + ")",
	preemptCooperative: "preempted (" + preemptCooperative + ")",
	preemptYield:       "preempted (" + preemptYield + ")",
	preemptUnknown:     "preempted (" + preemptUnknown + ")",
}

func (a *analyzer) addBusy(p trace.ProcID, d time.Duration) {
	a.runs++
	if !a.realProc(p) {
		a.unattrib += d
		return
	}
	ps := a.procs[p]
	if ps == nil {
		if len(a.procs) >= maxProcs {
			a.unattrib += d
			a.procsDrop = true
			return
		}
		ps = &procState{}
		a.procs[p] = ps
	}
	ps.busy += d
	ps.runs++
}

func (a *analyzer) offerRun(id trace.GoID, g *gState, d time.Duration, ended string, truncated bool, si *stackInfo) {
	if !a.longest.wants(float64(d)) {
		return
	}
	r := Run{
		Goroutine:         int64(id),
		Seconds:           d.Seconds(),
		StartSeconds:      g.runStart.Sub(a.start).Seconds(),
		P:                 int(g.runP),
		Ended:             ended,
		Truncated:         truncated,
		GoroutineFunction: g.start.Function,
	}
	if !a.realProc(g.runP) {
		r.P = -1
	}
	if si != nil {
		r.Function, r.File, r.Line = si.where.Function, si.where.File, si.where.Line
		r.Stack = si.frames
	}
	if r.Function == "" {
		// No stack, or only the runtime's (an async preemption's
		// stack can end at runtime.asyncPreempt): say what the trace
		// knows of the goroutine instead, apart from the location.
		r.Inferred = g.inferred()
	}
	a.longest.add(float64(d), r)
}

// inferred is what the trace knows of where goroutine g is, for a run whose
// stack does not say: nil when it knows nothing.
func (g *gState) inferred() *InferredWhere {
	if g.start.Function == "" && g.lastSeen.Function == "" {
		return nil
	}
	in := &InferredWhere{}
	if g.start.Function != "" {
		start := g.start
		in.Started = &start
	}
	if g.lastSeen.Function != "" {
		last := g.lastSeen
		in.LastSeen = &last
	}
	return in
}

func (a *analyzer) endCall(id trace.GoID, g *gState, to trace.GoState, t trace.Time) {
	if !g.inCall {
		return
	}
	g.inCall = false
	if to == trace.GoRunnable {
		g.callBlocked = true
	}
	a.recordCall(id, g, t, g.callBefore)
}

func (a *analyzer) recordCall(id trace.GoID, g *gState, t trace.Time, truncated bool) {
	d := t.Sub(g.callStart)
	tally := &a.sys
	c := Call{
		Goroutine:    int64(id),
		Seconds:      d.Seconds(),
		StartSeconds: g.callStart.Sub(a.start).Seconds(),
		Function:     "?",
		Truncated:    truncated,
	}
	if si := g.callStack; si != nil {
		if si.cgo {
			tally = &a.cgo
			c.Function = si.cFunc
		} else if si.byDesign != "" {
			tally = &a.design
			c.Function = si.byDesign
		} else if si.leaf.Function != "" {
			c.Function = si.leaf.Function
		}
		c.Caller, c.File, c.Line = si.caller.Function, si.caller.File, si.caller.Line
	}
	if g.callBlocked {
		tally.blocked++
	}
	if truncated {
		tally.open++
	} else {
		tally.maxWhole = max(tally.maxWhole, d)
		if d >= LongCallFlag {
			tally.long++
		}
	}
	tally.add(c.Function, d)
	if tally.longest.wants(float64(d)) {
		tally.longest.add(float64(d), c)
	}
}

// finish closes what is still open at the end of the trace and builds the
// Summary.
func (a *analyzer) finish() *Summary {
	end := a.end
	s := &Summary{
		Schema:        Schema,
		GoVersion:     "go1." + strconv.Itoa(a.ver),
		GoVersions:    goVersions[a.ver],
		FormatVersion: a.ver,
		OldFormat:     a.ver < 22,
		Events:        a.events,
		Goroutines:    a.goroutines,
		Notes:         []string{},
	}
	if a.started {
		s.DurationSeconds = end.Sub(a.start).Seconds()
	}

	// Close what the trace left open, in a fixed order.
	ids := make([]trace.GoID, 0, len(a.gs))
	for id := range a.gs {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	var pendingMax time.Duration
	for _, id := range ids {
		g := a.gs[id]
		if g.running {
			g.running = false
			d := end.Sub(g.runStart)
			a.addBusy(g.runP, d)
			a.offerRun(id, g, d, "trace end", true, nil)
		}
		if g.inCall {
			g.inCall = false
			a.recordCall(id, g, end, true)
		}
		if g.runnable {
			s.RunnableWait.Pending++
			if g.runnableKnown {
				pendingMax = max(pendingMax, end.Sub(g.runnableSince))
			}
		}
	}
	s.RunnableWait.PendingMaxSeconds = pendingMax.Seconds()

	// Ps.
	s.ProcsSeen = len(a.procsSeen)
	if a.sawMaxprocs {
		s.Procs, s.ProcsSource = a.gomaxprocs, "gomaxprocs"
	} else {
		s.Procs, s.ProcsSource = s.ProcsSeen, "ps_seen"
	}
	s.Balance = a.balance(s.Procs, s.DurationSeconds)

	// Preemptions.
	s.Preemptions = a.pre
	if s.DurationSeconds > 0 {
		s.Preemptions.PerSecond = float64(a.pre.Total) / s.DurationSeconds
	}
	if s.Balance.BusySeconds > 0 {
		s.Preemptions.PerBusySecond = float64(a.pre.Total) / s.Balance.BusySeconds
	}
	s.Preemptions.Functions = a.preemptFunctions()

	// Runs, calls, waits.
	s.LongestRuns = a.longest.sorted()
	s.Syscalls = a.sys.stats(a.top, s.DurationSeconds)
	s.Cgo = a.cgo.stats(a.top, s.DurationSeconds)
	s.ByDesign = a.design.stats(a.top, s.DurationSeconds)
	s.RunnableWait = a.waitStats(s.RunnableWait)
	s.RunnableWaitP99Seconds = s.RunnableWait.P99Seconds

	// Notes.
	if s.OldFormat {
		s.Notes = append(s.Notes, fmt.Sprintf("old trace format (go 1.%d, written by %s): system calls have a duration only when they blocked, so syscall and cgo times count only those", a.ver, s.GoVersions))
	}
	if !a.sawMaxprocs {
		s.Notes = append(s.Notes, "the trace does not record GOMAXPROCS: procs is the number of Ps seen, a lower bound")
	}
	if a.stoppedEarly {
		s.Partial = true
		s.Notes = append(s.Notes, fmt.Sprintf("stopped after %d events (the limit): the summary covers the start of the trace only", a.events))
	}
	if a.gsDropped > 0 {
		s.Partial = true
		s.Notes = append(s.Notes, fmt.Sprintf("more than %d goroutines alive at once: %d transitions of the others were not followed", a.opts.MaxGoroutines, a.gsDropped))
	}
	if a.procsDrop {
		s.Partial = true
		s.Notes = append(s.Notes, fmt.Sprintf("more than %d Ps: the others are not listed", maxProcs))
	}
	if a.sys.sitesDropped || a.cgo.sitesDropped || a.design.sitesDropped || a.preemptDrop {
		s.Notes = append(s.Notes, fmt.Sprintf("more than %d distinct functions in a table: the others are counted in its totals only", maxSites))
	}
	s.Interpretation = Interpret(s)
	return s
}

func (a *analyzer) balance(procs int, dur float64) Balance {
	var b Balance
	b.Runs = a.runs
	b.UnattributedSeconds = a.unattrib.Seconds()
	ids := make(map[trace.ProcID]bool)
	for p := 0; p < procs && p < maxProcs; p++ {
		ids[trace.ProcID(p)] = true
	}
	for p, ps := range a.procs {
		if ps.busy > 0 {
			ids[p] = true
		}
	}
	list := make([]trace.ProcID, 0, len(ids))
	for p := range ids {
		list = append(list, p)
	}
	sort.Slice(list, func(i, j int) bool { return list[i] < list[j] })
	busy := a.unattrib
	for _, p := range list {
		pb := ProcBusy{ID: int(p)}
		if ps := a.procs[p]; ps != nil {
			pb.BusySeconds, pb.Runs = ps.busy.Seconds(), ps.runs
			busy += ps.busy
		}
		if dur > 0 {
			pb.Share = pb.BusySeconds / dur
		}
		b.Procs = append(b.Procs, pb)
	}
	b.BusySeconds = busy.Seconds()
	if len(b.Procs) == 0 {
		b.Procs = []ProcBusy{}
		return b
	}
	var sum, sumSq float64
	b.MinShare = math.Inf(1)
	for _, pb := range b.Procs {
		b.MinShare = min(b.MinShare, pb.Share)
		b.MaxShare = max(b.MaxShare, pb.Share)
		sum += pb.BusySeconds
		sumSq += pb.BusySeconds * pb.BusySeconds
	}
	n := float64(len(b.Procs))
	mean := sum / n
	if dur > 0 {
		b.MeanShare = mean / dur
		b.Utilization = b.BusySeconds / (dur * n)
	}
	if mean > 0 {
		variance := max(sumSq/n-mean*mean, 0)
		b.CV = math.Sqrt(variance) / mean
	}
	return b
}

func (a *analyzer) preemptFunctions() []FuncCount {
	out := make([]FuncCount, 0, len(a.preemptSites))
	for k, n := range a.preemptSites {
		out = append(out, FuncCount{Function: k.fn, File: k.file, Count: n})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Count != out[j].Count {
			return out[i].Count > out[j].Count
		}
		if out[i].Function != out[j].Function {
			return out[i].Function < out[j].Function
		}
		return out[i].File < out[j].File
	})
	if len(out) > a.top {
		out = out[:a.top]
	}
	return out
}

func (c *callTally) stats(top int, dur float64) CallStats {
	s := CallStats{
		Count:              c.count,
		MaxCompleteSeconds: c.maxWhole.Seconds(),
		TotalSeconds:       c.total.Seconds(),
		MaxSeconds:         c.max.Seconds(),
		Open:               c.open,
		LongCalls:          c.long,
		Blocked:            c.blocked,
		Longest:            c.longest.sorted(),
		Sites:              make([]Site, 0, len(c.sites)),
	}
	if dur > 0 {
		s.Share = s.TotalSeconds / dur
	}
	for fn, st := range c.sites {
		s.Sites = append(s.Sites, Site{Function: fn, Count: st.count, TotalSeconds: st.total.Seconds(), MaxSeconds: st.max.Seconds()})
	}
	sort.Slice(s.Sites, func(i, j int) bool {
		if s.Sites[i].TotalSeconds != s.Sites[j].TotalSeconds {
			return s.Sites[i].TotalSeconds > s.Sites[j].TotalSeconds
		}
		return s.Sites[i].Function < s.Sites[j].Function
	})
	if len(s.Sites) > top {
		s.Sites = s.Sites[:top]
	}
	return s
}

func (a *analyzer) waitStats(w WaitStats) WaitStats {
	h := &a.waits
	sec := func(ns int64) float64 { return time.Duration(ns).Seconds() }
	w.Count = h.n
	w.TotalSeconds = h.sum / 1e9
	if h.n > 0 {
		w.MeanSeconds = w.TotalSeconds / float64(h.n)
	}
	w.P50Seconds = sec(h.quantile(0.50))
	w.P90Seconds = sec(h.quantile(0.90))
	w.P99Seconds = sec(h.quantile(0.99))
	w.P999Seconds = sec(h.quantile(0.999))
	w.MaxSeconds = sec(h.max)
	var below int64
	var from time.Duration
	for _, edge := range waitBucketEdges {
		n := h.countBelow(int64(edge))
		w.Histogram = append(w.Histogram, Bucket{FromSeconds: from.Seconds(), ToSeconds: edge.Seconds(), Count: n - below})
		below, from = n, edge
	}
	w.Histogram = append(w.Histogram, Bucket{FromSeconds: from.Seconds(), Count: h.n - below})
	return w
}

// topList keeps the n entries with the largest keys.
type topList[T any] struct {
	n     int
	keys  []float64
	items []T
}

// wants reports whether an entry with key k would be kept.
func (l *topList[T]) wants(k float64) bool {
	return l.n > 0 && (len(l.keys) < l.n || k > l.keys[len(l.keys)-1])
}

// add inserts an entry, keeping the list sorted by key, largest first (the
// first of equal keys stays first).
func (l *topList[T]) add(k float64, item T) {
	if !l.wants(k) {
		return
	}
	i := sort.Search(len(l.keys), func(i int) bool { return l.keys[i] < k })
	if len(l.keys) == l.n {
		l.keys = l.keys[:l.n-1]
		l.items = l.items[:l.n-1]
	}
	l.keys = append(l.keys, 0)
	l.items = append(l.items, item)
	copy(l.keys[i+1:], l.keys[i:])
	copy(l.items[i+1:], l.items[i:])
	l.keys[i], l.items[i] = k, item
}

func (l *topList[T]) sorted() []T {
	return append([]T{}, l.items...)
}

// Preemption kinds, as Run.Ended spells them.
const (
	preemptAsync       = "async"
	preemptCooperative = "cooperative"
	preemptYield       = "runtime yield"
	preemptUnknown     = "unknown"
)

// stackInfo is what the analyzer reads from a stack, once per stack.
type stackInfo struct {
	frames []Frame
	// where is the first frame outside the runtime.
	where Frame
	// leaf is the first frame.
	leaf Frame
	// outer is the outermost frame, and whole says the stack was read
	// to its end (not cut by the scan's bound, nor ending at the runtime's
	// preemption frames, which no goroutine starts with).
	outer Frame
	whole bool
	// preempt is the preemption kind, for a stack taken at a preemption.
	preempt string
	// cgo is set for a stack with a cgo call; cFunc is the C function
	// ("C.name") and caller the Go code calling it.
	cgo   bool
	cFunc string
	// caller is the first frame outside the runtime, syscall and internal
	// packages (for cgo, the frame calling the cgo stub).
	caller Frame
	// byDesign is the function of a by-design waiter (byDesignWaiters)
	// among the first frames, "" for any other stack.
	byDesign string
}

func (a *analyzer) stack(stk trace.Stack) *stackInfo {
	if si := a.stacks[stk]; si != nil {
		return si
	}
	si := readStack(stk)
	if len(a.stacks) >= maxStackCache {
		clear(a.stacks)
	}
	a.stacks[stk] = si
	return si
}

func readStack(stk trace.Stack) *stackInfo {
	si := &stackInfo{preempt: preemptCooperative}
	n := 0
	afterCgo := false
	for f := range stk.Frames() {
		fr := Frame{Function: f.Func, File: f.File, Line: int(min(f.Line, math.MaxInt32))}
		if n == 0 {
			si.leaf = fr
		}
		if len(si.frames) < maxStackFrames {
			si.frames = append(si.frames, fr)
		}
		si.outer = fr
		if n < byDesignDepth && si.byDesign == "" && byDesignWaiters[f.Func] != "" {
			si.byDesign = f.Func
		}
		switch {
		case f.Func == "runtime.asyncPreempt" || f.Func == "runtime.asyncPreempt2":
			si.preempt = preemptAsync
		case f.Func == "runtime.goyield" || f.Func == "runtime.goyield_m" || n == 0 && f.Func == "runtime.semrelease1":
			// goyield's only caller is semrelease1, which stands for it
			// when the stack starts there.
			if si.preempt != preemptAsync {
				si.preempt = preemptYield
			}
		}
		if !si.cgo {
			if name, ok := cgoStub(f.Func); ok {
				si.cgo, si.cFunc, afterCgo = true, "C."+name, true
				n++
				continue
			}
			if f.Func == "runtime.cgocall" {
				si.cgo, si.cFunc = true, "C.?"
			}
		}
		if afterCgo && si.caller.Function == "" {
			si.caller = fr
		}
		if si.where.Function == "" && !isRuntime(f.Func) {
			si.where = fr
		}
		if si.caller.Function == "" && !afterCgo && !isPlumbing(f.Func) {
			si.caller = fr
		}
		n++
		if n >= maxScanFrames {
			break
		}
	}
	si.whole = n > 0 && n < maxScanFrames && !strings.HasPrefix(si.outer.Function, "runtime.asyncPreempt")
	if n == 0 {
		si.preempt = preemptUnknown
	}
	if si.frames == nil {
		si.frames = []Frame{}
	}
	return si
}

// byDesignWaiters are the functions in which the runtime's and the standard
// library's own goroutines wait in the system call state by design, for as
// long as there is nothing to do, and whose they are: a long wait there is
// not a long system call of the program's. Waits whose stack has one of them
// among its first byDesignDepth frames are counted apart (Summary.ByDesign).
var byDesignWaiters = map[string]string{
	// runtime/pprof's profileWriter, until there are samples to read.
	"runtime.(*profBuf).read":   waiterCPUProfile,
	"runtime/pprof.readProfile": waiterCPUProfile,
	// Until a signal arrives.
	"os/signal.signal_recv": waiterSignal,
	"os/signal.loop":        waiterSignal,
	// Until the tracer has data.
	"runtime.ReadTrace":         waiterTrace,
	"runtime/trace.Start.func1": waiterTrace,
	// Until a descriptor is ready.
	"runtime.netpoll":      waiterNetpoll,
	"runtime.netpollblock": waiterNetpoll,
}

const (
	waiterCPUProfile = "the CPU profiler's reader"
	waiterSignal     = "os/signal's receiver"
	waiterTrace      = "the execution tracer's reader"
	waiterNetpoll    = "the network poller"
)

// ByDesignWaiter says whose a function of ByDesign's sites is ("the CPU
// profiler's reader"), "" for any other function.
func ByDesignWaiter(fn string) string {
	return byDesignWaiters[fn]
}

// byDesignDepth is how many frames from the leaf a by-design waiter is looked
// for: the waiter itself, or what it calls to wait (runtime.notetsleepg).
const byDesignDepth = 3

// cgoStub recognizes the functions cgo generates for a call to C.name:
// pkg._Cfunc_name, or pkg._C2func_name for a call that also returns errno.
func cgoStub(fn string) (string, bool) {
	for _, marker := range []string{"._Cfunc_", "._C2func_"} {
		if i := strings.LastIndex(fn, marker); i >= 0 && i+len(marker) < len(fn) {
			return fn[i+len(marker):], true
		}
	}
	return "", false
}

// isRuntime reports whether fn is the runtime's own code.
func isRuntime(fn string) bool {
	return strings.HasPrefix(fn, "runtime.") || strings.HasPrefix(fn, "internal/runtime/")
}

// isPlumbing reports whether fn is between a program and a system call: the
// runtime, package syscall, the standard library's internal packages and
// golang.org/x/sys/unix.
func isPlumbing(fn string) bool {
	return isRuntime(fn) || strings.HasPrefix(fn, "syscall.") || strings.HasPrefix(fn, "internal/") ||
		strings.HasPrefix(fn, "golang.org/x/sys/unix.")
}
