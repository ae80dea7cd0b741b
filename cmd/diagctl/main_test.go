package main

import (
	"bytes"
	"io"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/google/pprof/profile"
	"github.com/spf13/cobra"
)

// result is what one in-process run of diagctl produced.
type result struct {
	code           int
	stdout, stderr string
}

// runDiagctl runs diagctl in-process with args and stdin.
func runDiagctl(t testing.TB, stdin io.Reader, args ...string) result {
	t.Helper()
	if stdin == nil {
		stdin = strings.NewReader("")
	}
	var stdout, stderr bytes.Buffer
	code := run(args, stdin, &stdout, &stderr)
	return result{code, stdout.String(), stderr.String()}
}

// testFiles are profiles and other files for the exit-code tests.
type testFiles struct {
	cpu, heap, garbage, empty, unsymbolized, noSamples, dir, missing string
	// deadTarget is a loopback HOST:PORT where nothing listens.
	deadTarget string
}

// deadAddr returns a loopback address that was just free: a listener's,
// closed.
func deadAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

func makeTestFiles(t *testing.T) testFiles {
	t.Helper()
	heap := newHeapProfile()
	alloc := heap.location(frame{"main.alloc", "/src/main.go", 3})
	heap.sample([]int64{1, 512, 1, 512}, alloc)

	unsym := newCPUProfile()
	l1 := &profile.Location{ID: 1, Address: 0x401000}
	l2 := &profile.Location{ID: 2, Address: 0x402000}
	unsym.p.Location = []*profile.Location{l1, l2}
	unsym.sample(cpu(3), l1, l2)

	dir := t.TempDir()
	return testFiles{
		cpu:          writeProfile(t, testProfile(), "cpu.pb.gz"),
		heap:         writeProfile(t, heap.p, "heap.pb.gz"),
		garbage:      writeFile(t, "garbage.prof", []byte("this is not a profile\n")),
		empty:        writeFile(t, "empty.prof", nil),
		unsymbolized: writeProfile(t, unsym.p, "unsym.pb.gz"),
		noSamples:    writeProfile(t, newCPUProfile().p, "idle.pb.gz"),
		dir:          dir,
		missing:      filepath.Join(dir, "missing.pb.gz"),
		deadTarget:   deadAddr(t),
	}
}

