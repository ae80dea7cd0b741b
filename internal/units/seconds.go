package units

import "fmt"

// FormatSeconds prints a duration given in seconds at a precision that suits
// its size: "1.25s", "117.4ms", "350µs".
func FormatSeconds(s float64) string {
	switch {
	case s >= 1:
		return fmt.Sprintf("%.2fs", s)
	case s >= 1e-3:
		return fmt.Sprintf("%.1fms", s*1e3)
	}
	return fmt.Sprintf("%.0fµs", s*1e6)
}
