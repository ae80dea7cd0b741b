// Command bench measures diagkit's performance targets as ratios, A/B
// interleaved, so that the noise of a shared machine cancels out:
//
//   - analysis: the CPU time of analysis.Analyze on a parsed profile against
//     that of profile.Parse on the same profile's gzipped bytes (10,000
//     records by default). Target: Analyze/Parse ≤ 0.25.
//   - cli: the wall-clock time of a whole `diagctl preempt-share FILE -o json`
//     process against `go tool pprof -top FILE` on the same profile (100,000
//     records by default). Target: pprof/diagctl ≥ 5.
//   - compare: the wall-clock and CPU time of a whole `diagctl compare -o
//     json BEFORE AFTER` process against `go tool pprof -top -diff_base
//     BEFORE AFTER` on the same pair of profiles (100,000 records each by
//     default, synthprof.Pair: the same program profiled twice). No target.
//   - overhead: the CPU time of a child process doing a fixed CPU-bound job
//     with the agent (default duty cycle, continuous) against without it.
//     Targets: ≤ 0.5 % at the defaults, ≤ 2 % continuous.
//   - latency: the p99 latency of a small HTTP service in a child process
//     under a fixed open-loop request rate, with the agent against without.
//     Target: within 5 %.
//   - heap: the heap the agent holds after 1,000 windows of 100 ms. Target:
//     ≤ 8 MiB. A bound, not a ratio: two runs.
//   - evidence (not in all): the CPU time of the overhead child's job with
//     the agent continuous and gathering loop evidence once per cooldown
//     (10 s here) against the same agent never gathering it; gives the CPU
//     cost of one gathering and its amortized cost at the default Cooldown.
//     No target.
//
// Each pair runs A then B, the next pair B then A, and so on; the tables give
// the median ratio over the pairs with its range and interquartile range.
// Single absolute times on a shared machine are noise; the ratios are the
// result. The agent parts run every workload in a child process (this binary
// re-executed with a hidden first argument), so that each run's CPU time is
// its own.
//
// Run it from the module root:
//
//	go run ./bench                      # every part, 21 pairs each (45 to 70 min)
//	go run ./bench -part analysis -pairs 31
//	go run ./bench -part cli -records 100000 -diagctl /path/to/diagctl
//	go run ./bench -part compare -pairs 21
//	go run ./bench -part overhead|latency|heap
//	go run ./bench -part agent          # overhead, latency and heap
//	go run ./bench -part evidence -pairs 21
//
// Without -diagctl it builds ./cmd/diagctl into a temporary directory, waiting
// (-wait, polling every -poll) for the package to appear or to build.
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/google/pprof/profile"

	"github.com/diagkit/diagkit/diag/analysis"
	"github.com/diagkit/diagkit/internal/synthprof"
)

type config struct {
	part            string
	pairs           int
	records         int
	analysisRecords int
	seed            int64
	block           time.Duration
	diagctl         string
	pprof           string
	goCmd           string
	wait, poll      time.Duration
	keep            bool

	// agent parts
	overheadRun   time.Duration
	realPairs     int
	realRun       time.Duration
	cpuprofileDir string
	rate          int
	warm          time.Duration
	latencyRun    time.Duration
	handlerCPU    time.Duration
	heapWindows   int
	heapRuns      int

	evidenceRun      time.Duration
	evidenceCooldown time.Duration
}

var parts = map[string][]string{
	"all":      {"analysis", "cli", "compare", "overhead", "latency", "heap"},
	"agent":    {"overhead", "latency", "heap"},
	"analysis": {"analysis"},
	"cli":      {"cli"},
	"compare":  {"compare"},
	"overhead": {"overhead"},
	// only the rounds at the real window lengths, -real-pairs of them
	"overhead-real": {"overhead-real"},
	"latency":       {"latency"},
	"heap":          {"heap"},
	// not in all: the cost of the loop evidence, 2 runs of ~25 s a round
	"evidence": {"evidence"},
}

