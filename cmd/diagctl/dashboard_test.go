package main

import (
	"encoding/json"
	"html"
	"net/http"
	"net/http/httptest"
	"net/http/pprof"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/diagkit/diagkit/diag"
	"github.com/diagkit/diagkit/diag/api"
)

// savedPage is what a saved dashboard's data element holds.
type savedPage struct {
	Schema     string            `json:"schema"`
	Mode       string            `json:"mode"`
	Target     string            `json:"target"`
	Saved      time.Time         `json:"saved"`
	Generator  string            `json:"generator"`
	History    api.History       `json:"history"`
	Doctor     *api.DoctorReport `json:"doctor"`
	DoctorNote string            `json:"doctor_note"`
}

var dataElement = regexp.MustCompile(`(?s)<script type="application/json" id="diag-data">(.*?)</script>`)

// readSavedPage decodes a saved page's data and checks that the page is
// self-contained: nothing is loaded from anywhere, and its policy lets it
// connect nowhere.
func readSavedPage(t *testing.T, page string) savedPage {
	t.Helper()
	m := dataElement.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no data element in the page:\n%.500s", page)
	}
	var sp savedPage
	if err := json.Unmarshal([]byte(m[1]), &sp); err != nil {
		t.Fatalf("the data element is not JSON (did a string close it?): %v", err)
	}
	if sp.Schema != "diagkit.dashboard/v1" || sp.Mode != "snapshot" {
		t.Errorf("schema %q mode %q", sp.Schema, sp.Mode)
	}
	rest := strings.Replace(page, m[1], "", 1) // data may say anything
	if regexp.MustCompile(`(?i)\ssrc\s*=`).MatchString(rest) {
		t.Error("the saved page has a src attribute")
	}
	for _, href := range regexp.MustCompile(`(?i)\shref\s*=\s*"([^"]*)"`).FindAllStringSubmatch(rest, -1) {
		if !strings.HasPrefix(href[1], "data:") {
			t.Errorf("the saved page links to %q", href[1])
		}
	}
	for _, bad := range []string{"@import", "url(", "<iframe", "<link rel=\"stylesheet\"", "fetch('http", `fetch("http`} {
		if strings.Contains(rest, bad) {
			t.Errorf("the saved page has %q", bad)
		}
	}
	csp := regexp.MustCompile(`<meta http-equiv="Content-Security-Policy" content="([^"]*)">`).FindStringSubmatch(rest)
	if csp == nil {
		t.Fatal("the saved page has no policy")
	}
	policy := html.UnescapeString(csp[1])
	if !strings.HasPrefix(policy, "default-src 'none';") || strings.Contains(policy, "connect-src") || strings.Contains(policy, "http") {
		t.Errorf("the saved page's policy allows requests: %q", policy)
	}
	return sp
}

