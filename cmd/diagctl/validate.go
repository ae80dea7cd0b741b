package main

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/diagkit/diagkit/diag/analysis"
	"github.com/diagkit/diagkit/diag/api"
)

// validateWindow range-checks an agent's window report, decoded from body:
// every share must be there (a null or missing headline share would read as
// 0 and pass any --fail-above) and be a finite fraction in [0, 1]. The error
// names the first field that is not.
func validateWindow(body []byte, wr *api.WindowReport) error {
	// Which headline shares the document has: decoded into wr, a null or a
	// missing one is indistinguishable from 0.
	var present struct {
		Shares *struct {
			Go           *float64 `json:"go"`
			AsyncPreempt *float64 `json:"async_preempt"`
			PreemptSched *float64 `json:"preempt_sched"`
			Cgo          *float64 `json:"cgo"`
			External     *float64 `json:"external"`
		} `json:"shares"`
		Buckets map[string]*struct {
			Share *float64 `json:"share"`
		} `json:"buckets"`
	}
	if err := json.Unmarshal(body, &present); err != nil {
		return fmt.Errorf("not a valid window report: %v", err)
	}
	if present.Shares == nil {
		return fmt.Errorf("invalid window report: shares is missing or null")
	}
	for _, f := range []struct {
		name string
		v    *float64
	}{
		{"go", present.Shares.Go},
		{"async_preempt", present.Shares.AsyncPreempt},
		{"preempt_sched", present.Shares.PreemptSched},
		{"cgo", present.Shares.Cgo},
		{"external", present.Shares.External},
	} {
		if f.v == nil {
			return fmt.Errorf("invalid window report: shares.%s is missing or null", f.name)
		}
	}
	for name, b := range present.Buckets {
		if b == nil || b.Share == nil {
			return fmt.Errorf("invalid window report: buckets.%s.share is missing or null", termSafe(name))
		}
	}
	return validateReport(&wr.Report, &wr.Context, wr.Warnings)
}

// validateReport checks that every share in a report an agent sent is a
// finite fraction in [0, 1].
func validateReport(r *analysis.Report, c *api.Context, warnings []api.Warning) error {
	check := func(name string, v float64) error {
		if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 || v > 1 {
			return fmt.Errorf("invalid window report: %s is %s, not a share (a fraction from 0 to 1)",
				name, strconv.FormatFloat(v, 'g', -1, 64))
		}
		return nil
	}
	s := r.Shares
	for _, f := range []struct {
		name string
		v    float64
	}{
		{"shares.go", s.Go},
		{"shares.async_preempt", s.AsyncPreempt},
		{"shares.preempt_sched", s.PreemptSched},
		{"shares.cgo", s.Cgo},
		{"shares.external", s.External},
		{"shares.runtime_no_stack", s.RuntimeNoStack},
	} {
		if err := check(f.name, f.v); err != nil {
			return err
		}
	}
	for name, b := range r.Buckets {
		if err := check("buckets."+termSafe(string(name))+".share", b.Share); err != nil {
			return err
		}
	}
	for i, fs := range r.TopPreempted {
		if err := check(fmt.Sprintf("top_preempted[%d].share", i), fs.Share); err != nil {
			return err
		}
	}
	for i, fs := range r.TopCgoCalls {
		if err := check(fmt.Sprintf("top_cgo_calls[%d].share", i), fs.Share); err != nil {
			return err
		}
	}
	if c != nil {
		if v := c.CgroupThrottledShare; v != nil {
			if err := check("context.cgroup_throttled_share", *v); err != nil {
				return err
			}
		}
		if v := c.GCCPUFraction; v != nil {
			if err := check("context.gc_cpu_fraction", *v); err != nil {
				return err
			}
		}
	}
	for i, w := range warnings {
		// The warnings whose figure diagctl shows as a percentage.
		if strings.HasSuffix(w.Kind, "_share") || w.Kind == api.WarnThrottling {
			if err := check(fmt.Sprintf("warnings[%d].value", i), w.Value); err != nil {
				return err
			}
		}
	}
	return nil
}
