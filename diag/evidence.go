package diag

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"runtime/pprof"
	"runtime/trace"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/pprof/profile"
	"go.uber.org/zap"

	"github.com/diagkit/diagkit/diag/api"
	"github.com/diagkit/diagkit/internal/tracesum"
)

// Paths of the loop evidence the agent gathered last.
const (
	// PathEvidence serves the latest api.LoopEvidence as JSON (404 before
	// any was gathered).
	PathEvidence = "/debug/diag/evidence"
	// PathEvidenceTrace serves the execution trace taken with it, for
	// diagctl trace (404 without one).
	PathEvidenceTrace = "/debug/diag/evidence/trace"
)

const (
	// evidenceTraceDuration is how long the evidence trace runs: about 100
	// async preemptions of call-free loops on 2 Ps.
	evidenceTraceDuration = time.Second
	// maxEvidenceTraceBytes bounds the trace kept for download (one at a
	// time, until the next evidence); a trace that grows past it is cut
	// short and marked so. A second of trace is typically 0.1–5 MB.
	maxEvidenceTraceBytes = 32 << 20
	// evidenceTraceTop is how many of the trace's longest runs are read
	// for goroutines that ran long until async preemption.
	evidenceTraceTop = 200
	// longRun is the run length after which sysmon asks a goroutine to
	// yield (forcePreemptNS); the trace's runs that ended in async
	// preemption after at least 90 % of it are long runs.
	longRun = 9 * time.Millisecond
	// maxDumpLine bounds one line of the goroutine dump.
	maxDumpLine = 64 << 10
)

// evidenceKinds are the warnings for which the agent gathers loop evidence.
var evidenceKinds = []string{api.WarnSchedLatency, api.WarnAsyncPreempt}

// evidenceState is the last loop evidence and its trace. Gathering is
// serialized and happens at most once per Cooldown.
type evidenceState struct {
	mu        sync.Mutex // guards the fields below
	last      *api.LoopEvidence
	trace     []byte
	gathering bool
}

// needsEvidence reports whether any warning is of an evidence kind.
func needsEvidence(ws []api.Warning) bool {
	return slices.ContainsFunc(ws, func(w api.Warning) bool { return slices.Contains(evidenceKinds, w.Kind) })
}

// loopEvidence returns loop evidence for a window that raised a scheduling
// or preemption warning: the last one when it is younger than the cooldown;
// else it gathers new evidence, which takes about evidenceTraceDuration.
// With wait false (a scrape's window, whose response must not wait) the
// gathering runs in the background and this window gets the last evidence,
// or nil. Only one gathering runs at a time.
func (a *Agent) loopEvidence(now time.Time, wait bool) *api.LoopEvidence {
	es := &a.evidence
	es.mu.Lock()
	last := es.last
	stopping := false
	select {
	case <-a.stopped:
		stopping = true // Stop is waiting for the agent's goroutines
	default:
	}
	if (last != nil && now.Sub(last.Time) < a.cfg.Cooldown) || es.gathering || stopping {
		es.mu.Unlock()
		return cloneEvidence(last)
	}
	es.gathering = true
	es.mu.Unlock()

	gather := func() *api.LoopEvidence {
		ev, data := a.gatherEvidence(now)
		es.mu.Lock()
		defer es.mu.Unlock()
		es.gathering = false
		es.last = ev
		if data != nil {
			es.trace = data
		}
		return cloneEvidence(ev)
	}
	if wait {
		return gather()
	}
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		defer func() {
			if r := recover(); r != nil {
				es.mu.Lock()
				es.gathering = false
				es.mu.Unlock()
				a.log.Error("loop evidence panicked; continuing", zap.Any("panic", r))
			}
		}()
		gather()
	}()
	return cloneEvidence(last)
}

func cloneEvidence(ev *api.LoopEvidence) *api.LoopEvidence {
	if ev == nil {
		return nil
	}
	c := *ev
	c.Preempted = slices.Clone(ev.Preempted)
	if ev.Trace != nil {
		t := *ev.Trace
		c.Trace = &t
	}
	return &c
}

