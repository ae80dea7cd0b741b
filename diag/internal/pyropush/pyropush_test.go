package pyropush

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/grafana/pyroscope-go/upstream"
	"github.com/grafana/pyroscope-go/upstream/remote"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func job(i int) *upstream.UploadJob {
	return &upstream.UploadJob{Name: fmt.Sprintf("app{n=%d}", i), SpyName: "gospy", Format: upstream.FormatPprof,
		StartTime: time.Unix(int64(i), 0), EndTime: time.Unix(int64(i+1), 0), Profile: []byte{byte(i)}}
}

func TestQueueDropsTheOldest(t *testing.T) {
	var drops []uint64
	q := NewQueue(3, func(total uint64) { drops = append(drops, total) })
	for i := range 5 {
		q.Upload(job(i))
	}
	for want := 2; want < 5; want++ {
		if j := q.Pop(); j == nil || j.Profile[0] != byte(want) {
			t.Fatalf("pop: %v, want job %d", j, want)
		}
	}
	if j := q.Pop(); j != nil {
		t.Fatalf("pop from empty: %v", j)
	}
	if st := q.Stats(); st.Dropped != 2 || st.High != 3 || st.Enqueued != 5 || st.Len != 0 || fmt.Sprint(drops) != "[1 2]" {
		t.Errorf("stats %+v drops %v", st, drops)
	}
	q.Upload(job(5))
	if n := q.Close(); n != 1 {
		t.Errorf("Close dropped %d, want 1", n)
	}
	q.Upload(job(6))
	if st := q.Stats(); st.Dropped != 4 || st.Len != 0 {
		t.Errorf("after Close: %+v", st)
	}
}

// The sender drives pyroscope-go's uploader: the request is pyroscope-go's
// (POST /ingest, name, from, until in nanoseconds, multipart "profile"
// part); a non-200 is a failure with its status; Stop with a server that
// never answers returns at the flush deadline and counts what it dropped.
func TestSenderOutcomesAndFlushDeadline(t *testing.T) {
	var statuses = []int{200, 500, 422, 200}
	var n atomic.Int32
	hang := make(chan struct{})
	var mu sync.Mutex
	var seen []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		i := int(n.Add(1)) - 1
		if err := r.ParseMultipartForm(1 << 20); err != nil || r.MultipartForm.File["profile"] == nil {
			t.Errorf("request %d: multipart form %v", i, err)
		}
		mu.Lock()
		seen = append(seen, r.Method+" "+r.URL.Path+" "+r.URL.Query().Get("name")+" "+r.URL.Query().Get("from"))
		mu.Unlock()
		if i >= len(statuses) {
			select {
			case <-hang:
			case <-r.Context().Done():
			}
			return
		}
		w.WriteHeader(statuses[i])
	}))
	defer srv.Close()
	defer close(hang)

	q := NewQueue(10, nil)
	var failures []int
	s, err := NewSender(q, SenderConfig{
		Remote:       remoteConfig(srv.URL),
		Timeout:      5 * time.Second,
		FlushTimeout: 300 * time.Millisecond,
		MinBackoff:   time.Millisecond,
		MaxBackoff:   time.Millisecond,
		OnFailure:    func(err error, status int) { failures = append(failures, status) },
	})
	if err != nil {
		t.Fatal(err)
	}
	s.Start()
	for i := range 6 { // 4 answered, the 5th hangs, the 6th waits
		q.Upload(job(i))
	}
	deadline := time.Now().Add(5 * time.Second)
	for n.Load() < 5 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	start := time.Now()
	s.Stop()
	if took := time.Since(start); took > time.Second {
		t.Errorf("Stop took %v with FlushTimeout 300ms", took)
	}
	// job 1: 500 is retried, then 422 rejects it (dropped, not retried);
	// job 3 is abandoned at the flush deadline, jobs 4 and 5 dropped.
	if st := s.Stats(); s.Sent() != 2 || s.Failed() != 2 || fmt.Sprint(failures) != "[500 422]" || q.Stats().Dropped != 4 ||
		st.Retries != 1 || st.Rejected != 1 {
		t.Errorf("sent %d failed %d (statuses %v) dropped %d, %+v", s.Sent(), s.Failed(), failures, q.Stats().Dropped, st)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(seen) == 0 || seen[0] != "POST /ingest app{n=0} "+strconv.FormatInt(time.Unix(0, 0).UnixNano(), 10) {
		t.Errorf("requests %q", seen)
	}
}

func TestSenderConnectionRefused(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	addr := srv.URL
	srv.Close()
	q := NewQueue(2, nil)
	var statuses []int
	s, err := NewSender(q, SenderConfig{Remote: remoteConfig(addr), Timeout: time.Second, FlushTimeout: time.Second,
		MinBackoff: time.Millisecond, MaxBackoff: time.Millisecond,
		OnFailure: func(err error, status int) { statuses = append(statuses, status) }})
	if err != nil {
		t.Fatal(err)
	}
	s.Start()
	q.Upload(job(1))
	s.Stop()
	// No answer is retryable: DefaultMaxAttempts attempts, then dropped.
	if st := s.Stats(); s.Failed() != DefaultMaxAttempts || fmt.Sprint(statuses) != "[0 0 0 0]" || st.Exhausted != 1 ||
		q.Stats().Dropped != 1 {
		t.Errorf("failed %d statuses %v %+v", s.Failed(), statuses, st)
	}
}

func TestLabels(t *testing.T) {
	if got := FormatName("app", map[string]string{"b": "2", "a": "1"}); got != "app{a=1,b=2}" {
		t.Errorf("FormatName: %s", got)
	}
	if got := SanitizeValue("my host\x00,name"); got != "my_host__name" {
		t.Errorf("SanitizeValue: %q", got)
	}
	if got := SanitizeAppName("my app.test"); got != "my_app.test" {
		t.Errorf("SanitizeAppName: %q", got)
	}
	if SanitizeAppName("   ") != "" || SanitizeValue("") != "" {
		t.Error("nothing usable should give empty")
	}
	if id := NewSessionID(); len(id) != 16 {
		t.Errorf("session ID %q", id)
	}
}

func remoteConfig(addr string) remote.Config { return remote.Config{Address: addr} }
