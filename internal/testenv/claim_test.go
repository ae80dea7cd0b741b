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
// at the path it names and print what happened.
const lockHelperEnv = "DIAGKIT_TESTENV_LOCK_HELPER"

func TestMain(m *testing.M) {
	if path := os.Getenv(lockHelperEnv); path != "" {
		release, err := lockFile(path, 300*time.Millisecond)
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

// tryFromAnotherProcess runs the test binary as a child that tries the
// lock at path, and returns its first word: "locked" or "busy:".
func tryFromAnotherProcess(t *testing.T, path string) string {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), lockHelperEnv+"="+path)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("lock helper: %v: %s", err, out)
	}
	word, _, _ := strings.Cut(strings.TrimSpace(string(out)), " ")
	return word
}

func TestLockFileExcludesOtherProcesses(t *testing.T) {
	path := filepath.Join(t.TempDir(), "claim.lock")
	if got := tryFromAnotherProcess(t, path); got != "locked" {
		t.Fatalf("free lock: the other process got %q, want locked", got)
	}
	release, err := lockFile(path, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if got := tryFromAnotherProcess(t, path); got != "busy:" {
		t.Errorf("held lock: the other process got %q, want busy", got)
	}
	if err := release(); err != nil {
		t.Fatal(err)
	}
	if got := tryFromAnotherProcess(t, path); got != "locked" {
		t.Errorf("released lock: the other process got %q, want locked", got)
	}
}

func TestLockFileWaitsForRelease(t *testing.T) {
	path := filepath.Join(t.TempDir(), "claim.lock")
	first, err := lockFile(path, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	// flock conflicts between open files even in one process, so a second
	// open of the file stands in for another test process.
	go func() {
		time.Sleep(300 * time.Millisecond)
		_ = first()
	}()
	start := time.Now()
	second, err := lockFile(path, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	defer second()
	if waited := time.Since(start); waited < 300*time.Millisecond {
		t.Errorf("got the lock after %v, before the holder let go at 300ms", waited)
	}
}
