package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/fetch"
	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	cdpruntime "github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"go.uber.org/zap"

	"github.com/diagkit/diagkit/diag"
	"github.com/diagkit/diagkit/diag/analysis"
	"github.com/diagkit/diagkit/diag/api"
	"github.com/diagkit/diagkit/diag/dashboard"
	"github.com/diagkit/diagkit/internal/testenv"
)

// Environment of the browser test. .ci/run installs Debian's chromium and
// sets both.
const (
	chromiumEnv  = "DIAGKIT_TEST_CHROMIUM" // the browser binary (default: chromium in PATH)
	artifactsEnv = "DIAGKIT_ARTIFACTS"     // where screenshots go (default: a temporary directory)
)

// chromiumPath finds the browser. It skips the test without one, except
// under CI, where a missing browser must fail rather than quietly not test
// anything.
func chromiumPath(t *testing.T) string {
	t.Helper()
	if p := os.Getenv(chromiumEnv); p != "" {
		if _, err := exec.LookPath(p); err != nil {
			t.Fatalf("%s=%q: %v", chromiumEnv, p, err)
		}
		return p
	}
	p, err := exec.LookPath("chromium")
	if err != nil {
		testenv.MustRun(t, "no chromium in PATH and %s is not set: run `bash .ci/run`, which installs Debian's chromium, "+
			"or `apt-get install chromium`, or set %s to a Chromium or Chrome binary", chromiumEnv, chromiumEnv)
	}
	return p
}

func artifactDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv(artifactsEnv)
	if dir == "" {
		return t.TempDir()
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatalf("%s=%q: %v", artifactsEnv, dir, err)
	}
	return dir
}

var dashboardSink atomic.Uint64

// spinOnTop reports whether the tight loop tops a window's interrupted
// functions. (A test binary names package main by its import path.)
func spinOnTop(w api.WindowReport) bool {
	return len(w.TopPreempted) > 0 && strings.HasSuffix(w.TopPreempted[0].Function, "/cmd/diagctl.spinLoop")
}

// preemptWarned is a window that warned of async preemption with the tight
// loop at the top of its interrupted functions: the one to show.
func preemptWarned(w api.WindowReport) bool {
	return spinOnTop(w) && slices.ContainsFunc(w.Warnings, func(x api.Warning) bool { return x.Kind == api.WarnAsyncPreempt })
}

func warnedWindow(w api.WindowReport) bool { return len(w.Warnings) > 0 }

// lockedBuffer collects the browser's output.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// tab is a browser tab that records what the page does: every request it
// makes, each auth challenge, and the problems a person would see in the
// developer tools (console errors, uncaught exceptions, failed loads). A
// request anywhere but loopback, a file or a data URL is blocked and is a
// problem too.
type tab struct {
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu       sync.Mutex
	problems []string
	requests []string // URLs, in order
	auths    []string // challenges answered: "scheme realm origin"
}

// openTab opens a tab. With a token, it answers the agent's Basic challenge
// as a person would at the browser's prompt; the page's own requests then
// carry the remembered credentials by themselves.
func openTab(t *testing.T, parent context.Context, agentOrigin, token string) *tab {
	t.Helper()
	ctx, cancel := chromedp.NewContext(parent)
	tb := &tab{ctx: ctx, cancel: cancel}
	if err := chromedp.Listen(ctx, tb.listen); err != nil {
		t.Fatal(err)
	}
	paused := chromedp.Events(ctx, fetch.RequestPaused)
	auth := chromedp.Events(ctx, fetch.AuthRequired)
	tb.wg.Add(2)
	go func() {
		defer tb.wg.Done()
		for ev, err := range paused {
			if err != nil {
				return
			}
			tb.route(ev)
		}
	}()
	go func() {
		defer tb.wg.Done()
		for ev, err := range auth {
			if err != nil {
				return
			}
			tb.answer(ev, agentOrigin, token)
		}
	}()
	yes := true
	if _, err := chromedp.Call(ctx, fetch.Enable, fetch.EnableParams{
		Patterns: []*fetch.RequestPattern{{URLPattern: "*"}}, HandleAuthRequests: &yes,
	}); err != nil {
		t.Fatalf("enabling request interception: %v", err)
	}
	t.Cleanup(tb.close)
	return tb
}

func (tb *tab) close() {
	tb.cancel()
	tb.wg.Wait()
}

func (tb *tab) problem(format string, args ...any) {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	tb.problems = append(tb.problems, fmt.Sprintf(format, args...))
}

// listen runs on the tab's event loop: it must be quick and send nothing.
func (tb *tab) listen(ev any) {
	switch ev := ev.(type) {
	case *cdpruntime.EventConsoleAPICalled:
		if ev.Type == cdpruntime.ConsoleAPICalledTypeError || ev.Type == cdpruntime.ConsoleAPICalledTypeAssert {
			var args []string
			for _, a := range ev.Args {
				args = append(args, string(a.Value)+a.Description)
			}
			tb.problem("console.%s: %s", ev.Type, strings.Join(args, " "))
		}
	case *cdpruntime.EventExceptionThrown:
		d := ev.ExceptionDetails
		text := d.Text
		if d.Exception != nil {
			text += " " + d.Exception.Description
		}
		tb.problem("uncaught exception at %s:%d: %s", d.URL, d.LineNumber, text)
	case *cdplog.EventEntryAdded:
		if ev.Entry.Level == cdplog.EntryLevelError {
			tb.problem("log (%s): %s %s", ev.Entry.Source, ev.Entry.Text, ev.Entry.URL)
		}
	case *network.EventRequestWillBeSent:
		tb.mu.Lock()
		tb.requests = append(tb.requests, ev.Request.URL)
		tb.mu.Unlock()
	}
}

// localURL reports whether the page may load u: loopback, a file, data.
func localURL(u string) bool {
	p, err := url.Parse(u)
	if err != nil {
		return false
	}
	switch p.Scheme {
	case "file", "data", "about", "blob":
		return true
	case "http", "https", "ws", "wss":
		host := p.Hostname()
		ip := net.ParseIP(host)
		return host == "localhost" || ip != nil && ip.IsLoopback()
	}
	return false
}

