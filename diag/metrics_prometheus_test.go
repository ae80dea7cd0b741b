package diag

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/diagkit/diagkit/diag/analysis"
	"github.com/diagkit/diagkit/diag/api"
	"github.com/diagkit/diagkit/internal/testenv"
)

// Bounds of TestPrometheusScrapesTheMetrics.
const (
	promReadyTimeout  = 30 * time.Second // prometheus start to /-/ready
	promSampleTimeout = 30 * time.Second // /-/ready to the first diagkit sample
	promStopTimeout   = 10 * time.Second // SIGTERM to SIGKILL
	promStartAttempts = 5                // ports tried when one is taken under us
	promHTTPTimeout   = 5 * time.Second
	promScrapeToken   = "scrape-s3cret"
	promMinScrapes    = 3 // scrapes matched to their windows
)

// prometheusBinary finds Debian's prometheus. Without one the test skips,
// except under CI, where it must run rather than quietly test nothing.
func prometheusBinary(t *testing.T) string {
	t.Helper()
	bin, err := exec.LookPath("prometheus")
	if err != nil {
		testenv.MustRun(t, "no prometheus binary in PATH (%v): install it (Debian/Ubuntu: "+
			"apt-get install prometheus, as `bash .ci/run` does under CI=true) to run the real-scrape test", err)
	}
	return bin
}

// promServer is one prometheus child process of the test.
type promServer struct {
	cmd  *exec.Cmd
	addr string
	log  string        // its log file
	done chan struct{} // closed once it has exited and been waited for
	err  error         // Wait's result, set before done is closed
	stop sync.Once
}

// startPrometheus starts prometheus on a free loopback port, scraping
// target's PathMetrics every second with the bearer token, and waits until
// it is ready. A port taken between finding it and prometheus binding it is
// retried on another. t.Cleanup stops it by its PID.
func startPrometheus(t *testing.T, bin, target string) *promServer {
	t.Helper()
	for attempt := 1; ; attempt++ {
		dir := filepath.Join(t.TempDir(), "prometheus")
		if err := os.MkdirAll(dir, 0o700); err != nil {
			t.Fatal(err)
		}
		config := fmt.Sprintf(`global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: diagkit
    metrics_path: %s
    authorization:
      type: Bearer
      credentials: %s
    static_configs:
      - targets: ['%s']
`, PathMetrics, promScrapeToken, target)
		configFile := filepath.Join(dir, "prometheus.yml")
		if err := os.WriteFile(configFile, []byte(config), 0o600); err != nil {
			t.Fatal(err)
		}
		p := &promServer{addr: freeLoopbackAddr(t), log: filepath.Join(dir, "log"), done: make(chan struct{})}
		logFile, err := os.Create(p.log)
		if err != nil {
			t.Fatal(err)
		}
		p.cmd = exec.Command(bin,
			"--config.file="+configFile,
			"--storage.tsdb.path="+filepath.Join(dir, "data"),
			"--web.listen-address="+p.addr,
			"--log.level=warn")
		p.cmd.Dir = dir
		p.cmd.Stdout, p.cmd.Stderr = logFile, logFile // files: no copying goroutines
		setChildDeathSignal(p.cmd)                    // killed with the test binary, where the OS allows
		err = p.cmd.Start()
		logFile.Close() // the child has its own descriptor
		if err != nil {
			t.Fatalf("starting %s: %v", bin, err)
		}
		go func() { p.err = p.cmd.Wait(); close(p.done) }()
		t.Cleanup(func() { p.terminate(t) })
		t.Logf("prometheus pid %d on %s (attempt %d)", p.cmd.Process.Pid, p.addr, attempt)

		err = p.waitReady()
		if err == nil {
			return p
		}
		p.terminate(t)
		log, _ := os.ReadFile(p.log)
		if attempt < promStartAttempts && strings.Contains(string(log), "address already in use") {
			t.Logf("port %s taken before prometheus bound it: trying another", p.addr)
			continue
		}
		t.Fatalf("prometheus did not become ready: %v; its log:\n%s", err, log)
	}
}

