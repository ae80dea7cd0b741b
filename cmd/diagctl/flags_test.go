package main

import (
	"math"
	"strconv"
	"testing"

	"github.com/diagkit/diagkit/internal/units"
)

func TestParseShare(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want float64
		ok   bool
	}{
		{"0.01", 0.01, true},
		{"1%", 0.01, true},
		{"2.5%", 0.025, true},
		{" 2.5 % ", 0.025, true},
		{"0", 0, true},
		{"0%", 0, true},
		{"-0", 0, true},
		{"1", 1, true},
		{"100%", 1, true},
		{".5", 0.5, true},
		{"+0.5", 0.5, true},
		{"1e-2", 0.01, true},

		{"", 0, false},
		{"%", 0, false},
		{" ", 0, false},
		{"abc", 0, false},
		{"5", 0, false}, // a bare number above 1: not guessed to be 5 %
		{"1.01", 0, false},
		{"-0.1", 0, false},
		{"-1%", 0, false},
		{"101%", 0, false},
		{"1%%", 0, false},
		{"%1", 0, false},
		{"NaN", 0, false},
		{"inf", 0, false},
		{"0x1p-3", 0, false},
		{"1_0%", 0, false},
		{"0.5.5", 0, false},
		{"1e400", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := units.ParseShare(tt.in)
			if ok := err == nil; ok != tt.ok {
				t.Fatalf("units.ParseShare(%q) = %v, %v; want ok=%v", tt.in, got, err, tt.ok)
			}
			if tt.ok && got != tt.want {
				t.Errorf("units.ParseShare(%q) = %v, want %v", tt.in, got, tt.want)
			}
			if !tt.ok && got != 0 {
				t.Errorf("units.ParseShare(%q) = %v with an error, want 0", tt.in, got)
			}
		})
	}
}

// FuzzParseShare checks that parseShare never panics, accepts only shares in
// [0, 1], and reads back what formatting a share produces. The seed corpus is
// in testdata/fuzz/FuzzParseShare.
func FuzzParseShare(f *testing.F) {
	f.Fuzz(func(t *testing.T, s string) {
		v, err := units.ParseShare(s)
		if err != nil {
			if v != 0 {
				t.Errorf("units.ParseShare(%q) = %v with error %v", s, v, err)
			}
			var sf shareFlag
			if sf.Set(s) == nil || sf.set {
				t.Errorf("shareFlag.Set(%q) accepted what parseShare rejects", s)
			}
			return
		}
		if math.IsNaN(v) || v < 0 || v > 1 || math.Signbit(v) {
			t.Fatalf("units.ParseShare(%q) = %v, outside [0, 1]", s, v)
		}
		// A fraction reads back exactly.
		frac := strconv.FormatFloat(v, 'g', -1, 64)
		if back, err := units.ParseShare(frac); err != nil || back != v {
			t.Errorf("units.ParseShare(%q) = %v; reparsing %q gives %v, %v", s, v, frac, back, err)
		}
		// A percentage reads back to within rounding.
		pct := strconv.FormatFloat(100*v, 'g', -1, 64) + "%"
		if back, err := units.ParseShare(pct); err != nil || math.Abs(back-v) > 1e-12 {
			t.Errorf("units.ParseShare(%q) = %v; reparsing %q gives %v, %v", s, v, pct, back, err)
		}
		var sf shareFlag
		if err := sf.Set(s); err != nil || !sf.set || sf.value != v {
			t.Errorf("shareFlag.Set(%q) = %v, value %v; want %v", s, err, sf.value, v)
		}
	})
}