func main() {
	if len(os.Args) > 1 && os.Args[1] == childArg {
		os.Exit(childMain(os.Args[2:]))
	}
	var c config
	flag.StringVar(&c.part, "part", "all", "what to measure: all, analysis, cli, compare, overhead, latency, heap, agent (the last three), overhead-real (-real-pairs rounds at the real window lengths) or evidence (not in all: the loop evidence's cost); several separated by commas")
	flag.IntVar(&c.pairs, "pairs", 21, "A/B pairs per comparison (at least 20 for a result)")
	flag.IntVar(&c.records, "records", 100_000, "sample records in the profile for the cli comparison, and in each of the two for compare")
	flag.IntVar(&c.analysisRecords, "analysis-records", 10_000, "sample records in the profile for the analysis comparison")
	flag.Int64Var(&c.seed, "seed", 1, "seed of the synthetic profiles")
	flag.DurationVar(&c.block, "block", 300*time.Millisecond, "CPU time one timed block of Parse calls should take (sets iterations per block)")
	flag.StringVar(&c.diagctl, "diagctl", "", "diagctl binary to measure (default: build ./cmd/diagctl)")
	flag.StringVar(&c.pprof, "pprof", "", "pprof binary (default: $(go env GOTOOLDIR)/pprof, else the one `go tool -n pprof` names)")
	flag.StringVar(&c.goCmd, "go", "go", "the go command")
	flag.DurationVar(&c.wait, "wait", 30*time.Minute, "how long to wait for ./cmd/diagctl to exist and build")
	flag.DurationVar(&c.poll, "poll", 60*time.Second, "how often to retry while waiting for ./cmd/diagctl")
	flag.BoolVar(&c.keep, "keep", false, "keep the temporary directory (profile and binaries)")
	flag.DurationVar(&c.overheadRun, "overhead-run", 11*time.Second, "overhead: wall time one run should take at the load of the start (sets the fixed work)")
	flag.IntVar(&c.realPairs, "real-pairs", 0, "overhead: also this many rounds with the agent's real window lengths (10 s every 60 s, and continuous 10 s)")
	flag.DurationVar(&c.realRun, "real-run", 65*time.Second, "overhead: wall time of one run at the real window lengths")
	flag.StringVar(&c.cpuprofileDir, "cpuprofile", "", "overhead: also write CPU profiles of one run without the agent and one continuous into this directory")
	flag.IntVar(&c.rate, "rate", 1000, "latency: requests per second")
	flag.DurationVar(&c.warm, "warm", 2*time.Second, "latency: warm-up before each measured run")
	flag.DurationVar(&c.latencyRun, "latency-run", 10*time.Second, "latency: measured time per run")
	flag.DurationVar(&c.handlerCPU, "handler", 100*time.Microsecond, "latency: CPU time of the work each request does")
	flag.IntVar(&c.heapWindows, "heap-windows", 1000, "heap: windows to run")
	flag.IntVar(&c.heapRuns, "heap-runs", 2, "heap: runs of each configuration")
	flag.DurationVar(&c.evidenceRun, "evidence-run", 25*time.Second, "evidence: wall time one run takes with every CPU to itself (sets the fixed work: this much CPU time per CPU)")
	flag.DurationVar(&c.evidenceCooldown, "evidence-cooldown", 10*time.Second, "evidence: the agent's Cooldown, hence how often evidence is gathered")
	flag.Parse()
	if flag.NArg() > 0 || c.pairs < 1 || c.records < 1 || c.analysisRecords < 1 ||
		c.rate < 1 || c.latencyRun <= 0 || c.overheadRun <= 0 || c.heapWindows < 1 || c.heapRuns < 1 ||
		c.evidenceRun <= 0 || c.evidenceCooldown <= 0 {
		flag.Usage()
		os.Exit(2)
	}
	if err := run(c); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run(c config) error {
	if c.pairs < 20 && c.part != "overhead-real" && c.part != "heap" {
		logf("warning: %d pairs; the rules for reported numbers ask for at least 20", c.pairs)
	}
	var todo []string
	for _, name := range strings.Split(c.part, ",") {
		p, ok := parts[strings.TrimSpace(name)]
		if !ok {
			return fmt.Errorf("-part %q: want all, analysis, cli, compare, overhead, overhead-real, latency, heap, agent or evidence, or several separated by commas", c.part)
		}
		todo = append(todo, p...)
	}
	fmt.Println(machine())
	fmt.Println()
	bench := map[string]func(config) error{
		"analysis": benchAnalysis,
		"cli":      benchCLI,
		"compare":  benchCompare,
		"overhead": benchOverhead,
		"overhead-real": func(c config) error {
			c.pairs = 0
			c.realPairs = max(c.realPairs, 1)
			return benchOverhead(c)
		},
		"latency":  benchLatency,
		"heap":     benchHeap,
		"evidence": benchEvidence,
	}
	for _, p := range todo {
		start := time.Now()
		if err := bench[p](c); err != nil {
			return err
		}
		logf("%s: took %v", p, time.Since(start).Round(time.Second))
	}
	fmt.Printf("Load average at the end: %s.\n", loadavg())
	return nil
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "bench: "+format+"\n", args...)
}