func (tb *tab) route(ev fetch.EventRequestPaused) {
	u := ev.Request.URL
	if localURL(u) {
		_, _ = chromedp.Call(tb.ctx, fetch.ContinueRequest, fetch.ContinueRequestParams{RequestID: ev.RequestID})
		return
	}
	tb.problem("request beyond loopback (blocked): %s", u)
	_, _ = chromedp.Call(tb.ctx, fetch.FailRequest, fetch.FailRequestParams{RequestID: ev.RequestID, ErrorReason: network.ErrorReasonBlockedByClient})
}

func (tb *tab) answer(ev fetch.EventAuthRequired, agentOrigin, token string) {
	c := ev.AuthChallenge
	resp := &fetch.AuthChallengeResponse{Response: fetch.AuthChallengeResponseResponseCancelAuth}
	if token != "" && c.Source != fetch.AuthChallengeSourceProxy && strings.EqualFold(c.Scheme, "basic") &&
		c.Realm == "diagkit" && c.Origin == agentOrigin {
		resp = &fetch.AuthChallengeResponse{Response: fetch.AuthChallengeResponseResponseProvideCredentials,
			Username: "oncall", Password: token}
	} else {
		tb.problem("unexpected auth challenge: %+v for %s", *c, ev.Request.URL)
	}
	tb.mu.Lock()
	tb.auths = append(tb.auths, c.Scheme+" "+c.Realm+" "+c.Origin+" "+ev.Request.URL)
	tb.mu.Unlock()
	_, _ = chromedp.Call(tb.ctx, fetch.ContinueWithAuth, fetch.ContinueWithAuthParams{RequestID: ev.RequestID, AuthChallengeResponse: resp})
}

func (tb *tab) record() (problems, requests, auths []string) {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	return slices.Clone(tb.problems), slices.Clone(tb.requests), slices.Clone(tb.auths)
}

// pageView is what the page shows, counted in its DOM.
type pageView struct {
	State       string   `json:"state"`
	Windows     int      `json:"windows"`
	Doctor      string   `json:"doctor"`
	AsyncPoints []int    `json:"asyncPoints"`
	CgoPoints   int      `json:"cgoPoints"`
	ExtPoints   int      `json:"extPoints"`
	P50Points   int      `json:"p50Points"`
	P99Points   int      `json:"p99Points"`
	ShareLines  int      `json:"shareLines"`
	LatLines    int      `json:"latLines"`
	Markers     []int    `json:"markers"`
	Bands       int      `json:"bands"`
	Episodes    int      `json:"episodes"`
	DoctorRows  int      `json:"doctorRows"`
	DoctorText  string   `json:"doctorText"`
	Status      string   `json:"status"`
	Banner      string   `json:"banner"`
	WinTitle    string   `json:"winTitle"`
	Preempted   []string `json:"preempted"`
	WinWarnings string   `json:"winWarnings"`
	AsyncAlert  bool     `json:"asyncAlert"`
	Scripts     int      `json:"scripts"`
	Title       string   `json:"title"`
}

const viewJS = `(() => {
  const all = (s) => [...document.querySelectorAll(s)];
  const n = (s) => all(s).length;
  const seqs = (s) => all(s).map((e) => Number(e.getAttribute('data-seq')));
  const text = (id) => document.getElementById(id).textContent;
  const root = document.documentElement;
  return {
    state: root.getAttribute('data-state'),
    windows: Number(root.getAttribute('data-windows')),
    doctor: root.getAttribute('data-doctor'),
    asyncPoints: seqs('#chart-shares circle.pt.s-async'),
    cgoPoints: n('#chart-shares circle.pt.s-cgo'),
    extPoints: n('#chart-shares circle.pt.s-external'),
    p50Points: n('#chart-latency circle.pt.s-p50'),
    p99Points: n('#chart-latency circle.pt.s-p99'),
    shareLines: n('#chart-shares path.line'),
    latLines: n('#chart-latency path.line'),
    markers: seqs('#chart-warnings path.warn-marker'),
    bands: n('#chart-shares rect.warn-band'),
    episodes: n('#episodes .episode'),
    doctorRows: n('#doctor-body tbody tr'),
    doctorText: text('doctor'),
    status: text('hdr-status'),
    banner: document.getElementById('banner').hidden ? '' : text('banner'),
    winTitle: text('win-title'),
    preempted: all('#tbl-preempted td.fn').map((e) => e.firstChild ? e.firstChild.textContent : ''),
    winWarnings: text('win-warnings'),
    asyncAlert: document.getElementById('kpi-async').classList.contains('alert'),
    scripts: document.scripts.length,
    title: document.title,
  };
})()`

func view(t *testing.T, tb *tab) pageView {
	t.Helper()
	v, err := chromedp.Run(tb.ctx, chromedp.Evaluate[pageView](viewJS))
	if err != nil {
		t.Fatalf("reading the page: %v", err)
	}
	return v
}

// waitReady waits until the page rendered at least minWindows windows and
// its doctor panel settled.
func waitReady(t *testing.T, tb *tab, minWindows int) {
	t.Helper()
	expr := fmt.Sprintf(`document.documentElement.getAttribute('data-state') === 'ready' &&
		Number(document.documentElement.getAttribute('data-windows')) >= %d &&
		document.documentElement.getAttribute('data-doctor') !== 'loading'`, minWindows)
	if _, err := chromedp.Run(tb.ctx, chromedp.Poll[bool](expr, chromedp.WithPollingTimeout(30*time.Second),
		chromedp.WithPollingInterval(100*time.Millisecond))); err != nil {
		problems, requests, _ := tb.record()
		t.Fatalf("the page did not render %d windows: %v\nproblems: %q\nrequests: %q", minWindows, err, problems, requests)
	}
}

