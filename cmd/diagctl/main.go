// Command diagctl inspects Go services for scheduler and cgo trouble.
//
// Usage:
//
//	diagctl preempt-share [flags] FILE   analyze a saved CPU profile ("-" reads stdin)
//	diagctl version                      print the diagctl version (also: diagctl --version)
//	diagctl completion SHELL             print a shell completion script
//	diagctl help [COMMAND]               show help
//
// preempt-share reads a CPU profile as written by go test -cpuprofile,
// /debug/pprof/profile or pprof.StartCPUProfile (gzipped or not) and reports
// which share of its CPU time went to async preemption, cgo, threads Go does
// not own and ordinary Go code, with the functions responsible. Its flags:
//
//	-o, --output table|json  output format (default table; json prints the
//	                         diagkit.report/v1 document and nothing else)
//	    --top N              list the N heaviest functions (default 10; 0 lists none)
//	    --fail-above X       exit 3 when the async-preempt share is above X,
//	                         a fraction (0.01) or a percentage (1%)
//
// Exit codes:
//
//	0  success
//	1  error: unreadable file, or a profile that is invalid, not a CPU
//	   profile, or unsymbolized
//	2  usage: unknown command or flag, wrong number of arguments, bad flag value
//	3  threshold exceeded: the async-preempt share is above --fail-above
//
// Errors are printed to standard error as one line starting with "diagctl: ".
package main

import "os"

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}
