package main

import (
	"github.com/spf13/pflag"
)

// addTransportFlags adds the flags every command that talks to targets
// shares. withSeconds says whether the command also has --seconds, the time
// the target takes to record a profile or trace, which the timeout is added
// to.
func addTransportFlags(f *pflag.FlagSet, o *transportOptions, withSeconds bool) {
	timeoutHelp := "give up on a target that does not answer within `DURATION`"
	if withSeconds {
		timeoutHelp += " (added to --seconds while the target records)"
	}
	f.StringVar(&o.token, "token", "", "bearer `token` for the agent (default $"+tokenEnv+")")
	f.DurationVar(&o.timeout, "timeout", o.timeout, timeoutHelp)
	f.BoolVar(&o.insecure, "insecure", false, "do not verify https certificates")
}
