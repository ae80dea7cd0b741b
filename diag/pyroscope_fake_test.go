package diag

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"mime"
	"mime/multipart"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/pprof/profile"
	"github.com/grafana/pyroscope/api/model/labelset"

	"github.com/diagkit/diagkit/diag/internal/pyropush"
)

// fakePyroscope implements Pyroscope's /ingest as grafana/pyroscope does
// (pkg/ingester/pyroscope/ingest_handler.go, pkg/og/convert/pprof,
// api/model/labelset, pkg/og/util/attime), plus what an authenticating
// proxy in front of it does (basic auth) and its multi-tenant mode
// (X-Scope-OrgID required):
//
//   - POST /ingest or /pyroscope/ingest;
//   - query: name = "app{k=v,...}" parsed by labelset.Parse (a bad name is
//     a 400), from/until as attime (19 digits: Unix nanoseconds; missing:
//     now), sampleRate (default 100), spyName (default "unknown"), units
//     (default "samples"), aggregationType (default "sum"), format;
//   - body: format=pprof is the raw profile; a multipart/form-data body has
//     the "profile" file part, an optional "sample_type_config" JSON part,
//     and a "prev_profile" part is refused ("unsupported client version");
//   - the profile must parse (else 400); its metric name follows the
//     server's metricName: a sample type (or its configured display name)
//     containing "cpu" is process_cpu, alloc_/inuse_ memory, mutex_ mutex,
//     block_ block, goroutine(s) goroutines;
//
// and the validation a real server applies before ingesting (the series
// and sample label rules, fakeValidate):
//
//   - the labels of every series: the name's labels, the server's own four
//     (__name__, __delta__, pyroscope_spy, service_name) and, per sample,
//     its string pprof labels (the server splits a profile by them): at
//     most 30 names (400), each valid for labelset.ValidateLabelName (the
//     server's own code, github.com/grafana/pyroscope/api; a sample label
//     key it refuses, such as "local root span id", is the 422 of
//     grafana/pyroscope-go#183), no leading digit (400), dots stored as _
//     and then no duplicate (400), names of at most 1024 bytes and values of
//     at most 2048 (400);
//   - the profile's time within the ingestion window (1 h; 400 when older).
//
// The numbers are Pyroscope's defaults (pkg/validation/limits.go), as the
// issue quotes them: the api module does not carry them.
type fakePyroscope struct {
	t      *testing.T
	srv    *httptest.Server
	user   string // required basic auth, when set
	pass   string
	tenant string        // required X-Scope-OrgID, when set
	window time.Duration // ingestion window; 0: pyropush.ServerIngestionWindow

	mu         sync.Mutex
	status     int            // answer this instead of ingesting, when not 0
	retryAfter string         // the Retry-After of those answers
	answers    []int          // answer these, one per request, before status
	attempts   map[string]int // requests per (name, from), answered or not
	hang       bool
	release    chan struct{}
	got        []ingested
	requests   int
	refused    []string // why requests were refused with a 4xx by validation
}

type ingested struct {
	Path             string
	App              string
	Labels           map[string]string
	From, Until      time.Time
	SampleRate       uint32
	SpyName          string
	Units            string
	Aggregation      string
	Format           string
	ContentType      string
	Tenant           string
	Header           http.Header
	SampleTypeConfig map[string]fakeSampleTypeConfig
	Metric           string
	Profile          *profile.Profile
	Series           []map[string]string // the series the profile was split into, with the server's labels
}

type fakeSampleTypeConfig struct {
	Units       string `json:"units,omitempty"`
	Aggregation string `json:"aggregation,omitempty"`
	DisplayName string `json:"display-name,omitempty"`
	Sampled     bool   `json:"sampled,omitempty"`
	Cumulative  bool   `json:"cumulative,omitempty"`
}

func newFakePyroscope(t *testing.T) *fakePyroscope {
	f := &fakePyroscope{t: t, release: make(chan struct{})}
	f.srv = httptest.NewServer(f)
	t.Cleanup(f.close)
	return f
}

