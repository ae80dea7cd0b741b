package pprofhttp

import (
	"bytes"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"runtime/pprof"
	"slices"
	"strings"
)

// builtinEndpoints are the endpoints that are not runtime/pprof profiles. They
// take precedence over a custom profile of the same name.
var builtinEndpoints = []string{"cmdline", "profile", "symbol", "trace"}

var profileDescriptions = map[string]string{
	"allocs":        "A sampling of all past memory allocations",
	"block":         "Stack traces that led to blocking on synchronization primitives",
	"cmdline":       "The command line invocation of the current program",
	"goroutine":     "Stack traces of all current goroutines. Use debug=2 as a query parameter to export in the same format as an unrecovered panic.",
	"goroutineleak": "Stack traces of all leaked goroutines. Use debug=2 as a query parameter to export in the same format as an unrecovered panic.",
	"heap":          "A sampling of memory allocations of live objects. You can specify the gc GET parameter to run GC before taking the heap sample.",
	"mutex":         "Stack traces of holders of contended mutexes",
	"profile":       "CPU profile. You can specify the duration in the seconds GET parameter. After you get the profile file, use the go tool pprof command to investigate the profile.",
	"symbol":        "Maps given program counters to function names. Counters can be specified in a GET raw query or POST body, multiple counters are separated by '+'.",
	"threadcreate":  "Stack traces that led to the creation of new OS threads",
	"trace":         "A trace of execution of the current program. You can specify the duration in the seconds GET parameter. After you get the trace file, use the go tool trace command to investigate the trace.",
}

type profileEntry struct {
	Name  string
	Desc  string
	Count int
}

// serveIndex responds with an HTML page listing the available profiles. Its
// links are relative, so they resolve under whatever prefix the handler is
// mounted at, as long as the page's URL ends in a slash (see redirectToSlash).
func serveIndex(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")

	var profiles []profileEntry
	for _, p := range pprof.Profiles() {
		if slices.Contains(builtinEndpoints, p.Name()) {
			continue // unreachable: the endpoint of that name wins
		}
		profiles = append(profiles, profileEntry{Name: p.Name(), Desc: profileDescriptions[p.Name()], Count: p.Count()})
	}
	for _, name := range builtinEndpoints {
		profiles = append(profiles, profileEntry{Name: name, Desc: profileDescriptions[name]})
	}
	slices.SortFunc(profiles, func(a, b profileEntry) int { return strings.Compare(a.Name, b.Name) })

	w.Write(indexPage(requestPath(r), profiles))
}

// indexPage renders the index; title is the page's own path, shown as text.
func indexPage(title string, profiles []profileEntry) []byte {
	var b bytes.Buffer
	t := html.EscapeString(title)
	fmt.Fprintf(&b, `<html>
<head>
<title>%s</title>
<style>
.profile-name{
	display:inline-block;
	width:6rem;
}
</style>
</head>
<body>
%s
<br>
<p>Set debug=1 as a query parameter to export in legacy text format</p>
<br>
Types of profiles available:
<table>
<thead><td>Count</td><td>Profile</td></thead>
`, t, t)
	for _, p := range profiles {
		fmt.Fprintf(&b, "<tr><td>%d</td><td><a href='%s'>%s</a></td></tr>\n",
			p.Count, html.EscapeString(relativeLink(p.Name, "debug=1")), html.EscapeString(p.Name))
	}
	fmt.Fprintf(&b, `</table>
<a href='%s'>full goroutine stack dump</a>
<br>
<p>
Profile Descriptions:
<ul>
`, html.EscapeString(relativeLink("goroutine", "debug=2")))
	for _, p := range profiles {
		fmt.Fprintf(&b, "<li><div class=profile-name>%s: </div> %s</li>\n", html.EscapeString(p.Name), html.EscapeString(p.Desc))
	}
	b.WriteString(`</ul>
</p>
</body>
</html>`)
	return b.Bytes()
}

// relativeLink is the link from the index to name: "./" keeps it relative to
// the index whatever the name looks like ("a:b" is no scheme).
func relativeLink(name, query string) string {
	return "./" + (&url.URL{Path: name}).EscapedPath() + "?" + query
}

// requestPath is the path the client asked for, before any http.StripPrefix:
// the escaped path of the RequestURI, or of the URL if that is unusable.
func requestPath(r *http.Request) string {
	if r.RequestURI != "" {
		if u, err := url.ParseRequestURI(r.RequestURI); err == nil && u.Path != "" {
			return u.EscapedPath()
		}
	}
	return r.URL.EscapedPath()
}

// redirectToSlash redirects a request for the index whose path does not end
// in a slash ("/debug/pprof" rather than "/debug/pprof/") to the slash form,
// so the index's relative links resolve under the prefix. It reports whether
// it redirected. The Location is relative to the last segment ("./pprof/"),
// so it stays on this host and under the prefix, whatever the prefix is.
func redirectToSlash(w http.ResponseWriter, r *http.Request) bool {
	p := requestPath(r)
	if p == "" || strings.HasSuffix(p, "/") {
		return false
	}
	loc := "./" + p[strings.LastIndex(p, "/")+1:] + "/"
	if r.URL.RawQuery != "" {
		loc += "?" + r.URL.RawQuery
	}
	w.Header().Set("Location", loc)
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(http.StatusMovedPermanently)
	fmt.Fprintln(w, "Moved Permanently: the index is at", loc)
	return true
}