func TestExitCodes(t *testing.T) {
	t.Parallel()
	f := makeTestFiles(t)
	tests := []struct {
		name string
		args []string
		code int
		// stderr must contain every one of these (an error names the file
		// and the reason); stdout is checked by wantOut.
		stderr  []string
		wantOut bool
	}{
		{"ok", []string{"preempt-share", f.cpu}, exitOK, nil, true},
		{"ok json", []string{"preempt-share", "-o", "json", f.cpu}, exitOK, nil, true},
		{"ok long flag", []string{"preempt-share", "--output=table", "--top", "3", f.cpu}, exitOK, nil, true},
		{"ok no samples", []string{"preempt-share", f.noSamples}, exitOK, nil, true},
		{"below threshold fraction", []string{"preempt-share", "--fail-above", "0.5", f.cpu}, exitOK, nil, true},
		{"below threshold percent", []string{"preempt-share", "--fail-above", "31%", f.cpu}, exitOK, nil, true},
		{"at threshold", []string{"preempt-share", "--fail-above", "30%", f.cpu}, exitOK, nil, true},
		{"help", []string{"--help"}, exitOK, nil, true},
		{"command help", []string{"preempt-share", "--help"}, exitOK, nil, true},
		{"help command", []string{"help", "preempt-share"}, exitOK, nil, true},

		{"missing file", []string{"preempt-share", f.missing}, exitError,
			[]string{f.missing, "no such file"}, false},
		{"dead target", []string{"preempt-share", f.deadTarget}, exitUnreachable,
			[]string{f.deadTarget, "connection refused"}, false},
		{"directory", []string{"preempt-share", f.dir}, exitError,
			[]string{f.dir, "is a directory"}, false},
		{"garbage", []string{"preempt-share", f.garbage}, exitError,
			[]string{f.garbage, "invalid profile"}, false},
		{"empty file", []string{"preempt-share", f.empty}, exitError,
			[]string{f.empty, "file is empty"}, false},
		{"heap profile", []string{"preempt-share", f.heap}, exitError,
			[]string{f.heap, "not a CPU profile", "alloc_objects/count"}, false},
		{"unsymbolized", []string{"preempt-share", f.unsymbolized}, exitError,
			[]string{f.unsymbolized, "no symbol information"}, false},

		{"no command", nil, exitUsage, []string{"no command given", "Usage:"}, false},
		{"unknown command", []string{"preemt-share", f.cpu}, exitUsage,
			[]string{`unknown command "preemt-share"`, `did you mean "preempt-share"`}, false},
		{"no args", []string{"preempt-share"}, exitUsage, []string{"takes a profile FILE or one or more targets"}, false},
		{"two files summarized", []string{"preempt-share", f.cpu, f.cpu}, exitOK, nil, true},
		{"stdin among several targets", []string{"preempt-share", f.cpu, "-"}, exitUsage, []string{"standard input"}, false},
		{"bad seconds", []string{"preempt-share", "--seconds", "0", f.cpu}, exitUsage, []string{"--seconds"}, false},
		{"bad parallel", []string{"preempt-share", "--parallel", "0", f.cpu, f.cpu}, exitUsage, []string{"--parallel"}, false},
		{"bad output", []string{"preempt-share", "-o", "yaml", f.cpu}, exitUsage,
			[]string{`invalid argument "yaml"`, "want table or json"}, false},
		{"empty output", []string{"preempt-share", "--output=", f.cpu}, exitUsage, []string{"want table or json"}, false},
		{"bad fail-above", []string{"preempt-share", "--fail-above", "lots", f.cpu}, exitUsage,
			[]string{`invalid argument "lots" for "--fail-above"`}, false},
		{"fail-above bare number above 1", []string{"preempt-share", "--fail-above", "5", f.cpu}, exitUsage,
			[]string{"out of range"}, false},
		{"fail-above over 100%", []string{"preempt-share", "--fail-above", "150%", f.cpu}, exitUsage,
			[]string{"out of range"}, false},
		{"fail-above missing value", []string{"preempt-share", f.cpu, "--fail-above"}, exitUsage,
			[]string{"flag needs an argument"}, false},
		{"bad top", []string{"preempt-share", "--top", "many", f.cpu}, exitUsage, []string{`"many"`}, false},
		{"negative top", []string{"preempt-share", "--top", "-1", f.cpu}, exitUsage, []string{"--top"}, false},
		{"unknown flag", []string{"preempt-share", "--frobnicate", f.cpu}, exitUsage,
			[]string{"unknown flag: --frobnicate"}, false},
		{"unknown root flag", []string{"--frobnicate"}, exitUsage, []string{"unknown flag"}, false},
		{"version with args", []string{"version", "now"}, exitUsage, []string{"takes no arguments"}, false},
		{"completion extra args", []string{"completion", "bash", "extra"}, exitUsage, []string{"extra"}, false},
		// Usage is checked before the file is read.
		{"usage beats missing file", []string{"preempt-share", "-o", "yaml", f.missing}, exitUsage, nil, false},

		{"above threshold fraction", []string{"preempt-share", "--fail-above", "0.01", f.cpu}, exitThreshold,
			[]string{f.cpu, "async-preempt share 30.00% is above --fail-above 1.00%"}, true},
		{"above threshold percent json", []string{"preempt-share", "-o", "json", "--fail-above=29.9%", f.cpu}, exitThreshold,
			[]string{"above --fail-above 29.90%"}, true},
		{"above zero", []string{"preempt-share", "--fail-above", "0", f.cpu}, exitThreshold, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			res := runDiagctl(t, nil, tt.args...)
			if res.code != tt.code {
				t.Fatalf("diagctl %q: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", tt.args, res.code, tt.code, res.stdout, res.stderr)
			}
			if got := res.stdout != ""; got != tt.wantOut {
				t.Errorf("diagctl %q: stdout non-empty = %v, want %v:\n%s", tt.args, got, tt.wantOut, res.stdout)
			}
			for _, want := range tt.stderr {
				if !strings.Contains(res.stderr, want) {
					t.Errorf("diagctl %q: stderr does not contain %q:\n%s", tt.args, want, res.stderr)
				}
			}
			if res.code == exitOK {
				if res.stderr != "" {
					t.Errorf("diagctl %q: exit 0 with stderr:\n%s", tt.args, res.stderr)
				}
				return
			}
			// Failures: one "diagctl: " line, plus a pointer to the help for
			// usage errors (and the usage itself for a bare "diagctl").
			errLine := lastLine(res.stderr)
			if res.code == exitUsage {
				if !strings.Contains(errLine, "--help' for usage") {
					t.Errorf("diagctl %q: usage error without a pointer to --help:\n%s", tt.args, res.stderr)
				}
				errLines := strings.Split(strings.TrimSpace(res.stderr), "\n")
				errLine = errLines[len(errLines)-2]
			} else if strings.Count(res.stderr, "\n") != 1 {
				t.Errorf("diagctl %q: stderr is not one line:\n%s", tt.args, res.stderr)
			}
			if !strings.HasPrefix(errLine, "diagctl: ") {
				t.Errorf("diagctl %q: error line %q does not start with %q", tt.args, errLine, "diagctl: ")
			}
		})
	}
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return lines[len(lines)-1]
}

