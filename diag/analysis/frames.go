package analysis

import (
	"strings"

	"github.com/google/pprof/profile"
)

// frameKind is what one frame tells the classifier. It depends only on the
// frame's function and file, so it is computed once per Location.
type frameKind uint8

const (
	kindGo            frameKind = iota // Go code outside the runtime
	kindRuntime                        // the Go runtime (runtime., internal/runtime/)
	kindC                              // native code: unnamed, or named with a non-Go file
	kindGlue                           // cgo glue: _Cfunc_ stubs, _cgoexp_ wrappers, pointer checks
	kindAsyncPreempt                   // runtime.asyncPreempt
	kindAsyncPreempt2                  // runtime.asyncPreempt2 and its closures
	kindCgocall                        // runtime.cgocall: Go→C boundary
	kindAsmcgocall                     // runtime.asmcgocall*: the switch to the C stack
	kindCallback                       // runtime.cgocallback*: C→Go boundary
	kindExternal                       // runtime._ExternalCode
	kindLostExternal                   // runtime._LostExternalCode
	kindSystem                         // runtime._System, runtime._GC
	kindVDSO                           // runtime._VDSO
)

// frame is one function in a stack, inlined frames expanded. Its function's
// name and file are read from the profile's Function (fn; nil for a Location
// without lines), which Analyze does not modify.
type frame struct {
	kind     frameKind
	inlined  bool // inlined into the next frame of the same Location
	isCfunc  bool // a _Cfunc_ stub; funcInfo(fn).cfunc is the C function's name
	goAnchor bool // Go frame (any Go kind, glue included)
	line     int64
	fn       *profile.Function
}

// function is the frame's function name ("" if none).
func (f *frame) function() string {
	if f.fn == nil {
		return ""
	}
	return f.fn.Name
}

// file is the frame's source file ("" if none).
func (f *frame) file() string {
	if f.fn == nil {
		return ""
	}
	return f.fn.Filename
}

// sframe is what classify reads of a frame, a third of its size; idx is the
// frame's index in the accumulator's frames.
type sframe struct {
	kind     frameKind
	isCfunc  bool
	goAnchor bool
	idx      int32
}

// funcInfo is what a frame's function alone decides, cached per Function.
type funcInfo struct {
	kind    frameKind
	isCfunc bool
	cfunc   string
}

// funcSlot caches the funcInfo of fn.
type funcSlot struct {
	fn   *profile.Function
	info funcInfo
}

// functionInfo classifies a function by its name and file.
func functionInfo(name, file string) funcInfo {
	fi := funcInfo{kind: classifyFunction(name, file)}
	if fi.kind == kindGlue {
		if c, ok := strings.CutPrefix(baseName(name), "_Cfunc_"); ok {
			fi.isCfunc, fi.cfunc = true, c
		}
	}
	return fi
}

// appendLocationFrames appends a Location's frames to dst, leaf first. A
// Location with no line information is one unnamed native frame. What each
// Function decides is computed once per Function (a.funcInfo).
func (a *accumulator) appendLocationFrames(dst []frame, loc *profile.Location) []frame {
	if len(loc.Line) == 0 {
		return append(dst, frame{kind: kindC})
	}
	for i, ln := range loc.Line {
		var fi funcInfo
		if ln.Function != nil {
			fi = a.funcInfo(ln.Function)
		} else {
			fi = functionInfo("", "")
		}
		dst = append(dst, frame{
			kind:     fi.kind,
			fn:       ln.Function,
			line:     ln.Line,
			inlined:  i < len(loc.Line)-1,
			isCfunc:  fi.isCfunc,
			goAnchor: fi.kind != kindC,
		})
	}
	return dst
}

// funcInfo returns functionInfo for fn, cached in a slot indexed by its ID
// when the profile's Function IDs are dense. The slot remembers its Function:
// a sample may hold Locations outside p.Location whose Functions are outside
// p.Function and share an ID with one inside.
func (a *accumulator) funcInfo(fn *profile.Function) funcInfo {
	if fn.ID < uint64(len(a.funcs)) {
		slot := &a.funcs[fn.ID]
		if slot.fn == fn {
			return slot.info
		}
		fi := functionInfo(fn.Name, fn.Filename)
		if slot.fn == nil {
			*slot = funcSlot{fn, fi}
		}
		return fi
	}
	return functionInfo(fn.Name, fn.Filename)
}

