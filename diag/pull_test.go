package diag

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/diagkit/diagkit/diag/analysis"
)

// Pull mode, as Grafana Alloy does it (scaled down: 2 s CPU scrapes back to
// back instead of 14 s every 15 s, plus the other profiles): every scrape
// answers, the scraped windows are analyzed and reported, and the agent
// takes no periodic window of its own while the scrapes cover it.
func TestScrapesFeedTheAnalysis(t *testing.T) {
	a, _ := startAgent(t, Config{Window: time.Second, Interval: 2500 * time.Millisecond})
	stop := make(chan struct{})
	go burn(stop)
	defer close(stop)
	base := "http://" + a.Addr()

	var firstScrapeEnd time.Time
	for round := range 4 {
		status, body := get(t, base+"/debug/pprof/profile?seconds=2")
		if status != http.StatusOK {
			t.Fatalf("round %d: profile: %d %s", round, status, body)
		}
		if _, err := analysis.AnalyzeBytes(body, analysis.Options{}); err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		if firstScrapeEnd.IsZero() {
			firstScrapeEnd = time.Now()
		}
		for _, name := range []string{"allocs", "goroutine", "mutex", "block"} {
			if status, body := get(t, fmt.Sprintf("%s/debug/pprof/%s", base, name)); status != http.StatusOK {
				t.Errorf("round %d: %s: %d %s", round, name, status, body)
			}
		}
	}

	st := a.Status()
	if st.ScrapedWindows != 4 {
		t.Errorf("%d scraped windows analyzed, want 4", st.ScrapedWindows)
	}
	if st.SkippedWindows == 0 {
		t.Error("the periodic loop never skipped a window the scrapes covered")
	}
	var scraped, periodicAfter int
	for _, w := range a.History(0) {
		switch {
		case w.Source == "http":
			scraped++
			if w.Samples == 0 || w.DurationSeconds < 1.9 {
				t.Errorf("scraped window %d: %d samples over %.2fs", w.Seq, w.Samples, w.DurationSeconds)
			}
		case w.Start.After(firstScrapeEnd):
			periodicAfter++
		}
	}
	if scraped != 4 {
		t.Errorf("history holds %d scraped windows, want 4", scraped)
	}
	if periodicAfter != 0 {
		t.Errorf("%d periodic windows started while scrapes covered the process", periodicAfter)
	}
	if latest := a.Latest(); latest == nil || latest.Source != "http" {
		t.Errorf("latest report = %+v, want the last scrape", latest)
	}
}