// startTestAgent runs a real diagkit agent, with a token, behind an httptest
// server on loopback, and waits for its first window.
func startTestAgent(t *testing.T, token string) (*diag.Agent, *httptest.Server) {
	t.Helper()
	a, err := diag.Start(diag.Config{Addr: diag.AddrOff, Window: 200 * time.Millisecond, Interval: 200 * time.Millisecond,
		Token: token, Logger: zap.NewNop()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.Stop)
	srv := httptest.NewServer(a.Handler())
	t.Cleanup(srv.Close)
	deadline := time.Now().Add(10 * time.Second)
	for len(a.History(0)) < 2 {
		if time.Now().After(deadline) {
			t.Fatal("the agent analyzed fewer than 2 windows in 10 s")
		}
		time.Sleep(20 * time.Millisecond)
	}
	return a, srv
}

func TestDashboardSavesTheAgentsView(t *testing.T) {
	const token = "dash-s3cret"
	a, srv := startTestAgent(t, token)
	dir := t.TempDir()
	file := filepath.Join(dir, "incident.html")

	res := runDiagctl(t, nil, "dashboard", "--token", token, "-f", file, srv.URL)
	if res.code != exitOK || res.stdout != "" || !strings.Contains(res.stderr, "wrote "+file) {
		t.Fatalf("exit %d\nstdout: %s\nstderr: %s", res.code, res.stdout, res.stderr)
	}
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	page := string(data)
	sp := readSavedPage(t, page)
	if n := len(sp.History.Windows); n < 2 || sp.History.WindowSchema != api.WindowSchema {
		t.Errorf("history: %d windows, schema %q", n, sp.History.WindowSchema)
	}
	if last := sp.History.Windows[len(sp.History.Windows)-1]; last.Seq > a.Latest().Seq || last.Seq < 2 {
		t.Errorf("latest window saved: #%d, the agent's latest #%d", last.Seq, a.Latest().Seq)
	}
	if sp.Doctor == nil || sp.Doctor.Schema != api.DoctorSchema || len(sp.Doctor.Checks) == 0 {
		t.Errorf("doctor: %+v (note %q)", sp.Doctor, sp.DoctorNote)
	}
	if want := strings.TrimPrefix(srv.URL, "http://"); sp.Target != want {
		t.Errorf("target %q, want %q", sp.Target, want)
	}
	if time.Since(sp.Saved) > time.Minute || !strings.HasPrefix(sp.Generator, "diagctl ") {
		t.Errorf("saved %v by %q", sp.Saved, sp.Generator)
	}
	if strings.Contains(page, token) {
		t.Error("the saved page holds the token")
	}

	// --windows keeps the last N; "-" writes to standard output.
	res = runDiagctl(t, nil, "dashboard", "--token", token, "--windows", "1", "-f", "-", srv.URL)
	if res.code != exitOK || !strings.HasPrefix(res.stdout, "<!DOCTYPE html>") {
		t.Fatalf("-o -: exit %d\n%.300s\n%s", res.code, res.stdout, res.stderr)
	}
	if sp := readSavedPage(t, res.stdout); len(sp.History.Windows) != 1 {
		t.Errorf("--windows 1: %d windows", len(sp.History.Windows))
	}

	// The default name, in the current directory; the token from the
	// environment; credentials in the URL are not written.
	t.Chdir(dir)
	t.Setenv(tokenEnv, token)
	withUser := strings.Replace(srv.URL, "http://", "http://user:pw@", 1)
	res = runDiagctl(t, nil, "dashboard", withUser)
	if res.code != exitOK {
		t.Fatalf("default name: exit %d: %s", res.code, res.stderr)
	}
	names, _ := filepath.Glob(filepath.Join(dir, "diagkit-*.html"))
	pattern := regexp.MustCompile(`^diagkit-127\.0\.0\.1-\d+-\d{8}T\d{6}Z\.html$`)
	if len(names) != 1 || !pattern.MatchString(filepath.Base(names[0])) {
		t.Fatalf("files %q, want one matching %s", names, pattern)
	}
	data, _ = os.ReadFile(names[0])
	if sp := readSavedPage(t, string(data)); strings.Contains(string(data), "user:pw") || strings.Contains(sp.Target, "@") {
		t.Errorf("the page holds the URL's credentials: target %q", sp.Target)
	}
}

// fakeAgent serves a history and a doctor answer, and records the queries.
type fakeAgent struct {
	*httptest.Server
	mu      sync.Mutex
	queries []string
}

func newFakeAgent(t *testing.T, history, doctor http.HandlerFunc) *fakeAgent {
	t.Helper()
	fa := &fakeAgent{}
	mux := http.NewServeMux()
	mux.HandleFunc(pathHistory, func(w http.ResponseWriter, r *http.Request) {
		fa.mu.Lock()
		fa.queries = append(fa.queries, r.URL.RawQuery)
		fa.mu.Unlock()
		history(w, r)
	})
	if doctor != nil {
		mux.HandleFunc(pathDoctor, doctor)
	}
	fa.Server = httptest.NewServer(mux)
	t.Cleanup(fa.Close)
	return fa
}

func jsonHandler(v any) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(v)
	}
}

