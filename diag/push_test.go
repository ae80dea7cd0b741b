package diag

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"regexp"
	"runtime"
	"runtime/metrics"
	"runtime/pprof"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/pprof/profile"
	"github.com/grafana/pyroscope-go"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/diagkit/diagkit/diag/internal/pyropush"
)

var sessionIDPattern = regexp.MustCompile(`^[0-9a-f]{16}$`)

// allLogText is every log entry's message and fields, for searching.
func allLogText(logs *observer.ObservedLogs) string {
	var b strings.Builder
	for _, e := range logs.All() {
		fmt.Fprintf(&b, "%s %s %s %v\n", e.Level, e.LoggerName, e.Message, e.ContextMap())
	}
	return b.String()
}

// The push sends the hub's CPU windows and pyroscope-go's other profile
// types to a server that implements Pyroscope's ingest API, with the
// configured name, tags, basic auth, tenant and headers; nothing starts a
// second CPU profiler, and /debug/pprof/profile works meanwhile.
func TestPyroscopePushDeliversHubWindowsAndOtherTypes(t *testing.T) {
	const (
		user, pass = "pyro-user", "pyro-Pa55-never-logged"
		tenant     = "tenant-7"
		rate       = 500 * time.Millisecond
	)
	fake := newFakePyroscope(t)
	fake.user, fake.pass, fake.tenant = user, pass, tenant
	types := []pyroscope.ProfileType{
		pyroscope.ProfileCPU,
		pyroscope.ProfileAllocObjects, pyroscope.ProfileAllocSpace,
		pyroscope.ProfileInuseObjects, pyroscope.ProfileInuseSpace,
		pyroscope.ProfileGoroutines,
		pyroscope.ProfileMutexCount, pyroscope.ProfileMutexDuration,
		pyroscope.ProfileBlockCount, pyroscope.ProfileBlockDuration,
	}
	a, logs := startAgent(t, Config{
		Window: time.Second, Interval: time.Second, // the periodic analysis shares the profiler too
		Pyroscope: PyroscopeConfig{
			ServerAddress:     fake.srv.URL,
			ApplicationName:   "diagkit-push-test",
			Tags:              map[string]string{"team": "core", "env": "test"},
			BasicAuthUser:     user,
			BasicAuthPassword: pass,
			TenantID:          tenant,
			HTTPHeaders:       map[string]string{"X-Diagkit-Test": "yes"},
			ProfileTypes:      types,
			UploadRate:        rate,
			FlushTimeout:      2 * time.Second,
		},
	})
	stop := make(chan struct{})
	var burners sync.WaitGroup
	burners.Add(1)
	go func() { defer burners.Done(); burn(stop) }()
	defer func() { close(stop); burners.Wait() }()

	// A CPU profile request through the agent, concurrently with the push.
	type pprofResult struct {
		code int
		p    *profile.Profile
		err  error
	}
	pprofDone := make(chan pprofResult, 1)
	go func() {
		resp, err := http.Get("http://" + a.Addr() + "/debug/pprof/profile?seconds=1")
		if err != nil {
			pprofDone <- pprofResult{err: err}
			return
		}
		defer resp.Body.Close()
		p, err := profile.Parse(resp.Body)
		pprofDone <- pprofResult{code: resp.StatusCode, p: p, err: err}
	}()

	metricsSeen := func() map[string]int {
		m := map[string]int{}
		for _, in := range fake.received() {
			m[in.Metric]++
		}
		return m
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		m := metricsSeen()
		if m["process_cpu"] >= 4 && m["memory"] >= 1 && m["goroutines"] >= 1 && m["mutex"] >= 1 && m["block"] >= 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 20 s the server has %v", m)
		}
		time.Sleep(50 * time.Millisecond)
	}
	pr := <-pprofDone
	if pr.err != nil || pr.code != http.StatusOK {
		t.Fatalf("/debug/pprof/profile during the push: %d, %v", pr.code, pr.err)
	}
	if pr.p.PeriodType == nil || pr.p.PeriodType.Type != "cpu" {
		t.Errorf("/debug/pprof/profile: period type %v, want cpu", pr.p.PeriodType)
	}
	a.Stop() // flushes the queue
	st := a.Status()

	got := fake.received()
	requests, refused := fake.counts()
	if len(refused) > 0 {
		t.Errorf("the server refused %d requests: %q", len(refused), refused)
	}
	if st.PushSent != uint64(len(got)) || st.PushErrors != 0 || st.PushDropped != 0 {
		t.Errorf("status sent %d errors %d dropped %d; the server ingested %d of %d requests",
			st.PushSent, st.PushErrors, st.PushDropped, len(got), requests)
	}
	host, _ := os.Hostname()
	version, rev := buildVersion()
	var cpu []ingested
	for _, in := range got {
		if in.Path != "/ingest" || in.Tenant != tenant || in.Header.Get("X-Diagkit-Test") != "yes" {
			t.Errorf("%s: path %s tenant %q header %q", in.Metric, in.Path, in.Tenant, in.Header.Get("X-Diagkit-Test"))
		}
		if !strings.HasPrefix(in.ContentType, "multipart/form-data") || in.SpyName != "gospy" {
			t.Errorf("%s: content type %q spy %q", in.Metric, in.ContentType, in.SpyName)
		}
		want := map[string]string{"team": "core", "env": "test", "hostname": pyropush.SanitizeValue(host),
			"process.runtime.name": "go"}
		if version != "" {
			want["version"] = version
		}
		if rev != "" {
			want["service_git_ref"] = rev
		}
		if in.App != "diagkit-push-test" {
			t.Errorf("%s: app %q", in.Metric, in.App)
		}
		for k, v := range want {
			if in.Labels[k] != v {
				t.Errorf("%s: label %s = %q, want %q (labels %v)", in.Metric, k, in.Labels[k], v, in.Labels)
			}
		}
		if !sessionIDPattern.MatchString(in.Labels["__session_id__"]) {
			t.Errorf("%s: __session_id__ %q", in.Metric, in.Labels["__session_id__"])
		}
		if !in.Until.After(in.From) {
			t.Errorf("%s: from %v until %v", in.Metric, in.From, in.Until)
		}
		if in.Metric == "process_cpu" {
			cpu = append(cpu, in)
		} else if scope := in.Labels["otel.scope.name"]; !strings.HasPrefix(scope, "com.grafana.pyroscope/") {
			t.Errorf("%s: scope %q, want pyroscope-go's", in.Metric, scope)
		}
	}

	// The CPU profiles are the hub's windows: CPU sample types, each
	// covering its UploadRate, back to back.
	sort.Slice(cpu, func(i, j int) bool { return cpu[i].From.Before(cpu[j].From) })
	var samples int64
	var gaps []time.Duration
	for i, in := range cpu {
		p := in.Profile
		if len(p.SampleType) != 2 || p.SampleType[0].Type != "samples" || p.SampleType[1].Type != "cpu" ||
			p.SampleType[1].Unit != "nanoseconds" || p.PeriodType == nil || p.PeriodType.Type != "cpu" {
			t.Errorf("CPU window %d: sample types %v period %v", i, p.SampleType, p.PeriodType)
		}
		if in.Labels["otel.scope.name"] != "github.com/diagkit/diagkit" || in.Aggregation != "sum" || in.Units != "samples" || in.SampleRate != 100 {
			t.Errorf("CPU window %d: scope %q aggregation %q units %q rate %d", i, in.Labels["otel.scope.name"], in.Aggregation, in.Units, in.SampleRate)
		}
		span := in.Until.Sub(in.From)
		if p.DurationNanos < int64(rate) || span < rate || span > rate+400*time.Millisecond {
			t.Errorf("CPU window %d: profiled %v over %v, want about %v", i, time.Duration(p.DurationNanos), span, rate)
		}
		if p.TimeNanos != in.From.UnixNano() {
			t.Errorf("CPU window %d: TimeNanos %d, from %d", i, p.TimeNanos, in.From.UnixNano())
		}
		if i > 0 {
			gap := in.From.Sub(cpu[i-1].Until)
			gaps = append(gaps, gap)
			if gap < 0 || gap > 250*time.Millisecond {
				t.Errorf("CPU window %d starts %v after the previous one ended: not back to back", i, gap)
			}
		}
		for _, s := range p.Sample {
			samples += s.Value[0]
		}
	}
	if samples == 0 {
		t.Error("no CPU samples in any window, with a goroutine burning CPU")
	}
	heapTypes := map[string]bool{}
	for _, in := range got {
		if in.Metric == "memory" {
			for _, s := range in.Profile.SampleType {
				heapTypes[s.Type] = true
			}
			if _, ok := in.SampleTypeConfig["inuse_space"]; !ok {
				t.Errorf("heap profile without sample_type_config: %v", in.SampleTypeConfig)
			}
		}
	}
	for _, want := range []string{"alloc_objects", "alloc_space", "inuse_objects", "inuse_space"} {
		if !heapTypes[want] {
			t.Errorf("heap profiles lack sample type %s (have %v)", want, heapTypes)
		}
	}
	text := allLogText(logs)
	for _, bad := range []string{"already in use", "failed to start CPU profiling", pass} {
		if strings.Contains(text, bad) {
			t.Errorf("the log contains %q:\n%s", bad, text)
		}
	}
	t.Logf("ingested %v in %d requests; %d CPU windows, %d samples, gaps between windows %v",
		metricsSeen(), requests, len(cpu), samples, gaps)
}

