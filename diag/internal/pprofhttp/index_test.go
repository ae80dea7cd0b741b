package pprofhttp

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
)

var hrefRE = regexp.MustCompile(`href='([^']*)'`)

// indexLinks fetches the index at u and returns its links, unescaped.
func indexLinks(t *testing.T, client *http.Client, u string) []string {
	t.Helper()
	resp, body := do(t, client, "GET", u, "")
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("index %s: status %d, Content-Type %q", u, resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	var links []string
	for _, m := range hrefRE.FindAllStringSubmatch(string(body), -1) {
		links = append(links, strings.ReplaceAll(m[1], "&amp;", "&"))
	}
	return links
}

func TestIndexUnderPrefix(t *testing.T) {
	srv := newServer(t, Options{}, "/diag/pprof")
	base, _ := url.Parse(srv.URL + "/diag/pprof/")
	links := indexLinks(t, srv.Client(), base.String())

	var names []string
	for _, link := range links {
		ref, err := url.Parse(link)
		if err != nil || ref.IsAbs() || strings.HasPrefix(ref.Path, "/") {
			t.Errorf("link %q is not relative", link)
			continue
		}
		names = append(names, strings.TrimPrefix(ref.Path, "./"))
	}
	for _, want := range []string{"allocs", "block", "cmdline", "goroutine", "heap", "mutex", "profile", "symbol", "threadcreate", "trace", customProfile.Name()} {
		if !slices.Contains(names, want) {
			t.Errorf("index lists %v, missing %s", names, want)
		}
	}

	for _, link := range links {
		ref, _ := url.Parse(link)
		if strings.HasSuffix(ref.Path, "trace") {
			continue // a real 1 s trace; TestTrace covers it
		}
		t.Run(link, func(t *testing.T) {
			u := base.ResolveReference(ref)
			if !strings.HasPrefix(u.Path, "/diag/pprof/") {
				t.Fatalf("link %q resolves outside the prefix: %s", link, u)
			}
			resp, body := do(t, srv.Client(), "GET", u.String(), "")
			if resp.StatusCode != 200 {
				t.Fatalf("GET %s: status %d: %.200s", u, resp.StatusCode, body)
			}
		})
	}
}

func TestIndexRedirect(t *testing.T) {
	h := Handler(Options{CPU: (&fakeCPU{}).profile})
	mux := http.NewServeMux()
	// Mounted for the bare prefix too, so the handler sees "/diag/pprof".
	mux.Handle("/diag/pprof", http.StripPrefix("/diag/pprof", h))
	mux.Handle("/diag/pprof/", http.StripPrefix("/diag/pprof", h))
	// Mounted by stripping the slash too: "/x/pprof/" arrives as "".
	mux.Handle("/x/pprof/", http.StripPrefix("/x/pprof/", h))
	srv := httptest.NewServer(mux)
	defer srv.Close()

	noFollow := *srv.Client()
	noFollow.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, _ := do(t, &noFollow, "GET", srv.URL+"/diag/pprof?debug=1", "")
	if resp.StatusCode != http.StatusMovedPermanently || resp.Header.Get("Location") != "./pprof/?debug=1" {
		t.Fatalf("bare prefix: status %d, Location %q; want 301 to ./pprof/?debug=1", resp.StatusCode, resp.Header.Get("Location"))
	}

	for _, start := range []string{"/diag/pprof", "/diag/pprof/", "/x/pprof/"} {
		t.Run(start, func(t *testing.T) {
			resp, _ := do(t, srv.Client(), "GET", srv.URL+start, "")
			if resp.StatusCode != 200 || !strings.HasSuffix(resp.Request.URL.Path, "/pprof/") {
				t.Fatalf("ended at %s with %d, want the index", resp.Request.URL, resp.StatusCode)
			}
			heap := resp.Request.URL.ResolveReference(&url.URL{Path: "heap", RawQuery: "debug=1"})
			resp, body := do(t, srv.Client(), "GET", heap.String(), "")
			if resp.StatusCode != 200 || !strings.Contains(string(body), "heap profile:") {
				t.Fatalf("GET %s: %d %.100q", heap, resp.StatusCode, body)
			}
		})
	}
}

func TestIndexPageEscapes(t *testing.T) {
	page := string(indexPage("/a/<b>/", []profileEntry{{Name: "x'y<z>", Desc: "<script>"}, {Name: "a:b"}}))
	for _, bad := range []string{"<b>", "x'y", "<z>", "<script>", "href='a:b"} {
		if strings.Contains(page, bad) {
			t.Errorf("index page contains %q unescaped:\n%s", bad, page)
		}
	}
	if !strings.Contains(page, "href='./a:b?debug=1'") {
		t.Errorf("link to a:b is not kept relative:\n%s", page)
	}
}
