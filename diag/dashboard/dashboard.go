// Package dashboard is the diagkit agent's HTML page: time series of the CPU
// shares, scheduling latency, run-queue wait and cgroup throttling over the
// agent's history, the warnings and their episodes on that timeline, the top
// interrupted functions, cgo call sites and loop evidence of a selected
// window, and the doctor's checklist.
//
// One page serves two modes. Handler serves it live: the page fetches the
// agent's history and doctor report relative to its own URL (so it works
// wherever the agent's handler is mounted) and refreshes by itself. Write
// renders a snapshot: the same page with the data inlined, a self-contained
// file that makes no request at all, as diagctl dashboard saves it.
//
// Everything the page needs is embedded in the binary and inlined in the
// document: no CDN, no font, no request but the agent's own JSON. A Content
// Security Policy enforces that: the inline script and style are allowed by
// their SHA-256 hashes, live pages may connect to their own origin only, and
// snapshots to nothing. The page builds its DOM with textContent and never
// parses data as HTML: function names and causes are untrusted strings.
package dashboard

import (
	"bytes"
	"crypto/sha256"
	_ "embed"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/diagkit/diagkit/diag/api"
)

// Schema versions the document the page reads from its data element.
const Schema = "diagkit.dashboard/v1"

var (
	//go:embed assets/page.html
	pageHTML string
	//go:embed assets/dashboard.css
	pageCSS string
	//go:embed assets/dashboard.js
	pageJS string
)

// assets is what the page is built from, prepared on first use: a program
// that imports the agent but never serves the page does not pay for it at
// start-up (0.26 ms and 130 KB, hashing and cutting 64 KB of assets).
type assets struct {
	// page is pageHTML cut at its holes, in order: meta, title, CSS, data,
	// JS. (No html/template: it would link text/template's reflection into
	// every program that imports the agent, for five holes.)
	page []string
	// liveCSP is the policy of the live page: its own inline script and
	// style, JSON from its own origin, no framing. snapshotCSP is that of a
	// saved page, set by a meta element: nothing to connect to
	// (frame-ancestors is not allowed in a meta policy). The hashes allow
	// exactly the inlined script and style (CSP Level 2).
	liveCSP, snapshotCSP string
}

var loadAssets = sync.OnceValue(func() assets {
	checkAssets()
	scriptHash, styleHash := cspHash(pageJS), cspHash(pageCSS)
	return assets{
		page: splitPage(pageHTML, "{{META}}", "{{TITLE}}", "{{CSS}}", "{{DATA}}", "{{JS}}"),
		liveCSP: "default-src 'none'; script-src " + scriptHash + "; style-src " + styleHash +
			"; img-src data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
		snapshotCSP: "default-src 'none'; script-src " + scriptHash + "; style-src " + styleHash +
			"; img-src data:; base-uri 'none'; form-action 'none'",
	}
})

// splitPage cuts s at each hole, which must appear once, in order.
func splitPage(s string, holes ...string) []string {
	parts := make([]string, 0, len(holes)+1)
	for _, h := range holes {
		before, after, ok := strings.Cut(s, h)
		if !ok || strings.Contains(after, h) {
			panic("dashboard: page.html must hold " + h + " once, in order")
		}
		parts = append(parts, before)
		s = after
	}
	return append(parts, s)
}

func cspHash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
}

// DefaultRefresh is how often the live page asks for new data when Options
// say nothing.
const DefaultRefresh = 5 * time.Second

// DefaultHistory is how many recent windows the live page asks for when
// Options say nothing.
const DefaultHistory = 240

// Options configure the live page.
type Options struct {
	// Refresh is how often the page fetches the history (DefaultRefresh
	// when 0). The page does not fetch while it is hidden.
	Refresh time.Duration
	// History bounds the windows the page asks for (DefaultHistory when 0).
	History int
}

// liveConfig is the data element of a live page.
type liveConfig struct {
	Schema    string `json:"schema"`
	Mode      string `json:"mode"` // "live"
	RefreshMS int64  `json:"refresh_ms"`
	History   int    `json:"history_n"`
}

// Snapshot is what a saved page shows.
type Snapshot struct {
	// Target names the agent the data came from, e.g. "host:6060". It must
	// not hold credentials.
	Target string
	// Saved is when the data was fetched.
	Saved time.Time
	// Generator names the program that saved it, e.g. "diagctl v1.2.0".
	Generator string
	// History is the agent's history, oldest window first.
	History api.History
	// Doctor is the agent's doctor report; nil when it has none, and then
	// DoctorNote says why.
	Doctor     *api.DoctorReport
	DoctorNote string
}

