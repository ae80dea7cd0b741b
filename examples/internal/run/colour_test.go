package run

import (
	"os"
	"path/filepath"
	"testing"
)

func TestColourNotOnAFileOrPipe(t *testing.T) {
	f, err := os.Create(filepath.Join(t.TempDir(), "log"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	for name, f := range map[string]*os.File{"file": f, "pipe": w, "nil": nil} {
		if Colour(f) {
			t.Errorf("Colour(%s) = true", name)
		}
	}
}

func TestColourNoColor(t *testing.T) {
	tty := openTerminal(t)
	t.Setenv("TERM", "xterm")
	t.Setenv("NO_COLOR", "")
	if !Colour(tty) {
		t.Error("Colour on a terminal = false")
	}
	t.Setenv("NO_COLOR", "1")
	if Colour(tty) {
		t.Error("Colour with NO_COLOR=1 = true")
	}
	t.Setenv("NO_COLOR", "")
	t.Setenv("TERM", "dumb")
	if Colour(tty) {
		t.Error("Colour with TERM=dumb = true")
	}
}