// machine describes where the numbers were taken, as markdown.
func machine() string {
	cpu := "unknown"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				cpu = strings.TrimSpace(v)
				break
			}
		}
	}
	kernel := "unknown"
	var u syscall.Utsname
	if syscall.Uname(&u) == nil {
		kernel = cstr(u.Sysname[:]) + " " + cstr(u.Release[:]) + " " + cstr(u.Machine[:])
	}
	return fmt.Sprintf("Machine: CPU %s, %d logical CPUs (GOMAXPROCS %d), %s, kernel %s; load average at the start: %s; %s.",
		cpu, runtime.NumCPU(), runtime.GOMAXPROCS(0), runtime.Version(), kernel, loadavg(), time.Now().UTC().Format("2006-01-02 15:04 MST"))
}

func cstr(b []int8) string {
	var s []byte
	for _, c := range b {
		if c == 0 {
			break
		}
		s = append(s, byte(c))
	}
	return string(s)
}

func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

// cpuTime is the CPU time (user + system) of this process so far, all
// threads included (the garbage collector's too).
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		panic(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// benchAnalysis compares Analyze with profile.Parse in this process.
func benchAnalysis(c config) error {
	logf("analysis: generating a %d-record profile", c.analysisRecords)
	data := synthprof.Bytes(c.analysisRecords, c.seed)
	parsed, err := profile.Parse(bytes.NewReader(data))
	if err != nil {
		return err
	}
	parse := func() {
		if _, err := profile.Parse(bytes.NewReader(data)); err != nil {
			panic(err)
		}
	}
	analyze := func() {
		if _, err := analysis.Analyze(parsed, analysis.Options{}); err != nil {
			panic(err)
		}
	}
	if _, err := analysis.Analyze(parsed, analysis.Options{}); err != nil {
		return fmt.Errorf("the synthetic profile does not analyze: %v", err)
	}

	// Warm up, then size the blocks so that one block of Parse calls takes
	// about c.block of CPU time.
	for range 3 {
		parse()
		analyze()
	}
	runtime.GC()
	t0 := cpuTime()
	for range 3 {
		parse()
	}
	per := max((cpuTime()-t0)/3, time.Microsecond)
	iters := int(max(1, min(10_000, int64(c.block/per))))
	logf("analysis: %d pairs of %d Parse and %d Analyze calls (about %v CPU per Parse block)", c.pairs, iters, iters, c.block)

	block := func(f func()) (cpu, wall time.Duration) {
		runtime.GC() // the previous block's garbage is not this block's cost
		w0, c0 := time.Now(), cpuTime()
		for range iters {
			f()
		}
		return cpuTime() - c0, time.Since(w0)
	}
	var cpuRatios, wallRatios []float64
	var parseCPU, analyzeCPU []float64
	for i := range c.pairs {
		var pc, pw, ac, aw time.Duration
		if i%2 == 0 {
			pc, pw = block(parse)
			ac, aw = block(analyze)
		} else {
			ac, aw = block(analyze)
			pc, pw = block(parse)
		}
		cpuRatios = append(cpuRatios, float64(ac)/float64(pc))
		wallRatios = append(wallRatios, float64(aw)/float64(pw))
		parseCPU = append(parseCPU, ms(pc)/float64(iters))
		analyzeCPU = append(analyzeCPU, ms(ac)/float64(iters))
	}

	cr := summarize(cpuRatios)
	fmt.Printf("### Analysis cost vs parse cost (%d records, %d bytes gzipped, %d locations)\n\n",
		c.analysisRecords, len(data), len(parsed.Location))
	fmt.Printf("%d pairs, each %d × `profile.Parse(gzipped bytes)` and %d × `analysis.Analyze(parsed)`, alternately Parse first and Analyze first; process CPU time (getrusage, user+sys, all threads) per block, `runtime.GC()` before each block.\n\n",
		c.pairs, iters, iters)
	fmt.Println("| ratio | pairs | median | min | max | IQR (p25–p75) | target | met |")
	fmt.Println("|---|---|---|---|---|---|---|---|")
	fmt.Printf("| Analyze / Parse, CPU time | %d | **%.3f** | %.3f | %.3f | %.3f–%.3f | ≤ 0.25 | %s |\n",
		cr.n, cr.median, cr.min, cr.max, cr.p25, cr.p75, yesNo(cr.median <= 0.25))
	wr := summarize(wallRatios)
	fmt.Printf("| Analyze / Parse, wall time (context) | %d | %.3f | %.3f | %.3f | %.3f–%.3f | | |\n",
		wr.n, wr.median, wr.min, wr.max, wr.p25, wr.p75)
	fmt.Println()
	pcs, acs := summarize(parseCPU), summarize(analyzeCPU)
	fmt.Printf("Context only (absolute, noisy): median CPU per call Parse %.1f ms (%.1f–%.1f), Analyze %.2f ms (%.2f–%.2f).\n\n",
		pcs.median, pcs.min, pcs.max, acs.median, acs.min, acs.max)
	return nil
}

// tempDir makes a part's working directory, and returns the function that
// removes it, or with -keep says where it is kept.
func tempDir(c config, part, prefix string) (dir string, done func(), err error) {
	dir, err = os.MkdirTemp("", prefix)
	if err != nil {
		return "", nil, err
	}
	if c.keep {
		logf("%s: keeping %s", part, dir)
		return dir, func() {}, nil
	}
	return dir, func() { os.RemoveAll(dir) }, nil
}

// benchCLI compares whole processes: diagctl against pprof.
func benchCLI(c config) error {
	root, err := moduleRoot(c.goCmd)
	if err != nil {
		return err
	}
	dir, done, err := tempDir(c, "cli", "diagkit-bench-")
	if err != nil {
		return err
	}
	defer done()

	logf("cli: generating a %d-record profile", c.records)
	data := synthprof.Bytes(c.records, c.seed)
	file := filepath.Join(dir, fmt.Sprintf("cpu-%d.pb.gz", c.records))
	if err := os.WriteFile(file, data, 0o644); err != nil {
		return err
	}

	pprofBin, err := resolvePprof(c)
	if err != nil {
		return err
	}
	diagctl := c.diagctl
	if diagctl == "" {
		if diagctl, err = buildDiagctl(c, root, dir); err != nil {
			return err
		}
	}

	cmds := []command{
		{name: "diagctl", argv: []string{diagctl, "preempt-share", file, "-o", "json"}},
		{name: "pprof", argv: []string{pprofBin, "-top", file}},
		{name: "go tool pprof", argv: []string{c.goCmd, "tool", "pprof", "-top", file}},
	}
	// One checked run of each: it must succeed, and diagctl must report
	// every record. It also warms the page cache and the go command's.
	for i := range cmds {
		out, err := cmds[i].check(root)
		if err != nil {
			return err
		}
		if i == 0 {
			var r analysis.Report
			if err := json.Unmarshal(out, &r); err != nil {
				return fmt.Errorf("diagctl -o json printed something else than a report: %v", err)
			}
			if r.Records != c.records {
				return fmt.Errorf("diagctl reports %d records, want %d", r.Records, c.records)
			}
		}
	}

	logf("cli: %d rounds of diagctl, pprof, go tool pprof (order reversed every other round)", c.pairs)
	wall, cpu, err := interleave(cmds, root, c.pairs, nil)
	if err != nil {
		return err
	}
	ratios := ratiosTo

	fmt.Printf("### diagctl vs pprof, whole process (%d records, %.1f MB gzipped, %d locations)\n\n",
		c.records, float64(len(data))/1e6, countLocations(data))
	fmt.Printf("%d rounds; each runs `diagctl preempt-share FILE -o json`, `pprof -top FILE` (the binary `go tool pprof` runs: %s) and `go tool pprof -top FILE`, in that order on even rounds and reversed on odd ones, stdout and stderr to /dev/null. Wall clock from start to exit of each process; speed-up = other / diagctl within the round.\n\n",
		c.pairs, tilde(pprofBin))
	fmt.Println("| speed-up of diagctl over | pairs | median | min | max | IQR (p25–p75) | target | met |")
	fmt.Println("|---|---|---|---|---|---|---|---|")
	for _, k := range []int{1, 2} {
		s := summarize(ratios(wall, k))
		label := "`pprof -top` (resolved binary), wall"
		target, met := "≥ 5×", yesNo(s.median >= 5)
		if k == 2 {
			label = "`go tool pprof -top` (literal), wall"
		}
		fmt.Printf("| %s | %d | **%.2f×** | %.2f× | %.2f× | %.2f×–%.2f× | %s | %s |\n",
			label, s.n, s.median, s.min, s.max, s.p25, s.p75, target, met)
	}
	for _, k := range []int{1, 2} {
		s := summarize(ratios(cpu, k))
		label := "`pprof -top`, CPU time (context)"
		if k == 2 {
			label = "`go tool pprof -top`, CPU time (context)"
		}
		fmt.Printf("| %s | %d | %.2f× | %.2f× | %.2f× | %.2f×–%.2f× | | |\n", label, s.n, s.median, s.min, s.max, s.p25, s.p75)
	}
	fmt.Println()
	fmt.Print("Context only (absolute, noisy): median wall per run")
	for k := range cmds {
		s := summarize(wall[k])
		fmt.Printf("%s %s %.0f ms (%.0f–%.0f)", map[bool]string{true: ":", false: ","}[k == 0], cmds[k].name, 1000*s.median, 1000*s.min, 1000*s.max)
	}
	fmt.Print("; median CPU (user+sys) per run")
	for k := range cmds {
		s := summarize(cpu[k])
		fmt.Printf("%s %s %.0f ms", map[bool]string{true: ":", false: ","}[k == 0], cmds[k].name, 1000*s.median)
	}
	fmt.Println(".")
	fmt.Println()
	return nil
}

func countLocations(data []byte) int {
	p, err := profile.Parse(bytes.NewReader(data))
	if err != nil {
		return 0
	}
	return len(p.Location)
}

func tilde(path string) string {
	if home, err := os.UserHomeDir(); err == nil && home != "" && strings.HasPrefix(path, home+"/") {
		return "~" + path[len(home):]
	}
	return path
}

type command struct {
	name string
	argv []string
}

func (c command) cmd(dir string) *exec.Cmd {
	cmd := exec.Command(c.argv[0], c.argv[1:]...)
	cmd.Dir = dir
	return cmd
}

// check runs the command once and returns its standard output.
func (c command) check(dir string) ([]byte, error) {
	cmd := c.cmd(dir)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("%s: %v\n%s", strings.Join(c.argv, " "), err, stderr.Bytes())
	}
	return out, nil
}

