package diag

import (
	"bytes"
	"strings"
	"testing"
)

// FuzzLocateGoroutines: whatever a goroutine dump holds, locating goroutines
// in it does not panic, counts no goroutine twice and names only wanted ones.
func FuzzLocateGoroutines(f *testing.F) {
	f.Add([]byte("goroutine 18 [runnable]:\nruntime.asyncPreempt()\n\t/go/src/runtime/preempt_amd64.s:46 +0xdb\nmain.loop(...)\n\t/app/main.go:49 +0x16\n"))
	f.Add([]byte("goroutine 1 gp=0xc000002380 m=0 mp=0x5c2e40 [running]:\nmain.main()\n\t/app/main.go:20 +0x1a5\n"))
	f.Add([]byte("goroutine 18 [runnable]:\nmain.loop(\n\t:\n\t/app/main.go:x +0x\n"))
	f.Add([]byte("goroutine  [\ngoroutine 18 :\n" + strings.Repeat("a", 100) + "(\n"))
	f.Fuzz(func(t *testing.T, dump []byte) {
		want := map[int64]int64{1: 3, 18: 5, 19: 1}
		sites, total, _ := locateGoroutines(bytes.NewReader(dump), want)
		var goroutines int64
		for _, s := range sites {
			if s.Goroutines < 1 || s.Function == "" || isRuntimeFunc(s.Function) {
				t.Fatalf("bad site %+v", s)
			}
			goroutines += s.Goroutines
		}
		if goroutines > int64(total) {
			t.Fatalf("%d goroutines located of %d in the dump", goroutines, total)
		}
	})
}
