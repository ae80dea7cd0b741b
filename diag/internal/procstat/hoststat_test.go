package procstat

import (
	"math/bits"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"
)

func TestParseStatCPU(t *testing.T) {
	tests := []struct {
		line string
		want opt[hostCPU]
	}{
		// user nice system idle iowait irq softirq steal guest guest_nice
		{"cpu  16616 0 2369 51399 930 0 24 33 0 0", some(hostCPU{busy: 16616 + 2369 + 24 + 33, steal: 33})},
		{"cpu  1 2 3 1000 1000 4 5 6 7 8", some(hostCPU{busy: 1 + 2 + 3 + 4 + 5 + 6, steal: 6})},
		{"cpu 1 2 3 4 5 6 7 8", some(hostCPU{busy: 1 + 2 + 3 + 6 + 7 + 8, steal: 8})}, // before guest (2.6.24)
		{"cpu  1 2 3 4 5 6 7 8 9 10 11 12", some(hostCPU{busy: 1 + 2 + 3 + 6 + 7 + 8, steal: 8})},
		{"cpu  1 2 3 4 5 6 7 8 ", some(hostCPU{busy: 1 + 2 + 3 + 6 + 7 + 8, steal: 8})},
		{"cpu  1 2 3 4 5 6 7", opt[hostCPU]{}}, // no steal (before 2.6.11)
		{"cpu0 1 2 3 4 5 6 7 8", opt[hostCPU]{}},
		{"intr 1 2 3 4 5 6 7 8", opt[hostCPU]{}},
		{"cpu  1 2 3 4 x 6 7 8", opt[hostCPU]{}},
		{"cpu  1 2 3 4 5 6 7 8x", opt[hostCPU]{}},
		{"cpu  -1 2 3 4 5 6 7 8", opt[hostCPU]{}},
		{"cpu\t1 2 3 4 5 6 7 8", opt[hostCPU]{}},
		{"cpu  18446744073709551615 1 0 0 0 0 0 0", opt[hostCPU]{}}, // the sum overflows
		{"cpu  18446744073709551616 0 0 0 0 0 0 0", opt[hostCPU]{}},
		{"", opt[hostCPU]{}},
		{"cpu ", opt[hostCPU]{}},
	}
	for _, tt := range tests {
		t.Run(strconv.Quote(tt.line), func(t *testing.T) {
			if got := parseStatCPU([]byte(tt.line)); got != tt.want {
				t.Errorf("parseStatCPU(%q) = %+v, want %+v", tt.line, got, tt.want)
			}
		})
	}
}

// referenceStatCPU is a second reading of the cpu line, for the fuzz target.
func referenceStatCPU(line string) opt[hostCPU] {
	rest, ok := strings.CutPrefix(line, "cpu ")
	if !ok {
		return opt[hostCPU]{}
	}
	f := strings.FieldsFunc(rest, func(r rune) bool { return r == ' ' })
	if len(f) < 8 {
		return opt[hostCPU]{}
	}
	var n [8]uint64
	for i := range n {
		var err error
		if n[i], err = strconv.ParseUint(f[i], 10, 64); err != nil {
			return opt[hostCPU]{}
		}
	}
	var busy, carry uint64
	for _, i := range []int{0, 1, 2, 5, 6, 7} {
		var c uint64
		busy, c = bits.Add64(busy, n[i], 0)
		carry |= c
	}
	if carry != 0 {
		return opt[hostCPU]{}
	}
	return some(hostCPU{busy: busy, steal: n[7]})
}

// FuzzParseStatCPU: any line, no panic, the reference's reading.
func FuzzParseStatCPU(f *testing.F) {
	f.Add("cpu  16616 0 2369 51399 930 0 24 33 0 0")
	f.Add("cpu 1 2 3")
	f.Fuzz(func(t *testing.T, line string) {
		if got, want := parseStatCPU([]byte(line)), referenceStatCPU(line); got != want {
			t.Fatalf("parseStatCPU(%q) = %+v, reference %+v", line, got, want)
		}
	})
}

func TestHostCPUFrom(t *testing.T) {
	file := func(s string) fstest.MapFS {
		return fstest.MapFS{"proc/stat": &fstest.MapFile{Data: []byte(s)}}
	}
	real := "cpu  16616 0 2369 51399 930 0 24 33 0 0\ncpu0 8000 0 1000 25000 400 0 12 16 0 0\n" +
		"intr 123456" + strings.Repeat(" 0", 2000) + "\nctxt 1\nbtime 1\n"
	tests := []struct {
		name string
		fsys fstest.MapFS
		want opt[hostCPU]
	}{
		{"real, long intr line", file(real), some(hostCPU{busy: 16616 + 2369 + 24 + 33, steal: 33})},
		{"no newline", file("cpu  1 2 3 4 5 6 7 8"), some(hostCPU{busy: 27, steal: 8})},
		{"first line is not cpu", file("cpu0 1 2 3 4 5 6 7 8\ncpu  1 2 3 4 5 6 7 8\n"), opt[hostCPU]{}},
		{"first line too long", file("cpu  1 2 3 4 5 6 7 8" + strings.Repeat(" 1", 300) + "\n"), opt[hostCPU]{}},
		{"empty", file(""), opt[hostCPU]{}},
		{"no file", fstest.MapFS{}, opt[hostCPU]{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := hostCPUFrom(tt.fsys); got != tt.want {
				t.Errorf("hostCPUFrom = %+v, want %+v", got, tt.want)
			}
		})
	}
}
