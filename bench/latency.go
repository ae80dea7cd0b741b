package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"time"
)

// The latency part's agents: continuous with short windows is the harsh
// case (an analysis every 2 s); the defaults profile for the first 10 s of a
// child's life and analyze at 10 s, which falls inside the measured part of
// a run, so a run holds one full window and its analysis (in a real 60 s
// interval, 50 s have neither).
var latencyConfigs = []agentConfig{agentOff, agentContinuous2s, agentDefaultReal}

// latencyRun is one run of the service under load.
type latencyRun struct {
	p50, p99, p999 float64 // seconds, from sending the request to the end of the response
	p99Sched       float64 // seconds, from the request's scheduled time
	requests       int
	childCPU       time.Duration
	genCPU         time.Duration // the load generator's (this process's) CPU
	wall           time.Duration // measured part
	windows        uint64
}

func benchLatency(c config) error {
	exe, err := benchExe()
	if err != nil {
		return err
	}
	per := unitCPU()
	units := max(1, int((c.handlerCPU+per/2)/per))
	logf("latency: %d units of work per request (%v of CPU at %v a unit); %d req/s for %v after %v of warm-up",
		units, time.Duration(units)*per, per, c.rate, c.latencyRun, c.warm)
	// One unmeasured run: the first process start of the binary pays for
	// the page cache.
	if _, err := latencyOnce(exe, agentOff, units, c.rate, time.Second, time.Second); err != nil {
		return err
	}

	cfgs := latencyConfigs
	runs := make([][]latencyRun, len(cfgs))
	load := newLoadTracker()
	for i := range c.pairs {
		for j := range cfgs {
			k := j
			if i%2 == 1 {
				k = len(cfgs) - 1 - j
			}
			r, err := latencyOnce(exe, cfgs[k], units, c.rate, c.warm, c.latencyRun)
			if err != nil {
				return err
			}
			runs[k] = append(runs[k], r)
		}
		load.sample()
		logf("latency: round %d/%d: p99 %.2f/%.2f/%.2f ms; load %s", i+1, c.pairs,
			1000*runs[0][i].p99, 1000*runs[1][i].p99, 1000*runs[2][i].p99, loadavg())
	}
	load.stop()

	get := func(k int, f func(latencyRun) float64) []float64 {
		out := make([]float64, len(runs[k]))
		for i, r := range runs[k] {
			out[i] = f(r)
		}
		return out
	}
	p99 := func(r latencyRun) float64 { return r.p99 }
	fmt.Printf("### p99 latency of a small HTTP service under open-loop load\n\n")
	fmt.Printf("%d rounds; each starts the same child service three times (agent off, continuous with 2 s windows, defaults), in that order on even rounds and reversed on odd ones. A request does %d units of the CPU-bound work (about %.0f µs of CPU) and answers 17 bytes. This process sends %d requests/s over loopback at fixed times (open loop: a request's send time does not wait for earlier answers; keep-alive connections, as many as needed), %v of warm-up then %v measured (%d requests). Latency is from sending the request to reading the end of the response; ratio = p99 with the agent / p99 without it, within the round.\n\n",
		c.pairs, units, float64(time.Duration(units)*per)/1e3, c.rate, c.warm, c.latencyRun, int(c.latencyRun.Seconds()*float64(c.rate)))
	fmt.Println("| agent | pairs | median p99 ratio | min | max | IQR (p25–p75) | target | met |")
	fmt.Println("|---|---|---|---|---|---|---|---|")
	for k := 1; k < len(cfgs); k++ {
		s := summarize(ratio(get(k, p99), get(0, p99)))
		fmt.Printf("| %s / off | %d | **%.3f** | %.3f | %.3f | %.3f–%.3f | ≤ 1.05 | %s |\n",
			cfgs[k].name, s.n, s.median, s.min, s.max, s.p25, s.p75, yesNo(s.median <= 1.05))
	}
	for k := 1; k < len(cfgs); k++ {
		s := summarize(ratio(get(k, func(r latencyRun) float64 { return r.p99Sched }), get(0, func(r latencyRun) float64 { return r.p99Sched })))
		fmt.Printf("| %s / off, from the scheduled send time (context) | %d | %.3f | %.3f | %.3f | %.3f–%.3f | | |\n",
			cfgs[k].name, s.n, s.median, s.min, s.max, s.p25, s.p75)
	}
	for k := 1; k < len(cfgs); k++ {
		s := summarize(ratio(get(k, func(r latencyRun) float64 { return r.p50 }), get(0, func(r latencyRun) float64 { return r.p50 })))
		fmt.Printf("| %s / off, p50 (context) | %d | %.3f | %.3f | %.3f | %.3f–%.3f | | |\n",
			cfgs[k].name, s.n, s.median, s.min, s.max, s.p25, s.p75)
	}
	fmt.Println()
	fmt.Print("Context only (absolute, noisy): median p50 / p99 / p99.9 per run")
	for k := range cfgs {
		a, b, d := summarize(get(k, func(r latencyRun) float64 { return r.p50 })), summarize(get(k, p99)), summarize(get(k, func(r latencyRun) float64 { return r.p999 }))
		fmt.Printf("%s %s %.2f / %.2f / %.2f ms (p99 %.2f–%.2f)", sep(k), cfgs[k].name, 1000*a.median, 1000*b.median, 1000*d.median, 1000*b.min, 1000*b.max)
	}
	fmt.Print("; the service's CPU per request (whole child, HTTP included)")
	for k := range cfgs {
		s := summarize(get(k, func(r latencyRun) float64 { return r.childCPU.Seconds() / float64(r.requests) }))
		fmt.Printf("%s %s %.0f µs", sep(k), cfgs[k].name, 1e6*s.median)
	}
	g := summarize(get(0, func(r latencyRun) float64 { return r.genCPU.Seconds() / r.wall.Seconds() }))
	fmt.Printf("; the load generator used %.2f CPUs (median; the same 2 cores as the service)", g.median)
	fmt.Print("; windows completed per run")
	for k := 1; k < len(cfgs); k++ {
		s := summarize(get(k, func(r latencyRun) float64 { return float64(r.windows) }))
		fmt.Printf("%s %s %.0f (%.0f–%.0f)", sep(k-1), cfgs[k].name, s.median, s.min, s.max)
	}
	fmt.Printf(". Machine during the rounds: %s.\n\n", load)
	return nil
}

