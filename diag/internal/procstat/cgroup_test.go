package procstat

import (
	"io/fs"
	"maps"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"testing/fstest"
)

// tree writes files (slash paths relative to a fake "/") under t.TempDir()
// and returns that directory as an fs.FS.
func tree(t *testing.T, files map[string]string) fs.FS {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return os.DirFS(dir)
}

// Mountinfo lines as a real kernel writes them.
const (
	miRoot     = "22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw\n"
	miV2       = "30 22 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot\n"
	miV1Tmpfs  = "31 22 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
	miV1CPU    = "32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid,nodev,noexec,relatime shared:9 - cgroup cgroup rw,cpu,cpuacct\n"
	miV1Mem    = "33 31 0:30 / /sys/fs/cgroup/memory rw,nosuid,nodev,noexec,relatime shared:10 - cgroup cgroup rw,memory\n"
	miV1CPUOnl = "34 31 0:31 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n"
	miUnified  = "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n"

	statV2 = "usage_usec 1000\nuser_usec 600\nsystem_usec 400\nnr_periods 10\nnr_throttled 3\nthrottled_usec 1500\n"
	statV1 = "nr_periods 7\nnr_throttled 2\nthrottled_time 123456789\n"
)

func TestCgroupFrom(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		want  cgroupStat
	}{
		{
			name: "v2 limit",
			files: map[string]string{
				"proc/self/cgroup":                        "0::/kubepods/pod1/c1\n",
				"proc/self/mountinfo":                     miRoot + miV2,
				"sys/fs/cgroup/kubepods/pod1/c1/cpu.max":  "200000 100000\n",
				"sys/fs/cgroup/kubepods/pod1/c1/cpu.stat": statV2,
			},
			want: cgroupStat{version: "v2", dir: "sys/fs/cgroup/kubepods/pod1/c1", limit: some(2.0), limitPath: "/kubepods/pod1/c1",
				periods: some[int64](10), throttled: some[int64](3), throttledNs: some[int64](1500000)},
		},
		{
			name: "v2 fractional limit",
			files: map[string]string{
				"proc/self/cgroup":           "0::/a\n",
				"proc/self/mountinfo":        miV2,
				"sys/fs/cgroup/a/cpu.max":    "50000 100000",
				"sys/fs/cgroup/a/cpu.stat":   "nr_periods 0\nnr_throttled 0\nthrottled_usec 0\n",
				"sys/fs/cgroup/cgroup.procs": "",
			},
			want: cgroupStat{version: "v2", dir: "sys/fs/cgroup/a", limit: some(0.5), limitPath: "/a",
				periods: some[int64](0), throttled: some[int64](0), throttledNs: some[int64](0)},
		},
		{
			name: "v2 no limit",
			files: map[string]string{
				"proc/self/cgroup":         "0::/a\n",
				"proc/self/mountinfo":      miV2,
				"sys/fs/cgroup/a/cpu.max":  "max 100000\n",
				"sys/fs/cgroup/a/cpu.stat": statV2,
			},
			want: cgroupStat{version: "v2", dir: "sys/fs/cgroup/a",
				periods: some[int64](10), throttled: some[int64](3), throttledNs: some[int64](1500000)},
		},
		{
			name: "v2 container: own path not visible, falls back to the mount point",
			files: map[string]string{
				"proc/self/cgroup":       "0::/system.slice/docker-abc.scope\n",
				"proc/self/mountinfo":    miRoot + miV2,
				"sys/fs/cgroup/cpu.max":  "100000 100000\n",
				"sys/fs/cgroup/cpu.stat": statV2,
			},
			want: cgroupStat{version: "v2", dir: "sys/fs/cgroup", limit: some(1.0), limitPath: "/system.slice/docker-abc.scope",
				periods: some[int64](10), throttled: some[int64](3), throttledNs: some[int64](1500000)},
		},
		{
			name: "v2 cgroup namespace: path outside the namespace",
			files: map[string]string{
				"proc/self/cgroup":              "0::/../../sibling\n",
				"proc/self/mountinfo":           miV2,
				"sys/fs/cgroup/sibling/cpu.max": "900000 100000\n",
				"sys/fs/cgroup/cpu.max":         "300000 100000\n",
			},
			want: cgroupStat{version: "v2", dir: "sys/fs/cgroup", limit: some(3.0), limitPath: "/"},
		},
		{
			name: "v2 mount of a subtree (mountinfo root is not /)",
			files: map[string]string{
				"proc/self/cgroup":             "0::/kubepods/pod1/c1\n",
				"proc/self/mountinfo":          "30 22 0:26 /kubepods/pod1 /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n",
				"sys/fs/cgroup/c1/cpu.max":     "400000 100000\n",
				"sys/fs/cgroup/cpu.max":        "800000 100000\n",
				"sys/fs/cgroup/c1/cpu.stat":    statV2,
				"sys/fs/cgroup/cgroup.threads": "",
			},
			want: cgroupStat{version: "v2", dir: "sys/fs/cgroup/c1", limit: some(4.0), limitPath: "/kubepods/pod1/c1",
				periods: some[int64](10), throttled: some[int64](3), throttledNs: some[int64](1500000)},
		},
		{
			name: "v2 mounted somewhere unusual",
			files: map[string]string{
				"proc/self/cgroup":           "0::/job\n",
				"proc/self/mountinfo":        miRoot + "30 22 0:26 / /run/my\\040cgroups rw - cgroup2 none rw\n",
				"run/my cgroups/job/cpu.max": "150000 100000\n",
			},
			want: cgroupStat{version: "v2", dir: "run/my cgroups/job", limit: some(1.5), limitPath: "/job"},
		},
		{
			name: "v2 root cgroup: cpu controller but no cpu.max",
			files: map[string]string{
				"proc/self/cgroup":                 "0::/\n",
				"proc/self/mountinfo":              miV2,
				"sys/fs/cgroup/cgroup.controllers": "cpuset cpu io memory pids\n",
				"sys/fs/cgroup/cpu.stat":           "usage_usec 1000\nuser_usec 600\nsystem_usec 400\n",
			},
			want: cgroupStat{version: "v2", dir: "sys/fs/cgroup"},
		},
		{
			name: "v2 without the cpu controller",
			files: map[string]string{
				"proc/self/cgroup":                 "0::/\n",
				"proc/self/mountinfo":              miV2,
				"sys/fs/cgroup/cgroup.controllers": "memory pids\n",
				"sys/fs/cgroup/cpu.stat":           "usage_usec 1000\n",
			},
			want: cgroupStat{},
		},
		{
			name: "v2 with named v1 hierarchies listed too",
			files: map[string]string{
				"proc/self/cgroup":        "1:name=systemd:/a\n0::/a\n",
				"proc/self/mountinfo":     miV2,
				"sys/fs/cgroup/a/cpu.max": "100000 50000\n",
			},
			want: cgroupStat{version: "v2", dir: "sys/fs/cgroup/a", limit: some(2.0), limitPath: "/a"},
		},
		{
			name: "v2 cpu.max present, cpu.stat missing",
			files: map[string]string{
				"proc/self/cgroup":        "0::/a\n",
				"proc/self/mountinfo":     miV2,
				"sys/fs/cgroup/a/cpu.max": "100000 100000\n",
			},
			want: cgroupStat{version: "v2", dir: "sys/fs/cgroup/a", limit: some(1.0), limitPath: "/a"},
		},
		{
			name: "v2 garbage",
			files: map[string]string{
				"proc/self/cgroup":         "0::/a\n",
				"proc/self/mountinfo":      miV2,
				"sys/fs/cgroup/a/cpu.max":  "banana\n",
				"sys/fs/cgroup/a/cpu.stat": "nr_periods x\nnr_throttled -3\nthrottled_usec 1 2\ngarbage\n\x00\xff",
			},
			want: cgroupStat{version: "v2", dir: "sys/fs/cgroup/a"},
		},
		{
			name: "v2 zero period, first 0:: line wins",
			files: map[string]string{
				"proc/self/cgroup":        "0::/a\n0::/b\n",
				"proc/self/mountinfo":     miV2,
				"sys/fs/cgroup/a/cpu.max": "100000 0\n",
			},
			want: cgroupStat{version: "v2", dir: "sys/fs/cgroup/a"},
		},
		{
			name: "v1 cpu,cpuacct limit",
			files: map[string]string{
				"proc/self/cgroup":    "5:memory:/docker/abc\n4:cpu,cpuacct:/docker/abc\n",
				"proc/self/mountinfo": miRoot + miV1Tmpfs + miV1CPU + miV1Mem,
				"sys/fs/cgroup/cpu,cpuacct/docker/abc/cpu.cfs_quota_us":  "150000\n",
				"sys/fs/cgroup/cpu,cpuacct/docker/abc/cpu.cfs_period_us": "100000\n",
				"sys/fs/cgroup/cpu,cpuacct/docker/abc/cpu.stat":          statV1,
			},
			want: cgroupStat{version: "v1", dir: "sys/fs/cgroup/cpu,cpuacct/docker/abc", limit: some(1.5), limitPath: "/docker/abc",
				periods: some[int64](7), throttled: some[int64](2), throttledNs: some[int64](123456789)},
		},
		{
			name: "v1 no limit",
			files: map[string]string{
				"proc/self/cgroup":                            "4:cpu,cpuacct:/\n",
				"proc/self/mountinfo":                         miV1Tmpfs + miV1CPU,
				"sys/fs/cgroup/cpu,cpuacct/cpu.cfs_quota_us":  "-1\n",
				"sys/fs/cgroup/cpu,cpuacct/cpu.cfs_period_us": "100000\n",
				"sys/fs/cgroup/cpu,cpuacct/cpu.stat":          "nr_periods 0\nnr_throttled 0\nthrottled_time 0\nnr_bursts 0\n",
			},
			want: cgroupStat{version: "v1", dir: "sys/fs/cgroup/cpu,cpuacct",
				periods: some[int64](0), throttled: some[int64](0), throttledNs: some[int64](0)},
		},
		{
			name: "v1 hybrid: cpu alone in v1, unified without cpu (this kind of host)",
			files: map[string]string{
				"proc/self/cgroup":                         "2:cpuacct:/\n1:cpu:/\n0::/\n",
				"proc/self/mountinfo":                      miV1Tmpfs + miV1CPUOnl + miUnified,
				"sys/fs/cgroup/cpu/cpu.cfs_quota_us":       "-1\n",
				"sys/fs/cgroup/cpu/cpu.cfs_period_us":      "100000\n",
				"sys/fs/cgroup/cpu/cpu.stat":               statV1,
				"sys/fs/cgroup/unified/cgroup.controllers": "hugetlb\n",
				"sys/fs/cgroup/unified/cpu.stat":           "usage_usec 5\n",
			},
			want: cgroupStat{version: "v1", dir: "sys/fs/cgroup/cpu",
				periods: some[int64](7), throttled: some[int64](2), throttledNs: some[int64](123456789)},
		},
		{
			name: "v1 container: mount root is the container's cgroup",
			files: map[string]string{
				"proc/self/cgroup":                            "4:cpu,cpuacct:/kubepods/burstable/pod1/c1\n",
				"proc/self/mountinfo":                         "32 31 0:29 /kubepods/burstable/pod1/c1 /sys/fs/cgroup/cpu,cpuacct ro - cgroup cgroup rw,cpu,cpuacct\n",
				"sys/fs/cgroup/cpu,cpuacct/cpu.cfs_quota_us":  "250000\n",
				"sys/fs/cgroup/cpu,cpuacct/cpu.cfs_period_us": "100000\n",
			},
			want: cgroupStat{version: "v1", dir: "sys/fs/cgroup/cpu,cpuacct", limit: some(2.5), limitPath: "/kubepods/burstable/pod1/c1"},
		},
		{
			name: "v1 container: path not visible under a / mount",
			files: map[string]string{
				"proc/self/cgroup":                            "4:cpu,cpuacct:/docker/abc\n",
				"proc/self/mountinfo":                         miV1CPU,
				"sys/fs/cgroup/cpu,cpuacct/cpu.cfs_quota_us":  "50000\n",
				"sys/fs/cgroup/cpu,cpuacct/cpu.cfs_period_us": "100000\n",
			},
			want: cgroupStat{version: "v1", dir: "sys/fs/cgroup/cpu,cpuacct", limit: some(0.5), limitPath: "/docker/abc"},
		},
		{
			name: "v1 only cpu.stat",
			files: map[string]string{
				"proc/self/cgroup":                   "4:cpu,cpuacct:/\n",
				"proc/self/mountinfo":                miV1CPU,
				"sys/fs/cgroup/cpu,cpuacct/cpu.stat": statV1,
			},
			want: cgroupStat{version: "v1", dir: "sys/fs/cgroup/cpu,cpuacct",
				periods: some[int64](7), throttled: some[int64](2), throttledNs: some[int64](123456789)},
		},
		{
			name: "v1 garbage",
			files: map[string]string{
				"proc/self/cgroup":                            "4:cpu,cpuacct:/\n",
				"proc/self/mountinfo":                         miV1CPU,
				"sys/fs/cgroup/cpu,cpuacct/cpu.cfs_quota_us":  "abc\n",
				"sys/fs/cgroup/cpu,cpuacct/cpu.cfs_period_us": "0\n",
				"sys/fs/cgroup/cpu,cpuacct/cpu.stat":          "nr_periods 99999999999999999999\nthrottled_time\n",
			},
			want: cgroupStat{version: "v1", dir: "sys/fs/cgroup/cpu,cpuacct"},
		},
		{
			name: "v1 without mountinfo: conventional paths",
			files: map[string]string{
				"proc/self/cgroup":                            "4:cpu,cpuacct:/\n",
				"sys/fs/cgroup/cpu,cpuacct/cpu.cfs_quota_us":  "100000\n",
				"sys/fs/cgroup/cpu,cpuacct/cpu.cfs_period_us": "100000\n",
			},
			want: cgroupStat{version: "v1", dir: "sys/fs/cgroup/cpu,cpuacct", limit: some(1.0), limitPath: "/"},
		},
		{
			name: "v1 cpu hierarchy listed but not mounted",
			files: map[string]string{
				"proc/self/cgroup":    "4:cpu,cpuacct:/\n",
				"proc/self/mountinfo": miRoot + miV1Mem,
			},
			want: cgroupStat{},
		},
		{
			name:  "no /proc/self/cgroup",
			files: map[string]string{"proc/self/mountinfo": miV2, "sys/fs/cgroup/cpu.max": "100000 100000\n"},
			want:  cgroupStat{},
		},
		{
			name:  "nothing at all",
			files: map[string]string{},
			want:  cgroupStat{},
		},
		{
			name: "garbage /proc/self/cgroup and mountinfo",
			files: map[string]string{
				"proc/self/cgroup":      "hello\n::\n0::relative\n\x00\n",
				"proc/self/mountinfo":   "- - -\n1 2 3\n30 22 0:26 / /sys/fs/cgroup rw -\n",
				"sys/fs/cgroup/cpu.max": "100000 100000\n",
			},
			want: cgroupStat{},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := cgroupFrom(tree(t, tt.files))
			if got != tt.want {
				t.Errorf("cgroupFrom =\n %+v\nwant\n %+v", got, tt.want)
			}
		})
	}
}

