package main

import (
	"github.com/spf13/pflag"
)

// addTransportFlags adds the flags every command that talks to targets
// shares.
func addTransportFlags(f *pflag.FlagSet, o *transportOptions) {
	f.StringVar(&o.token, "token", "", "bearer `token` for the agent (default $"+tokenEnv+")")
	f.DurationVar(&o.timeout, "timeout", o.timeout, "give up on a target that does not answer within `DURATION` (added to --seconds for a profile)")
	f.BoolVar(&o.insecure, "insecure", false, "do not verify https certificates")
}