// latencyOnce starts the service with the agent as ac says, loads it, checks
// that the agent analyzed windows meanwhile, and stops it.
func latencyOnce(exe string, ac agentConfig, units, rate int, warm, dur time.Duration) (latencyRun, error) {
	srv, err := startServer(exe, append([]string{"-units", strconv.Itoa(units)}, ac.args()...)...)
	if err != nil {
		return latencyRun{}, err
	}
	lat, sched, _, genCPU, wall, lerr := drive(srv.addr, rate, warm, dur)
	var st struct{ windows, failures uint64 }
	var serr error
	if ac.on && lerr == nil {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		s, err := agentStatus(ctx, srv.agentAddr)
		cancel()
		st.windows, st.failures, serr = s.Windows, s.Failures, err
	}
	child, err := srv.stop()
	switch {
	case lerr != nil:
		return latencyRun{}, lerr
	case serr != nil:
		return latencyRun{}, fmt.Errorf("latency: agent status: %v", serr)
	case err != nil:
		return latencyRun{}, err
	}
	alive := time.Duration(child.res.WallSeconds * float64(time.Second))
	if want := ac.expectWindows(alive - time.Second); st.windows < want || st.failures > 0 {
		return latencyRun{}, fmt.Errorf("latency: agent %q completed %d windows (%d failed) in %v; want at least %d and no failure",
			ac.name, st.windows, st.failures, alive.Round(time.Millisecond), want)
	}
	slices.Sort(lat)
	slices.Sort(sched)
	return latencyRun{
		p50: quantile(lat, 0.5), p99: quantile(lat, 0.99), p999: quantile(lat, 0.999),
		p99Sched: quantile(sched, 0.99),
		requests: child.res.Units, childCPU: child.cpu, genCPU: genCPU, wall: wall,
		windows: st.windows,
	}, nil
}

// drive sends rate requests per second to addr for warm+dur, each at its
// scheduled time whatever the earlier ones are doing, and returns the
// latencies of the requests scheduled after the warm-up, in seconds: from
// sending to the end of the response, and from the scheduled time.
func drive(addr string, rate int, warm, dur time.Duration) (lat, sched []float64, n int, genCPU, wall time.Duration, err error) {
	tr := &http.Transport{MaxIdleConns: 4096, MaxIdleConnsPerHost: 4096, IdleConnTimeout: time.Minute, DisableCompression: true}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 30 * time.Second}
	url := "http://" + addr + "/"
	total := int((warm + dur).Seconds() * float64(rate))
	skip := int(warm.Seconds() * float64(rate))
	period := time.Second / time.Duration(rate)
	lat = make([]float64, total)
	sched = make([]float64, total)
	errs := make([]error, total)
	var wg sync.WaitGroup
	runtime.GC() // not during the run
	t0 := time.Now().Add(10 * time.Millisecond)
	var c0 time.Duration
	for i := range total {
		at := t0.Add(time.Duration(i) * period)
		if i == skip {
			c0 = cpuTime()
		}
		if d := time.Until(at); d > 0 {
			time.Sleep(d)
		}
		wg.Go(func() {
			start := time.Now()
			resp, err := client.Get(url)
			if err == nil {
				_, err = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if err == nil && resp.StatusCode != http.StatusOK {
					err = fmt.Errorf("status %s", resp.Status)
				}
			}
			end := time.Now()
			lat[i], sched[i], errs[i] = end.Sub(start).Seconds(), end.Sub(at).Seconds(), err
		})
	}
	wg.Wait()
	genCPU = cpuTime() - c0
	wall = time.Since(t0.Add(time.Duration(skip) * period))
	for i, e := range errs {
		if e != nil {
			return nil, nil, 0, 0, 0, fmt.Errorf("latency: request %d: %v", i, e)
		}
	}
	return lat[skip:], sched[skip:], total - skip, genCPU, wall, nil
}
