package analysis

import (
	"bytes"
	"strconv"
	"strings"
	"testing"

	"github.com/google/pprof/profile"
)

// A test stack is written leaf first, one Location per element. An element
// holds one or more frames separated by "+", innermost (inlined) first; a frame
// is "name" or "name@file:line". "?" is an unsymbolized location, and a frame
// named "" (written "@file:line" or "-") is a native frame with no name.
//
//	stack{"runtime.asyncPreempt@preempt_amd64.s:9", "main.inner@m.go:7+main.outer@m.go:12"}
type stack []string

type sampleSpec struct {
	stack stack
	cpu   int64 // nanoseconds; count is cpu/period (at least 1) unless count is set
	count int64
}

// cpuProfile builds a runtime/pprof-shaped CPU profile.
func cpuProfile(t testing.TB, samples ...sampleSpec) *profile.Profile {
	t.Helper()
	const period = 10_000_000
	p := &profile.Profile{
		SampleType:    []*profile.ValueType{{Type: "samples", Unit: "count"}, {Type: "cpu", Unit: "nanoseconds"}},
		PeriodType:    &profile.ValueType{Type: "cpu", Unit: "nanoseconds"},
		Period:        period,
		DurationNanos: 10e9,
	}
	mapping := &profile.Mapping{ID: 1, Start: 0x400000, Limit: 0x800000, File: "/app/server"}
	p.Mapping = []*profile.Mapping{mapping}
	funcs := map[[2]string]*profile.Function{}
	locs := map[string]*profile.Location{}
	fn := func(name, file string) *profile.Function {
		key := [2]string{name, file}
		if f, ok := funcs[key]; ok {
			return f
		}
		f := &profile.Function{ID: uint64(len(p.Function) + 1), Name: name, SystemName: name, Filename: file}
		funcs[key] = f
		p.Function = append(p.Function, f)
		return f
	}
	for _, s := range samples {
		sample := &profile.Sample{}
		for _, elem := range s.stack {
			loc, ok := locs[elem]
			if !ok {
				loc = &profile.Location{ID: uint64(len(p.Location) + 1), Mapping: mapping, Address: 0x401000 + uint64(len(p.Location))*16}
				if elem != "?" {
					for _, fr := range strings.Split(elem, "+") {
						name, file, line := parseFrame(t, fr)
						loc.Line = append(loc.Line, profile.Line{Function: fn(name, file), Line: line})
					}
				}
				locs[elem] = loc
				p.Location = append(p.Location, loc)
			}
			sample.Location = append(sample.Location, loc)
		}
		count := s.count
		if count == 0 {
			count = max(1, s.cpu/period)
		}
		sample.Value = []int64{count, s.cpu}
		p.Sample = append(p.Sample, sample)
	}
	if err := p.CheckValid(); err != nil {
		t.Fatalf("test profile invalid: %v", err)
	}
	return p
}

func parseFrame(t testing.TB, fr string) (name, file string, line int64) {
	t.Helper()
	if fr == "-" {
		return "", "", 0
	}
	name, loc, ok := strings.Cut(fr, "@")
	if !ok {
		return name, "", 0
	}
	file, lineStr, ok := strings.Cut(loc, ":")
	if !ok {
		return name, file, 0
	}
	n, err := strconv.ParseInt(lineStr, 10, 64)
	if err != nil {
		t.Fatalf("bad frame %q: %v", fr, err)
	}
	return name, file, n
}

// encode writes a profile as runtime/pprof does (gzipped protobuf).
func encode(t testing.TB, p *profile.Profile) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := p.Write(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}
