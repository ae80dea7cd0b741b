package pprofhttp

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/google/pprof/profile"
)

func TestEndpoints(t *testing.T) {
	srv := newServer(t, Options{}, "/debug/pprof")
	base := srv.URL + "/debug/pprof/"

	tests := []struct {
		name, method, path string
		wantStatus         int
		wantType           string // Content-Type prefix
		wantAttachment     bool   // binary download
		wantProfile        bool   // body parses as a pprof profile
		wantBody           string // substring of the body
		wantAllow          string
	}{
		{name: "index", path: "", wantStatus: 200, wantType: "text/html", wantBody: "Types of profiles available"},
		{name: "cmdline", path: "cmdline", wantStatus: 200, wantType: "text/plain", wantBody: os.Args[0]},
		{name: "profile", path: "profile?seconds=1", wantStatus: 200, wantType: "application/octet-stream", wantAttachment: true, wantProfile: true},
		{name: "symbol", path: "symbol", wantStatus: 200, wantType: "text/plain", wantBody: "num_symbols: 1\n"},
		{name: "trace", path: "trace?seconds=0.1", wantStatus: 200, wantType: "application/octet-stream", wantAttachment: true, wantBody: " trace\x00"},
		{name: "heap", path: "heap", wantStatus: 200, wantType: "application/octet-stream", wantAttachment: true, wantProfile: true},
		{name: "heap debug=1", path: "heap?debug=1", wantStatus: 200, wantType: "text/plain", wantBody: "heap profile:"},
		{name: "allocs", path: "allocs", wantStatus: 200, wantType: "application/octet-stream", wantAttachment: true, wantProfile: true},
		{name: "block", path: "block", wantStatus: 200, wantType: "application/octet-stream", wantAttachment: true, wantProfile: true},
		{name: "mutex", path: "mutex", wantStatus: 200, wantType: "application/octet-stream", wantAttachment: true, wantProfile: true},
		{name: "threadcreate", path: "threadcreate", wantStatus: 200, wantType: "application/octet-stream", wantAttachment: true, wantProfile: true},
		{name: "goroutine", path: "goroutine", wantStatus: 200, wantType: "application/octet-stream", wantAttachment: true, wantProfile: true},
		{name: "goroutine debug=1", path: "goroutine?debug=1", wantStatus: 200, wantType: "text/plain", wantBody: "goroutine profile: total"},
		{name: "goroutine debug=2", path: "goroutine?debug=2", wantStatus: 200, wantType: "text/plain", wantBody: "goroutine "},
		{name: "custom", path: customProfile.Name(), wantStatus: 200, wantType: "application/octet-stream", wantAttachment: true, wantProfile: true},
		{name: "custom debug=1", path: customProfile.Name() + "?debug=1", wantStatus: 200, wantType: "text/plain", wantBody: customProfile.Name() + " profile: total 1"},
		{name: "HEAD heap", method: "HEAD", path: "heap", wantStatus: 200, wantType: "application/octet-stream", wantAttachment: true},
		{name: "POST symbol", method: "POST", path: "symbol", wantStatus: 200, wantType: "text/plain", wantBody: "num_symbols: 1\n"},
		{name: "unknown", path: "nope", wantStatus: 404, wantType: "text/plain", wantBody: "Unknown profile"},
		{name: "unknown nested", path: "heap/more", wantStatus: 404, wantType: "text/plain", wantBody: "Unknown profile"},
		{name: "POST heap", method: "POST", path: "heap", wantStatus: 405, wantType: "text/plain", wantAllow: "GET, HEAD"},
		{name: "POST profile", method: "POST", path: "profile", wantStatus: 405, wantType: "text/plain", wantAllow: "GET, HEAD"},
		{name: "DELETE symbol", method: "DELETE", path: "symbol", wantStatus: 405, wantType: "text/plain", wantAllow: "GET, HEAD, POST"},
		{name: "bad seconds", path: "profile?seconds=0", wantStatus: 400, wantType: "text/plain", wantBody: `"seconds"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			method := tt.method
			if method == "" {
				method = "GET"
			}
			resp, body := do(t, srv.Client(), method, base+tt.path, "")
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("status = %d, want %d; body:\n%s", resp.StatusCode, tt.wantStatus, body)
			}
			if got := resp.Header.Get("Content-Type"); !strings.HasPrefix(got, tt.wantType) {
				t.Errorf("Content-Type = %q, want %s", got, tt.wantType)
			}
			if got := resp.Header.Get("X-Content-Type-Options"); got != "nosniff" {
				t.Errorf("X-Content-Type-Options = %q, want nosniff", got)
			}
			cd := resp.Header.Get("Content-Disposition")
			if tt.wantAttachment != strings.HasPrefix(cd, "attachment") {
				t.Errorf("Content-Disposition = %q, want attachment: %v", cd, tt.wantAttachment)
			}
			if tt.wantStatus >= 400 && resp.Header.Get("X-Go-Pprof") != "1" {
				t.Errorf("error without X-Go-Pprof: 1")
			}
			if tt.wantAllow != "" && resp.Header.Get("Allow") != tt.wantAllow {
				t.Errorf("Allow = %q, want %q", resp.Header.Get("Allow"), tt.wantAllow)
			}
			if !bytes.Contains(body, []byte(tt.wantBody)) {
				t.Errorf("body does not contain %q:\n%.500s", tt.wantBody, body)
			}
			if tt.wantProfile {
				if _, err := profile.ParseData(body); err != nil {
					t.Errorf("body is not a profile: %v", err)
				}
			}
		})
	}
}

func TestNothingOnDefaultServeMux(t *testing.T) {
	_ = Handler(Options{CPU: (&fakeCPU{}).profile})
	for _, p := range []string{"/debug/pprof/", "/debug/pprof/profile", "/debug/pprof/heap"} {
		if _, pattern := http.DefaultServeMux.Handler(httptest.NewRequest("GET", p, nil)); pattern != "" {
			t.Errorf("DefaultServeMux serves %s (pattern %q)", p, pattern)
		}
	}
}

func TestHandlerNeedsCPU(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("Handler(Options{}) did not panic")
		}
	}()
	Handler(Options{})
}

func TestUnmountedHint(t *testing.T) {
	// Mounted without http.StripPrefix: the 404 says what is wrong.
	h := Handler(Options{CPU: (&fakeCPU{}).profile})
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/debug/pprof/heap", nil))
	if rec.Code != 404 || !strings.Contains(rec.Body.String(), "StripPrefix") {
		t.Fatalf("got %d %q, want 404 mentioning StripPrefix", rec.Code, rec.Body)
	}
}
