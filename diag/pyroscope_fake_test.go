package diag

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/pprof/profile"
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
//     block_ block, goroutines goroutines.
type fakePyroscope struct {
	t      *testing.T
	srv    *httptest.Server
	user   string // required basic auth, when set
	pass   string
	tenant string // required X-Scope-OrgID, when set

	mu       sync.Mutex
	status   int // answer this instead of ingesting, when not 0
	hang     bool
	release  chan struct{}
	got      []ingested
	requests int
	refused  []string // why requests were refused with a 4xx by validation
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
	if hang {
		select {
		case <-r.Context().Done():
		case <-release:
		}
		return
	}
	if status != 0 {
		_, _ = io.Copy(io.Discard, r.Body)
		http.Error(w, fmt.Sprintf("fake pyroscope answering %d", status), status)
		return
	}

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
		case strings.Contains(name, "goroutines"):
			return "goroutines"
		}
	}
	return name
}

// parseLabelSet is Pyroscope's labelset.Parse: the service name up to '{'
// (validated), then key=value pairs separated by ',' up to '}', keys and
// values trimmed, keys validated unless reserved (__name__).
func parseLabelSet(name string) (app string, labels map[string]string, err error) {
	labels = map[string]string{}
	const (
		stName = iota
		stKey
		stValue
		stDone
	)
	state := stName
	var key, value strings.Builder
	for _, r := range name + "{" {
		switch state {
		case stName:
			if r != '{' {
				value.WriteRune(r)
				continue
			}
			state = stKey
			app = strings.TrimSpace(value.String())
			if app == "" {
				return "", nil, errors.New("service name is required")
			}
			for _, c := range app {
				if !(c == '-' || c == '.' || c == '/' || isLabelRune(c)) {
					return "", nil, fmt.Errorf("invalid service name: %s: character is not allowed: %q", app, c)
				}
			}
		case stKey:
			switch r {
			case '}':
				state = stDone
			case '=':
				state = stValue
				value.Reset()
			default:
				key.WriteRune(r)
			}
		case stValue:
			if r != ',' && r != '}' {
				value.WriteRune(r)
				continue
			}
			state = stKey
			k := strings.TrimSpace(key.String())
			if k != "__name__" {
				if k == "" {
					return "", nil, errors.New("label name is required")
				}
				for _, c := range k {
					if !isLabelRune(c) {
						return "", nil, fmt.Errorf("invalid label name: %s: character is not allowed: %q", k, c)
					}
				}
			}
			labels[k] = strings.TrimSpace(value.String())
			key.Reset()
		}
	}
	return app, labels, nil
}

func isLabelRune(r rune) bool {
	return (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9') || r == '_' || r == '.'
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
