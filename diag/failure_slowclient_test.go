//go:build unix

package diag

// Failure injection, continued: a client that never reads. Unix only, for
// the small receive buffer set before connecting (SO_RCVBUF).

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"syscall"
	"testing"
	"time"

	"go.uber.org/zap/zapcore"
)

// churn switches goroutines as fast as two can ping-pong, which fills an
// execution trace at several MB/s: enough to block the writes to a client
// that does not read, past what the kernel's socket buffers hold.
func churn(stop <-chan struct{}) {
	ping, pong := make(chan struct{}), make(chan struct{})
	go func() {
		for range ping {
			pong <- struct{}{}
		}
		close(pong)
	}()
	defer func() { close(ping); <-pong }()
	for {
		select {
		case <-stop:
			return
		default:
		}
		for range 1000 {
			ping <- struct{}{}
			<-pong
		}
	}
}

// stuckClient sends a GET for path to addr and never reads the response.
// Its receive buffer is small, so the server's writes block once a few
// kilobytes are in flight.
func stuckClient(t *testing.T, addr, path string) net.Conn {
	t.Helper()
	// Set before connecting, so that the window advertised stays small.
	d := net.Dialer{Control: func(_, _ string, c syscall.RawConn) error {
		var serr error
		err := c.Control(func(fd uintptr) {
			serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096)
		})
		return errors.Join(err, serr)
	}}
	conn, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	if _, err := io.WriteString(conn, "GET "+path+" HTTP/1.1\r\nHost: "+addr+"\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	return conn
}

// readsToTheEnd reads conn's response and reports whether it arrived whole;
// a response cut by the server ends in an error.
func readsToTheEnd(conn net.Conn) (int64, error) {
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	return io.Copy(io.Discard, resp.Body)
}

// A client asks for an execution trace and never reads it: the other
// endpoints answer promptly, the hub serves other consumers, and the
// server's WriteTimeout cuts the connection.
func TestFailureSlowClient(t *testing.T) {
	t.Cleanup(func() { writeTimeoutSlack = 30 * time.Second })
	writeTimeoutSlack = time.Second // WriteTimeout: MaxProfileSeconds + 1 s = 3 s
	a, _ := startAgent(t, Config{Window: 500 * time.Millisecond, Interval: 500 * time.Millisecond, MaxProfileSeconds: 2})
	if got, want := a.server.WriteTimeout, 3*time.Second; got != want {
		t.Fatalf("WriteTimeout = %v, want %v", got, want)
	}
	stop := make(chan struct{})
	go churn(stop) // something to trace
	defer close(stop)
	base := "http://" + a.Addr()

	waitFor(t, 5*time.Second, "no first window", func() bool { return a.Latest() != nil })
	start := time.Now()
	conn := stuckClient(t, a.Addr(), "/debug/pprof/trace?seconds=2")
	waitProfilesInFlight(t, a, 1)
	windows := a.Status().Windows
	for _, p := range []string{PathStatus, PathReport, PathMetrics, "/debug/pprof/", "/debug/pprof/heap"} {
		getWithin(t, base+p, time.Second)
	}
	if status, body := get(t, base+"/debug/pprof/profile?seconds=1"); status != http.StatusOK {
		t.Errorf("profile next to the stuck client: %d %s", status, body)
	}
	waitFor(t, 5*time.Second, "no periodic window next to the stuck client", func() bool { return a.Status().Windows >= windows+2 })

	// The write deadline is the trace's 2 s plus WriteTimeout's 3 s.
	waitProfilesInFlight(t, a, 0)
	if took := time.Since(start); took > 8*time.Second {
		t.Errorf("the stuck trace held its slot %v, want about 5 s", took)
	}
	n, err := readsToTheEnd(conn)
	if err == nil {
		t.Errorf("the stuck client read the whole trace (%d bytes): the server's WriteTimeout did not cut it", n)
	}
	t.Logf("the stuck client read %d bytes, then %v", n, err)
}

// Stop returns within its bound (Shutdown's 5 s, then Close) while a client
// that never reads holds a trace.
func TestFailureStopWithAStuckClient(t *testing.T) {
	a, logs := startAgent(t, Config{})
	stop := make(chan struct{})
	go churn(stop)
	defer close(stop)
	stuckClient(t, a.Addr(), "/debug/pprof/trace?seconds=60")
	waitProfilesInFlight(t, a, 1)
	time.Sleep(time.Second) // let the trace fill the buffers

	start := time.Now()
	a.Stop()
	stopTook := time.Since(start)
	if took := stopTook; took > 7*time.Second {
		t.Errorf("Stop took %v with a stuck client", took)
	}
	// Stop waited for the handler it cut off: its slot is free already.
	if n := a.Status().ProfilesInFlight; n != 0 {
		t.Errorf("%d profile requests still in flight when Stop returned", n)
	}
	t.Logf("Stop took %v; the trace's slot was free %v after Stop began", stopTook, time.Since(start))
	if n := logs.FilterLevelExact(zapcore.ErrorLevel).Len(); n != 0 {
		t.Errorf("error lines: %v", logs.FilterLevelExact(zapcore.ErrorLevel).All())
	}
}