// time runs the command with its output to /dev/null (an *os.File, so no
// copying goroutine in this process) and returns its wall-clock time and CPU
// time.
// interleave times each command once per round, in dir, in the order
// 0, 1, 2, … and reversed every other round, calling after (when not nil)
// at the end of each round; wall[k][i] and cpu[k][i] are command k's
// seconds in round i.
func interleave(cmds []command, dir string, rounds int, after func(round int)) (wall, cpu [][]float64, err error) {
	wall = make([][]float64, len(cmds))
	cpu = make([][]float64, len(cmds))
	for i := range rounds {
		for j := range cmds {
			k := j
			if i%2 == 1 {
				k = len(cmds) - 1 - j
			}
			w, cp, err := cmds[k].time(dir)
			if err != nil {
				return nil, nil, err
			}
			wall[k] = append(wall[k], w.Seconds())
			cpu[k] = append(cpu[k], cp.Seconds())
		}
		if after != nil {
			after(i)
		}
	}
	return wall, cpu, nil
}

// ratiosTo is, round by round, command k's seconds over command 0's.
func ratiosTo(m [][]float64, k int) []float64 {
	out := make([]float64, len(m[0]))
	for i := range out {
		out[i] = m[k][i] / m[0][i]
	}
	return out
}

func (c command) time(dir string) (wall, cpu time.Duration, err error) {
	null, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		return 0, 0, err
	}
	defer null.Close()
	cmd := c.cmd(dir)
	cmd.Stdout, cmd.Stderr = null, null
	start := time.Now()
	if err := cmd.Run(); err != nil {
		return 0, 0, fmt.Errorf("%s: %v", strings.Join(c.argv, " "), err)
	}
	wall = time.Since(start)
	return wall, cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime(), nil
}

