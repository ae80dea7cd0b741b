package dashboard

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/diagkit/diagkit/diag/analysis"
	"github.com/diagkit/diagkit/diag/api"
	"github.com/diagkit/diagkit/internal/compare"
)

// hostile are strings data can hold that would break out of the page if
// they were parsed as HTML or closed the data element.
var hostile = []string{
	`</script><script>window.__xss=1</script>`,
	`<img src=x onerror="window.__xss=2">`,
	`<!-- <script>`,
	"\u2028\u2029 & \"quotes\" 'single'",
}

func ptr[T any](v T) *T { return &v }

func testSnapshot() Snapshot {
	end := time.Date(2026, 11, 22, 11, 31, 42, 0, time.UTC)
	w := api.WindowReport{
		Report: analysis.Report{
			Schema: analysis.Schema, Samples: 200, CPUSeconds: 2,
			Shares: analysis.Shares{AsyncPreempt: 0.4, Go: 0.6},
			TopPreempted: []analysis.FuncStat{
				{Function: "main." + hostile[0], File: "/src/" + hostile[1], Line: 7, Share: 0.4, CPUSeconds: 0.8, Samples: 80},
			},
			TopCgoCalls:    []analysis.FuncStat{{Function: "main.call", CFunction: hostile[2], Share: 0.01}},
			Interpretation: hostile[3],
		},
		WindowSchema: api.WindowSchema, Seq: 1, Start: end.Add(-time.Second), End: end, Source: "periodic",
		Context: api.Context{GoVersion: "go1.26.8", GOMAXPROCS: 8, NumCPU: 2,
			CgroupCPULimit: ptr(2.0), CgroupCPULimitPath: "/kubepods/" + hostile[0],
			CgroupThrottledShare: ptr(0.3), CgroupThrottledSecondsPerSecond: ptr(0.4),
			RunQueueWaitPerSecond: ptr(1.5), RunQueueWaitUnavailable: hostile[1],
			OtherCPUs: ptr(0.0), StealCPUs: ptr(0.1)},
		Warnings: []api.Warning{{Kind: api.WarnAsyncPreempt, Value: 0.4, Threshold: 0.01,
			Causes: []string{hostile[1]}, LeadCause: api.CauseLongRuns, Functions: []string{hostile[0]},
			FunctionsFrom: api.FromTrace, Logged: true,
			Evidence: &api.LoopEvidence{Time: end, Goroutines: 12, Note: hostile[2],
				Preempted: []api.PreemptedSite{{Function: "main." + hostile[0], File: "/src/" + hostile[1], Line: 9, Goroutines: 7, LongRuns: 30}},
				Trace: &api.TraceEvidence{Start: end, Seconds: 1, Bytes: 4096, AsyncPreemptions: 40, LongestRunSeconds: 0.2,
					RunsOver10ms: 3, Cut: true, Path: "javascript:" + hostile[0]}}}},
		Active:   []string{api.WarnAsyncPreempt, api.WarnContention},
		Unjudged: []string{api.WarnThrottling},
	}
	return Snapshot{
		Target:    "host:6060" + hostile[0],
		Saved:     end.Add(time.Minute),
		Generator: "diagctl test",
		History:   api.History{WindowSchema: api.WindowSchema, Windows: []api.WindowReport{w}},
		Doctor: &api.DoctorReport{Schema: api.DoctorSchema, Source: "agent", Time: end, Windows: 1,
			Checks: []api.Check{{ID: api.CheckHotLoops, Title: hostile[0], Status: api.StatusFail, Evidence: []string{hostile[1]}, Advice: hostile[2]}},
			Counts: api.Counts{Fail: 1}},
	}
}