// gatherEvidence takes an execution trace of evidenceTraceDuration (cut
// short by Stop), finds the goroutines whose runs lasted 10 ms or more
// until async preemption, and locates them in a goroutine dump taken right
// after: a goroutine stuck in a call-free loop is still in it. The dump
// stops the world like the doctor's, so it is skipped above
// maxDumpGoroutines goroutines; a trace already running elsewhere in the
// process (the service's own, /debug/pprof/trace) skips the trace.
func (a *Agent) gatherEvidence(now time.Time) (*api.LoopEvidence, []byte) {
	ev := &api.LoopEvidence{Time: now, Preempted: []api.PreemptedSite{}}
	te, data, longRuns, note := a.evidenceTrace()
	ev.Trace, ev.TraceNote = te, note
	if te == nil {
		return ev, nil
	}
	if len(longRuns) == 0 {
		return ev, data
	}
	if n := runtime.NumGoroutine(); n > maxDumpGoroutines {
		ev.Note = fmt.Sprintf("%d goroutines: no goroutine dump above %d (it stops the world for milliseconds), so the long runs are not located", n, maxDumpGoroutines)
		return ev, data
	}
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(pprof.Lookup("goroutine").WriteTo(pw, 2)) }()
	sites, total, err := locateGoroutines(pr, longRuns)
	pr.CloseWithError(io.EOF) // unblocks the writer if the scan stopped early
	if err != nil {
		ev.Note = "goroutine dump unreadable: " + err.Error()
	}
	ev.Goroutines = total
	// A goroutine the trace saw run long may have been descheduled by the
	// kernel mid-call, not stuck in a loop: keep the places where a
	// goroutine profile also finds goroutines stopped by async preemption,
	// which only call-free code needs.
	inLoops, perr := asyncPreempted()
	if perr != nil {
		ev.Note = "goroutine profile: " + perr.Error()
		return ev, data
	}
	ev.Preempted = slices.DeleteFunc(sites, func(s api.PreemptedSite) bool { return !inLoops[s.Function] })
	return ev, data
}

// evidenceTrace takes the trace and summarizes it; longRuns counts, by
// goroutine ID, the runs that ended in async preemption after longRun.
func (a *Agent) evidenceTrace() (te *api.TraceEvidence, data []byte, longRuns map[int64]int64, note string) {
	if trace.IsEnabled() {
		return nil, nil, nil, "another execution trace was running in the process"
	}
	w := &cappedBuffer{max: maxEvidenceTraceBytes}
	start := time.Now()
	if err := trace.Start(w); err != nil {
		return nil, nil, nil, "execution trace: " + err.Error()
	}
	t := time.NewTimer(evidenceTraceDuration)
	select {
	case <-t.C:
	case <-a.stopped:
		t.Stop()
	}
	trace.Stop()
	secs := time.Since(start).Seconds()
	data = w.Bytes()
	sum, err := tracesum.Summarize(bytes.NewReader(data), tracesum.Options{Top: evidenceTraceTop})
	if sum == nil {
		return nil, nil, nil, fmt.Sprintf("execution trace unreadable: %v", err)
	}
	te = &api.TraceEvidence{
		Start: start, Seconds: secs, Bytes: len(data), Cut: w.cut,
		AsyncPreemptions:       int(sum.Preemptions.Async),
		CooperativePreemptions: int(sum.Preemptions.Cooperative),
		Path:                   PathEvidenceTrace,
	}
	longRuns = map[int64]int64{}
	for _, r := range sum.LongestRuns {
		te.LongestRunSeconds = max(te.LongestRunSeconds, r.Seconds)
		if r.Seconds >= 0.010 {
			te.RunsOver10ms++
		}
		if r.Ended == "preempted (async)" && r.Seconds >= longRun.Seconds() {
			longRuns[r.Goroutine]++
		}
	}
	if w.cut {
		note = fmt.Sprintf("trace cut at %d bytes", maxEvidenceTraceBytes)
	}
	return te, data, longRuns, note
}

