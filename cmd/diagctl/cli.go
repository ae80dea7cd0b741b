package main

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"
)

// Exit codes. They are part of diagctl's interface: scripts and CI gates rely
// on them.
const (
	exitOK        = 0 // success
	exitError     = 1 // the command ran and failed
	exitUsage     = 2 // the command line is wrong
	exitThreshold = 3 // a --fail-above gate tripped
)

// commands builds the subcommands, one per file. A new command adds its
// constructor here.
var commands = []func() *cobra.Command{
	newPreemptShareCmd,
	newCompareCmd,
	newDashboardCmd,
	newDoctorCmd,
	newTraceCmd,
	newVersionCmd,
	newWatchCmd,
}

// codedError is an error with the exit code it calls for.
type codedError struct {
	code int
	err  error
}

func (e *codedError) Error() string { return e.err.Error() }
func (e *codedError) Unwrap() error { return e.err }

// usageErrorf reports a wrong command line: exit 2.
func usageErrorf(format string, args ...any) error {
	return &codedError{code: exitUsage, err: fmt.Errorf(format, args...)}
}

// thresholdErrorf reports a tripped gate: exit 3.
func thresholdErrorf(format string, args ...any) error {
	return &codedError{code: exitThreshold, err: fmt.Errorf(format, args...)}
}

// run executes diagctl with the given arguments (without the program name) and
// returns its exit code. It never calls os.Exit, so tests drive it in-process.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	root := newRootCmd()
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	if args == nil {
		args = []string{} // nil makes cobra read os.Args
	}
	root.SetArgs(args)

	// Add cobra's completion command now (ExecuteC would add it later) so
	// that every command's RunE can be wrapped below.
	root.InitDefaultCompletionCmd(args...)
	setupCompletionCmd(root)
	requireSubcommand(root)
	markRunErrors(root)

	cmd, err := root.ExecuteC()
	if err == nil {
		return exitOK
	}
	// The one line of an error: it may quote a target's answer or a URL
	// with credentials.
	fmt.Fprintf(stderr, "diagctl: %s\n", errorText(err))
	var ce *codedError
	if !errors.As(err, &ce) {
		// Not from a command's RunE: cobra rejected the command line
		// (unknown command, bad arguments).
		ce = &codedError{code: exitUsage, err: err}
	}
	if ce.code == exitUsage && cmd != nil {
		fmt.Fprintf(stderr, "Run '%s --help' for usage.\n", cmd.CommandPath())
	}
	return ce.code
}

func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:   "diagctl",
		Short: "Diagnose scheduler and cgo trouble in Go services",
		Long: `diagctl diagnoses Go services: how much CPU goes to async preemption, to C code
called through cgo, to threads Go does not own, and which functions are
responsible.

Exit codes:
  0  success
  1  error (unreadable or invalid input; 404 or an HTML page instead of pprof)
  2  usage (unknown command, subcommand or flag, wrong arguments, bad flag value)
  3  threshold (--fail-above exceeded, a doctor item failed, a compare --fail-on rule)
  4  target unreachable (refused, DNS, timeout, untrusted certificate)
  5  not authorized (401/403: pass --token or set DIAGKIT_TOKEN)
  6  busy (the target's profiler or tracer is in use, or 429)`,
		Version:       version(),
		SilenceUsage:  true,
		SilenceErrors: true,
		// Suggest "preempt-share" for "preemt-share".
		SuggestionsMinimumDistance: 2,
		// Runnable, so that an unknown command reaches Args below instead of
		// cobra's built-in check, and a bare "diagctl" is a usage error.
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return nil
			}
			msg := fmt.Sprintf("unknown command %q", args[0])
			if s := cmd.SuggestionsFor(args[0]); len(s) > 0 {
				msg += fmt.Sprintf(" (did you mean %q?)", s[0])
			}
			return usageErrorf("%s", msg)
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			cmd.SetOut(cmd.ErrOrStderr())
			_ = cmd.Usage()
			return usageErrorf("no command given")
		},
	}
	root.SetVersionTemplate("{{.Name}} {{.Version}}\n")
	// --version without cobra's -v shorthand: -v reads as verbosity to
	// kubectl users, so it is an unknown flag (exit 2) rather than a
	// surprise.
	root.Flags().Bool("version", false, "print the diagctl version")
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error {
		return &codedError{code: exitUsage, err: err}
	})
	for _, newCmd := range commands {
		root.AddCommand(newCmd())
	}
	root.SetHelpCommand(newHelpCmd(root))
	return root
}

