package diag

import (
	"bytes"
	"context"
	"net/http"
	"net/url"
	"runtime/pprof"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/pprof/profile"
	"github.com/grafana/pyroscope-go"

	"github.com/diagkit/diagkit/diag/internal/pyropush"
)

// These tests hold the push to the rules of a real Pyroscope server, which
// the fake applies (fakeValidate, the ingestion window): each names the
// rule it is about.

// waitIngested waits until the fake accepted at least n profiles for which
// ok holds.
func waitIngested(t *testing.T, f *fakePyroscope, n int, d time.Duration, ok func(ingested) bool) []ingested {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		var got []ingested
		for _, in := range f.received() {
			if ok == nil || ok(in) {
				got = append(got, in)
			}
		}
		if len(got) >= n {
			return got
		}
		if time.Now().After(deadline) {
			_, refused := f.counts()
			t.Fatalf("%d of %d profiles after %v; refused: %q", len(got), n, d, refused)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func envMap(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

// emptyCPUProfile is a valid CPU profile of one sample.
func emptyCPUProfile(t *testing.T) []byte {
	fn := &profile.Function{ID: 1, Name: "main.f"}
	loc := &profile.Location{ID: 1, Line: []profile.Line{{Function: fn}}}
	p := &profile.Profile{SampleType: []*profile.ValueType{{Type: "cpu", Unit: "nanoseconds"}},
		Function: []*profile.Function{fn}, Location: []*profile.Location{loc}, TimeNanos: time.Now().UnixNano(),
		Sample: []*profile.Sample{{Location: []*profile.Location{loc}, Value: []int64{1}}}}
	var buf bytes.Buffer
	if err := p.Write(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func manyTags(n int, extra map[string]string) map[string]string {
	tags := map[string]string{}
	for i := range n - len(extra) {
		tags["tag"+strconv.Itoa(i)] = "v" + strconv.Itoa(i)
	}
	for k, v := range extra {
		tags[k] = v
	}
	return tags
}

// Rule: at most 30 labels per series, the server's 4 included. The fake
// refuses a name of 25 user tags plus diagkit's labels; diagkit refuses 25
// user tags as a configuration error, and with the most it allows
// (MaxTags, dotted names among them) every series the server builds has at
// most 30 labels and nothing is refused.
func TestPyroscopeRuleLabelBudget(t *testing.T) {
	fake := newFakePyroscope(t)
	labels := manyTags(25, nil)
	for k, v := range defaultTags() {
		labels[k] = v
	}
	labels["__session_id__"], labels["process.runtime.name"], labels["otel.scope.name"] = "0123456789abcdef", "go", "x"
	q := url.Values{"name": {pyropush.FormatName("app", labels)}, "format": {"pprof"}}
	resp, err := http.Post(fake.srv.URL+"/ingest?"+q.Encode(), "application/octet-stream", strings.NewReader(string(emptyCPUProfile(t))))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if _, refused := fake.counts(); resp.StatusCode != http.StatusBadRequest || len(refused) != 1 || !strings.Contains(refused[0], "limit 30") {
		t.Fatalf("the fake took 25 tags: %d %q", resp.StatusCode, refused)
	}

	if _, errs := (PyroscopeConfig{ServerAddress: fake.srv.URL, Tags: manyTags(25, nil)}).withDefaults(); len(errs) != 1 ||
		!strings.Contains(errs[0].Error(), "30 labels per series") {
		t.Fatalf("25 tags: %v", errs)
	}
	if _, _, err := ConfigFromEnv(envMap(map[string]string{"DIAGKIT_PYROSCOPE_URL": fake.srv.URL,
		"DIAGKIT_PYROSCOPE_TAGS": pyropush.FormatTags(manyTags(25, nil))})); err == nil || !strings.Contains(err.Error(), "30 labels per series") {
		t.Fatalf("25 tags from the environment: %v", err)
	}

	fake2 := newFakePyroscope(t)
	tags := manyTags(pyropush.MaxTags, map[string]string{"deploy.env": "prod", "k8s.pod.name": "pod-1"})
	a, _ := startAgent(t, Config{Pyroscope: PyroscopeConfig{
		ServerAddress: fake2.srv.URL, ApplicationName: "budget", Tags: tags, UploadRate: 200 * time.Millisecond,
		ProfileTypes: []pyroscope.ProfileType{pyroscope.ProfileCPU, pyroscope.ProfileInuseSpace},
	}})
	got := waitIngested(t, fake2, 1, 10*time.Second, func(in ingested) bool { return in.Metric == "process_cpu" })
	got = append(got, waitIngested(t, fake2, 1, 10*time.Second, func(in ingested) bool { return in.Metric == "memory" })...)
	a.Stop()
	for _, in := range got {
		for _, s := range in.Series {
			if len(s) > 30 || s["deploy_env"] != "prod" || s["k8s_pod_name"] != "pod-1" {
				t.Errorf("%s series with %d labels: %v", in.Metric, len(s), s)
			}
		}
	}
	if _, refused := fake2.counts(); len(refused) > 0 {
		t.Errorf("refused: %q", refused)
	}
}

// Rules: label names are the server's grammar (labelset.ValidateLabelName),
// with no leading digit; dots are stored as _, so a dotted name may collide
// with the server's labels (service.name is service_name) or with another
// tag. Each is a configuration error naming the tag, from Config and from
// the environment.
func TestPyroscopeRuleLabelNames(t *testing.T) {
	for _, tc := range []struct {
		tags map[string]string
		want string
	}{
		{map[string]string{"1region": "eu"}, "starts with a digit"},
		{map[string]string{"service.name": "x"}, "service_name"},
		{map[string]string{"pyroscope.spy": "x"}, "pyroscope_spy"},
		{map[string]string{"a.b": "1", "a_b": "2"}, "same label a_b"},
		{map[string]string{"local root span id": "1"}, "not allowed"},
	} {
		_, errs := PyroscopeConfig{ServerAddress: "http://127.0.0.1:1", Tags: tc.tags}.withDefaults()
		if len(errs) != 1 || !strings.Contains(errs[0].Error(), tc.want) {
			t.Errorf("tags %v: %v, want %q", tc.tags, errs, tc.want)
		}
		if _, _, err := ConfigFromEnv(envMap(map[string]string{"DIAGKIT_PYROSCOPE_URL": "http://127.0.0.1:1",
			"DIAGKIT_PYROSCOPE_TAGS": pyropush.FormatTags(tc.tags)})); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("env tags %v: %v, want %q", tc.tags, err, tc.want)
		}
	}
}

// Rule: the application's pprof sample labels become series labels; one
// key the server refuses (spaces: grafana/pyroscope-go#183, a leading
// digit, a reserved name) refuses the whole profile. The push rewrites or
// drops them in the bytes it uploads, counts them, and logs it once.
func TestPyroscopeRuleSampleLabels(t *testing.T) {
	fake := newFakePyroscope(t)
	stop := make(chan struct{})
	started := make(chan struct{})
	go pprof.Do(context.Background(), pprof.Labels("local root span id", "42", "1st", "a", "span.name", "GET /x", "service.name", "evil"),
		func(context.Context) { close(started); <-stop })
	<-started
	defer close(stop)
	a, logs := startAgent(t, Config{Pyroscope: PyroscopeConfig{
		ServerAddress: fake.srv.URL, ApplicationName: "samples", UploadRate: 100 * time.Millisecond,
		ProfileTypes: []pyroscope.ProfileType{pyroscope.ProfileGoroutines},
	}})
	got := waitIngested(t, fake, 3, 10*time.Second, func(in ingested) bool { return in.Metric == "goroutines" })
	st := a.push.stats().Sender
	a.Stop()
	if _, refused := fake.counts(); len(refused) > 0 {
		t.Fatalf("refused: %q", refused)
	}
	found := false
	for _, s := range got[0].Series {
		if s["local_root_span_id"] == "42" {
			found = true
			if s["_1st"] != "a" || s["span_name"] != "GET /x" || s["service_name"] != "samples" {
				t.Errorf("series %v", s)
			}
		}
	}
	if !found {
		t.Errorf("no series with the sanitized labels: %v", got[0].Series)
	}
	if st.LabelsRenamed < 3 || st.LabelsDropped < 1 {
		t.Errorf("counts %+v", st)
	}
	if n := strings.Count(allLogText(logs), "sample labels Pyroscope would refuse"); n != 1 {
		t.Errorf("%d log lines about sample labels after %d profiles, want 1", n, len(got))
	}
}

// Rules: 5xx (and 429, no answer) are retried a bounded number of times
// with jittered backoff and the profile is delivered once; a 4xx rejection
// is never retried.
func TestPyroscopeRuleRetries(t *testing.T) {
	fake := newFakePyroscope(t)
	fake.answers = []int{503, 503}
	a, _ := startAgent(t, Config{Pyroscope: PyroscopeConfig{
		ServerAddress: fake.srv.URL, ApplicationName: "retries", UploadRate: 200 * time.Millisecond,
		ProfileTypes: []pyroscope.ProfileType{pyroscope.ProfileCPU},
	}})
	first := waitIngested(t, fake, 1, 10*time.Second, nil)[0]
	fake.mu.Lock()
	attempts := fake.attempts[pyropush.FormatName(first.App, first.Labels)+"@"+strconv.FormatInt(first.From.UnixNano(), 10)]
	fake.answers = []int{422}
	fake.mu.Unlock()
	if attempts != 3 {
		t.Errorf("the first profile took %d attempts, want 3 (503, 503, 200)", attempts)
	}
	waitIngested(t, fake, 3, 10*time.Second, nil)
	st := a.push.stats()
	a.Stop()
	if st.Sender.Retries != 2 || st.Sender.Rejected != 1 || st.Sender.Exhausted != 0 || st.Dropped < 1 {
		t.Errorf("stats %+v", st)
	}
}

// Rule: the server refuses profiles older than its ingestion window. An
// outage longer than the window leaves old profiles queued; they are
// dropped (counted) rather than sent to be refused.
func TestPyroscopeRuleIngestionWindow(t *testing.T) {
	old := pushMaxAge
	pushMaxAge = time.Second
	defer func() { pushMaxAge = old }()
	fake := newFakePyroscope(t)
	fake.window = 1500 * time.Millisecond
	fake.setStatus(http.StatusServiceUnavailable)
	a, _ := startAgent(t, Config{Pyroscope: PyroscopeConfig{
		ServerAddress: fake.srv.URL, ApplicationName: "outage", UploadRate: 100 * time.Millisecond, QueueSize: 100,
		ProfileTypes: []pyroscope.ProfileType{pyroscope.ProfileCPU},
	}})
	time.Sleep(2500 * time.Millisecond) // longer than the window
	fake.setStatus(0)
	waitIngested(t, fake, 3, 10*time.Second, nil)
	st := a.push.stats()
	a.Stop()
	if _, refused := fake.counts(); len(refused) > 0 {
		t.Errorf("refused: %q", refused)
	}
	if st.Sender.Stale == 0 || st.Dropped < st.Sender.Stale {
		t.Errorf("stats %+v", st)
	}
}

// Rule: HTTPHeaders may not replace the configured auth or tenant.
func TestPyroscopeHeadersCannotOverrideAuthOrTenant(t *testing.T) {
	base := PyroscopeConfig{ServerAddress: "http://127.0.0.1:1", BasicAuthUser: "u", BasicAuthPassword: "p", TenantID: "t"}
	for h, want := range map[string]string{"authorization": "basic auth", "X-Scope-OrgId": "TenantID"} {
		c := base
		c.HTTPHeaders = map[string]string{h: "x"}
		if _, errs := c.withDefaults(); len(errs) != 1 || !strings.Contains(errs[0].Error(), want) {
			t.Errorf("%s: %v", h, errs)
		}
	}
	token := PyroscopeConfig{ServerAddress: "http://127.0.0.1:1", HTTPHeaders: map[string]string{"Authorization": "Bearer x"}}
	if _, errs := token.withDefaults(); len(errs) != 0 {
		t.Errorf("a token without basic auth: %v", errs)
	}
}

// Source links: service_repository comes from the main module's path, for
// Pyroscope's source-code integration (with service_git_ref).
func TestPyroscopeServiceRepository(t *testing.T) {
	for path, want := range map[string]string{
		"github.com/diagkit/diagkit":          "https://github.com/diagkit/diagkit",
		"github.com/diagkit/diagkit/cmd/tool": "https://github.com/diagkit/diagkit",
		"example.com/svc/api":                 "https://example.com/svc/api",
		"command-line-arguments":              "",
		"github.com/x":                        "",
	} {
		if got := repositoryURL(path); got != want {
			t.Errorf("repositoryURL(%q) = %q, want %q", path, got, want)
		}
	}
}

// Upgrades: pyroscope-go v1.5.0 renamed goroutines to goroutine; both
// names are accepted.
func TestPyroscopeProfileTypeNames(t *testing.T) {
	for _, name := range []pyroscope.ProfileType{"goroutines", "goroutine"} {
		c, errs := PyroscopeConfig{ServerAddress: "http://127.0.0.1:1", ProfileTypes: []pyroscope.ProfileType{name}}.withDefaults()
		if len(errs) != 0 || len(c.ProfileTypes) != 1 || c.ProfileTypes[0] != pyroscope.ProfileGoroutines {
			t.Errorf("%s: %v %v", name, c.ProfileTypes, errs)
		}
	}
}