// locateGoroutines reads a goroutine dump (debug=2) and returns, for the
// goroutines in want (ID → long runs) that are running or runnable, the
// first frame outside the runtime of each one's stack, counted by place;
// and how many goroutines the dump held. (The dump leaves out the
// runtime's frames, runtime.asyncPreempt among them: asyncPreempted reads
// those from a goroutine profile.)
// Lines longer than maxDumpLine are an error, not a memory blowup.
func locateGoroutines(r io.Reader, want map[int64]int64) ([]api.PreemptedSite, int, error) {
	type key struct {
		fn, file string
		line     int64
	}
	type site struct{ goroutines, runs int64 }
	sites := map[key]*site{}
	total := 0
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), maxDumpLine)
	var (
		cur      int64  = -1 // goroutine being read, if wanted
		fn       string      // its function awaiting the file line
		resolved bool        // its place is counted
	)
	for sc.Scan() {
		line := sc.Text()
		if id, ok := goroutineHeader(line); ok {
			total++
			cur, fn, resolved = -1, "", false
			// A goroutine in a call-free loop is always running or
			// runnable; one that sleeps or waits now (its long run was the
			// kernel's doing, or is over) is not in such a loop.
			if _, wanted := want[id]; wanted && loopState(line) {
				cur = id
			}
			continue
		}
		if cur < 0 || resolved {
			continue
		}
		if strings.HasPrefix(line, "\t") {
			if fn == "" {
				continue
			}
			resolved = true
			file, ln := fileLine(strings.TrimSpace(line))
			k := key{fn, file, ln}
			s := sites[k]
			if s == nil {
				s = &site{}
				sites[k] = s
			}
			s.goroutines++
			s.runs += want[cur]
			continue
		}
		name := funcOfCall(line)
		if name == "" || isRuntimeFunc(name) || strings.HasPrefix(line, "created by ") {
			fn = ""
			continue
		}
		fn = name
	}
	out := make([]api.PreemptedSite, 0, len(sites))
	for k, s := range sites {
		out = append(out, api.PreemptedSite{Function: k.fn, File: k.file, Line: k.line, Goroutines: s.goroutines, LongRuns: s.runs})
	}
	slices.SortFunc(out, func(x, y api.PreemptedSite) int {
		if x.Goroutines != y.Goroutines {
			return int(y.Goroutines - x.Goroutines)
		}
		if x.LongRuns != y.LongRuns {
			return int(y.LongRuns - x.LongRuns)
		}
		return strings.Compare(x.Function+x.File, y.Function+y.File)
	})
	return out, total, sc.Err()
}

// asyncPreempted returns the functions that goroutines are stopped in by
// async preemption, from a goroutine profile: the first frame outside the
// runtime under runtime.asyncPreempt.
func asyncPreempted() (map[string]bool, error) {
	var buf bytes.Buffer
	if err := pprof.Lookup("goroutine").WriteTo(&buf, 0); err != nil {
		return nil, err
	}
	p, err := profile.ParseData(buf.Bytes())
	if err != nil {
		return nil, err
	}
	return preemptedFunctions(p), nil
}

// preemptedFunctions reads a goroutine profile's stacks for the first frame
// outside the runtime below runtime.asyncPreempt.
func preemptedFunctions(p *profile.Profile) map[string]bool {
	fns := map[string]bool{}
	for _, s := range p.Sample {
		found := false
	stack:
		for _, loc := range s.Location {
			for _, ln := range loc.Line { // leaf first, inlined frames first
				if ln.Function == nil {
					continue
				}
				name := ln.Function.Name
				if !found {
					found = name == "runtime.asyncPreempt"
					continue
				}
				if !isRuntimeFunc(name) {
					fns[name] = true
					break stack
				}
			}
		}
	}
	return fns
}

