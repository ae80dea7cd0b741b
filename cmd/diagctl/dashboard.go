package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/diagkit/diagkit/diag/api"
	"github.com/diagkit/diagkit/diag/dashboard"
)

// pathHistory is the agent's window history (package diag's PathHistory).
// The doctor report is at pathDoctor (doctor.go).
const pathHistory = "/debug/diag/history"

// maxHistoryBytes bounds an agent's history: 60 windows (the default) take
// well under a megabyte.
const maxHistoryBytes = 128 << 20

type dashboardOptions struct {
	output  dashboardFormat
	file    string
	windows int
	transportOptions
}

// dashboardFormat is dashboard's -o/--output: the page, or the data it
// holds as JSON. Anything else, such as the file name -o took before
// -f/--file, is a usage error that points to --file.
type dashboardFormat string

const (
	dashboardHTML dashboardFormat = "html"
	dashboardJSON dashboardFormat = "json"
)

func (o *dashboardFormat) String() string { return string(*o) }
func (o *dashboardFormat) Type() string   { return "format" }

func (o *dashboardFormat) Set(s string) error {
	switch f := dashboardFormat(s); f {
	case dashboardHTML, dashboardJSON:
		*o = f
		return nil
	}
	msg := "want html or json"
	if s != "" {
		msg += fmt.Sprintf(" (-o is the output format; to write to a file, use -f/--file %s)", s)
	}
	return errors.New(msg)
}

func newDashboardCmd() *cobra.Command {
	opts := &dashboardOptions{output: dashboardHTML}
	opts.timeout = 10 * time.Second
	cmd := &cobra.Command{
		Use:   "dashboard [flags] HOST[:PORT]|URL",
		Short: "Save a diagkit agent's dashboard as a self-contained HTML file (or its data as JSON)",
		Long: `dashboard saves the view the agent serves at /debug/diag/ as one HTML file,
to attach to an incident: the shares and scheduling latency over the agent's
history, the warnings on that timeline, the top interrupted functions and cgo
call sites of each window, and the doctor's checklist.

It reads the agent's history (/debug/diag/history) and doctor report
(/debug/diag/doctor) now and inlines them, with the page's script and style,
in the file: opening it makes no network request at all, and it holds no
token. It needs the diagkit agent: a plain net/http/pprof server has no
window history (use preempt-share --fresh or doctor there).

The target is HOST (port 6060), HOST:PORT or an http(s) URL, which may
include the prefix the agent is mounted under; a bearer token comes from
--token or DIAGKIT_TOKEN. -o json writes the data the page would hold
(schema diagkit.dashboard/v1: the history and the doctor report) instead of
the page. The file is -f/--file, by default diagkit-HOST-PORT-TIME.html (or
.json) in the current directory; "-" writes to standard output.

Exit codes: 0 ok, 1 error (not a diagkit agent, no window yet, cannot write),
2 usage, 4 unreachable, 5 not authorized, 6 busy (429).`,
		Example: `  diagctl dashboard localhost:6060
  diagctl dashboard -f incident-4711.html https://api.internal:6060
  diagctl dashboard --windows 30 -f - http://host:8080/diagkit > view.html
  diagctl dashboard -o json -f - localhost:6060 | jq '.history.windows | length'`,
		Args:              exactArgs(1, "one target (HOST[:PORT] or URL)"),
		ValidArgsFunction: cobra.NoFileCompletions,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runDashboard(cmd, args[0], opts)
		},
	}
	f := cmd.Flags()
	f.VarP(&opts.output, "output", "o", "output `format`: html (the page) or json (its data)")
	f.StringVarP(&opts.file, "file", "f", "", "write to `FILE` (\"-\": standard output; default diagkit-HOST-PORT-TIME.html or .json)")
	// --out FILE, the flag's name before -o became the format.
	f.StringVar(&opts.file, "out", "", "write to `FILE`")
	_ = f.MarkHidden("out")
	f.IntVar(&opts.windows, "windows", 0, "keep the last `N` windows (0: all the agent has)")
	addTransportFlags(f, &opts.transportOptions, false)
	_ = cmd.MarkFlagFilename("file", "html", "json")
	_ = cmd.RegisterFlagCompletionFunc("output", cobra.FixedCompletions(
		[]string{"html", "json"}, cobra.ShellCompDirectiveNoFileComp))
	_ = cmd.RegisterFlagCompletionFunc("windows", cobra.NoFileCompletions)
	return cmd
}