func TestVersion(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{{"version"}, {"--version"}} {
		t.Run(args[0], func(t *testing.T) {
			t.Parallel()
			res := runDiagctl(t, nil, args...)
			if res.code != exitOK || res.stderr != "" {
				t.Fatalf("exit %d, stderr %q", res.code, res.stderr)
			}
			if !strings.HasPrefix(res.stdout, "diagctl ") || !strings.Contains(res.stdout, "go1.") ||
				strings.Count(res.stdout, "\n") != 1 {
				t.Errorf("version output %q: want one line \"diagctl VERSION GOVERSION\"", res.stdout)
			}
		})
	}
}

func TestHelpListsCommandsAndExitCodes(t *testing.T) {
	t.Parallel()
	res := runDiagctl(t, nil, "--help")
	for _, want := range []string{"preempt-share", "watch", "doctor", "trace", "dashboard", "version", "completion", "Exit codes:",
		"3  threshold (--fail-above exceeded, a doctor item failed, a compare --fail-on rule)", "4  target unreachable", "5  not authorized", "6  busy"} {
		if !strings.Contains(res.stdout, want) {
			t.Errorf("diagctl --help does not mention %q:\n%s", want, res.stdout)
		}
	}
}

// commandExitCodes are the exit codes each command can end with: its help
// must list exactly these.
var commandExitCodes = map[string][]int{
	"diagctl":                       {0, 1, 2, 3, 4, 5, 6},
	"diagctl preempt-share":         {0, 1, 2, 3, 4, 5, 6},
	"diagctl compare":               {0, 1, 2, 3, 4, 5, 6},
	"diagctl watch":                 {0, 1, 2, 4, 5, 6},
	"diagctl doctor":                {0, 1, 2, 3, 4, 5, 6},
	"diagctl trace":                 {0, 1, 2, 4, 5, 6},
	"diagctl dashboard":             {0, 1, 2, 4, 5, 6},
	"diagctl version":               {0, 2},
	"diagctl help":                  {0, 2},
	"diagctl completion":            {0, 2},
	"diagctl completion bash":       {0, 2},
	"diagctl completion fish":       {0, 2},
	"diagctl completion powershell": {0, 2},
	"diagctl completion zsh":        {0, 2},
}

