package api

import "time"

// DoctorSchema versions DoctorReport.
const DoctorSchema = "diagkit.doctor/v1"

// Check statuses, from best to worst but for Unknown, which says the check
// could not be made (the figure is unavailable where it ran).
const (
	StatusPass    = "pass"
	StatusWarn    = "warn"
	StatusFail    = "fail"
	StatusUnknown = "unknown"
)

// Check IDs: the tuning guide's checklist, one item each.
const (
	CheckGoVersion         = "go_version"
	CheckGOMAXPROCS        = "gomaxprocs"
	CheckAsyncPreemptOff   = "asyncpreemptoff"
	CheckAsyncPreemptShare = "async_preempt_share"
	CheckCgo               = "cgo"
	CheckLockOSThread      = "lock_os_thread"
	CheckSchedLatency      = "sched_latency"
	CheckGOGC              = "gogc"
	CheckHotLoops          = "hot_loops"
	CheckCPUThrottling     = "cpu_throttling"
	CheckCPUContention     = "cpu_contention"
	// CheckReMeasure is the checklist's last item, "I have re-measured
	// after every change": no process can show it, so it is always
	// unknown, and points at diagctl compare.
	CheckReMeasure = "re_measure"
)

// DoctorReport is the tuning guide's checklist, checked against one process.
type DoctorReport struct {
	// Schema is DoctorSchema.
	Schema string `json:"schema"`
	// Target names the process checked, as diagctl was given it; empty when
	// the agent serves its own report.
	Target string `json:"target,omitempty"`
	// Source is what the checks rest on: "agent" (the diagkit agent inside
	// the process, with its windows and runtime context) or "pprof" (only
	// the process's net/http/pprof endpoints, so some checks are unknown).
	Source string `json:"source"`
	// Time is when the checklist was evaluated.
	Time time.Time `json:"time"`
	// Windows is how many profiling windows the profile-based checks
	// (shares, hot loops) rest on.
	Windows int `json:"windows"`
	// Checks holds one result per item, in the checklist's order.
	Checks []Check `json:"checks"`
	// Counts is how many checks ended in each status.
	Counts Counts `json:"counts"`
}

// Counts tallies checks by status.
type Counts struct {
	Pass    int `json:"pass"`
	Warn    int `json:"warn"`
	Fail    int `json:"fail"`
	Unknown int `json:"unknown"`
}

// Check is one checklist item's result.
type Check struct {
	// ID is one of the Check* constants.
	ID string `json:"id"`
	// Title is the item as a person reads it, e.g. "GOMAXPROCS fits the
	// CPUs the process may use".
	Title string `json:"title"`
	// Status is one of the Status* constants.
	Status string `json:"status"`
	// Evidence lists the figures the status rests on, e.g. "GOMAXPROCS 8",
	// "cgroup limit 2 CPUs"; for unknown, why the figure is unavailable.
	Evidence []string `json:"evidence"`
	// Advice is the tuning guide's advice for this item, in one line.
	Advice string `json:"advice"`
}
