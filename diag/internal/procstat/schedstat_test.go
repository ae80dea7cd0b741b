package procstat

import (
	"fmt"
	"io/fs"
	"math"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/diagkit/diagkit/diag/api"
)

func TestParseSchedstat(t *testing.T) {
	tests := []struct {
		line      string
		run, wait uint64
		ok        bool
	}{
		{"235659 142251 2\n", 235659, 142251, true},
		{"0 134259 1", 0, 134259, true},
		{"18446744073709551615 18446744073709551615 18446744073709551615\n", math.MaxUint64, math.MaxUint64, true},
		{"1 2 3 4\n", 1, 2, true}, // a field a later kernel adds
		{"1 2 3 \n", 1, 2, true},
		{"18446744073709551616 1 1\n", 0, 0, false}, // overflow
		{"1 2\n", 0, 0, false},
		{"1 2 \n", 0, 0, false},
		{"1  2 3\n", 0, 0, false},
		{" 1 2 3\n", 0, 0, false},
		{"1\t2\t3\n", 0, 0, false},
		{"1 2 3\n\n", 0, 0, false},
		{"1 2 3x\n", 0, 0, false},
		{"-1 2 3\n", 0, 0, false},
		{"+1 2 3\n", 0, 0, false},
		{"a b c\n", 0, 0, false},
		{"", 0, 0, false},
		{"\n", 0, 0, false},
		{"\x00\xff", 0, 0, false},
	}
	for _, tt := range tests {
		t.Run(strconv.Quote(tt.line), func(t *testing.T) {
			run, wait, ok := parseSchedstat([]byte(tt.line))
			if run != tt.run || wait != tt.wait || ok != tt.ok {
				t.Errorf("parseSchedstat(%q) = %d, %d, %v; want %d, %d, %v", tt.line, run, wait, ok, tt.run, tt.wait, tt.ok)
			}
		})
	}
}

// referenceSchedstat is a second reading of the format, for the fuzz target.
func referenceSchedstat(line string) (run, wait uint64, ok bool) {
	f := strings.Split(strings.TrimSuffix(line, "\n"), " ")
	if len(f) < 3 {
		return 0, 0, false
	}
	var n [3]uint64
	for i := range n {
		var err error
		if n[i], err = strconv.ParseUint(f[i], 10, 64); err != nil {
			return 0, 0, false
		}
	}
	return n[0], n[1], true
}

// FuzzParseSchedstat: any bytes, no panic, and the same reading as the
// reference.
func FuzzParseSchedstat(f *testing.F) {
	f.Add("235659 142251 2\n")
	f.Add("1 2")
	f.Fuzz(func(t *testing.T, line string) {
		run, wait, ok := parseSchedstat([]byte(line))
		wrun, wwait, wok := referenceSchedstat(line)
		if run != wrun || wait != wwait || ok != wok {
			t.Fatalf("parseSchedstat(%q) = %d, %d, %v; reference %d, %d, %v", line, run, wait, ok, wrun, wwait, wok)
		}
	})
}

// tasks is a fake /proc/self/task of the threads tid → schedstat content.
func tasks(threads map[uint32]string) fstest.MapFS {
	fsys := fstest.MapFS{taskDir: &fstest.MapFile{Mode: fs.ModeDir | 0o555}}
	for tid, content := range threads {
		fsys[fmt.Sprintf("%s/%d/schedstat", taskDir, tid)] = &fstest.MapFile{Data: []byte(content)}
	}
	return fsys
}

