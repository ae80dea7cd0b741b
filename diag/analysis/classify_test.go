package analysis

import (
	"math"
	"testing"
)

// Frames as runtime/pprof writes them (files as on a real linux/amd64 build).
const (
	asyncPreempt   = "runtime.asyncPreempt@/usr/local/go/src/runtime/preempt_amd64.s:9"
	asyncPreempt2  = "runtime.asyncPreempt2@/usr/local/go/src/runtime/preempt.go:308"
	cgocall        = "runtime.cgocall@/usr/local/go/src/runtime/cgocall.go:167"
	asmcgocall     = "runtime.asmcgocall@/usr/local/go/src/runtime/asm_amd64.s:923"
	cgocallback    = "runtime.cgocallback@/usr/local/go/src/runtime/asm_amd64.s:1082"
	cgocallbackg   = "runtime.cgocallbackg@/usr/local/go/src/runtime/cgocall.go:329"
	cgocallbackg1  = "runtime.cgocallbackg1@/usr/local/go/src/runtime/cgocall.go:424"
	externalCode   = "runtime._ExternalCode@/usr/local/go/src/runtime/proc.go:5737"
	lostExternal   = "runtime._LostExternalCode@/usr/local/go/src/runtime/proc.go:5738"
	system         = "runtime._System@/usr/local/go/src/runtime/proc.go:5740"
	gcRoot         = "runtime._GC@/usr/local/go/src/runtime/proc.go:5741"
	vdso           = "runtime._VDSO@/usr/local/go/src/runtime/proc.go:5739"
	runtimeMain    = "runtime.main@/usr/local/go/src/runtime/proc.go:283"
	goexit         = "runtime.goexit@/usr/local/go/src/runtime/asm_amd64.s:1700"
	mainMain       = "main.main@/app/main.go:40"
	cfuncBurn      = "main._Cfunc_burn@_cgo_gotypes.go:61"
	cfuncTiny      = "main._Cfunc_tiny@_cgo_gotypes.go:75"
	work           = "main.work@/app/main.go:20"
	spin           = "main.spin@/app/main.go:12"
	entersyscall   = "runtime.entersyscall@/usr/local/go/src/runtime/proc.go:4522"
	reentersyscall = "runtime.reentersyscall@/usr/local/go/src/runtime/proc.go:4440"
	exitsyscall    = "runtime.exitsyscall@/usr/local/go/src/runtime/proc.go:4620"
	cgoexp         = "_cgoexp_bcc51c204905_goCallback@_cgo_gotypes.go:98"
	goCallback     = "main.goCallback@/app/callback.go:9"
	cNamed         = "burn_c@/app/burn.c:14"
	gosaveSwitch   = "gosave_systemstack_switch@runtime/asm_amd64.s:890" // -trimpath file name
	cUnnamed       = "-"
)

