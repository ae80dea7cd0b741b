package procstat

import (
	"errors"
	"io"
	"io/fs"
	"slices"
	"strconv"
	"sync"

	"github.com/diagkit/diagkit/diag/api"
)

// MaxSchedstatThreads caps how many of the process's threads a snapshot
// reads /proc/self/task/<tid>/schedstat for: the lowest tids, sorted
// numerically, so that both ends of a window read the same threads. The
// whole directory is still listed (in batches, to find the lowest), but each
// thread read costs an openat, a read and a close of a procfs file, which
// dominate: about 7µs a thread on a 2-vCPU VM, 0.1ms a snapshot at 10
// threads and 8.6ms at 1,000 (BenchmarkSnapshotSchedstat, medians). At the
// cap a snapshot is thus under 10ms, twice a window: 0.03% of one CPU at the
// agent's default of a window a minute, cheap enough not to lower it. A Go
// process rarely has more threads than GOMAXPROCS plus those blocked in
// syscalls or cgo; one with more reports RunQueueThreadsCapped and the wait
// of its first 1,024 threads only.
const MaxSchedstatThreads = 1024

// Why the run-queue wait is unavailable (api.Context.RunQueueWaitUnavailable).
const (
	schedNotLinux   = "not Linux"
	schedNoTaskDir  = "no /proc/self/task (procfs not mounted?)"
	schedNoFiles    = "no /proc/self/task/*/schedstat (kernel without schedstats)"
	schedMalformed  = "malformed /proc/self/task/*/schedstat"
	schedAllZero    = "/proc/self/task/*/schedstat reads all zeros (scheduler statistics off)"
	schedNotRead    = "schedstat not read at both ends of the window"
	schedNoCommon   = "no thread was read at both ends of the window"
	schedNoProgress = "the threads' schedstat counters went backwards"
)

// schedStat is what /proc/self/task/*/schedstat said at one instant: the
// threads read, sorted by tid. The zero schedStat has nothing (and no
// reason): a Snapshot that was not taken.
type schedStat struct {
	threads []threadSched // sorted by tid, no duplicates
	capped  bool          // the process had more than the cap of threads
	why     string        // why threads is empty, when it is
}

// threadSched is one thread's schedstat: fields 1 and 2, in ns.
type threadSched struct {
	tid       uint32
	run, wait uint64 // on a CPU; runnable, waiting on a run queue
}

// schedScratch is the buffers one read of the task directory reuses; a
// sync.Pool hands each concurrent reader its own.
type schedScratch struct {
	tids []uint32
	name []byte
	buf  [128]byte // a schedstat line is at most 3×20 digits, 2 spaces and \n
}

var schedScratchPool = sync.Pool{New: func() any { return new(schedScratch) }}

// taskDir is the directory of the process's threads, in an fs.FS of "/".
const taskDir = "proc/self/task"

// readDirBatch is how many directory entries one ReadDir call returns, so
// that a process of 100k threads never holds 100k entries at once.
const readDirBatch = 256

// schedFrom reads proc/self/task/*/schedstat in fsys (a view of "/") for the
// max lowest tids.
func schedFrom(fsys fs.FS, max int) schedStat {
	f, err := fsys.Open(taskDir)
	if err != nil {
		return schedStat{why: schedNoTaskDir}
	}
	defer f.Close()
	return readTasks(f, max, func(sc *schedScratch, tid uint32) (int, error) {
		sc.name = append(strconv.AppendUint(append(sc.name[:0], taskDir+"/"...), uint64(tid), 10), "/schedstat"...)
		return readSmall(fsys, string(sc.name), sc.buf[:])
	})
}

// readTasks lists dir, the task directory, and reads the schedstat of its
// max lowest tids with read, which reads a thread's file into sc.buf.
func readTasks(dir fs.File, max int, read func(sc *schedScratch, tid uint32) (int, error)) schedStat {
	sc := schedScratchPool.Get().(*schedScratch)
	defer schedScratchPool.Put(sc)
	tids, capped, err := lowestTids(dir, max, sc.tids[:0])
	sc.tids = tids
	if err != nil {
		return schedStat{why: schedNoTaskDir}
	}
	s := schedStat{threads: make([]threadSched, 0, len(tids)), capped: capped}
	var malformed int
	var busy bool
	for _, tid := range tids {
		n, err := read(sc, tid)
		if err != nil {
			continue // the thread exited since the listing, or no schedstat
		}
		run, wait, ok := parseSchedstat(sc.buf[:n])
		if !ok || n == len(sc.buf) {
			malformed++
			continue
		}
		busy = busy || run != 0 || wait != 0
		s.threads = append(s.threads, threadSched{tid: tid, run: run, wait: wait})
	}
	switch {
	case len(s.threads) == 0 && malformed > 0:
		return schedStat{why: schedMalformed}
	case len(s.threads) == 0:
		return schedStat{why: schedNoFiles}
	case !busy:
		// The thread reading it is running: a kernel that accounts shows
		// it has run.
		return schedStat{why: schedAllZero}
	}
	return s
}

