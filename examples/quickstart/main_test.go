package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	examplerun "github.com/diagkit/diagkit/examples/internal/run"
)

// TestLogNoColourInAFile: the demo's log has escape codes on a terminal
// only, not in a file (or a pipe), whatever NO_COLOR says.
func TestLogNoColourInAFile(t *testing.T) {
	f, err := os.Create(filepath.Join(t.TempDir(), "quickstart.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	logLine := func(colour bool) string {
		var buf bytes.Buffer
		enc := zap.NewDevelopmentEncoderConfig()
		enc.EncodeLevel = logLevelEncoder(colour)
		log := zap.New(zapcore.NewCore(zapcore.NewConsoleEncoder(enc), zapcore.AddSync(&buf), zap.InfoLevel))
		log.Warn("async-preempt share above threshold")
		return buf.String()
	}
	if line := logLine(examplerun.Colour(f)); strings.Contains(line, "\x1b[") || !strings.Contains(line, "WARN") {
		t.Errorf("log line to a file: %q", line)
	}
	if line := logLine(true); !strings.Contains(line, "\x1b[") {
		t.Errorf("log line in colour: %q", line)
	}
}
