package run

import (
	"os"

	"golang.org/x/term"
)

// Colour reports whether an example may write ANSI colour to f: only when f
// is a terminal, and never when NO_COLOR is set to anything but the empty
// string (https://no-color.org) or TERM is "dumb". A file or a pipe gets
// plain text.
func Colour(f *os.File) bool {
	if f == nil || os.Getenv("NO_COLOR") != "" || os.Getenv("TERM") == "dumb" {
		return false
	}
	return term.IsTerminal(int(f.Fd()))
}
