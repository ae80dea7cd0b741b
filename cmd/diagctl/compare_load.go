package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/diagkit/diagkit/diag/analysis"
	"github.com/diagkit/diagkit/diag/api"
	"github.com/diagkit/diagkit/internal/compare"
)

// compareTop is how many functions of each kind compare asks the analysis
// of a profile for: more than it lists, so that a function ranked sixth on
// one side is still counted there.
const compareTop = 50

// maxDirFiles bounds the files compare reads from a directory.
const maxDirFiles = 10_000

// dashboardSchema is the schema of diagctl dashboard -o json (package
// dashboard's Schema).
const dashboardSchema = "diagkit.dashboard/v1"

// loadedSide is one side as read.
type loadedSide struct {
	compare.Side
	// agent is set for a live agent's history, live for any live target;
	// host is a live target's host name or address.
	agent, live bool
	host        string
	// first and last bound the history as read, for cutting two agents'
	// histories to a common span.
	first, last time.Time
}

// loadSide reads one side: a file, a directory or a live target.
func loadSide(ctx context.Context, c *client, arg string, opts *compareOptions, stdin io.Reader, progress io.Writer) (*loadedSide, error) {
	if !isFileArg(arg) {
		return loadLive(ctx, c, arg, opts, progress)
	}
	if arg != "-" {
		if st, err := os.Stat(arg); err == nil && st.IsDir() {
			return loadDir(arg)
		}
	}
	name, data, err := readProfile(arg, stdin)
	if err != nil {
		return nil, err
	}
	s := &loadedSide{Side: compare.Side{Input: name}}
	if err := loadFile(s, name, data); err != nil {
		return nil, err
	}
	return s, nil
}

// loadDir reads every regular file of a directory, in name order, hidden
// ones aside: each a profile or a JSON document.
func loadDir(dir string) (*loadedSide, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fileError(dir, err)
	}
	s := &loadedSide{Side: compare.Side{Input: dir, Source: "directory"}}
	n := 0
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") || !e.Type().IsRegular() {
			continue
		}
		if n++; n > maxDirFiles {
			return nil, fmt.Errorf("%s: more than %d files", dir, maxDirFiles)
		}
		name := filepath.Join(dir, e.Name())
		_, data, err := readProfile(name, nil)
		if err != nil {
			return nil, err
		}
		if err := loadFile(s, name, data); err != nil {
			return nil, err
		}
	}
	if n == 0 {
		return nil, fmt.Errorf("%s: no files in the directory", dir)
	}
	s.Source = fmt.Sprintf("directory of %d file%s", n, plural(n))
	return s, nil
}

// loadFile adds what one file holds to s: a CPU profile (one window), or a
// diagkit JSON document, gzipped or not.
func loadFile(s *loadedSide, name string, data []byte) error {
	plain, err := analysis.Decompress(data)
	if err != nil {
		return fmt.Errorf("%s: %s", name, describeAnalysisError(err))
	}
	if t := bytes.TrimSpace(plain); len(t) > 0 && t[0] == '{' {
		return loadJSON(s, name, t)
	}
	r, err := analysis.AnalyzeBytes(plain, analysis.Options{Top: compareTop})
	if err != nil {
		return fmt.Errorf("%s: %s", name, describeAnalysisError(err))
	}
	s.Replicates = append(s.Replicates, compare.FromReport(name, r))
	setSource(s, "profile")
	return nil
}

func setSource(s *loadedSide, what string) {
	if s.Source == "" {
		s.Source = what
	}
}