func TestDashboardErrors(t *testing.T) {
	history := api.History{WindowSchema: api.WindowSchema, Windows: []api.WindowReport{*watchWindow(1, 0.9, 0), *watchWindow(2, 0.1, 0)}}
	doctor := api.DoctorReport{Schema: api.DoctorSchema, Source: "agent",
		Checks: []api.Check{{ID: api.CheckGOMAXPROCS, Title: "GOMAXPROCS fits", Status: api.StatusFail}}, Counts: api.Counts{Fail: 1}}

	pprofOnly := http.NewServeMux()
	pprofOnly.HandleFunc("/debug/pprof/", pprof.Index)
	pprofOnly.HandleFunc("/debug/pprof/profile", pprof.Profile)
	plain := httptest.NewServer(pprofOnly)
	defer plain.Close()
	htmlPage := newFakeAgent(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		_, _ = w.Write([]byte("<html>login</html>"))
	}, nil)
	empty := newFakeAgent(t, jsonHandler(api.History{WindowSchema: api.WindowSchema, Windows: []api.WindowReport{}}), nil)
	unauthorized := newFakeAgent(t, func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "missing or wrong bearer token", http.StatusUnauthorized)
	}, nil)
	doctorRefused := newFakeAgent(t, jsonHandler(history), func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "no", http.StatusForbidden)
	})
	savedFile := filepath.Join(t.TempDir(), "view.html")
	if err := os.WriteFile(savedFile, []byte("<html></html>"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"plain pprof server", []string{plain.URL}, exitError, "needs the diagkit agent"},
		{"HTML at the history path", []string{htmlPage.URL}, exitError, "not a diagkit agent's history"},
		{"no window yet", []string{empty.URL}, exitError, "no window yet"},
		{"unauthorized", []string{unauthorized.URL}, exitAuth, "not authorized"},
		{"doctor refused", []string{doctorRefused.URL}, exitAuth, "not authorized"},
		{"unreachable", []string{deadAddr(t)}, exitUnreachable, "connection refused"},
		{"a saved file", []string{savedFile}, exitUsage, "not a file"},
		{"negative --windows", []string{"--windows", "-1", plain.URL}, exitUsage, "--windows"},
		{"no target", nil, exitUsage, "one target"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "out.html")
			res := runDiagctl(t, nil, append([]string{"dashboard", "-f", out, "--timeout", "5s"}, tc.args...)...)
			if res.code != tc.code || !strings.Contains(res.stderr, tc.want) {
				t.Errorf("exit %d, want %d; stderr %q, want %q", res.code, tc.code, res.stderr, tc.want)
			}
			if _, err := os.Stat(out); err == nil {
				t.Error("a file was written")
			}
		})
	}

	// The doctor is optional: an agent without one, or whose doctor fails,
	// still gets its dashboard, which says why the panel is empty.
	for _, tc := range []struct {
		name   string
		doctor http.HandlerFunc
		note   string
	}{
		{"no doctor", nil, "serves no doctor report"},
		{"doctor fails", func(w http.ResponseWriter, r *http.Request) { http.Error(w, "boom", http.StatusInternalServerError) }, "boom"},
		{"doctor not JSON", func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("{}")) }, "not a diagkit.doctor/v1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fa := newFakeAgent(t, jsonHandler(history), tc.doctor)
			res := runDiagctl(t, nil, "dashboard", "-f", "-", fa.URL)
			if res.code != exitOK {
				t.Fatalf("exit %d: %s", res.code, res.stderr)
			}
			sp := readSavedPage(t, res.stdout)
			if sp.Doctor != nil || !strings.Contains(sp.DoctorNote, tc.note) || !strings.Contains(res.stderr, tc.note) {
				t.Errorf("doctor %+v, note %q, stderr %q; want the note %q", sp.Doctor, sp.DoctorNote, res.stderr, tc.note)
			}
			if len(sp.History.Windows) != 2 {
				t.Errorf("%d windows", len(sp.History.Windows))
			}
		})
	}

	// -o is the format: json writes the data the page holds; a file name
	// is a usage error that points to -f; --out still names the file.
	jfa := newFakeAgent(t, jsonHandler(history), jsonHandler(doctor))
	res := runDiagctl(t, nil, "dashboard", "-o", "json", "-f", "-", jfa.URL)
	var sp savedPage
	if err := json.Unmarshal([]byte(res.stdout), &sp); res.code != exitOK || err != nil ||
		sp.Schema != "diagkit.dashboard/v1" || len(sp.History.Windows) != 2 || sp.Doctor == nil {
		t.Errorf("-o json: exit %d, %v, %+v\n%s", res.code, err, sp, res.stderr)
	}
	jsonFile := filepath.Join(t.TempDir(), "view.json")
	if res := runDiagctl(t, nil, "dashboard", "--output=json", "--out", jsonFile, jfa.URL); res.code != exitOK ||
		!strings.Contains(res.stderr, "--out is deprecated: use -f/--file") {
		t.Errorf("--out: exit %d\n%s", res.code, res.stderr)
	} else if b, err := os.ReadFile(jsonFile); err != nil || !json.Valid(b) {
		t.Errorf("--out %s: %v", jsonFile, err)
	}
	res = runDiagctl(t, nil, "dashboard", "-o", "incident.html", jfa.URL)
	if res.code != exitUsage || !strings.Contains(res.stderr, "want html or json") || !strings.Contains(res.stderr, "-f/--file incident.html") {
		t.Errorf("-o incident.html: exit %d, want %d with a pointer to -f:\n%s", res.code, exitUsage, res.stderr)
	}
	if _, err := os.Stat("incident.html"); err == nil {
		t.Error("-o incident.html wrote the file")
	}

	fa := newFakeAgent(t, jsonHandler(history), jsonHandler(doctor))
	res = runDiagctl(t, nil, "dashboard", "--windows", "5", "-f", "-", fa.URL+"/")
	if res.code != exitOK {
		t.Fatalf("exit %d: %s", res.code, res.stderr)
	}
	if sp := readSavedPage(t, res.stdout); sp.Doctor == nil || sp.Doctor.Counts.Fail != 1 {
		t.Errorf("doctor: %+v", sp.Doctor)
	}
	if !strings.Contains(res.stderr, "2 windows (1 with warnings), doctor: 1 fail") {
		t.Errorf("summary: %q", res.stderr)
	}
	fa.mu.Lock()
	defer fa.mu.Unlock()
	if len(fa.queries) != 1 || fa.queries[0] != "n=5" {
		t.Errorf("history queries %q, want [n=5]", fa.queries)
	}
}