// lowestTids lists dir in batches and returns its max lowest numeric names,
// sorted, in tids (reused), and whether there were more.
func lowestTids(dir fs.File, max int, tids []uint32) ([]uint32, bool, error) {
	d, ok := dir.(fs.ReadDirFile)
	if !ok {
		return tids, false, errors.New("not a directory")
	}
	if max <= 0 {
		return tids, false, nil
	}
	// Keep at most 2*max, cut back to the lowest max whenever full: memory
	// stays bounded whatever the number of threads.
	var capped, cut bool
	var seen int
	for {
		entries, err := d.ReadDir(readDirBatch)
		for _, e := range entries {
			tid, err := strconv.ParseUint(e.Name(), 10, 32)
			if err != nil || tid == 0 {
				continue
			}
			seen++
			tids = append(tids, uint32(tid))
			if len(tids) >= 2*max {
				tids, cut = lowest(tids, max)
				capped = capped || cut
			}
		}
		if err == io.EOF || (err == nil && len(entries) == 0) {
			break
		}
		if err != nil {
			if seen == 0 {
				return tids, false, err
			}
			break // keep what was listed
		}
	}
	tids, cut = lowest(tids, max)
	return tids, capped || cut, nil
}

// lowest sorts tids, drops duplicates (a directory that changes while it is
// listed can list an entry twice) and keeps the first max; true when it
// dropped some that were not duplicates.
func lowest(tids []uint32, max int) ([]uint32, bool) {
	slices.Sort(tids)
	tids = slices.Compact(tids)
	return tids[:min(len(tids), max)], len(tids) > max
}

// readSmall reads file name of fsys into buf and returns how many bytes it
// read: all of the file, or len(buf) when it is longer.
func readSmall(fsys fs.FS, name string, buf []byte) (int, error) {
	f, err := fsys.Open(name)
	if err != nil {
		return 0, err
	}
	n, err := io.ReadFull(f, buf)
	f.Close()
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		err = nil
	}
	return n, err
}

// parseSchedstat parses a schedstat line: "run wait timeslices", decimal,
// separated by single spaces, with an optional trailing newline. Fields the
// kernel may add after the third are ignored.
func parseSchedstat(b []byte) (run, wait uint64, ok bool) {
	if len(b) > 0 && b[len(b)-1] == '\n' {
		b = b[:len(b)-1]
	}
	var f [3]uint64
	for i := range f {
		if i > 0 {
			if len(b) == 0 || b[0] != ' ' {
				return 0, 0, false
			}
			b = b[1:]
		}
		f[i], b, ok = parseDecimal(b)
		if !ok {
			return 0, 0, false
		}
	}
	if len(b) > 0 && b[0] != ' ' {
		return 0, 0, false
	}
	return f[0], f[1], true
}

// parseDecimal parses the leading decimal digits of b as a uint64 and
// returns the rest; false without a digit or on overflow.
func parseDecimal(b []byte) (uint64, []byte, bool) {
	var n uint64
	i := 0
	for ; i < len(b) && '0' <= b[i] && b[i] <= '9'; i++ {
		d := uint64(b[i] - '0')
		if n > (1<<64-1-d)/10 {
			return 0, nil, false
		}
		n = n*10 + d
	}
	return n, b[i:], i > 0
}

// runQueue fills c's run-queue figures from the threads read at both ends:
// it sums the deltas of the threads present in both, and the counters of
// the threads created inside the window, which start at zero when a thread
// is created. Without those, a window a busy thread started in counts only
// the threads that waited for it (the runtime's monitor, idle workers
// woken now and then): in the first window of a process pinned to one
// CPU, they waited 112 times the CPU they got, and the window was judged
// contended, while in every later one the whole process waited under 1 %
// of its CPU. A thread is taken as new when its tid is above every tid read at
// the start, and the start read them all (not capped): tids grow until
// they wrap around, and a thread whose read failed at the start, or one
// beyond the cap, would otherwise count its whole life. A thread that ended
// inside the window is not counted (its end is unknown), nor one whose
// counters went backwards (its tid was reused).
func runQueue(c *api.Context, start, end schedStat, secs float64) {
	c.RunQueueThreadsCapped = start.capped || end.capped
	switch {
	case len(start.threads) == 0 || len(end.threads) == 0:
		c.RunQueueWaitUnavailable = firstOf(end.why, start.why, schedNotRead)
		return
	}
	var run, wait float64 // ns; exact to 2^53 ns, 104 days
	var n, common int64
	s, e := start.threads, end.threads
	lastStart := s[len(s)-1].tid
	for len(e) > 0 {
		switch b := e[0]; {
		case len(s) > 0 && s[0].tid < b.tid:
			s = s[1:]
		case len(s) == 0 || s[0].tid > b.tid:
			e = e[1:]
			if !start.capped && b.tid > lastStart {
				run += float64(b.run)
				wait += float64(b.wait)
				n++
			}
		default:
			a := s[0]
			s, e = s[1:], e[1:]
			common++
			if b.run < a.run || b.wait < a.wait {
				continue
			}
			run += float64(b.run - a.run)
			wait += float64(b.wait - a.wait)
			n++
		}
	}
	switch {
	case common == 0:
		c.RunQueueWaitUnavailable = schedNoCommon
		return
	case n == 0:
		c.RunQueueWaitUnavailable = schedNoProgress
		return
	}
	c.RunQueueThreads = ptr(n)
	c.RunQueueWaitSeconds = ptr(wait / 1e9)
	if secs > 0 {
		c.RunQueueWaitPerSecond = ptr(wait / 1e9 / secs)
	}
	if run > 0 {
		c.RunQueueWaitRatio = ptr(wait / run)
	}
}

func firstOf(s ...string) string {
	for _, x := range s {
		if x != "" {
			return x
		}
	}
	return ""
}
