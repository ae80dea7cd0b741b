package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/pprof/profile"

	"github.com/diagkit/diagkit/diag/analysis"
	"github.com/diagkit/diagkit/diag/api"
)

func encodeProfile(t testing.TB, p *profile.Profile) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := p.Write(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// agentWindow is a window report as an agent serves it.
func agentWindow(t testing.TB) []byte {
	t.Helper()
	r, err := analysis.AnalyzeBytes(encodeProfile(t, testProfile()), analysis.Options{})
	if err != nil {
		t.Fatal(err)
	}
	limit := 2.0
	wr := api.WindowReport{
		Report: *r, WindowSchema: api.WindowSchema, Seq: 7, Source: "periodic",
		Start:   time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC),
		End:     time.Date(2026, 11, 22, 10, 0, 10, 0, time.UTC),
		Context: api.Context{GoVersion: "go1.26.8", GOMAXPROCS: 8, NumCPU: 8, CgroupVersion: "v2", CgroupCPULimit: &limit},
		Warnings: []api.Warning{{Kind: api.WarnAsyncPreempt, Value: r.Shares.AsyncPreempt, Threshold: 0.01,
			Causes: []string{"GOMAXPROCS 8 > cgroup limit 2 CPUs"}, Logged: true}},
	}
	data, err := json.Marshal(wr)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// fakeTarget serves report and profile handlers at the agent's paths.
func fakeTarget(report, prof http.HandlerFunc) *httptest.Server {
	mux := http.NewServeMux()
	if report != nil {
		mux.Handle(pathReport, report)
	}
	if prof != nil {
		mux.Handle(pathProfile, prof)
	}
	return httptest.NewServer(mux)
}

func respond(status int, contentType string, body []byte) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if contentType != "" {
			w.Header().Set("Content-Type", contentType)
		}
		w.WriteHeader(status)
		w.Write(body)
	}
}

