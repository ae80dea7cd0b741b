package diag

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
)

// redirectCase is a request and the path its redirect must lead to.
type redirectCase struct{ base, path, want string }

// checkRedirects asserts that each request is redirected to its want path,
// with a relative Location but for paths with dot segments.
func checkRedirects(t *testing.T, cases []redirectCase) {
	t.Helper()
	noFollow := &http.Client{
		Timeout:       10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	for _, tc := range cases {
		req, err := http.NewRequest("GET", tc.base+tc.path, nil)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := noFollow.Do(req)
		if err != nil {
			t.Fatalf("GET %s: %v", tc.path, err)
		}
		resp.Body.Close()
		loc := resp.Header.Get("Location")
		ref, err := url.Parse(loc)
		if resp.StatusCode/100 != 3 || err != nil {
			t.Errorf("GET %s: %d Location %q (%v), want a redirect to %s", tc.path, resp.StatusCode, loc, err, tc.want)
			continue
		}
		if got := req.URL.ResolveReference(ref); got.Path != tc.want {
			t.Errorf("GET %s: Location %q leads to %s, want %s", tc.path, loc, got.Path, tc.want)
		}
		if !strings.Contains(tc.path, "/.") && strings.HasPrefix(loc, "/") {
			t.Errorf("GET %s: Location %q is absolute, want it relative", tc.path, loc)
		}
	}
}

// Mounted under a prefix, every redirect keeps the client under it: the
// pprof index's ("/debug/pprof", which ServeMux answered with an absolute
// "/debug/pprof/": the application's own pprof), the dashboard's, and
// ServeMux's cleaning of non-canonical paths.
func TestRedirectsKeepTheMountPrefix(t *testing.T) {
	a, _ := startAgent(t, Config{Addr: AddrOff, Window: time.Minute})
	mux := http.NewServeMux()
	mux.Handle("/diagkit/", http.StripPrefix("/diagkit", a.Handler()))
	mux.HandleFunc("/debug/pprof/", func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "the application's own pprof", http.StatusTeapot)
	})
	onMux := httptest.NewServer(mux)
	defer onMux.Close()
	// A router that does not clean paths passes "//" and "/./" on.
	bare := httptest.NewServer(http.StripPrefix("/diagkit", a.Handler()))
	defer bare.Close()

	checkRedirects(t, []redirectCase{
		{onMux.URL, "/diagkit/debug/pprof", "/diagkit/debug/pprof/"},
		{onMux.URL, "/diagkit/debug/pprof?debug=1", "/diagkit/debug/pprof/"},
		{onMux.URL, "/diagkit/debug/diag", "/diagkit/debug/diag/"},
		{bare.URL, "/diagkit/debug/pprof", "/diagkit/debug/pprof/"},
		{bare.URL, "/diagkit/debug//pprof/", "/diagkit/debug/pprof/"},
		{bare.URL, "/diagkit//debug/pprof//heap", "/diagkit/debug/pprof/heap"},
		{bare.URL, "/diagkit/debug/./diag/", "/diagkit/debug/diag/"},
		{bare.URL, "/diagkit/debug/pprof/../diag/", "/diagkit/debug/diag/"},
		{bare.URL, "/diagkit", "/diagkit/"},
	})
	// Followed, the redirect reaches diagkit's index, not the application's.
	resp, err := http.Get(onMux.URL + "/diagkit/debug/pprof")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Request.URL.Path != "/diagkit/debug/pprof/" {
		t.Errorf("followed: %d at %s, want 200 at /diagkit/debug/pprof/", resp.StatusCode, resp.Request.URL.Path)
	}

	// On the agent's own server, at the root, the same.
	a.Stop()
	own, _ := startAgent(t, Config{Window: time.Minute})
	base := "http://" + own.Addr()
	checkRedirects(t, []redirectCase{
		{base, "/debug/pprof", "/debug/pprof/"},
		{base, "/debug//pprof/", "/debug/pprof/"},
		{base, "/debug/diag", "/debug/diag/"},
	})
}
