package analysis

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

// A gzip bomb in two layers: the outer one inflates to a few kilobytes, well
// under the bound, and profile.ParseData used to inflate the inner one
// without any. One budget bounds both.
func TestLayeredGzipBombIsRefused(t *testing.T) {
	defer func(old int64) { maxDecompressed = old }(maxDecompressed)
	maxDecompressed = 1 << 20
	bomb := gzipBytes(t, gzipBytes(t, make([]byte, 64<<20))) // 64 MiB of zeros
	if len(bomb) > 4<<10 {
		t.Fatalf("bomb is %d bytes", len(bomb))
	}
	_, err := AnalyzeBytes(bomb, Options{})
	if !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "more than 1 MiB") {
		t.Fatalf("err = %v, want ErrTooLarge", err)
	}
}

// emptyBlocks is a gzip member of n empty stored deflate blocks: n*5 bytes
// of compressed stream that decompress to nothing.
func emptyBlocks(n int) []byte {
	b := []byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff} // header, no flags
	b = append(b, bytes.Repeat([]byte{0x00, 0x00, 0x00, 0xff, 0xff}, n)...)
	b = append(b, 0x01, 0x00, 0x00, 0xff, 0xff) // the final block, empty too
	return append(b, 0, 0, 0, 0, 0, 0, 0, 0)    // CRC-32 and size of nothing
}

// Every byte any layer produces counts against the budget, not only the
// innermost layer's: an inner layer that is large but inflates to little
// is refused as well.
func TestGzipLayersShareOneBudget(t *testing.T) {
	defer func(old int64) { maxDecompressed = old }(maxDecompressed)
	maxDecompressed = 1 << 20
	inner := emptyBlocks(400_000) // 2 MB of stream, no output
	if _, err := gunzip(inner, maxDecompressed); err != nil {
		t.Fatalf("the empty blocks do not decompress: %v", err)
	}
	_, err := AnalyzeBytes(gzipBytes(t, gzipBytes(t, inner)), Options{})
	if !errors.Is(err, ErrTooLarge) {
		t.Fatalf("err = %v, want ErrTooLarge", err)
	}
}

// A profile gzipped up to maxGzipLayers times parses; one more layer is
// refused.
func TestGzipLayers(t *testing.T) {
	var buf bytes.Buffer
	if err := cpuProfile(t, sampleSpec{stack: stack{spin}, cpu: 10_000_000}).WriteUncompressed(&buf); err != nil {
		t.Fatal(err)
	}
	data := buf.Bytes()
	for layers := 0; layers <= maxGzipLayers; layers++ {
		if _, err := AnalyzeBytes(data, Options{}); err != nil {
			t.Fatalf("%d layers: %v", layers, err)
		}
		data = gzipBytes(t, data)
	}
	if _, err := AnalyzeBytes(data, Options{}); !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "gzip layers") {
		t.Fatalf("%d layers: err = %v, want ErrInvalid", maxGzipLayers+1, err)
	}
	// Bytes after the last layer are as invalid as before.
	if _, err := AnalyzeBytes(append(gzipBytes(t, buf.Bytes()), "trailing"...), Options{}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("trailing garbage: err = %v, want ErrInvalid", err)
	}
}