func TestLiveTargets(t *testing.T) {
	cpuGz := encodeProfile(t, testProfile())
	heap := newHeapProfile()
	heap.sample([]int64{1, 512, 1, 512}, heap.location(frame{"main.alloc", "/src/main.go", 3}))
	heapGz := encodeProfile(t, heap.p)
	window := agentWindow(t)
	notFound := respond(http.StatusNotFound, "text/plain", []byte("404 page not found"))
	profileOK := respond(http.StatusOK, "application/octet-stream", cpuGz)
	mustNotCall := func(t *testing.T) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) { t.Errorf("%s was fetched", r.URL.Path) }
	}

	tests := []struct {
		name    string
		report  http.HandlerFunc
		profile http.HandlerFunc
		flags   []string
		code    int
		want    []string // in stdout (exit 0 or 3) or stderr
	}{
		{"agent window", respond(200, "application/json", window), nil, nil, exitOK,
			[]string{"agent window #7", "Process context over the window", "2 CPUs (cgroup v2)", "async_preempt_share", "GOMAXPROCS 8 > cgroup limit 2 CPUs"}},
		{"agent window json", respond(200, "application/json", window), nil, []string{"-o", "json"}, exitOK,
			[]string{`"window_schema": "diagkit.window/v1"`, `"schema": "diagkit.report/v1"`, `"async_preempt": 0.3`}},
		{"agent window above --fail-above", respond(200, "application/json", window), nil, []string{"--fail-above", "1%"}, exitThreshold,
			[]string{"async-preempt share 30.00% is above --fail-above 1.00%"}},
		{"plain pprof server", notFound, profileOK, []string{"--seconds", "1"}, exitOK,
			[]string{"s profile)", "async_preempt", "main.spin"}},
		{"agent without a window yet", respond(503, "text/plain", []byte("no window analyzed yet")), profileOK, nil, exitOK,
			[]string{"s profile)"}},
		{"non-agent 200 at the report path", respond(200, "text/html", []byte("<html>hi</html>")), profileOK, nil, exitOK,
			[]string{"s profile)"}},

		{"401 on the report", respond(401, "text/plain", []byte("missing or wrong bearer token")), nil, nil, exitAuth,
			[]string{"401 Unauthorized: not authorized", "--token"}},
		{"403 on the profile", notFound, respond(403, "text/plain", []byte("forbidden")), nil, exitAuth,
			[]string{"403 Forbidden: not authorized"}},
		{"404: no pprof", notFound, notFound, nil, exitError,
			[]string{"404: no pprof endpoint there"}},
		{"html instead of a profile", notFound, respond(200, "text/html; charset=utf-8", []byte("<!doctype html><p>login</p>")), nil, exitError,
			[]string{"HTML page, not a profile"}},
		{"html without a content type", notFound, respond(200, "", []byte("<html><body>proxy</body></html>")), nil, exitError,
			[]string{"HTML page, not a profile"}},
		{"truncated gzip", notFound, respond(200, "application/octet-stream", cpuGz[:len(cpuGz)/2]), nil, exitError,
			[]string{"not a valid profile (truncated or corrupt"}},
		{"garbage", notFound, respond(200, "application/octet-stream", []byte("\x00\x01garbage")), nil, exitError,
			[]string{"not a valid profile"}},
		{"heap profile", notFound, respond(200, "application/octet-stream", heapGz), nil, exitError,
			[]string{"not a CPU profile", "alloc_objects/count"}},
		{"agent profiler busy", respond(503, "text/plain", []byte("no window analyzed yet")),
			respond(503, "text/plain", []byte("the CPU profiler is held by another profiler in this process")), nil, exitBusy,
			[]string{"CPU profiler is busy", "retry later"}},
		{"net/http/pprof profiler busy", notFound,
			respond(500, "text/plain", []byte("Could not enable CPU profiling: cpu profiling already in use")), nil, exitBusy,
			[]string{"CPU profiler is busy"}},
		{"too many profiles at once", notFound, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Retry-After", "7")
			respond(429, "text/plain", []byte("429 too many profile requests at once"))(w, r)
		}, nil, exitBusy,
			[]string{"429: the target is serving as many profiles as it allows", "retry after 7 s"}},
		{"server error", notFound, respond(500, "text/plain", []byte("boom")), nil, exitError,
			[]string{"500 Internal Server Error: boom"}},
		{"proxy cannot reach the target", notFound, respond(502, "text/html", []byte("<html>Bad Gateway</html>")), nil, exitUnreachable,
			[]string{"502 Bad Gateway: the target (or a proxy in front of it) is unreachable"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			prof := tt.profile
			if prof == nil {
				prof = mustNotCall(t)
			}
			srv := fakeTarget(tt.report, prof)
			defer srv.Close()
			args := append([]string{"preempt-share"}, tt.flags...)
			res := runDiagctl(t, nil, append(args, srv.Listener.Addr().String())...)
			if res.code != tt.code {
				t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", res.code, tt.code, res.stdout, res.stderr)
			}
			out := res.stderr
			if tt.code == exitOK || tt.code == exitThreshold {
				out = res.stdout + res.stderr
			}
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Errorf("output does not contain %q:\n%s", w, out)
				}
			}
		})
	}
}

func TestLiveFreshSkipsTheReport(t *testing.T) {
	cpuGz := encodeProfile(t, testProfile())
	var asked string
	srv := fakeTarget(
		func(w http.ResponseWriter, r *http.Request) { t.Error("--fresh read the agent's report") },
		func(w http.ResponseWriter, r *http.Request) { asked = r.URL.RawQuery; w.Write(cpuGz) })
	defer srv.Close()
	res := runDiagctl(t, nil, "preempt-share", "--fresh", "--seconds", "7", srv.Listener.Addr().String())
	if res.code != exitOK || asked != "seconds=7" {
		t.Errorf("exit %d, query %q: %s", res.code, asked, res.stderr)
	}
}

func TestLiveUnreachable(t *testing.T) {
	t.Run("connection refused", func(t *testing.T) {
		addr := deadAddr(t)
		res := runDiagctl(t, nil, "preempt-share", addr)
		if res.code != exitUnreachable || !strings.Contains(res.stderr, addr+": connection refused") {
			t.Errorf("exit %d: %s", res.code, res.stderr)
		}
	})
	t.Run("dns failure", func(t *testing.T) {
		// No query leaves the machine: the dialer fails as a lookup does.
		dialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
			host, _, _ := net.SplitHostPort(addr)
			return nil, &net.OpError{Op: "dial", Net: network, Err: &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}}
		}
		defer func() { dialContext = nil }()
		res := runDiagctl(t, nil, "preempt-share", "db-7.prod.invalid:6060")
		if res.code != exitUnreachable || !strings.Contains(res.stderr, `cannot resolve host "db-7.prod.invalid": no such host`) {
			t.Errorf("exit %d: %s", res.code, res.stderr)
		}
	})
	t.Run("timeout", func(t *testing.T) {
		release := make(chan struct{})
		srv := fakeTarget(func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-r.Context().Done():
			case <-release:
			}
		}, nil)
		defer srv.Close()
		defer close(release)
		start := time.Now()
		res := runDiagctl(t, nil, "preempt-share", "--timeout", "300ms", srv.Listener.Addr().String())
		if res.code != exitUnreachable || !strings.Contains(res.stderr, "no answer within 300ms") {
			t.Errorf("exit %d: %s", res.code, res.stderr)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("took %v to time out", d)
		}
	})
}

