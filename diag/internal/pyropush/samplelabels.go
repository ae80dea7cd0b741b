package pyropush

import (
	"bytes"
	"sort"
	"strings"

	"github.com/google/pprof/profile"
)

// SanitizeLabelName makes a pprof sample label key a label name the server
// accepts, as it will store it: characters outside labelset's grammar and
// dots become '_', and a leading digit gets a '_' in front. It returns ""
// for a key that cannot be a label: empty, private (leading "__") or one
// the server sets itself.
func SanitizeLabelName(k string) string {
	var b strings.Builder
	for _, r := range k {
		if IsLabelNameRune(r) && r != '.' {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	n := b.String()
	if n != "" && n[0] >= '0' && n[0] <= '9' {
		n = "_" + n
	}
	if len(n) > ServerMaxNameLen || strings.Trim(n, "_") == "" || strings.HasPrefix(n, "__") || Reserved(n) {
		return ""
	}
	if ValidateLabelName(n) != nil {
		return ""
	}
	return n
}

// SampleLabelStats counts what SanitizeSampleLabels changed in one profile.
type SampleLabelStats struct {
	Renamed int // label keys rewritten to a valid name
	Dropped int // label keys dropped: invalid, reserved, colliding or over the budget
}

// SanitizeSampleLabels makes the string sample labels of a pprof profile
// (which the server splits into series labels) acceptable to the server:
// keys are rewritten by SanitizeLabelName, and dropped when that leaves
// nothing, when they collide with a series label (seriesLabels, by their
// server names) or an earlier key, or when a sample would have more than
// budget labels of its own (keys kept in sorted order). Values are cut to
// ServerMaxValueLen. Numeric labels are not series labels and are kept.
// The profile's bytes are returned unchanged when nothing needed changing,
// and also when they do not parse (the server will say why).
func SanitizeSampleLabels(data []byte, seriesLabels map[string]bool, budget int) ([]byte, SampleLabelStats) {
	var st SampleLabelStats
	if len(data) == 0 {
		return data, st
	}
	p, err := profile.ParseData(data)
	if err != nil {
		return data, st
	}
	changed := false
	names := map[string]string{} // key -> sanitized name ("" to drop)
	renamed, dropped := map[string]bool{}, map[string]bool{}
	for _, s := range p.Sample {
		if len(s.Label) == 0 {
			continue
		}
		keys := make([]string, 0, len(s.Label))
		for k := range s.Label {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		out := make(map[string][]string, len(keys))
		for _, k := range keys {
			n, ok := names[k]
			if !ok {
				n = SanitizeLabelName(k)
				if seriesLabels[n] {
					n = ""
				}
				names[k] = n
			}
			_, dup := out[n]
			if n == "" || dup || len(out) >= budget || len(s.Label[k]) == 0 {
				dropped[k] = true
				changed = true
				continue
			}
			if n != k {
				renamed[k] = true
				changed = true
			}
			v := s.Label[k]
			if len(v[0]) > ServerMaxValueLen {
				v = []string{strings.ToValidUTF8(v[0][:ServerMaxValueLen], "")}
				changed = true
			}
			out[n] = v
		}
		s.Label = out
	}
	st.Renamed, st.Dropped = len(renamed), len(dropped)
	if !changed {
		return data, st
	}
	var buf bytes.Buffer
	if err := p.Write(&buf); err != nil {
		return data, SampleLabelStats{}
	}
	return buf.Bytes(), st
}