// Strings from the agent (function names, causes) cannot close the data
// element or otherwise become markup in the saved page.
func TestDashboardEscapesTheData(t *testing.T) {
	evil := `</script><script>alert(1)</script><!--`
	w := watchWindow(1, 0.9, 0)
	w.TopPreempted[0].Function = "main." + evil
	w.Warnings[0].Causes = []string{evil}
	w.Interpretation = "\u2028" + evil
	fa := newFakeAgent(t, jsonHandler(api.History{WindowSchema: api.WindowSchema, Windows: []api.WindowReport{*w}}), nil)
	res := runDiagctl(t, nil, "dashboard", "-f", "-", fa.URL)
	if res.code != exitOK {
		t.Fatalf("exit %d: %s", res.code, res.stderr)
	}
	if strings.Contains(res.stdout, evil) || strings.Count(res.stdout, "<script") != 2 {
		t.Error("a string from the agent is markup in the page")
	}
	sp := readSavedPage(t, res.stdout)
	got := sp.History.Windows[0]
	if got.TopPreempted[0].Function != "main."+evil || got.Warnings[0].Causes[0] != evil || got.Interpretation != "\u2028"+evil {
		t.Errorf("the strings did not survive: %q %q %q", got.TopPreempted[0].Function, got.Warnings[0].Causes, got.Interpretation)
	}
}
