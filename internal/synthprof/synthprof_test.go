package synthprof_test

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/google/pprof/profile"

	"github.com/diagkit/diagkit/diag/analysis"
	"github.com/diagkit/diagkit/internal/synthprof"
)

func TestDeterministic(t *testing.T) {
	a, b := synthprof.Bytes(500, 7), synthprof.Bytes(500, 7)
	if !bytes.Equal(a, b) {
		t.Fatal("the same records and seed gave different bytes")
	}
	if bytes.Equal(a, synthprof.Bytes(500, 8)) {
		t.Fatal("different seeds gave the same bytes")
	}
}

func TestShape(t *testing.T) {
	const records = 2000
	data := synthprof.Bytes(records, 1)
	p, err := profile.Parse(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Sample) != records {
		t.Fatalf("%d records, want %d", len(p.Sample), records)
	}
	if got := fmt.Sprint(p.SampleType[0].Type, "/", p.SampleType[0].Unit, " ", p.SampleType[1].Type, "/", p.SampleType[1].Unit); got != "samples/count cpu/nanoseconds" {
		t.Errorf("sample types %s", got)
	}
	if p.PeriodType.Type != "cpu" || p.PeriodType.Unit != "nanoseconds" || p.Period != 10_000_000 || p.DurationNanos <= 0 {
		t.Errorf("period %v %d, duration %d", p.PeriodType, p.Period, p.DurationNanos)
	}
	if len(p.Location) < 1000 {
		t.Errorf("%d locations, want a pool in the thousands", len(p.Location))
	}
	seen := map[string]bool{}
	deep, inlined := 0, 0
	for _, s := range p.Sample {
		key := fmt.Sprint(s.Location)
		if seen[key] {
			t.Fatalf("stack repeated: %s", key)
		}
		seen[key] = true
		if n := len(s.Location); n > 48 {
			t.Errorf("stack %d deep, want at most 48", n)
		} else if n >= 8 {
			deep++
		}
		if s.Value[1] != s.Value[0]*synthprof.Period || s.Value[0] < 1 {
			t.Errorf("values %v: want count, count × period", s.Value)
		}
	}
	for _, l := range p.Location {
		if len(l.Line) > 1 {
			inlined++
		}
	}
	if deep < records*9/10 {
		t.Errorf("%d of %d stacks are 8 to 48 deep, want most", deep, records)
	}
	if inlined == 0 {
		t.Error("no location has inlined lines")
	}

	r, err := analysis.Analyze(p, analysis.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range analysis.Buckets {
		if r.Buckets[b].Samples == 0 {
			t.Errorf("bucket %s is empty: the mix should reach every bucket", b)
		}
	}
	if len(r.TopPreempted) == 0 || len(r.TopCgoCalls) == 0 {
		t.Errorf("no preempted functions (%d) or cgo call sites (%d)", len(r.TopPreempted), len(r.TopCgoCalls))
	}
}

func TestPair(t *testing.T) {
	const records = 2000
	before, after := synthprof.Pair(records, 1)
	if !bytes.Equal(synthprof.Encode(before), synthprof.Bytes(records, 1)) {
		t.Error("Pair's before is not Generate's profile")
	}
	_, again := synthprof.Pair(records, 1)
	if !bytes.Equal(synthprof.Encode(after), synthprof.Encode(again)) {
		t.Error("the same records and seed gave different after profiles")
	}
	if err := after.CheckValid(); err != nil {
		t.Fatal(err)
	}
	if len(after.Sample) != records {
		t.Fatalf("after has %d records, want %d", len(after.Sample), records)
	}
	if len(after.Function) != len(before.Function) || len(after.Location) != len(before.Location) {
		t.Fatalf("after has %d functions and %d locations, before %d and %d",
			len(after.Function), len(after.Location), len(before.Function), len(before.Location))
	}
	for i, f := range after.Function {
		if f.Name != before.Function[i].Name {
			t.Fatalf("function %d is %s after, %s before", i, f.Name, before.Function[i].Name)
		}
	}
	stacks := func(p *profile.Profile) map[string]bool {
		m := map[string]bool{}
		for _, s := range p.Sample {
			m[fmt.Sprint(locIDs(s))] = true
		}
		return m
	}
	b, shared := stacks(before), 0
	for k := range stacks(after) {
		if b[k] {
			shared++
		}
	}
	if shared > records/4 {
		t.Errorf("%d of %d stacks in both profiles: want the after profile drawn anew", shared, records)
	}
	if after.TimeNanos <= before.TimeNanos {
		t.Errorf("after starts at %d, before at %d", after.TimeNanos, before.TimeNanos)
	}
}

func locIDs(s *profile.Sample) []uint64 {
	ids := make([]uint64, len(s.Location))
	for i, l := range s.Location {
		ids[i] = l.ID
	}
	return ids
}