func TestSchedFrom(t *testing.T) {
	withDir := func(fsys fstest.MapFS, names ...string) fstest.MapFS {
		for _, n := range names {
			fsys[taskDir+"/"+n] = &fstest.MapFile{Mode: fs.ModeDir | 0o555}
		}
		return fsys
	}
	tests := []struct {
		name string
		fsys fs.FS
		max  int
		want schedStat
	}{
		{
			name: "threads, sorted by tid",
			fsys: tasks(map[uint32]string{100: "5 6 1\n", 7: "1 2 3\n", 20: "3 4 1\n"}),
			max:  10,
			want: schedStat{threads: []threadSched{{7, 1, 2}, {20, 3, 4}, {100, 5, 6}}},
		},
		{
			name: "the cap keeps the lowest tids, numerically",
			fsys: tasks(map[uint32]string{9: "1 1 1\n", 10: "2 2 1\n", 100: "3 3 1\n", 11: "4 4 1\n", 1000: "5 5 1\n"}),
			max:  3,
			want: schedStat{threads: []threadSched{{9, 1, 1}, {10, 2, 2}, {11, 4, 4}}, capped: true},
		},
		{
			name: "exactly the cap is not capped",
			fsys: tasks(map[uint32]string{1: "1 1 1\n", 2: "2 2 1\n"}),
			max:  2,
			want: schedStat{threads: []threadSched{{1, 1, 1}, {2, 2, 2}}},
		},
		{
			name: "malformed and missing files are skipped",
			fsys: withDir(tasks(map[uint32]string{1: "10 20 3\n", 2: "garbage\n", 3: "1 2\n", 4: strings.Repeat("1", 200)}), "5"),
			max:  10,
			want: schedStat{threads: []threadSched{{1, 10, 20}}},
		},
		{
			name: "names that are not tids are skipped",
			fsys: withDir(tasks(map[uint32]string{3: "1 2 3\n"}), "self", "0", "-1", "4294967296", "07x"),
			max:  10,
			want: schedStat{threads: []threadSched{{3, 1, 2}}},
		},
		{
			name: "no task directory",
			fsys: fstest.MapFS{"proc/self/status": &fstest.MapFile{Data: []byte("Threads: 1\n")}},
			max:  10,
			want: schedStat{why: schedNoTaskDir},
		},
		{
			name: "task directory is a file",
			fsys: fstest.MapFS{taskDir: &fstest.MapFile{Data: []byte("x")}},
			max:  10,
			want: schedStat{why: schedNoTaskDir},
		},
		{
			name: "no schedstat files (kernel without schedstats)",
			fsys: withDir(tasks(nil), "1", "2"),
			max:  10,
			want: schedStat{why: schedNoFiles},
		},
		{
			name: "empty task directory",
			fsys: tasks(nil),
			max:  10,
			want: schedStat{why: schedNoFiles},
		},
		{
			name: "every file malformed",
			fsys: tasks(map[uint32]string{1: "x\n", 2: ""}),
			max:  10,
			want: schedStat{why: schedMalformed},
		},
		{
			name: "all zeros: accounting off",
			fsys: tasks(map[uint32]string{1: "0 0 0\n", 2: "0 0 0\n"}),
			max:  10,
			want: schedStat{why: schedAllZero},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := schedFrom(tt.fsys, tt.max)
			if len(got.threads) == 0 {
				got.threads = nil
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("schedFrom =\n %+v\nwant\n %+v", got, tt.want)
			}
		})
	}
}

// batchFS records the largest ReadDir request on the task directory.
type batchFS struct {
	fs.FS
	most *int
}

func (b batchFS) Open(name string) (fs.File, error) {
	f, err := b.FS.Open(name)
	if err != nil || name != taskDir {
		return f, err
	}
	return batchDir{f.(fs.ReadDirFile), b.most}, nil
}

type batchDir struct {
	fs.ReadDirFile
	most *int
}

func (d batchDir) ReadDir(n int) ([]fs.DirEntry, error) {
	if n <= 0 || n > *d.most {
		*d.most = n
	}
	return d.ReadDirFile.ReadDir(n)
}

// TestSchedFromManyThreads: 5,000 threads, listed in batches, the cap's
// lowest read.
func TestSchedFromManyThreads(t *testing.T) {
	threads := map[uint32]string{}
	for i := range uint32(5000) {
		threads[40000-7*i] = fmt.Sprintf("%d %d 1\n", i+1, i)
	}
	var most int
	got := schedFrom(batchFS{tasks(threads), &most}, 100)
	if most <= 0 || most > readDirBatch {
		t.Errorf("ReadDir(%d), want batches of at most %d", most, readDirBatch)
	}
	if len(got.threads) != 100 || !got.capped || got.why != "" {
		t.Fatalf("read %d threads, capped %v, %q; want the 100 lowest, capped", len(got.threads), got.capped, got.why)
	}
	for i, th := range got.threads {
		if want := uint32(40000 - 7*4999 + 7*i); th.tid != want {
			t.Fatalf("thread %d is tid %d, want %d", i, th.tid, want)
		}
	}
}

