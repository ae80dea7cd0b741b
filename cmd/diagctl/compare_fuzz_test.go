package main

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/diagkit/diagkit/internal/compare"
)

// FuzzCompareInput feeds arbitrary bytes to compare's reading of a side's
// file (a profile, a report, a window, a history, a dashboard's JSON,
// gzipped or not), compares what it accepts with itself and with a fixed
// side, and renders both ways: never a panic, a document that encodes, and
// a table that does not drive the terminal. Its seeds are in
// testdata/fuzz/FuzzCompareInput.
func FuzzCompareInput(f *testing.F) {
	before, _ := compareHistories()
	hist, _ := json.Marshal(before)
	f.Add(hist)
	var prof bytes.Buffer
	_ = compareProfile(1000, 30).Write(&prof)
	f.Add(prof.Bytes())
	f.Add(agentWindow(f))
	f.Add([]byte(`{"schema":"diagkit.dashboard/v1","history":{"window_schema":"diagkit.window/v1","windows":[]}}`))
	f.Add([]byte(`{"window_schema":"diagkit.window/v1","windows":null}`))
	f.Add([]byte(`{"schema":"diagkit.report/v1","samples":-1}`))
	fixed := &loadedSide{Side: compare.Side{Input: "fixed"}}
	if err := loadFile(fixed, "fixed", hist); err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		s := &loadedSide{Side: compare.Side{Input: "fuzz"}}
		if err := loadFile(s, "fuzz", data); err != nil || len(s.Replicates) == 0 {
			return
		}
		for _, pair := range [][2]compare.Side{{s.Side, s.Side}, {fixed.Side, s.Side}, {s.Side, fixed.Side}} {
			doc := compare.Compare(pair[0], pair[1], compare.Options{})
			if _, err := json.Marshal(doc); err != nil {
				t.Fatalf("the document does not encode: %v", err)
			}
			var out bytes.Buffer
			if err := renderCompare(&out, doc); err != nil {
				t.Fatal(err)
			}
			checkTermSafe(t, "compare", out.String())
		}
	})
}
