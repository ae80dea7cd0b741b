package run

import (
	"bytes"
	"context"
	"errors"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestAgentAndCPUProfileTogetherIsAUsageError(t *testing.T) {
	ran := false
	_, err := Run(Flags{Duration: time.Second, Agent: "127.0.0.1:0", CPUProfile: filepath.Join(t.TempDir(), "cpu.pprof")},
		func(context.Context) { ran = true })
	var ue *UsageError
	if !errors.As(err, &ue) || !strings.Contains(err.Error(), "-agent and -cpuprofile") {
		t.Errorf("Run = %v, want a UsageError naming both flags", err)
	}
	if ran {
		t.Error("the workload ran")
	}
}

// With -agent, the agent's address is printed before the workload starts,
// the agent serves while it runs, and it is stopped when Run returns.
func TestAgentServesWhileTheWorkloadRuns(t *testing.T) {
	var out bytes.Buffer
	old := stdout
	stdout = &out
	t.Cleanup(func() { stdout = old })
	t.Setenv("DIAGKIT_WINDOW", "1s")
	var addr string
	_, err := Run(Flags{Duration: 200 * time.Millisecond, Agent: "127.0.0.1:0"}, func(ctx context.Context) {
		line, ok := strings.CutPrefix(out.String(), "diagkit agent on http://")
		if !ok || !strings.HasSuffix(line, "\n") {
			t.Errorf("printed %q before the workload, want the agent's address", out.String())
			return
		}
		addr = strings.TrimSpace(line)
		if _, port, _ := net.SplitHostPort(addr); port == "0" || port == "" {
			t.Errorf("printed %q, not the port bound", addr)
		}
		resp, err := http.Get("http://" + addr + "/debug/diag/status")
		if err != nil {
			t.Errorf("agent not serving: %v", err)
			return
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("status: %s", resp.Status)
		}
		<-ctx.Done()
	})
	if err != nil {
		t.Fatal(err)
	}
	if addr == "" {
		return
	}
	if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		c.Close()
		t.Errorf("the agent still listens on %s after Run returned", addr)
	}
}
