package tracesum

import (
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// TestInterpret checks the guide's rules on summaries made up to sit on
// either side of each threshold.
func TestInterpret(t *testing.T) {
	base := func() *Summary {
		return &Summary{
			Events: 1000, DurationSeconds: 1, Procs: 2,
			Balance: Balance{
				Procs:       []ProcBusy{{ID: 0, Share: 0.5}, {ID: 1, Share: 0.5}},
				Utilization: 0.5, MinShare: 0.5, MaxShare: 0.5, CV: 0,
				BusySeconds: 1,
			},
			RunnableWait: WaitStats{Count: 1000, P99Seconds: 0.0001, MaxSeconds: 0.0002},
		}
	}
	tests := []struct {
		name   string
		change func(s *Summary)
		want   []string // all in the interpretation
		not    []string // none in it
	}{
		{"nothing", func(*Summary) {}, []string{"Nothing the tuning guide flags", "Ps evenly busy (cv 0.00)", "runnable wait p99 100µs"}, []string{"idle"}},
		{"no events", func(s *Summary) { s.Events = 0 }, []string{"no events"}, nil},
		{"preemptions", func(s *Summary) {
			s.Preemptions = Preemptions{Total: 100, Async: 90, PerBusySecond: 100, Functions: []FuncCount{{Function: "main.loop", Count: 90}}}
		}, []string{"100 preemptions (100 per busy second, 90 async)", "most often in main.loop"}, []string{"Nothing"}},
		{"preemptions at the threshold", func(s *Summary) {
			s.Preemptions = Preemptions{Total: 10, PerBusySecond: PreemptionsPerBusySecondFlag}
		}, []string{"10 preemptions"}, nil},
		{"too few preemptions", func(s *Summary) {
			s.Preemptions = Preemptions{Total: 9, PerBusySecond: 100}
		}, []string{"Nothing", "9 preemptions"}, []string{"per busy second"}},
		{"preemptions too rare", func(s *Summary) {
			s.Preemptions = Preemptions{Total: 100, PerBusySecond: 4.9}
		}, []string{"Nothing"}, nil},
		{"uneven", func(s *Summary) {
			s.Balance.CV, s.Balance.MinShare, s.Balance.MaxShare = 1, 0, 1
		}, []string{"unevenly busy (from 0.0% to 100.0% of the time, cv 1.00)"}, nil},
		{"uneven but idle", func(s *Summary) {
			s.Balance.CV, s.Balance.Utilization = 1, 0.05
		}, []string{"Nothing", "Ps 5.0% busy"}, []string{"unevenly"}},
		{"uneven enough", func(s *Summary) { s.Balance.CV = 0.5 }, []string{"Nothing"}, nil},
		{"one P", func(s *Summary) {
			s.Balance.Procs, s.Balance.CV = s.Balance.Procs[:1], 1
		}, []string{"Nothing"}, []string{"unevenly"}},
		{"mostly idle", func(s *Summary) { s.Balance.Utilization = 0.01 }, []string{"The process was mostly idle (Ps busy 1.0% of the time)", "Nothing"}, nil},
		{"long syscall", func(s *Summary) {
			s.Syscalls = CallStats{Count: 3, LongCalls: 1, MaxSeconds: 0.02, MaxCompleteSeconds: 0.02,
				Longest: []Call{{Function: "syscall.read", Seconds: 0.02}}}
		}, []string{"Long Syscall regions (1 system or cgo call of 10.0ms or more, the longest a system call syscall.read of 20.0ms)"}, nil},
		{"long cgo call", func(s *Summary) {
			s.Syscalls = CallStats{Count: 1, MaxSeconds: 0.001, MaxCompleteSeconds: 0.001, Longest: []Call{{Function: "syscall.read"}}}
			s.Cgo = CallStats{Count: 2, LongCalls: 2, MaxSeconds: 0.5, MaxCompleteSeconds: 0.5,
				Longest: []Call{{Function: "C.open", Truncated: true}, {Function: "C.work"}}}
		}, []string{"2 system or cgo calls", "a cgo call C.work of 500ms"}, nil},
		{"a call cut by the trace", func(s *Summary) {
			s.Syscalls = CallStats{Count: 1, Open: 1, MaxSeconds: 1, Longest: []Call{{Function: "syscall.read", Truncated: true}}}
		}, []string{"Nothing"}, []string{"Syscall"}},
		{"runnable waits", func(s *Summary) {
			s.RunnableWait.P99Seconds, s.RunnableWait.MaxSeconds = 0.006, 0.02
		}, []string{"waited 6.00ms for a P at p99 (max 20.0ms)"}, nil},
		{"too few waits for a p99", func(s *Summary) {
			s.RunnableWait.Count, s.RunnableWait.P99Seconds = 99, 0.006
		}, []string{"Nothing"}, nil},
		{"everything", func(s *Summary) {
			s.Preemptions = Preemptions{Total: 100, PerBusySecond: 100}
			s.Balance.CV = 1
			s.Cgo = CallStats{LongCalls: 1, MaxCompleteSeconds: 0.02}
			s.RunnableWait.P99Seconds = 0.01
		}, []string{"100 preemptions", "; the Ps are unevenly", "; long Syscall regions", "; runnable goroutines waited"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := base()
			tt.change(s)
			got := Interpret(s)
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Errorf("%q does not say %q", got, w)
				}
			}
			for _, w := range tt.not {
				if strings.Contains(got, w) {
					t.Errorf("%q says %q", got, w)
				}
			}
			if !strings.HasSuffix(got, ".") || strings.Contains(got, "\n") {
				t.Errorf("%q: want one line ending with a period", got)
			}
		})
	}
}

// TestHistogram checks the bucketing against exact values: every value lies
// in its bucket, and quantiles are within the bucket width (0.8 %).
func TestHistogram(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var h histogram
	var values []int64
	for range 100_000 {
		// Log-uniform from 1 ns to ~1000 s.
		v := int64(math.Exp(rng.Float64() * math.Log(1e12)))
		values = append(values, v)
		h.add(v)
		lo, hi := bucketBounds(bucketOf(v))
		if v < lo || v > hi {
			t.Fatalf("%d is in bucket %d, [%d, %d]", v, bucketOf(v), lo, hi)
		}
	}
	for _, v := range []int64{0, 1, subBuckets - 1, subBuckets, subBuckets + 1, 1 << 40, math.MaxInt64} {
		lo, hi := bucketBounds(bucketOf(v))
		if v < lo || v > hi || bucketOf(v) >= histBuckets {
			t.Errorf("%d is in bucket %d, [%d, %d]", v, bucketOf(v), lo, hi)
		}
	}
	slices.Sort(values)
	for _, q := range []float64{0.5, 0.9, 0.99, 0.999, 1} {
		exact := values[int(math.Ceil(q*float64(len(values))))-1]
		got := h.quantile(q)
		if rel := math.Abs(float64(got-exact)) / float64(exact); rel > 1.0/subBuckets {
			t.Errorf("q%.3f: %d, exact %d (%.2f%% off)", q, got, exact, 100*rel)
		}
	}
	if h.quantile(1) != values[len(values)-1] || h.max != values[len(values)-1] {
		t.Errorf("max %d, quantile(1) %d, want %d", h.max, h.quantile(1), values[len(values)-1])
	}
	var empty histogram
	if empty.quantile(0.99) != 0 {
		t.Error("quantile of nothing")
	}
}