// selectWindow clicks a window on the timeline, its warning marker if it
// has one, and waits for the window panel to show it.
func selectWindow(t *testing.T, tb *tab, w api.WindowReport) {
	t.Helper()
	seq := w.Seq
	sel := fmt.Sprintf(`#chart-warnings rect.cell[data-seq="%d"]`, seq)
	if len(w.Warnings) > 0 {
		sel = fmt.Sprintf(`#chart-warnings path.warn-marker[data-seq="%d"]`, seq)
	}
	if err := chromedp.Do(tb.ctx, chromedp.Click(chromedp.CSS(sel))); err != nil {
		t.Fatalf("clicking %s: %v", sel, err)
	}
	expr := fmt.Sprintf(`document.getElementById('win-title').textContent.startsWith('Window #%d')`, seq)
	if _, err := chromedp.Run(tb.ctx, chromedp.Poll[bool](expr, chromedp.WithPollingTimeout(10*time.Second),
		chromedp.WithPollingInterval(50*time.Millisecond))); err != nil {
		t.Fatalf("window #%d not shown after the click: %v", seq, err)
	}
}

func screenshot(t *testing.T, tb *tab, path string) {
	t.Helper()
	png, err := chromedp.Run(tb.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	if len(png) < 8 || string(png[1:4]) != "PNG" {
		t.Fatalf("screenshot: not a PNG (%d bytes)", len(png))
	}
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s (%d KiB)", path, len(png)>>10)
}

// checkView compares what the page shows with the windows it was given.
func checkView(t *testing.T, name string, v pageView, windows []api.WindowReport) {
	t.Helper()
	if v.State != "ready" || v.Windows != len(windows) || v.Banner != "" {
		t.Errorf("%s: state %q, %d windows (want %d), banner %q", name, v.State, v.Windows, len(windows), v.Banner)
	}
	// A point per window for each share, and for each latency quantile
	// the agent measured; lines through them.
	var seqs []int
	latencies := 0
	for _, w := range windows {
		seqs = append(seqs, int(w.Seq))
		if w.Context.SchedLatency != nil {
			latencies++
		}
	}
	if !slices.Equal(v.AsyncPoints, seqs) || v.CgoPoints != len(windows) || v.ExtPoints != len(windows) {
		t.Errorf("%s: share points async %v cgo %d external %d, want one per window %v", name, v.AsyncPoints, v.CgoPoints, v.ExtPoints, seqs)
	}
	if latencies == 0 || v.P50Points != latencies || v.P99Points != latencies || v.ShareLines != 3 || v.LatLines < 2 {
		t.Errorf("%s: latency points p50 %d p99 %d (want %d), lines %d and %d", name, v.P50Points, v.P99Points, latencies, v.ShareLines, v.LatLines)
	}
	// A marker on the timeline for each window that warned, and only those.
	var warned []int
	for _, w := range windows {
		if len(w.Warnings) > 0 {
			warned = append(warned, int(w.Seq))
		}
	}
	if len(warned) == 0 || !slices.Equal(v.Markers, warned) || v.Bands != len(warned) || v.Episodes == 0 {
		t.Errorf("%s: warning markers %v (want %v), bands %d, episodes %d", name, v.Markers, warned, v.Bands, v.Episodes)
	}
}

// checkDoctor checks the doctor panel against the agent's report, or its
// absence.
func checkDoctor(t *testing.T, name string, v pageView, rep *api.DoctorReport) {
	t.Helper()
	if rep == nil {
		if v.Doctor != "unavailable" || !strings.Contains(v.DoctorText, "not available") {
			t.Errorf("%s: doctor panel %q (%q), want it to say not available", name, v.Doctor, v.DoctorText)
		}
		return
	}
	if v.Doctor != "ok" || v.DoctorRows != len(rep.Checks) || len(rep.Checks) == 0 {
		t.Errorf("%s: doctor panel %q with %d rows, want %d checks", name, v.Doctor, v.DoctorRows, len(rep.Checks))
	}
	for _, c := range rep.Checks {
		if !strings.Contains(v.DoctorText, c.Title) {
			t.Errorf("%s: doctor panel lacks %q", name, c.Title)
		}
	}
}

func checkClean(t *testing.T, name string, tb *tab) (requests []string) {
	t.Helper()
	problems, requests, _ := tb.record()
	for _, p := range problems {
		t.Errorf("%s: %s", name, p)
	}
	for _, u := range requests {
		if !localURL(u) {
			t.Errorf("%s: request to %s", name, u)
		}
	}
	return requests
}

// agentJSON reads one of the agent's JSON endpoints with the bearer token.
func agentJSON(t *testing.T, base, path, token string, v any) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, base+path, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	c := &http.Client{Timeout: 15 * time.Second}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode == http.StatusOK {
		if err := json.Unmarshal(body, v); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
	}
	return resp.StatusCode
}