// hostLoop is the host's workload: a CPU-bound loop in short steps. It
// records iterations and the longest step.
type hostLoop struct {
	iters   atomic.Uint64
	longest atomic.Int64 // nanoseconds
	stop    chan struct{}
	done    chan struct{}
}

func startHostLoop() *hostLoop {
	h := &hostLoop{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(h.done)
		x := uint64(1)
		for {
			select {
			case <-h.stop:
				hostSink.Store(x)
				return
			default:
			}
			start := time.Now()
			for i := range 20_000 {
				x = x*6364136223846793005 + uint64(i)
			}
			if d := time.Since(start).Nanoseconds(); d > h.longest.Load() {
				h.longest.Store(d)
			}
			h.iters.Add(1)
		}
	}()
	return h
}

var hostSink atomic.Uint64

func (h *hostLoop) close() { close(h.stop); <-h.done }

// rate measures steps per second over d.
func (h *hostLoop) rate(d time.Duration) float64 {
	n0, t0 := h.iters.Load(), time.Now()
	time.Sleep(d)
	return float64(h.iters.Load()-n0) / time.Since(t0).Seconds()
}

func liveHeap() uint64 {
	runtime.GC()
	s := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// FAULT TEST. The backend is down (closed port), then answers 500, then
// 422, then never answers, for 42 windows in all: the host's loop keeps
// running, the CPU windows keep coming (the consumer never waits on the
// network), the queue never holds more than QueueSize, the heap does not
// grow with the windows, errors and drops are counted in Status and in
// /debug/diag/status, the log has a few lines and not one per failure, the
// password is in none, and Stop returns within FlushTimeout with a backend
// that never answers.
func TestPyroscopePushFaults(t *testing.T) {
	const (
		rate       = 100 * time.Millisecond
		queueSize  = 4
		flush      = time.Second
		pass       = "fault-Pa55word-never-logged"
		stepBudget = time.Second // no step of the host loop or status call may take longer
	)
	host := startHostLoop()
	defer host.close()
	baseline := host.rate(time.Second)

	// A port with nothing listening: connection refused.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	backend := ln.Addr().String()
	ln.Close()

	a, logs := startAgent(t, Config{
		Pyroscope: PyroscopeConfig{
			ServerAddress:     "http://" + backend,
			ApplicationName:   "diagkit-fault-test",
			BasicAuthUser:     "u",
			BasicAuthPassword: pass,
			UploadRate:        rate,
			QueueSize:         queueSize,
			Timeout:           500 * time.Millisecond,
			FlushTimeout:      flush,
			ProfileTypes: []pyroscope.ProfileType{pyroscope.ProfileCPU, pyroscope.ProfileInuseSpace,
				pyroscope.ProfileGoroutines},
		},
	})
	statusURL := "http://" + a.Addr() + PathStatus
	var maxHigh int
	var longestStatus time.Duration
	// waitWindows waits until the push has queued n CPU windows, checking
	// the queue bound and the status endpoint's latency meanwhile.
	waitWindows := func(n uint64) {
		t.Helper()
		deadline := time.Now().Add(time.Duration(n)*rate*3 + 10*time.Second)
		for a.push.stats().Windows < n {
			if time.Now().After(deadline) {
				t.Fatalf("only %d CPU windows after waiting for %d: the consumer is stuck", a.push.stats().Windows, n)
			}
			start := time.Now()
			if code, _ := get(t, statusURL); code != http.StatusOK {
				t.Fatalf("status: %d", code)
			}
			longestStatus = max(longestStatus, time.Since(start))
			maxHigh = max(maxHigh, a.push.stats().Queue.High)
			time.Sleep(20 * time.Millisecond)
		}
	}

	type phase struct {
		name                 string
		windows              uint64
		errors, dropped      uint64
		hostRate             float64
		windowsPerUploadRate float64
	}
	var phases []phase
	run := func(name string, upto uint64) {
		t.Helper()
		before := a.push.stats()
		start := time.Now()
		n0 := host.iters.Load()
		waitWindows(upto)
		after := a.push.stats()
		elapsed := time.Since(start)
		phases = append(phases, phase{
			name: name, windows: after.Windows,
			errors: after.Errors - before.Errors, dropped: after.Dropped - before.Dropped,
			hostRate:             float64(host.iters.Load()-n0) / elapsed.Seconds(),
			windowsPerUploadRate: float64(after.Windows-before.Windows) / (float64(elapsed) / float64(rate)),
		})
	}

	run("down (connection refused)", 10)
	heap10 := liveHeap()
	fake := newFakePyroscopeOn(t, backend)
	fake.setStatus(http.StatusInternalServerError)
	run("500", 20)
	fake.setStatus(http.StatusUnprocessableEntity)
	run("422", 30)
	heap30 := liveHeap()
	fake.setHang()
	run("never answers", 42)

	st := a.Status()
	code, body := get(t, statusURL)
	var js Status
	if err := json.Unmarshal(body, &js); code != http.StatusOK || err != nil {
		t.Fatalf("status JSON: %d %v", code, err)
	}

	stopStart := time.Now()
	a.Stop()
	stopTook := time.Since(stopStart)
	final := a.push.stats()

	for _, p := range phases {
		t.Logf("%-26s up to window %2d: %3d errors, %3d dropped, host loop %.0f steps/s (baseline %.0f), %.2f windows per UploadRate",
			p.name, p.windows, p.errors, p.dropped, p.hostRate, baseline, p.windowsPerUploadRate)
		if p.hostRate <= 0 {
			t.Errorf("%s: the host loop made no progress", p.name)
		}
		if p.errors == 0 {
			t.Errorf("%s: no upload error counted", p.name)
		}
		// The consumer never waits on the network: windows keep coming at
		// about one per UploadRate (generously: at least one per three).
		if p.windowsPerUploadRate < 1.0/3 {
			t.Errorf("%s: %.2f windows per UploadRate: the CPU consumer was held up", p.name, p.windowsPerUploadRate)
		}
	}
	if l := time.Duration(host.longest.Load()); l > stepBudget {
		t.Errorf("a host loop step took %v", l)
	}
	if longestStatus > stepBudget {
		t.Errorf("a /debug/diag/status call took %v", longestStatus)
	}
	if maxHigh > queueSize || final.Queue.High > queueSize {
		t.Errorf("the queue held %d (at stop %d) profiles, more than QueueSize %d", maxHigh, final.Queue.High, queueSize)
	}
	// Bounded memory: 20 more windows, with every upload failing, do not
	// grow the heap (a generous bound: a CPU window is tens of KB).
	if heap30 > heap10+8<<20 {
		t.Errorf("live heap grew from %d KB at window 10 to %d KB at window 30", heap10>>10, heap30>>10)
	}
	if st.PushErrors == 0 || st.PushDropped == 0 || st.PushSent != 0 {
		t.Errorf("status: sent %d errors %d dropped %d", st.PushSent, st.PushErrors, st.PushDropped)
	}
	if js.PushErrors == 0 || js.PushDropped == 0 || js.PushErrors > final.Errors || js.PushDropped > final.Dropped {
		t.Errorf("/debug/diag/status: push_errors %d push_dropped %d (final %d, %d)", js.PushErrors, js.PushDropped, final.Errors, final.Dropped)
	}
	if !strings.Contains(string(body), `"push_dropped"`) {
		t.Errorf("status JSON lacks push_dropped: %s", body)
	}
	// Stop flushes for at most FlushTimeout, then returns.
	if stopTook > flush+1500*time.Millisecond {
		t.Errorf("Stop took %v with a hung backend, FlushTimeout %v", stopTook, flush)
	}

	// Rate-limited logging: a few lines, not one per failure.
	var errorLines, dropLines, pushLines int
	for _, e := range logs.All() {
		if e.LoggerName != "diagkit.pyroscope" || e.Level < zapcore.WarnLevel {
			continue
		}
		pushLines++
		switch {
		case e.Level == zapcore.ErrorLevel:
			errorLines++
		case strings.Contains(e.Message, "dropping"):
			dropLines++
		}
	}
	if errorLines < 1 || errorLines > 2 || dropLines > 2 || uint64(pushLines) >= final.Errors {
		t.Errorf("%d error lines, %d drop lines, %d warn+ lines for %d errors and %d drops: want a few",
			errorLines, dropLines, pushLines, final.Errors, final.Dropped)
	}
	text := allLogText(logs)
	if strings.Contains(text, pass) || strings.Contains(text, "already in use") {
		t.Errorf("the log contains the password or a profiler collision:\n%s", text)
	}
	requests, refused := fake.counts()
	t.Logf("totals: %d windows, %d errors, %d dropped (%d requests reached the server, %d refused), queue high-water %d of %d; "+
		"live heap %d KB at window 10, %d KB at window 30; %d log lines at warn+ (%d error, %d drop); "+
		"longest host step %v, longest status call %v; Stop took %v",
		final.Windows, final.Errors, final.Dropped, requests, len(refused), final.Queue.High, queueSize,
		heap10>>10, heap30>>10, pushLines, errorLines, dropLines,
		time.Duration(host.longest.Load()), longestStatus, stopTook)
}

// A push configured with a password never puts it in an error, a log line
// or a printed Config.
func TestPyroscopeConfigNeverShowsThePassword(t *testing.T) {
	const pass = "hunter2-Secret"
	cfg := Config{Addr: AddrOff, Pyroscope: PyroscopeConfig{
		ServerAddress:     "http://user:" + pass + "@127.0.0.1:1/",
		BasicAuthUser:     "user",
		BasicAuthPassword: pass,
		UploadRate:        time.Millisecond, // invalid: makes withDefaults fail
	}}
	_, err := cfg.withDefaults()
	if err == nil || strings.Contains(err.Error(), pass) {
		t.Errorf("error %v", err)
	}
	for _, s := range []string{fmt.Sprint(cfg), fmt.Sprintf("%+v", cfg), fmt.Sprintf("%#v", cfg.Pyroscope), cfg.Pyroscope.String()} {
		if strings.Contains(s, pass) {
			t.Errorf("printed config shows the password: %s", s)
		}
	}
	cfg.Pyroscope.UploadRate = 0
	a, logs := startAgent(t, cfg)
	a.Stop()
	if text := allLogText(logs); strings.Contains(text, pass) {
		t.Errorf("the log shows the password:\n%s", text)
	}
	if _, err := (Config{Pyroscope: PyroscopeConfig{ServerAddress: "http://u:" + pass + "@[::1"}}).withDefaults(); err == nil || strings.Contains(err.Error(), pass) {
		t.Errorf("unparsable URL: %v", err)
	}
}

func TestPyroscopeConfigValidation(t *testing.T) {
	ok := PyroscopeConfig{ServerAddress: "https://profiles.example.com/pyroscope"}
	full, errs := ok.withDefaults()
	if len(errs) > 0 {
		t.Fatalf("%v", errs)
	}
	if full.UploadRate != DefaultPyroscopeUploadRate || full.QueueSize != DefaultPyroscopeQueueSize ||
		full.Timeout != DefaultPyroscopeTimeout || full.FlushTimeout != DefaultPyroscopeFlushTimeout ||
		len(full.ProfileTypes) != len(pyroscope.DefaultProfileTypes) || pyropush.ValidateAppName(full.ApplicationName) != nil {
		t.Errorf("defaults: %v", full)
	}
	if off, errs := (PyroscopeConfig{ApplicationName: "bad name{"}).withDefaults(); len(errs) > 0 || off.UploadRate != 0 {
		t.Errorf("push off: %v %v", off, errs)
	}
	for _, tc := range []struct {
		name string
		edit func(*PyroscopeConfig)
		want string
	}{
		{"scheme", func(c *PyroscopeConfig) { c.ServerAddress = "pyroscope:4040" }, "ServerAddress"},
		{"no host", func(c *PyroscopeConfig) { c.ServerAddress = "http://" }, "no host"},
		{"app", func(c *PyroscopeConfig) { c.ApplicationName = "my app" }, "ApplicationName"},
		{"tag name", func(c *PyroscopeConfig) { c.Tags = map[string]string{"a-b": "x"} }, "Tags"},
		{"tag value", func(c *PyroscopeConfig) { c.Tags = map[string]string{"a": "x,y"} }, "Tags"},
		{"private tag", func(c *PyroscopeConfig) { c.Tags = map[string]string{"__session_id__": "1"} }, "reserved"},
		{"service_name", func(c *PyroscopeConfig) { c.Tags = map[string]string{"service_name": "x"} }, "reserved"},
		{"half auth", func(c *PyroscopeConfig) { c.BasicAuthUser = "u" }, "both or neither"},
		{"type", func(c *PyroscopeConfig) { c.ProfileTypes = []pyroscope.ProfileType{"wall"} }, "unknown type"},
		{"dup type", func(c *PyroscopeConfig) { c.ProfileTypes = []pyroscope.ProfileType{"cpu", "cpu"} }, "twice"},
		{"rate", func(c *PyroscopeConfig) { c.UploadRate = 10 * time.Millisecond }, "UploadRate"},
		{"queue", func(c *PyroscopeConfig) { c.QueueSize = -1 }, "QueueSize"},
		{"header", func(c *PyroscopeConfig) { c.HTTPHeaders = map[string]string{"Content-Type": "x"} }, "Content-Type"},
		{"header value", func(c *PyroscopeConfig) { c.HTTPHeaders = map[string]string{"X-A": "a\nb"} }, "control"},
	} {
		c := ok
		tc.edit(&c)
		_, err := Start(Config{Addr: AddrOff, Pyroscope: c})
		if err == nil || !strings.Contains(err.Error(), "Pyroscope.") || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want one naming Pyroscope and %q", tc.name, err, tc.want)
		}
	}
}