func TestLiveTransport(t *testing.T) {
	window := agentWindow(t)
	checkAuth := func(t *testing.T) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			if !strings.HasPrefix(r.UserAgent(), "diagctl/") {
				t.Errorf("User-Agent %q", r.UserAgent())
			}
			if r.Header.Get("Authorization") != "Bearer s3cret" {
				w.WriteHeader(http.StatusUnauthorized)
				return
			}
			w.Write(window)
		}
	}
	t.Run("token flag", func(t *testing.T) {
		srv := fakeTarget(checkAuth(t), nil)
		defer srv.Close()
		if res := runDiagctl(t, nil, "preempt-share", "--token", "s3cret", srv.Listener.Addr().String()); res.code != exitOK {
			t.Errorf("exit %d: %s", res.code, res.stderr)
		}
	})
	t.Run("token from the environment", func(t *testing.T) {
		t.Setenv(tokenEnv, "s3cret")
		srv := fakeTarget(checkAuth(t), nil)
		defer srv.Close()
		if res := runDiagctl(t, nil, "preempt-share", srv.Listener.Addr().String()); res.code != exitOK {
			t.Errorf("exit %d: %s", res.code, res.stderr)
		}
	})
	t.Run("https", func(t *testing.T) {
		mux := http.NewServeMux()
		mux.Handle(pathReport, respond(200, "application/json", window))
		srv := httptest.NewUnstartedServer(mux)
		srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the expected handshake failure
		srv.StartTLS()
		defer srv.Close()
		res := runDiagctl(t, nil, "preempt-share", srv.URL)
		if res.code != exitUnreachable || !strings.Contains(res.stderr, "certificate") {
			t.Errorf("untrusted certificate: exit %d: %s", res.code, res.stderr)
		}
		if res := runDiagctl(t, nil, "preempt-share", "--insecure", srv.URL); res.code != exitOK {
			t.Errorf("--insecure: exit %d: %s", res.code, res.stderr)
		}
	})
	t.Run("url with a prefix", func(t *testing.T) {
		mux := http.NewServeMux()
		mux.Handle("/diagkit"+pathReport, respond(200, "application/json", window))
		srv := httptest.NewServer(mux)
		defer srv.Close()
		if res := runDiagctl(t, nil, "preempt-share", srv.URL+"/diagkit/"); res.code != exitOK {
			t.Errorf("exit %d: %s", res.code, res.stderr)
		}
	})
}

func TestParseTarget(t *testing.T) {
	tests := []struct{ in, want, err string }{
		{"localhost", "http://localhost:6060", ""},
		{"10.0.0.7:7070", "http://10.0.0.7:7070", ""},
		{":6060", "http://127.0.0.1:6060", ""},
		{"[::1]:6060", "http://[::1]:6060", ""},
		{"::1", "http://[::1]:6060", ""},
		{"https://api.internal:8443/diagkit/", "https://api.internal:8443/diagkit", ""},
		{"http://h:6060/debug/pprof/", "http://h:6060", ""},
		{"http://h:6060/?seconds=3", "", "without a query"},
		{"host:port", "", "not a number"},
		{"a b:1", "", "not HOST[:PORT]"},
		{"http://", "", "no host"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			u, err := parseTarget(tt.in)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Errorf("err = %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil || u.String() != tt.want {
				t.Errorf("= %v, %v; want %s", u, err, tt.want)
			}
		})
	}
}

// FuzzParseTarget: any argument either parses to an http(s) URL with a host
// or is refused with an error; never a panic.
func FuzzParseTarget(f *testing.F) {
	f.Fuzz(func(t *testing.T, in string) {
		u, err := parseTarget(in)
		if err != nil {
			return
		}
		if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" {
			t.Fatalf("parseTarget(%q) = %v", in, u)
		}
		_ = isFileArg(in)
	})
}