// TestDashboardInChromium runs the dashboard end to end in headless
// Chromium against a live agent with the async-preemption problem and a
// token: the browser signs in at the Basic prompt, the charts render a point
// per window, the warnings appear on the timeline, clicking one shows the
// tight loop at the top of the interrupted functions, the doctor panel
// renders, and nothing goes wrong in the console or leaves loopback. The
// file diagctl dashboard saves renders the same with no request at all. A
// hostile function name shows as text. Screenshots go to $DIAGKIT_ARTIFACTS.
func TestDashboardInChromium(t *testing.T) {
	chromium := chromiumPath(t)
	artifacts := artifactDir(t)
	const token = "e2e-s3cret"
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	// The example: GOMAXPROCS above the CPUs, goroutines in a loop without
	// function calls, an agent with 1 s windows and a token. GOMAXPROCS is
	// the CPUs + 2, not more: the threads that spin take CPU from the other
	// packages' tests that go test runs meanwhile, some of which need CPU
	// time of their own (diag's contention test).
	agent, err := diag.Start(diag.Config{Addr: "127.0.0.1:0", Window: time.Second, Interval: time.Second,
		Token: token, Logger: zap.NewNop()})
	if err != nil {
		t.Fatal(err)
	}
	defer agent.Stop()
	base := "http://" + agent.Addr()
	prevProcs := runtime.GOMAXPROCS(runtime.NumCPU() + 2)
	var stop atomic.Bool
	var spinners sync.WaitGroup
	for range 2 * runtime.GOMAXPROCS(0) {
		spinners.Go(func() { dashboardSink.Add(spinLoop(&stop)) })
	}
	stopSpinning := sync.OnceFunc(func() {
		stop.Store(true)
		spinners.Wait()
		runtime.GOMAXPROCS(prevProcs)
	})
	defer stopSpinning()

	// Wait for at least 3 windows, one of which warned of async preemption
	// with the loop at the top; then stop the load, which also leaves the
	// browser the CPUs. That warning needs 100 samples in a window (the
	// agent's MinSamples): on a machine busy with other work, a window may
	// get fewer, so after 20 s any warning will do, with a window that has
	// the loop at the top.
	start := time.Now()
	deadline := start.Add(60 * time.Second)
	var shown api.WindowReport // the window to click and check
	for {
		hist := agent.History(0)
		if i := slices.IndexFunc(hist, preemptWarned); i >= 0 && len(hist) >= 3 {
			shown = hist[i]
			break
		}
		i := slices.IndexFunc(hist, spinOnTop)
		if time.Since(start) > 20*time.Second && i >= 0 && slices.ContainsFunc(hist, warnedWindow) && len(hist) >= 3 {
			shown = hist[i]
			break
		}
		if time.Now().After(deadline) {
			for _, w := range hist {
				var top string
				if len(w.TopPreempted) > 0 {
					top = w.TopPreempted[0].Function
				}
				t.Logf("window #%d: %d samples, async preemption %.1f%%, top %q, %d warnings", w.Seq, w.Samples, 100*w.Shares.AsyncPreempt, top, len(w.Warnings))
			}
			t.Fatalf("no warning, or no window with spinLoop on top, within 60 s; %d windows", len(hist))
		}
		time.Sleep(100 * time.Millisecond)
	}
	stopSpinning()
	spinFunc := shown.TopPreempted[0].Function
	t.Logf("agent at %s after %v; window #%d: async preemption %.1f%% of %d samples, %d warnings",
		base, time.Since(start).Round(time.Second), shown.Seq, 100*shown.Shares.AsyncPreempt, shown.Samples, len(shown.Warnings))

	// What diagctl dashboard saves for this agent.
	snapshotFile := filepath.Join(artifacts, "dashboard-snapshot.html")
	if res := runDiagctl(t, nil, "dashboard", "--token", token, "-f", snapshotFile, base); res.code != exitOK {
		t.Fatalf("diagctl dashboard: exit %d: %s", res.code, res.stderr)
	}
	snapData, err := os.ReadFile(snapshotFile)
	if err != nil {
		t.Fatal(err)
	}
	snap := readSavedPage(t, string(snapData))

	browserCtx := startBrowser(t, ctx, chromium)

	t.Run("live", func(t *testing.T) {
		tb := openTab(t, browserCtx, base, token)
		if err := chromedp.Do(tb.ctx, chromedp.EmulateViewport(1400, 1000), chromedp.Navigate(base+diag.PathDashboard)); err != nil {
			t.Fatalf("opening %s: %v", base+diag.PathDashboard, err)
		}
		waitReady(t, tb, 3)
		v := view(t, tb)
		if len(v.AsyncPoints) == 0 {
			t.Fatalf("no point on the shares chart: %+v", v)
		}
		// The windows the page shows are the agent's: compare with its
		// history over the same seqs (windows never change once recorded).
		var hist api.History
		if code := agentJSON(t, base, diag.PathHistory, token, &hist); code != http.StatusOK {
			t.Fatalf("history: %d", code)
		}
		first, last := uint64(v.AsyncPoints[0]), uint64(v.AsyncPoints[len(v.AsyncPoints)-1])
		visible := slices.DeleteFunc(slices.Clone(hist.Windows), func(w api.WindowReport) bool { return w.Seq < first || w.Seq > last })
		checkView(t, "live", v, visible)
		if !strings.Contains(v.Status, "live") || !strings.HasPrefix(strings.TrimPrefix(v.Title, "⚠ "), "diagkit · 127.0.0.1:") {
			t.Errorf("status %q, title %q", v.Status, v.Title)
		}

		// The page refreshes by itself: a later window appears.
		expr := fmt.Sprintf(`[...document.querySelectorAll('#chart-shares circle.pt.s-async')].some((e) => Number(e.getAttribute('data-seq')) > %d)`, last)
		if _, err := chromedp.Run(tb.ctx, chromedp.Poll[bool](expr, chromedp.WithPollingTimeout(20*time.Second),
			chromedp.WithPollingInterval(200*time.Millisecond))); err != nil {
			t.Errorf("no window after #%d appeared within 20 s: the page does not refresh (%v)", last, err)
		}

		// Clicking the window shows it: the tight loop on top, its warnings.
		selectWindow(t, tb, shown)
		v = view(t, tb)
		if len(v.Preempted) == 0 || v.Preempted[0] != spinFunc {
			t.Errorf("window #%d: functions %q, want %s on top", shown.Seq, v.Preempted, spinFunc)
		}
		for _, x := range shown.Warnings {
			if label := map[string]string{api.WarnAsyncPreempt: "Async preemption share", api.WarnSchedLatency: "Scheduling latency p99",
				api.WarnCgoShare: "cgo share", api.WarnCgoCallRate: "cgo call rate"}[x.Kind]; !strings.Contains(v.WinWarnings, label) {
				t.Errorf("window #%d: warnings %q lack %q", shown.Seq, v.WinWarnings, label)
			}
		}
		if want := preemptWarned(shown); v.AsyncAlert != want {
			t.Errorf("window #%d: async preemption card alert %v, want %v", shown.Seq, v.AsyncAlert, want)
		}

		var doctor api.DoctorReport
		var rep *api.DoctorReport
		if code := agentJSON(t, base, diag.PathDoctor, token, &doctor); code == http.StatusOK {
			rep = &doctor
		}
		checkDoctor(t, "live", v, rep)

		screenshot(t, tb, filepath.Join(artifacts, "dashboard-live.png"))

		// Signed in once at the prompt; no token in any URL; the page's
		// own requests went to the agent with the remembered credentials.
		requests := checkClean(t, "live", tb)
		_, _, auths := tb.record()
		if len(auths) != 1 || !strings.HasPrefix(strings.ToLower(auths[0]), "basic diagkit "+base+" "+base+diag.PathDashboard) {
			t.Errorf("auth challenges %q, want one Basic challenge for the page", auths)
		}
		var fetched int
		for _, u := range requests {
			if strings.Contains(u, token) {
				t.Errorf("the token is in a URL: %s", u)
			}
			if strings.HasPrefix(u, base+diag.PathHistory) {
				fetched++
			}
		}
		if fetched < 2 {
			t.Errorf("the page fetched the history %d times: %q", fetched, requests)
		}
	})

	t.Run("snapshot", func(t *testing.T) {
		tb := openTab(t, browserCtx, base, "")
		fileURL := (&url.URL{Scheme: "file", Path: snapshotFile}).String()
		if err := chromedp.Do(tb.ctx, chromedp.EmulateViewport(1400, 1000), chromedp.Navigate(fileURL)); err != nil {
			t.Fatalf("opening %s: %v", fileURL, err)
		}
		waitReady(t, tb, 1)
		v := view(t, tb)
		checkView(t, "snapshot", v, snap.History.Windows)
		checkDoctor(t, "snapshot", v, snap.Doctor)
		if !strings.Contains(v.Status, "snapshot") {
			t.Errorf("status %q", v.Status)
		}
		selectWindow(t, tb, shown)
		v = view(t, tb)
		if len(v.Preempted) == 0 || v.Preempted[0] != spinFunc {
			t.Errorf("window #%d: functions %q", shown.Seq, v.Preempted)
		}
		screenshot(t, tb, filepath.Join(artifacts, "dashboard-snapshot.png"))
		// No request at all but the file itself.
		requests := checkClean(t, "snapshot", tb)
		if len(requests) != 1 || requests[0] != fileURL {
			t.Errorf("the snapshot made requests %q, want only its own file", requests)
		}
	})

	t.Run("hostile strings are text", func(t *testing.T) {
		evil := `<img src=x onerror="window.__xss=1"></script><script>window.__xss=2</script>`
		w := snap.History.Windows[len(snap.History.Windows)-1]
		w.Warnings = []api.Warning{{Kind: api.WarnAsyncPreempt, Value: 0.5, Threshold: 0.01,
			Causes: []string{`<b id="injected">` + evil}, Functions: []string{evil}}}
		w.TopPreempted = []analysis.FuncStat{{Function: evil, File: "/src/" + evil, Line: 1, Share: 0.5, CPUSeconds: 1, Samples: 100}}
		w.Interpretation = evil
		doc := &api.DoctorReport{Schema: api.DoctorSchema, Source: "agent", Windows: 1,
			Checks: []api.Check{{ID: api.CheckHotLoops, Title: evil, Status: api.StatusFail, Evidence: []string{evil}, Advice: evil}},
			Counts: api.Counts{Fail: 1}}
		var buf bytes.Buffer
		if err := dashboard.Write(&buf, dashboard.Snapshot{Target: evil, Saved: time.Now(), Generator: evil,
			History: api.History{WindowSchema: api.WindowSchema, Windows: []api.WindowReport{w}}, Doctor: doc}); err != nil {
			t.Fatal(err)
		}
		file := filepath.Join(t.TempDir(), "hostile.html")
		if err := os.WriteFile(file, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		tb := openTab(t, browserCtx, base, "")
		fileURL := (&url.URL{Scheme: "file", Path: file}).String()
		if err := chromedp.Do(tb.ctx, chromedp.Navigate(fileURL)); err != nil {
			t.Fatal(err)
		}
		waitReady(t, tb, 1)
		v := view(t, tb)
		injected, err := chromedp.Run(tb.ctx, chromedp.Evaluate[bool](
			`window.__xss !== undefined || document.getElementById('injected') !== null || document.images.length > 0`))
		if err != nil {
			t.Fatal(err)
		}
		if injected || v.Scripts != 2 {
			t.Errorf("data became markup: injected %v, %d scripts", injected, v.Scripts)
		}
		if len(v.Preempted) != 1 || v.Preempted[0] != evil || !strings.Contains(v.WinWarnings, `<b id="injected">`) ||
			!strings.Contains(v.DoctorText, evil) {
			t.Errorf("the hostile strings are not shown as text: functions %q, warnings %q", v.Preempted, v.WinWarnings)
		}
		if requests := checkClean(t, "hostile", tb); len(requests) != 1 {
			t.Errorf("requests %q, want only the file", requests)
		}
	})
}

// startBrowser starts headless Chromium, with exactly these flags and a
// fresh profile, for the rest of the test.
func startBrowser(t *testing.T, ctx context.Context, chromium string) context.Context {
	t.Helper()
	var browserOut lockedBuffer
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(ctx,
		chromedp.ExecPath(chromium),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.CombinedOutput(&browserOut),
	)
	browserCtx, cancelBrowser := chromedp.NewContext(allocCtx)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("browser output (without its D-Bus complaints):\n%s", lastLines(browserOut.String(), 30))
		}
		cancelBrowser()
		cancelAlloc()
	})
	if err := chromedp.Do(browserCtx); err != nil {
		t.Fatalf("starting %s: %v\n%s", chromium, err, browserOut.String())
	}
	return browserCtx
}