func TestPyroscopeFromEnv(t *testing.T) {
	env := map[string]string{
		"DIAGKIT_PYROSCOPE_URL":           "http://pyroscope:4040",
		"DIAGKIT_PYROSCOPE_APP":           "checkout",
		"DIAGKIT_PYROSCOPE_TAGS":          "env=prod,region=eu-west-1",
		"DIAGKIT_PYROSCOPE_USER":          "123456",
		"DIAGKIT_PYROSCOPE_PASSWORD":      "glc_s3cret",
		"DIAGKIT_PYROSCOPE_TENANT":        "team-a",
		"DIAGKIT_PYROSCOPE_PROFILE_TYPES": "cpu,inuse_space,goroutines", // pyroscope-go v1.4's name, accepted with v1.5
		"DIAGKIT_PYROSCOPE_UPLOAD_RATE":   "30s",
		"DIAGKIT_PYROSCOPE_QUEUE_SIZE":    "8",
	}
	lookup := func(m map[string]string) func(string) (string, bool) {
		return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
	}
	cfg, _, err := ConfigFromEnv(lookup(env))
	if err != nil {
		t.Fatal(err)
	}
	p := cfg.Pyroscope
	if p.ServerAddress != "http://pyroscope:4040" || p.ApplicationName != "checkout" || p.BasicAuthUser != "123456" ||
		p.BasicAuthPassword != "glc_s3cret" || p.TenantID != "team-a" || p.UploadRate != 30*time.Second || p.QueueSize != 8 ||
		fmt.Sprint(p.ProfileTypes) != "[cpu inuse_space goroutine]" || pyropush.FormatTags(p.Tags) != "env=prod,region=eu-west-1" {
		t.Errorf("from env: %+v (tags %v)", p, p.Tags)
	}
	if _, err := cfg.withDefaults(); err != nil {
		t.Errorf("validating: %v", err)
	}
	for name, bad := range map[string]string{
		"DIAGKIT_PYROSCOPE_TAGS":          "env=prod,",
		"DIAGKIT_PYROSCOPE_PROFILE_TYPES": "cpu,bogus",
		"DIAGKIT_PYROSCOPE_UPLOAD_RATE":   "fast",
		"DIAGKIT_PYROSCOPE_QUEUE_SIZE":    "0",
	} {
		if _, _, err := ConfigFromEnv(lookup(map[string]string{name: bad})); err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%s=%q: err = %v", name, bad, err)
		}
	}
}

