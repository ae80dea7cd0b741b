package compare

import (
	"fmt"
	"strings"
	"time"
)

// Range selects the windows of a history that lie wholly inside it. Each
// bound is absent (open), a time, or a duration back from a reference time:
// the end of the history's newest window.
type Range struct {
	Text     string
	from, to bound
}

type bound struct {
	set bool
	at  time.Time     // when absolute
	ago time.Duration // when relative
	abs bool
}

// maxAgo bounds relative bounds: an agent keeps at most 100,000 windows
// of up to an hour.
const maxAgo = 100_000 * time.Hour

// ParseRange parses FROM..TO, where FROM and TO are each empty (open), an
// RFC 3339 time (2026-12-01T10:00:00Z), or a duration back from the newest
// window's end (30m, or -30m). "1h..30m" is the half hour that ended 30
// minutes before the newest window; "15m.." the last quarter of an hour.
func ParseRange(s string) (Range, error) {
	r := Range{Text: s}
	from, to, ok := strings.Cut(s, "..")
	if !ok {
		return r, fmt.Errorf("range %q: want FROM..TO (each a time, a duration back from the newest window, or empty)", s)
	}
	var err error
	if r.from, err = parseBound(from); err != nil {
		return r, fmt.Errorf("range %q: %v", s, err)
	}
	if r.to, err = parseBound(to); err != nil {
		return r, fmt.Errorf("range %q: %v", s, err)
	}
	if r.from.set && r.to.set && r.from.abs == r.to.abs {
		if (r.from.abs && !r.from.at.Before(r.to.at)) || (!r.from.abs && r.from.ago <= r.to.ago) {
			return r, fmt.Errorf("range %q: FROM must come before TO", s)
		}
	}
	return r, nil
}

func parseBound(s string) (bound, error) {
	s = strings.TrimSpace(s)
	switch {
	case s == "":
		return bound{}, nil
	case s == "now":
		return bound{set: true}, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return bound{set: true, abs: true, at: t}, nil
	}
	d, err := time.ParseDuration(strings.TrimPrefix(s, "-"))
	if err != nil || d < 0 || strings.HasPrefix(s, "--") || strings.HasPrefix(s, "-+") {
		return bound{}, fmt.Errorf("%q is neither an RFC 3339 time nor a duration", s)
	}
	if d > maxAgo {
		return bound{}, fmt.Errorf("%q is longer ago than any history reaches", s)
	}
	return bound{set: true, ago: d}, nil
}

func (b bound) resolve(ref time.Time) time.Time {
	if b.abs {
		return b.at
	}
	return ref.Add(-b.ago)
}

// Select returns the replicates wholly inside r. ref is the reference of
// relative bounds (normally the newest replicate's end). Replicates without
// times are an error, since no range can hold them.
func (r Range) Select(reps []Replicate, ref time.Time) ([]Replicate, error) {
	var out []Replicate
	for _, rep := range reps {
		if rep.Start.IsZero() || rep.End.IsZero() {
			return nil, fmt.Errorf("range %s: %s has no time (a saved profile): ranges apply to histories", r.Text, rep.Label)
		}
		if r.from.set && rep.Start.Before(r.from.resolve(ref)) {
			continue
		}
		if r.to.set && rep.End.After(r.to.resolve(ref)) {
			continue
		}
		out = append(out, rep)
	}
	return out, nil
}

// Newest is the latest end among reps: the reference of relative ranges.
func Newest(reps []Replicate) time.Time {
	var t time.Time
	for _, r := range reps {
		if r.End.After(t) {
			t = r.End
		}
	}
	return t
}