// snapshotData is the data element of a saved page.
type snapshotData struct {
	Schema     string            `json:"schema"`
	Mode       string            `json:"mode"` // "snapshot"
	Target     string            `json:"target"`
	Saved      time.Time         `json:"saved"`
	Generator  string            `json:"generator,omitempty"`
	History    api.History       `json:"history"`
	Doctor     *api.DoctorReport `json:"doctor"`
	DoctorNote string            `json:"doctor_note,omitempty"`
}

// pageData fills the page's holes.
type pageData struct {
	Title   string // text: escaped
	MetaCSP string // empty for the live page, whose policy is a header
}

// Handler serves the live page. Mount it where the page is to be found; it
// fetches "history" and "doctor" relative to its own URL, so the agent's
// JSON endpoints must be its siblings (as /debug/diag/ and
// /debug/diag/history are). It answers GET and HEAD only.
func Handler(o Options) http.Handler {
	if o.Refresh <= 0 {
		o.Refresh = DefaultRefresh
	}
	if o.History <= 0 {
		o.History = DefaultHistory
	}
	body, err := render(pageData{Title: "diagkit dashboard"}, liveConfig{
		Schema: Schema, Mode: "live", RefreshMS: o.Refresh.Milliseconds(), History: o.History,
	})
	if err != nil {
		panic(err) // the template and its data are ours: a test catches this
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		h := w.Header()
		h.Set("Content-Type", "text/html; charset=utf-8")
		h.Set("Content-Security-Policy", loadAssets().liveCSP)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cache-Control", "no-store")
		if r.Method == http.MethodHead {
			return
		}
		_, _ = w.Write(body)
	})
}

// Write renders s as a self-contained HTML document: the page with its
// script, style and data inlined, which makes no network request.
func Write(w io.Writer, s Snapshot) error {
	if s.History.Windows == nil {
		s.History.Windows = []api.WindowReport{}
	}
	title := "diagkit snapshot"
	if s.Target != "" {
		title += " · " + s.Target
	}
	if !s.Saved.IsZero() {
		title += " · " + s.Saved.UTC().Format("2006-01-02 15:04 MST")
	}
	body, err := render(pageData{Title: title, MetaCSP: loadAssets().snapshotCSP}, snapshotData{
		Schema: Schema, Mode: "snapshot", Target: s.Target, Saved: s.Saved, Generator: s.Generator,
		History: s.History, Doctor: s.Doctor, DoctorNote: s.DoctorNote,
	})
	if err != nil {
		return err
	}
	_, err = w.Write(body)
	return err
}

// WriteJSON writes s as the JSON document a page from Write holds (its
// schema is Schema, its mode "snapshot"), indented, for scripts and jq.
func WriteJSON(w io.Writer, s Snapshot) error {
	if s.History.Windows == nil {
		s.History.Windows = []api.WindowReport{}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(snapshotData{
		Schema: Schema, Mode: "snapshot", Target: s.Target, Saved: s.Saved, Generator: s.Generator,
		History: s.History, Doctor: s.Doctor, DoctorNote: s.DoctorNote,
	})
}

// render fills the page. The script and style are inlined as they are (init
// checks they cannot leave their elements); the data is JSON, which
// json.Marshal makes safe in a script element: it escapes <, > and & (as
// \u003c, \u003e, \u0026) and U+2028/U+2029, so no string in it can close
// the element or open a comment.
func render(p pageData, data any) ([]byte, error) {
	js, err := json.Marshal(data)
	if err != nil {
		return nil, fmt.Errorf("dashboard: encoding the data: %w", err)
	}
	var meta string
	if p.MetaCSP != "" {
		meta = "\n<meta http-equiv=\"Content-Security-Policy\" content=\"" + html.EscapeString(p.MetaCSP) + "\">"
	}
	page := loadAssets().page
	var buf bytes.Buffer
	buf.Grow(len(pageHTML) + len(pageCSS) + len(pageJS) + len(js) + 1024)
	for i, fill := range []string{meta, html.EscapeString(p.Title), pageCSS, string(js), pageJS} {
		buf.WriteString(page[i])
		buf.WriteString(fill)
	}
	buf.WriteString(page[len(page)-1])
	return buf.Bytes(), nil
}

// checkAssets checks what the inlining relies on: an asset cannot close its
// own element, nor open an HTML comment that would change how the script
// element is parsed.
func checkAssets() {
	js, css := strings.ToLower(pageJS), strings.ToLower(pageCSS)
	if strings.Contains(js, "</script") || strings.Contains(js, "<!--") || strings.Contains(css, "</style") {
		panic("dashboard: an asset would break out of its element")
	}
}