// exitCodesIn reads the exit codes a help text lists: the numbers 0 to 6
// that start an item of its "Exit codes:" paragraph ("2 usage", "  3
// threshold").
func exitCodesIn(help string) []int {
	i := strings.Index(help, "Exit codes:")
	if i < 0 {
		return nil
	}
	para := help[i+len("Exit codes:"):]
	// The paragraph ends at a blank line, the root's list at "Usage:".
	if j := strings.Index(para, "\n\n"); j >= 0 {
		para = para[:j]
	}
	var codes []int
	for _, m := range regexp.MustCompile(`(?:^|[\s,:])([0-6]) +[a-z]`).FindAllStringSubmatch(para, -1) {
		c := int(m[1][0] - '0')
		if !slices.Contains(codes, c) {
			codes = append(codes, c)
		}
	}
	slices.Sort(codes)
	return codes
}

// TestHelpOfEveryCommand walks every command, cobra's completion and help
// among them: "CMD --help" and "help CMD" print the same help, with an
// exit-code list that is exactly the command's; a command that groups
// subcommands rejects an unknown one with exit 2; and the root's help lists
// every command and every exit code any command lists.
func TestHelpOfEveryCommand(t *testing.T) {
	t.Parallel()
	root := newRootCmd()
	root.InitDefaultCompletionCmd()
	root.InitDefaultHelpCmd()
	var paths [][]string
	var walk func(c *cobra.Command, path []string)
	walk = func(c *cobra.Command, path []string) {
		paths = append(paths, path)
		for _, sub := range c.Commands() {
			if sub.Hidden || sub.Name() == cobra.ShellCompRequestCmd || sub.Name() == cobra.ShellCompNoDescRequestCmd {
				continue
			}
			walk(sub, append(slices.Clone(path), sub.Name()))
		}
		if len(path) > 0 && c.HasAvailableSubCommands() {
			args := append(slices.Clone(path), "nosuch")
			if res := runDiagctl(t, nil, args...); res.code != exitUsage || !strings.Contains(res.stderr, `"nosuch"`) {
				t.Errorf("diagctl %s: exit %d, want %d naming the subcommand:\n%s", strings.Join(args, " "), res.code, exitUsage, res.stderr)
			}
			if res := runDiagctl(t, nil, path...); res.code != exitUsage {
				t.Errorf("diagctl %s (no subcommand): exit %d, want %d", strings.Join(path, " "), res.code, exitUsage)
			}
		}
	}
	walk(root, nil)
	rootHelp := runDiagctl(t, nil, "--help").stdout
	rootCodes := exitCodesIn(rootHelp)
	seen := map[string]bool{}
	for _, path := range paths {
		name := strings.Join(append([]string{"diagctl"}, path...), " ")
		seen[name] = true
		want, ok := commandExitCodes[name]
		if !ok {
			t.Errorf("%s: a command the test does not know: add its exit codes to commandExitCodes", name)
			continue
		}
		res := runDiagctl(t, nil, append(slices.Clone(path), "--help")...)
		if res.code != exitOK || res.stderr != "" || !strings.Contains(res.stdout, "Usage:") {
			t.Errorf("%s --help: exit %d, stderr %q", name, res.code, res.stderr)
			continue
		}
		if got := exitCodesIn(res.stdout); !slices.Equal(got, want) {
			t.Errorf("%s --help lists exit codes %v, want %v:\n%s", name, got, want, res.stdout)
		}
		for _, c := range want {
			if !slices.Contains(rootCodes, c) {
				t.Errorf("%s exits %d, which diagctl --help does not list", name, c)
			}
		}
		if len(path) > 0 {
			if !strings.Contains(rootHelp, "\n  "+path[0]+" ") {
				t.Errorf("diagctl --help does not list %s", path[0])
			}
			h := runDiagctl(t, nil, append([]string{"help"}, path...)...)
			if h.code != exitOK || h.stdout != res.stdout {
				t.Errorf("diagctl help %s: exit %d, output differs from %s --help", strings.Join(path, " "), h.code, name)
			}
		}
		// No help mentions a flag the command does not have (cobra's
		// completion scripts' help quotes other programs' flags).
		cmd, _, err := root.Find(path)
		if err != nil {
			t.Fatal(err)
		}
		// -o is the output format wherever it exists, and every command
		// that prints a report or a page has it.
		if o := cmd.Flags().ShorthandLookup("o"); o != nil && (o.Name != "output" || o.Value.Type() != "format") {
			t.Errorf("%s: -o is --%s (%s), want --output, a format", name, o.Name, o.Value.Type())
		}
		if len(path) == 1 && !slices.Contains([]string{"version", "help", "completion"}, path[0]) && cmd.Flags().ShorthandLookup("o") == nil {
			t.Errorf("%s has no -o/--output", name)
		}
		if len(path) > 1 && path[0] == "completion" {
			continue
		}
		for _, m := range regexp.MustCompile(`--([a-z][a-z-]+)`).FindAllStringSubmatch(res.stdout, -1) {
			if m[1] != "help" && cmd.Flags().Lookup(m[1]) == nil && cmd.InheritedFlags().Lookup(m[1]) == nil && !otherCommandFlag(root, m[1]) {
				t.Errorf("%s --help mentions --%s, a flag no command has", name, m[1])
			}
		}
		if strings.Contains(res.stdout, "added to --seconds") && cmd.Flags().Lookup("seconds") == nil {
			t.Errorf("%s --help relates --timeout to --seconds, a flag it does not have", name)
		}
	}
	for name := range commandExitCodes {
		if !seen[name] {
			t.Errorf("%s: no such command", name)
		}
	}
	for _, tc := range []struct {
		args []string
		code int
	}{
		{[]string{"help", "nosuch"}, exitUsage},
		{[]string{"help", "completion", "nosuch"}, exitUsage},
		{[]string{"-v"}, exitUsage}, // not --version: kubectl users read it as verbosity
		{[]string{"--version"}, exitOK},
	} {
		if res := runDiagctl(t, nil, tc.args...); res.code != tc.code {
			t.Errorf("diagctl %q: exit %d, want %d\n%s", tc.args, res.code, tc.code, res.stderr)
		}
	}
}

