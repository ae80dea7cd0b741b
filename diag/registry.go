package diag

import (
	"fmt"
	"runtime"
	"strings"
	"sync"
)

// A process has one CPU profiler, and an agent owns it for as long as it
// runs. A second agent would find it taken for good: it would retry with
// backoff forever, never analyze a window, and blame net/http/pprof. So
// Start refuses while another agent runs in the process, naming it; Stop
// releases the process for the next one.
var running struct {
	mu    sync.Mutex
	agent *Agent
	addr  string // where it listens, once it does
	by    string // who called Start
}

// claimProcess makes a the process's agent, or returns the error naming the
// one that runs. by is the caller of Start, for that message.
func claimProcess(a *Agent, addr, by string) error {
	running.mu.Lock()
	defer running.mu.Unlock()
	if running.agent != nil {
		where := "listening on " + running.addr
		if running.addr == AddrOff {
			where = "no server of its own, Addr off"
		}
		use := "use it or Stop it first"
		if running.by == autoPackage {
			use = "use it (auto.Agent) or stop it first (auto.Stop)"
		}
		return fmt.Errorf("diag: an agent is already running in this process (%s, started by %s); %s",
			where, running.by, use)
	}
	running.agent, running.addr, running.by = a, addr, by
	return nil
}

// setProcessAddr records the address a's listener got (a ":0" port).
func setProcessAddr(a *Agent, addr string) {
	running.mu.Lock()
	defer running.mu.Unlock()
	if running.agent == a {
		running.addr = addr
	}
}

// releaseProcess lets another agent start, if a is the one running.
func releaseProcess(a *Agent) {
	running.mu.Lock()
	defer running.mu.Unlock()
	if running.agent == a {
		running.agent, running.addr, running.by = nil, "", ""
	}
}

// startedBy names the package that called Start: skip is how many frames
// above startedBy's caller to look. diag/auto is named as its import path
// is usually written.
func startedBy(skip int) string {
	pcs := make([]uintptr, 1)
	if runtime.Callers(skip+2, pcs) == 0 {
		return "an unknown caller"
	}
	f, _ := runtime.CallersFrames(pcs).Next()
	if f.Function == "" {
		return "an unknown caller"
	}
	pkg := funcPackage(f.Function)
	if pkg == "github.com/diagkit/diagkit/diag/auto" {
		return autoPackage
	}
	return pkg
}

// autoPackage is how the message names the agent diag/auto started.
const autoPackage = "diag/auto"

// funcPackage is the import path in a function name such as
// "github.com/a/b.(*T).M" or "main.main.func1".
func funcPackage(name string) string {
	slash := strings.LastIndexByte(name, '/')
	if dot := strings.IndexByte(name[slash+1:], '.'); dot >= 0 {
		return name[:slash+1+dot]
	}
	return name
}
