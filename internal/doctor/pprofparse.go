package doctor

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// maxLine bounds one line of a text profile; longer lines (never seen from
// the runtime) are skipped, not buffered.
const maxLine = 64 << 10

// maxWhere bounds Locked.Where.
const maxWhere = 5

// lines calls fn with each line of r, without its newline, skipping lines
// longer than maxLine. fn returning false stops the scan.
func lines(r io.Reader, fn func(line []byte) bool) error {
	br := bufio.NewReaderSize(r, maxLine)
	skipping := false
	for {
		line, err := br.ReadSlice('\n')
		switch {
		case errors.Is(err, bufio.ErrBufferFull):
			skipping = true
			continue
		case skipping:
			skipping = false
		case len(line) > 0:
			if !fn(bytes.TrimRight(line, "\r\n")) {
				return nil
			}
		}
		if err == io.EOF {
			return nil
		}
		if err != nil && !errors.Is(err, bufio.ErrBufferFull) {
			return err
		}
	}
}

// ScanLocked reads a goroutine dump (/debug/pprof/goroutine?debug=2, or
// runtime.Stack with all goroutines) and returns the goroutines locked to
// their OS thread, with where up to a few of them are. It streams: a dump of
// any size costs no more memory than a line. An input with no goroutine
// header is an error.
func ScanLocked(r io.Reader) (*Locked, error) {
	var l Locked
	headers := 0
	// After a locked goroutine's header: 1 waiting for its top function,
	// 2 waiting for "created by".
	state := 0
	var top string
	err := lines(r, func(line []byte) bool {
		s := string(line)
		if strings.HasPrefix(s, "goroutine ") && strings.HasSuffix(s, "]:") {
			if state != 0 {
				l.note(top, "")
			}
			headers++
			state, top = 0, ""
			if i := strings.IndexByte(s, '['); i >= 0 && strings.Contains(s[i:], "locked to thread") {
				l.Goroutines++
				state = 1
			}
			return true
		}
		switch {
		case state == 1 && s != "" && !strings.HasPrefix(s, "\t"):
			top = funcName(s)
			state = 2
		case state == 2 && strings.HasPrefix(s, "created by "):
			l.note(top, funcName(strings.TrimPrefix(s, "created by ")))
			state = 0
		case state != 0 && s == "":
			l.note(top, "")
			state = 0
		}
		return true
	})
	if err != nil {
		return nil, err
	}
	if state != 0 {
		l.note(top, "")
	}
	if headers == 0 {
		return nil, errors.New("not a goroutine dump (debug=2): no goroutine header")
	}
	return &l, nil
}

func (l *Locked) note(top, creator string) {
	w := top
	if w == "" {
		w = "(no stack)"
	}
	if creator != "" {
		w += ", started by " + creator
	}
	if len(l.Where) < maxWhere {
		l.Where = append(l.Where, w)
	}
	for i := range l.Places {
		if l.Places[i].Where == w {
			l.Places[i].Count++
			return
		}
	}
	if len(l.Places) < maxWhere {
		l.Places = append(l.Places, Place{Where: w, Count: 1})
	}
}

// funcName is the function of a stack line "pkg.f(args)" or "created by
// pkg.g in goroutine 1".
func funcName(s string) string {
	if i := strings.Index(s, " in goroutine "); i >= 0 {
		s = s[:i]
	}
	if i := strings.LastIndexByte(s, '('); i > 0 {
		s = s[:i]
	}
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return strings.ToValidUTF8(s, "�")
}

// ParseThreadCreate reads the total from /debug/pprof/threadcreate?debug=1:
// "threadcreate profile: total N".
func ParseThreadCreate(r io.Reader) (int64, error) {
	var n int64
	found := false
	var perr error
	err := lines(r, func(line []byte) bool {
		s, ok := strings.CutPrefix(string(line), "threadcreate profile: total ")
		if !ok {
			perr = fmt.Errorf("not a threadcreate profile (debug=1): starts %q", truncate(string(line), 40))
			return false
		}
		n, perr = strconv.ParseInt(strings.TrimSpace(s), 10, 64)
		if perr == nil && n < 0 {
			perr = fmt.Errorf("negative thread count %d", n)
		}
		found = perr == nil
		return false
	})
	switch {
	case err != nil:
		return 0, err
	case perr != nil:
		return 0, perr
	case !found:
		return 0, errors.New("empty threadcreate profile")
	}
	return n, nil
}

// MemStats holds the runtime.MemStats figures the heap profile's debug=1
// text ends with ("# Name = value" lines) that the doctor uses.
type MemStats struct {
	GCCPUFraction *float64
	NumGC         *int64
	NextGC        *int64
	HeapAlloc     *int64
}

// ParseMemStats reads the "# runtime.MemStats" section of
// /debug/pprof/heap?debug=1. Figures missing from it stay nil; a text with
// none of them is an error.
func ParseMemStats(r io.Reader) (*MemStats, error) {
	var m MemStats
	seen := false
	err := lines(r, func(line []byte) bool {
		s, ok := strings.CutPrefix(string(line), "# ")
		if !ok {
			return true
		}
		name, value, ok := strings.Cut(s, " = ")
		if !ok {
			return true
		}
		switch name {
		case "GCCPUFraction":
			if f, err := strconv.ParseFloat(value, 64); err == nil && f >= 0 && f <= 1 {
				m.GCCPUFraction, seen = &f, true
			}
		case "NumGC", "NextGC", "HeapAlloc":
			n, err := strconv.ParseInt(value, 10, 64)
			if err != nil || n < 0 {
				return true
			}
			switch name {
			case "NumGC":
				m.NumGC = &n
			case "NextGC":
				m.NextGC = &n
			default:
				m.HeapAlloc = &n
			}
			seen = true
		}
		return true
	})
	if err != nil {
		return nil, err
	}
	if !seen {
		return nil, errors.New("no runtime.MemStats in the heap profile (want debug=1)")
	}
	return &m, nil
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}
