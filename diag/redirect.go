package diag

import (
	"net/http"
	"net/url"
	"path"
	"strings"
)

// cleanPaths redirects a request whose path is not canonical ("//", "/./",
// "/../", or empty) to the canonical one, as ServeMux would, but with a
// relative Location: ServeMux's is absolute, computed from the path left
// after http.StripPrefix, so under a prefix it would send the client out of
// the agent's handler (to "/debug/pprof/", the application's own, say).
// Every redirect the handler makes is relative; this one, and the others
// (pprofhttp's "/debug/pprof", the dashboard's "/debug/diag"), resolve
// under whatever prefix the handler is mounted at.
func cleanPaths(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodConnect {
			next.ServeHTTP(w, r)
			return
		}
		clean := cleanPath(r.URL.Path)
		if clean == r.URL.Path {
			next.ServeHTTP(w, r)
			return
		}
		loc := cleanLocation(originalPath(r), r.URL.EscapedPath(), (&url.URL{Path: clean}).EscapedPath())
		if r.URL.RawQuery != "" {
			loc += "?" + r.URL.RawQuery
		}
		w.Header().Set("Location", loc)
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(http.StatusTemporaryRedirect) // as ServeMux answers
		_, _ = w.Write([]byte("Temporary Redirect: " + loc + "\n"))
	})
}

// cleanLocation is the Location from the request's own path (full,
// escaped, before any StripPrefix) to clean, the canonical form of
// stripped, the path the handler got. It is relative when it can be: from
// the request's directory, as many "../" as stripped has directories, then
// clean. A request path with dot segments is resolved by the client before
// the reference is applied, so it gets the absolute path under the prefix;
// one whose prefix cannot be told (a router that rewrote the path) gets
// clean as it is, as ServeMux would answer.
func cleanLocation(full, stripped, clean string) string {
	if !strings.HasSuffix(full, stripped) {
		return clean
	}
	prefix := full[:len(full)-len(stripped)]
	if hasDotSegment(full) {
		return prefix + clean
	}
	if !strings.HasPrefix(stripped, "/") {
		// "" (the handler mounted at "/diagkit", asked for "/diagkit"):
		// clean is "/", under the request's last segment.
		return "./" + full[strings.LastIndexByte(full, '/')+1:] + clean
	}
	ups := strings.Count(stripped, "/") - 1 // directories below the prefix
	if ups == 0 {
		return "./" + clean[1:]
	}
	return strings.Repeat("../", ups) + clean[1:]
}

// hasDotSegment reports a "." or ".." segment in an escaped path.
func hasDotSegment(p string) bool {
	for seg := range strings.SplitSeq(p, "/") {
		if s, err := url.PathUnescape(seg); err != nil || s == "." || s == ".." {
			return true
		}
	}
	return false
}

// cleanPath is ServeMux's canonical path: rooted, without "." and ".."
// segments or repeated slashes, with the trailing slash kept.
func cleanPath(p string) string {
	if p == "" {
		return "/"
	}
	if p[0] != '/' {
		p = "/" + p
	}
	np := path.Clean(p)
	if p[len(p)-1] == '/' && np != "/" {
		np += "/"
	}
	return np
}

// originalPath is the path the client asked for, before any
// http.StripPrefix: the escaped path of the RequestURI, or of the URL if
// that is unusable (a request built in a test).
func originalPath(r *http.Request) string {
	if r.RequestURI != "" {
		if u, err := url.ParseRequestURI(r.RequestURI); err == nil && u.Path != "" {
			return u.EscapedPath()
		}
	}
	return r.URL.EscapedPath()
}
