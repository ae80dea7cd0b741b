package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/diagkit/diagkit/diag/analysis"
	"github.com/diagkit/diagkit/internal/tracesum"
)

// The fuzz targets here cover every decoder diagctl feeds with bytes from the
// network: an agent's window report, history and doctor report, a CPU
// profile with however many gzip layers, an execution trace, an error page.
// Each renders what it accepts, and checks that the text output is safe for
// a terminal. Their seeds are in testdata/fuzz/<target>.

// checkTermSafe fails when out holds a character a terminal could act on:
// anything termSafe escapes, but for newlines.
func checkTermSafe(t testing.TB, what, out string) {
	t.Helper()
	for i := 0; i < len(out); {
		r, size := utf8.DecodeRuneInString(out[i:])
		if r != '\n' && unsafeRune(r, size) {
			t.Fatalf("%s writes %q to the terminal at byte %d:\n%q", what, out[i:i+size], i, out)
		}
		i += size
	}
}

// FuzzDecodeWindow feeds arbitrary bytes to diagctl's reading of an agent's
// JSON window report, and renders what it accepts: never a panic, nothing
// accepted that lacks the two schema markers or has a share out of [0, 1],
// and nothing rendered that drives the terminal.
func FuzzDecodeWindow(f *testing.F) {
	f.Add(agentWindow(f))
	f.Fuzz(func(t *testing.T, body []byte) {
		resp := &http.Response{Header: http.Header{"Content-Type": {"application/json"}}}
		wr, ok, err := decodeWindow(resp, body)
		if err != nil {
			if ok || wr != nil {
				t.Fatalf("a window and an error: %v", err)
			}
			checkTermSafe(t, "the error", errorText(err))
			return
		}
		if !ok {
			return
		}
		if wr.WindowSchema == "" || wr.Schema == "" {
			t.Fatalf("accepted a document without schemas: %q", body)
		}
		s := wr.Shares
		for _, v := range []float64{s.Go, s.AsyncPreempt, s.PreemptSched, s.Cgo, s.External, s.RuntimeNoStack} {
			if !(v >= 0 && v <= 1) {
				t.Fatalf("accepted a share of %v: %q", v, body)
			}
		}
		var out bytes.Buffer
		if err := renderWindow(&out, "target", wr, true); err != nil {
			t.Fatalf("render: %v", err)
		}
		checkTermSafe(t, "renderWindow", out.String())
		if strings.Contains(out.String(), "Inf%") || strings.Contains(out.String(), "NaN%") {
			t.Fatalf("rendered a share that is not a number:\n%s", out.String())
		}
		st := &watchState{target: "target"}
		st.apply(&liveResult{source: "agent", report: &wr.Report, window: wr}, nil, wr.End)
		out.Reset()
		if err := (&plainView{w: &out}).render(st, watchNew, wr.End); err != nil {
			t.Fatal(err)
		}
		checkTermSafe(t, "the watch line", out.String())
		checkTermSafe(t, "the watch screen", strings.Join(watchScreen(st, 100, 40, wr.End), "\n"))
		out.Reset()
		if err := writeJSON(&out, wr); err != nil {
			t.Fatalf("json: %v", err)
		}
	})
}

// FuzzAnalyzeProfile feeds arbitrary bytes to the analysis of a CPU profile,
// as preempt-share and doctor read one from a file or a target: through any
// number of gzip layers, one budget bounds what they decompress to. Never a
// panic, a report or an error, and neither drives the terminal.
func FuzzAnalyzeProfile(f *testing.F) {
	var buf bytes.Buffer
	if err := testProfile().WriteUncompressed(&buf); err != nil {
		f.Fatal(err)
	}
	plain := buf.Bytes()
	f.Add(plain)
	f.Add(gzipData(f, plain))
	f.Add(gzipData(f, gzipData(f, plain)))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := analysis.AnalyzeBytes(data, analysis.Options{Top: 3})
		if err != nil {
			if r != nil {
				t.Fatalf("a report and an error: %v", err)
			}
			checkTermSafe(t, "the error", errorText(errors.New(describeAnalysisError(err))))
			return
		}
		var out bytes.Buffer
		if err := renderTable(&out, "profile", r, true); err != nil {
			t.Fatalf("render: %v", err)
		}
		checkTermSafe(t, "renderTable", out.String())
		if err := writeJSON(&out, r); err != nil {
			t.Fatalf("json: %v", err)
		}
	})
}