// classifyFunction decides a frame's kind from its function name and file.
func classifyFunction(name, file string) frameKind {
	if name == "" || !isGoFrame(name, file) {
		return kindC
	}
	switch name {
	case "runtime.asyncPreempt":
		return kindAsyncPreempt
	case "runtime.asyncPreempt2":
		return kindAsyncPreempt2
	case "runtime.cgocall":
		return kindCgocall
	case "runtime.cgocallback", "runtime.cgocallbackg", "runtime.cgocallbackg1":
		return kindCallback
	case "runtime._ExternalCode":
		return kindExternal
	case "runtime._LostExternalCode":
		return kindLostExternal
	case "runtime._System", "runtime._GC":
		return kindSystem
	case "runtime._VDSO":
		return kindVDSO
	}
	switch {
	case strings.HasPrefix(name, "runtime.asyncPreempt2."):
		return kindAsyncPreempt2
	case strings.HasPrefix(name, "runtime.asmcgocall"):
		return kindAsmcgocall
	case isCgoGlue(name):
		return kindGlue
	case strings.HasPrefix(name, "runtime.") || strings.HasPrefix(name, "internal/runtime/") ||
		strings.HasPrefix(name, "runtime/internal/"):
		return kindRuntime
	case !hasPackage(name) && inRuntimeDir(file):
		// The runtime's file-local assembly functions carry no package
		// ("gosave_systemstack_switch", from runtime/asm_amd64.s): their
		// file says whose they are.
		return kindRuntime
	}
	return kindGo
}

// hasPackage reports whether a Go function name is qualified by its package:
// a dot in its last path element, before any receiver's parenthesis
// ("example.com/x/runtime.F", "runtime.(*T).m"), as against the bare names of
// file-local assembly functions ("gosave_systemstack_switch").
func hasPackage(name string) bool {
	if i := strings.IndexByte(name, '('); i >= 0 {
		name = name[:i]
	}
	if i := strings.LastIndexByte(name, '/'); i >= 0 {
		name = name[i+1:]
	}
	return strings.IndexByte(name, '.') > 0
}

// inRuntimeDir reports whether a source file is in the runtime's own
// directory: "/usr/local/go/src/runtime/asm_amd64.s", or "runtime/asm_amd64.s"
// in a -trimpath build. (Only unqualified names are judged by their file, so
// a user package whose directory is also called runtime keeps its functions,
// which are qualified.)
func inRuntimeDir(file string) bool {
	dir, base := file, ""
	if i := strings.LastIndexByte(file, '/'); i >= 0 {
		dir, base = file[:i], file[i+1:]
	}
	if base == "" {
		return false
	}
	return dir == "runtime" || strings.HasSuffix(dir, "/runtime")
}

// isCgoGlue reports whether a Go function is code cgo generates around a call
// (or the runtime's cgo pointer checks it calls).
func isCgoGlue(name string) bool {
	base := baseName(name)
	for _, prefix := range []string{"_Cfunc_", "_cgo_", "_cgoexp_", "_Cgo_", "_cgoCheck"} {
		if strings.HasPrefix(base, prefix) {
			return true
		}
	}
	for _, prefix := range []string{"runtime.cgoCheck", "runtime.cgoIsGoPointer", "runtime.cgoInRange"} {
		if strings.HasPrefix(name, prefix) {
			return true
		}
	}
	return false
}

// baseName strips the package path and package name from a Go function name:
// "github.com/a/b.(*T).F" → "(*T).F", "main._Cfunc_f" → "_Cfunc_f". Names
// without a package ("_cgoexp_1234_f") come back unchanged.
func baseName(name string) string {
	rest := name
	if i := strings.LastIndexByte(rest, '/'); i >= 0 {
		rest = rest[i+1:]
	}
	if i := strings.IndexByte(rest, '.'); i >= 0 {
		return rest[i+1:]
	}
	return name
}

// isGoFrame tells Go frames from native ones. The file decides when the
// profile has one: Go frames come from .go and .s files (and generated
// wrappers); cgo's own glue lives in _cgo_gotypes.go even though its names
// carry no package. Without a file, a Go name has a package qualifier, while
// C names do not (GCC's clones such as "f.cold" or "f.part.0" are C).
func isGoFrame(name, file string) bool {
	if file != "" {
		return strings.HasSuffix(file, ".go") || strings.HasSuffix(file, ".s") || file == "<autogenerated>"
	}
	base := name
	if i := strings.LastIndexByte(base, '/'); i >= 0 {
		base = base[i+1:]
	}
	if strings.HasPrefix(base, "_cgo") || strings.HasPrefix(base, "_Cgo") {
		return true
	}
	dot := strings.IndexByte(base, '.')
	if dot <= 0 {
		return false
	}
	for _, suffix := range []string{".cold", ".part.", ".isra.", ".constprop.", ".lto_priv.", ".localalias", ".clone."} {
		if strings.Contains(base, suffix) {
			return false
		}
	}
	return true
}