// element returns the text of the first element whose start tag begins with
// open, up to the first closing tag: what an HTML parser would take.
func element(t *testing.T, page, open, closing string) string {
	t.Helper()
	i := strings.Index(page, open)
	if i < 0 {
		t.Fatalf("no %s in the page", open)
	}
	rest := page[i:]
	gt := strings.Index(rest, ">")
	end := strings.Index(strings.ToLower(rest), closing)
	if gt < 0 || end < gt {
		t.Fatalf("%s is not closed", open)
	}
	return rest[gt+1 : end]
}

// checkInline checks that the inline script and style are exactly the
// assets and that the policy allows them by hash.
func checkInline(t *testing.T, page, csp string) {
	t.Helper()
	if got := element(t, page, "<style>", "</style>"); got != pageCSS {
		t.Errorf("inline style differs from the asset (%d vs %d bytes)", len(got), len(pageCSS))
	}
	if got := element(t, page, "<script>", "</script>"); got != pageJS {
		t.Errorf("inline script differs from the asset (%d vs %d bytes)", len(got), len(pageJS))
	}
	for _, want := range []string{"default-src 'none'", "script-src " + cspHash(pageJS), "style-src " + cspHash(pageCSS), "base-uri 'none'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("policy %q lacks %q", csp, want)
		}
	}
	if strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "unsafe-eval") {
		t.Errorf("policy allows unsafe code: %q", csp)
	}
	// Nothing is loaded from elsewhere: no src attribute, links only to
	// data: URLs, no CSS import or url().
	if regexp.MustCompile(`(?i)\ssrc\s*=`).MatchString(stripData(t, page)) {
		t.Error("the page has a src attribute")
	}
	for _, m := range regexp.MustCompile(`(?i)\shref\s*=\s*"([^"]*)"`).FindAllStringSubmatch(page, -1) {
		if !strings.HasPrefix(m[1], "data:") {
			t.Errorf("the page links to %q", m[1])
		}
	}
	if strings.Contains(pageCSS, "@import") || strings.Contains(pageCSS, "url(") {
		t.Error("the style imports or loads something")
	}
}

// stripData removes the data element, whose strings may say anything.
func stripData(t *testing.T, page string) string {
	t.Helper()
	data := element(t, page, `<script type="application/json" id="diag-data">`, "</script>")
	return strings.Replace(page, data, "", 1)
}

func TestHandlerServesTheLivePage(t *testing.T) {
	srv := httptest.NewServer(Handler(Options{Refresh: 2 * time.Second, History: 30}))
	defer srv.Close()

	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET: %d", resp.StatusCode)
	}
	for k, want := range map[string]string{
		"Content-Type": "text/html; charset=utf-8", "X-Content-Type-Options": "nosniff",
		"X-Frame-Options": "DENY", "Cache-Control": "no-store", "Referrer-Policy": "no-referrer",
	} {
		if got := resp.Header.Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	page := string(body)
	csp := resp.Header.Get("Content-Security-Policy")
	checkInline(t, page, csp)
	for _, want := range []string{"connect-src 'self'", "frame-ancestors 'none'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("policy %q lacks %q", csp, want)
		}
	}
	if strings.Contains(page, `http-equiv="Content-Security-Policy"`) {
		t.Error("the live page has a meta policy too")
	}
	var cfg liveConfig
	if err := json.Unmarshal([]byte(element(t, page, `<script type="application/json" id="diag-data">`, "</script>")), &cfg); err != nil {
		t.Fatal(err)
	}
	if want := (liveConfig{Schema: Schema, Mode: "live", RefreshMS: 2000, History: 30}); cfg != want {
		t.Errorf("config = %+v, want %+v", cfg, want)
	}

	// Defaults.
	rec := httptest.NewRecorder()
	Handler(Options{}).ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	if err := json.Unmarshal([]byte(element(t, rec.Body.String(), `id="diag-data">`, "</script>")), &cfg); err != nil {
		t.Fatal(err)
	}
	if cfg.RefreshMS != DefaultRefresh.Milliseconds() || cfg.History != DefaultHistory {
		t.Errorf("default config = %+v", cfg)
	}

	req, _ := http.NewRequest(http.MethodHead, srv.URL, nil)
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || len(body) != 0 || resp.Header.Get("Content-Security-Policy") != csp {
		t.Errorf("HEAD: %d, %d bytes", resp.StatusCode, len(body))
	}
	resp, err = http.Post(srv.URL, "text/plain", strings.NewReader("x"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") != "GET, HEAD" {
		t.Errorf("POST: %d, Allow %q", resp.StatusCode, resp.Header.Get("Allow"))
	}
}

