package procstat

import (
	"bytes"
	"io/fs"

	"github.com/diagkit/diagkit/diag/api"
)

// userHZ is the unit of /proc/stat's CPU times: USER_HZ, 100 ticks a second
// on every Linux architecture Go runs on.
const userHZ = 100

// hostCPU is the machine's CPU time from /proc/stat's aggregate "cpu" line,
// in USER_HZ ticks since boot.
type hostCPU struct {
	busy  uint64 // user + nice + system + irq + softirq + steal
	steal uint64
}

// hostCPUFrom reads the first line of proc/stat in fsys (a view of "/"). It
// reads only the file's head: the rest (per-CPU lines, interrupt counts) can
// be kilobytes on a large machine.
func hostCPUFrom(fsys fs.FS) opt[hostCPU] {
	var buf [512]byte
	n, err := readSmall(fsys, "proc/stat", buf[:])
	if err != nil {
		return opt[hostCPU]{}
	}
	line, _, found := bytes.Cut(buf[:n], []byte{'\n'})
	if !found && n == len(buf) {
		return opt[hostCPU]{} // a first line that long is not the cpu line
	}
	return parseStatCPU(line)
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
	const user, nice, system, idle, iowait, irq, softirq, steal = 0, 1, 2, 3, 4, 5, 6, 7
	var f [8]uint64
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
	if e.busy < s.busy || e.steal < s.steal {
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
