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
	tty, err := os.OpenFile("/dev/tty", os.O_WRONLY, 0)
	if err != nil {
		t.Skipf("no terminal: %v", err)
	}
	defer tty.Close()
	t.Setenv("NO_COLOR", "1")
	if Colour(tty) {
		t.Error("Colour with NO_COLOR=1 = true")
	}
}