// Strict tag parsing: each bad input is an error, and what is accepted
// round-trips and reaches Pyroscope's label parser unchanged.
func TestParsePyroscopeTags(t *testing.T) {
	good := map[string]string{
		"a=b":                      "a=b",
		"env=prod,region=eu-west1": "env=prod,region=eu-west1",
		"z=1,a=2":                  "a=2,z=1",
		"k.v_1=ünïcode/ok:8080":    "k.v_1=ünïcode/ok:8080",
	}
	for in, want := range good {
		tags, err := pyropush.ParseTags(in)
		if err != nil || pyropush.FormatTags(tags) != want {
			t.Errorf("%q: %v, %v", in, tags, err)
		}
	}
	for _, bad := range []string{
		"", ",", "a=b,", ",a=b", "a=b,,c=d", "a", "a=", "=b", "a=b=c", "a=b,a=c", " a=b", "a=b ",
		"a b=c", "a=b c", "a-b=c", "a=b}", "a=b{", "a=\"b\"", "__x=1", "service_name=x", "a=\x00", "a=\xff",
		strings.Repeat("k=v,", pyropush.MaxTags) + "k21=v",
	} {
		if tags, err := pyropush.ParseTags(bad); err == nil {
			t.Errorf("%q accepted as %v", bad, tags)
		}
	}
}

