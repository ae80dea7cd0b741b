package main

import (
	"errors"
	"strconv"

	"github.com/diagkit/diagkit/internal/units"
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
	v, err := units.ParseShare(s)
	if err != nil {
		return err
	}
	f.value, f.set = v, true
	return nil
}

// formatPercent prints a share as a percentage with two decimals.
func formatPercent(share float64) string {
	return strconv.FormatFloat(100*share, 'f', 2, 64) + "%"
}