// loadJSON reads a report, a window, a history or a dashboard's data.
func loadJSON(s *loadedSide, name string, body []byte) error {
	var probe struct {
		Schema       string          `json:"schema"`
		WindowSchema string          `json:"window_schema"`
		Windows      json.RawMessage `json:"windows"`
		History      json.RawMessage `json:"history"`
	}
	if err := json.Unmarshal(body, &probe); err != nil {
		return fmt.Errorf("%s: not valid JSON: %v", name, err)
	}
	switch {
	case probe.Schema == dashboardSchema && probe.History != nil:
		return loadHistory(s, name, probe.History, "dashboard data")
	case probe.WindowSchema == api.WindowSchema && probe.Windows != nil:
		return loadHistory(s, name, body, "history")
	case probe.WindowSchema == api.WindowSchema:
		wr := new(api.WindowReport)
		if err := json.Unmarshal(body, wr); err != nil || wr.Schema != analysis.Schema {
			return fmt.Errorf("%s: not a valid %s window", name, api.WindowSchema)
		}
		if err := validateWindow(body, wr); err != nil {
			return fmt.Errorf("%s: %v", name, err)
		}
		s.Replicates = append(s.Replicates, compare.FromWindow(wr))
		setSource(s, "window report")
		return nil
	case probe.Schema == analysis.Schema:
		r := new(analysis.Report)
		if err := json.Unmarshal(body, r); err != nil {
			return fmt.Errorf("%s: not a valid %s document", name, analysis.Schema)
		}
		if err := validateReport(r, nil, nil); err != nil {
			return fmt.Errorf("%s: %v", name, err)
		}
		s.Replicates = append(s.Replicates, compare.FromReport(name, r))
		setSource(s, "report")
		return nil
	case probe.Schema == compare.Schema:
		return fmt.Errorf("%s: is a comparison (%s), not a side to compare", name, compare.Schema)
	}
	return fmt.Errorf("%s: JSON, but not a diagkit report, window, history or dashboard (schema %q)", name, termSafe(probe.Schema+probe.WindowSchema))
}

// loadHistory adds an agent history's periodic windows.
func loadHistory(s *loadedSide, name string, body []byte, what string) error {
	var hist api.History
	if err := json.Unmarshal(body, &hist); err != nil || hist.WindowSchema != api.WindowSchema {
		return fmt.Errorf("%s: not a valid %s history", name, api.WindowSchema)
	}
	if err := validateHistory(body, &hist); err != nil {
		return fmt.Errorf("%s: %v", name, err)
	}
	addWindows(s, hist.Windows)
	setSource(s, what)
	return nil
}

// addWindows adds the agent's own periodic windows: a window it analyzed
// for a /debug/pprof/profile request overlaps them and would count the
// same samples twice.
func addWindows(s *loadedSide, ws []api.WindowReport) {
	for i := range ws {
		w := &ws[i]
		if w.Source != "" && w.Source != "periodic" {
			continue
		}
		s.Replicates = append(s.Replicates, compare.FromWindow(w))
		if s.first.IsZero() || w.Start.Before(s.first) {
			s.first = w.Start
		}
		if w.End.After(s.last) {
			s.last = w.End
		}
	}
}

// loadLive reads a live target: an agent's history, or fresh profiles.
func loadLive(ctx context.Context, c *client, target string, opts *compareOptions, progress io.Writer) (*loadedSide, error) {
	base, err := parseTarget(target)
	if err != nil {
		return nil, &codedError{exitError, err}
	}
	s := &loadedSide{Side: compare.Side{Input: redactURLs(target)}, live: true, host: base.Hostname()}
	if !opts.live.fresh {
		u := endpoint(base, pathHistory)
		resp, body, err := c.get(ctx, base, pathHistory, nil, opts.live.timeout, maxHistoryBytes)
		if err != nil {
			return nil, err
		}
		switch resp.StatusCode {
		case http.StatusOK:
			hist, err := decodeHistory(resp, body)
			if err != nil {
				return nil, &codedError{exitError, fmt.Errorf("%s: %v", u, err)}
			}
			addWindows(s, hist.Windows)
			s.Source, s.agent = "agent history", true
			if len(s.Replicates) == 0 {
				return nil, &codedError{exitError, fmt.Errorf("%s: the agent has analyzed no window yet: try again shortly, or --fresh", base.Host)}
			}
			return s, nil
		case http.StatusUnauthorized, http.StatusForbidden:
			return nil, statusError(u, resp, body, "diagkit agent")
		}
		// 404: a plain net/http/pprof server; 503: an agent stopping or
		// without a window. Fresh profiles answer either way.
	}
	o := opts.live
	o.top = compareTop
	for i := range opts.windows {
		start := time.Now()
		r, err := fetchProfile(ctx, c, base, o, progress)
		if err != nil {
			var ce *codedError
			if errors.As(err, &ce) && i > 0 {
				return nil, &codedError{ce.code, fmt.Errorf("profile %d of %d: %w", i+1, opts.windows, ce.err)}
			}
			return nil, err
		}
		rep := compare.FromReport(fmt.Sprintf("profile %d", i+1), r)
		rep.Start, rep.End = start, time.Now()
		s.Replicates = append(s.Replicates, rep)
	}
	s.Source = fmt.Sprintf("%d fresh profile%s of %d s", opts.windows, plural(opts.windows), opts.live.seconds)
	s.Notes = append(s.Notes, "fresh profiles carry shares and functions only: latency, cgo call rate, throttling and run-queue wait come from an agent's history")
	return s, nil
}
