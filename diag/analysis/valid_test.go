package analysis_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/pprof/profile"

	"github.com/diagkit/diagkit/diag/analysis"
	"github.com/diagkit/diagkit/internal/synthprof"
)

// Analyze checks a profile as it goes instead of calling Profile.CheckValid
// up front; whatever the defect, its verdict must be CheckValid's: the same
// error when CheckValid fails, and no ErrInvalid when it passes.
func TestAnalyzeValidatesLikeCheckValid(t *testing.T) {
	base := synthprof.Generate(200, 3)
	other := &profile.Function{ID: 2, Name: "main.other", Filename: "/app/other.go"}
	cases := map[string]func(p *profile.Profile){
		"valid":                   func(p *profile.Profile) {},
		"nil sample":              func(p *profile.Profile) { p.Sample[17] = nil },
		"short values":            func(p *profile.Profile) { p.Sample[42].Value = p.Sample[42].Value[:1] },
		"nil sample location":     func(p *profile.Profile) { p.Sample[5].Location[2] = nil },
		"no sample types":         func(p *profile.Profile) { p.SampleType = nil },
		"nil location":            func(p *profile.Profile) { p.Location[9] = nil },
		"location id 0":           func(p *profile.Profile) { p.Location[9].ID = 0 },
		"duplicate location id":   func(p *profile.Profile) { p.Location[9].ID = p.Location[10].ID },
		"nil function":            func(p *profile.Profile) { p.Function[3] = nil },
		"function id 0":           func(p *profile.Profile) { p.Function[3].ID = 0 },
		"duplicate function id":   func(p *profile.Profile) { p.Function[3].ID = p.Function[4].ID },
		"function not in table":   func(p *profile.Profile) { p.Location[0].Line[0].Function = other },
		"line without function":   func(p *profile.Profile) { p.Location[0].Line[0].Function = nil },
		"nil mapping":             func(p *profile.Profile) { p.Mapping[1] = nil },
		"mapping id 0":            func(p *profile.Profile) { p.Mapping[0].ID = 0 },
		"mapping not in table":    func(p *profile.Profile) { p.Mapping = p.Mapping[1:] },
		"sample location outside": func(p *profile.Profile) { p.Location = p.Location[1:] }, // CheckValid allows it
		"sparse ids": func(p *profile.Profile) {
			for _, l := range p.Location {
				l.ID = l.ID*1000 + 7
			}
			for _, f := range p.Function {
				f.ID = f.ID*1000 + 7
			}
		},
		"sparse ids and a nil sample": func(p *profile.Profile) {
			for _, l := range p.Location {
				l.ID = l.ID*1000 + 7
			}
			p.Sample[0] = nil
		},
		"not a cpu profile and a nil sample": func(p *profile.Profile) {
			p.SampleType[1].Type = "alloc_space"
			p.Sample[0] = nil
		},
		"unsymbolized and a nil sample": func(p *profile.Profile) {
			for _, l := range p.Location {
				l.Line = nil
			}
			p.Sample[len(p.Sample)-1] = nil
		},
	}
	for name, corrupt := range cases {
		t.Run(name, func(t *testing.T) {
			p := base.Copy()
			corrupt(p)
			want := p.CheckValid()
			_, err := analysis.Analyze(p, analysis.Options{})
			if want != nil {
				if !errors.Is(err, analysis.ErrInvalid) || !strings.HasSuffix(err.Error(), ": "+want.Error()) {
					t.Fatalf("Analyze: %v; want ErrInvalid with CheckValid's %q", err, want)
				}
				return
			}
			if errors.Is(err, analysis.ErrInvalid) {
				t.Fatalf("Analyze: %v; CheckValid passes", err)
			}
		})
	}
}
