// Command plainpprof is a fixture of doctor_e2e_test.go: a Go server with
// only net/http/pprof, no diagkit agent, that has the problems diagctl
// doctor should find from its endpoints alone. GOMAXPROCS is 4× the CPUs
// and twice as many goroutines spin in loops without function calls, and
// one goroutine is stuck while locked to its OS thread.
//
// It listens on a free loopback port, prints "pprof on http://HOST:PORT" and
// exits after -duration. It lives under testdata so that go test ./... and
// go vet ./... leave it alone; the test builds it with go build.
package main

import (
	"flag"
	"fmt"
	"net"
	"net/http"
	_ "net/http/pprof" // the only endpoints it serves
	"os"
	"runtime"
	"sync/atomic"
	"time"
)

var sink atomic.Uint64

func main() {
	duration := flag.Duration("duration", time.Minute, "how long to serve")
	flag.Parse()

	// The locked goroutine first, and locked before the address is
	// printed: once the spinners run, a new goroutine may wait long for a P.
	locked, done := make(chan struct{}), make(chan struct{})
	go lockedWait(locked, done)
	<-locked
	runtime.GOMAXPROCS(4 * runtime.NumCPU())
	var stop atomic.Bool
	for range 2 * runtime.GOMAXPROCS(0) {
		go func() { sink.Add(spin(&stop)) }()
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, "plainpprof:", err)
		os.Exit(1)
	}
	srv := &http.Server{Handler: http.DefaultServeMux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	fmt.Printf("pprof on http://%s\n", ln.Addr())

	time.Sleep(*duration)
	stop.Store(true)
	close(done)
	_ = srv.Close()
}

// spin is a loop whose body makes no function call: only async preemption
// can interrupt it.
//
//go:noinline
func spin(stop *atomic.Bool) uint64 {
	x := uint64(1)
	for !stop.Load() {
		for range 1 << 19 {
			x = x*6364136223846793005 + 1442695040888963407
			x ^= x >> 31
		}
	}
	return x
}

// lockedWait locks itself to its OS thread, closes locked, and holds the
// thread until done is closed.
//
//go:noinline
func lockedWait(locked chan<- struct{}, done <-chan struct{}) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	close(locked)
	<-done
}
