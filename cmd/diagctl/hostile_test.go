package main

// Regression tests for what a hostile file, target or agent can do to
// diagctl: a layered gzip bomb, a redirect that takes the token elsewhere,
// credentials in a target URL, terminal escape sequences, shares out of
// range.

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/diagkit/diagkit/diag/analysis"
	"github.com/diagkit/diagkit/diag/api"
	"github.com/diagkit/diagkit/internal/tracesum"
)

func gzipData(t testing.TB, data []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := zw.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// gzipBomb is zeros bytes of zeros in layers of gzip, built in memory
// without ever holding the zeros: the innermost layer is one gzip member of
// 8 MiB of zeros repeated (concatenated members decompress to the
// concatenation), each layer around it gzips the one inside.
func gzipBomb(t testing.TB, zeros int64, layers int) []byte {
	t.Helper()
	const chunk = 8 << 20
	data := bytes.Repeat(gzipData(t, make([]byte, chunk)), int(zeros/chunk))
	for i := 1; i < layers; i++ {
		data = gzipData(t, data)
	}
	return data
}

// TestLayeredGzipBombIsRefused: a profile in two layers of gzip that
// inflates to 1 GiB (bomb2.gz, 21 KB, made with gzip -1 | gzip -9, inflated
// to 2 GiB) made every command that reads a profile decompress all of it:
// 45 s and 4.6 GB of memory, and then "bufio.Scanner: token too long". One
// budget of 256 MiB bounds what all the layers decompress to, from a file,
// through doctor, and from a target with --fresh. Not parallel, so that the
// memory allocated meanwhile is its own.
func TestLayeredGzipBombIsRefused(t *testing.T) {
	bomb := gzipBomb(t, 1<<30, 2)
	if len(bomb) > 64<<10 {
		t.Fatalf("the bomb is %d bytes", len(bomb))
	}
	file := writeFile(t, "bomb2.gz", bomb)
	srv := fakeTarget(respond(http.StatusNotFound, "text/plain", []byte("404 page not found")),
		respond(http.StatusOK, "application/octet-stream", bomb))
	defer srv.Close()
	addr := strings.TrimPrefix(srv.URL, "http://")

	for _, args := range [][]string{
		{"preempt-share", file},
		{"doctor", file},
		{"preempt-share", "--fresh", "--seconds", "1", addr},
	} {
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		start := time.Now()
		r := runDiagctl(t, nil, args...)
		took := time.Since(start)
		runtime.ReadMemStats(&after)
		allocated := after.TotalAlloc - before.TotalAlloc
		t.Logf("%v: exit %d in %v, %d MiB allocated: %s", args, r.code, took.Round(time.Millisecond), allocated>>20, strings.TrimSpace(r.stderr))
		if r.code != exitError || !strings.Contains(r.stderr, "profile too large: it decompresses to more than 256 MiB") {
			t.Errorf("%v: exit %d, stderr %q; want 1 and the 256 MiB bound", args, r.code, r.stderr)
		}
		// 256 MiB decompressed at most, held in chunks until the budget
		// ran out: not the 1 GiB of the bomb.
		if allocated > 400<<20 {
			t.Errorf("%v: %d MiB allocated: the bomb was decompressed past the bound", args, allocated>>20)
		}
	}
}

// TestLayeredGzipProfileParses: the budget costs a real profile nothing,
// however many times it was gzipped.
func TestLayeredGzipProfileParses(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	if err := testProfile().WriteUncompressed(&buf); err != nil {
		t.Fatal(err)
	}
	data := buf.Bytes()
	for layers := 0; layers <= 4; layers++ {
		r := runDiagctl(t, bytes.NewReader(data), "preempt-share", "-")
		if r.code != exitOK || !strings.Contains(r.stdout, "async_preempt 30.00%") {
			t.Errorf("%d layers: exit %d\n%s%s", layers, r.code, r.stdout, r.stderr)
		}
		data = gzipData(t, data)
	}
}

// TestContentEncodingIsOneMoreLayer: diagctl does not ask for gzip, so that
// the HTTP layer is not decompressed apart, with a bound of its own; a target
// that gzips its answer anyway adds a layer that the one budget covers.
func TestContentEncodingIsOneMoreLayer(t *testing.T) {
	t.Parallel()
	var accept []string
	var mu sync.Mutex
	prof := gzipData(t, encodeProfile(t, testProfile()))
	srv := fakeTarget(respond(http.StatusNotFound, "text/plain", nil), func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		accept = append(accept, r.Header.Get("Accept-Encoding"))
		mu.Unlock()
		w.Header().Set("Content-Encoding", "gzip")
		w.Write(prof)
	})
	defer srv.Close()
	r := runDiagctl(t, nil, "preempt-share", "--fresh", "--seconds", "1", srv.URL)
	if r.code != exitOK || !strings.Contains(r.stdout, "async_preempt 30.00%") {
		t.Errorf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(accept) != 1 || accept[0] != "" {
		t.Errorf("Accept-Encoding %q, want none", accept)
	}
}

// redirectServer answers every request with a redirect to target+path, and
// records that it did.
func redirectServer(tlsServer bool, to func(r *http.Request) string) *httptest.Server {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, to(r), http.StatusTemporaryRedirect)
	})
	if tlsServer {
		return httptest.NewTLSServer(h)
	}
	return httptest.NewServer(h)
}

