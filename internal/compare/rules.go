package compare

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Rule is one --fail-on rule: fail when a figure changed significantly in a
// direction by more than a threshold.
type Rule struct {
	// Text is the rule as given.
	Text   string `json:"rule"`
	Figure string `json:"figure"`
	// Direction is +1 (an increase fails), −1 (a decrease), or 0 (either).
	Direction int `json:"direction"`
	// Delta is the threshold: in the figure's unit (a fraction for shares,
	// seconds for latency), or a fraction of the before value when
	// Relative.
	Delta    float64 `json:"delta"`
	Relative bool    `json:"relative,omitempty"`
}

// RuleResult is what one rule found.
type RuleResult struct {
	Rule
	Failed bool `json:"failed"`
	// Why says what the figure did, in words.
	Why string `json:"why"`
}

// ParseRule parses FIGURE or FIGURE:CHANGE. CHANGE is a signed threshold:
// percentage points for shares (+0.5pp), a percentage of the before value
// for any figure (+20%), a duration for latencies (+2ms), a plain number for
// rates and ratios (+100). Without a sign the bad direction is meant (up
// for every figure that has one); without CHANGE, any significant change in
// that direction fails.
func ParseRule(s string) (Rule, error) {
	r := Rule{Text: s}
	name, change, hasChange := strings.Cut(s, ":")
	name = strings.TrimSpace(name)
	f, ok := FigureByName(name)
	if !ok {
		return r, fmt.Errorf("--fail-on %q: unknown figure %q (want one of %s)", s, name, strings.Join(FigureNames(), ", "))
	}
	r.Figure = f.Name
	if f.HigherIsWorse {
		r.Direction = 1
	}
	if !hasChange {
		return r, nil
	}
	change = strings.TrimSpace(change)
	switch {
	case strings.HasPrefix(change, "+"):
		r.Direction, change = 1, change[1:]
	case strings.HasPrefix(change, "-"):
		r.Direction, change = -1, change[1:]
	case !f.HigherIsWorse:
		return r, fmt.Errorf("--fail-on %q: %s has no bad direction: give the change a sign (+ or -)", s, f.Name)
	}
	if change == "" {
		return r, fmt.Errorf("--fail-on %q: no change after the sign", s)
	}
	var err error
	switch {
	case strings.HasSuffix(change, "pp"):
		if f.Unit != UnitShare {
			return r, fmt.Errorf("--fail-on %q: pp (percentage points) is for shares; %s is in %s", s, f.Name, f.Unit)
		}
		r.Delta, err = number(strings.TrimSuffix(change, "pp"))
		r.Delta /= 100
	case strings.HasSuffix(change, "%"):
		r.Relative = true
		r.Delta, err = number(strings.TrimSuffix(change, "%"))
		r.Delta /= 100
	case f.Unit == UnitSeconds:
		var d time.Duration
		d, err = time.ParseDuration(change)
		if err != nil || d < 0 {
			return r, fmt.Errorf("--fail-on %q: want a duration such as 2ms, or a percentage", s)
		}
		r.Delta = d.Seconds()
	case f.Unit == UnitShare:
		return r, fmt.Errorf("--fail-on %q: give a share's change in pp (+0.5pp) or as a percentage of before (+20%%)", s)
	default:
		r.Delta, err = number(strings.TrimSuffix(change, "/s"))
	}
	if err != nil {
		return r, fmt.Errorf("--fail-on %q: %v", s, err)
	}
	return r, nil
}

func number(s string) (float64, error) {
	v, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) || v < 0 || strings.ContainsAny(s, "xXpP_") {
		return 0, fmt.Errorf("%q is not a number of 0 or more", s)
	}
	return v, nil
}

// Check applies rules to doc, records what they found in doc.FailOn, and
// reports whether any failed. A rule fails when its figure's verdict is a
// significant change in its direction (after Holm's adjustment) and the
// change, or its ratio to the before value, is beyond Delta.
func Check(doc *Document, rules []Rule) bool {
	failed := false
	doc.FailOn = nil
	for _, rule := range rules {
		rr := RuleResult{Rule: rule}
		var res *Result
		for i := range doc.Figures {
			if doc.Figures[i].Figure == rule.Figure {
				res = &doc.Figures[i]
			}
		}
		switch {
		case res == nil || res.Verdict == VerdictUntested:
			rr.Why = rule.Figure + " was not tested"
			if res != nil && res.Note != "" {
				rr.Why += ": " + res.Note
			}
		case res.Verdict == VerdictNoChange:
			rr.Why = rule.Figure + ": no significant change"
		default:
			d := *res.Difference
			size := math.Abs(d)
			if rule.Relative {
				size = math.Inf(1)
				if *res.Before != 0 {
					size = math.Abs(d / *res.Before)
				}
			}
			inDirection := rule.Direction == 0 || (rule.Direction > 0) == (d > 0)
			rr.Failed = inDirection && size > rule.Delta
			rr.Why = fmt.Sprintf("%s: %s, significant", rule.Figure, res.Verdict)
			if !inDirection {
				rr.Why += ", not in the rule's direction"
			} else if !rr.Failed {
				rr.Why += ", within the rule's threshold"
			}
		}
		failed = failed || rr.Failed
		doc.FailOn = append(doc.FailOn, rr)
	}
	return failed
}