func TestWriteInlinesTheDataSafely(t *testing.T) {
	snap := testSnapshot()
	var buf bytes.Buffer
	if err := Write(&buf, snap); err != nil {
		t.Fatal(err)
	}
	page := buf.String()

	meta := regexp.MustCompile(`<meta http-equiv="Content-Security-Policy" content="([^"]*)">`).FindStringSubmatch(page)
	if meta == nil {
		t.Fatal("no meta policy in the snapshot")
	}
	csp := html.UnescapeString(meta[1]) // as a browser reads the attribute
	if want := loadAssets().snapshotCSP; csp != want {
		t.Errorf("meta policy = %q, want %q", csp, want)
	}
	if strings.Contains(csp, "connect-src") {
		t.Errorf("a snapshot may connect somewhere: %q", csp)
	}
	checkInline(t, page, csp)

	// The data element ends where a parser ends it, and holds exactly the
	// snapshot: no string closed it early or opened a comment.
	raw := element(t, page, `<script type="application/json" id="diag-data">`, "</script>")
	for _, bad := range []string{"<", ">", "\u2028", "\u2029"} {
		if strings.Contains(raw, bad) {
			t.Errorf("the data element holds a raw %q", bad)
		}
	}
	if !strings.Contains(raw, `\u003c/script\u003e`) {
		t.Error(`"</script>" is not escaped as \u003c/script\u003e`)
	}
	var got snapshotData
	if err := json.Unmarshal([]byte(raw), &got); err != nil {
		t.Fatalf("the data element is not the JSON written: %v", err)
	}
	want := snapshotData{Schema: Schema, Mode: "snapshot", Target: snap.Target, Saved: snap.Saved, Generator: snap.Generator,
		History: snap.History, Doctor: snap.Doctor}
	// Round trip the expectation through JSON too (time zones, nil slices).
	wb, _ := json.Marshal(want)
	var wantRT snapshotData
	_ = json.Unmarshal(wb, &wantRT)
	if !reflect.DeepEqual(got, wantRT) {
		t.Errorf("the data element does not hold the snapshot:\ngot  %+v\nwant %+v", got, wantRT)
	}
	if fn := got.History.Windows[0].TopPreempted[0].Function; fn != "main."+hostile[0] {
		t.Errorf("function name = %q", fn)
	}

	// The title is escaped.
	title := element(t, page, "<title>", "</title>")
	if strings.Contains(title, "<") || !strings.Contains(title, "&lt;/script&gt;") {
		t.Errorf("title not escaped: %q", title)
	}
	// One script runs, the page's; the data element is not executable.
	if n := strings.Count(stripData(t, page), "<script"); n != 2 {
		t.Errorf("%d script elements outside the data, want the data element and the page's script", n)
	}
}

// WriteJSON writes the document a saved page holds.
func TestWriteJSONIsThePagesData(t *testing.T) {
	snap := testSnapshot()
	var page, doc bytes.Buffer
	if err := Write(&page, snap); err != nil {
		t.Fatal(err)
	}
	if err := WriteJSON(&doc, snap); err != nil {
		t.Fatal(err)
	}
	var fromPage, got snapshotData
	if err := json.Unmarshal([]byte(element(t, page.String(), `id="diag-data">`, "</script>")), &fromPage); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(doc.Bytes(), &got); err != nil {
		t.Fatalf("WriteJSON wrote no JSON: %v", err)
	}
	if !reflect.DeepEqual(got, fromPage) || got.Schema != Schema || got.Mode != "snapshot" {
		t.Errorf("WriteJSON:\n%+v\nthe page holds\n%+v", got, fromPage)
	}
	var empty bytes.Buffer
	if err := WriteJSON(&empty, Snapshot{Target: "h:1"}); err != nil || !strings.Contains(empty.String(), `"windows": []`) {
		t.Errorf("no windows: %v\n%s", err, empty.String())
	}
}