// authRecorder is an agent that records the Authorization header of every
// request it gets.
type authRecorder struct {
	*httptest.Server
	mu   sync.Mutex
	auth []string
}

func newAuthRecorder(t *testing.T, tlsServer bool) *authRecorder {
	a := &authRecorder{}
	window := agentWindow(t)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a.mu.Lock()
		a.auth = append(a.auth, r.Header.Get("Authorization"))
		a.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.Write(window)
	})
	if tlsServer {
		a.Server = httptest.NewTLSServer(h)
	} else {
		a.Server = httptest.NewServer(h)
	}
	t.Cleanup(a.Close)
	return a
}

func (a *authRecorder) requests() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]string(nil), a.auth...)
}

// TestRedirectToPlainHTTPIsRefused: an https target that answered 307 to
// http:// on the same host (another port) got the bearer token in clear
// (net/http keeps Authorization for the same host, whatever the scheme).
// diagctl refuses to follow a redirect from https to http.
func TestRedirectToPlainHTTPIsRefused(t *testing.T) {
	t.Parallel()
	plain := newAuthRecorder(t, false)
	target := redirectServer(true, func(r *http.Request) string { return plain.URL + r.URL.RequestURI() })
	defer target.Close()

	r := runDiagctl(t, nil, "preempt-share", "--insecure", "--token", "s3cret", target.URL)
	if got := plain.requests(); len(got) > 0 {
		t.Errorf("the plain http server got %d requests, Authorization %q", len(got), got)
	}
	if r.code != exitError || !strings.Contains(r.stderr, "from https to plain http") || strings.Contains(r.stderr, "s3cret") {
		t.Errorf("exit %d, stderr %q; want 1 and a refused redirect", r.code, r.stderr)
	}
}

