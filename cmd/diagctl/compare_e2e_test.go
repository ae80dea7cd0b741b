package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/diagkit/diagkit/internal/compare"
	"github.com/diagkit/diagkit/internal/testenv"
)

// TestCompareTwoLiveAgents compares two real processes with the agent, a
// baseline without cgo and a canary making tiny cgo calls, as a canary
// release would be compared with its baseline: from their histories over
// the span both cover, and from fresh profiles taken at the same time.
func TestCompareTwoLiveAgents(t *testing.T) {
	bins := buildE2EBinaries(t)
	// At the default CPU weight: the cgo difference is large enough beside
	// busy processes of the default weight, and two children at a higher
	// weight keeping three CPUs' worth busy starved the diag package's
	// tests running beside them. But a test at the highest weight (diag's
	// TestJudgement) can take nearly all the CPU for seconds, as can its
	// busy neighbours, so they share the weight claim, which keeps those
	// from running beside them.
	testenv.ShareWeightClaim(t)
	base := startE2EChild(t, bins, e2eScenario{name: "baseline", bin: "steady", defaultWeight: true})
	canary := startE2EChild(t, bins, e2eScenario{name: "canary", bin: "cgotiny", defaultWeight: true})
	// Twenty windows of 1 s each. At the default weight the canary's call
	// rate follows the CPU it gets, and beside the diag package's tests
	// (at ten times that weight) it got as little as 0.36 CPU, so the rate
	// varied from 13 to 30 million calls a second between windows. Over
	// 8 pairs (of 10 windows a side, cut to the span both cover) the
	// paired t-test's p was then 0.006 to 0.02, 0.05 to 0.18 after Holm's
	// adjustment for the ten figures: in CI, and in 4 of 5 runs on an idle
	// machine, the call rate was "no significant change" while the
	// crossing share was worse. The same spread over twice the pairs gives
	// p below 0.001 after adjustment.
	base.waitWindows(t, 20, 600)
	canary.waitWindows(t, 20, 600)

	decode := func(t *testing.T, res result) *compare.Document {
		t.Helper()
		var doc compare.Document
		if err := json.Unmarshal([]byte(res.stdout), &doc); err != nil || doc.Schema != compare.Schema {
			t.Fatalf("exit %d, not a comparison (%v):\n%s\n%s", res.code, err, res.stdout, res.stderr)
		}
		return &doc
	}
	verdicts := func(doc *compare.Document) map[string]string {
		m := map[string]string{}
		for _, r := range doc.Figures {
			m[r.Figure] = r.Verdict
		}
		return m
	}
	canaryCallSite := func(doc *compare.Document) bool {
		for _, f := range doc.CgoCallSites {
			if strings.HasSuffix(f.Function, "workload.CgoTiny") && f.CFunction == "wl_tiny" && f.Status == compare.StatusAppeared {
				return true
			}
		}
		return false
	}

	t.Run("histories", func(t *testing.T) {
		res := runDiagctl(t, nil, "compare", "-o", "json", "--fail-on", "cgo_calls_per_second", base.addr, canary.addr)
		doc := decode(t, res)
		t.Logf("histories: %d + %d windows, design %s, verdicts %v", doc.Before.Windows, doc.After.Windows, doc.Design, verdicts(doc))
		if res.code != exitThreshold {
			t.Errorf("exit %d, want 3: the canary's cgo call rate rose; stderr %s", res.code, res.stderr)
		}
		if doc.Design != compare.DesignSameSpan || doc.Before.Windows < 12 || doc.After.Windows < 12 {
			t.Errorf("design %s with %d and %d windows; want the same span, 12 or more a side", doc.Design, doc.Before.Windows, doc.After.Windows)
		}
		for _, r := range doc.Figures {
			if r.Figure == compare.FigCgoCallsPerSec || r.Figure == compare.FigCgoCrossing {
				t.Logf("%s: %s, %s, %d pairs, p %v, adjusted %v", r.Figure, r.Verdict, r.Test, r.Pairs, deref(r.P), deref(r.PAdjusted))
			}
		}
		v := verdicts(doc)
		if v[compare.FigCgoCallsPerSec] != compare.VerdictWorse || v[compare.FigCgoCrossing] != compare.VerdictWorse {
			t.Errorf("cgo calls/s %s, crossing %s; want both worse\n%s", v[compare.FigCgoCallsPerSec], v[compare.FigCgoCrossing], res.stdout)
		}
		if !canaryCallSite(doc) {
			t.Errorf("no appeared call site workload.CgoTiny → wl_tiny in %+v", doc.CgoCallSites)
		}
		if !strings.Contains(strings.Join(doc.After.Notes, "\n"), "both sides run on 127.0.0.1") {
			t.Errorf("notes %q do not say the two sides share a host", doc.After.Notes)
		}
		// The other way round, the cgo calls are gone: better.
		res = runDiagctl(t, nil, "compare", "-o", "json", canary.addr, base.addr)
		if v := verdicts(decode(t, res)); res.code != exitOK || v[compare.FigCgoCallsPerSec] != compare.VerdictBetter {
			t.Errorf("canary → baseline: exit %d, cgo calls/s %s; want 0 and better", res.code, v[compare.FigCgoCallsPerSec])
		}
	})

	t.Run("one agent, two ranges", func(t *testing.T) {
		res := runDiagctl(t, nil, "compare", "-o", "json", "--before-range", "..3s", "--after-range", "3s..", base.addr, base.addr)
		doc := decode(t, res)
		if res.code != exitOK || doc.Before.Windows == 0 || doc.After.Windows == 0 || doc.Before.End == nil || doc.After.Start == nil ||
			doc.Before.End.After(*doc.After.Start) || doc.Design != compare.DesignSequential {
			t.Errorf("exit %d, %d and %d windows, before ends %v, after starts %v, design %s; want two disjoint parts in sequence",
				res.code, doc.Before.Windows, doc.After.Windows, doc.Before.End, doc.After.Start, doc.Design)
		}
	})

	t.Run("fresh", func(t *testing.T) {
		// Eight windows of 2 s: at the default weight beside busy
		// processes the canary gets little CPU, and a 1 s window of few
		// samples has an erratic crossing share (three or six of them left
		// the change untold in busy runs).
		res := runDiagctl(t, nil, "compare", "-o", "json", "--fresh", "--windows", "8", "--seconds", "2", base.addr, canary.addr)
		doc := decode(t, res)
		t.Logf("fresh: design %s, %d pairs, verdicts %v", doc.Design, doc.Paired, verdicts(doc))
		for _, r := range doc.Figures {
			if r.Figure == compare.FigCgoCrossing && r.Before != nil && r.After != nil && r.PAdjusted != nil {
				t.Logf("fresh: crossing %.4f → %.4f, p %.3g, adjusted %.3g, %s", *r.Before, *r.After, *r.P, *r.PAdjusted, r.Test)
			}
		}
		if res.code != exitOK || doc.Before.Windows != 8 || doc.After.Windows != 8 || doc.Design != compare.DesignSameSpan {
			t.Errorf("exit %d, %d and %d windows, design %s; want 0, 8 a side, the same span", res.code, doc.Before.Windows, doc.After.Windows, doc.Design)
		}
		v := verdicts(doc)
		if v[compare.FigCgoCrossing] != compare.VerdictWorse || v[compare.FigCgoCallsPerSec] != compare.VerdictUntested {
			t.Errorf("crossing %s, calls/s %s; want worse, and untested (fresh profiles have no context)", v[compare.FigCgoCrossing], v[compare.FigCgoCallsPerSec])
		}
		if !canaryCallSite(doc) {
			t.Errorf("no appeared call site workload.CgoTiny → wl_tiny in %+v", doc.CgoCallSites)
		}
	})
}

func deref(p *float64) any {
	if p == nil {
		return nil
	}
	return *p
}
