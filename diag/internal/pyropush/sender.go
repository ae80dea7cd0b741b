package pyropush

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/grafana/pyroscope-go/upstream"
	"github.com/grafana/pyroscope-go/upstream/remote"
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
	// MinBackoff and MaxBackoff bound the wait after a failed upload, which
	// doubles with each failure in a row and resets on success.
	MinBackoff, MaxBackoff time.Duration
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

	sent, failed atomic.Uint64
}

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

// Sent and Failed count uploads that got a 200, and those that did not.
func (s *Sender) Sent() uint64   { return s.sent.Load() }
func (s *Sender) Failed() uint64 { return s.failed.Load() }

func (s *Sender) run() {
	defer close(s.done)
	draining := false
	var backoff time.Duration
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
		if s.send(job) {
			backoff = 0
			continue
		}
		if draining {
			continue // the flush deadline bounds the retries
		}
		backoff = min(max(2*backoff, s.cfg.MinBackoff), s.cfg.MaxBackoff)
		t := time.NewTimer(backoff)
		select {
		case <-t.C:
		case <-s.drain:
			t.Stop()
			draining = true
		}
	}
}

// send uploads one job through pyroscope-go's uploader and waits for it:
// Upload queues it for the uploader's single thread, Flush returns once it
// was handled. The outcome comes from the uploader's error log line, and
// the status from the HTTP client it called.
func (s *Sender) send(job *upstream.UploadJob) (ok bool) {
	ctx, cancel := context.WithTimeout(s.hard, s.cfg.Timeout)
	defer cancel()
	s.client.begin(ctx)
	s.rlog.reset()
	s.remote.Upload(job)
	s.remote.Flush()
	status := s.client.end()
	msg := s.rlog.take()
	if msg == "" {
		s.sent.Add(1)
		if s.cfg.OnSuccess != nil {
			s.cfg.OnSuccess()
		}
		return true
	}
	if s.hard.Err() != nil {
		s.q.noteDropped(1) // abandoned at the flush deadline: dropped, not failed
		return false
	}
	s.failed.Add(1)
	if s.cfg.OnFailure != nil {
		s.cfg.OnFailure(errors.New(RedactURLs(msg)), status) // the URL's user name, at least, is in it
	}
	return false
}

// attemptClient is the uploader's HTTP client: it gives each request the
// sender's context (timeout, flush deadline), remembers the status, and
// bounds how much of the response body the uploader reads.
type attemptClient struct {
	client *http.Client
	mu     sync.Mutex
	ctx    context.Context
	status int
}

func (c *attemptClient) begin(ctx context.Context) {
	c.mu.Lock()
	c.ctx, c.status = ctx, 0
	c.mu.Unlock()
}

func (c *attemptClient) end() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.ctx = nil
	return c.status
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