// TestRedirectToAnotherHostIsRefused: net/http keeps the Authorization
// header on a redirect to a subdomain of the target's host, and a redirect
// from a loopback target may lead off the machine. diagctl follows no
// redirect to another host or port. The hosts are names the test's dialer
// maps to loopback listeners, and it refuses any other address: nothing
// leaves the machine, even when a redirect is followed.
func TestRedirectToAnotherHostIsRefused(t *testing.T) {
	other := newAuthRecorder(t, false)
	otherAddr := strings.TrimPrefix(other.URL, "http://")
	var mu sync.Mutex
	var dialed []string
	dialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		mu.Lock()
		dialed = append(dialed, addr)
		mu.Unlock()
		host, port, _ := net.SplitHostPort(addr)
		switch {
		case host == "127.0.0.1":
		case strings.HasSuffix(host, "agent.test"):
			addr = net.JoinHostPort("127.0.0.1", port)
		default:
			return nil, &net.DNSError{Err: "no such host (the test dials loopback only)", Name: host, IsNotFound: true}
		}
		var d net.Dialer
		return d.DialContext(ctx, network, addr)
	}
	defer func() { dialContext = nil }()
	_, otherPort, _ := net.SplitHostPort(otherAddr)

	for _, tc := range []struct {
		name, to string
	}{
		{"subdomain", "http://evil.agent.test:" + otherPort},
		{"other port", "http://agent.test:" + otherPort},
		{"off loopback", "http://192.0.2.1:6060"},
	} {
		target := redirectServer(false, func(r *http.Request) string { return tc.to + r.URL.RequestURI() })
		_, port, _ := net.SplitHostPort(strings.TrimPrefix(target.URL, "http://"))
		host := "agent.test"
		if tc.name == "off loopback" {
			host = "127.0.0.1"
		}
		mu.Lock()
		dialed = nil
		mu.Unlock()
		r := runDiagctl(t, nil, "preempt-share", "--token", "s3cret", "http://"+net.JoinHostPort(host, port))
		target.Close()
		if r.code != exitError || !strings.Contains(r.stderr, "not followed") || strings.Contains(r.stderr, "s3cret") {
			t.Errorf("%s: exit %d, stderr %q; want 1 and a refused redirect", tc.name, r.code, r.stderr)
		}
		mu.Lock()
		if len(dialed) != 1 {
			t.Errorf("%s: dialed %q, want the target only", tc.name, dialed)
		}
		mu.Unlock()
	}
	if got := other.requests(); len(got) > 0 {
		t.Errorf("the other host got %d requests, Authorization %q", len(got), got)
	}
}

// TestRedirectWithinTargetIsFollowed: a redirect on the target itself (a
// prefix, or from http to https on the same host) is followed with the
// token.
func TestRedirectWithinTargetIsFollowed(t *testing.T) {
	t.Parallel()
	secure := newAuthRecorder(t, true)
	_, securePort, _ := net.SplitHostPort(strings.TrimPrefix(secure.URL, "https://"))
	upgrade := redirectServer(false, func(r *http.Request) string {
		return "https://127.0.0.1:" + securePort + r.URL.RequestURI()
	})
	defer upgrade.Close()
	r := runDiagctl(t, nil, "preempt-share", "--insecure", "--token", "s3cret", upgrade.URL)
	if r.code != exitOK || !strings.Contains(r.stdout, "agent window #7") {
		t.Errorf("http to https: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if got := secure.requests(); len(got) != 1 || got[0] != "Bearer s3cret" {
		t.Errorf("the https server got Authorization %q", got)
	}

	mux := http.NewServeMux()
	mux.Handle("/old/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/new/"+strings.TrimPrefix(r.URL.Path, "/old/"), http.StatusMovedPermanently)
	}))
	var auth string
	window := agentWindow(t)
	mux.Handle("/new/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		auth = r.Header.Get("Authorization")
		w.Header().Set("Content-Type", "application/json")
		w.Write(window)
	}))
	srv := httptest.NewServer(mux)
	defer srv.Close()
	r = runDiagctl(t, nil, "preempt-share", "--token", "s3cret", srv.URL+"/old")
	if r.code != exitOK || auth != "Bearer s3cret" {
		t.Errorf("same origin: exit %d, Authorization %q\n%s%s", r.code, auth, r.stdout, r.stderr)
	}
}