func lastLines(s string, n int) string {
	lines := slices.DeleteFunc(strings.Split(strings.TrimRight(s, "\n"), "\n"), func(l string) bool { return strings.Contains(l, "dbus") })
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// episodeHistory is a newer agent's history: CPU contention is active
// across windows #2–#6 (warned in #2, #3 and #6, held in #5) with #4 unable
// to judge it, so it is one episode; throttling is raised in #7 and still
// ongoing in #8. Loop evidence comes with the scheduling-latency warnings,
// one with a trace the agent serves, the others with paths no link may
// follow. Without episodes, the windows' active and unjudged lists are
// dropped: an older agent's history.
func episodeHistory(episodes bool) api.History {
	base := time.Now().Add(-10 * time.Second).Truncate(time.Second)
	cont := func(v float64, lead, cause string) api.Warning {
		return api.Warning{Kind: api.WarnContention, Value: v, Threshold: 0.5, LeadCause: lead, Causes: []string{cause}, Logged: true}
	}
	latency := func(tracePath string) api.Warning {
		return api.Warning{Kind: api.WarnSchedLatency, Value: 0.02, Threshold: 0.01, LeadCause: api.CauseLongRuns,
			Causes:    []string{"12 runnable goroutines for 8 Ps, runs of 250 ms without a call"},
			Functions: []string{"main.spin"}, FunctionsFrom: api.FromTrace, Logged: true,
			Evidence: &api.LoopEvidence{Time: base.Add(3 * time.Second), Goroutines: 40,
				Preempted: []api.PreemptedSite{
					{Function: "main.spin", File: "/src/app/spin.go", Line: 12, Goroutines: 7, LongRuns: 31},
					{Function: "main.other", Goroutines: 3, LongRuns: 2},
				},
				Trace: &api.TraceEvidence{Start: base.Add(3 * time.Second), Seconds: 1, Bytes: 123456, AsyncPreemptions: 50,
					CooperativePreemptions: 3, LongestRunSeconds: 0.25, RunsOver10ms: 4, Path: tracePath}}}
	}
	type win struct {
		warnings         []api.Warning
		active, unjudged []string
		ratio            *float64
		unavailable      string
	}
	f := func(v float64) *float64 { return &v }
	wins := []win{
		{ratio: f(0.1)},
		{warnings: []api.Warning{cont(0.7, api.CauseHostContention, "other processes use 3.1 CPUs of 4")}, active: []string{api.WarnContention}, ratio: f(0.7)},
		{warnings: []api.Warning{cont(0.9, api.CauseHostContention, "other processes use 3.5 CPUs of 4"), latency("/debug/diag/evidence/trace")},
			active: []string{api.WarnContention, api.WarnSchedLatency}, ratio: f(0.9)},
		{unjudged: []string{api.WarnContention}, unavailable: "schedstat: no such file"},
		{active: []string{api.WarnContention}, ratio: f(0.3)},
		{warnings: []api.Warning{cont(0.6, api.CauseGOMAXPROCS, "GOMAXPROCS 8 > 4 CPUs"), latency("javascript:window.__xss=1")},
			active: []string{api.WarnContention, api.WarnSchedLatency}, ratio: f(0.6)},
		{warnings: []api.Warning{{Kind: api.WarnThrottling, Value: 0.4, Threshold: 0.25, LeadCause: api.CauseThrottling,
			Causes: []string{"the quota of /kubepods/pod1 (2 CPUs) throttled 40% of periods"}, Logged: true}},
			active: []string{api.WarnThrottling}, ratio: f(0.2)},
		{warnings: []api.Warning{latency("//evil.example/trace")}, active: []string{api.WarnThrottling, api.WarnSchedLatency}, ratio: f(0.2)},
	}
	h := api.History{WindowSchema: api.WindowSchema}
	for i, w := range wins {
		start := base.Add(time.Duration(i) * time.Second)
		p99 := 0.004
		r := api.WindowReport{
			Report: analysis.Report{Schema: analysis.Schema, Samples: 200, CPUSeconds: 2,
				Shares: analysis.Shares{Go: 0.9, AsyncPreempt: 0.1}},
			WindowSchema: api.WindowSchema, Seq: uint64(i + 1), Start: start, End: start.Add(time.Second), Source: "periodic",
			Context: api.Context{GoVersion: "go1.26.1", GOMAXPROCS: 8, NumCPU: 4, CgroupVersion: "v2",
				CgroupCPULimit: f(2), CgroupCPULimitPath: "/kubepods/pod1",
				CgroupThrottledShare: f(0.05 * float64(i)), CgroupThrottledSecondsPerSecond: f(0.1),
				RunQueueWaitRatio: w.ratio, RunQueueWaitUnavailable: w.unavailable,
				OtherCPUs: f(3.1), StealCPUs: f(0.05),
				SchedLatency: &api.Latency{Count: 100, P50: 0.001, P99: p99, P999: 0.01}},
			Warnings: w.warnings,
		}
		if w.unavailable == "" {
			r.Context.RunQueueWaitPerSecond = f(*w.ratio * 2)
		}
		if episodes {
			r.Active, r.Unjudged = w.active, w.unjudged
		}
		h.Windows = append(h.Windows, r)
	}
	return h
}

// episodeView is what the page shows of episodes and the new figures.
type episodeView struct {
	Episodes []struct {
		Kind    string `json:"kind"`
		First   int    `json:"first"`
		Last    int    `json:"last"`
		Windows int    `json:"windows"`
		Text    string `json:"text"`
	} `json:"episodes"`
	Bars        []string `json:"bars"` // kind first-last
	RQPoints    []int    `json:"rqPoints"`
	RQRuns      int      `json:"rqRuns"`
	RQThreshold string   `json:"rqThreshold"`
	ThPoints    int      `json:"thPoints"`
	ThThreshold string   `json:"thThreshold"`
	Legend      string   `json:"legend"`
	WinTitle    string   `json:"winTitle"`
	WinWarnings string   `json:"winWarnings"`
	Links       []string `json:"links"`
	Context     string   `json:"context"`
	Injected    bool     `json:"injected"`
}

const episodeViewJS = `(() => {
  const all = (s) => [...document.querySelectorAll(s)];
  const text = (id) => document.getElementById(id).textContent;
  const num = (e, a) => Number(e.getAttribute(a));
  const line = document.querySelector('#chart-rqwait path.line.s-rqwait');
  return {
    episodes: all('#episodes .episode').map((e) => ({ kind: e.getAttribute('data-kind'), first: num(e, 'data-first'),
      last: num(e, 'data-last'), windows: num(e, 'data-windows'), text: e.textContent })),
    bars: all('#chart-warnings rect.episode-bar').map((e) => e.getAttribute('data-kind') + ' ' + e.getAttribute('data-first') + '-' + e.getAttribute('data-last')),
    rqPoints: all('#chart-rqwait circle.pt.s-rqwait').map((e) => num(e, 'data-seq')),
    rqRuns: line ? (line.getAttribute('d').match(/M/g) || []).length : 0,
    rqThreshold: all('#chart-rqwait text.threshold-label').map((e) => e.textContent).join('|'),
    thPoints: all('#chart-throttle circle.pt.s-throttle').length,
    thThreshold: all('#chart-throttle text.threshold-label').map((e) => e.textContent).join('|'),
    legend: text('tl-legend'),
    winTitle: text('win-title'),
    winWarnings: text('win-warnings'),
    links: all('#win-warnings a').map((e) => e.getAttribute('href')),
    context: all('#win-context > div').map((e) => e.firstChild.textContent + '=' + e.lastChild.textContent).join('|'),
    injected: window.__xss !== undefined,
  };
})()`

func episodeViewOf(t *testing.T, tb *tab) episodeView {
	t.Helper()
	v, err := chromedp.Run(tb.ctx, chromedp.Evaluate[episodeView](episodeViewJS))
	if err != nil {
		t.Fatalf("reading the page: %v", err)
	}
	return v
}

// episodeSpans lists the episodes as "kind first-last (windows)", newest
// first as the page lists them.
func episodeSpans(v episodeView) []string {
	var out []string
	for _, e := range v.Episodes {
		out = append(out, fmt.Sprintf("%s %d-%d (%d)", e.Kind, e.First, e.Last, e.Windows))
	}
	return out
}

// TestDashboardEpisodesInChromium feeds the page synthetic windows of a
// newer agent, live from a stand-in agent mounted under a prefix and as a
// saved file: one episode per lasting problem (an unjudged window does not
// break one), the run-queue wait and throttling charts with their gaps and
// thresholds, and a window's lead cause, loop evidence and new context
// figures; the trace link only on the live page, and only to the agent.
// An older agent's windows, without active, group warnings as before.
func TestDashboardEpisodesInChromium(t *testing.T) {
	chromium := chromiumPath(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	browserCtx := startBrowser(t, ctx, chromium)

	hist := episodeHistory(true)
	const prefix = "/svc"
	mux := http.NewServeMux()
	mux.Handle(prefix+diag.PathDashboard, dashboard.Handler(dashboard.Options{Refresh: time.Second}))
	mux.HandleFunc(prefix+diag.PathHistory, func(w http.ResponseWriter, r *http.Request) {
		h := hist
		if r.URL.Query().Get("n") == "1" {
			h.Windows = h.Windows[len(h.Windows)-1:]
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(h)
	})
	mux.HandleFunc(prefix+diag.PathDoctor, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(api.DoctorReport{Schema: api.DoctorSchema, Source: "agent", Time: time.Now(), Windows: 8,
			Checks: []api.Check{{ID: api.CheckHotLoops, Title: "hot loops", Status: api.StatusPass}}, Counts: api.Counts{Pass: 1}})
	})
	mux.HandleFunc(prefix+"/debug/diag/evidence/trace", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/octet-stream")
		_, _ = w.Write([]byte("go 1.26 trace"))
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()

	wantEpisodes := []string{ // newest first
		"sched_latency_p99 8-8 (1)", "cpu_throttling 7-8 (2)", "sched_latency_p99 6-6 (1)",
		"sched_latency_p99 3-3 (1)", "cpu_contention 2-6 (5)",
	}
	// checkEpisodes checks what both modes show the same way.
	checkEpisodes := func(t *testing.T, tb *tab) {
		t.Helper()
		v := episodeViewOf(t, tb)
		if got := episodeSpans(v); !slices.Equal(got, wantEpisodes) {
			t.Errorf("episodes %q, want %q", got, wantEpisodes)
		}
		for _, e := range v.Episodes {
			switch e.Kind {
			case api.WarnContention:
				if !strings.Contains(e.Text, "peak 0.90 > 0.50") || !strings.Contains(e.Text, "3 warned") || strings.Contains(e.Text, "ongoing") {
					t.Errorf("contention episode: %q", e.Text)
				}
			case api.WarnThrottling:
				if !strings.Contains(e.Text, "ongoing") || !strings.Contains(e.Text, "40.0% > 25.0%") {
					t.Errorf("throttling episode: %q", e.Text)
				}
			}
		}
		if len(v.Bars) != len(wantEpisodes) || !slices.Contains(v.Bars, "cpu_contention 2-6") {
			t.Errorf("episode bars on the timeline %q", v.Bars)
		}
		// Run-queue wait: no point for #4, where it is unavailable, and the
		// line broken there rather than dropped to 0.
		if !slices.Equal(v.RQPoints, []int{1, 2, 3, 5, 6, 7, 8}) || v.RQRuns != 2 {
			t.Errorf("run-queue wait points %v in %d runs, want all but #4 in 2", v.RQPoints, v.RQRuns)
		}
		if v.RQThreshold != "contention threshold 0.50" || v.ThThreshold != "throttling threshold 25.0%" || v.ThPoints != 8 {
			t.Errorf("thresholds %q and %q, %d throttling points", v.RQThreshold, v.ThThreshold, v.ThPoints)
		}
		if !strings.Contains(v.Legend, "run-queue wait") || !strings.Contains(v.Legend, "throttled periods") {
			t.Errorf("legend %q", v.Legend)
		}
	}
	// checkWindow3 clicks window #3 and checks its detail; it returns the
	// trace links it shows.
	checkWindow3 := func(t *testing.T, tb *tab) []string {
		t.Helper()
		selectWindow(t, tb, hist.Windows[2])
		v := episodeViewOf(t, tb)
		for _, want := range []string{
			"Lead cause: other processes take the CPUs · other processes use 3.5 CPUs of 4",
			"Lead cause: long runs without a function call · 12 runnable goroutines",
			"Functions from goroutines an execution trace saw run 10 ms or more before async preemption",
			"goroutine dump of 40 goroutines", "main.spinspin.go:12731", "main.other32", // rows: function, location, goroutines, long runs
			"1.00 s, 120.6 KiB", "50 async and 3 cooperative preemptions", "longest run 250 ms", "4 runs of 10 ms or more",
		} {
			if !strings.Contains(v.WinWarnings, want) {
				t.Errorf("window #3: warnings lack %q: %q", want, v.WinWarnings)
			}
		}
		for _, want := range []string{
			"Run-queue wait per CPU second=0.90 s", "Run-queue wait per second=1.8 CPUs", "Throttled periods=10.0%",
			"Throttled time per second=0.10 s/s", "cgroup CPU limit (effective)=2 CPUs (v2)", "Limit set by cgroup=/kubepods/pod1",
			"Other processes' CPU=3.1 CPUs", "Steal=0.05 CPUs",
		} {
			if !strings.Contains(v.Context, want) {
				t.Errorf("window #3: context lacks %q: %q", want, v.Context)
			}
		}
		return v.Links
	}
	// checkOthers checks the unjudged window, a held one, and the traces no
	// link may follow.
	checkOthers := func(t *testing.T, tb *tab) {
		t.Helper()
		selectWindow(t, tb, hist.Windows[3])
		v := episodeViewOf(t, tb)
		if !strings.Contains(v.Context, "Run-queue wait=unavailable: schedstat: no such file") || !strings.Contains(v.WinWarnings, "Not judged in this window") {
			t.Errorf("window #4: context %q, warnings %q", v.Context, v.WinWarnings)
		}
		selectWindow(t, tb, hist.Windows[4])
		if v := episodeViewOf(t, tb); !strings.Contains(v.WinWarnings, "Ongoing CPU contention") {
			t.Errorf("window #5: %q, want contention held", v.WinWarnings)
		}
		for _, w := range hist.Windows[5:] {
			if len(w.Warnings) == 0 {
				continue
			}
			selectWindow(t, tb, w)
			v := episodeViewOf(t, tb)
			if len(v.Links) != 0 || v.Injected {
				t.Errorf("window #%d: links %q, injected %v", w.Seq, v.Links, v.Injected)
			}
		}
	}

	t.Run("live", func(t *testing.T) {
		tb := openTab(t, browserCtx, srv.URL, "")
		page := srv.URL + prefix + diag.PathDashboard
		if err := chromedp.Do(tb.ctx, chromedp.EmulateViewport(1400, 1000), chromedp.Navigate(page)); err != nil {
			t.Fatalf("opening %s: %v", page, err)
		}
		waitReady(t, tb, len(hist.Windows))
		checkEpisodes(t, tb)
		links := checkWindow3(t, tb)
		want := prefix + "/debug/diag/evidence/trace"
		if !slices.Equal(links, []string{want}) {
			t.Fatalf("window #3: trace links %q, want %q", links, want)
		}
		resp, err := http.Get(srv.URL + links[0])
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("the trace link %s: %d", links[0], resp.StatusCode)
		}
		checkOthers(t, tb)
		screenshot(t, tb, filepath.Join(artifactDir(t), "dashboard-episodes.png"))
		checkClean(t, "live", tb)
	})

	saved := func(t *testing.T, h api.History) *tab {
		t.Helper()
		var buf bytes.Buffer
		if err := dashboard.Write(&buf, dashboard.Snapshot{Target: "stand-in", Saved: time.Now(), History: h}); err != nil {
			t.Fatal(err)
		}
		file := filepath.Join(t.TempDir(), "episodes.html")
		if err := os.WriteFile(file, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		tb := openTab(t, browserCtx, srv.URL, "")
		if err := chromedp.Do(tb.ctx, chromedp.EmulateViewport(1400, 1000), chromedp.Navigate((&url.URL{Scheme: "file", Path: file}).String())); err != nil {
			t.Fatal(err)
		}
		waitReady(t, tb, len(h.Windows))
		return tb
	}

	t.Run("snapshot", func(t *testing.T) {
		tb := saved(t, hist)
		checkEpisodes(t, tb)
		if links := checkWindow3(t, tb); len(links) != 0 {
			t.Errorf("the saved page links to the agent: %q", links)
		}
		if v := episodeViewOf(t, tb); !strings.Contains(v.WinWarnings, "The agent served the raw trace at /debug/diag/evidence/trace") {
			t.Errorf("window #3: the trace's path is not shown: %q", v.WinWarnings)
		}
		checkOthers(t, tb)
		if requests := checkClean(t, "snapshot", tb); len(requests) != 1 {
			t.Errorf("requests %q, want only the file", requests)
		}
	})

	t.Run("older agent", func(t *testing.T) {
		tb := saved(t, episodeHistory(false))
		want := []string{ // runs of windows that warned
			"sched_latency_p99 8-8 (1)", "cpu_throttling 7-7 (1)", "sched_latency_p99 6-6 (1)", "cpu_contention 6-6 (1)",
			"sched_latency_p99 3-3 (1)", "cpu_contention 2-3 (2)",
		}
		if got := episodeSpans(episodeViewOf(t, tb)); !slices.Equal(got, want) {
			t.Errorf("episodes %q, want %q", got, want)
		}
		checkClean(t, "older agent", tb)
	})
}
