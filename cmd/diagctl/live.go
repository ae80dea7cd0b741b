package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/diagkit/diagkit/diag/analysis"
	"github.com/diagkit/diagkit/diag/api"
)

// Paths on a target, relative to its base URL. They match package diag's.
const (
	pathReport  = "/debug/diag/report"
	pathProfile = "/debug/pprof/profile"
)

// maxReportBytes bounds an agent's JSON report.
const maxReportBytes = 16 << 20

// liveOptions say how to read a live target.
type liveOptions struct {
	transportOptions
	fresh   bool
	seconds int
	top     int
}

// liveResult is what one target told us.
type liveResult struct {
	target string
	base   string
	// source is "agent" (the agent's latest window) or "profile" (a CPU
	// profile fetched now and analyzed here).
	source string
	report *analysis.Report
	window *api.WindowReport // for source "agent"
}

// fetchLive reads one target: the agent's latest window report unless fresh
// is set or the target has no agent, else a CPU profile of o.seconds from
// /debug/pprof/profile, analyzed locally. progress, if not nil, receives a
// progress bar while the profile is taken.
func fetchLive(ctx context.Context, c *client, target string, o liveOptions, progress io.Writer) (*liveResult, error) {
	base, err := parseTarget(target)
	if err != nil {
		return nil, &codedError{exitError, err}
	}
	res := &liveResult{target: redactURLs(target), base: endpoint(base, "")}
	if !o.fresh {
		resp, body, err := c.get(ctx, base, pathReport, nil, o.timeout, maxReportBytes)
		if err != nil {
			return nil, err
		}
		switch resp.StatusCode {
		case http.StatusOK:
			wr, ok, err := decodeWindow(resp, body)
			if err != nil {
				return nil, &codedError{exitError, fmt.Errorf("%s: %v", endpoint(base, pathReport), err)}
			}
			if ok {
				res.source, res.window, res.report = "agent", wr, &wr.Report
				return res, nil
			}
		case http.StatusUnauthorized, http.StatusForbidden:
			return nil, statusError(endpoint(base, pathReport), resp, body, "diagkit agent")
		}
		// 404: a plain net/http/pprof server. 503: an agent with no window
		// yet. Either way a fresh profile answers.
	}
	r, err := fetchProfile(ctx, c, base, o, progress)
	if err != nil {
		return nil, err
	}
	res.source, res.report = "profile", r
	return res, nil
}

// decodeWindow accepts an agent's window report, and nothing else that a
// server might answer 200 with at that path: ok is false for anything else.
// A window report whose figures are out of range (validateWindow) is an
// error.
func decodeWindow(resp *http.Response, body []byte) (wr *api.WindowReport, ok bool, err error) {
	if isHTML(resp) {
		return nil, false, nil
	}
	wr = new(api.WindowReport)
	if err := json.Unmarshal(body, wr); err != nil || wr.WindowSchema != api.WindowSchema || wr.Schema != analysis.Schema {
		return nil, false, nil
	}
	if err := validateWindow(body, wr); err != nil {
		return nil, false, err
	}
	return wr, true, nil
}

// fetchProfile takes a CPU profile from the target and analyzes it.
func fetchProfile(ctx context.Context, c *client, base *url.URL, o liveOptions, progress io.Writer) (*analysis.Report, error) {
	wait := time.Duration(o.seconds) * time.Second
	stop := showProgress(progress, base.Host, o.seconds)
	resp, body, err := c.get(ctx, base, pathProfile, url.Values{"seconds": {strconv.Itoa(o.seconds)}}, wait+o.timeout, maxProfileBytes)
	stop()
	u := endpoint(base, pathProfile)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, statusError(u, resp, body, "pprof endpoint")
	}
	if isHTML(resp) || bytes.HasPrefix(bytes.TrimSpace(body), []byte("<")) {
		return nil, &codedError{exitError, fmt.Errorf("%s: answered with an HTML page, not a profile (is this a pprof endpoint?)", u)}
	}
	r, err := analysis.AnalyzeBytes(body, analysis.Options{Top: o.top})
	switch {
	case errors.Is(err, analysis.ErrInvalid) || errors.Is(err, analysis.ErrEmpty):
		return nil, &codedError{exitError, fmt.Errorf("%s: not a valid profile (truncated or corrupt: %s)", u, describeAnalysisError(err))}
	case err != nil:
		return nil, &codedError{exitError, fmt.Errorf("%s: %s", u, describeAnalysisError(err))}
	}
	return r, nil
}

// showProgress draws a progress bar of seconds on w while a profile is taken,
// if w is a terminal. It returns the function that removes it.
func showProgress(w io.Writer, host string, seconds int) (stop func()) {
	f, ok := w.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) || seconds < 1 {
		return func() {}
	}
	bar := progressbar.NewOptions(seconds,
		progressbar.OptionSetWriter(f),
		progressbar.OptionSetDescription(fmt.Sprintf("profiling %s for %ds", host, seconds)),
		progressbar.OptionSetWidth(30),
		progressbar.OptionShowCount(),
		progressbar.OptionClearOnFinish(),
		progressbar.OptionThrottle(200*time.Millisecond),
	)
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
				_ = bar.Add(1)
			}
		}
	}()
	return func() {
		close(done)
		<-finished
		_ = bar.Finish()
		_ = bar.Clear()
	}
}