// newFakePyroscopeOn serves on addr, retrying while the port is not yet
// free again.
func newFakePyroscopeOn(t *testing.T, addr string) *fakePyroscope {
	var ln net.Listener
	var err error
	for deadline := time.Now().Add(5 * time.Second); ; {
		if ln, err = net.Listen("tcp", addr); err == nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("listening again on %s: %v", addr, err)
	}
	f := &fakePyroscope{t: t, release: make(chan struct{})}
	f.srv = httptest.NewUnstartedServer(f)
	f.srv.Listener.Close()
	f.srv.Listener = ln
	f.srv.Start()
	t.Cleanup(f.close)
	return f
}

func (f *fakePyroscope) close() {
	f.mu.Lock()
	select {
	case <-f.release:
	default:
		close(f.release)
	}
	f.mu.Unlock()
	f.srv.Close()
}

func (f *fakePyroscope) setStatus(code int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.status, f.hang = code, false
}

func (f *fakePyroscope) setHang() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.status, f.hang = 0, true
}

func (f *fakePyroscope) received() []ingested {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]ingested(nil), f.got...)
}

func (f *fakePyroscope) counts() (requests int, refused []string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.requests, append([]string(nil), f.refused...)
}

func (f *fakePyroscope) refuse(w http.ResponseWriter, code int, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	f.mu.Lock()
	f.refused = append(f.refused, fmt.Sprintf("%d %s", code, msg))
	f.mu.Unlock()
	http.Error(w, msg, code)
}

func (f *fakePyroscope) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.requests++
	status, hang, release := f.status, f.hang, f.release
	f.mu.Unlock()

	if r.URL.Path != "/ingest" && r.URL.Path != "/pyroscope/ingest" {
		f.refuse(w, http.StatusNotFound, "404 page not found: %s", r.URL.Path)
		return
	}
	if r.Method != http.MethodPost {
		f.refuse(w, http.StatusMethodNotAllowed, "method %s", r.Method)
		return
	}
	if f.user != "" {
		if u, p, ok := r.BasicAuth(); !ok || u != f.user || p != f.pass {
			f.refuse(w, http.StatusUnauthorized, "invalid credentials")
			return
		}
	}
	tenant := r.Header.Get("X-Scope-OrgID")
	if f.tenant != "" && tenant != f.tenant {
		f.refuse(w, http.StatusUnauthorized, "no org id") // dskit's AuthenticateUser
		return
	}
	key := r.URL.Query().Get("name") + "@" + r.URL.Query().Get("from")
	f.mu.Lock()
	if f.attempts == nil {
		f.attempts = map[string]int{}
	}
	f.attempts[key]++
	if len(f.answers) > 0 {
		status = f.answers[0]
		f.answers = f.answers[1:]
	}
	retryAfter := f.retryAfter
	f.mu.Unlock()
	if hang {
		select {
		case <-r.Context().Done():
		case <-release:
		}
		return
	}
	if status != 0 {
		_, _ = io.Copy(io.Discard, r.Body)
		if retryAfter != "" {
			w.Header().Set("Retry-After", retryAfter)
		}
		http.Error(w, fmt.Sprintf("fake pyroscope answering %d", status), status)
		return
	}

	var code int
	in, err := parseIngestQuery(r)
	if err != nil {
		f.refuse(w, http.StatusBadRequest, "%v", err)
		return
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		f.refuse(w, http.StatusRequestTimeout, "reading body: %v", err)
		return
	}
	in.Path, in.Tenant, in.Header = r.URL.Path, tenant, r.Header.Clone()
	in.ContentType = r.Header.Get("Content-Type")
	raw := body
	switch {
	case in.Format == "pprof":
	case strings.Contains(in.ContentType, "multipart/form-data"):
		if raw, in.SampleTypeConfig, err = readIngestForm(body, in.ContentType); err != nil {
			f.refuse(w, http.StatusUnprocessableEntity, "failed to parse pprof /ingest multipart form %v", err)
			return
		}
	default:
		f.refuse(w, http.StatusBadRequest, "this fake takes pprof only (format %q, content type %q)", in.Format, in.ContentType)
		return
	}
	if len(raw) == 0 {
		f.refuse(w, http.StatusBadRequest, "empty profile")
		return
	}
	if in.Profile, err = profile.ParseData(raw); err != nil {
		f.refuse(w, http.StatusBadRequest, "profile: %v", err)
		return
	}
	in.Metric = metricName(in.Profile, in.SampleTypeConfig)
	window := f.window
	if window == 0 {
		window = pyropush.ServerIngestionWindow
	}
	if in.From.Before(time.Now().Add(-window)) {
		f.refuse(w, http.StatusBadRequest, "profile too old: %v, ingestion window %v", in.From, window)
		return
	}
	if in.Series, code, err = fakeValidate(in); err != nil {
		f.refuse(w, code, "%v", err)
		return
	}
	f.mu.Lock()
	f.got = append(f.got, in)
	f.mu.Unlock()
}

