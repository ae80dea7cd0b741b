package pyropush

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/grafana/pyroscope-go/upstream"
	"github.com/grafana/pyroscope-go/upstream/remote"
	"github.com/grafana/pyroscope/api/model/labelset"
)

// maxResponseBody bounds what is read of a response body: pyroscope-go
// reads all of it into its error message.
const maxResponseBody = 4 << 10

// SenderConfig configures a Sender.
type SenderConfig struct {
	// Remote is passed to remote.NewRemote; its HTTPClient, Logger and
	// Threads are set by the Sender.
	Remote remote.Config
	// Timeout bounds each upload request.
	Timeout time.Duration
	// FlushTimeout bounds Stop: what is still queued or in flight then is
	// dropped.
	FlushTimeout time.Duration
	// MinBackoff and MaxBackoff bound the wait after a retryable failure
	// (no answer, 408, 429, 5xx), which doubles with each such failure in a
	// row and resets when the server answers. Each wait is jittered: a
	// random time between half the backoff and the backoff, so a fleet does
	// not retry in lockstep. A Retry-After of the server lengthens it (to
	// at most MaxRetryAfter).
	MinBackoff, MaxBackoff time.Duration
	// MaxAttempts bounds the uploads of one profile (default 4): a
	// retryable failure is retried until then; another 4xx is a rejection,
	// never retried. Either way the profile is then dropped (counted).
	MaxAttempts int
	// MaxAge, if set, drops a profile that started longer ago than that
	// before it is sent: the server refuses profiles older than its
	// ingestion window.
	MaxAge time.Duration
	// SanitizeSampleLabels makes each profile's pprof sample labels
	// acceptable to the server before upload (SanitizeSampleLabels), within
	// the label budget its series labels (the job's name) leave.
	SanitizeSampleLabels bool
	// OnLabels, if set, is called on the sender's goroutine when a profile's
	// sample labels were rewritten or dropped.
	OnLabels func(SampleLabelStats)
	// OnFailure and OnSuccess, if set, are called on the sender's goroutine
	// after each upload. status is the HTTP status, 0 without a response.
	// err's text has the user info and query of any URL redacted.
	OnFailure func(err error, status int)
	OnSuccess func()
}

// Sender uploads a Queue's jobs with pyroscope-go's remote uploader, one at
// a time, on its own goroutine.
type Sender struct {
	cfg       SenderConfig
	q         *Queue
	remote    *remote.Remote
	client    *attemptClient
	rlog      *remoteLog
	transport *http.Transport

	hard       context.Context // cancelled at the flush deadline
	hardCancel context.CancelFunc
	drain      chan struct{}
	done       chan struct{}
	start      sync.Once
	stop       sync.Once

	backoff    time.Duration // the current backoff; 0 while the server answers
	retryAfter time.Duration // the last failure's Retry-After

	sent, failed                 atomic.Uint64
	retries, rejected, exhausted atomic.Uint64
	stale                        atomic.Uint64
	labelsRenamed, labelsDropped atomic.Uint64
}

// DefaultMaxAttempts is SenderConfig.MaxAttempts' default.
const DefaultMaxAttempts = 4

// MaxRetryAfter bounds how long a server's Retry-After makes the sender wait.
const MaxRetryAfter = 5 * time.Minute

