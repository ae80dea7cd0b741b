package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/pprof/profile"
)

// profileBuilder assembles small synthetic pprof profiles for the tests.
type profileBuilder struct {
	p     *profile.Profile
	funcs map[string]*profile.Function
}

func newCPUProfile() *profileBuilder {
	return &profileBuilder{
		p: &profile.Profile{
			SampleType: []*profile.ValueType{
				{Type: "samples", Unit: "count"},
				{Type: "cpu", Unit: "nanoseconds"},
			},
			PeriodType:    &profile.ValueType{Type: "cpu", Unit: "nanoseconds"},
			Period:        10000000,
			TimeNanos:     1700000000000000000,
			DurationNanos: 2e9,
		},
		funcs: make(map[string]*profile.Function),
	}
}

func newHeapProfile() *profileBuilder {
	return &profileBuilder{
		p: &profile.Profile{
			SampleType: []*profile.ValueType{
				{Type: "alloc_objects", Unit: "count"},
				{Type: "alloc_space", Unit: "bytes"},
				{Type: "inuse_objects", Unit: "count"},
				{Type: "inuse_space", Unit: "bytes"},
			},
			PeriodType: &profile.ValueType{Type: "space", Unit: "bytes"},
			Period:     512 * 1024,
		},
		funcs: make(map[string]*profile.Function),
	}
}

func (b *profileBuilder) function(name, file string) *profile.Function {
	if f, ok := b.funcs[name]; ok {
		return f
	}
	f := &profile.Function{ID: uint64(len(b.p.Function) + 1), Name: name, SystemName: name, Filename: file}
	b.p.Function = append(b.p.Function, f)
	b.funcs[name] = f
	return f
}

// frame is one function of a location: name, file, line.
type frame struct {
	name, file string
	line       int64
}

// location adds a Location whose lines are frames, innermost (inlined) first.
func (b *profileBuilder) location(frames ...frame) *profile.Location {
	loc := &profile.Location{ID: uint64(len(b.p.Location) + 1), Address: 0x1000 * uint64(len(b.p.Location)+1)}
	for _, f := range frames {
		loc.Line = append(loc.Line, profile.Line{Function: b.function(f.name, f.file), Line: f.line})
	}
	b.p.Location = append(b.p.Location, loc)
	return loc
}

// sample adds a sample with the given values and stack (leaf first).
func (b *profileBuilder) sample(values []int64, stack ...*profile.Location) {
	b.p.Sample = append(b.p.Sample, &profile.Sample{Location: stack, Value: values})
}

// cpu is the value of n samples of a CPU profile at 100 Hz.
func cpu(n int64) []int64 { return []int64{n, n * 10000000} }

// testProfile is a CPU profile with a little of everything: 1000 ms in all,
// 300 ms async preemption (250 ms of main.spin, 50 ms of an inlined
// function with a long name), 200 ms in C through cgo and 500 ms plain Go.
func testProfile() *profile.Profile {
	b := newCPUProfile()
	const mainGo = "/home/dev/src/example.com/spinner/main.go"
	rtMain := b.location(frame{"runtime.main", "/usr/local/go/src/runtime/proc.go", 283})
	mainMain := b.location(frame{"main.main", mainGo, 40})
	preempt := b.location(frame{"runtime.asyncPreempt", "/usr/local/go/src/runtime/preempt_amd64.s", 46})

	spin := b.location(frame{"main.spin", mainGo, 12})
	b.sample(cpu(25), preempt, spin, mainMain, rtMain)

	const longFile = "/home/dev/go/pkg/mod/github.com/example/internal/checksums/fletcher/fletcher_generic_amd64.go"
	inl := b.location(
		frame{"github.com/example/internal/checksums/fletcher.(*Accumulator).updateWithVeryLongName", longFile, 77},
		frame{"github.com/example/internal/checksums/fletcher.Sum", longFile, 120},
	)
	b.sample(cpu(5), preempt, inl, mainMain, rtMain)

	cgocall := b.location(frame{"runtime.cgocall", "/usr/local/go/src/runtime/cgocall.go", 167})
	stub := b.location(frame{"main._Cfunc_burn", "_cgo_gotypes.go", 61})
	work := b.location(frame{"main.work", mainGo, 30})
	b.sample(cpu(20), cgocall, stub, work, mainMain, rtMain)

	compute := b.location(frame{"main.compute", mainGo, 22})
	b.sample(cpu(50), compute, mainMain, rtMain)
	return b.p
}

// writeProfile writes p gzipped (as runtime/pprof does) into a temporary
// directory and returns its path.
func writeProfile(t testing.TB, p *profile.Profile, name string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	var buf bytes.Buffer
	if err := p.Write(&buf); err != nil { // Write gzips
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func writeFile(t testing.TB, name string, data []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}