func runDashboard(cmd *cobra.Command, target string, opts *dashboardOptions) error {
	if cmd.Flags().Changed("out") {
		fmt.Fprintln(cmd.ErrOrStderr(), "diagctl: --out is deprecated: use -f/--file")
	}
	if opts.windows < 0 {
		return usageErrorf("invalid argument %d for --windows: want 0 (all) or more", opts.windows)
	}
	if opts.timeout <= 0 {
		return usageErrorf("invalid argument %v for --timeout: want a positive duration", opts.timeout)
	}
	if isFileArg(target) {
		return usageErrorf("%s: dashboard reads a live diagkit agent (HOST[:PORT] or URL), not a file: "+
			"a saved profile or report has no window history", target)
	}
	base, err := parseTarget(target)
	if err != nil {
		return &codedError{exitError, err}
	}
	snap, err := fetchSnapshot(cmd.Context(), newClient(opts.transportOptions), base, opts)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	write, ext := dashboard.Write, ".html"
	if opts.output == dashboardJSON {
		write, ext = dashboard.WriteJSON, ".json"
	}
	if err := write(&buf, *snap); err != nil {
		return err
	}
	name := opts.file
	if name == "" {
		name = dashboardFileName(base, snap.Saved, ext)
	}
	if name == "-" {
		if _, err := cmd.OutOrStdout().Write(buf.Bytes()); err != nil {
			return err
		}
		fmt.Fprintf(cmd.ErrOrStderr(), "wrote the dashboard to standard output: %s\n", termSafe(snapshotSummary(snap)))
		return nil
	}
	if err := os.WriteFile(name, buf.Bytes(), 0o644); err != nil {
		return &codedError{exitError, fmt.Errorf("writing the dashboard: %v", err)}
	}
	hint := "; open it in a browser"
	if opts.output == dashboardJSON {
		hint = ""
	}
	fmt.Fprintf(cmd.ErrOrStderr(), "wrote %s: %s%s\n", termSafe(name), termSafe(snapshotSummary(snap)), hint)
	return nil
}

// fetchSnapshot reads the agent's history and doctor report.
func fetchSnapshot(ctx context.Context, c *client, base *url.URL, opts *dashboardOptions) (*dashboard.Snapshot, error) {
	var q url.Values
	if opts.windows > 0 {
		q = url.Values{"n": {strconv.Itoa(opts.windows)}}
	}
	u := endpoint(base, pathHistory)
	resp, body, err := c.get(ctx, base, pathHistory, q, opts.timeout, maxHistoryBytes)
	if err != nil {
		return nil, err
	}
	switch {
	case resp.StatusCode == http.StatusNotFound:
		return nil, &codedError{exitError, fmt.Errorf("%s: 404: no window history there: dashboard needs the diagkit agent "+
			"(a plain net/http/pprof server has none; try preempt-share --fresh or doctor), or the right prefix in the URL", u)}
	case resp.StatusCode != http.StatusOK:
		return nil, statusError(u, resp, body, "diagkit agent")
	}
	hist, err := decodeHistory(resp, body)
	if err != nil {
		return nil, &codedError{exitError, fmt.Errorf("%s: %v", u, err)}
	}
	if len(hist.Windows) == 0 {
		return nil, &codedError{exitError, fmt.Errorf("%s: the agent has analyzed no window yet (the first completes one window after it starts): try again shortly", base.Host)}
	}
	snap := &dashboard.Snapshot{
		Target:    displayTarget(base),
		Saved:     time.Now().UTC(),
		Generator: "diagctl " + moduleVersion(),
		History:   hist,
	}
	snap.Doctor, snap.DoctorNote, err = fetchAgentDoctor(ctx, c, base, opts.timeout)
	return snap, err
}

// decodeHistory reads an agent's window history, range-checked.
func decodeHistory(resp *http.Response, body []byte) (api.History, error) {
	var hist api.History
	if isHTML(resp) || json.Unmarshal(body, &hist) != nil || hist.WindowSchema != api.WindowSchema {
		return api.History{}, fmt.Errorf("not a diagkit agent's history (want %s JSON): dashboard needs the diagkit agent", api.WindowSchema)
	}
	if err := validateHistory(body, &hist); err != nil {
		return api.History{}, err
	}
	return hist, nil
}

// validateHistory range-checks every window of an agent's history, decoded
// from body, as validateWindow does one window report.
func validateHistory(body []byte, hist *api.History) error {
	var raw struct {
		Windows []json.RawMessage `json:"windows"`
	}
	if err := json.Unmarshal(body, &raw); err != nil || len(raw.Windows) != len(hist.Windows) {
		return fmt.Errorf("not a valid window history")
	}
	for i := range hist.Windows {
		if err := validateWindow(raw.Windows[i], &hist.Windows[i]); err != nil {
			return fmt.Errorf("window #%d of the history: %v", hist.Windows[i].Seq, err)
		}
	}
	return nil
}

// displayTarget names the agent in the file: the base URL without
// credentials, the scheme dropped for plain http.
func displayTarget(base *url.URL) string {
	u := *base
	u.User = nil
	if u.Scheme == "http" {
		return u.Host + u.Path
	}
	return u.String()
}

// dashboardFileName is the default file name: diagkit-HOST-PORT-TIME.EXT,
// with anything but letters, digits, dots and dashes made a dash.
func dashboardFileName(base *url.URL, saved time.Time, ext string) string {
	host := strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '-':
			return r
		}
		return '-'
	}, strings.Trim(base.Host, "[]"))
	host = strings.Trim(host, "-")
	return "diagkit-" + host + "-" + saved.UTC().Format("20060102T150405Z") + ext
}

// snapshotSummary says what the file holds, in one line.
func snapshotSummary(s *dashboard.Snapshot) string {
	warned := 0
	for _, w := range s.History.Windows {
		if len(w.Warnings) > 0 {
			warned++
		}
	}
	n := len(s.History.Windows)
	msg := fmt.Sprintf("%d window%s (%d with warnings)", n, plural(n), warned)
	if d := s.Doctor; d != nil {
		msg += fmt.Sprintf(", doctor: %d fail, %d warn, %d pass, %d unknown", d.Counts.Fail, d.Counts.Warn, d.Counts.Pass, d.Counts.Unknown)
	} else {
		msg += ", no doctor report: " + s.DoctorNote
	}
	return msg
}