// TestCredentialsInTargetAreRedacted: the credentials of a target URL
// (https://x:TOKEN@host:port) showed in the table's Profile line, in
// doctor's output and in the 401 error line. Wherever diagctl shows a
// target, they read xxxxx.
func TestCredentialsInTargetAreRedacted(t *testing.T) {
	t.Parallel()
	const secret = "T0KEN"
	window := agentWindow(t)
	doctorRep, err := json.Marshal(api.DoctorReport{Schema: api.DoctorSchema, Source: "agent",
		Checks: []api.Check{{ID: "go_version", Title: "Go is recent", Status: api.StatusPass}}, Counts: api.Counts{Pass: 1}})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle(pathReport, respond(http.StatusOK, "application/json", window))
	mux.Handle(pathDoctor, respond(http.StatusOK, "application/json", doctorRep))
	ok := httptest.NewServer(mux)
	defer ok.Close()
	denied := httptest.NewServer(respond(http.StatusUnauthorized, "text/plain", []byte("unauthorized")))
	defer denied.Close()
	with := func(srv *httptest.Server, userinfo string) string {
		return strings.Replace(srv.URL, "http://", "http://"+userinfo+"@", 1)
	}

	for _, tc := range []struct {
		args []string
		code int
	}{
		{[]string{"preempt-share", with(ok, "x:"+secret)}, exitOK},
		{[]string{"preempt-share", with(ok, secret)}, exitOK},
		{[]string{"preempt-share", "--fail-above", "1%", with(ok, "x:"+secret)}, exitThreshold},
		{[]string{"preempt-share", with(denied, "x:"+secret)}, exitAuth},
		{[]string{"preempt-share", "--fresh", "--seconds", "1", with(denied, "x:"+secret)}, exitAuth},
		{[]string{"preempt-share", with(ok, "x:"+secret), with(denied, "x:"+secret)}, exitAuth},
		{[]string{"preempt-share", "-o", "json", with(ok, "x:"+secret), with(denied, "x:"+secret)}, exitAuth},
		{[]string{"doctor", with(ok, "x:"+secret)}, exitOK},
		{[]string{"doctor", "-o", "json", with(ok, "x:"+secret)}, exitOK},
		{[]string{"doctor", with(denied, "x:"+secret)}, exitAuth},
		{[]string{"watch", "--count", "1", "--plain", with(ok, "x:"+secret)}, exitOK},
		{[]string{"watch", "--count", "1", "--plain", with(denied, "x:"+secret)}, exitAuth},
		{[]string{"trace", "--seconds", "1", with(denied, "x:"+secret)}, exitAuth},
		{[]string{"trace", "--evidence", with(ok, "x:"+secret)}, exitError},
		{[]string{"dashboard", "-f", "-", with(ok, "x:"+secret)}, exitError}, // no history: 404
		{[]string{"dashboard", "-f", "-", with(denied, "x:"+secret)}, exitAuth},
		{[]string{"preempt-share", with(ok, "x:"+secret) + "/?q=1"}, exitError},
		{[]string{"preempt-share", "https://x:" + secret + "@bad host/"}, exitError},
	} {
		r := runDiagctl(t, nil, tc.args...)
		if r.code != tc.code {
			t.Errorf("%v: exit %d, want %d\n%s%s", tc.args, r.code, tc.code, r.stdout, r.stderr)
		}
		if strings.Contains(r.stdout+r.stderr, secret) {
			t.Errorf("%v: the credentials show:\n%s%s", tc.args, r.stdout, r.stderr)
		}
		if !strings.Contains(r.stdout+r.stderr, "xxxxx@") {
			t.Errorf("%v: the target does not show, redacted:\n%s%s", tc.args, r.stdout, r.stderr)
		}
	}
}

