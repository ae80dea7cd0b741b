package procstat

import (
	"io/fs"
	"strconv"
	"strings"
)

// threadsFrom reads the "Threads:" line of proc/self/status in fsys.
func threadsFrom(fsys fs.FS) opt[uint64] {
	data, err := fs.ReadFile(fsys, "proc/self/status")
	if err != nil {
		return opt[uint64]{}
	}
	for line := range strings.Lines(string(data)) {
		if rest, ok := strings.CutPrefix(line, "Threads:"); ok {
			if n, err := strconv.ParseUint(strings.TrimSpace(rest), 10, 64); err == nil && n > 0 {
				return some(n)
			}
			return opt[uint64]{}
		}
	}
	return opt[uint64]{}
}
