package main

import (
	"bytes"
	"net/http"
	"testing"
)

// FuzzDecodeWindow feeds arbitrary bytes to diagctl's reading of an agent's
// JSON window report, and renders what it accepts: never a panic, and
// nothing accepted that lacks the two schema markers. Seeds are in
// testdata/fuzz/FuzzDecodeWindow.
func FuzzDecodeWindow(f *testing.F) {
	f.Add(agentWindow(f))
	f.Fuzz(func(t *testing.T, body []byte) {
		resp := &http.Response{Header: http.Header{"Content-Type": {"application/json"}}}
		wr, ok := decodeWindow(resp, body)
		if !ok {
			return
		}
		if wr.WindowSchema == "" || wr.Schema == "" {
			t.Fatalf("accepted a document without schemas: %q", body)
		}
		var out bytes.Buffer
		if err := renderWindow(&out, "target", wr, true); err != nil {
			t.Fatalf("render: %v", err)
		}
		if err := writeJSON(&out, wr); err != nil {
			t.Fatalf("json: %v", err)
		}
	})
}
