package doctor

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"reflect"
	"runtime"
	"runtime/pprof"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/iotest"
	"time"
	"unicode/utf8"

	"go.uber.org/goleak"

	"github.com/diagkit/diagkit/diag/api"
)

// lockedWorker holds its OS thread until release is closed.
//
//go:noinline
func lockedWorker(ready, done *sync.WaitGroup, release <-chan struct{}) {
	defer done.Done()
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	ready.Done()
	<-release
}

// unlockedWorker waits like lockedWorker, on no thread of its own.
//
//go:noinline
func unlockedWorker(ready, done *sync.WaitGroup, release <-chan struct{}) {
	defer done.Done()
	ready.Done()
	<-release
}

func goroutineDump(t *testing.T) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := pprof.Lookup("goroutine").WriteTo(&buf, 2); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func scan(t *testing.T, dump []byte) *Locked {
	t.Helper()
	l, err := ScanLocked(bytes.NewReader(dump))
	if err != nil {
		t.Fatalf("ScanLocked: %v\n%s", err, dump)
	}
	return l
}

// TestScanLockedLive reads this test process's own goroutine dump with
// goroutines locked to their threads and others not.
func TestScanLockedLive(t *testing.T) {
	const (
		worker  = "github.com/diagkit/diagkit/internal/doctor.lockedWorker"
		creator = "github.com/diagkit/diagkit/internal/doctor.TestScanLockedLive"
	)
	for _, n := range []int{2, 7} {
		t.Run(fmt.Sprint(n, " locked"), func(t *testing.T) {
			defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
			base := scan(t, goroutineDump(t))

			release := make(chan struct{})
			var ready, done sync.WaitGroup
			for range n {
				ready.Add(2)
				done.Add(2)
				go lockedWorker(&ready, &done, release)
				go unlockedWorker(&ready, &done, release)
			}
			released := false
			releaseAll := func() {
				if !released {
					released = true
					close(release)
					done.Wait()
				}
			}
			defer releaseAll()
			ready.Wait()

			// Wait for every worker to block in its receive, so that the
			// dump shows each in lockedWorker.
			wantWhere := min(n, maxWhere-len(base.Where))
			var l *Locked
			var dump []byte
			for deadline := time.Now().Add(10 * time.Second); ; {
				dump = goroutineDump(t)
				l = scan(t, dump)
				named := 0
				for _, w := range l.Where {
					// The creator is the subtest's closure, TestScanLockedLive.func1.
					if strings.HasPrefix(w, worker+", started by "+creator+".func") {
						named++
					}
				}
				if l.Goroutines == base.Goroutines+n && named == wantWhere {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("locked %d, want %d; where %q (%d naming %s, want %d)\n%s",
						l.Goroutines, base.Goroutines+n, l.Where, named, worker, wantWhere, dump)
				}
				time.Sleep(10 * time.Millisecond)
			}
			if len(l.Where) != min(base.Goroutines+n, maxWhere) {
				t.Errorf("%d places, want %d: %q", len(l.Where), min(base.Goroutines+n, maxWhere), l.Where)
			}
			for _, w := range l.Where {
				if strings.Contains(w, "unlockedWorker") {
					t.Errorf("an unlocked goroutine listed: %q", w)
				}
			}
			if c := bytes.Count(dump, []byte("unlockedWorker(")); c < n {
				t.Errorf("the dump shows %d unlocked workers, want %d at least", c, n)
			}
			// However the dump arrives.
			for name, r := range map[string]io.Reader{
				"one byte": iotest.OneByteReader(bytes.NewReader(dump)),
				"half":     iotest.HalfReader(bytes.NewReader(dump)),
				"data+EOF": iotest.DataErrReader(bytes.NewReader(dump)),
			} {
				got, err := ScanLocked(r)
				if err != nil || !reflect.DeepEqual(got, l) {
					t.Errorf("%s reader: %+v, %v; want %+v", name, got, err, l)
				}
			}

			releaseAll()
			if after := scan(t, goroutineDump(t)); after.Goroutines != base.Goroutines {
				t.Errorf("after release: %d locked, want %d", after.Goroutines, base.Goroutines)
			}
		})
	}
}