func parseIngestQuery(r *http.Request) (ingested, error) {
	q := r.URL.Query()
	var in ingested
	var err error
	if in.App, in.Labels, err = parseLabelSet(q.Get("name")); err != nil {
		return in, fmt.Errorf("name: %w", err)
	}
	in.From, in.Until = attimeParse(q.Get("from")), attimeParse(q.Get("until"))
	in.SampleRate = 100
	if sr := q.Get("sampleRate"); sr != "" {
		if v, err := strconv.Atoi(sr); err == nil {
			in.SampleRate = uint32(v)
		}
	}
	in.SpyName = cmpOr(q.Get("spyName"), "unknown")
	in.Units = cmpOr(q.Get("units"), "samples")
	in.Aggregation = cmpOr(q.Get("aggregationType"), "sum")
	in.Format = q.Get("format")
	return in, nil
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func readIngestForm(body []byte, contentType string) ([]byte, map[string]fakeSampleTypeConfig, error) {
	_, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		return nil, nil, err
	}
	boundary, ok := params["boundary"]
	if !ok {
		return nil, nil, errors.New("no boundary")
	}
	form, err := multipart.NewReader(bytes.NewReader(body), boundary).ReadForm(32 << 20)
	if err != nil {
		return nil, nil, err
	}
	defer func() { _ = form.RemoveAll() }()
	field := func(name string) ([]byte, error) {
		files := form.File[name]
		if len(files) == 0 || files[0].Size == 0 {
			return nil, nil
		}
		fh, err := files[0].Open()
		if err != nil {
			return nil, err
		}
		defer fh.Close()
		return io.ReadAll(fh)
	}
	prof, err := field("profile")
	if err != nil {
		return nil, nil, err
	}
	if prev, err := field("prev_profile"); err != nil || prev != nil {
		return nil, nil, errors.New("unsupported client version. Please update github.com/grafana/pyroscope-go to the latest version")
	}
	stc, err := field("sample_type_config")
	if err != nil || stc == nil {
		return prof, nil, err
	}
	var config map[string]fakeSampleTypeConfig
	if err := json.Unmarshal(stc, &config); err != nil {
		return nil, nil, err
	}
	return prof, config, nil
}

// metricName is the server's RawProfile.metricName.
func metricName(p *profile.Profile, stc map[string]fakeSampleTypeConfig) string {
	for _, st := range p.SampleType {
		if st.Type == "wall" {
			return "wall"
		}
	}
	var name string
	for _, st := range p.SampleType {
		name = st.Type
		if c, ok := stc[name]; ok && c.DisplayName != "" {
			name = c.DisplayName
		}
		switch {
		case strings.Contains(name, "cpu"):
			return "process_cpu"
		case strings.Contains(name, "alloc_") || strings.Contains(name, "inuse_") || name == "space" || name == "objects":
			return "memory"
		case strings.Contains(name, "mutex_"):
			return "mutex"
		case strings.Contains(name, "block_"):
			return "block"
		case strings.Contains(name, "goroutine"): // goroutines (pyroscope-go v1.4) or goroutine (v1.5)
			return "goroutines"
		}
	}
	return name
}

