//go:build !linux

// Command record records internal/compare's histories; it needs Linux (see
// main.go).
package main

import (
	"fmt"
	"os"
)

func main() {
	fmt.Fprintln(os.Stderr, "record: the scenarios need Linux cgroups")
	os.Exit(1)
}
