package procstat

import (
	"bufio"
	"bytes"
	"io"
	"io/fs"
	"math"
	"slices"

	"github.com/diagkit/diagkit/diag/api"
)

// userHZ is the unit of /proc/stat's CPU times: USER_HZ, 100 ticks a second
// on every Linux architecture Go runs on.
const userHZ = 100

// hostCPU is CPU time from /proc/stat, in USER_HZ ticks since boot: the
// whole machine's (the aggregate "cpu" line), or, when the process's CPU
// affinity (taskset, a cpuset cgroup, a pinned container) leaves some of
// the machine's CPUs out, the sum of the "cpuN" lines of the CPUs it may run
// on. A neighbour busy on a CPU the process cannot use takes nothing from
// it: counted, a service pinned to one CPU of two was told that other
// processes used 0.83 CPUs "of 1" while they ran on the other one.
type hostCPU struct {
	busy  uint64 // user + nice + system + irq + softirq + steal
	steal uint64
	// cpus identifies the CPUs summed (a digest of their numbers), 0 for
	// the whole machine: the two ends of a window must have the same.
	cpus uint64
}

// statHeadLine bounds a /proc/stat line hostCPUFrom reads: a cpu line is
// at most 10 fields of 20 digits, its name and spaces.
const statHeadLine = 512

// hostCPUFrom reads proc/stat in fsys (a view of "/"): its first line, or,
// when allowed (sorted CPU numbers, no duplicates) lists fewer CPUs than
// the file has cpuN lines, the sum of their lines. It falls back to the
// first line when allowed is nil or every CPU, or when some CPU in allowed
// has no line (offline, or a /proc/stat that numbers a container's CPUs
// from 0, as lxcfs does, while the affinity has the host's numbers). It
// reads only the cpu lines at the file's head: the rest (interrupt counts)
// can be kilobytes on a large machine.
func hostCPUFrom(fsys fs.FS, allowed []int) opt[hostCPU] {
	f, err := fsys.Open("proc/stat")
	if err != nil {
		return opt[hostCPU]{}
	}
	defer f.Close()
	size := statHeadLine
	if allowed != nil {
		size = 4096
	}
	br := bufio.NewReaderSize(f, size)
	line, ok := statLine(br)
	if !ok {
		return opt[hostCPU]{}
	}
	whole := parseStatCPU(line)
	if !whole.ok || len(allowed) == 0 {
		return whole
	}
	var sum hostCPU
	lines, found := 0, 0
	for {
		line, ok := statLine(br)
		if !ok || !bytes.HasPrefix(line, []byte("cpu")) {
			break
		}
		cpu, rest, ok := parseDecimal(line[len("cpu"):])
		if !ok || cpu > math.MaxInt32 {
			return whole
		}
		v := parseStatFields(rest)
		if !v.ok {
			return whole
		}
		lines++
		if _, in := slices.BinarySearch(allowed, int(cpu)); !in {
			continue
		}
		found++
		if sum.busy+v.v.busy < sum.busy {
			return whole
		}
		sum.busy += v.v.busy
		sum.steal += v.v.steal
	}
	if found != len(allowed) || lines <= found {
		return whole
	}
	sum.cpus = cpuDigest(allowed)
	return some(sum)
}

// statLine reads one line of at most statHeadLine bytes, without its
// newline; false at the end, on an error or for a longer line.
func statLine(br *bufio.Reader) ([]byte, bool) {
	line, err := br.ReadSlice('\n')
	switch {
	case err == nil:
		line = line[:len(line)-1]
	case err == io.EOF && len(line) > 0:
	default:
		return nil, false
	}
	return line, len(line) <= statHeadLine
}

// cpuDigest is an FNV-1a digest of the CPU numbers, never 0.
func cpuDigest(cpus []int) uint64 {
	h := uint64(14695981039346656037)
	for _, c := range cpus {
		for i := 0; i < 4; i++ {
			h ^= uint64(byte(c >> (8 * i)))
			h *= 1099511628211
		}
	}
	return h | 1
}

// parseStatCPU parses /proc/stat's aggregate line, "cpu" then user nice
// system idle iowait irq softirq steal [guest guest_nice ...] separated by
// spaces (proc(5)); the kernels that lack steal (before 2.6.11) are not
// supported. Guest time is already inside user and nice, so it is not added.
func parseStatCPU(line []byte) opt[hostCPU] {
	rest, ok := bytes.CutPrefix(line, []byte("cpu "))
	if !ok {
		return opt[hostCPU]{}
	}
	return parseStatFields(rest)
}

// parseStatFields parses the fields of a cpu line after its name: spaces,
// then user nice system idle iowait irq softirq steal [guest ...].
func parseStatFields(rest []byte) opt[hostCPU] {
	const user, nice, system, idle, iowait, irq, softirq, steal = 0, 1, 2, 3, 4, 5, 6, 7
	var f [8]uint64
	var ok bool
	for i := range f {
		for len(rest) > 0 && rest[0] == ' ' {
			rest = rest[1:]
		}
		if f[i], rest, ok = parseDecimal(rest); !ok {
			return opt[hostCPU]{}
		}
		if len(rest) > 0 && rest[0] != ' ' {
			return opt[hostCPU]{}
		}
	}
	var busy uint64
	for _, i := range []int{user, nice, system, irq, softirq, steal} {
		if busy+f[i] < busy {
			return opt[hostCPU]{}
		}
		busy += f[i]
	}
	return some(hostCPU{busy: busy, steal: f[steal]})
}

// hostCPUs fills c's machine figures from /proc/stat at both ends; c's
// ProcessCPUSeconds must be set already.
func hostCPUs(c *api.Context, start, end opt[hostCPU], secs float64) {
	if !start.ok || !end.ok || !(secs > 0) {
		return
	}
	s, e := start.v, end.v
	if s.cpus != e.cpus || e.busy < s.busy || e.steal < s.steal {
		return
	}
	busy := float64(e.busy-s.busy) / userHZ / secs
	steal := float64(e.steal-s.steal) / userHZ / secs
	c.HostBusyCPUs = ptr(busy)
	c.StealCPUs = ptr(steal)
	if p := c.ProcessCPUSeconds; p != nil {
		c.OtherCPUs = ptr(max(0, busy-steal-*p/secs))
	}
}
