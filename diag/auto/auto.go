// Package auto starts the diagkit agent with its defaults when imported:
//
//	import _ "github.com/diagkit/diagkit/diag/auto"
//
// It is package diag with no code to write: diag.Start configured from
// DIAGKIT_* environment variables (see diag.EnvVars and the README), logging
// through a zap production logger to standard error. It never stops or blocks
// the program it is imported into: an invalid variable, or an address in use,
// is logged once and the agent does not start; DIAGKIT_DISABLE=1 turns it
// off. Use package diag directly to choose the logger or mount the endpoints
// on your own mux; not both, since one agent runs in a process: while this
// one runs, diag.Start returns an error naming it. Agent returns it (its
// Handler can be mounted on your mux); Stop stops it, and diag.Start then
// works.
package auto

import (
	"os"
	"sync"

	"go.uber.org/zap"

	"github.com/diagkit/diagkit/diag"
)

// Test seams.
var (
	lookupEnv  = os.LookupEnv
	start      = diag.Start
	makeLogger = func() (*zap.Logger, error) { return zap.NewProduction() }
)

var (
	mu    sync.Mutex
	agent *diag.Agent
)

func init() { startFromEnv() }

// startFromEnv starts the agent from the environment, unless one is running.
// It returns the running agent, or nil when disabled or it could not start
// (the reason is logged).
func startFromEnv() *diag.Agent {
	mu.Lock()
	defer mu.Unlock()
	if agent != nil {
		return agent
	}
	log, err := makeLogger()
	if err != nil {
		log = zap.NewNop()
	}
	cfg, disabled, err := diag.ConfigFromEnv(lookupEnv)
	if disabled {
		return nil
	}
	if err != nil {
		log.Error("diagkit agent not started", zap.Error(err))
		return nil
	}
	cfg.Logger = log
	a, err := start(cfg)
	if err != nil {
		log.Error("diagkit agent not started", zap.Error(err))
		return nil
	}
	agent = a
	return a
}

// Agent returns the agent the import started, or nil.
func Agent() *diag.Agent {
	mu.Lock()
	defer mu.Unlock()
	return agent
}

// Stop stops the agent the import started, if any.
func Stop() {
	mu.Lock()
	a := agent
	agent = nil
	mu.Unlock()
	if a != nil {
		a.Stop()
	}
}