// freeLoopbackAddr returns 127.0.0.1:PORT for a port that was free a moment
// ago (startPrometheus retries if it is not anymore).
func freeLoopbackAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// waitReady polls /-/ready until it answers 200, prometheus exits or
// promReadyTimeout passes.
func (p *promServer) waitReady() error {
	c := promTestClient()
	defer c.CloseIdleConnections()
	deadline := time.Now().Add(promReadyTimeout)
	for {
		code, _, err := promTestGet(c, "http://"+p.addr+"/-/ready")
		if err == nil && code == http.StatusOK {
			return nil
		}
		select {
		case <-p.done:
			return fmt.Errorf("it exited: %v", p.err)
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not ready after %v (last: %d %v)", promReadyTimeout, code, err)
		}
	}
}

// terminate stops prometheus by its PID: SIGTERM, SIGKILL after
// promStopTimeout, and waits for it. Safe to call more than once.
func (p *promServer) terminate(t *testing.T) {
	p.stop.Do(func() {
		select {
		case <-p.done:
			return // exited on its own
		default:
		}
		pid := p.cmd.Process.Pid
		if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
			t.Logf("prometheus pid %d: SIGTERM: %v", pid, err)
		}
		select {
		case <-p.done:
		case <-time.After(promStopTimeout):
			t.Logf("prometheus pid %d ignored SIGTERM for %v: SIGKILL", pid, promStopTimeout)
			_ = p.cmd.Process.Kill()
			<-p.done
		}
	})
}

func promTestClient() *http.Client {
	return &http.Client{Timeout: promHTTPTimeout, Transport: &http.Transport{Proxy: nil}}
}

func promTestGet(c *http.Client, u string) (int, []byte, error) {
	resp, err := c.Get(u)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	return resp.StatusCode, body, err
}

// promSeries is one series of a Prometheus query result: Value for an
// instant vector, Values for a range vector. Each point is [unix seconds,
// "value"]; the timestamp is kept as Prometheus wrote it.
type promSeries struct {
	Metric map[string]string   `json:"metric"`
	Value  []json.RawMessage   `json:"value"`
	Values [][]json.RawMessage `json:"values"`
}