func TestRedactURLs(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"https://x:TOKEN@host:8443":                 "https://x:xxxxx@host:8443",
		"https://TOKEN@host/p?q=a@b":                "https://xxxxx@host/p?q=a@b",
		`Get "http://u:p@h:1/x": EOF`:               `Get "http://u:xxxxx@h:1/x": EOF`,
		"a http://u:p@h b https://v:q@i c":          "a http://u:xxxxx@h b https://v:xxxxx@i c",
		"host:6060":                                 "host:6060",
		"https://host/path@x":                       "https://host/path@x",
		"https://a:b@c@host":                        "https://a:xxxxx@host",
		"https://x:xxxxx@host":                      "https://x:xxxxx@host",
		"parse \"https://x:T@ho st\": invalid host": "parse \"https://x:xxxxx@ho st\": invalid host",
	} {
		if got := redactURLs(in); got != want {
			t.Errorf("redactURLs(%q) = %q, want %q", in, got, want)
		}
	}
}

// hostile are strings a profile or an agent may hold to drive the terminal:
// retitle the window, clear the screen, recolour the output, move back to
// the start of the line, reverse the text.
var hostile = []string{"\x1b]0;pwned\x07", "\x1b[2J\x1b[H", "\x1b[31mred", "ok\rfake", "\u009b1m", "\u202egnp.exe", "bad\xffutf8", "tab\there\nnewline"}