// FuzzDecodeAgentDoctor feeds arbitrary bytes to diagctl's reading of an
// agent's doctor report, and renders what it accepts.
func FuzzDecodeAgentDoctor(f *testing.F) {
	f.Fuzz(func(t *testing.T, body []byte) {
		resp := &http.Response{Header: http.Header{"Content-Type": {"application/json"}}}
		rep, ok := decodeAgentDoctor(resp, body)
		if !ok {
			return
		}
		var out bytes.Buffer
		if err := renderDoctor(&out, rep); err != nil {
			t.Fatalf("render: %v", err)
		}
		checkTermSafe(t, "renderDoctor", out.String())
		if _, err := json.Marshal(rep); err != nil {
			t.Fatalf("json: %v", err)
		}
	})
}

// FuzzDecodeHistory feeds arbitrary bytes to diagctl's reading of an agent's
// window history (for dashboard): every window it accepts is range-checked
// as a window report is.
func FuzzDecodeHistory(f *testing.F) {
	f.Fuzz(func(t *testing.T, body []byte) {
		resp := &http.Response{Header: http.Header{"Content-Type": {"application/json"}}}
		hist, err := decodeHistory(resp, body)
		if err != nil {
			checkTermSafe(t, "the error", errorText(err))
			return
		}
		for _, w := range hist.Windows {
			if s := w.Shares.AsyncPreempt; !(s >= 0 && s <= 1) {
				t.Fatalf("accepted a window with a share of %v", s)
			}
		}
		if _, err := json.Marshal(hist); err != nil {
			t.Fatalf("json: %v", err)
		}
	})
}

// FuzzSummarizeTrace feeds arbitrary bytes to diagctl's reading of an
// execution trace a target answered with, gzipped or not, and renders what
// it accepts.
func FuzzSummarizeTrace(f *testing.F) {
	raw := rawTrace(f)
	f.Add(raw[:min(len(raw), 4096)])
	f.Fuzz(func(t *testing.T, body []byte) {
		resp := &http.Response{Header: http.Header{"Content-Type": {"application/octet-stream"}}}
		s, err := summarizeFetched("http://target/debug/pprof/trace", resp, body, tracesum.Options{Top: 3})
		if err != nil {
			checkTermSafe(t, "the error", errorText(err))
			return
		}
		var out bytes.Buffer
		if err := renderTrace(&out, "trace", s, true); err != nil {
			t.Fatalf("render: %v", err)
		}
		checkTermSafe(t, "renderTrace", out.String())
	})
}

// FuzzStatusError feeds a target's failed answer, status, content type and
// body, to the error diagctl makes of it: one safe line, whatever the body.
func FuzzStatusError(f *testing.F) {
	f.Add(500, "text/plain", []byte("Could not enable CPU profiling: cpu profiling already in use\n"))
	f.Fuzz(func(t *testing.T, status int, contentType string, body []byte) {
		resp := &http.Response{StatusCode: status, Status: http.StatusText(status), Header: http.Header{"Content-Type": {contentType}}}
		err := statusError("https://x:xxxxx@target/debug/pprof/profile", resp, body, "pprof endpoint")
		msg := errorText(err)
		checkTermSafe(t, "the error", msg)
		if strings.Contains(msg, "\n") {
			t.Fatalf("error of more than one line: %q", msg)
		}
		switch code := exitCodeOf(err); code {
		case exitError, exitAuth, exitBusy, exitUnreachable:
		default:
			t.Fatalf("exit code %d", code)
		}
	})
}