func TestWriteWithoutDoctorOrWindows(t *testing.T) {
	var buf bytes.Buffer
	if err := Write(&buf, Snapshot{Target: "h:1", DoctorNote: "no doctor here"}); err != nil {
		t.Fatal(err)
	}
	var got snapshotData
	raw := element(t, buf.String(), `id="diag-data">`, "</script>")
	if err := json.Unmarshal([]byte(raw), &got); err != nil {
		t.Fatal(err)
	}
	if got.Doctor != nil || got.DoctorNote != "no doctor here" || got.History.Windows == nil || len(got.History.Windows) != 0 {
		t.Errorf("got %+v", got)
	}
	if !strings.Contains(raw, `"windows":[]`) || !strings.Contains(raw, `"doctor":null`) {
		t.Errorf("want an empty windows array and a null doctor: %s", raw)
	}
}

// The page's script puts data in the DOM as text only: no API that parses
// HTML or code, no attribute that loads or runs anything. (The browser test
// in cmd/diagctl shows a hostile function name as text.)
func TestScriptTreatsDataAsText(t *testing.T) {
	for _, bad := range []string{"innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function",
		"setTimeout('", `setTimeout("`, "srcdoc", ".src =", ".href =", "javascript:"} {
		if strings.Contains(pageJS, bad) {
			t.Errorf("dashboard.js uses %s", bad)
		}
	}
	// setAttribute is called with allowed names only (setProps checks them).
	// The one link, to the trace on the agent, takes its URL from agentHref,
	// which lets only a plain path on the page's origin through.
	for _, m := range regexp.MustCompile(`setAttribute\(([^,]+),\s*([^)]*)`).FindAllStringSubmatch(pageJS, -1) {
		switch arg := strings.TrimSpace(m[1]); arg {
		case "k", "'class'", "'x1'", "'x2'", "'data-windows'", "'data-doctor'", "'data-state'", "'data-compare'", "'aria-label'":
		case "'href'":
			if !strings.HasPrefix(m[2], "agentHref(") {
				t.Errorf("setAttribute('href', %s…): want agentHref(…)", m[2])
			}
		default:
			t.Errorf("setAttribute(%s, …): add the name to this list only if it cannot load or run anything", arg)
		}
	}
	// Only relative URLs are fetched: the page's own siblings.
	for _, m := range regexp.MustCompile(`getJSON\(([^)]*)\)`).FindAllStringSubmatch(pageJS, -1) {
		if arg := m[1]; arg != "path" && !strings.HasPrefix(arg, "'history?") && arg != "'doctor'" {
			t.Errorf("getJSON(%s): want a relative path", arg)
		}
	}
	if n := strings.Count(pageJS, "fetch("); n != 1 {
		t.Errorf("%d fetch calls, want the one in getJSON", n)
	}
}

// jsObjectKeys returns the keys of the object literal `var name = {…};` in
// the page's script, in order.
func jsObjectKeys(t *testing.T, name string) []string {
	t.Helper()
	_, rest, ok := strings.Cut(pageJS, "var "+name+" = {\n")
	if !ok {
		t.Fatalf("dashboard.js has no var %s", name)
	}
	body, _, ok := strings.Cut(rest, "\n  };")
	if !ok {
		t.Fatalf("var %s is not closed", name)
	}
	var keys []string
	for _, m := range regexp.MustCompile(`(?m)^\s+(\w+):`).FindAllStringSubmatch(body, -1) {
		keys = append(keys, m[1])
	}
	return keys
}

