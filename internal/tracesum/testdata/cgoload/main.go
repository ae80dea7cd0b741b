// Command cgoload is the cgo workload of package tracesum's tests (test files
// cannot use cgo). Under an execution trace it runs workers goroutines that
// alternate a busy chunk in C, one cgo call, with a busy chunk in Go, for a
// while; the C function measures its own wall-clock time. It then writes the
// trace and prints what it did as JSON: the calls made and the time spent
// inside C, for the test to compare with the trace.
//
//	go run ./testdata/cgoload -trace out.trace -workers 2 -duration 1s
package main

/*
#include <stdint.h>
#include <time.h>

static int64_t cgoload_now(void) {
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

// cgoload_burn spins for ns nanoseconds of wall-clock time and stores the
// time it took, from its first clock reading to its last, in *took.
static uint64_t cgoload_burn(int64_t ns, int64_t *took) {
	int64_t start = cgoload_now(), now;
	uint64_t x = (uint64_t)ns;
	do {
		for (int i = 0; i < 256; i++) {
			x = x * 6364136223846793005ULL + 1442695040888963407ULL;
			x ^= x >> 31;
		}
		now = cgoload_now();
	} while (now - start < ns);
	*took = now - start;
	return x;
}
*/
import "C"

import (
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"runtime/trace"
	"sync"
	"sync/atomic"
	"time"
)

// result is what the workload did, as the test reads it. CSeconds is the
// time inside C, from the C function's first clock reading to its last, and
// GoSeconds the time of the same calls as the Go caller saw them, from just
// before to just after: it includes the crossing into and out of C, and the
// wait for a P after a call that lost its own.
type result struct {
	Calls     int64   `json:"calls"`
	CSeconds  float64 `json:"c_seconds"`
	GoSeconds float64 `json:"go_seconds"`
	MaxC      float64 `json:"max_c_seconds"`
	MaxGo     float64 `json:"max_go_seconds"`
	Workers   int     `json:"workers"`
	Seconds   float64 `json:"seconds"`
	GoVersion string  `json:"go_version"`
}

var sink atomic.Uint64

func main() {
	out := flag.String("trace", "", "write the execution trace to `file`")
	workers := flag.Int("workers", 2, "goroutines calling C")
	duration := flag.Duration("duration", time.Second, "how long to run")
	flag.Parse()
	if err := run(*out, *workers, *duration); err != nil {
		fmt.Fprintln(os.Stderr, "cgoload:", err)
		os.Exit(1)
	}
}

func run(out string, workers int, d time.Duration) error {
	f, err := os.Create(out)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := trace.Start(f); err != nil {
		return err
	}
	start := time.Now()
	var t tally
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			worker(start.Add(d), &t)
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	trace.Stop()
	if err := f.Close(); err != nil {
		return err
	}
	return json.NewEncoder(os.Stdout).Encode(result{
		Calls:     t.calls,
		CSeconds:  t.inC.Seconds(),
		GoSeconds: t.inGo.Seconds(),
		MaxC:      t.maxC.Seconds(),
		MaxGo:     t.maxGo.Seconds(),
		Workers:   workers,
		Seconds:   elapsed.Seconds(),
		GoVersion: runtime.Version(),
	})
}

// tally is the workers' record of their calls.
type tally struct {
	mu          sync.Mutex
	calls       int64
	inC, inGo   time.Duration
	maxC, maxGo time.Duration
}

// worker alternates C chunks of 0.5–3 ms with Go chunks of 0.2–1 ms until
// the deadline.
func worker(deadline time.Time, t *tally) {
	rng := rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))
	for time.Now().Before(deadline) {
		ns := 500_000 + rng.Int64N(2_500_000)
		var took C.int64_t
		before := time.Now()
		x := C.cgoload_burn(C.int64_t(ns), &took)
		outer := time.Since(before)
		sink.Add(uint64(x))
		t.mu.Lock()
		t.calls++
		t.inC += time.Duration(took)
		t.inGo += outer
		t.maxC = max(t.maxC, time.Duration(took))
		t.maxGo = max(t.maxGo, outer)
		t.mu.Unlock()
		goSpin(time.Duration(200_000 + rng.Int64N(800_000)))
	}
}

// goSpin burns CPU in Go for about d.
//
//go:noinline
func goSpin(d time.Duration) {
	start := time.Now()
	x := uint64(d)
	for time.Since(start) < d {
		for range 256 {
			x = x*6364136223846793005 + 1442695040888963407
		}
	}
	sink.Add(x)
}
