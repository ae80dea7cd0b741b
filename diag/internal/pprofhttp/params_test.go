package pprofhttp

import (
	"errors"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestSecondsBoundsOverHTTP(t *testing.T) {
	cpu := &fakeCPU{}
	srv := newServer(t, Options{CPU: cpu.profile}, "/debug/pprof")
	for _, path := range []string{"profile", "trace", "allocs", "heap"} {
		for _, sec := range []string{"0", "-1", "abc", "61", "1e3", "%20"} {
			if path != "trace" && sec == "1e3" {
				continue
			}
			t.Run(path+"?seconds="+sec, func(t *testing.T) {
				resp, body := do(t, srv.Client(), "GET", srv.URL+"/debug/pprof/"+path+"?seconds="+sec, "")
				if resp.StatusCode != 400 {
					t.Fatalf("status = %d, want 400: %s", resp.StatusCode, body)
				}
				if !strings.Contains(string(body), `invalid value for "seconds"`) {
					t.Errorf("body %q does not say what is wrong", body)
				}
			})
		}
	}
	if got := cpu.durations(); len(got) != 0 {
		t.Errorf("CPUProfiler called for bad requests: %v", got)
	}
}

func TestParseParams(t *testing.T) {
	tests := []struct {
		ep      endpoint
		query   string
		want    params
		wantErr string // substring; "" means no error
	}{
		{ep: epCPU, query: "", want: params{dur: 30 * time.Second}},
		{ep: epCPU, query: "seconds=5&debug=junk&gc=junk", want: params{dur: 5 * time.Second}},
		{ep: epCPU, query: "seconds=1.5", wantErr: "positive integer"},
		{ep: epCPU, query: "seconds=61", wantErr: "at most 60"},
		{ep: epTrace, query: "", want: params{dur: time.Second}},
		{ep: epTrace, query: "seconds=0.25", want: params{dur: 250 * time.Millisecond}},
		{ep: epTrace, query: "seconds=60", want: params{dur: 60 * time.Second}},
		{ep: epTrace, query: "seconds=60.5", wantErr: "at most 60"},
		{ep: epTrace, query: "seconds=NaN", wantErr: "positive number"},
		{ep: epTrace, query: "seconds=Inf", wantErr: "at most 60"},
		{ep: epTrace, query: "seconds=1e-300", wantErr: "positive number"},
		{ep: epNamed, query: "", want: params{}},
		{ep: epNamed, query: "seconds=3", want: params{dur: 3 * time.Second}},
		{ep: epNamed, query: "debug=2&gc=1", want: params{debug: 2, gc: true}},
		{ep: epNamed, query: "gc=0", want: params{}},
		{ep: epNamed, query: "gc=-3", want: params{}},
		{ep: epNamed, query: "gc=yes", wantErr: `"gc"`},
		{ep: epNamed, query: "debug=-1", wantErr: `"debug"`},
		{ep: epNamed, query: "debug=one", wantErr: `"debug"`},
		{ep: epNamed, query: "seconds=1&debug=1", wantErr: "incompatible"},
		{ep: epNamed, query: "seconds=1&debug=0", want: params{dur: time.Second}},
		{ep: epNamed, query: "seconds=0", wantErr: "positive integer"},
	}
	for _, tt := range tests {
		t.Run(strconv.Itoa(int(tt.ep))+"/"+tt.query, func(t *testing.T) {
			q, err := url.ParseQuery(tt.query)
			if err != nil {
				t.Fatal(err)
			}
			got, err := parseParams(q, tt.ep, DefaultMaxSeconds)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("got %+v, %v; want %+v", got, err, tt.want)
			}
		})
	}
}

// FuzzParseParams feeds arbitrary seconds, debug and gc values and bounds to
// the query parsing of every endpoint. It must not panic; what it accepts
// must be in range and what it rejects must be a 400 with a message. The seed
// corpus is in testdata/fuzz/FuzzParseParams.
func FuzzParseParams(f *testing.F) {
	f.Fuzz(func(t *testing.T, seconds, debug, gc string, maxSeconds int64) {
		if maxSeconds <= 0 {
			maxSeconds = DefaultMaxSeconds
		}
		maxSeconds = min(maxSeconds, maxSecondsLimit) // as Handler does
		q := url.Values{"seconds": {seconds}, "debug": {debug}, "gc": {gc}}
		maxDur := time.Duration(maxSeconds) * time.Second

		for _, ep := range []endpoint{epCPU, epTrace, epNamed} {
			p, err := parseParams(q, ep, maxSeconds)
			if err != nil {
				var pe paramError
				if !errors.As(err, &pe) || pe == "" || p != (params{}) {
					t.Fatalf("ep %d: error %#v with %+v, want a paramError and zero params", ep, err, p)
				}
				continue
			}
			switch ep {
			case epCPU:
				if p.dur <= 0 || p.dur > maxDur || p.dur%time.Second != 0 {
					t.Fatalf("profile: accepted seconds=%q as %v (max %v)", seconds, p.dur, maxDur)
				}
				if seconds == "" && p.dur != min(30*time.Second, maxDur) {
					t.Fatalf("profile: default is %v", p.dur)
				}
			case epTrace:
				// A fraction of a second rounds in float64; allow a microsecond.
				if p.dur <= 0 || p.dur > maxDur+time.Microsecond {
					t.Fatalf("trace: accepted seconds=%q as %v (max %v)", seconds, p.dur, maxDur)
				}
			case epNamed:
				if p.dur < 0 || p.dur > maxDur || p.dur%time.Second != 0 || (seconds == "") != (p.dur == 0) {
					t.Fatalf("named: accepted seconds=%q as %v (max %v)", seconds, p.dur, maxDur)
				}
				if p.debug < 0 || (p.dur > 0 && p.debug != 0) {
					t.Fatalf("named: accepted debug=%q as %d with seconds=%q", debug, p.debug, seconds)
				}
				if n, err := strconv.Atoi(gc); (gc != "" && err != nil) || p.gc != (n > 0) {
					t.Fatalf("named: accepted gc=%q as %v", gc, p.gc)
				}
			}
			if p.dur > 0 && seconds != "" {
				if n, err := strconv.ParseInt(seconds, 10, 64); err == nil && p.dur != time.Duration(n)*time.Second {
					t.Fatalf("ep %d: seconds=%q gave %v", ep, seconds, p.dur)
				}
			}
		}
	})
}