// NewSender prepares a sender for q. It starts nothing: call Start.
func NewSender(q *Queue, cfg SenderConfig) (*Sender, error) {
	transport := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
		MaxIdleConnsPerHost:   1,
		IdleConnTimeout:       90 * time.Second,
		ForceAttemptHTTP2:     true,
	}
	s := &Sender{
		cfg:       cfg,
		q:         q,
		rlog:      &remoteLog{},
		transport: transport,
		drain:     make(chan struct{}),
		done:      make(chan struct{}),
	}
	s.client = &attemptClient{client: &http.Client{
		Transport: transport,
		// As pyroscope-go: a redirect would drop the Authorization header.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
	if s.cfg.MaxAttempts <= 0 {
		s.cfg.MaxAttempts = DefaultMaxAttempts
	}
	s.hard, s.hardCancel = context.WithCancel(context.Background())
	rc := cfg.Remote
	rc.HTTPClient = s.client
	rc.Logger = s.rlog
	rc.Threads = 1 // one job at a time, driven by run
	rc.Timeout = cfg.Timeout
	r, err := remote.NewRemote(rc)
	if err != nil {
		s.hardCancel()
		return nil, err
	}
	s.remote = r
	return s, nil
}

// Start starts the uploader and the sender's goroutine.
func (s *Sender) Start() {
	s.start.Do(func() {
		s.remote.Start()
		go s.run()
	})
}

// Stop sends what is queued, without backoff, until the queue is empty or
// FlushTimeout has passed; then it abandons the upload in flight, drops
// what is left (counted by the queue) and returns. Call it after the
// producers stopped. It is safe to call more than once.
func (s *Sender) Stop() {
	s.stop.Do(func() {
		s.Start() // so that done is closed
		close(s.drain)
		deadline := time.AfterFunc(s.cfg.FlushTimeout, s.hardCancel)
		<-s.done
		deadline.Stop()
		s.hardCancel()
		s.q.Close()
		s.remote.Stop()
		s.transport.CloseIdleConnections()
	})
}

// Sent and Failed count uploads that got a 200, and attempts that did not.
func (s *Sender) Sent() uint64   { return s.sent.Load() }
func (s *Sender) Failed() uint64 { return s.failed.Load() }

// SenderStats are the sender's counters. Rejected, Exhausted and Stale
// profiles were dropped and are counted in the queue's Dropped as well.
type SenderStats struct {
	Sent      uint64 // profiles delivered
	Failed    uint64 // failed attempts
	Retries   uint64 // attempts that were retries
	Rejected  uint64 // profiles the server refused with a 4xx other than 408 and 429: not retried
	Exhausted uint64 // profiles dropped after MaxAttempts retryable failures
	Stale     uint64 // profiles dropped as older than MaxAge
	// LabelsRenamed and LabelsDropped count sample label keys rewritten or
	// dropped, once per profile they were in.
	LabelsRenamed, LabelsDropped uint64
}

// Stats returns the sender's counters.
func (s *Sender) Stats() SenderStats {
	return SenderStats{Sent: s.sent.Load(), Failed: s.failed.Load(), Retries: s.retries.Load(),
		Rejected: s.rejected.Load(), Exhausted: s.exhausted.Load(), Stale: s.stale.Load(),
		LabelsRenamed: s.labelsRenamed.Load(), LabelsDropped: s.labelsDropped.Load()}
}

func (s *Sender) run() {
	defer close(s.done)
	draining := false
	for {
		if s.hard.Err() != nil {
			return // Stop drops what is left
		}
		job := s.q.Pop()
		if job == nil {
			if draining {
				return
			}
			select {
			case <-s.q.Ready():
			case <-s.drain:
				draining = true
			}
			continue
		}
		s.deliver(job, &draining)
	}
}

// deliver uploads one profile: up to MaxAttempts times while the failures
// are retryable, waiting a jittered backoff before each attempt while the
// server does not answer (not while draining: the flush deadline bounds
// that). It drops the profile when it is rejected, when the attempts are
// exhausted, or when it became older than MaxAge.
func (s *Sender) deliver(job *upstream.UploadJob, draining *bool) {
	s.prepare(job)
	for attempt := 1; ; attempt++ {
		var wait time.Duration
		if s.backoff > 0 && !*draining {
			wait = s.jittered(s.retryAfter)
		}
		// Before waiting: a profile that would be stale by the end of the
		// wait is dropped at once, so a backlog of them goes without delay.
		if s.dropStale(job, wait) {
			return
		}
		if wait > 0 {
			t := time.NewTimer(wait)
			select {
			case <-t.C:
			case <-s.drain:
				t.Stop()
				*draining = true
			}
		}
		if s.hard.Err() != nil {
			s.q.noteDropped(1)
			return
		}
		if s.dropStale(job, 0) {
			return
		}
		if attempt > 1 {
			s.retries.Add(1)
		}
		res := s.send(job)
		switch {
		case res.ok:
			s.backoff, s.retryAfter = 0, 0
			return
		case res.abandoned:
			return // counted as dropped by send
		case !Retryable(res.status):
			s.backoff, s.retryAfter = 0, 0 // the server answered: the next profile goes at once
			s.rejected.Add(1)
			s.q.noteDropped(1)
			return
		}
		s.backoff = min(max(2*s.backoff, s.cfg.MinBackoff), s.cfg.MaxBackoff)
		s.retryAfter = res.retryAfter // also for the next profile, if this one runs out of attempts
		if attempt >= s.cfg.MaxAttempts {
			s.exhausted.Add(1)
			s.q.noteDropped(1)
			return
		}
	}
}

// dropStale drops job, counted, when it started longer than MaxAge ago, or
// will have after wait.
func (s *Sender) dropStale(job *upstream.UploadJob, wait time.Duration) bool {
	if s.cfg.MaxAge <= 0 || job.StartTime.IsZero() || time.Since(job.StartTime)+wait <= s.cfg.MaxAge {
		return false
	}
	s.stale.Add(1)
	s.q.noteDropped(1)
	return true
}

// Retryable reports whether an upload that failed with status (0: no
// answer) may succeed when retried: no answer, 408, 429 and 5xx.
func Retryable(status int) bool {
	return status == 0 || status == http.StatusRequestTimeout || status == http.StatusTooManyRequests || status >= 500
}

// jittered is the wait before the next attempt: uniformly random between
// half the current backoff and the backoff, or the server's Retry-After
// when that is longer (at most MaxRetryAfter).
func (s *Sender) jittered(retryAfter time.Duration) time.Duration {
	return Jitter(s.backoff, retryAfter, rand.Int64N)
}

// Jitter is jittered's arithmetic; randN returns a number in [0, n).
func Jitter(backoff, retryAfter time.Duration, randN func(n int64) int64) time.Duration {
	d := backoff
	if half := int64(backoff / 2); half > 0 {
		d = time.Duration(half + randN(half+1))
	}
	return max(d, min(retryAfter, MaxRetryAfter))
}

// prepare sanitizes the job's sample labels once, before its first attempt.
func (s *Sender) prepare(job *upstream.UploadJob) {
	if !s.cfg.SanitizeSampleLabels || job.Format != upstream.FormatPprof {
		return
	}
	series := map[string]bool{}
	for _, n := range ServerLabels {
		series[n] = true
	}
	if ls, err := labelset.Parse(job.Name); err == nil {
		for k := range ls.Labels() {
			series[ServerLabelName(k)] = true
		}
	}
	budget := ServerMaxLabels - len(series)
	var st SampleLabelStats
	job.Profile, st = SanitizeSampleLabels(job.Profile, series, budget)
	if job.PrevProfile != nil {
		var st2 SampleLabelStats
		job.PrevProfile, st2 = SanitizeSampleLabels(job.PrevProfile, series, budget)
		st.Renamed, st.Dropped = max(st.Renamed, st2.Renamed), max(st.Dropped, st2.Dropped)
	}
	if st.Renamed+st.Dropped == 0 {
		return
	}
	s.labelsRenamed.Add(uint64(st.Renamed))
	s.labelsDropped.Add(uint64(st.Dropped))
	if s.cfg.OnLabels != nil {
		s.cfg.OnLabels(st)
	}
}

type sendResult struct {
	ok, abandoned bool
	status        int
	retryAfter    time.Duration
}

// send uploads one job through pyroscope-go's uploader and waits for it:
// Upload queues it for the uploader's single thread, Flush returns once it
// was handled. The outcome comes from the uploader's error log line, and
// the status from the HTTP client it called.
func (s *Sender) send(job *upstream.UploadJob) sendResult {
	ctx, cancel := context.WithTimeout(s.hard, s.cfg.Timeout)
	defer cancel()
	s.client.begin(ctx)
	s.rlog.reset()
	s.remote.Upload(job)
	s.remote.Flush()
	status, retryAfter := s.client.end()
	msg := s.rlog.take()
	if msg == "" {
		s.sent.Add(1)
		if s.cfg.OnSuccess != nil {
			s.cfg.OnSuccess()
		}
		return sendResult{ok: true, status: status}
	}
	if s.hard.Err() != nil {
		s.q.noteDropped(1) // abandoned at the flush deadline: dropped, not failed
		return sendResult{abandoned: true}
	}
	s.failed.Add(1)
	if s.cfg.OnFailure != nil {
		s.cfg.OnFailure(errors.New(RedactURLs(msg)), status) // the URL's user name, at least, is in it
	}
	return sendResult{status: status, retryAfter: retryAfter}
}

// parseRetryAfter reads a Retry-After header: seconds or an HTTP date.
func parseRetryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	if n, err := strconv.Atoi(v); err == nil && n >= 0 {
		return time.Duration(n) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

// attemptClient is the uploader's HTTP client: it gives each request the
// sender's context (timeout, flush deadline), remembers the status, and
// bounds how much of the response body the uploader reads.
type attemptClient struct {
	client     *http.Client
	mu         sync.Mutex
	ctx        context.Context
	status     int
	retryAfter time.Duration
}

func (c *attemptClient) begin(ctx context.Context) {
	c.mu.Lock()
	c.ctx, c.status, c.retryAfter = ctx, 0, 0
	c.mu.Unlock()
}

func (c *attemptClient) end() (int, time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.ctx = nil
	return c.status, c.retryAfter
}

func (c *attemptClient) Do(req *http.Request) (*http.Response, error) {
	c.mu.Lock()
	ctx := c.ctx
	c.mu.Unlock()
	if ctx == nil {
		return nil, errors.New("pyropush: request outside a send")
	}
	resp, err := c.client.Do(req.WithContext(ctx))
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	c.status = resp.StatusCode
	c.retryAfter = parseRetryAfter(resp.Header.Get("Retry-After"), time.Now())
	c.mu.Unlock()
	resp.Body = limitedBody{io.LimitReader(resp.Body, maxResponseBody), resp.Body}
	return resp, nil
}

type limitedBody struct {
	io.Reader
	io.Closer
}

// remoteLog is the uploader's logger. The uploader logs a failed upload as
// an error and returns nothing, so the sender takes the outcome from here.
// Its debug lines (which include the request URL) and info lines are
// dropped: the sender reports, rate-limited, through its callbacks.
type remoteLog struct {
	mu  sync.Mutex
	msg string
}

func (l *remoteLog) Errorf(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.msg == "" {
		l.msg = fmt.Sprintf(format, args...)
	}
}
func (l *remoteLog) Infof(string, ...any)  {}
func (l *remoteLog) Debugf(string, ...any) {}

func (l *remoteLog) reset() {
	l.mu.Lock()
	l.msg = ""
	l.mu.Unlock()
}

func (l *remoteLog) take() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	m := l.msg
	l.msg = ""
	return m
}
