package main

import (
	"bytes"
	"context"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/diagkit/diagkit/diag/analysis"
	"github.com/diagkit/diagkit/diag/api"
	"github.com/diagkit/diagkit/diag/dashboard"
)

// polishHistory is a fixed synthetic history: six periodic windows of 10 s
// and an "http" window (#4, a /debug/pprof/profile scrape the agent
// analyzed) of 6 s in the middle of #3. The async-preempt share crosses its
// threshold, so the line runs through the threshold's label; #2, #3 and the
// scrape have one warning each, #5 two.
func polishHistory() api.History {
	base := time.Date(2026, 11, 22, 11, 0, 0, 0, time.UTC)
	warn := func(kind string, v, th float64) api.Warning {
		return api.Warning{Kind: kind, Value: v, Threshold: th, Causes: []string{"synthetic"}, Logged: true}
	}
	win := func(seq int, start time.Time, d time.Duration, source string, async, cgo float64, ws ...api.Warning) api.WindowReport {
		return api.WindowReport{
			Report: analysis.Report{Schema: analysis.Schema, Samples: 200, CPUSeconds: 2,
				Shares: analysis.Shares{AsyncPreempt: async, Cgo: cgo, Go: 1 - async - cgo}},
			WindowSchema: api.WindowSchema, Seq: uint64(seq), Start: start, End: start.Add(d), Source: source,
			Context:  api.Context{GoVersion: "go1.26.1", GOMAXPROCS: 8, NumCPU: 8},
			Warnings: ws,
		}
	}
	p := func(i int) time.Time { return base.Add(time.Duration(i) * 10 * time.Second) }
	h := api.History{WindowSchema: api.WindowSchema}
	h.Windows = []api.WindowReport{
		win(1, p(0), 10*time.Second, "periodic", 0.05, 0.01),
		win(2, p(1), 10*time.Second, "periodic", 0.12, 0.02, warn(api.WarnAsyncPreempt, 0.12, 0.10)),
		win(3, p(2), 10*time.Second, "periodic", 0.11, 0.03, warn(api.WarnAsyncPreempt, 0.11, 0.10)),
		win(4, p(2).Add(2*time.Second), 6*time.Second, "http", 0.14, 0.03, warn(api.WarnAsyncPreempt, 0.14, 0.10)),
		win(5, p(3), 10*time.Second, "periodic", 0.15, 0.09, warn(api.WarnAsyncPreempt, 0.15, 0.10), warn(api.WarnCgoShare, 0.09, 0.08)),
		win(6, p(4), 10*time.Second, "periodic", 0.10, 0.07),
		win(7, p(5), 10*time.Second, "periodic", 0.04, 0.02),
	}
	return h
}

// polishView is what TestDashboardPolishInChromium measures on the page.
type polishView struct {
	// Labels: per threshold label, whether every data line and point of
	// its chart comes before it (is painted under it), and whether its box
	// overlaps another label's.
	Labels []struct {
		Text     string `json:"text"`
		OnTop    bool   `json:"onTop"`
		Overlaps bool   `json:"overlaps"`
		Inside   bool   `json:"inside"`
	} `json:"labels"`
	MarkerFills []string `json:"markerFills"` // computed fill of each warning marker
	LegendWarn  []string `json:"legendWarn"`  // computed colour of the legend's warning swatches
	Markers     int      `json:"markers"`
	// MarkerOverlaps and CellOverlaps list pairs of windows whose
	// markers or cells on the timeline overlap.
	MarkerOverlaps []string `json:"markerOverlaps"`
	CellOverlaps   []string `json:"cellOverlaps"`
}

