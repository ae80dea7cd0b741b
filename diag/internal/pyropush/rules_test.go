package pyropush

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/pprof/profile"
	"github.com/grafana/pyroscope-go/upstream"
)

func TestRetryableAndJitter(t *testing.T) {
	for status, want := range map[int]bool{0: true, 408: true, 429: true, 500: true, 503: true,
		400: false, 401: false, 403: false, 404: false, 413: false, 422: false} {
		if Retryable(status) != want {
			t.Errorf("Retryable(%d) = %v", status, !want)
		}
	}
	low := func(int64) int64 { return 0 }
	high := func(n int64) int64 { return n - 1 }
	if d := Jitter(time.Second, 0, low); d != 500*time.Millisecond {
		t.Errorf("lowest jitter %v", d)
	}
	if d := Jitter(time.Second, 0, high); d != time.Second {
		t.Errorf("highest jitter %v", d)
	}
	if d := Jitter(time.Second, 3*time.Second, low); d != 3*time.Second {
		t.Errorf("Retry-After not honoured: %v", d)
	}
	if d := Jitter(time.Second, time.Hour, low); d != MaxRetryAfter {
		t.Errorf("Retry-After not bounded: %v", d)
	}
	// Real randomness spreads a fleet: 50 draws are not all equal.
	seen := map[time.Duration]bool{}
	s := &Sender{backoff: time.Second}
	for range 50 {
		seen[s.jittered(0)] = true
	}
	if len(seen) < 10 {
		t.Errorf("jitter gave only %d distinct waits", len(seen))
	}
	now := time.Now()
	if d := parseRetryAfter("2", now); d != 2*time.Second {
		t.Errorf("Retry-After 2: %v", d)
	}
	if d := parseRetryAfter(now.Add(90*time.Second).UTC().Format(http.TimeFormat), now); d < 88*time.Second || d > 90*time.Second {
		t.Errorf("Retry-After date: %v", d)
	}
	if d := parseRetryAfter("soon", now); d != 0 {
		t.Errorf("Retry-After junk: %v", d)
	}
}

