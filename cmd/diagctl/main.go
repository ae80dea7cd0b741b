// Command diagctl inspects Go services for scheduler and cgo trouble, from a
// diagkit agent, from any Go server that serves net/http/pprof, or from saved
// files.
//
// Usage:
//
//	diagctl preempt-share TARGET...   async-preemption and cgo shares of a profile or live process
//	diagctl watch TARGET              follow an agent's windows live in the terminal
//	diagctl doctor TARGET             check the preemption tuning guide's checklist
//	diagctl trace TARGET              summarize an execution trace (preemptions, P balance, waits)
//	diagctl dashboard TARGET          save an agent's dashboard as one self-contained HTML file (-f FILE)
//	diagctl version                   print the diagctl version (also: diagctl --version; -v is not a flag)
//	diagctl completion SHELL          print a shell completion script
//	diagctl help [COMMAND]            show a command's flags and examples
//
// A TARGET is HOST (port 6060), HOST:PORT or an http(s) URL, with the path
// prefix the agent is mounted under if any; where a command reads files, a
// file name or "-" for standard input. A bearer token comes from --token or
// DIAGKIT_TOKEN. -o/--output is the output format on every command that has
// it (table|json, text|json for trace and watch, html|json for dashboard);
// a file to write to is -f/--file. diagctl writes no colour.
//
// Exit codes:
//
//	0  success
//	1  error: unreadable or invalid input, a 404 or an HTML page instead of pprof
//	2  usage: unknown command, subcommand or flag, wrong number of arguments,
//	   bad flag value
//	3  threshold: --fail-above exceeded, or a doctor item failed
//	4  target unreachable: refused, DNS failure, timeout, untrusted certificate
//	5  not authorized (401/403)
//	6  busy: the target's profiler or tracer is in use, or it serves as many
//	   profiles as it allows (429)
//
// Errors are printed to standard error as one line starting with "diagctl: ".
package main

import "os"

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}
