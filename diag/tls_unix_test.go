//go:build unix

package diag

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.uber.org/zap"
)

// diag/auto starts the agent in an init: TLS paths to a FIFO, a device or a
// huge file fail Start at once instead of blocking the program before main
// (a FIFO's open waits for a writer, /dev/zero reads forever, growing).
func TestTLSRefusesFIFOsDevicesAndHugeFiles(t *testing.T) {
	certFile, keyFile, _ := selfSigned(t)
	dir := t.TempDir()
	fifo := filepath.Join(dir, "tls.fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	huge := filepath.Join(dir, "huge.pem")
	if err := os.WriteFile(huge, make([]byte, maxTLSFile+1), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, cert, key, want string
	}{
		{"FIFO certificate", fifo, keyFile, "diag: TLSCertFile " + fifo + ": not a regular file"},
		{"FIFO key", certFile, fifo, "diag: TLSKeyFile " + fifo + ": not a regular file"},
		{"dev zero", "/dev/zero", "/dev/zero", "diag: TLSCertFile /dev/zero: not a regular file"},
		{"dev zero key", certFile, "/dev/zero", "diag: TLSKeyFile /dev/zero: not a regular file"},
		{"huge file", huge, keyFile, "larger than 1048576 bytes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			type result struct {
				a   *Agent
				err error
			}
			done := make(chan result, 1)
			go func() {
				a, err := Start(Config{Addr: "127.0.0.1:0", TLSCertFile: tc.cert, TLSKeyFile: tc.key, Logger: zap.NewNop()})
				done <- result{a, err}
			}()
			var res result
			select {
			case res = <-done:
			case <-time.After(10 * time.Second):
				// Unblock a FIFO's open (and read, to EOF) so that the
				// goroutine can end; /dev/zero cannot be helped.
				if w, err := os.OpenFile(fifo, os.O_WRONLY|syscall.O_NONBLOCK, 0); err == nil {
					w.Close()
				}
				t.Fatalf("Start(%s, %s) still blocked after 10 s", tc.cert, tc.key)
			}
			if res.err == nil {
				res.a.Stop()
				t.Fatal("Start succeeded")
			}
			if !strings.Contains(res.err.Error(), tc.want) {
				t.Errorf("err = %v, want it to contain %q", res.err, tc.want)
			}
		})
	}
}
