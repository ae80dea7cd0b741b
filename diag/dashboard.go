package diag

import (
	"net/http"
	"strings"
	"time"

	"github.com/diagkit/diagkit/diag/dashboard"
)

// PathDashboard serves the dashboard: an HTML page over the history and the
// doctor report (package dashboard). It is the index of /debug/diag/; the
// JSON endpoints keep their paths under it.
const PathDashboard = "/debug/diag/"

// pathDashboardNoSlash redirects to PathDashboard.
const pathDashboardNoSlash = "/debug/diag"

// mountDashboard serves the page at PathDashboard exactly (anything else
// under /debug/diag/ that no endpoint serves is a 404), and redirects
// /debug/diag to it with a relative Location, which keeps the prefix the
// handler may be mounted under (ServeMux's own redirect would drop it).
func (a *Agent) mountDashboard(mux *http.ServeMux) {
	page := dashboard.Handler(dashboard.Options{Refresh: dashboardRefresh(a.cfg.Interval)})
	mux.HandleFunc(PathDashboard, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != PathDashboard {
			serveError(w, http.StatusNotFound, "404 page not found")
			return
		}
		page.ServeHTTP(w, r)
	})
	mux.HandleFunc(pathDashboardNoSlash, func(w http.ResponseWriter, r *http.Request) {
		if !allowGet(w, r) {
			return
		}
		w.Header().Set("Location", "diag/")
		w.WriteHeader(http.StatusFound)
	})
}

// dashboardRefresh is how often the page looks for a new window: half an
// Interval, from 1 s to 5 s.
func dashboardRefresh(interval time.Duration) time.Duration {
	return min(max(interval/2, time.Second), 5*time.Second)
}

// A browser cannot send a bearer token when it navigates, so the dashboard
// also accepts HTTP Basic credentials whose password is the token (any user
// name): a 401 on the page carries a Basic challenge, the browser asks once,
// then sends the credentials with every same-origin request under the page's
// path. The token is never in a URL or in the page's storage.
//
// A browser sends remembered Basic credentials by itself, also when another
// site's page makes it request the agent. So Basic credentials count only
// under /debug/diag/ (the page and the JSON it reads: cheap, read-only; the
// pprof endpoints take the bearer token only), and not on requests that
// fetch metadata (Sec-Fetch-Site) says another site caused, but for a
// top-level navigation to the page itself: a link to the dashboard works.

// basicResult is what a request's Basic credentials say.
type basicResult int

const (
	basicNone      basicResult = iota // none, or not on a dashboard path
	basicWrong                        // the password is not the token
	basicCrossSite                    // right, but another site caused the request
	basicOK
)

// basicToken checks r's Basic credentials against token, in constant time.
func basicToken(r *http.Request, token string) basicResult {
	_, password, ok := r.BasicAuth()
	if !ok || !underDashboard(r.URL.Path) {
		return basicNone
	}
	if !equalSecret(password, []byte(token)) {
		return basicWrong
	}
	if !sameSite(r) {
		return basicCrossSite
	}
	return basicOK
}

// underDashboard reports whether path is the dashboard or the JSON it reads.
func underDashboard(path string) bool {
	return path == pathDashboardNoSlash || strings.HasPrefix(path, PathDashboard)
}

// isDashboardPage reports whether path is the page a person navigates to.
func isDashboardPage(path string) bool {
	return path == PathDashboard || path == pathDashboardNoSlash
}

// sameSite reports whether r may carry a browser's remembered credentials:
// no fetch metadata (not a browser, or an old one), the page's own origin,
// something the user did (address bar, bookmark), or another site's link
// to the page itself.
func sameSite(r *http.Request) bool {
	switch r.Header.Get("Sec-Fetch-Site") {
	case "", "same-origin", "none":
		return true
	}
	return isDashboardPage(r.URL.Path) &&
		(r.Method == http.MethodGet || r.Method == http.MethodHead) &&
		r.Header.Get("Sec-Fetch-Mode") == "navigate" &&
		r.Header.Get("Sec-Fetch-Dest") == "document"
}

// unauthorized answers a request without valid credentials: 401 with a
// Bearer challenge, and a Basic one first on the page, so that a browser
// asks for the token.
func unauthorized(w http.ResponseWriter, r *http.Request) {
	msg := "missing or wrong bearer token"
	if isDashboardPage(r.URL.Path) {
		w.Header().Add("WWW-Authenticate", `Basic realm="diagkit"`)
		msg = "missing or wrong token: in a browser, sign in with any user name and the agent's token as the password"
	}
	w.Header().Add("WWW-Authenticate", `Bearer realm="diagkit"`)
	serveError(w, http.StatusUnauthorized, msg)
}
