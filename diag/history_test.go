//go:build unix

package diag

import (
	"bytes"
	"encoding/json"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/diagkit/diagkit/diag/api"
)

// realWindow starts an agent whose first window (taken at once, with some
// CPU burnt) is the only periodic one for a day, and returns it with that
// window: a report of realistic size to fill the history with.
func realWindow(t *testing.T, history int) (*Agent, api.WindowReport) {
	t.Helper()
	a, _ := startAgent(t, Config{Window: time.Second, Interval: MaxInterval, History: history})
	stop := make(chan struct{})
	go burn(stop)
	defer close(stop)
	deadline := time.Now().Add(30 * time.Second)
	for a.Latest() == nil {
		if time.Now().After(deadline) {
			t.Fatal("no window after 30 s")
		}
		time.Sleep(20 * time.Millisecond)
	}
	return a, *a.Latest()
}

// fillHistory records n copies of w, as if n windows had completed.
func fillHistory(a *Agent, w api.WindowReport, n int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for range n {
		a.seq++
		w.Seq = a.seq
		a.history.push(w)
	}
}

// blockedHistoryWriters counts the history handlers blocked writing to
// their client.
func blockedHistoryWriters() int {
	buf := make([]byte, 16<<20)
	buf = buf[:runtime.Stack(buf, true)]
	n := 0
	for g := range bytes.SplitSeq(buf, []byte("\n\n")) {
		if bytes.Contains(g, []byte("diag.(*Agent).serveHistory")) && bytes.Contains(g, []byte("waitWrite")) {
			n++
		}
	}
	return n
}

// Clients that ask for a large history and never read cost the host a few
// reports each, not the whole history encoded: the response is streamed.
// (With History 100,000 and 40 such clients, the host went from 37 MB to
// 1.86 GB in 4 s before.)
func TestHistorySlowClientsCostLittleMemory(t *testing.T) {
	const (
		history = 10_000
		clients = 4
	)
	a, w := realWindow(t, history)
	fillHistory(a, w, history)
	one, err := json.Marshal(w)
	if err != nil {
		t.Fatal(err)
	}

	before := liveHeapBytes()
	for range clients {
		stuckClient(t, a.Addr(), PathHistory)
	}
	// Encoding 10,000 reports under the race detector on a busy machine
	// can take a minute before the socket buffers fill.
	deadline := time.Now().Add(3 * time.Minute)
	for blockedHistoryWriters() < clients {
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d history handlers blocked on their client after 3 min", blockedHistoryWriters(), clients)
		}
		time.Sleep(50 * time.Millisecond)
	}
	after := liveHeapBytes()
	perClient := (int64(after) - int64(before)) / clients
	t.Logf("history of %d windows (%d B of JSON each): heap %d KiB before, %d KiB with %d stuck clients: %d KiB a client",
		history, len(one), before>>10, after>>10, clients, perClient>>10)
	// A response holds historyChunk reports, its encoding and a 32 KiB
	// write buffer; the whole history would be history*len(one) bytes.
	if limit := int64(1 << 20); perClient > limit {
		t.Errorf("each stuck history client holds %d KiB, want under %d KiB (the whole history is %d KiB of JSON)",
			perClient>>10, limit>>10, int64(history*len(one))>>10)
	}
}

// The streamed history is what encoding api.History at once gave: the same
// indented JSON (an empty history is an empty array), with ?n= honoured.
func TestHistoryStreamMatchesEncoding(t *testing.T) {
	a, w := realWindow(t, 100)
	check := func(n string, want []api.WindowReport) {
		t.Helper()
		status, body := get(t, "http://"+a.Addr()+PathHistory+n)
		if want == nil {
			want = []api.WindowReport{}
		}
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		enc.SetIndent("", "  ")
		if err := enc.Encode(api.History{WindowSchema: api.WindowSchema, Windows: want}); err != nil {
			t.Fatal(err)
		}
		if status != 200 || !bytes.Equal(body, buf.Bytes()) {
			t.Errorf("history%s: %d, %d bytes, want %d bytes as encoded at once:\n%.400s", n, status, len(body), buf.Len(), body)
		}
	}
	fillHistory(a, w, 150) // more than the history keeps, over several chunks
	check("", a.History(0))
	check("?n=5", a.History(5))
	check("?n=17", a.History(17))
	if got := len(a.History(0)); got != 100 {
		t.Errorf("history holds %d windows, want 100", got)
	}

	a.Stop() // one agent at a time
	b, _ := startAgent(t, Config{Window: time.Minute})
	status, body := get(t, "http://"+b.Addr()+PathHistory)
	if status != 200 || !strings.Contains(string(body), `"windows": []`) {
		t.Errorf("empty history: %d %s", status, body)
	}
	var h api.History
	if err := json.Unmarshal(body, &h); err != nil || h.Windows == nil || len(h.Windows) != 0 {
		t.Errorf("empty history: %+v %v", h, err)
	}
}