func TestParseMountinfo(t *testing.T) {
	got := parseMountinfo("36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 shared:2 - ext3 /dev/root rw,errors=continue\n" +
		"bad line\n" +
		"41 31 0:38 / /a\\134b\\040c rw - cgroup2 cgroup2 rw")
	want := []mount{
		{root: "/mnt1", point: "/mnt2", fstype: "ext3", superOpts: "rw,errors=continue"},
		{root: "/", point: `/a\b c`, fstype: "cgroup2", superOpts: "rw"},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d mounts %+v, want %d", len(got), got, len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("mount %d = %+v, want %+v", i, got[i], want[i])
		}
	}
}

func TestRelativeTo(t *testing.T) {
	tests := []struct {
		root, p, want string
		ok            bool
	}{
		{"/", "/a/b", "/a/b", true},
		{"/", "/", "/", true},
		{"/a", "/a", "/", true},
		{"/a", "/a/b", "/b", true},
		{"/a", "/ab", "", false},
		{"/a/", "/a/b/", "/b", true},
		{"/", "/../x", "", false},
		{"/", "relative", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.root+" "+tt.p, func(t *testing.T) {
			got, ok := relativeTo(tt.root, tt.p)
			if got != tt.want || ok != tt.ok {
				t.Errorf("relativeTo(%q, %q) = %q, %v; want %q, %v", tt.root, tt.p, got, ok, tt.want, tt.ok)
			}
		})
	}
}