// The page names every warning kind, in the agent's order (its episode
// lanes follow it), every lead cause and every source of functions the api
// defines: a new one fails here rather than showing as a bare ID.
func TestScriptKnowsTheAPIsNames(t *testing.T) {
	if got := jsObjectKeys(t, "KINDS"); !reflect.DeepEqual(got, api.WarningKinds) {
		t.Errorf("KINDS = %q, want api.WarningKinds %q", got, api.WarningKinds)
	}
	causes := []string{api.CauseThrottling, api.CauseHostContention, api.CauseGOMAXPROCS, api.CauseLongRuns,
		api.CauseGC, api.CauseCgoCalls, api.CauseCgoCode, api.CauseUnknown}
	if got := jsObjectKeys(t, "CAUSES"); !reflect.DeepEqual(got, causes) {
		t.Errorf("CAUSES = %q, want %q", got, causes)
	}
	from := []string{api.FromTrace, api.FromCPUProfile, api.FromCgoCallSites}
	if got := jsObjectKeys(t, "FUNCTIONS_FROM"); !reflect.DeepEqual(got, from) {
		t.Errorf("FUNCTIONS_FROM = %q, want %q", got, from)
	}
}

// Every chart the script draws, and the block it shows or hides, is in the
// page.
func TestScriptChartsAreInThePage(t *testing.T) {
	ids := regexp.MustCompile(`\b(?:id|block): '([\w-]+)'`).FindAllStringSubmatch(pageJS, -1)
	if len(ids) < 7 {
		t.Fatalf("found %d chart ids in dashboard.js", len(ids))
	}
	for _, m := range ids {
		if !strings.Contains(pageHTML, `id="`+m[1]+`"`) {
			t.Errorf("page.html has no element %s", m[1])
		}
	}
	for _, want := range []string{"chart-rqwait", "chart-throttle", "block-rqwait", "block-throttle"} {
		if !strings.Contains(pageJS, "'"+want+"'") {
			t.Errorf("dashboard.js does not draw %s", want)
		}
	}
}

// The Compare panel's port of internal/compare knows its figures, in its
// order, with their labels, units and directions, and says what its tests
// are as compare.Methods does. (cmd/diagctl's TestDashboardCompareInChromium
// checks the numbers.)
func TestScriptKnowsTheComparesFigures(t *testing.T) {
	re := regexp.MustCompile(`(?m)^\s+\{ name: '(\w+)', label: '([^']*)', unit: '(\w+)', worse: (true|false), `)
	var got, want []string
	for _, m := range re.FindAllStringSubmatch(pageJS, -1) {
		got = append(got, strings.Join(m[1:], " | "))
	}
	for _, f := range compare.Figures {
		want = append(want, fmt.Sprintf("%s | %s | %s | %t", f.Name, f.Label, f.Unit, f.HigherIsWorse))
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("FIGURES in dashboard.js:\n%s\nwant compare.Figures:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	_, rest, _ := strings.Cut(pageJS, "var METHODS = {\n")
	body, _, _ := strings.Cut(rest, "\n  };")
	lit := regexp.MustCompile(`'((?:[^'\\]|\\.)*)'`)
	methods := map[string]string{}
	for _, m := range regexp.MustCompile(`(?m)^\s+(\w+): ((?:'(?:[^'\\]|\\.)*'(?:\s*\+\s*)?)+)`).FindAllStringSubmatch(body, -1) {
		for _, l := range lit.FindAllStringSubmatch(m[2], -1) {
			methods[m[1]] += strings.ReplaceAll(l[1], `\'`, "'")
		}
	}
	if !reflect.DeepEqual(methods, compare.Methods) {
		t.Errorf("METHODS in dashboard.js = %q,\nwant compare.Methods %q", methods, compare.Methods)
	}
}