// parseLabelSet is the server's own labelset.Parse and ValidateLabelSet
// (github.com/grafana/pyroscope/api/model/labelset).
func parseLabelSet(name string) (app string, labels map[string]string, err error) {
	ls, err := labelset.Parse(name)
	if err != nil {
		return "", nil, err
	}
	if err := labelset.ValidateLabelSet(ls); err != nil {
		return "", nil, err
	}
	labels = maps.Clone(ls.Labels())
	app = labels[labelset.ReservedLabelNameName]
	delete(labels, labelset.ReservedLabelNameName)
	if app == "" {
		return "", nil, labelset.ErrServiceNameIsRequired
	}
	return app, labels, nil
}

// fakeValidate applies the server's series label rules to the name's
// labels and each sample's, and returns the distinct series (with the
// server's labels, names as stored) or the status and error of a refusal.
func fakeValidate(in ingested) ([]map[string]string, int, error) {
	base := map[string]string{"__name__": in.Metric, "__delta__": "false", "pyroscope_spy": in.SpyName, "service_name": in.App}
	series := map[string]map[string]string{}
	samples := in.Profile.Sample
	if len(samples) == 0 {
		samples = []*profile.Sample{{}}
	}
	for _, smp := range samples {
		ls := maps.Clone(base)
		add := func(k, v string, sample bool) (int, error) {
			if err := labelset.ValidateLabelName(k); err != nil {
				code := http.StatusBadRequest
				if sample {
					code = http.StatusUnprocessableEntity // grafana/pyroscope-go#183
				}
				return code, fmt.Errorf("invalid labels: %w", err)
			}
			if k[0] >= '0' && k[0] <= '9' {
				return http.StatusBadRequest, fmt.Errorf("invalid label name %q: leading digit", k)
			}
			if len(k) > 1024 {
				return http.StatusBadRequest, fmt.Errorf("label name too long: %q", k)
			}
			if len(v) > 2048 {
				return http.StatusBadRequest, fmt.Errorf("label value too long for %s", k)
			}
			n := strings.ReplaceAll(k, ".", "_")
			if _, dup := ls[n]; dup {
				return http.StatusBadRequest, fmt.Errorf("duplicate label name %s (from %q)", n, k)
			}
			ls[n] = v
			return 0, nil
		}
		for _, k := range slices.Sorted(maps.Keys(in.Labels)) {
			if code, err := add(k, in.Labels[k], false); err != nil {
				return nil, code, err
			}
		}
		for _, k := range slices.Sorted(maps.Keys(smp.Label)) {
			if code, err := add(k, smp.Label[k][0], true); err != nil {
				return nil, code, err
			}
		}
		if len(ls) > 30 {
			return nil, http.StatusBadRequest, fmt.Errorf("profile series has %d label names; limit 30", len(ls))
		}
		var key strings.Builder
		for _, k := range slices.Sorted(maps.Keys(ls)) {
			fmt.Fprintf(&key, "%s=%s,", k, ls[k])
		}
		series[key.String()] = ls
	}
	var out []map[string]string
	for _, k := range slices.Sorted(maps.Keys(series)) {
		out = append(out, series[k])
	}
	return out, 0, nil
}

var digitsOnly = regexp.MustCompile(`^\d+$`)

// attimeParse is the part of Pyroscope's attime.Parse that Unix times use.
func attimeParse(s string) time.Time {
	s = strings.TrimSpace(s)
	if s == "" || !digitsOnly.MatchString(s) {
		return time.Now()
	}
	v, _ := strconv.ParseInt(s, 10, 64)
	switch len(s) {
	case 13:
		return time.UnixMilli(v)
	case 16:
		return time.UnixMicro(v)
	case 19:
		return time.Unix(0, v)
	default:
		return time.Unix(v, 0)
	}
}