func TestThreadsFrom(t *testing.T) {
	tests := []struct {
		name   string
		status string
		want   opt[uint64]
	}{
		{"real", "Name:\tx\nState:\tS (sleeping)\nThreads:\t12\nSigQ:\t0/1\n", some[uint64](12)},
		{"spaces", "Threads:   3  \n", some[uint64](3)},
		{"missing", "Name:\tx\n", opt[uint64]{}},
		{"garbage", "Threads:\tlots\n", opt[uint64]{}},
		{"zero", "Threads:\t0\n", opt[uint64]{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := threadsFrom(tree(t, map[string]string{"proc/self/status": tt.status})); got != tt.want {
				t.Errorf("threadsFrom = %+v, want %+v", got, tt.want)
			}
		})
	}
	t.Run("no file", func(t *testing.T) {
		if got := threadsFrom(tree(t, nil)); got.ok {
			t.Errorf("threadsFrom = %+v, want unavailable", got)
		}
	})
}

// TestHostCgroup reads this machine's cgroup; it must not fail whatever the
// host looks like, and the thread count must be there on Linux.
func TestHostCgroup(t *testing.T) {
	cg := readCgroup()
	t.Logf("host cgroup: %+v", cg)
	if cg.limit.ok && !(cg.limit.v > 0) {
		t.Errorf("limit %v, want > 0", cg.limit.v)
	}
	if runtime.GOOS == "linux" {
		if n := readOSThreads(); !n.ok || n.v < 1 {
			t.Errorf("readOSThreads = %+v, want >= 1", n)
		}
	}
}