// promQuery runs a PromQL query through the HTTP API (/api/v1/query), at
// time at if it is not empty.
func (p *promServer) query(c *http.Client, q, at string) ([]promSeries, error) {
	v := url.Values{"query": {q}}
	if at != "" {
		v.Set("time", at)
	}
	code, body, err := promTestGet(c, "http://"+p.addr+"/api/v1/query?"+v.Encode())
	if err != nil {
		return nil, err
	}
	var doc struct {
		Status string `json:"status"`
		Error  string `json:"error"`
		Data   struct {
			ResultType string       `json:"resultType"`
			Result     []promSeries `json:"result"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &doc); err != nil || code != http.StatusOK || doc.Status != "success" {
		return nil, fmt.Errorf("query %s: %d %v: %.300s", q, code, err, body)
	}
	return doc.Data.Result, nil
}

// point decodes one [timestamp, "value"] pair.
func point(raw []json.RawMessage) (ts string, v float64, err error) {
	if len(raw) != 2 {
		return "", 0, fmt.Errorf("point %s: want [time, value]", raw)
	}
	var s string
	if err := json.Unmarshal(raw[1], &s); err != nil {
		return "", 0, fmt.Errorf("point %s: %v", raw, err)
	}
	v, err = strconv.ParseFloat(s, 64)
	return string(raw[0]), v, err
}

// Debian's real prometheus server scrapes the agent's metrics endpoint, and
// the test reads the share back through Prometheus's HTTP query API: the
// value Prometheus stored is, to the bit, the share of the window that was
// the agent's latest when it scraped.
func TestPrometheusScrapesTheMetrics(t *testing.T) {
	bin := prometheusBinary(t)
	if out, err := exec.Command(bin, "--version").CombinedOutput(); err == nil {
		t.Logf("%s: %s", bin, strings.SplitN(string(out), "\n", 2)[0])
	}
	began := time.Now()

	a, _ := startAgent(t, Config{Token: promScrapeToken, Window: 200 * time.Millisecond,
		Interval: 200 * time.Millisecond, History: 1000})
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); spin(stop) }()  // CPU for the shares to describe
	t.Cleanup(func() { close(stop); wg.Wait() }) // runs before the agent stops, after prometheus does

	p := startPrometheus(t, bin, a.Addr())
	ready := time.Since(began)
	c := promTestClient()
	defer c.CloseIdleConnections()

	// The query the issue names, until Prometheus has a sample.
	const shareQuery = `diagkit_cpu_share_ratio{bucket="go"}`
	var got []promSeries
	deadline := time.Now().Add(promSampleTimeout)
	for {
		res, err := p.query(c, shareQuery, "")
		if err != nil {
			t.Fatal(err)
		}
		if len(res) > 0 {
			got = res
			break
		}
		if time.Now().After(deadline) {
			_, targets, _ := promTestGet(c, "http://"+p.addr+"/api/v1/targets")
			log, _ := os.ReadFile(p.log)
			t.Fatalf("no sample of %s after %v; targets: %.1000s\nprometheus log:\n%s", shareQuery, promSampleTimeout, targets, log)
		}
		time.Sleep(250 * time.Millisecond)
	}
	firstSample := time.Since(began)
	if len(got) != 1 {
		t.Fatalf("%s: %d series, want 1: %+v", shareQuery, len(got), got)
	}
	if m := got[0].Metric; m["job"] != "diagkit" || m["instance"] != a.Addr() || m["bucket"] != "go" {
		t.Errorf("series labels %v: want job diagkit, instance %s, bucket go", m, a.Addr())
	}
	_, share, err := point(got[0].Value)
	t.Logf("%s = %v (instant query)", shareQuery, share)
	if err != nil {
		t.Fatal(err)
	}
	if share < 0 || share > 1 {
		t.Errorf("go share %v: want within [0, 1]", share)
	}
	hist := a.History(0)
	found := false
	for _, w := range hist {
		found = found || w.Buckets[analysis.BucketGo].Share == share
	}
	if !found {
		t.Errorf("go share %v read from Prometheus is no window's go share (%d windows in the history)", share, len(hist))
	}

	// Every scrape, exactly: once there are promMinScrapes, each stored
	// sample of every bucket's share (a range selector gives the raw
	// samples at their scrape timestamps) must be that bucket's share in the
	// window whose end the same scrape stored in
	// diagkit_window_timestamp_seconds.
	var shares, ends []promSeries
	deadline = time.Now().Add(promMinScrapes * 3 * time.Second)
	for {
		// 1.5 s back, so that both queries see the same scrapes: one
		// committing between them would have a timestamp without shares.
		at := strconv.FormatFloat(float64(time.Now().Add(-1500*time.Millisecond).UnixMilli())/1000, 'f', 3, 64)
		if shares, err = p.query(c, "diagkit_cpu_share_ratio[5m]", at); err != nil {
			t.Fatal(err)
		}
		if ends, err = p.query(c, "diagkit_window_timestamp_seconds[5m]", at); err != nil {
			t.Fatal(err)
		}
		if len(ends) == 0 && time.Now().Before(deadline) {
			time.Sleep(250 * time.Millisecond) // no scrape before at yet
			continue
		}
		if len(shares) != len(analysis.Buckets) || len(ends) != 1 {
			t.Fatalf("range queries: %d share series and %d timestamp series, want %d and 1",
				len(shares), len(ends), len(analysis.Buckets))
		}
		if n := len(ends[0].Values); n >= promMinScrapes {
			break
		} else if time.Now().After(deadline) {
			t.Fatalf("only %d scrapes %v after the first, want %d at one a second", n, promMinScrapes*3*time.Second, promMinScrapes)
		}
		time.Sleep(250 * time.Millisecond)
	}
	hist = a.History(0)
	window := map[string]*api.WindowReport{} // by scrape timestamp
	for _, raw := range ends[0].Values {
		ts, end, err := point(raw)
		if err != nil {
			t.Fatal(err)
		}
		for i := range hist {
			if unixSeconds(&hist[i]) == end {
				window[ts] = &hist[i]
			}
		}
		if window[ts] == nil {
			t.Errorf("scrape at %s: no window of the agent ends at %v", ts, end)
		}
	}
	sums := map[string]float64{}
	checked := 0
	for _, series := range shares {
		b := analysis.Bucket(series.Metric["bucket"])
		for _, raw := range series.Values {
			ts, v, err := point(raw)
			if err != nil {
				t.Fatal(err)
			}
			w := window[ts]
			if w == nil {
				t.Errorf("scrape at %s stored %s share %v but no known window", ts, b, v)
				continue
			}
			if want, ok := w.Buckets[b]; !ok || v != want.Share {
				t.Errorf("scrape at %s: Prometheus stored %s share %v, window %d has %v", ts, b, v, w.Seq, want.Share)
			}
			sums[ts] += v
			checked++
		}
	}
	nonEmpty := 0
	for _, raw := range ends[0].Values {
		ts, _, _ := point(raw)
		w := window[ts]
		if w == nil {
			continue
		}
		if w.Samples > 0 {
			nonEmpty++
			if math.Abs(sums[ts]-1) > 1e-9 {
				t.Errorf("scrape at %s: the shares Prometheus stored sum to %v", ts, sums[ts])
			}
		}
		t.Logf("scrape at %s: window %d (%s to %s UTC, %d samples): go share %v", ts, w.Seq,
			w.Start.UTC().Format("15:04:05.000"), w.End.UTC().Format("15:04:05.000"), w.Samples, w.Buckets[analysis.BucketGo].Share)
	}
	if nonEmpty == 0 {
		t.Error("every window scraped had no samples: the shares were trivial")
	}

	// Counters came through too.
	res, err := p.query(c, "diagkit_windows_analyzed_total", "")
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 1 {
		t.Fatalf("diagkit_windows_analyzed_total: %d series, want 1", len(res))
	}
	_, windows, err := point(res[0].Value)
	if err != nil {
		t.Fatal(err)
	}
	if windows <= 0 || windows > float64(a.Status().Windows) {
		t.Errorf("diagkit_windows_analyzed_total %v in Prometheus: want within (0, %d]", windows, a.Status().Windows)
	}
	// PromQL over the process's counters and the histogram.
	t.Logf("PromQL at one instant:\n%s", checkPromQL(t, p, c, a))

	t.Logf("prometheus ready %v after the agent started, first sample at %v; go share %v; "+
		"%d scrapes matched to their windows (%d bucket samples, all equal); diagkit_windows_analyzed_total %v (agent now: %d)",
		ready.Round(time.Millisecond), firstSample.Round(time.Millisecond), share, len(window), checked, windows, a.Status().Windows)
}

// spin keeps about 80 % of a core busy in ordinary Go for the windows to
// sample (burn's duty cycle is too low for 200 ms windows): loops that call
// functions, so nothing needs async preemption.
func spin(stop <-chan struct{}) {
	var x uint64
	for {
		select {
		case <-stop:
			return
		default:
		}
		for end := time.Now().Add(8 * time.Millisecond); time.Now().Before(end); {
			for i := range 10_000 {
				x = x*31 + uint64(i)
			}
		}
		sink.Add(x)
		time.Sleep(2 * time.Millisecond)
	}
}