func TestClassifyRules(t *testing.T) {
	tests := []struct {
		name  string
		stack stack
		want  Bucket
	}{
		{"plain go", stack{spin, mainMain, runtimeMain}, BucketGo},
		{"runtime called from go", stack{"runtime.mallocgc@/usr/local/go/src/runtime/malloc.go:1000", work, mainMain}, BucketGo},
		{"go names without files", stack{"main.spin", "main.main", "runtime.main"}, BucketGo},
		{"unnamed frame inside a go stack", stack{cUnnamed, work, mainMain}, BucketGo},
		{"unsymbolized location inside a go stack", stack{"?", work, mainMain}, BucketGo},

		{"async preempt leaf", stack{asyncPreempt, spin, mainMain}, BucketAsyncPreempt},
		{"async preempt without go names' files", stack{"runtime.asyncPreempt", "main.spin"}, BucketAsyncPreempt},
		{"async preempt alone", stack{asyncPreempt}, BucketAsyncPreempt},
		{"asyncPreempt2 on the goroutine stack", stack{asyncPreempt2, asyncPreempt, spin}, BucketPreemptSched},
		{"scheduler after async preemption", stack{
			"runtime.schedule@/usr/local/go/src/runtime/proc.go:4000",
			"runtime.gopreempt_m@/usr/local/go/src/runtime/proc.go:4200",
			"runtime.asyncPreempt2.func1@/usr/local/go/src/runtime/preempt.go:305",
			"runtime.mcall@/usr/local/go/src/runtime/asm_amd64.s:459"}, BucketPreemptSched},
		{"asyncPreempt below the leaf", stack{"runtime.wbBufFlush@/usr/local/go/src/runtime/mwbbuf.go:1", asyncPreempt, spin}, BucketPreemptSched},

		{"cgo without traceback: leaf cgocall", stack{cgocall, cfuncBurn, work, mainMain}, BucketCgoC},
		{"cgo with traceback: unnamed C frames", stack{cUnnamed, cUnnamed, asmcgocall, cgocall, cfuncBurn, work}, BucketCgoC},
		{"cgo with traceback: named C frames", stack{cNamed, "spin_ns@/app/burn.c:5", asmcgocall, cgocall, cfuncBurn, work}, BucketCgoC},
		{"cgo with traceback: unsymbolized C location", stack{"?", asmcgocall, cgocall, cfuncBurn, work}, BucketCgoC},
		{"cgo with traceback: gcc clone names without files", stack{"spin.cold", "burn_loop.part.0", asmcgocall, cgocall, cfuncBurn, work}, BucketCgoC},
		{"leaf asmcgocall", stack{asmcgocall, cgocall, cfuncBurn, work}, BucketCgoC},
		{"crossing: entersyscall above cgocall", stack{reentersyscall, entersyscall, cgocall, cfuncTiny, mainMain}, BucketCgoCrossing},
		{"crossing: inlined atomic in exitsyscall", stack{
			"internal/runtime/atomic.(*Uint32).CompareAndSwap@/usr/local/go/src/internal/runtime/atomic/types.go:236+" + exitsyscall,
			cgocall, cfuncTiny, mainMain}, BucketCgoCrossing},
		{"crossing: _Cfunc_ stub leaf", stack{cfuncTiny, mainMain, runtimeMain}, BucketCgoCrossing},
		{"crossing: cgo pointer check", stack{
			"runtime.cgoIsGoPointer@/usr/local/go/src/runtime/cgocall.go:700",
			"runtime.cgoCheckArg@/usr/local/go/src/runtime/cgocall.go:640",
			"runtime.cgoCheckPointer@/usr/local/go/src/runtime/cgocall.go:600",
			"main.main.func1@/app/main.go:44", mainMain}, BucketCgoCrossing},
		{"crossing: runtime side of a callback", stack{exitsyscall, cgocallbackg, cgocallback, cUnnamed, asmcgocall, cgocall, cfuncBurn, work}, BucketCgoCrossing},
		{"crossing: callback wrapper leaf", stack{cgoexp, cgocallbackg1, cgocallbackg, cgocallback}, BucketCgoCrossing},

		{"callback: go code above cgocallback is go", stack{goCallback, cgoexp, cgocallbackg1, cgocallbackg, cgocallback, cUnnamed, asmcgocall, cgocall, cfuncBurn, work}, BucketGo},
		{"callback without C frames is go", stack{goCallback, cgoexp, cgocallbackg1, cgocallbackg, cgocallback, cgocall, cfuncBurn, work}, BucketGo},
		{"callback: runtime under go code above the boundary", stack{"runtime.mallocgc@/usr/local/go/src/runtime/malloc.go:1000", goCallback, cgoexp, cgocallbackg1, cgocallbackg, cgocallback, cgocall}, BucketGo},
		{"callback calling C again is cgo", stack{cUnnamed, asmcgocall, cgocall, "main._Cfunc_inner@_cgo_gotypes.go:80", goCallback, cgoexp, cgocallbackg1, cgocallbackg, cgocallback, cUnnamed, asmcgocall, cgocall, cfuncBurn, work}, BucketCgoC},

		// With runtime.SetCgoTraceback installed a sample can land in the
		// runtime's assembly helpers, whose names carry no package: here
		// asmcgocall saving the goroutine's state before it switches to the
		// C stack. That is the crossing into C, not user Go code nor C work.
		{"crossing: unqualified runtime asm above asmcgocall", stack{gosaveSwitch, asmcgocall, cgocall, "main._Cfunc_x@_cgo_gotypes.go:61", mainMain}, BucketCgoCrossing},
		{"crossing: unqualified runtime asm, GOROOT path", stack{"gosave_systemstack_switch@/usr/local/go/src/runtime/asm_amd64.s:890", asmcgocall, cgocall, cfuncBurn, work}, BucketCgoCrossing},
		{"crossing: unqualified runtime asm above cgocall", stack{gosaveSwitch, cgocall, cfuncBurn, work}, BucketCgoCrossing},
		{"unqualified runtime asm called from go is go", stack{gosaveSwitch, "runtime.systemstack@runtime/asm_amd64.s:510", work, mainMain}, BucketGo},
		// A user package named runtime is user code: its functions are
		// qualified by the package path, whatever the directory is called.
		{"user package named runtime is go", stack{"example.com/x/runtime.Spin@/src/example.com/x/runtime/spin.go:7", asmcgocall, cgocall, cfuncBurn, work}, BucketGo},
		{"user package named runtime, asm", stack{"example.com/x/runtime.spinAsm@/home/u/x/runtime/spin_amd64.s:3", cgocall, cfuncBurn, work}, BucketGo},
		{"runtime's own C call (no cgocall) is go", stack{cUnnamed, asmcgocall, "runtime.callCgoMmap@/usr/local/go/src/runtime/cgo_mmap.go:40", "runtime.mmap@/usr/local/go/src/runtime/cgo_mmap.go:30"}, BucketGo},

		{"non-go thread", stack{cUnnamed, externalCode}, BucketExternalThread},
		{"non-go thread, named C leaf", stack{"burn_thread@/app/thread.c:9", externalCode}, BucketExternalThread},
		{"non-go thread unwound by a cgo traceback", stack{cUnnamed, cUnnamed, "start_thread@./nptl/pthread_create.c:444", "clone3"}, BucketExternalThread},
		{"non-go thread, gcc clone names", stack{"spin.cold", "thread_main.part.0", "start_thread"}, BucketExternalThread},
		{"non-go thread, unsymbolized", stack{"?", "?"}, BucketExternalThread},
		{"lost non-go samples", stack{lostExternal, externalCode}, BucketExternalLost},
		{"external code on a go thread", stack{externalCode, system}, BucketExternalNoStack},
		{"external code on a go thread during gc", stack{externalCode, gcRoot}, BucketExternalNoStack},
		{"vdso", stack{vdso, system}, BucketRuntimeNoStack},
		{"unwalkable go pc", stack{"runtime.usleep@/usr/local/go/src/runtime/sys_linux_amd64.s:135", system}, BucketRuntimeNoStack},
		{"unwalkable during gc", stack{"runtime.scanobject@/usr/local/go/src/runtime/mgcmark.go:1400", gcRoot}, BucketRuntimeNoStack},
		{"empty stack", stack{}, BucketRuntimeNoStack},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// A plain Go companion sample keeps the profile symbolized when
			// the stack under test has no names at all.
			p := cpuProfile(t,
				sampleSpec{stack: tt.stack, cpu: 30_000_000},
				sampleSpec{stack: stack{"main.companion@/app/c.go:1"}, cpu: 10_000_000})
			r, err := Analyze(p, Options{})
			if err != nil {
				t.Fatal(err)
			}
			for _, b := range Buckets {
				want := 0.0
				if b == tt.want {
					want += 0.030
				}
				if b == BucketGo {
					want += 0.010
				}
				if got := r.Buckets[b].CPUSeconds; math.Abs(got-want) > 1e-12 {
					t.Errorf("bucket %s = %.3fs, want %.3fs", b, got, want)
				}
			}
		})
	}
}
