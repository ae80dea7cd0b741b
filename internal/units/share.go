// Package units parses the values people type for diagkit: shares of CPU
// time in flags and environment variables. diagctl and the agent share it so
// that "1%" means the same everywhere.
package units

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// ParseShare parses a share of CPU time: a fraction in [0, 1] ("0.01") or a
// percentage in [0%, 100%] ("1%", "2.5 %"). A bare number above 1 is rejected
// rather than guessed to be a percentage.
func ParseShare(s string) (float64, error) {
	bad := func(why string) error {
		return fmt.Errorf("%s: want a fraction from 0 to 1 (0.01) or a percentage (1%%)", why)
	}
	t := strings.TrimSpace(s)
	num, percent := strings.CutSuffix(t, "%")
	num = strings.TrimSpace(num)
	if num == "" {
		return 0, bad("no number")
	}
	// Plain decimal notation only: ParseFloat alone would also take hex
	// floats, underscores, "inf" and "nan".
	for _, r := range num {
		if !strings.ContainsRune("0123456789.eE+-", r) {
			return 0, bad("not a number")
		}
	}
	v, err := strconv.ParseFloat(num, 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, bad("not a number")
	}
	if percent {
		if v < 0 || v > 100 {
			return 0, bad("percentage out of range")
		}
		v /= 100
	}
	if v < 0 || v > 1 {
		return 0, bad("out of range")
	}
	if v == 0 {
		v = 0 // not -0
	}
	return v, nil
}