// loopState reports whether a dump header's state is running or runnable
// ("goroutine 18 [runnable]:", "[running, locked to thread]:").
func loopState(header string) bool {
	i := strings.LastIndexByte(header, '[')
	if i < 0 {
		return false
	}
	state, _, _ := strings.Cut(strings.TrimSuffix(header[i+1:], "]:"), ",")
	return state == "running" || state == "runnable"
}

// goroutineHeader parses "goroutine 18 [runnable]:" (and the longer
// headers of newer releases, "goroutine 18 gp=0x… m=nil [runnable]:").
func goroutineHeader(line string) (int64, bool) {
	rest, ok := strings.CutPrefix(line, "goroutine ")
	if !ok || !strings.HasSuffix(line, ":") {
		return 0, false
	}
	end := strings.IndexByte(rest, ' ')
	if end <= 0 {
		return 0, false
	}
	id, err := strconv.ParseInt(rest[:end], 10, 64)
	return id, err == nil && id > 0
}

// funcOfCall returns the function of a dump's call line,
// "main.crunchRows(0xc000012345, ...)" → "main.crunchRows"; it keeps
// method receivers ("main.(*T).m(...)").
func funcOfCall(line string) string {
	if line == "" || strings.HasPrefix(line, "\t") {
		return ""
	}
	i := strings.LastIndexByte(line, '(')
	if i <= 0 || !strings.HasSuffix(line, ")") && !strings.HasSuffix(line, "...)") {
		return ""
	}
	return line[:i]
}

// fileLine parses "/app/main.go:49 +0x16".
func fileLine(s string) (string, int64) {
	if i := strings.Index(s, " +0x"); i > 0 {
		s = s[:i] // "+0x16 fp=… sp=… pc=…" follows in GOTRACEBACK=system dumps
	}
	i := strings.LastIndexByte(s, ':')
	if i <= 0 {
		return s, 0
	}
	n, err := strconv.ParseInt(s[i+1:], 10, 64)
	if err != nil {
		return s, 0
	}
	return s[:i], n
}

// cappedBuffer keeps at most max bytes and drops the rest, so a runaway
// trace cannot grow the host's memory.
type cappedBuffer struct {
	bytes.Buffer
	max int
	cut bool
}

func (b *cappedBuffer) Write(p []byte) (int, error) {
	if room := b.max - b.Len(); len(p) > room {
		b.cut = true
		if room > 0 {
			b.Buffer.Write(p[:room])
		}
		return len(p), nil
	}
	return b.Buffer.Write(p)
}

// Evidence returns the latest loop evidence, or nil before any.
func (a *Agent) Evidence() *api.LoopEvidence {
	a.evidence.mu.Lock()
	defer a.evidence.mu.Unlock()
	return cloneEvidence(a.evidence.last)
}

// serveEvidence serves PathEvidence.
func (a *Agent) serveEvidence(w http.ResponseWriter, r *http.Request) {
	if !allowGet(w, r) {
		return
	}
	ev := a.Evidence()
	if ev == nil {
		serveError(w, http.StatusNotFound, "no loop evidence yet: it is gathered when a scheduling-latency or async-preemption warning is raised")
		return
	}
	serveJSON(w, ev)
}

// serveEvidenceTrace serves PathEvidenceTrace.
func (a *Agent) serveEvidenceTrace(w http.ResponseWriter, r *http.Request) {
	if !allowGet(w, r) {
		return
	}
	a.evidence.mu.Lock()
	data := a.evidence.trace
	a.evidence.mu.Unlock()
	if data == nil {
		serveError(w, http.StatusNotFound, "no evidence trace yet: one is taken when a scheduling-latency or async-preemption warning is raised")
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Disposition", `attachment; filename="evidence.trace"`)
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(data))
}

// isRuntimeFunc reports a function of the runtime's own packages.
func isRuntimeFunc(name string) bool {
	return strings.HasPrefix(name, "runtime.") || strings.HasPrefix(name, "internal/runtime/") ||
		strings.HasPrefix(name, "runtime/internal/")
}
