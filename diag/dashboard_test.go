package diag

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"
)

// noRedirect is a client that shows redirects instead of following them.
var noRedirect = &http.Client{
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	Timeout:       10 * time.Second,
}

type dashResp struct {
	status int
	header http.Header
	body   string
}

func dashGet(t *testing.T, u string, header ...string) dashResp {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := noRedirect.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return dashResp{resp.StatusCode, resp.Header, string(body)}
}

func waitForWindow(t *testing.T, a *Agent) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for a.Latest() == nil {
		if time.Now().After(deadline) {
			t.Fatal("no window within 10 s")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// The page is the index of /debug/diag/; every JSON endpoint keeps its
// path, on the agent's server and under a prefix on the user's mux.
func TestDashboardRoutes(t *testing.T) {
	a, _ := startAgent(t, Config{Window: 200 * time.Millisecond, Interval: 200 * time.Millisecond})
	waitForWindow(t, a)
	mux := http.NewServeMux()
	mux.Handle("/diagkit/", http.StripPrefix("/diagkit", a.Handler()))
	mounted := httptest.NewServer(mux)
	defer mounted.Close()

	for _, base := range []string{"http://" + a.Addr(), mounted.URL + "/diagkit"} {
		t.Run(base, func(t *testing.T) {
			r := dashGet(t, base+PathDashboard)
			if r.status != http.StatusOK || r.header.Get("Content-Type") != "text/html; charset=utf-8" ||
				!strings.Contains(r.body, `id="diag-data"`) || r.header.Get("Content-Security-Policy") == "" {
				t.Errorf("%s: %d %s", PathDashboard, r.status, r.header.Get("Content-Type"))
			}
			// The config asks for a refresh of half the 200 ms interval,
			// at least a second.
			if !strings.Contains(r.body, `"refresh_ms":1000`) {
				t.Errorf("the page's config has no 1 s refresh")
			}
			// Without the slash: a relative redirect that keeps the prefix.
			r = dashGet(t, base+"/debug/diag")
			if r.status != http.StatusFound || r.header.Get("Location") != "diag/" {
				t.Errorf("/debug/diag: %d Location %q, want 302 diag/", r.status, r.header.Get("Location"))
			}
			from, _ := url.Parse(base + "/debug/diag")
			to, _ := url.Parse(r.header.Get("Location"))
			if got := from.ResolveReference(to).String(); got != base+PathDashboard {
				t.Errorf("the redirect leads to %s, want %s", got, base+PathDashboard)
			}
			for _, p := range []string{PathReport, PathHistory, PathStatus, PathDoctor} {
				if r := dashGet(t, base+p); r.status != http.StatusOK || r.header.Get("Content-Type") != "application/json" {
					t.Errorf("%s: %d %s", p, r.status, r.header.Get("Content-Type"))
				}
			}
			if r := dashGet(t, base+PathMetrics); r.status != http.StatusOK || !strings.Contains(r.body, "diagkit_windows_analyzed_total") {
				t.Errorf("%s: %d", PathMetrics, r.status)
			}
			for _, p := range []string{"/debug/diag/nope", "/debug/diag/history/x", "/debug/diag//"} {
				if r := dashGet(t, base+p); r.status == http.StatusOK {
					t.Errorf("%s: %d, want no page", p, r.status)
				}
			}
		})
	}
}

func challenges(r dashResp) []string { return r.header.Values("WWW-Authenticate") }

// With a Token, a browser signs in to the dashboard with HTTP Basic: any user
// name, the token as the password. Basic counts on the dashboard's paths
// only, and not on requests another site caused.
func TestDashboardBasicAuth(t *testing.T) {
	const token = "s3cret"
	a, _ := startAgent(t, Config{Token: token, Window: 200 * time.Millisecond, Interval: 200 * time.Millisecond})
	waitForWindow(t, a)
	base := "http://" + a.Addr()
	basic := func(user, password string) string {
		req, _ := http.NewRequest("GET", base, nil)
		req.SetBasicAuth(user, password)
		return req.Header.Get("Authorization")
	}
	right := basic("anyone", token)

	// No credentials: the page challenges with Basic (the browser asks), the
	// JSON with Bearer only (a fetch must not make the browser ask).
	r := dashGet(t, base+PathDashboard)
	if r.status != http.StatusUnauthorized || !slices.Contains(challenges(r), `Basic realm="diagkit"`) ||
		!slices.Contains(challenges(r), `Bearer realm="diagkit"`) || strings.Contains(r.body, "diag-data") {
		t.Errorf("page without credentials: %d %q", r.status, challenges(r))
	}
	if r := dashGet(t, base+"/debug/diag"); r.status != http.StatusUnauthorized || !slices.Contains(challenges(r), `Basic realm="diagkit"`) {
		t.Errorf("/debug/diag without credentials: %d %q", r.status, challenges(r))
	}
	for _, p := range []string{PathHistory, PathDoctor, PathReport, "/debug/pprof/"} {
		r := dashGet(t, base+p)
		if r.status != http.StatusUnauthorized || !slices.Equal(challenges(r), []string{`Bearer realm="diagkit"`}) {
			t.Errorf("%s without credentials: %d %q, want 401 with a Bearer challenge only", p, r.status, challenges(r))
		}
	}

	// The right password, whatever the user name.
	for _, user := range []string{"", "anyone", "admin", token} {
		auth := basic(user, token)
		for _, p := range []string{PathDashboard, PathHistory, PathDoctor, PathReport, PathStatus, PathMetrics} {
			if r := dashGet(t, base+p, "Authorization", auth); r.status != http.StatusOK {
				t.Errorf("user %q, %s: %d, want 200: %s", user, p, r.status, r.body)
			}
		}
		if r := dashGet(t, base+"/debug/diag", "Authorization", auth); r.status != http.StatusFound {
			t.Errorf("user %q, /debug/diag: %d, want 302", user, r.status)
		}
	}
	// A wrong password, or the token as the user name: 401, and the page
	// asks again.
	for _, auth := range []string{basic("anyone", "wrong"), basic(token, ""), basic(token, "x"), basic("anyone", token+"x"), "Basic !!!"} {
		r := dashGet(t, base+PathDashboard, "Authorization", auth)
		if r.status != http.StatusUnauthorized || !slices.Contains(challenges(r), `Basic realm="diagkit"`) {
			t.Errorf("%q on the page: %d %q, want 401 with a Basic challenge", auth, r.status, challenges(r))
		}
		if r := dashGet(t, base+PathHistory, "Authorization", auth); r.status != http.StatusUnauthorized {
			t.Errorf("%q on history: %d, want 401", auth, r.status)
		}
	}
	// The bearer token still works everywhere, the page included.
	for _, p := range []string{PathDashboard, PathHistory, "/debug/pprof/"} {
		if r := dashGet(t, base+p, "Authorization", "Bearer "+token); r.status != http.StatusOK {
			t.Errorf("bearer on %s: %d", p, r.status)
		}
	}
	// Basic is for the dashboard: pprof takes the bearer token only.
	for _, p := range []string{"/debug/pprof/", "/debug/pprof/heap", "/debug/pprof/cmdline"} {
		if r := dashGet(t, base+p, "Authorization", right); r.status != http.StatusUnauthorized {
			t.Errorf("Basic on %s: %d, want 401", p, r.status)
		}
	}

	// Fetch metadata: what another site's page made the browser request is
	// refused, but for a plain navigation to the page (a link).
	type meta struct{ site, mode, dest string }
	for _, tc := range []struct {
		path string
		meta meta
		want int
	}{
		{PathDashboard, meta{"none", "navigate", "document"}, http.StatusOK},
		{PathDashboard, meta{"cross-site", "navigate", "document"}, http.StatusOK},
		{PathHistory, meta{"same-origin", "cors", "empty"}, http.StatusOK},
		{PathDoctor, meta{"same-origin", "cors", "empty"}, http.StatusOK},
		{PathHistory, meta{"cross-site", "no-cors", "empty"}, http.StatusForbidden},
		{PathHistory, meta{"cross-site", "navigate", "document"}, http.StatusForbidden},
		{PathHistory, meta{"same-site", "cors", "empty"}, http.StatusForbidden},
		{PathDashboard, meta{"cross-site", "navigate", "iframe"}, http.StatusForbidden},
		{PathDashboard, meta{"same-site", "no-cors", "image"}, http.StatusForbidden},
	} {
		r := dashGet(t, base+tc.path, "Authorization", right,
			"Sec-Fetch-Site", tc.meta.site, "Sec-Fetch-Mode", tc.meta.mode, "Sec-Fetch-Dest", tc.meta.dest)
		if r.status != tc.want {
			t.Errorf("%s with %+v: %d, want %d", tc.path, tc.meta, r.status, tc.want)
		}
		// The bearer token is no browser credential: metadata does not matter.
		r = dashGet(t, base+tc.path, "Authorization", "Bearer "+token, "Sec-Fetch-Site", tc.meta.site)
		if r.status != http.StatusOK {
			t.Errorf("bearer on %s with %+v: %d", tc.path, tc.meta, r.status)
		}
	}
}

func TestDashboardRefresh(t *testing.T) {
	for _, tc := range []struct{ interval, want time.Duration }{
		{200 * time.Millisecond, time.Second},
		{time.Second, time.Second},
		{4 * time.Second, 2 * time.Second},
		{time.Minute, 5 * time.Second},
	} {
		if got := dashboardRefresh(tc.interval); got != tc.want {
			t.Errorf("dashboardRefresh(%v) = %v, want %v", tc.interval, got, tc.want)
		}
	}
}