const handDump = "goroutine 1 [running]:\n" +
	"main.main()\n" +
	"\t/src/main.go:10 +0x1d\n" +
	"\n" +
	"goroutine 18 [chan receive, locked to thread]:\n" +
	"main.render(0xc000012345)\n" +
	"\t/src/render.go:20 +0x58\n" +
	"created by main.main in goroutine 1\n" +
	"\t/src/main.go:9 +0xcd\n" +
	"\n" +
	"goroutine 19 [select]:\n" +
	"main.idle()\n" +
	"\t/src/idle.go:5 +0x72\n" +
	"created by main.main in goroutine 1\n" +
	"\t/src/main.go:8 +0x126\n" +
	"\n" +
	"goroutine 20 [syscall, 3 minutes, locked to thread]:\n" +
	"syscall.Syscall6(0x1, 0x2, ...)\n" +
	"\t/go/src/syscall/syscall_linux.go:91 +0x39\n" +
	"main.(*Poller).wait(0xc000100000)\n" +
	"\t/src/poll.go:30 +0x2a\n" +
	"created by main.startPoller\n" +
	"\t/src/poll.go:12 +0x3b\n"

func TestScanLocked(t *testing.T) {
	long := strings.Repeat("x", maxLine+1)
	// header pads a locked goroutine's header to n bytes.
	header := func(n int) string {
		h := "goroutine 9 [chan receive, locked to thread]:"
		return h[:13] + strings.Repeat("x", n-len(h)) + h[13:]
	}
	var eight strings.Builder
	for i := range 8 {
		fmt.Fprintf(&eight, "goroutine %d [chan receive, locked to thread]:\nmain.w%d()\n\t/src/w.go:%d +0x1\ncreated by main.main in goroutine 1\n\t/src/main.go:3 +0x2\n\n", 10+i, i, i)
	}

	tests := []struct {
		name  string
		in    string
		want  Locked
		check func(t *testing.T, l *Locked)
	}{
		{name: "debug=2 dump", in: handDump, want: Locked{Goroutines: 2, Where: []string{
			"main.render, started by main.main",
			"syscall.Syscall6, started by main.startPoller",
		}}},
		{name: "CRLF", in: strings.ReplaceAll(handDump, "\n", "\r\n"), want: Locked{Goroutines: 2, Where: []string{
			"main.render, started by main.main",
			"syscall.Syscall6, started by main.startPoller",
		}}},
		{name: "none locked", in: "goroutine 1 [running]:\nmain.main()\n\t/src/main.go:10 +0x1d\n", want: Locked{}},
		{name: "method, no creator", in: "goroutine 1 [chan receive, locked to thread]:\nmain.(*T).run(0x1)\n\t/src/t.go:3 +0x1\nmain.main()\n\t/src/main.go:10 +0x1d\n",
			want: Locked{Goroutines: 1, Where: []string{"main.(*T).run"}}},
		{name: "no blank line between goroutines", in: "goroutine 5 [select, locked to thread]:\nmain.a()\n\t/src/a.go:1 +0x1\ngoroutine 6 [select, locked to thread]:\nmain.b()\n\t/src/b.go:1 +0x1\n",
			want: Locked{Goroutines: 2, Where: []string{"main.a", "main.b"}}},
		{name: "header at EOF", in: "goroutine 1 [running]:\nmain.main()\n\ngoroutine 7 [running, locked to thread]:", want: Locked{Goroutines: 1, Where: []string{"(no stack)"}}},
		{name: "header at EOF, CRLF", in: "goroutine 7 [running, locked to thread]:\r\n", want: Locked{Goroutines: 1, Where: []string{"(no stack)"}}},
		{name: "header, blank line", in: "goroutine 7 [running, locked to thread]:\n\ngoroutine 8 [running]:\nmain.f()\n", want: Locked{Goroutines: 1, Where: []string{"(no stack)"}}},
		{name: "only one of 8 locked", in: "goroutine 1 [running]:\nmain.main()\n\n" + "goroutine 2 [running, locked to thread]:\nmain.g()\n\n" + strings.Repeat("goroutine 3 [select]:\nmain.h()\n\n", 6),
			want: Locked{Goroutines: 1, Where: []string{"main.g"}}},
		{name: "where bounded", in: eight.String(), want: Locked{Goroutines: 8, Where: []string{
			"main.w0, started by main.main", "main.w1, started by main.main", "main.w2, started by main.main",
			"main.w3, started by main.main", "main.w4, started by main.main",
		}}},
		{name: "long line skipped", in: "goroutine 1 [running]:\nmain.main()\n\n" + long + "\n" + handDump,
			want: Locked{Goroutines: 2, Where: []string{"main.render, started by main.main", "syscall.Syscall6, started by main.startPoller"}}},
		{name: "long frame skipped", in: "goroutine 4 [select, locked to thread]:\nmain.top()\n" + long + "\ncreated by main.main in goroutine 1\n\t/src/main.go:1\n",
			want: Locked{Goroutines: 1, Where: []string{"main.top, started by main.main"}}},
		{name: "long line at EOF", in: handDump + long, want: Locked{Goroutines: 2, Where: []string{
			"main.render, started by main.main", "syscall.Syscall6, started by main.startPoller",
		}}},
		{name: "long header skipped", in: "goroutine 1 [running]:\nmain.main()\n\n" + header(maxLine+1) + "\nmain.hidden()\n\n",
			want: Locked{}},
		{name: "header just short of the bound", in: header(maxLine-1) + "\nmain.seen()\n\n",
			want: Locked{Goroutines: 1, Where: []string{"main.seen"}}},
		{name: "top frame skipped", in: "goroutine 4 [select, locked to thread]:\n" + long + "\n\t/src/f.go:1 +0x1\nmain.caller()\n\t/src/g.go:2 +0x1\n", check: func(t *testing.T, l *Locked) {
			// The file line under the skipped frame is no function.
			if l.Goroutines != 1 || len(l.Where) != 1 || strings.ContainsAny(l.Where[0], "\t/") {
				t.Errorf("%+v", l)
			}
		}},
		{name: "invalid UTF-8", in: "goroutine 4 [select, locked to thread]:\nmain.\xff\xfeg()\n\t/src/f.go:1\ncreated by main.\xc3 in goroutine 1\n", check: func(t *testing.T, l *Locked) {
			if l.Goroutines != 1 || len(l.Where) != 1 || !utf8.ValidString(l.Where[0]) {
				t.Errorf("%+v", l)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, err := ScanLocked(strings.NewReader(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			if tt.check != nil {
				tt.check(t, l)
				return
			}
			if l.Goroutines != tt.want.Goroutines || !equalStrings(l.Where, tt.want.Where) {
				t.Errorf("got %d %q, want %d %q", l.Goroutines, l.Where, tt.want.Goroutines, tt.want.Where)
			}
		})
	}
}

// TestScanLockedLongName: a function name is cut at 200 bytes.
func TestScanLockedLongName(t *testing.T) {
	for _, n := range []int{200, 201, 250, 1000} {
		name := "main." + strings.Repeat("f", n-len("main."))
		want := name
		if n > 200 {
			want = name[:200] + "…"
		}
		in := "goroutine 4 [select, locked to thread]:\n" + name + "(0x1)\n\t/src/f.go:1\ncreated by " + name + " in goroutine 1\n"
		l, err := ScanLocked(strings.NewReader(in))
		if err != nil {
			t.Fatal(err)
		}
		if want := want + ", started by " + want; l.Goroutines != 1 || len(l.Where) != 1 || l.Where[0] != want {
			t.Errorf("%d-byte name: %+v, want %q", n, l, want)
		}
	}
}

func equalStrings(a, b []string) bool {
	return len(a) == len(b) && (len(a) == 0 || reflect.DeepEqual(a, b))
}

func TestScanLockedErrors(t *testing.T) {
	var proto bytes.Buffer
	if err := pprof.Lookup("goroutine").WriteTo(&proto, 0); err != nil { // gzipped protobuf
		t.Fatal(err)
	}
	for name, in := range map[string]string{
		"empty":                 "",
		"blank lines":           "\n\n\r\n",
		"text":                  "hello, world\n",
		"debug=1":               "goroutine profile: total 3\n2 @ 0x4371ce 0x40542c\n#\t0x4371cd\tmain.f+0x2d\t/src/x.go:1\n",
		"no colon":              "goroutine 1 [running]\nmain.main()\n",
		"threadcreate":          "threadcreate profile: total 6\n",
		"protobuf":              proto.String(),
		"only a too long label": "goroutine 1 [" + strings.Repeat("x", maxLine) + "]:\n",
	} {
		if l, err := ScanLocked(strings.NewReader(in)); err == nil {
			t.Errorf("%s: %+v, want an error", name, l)
		}
	}
	boom := errors.New("boom")
	if _, err := ScanLocked(io.MultiReader(strings.NewReader(handDump), iotest.ErrReader(boom))); !errors.Is(err, boom) {
		t.Errorf("reader error: %v, want %v", err, boom)
	}
	if _, err := ScanLocked(iotest.ErrReader(boom)); !errors.Is(err, boom) {
		t.Errorf("reader error at once: %v, want %v", err, boom)
	}
}

func TestParseThreadCreateLive(t *testing.T) {
	p := pprof.Lookup("threadcreate")
	before := p.Count()
	var buf bytes.Buffer
	if err := p.WriteTo(&buf, 1); err != nil {
		t.Fatal(err)
	}
	after := p.Count()
	n, err := ParseThreadCreate(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatalf("%v\n%s", err, buf.Bytes())
	}
	if n < 1 || n < int64(before) || n > int64(after) {
		t.Errorf("%d threads created, want 1 at least and %d..%d\n%s", n, before, after, buf.Bytes())
	}
}

func TestParseThreadCreate(t *testing.T) {
	for in, want := range map[string]int64{
		"threadcreate profile: total 12\n5 @ 0x0\n#\t0x0\n\n7 @ 0x450b45\n": 12,
		"threadcreate profile: total 12":                                    12,
		"threadcreate profile: total 12\r\n1 @ 0x0\r\n":                     12,
		"threadcreate profile: total 7 \n":                                  7,
		"threadcreate profile: total 0\n":                                   0,
		"threadcreate profile: total 9223372036854775807\n":                 math.MaxInt64,
	} {
		n, err := ParseThreadCreate(strings.NewReader(in))
		if err != nil || n != want {
			t.Errorf("%q: %d, %v; want %d", in, n, err, want)
		}
	}
	var proto bytes.Buffer
	if err := pprof.Lookup("threadcreate").WriteTo(&proto, 0); err != nil {
		t.Fatal(err)
	}
	for _, in := range []string{
		"",
		"\n",
		"threadcreate profile: total -3\n",
		"threadcreate profile: total x\n",
		"threadcreate profile: total \n",
		"threadcreate profile: total 1.5\n",
		"threadcreate profile: total 9223372036854775808\n",
		"threadcreate profile: total 12 threads\n",
		"goroutine profile: total 3\n",
		"heap profile: 1: 480 [1: 481] @ heap/1048576\n",
		"1 @ 0x0\nthreadcreate profile: total 12\n",
		proto.String(),
	} {
		if n, err := ParseThreadCreate(strings.NewReader(in)); err == nil || n != 0 {
			t.Errorf("%q: %d, %v; want 0 and an error", truncate(in, 60), n, err)
		}
	}
	boom := errors.New("boom")
	if _, err := ParseThreadCreate(iotest.ErrReader(boom)); !errors.Is(err, boom) {
		t.Errorf("reader error: %v, want %v", err, boom)
	}
}

func TestParseMemStatsLive(t *testing.T) {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	var buf bytes.Buffer
	if err := pprof.Lookup("heap").WriteTo(&buf, 1); err != nil {
		t.Fatal(err)
	}
	var ms2 runtime.MemStats
	runtime.ReadMemStats(&ms2)
	if !bytes.Contains(buf.Bytes(), []byte("\n# GCCPUFraction = ")) {
		t.Fatalf("no GCCPUFraction in the heap profile:\n%s", buf.Bytes())
	}
	m, err := ParseMemStats(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if m.GCCPUFraction == nil || *m.GCCPUFraction < 0 || *m.GCCPUFraction > 1 {
		t.Errorf("GCCPUFraction %v", m.GCCPUFraction)
	}
	if m.NumGC == nil || *m.NumGC < int64(ms.NumGC) || *m.NumGC > int64(ms2.NumGC) || *m.NumGC < 1 {
		t.Errorf("NumGC %v, want %d..%d", m.NumGC, ms.NumGC, ms2.NumGC)
	}
	if m.HeapAlloc == nil || *m.HeapAlloc <= 0 {
		t.Errorf("HeapAlloc %v", m.HeapAlloc)
	}
	if m.NextGC == nil || *m.NextGC <= 0 {
		t.Errorf("NextGC %v", m.NextGC)
	}
}

func TestParseMemStats(t *testing.T) {
	type want struct {
		frac                     *float64
		numGC, nextGC, heapAlloc *int64
	}
	tests := []struct {
		in   string
		want want
	}{
		{"# runtime.MemStats\n# Alloc = 1\n# HeapAlloc = 1139168\n# NextGC = 4194304\n# NumGC = 3\n# GCCPUFraction = 0.002271447983408682\n",
			want{ptrTo(0.002271447983408682), ptrTo[int64](3), ptrTo[int64](4194304), ptrTo[int64](1139168)}},
		{"# GCCPUFraction = 0.5", want{frac: ptrTo(0.5)}},
		{"# GCCPUFraction = 1e-05\r\n# NumGC = 12\r\n", want{frac: ptrTo(1e-05), numGC: ptrTo[int64](12)}},
		{"# GCCPUFraction = 0\n", want{frac: ptrTo(0.0)}},
		{"# GCCPUFraction = 1\n", want{frac: ptrTo(1.0)}},
		// Out-of-range or malformed figures are dropped, the others kept.
		{"# GCCPUFraction = 1.5\n# NumGC = 2\n", want{numGC: ptrTo[int64](2)}},
		{"# GCCPUFraction = NaN\n# NumGC = 2\n", want{numGC: ptrTo[int64](2)}},
		{"# NumGC = -1\n# NextGC = 8\n", want{nextGC: ptrTo[int64](8)}},
		{"# HeapAlloc = 1e3\n# NextGC = 8\n", want{nextGC: ptrTo[int64](8)}},
	}
	for _, tt := range tests {
		m, err := ParseMemStats(strings.NewReader(tt.in))
		if err != nil {
			t.Errorf("%q: %v", tt.in, err)
			continue
		}
		got := want{m.GCCPUFraction, m.NumGC, m.NextGC, m.HeapAlloc}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%q: %s, want %s", tt.in, fmtMemStats(got.frac, got.numGC, got.nextGC, got.heapAlloc), fmtMemStats(tt.want.frac, tt.want.numGC, tt.want.nextGC, tt.want.heapAlloc))
		}
	}

	var proto bytes.Buffer
	if err := pprof.Lookup("heap").WriteTo(&proto, 0); err != nil {
		t.Fatal(err)
	}
	for _, in := range []string{
		"",
		"\n",
		"heap profile: 1: 480 [1: 481] @ heap/1048576\n1: 480 [1: 480] @ 0x47dea5\n",
		"# runtime.MemStats\n# Alloc = 1\n# Sys = 2\n",
		"GCCPUFraction = 0.1\nNumGC = 3\n",
		"# GCCPUFraction: 0.1\n",
		"# GCCPUFraction = 1.5\n",
		"# GCCPUFraction = -0.1\n",
		"# GCCPUFraction = Inf\n",
		"# NumGC = -1\n",
		"# NumGC = x\n",
		"#  NumGC = 3\n",
		proto.String(),
	} {
		if m, err := ParseMemStats(strings.NewReader(in)); err == nil {
			t.Errorf("%q: %+v, want an error", truncate(in, 60), m)
		}
	}
	boom := errors.New("boom")
	if _, err := ParseMemStats(io.MultiReader(strings.NewReader("# NumGC = 3\n"), iotest.ErrReader(boom))); !errors.Is(err, boom) {
		t.Errorf("reader error: %v, want %v", err, boom)
	}
}

func fmtMemStats(frac *float64, ints ...*int64) string {
	s := "frac "
	if frac == nil {
		s += "nil"
	} else {
		s += fmt.Sprint(*frac)
	}
	for _, p := range ints {
		if p == nil {
			s += " nil"
		} else {
			s += fmt.Sprint(" ", *p)
		}
	}
	return s
}

// Locked goroutines in the same place are grouped, counted beyond the
// first five.
func TestScanLockedPlaces(t *testing.T) {
	var b strings.Builder
	for i := range 8 {
		fmt.Fprintf(&b, "goroutine %d [chan receive, locked to thread]:\nmain.hold()\n\t/src/m.go:3 +0x1\ncreated by main.main in goroutine 1\n\t/src/m.go:9 +0x2\n\n", 10+i)
	}
	b.WriteString("goroutine 30 [select, locked to thread]:\nmain.gl()\n\t/src/g.go:5 +0x1\n\n")
	l, err := ScanLocked(strings.NewReader(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	want := []Place{{"main.hold, started by main.main", 8}, {"main.gl", 1}}
	if l.Goroutines != 9 || !slices.Equal(l.Places, want) {
		t.Errorf("goroutines %d, places %+v; want 9, %+v", l.Goroutines, l.Places, want)
	}
	rep := Run(Facts{GOMAXPROCS: 2, Locked: l}, DefaultThresholds)
	c := checkOf(t, rep, api.CheckLockOSThread)
	if c.Status != api.StatusFail || !slices.Contains(c.Evidence, "locked: 8× main.hold, started by main.main") || !slices.Contains(c.Evidence, "locked: 1× main.gl") {
		t.Errorf("check = %s %q", c.Status, c.Evidence)
	}
}
