package units

import "testing"

func TestFormatSeconds(t *testing.T) {
	for _, tt := range []struct {
		in   float64
		want string
	}{{1.254, "1.25s"}, {0.1174, "117.4ms"}, {0.001, "1.0ms"}, {0.00035, "350µs"}, {0, "0µs"}} {
		if got := FormatSeconds(tt.in); got != tt.want {
			t.Errorf("FormatSeconds(%v) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
