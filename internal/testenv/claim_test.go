//go:build unix

package testenv

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// lockHelperEnv makes the test binary, run again as a child, try the lock
// at the path it names ("exclusive:PATH" or "shared:PATH") and print what
// happened.
const lockHelperEnv = "DIAGKIT_TESTENV_LOCK_HELPER"

func TestMain(m *testing.M) {
	if v := os.Getenv(lockHelperEnv); v != "" {
		mode, path, _ := strings.Cut(v, ":")
		release, err := lockFile(path, mode == "exclusive", 300*time.Millisecond)
		if err != nil {
			os.Stdout.WriteString("busy: " + err.Error() + "\n")
			os.Exit(0)
		}
		_ = release()
		os.Stdout.WriteString("locked\n")
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// fromAnotherProcess runs the test binary as a child that tries the lock
// at path, and returns its first word: "locked" or "busy:".
func fromAnotherProcess(t *testing.T, path string, exclusive bool) string {
	t.Helper()
	mode := "shared"
	if exclusive {
		mode = "exclusive"
	}
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), lockHelperEnv+"="+mode+":"+path)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("lock helper: %v: %s", err, out)
	}
	word, _, _ := strings.Cut(strings.TrimSpace(string(out)), " ")
	return word
}

func TestLockFileBetweenProcesses(t *testing.T) {
	path := filepath.Join(t.TempDir(), "claim.lock")
	for _, c := range []struct {
		name            string
		held, requested bool // exclusive?
		want            string
	}{
		{"exclusive held, exclusive asked", true, true, "busy:"},
		{"exclusive held, shared asked", true, false, "busy:"},
		{"shared held, exclusive asked", false, true, "busy:"},
		{"shared held, shared asked", false, false, "locked"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := fromAnotherProcess(t, path, c.requested); got != "locked" {
				t.Fatalf("free lock: the other process got %q, want locked", got)
			}
			release, err := lockFile(path, c.held, time.Second)
			if err != nil {
				t.Fatal(err)
			}
			if got := fromAnotherProcess(t, path, c.requested); got != c.want {
				t.Errorf("held lock: the other process got %q, want %s", got, c.want)
			}
			if err := release(); err != nil {
				t.Fatal(err)
			}
			if got := fromAnotherProcess(t, path, c.requested); got != "locked" {
				t.Errorf("released lock: the other process got %q, want locked", got)
			}
		})
	}
}

func TestLockFileWaitsForRelease(t *testing.T) {
	path := filepath.Join(t.TempDir(), "claim.lock")
	// Each lock opens the file anew, so two in one process conflict as
	// between processes: two tests of one package wait for each other.
	first, err := lockFile(path, false, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		time.Sleep(300 * time.Millisecond)
		_ = first()
	}()
	start := time.Now()
	second, err := lockFile(path, true, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	defer second()
	if waited := time.Since(start); waited < 300*time.Millisecond {
		t.Errorf("got the exclusive lock after %v, before the shared holder let go at 300ms", waited)
	}
	if _, err := lockFile(path, false, 200*time.Millisecond); err == nil || !strings.Contains(err.Error(), "stayed locked") {
		t.Errorf("shared lock beside an exclusive one: %v, want a timeout", err)
	}
}