// otherCommandFlag reports whether some command has the flag name (a help
// may point to another command's flag, as watch's does to preempt-share).
func otherCommandFlag(root *cobra.Command, name string) bool {
	found := false
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		if c.Flags().Lookup(name) != nil {
			found = true
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
	return found
}

func TestCompletion(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		args []string
		want []string
	}{
		{"bash script", []string{"completion", "bash"}, []string{"bash completion", "diagctl"}},
		{"zsh script", []string{"completion", "zsh"}, []string{"#compdef diagctl"}},
		{"commands", []string{"__complete", ""}, []string{"preempt-share", "version"}},
		{"output values", []string{"__complete", "preempt-share", "-o", ""}, []string{"table\n", "json\n", ":4\n"}},
		{"watch output values", []string{"__complete", "watch", "-o", ""}, []string{"text\n", "json\n", ":4\n"}},
		{"dashboard output values", []string{"__complete", "dashboard", "-o", ""}, []string{"html\n", "json\n", ":4\n"}},
		{"help topics", []string{"__complete", "help", "do"}, []string{"doctor\t"}},
		// File names for FILE: the default directive (0).
		{"file argument", []string{"__complete", "preempt-share", ""}, []string{":0\n"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			res := runDiagctl(t, nil, tt.args...)
			if res.code != exitOK {
				t.Fatalf("diagctl %q: exit %d\n%s", tt.args, res.code, res.stderr)
			}
			for _, want := range tt.want {
				if !strings.Contains(res.stdout, want) {
					t.Errorf("diagctl %q: output does not contain %q:\n%s", tt.args, want, res.stdout)
				}
			}
		})
	}
}

// TestNilArgs makes sure run never falls back to os.Args (cobra's default
// for nil arguments): here those are the test binary's flags.
func TestNilArgs(t *testing.T) {
	t.Parallel()
	var stdout, stderr bytes.Buffer
	if code := run(nil, strings.NewReader(""), &stdout, &stderr); code != exitUsage {
		t.Errorf("run(nil): exit %d, want %d (os.Args = %q)\n%s", code, exitUsage, os.Args, stderr.String())
	}
}