// newHelpCmd replaces cobra's help command, which prints the root's help
// and exits 0 for a command that does not exist.
func newHelpCmd(root *cobra.Command) *cobra.Command {
	return &cobra.Command{
		Use:   "help [COMMAND]",
		Short: "Show a command's flags, examples and exit codes",
		Long: `help shows the help of a command, as "diagctl COMMAND --help" does; without a
command, diagctl's own.

Exit codes: 0 ok, 2 usage (an unknown command).`,
		ValidArgsFunction: func(cmd *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
			var names []cobra.Completion
			parent, _, err := root.Find(args)
			if err != nil {
				return nil, cobra.ShellCompDirectiveNoFileComp
			}
			for _, c := range parent.Commands() {
				if c.IsAvailableCommand() && strings.HasPrefix(c.Name(), toComplete) {
					names = append(names, cobra.CompletionWithDesc(c.Name(), c.Short))
				}
			}
			return names, cobra.ShellCompDirectiveNoFileComp
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			target, rest, err := root.Find(args)
			if err != nil || len(rest) > 0 {
				name := strings.Join(args, " ")
				msg := fmt.Sprintf("no help for %q: not a diagctl command", name)
				if target == root && len(args) > 0 {
					if s := root.SuggestionsFor(args[0]); len(s) > 0 {
						msg += fmt.Sprintf(" (did you mean %q?)", s[0])
					}
				}
				return usageErrorf("%s", msg)
			}
			target.InitDefaultHelpFlag() // as cobra's help command does
			target.InitDefaultVersionFlag()
			target.SetOut(cmd.OutOrStdout())
			return target.Help()
		},
	}
}

// markRunErrors wraps the RunE of cmd and its subcommands so that an error a
// command returns without an exit code exits 1. Every other error cobra
// returns is a rejected command line (exit 2).
func markRunErrors(cmd *cobra.Command) {
	if runE := cmd.RunE; runE != nil {
		cmd.RunE = func(cmd *cobra.Command, args []string) error {
			err := runE(cmd, args)
			var ce *codedError
			if err != nil && !errors.As(err, &ce) {
				err = &codedError{code: exitError, err: err}
			}
			return err
		}
	}
	for _, sub := range cmd.Commands() {
		markRunErrors(sub)
	}
}

// setupCompletionCmd gives cobra's completion command, and each of its
// shells, the exit codes the other commands list.
func setupCompletionCmd(root *cobra.Command) {
	for _, c := range root.Commands() {
		if c.Name() != "completion" {
			continue
		}
		c.Long += "\n\nExit codes: 0 ok, 2 usage (no shell or an unknown one)."
		for _, sh := range c.Commands() {
			sh.Long += "\n\nExit codes: 0 ok, 2 usage."
		}
	}
}

// requireSubcommand makes every command below root that only groups
// subcommands (completion) reject a missing or unknown subcommand with a
// usage error (exit 2), as the root does, rather than print its help and
// exit 0.
func requireSubcommand(root *cobra.Command) {
	for _, c := range root.Commands() {
		requireSubcommand(c)
		if !c.HasSubCommands() || c.Runnable() {
			continue
		}
		c.SuggestionsMinimumDistance = 2
		c.Args = func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return nil
			}
			var names []string
			for _, sub := range cmd.Commands() {
				if sub.IsAvailableCommand() {
					names = append(names, sub.Name())
				}
			}
			msg := fmt.Sprintf("unknown %s subcommand %q (want %s)", cmd.Name(), args[0], strings.Join(names, ", "))
			if s := cmd.SuggestionsFor(args[0]); len(s) > 0 {
				msg += fmt.Sprintf(" (did you mean %q?)", s[0])
			}
			return usageErrorf("%s", msg)
		}
		c.RunE = func(cmd *cobra.Command, args []string) error {
			cmd.SetOut(cmd.ErrOrStderr())
			_ = cmd.Usage()
			return usageErrorf("%s needs a subcommand", cmd.CommandPath())
		}
	}
}

// exactArgs is cobra.ExactArgs with a usage error that names the arguments
// expected.
func exactArgs(n int, what string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) != n {
			return usageErrorf("%s takes %s; got %d argument%s", cmd.Name(), what, len(args), plural(len(args)))
		}
		return nil
	}
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}
