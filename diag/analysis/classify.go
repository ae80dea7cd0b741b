package analysis

// verdict is the classification of one stack: its bucket and the frames that
// attribution needs.
type verdict struct {
	bucket Bucket
	// victim is the index of the interrupted frame, for async_preempt; -1
	// otherwise.
	victim int
}

// classify puts one stack (leaf first, inlined frames expanded) in a bucket.
// The rules are applied in order; the package documentation describes them.
func classify(frames []sframe) verdict {
	n := len(frames)
	if n == 0 {
		return verdict{BucketRuntimeNoStack, -1}
	}
	leaf, root := frames[0], frames[n-1]

	// The runtime's abstract stacks for code it could not walk. (The same
	// pass notes what the preemption rule below looks for.)
	external := false
	anyGo := false
	preemptSched := false
	for i, f := range frames {
		switch f.kind {
		case kindLostExternal:
			return verdict{BucketExternalLost, -1}
		case kindExternal:
			external = true
		case kindAsyncPreempt2:
			preemptSched = true
		case kindAsyncPreempt:
			preemptSched = preemptSched || i > 0
		}
		anyGo = anyGo || f.goAnchor
	}
	if external {
		if root.kind == kindSystem {
			return verdict{BucketExternalNoStack, -1}
		}
		return verdict{BucketExternalThread, -1}
	}
	if root.kind == kindSystem || leaf.kind == kindVDSO {
		return verdict{BucketRuntimeNoStack, -1}
	}
	if !anyGo {
		// Only native frames: a thread Go does not own, unwound by a cgo
		// traceback function.
		return verdict{BucketExternalThread, -1}
	}

	if leaf.kind == kindAsyncPreempt {
		victim := -1
		if n > 1 {
			victim = 1
		}
		return verdict{BucketAsyncPreempt, victim}
	}
	if preemptSched {
		// asyncPreempt2, or asyncPreempt below the leaf.
		return verdict{BucketPreemptSched, -1}
	}

	// Walk from the leaf to the first cgo boundary; what lies leafward of it
	// decides.
	sawC, sawUserGo, sawGlue := false, false, false
	for i, f := range frames {
		switch f.kind {
		case kindC:
			sawC = true
		case kindGo:
			sawUserGo = true
		case kindGlue:
			sawGlue = true
		case kindAsmcgocall:
			// The runtime also switches to the C stack for its own libc
			// calls; only a call made through runtime.cgocall is the
			// program's cgo.
			if i+1 < n && frames[i+1].kind == kindCgocall || hasCfuncBelow(frames[i+1:]) {
				if i > 0 && !sawC {
					// Only runtime frames above it: asmcgocall's own
					// work before the C call (saving the goroutine's
					// state to switch stacks), as with cgocall below.
					return verdict{BucketCgoCrossing, -1}
				}
				return verdict{BucketCgoC, -1}
			}
			return verdict{BucketGo, -1}
		case kindCgocall:
			if i == 0 || sawC {
				// No C frames (no cgo traceback): the sample stopped at
				// runtime.cgocall, which stands for the C code it called.
				return verdict{BucketCgoC, -1}
			}
			// Only runtime frames and glue above cgocall: entersyscall,
			// exitsyscall.
			return verdict{BucketCgoCrossing, -1}
		case kindCallback:
			// Only runtime frames and glue above the callback boundary: the
			// runtime's side of entering Go from C. (User Go code above it
			// returned Go below.)
			return verdict{BucketCgoCrossing, -1}
		}
		if sawUserGo {
			if sawGlue {
				// Glue (a _Cfunc_ stub, a pointer check) above the first
				// user frame.
				return verdict{BucketCgoCrossing, -1}
			}
			// Go code reached before any glue or boundary: plain Go, even
			// if a cgo call sits further down the stack.
			return verdict{BucketGo, -1}
		}
	}
	if sawGlue {
		return verdict{BucketCgoCrossing, -1}
	}
	return verdict{BucketGo, -1}
}

// hasCfuncBelow reports whether a _Cfunc_ stub appears within the first few
// frames rootward: the user's cgo call, as opposed to the runtime's own.
func hasCfuncBelow(frames []sframe) bool {
	for i, f := range frames {
		if i >= 4 {
			break
		}
		if f.isCfunc {
			return true
		}
	}
	return false
}
