package auto

import (
	"net"
	"strings"
	"testing"

	"go.uber.org/goleak"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/diagkit/diagkit/diag"
)

func TestMain(m *testing.M) {
	Stop() // the agent this package's init started, if the port was free
	goleak.VerifyTestMain(m)
}

// withEnv points the package's seams at a fixed environment and an observed
// logger for one test.
func withEnv(t *testing.T, env map[string]string) *observer.ObservedLogs {
	t.Helper()
	core, logs := observer.New(zapcore.InfoLevel)
	oldLookup, oldLogger := lookupEnv, makeLogger
	lookupEnv = func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	makeLogger = func() (*zap.Logger, error) { return zap.New(core), nil }
	t.Cleanup(func() {
		Stop()
		lookupEnv, makeLogger = oldLookup, oldLogger
	})
	return logs
}

func TestStartsFromEnvironment(t *testing.T) {
	withEnv(t, map[string]string{"DIAGKIT_ADDR": "127.0.0.1:0", "DIAGKIT_WINDOW": "1s"})
	a := startFromEnv()
	if a == nil || Agent() != a {
		t.Fatal("agent not started")
	}
	if !strings.HasPrefix(a.Addr(), "127.0.0.1:") {
		t.Errorf("Addr = %s", a.Addr())
	}
	if again := startFromEnv(); again != a {
		t.Error("a second start replaced the running agent")
	}
}

func TestInvalidEnvironmentDoesNotStart(t *testing.T) {
	logs := withEnv(t, map[string]string{"DIAGKIT_WINDOW": "ten seconds", "DIAGKIT_PREEMPT_THRESHOLD": "500"})
	if a := startFromEnv(); a != nil {
		t.Fatal("started on an invalid environment")
	}
	entries := logs.FilterMessage("diagkit agent not started").All()
	if len(entries) != 1 {
		t.Fatalf("%d error lines, want 1", len(entries))
	}
	msg := entries[0].ContextMap()["error"].(string)
	for _, name := range []string{"DIAGKIT_WINDOW", "DIAGKIT_PREEMPT_THRESHOLD"} {
		if !strings.Contains(msg, name) {
			t.Errorf("error %q does not name %s", msg, name)
		}
	}
}

func TestDisabled(t *testing.T) {
	logs := withEnv(t, map[string]string{"DIAGKIT_DISABLE": "1", "DIAGKIT_ADDR": "127.0.0.1:0"})
	if a := startFromEnv(); a != nil || Agent() != nil {
		t.Fatal("started while disabled")
	}
	if logs.Len() != 0 {
		t.Errorf("logged %d lines while disabled", logs.Len())
	}
}

// An address in use is one clear error; the host carries on.
func TestAddressInUse(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	logs := withEnv(t, map[string]string{"DIAGKIT_ADDR": ln.Addr().String()})
	if a := startFromEnv(); a != nil {
		t.Fatal("started on a taken address")
	}
	entries := logs.FilterMessage("diagkit agent not started").All()
	if len(entries) != 1 || !strings.Contains(entries[0].ContextMap()["error"].(string), "address already in use") {
		t.Errorf("log = %v", logs.All())
	}
}

func TestNonLoopbackNeedsToken(t *testing.T) {
	logs := withEnv(t, map[string]string{"DIAGKIT_ADDR": "0.0.0.0:0"})
	if a := startFromEnv(); a != nil {
		t.Fatal("exposed beyond loopback without a token")
	}
	if logs.Len() != 1 || !strings.Contains(logs.All()[0].ContextMap()["error"].(string), "set a Token") {
		t.Errorf("log = %v", logs.All())
	}
}

// diag/auto plus diag.Start: the second Start fails at once, naming the
// agent the import started, instead of starting an agent that finds the CPU
// profiler taken forever; once that one stops, Start works.
func TestStartBesideAutoNamesIt(t *testing.T) {
	withEnv(t, map[string]string{"DIAGKIT_ADDR": "127.0.0.1:0", "DIAGKIT_WINDOW": "1s"})
	a := startFromEnv()
	if a == nil {
		t.Fatal("agent not started")
	}
	b, err := diag.Start(diag.Config{Addr: diag.AddrOff, Logger: zap.NewNop()})
	if err == nil {
		b.Stop()
		t.Fatal("a second agent started beside diag/auto's")
	}
	want := "diag: an agent is already running in this process (listening on " + a.Addr() + ", started by diag/auto)"
	if !strings.HasPrefix(err.Error(), want) {
		t.Errorf("err = %q, want it to start with %q", err, want)
	}
	b.Stop() // nil: does nothing
	Stop()
	b, err = diag.Start(diag.Config{Addr: diag.AddrOff, Logger: zap.NewNop()})
	if err != nil {
		t.Fatalf("after auto.Stop: %v", err)
	}
	b.Stop()
}
