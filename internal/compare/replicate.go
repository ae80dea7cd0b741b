package compare

import (
	"strconv"
	"time"

	"github.com/diagkit/diagkit/diag/analysis"
	"github.com/diagkit/diagkit/diag/api"
)

// Replicate is one window's worth of figures: an agent's window, or one
// profile.
type Replicate struct {
	// Label names it in notes: a window's sequence number, a file name.
	Label string
	// Start and End bound it in wall-clock time; zero when unknown (a saved
	// profile).
	Start, End time.Time
	// Samples and CPUSeconds are the profile's.
	Samples    int64
	CPUSeconds float64
	// Values holds every figure available in this window; Counts the
	// sample count of each share figure read from the profile.
	Values map[string]float64
	Counts map[string]int64
	// Interrupted and CgoSites are the profile's top lists.
	Interrupted []Func
	CgoSites    []Func
	// Context facts shown beside the comparison; zero when unknown.
	GoVersion      string
	GOMAXPROCS     int
	CgroupCPULimit *float64
}

// Func is one function's CPU in one replicate.
type Func struct {
	Function  string
	CFunction string
	File      string
	Line      int64
	Samples   int64
	Share     float64
}

// hasShares reports whether the replicate's profile has CPU time, so that
// its shares mean something.
func (r *Replicate) hasShares() bool { return r.Samples > 0 && r.CPUSeconds > 0 }

func (f Func) key() string {
	if f.CFunction == "" {
		return f.Function
	}
	return f.Function + " → " + f.CFunction
}

// FromReport builds a replicate from an analyzed profile. A profile without
// samples has no share figures.
func FromReport(label string, r *analysis.Report) Replicate {
	rep := Replicate{
		Label:      label,
		Samples:    r.Samples,
		CPUSeconds: r.CPUSeconds,
		Values:     map[string]float64{},
		Counts:     map[string]int64{},
	}
	if rep.hasShares() {
		for _, f := range Figures {
			if f.share == nil {
				continue
			}
			v, n := f.share(r)
			rep.Values[f.Name] = v
			rep.Counts[f.Name] = n
		}
	}
	for _, fs := range r.TopPreempted {
		rep.Interrupted = append(rep.Interrupted, funcOf(fs))
	}
	for _, fs := range r.TopCgoCalls {
		rep.CgoSites = append(rep.CgoSites, funcOf(fs))
	}
	return rep
}

// FromWindow builds a replicate from an agent's window: its profile's
// shares and its context's figures.
func FromWindow(w *api.WindowReport) Replicate {
	rep := FromReport("window #"+strconv.FormatUint(w.Seq, 10), &w.Report)
	rep.Start, rep.End = w.Start, w.End
	for _, f := range Figures {
		if f.context == nil {
			continue
		}
		if v, ok := f.context(&w.Context); ok && finite(v) && v >= 0 {
			rep.Values[f.Name] = v
		}
	}
	rep.GoVersion = w.Context.GoVersion
	rep.GOMAXPROCS = w.Context.GOMAXPROCS
	rep.CgroupCPULimit = w.Context.CgroupCPULimit
	return rep
}

func funcOf(fs analysis.FuncStat) Func {
	return Func{Function: fs.Function, CFunction: fs.CFunction, File: fs.File, Line: fs.Line, Samples: fs.Samples, Share: fs.Share}
}