// TestEscapeSequencesAreEscaped: a function name from a profile, or
// anything in a hostile agent's report or error page, went to the terminal
// raw. Every table, error and view diagctl writes shows it escaped; JSON
// output keeps it as it is (encoding/json escapes it).
func TestEscapeSequencesAreEscaped(t *testing.T) {
	t.Parallel()
	b := newCPUProfile()
	preempt := b.location(frame{"runtime.asyncPreempt", "/usr/local/go/src/runtime/preempt_amd64.s", 46})
	cgocall := b.location(frame{"runtime.cgocall", "/usr/local/go/src/runtime/cgocall.go", 167})
	for i, h := range hostile {
		fn := b.location(frame{"main.f" + h, "/src/" + h + ".go", int64(i + 1)})
		b.sample(cpu(int64(10+i)), preempt, fn)
		stub := b.location(frame{"main._Cfunc_" + h, "_cgo_gotypes.go", 61})
		b.sample(cpu(int64(10+i)), cgocall, stub, fn)
	}
	file := writeProfile(t, b.p, "hostile.pb.gz")

	r := runDiagctl(t, nil, "preempt-share", "--top", "20", file)
	if r.code != exitOK {
		t.Fatalf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	checkTermSafe(t, "preempt-share", r.stdout)
	if !strings.Contains(r.stdout, `main.f\x1b]0;pwned\a`) {
		t.Errorf("the function name does not show escaped:\n%s", r.stdout)
	}
	r = runDiagctl(t, nil, "preempt-share", "-o", "json", "--top", "20", file)
	var rep analysis.Report
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, fs := range rep.TopPreempted {
		found = found || fs.Function == "main.f"+hostile[0]
	}
	if !found || !strings.Contains(r.stdout, `\u001b]0;pwned\u0007`) {
		t.Errorf("JSON does not keep the function name as it is:\n%s", r.stdout)
	}

	// An agent whose report, doctor report and error pages are hostile.
	var wr api.WindowReport
	if err := json.Unmarshal(agentWindow(t), &wr); err != nil {
		t.Fatal(err)
	}
	h := strings.Join(hostile, " ")
	wr.Notes = append(wr.Notes, h)
	wr.Interpretation = h
	wr.TopPreempted[0].Function += h
	wr.Warnings[0].Causes = []string{h}
	wr.Warnings[0].Functions = []string{h}
	wr.Warnings[0].LeadCause = h
	wr.Active = []string{h}
	wr.Context.GoVersion = h
	wr.Context.CgroupCPULimitPath = h
	window, err := json.Marshal(wr)
	if err != nil {
		t.Fatal(err)
	}
	doctorRep, err := json.Marshal(api.DoctorReport{Schema: api.DoctorSchema, Source: "agent",
		Checks: []api.Check{{ID: "go_version", Title: h, Status: api.StatusWarn + h, Evidence: []string{h}, Advice: h}}})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle(pathReport, respond(http.StatusOK, "application/json", window))
	mux.Handle(pathDoctor, respond(http.StatusOK, "application/json", doctorRep))
	mux.Handle(pathProfile, respond(http.StatusInternalServerError, "text/plain", []byte(h)))
	mux.Handle(pathTrace, respond(http.StatusBadGateway, "text/plain", []byte(h)))
	mux.Handle(pathHistory, respond(http.StatusTeapot, "text/plain", []byte(h)))
	srv := httptest.NewServer(mux)
	defer srv.Close()
	addr := strings.TrimPrefix(srv.URL, "http://")
	for _, args := range [][]string{
		{"preempt-share", addr},
		{"preempt-share", "--fresh", "--seconds", "1", addr},
		{"preempt-share", addr, "--fresh", "--seconds", "1", srv.URL},
		{"doctor", addr},
		{"watch", "--count", "1", "--plain", addr},
		{"watch", "--count", "1", "--plain", "--fresh", "--seconds", "1", addr},
		{"trace", "--seconds", "1", addr},
		{"dashboard", "-f", "-", addr},
	} {
		r := runDiagctl(t, nil, args...)
		t.Logf("%v: exit %d", args, r.code)
		checkTermSafe(t, fmt.Sprint(args), r.stdout+r.stderr)
		if !strings.Contains(r.stdout+r.stderr, `\x1b[2J`) {
			t.Errorf("%v: the hostile text does not show escaped:\n%s%s", args, r.stdout, r.stderr)
		}
	}

	// The terminal view of watch, and the trace report.
	st := &watchState{target: addr, interval: time.Second}
	st.apply(&liveResult{source: "agent", report: &wr.Report, window: &wr}, nil, wr.End)
	checkTermSafe(t, "the watch screen", strings.Join(watchScreen(st, 120, 60, wr.End), "\n"))
	st.apply(nil, &codedError{exitBusy, errors.New(h)}, wr.End)
	checkTermSafe(t, "the watch screen", strings.Join(watchScreen(st, 120, 60, wr.End), "\n"))
	var out bytes.Buffer
	s := &tracesum.Summary{GoVersion: h, GoVersions: h, Notes: []string{h}, Interpretation: h,
		LongestRuns: []tracesum.Run{{Function: h, File: h, Ended: h}},
		Preemptions: tracesum.Preemptions{Functions: []tracesum.FuncCount{{Function: h, File: h, Count: 1}}}}
	if err := renderTrace(&out, h, s, true); err != nil {
		t.Fatal(err)
	}
	checkTermSafe(t, "renderTrace", out.String())
}

func TestTermSafe(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"main.spin":               "main.spin",
		"main.F[...] → C.burn ×2": "main.F[...] → C.burn ×2",
		"\x1b]0;pwned\x07":        `\x1b]0;pwned\a`,
		"a\rb\nc\td\x7f":          `a\rb\nc\td\x7f`,
		"\u009b31m":               `\u009b31m`,
		"\u202eabc\u2066":         `\u202eabc\u2066`,
		"bad\xff":                 `bad\xff`,
	} {
		got := termSafe(in)
		if got != want {
			t.Errorf("termSafe(%q) = %q, want %q", in, got, want)
		}
		if again := termSafe(got); again != got {
			t.Errorf("termSafe is not idempotent on %q: %q", got, again)
		}
	}
	if got := termSafeText("a\x1b[2J\nb\n"); got != "a\\x1b[2J\nb\n" {
		t.Errorf("termSafeText = %q", got)
	}
}

