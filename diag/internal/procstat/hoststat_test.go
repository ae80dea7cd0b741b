package procstat

import (
	"math/bits"
	"slices"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/diagkit/diagkit/diag/api"
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
			if got := hostCPUFrom(tt.fsys, nil); got != tt.want {
				t.Errorf("hostCPUFrom = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestHostCPUFromAllowedCPUs(t *testing.T) {
	file := func(s string) fstest.MapFS {
		return fstest.MapFS{"proc/stat": &fstest.MapFile{Data: []byte(s)}}
	}
	// user nice system idle iowait irq softirq steal guest guest_nice
	stat := "cpu  300 0 30 900 0 0 3 6 0 0\n" +
		"cpu0 100 0 10 300 0 0 1 2 0 0\n" +
		"cpu1 200 0 20 300 0 0 2 4 0 0\n" +
		"cpu2 0 0 0 300 0 0 0 0 0 0\n" +
		"intr 123456" + strings.Repeat(" 0", 3000) + "\nctxt 1\nbtime 1\n"
	whole := hostCPU{busy: 300 + 30 + 3 + 6, steal: 6}
	tests := []struct {
		name    string
		stat    string
		allowed []int
		want    opt[hostCPU]
	}{
		{"unknown affinity: the whole machine", stat, nil, some(whole)},
		{"every CPU: the whole machine", stat, []int{0, 1, 2}, some(whole)},
		{"one CPU", stat, []int{1}, some(hostCPU{busy: 200 + 20 + 2 + 4, steal: 4, cpus: cpuDigest([]int{1})})},
		{"two CPUs", stat, []int{0, 2}, some(hostCPU{busy: 100 + 10 + 1 + 2, steal: 2, cpus: cpuDigest([]int{0, 2})})},
		{"a CPU without a line (numbered otherwise): the whole machine", stat, []int{1, 5}, some(whole)},
		{"a malformed cpu line: the whole machine", strings.Replace(stat, "cpu1 200", "cpu1 2x0", 1), []int{1}, some(whole)},
		{"a cpu line of another name: the whole machine", strings.Replace(stat, "cpu1 ", "cpuX ", 1), []int{0}, some(whole)},
		{"no per-CPU lines: the whole machine", "cpu  1 2 3 4 5 6 7 8\n", []int{0}, some(hostCPU{busy: 27, steal: 8})},
		{"no newline at the end", "cpu  2 0 0 0 0 0 0 0\ncpu0 1 0 0 0 0 0 0 0\ncpu1 1 0 0 0 0 0 0 0", []int{1},
			some(hostCPU{busy: 1, cpus: cpuDigest([]int{1})})},
		{"a malformed aggregate line: nothing", "cpu  x\ncpu0 1 0 0 0 0 0 0 0\ncpu1 1 0 0 0 0 0 0 0\n", []int{1}, opt[hostCPU]{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := hostCPUFrom(file(tt.stat), tt.allowed); got != tt.want {
				t.Errorf("hostCPUFrom(%v) = %+v, want %+v", tt.allowed, got, tt.want)
			}
		})
	}
	if cpuDigest([]int{0}) == cpuDigest([]int{1}) || cpuDigest([]int{0, 1}) == cpuDigest([]int{1, 0}) || cpuDigest(nil) == 0 {
		t.Error("cpuDigest does not tell CPU sets apart")
	}
}

// TestHostCPUsAffinityChanged: a window whose ends summed different CPUs
// has no machine figures.
func TestHostCPUsAffinityChanged(t *testing.T) {
	var c api.Context
	c.ProcessCPUSeconds = ptr(0.5)
	hostCPUs(&c, some(hostCPU{busy: 100, cpus: cpuDigest([]int{1})}), some(hostCPU{busy: 300}), 1)
	if c.HostBusyCPUs != nil || c.OtherCPUs != nil || c.StealCPUs != nil {
		t.Errorf("host %v other %v steal %v, want none", deref(c.HostBusyCPUs), deref(c.OtherCPUs), deref(c.StealCPUs))
	}
	hostCPUs(&c, some(hostCPU{busy: 100, cpus: cpuDigest([]int{1})}), some(hostCPU{busy: 300, cpus: cpuDigest([]int{1})}), 1)
	if c.HostBusyCPUs == nil || *c.HostBusyCPUs != 2 || c.OtherCPUs == nil || *c.OtherCPUs != 1.5 {
		t.Errorf("host %v other %v, want 2 and 1.5", deref(c.HostBusyCPUs), deref(c.OtherCPUs))
	}
}

// FuzzHostCPUFrom: any /proc/stat and CPU list, no panic; a per-CPU sum
// only for a CPU list the file has lines for.
func FuzzHostCPUFrom(f *testing.F) {
	f.Add([]byte("cpu  300 0 30 900 0 0 3 6 0 0\ncpu0 100 0 10 300 0 0 1 2 0 0\ncpu1 200 0 20 300 0 0 2 4 0 0\nintr 1 2\n"), []byte{1})
	f.Add([]byte("cpu  1 2 3 4 5 6 7 8\n"), []byte{0, 1})
	f.Fuzz(func(t *testing.T, stat, cpus []byte) {
		var allowed []int
		for _, c := range cpus {
			allowed = append(allowed, int(c))
		}
		slices.Sort(allowed)
		allowed = slices.Compact(allowed)
		got := hostCPUFrom(fstest.MapFS{"proc/stat": &fstest.MapFile{Data: stat}}, allowed)
		if got.ok && got.v.cpus != 0 && (len(allowed) == 0 || got.v.cpus != cpuDigest(allowed)) {
			t.Fatalf("hostCPUFrom(%q, %v) = %+v: a sum of CPUs not asked for", stat, allowed, got)
		}
	})
}