// 429 with Retry-After is retried after at least that long; 503 is retried
// with backoff; the profile is delivered once.
func TestSenderRetriesRetryable(t *testing.T) {
	answers := []int{429, 503, 200}
	var n atomic.Int32
	var times [3]time.Time
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		i := int(n.Add(1)) - 1
		if i < len(times) {
			times[i] = time.Now()
		}
		if i == 0 {
			w.Header().Set("Retry-After", "1")
		}
		w.WriteHeader(answers[min(i, len(answers)-1)])
	}))
	defer srv.Close()
	q := NewQueue(4, nil)
	s, err := NewSender(q, SenderConfig{Remote: remoteConfig(srv.URL), Timeout: time.Second, FlushTimeout: 5 * time.Second,
		MinBackoff: 10 * time.Millisecond, MaxBackoff: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	s.Start()
	j := job(1)
	j.StartTime = time.Now()
	q.Upload(j)
	deadline := time.Now().Add(5 * time.Second)
	for s.Sent() == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	s.Stop()
	st := s.Stats()
	if st.Sent != 1 || st.Retries != 2 || st.Failed != 2 || q.Stats().Dropped != 0 {
		t.Fatalf("stats %+v dropped %d", st, q.Stats().Dropped)
	}
	if gap := times[1].Sub(times[0]); gap < 900*time.Millisecond {
		t.Errorf("retried %v after a 429 with Retry-After: 1", gap)
	}
}

// A profile older than MaxAge is dropped, counted, and never sent.
func TestSenderDropsStale(t *testing.T) {
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { n.Add(1) }))
	defer srv.Close()
	q := NewQueue(4, nil)
	s, err := NewSender(q, SenderConfig{Remote: remoteConfig(srv.URL), Timeout: time.Second, FlushTimeout: time.Second,
		MinBackoff: time.Millisecond, MaxBackoff: time.Millisecond, MaxAge: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	s.Start()
	old, fresh := job(1), job(2)
	old.StartTime, fresh.StartTime = time.Now().Add(-2*time.Minute), time.Now()
	q.Upload(old)
	q.Upload(fresh)
	s.Stop()
	if st := s.Stats(); st.Stale != 1 || st.Sent != 1 || n.Load() != 1 || q.Stats().Dropped != 1 {
		t.Errorf("stats %+v requests %d dropped %d", st, n.Load(), q.Stats().Dropped)
	}
}

func TestServerLabelRules(t *testing.T) {
	for k, want := range map[string]string{
		"local root span id": "local_root_span_id", // grafana/pyroscope-go#183
		"span.id":            "span_id",
		"1st":                "_1st",
		"ok_Name9":           "ok_Name9",
		"service.name":       "", // service_name: the server's
		"__private":          "",
		"":                   "",
		"ü":                  "",
	} {
		if got := SanitizeLabelName(k); got != want {
			t.Errorf("SanitizeLabelName(%q) = %q, want %q", k, got, want)
		}
	}
	for _, bad := range []map[string]string{
		{"1abc": "v"},          // leading digit
		{"service.name": "v"},  // stored as service_name
		{"pyroscope.spy": "v"}, // stored as pyroscope_spy
		{"a.b": "1", "a_b": "2"},
		{"a b": "v"},
	} {
		if err := ValidateTags(bad); err == nil {
			t.Errorf("ValidateTags(%v) = nil", bad)
		}
	}
	many := map[string]string{}
	for i := range 25 {
		many["t"+strconv.Itoa(i)] = "v"
	}
	if err := ValidateTags(many); err == nil || !strings.Contains(err.Error(), "30 labels") {
		t.Errorf("25 tags: %v", err)
	}
	if MaxTags+4+AgentLabels != ServerMaxLabels {
		t.Errorf("budget: %d tags + 4 + %d != %d", MaxTags, AgentLabels, ServerMaxLabels)
	}
}

func TestSanitizeSampleLabels(t *testing.T) {
	fn := &profile.Function{ID: 1, Name: "f"}
	loc := &profile.Location{ID: 1, Line: []profile.Line{{Function: fn}}}
	p := &profile.Profile{
		SampleType: []*profile.ValueType{{Type: "samples", Unit: "count"}},
		Function:   []*profile.Function{fn}, Location: []*profile.Location{loc},
		Sample: []*profile.Sample{
			{Location: []*profile.Location{loc}, Value: []int64{1}, Label: map[string][]string{
				"local root span id": {"42"}, "1st": {"a"}, "service.name": {"x"}, "env": {"series"},
				"long": {strings.Repeat("v", 3000)}, "fine": {"ok"},
			}, NumLabel: map[string][]int64{"bytes": {1}}},
			{Location: []*profile.Location{loc}, Value: []int64{2}},
		},
	}
	var buf bytes.Buffer
	if err := p.Write(&buf); err != nil {
		t.Fatal(err)
	}
	series := map[string]bool{"env": true, "service_name": true}
	out, st := SanitizeSampleLabels(buf.Bytes(), series, 3)
	got, err := profile.ParseData(out)
	if err != nil {
		t.Fatal(err)
	}
	l := got.Sample[0].Label
	// sorted keys: 1st, env (series: dropped), fine, local root span id,
	// long (budget 3 reached: dropped), service.name (reserved: dropped)
	if len(l) != 3 || l["_1st"] == nil || l["fine"] == nil || l["local_root_span_id"] == nil || got.Sample[0].NumLabel["bytes"] == nil {
		t.Errorf("labels %v", l)
	}
	if st.Renamed != 2 || st.Dropped != 3 {
		t.Errorf("stats %+v", st)
	}
	// Nothing to change: the bytes are returned as they were.
	clean := &profile.Profile{SampleType: p.SampleType, Function: p.Function, Location: p.Location,
		Sample: []*profile.Sample{{Location: []*profile.Location{loc}, Value: []int64{1}, Label: map[string][]string{"ok": {"1"}}}}}
	buf.Reset()
	_ = clean.Write(&buf)
	if out, st := SanitizeSampleLabels(buf.Bytes(), series, 10); !bytes.Equal(out, buf.Bytes()) || st != (SampleLabelStats{}) {
		t.Errorf("clean profile rewritten: %+v", st)
	}
	// A value longer than the server allows is cut.
	out, _ = SanitizeSampleLabels(mustWrite(t, p), map[string]bool{}, 30)
	got, _ = profile.ParseData(out)
	if v := got.Sample[0].Label["long"]; len(v) != 1 || len(v[0]) != ServerMaxValueLen {
		t.Errorf("long value: %d bytes", len(v[0]))
	}
	_ = upstream.FormatPprof
}

func mustWrite(t *testing.T, p *profile.Profile) []byte {
	var buf bytes.Buffer
	if err := p.Write(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}