// TestCgroupHierarchy: the effective limit is the tightest from the
// process's cgroup up to its hierarchy's mount point, and throttling comes
// from the cgroup that sets it.
func TestCgroupHierarchy(t *testing.T) {
	const (
		statOwn    = "nr_periods 100\nnr_throttled 1\nthrottled_usec 10\n"
		statParent = "nr_periods 200\nnr_throttled 50\nthrottled_usec 7000\n"
		statOwnV1  = "nr_periods 100\nnr_throttled 1\nthrottled_time 10000\n"
		statParV1  = "nr_periods 200\nnr_throttled 50\nthrottled_time 7000000\n"
	)
	own := cgroupStat{periods: some[int64](100), throttled: some[int64](1), throttledNs: some[int64](10000)}
	parent := cgroupStat{periods: some[int64](200), throttled: some[int64](50), throttledNs: some[int64](7000000)}
	with := func(s cgroupStat, version, dir string, limit opt[float64], limitPath string) cgroupStat {
		s.version, s.dir, s.limit, s.limitPath = version, dir, limit, limitPath
		return s
	}
	v2 := func(ownMax, parentMax string, extra fstest.MapFS) fstest.MapFS {
		m := fstest.MapFS{
			"proc/self/cgroup":                  {Data: []byte("0::/parent/own\n")},
			"proc/self/mountinfo":               {Data: []byte(miRoot + miV2)},
			"sys/fs/cgroup/cgroup.controllers":  {Data: []byte("cpu memory\n")},
			"sys/fs/cgroup/parent/cpu.stat":     {Data: []byte(statParent)},
			"sys/fs/cgroup/parent/own/cpu.stat": {Data: []byte(statOwn)},
		}
		if ownMax != "" {
			m["sys/fs/cgroup/parent/own/cpu.max"] = &fstest.MapFile{Data: []byte(ownMax)}
		}
		if parentMax != "" {
			m["sys/fs/cgroup/parent/cpu.max"] = &fstest.MapFile{Data: []byte(parentMax)}
		}
		maps.Copy(m, extra)
		return m
	}
	const v1Dir = "sys/fs/cgroup/cpu,cpuacct"
	v1 := func(ownQuota, parentQuota string) fstest.MapFS {
		return fstest.MapFS{
			"proc/self/cgroup":                      {Data: []byte("4:cpu,cpuacct:/parent/own\n")},
			"proc/self/mountinfo":                   {Data: []byte(miRoot + miV1Tmpfs + miV1CPU)},
			v1Dir + "/cpu.cfs_quota_us":             {Data: []byte("-1\n")},
			v1Dir + "/cpu.cfs_period_us":            {Data: []byte("100000\n")},
			v1Dir + "/parent/cpu.cfs_quota_us":      {Data: []byte(parentQuota)},
			v1Dir + "/parent/cpu.cfs_period_us":     {Data: []byte("100000\n")},
			v1Dir + "/parent/cpu.stat":              {Data: []byte(statParV1)},
			v1Dir + "/parent/own/cpu.cfs_quota_us":  {Data: []byte(ownQuota)},
			v1Dir + "/parent/own/cpu.cfs_period_us": {Data: []byte("100000\n")},
			v1Dir + "/parent/own/cpu.stat":          {Data: []byte(statOwnV1)},
		}
	}
	tests := []struct {
		name string
		fsys fstest.MapFS
		want cgroupStat
	}{
		{"v2 own none, parent 0.5: the parent's", v2("max 100000\n", "50000 100000\n", nil),
			with(parent, "v2", "sys/fs/cgroup/parent", some(0.5), "/parent")},
		{"v2 own 2, parent 0.5: the parent's", v2("200000 100000\n", "50000 100000\n", nil),
			with(parent, "v2", "sys/fs/cgroup/parent", some(0.5), "/parent")},
		{"v2 own 0.5, parent 2: own", v2("50000 100000\n", "200000 100000\n", nil),
			with(own, "v2", "sys/fs/cgroup/parent/own", some(0.5), "/parent/own")},
		{"v2 equal limits: the lower cgroup", v2("100000 100000\n", "50000 50000\n", nil),
			with(own, "v2", "sys/fs/cgroup/parent/own", some(1.0), "/parent/own")},
		{"v2 no limit anywhere: own cgroup's throttling", v2("max 100000\n", "max 100000\n", nil),
			with(own, "v2", "sys/fs/cgroup/parent/own", opt[float64]{}, "")},
		{"v2 own cpu.max missing, parent 1.5", v2("", "150000 100000\n", fstest.MapFS{
			"sys/fs/cgroup/parent/own/cgroup.controllers": {Data: []byte("cpu\n")},
		}), with(parent, "v2", "sys/fs/cgroup/parent", some(1.5), "/parent")},
		{"v2 grandparent: the walk goes to the root", v2("max 100000\n", "max 100000\n", fstest.MapFS{
			"proc/self/cgroup":                     {Data: []byte("0::/gp/parent/own\n")},
			"sys/fs/cgroup/gp/parent/own/cpu.max":  {Data: []byte("max 100000\n")},
			"sys/fs/cgroup/gp/parent/own/cpu.stat": {Data: []byte(statOwn)},
			"sys/fs/cgroup/gp/cpu.max":             {Data: []byte("25000 100000\n")},
			"sys/fs/cgroup/gp/cpu.stat":            {Data: []byte(statParent)},
		}), with(parent, "v2", "sys/fs/cgroup/gp", some(0.25), "/gp")},
		{"v1 own none, parent 0.5: the parent's", v1("-1\n", "50000\n"),
			with(parent, "v1", v1Dir+"/parent", some(0.5), "/parent")},
		{"v1 own 2, parent 0.5: the parent's", v1("200000\n", "50000\n"),
			with(parent, "v1", v1Dir+"/parent", some(0.5), "/parent")},
		{"v1 own 0.5, parent 2: own", v1("50000\n", "200000\n"),
			with(own, "v1", v1Dir+"/parent/own", some(0.5), "/parent/own")},
		{"v1 no limit anywhere", v1("-1\n", "-1\n"),
			with(own, "v1", v1Dir+"/parent/own", opt[float64]{}, "")},
		{"v1 garbage parent quota is no limit", v1("-1\n", "lots\n"),
			with(own, "v1", v1Dir+"/parent/own", opt[float64]{}, "")},
		{
			// A container's view: its cgroup is mounted at /sys/fs/cgroup
			// (mountinfo root /kubepods/pod1/c1); the pod's limit above it
			// is not visible, and the files above the mount point are not
			// cgroups.
			name: "v2 container view: mount root is not /, nothing above the mount point",
			fsys: fstest.MapFS{
				"proc/self/cgroup":       {Data: []byte("0::/kubepods/pod1/c1\n")},
				"proc/self/mountinfo":    {Data: []byte(miRoot + "30 22 0:26 /kubepods/pod1/c1 /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n")},
				"sys/fs/cgroup/cpu.max":  {Data: []byte("max 100000\n")},
				"sys/fs/cgroup/cpu.stat": {Data: []byte(statOwn)},
				"sys/fs/cpu.max":         {Data: []byte("10000 100000\n")},
				"sys/cpu.max":            {Data: []byte("10000 100000\n")},
				"cpu.max":                {Data: []byte("10000 100000\n")},
			},
			want: with(own, "v2", "sys/fs/cgroup", opt[float64]{}, ""),
		},
		{
			name: "v2 subtree mount: limits up to the mount point, named in the hierarchy",
			fsys: fstest.MapFS{
				"proc/self/cgroup":             {Data: []byte("0::/kubepods/pod1/c1/sub\n")},
				"proc/self/mountinfo":          {Data: []byte("30 22 0:26 /kubepods/pod1 /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n")},
				"sys/fs/cgroup/c1/sub/cpu.max": {Data: []byte("max 100000\n")},
				"sys/fs/cgroup/c1/cpu.max":     {Data: []byte("300000 100000\n")},
				"sys/fs/cgroup/cpu.max":        {Data: []byte("100000 100000\n")},
				"sys/fs/cgroup/cpu.stat":       {Data: []byte(statParent)},
				"sys/fs/cpu.max":               {Data: []byte("10000 100000\n")},
			},
			want: with(parent, "v2", "sys/fs/cgroup", some(1.0), "/kubepods/pod1"),
		},
		{
			name: "v1 container view: the container's cgroup at the mount point",
			fsys: fstest.MapFS{
				"proc/self/cgroup":                {Data: []byte("4:cpu,cpuacct:/docker/abc\n")},
				"proc/self/mountinfo":             {Data: []byte("32 31 0:29 /docker/abc /sys/fs/cgroup/cpu,cpuacct ro - cgroup cgroup rw,cpu,cpuacct\n")},
				v1Dir + "/cpu.cfs_quota_us":       {Data: []byte("150000\n")},
				v1Dir + "/cpu.cfs_period_us":      {Data: []byte("100000\n")},
				v1Dir + "/cpu.stat":               {Data: []byte(statOwnV1)},
				"sys/fs/cgroup/cpu.cfs_quota_us":  {Data: []byte("1000\n")},
				"sys/fs/cgroup/cpu.cfs_period_us": {Data: []byte("100000\n")},
			},
			want: with(own, "v1", v1Dir, some(1.5), "/docker/abc"),
		},
		{
			name: "v2 cgroup namespace root",
			fsys: fstest.MapFS{
				"proc/self/cgroup":       {Data: []byte("0::/\n")},
				"proc/self/mountinfo":    {Data: []byte(miRoot + miV2)},
				"sys/fs/cgroup/cpu.max":  {Data: []byte("200000 100000\n")},
				"sys/fs/cgroup/cpu.stat": {Data: []byte(statOwn)},
			},
			want: with(own, "v2", "sys/fs/cgroup", some(2.0), "/"),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := cgroupFrom(tt.fsys); got != tt.want {
				t.Errorf("cgroupFrom =\n %+v\nwant\n %+v", got, tt.want)
			}
		})
	}
}

