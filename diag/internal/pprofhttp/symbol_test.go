package pprofhttp

import (
	"fmt"
	"reflect"
	"runtime"
	"strings"
	"testing"
)

// symbolTarget is a function whose address the symbol tests look up.
//
//go:noinline
func symbolTarget() int { return 42 }

func TestSymbol(t *testing.T) {
	srv := newServer(t, Options{}, "/debug/pprof")
	url := srv.URL + "/debug/pprof/symbol"

	pc := reflect.ValueOf(symbolTarget).Pointer()
	name := runtime.FuncForPC(pc).Name()
	if !strings.HasSuffix(name, "pprofhttp.symbolTarget") {
		t.Fatalf("FuncForPC gave %q", name)
	}
	pc2 := reflect.ValueOf(TestSymbol).Pointer()
	name2 := runtime.FuncForPC(pc2).Name()
	line := fmt.Sprintf("%#x %s\n", pc, name)
	line2 := fmt.Sprintf("%#x %s\n", pc2, name2)

	tests := []struct {
		name, method, query, body string
		want                      string // the whole body
	}{
		{name: "GET probe", method: "GET", want: "num_symbols: 1\n"},
		{name: "GET one", method: "GET", query: fmt.Sprintf("?%#x", pc), want: "num_symbols: 1\n" + line},
		{name: "GET two", method: "GET", query: fmt.Sprintf("?%#x+%#x", pc, pc2), want: "num_symbols: 1\n" + line + line2},
		{name: "POST two and junk", method: "POST", body: fmt.Sprintf("%#x+junk+0+%#x", pc, pc2), want: "num_symbols: 1\n" + line + line2},
		{name: "POST decimal", method: "POST", body: fmt.Sprint(pc), want: "num_symbols: 1\n" + line},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := do(t, srv.Client(), tt.method, url+tt.query, tt.body)
			if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") {
				t.Fatalf("status %d, Content-Type %q", resp.StatusCode, resp.Header.Get("Content-Type"))
			}
			if string(body) != tt.want {
				t.Fatalf("body:\n%s\nwant:\n%s", body, tt.want)
			}
		})
	}
}

func TestSymbolPostTooLarge(t *testing.T) {
	srv := newServer(t, Options{}, "/debug/pprof")
	tests := []struct {
		name       string
		body       string
		wantStatus int
	}{
		{name: "at the limit", body: strings.Repeat("0x1+", maxSymbolBody/4), wantStatus: 200},
		{name: "over the limit", body: strings.Repeat("0x1+", maxSymbolBody/4+1), wantStatus: 413},
		{name: "one huge word", body: strings.Repeat("1", 8192), wantStatus: 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := do(t, srv.Client(), "POST", srv.URL+"/debug/pprof/symbol", tt.body)
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("status = %d, want %d: %.200s", resp.StatusCode, tt.wantStatus, body)
			}
			if tt.wantStatus == 413 && !strings.Contains(string(body), "too large") {
				t.Errorf("413 body %q does not say why", body)
			}
		})
	}
}
