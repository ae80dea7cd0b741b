package procstat

import (
	"io/fs"
	"path"
	"strconv"
	"strings"
)

// cgroupStat is the cgroup CPU controller's view of the process at one
// instant. The parsing works on any fs.FS rooted at "/", so it is tested on
// every platform; only Linux reads a real one (procfs_linux.go).
type cgroupStat struct {
	version string // "v1", "v2", or "" when no CPU controller was found
	// dir is the cgroup directory whose cpu.stat was read, as a path in the
	// fs.FS: the one that sets limit, or the process's own without a limit.
	dir string
	// limit is the effective quota in CPUs: the tightest from the
	// process's cgroup up to the top of the mounted hierarchy.
	limit opt[float64]
	// limitPath is the cgroup that sets limit, as a path inside the
	// hierarchy as the process sees it ("/" for the root).
	limitPath   string
	periods     opt[int64] // nr_periods
	throttled   opt[int64] // nr_throttled
	throttledNs opt[int64] // throttled_time (v1) or throttled_usec (v2), in ns
}

// cgroupFrom finds the process's CPU cgroup in fsys (a view of "/") and
// reads the effective limit and its cpu.stat. The cgroup comes from
// proc/self/cgroup, the mount points from proc/self/mountinfo. A v1 "cpu"
// hierarchy wins over the unified one: in a hybrid setup the CPU controller
// lives in v1.
//
// A parent's quota throttles every cgroup below it, so the effective limit
// is the tightest quota/period from the process's cgroup up to the mount
// point of its hierarchy (what is above is not visible: in a container the
// mount point is often the container's own cgroup). Throttling is read from
// the cgroup that sets that limit, since its quota is what throttles; from
// the process's own cgroup when none has a limit.
func cgroupFrom(fsys fs.FS) cgroupStat {
	data, err := fs.ReadFile(fsys, "proc/self/cgroup")
	if err != nil {
		return cgroupStat{}
	}
	v1, v2 := parseProcCgroup(string(data))
	var mounts []mount
	if data, err := fs.ReadFile(fsys, "proc/self/mountinfo"); err == nil {
		mounts = parseMountinfo(string(data))
	} else {
		mounts = conventionalMounts
	}
	if v1.ok {
		for _, m := range mounts {
			if m.fstype == "cgroup" && hasWord(m.superOpts, "cpu") {
				if dir, hier, ok := locate(fsys, m, v1.v, isV1CPUDir); ok {
					return readHierarchy(fsys, "v1", m, dir, hier, v1Limit, v1Stat)
				}
			}
		}
	}
	if v2.ok {
		for _, m := range mounts {
			if m.fstype == "cgroup2" {
				if dir, hier, ok := locate(fsys, m, v2.v, isV2CPUDir); ok {
					return readHierarchy(fsys, "v2", m, dir, hier, v2Limit, v2Stat)
				}
			}
		}
	}
	return cgroupStat{}
}

// parseProcCgroup returns the path of the v1 hierarchy holding the "cpu"
// controller and the v2 path, from /proc/self/cgroup lines
// "hierarchy-ID:controller-list:path".
func parseProcCgroup(data string) (v1, v2 opt[string]) {
	for line := range strings.Lines(data) {
		f := strings.SplitN(strings.TrimRight(line, "\r\n"), ":", 3)
		if len(f) != 3 || !strings.HasPrefix(f[2], "/") {
			continue
		}
		switch {
		case f[0] == "0" && f[1] == "":
			if !v2.ok {
				v2 = some(f[2])
			}
		case hasWord(f[1], "cpu"):
			if !v1.ok {
				v1 = some(f[2])
			}
		}
	}
	return v1, v2
}

// mount is one line of /proc/self/mountinfo.
type mount struct {
	root      string // the directory of the filesystem mounted here
	point     string // where it is mounted
	fstype    string
	superOpts string
}

// conventionalMounts stand in for mountinfo when it cannot be read.
var conventionalMounts = []mount{
	{root: "/", point: "/sys/fs/cgroup/cpu,cpuacct", fstype: "cgroup", superOpts: "rw,cpu,cpuacct"},
	{root: "/", point: "/sys/fs/cgroup/cpu", fstype: "cgroup", superOpts: "rw,cpu"},
	{root: "/", point: "/sys/fs/cgroup", fstype: "cgroup2", superOpts: "rw"},
}

