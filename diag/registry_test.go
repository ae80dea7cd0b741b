package diag

import (
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"
)

// A second agent in the process would find the CPU profiler taken for
// good: Start refuses it, naming the running agent, until that one stops.
func TestSecondAgentIsRefusedUntilStop(t *testing.T) {
	a, logs := startAgent(t, Config{Window: time.Minute})
	for _, cfg := range []Config{{Addr: AddrOff}, {Addr: "127.0.0.1:0"}} {
		cfg.Logger = zap.NewNop()
		b, err := Start(cfg)
		if err == nil {
			b.Stop()
			t.Fatalf("Start(%+v) with an agent running: no error", cfg)
		}
		want := "diag: an agent is already running in this process (listening on " + a.Addr() +
			", started by github.com/diagkit/diagkit/diag); use it or Stop it first"
		if err.Error() != want {
			t.Errorf("err = %q\nwant  %q", err, want)
		}
	}
	if n := logs.FilterMessageSnippet("CPU profiler held").Len(); n != 0 {
		t.Errorf("the running agent logged %d busy lines", n)
	}
	a.Stop()
	b, _ := startAgent(t, Config{Addr: AddrOff, Window: time.Minute})
	_, err := Start(Config{Logger: zap.NewNop()})
	if err == nil || !strings.Contains(err.Error(), "(no server of its own, Addr off, started by") {
		t.Errorf("with an AddrOff agent running: %v", err)
	}
	b.Stop()
}

func TestFuncPackage(t *testing.T) {
	for name, want := range map[string]string{
		"main.main":             "main",
		"main.main.func1":       "main",
		"github.com/a/b.F":      "github.com/a/b",
		"github.com/a/b.(*T).M": "github.com/a/b",
		"example.com/x/y%2ez.F": "example.com/x/y%2ez", // a dot in the last element is escaped
	} {
		if got := funcPackage(name); got != want {
			t.Errorf("funcPackage(%q) = %q, want %q", name, got, want)
		}
	}
}