const polishViewJS = `(() => {
  const all = (root, s) => [...root.querySelectorAll(s)];
  const box = (e) => e.getBoundingClientRect();
  const meet = (a, b) => a.left < b.right - 0.5 && b.left < a.right - 0.5 && a.top < b.bottom - 0.5 && b.top < a.bottom - 0.5;
  const pairs = (els) => {
    const out = [];
    for (let i = 0; i < els.length; i++) for (let j = i + 1; j < els.length; j++)
      if (meet(box(els[i]), box(els[j]))) out.push(els[i].getAttribute('data-seq') + '/' + els[j].getAttribute('data-seq'));
    return out;
  };
  const labels = [];
  for (const svg of all(document, '.chart svg')) {
    const ls = all(svg, 'text.threshold-label');
    const data = all(svg, 'path.line, g.points, path.area');
    const plot = svg.getBoundingClientRect();
    ls.forEach((l, i) => labels.push({
      text: l.textContent,
      onTop: data.every((d) => d.compareDocumentPosition(l) & Node.DOCUMENT_POSITION_FOLLOWING),
      overlaps: ls.some((o, j) => j !== i && meet(box(l), box(o))),
      inside: box(l).top >= plot.top && box(l).bottom <= plot.bottom,
    }));
  }
  const markers = all(document, '#chart-warnings path.warn-marker');
  return {
    labels,
    markers: markers.length,
    markerFills: markers.map((m) => getComputedStyle(m).fill),
    legendWarn: all(document, '#tl-legend .sw.s-warn').map((e) => getComputedStyle(e).backgroundColor),
    markerOverlaps: pairs(markers),
    cellOverlaps: pairs(all(document, '#chart-warnings rect.cell')),
  };
})()`

// TestDashboardPolishInChromium checks the page's legibility on a fixed
// history: threshold labels painted above the data lines and clear of each
// other, the legend's warning swatch the colour of every marker, and the
// markers and cells of overlapping windows (a scrape inside periodic
// windows) apart. The screenshot is $DIAGKIT_ARTIFACTS/dashboard-polish.png.
func TestDashboardPolishInChromium(t *testing.T) {
	chromium := chromiumPath(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	browserCtx := startBrowser(t, ctx, chromium)

	hist := polishHistory()
	var buf bytes.Buffer
	if err := dashboard.Write(&buf, dashboard.Snapshot{Target: "stand-in", Saved: hist.Windows[len(hist.Windows)-1].End, History: hist}); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "polish.html")
	if err := os.WriteFile(file, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	tb := openTab(t, browserCtx, "http://127.0.0.1:1", "")
	if err := chromedp.Do(tb.ctx, chromedp.EmulateViewport(1400, 1000), chromedp.Navigate((&url.URL{Scheme: "file", Path: file}).String())); err != nil {
		t.Fatal(err)
	}
	waitReady(t, tb, len(hist.Windows))
	screenshot(t, tb, filepath.Join(artifactDir(t), "dashboard-polish.png"))

	v, err := chromedp.Run(tb.ctx, chromedp.Evaluate[polishView](polishViewJS))
	if err != nil {
		t.Fatalf("reading the page: %v", err)
	}
	if len(v.Labels) < 2 {
		t.Errorf("%d threshold labels, want those of async preemption and cgo at least", len(v.Labels))
	}
	for _, l := range v.Labels {
		if !l.OnTop {
			t.Errorf("threshold label %q is drawn under the data lines", l.Text)
		}
		if l.Overlaps {
			t.Errorf("threshold label %q overlaps another", l.Text)
		}
		if !l.Inside {
			t.Errorf("threshold label %q is cut off by its chart", l.Text)
		}
	}
	if v.Markers != 4 {
		t.Errorf("%d warning markers, want 4", v.Markers)
	}
	if len(v.LegendWarn) == 0 {
		t.Fatal("the legend has no warning swatch")
	}
	for i, fill := range v.MarkerFills {
		if fill != v.LegendWarn[0] {
			t.Errorf("marker %d is %s, the legend's warning swatch %s", i, fill, v.LegendWarn[0])
		}
	}
	if len(v.MarkerOverlaps) > 0 {
		t.Errorf("overlapping warning markers (windows): %q", v.MarkerOverlaps)
	}
	if len(v.CellOverlaps) > 0 {
		t.Errorf("overlapping window cells (windows): %q", v.CellOverlaps)
	}
	// The scrape's marker, drawn apart, selects it.
	selectWindow(t, tb, hist.Windows[3])
	selectWindow(t, tb, hist.Windows[2])
	checkClean(t, "polish", tb)
}
