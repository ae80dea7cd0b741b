package doctor

import (
	"bytes"
	"math"
	"strings"
	"testing"
	"unicode/utf8"
)

// The seed corpora under testdata/fuzz hold real debug=1 and debug=2 output
// of a small program with a goroutine locked to its thread.

func FuzzScanLocked(f *testing.F) {
	f.Add([]byte(handDump))
	f.Add([]byte(strings.ReplaceAll(handDump, "\n", "\r\n")))
	f.Add([]byte("goroutine 7 [running, locked to thread]:"))
	f.Add([]byte(strings.Repeat("goroutine 7 [select, locked to thread]:\nmain.f()\n\t/src/f.go:1 +0x1\n\n", 7)))
	f.Add([]byte("goroutine 1 [chan receive, locked to thread]:\nmain.(*T).run(0x1)\n\t/src/t.go:3 +0x1\ncreated by main.main in goroutine 1\n"))
	f.Add([]byte("goroutine profile: total 3\n2 @ 0x4371ce 0x40542c\n"))
	f.Add([]byte(""))
	f.Fuzz(func(t *testing.T, data []byte) {
		l, err := ScanLocked(bytes.NewReader(data))
		if err != nil {
			if l != nil {
				t.Fatalf("error %v with a result %+v", err, l)
			}
			return
		}
		if l == nil {
			t.Fatal("nil result without an error")
		}
		headers := bytes.Count(data, []byte("goroutine "))
		if headers == 0 {
			t.Fatal("no goroutine header, yet no error")
		}
		if l.Goroutines < 0 || l.Goroutines > headers {
			t.Fatalf("%d locked goroutines, %d headers", l.Goroutines, headers)
		}
		if len(l.Where) > 5 || len(l.Where) > l.Goroutines { // 5: the documented bound, not maxWhere
			t.Fatalf("%d places for %d locked goroutines: %q", len(l.Where), l.Goroutines, l.Where)
		}
		if l.Goroutines > 0 && len(l.Where) != min(l.Goroutines, maxWhere) {
			t.Fatalf("%d places for %d locked goroutines: %q", len(l.Where), l.Goroutines, l.Where)
		}
		placed := 0
		for _, p := range l.Places {
			placed += p.Count
		}
		if len(l.Places) > 5 || placed > l.Goroutines || (l.Goroutines > 0 && len(l.Places) == 0) {
			t.Fatalf("%d places holding %d of %d locked goroutines: %+v", len(l.Places), placed, l.Goroutines, l.Places)
		}
		for _, w := range l.Where {
			if w == "" || !utf8.ValidString(w) {
				t.Fatalf("place %q", w)
			}
		}
	})
}

func FuzzParseThreadCreate(f *testing.F) {
	f.Add([]byte("threadcreate profile: total 12\n5 @ 0x0\n#\t0x0\n"))
	f.Add([]byte("threadcreate profile: total -3\r\n"))
	f.Add([]byte("threadcreate profile: total 9223372036854775808"))
	f.Add([]byte("goroutine profile: total 3\n"))
	f.Add([]byte(""))
	f.Fuzz(func(t *testing.T, data []byte) {
		n, err := ParseThreadCreate(bytes.NewReader(data))
		if n < 0 {
			t.Fatalf("%d threads (error %v)", n, err)
		}
		if err != nil && n != 0 {
			t.Fatalf("%d threads with error %v", n, err)
		}
		if err == nil && !bytes.Contains(data, []byte("threadcreate profile: total ")) {
			t.Fatalf("%d threads from no threadcreate header", n)
		}
	})
}

func FuzzParseMemStats(f *testing.F) {
	f.Add([]byte("# runtime.MemStats\n# HeapAlloc = 1139168\n# NextGC = 4194304\n# NumGC = 3\n# GCCPUFraction = 0.002271447983408682\n"))
	f.Add([]byte("# GCCPUFraction = 1e-05\r\n# NumGC = 12\r\n"))
	f.Add([]byte("# GCCPUFraction = NaN\n# GCCPUFraction = -0\n# NumGC = -1\n"))
	f.Add([]byte("# GCCPUFraction = 1.5\n# NumGC = 2\n"))
	f.Add([]byte("heap profile: 1: 480 [1: 481] @ heap/1048576\n"))
	f.Add([]byte(""))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := ParseMemStats(bytes.NewReader(data))
		if err != nil {
			if m != nil {
				t.Fatalf("error %v with a result %+v", err, m)
			}
			return
		}
		if m == nil {
			t.Fatal("nil result without an error")
		}
		if m.GCCPUFraction == nil && m.NumGC == nil && m.NextGC == nil && m.HeapAlloc == nil {
			t.Fatal("no figure, yet no error")
		}
		if p := m.GCCPUFraction; p != nil && (math.IsNaN(*p) || *p < 0 || *p > 1) {
			t.Fatalf("GCCPUFraction %v", *p)
		}
		for name, p := range map[string]*int64{"NumGC": m.NumGC, "NextGC": m.NextGC, "HeapAlloc": m.HeapAlloc} {
			if p != nil && *p < 0 {
				t.Fatalf("%s %d", name, *p)
			}
		}
	})
}
