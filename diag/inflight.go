package diag

import (
	"net/http"
	"sync"
	"time"
)

// inflight counts the requests the agent's own server is handling, so that
// Stop can wait for the last of them: http.Server.Close closes connections
// but does not wait for their handlers.
type inflight struct {
	mu   sync.Mutex
	n    int
	idle chan struct{} // closed when n drops to 0, while someone waits
}

// wrap counts h's requests.
func (f *inflight) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		f.n++
		f.mu.Unlock()
		defer f.leave()
		h.ServeHTTP(w, r)
	})
}

func (f *inflight) leave() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.n--
	if f.n == 0 && f.idle != nil {
		close(f.idle)
		f.idle = nil
	}
}

// wait returns true once no request is in flight, or false with the number
// still running after timeout.
func (f *inflight) wait(timeout time.Duration) (ok bool, running int) {
	f.mu.Lock()
	if f.n == 0 {
		f.mu.Unlock()
		return true, 0
	}
	if f.idle == nil {
		f.idle = make(chan struct{})
	}
	idle := f.idle
	f.mu.Unlock()
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case <-idle:
		return true, 0
	case <-t.C:
		f.mu.Lock()
		defer f.mu.Unlock()
		return false, f.n
	}
}