func TestRunQueue(t *testing.T) {
	th := func(ts ...threadSched) schedStat { return schedStat{threads: ts} }
	tests := []struct {
		name       string
		start, end schedStat
		secs       float64
		want       api.Context
	}{
		{
			name:  "two threads",
			start: th(threadSched{1, 1e9, 1e8}, threadSched{2, 0, 0}),
			end:   th(threadSched{1, 2e9, 3e8}, threadSched{2, 1e9, 3e8}),
			secs:  2,
			want: api.Context{RunQueueWaitSeconds: ptr(0.5), RunQueueWaitPerSecond: ptr(0.25),
				RunQueueWaitRatio: ptr(0.25), RunQueueThreads: ptr[int64](2)},
		},
		{
			// 3 ended; 4, below the start's highest tid, may be a reused
			// tid or a thread whose read failed: neither counts. 6 began
			// in the window: all of its counters do.
			name:  "churn: threads that ended count nothing, threads that began count from zero",
			start: th(threadSched{1, 1e9, 0}, threadSched{3, 5e9, 5e9}, threadSched{5, 1e9, 0}),
			end:   th(threadSched{1, 2e9, 1e9}, threadSched{4, 9e9, 9e9}, threadSched{5, 1e9, 0}, threadSched{6, 5e8, 5e8}),
			secs:  1,
			want: api.Context{RunQueueWaitSeconds: ptr(1.5), RunQueueWaitPerSecond: ptr(1.5),
				RunQueueWaitRatio: ptr(1.0), RunQueueThreads: ptr[int64](3)},
		},
		{
			// A process starting up on one CPU: the busy thread began after
			// the start; counted, the others' waiting behind it is small
			// beside what the process ran (here 10 ms against 1.01 s).
			name:  "a busy thread begun in the window",
			start: th(threadSched{10, 1e6, 0}, threadSched{11, 0, 0}),
			end:   th(threadSched{10, 2e6, 5e6}, threadSched{11, 1e6, 5e6}, threadSched{14, 1e9, 0}),
			secs:  1,
			want: api.Context{RunQueueWaitSeconds: ptr(0.01), RunQueueWaitPerSecond: ptr(0.01),
				RunQueueWaitRatio: ptr(0.01 / 1.002), RunQueueThreads: ptr[int64](3)},
		},
		{
			// Beyond the cap at the start, a high tid may have run long
			// before the window: it does not count.
			name:  "capped start: a thread not read at the start is not counted",
			start: schedStat{threads: []threadSched{{1, 1e9, 1e9}}, capped: true},
			end:   th(threadSched{1, 2e9, 2e9}, threadSched{7, 9e9, 9e9}),
			secs:  1,
			want: api.Context{RunQueueWaitSeconds: ptr(1.0), RunQueueWaitPerSecond: ptr(1.0),
				RunQueueWaitRatio: ptr(1.0), RunQueueThreads: ptr[int64](1), RunQueueThreadsCapped: true},
		},
		{
			name:  "counters went backwards (a reused tid): that thread is skipped",
			start: th(threadSched{1, 1e9, 1e9}, threadSched{2, 5e9, 1e9}, threadSched{3, 1e9, 5e9}),
			end:   th(threadSched{1, 3e9, 2e9}, threadSched{2, 4e9, 2e9}, threadSched{3, 2e9, 4e9}),
			secs:  1,
			want: api.Context{RunQueueWaitSeconds: ptr(1.0), RunQueueWaitPerSecond: ptr(1.0),
				RunQueueWaitRatio: ptr(0.5), RunQueueThreads: ptr[int64](1)},
		},
		{
			name:  "no CPU run: no ratio",
			start: th(threadSched{1, 1e9, 1e9}),
			end:   th(threadSched{1, 1e9, 1e9}),
			secs:  1,
			want: api.Context{RunQueueWaitSeconds: ptr(0.0), RunQueueWaitPerSecond: ptr(0.0),
				RunQueueThreads: ptr[int64](1)},
		},
		{
			name:  "no wall time: no rate",
			start: th(threadSched{1, 1e9, 1e9}),
			end:   th(threadSched{1, 2e9, 2e9}),
			want:  api.Context{RunQueueWaitSeconds: ptr(1.0), RunQueueWaitRatio: ptr(1.0), RunQueueThreads: ptr[int64](1)},
		},
		{
			name:  "capped at either end",
			start: schedStat{threads: []threadSched{{1, 0, 0}}, capped: true},
			end:   th(threadSched{1, 1e9, 1e9}),
			secs:  1,
			want: api.Context{RunQueueWaitSeconds: ptr(1.0), RunQueueWaitPerSecond: ptr(1.0),
				RunQueueWaitRatio: ptr(1.0), RunQueueThreads: ptr[int64](1), RunQueueThreadsCapped: true},
		},
		{
			name:  "no thread in common",
			start: th(threadSched{1, 1e9, 1e9}),
			end:   th(threadSched{2, 2e9, 2e9}),
			secs:  1,
			want:  api.Context{RunQueueWaitUnavailable: schedNoCommon},
		},
		{
			name:  "every common thread went backwards",
			start: th(threadSched{1, 2e9, 1e9}),
			end:   th(threadSched{1, 1e9, 2e9}),
			secs:  1,
			want:  api.Context{RunQueueWaitUnavailable: schedNoProgress},
		},
		{
			name:  "the end's reason wins",
			start: schedStat{why: schedNoTaskDir},
			end:   schedStat{why: schedNotLinux},
			secs:  1,
			want:  api.Context{RunQueueWaitUnavailable: schedNotLinux},
		},
		{
			name:  "the start's reason",
			start: schedStat{why: schedAllZero},
			end:   th(threadSched{1, 1e9, 1e9}),
			secs:  1,
			want:  api.Context{RunQueueWaitUnavailable: schedAllZero},
		},
		{
			name: "a snapshot not taken",
			end:  th(threadSched{1, 1e9, 1e9}),
			secs: 1,
			want: api.Context{RunQueueWaitUnavailable: schedNotRead},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var c api.Context
			runQueue(&c, tt.start, tt.end, tt.secs)
			if !reflect.DeepEqual(c, tt.want) {
				t.Errorf("runQueue =\n %s\nwant\n %s", runQueueString(c), runQueueString(tt.want))
			}
		})
	}
}

func runQueueString(c api.Context) string {
	return fmt.Sprintf("wait %v per second %v ratio %v threads %v capped %v unavailable %q",
		deref(c.RunQueueWaitSeconds), deref(c.RunQueueWaitPerSecond), deref(c.RunQueueWaitRatio),
		deref(c.RunQueueThreads), c.RunQueueThreadsCapped, c.RunQueueWaitUnavailable)
}

func deref[T any](p *T) any {
	if p == nil {
		return nil
	}
	return *p
}
