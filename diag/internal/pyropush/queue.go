// Package pyropush sends profiles to a Grafana Pyroscope server through
// pyroscope-go's uploader without ever blocking the producers: a bounded
// queue that drops its oldest job when full (Queue), and one sender
// goroutine that drives pyroscope-go's upstream/remote uploader one job at a
// time, with a timeout per request, bounded retries with jittered backoff
// for retryable failures, stale-profile drops and a deadline on the final
// flush (Sender). labels.go and samplelabels.go hold diagkit to the server's
// label rules (its own labelset code, github.com/grafana/pyroscope/api).
package pyropush

import (
	"sync"
	"sync/atomic"

	"github.com/grafana/pyroscope-go/upstream"
)

// Queue is a bounded FIFO of upload jobs that drops the oldest job to make
// room. It implements upstream.Upstream, so a pyroscope-go Session can
// upload into it; Upload never blocks on anything but a short mutex.
type Queue struct {
	mu     sync.Mutex
	buf    []*upstream.UploadJob // ring of cap(size)
	head   int
	n      int
	high   int // the most jobs ever held at once
	closed bool
	ready  chan struct{}
	onDrop func(total uint64)

	enqueued atomic.Uint64
	dropped  atomic.Uint64
}

// NewQueue returns a queue holding at most size jobs. onDrop, if set, is
// called (outside the queue's lock, on the uploading goroutine) after jobs
// were dropped, with the total dropped so far; it must not block.
func NewQueue(size int, onDrop func(total uint64)) *Queue {
	if size < 1 {
		size = 1
	}
	return &Queue{buf: make([]*upstream.UploadJob, size), ready: make(chan struct{}, 1), onDrop: onDrop}
}

// Upload adds a job, dropping the oldest queued job when the queue is full.
// After Close it drops the job. It never waits for the network.
func (q *Queue) Upload(job *upstream.UploadJob) {
	if job == nil {
		return
	}
	q.mu.Lock()
	dropped := 0
	if q.closed {
		dropped = 1
	} else {
		if q.n == len(q.buf) {
			q.buf[q.head] = nil // release the oldest profile to the GC
			q.head = (q.head + 1) % len(q.buf)
			q.n--
			dropped = 1
		}
		q.buf[(q.head+q.n)%len(q.buf)] = job
		q.n++
		q.high = max(q.high, q.n)
		q.enqueued.Add(1)
	}
	q.mu.Unlock()
	if dropped > 0 {
		q.noteDropped(uint64(dropped))
	}
	select {
	case q.ready <- struct{}{}:
	default:
	}
}

// Flush does nothing: uploads are asynchronous by design, and nothing in
// diagkit waits for them. (pyroscope-go's Session calls Flush only from
// Profiler.Flush, which diagkit does not use.)
func (q *Queue) Flush() {}

// Pop removes and returns the oldest job, or nil when the queue is empty.
func (q *Queue) Pop() *upstream.UploadJob {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.n == 0 {
		return nil
	}
	job := q.buf[q.head]
	q.buf[q.head] = nil
	q.head = (q.head + 1) % len(q.buf)
	q.n--
	return job
}

// Ready receives a value after Upload added a job.
func (q *Queue) Ready() <-chan struct{} { return q.ready }

// Close makes further uploads drop their job, and drops (and counts) what
// is still queued. It returns how many queued jobs it dropped.
func (q *Queue) Close() int {
	q.mu.Lock()
	q.closed = true
	n := q.n
	for q.n > 0 {
		q.buf[q.head] = nil
		q.head = (q.head + 1) % len(q.buf)
		q.n--
	}
	q.mu.Unlock()
	if n > 0 {
		q.noteDropped(uint64(n))
	}
	return n
}

// NoteDropped counts jobs lost outside the queue (an upload abandoned at
// the flush deadline).
func (q *Queue) noteDropped(n uint64) {
	total := q.dropped.Add(n)
	if q.onDrop != nil {
		q.onDrop(total)
	}
}

// QueueStats are a queue's counters.
type QueueStats struct {
	Len      int    // jobs queued now
	High     int    // the most jobs ever queued at once (at most the size)
	Size     int    // capacity
	Enqueued uint64 // jobs accepted
	Dropped  uint64 // jobs dropped: oldest evicted, refused after Close, or abandoned at the flush deadline
}

// Stats returns the queue's counters.
func (q *Queue) Stats() QueueStats {
	q.mu.Lock()
	defer q.mu.Unlock()
	return QueueStats{Len: q.n, High: q.high, Size: len(q.buf), Enqueued: q.enqueued.Load(), Dropped: q.dropped.Load()}
}