// FuzzPyroscopeTags: whatever DIAGKIT_PYROSCOPE_TAGS holds, ConfigFromEnv
// does not panic; what it accepts validates, round-trips through
// FormatTags, and Pyroscope's name parser reads back exactly those tags.
// Seeds are in testdata/fuzz/FuzzPyroscopeTags.
func FuzzPyroscopeTags(f *testing.F) {
	f.Fuzz(func(t *testing.T, v string) {
		cfg, _, err := ConfigFromEnv(func(k string) (string, bool) {
			switch k {
			case "DIAGKIT_PYROSCOPE_TAGS":
				return v, true
			case "DIAGKIT_PYROSCOPE_URL":
				return "http://127.0.0.1:4040", true
			}
			return "", false
		})
		if err != nil {
			if !strings.Contains(err.Error(), "DIAGKIT_PYROSCOPE_TAGS") {
				t.Fatalf("error does not name the variable: %v", err)
			}
			return
		}
		tags := cfg.Pyroscope.Tags
		if len(tags) == 0 {
			if strings.TrimSpace(v) != "" {
				t.Fatalf("%q accepted as no tags", v)
			}
			return // unset: ConfigFromEnv skips empty variables
		}
		if _, err := cfg.withDefaults(); err != nil {
			t.Fatalf("%q accepted by ConfigFromEnv, refused by validation: %v", v, err)
		}
		back, err := pyropush.ParseTags(pyropush.FormatTags(tags))
		if err != nil || !mapsEqual(back, tags) {
			t.Fatalf("%q: round trip %v -> %v, %v", v, tags, back, err)
		}
		app, labels, err := parseLabelSet(pyropush.FormatName("app", tags))
		if err != nil || app != "app" || !mapsEqual(labels, tags) {
			t.Fatalf("%q: Pyroscope reads %q %v (%v), want %v", v, app, labels, err, tags)
		}
	})
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// An agent with push configured and stopped at once leaves nothing
// running (goleak checks in TestMain) and sends nothing it never took.
func TestPyroscopePushStopsCleanly(t *testing.T) {
	fake := newFakePyroscope(t)
	a, _ := startAgent(t, Config{Pyroscope: PyroscopeConfig{ServerAddress: fake.srv.URL, UploadRate: time.Second}})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	done := make(chan struct{})
	go func() { a.Stop(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		t.Fatal("Stop did not return")
	}
	if st := a.Status(); st.PushErrors != 0 {
		t.Errorf("status after an immediate stop: %+v", st)
	}
}

// pyroscope-go's session, created without ProfileCPU, never takes the CPU
// profiler: with push on for the other types only, runtime/pprof's
// StartCPUProfile keeps succeeding while the session uploads.
func TestPyroscopeSessionLeavesTheCPUProfilerAlone(t *testing.T) {
	fake := newFakePyroscope(t)
	a, logs := startAgent(t, Config{
		Window: 100 * time.Millisecond, Interval: time.Hour, // the agent's own first window ends at once
		Pyroscope: PyroscopeConfig{
			ServerAddress: fake.srv.URL,
			ProfileTypes: []pyroscope.ProfileType{pyroscope.ProfileInuseSpace, pyroscope.ProfileGoroutines,
				pyroscope.ProfileMutexCount, pyroscope.ProfileBlockCount},
			UploadRate: 100 * time.Millisecond,
		},
	})
	deadline := time.Now().Add(10 * time.Second)
	for a.Latest() == nil { // the agent's window is over: the hub let go
		if time.Now().After(deadline) {
			t.Fatal("no window")
		}
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(50 * time.Millisecond)
	starts := 0
	for len(fake.received()) < 16 {
		if time.Now().After(deadline) {
			t.Fatalf("%d profiles received", len(fake.received()))
		}
		if err := pprofStartCPUProfile(); err != nil {
			t.Fatalf("StartCPUProfile while the session runs: %v", err)
		}
		starts++
		time.Sleep(30 * time.Millisecond)
		pprofStopCPUProfile()
	}
	a.Stop()
	for _, in := range fake.received() {
		if in.Metric == "process_cpu" {
			t.Errorf("a CPU profile was pushed without ProfileCPU")
		}
	}
	if text := allLogText(logs); strings.Contains(text, "already in use") {
		t.Errorf("profiler collision in the log:\n%s", text)
	}
	t.Logf("%d profiles received; StartCPUProfile succeeded %d times meanwhile", len(fake.received()), starts)
}

func pprofStartCPUProfile() error { return pprof.StartCPUProfile(io.Discard) }
func pprofStopCPUProfile()        { pprof.StopCPUProfile() }

// Credentials in the server URL (a user name, an API key in the query)
// are in no error and no log line: not in the configuration error, not at
// push start, not in upload errors (net/http's url.Error redacts only the
// password).
func TestPyroscopeURLSecretsNeverLogged(t *testing.T) {
	const secret = "Zq9SECRETkey"
	_, err := Config{Addr: AddrOff, Pyroscope: PyroscopeConfig{ServerAddress: "http://pyroscope:4040/?apikey=" + secret}}.withDefaults()
	if err == nil || strings.Contains(err.Error(), secret) || !strings.Contains(err.Error(), "no query or fragment") {
		t.Errorf("query in the URL: err = %v", err)
	}
	_, _, err = ConfigFromEnv(func(k string) (string, bool) {
		if k == "DIAGKIT_PYROSCOPE_URL" {
			return "http://pyroscope:4040/?apikey=" + secret, true
		}
		return "", false
	})
	if err == nil || strings.Contains(err.Error(), secret) {
		t.Errorf("query in DIAGKIT_PYROSCOPE_URL: err = %v", err)
	}

	// A port with nothing listening: every upload fails.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	backend := ln.Addr().String()
	ln.Close()
	a, logs := startAgent(t, Config{Addr: AddrOff, Pyroscope: PyroscopeConfig{
		ServerAddress: "http://" + secret + ":pw-" + secret + "@" + backend + "/",
		UploadRate:    100 * time.Millisecond,
		Timeout:       500 * time.Millisecond,
		FlushTimeout:  100 * time.Millisecond,
		ProfileTypes:  []pyroscope.ProfileType{pyroscope.ProfileCPU},
	}})
	deadline := time.Now().Add(30 * time.Second)
	for logs.FilterMessageSnippet("pushing profiles to Pyroscope failed").Len() == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("no upload error logged after 30 s:\n%s", allLogText(logs))
		}
		time.Sleep(20 * time.Millisecond)
	}
	a.Stop()
	text := allLogText(logs)
	if strings.Contains(text, secret) {
		t.Errorf("the log shows the URL's user info:\n%s", text)
	}
	if !strings.Contains(text, "(redacted)@"+backend) {
		t.Errorf("the log does not name the server, redacted:\n%s", text)
	}
}
