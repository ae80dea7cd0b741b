package diag

import (
	"bufio"
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/diagkit/diagkit/diag/api"
)

// reportRing holds the last max window reports, oldest first. A push when
// full overwrites the oldest in place: keeping History reports costs no
// copy of the history per window.
type reportRing struct {
	buf   []api.WindowReport
	start int // index of the oldest in buf
	max   int
}

func (r *reportRing) len() int { return len(r.buf) }

// at returns the i-th oldest report, 0 <= i < len().
func (r *reportRing) at(i int) *api.WindowReport { return &r.buf[(r.start+i)%len(r.buf)] }

func (r *reportRing) push(w api.WindowReport) {
	if len(r.buf) < r.max {
		r.buf = append(r.buf, w)
		return
	}
	r.buf[r.start] = w
	r.start = (r.start + 1) % len(r.buf)
}

// latest returns a copy of the newest report, or nil.
func (r *reportRing) latest() *api.WindowReport {
	if len(r.buf) == 0 {
		return nil
	}
	w := *r.at(len(r.buf) - 1)
	return &w
}

// last returns copies of the n newest reports (all for n <= 0), oldest
// first.
func (r *reportRing) last(n int) []api.WindowReport {
	k := len(r.buf)
	if n > 0 && n < k {
		k = n
	}
	if k == 0 {
		return nil
	}
	out := make([]api.WindowReport, k)
	for i := range out {
		out[i] = *r.at(len(r.buf) - k + i)
	}
	return out
}

// historyChunk is how many reports serveHistory copies and encodes at a
// time: what one history response holds in memory, whatever the History
// and however slowly its client reads.
const historyChunk = 16

// serveHistory serves recent window reports, oldest first; ?n= limits how
// many. Mounted at PathHistory.
//
// The response is streamed: the reports are copied from the history a
// chunk at a time, under the lock, encoded and written, so that a response
// costs historyChunk reports and a write buffer, not the whole history
// (with History 100,000 that is tens of megabytes, once per client that
// asks and reads slowly). It covers the windows recorded when the request
// came; a client that reads slower than windows are recorded misses those
// that leave the history before their turn.
func (a *Agent) serveHistory(w http.ResponseWriter, r *http.Request) {
	if !allowGet(w, r) {
		return
	}
	n, err := parseHistoryN(r.URL.Query().Get("n"))
	if err != nil {
		serveError(w, http.StatusBadRequest, err.Error())
		return
	}
	next := a.historyFrom(n)
	first, err := next()
	if err != nil { // nothing written yet: the status can say so
		serveError(w, http.StatusInternalServerError, "encoding the history: "+err.Error())
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodHead {
		return
	}
	bw := bufio.NewWriterSize(w, 32<<10)
	bw.WriteString("{\n  \"window_schema\": " + strconv.Quote(api.WindowSchema) + ",\n  \"windows\": [")
	chunk, sep := first, "\n"
	for len(chunk) > 0 {
		for _, b := range chunk {
			bw.WriteString(sep)
			bw.WriteString("    ")
			if _, err := bw.Write(b); err != nil {
				return // the client went away
			}
			sep = ",\n"
		}
		if chunk, err = next(); err != nil {
			// Too late for a status: cut the connection, so the client
			// sees a truncated response, not a short history.
			panic(http.ErrAbortHandler)
		}
	}
	if sep != "\n" {
		bw.WriteString("\n  ")
	}
	bw.WriteString("]\n}\n")
	_ = bw.Flush()
}

// historyFrom returns an iterator over the n latest reports (all for
// n <= 0) as of now, each encoded as it is nested in api.History (indented
// by four spaces, without its final newline), historyChunk at a time; an
// empty chunk ends it. Windows that left the history meanwhile are skipped.
func (a *Agent) historyFrom(n int) func() ([][]byte, error) {
	a.mu.Lock()
	count := a.history.len()
	if n > 0 && n < count {
		count = n
	}
	var from, to uint64 // seqs, to inclusive; from > to: none
	from = 1
	if count > 0 {
		to = a.history.at(a.history.len() - 1).Seq
		from = to - uint64(count) + 1
	}
	a.mu.Unlock()

	reports := make([]api.WindowReport, 0, historyChunk)
	var out [][]byte
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("    ", "  ")
	return func() ([][]byte, error) {
		reports = reports[:0]
		a.mu.Lock()
		if h := a.history.len(); h > 0 && from <= to {
			oldest := a.history.at(0).Seq // seqs are consecutive in the ring
			from = max(from, oldest)
			for i := int(from - oldest); i < h && len(reports) < historyChunk && from <= to; i++ {
				reports = append(reports, *a.history.at(i))
				from++
			}
		}
		a.mu.Unlock()
		buf.Reset()
		out = out[:0]
		ends := make([]int, 0, len(reports))
		for i := range reports {
			if err := enc.Encode(&reports[i]); err != nil {
				return nil, err
			}
			buf.Truncate(buf.Len() - 1) // Encode's newline
			ends = append(ends, buf.Len())
		}
		start := 0
		for _, end := range ends {
			out = append(out, buf.Bytes()[start:end])
			start = end
		}
		clear(reports) // drop the references until the next chunk
		return out, nil
	}
}
