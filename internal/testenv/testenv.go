// Package testenv is what diagkit's tests share about the machine they run
// on: the rule for a test that needs something outside Go (a C compiler,
// Debian's prometheus or chromium), and the Prometheus .ci/run starts.
package testenv

import (
	"net"
	"os"
	"strconv"
	"testing"
)

// PrometheusEnv names the loopback HOST:PORT of the throwaway Prometheus
// .ci/run starts (Debian's prometheus, a Go 1.19 build with net/http/pprof);
// PrometheusEnv+"_PID" is its PID.
const PrometheusEnv = "DIAGKIT_TEST_PROMETHEUS"

// MustRun reports that the test cannot run here, saying why: it skips on a
// developer's machine, and fails under CI (CI=true), where a missing tool
// must not quietly leave something untested.
func MustRun(t testing.TB, format string, args ...any) {
	t.Helper()
	if ci, _ := strconv.ParseBool(os.Getenv("CI")); ci {
		t.Fatalf("CI=%s: this test must run, not skip: "+format, append([]any{os.Getenv("CI")}, args...)...)
	}
	t.Skipf(format, args...)
}

// Prometheus returns the address of the Prometheus .ci/run started, or
// skips the test (fails it under CI) when there is none. The address must
// be loopback: the tests load the server.
func Prometheus(t testing.TB) string {
	t.Helper()
	addr := os.Getenv(PrometheusEnv)
	if addr == "" {
		MustRun(t, "%s is not set: run `bash .ci/run`, which installs and starts a throwaway Prometheus, "+
			"or start prometheus --web.listen-address=127.0.0.1:PORT yourself and set %s=127.0.0.1:PORT", PrometheusEnv, PrometheusEnv)
	}
	// Reading the PID keys go test's result cache on the instance: a new
	// Prometheus re-runs the test rather than reporting a cached pass from
	// another server.
	if pid := os.Getenv(PrometheusEnv + "_PID"); pid != "" {
		t.Logf("prometheus pid %s at %s", pid, addr)
	}
	host, _, err := net.SplitHostPort(addr)
	if ip := net.ParseIP(host); err != nil || ip == nil || !ip.IsLoopback() {
		t.Fatalf("%s=%q: want a loopback IP:PORT such as 127.0.0.1:9090 (the tests load the server)", PrometheusEnv, addr)
	}
	return addr
}