func TestParseCPUMax(t *testing.T) {
	tests := []struct {
		in   string
		want opt[float64]
	}{
		{"max 100000\n", opt[float64]{}},
		{"50000 100000\n", some(0.5)},
		{"200000 100000", some(2.0)},
		{"  150000\t100000 \n", some(1.5)},
		{"max\n", opt[float64]{}},
		{"0 100000\n", opt[float64]{}},
		{"-1 100000\n", opt[float64]{}},
		{"100000 0\n", opt[float64]{}},
		{"100000 -5\n", opt[float64]{}},
		{"100000 100000 1\n", opt[float64]{}},
		{"1e5 100000\n", opt[float64]{}},
		{"", opt[float64]{}},
	}
	for _, tt := range tests {
		if got := parseCPUMax(tt.in); got != tt.want {
			t.Errorf("parseCPUMax(%q) = %+v, want %+v", tt.in, got, tt.want)
		}
	}
}

// FuzzParseCPUMax: any content, no panic; a limit is positive and finite,
// comes from two fields of which the first is not "max", and does not
// depend on the trailing newline.
func FuzzParseCPUMax(f *testing.F) {
	f.Add("max 100000\n")
	f.Add("50000 100000\n")
	f.Fuzz(func(t *testing.T, data string) {
		got := parseCPUMax(data)
		if again := parseCPUMax(data + "\n"); again != got {
			t.Fatalf("parseCPUMax(%q) = %+v, with a newline %+v", data, got, again)
		}
		if !got.ok {
			return
		}
		if !(got.v > 0) || math.IsInf(got.v, 0) {
			t.Fatalf("parseCPUMax(%q) = %v", data, got.v)
		}
		f := strings.Fields(data)
		if len(f) != 2 || f[0] == "max" {
			t.Fatalf("parseCPUMax(%q) = %v from fields %q", data, got.v, f)
		}
		if parseCPUMax("max " + f[1]).ok {
			t.Fatalf("max %s is a limit", f[1])
		}
	})
}
