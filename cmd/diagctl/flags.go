package main

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// outputFormat is the value of -o/--output. Set rejects anything but the
// known formats, so a bad value is a flag error (exit 2).
type outputFormat string

const (
	outputTable outputFormat = "table"
	outputJSON  outputFormat = "json"
)

func (o *outputFormat) String() string { return string(*o) }
func (o *outputFormat) Type() string   { return "format" }

func (o *outputFormat) Set(s string) error {
	switch f := outputFormat(s); f {
	case outputTable, outputJSON:
		*o = f
		return nil
	}
	return errors.New("want table or json")
}

// shareFlag is the value of a flag that takes a share of CPU time, such as
// --fail-above.
type shareFlag struct {
	value float64
	set   bool
}

func (f *shareFlag) Type() string { return "share" }

func (f *shareFlag) String() string {
	if !f.set {
		return ""
	}
	return formatPercent(f.value)
}

func (f *shareFlag) Set(s string) error {
	v, err := parseShare(s)
	if err != nil {
		return err
	}
	f.value, f.set = v, true
	return nil
}

// parseShare parses a share of CPU time: a fraction in [0, 1] ("0.01") or a
// percentage in [0%, 100%] ("1%", "2.5 %"). A bare number above 1 is rejected
// rather than guessed to be a percentage.
func parseShare(s string) (float64, error) {
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

// formatPercent prints a share as a percentage with two decimals.
func formatPercent(share float64) string {
	return strconv.FormatFloat(100*share, 'f', 2, 64) + "%"
}
