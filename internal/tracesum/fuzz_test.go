package tracesum

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"
)

// FuzzSummarize feeds Summarize arbitrary bytes: it must return a summary
// or one of its errors, never panic or hang, and a summary must encode to
// JSON (no NaN or infinity) and add up. The seeds are in
// testdata/fuzz/FuzzSummarize (a small go1.26 trace of two goroutines
// passing values over a channel, the head of the prometheus fixture) and
// below.
func FuzzSummarize(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte("go 1.26 trace\x00\x00\x00"))
	f.Add([]byte("go 1.19 trace\x00\x00\x00"))
	f.Add([]byte("go 1.5 trace\x00\x00\x00\x00"))
	f.Add([]byte("go 1.99 trace\x00\x00\x00\x01\x02\x03"))
	f.Add([]byte("not a trace at all"))
	f.Add(readFixture(f, prometheusFixture))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := Summarize(bytes.NewReader(data), Options{Top: 3, MaxEvents: 1 << 20})
		if err != nil {
			if s != nil {
				t.Fatalf("a summary and an error: %v", err)
			}
			for _, known := range []error{ErrEmpty, ErrNotTrace, ErrUnsupported, ErrInvalid} {
				if errors.Is(err, known) {
					return
				}
			}
			t.Fatalf("error %q wraps none of the package's errors", err)
		}
		if _, err := json.Marshal(s); err != nil {
			t.Fatalf("summary does not encode: %v", err)
		}
		p := s.Preemptions
		if p.Total != p.Async+p.Cooperative+p.RuntimeYield+p.Unknown || p.Total < 0 {
			t.Fatalf("preemptions do not add up: %+v", p)
		}
		var n int64
		for _, b := range s.RunnableWait.Histogram {
			n += b.Count
		}
		if n != s.RunnableWait.Count {
			t.Fatalf("wait histogram holds %d, count %d", n, s.RunnableWait.Count)
		}
		if len(s.LongestRuns) > 3 || len(s.Syscalls.Longest) > 3 || len(s.Cgo.Sites) > 3 {
			t.Fatalf("top lists longer than Top")
		}
		if s.DurationSeconds < 0 || s.Balance.BusySeconds < 0 || s.Syscalls.TotalSeconds < 0 {
			t.Fatalf("negative time: %+v", s)
		}
	})
}

// TestSummarizeErrors checks what Summarize says of input that is not a
// trace it can read.
func TestSummarizeErrors(t *testing.T) {
	full := readFixture(t, prometheusFixture)
	tests := []struct {
		name string
		data []byte
		want error
	}{
		{"empty", nil, ErrEmpty},
		{"text", []byte("hello, world\n"), ErrNotTrace},
		{"a CPU profile", []byte("\x1f\x8b\x08\x00\x00\x00\x00\x00"), ErrNotTrace},
		{"go 1.5 trace", []byte("go 1.5 trace\x00\x00\x00\x00"), ErrUnsupported},
		{"go 1.99 trace", []byte("go 1.99 trace\x00\x00\x00"), ErrUnsupported},
		{"truncated old format", full[:len(full)/2], ErrInvalid},
		{"header only, old format", full[:16], ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Summarize(bytes.NewReader(tt.data), Options{})
			if !errors.Is(err, tt.want) || s != nil {
				t.Errorf("Summarize: %v, %v; want %v", s, err, tt.want)
			}
		})
	}
}

// TestMaxEvents: the bound on work stops the summary and says so.
func TestMaxEvents(t *testing.T) {
	data := readFixture(t, prometheusFixture)
	full, err := Summarize(bytes.NewReader(data), Options{})
	if err != nil {
		t.Fatal(err)
	}
	s, err := Summarize(bytes.NewReader(data), Options{MaxEvents: 1000})
	if err != nil {
		t.Fatal(err)
	}
	if s.Events != 1000 || !s.Partial || s.DurationSeconds >= full.DurationSeconds {
		t.Errorf("with MaxEvents 1000: %d events, partial %v, %.3f s of %.3f s", s.Events, s.Partial, s.DurationSeconds, full.DurationSeconds)
	}
	s, err = Summarize(bytes.NewReader(data), Options{MaxGoroutines: 10})
	if err != nil {
		t.Fatal(err)
	}
	if !s.Partial || s.Goroutines > full.Goroutines {
		t.Errorf("with MaxGoroutines 10: partial %v, %d goroutines (of %d)", s.Partial, s.Goroutines, full.Goroutines)
	}
	s, err = Summarize(bytes.NewReader(data), Options{Top: -1})
	if err != nil {
		t.Fatal(err)
	}
	if len(s.LongestRuns)+len(s.Syscalls.Longest)+len(s.Syscalls.Sites)+len(s.Preemptions.Functions) != 0 {
		t.Errorf("Top -1 kept lists: %+v", s)
	}
}