func moduleRoot(goCmd string) (string, error) {
	out, err := exec.Command(goCmd, "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %v", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return "", errors.New("not in a module: run from the diagkit module root")
	}
	return filepath.Dir(gomod), nil
}

// resolvePprof finds the pprof binary `go tool pprof` runs, so that timing it
// does not include the go command's own start-up.
func resolvePprof(c config) (string, error) {
	if c.pprof != "" {
		return c.pprof, nil
	}
	out, err := exec.Command(c.goCmd, "env", "GOTOOLDIR").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOTOOLDIR: %v", err)
	}
	if p := filepath.Join(strings.TrimSpace(string(out)), "pprof"); isFile(p) {
		return p, nil
	}
	// Since Go 1.24 the distribution builds pprof on first use and caches
	// it; `go tool -n` prints the cached binary's path (building it if
	// needed).
	out, err = exec.Command(c.goCmd, "tool", "-n", "pprof").Output()
	if err != nil {
		return "", fmt.Errorf("go tool -n pprof: %v", err)
	}
	p := strings.TrimSpace(string(out))
	if !isFile(p) {
		return "", fmt.Errorf("go tool -n pprof named %q, which is not a file", p)
	}
	return p, nil
}

func isFile(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.Mode().IsRegular()
}

// buildDiagctl builds ./cmd/diagctl, waiting for it to exist and build if it
// does not yet.
func buildDiagctl(c config, root, dir string) (string, error) {
	bin := filepath.Join(dir, "diagctl")
	deadline := time.Now().Add(c.wait)
	for {
		var err error
		if _, statErr := os.Stat(filepath.Join(root, "cmd", "diagctl")); statErr != nil {
			err = errors.New("./cmd/diagctl does not exist yet")
		} else {
			cmd := exec.Command(c.goCmd, "build", "-o", bin, "./cmd/diagctl")
			cmd.Dir = root
			var out bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &out
			if err = cmd.Run(); err != nil {
				err = fmt.Errorf("go build ./cmd/diagctl: %v\n%s", err, out.Bytes())
			}
		}
		if err == nil {
			return bin, nil
		}
		if time.Now().Add(c.poll).After(deadline) {
			return "", err
		}
		logf("cli: %v; retrying in %v", firstLine(err.Error()), c.poll)
		time.Sleep(c.poll)
	}
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

type summary struct {
	n                          int
	median, min, max, p25, p75 float64
}

func summarize(xs []float64) summary {
	s := slices.Clone(xs)
	slices.Sort(s)
	return summary{
		n: len(s), median: quantile(s, 0.5), min: s[0], max: s[len(s)-1],
		p25: quantile(s, 0.25), p75: quantile(s, 0.75),
	}
}

// quantile interpolates linearly between the closest ranks of sorted s.
func quantile(s []float64, q float64) float64 {
	pos := q * float64(len(s)-1)
	lo := int(math.Floor(pos))
	hi := min(lo+1, len(s)-1)
	return s[lo] + (pos-float64(lo))*(s[hi]-s[lo])
}

func ms(d time.Duration) float64 { return float64(d) / 1e6 }

func yesNo(ok bool) string {
	if ok {
		return "yes"
	}
	return "**no**"
}
