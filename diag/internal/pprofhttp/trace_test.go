package pprofhttp

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime/trace"
	"strings"
	"testing"
	"time"
)

// traceHeader is how every execution trace starts: "go 1.NN trace\0\0\0".
var traceHeader = regexp.MustCompile(`^go 1\.\d+ trace\x00+`)

func TestTrace(t *testing.T) {
	srv := newServer(t, Options{}, "/debug/pprof")
	start := time.Now()
	resp, body := do(t, srv.Client(), "GET", srv.URL+"/debug/pprof/trace", "") // default 1 s
	if resp.StatusCode != 200 {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	if took := time.Since(start); took < time.Second {
		t.Errorf("trace took %v, want the default 1 s", took)
	}
	if cd := resp.Header.Get("Content-Disposition"); cd != `attachment; filename="trace"` {
		t.Errorf("Content-Disposition = %q", cd)
	}
	h := traceHeader.Find(body)
	if h == nil || len(body) <= len(h)+64 {
		t.Fatalf("not an execution trace (%d bytes): %q", len(body), body[:min(len(body), 32)])
	}

	// The header alone says little: let the toolchain's own parser read it all.
	if testing.Short() {
		return
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("no go command to parse the trace with: %v", err)
	}
	file := filepath.Join(t.TempDir(), "trace.out")
	if err := os.WriteFile(file, body, 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, goTool, "tool", "trace", "-d=parsed", file)
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = io.Discard, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("go tool trace could not parse the trace: %v\n%s", err, stderr.Bytes())
	}
}

func TestTraceBusy(t *testing.T) {
	srv := newServer(t, Options{}, "/debug/pprof")
	url := srv.URL + "/debug/pprof/trace?seconds=0.1"

	t.Run("held by the program", func(t *testing.T) {
		if err := trace.Start(io.Discard); err != nil {
			t.Skipf("cannot start a trace for the test (go test -trace?): %v", err)
		}
		defer trace.Stop()
		checkTraceBusy(t, srv.Client(), url)
	})

	t.Run("held by another request", func(t *testing.T) {
		done := make(chan struct{})
		go func() {
			defer close(done)
			resp, err := srv.Client().Get(srv.URL + "/debug/pprof/trace?seconds=2")
			if err != nil {
				t.Errorf("first trace: %v", err)
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 {
				t.Errorf("first trace: status %d", resp.StatusCode)
			}
		}()
		deadline := time.Now().Add(5 * time.Second)
		for !trace.IsEnabled() {
			if time.Now().After(deadline) {
				t.Fatal("the first trace request did not start tracing")
			}
			time.Sleep(5 * time.Millisecond)
		}
		checkTraceBusy(t, srv.Client(), url)
		<-done
	})
}

func checkTraceBusy(t *testing.T, client *http.Client, url string) {
	t.Helper()
	resp, body := do(t, client, "GET", url, "")
	if resp.StatusCode != 503 {
		t.Fatalf("status = %d, want 503: %.100q", resp.StatusCode, body)
	}
	if !strings.Contains(string(body), "Another execution trace is running") || resp.Header.Get("Retry-After") == "" {
		t.Errorf("503 without a clear message or Retry-After: %q, Retry-After %q", body, resp.Header.Get("Retry-After"))
	}
	if ct, cd := resp.Header.Get("Content-Type"), resp.Header.Get("Content-Disposition"); !strings.HasPrefix(ct, "text/plain") || cd != "" {
		t.Errorf("503 served as Content-Type %q, Content-Disposition %q", ct, cd)
	}
}

func TestTraceStopsWithRequest(t *testing.T) {
	h := Handler(Options{CPU: (&fakeCPU{}).profile})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	time.AfterFunc(100*time.Millisecond, cancel)
	rec := httptest.NewRecorder()
	start := time.Now()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/trace?seconds=30", nil).WithContext(ctx))
	if took := time.Since(start); took > 5*time.Second {
		t.Fatalf("trace went on for %v after the request ended", took)
	}
	if trace.IsEnabled() {
		t.Fatal("tracing still enabled after the handler returned")
	}
	if traceHeader.Find(rec.Body.Bytes()) == nil {
		t.Errorf("the partial trace has no header")
	}
}