// parseMountinfo parses /proc/self/mountinfo (proc(5)): "ID parent-ID
// major:minor root mount-point options [optional fields...] - fstype source
// super-options". Malformed lines are skipped.
func parseMountinfo(data string) []mount {
	var ms []mount
	for line := range strings.Lines(data) {
		f := strings.Fields(line)
		sep := -1
		for i := 6; i < len(f); i++ {
			if f[i] == "-" {
				sep = i
				break
			}
		}
		if sep < 0 || len(f) < sep+4 {
			continue
		}
		ms = append(ms, mount{
			root:      unescapeOctal(f[3]),
			point:     unescapeOctal(f[4]),
			fstype:    f[sep+1],
			superOpts: f[sep+3],
		})
	}
	return ms
}

// unescapeOctal undoes the kernel's \ooo escaping of spaces, tabs, newlines
// and backslashes in mountinfo paths.
func unescapeOctal(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) && isOctal(s[i+1]) && isOctal(s[i+2]) && isOctal(s[i+3]) {
			b.WriteByte((s[i+1]-'0')<<6 | (s[i+2]-'0')<<3 | (s[i+3] - '0'))
			i += 3
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func isOctal(c byte) bool { return '0' <= c && c <= '7' }

// locate returns the directory of the cgroup at cgPath under mount m as a
// path in fsys, and its path inside the hierarchy: m.point plus cgPath
// relative to m.root, when that is visible and passes ok; else the mount
// point itself (the container case, where the process's own cgroup is
// mounted at the mount point but /proc/self/cgroup names it by its host
// path), as cgPath in the hierarchy, or m.root when cgPath is outside the
// cgroup namespace.
func locate(fsys fs.FS, m mount, cgPath string, ok func(fs.FS, string) bool) (dir, hier string, found bool) {
	rel, visible := relativeTo(m.root, cgPath)
	if visible {
		if dir, valid := fsPath(path.Join(m.point, rel)); valid && ok(fsys, dir) {
			return dir, path.Join(path.Clean(m.root), rel), true
		}
	}
	if dir, valid := fsPath(m.point); valid && ok(fsys, dir) {
		if hier = path.Clean(m.root); strings.HasPrefix(cgPath, "/") && !hasDotDot(cgPath) {
			hier = path.Clean(cgPath)
		}
		return dir, hier, true
	}
	return "", "", false
}

// readHierarchy reads the limits from dir (hier in the hierarchy) up to the
// mount point of m, keeps the tightest, and reads cpu.stat where it is set
// (in dir without a limit). Of equal limits the lowest cgroup wins.
func readHierarchy(fsys fs.FS, version string, m mount, dir, hier string,
	limitAt func(fs.FS, string) opt[float64], statAt func(fs.FS, string, *cgroupStat)) cgroupStat {
	s := cgroupStat{version: version, dir: dir}
	top, _ := fsPath(m.point)
	for d, h := dir, hier; ; d, h = path.Dir(d), path.Dir(h) {
		if l := limitAt(fsys, d); l.ok && (!s.limit.ok || l.v < s.limit.v) {
			s.limit, s.limitPath, s.dir = l, h, d
		}
		// dir is top or below it (locate joined it to m.point); "." ends a
		// walk that somehow missed top.
		if d == top || d == "." {
			break
		}
	}
	statAt(fsys, s.dir, &s)
	return s
}

// relativeTo returns p relative to root, or false when p is outside it (a
// cgroup namespace shows outside cgroups as "/../...").
func relativeTo(root, p string) (string, bool) {
	if !strings.HasPrefix(p, "/") || !strings.HasPrefix(root, "/") || hasDotDot(p) || hasDotDot(root) {
		return "", false
	}
	p, root = path.Clean(p), path.Clean(root)
	switch {
	case root == "/":
		return p, true
	case p == root:
		return "/", true
	case strings.HasPrefix(p, root+"/"):
		return p[len(root):], true
	}
	return "", false
}

func hasDotDot(p string) bool {
	for e := range strings.SplitSeq(p, "/") {
		if e == ".." {
			return true
		}
	}
	return false
}

// fsPath turns an absolute path into an fs.FS path.
func fsPath(abs string) (string, bool) {
	if !strings.HasPrefix(abs, "/") {
		return "", false
	}
	p := strings.TrimPrefix(path.Clean(abs), "/")
	if p == "" {
		p = "."
	}
	return p, fs.ValidPath(p)
}

func isV1CPUDir(fsys fs.FS, dir string) bool {
	return exists(fsys, path.Join(dir, "cpu.cfs_quota_us")) || exists(fsys, path.Join(dir, "cpu.stat"))
}

// isV2CPUDir: a non-root cgroup with the CPU controller has cpu.max; the root
// has none but lists "cpu" in cgroup.controllers.
func isV2CPUDir(fsys fs.FS, dir string) bool {
	if exists(fsys, path.Join(dir, "cpu.max")) {
		return true
	}
	data, err := fs.ReadFile(fsys, path.Join(dir, "cgroup.controllers"))
	return err == nil && hasWord(strings.Join(strings.Fields(string(data)), ","), "cpu")
}

func exists(fsys fs.FS, name string) bool {
	_, err := fs.Stat(fsys, name)
	return err == nil
}

// v1Limit reads a cgroup v1 cpu directory's cpu.cfs_quota_us (-1: no
// limit) and cpu.cfs_period_us.
func v1Limit(fsys fs.FS, dir string) opt[float64] {
	quota, qok := readInt(fsys, path.Join(dir, "cpu.cfs_quota_us"))
	if !qok || quota <= 0 {
		return opt[float64]{}
	}
	period, pok := readInt(fsys, path.Join(dir, "cpu.cfs_period_us"))
	if !pok || period <= 0 {
		return opt[float64]{}
	}
	return some(float64(quota) / float64(period))
}

// v1Stat reads a cgroup v1 cpu.stat: nr_periods, nr_throttled and
// throttled_time (ns).
func v1Stat(fsys fs.FS, dir string, s *cgroupStat) {
	stat := readKeyValues(fsys, path.Join(dir, "cpu.stat"))
	s.periods = stat["nr_periods"]
	s.throttled = stat["nr_throttled"]
	s.throttledNs = stat["throttled_time"]
}

// v2Limit reads a cgroup v2 directory's cpu.max.
func v2Limit(fsys fs.FS, dir string) opt[float64] {
	data, err := fs.ReadFile(fsys, path.Join(dir, "cpu.max"))
	if err != nil {
		return opt[float64]{}
	}
	return parseCPUMax(string(data))
}

// parseCPUMax parses cgroup v2 cpu.max, "$MAX $PERIOD" in µs: "max 100000"
// (no limit) or "50000 100000" (half a CPU), with a trailing newline. A
// quota or period that is not positive is no limit.
func parseCPUMax(data string) opt[float64] {
	f := strings.Fields(data)
	if len(f) != 2 || f[0] == "max" {
		return opt[float64]{}
	}
	quota, qerr := strconv.ParseInt(f[0], 10, 64)
	period, perr := strconv.ParseInt(f[1], 10, 64)
	if qerr != nil || perr != nil || quota <= 0 || period <= 0 {
		return opt[float64]{}
	}
	return some(float64(quota) / float64(period))
}

// v2Stat reads a cgroup v2 cpu.stat: nr_periods, nr_throttled and
// throttled_usec.
func v2Stat(fsys fs.FS, dir string, s *cgroupStat) {
	stat := readKeyValues(fsys, path.Join(dir, "cpu.stat"))
	s.periods = stat["nr_periods"]
	s.throttled = stat["nr_throttled"]
	if us := stat["throttled_usec"]; us.ok && us.v <= (1<<63-1)/1000 {
		s.throttledNs = some(us.v * 1000)
	}
}

// readInt reads a file holding one decimal integer.
func readInt(fsys fs.FS, name string) (int64, bool) {
	data, err := fs.ReadFile(fsys, name)
	if err != nil {
		return 0, false
	}
	n, err := strconv.ParseInt(strings.TrimSpace(string(data)), 10, 64)
	return n, err == nil
}

// readKeyValues reads "key value" lines with non-negative integer values,
// as in cpu.stat; other lines are skipped.
func readKeyValues(fsys fs.FS, name string) map[string]opt[int64] {
	data, err := fs.ReadFile(fsys, name)
	if err != nil {
		return nil
	}
	kv := make(map[string]opt[int64])
	for line := range strings.Lines(string(data)) {
		f := strings.Fields(line)
		if len(f) != 2 {
			continue
		}
		if n, err := strconv.ParseInt(f[1], 10, 64); err == nil && n >= 0 {
			kv[f[0]] = some(n)
		}
	}
	return kv
}

// hasWord reports whether the comma-separated list has word.
func hasWord(list, word string) bool {
	for w := range strings.SplitSeq(list, ",") {
		if w == word {
			return true
		}
	}
	return false
}