// TestAgentSharesAreRangeChecked: an agent's report with a share of 1e308
// (printed +Inf%), -5, or nulls passed --fail-above 1% with exit 0. Shares
// out of [0, 1], or missing, are an error: exit 1, saying which.
func TestAgentSharesAreRangeChecked(t *testing.T) {
	t.Parallel()
	good := agentWindow(t)
	var doc map[string]any
	if err := json.Unmarshal(good, &doc); err != nil {
		t.Fatal(err)
	}
	variant := func(edit func(doc map[string]any)) []byte {
		var d map[string]any
		if err := json.Unmarshal(good, &d); err != nil {
			t.Fatal(err)
		}
		edit(d)
		out, err := json.Marshal(d)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	shares := func(d map[string]any) map[string]any { return d["shares"].(map[string]any) }
	huge := bytes.Replace(variant(func(d map[string]any) { shares(d)["async_preempt"] = 12345.0 }), []byte("12345"), []byte("1e308"), 1)
	for _, tc := range []struct {
		name, want string
		body       []byte
	}{
		{"1e308", "shares.async_preempt is 1e+308", huge},
		{"negative", "shares.async_preempt is -5", variant(func(d map[string]any) { shares(d)["async_preempt"] = -5.0 })},
		{"above 1", "shares.cgo is 1.5", variant(func(d map[string]any) { shares(d)["cgo"] = 1.5 })},
		{"null share", "shares.async_preempt is missing or null", variant(func(d map[string]any) { shares(d)["async_preempt"] = nil })},
		{"null shares", "shares is missing or null", variant(func(d map[string]any) { d["shares"] = nil })},
		{"all nulls", "shares.go is missing or null", variant(func(d map[string]any) {
			for k := range shares(d) {
				shares(d)[k] = nil
			}
			for _, b := range d["buckets"].(map[string]any) {
				b.(map[string]any)["share"] = nil
			}
		})},
		{"bucket", "buckets.go.share is -5", variant(func(d map[string]any) {
			d["buckets"].(map[string]any)["go"].(map[string]any)["share"] = -5.0
		})},
		{"top function", "top_preempted[0].share is 2", variant(func(d map[string]any) {
			d["top_preempted"].([]any)[0].(map[string]any)["share"] = 2.0
		})},
		{"warning", "warnings[0].value is -1", variant(func(d map[string]any) {
			d["warnings"].([]any)[0].(map[string]any)["value"] = -1.0
		})},
	} {
		srv := fakeTarget(respond(http.StatusOK, "application/json", tc.body), nil)
		addr := strings.TrimPrefix(srv.URL, "http://")
		r := runDiagctl(t, nil, "preempt-share", "--fail-above", "1%", addr)
		if r.code != exitError || !strings.Contains(r.stderr, "invalid window report: "+tc.want) {
			t.Errorf("%s: exit %d, stderr %q; want 1 and %q", tc.name, r.code, r.stderr, tc.want)
		}
		if strings.Contains(r.stdout, "Inf%") || strings.Contains(r.stdout, "-500.00%") {
			t.Errorf("%s: printed\n%s", tc.name, r.stdout)
		}
		r = runDiagctl(t, nil, "watch", "--count", "1", "--plain", addr)
		if r.code != exitError || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("%s: watch: exit %d, stderr %q", tc.name, r.code, r.stderr)
		}
		srv.Close()

		hist := []byte(`{"window_schema":"` + api.WindowSchema + `","windows":[` + string(good) + `,` + string(tc.body) + `]}`)
		srv = newFakeAgent(t, respond(http.StatusOK, "application/json", hist), nil).Server
		r = runDiagctl(t, nil, "dashboard", "-f", "-", strings.TrimPrefix(srv.URL, "http://"))
		if r.code != exitError || !strings.Contains(r.stderr, "window #7 of the history: invalid window report: "+tc.want) {
			t.Errorf("%s: dashboard: exit %d, stderr %q", tc.name, r.code, r.stderr)
		}
	}
	// The valid report passes, and the gate works on it.
	srv := fakeTarget(respond(http.StatusOK, "application/json", good), nil)
	defer srv.Close()
	r := runDiagctl(t, nil, "preempt-share", "--fail-above", "1%", strings.TrimPrefix(srv.URL, "http://"))
	if r.code != exitThreshold {
		t.Errorf("valid report: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}
