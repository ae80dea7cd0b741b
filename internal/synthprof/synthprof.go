// Package synthprof builds synthetic Go CPU profiles shaped like the ones
// runtime/pprof writes, for benchmarks and the bench harness. It is internal
// to the module: not an API.
//
// A generated profile has the sample types samples/count and cpu/nanoseconds,
// the period type cpu/nanoseconds at 100 Hz, a main binary mapping and a few
// shared-library mappings, a pool of a few thousand Locations over Go-looking
// functions (main.*, github.com/... methods, net/http.*, encoding/json.*,
// runtime.*) with line numbers and some inlined lines, and stacks drawn from
// a layered call graph. Most records are ordinary Go stacks 8 to 48
// Locations deep; the rest mix in what a classifier has to tell apart:
// runtime.asyncPreempt leaves, the scheduler after a preemption, cgo calls
// (runtime.cgocall under a _Cfunc_ stub, with and without C frames), cgo
// crossing overhead, C→Go callbacks, GC and scheduler stacks, threads Go does
// not own, and the runtime's abstract stacks (_ExternalCode, _System, _GC,
// _VDSO, _LostExternalCode).
//
// Every record has a distinct stack, and the output depends only on the
// arguments.
package synthprof

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"

	"github.com/google/pprof/profile"
)

// Period is the sampling period of generated profiles: 10 ms, runtime/pprof's
// default 100 Hz.
const Period = 10_000_000

// Generate builds a CPU profile with the given number of sample records (each
// a distinct stack). The same records and seed always give the same profile.
func Generate(records int, seed int64) *profile.Profile {
	g := newGen(seed)
	g.buildGraph()
	g.generate(max(records, 0))
	return g.p
}

// Bytes is Generate's profile serialized the way runtime/pprof writes it:
// protobuf, gzipped at gzip.BestSpeed.
func Bytes(records int, seed int64) []byte {
	return Encode(Generate(records, seed))
}

// Encode serializes a profile the way runtime/pprof does (gzip.BestSpeed).
func Encode(p *profile.Profile) []byte {
	var raw bytes.Buffer
	if err := p.WriteUncompressed(&raw); err != nil {
		panic(fmt.Sprintf("synthprof: encoding: %v", err))
	}
	var out bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&out, gzip.BestSpeed)
	if _, err := zw.Write(raw.Bytes()); err != nil {
		panic(fmt.Sprintf("synthprof: compressing: %v", err))
	}
	if err := zw.Close(); err != nil {
		panic(fmt.Sprintf("synthprof: compressing: %v", err))
	}
	return out.Bytes()
}

const (
	goroot  = "/usr/local/go/src/"
	modroot = "/root/go/pkg/mod/"
	appRoot = "/src/shop/"

	graphLevels   = 60 // levels of the user call graph
	nodesPerLevel = 24
	minDepth      = 8
	maxDepth      = 48
)

type gen struct {
	r *rand.Rand
	p *profile.Profile

	mainMap, sqliteMap, libcMap, vdsoMap, anonMap *profile.Mapping
	nextAddr                                      map[*profile.Mapping]uint64

	funcs map[string]*profile.Function
	// rt holds the Locations of runtime and other fixed functions by name.
	rt map[string][]*profile.Location

	levels  [][]*node
	helpers []*profile.Function // small functions that get inlined
	cgoPkgs []cgoPkg
	cFuncs  []*profile.Location // C code called through cgo (sqlite mapping)
	libc    []*profile.Location // libc code
	anonC   []*profile.Location // unsymbolized native PCs
	threadC [][]*profile.Location

	seen map[string]bool
	key  []byte
}

type node struct {
	fn      *profile.Function
	locs    []*profile.Location // PCs in fn: call sites and leaf PCs
	callees []*node
}

type cgoPkg struct {
	user   []*node             // Go functions of the package that make cgo calls
	stubs  []*profile.Location // pkg._Cfunc_* stubs
	cfuncs []*profile.Location // the C functions the stubs call, same order
	exp    []*profile.Location // pkg._cgoexp_* wrappers for callbacks
	cb     []*node             // the Go callbacks they call
}

func newGen(seed int64) *gen {
	g := &gen{
		r:        rand.New(rand.NewPCG(uint64(seed), 0x9e3779b97f4a7c15)),
		nextAddr: map[*profile.Mapping]uint64{},
		funcs:    map[string]*profile.Function{},
		rt:       map[string][]*profile.Location{},
		seen:     map[string]bool{},
	}
	g.p = &profile.Profile{
		SampleType: []*profile.ValueType{
			{Type: "samples", Unit: "count"},
			{Type: "cpu", Unit: "nanoseconds"},
		},
		PeriodType:    &profile.ValueType{Type: "cpu", Unit: "nanoseconds"},
		Period:        Period,
		TimeNanos:     1_767_225_600_000_000_000 + seed%1_000_000_000,
		DurationNanos: 30_000_000_000,
	}
	g.mainMap = g.mapping(0x400000, 0x2600000, 0, "/usr/local/bin/shopd", "6a1f0c9e5b7d2e4f8a3c1b0d9e8f7a6b5c4d3e2f", true)
	g.sqliteMap = g.mapping(0x7f3a1c000000, 0x7f3a1c140000, 0, "/usr/lib/x86_64-linux-gnu/libsqlite3.so.0.8.6", "e1d2c3b4a5968778695a4b3c2d1e0f1a2b3c4d5e", true)
	g.libcMap = g.mapping(0x7f3a1d000000, 0x7f3a1d1c8000, 0x28000, "/usr/lib/x86_64-linux-gnu/libc.so.6", "9b1d2f3a4c5e6f708192a3b4c5d6e7f8091a2b3c", true)
	g.vdsoMap = g.mapping(0x7ffd4b5f0000, 0x7ffd4b5f2000, 0, "[vdso]", "", true)
	// Native code no file backs (a JIT, an anonymous mapping): its PCs stay
	// unsymbolized, as runtime/pprof leaves them.
	g.anonMap = g.mapping(0x7f3a20000000, 0x7f3a20400000, 0, "", "", false)
	return g
}

func (g *gen) mapping(start, limit, offset uint64, file, buildID string, symbolized bool) *profile.Mapping {
	m := &profile.Mapping{
		ID: uint64(len(g.p.Mapping) + 1), Start: start, Limit: limit, Offset: offset,
		File: file, BuildID: buildID,
		HasFunctions: symbolized, HasFilenames: symbolized, HasLineNumbers: symbolized, HasInlineFrames: symbolized,
	}
	g.p.Mapping = append(g.p.Mapping, m)
	g.nextAddr[m] = start + 0x1000
	return m
}

// fn returns the Function with this name, creating it.
func (g *gen) fn(name, file string) *profile.Function {
	if f := g.funcs[name]; f != nil {
		return f
	}
	f := &profile.Function{
		ID: uint64(len(g.p.Function) + 1), Name: name, SystemName: name, Filename: file,
		StartLine: int64(20 + g.r.IntN(900)),
	}
	g.p.Function = append(g.p.Function, f)
	g.funcs[name] = f
	return f
}

// loc adds a Location in m whose lines are given leaf first (an inlined
// chain when there are several).
func (g *gen) loc(m *profile.Mapping, lines ...profile.Line) *profile.Location {
	addr := g.nextAddr[m] + uint64(4+g.r.IntN(60))
	g.nextAddr[m] = addr
	l := &profile.Location{ID: uint64(len(g.p.Location) + 1), Mapping: m, Address: addr, Line: lines}
	g.p.Location = append(g.p.Location, l)
	return l
}

// line is a line of f a little after its start.
func (g *gen) line(f *profile.Function) profile.Line {
	return profile.Line{Function: f, Line: f.StartLine + int64(1+g.r.IntN(60))}
}

// fixed registers a function with n Locations (PCs) and returns them.
func (g *gen) fixed(name, file string, n int) []*profile.Location {
	if locs := g.rt[name]; locs != nil {
		return locs
	}
	f := g.fn(name, file)
	locs := make([]*profile.Location, n)
	for i := range locs {
		locs[i] = g.loc(g.mainMap, g.line(f))
	}
	g.rt[name] = locs
	return locs
}

// pick returns a random Location of a fixed function.
func (g *gen) pick(name string) *profile.Location {
	locs := g.rt[name]
	if locs == nil {
		panic("synthprof: unregistered function " + name)
	}
	return locs[g.r.IntN(len(locs))]
}

// Vocabulary for function names.
var (
	verbs = []string{"Get", "Put", "Load", "Store", "Parse", "Encode", "Decode", "Handle", "Serve", "Process",
		"Compute", "Apply", "Merge", "Scan", "Build", "Flush", "Write", "Read", "Lookup", "Validate",
		"Render", "Resolve", "Update", "Sync", "Fetch", "Split", "Join", "Sort", "Filter", "Hash"}
	nouns = []string{"Order", "Cart", "User", "Session", "Item", "Price", "Index", "Block", "Page", "Row",
		"Batch", "Token", "Header", "Record", "Entry", "Query", "Plan", "Stream", "Frame", "Chunk",
		"Tree", "Node", "Cache", "Shard", "Event", "Metric", "Span", "Label", "Schema", "Field"}
	types = []string{"Server", "Client", "Store", "DB", "Tx", "Conn", "Pool", "Encoder", "Decoder", "Reader",
		"Writer", "Router", "Handler", "Cache", "Queue", "Worker", "Parser", "Builder", "Planner", "Index"}
)

// A package band: packages used at some depth of the call graph.
type pkgSpec struct {
	path  string
	dir   string   // directory for file names
	files []string // base names of its files
}

func appPkg(path string, files ...string) pkgSpec {
	rel := strings.TrimPrefix(path, "github.com/acme/shop/")
	if path == "main" {
		rel = "cmd/shopd"
	}
	return pkgSpec{path: path, dir: appRoot + rel + "/", files: files}
}

func modPkg(path, version string, files ...string) pkgSpec {
	// Module paths in the cache keep the major-version suffix in the path.
	mod, sub := path, ""
	if parts := strings.SplitN(path, "/", 4); len(parts) == 4 {
		mod, sub = strings.Join(parts[:3], "/"), parts[3]+"/"
	}
	return pkgSpec{path: path, dir: modroot + mod + "@" + version + "/" + sub, files: files}
}

func stdPkg(path string, files ...string) pkgSpec {
	return pkgSpec{path: path, dir: goroot + path + "/", files: files}
}

// bands lists the packages by depth in the call graph: handlers at the top,
// then services, libraries, and the standard library at the bottom.
var bands = [][]pkgSpec{
	{appPkg("main", "main.go", "server.go", "routes.go"),
		appPkg("github.com/acme/shop/api", "handlers.go", "middleware.go", "auth.go")},
	{appPkg("github.com/acme/shop/internal/cart", "cart.go", "checkout.go"),
		appPkg("github.com/acme/shop/internal/catalog", "catalog.go", "search.go", "ranking.go"),
		appPkg("github.com/acme/shop/internal/pricing", "pricing.go", "rules.go"),
		appPkg("github.com/acme/shop/internal/store", "store.go", "query.go", "tx.go")},
	{modPkg("github.com/jackc/pgx/v5/pgconn", "v5.7.2", "pgconn.go", "execer.go"),
		modPkg("google.golang.org/grpc/internal/transport", "v1.71.0", "http2_server.go", "controlbuf.go"),
		modPkg("github.com/prometheus/client_golang/prometheus", "v1.21.1", "histogram.go", "counter.go"),
		modPkg("go.uber.org/zap/zapcore", "v1.27.0", "json_encoder.go", "core.go"),
		modPkg("golang.org/x/net/http2", "v0.38.0", "frame.go", "server.go"),
		stdPkg("database/sql", "sql.go", "convert.go"),
		stdPkg("net/http", "server.go", "transport.go", "header.go", "h2_bundle.go")},
	{stdPkg("encoding/json", "encode.go", "decode.go", "scanner.go", "indent.go"),
		stdPkg("text/template", "exec.go", "funcs.go"),
		stdPkg("regexp", "exec.go", "backtrack.go", "regexp.go"),
		stdPkg("compress/flate", "deflate.go", "huffman_code.go", "inflate.go"),
		stdPkg("crypto/tls", "conn.go", "handshake_server.go"),
		stdPkg("reflect", "value.go", "type.go", "map_swiss.go"),
		stdPkg("bufio", "bufio.go", "scan.go"),
		stdPkg("fmt", "print.go", "format.go")},
	{stdPkg("strings", "strings.go", "builder.go", "replace.go"),
		stdPkg("bytes", "bytes.go", "buffer.go"),
		stdPkg("strconv", "itoa.go", "atoi.go", "ftoa.go", "quote.go"),
		stdPkg("sort", "sort.go", "zsortfunc.go"),
		stdPkg("slices", "sort.go", "zsortanyfunc.go"),
		stdPkg("crypto/sha256", "sha256.go"),
		stdPkg("crypto/internal/fips140/aes/gcm", "gcm_generic.go", "gcm_asm.go"),
		stdPkg("hash/crc32", "crc32.go", "crc32_amd64.go"),
		stdPkg("unicode/utf8", "utf8.go"),
		stdPkg("sync", "mutex.go", "pool.go", "map.go"),
		stdPkg("io", "io.go", "multi.go"),
		stdPkg("math/big", "nat.go", "arith.go")},
}

// funcName makes a Go function name in pkg: a function, a method on a
// pointer or value receiver, a closure, or a generic instantiation.
func (g *gen) funcName(pkg string) string {
	verb, noun, typ := verbs[g.r.IntN(len(verbs))], nouns[g.r.IntN(len(nouns))], types[g.r.IntN(len(types))]
	var name string
	switch k := g.r.IntN(20); {
	case k < 5:
		name = pkg + "." + verb + noun
	case k < 7:
		name = pkg + "." + strings.ToLower(verb[:1]) + verb[1:] + noun
	case k < 13:
		name = pkg + ".(*" + typ + ")." + verb + noun
	case k < 15:
		name = pkg + "." + typ + "." + verb
	case k < 18:
		name = fmt.Sprintf("%s.(*%s).%s.func%d", pkg, typ, verb+noun, 1+g.r.IntN(3))
	default:
		name = pkg + "." + verb + noun + "[go.shape.string]"
	}
	return name
}

func (g *gen) buildGraph() {
	g.registerRuntime()

	// Small helpers that the compiler inlines into their callers.
	for _, name := range []string{
		"strings.IndexByte", "strings.HasPrefix", "bytes.(*Buffer).Len", "unicode/utf8.RuneLen",
		"sync/atomic.(*Int64).Add", "encoding/binary.bigEndian.Uint32", "math/bits.Len64",
		"github.com/acme/shop/internal/store.(*Row).get", "github.com/acme/shop/internal/cart.(*Cart).total",
		"github.com/acme/shop/internal/pricing.round", "net/http.Header.Get", "strconv.Itoa",
		"slices.Index[go.shape.[]int,go.shape.int]", "sync.(*Mutex).Lock", "sync.(*Mutex).Unlock",
		"time.Time.Before", "reflect.Value.Kind", "encoding/json.isValidNumber",
	} {
		pkg := pkgOf(name)
		file := goroot + pkg + "/" + lastElem(pkg) + ".go"
		if strings.HasPrefix(pkg, "github.com/acme/shop/") {
			file = appRoot + strings.TrimPrefix(pkg, "github.com/acme/shop/") + "/" + lastElem(pkg) + ".go"
		}
		g.helpers = append(g.helpers, g.fn(name, file))
	}

	// The layered call graph: level 0 are handlers, the last levels the
	// standard library's leaves.
	g.levels = make([][]*node, graphLevels)
	used := map[*profile.Function]bool{}
	for lv := range g.levels {
		band := bands[min(lv*len(bands)/graphLevels, len(bands)-1)]
		for range nodesPerLevel {
			spec := band[g.r.IntN(len(band))]
			var f *profile.Function
			for f == nil || used[f] {
				f = g.fn(g.funcName(spec.path), spec.dir+spec.files[g.r.IntN(len(spec.files))])
			}
			used[f] = true
			n := &node{fn: f}
			for range 1 + g.r.IntN(5) {
				if g.r.IntN(5) == 0 {
					// An inlined helper at this PC: Line[0] is the inlinee.
					h := g.helpers[g.r.IntN(len(g.helpers))]
					n.locs = append(n.locs, g.loc(g.mainMap, g.line(h), g.line(f)))
				} else {
					n.locs = append(n.locs, g.loc(g.mainMap, g.line(f)))
				}
			}
			g.levels[lv] = append(g.levels[lv], n)
		}
	}
	for lv := 0; lv < graphLevels-1; lv++ {
		for _, n := range g.levels[lv] {
			for range 2 + g.r.IntN(5) {
				next := g.levels[min(lv+1+g.r.IntN(2), graphLevels-1)]
				n.callees = append(n.callees, next[g.r.IntN(len(next))])
			}
		}
	}

	// Packages that call C.
	for _, spec := range []struct {
		pkg    string
		cfuncs []string
	}{
		{"github.com/mattn/go-sqlite3", []string{"sqlite3_step", "sqlite3_prepare_v2", "sqlite3_bind_text", "sqlite3_column_blob", "_sqlite3_exec"}},
		{"github.com/acme/shop/internal/imgproc", []string{"resize_image", "encode_webp", "blur_rgba"}},
	} {
		var cp cgoPkg
		dir := appRoot + strings.TrimPrefix(spec.pkg, "github.com/acme/shop/") + "/"
		if !strings.HasPrefix(spec.pkg, "github.com/acme/") {
			dir = modroot + spec.pkg + "@v1.14.28/"
		}
		for _, c := range spec.cfuncs {
			stub := g.fn(spec.pkg+"._Cfunc_"+c, "_cgo_gotypes.go")
			cp.stubs = append(cp.stubs, g.loc(g.mainMap, g.line(stub)))
			cf := g.fn(c, "sqlite3.c")
			if strings.HasPrefix(spec.pkg, "github.com/acme/") {
				cf.Filename = dir + strings.SplitN(c, "_", 2)[0] + ".c"
			}
			m := g.sqliteMap
			if strings.HasPrefix(spec.pkg, "github.com/acme/") {
				m = g.mainMap // the package's own C code is linked into the binary
			}
			cp.cfuncs = append(cp.cfuncs, g.loc(m, g.line(cf)))
		}
		for i := range 6 {
			f := g.fn(g.funcName(spec.pkg), dir+"sqlite3.go")
			n := &node{fn: f, locs: []*profile.Location{g.loc(g.mainMap, g.line(f)), g.loc(g.mainMap, g.line(f))}}
			cp.user = append(cp.user, n)
			if i < 2 {
				cb := g.fn(fmt.Sprintf("%s.%sCallback", spec.pkg, strings.ToLower(verbs[i])), dir+"callback.go")
				cp.cb = append(cp.cb, &node{fn: cb, locs: []*profile.Location{g.loc(g.mainMap, g.line(cb))}})
				exp := g.fn(fmt.Sprintf("%s._cgoexp_%06x_%sCallback", spec.pkg, g.r.IntN(1<<24), strings.ToLower(verbs[i])), "_cgo_gotypes.go")
				cp.exp = append(cp.exp, g.loc(g.mainMap, g.line(exp)))
			}
		}
		g.cgoPkgs = append(g.cgoPkgs, cp)
	}
	// More C code in sqlite that the cgo traceback shows under the entry.
	for _, c := range []string{"sqlite3VdbeExec", "sqlite3BtreeMovetoUnpacked", "sqlite3VdbeRecordCompare", "pcache1Fetch", "sqlite3PagerGet", "memcpy@plt"} {
		g.cFuncs = append(g.cFuncs, g.loc(g.sqliteMap, g.line(g.fn(c, "sqlite3.c"))))
	}
	for _, c := range []string{"__memmove_avx_unaligned_erms", "malloc", "_int_malloc", "free", "pthread_mutex_lock", "__lll_lock_wait", "clone3", "start_thread", "epoll_wait", "read", "write"} {
		g.libc = append(g.libc, g.loc(g.libcMap, g.line(g.fn(c, ""))))
	}
	// Unsymbolized native PCs: runtime/pprof gives them a function with no
	// name.
	anon := g.fn("", "")
	for range 40 {
		g.anonC = append(g.anonC, g.loc(g.anonMap, profile.Line{Function: anon}))
	}
	// Native thread bodies (a C library's worker threads).
	for range 8 {
		depth := 3 + g.r.IntN(6)
		var th []*profile.Location
		for range depth {
			th = append(th, g.cFuncs[g.r.IntN(len(g.cFuncs))])
		}
		g.threadC = append(g.threadC, th)
	}
}

func pkgOf(name string) string {
	slash := strings.LastIndexByte(name, '/')
	dot := strings.IndexByte(name[slash+1:], '.')
	return name[:slash+1+dot]
}

func lastElem(pkg string) string {
	return pkg[strings.LastIndexByte(pkg, '/')+1:]
}

// runtimeFuncs are the runtime and fixed functions, with their files and how
// many PCs of each show up.
var runtimeFuncs = []struct {
	name, file string
	pcs        int
}{
	{"runtime.main", "runtime/proc.go", 1},
	{"runtime.mstart", "runtime/asm_amd64.s", 1},
	{"runtime.mstart0", "runtime/proc.go", 1},
	{"runtime.mstart1", "runtime/proc.go", 1},
	{"runtime.mcall", "runtime/asm_amd64.s", 1},
	{"runtime.systemstack", "runtime/asm_amd64.s", 2},
	{"runtime.schedule", "runtime/proc.go", 3},
	{"runtime.findRunnable", "runtime/proc.go", 6},
	{"runtime.stopm", "runtime/proc.go", 1},
	{"runtime.mPark", "runtime/proc.go", 1},
	{"runtime.notesleep", "runtime/lock_futex.go", 1},
	{"runtime.futexsleep", "runtime/os_linux.go", 1},
	{"runtime.futexwakeup", "runtime/os_linux.go", 1},
	{"runtime.notewakeup", "runtime/lock_futex.go", 1},
	{"runtime.futex", "runtime/sys_linux_amd64.s", 2},
	{"runtime.startm", "runtime/proc.go", 2},
	{"runtime.wakep", "runtime/proc.go", 1},
	{"runtime.resetspinning", "runtime/proc.go", 1},
	{"runtime.park_m", "runtime/proc.go", 2},
	{"runtime.gopreempt_m", "runtime/proc.go", 1},
	{"runtime.goschedImpl", "runtime/proc.go", 2},
	{"runtime.netpoll", "runtime/netpoll_epoll.go", 3},
	{"internal/runtime/syscall.EpollWait", "internal/runtime/syscall/syscall_linux.go", 1},
	{"internal/runtime/syscall.Syscall6", "internal/runtime/syscall/asm_linux_amd64.s", 2},
	{"runtime.asyncPreempt", "runtime/preempt_amd64.s", 1},
	{"runtime.asyncPreempt2", "runtime/preempt.go", 1},
	{"runtime.cgocall", "runtime/cgocall.go", 3},
	{"runtime.asmcgocall", "runtime/asm_amd64.s", 2},
	{"runtime.entersyscall", "runtime/proc.go", 1},
	{"runtime.reentersyscall", "runtime/proc.go", 2},
	{"runtime.exitsyscall", "runtime/proc.go", 3},
	{"runtime.exitsyscallfast", "runtime/proc.go", 1},
	{"runtime.casgstatus", "runtime/proc.go", 2},
	{"runtime.cgocallback", "runtime/asm_amd64.s", 1},
	{"runtime.cgocallbackg", "runtime/cgocall.go", 1},
	{"runtime.cgocallbackg1", "runtime/cgocall.go", 1},
	{"runtime.cgoCheckPointer", "runtime/cgocall.go", 1},
	{"runtime.cgoCheckArg", "runtime/cgocall.go", 2},
	{"runtime.cgoIsGoPointer", "runtime/cgocall.go", 1},
	{"runtime._ExternalCode", "runtime/proc.go", 1},
	{"runtime._LostExternalCode", "runtime/proc.go", 1},
	{"runtime._System", "runtime/proc.go", 1},
	{"runtime._GC", "runtime/proc.go", 1},
	{"runtime._VDSO", "runtime/proc.go", 1},
	{"runtime.nanotime1", "runtime/sys_linux_amd64.s", 1},
	{"runtime.mallocgc", "runtime/malloc.go", 6},
	{"runtime.mallocgcSmallNoscan", "runtime/malloc.go", 3},
	{"runtime.mallocgcSmallScanNoHeader", "runtime/malloc.go", 3},
	{"runtime.newobject", "runtime/malloc.go", 1},
	{"runtime.makeslice", "runtime/slice.go", 1},
	{"runtime.growslice", "runtime/slice.go", 3},
	{"runtime.memmove", "runtime/memmove_amd64.s", 4},
	{"runtime.memclrNoHeapPointers", "runtime/memclr_amd64.s", 3},
	{"runtime.mapaccess2_faststr", "internal/runtime/maps/runtime_faststr_swiss.go", 2},
	{"runtime.mapassign_faststr", "internal/runtime/maps/runtime_faststr_swiss.go", 2},
	{"internal/runtime/maps.(*Map).getWithKeySmall", "internal/runtime/maps/map.go", 2},
	{"runtime.selectgo", "runtime/select.go", 3},
	{"runtime.chansend1", "runtime/chan.go", 1},
	{"runtime.chansend", "runtime/chan.go", 2},
	{"runtime.lock2", "runtime/lock_spinbit.go", 2},
	{"runtime.unlock2", "runtime/lock_spinbit.go", 1},
	{"sync.(*Mutex).lockSlow", "sync/mutex.go", 2},
	{"internal/sync.(*Mutex).lockSlow", "internal/sync/mutex.go", 2},
	{"sync.runtime_SemacquireMutex", "runtime/sema.go", 1},
	{"runtime.semacquire1", "runtime/sema.go", 2},
	{"syscall.Syscall", "syscall/syscall_linux.go", 1},
	{"syscall.write", "syscall/zsyscall_linux_amd64.go", 1},
	{"syscall.read", "syscall/zsyscall_linux_amd64.go", 1},
	{"internal/poll.(*FD).Write", "internal/poll/fd_unix.go", 2},
	{"internal/poll.(*FD).Read", "internal/poll/fd_unix.go", 2},
	{"runtime.morestack", "runtime/asm_amd64.s", 1},
	{"runtime.newstack", "runtime/stack.go", 2},
	{"runtime.copystack", "runtime/stack.go", 2},
	{"runtime.gcBgMarkWorker", "runtime/mgc.go", 2},
	{"runtime.gcBgMarkWorker.func2", "runtime/mgc.go", 2},
	{"runtime.gcDrainMarkWorkerDedicated", "runtime/mgcmark.go", 1},
	{"runtime.gcDrainMarkWorkerIdle", "runtime/mgcmark.go", 1},
	{"runtime.gcDrain", "runtime/mgcmark.go", 5},
	{"runtime.gcDrainN", "runtime/mgcmark.go", 2},
	{"runtime.markroot", "runtime/mgcmark.go", 2},
	{"runtime.markroot.func1", "runtime/mgcmark.go", 1},
	{"runtime.scanstack", "runtime/mgcmark.go", 2},
	{"runtime.scanframeworker", "runtime/mgcmark.go", 2},
	{"runtime.scanobject", "runtime/mgcmark.go", 6},
	{"runtime.scanblock", "runtime/mgcmark.go", 2},
	{"runtime.greyobject", "runtime/mgcmark.go", 3},
	{"runtime.findObject", "runtime/mbitmap.go", 3},
	{"runtime.(*gcWork).tryGetFast", "runtime/mgcwork.go", 1},
	{"runtime.(*gcBits).bitp", "runtime/mheap.go", 1},
	{"runtime.deductAssistCredit", "runtime/mgcmark.go", 1},
	{"runtime.gcAssistAlloc", "runtime/mgcmark.go", 2},
	{"runtime.gcAssistAlloc.func1", "runtime/mgcmark.go", 1},
	{"runtime.gcAssistAlloc1", "runtime/mgcmark.go", 2},
	{"runtime.bgsweep", "runtime/mgcsweep.go", 2},
	{"runtime.sweepone", "runtime/mgcsweep.go", 2},
	{"runtime.(*sweepLocked).sweep", "runtime/mgcsweep.go", 4},
	{"net/http.(*conn).serve", "net/http/server.go", 3},
	{"net/http.serverHandler.ServeHTTP", "net/http/server.go", 1},
	{"net/http.(*ServeMux).ServeHTTP", "net/http/server.go", 1},
	{"net/http.HandlerFunc.ServeHTTP", "net/http/server.go", 1},
	{"google.golang.org/grpc.(*Server).serveStreams.func2.1", modroot + "google.golang.org/grpc@v1.71.0/server.go", 1},
	{"google.golang.org/grpc.(*Server).handleStream", modroot + "google.golang.org/grpc@v1.71.0/server.go", 1},
	{"google.golang.org/grpc.(*Server).processUnaryRPC", modroot + "google.golang.org/grpc@v1.71.0/server.go", 2},
	{"main.main", appRoot + "cmd/shopd/main.go", 2},
	{"main.(*pool).run.func1", appRoot + "cmd/shopd/pool.go", 1},
}

func (g *gen) registerRuntime() {
	for _, rf := range runtimeFuncs {
		file := rf.file
		if !strings.HasPrefix(file, "/") {
			file = goroot + file
		}
		g.fixed(rf.name, file, rf.pcs)
	}
	// crosscall2 is cgo's C entry into Go, in C (the main binary).
	g.rt["crosscall2"] = []*profile.Location{g.loc(g.mainMap, g.line(g.fn("crosscall2", "gcc_amd64.S")))}
	g.rt["__vdso_clock_gettime"] = []*profile.Location{g.loc(g.vdsoMap, g.line(g.fn("__vdso_clock_gettime", "")))}
}

// Record shapes and their weights (per mille of records).
type shape int

const (
	shapeGo shape = iota
	shapeGoRuntimeTail
	shapeAsyncPreempt
	shapePreemptSched
	shapeCgoCall      // sample stops at runtime.cgocall (no cgo traceback)
	shapeCgoTraceback // C frames above runtime.asmcgocall
	shapeCgoSyscall   // entersyscall/exitsyscall above runtime.cgocall
	shapeCgoGlue      // the _Cfunc_ stub or pointer checks at the leaf
	shapeCallback     // Go called back from C
	shapeGCWorker
	shapeGCAssist
	shapeScheduler
	shapeNativeThread // a C library's own thread, unwound by cgo traceback
	shapeAbstract     // the runtime's two-frame stacks (_ExternalCode etc.)
	numShapes
)

var shapeWeights = [numShapes]int{
	shapeGo:            420,
	shapeGoRuntimeTail: 250,
	shapeAsyncPreempt:  90,
	shapePreemptSched:  20,
	shapeCgoCall:       50,
	shapeCgoTraceback:  15,
	shapeCgoSyscall:    20,
	shapeCgoGlue:       10,
	shapeCallback:      10,
	shapeGCWorker:      40,
	shapeGCAssist:      30,
	shapeScheduler:     25,
	shapeNativeThread:  15,
	shapeAbstract:      5,
}

// runtimeTails are runtime call chains (root first) that Go code ends in.
var runtimeTails = [][]string{
	{"runtime.newobject", "runtime.mallocgc", "runtime.mallocgcSmallScanNoHeader"},
	{"runtime.makeslice", "runtime.mallocgc", "runtime.mallocgcSmallNoscan", "runtime.memclrNoHeapPointers"},
	{"runtime.growslice", "runtime.mallocgc", "runtime.mallocgcSmallNoscan"},
	{"runtime.growslice", "runtime.memmove"},
	{"runtime.memmove"},
	{"runtime.mapaccess2_faststr", "internal/runtime/maps.(*Map).getWithKeySmall"},
	{"runtime.mapassign_faststr"},
	{"runtime.selectgo"},
	{"runtime.chansend1", "runtime.chansend", "runtime.lock2"},
	{"sync.(*Mutex).lockSlow", "internal/sync.(*Mutex).lockSlow", "sync.runtime_SemacquireMutex", "runtime.semacquire1"},
	{"internal/poll.(*FD).Write", "syscall.write", "syscall.Syscall", "internal/runtime/syscall.Syscall6"},
	{"internal/poll.(*FD).Read", "syscall.read", "syscall.Syscall", "internal/runtime/syscall.Syscall6"},
	{"runtime.morestack", "runtime.newstack", "runtime.copystack", "runtime.memmove"},
}

func (g *gen) generate(records int) {
	total := 0
	for _, w := range shapeWeights {
		total += w
	}
	g.p.Sample = make([]*profile.Sample, 0, records)
	// The abstract stacks come first (there are only a few of them, and a
	// small profile should still show them); _LostExternalCode last.
	abstract := g.abstractStacks()
	for len(g.p.Sample) < records {
		var stack []*profile.Location
		if len(g.p.Sample) < len(abstract) && len(g.p.Sample) < records/100 {
			stack = abstract[len(g.p.Sample)]
		} else {
			w := g.r.IntN(total)
			sh := shape(0)
			for ; w >= shapeWeights[sh]; sh++ {
				w -= shapeWeights[sh]
			}
			if sh == shapeAbstract {
				// A thread Go does not own, without a cgo traceback:
				// sigprofNonGoPC's [pc, _ExternalCode].
				leaf := g.anonC[g.r.IntN(len(g.anonC))]
				if g.r.IntN(2) == 0 {
					leaf = g.libc[g.r.IntN(len(g.libc))]
				}
				stack = []*profile.Location{leaf, g.pick("runtime._ExternalCode")}
			} else {
				stack = g.stack(sh)
			}
		}
		if len(stack) > maxDepth || !g.distinct(stack) {
			continue
		}
		count := g.count()
		g.p.Sample = append(g.p.Sample, &profile.Sample{
			Location: stack,
			Value:    []int64{count, count * Period},
		})
	}
	// Shuffle so that the abstract stacks are not all at the front, as in
	// a real profile whose records are in first-seen order.
	g.r.Shuffle(len(g.p.Sample), func(i, j int) { g.p.Sample[i], g.p.Sample[j] = g.p.Sample[j], g.p.Sample[i] })
}

// count draws a sample count: most stacks are seen once, a few many times.
func (g *gen) count() int64 {
	switch x := g.r.Float64(); {
	case x < 0.70:
		return 1
	case x < 0.90:
		return int64(2 + g.r.IntN(3))
	case x < 0.99:
		return int64(5 + g.r.IntN(40))
	default:
		return int64(50 + g.r.IntN(950))
	}
}

func (g *gen) distinct(stack []*profile.Location) bool {
	g.key = g.key[:0]
	for _, l := range stack {
		g.key = strconv.AppendUint(g.key, l.ID, 10)
		g.key = append(g.key, ',')
	}
	if g.seen[string(g.key)] {
		return false
	}
	g.seen[string(g.key)] = true
	return true
}

// abstractStacks are the runtime's stacks for code it could not walk, as
// sigprof builds them (leaf first).
func (g *gen) abstractStacks() [][]*profile.Location {
	ext, sys, gc, vdso := g.pick("runtime._ExternalCode"), g.pick("runtime._System"), g.pick("runtime._GC"), g.pick("runtime._VDSO")
	return [][]*profile.Location{
		{ext, sys},
		{ext, gc},
		{vdso, sys},
		{g.rt["__vdso_clock_gettime"][0], g.pick("runtime.nanotime1"), sys},
		{sys},
		{gc},
		{g.pick("runtime._LostExternalCode")},
		{g.anonC[0], ext},
		{g.libc[0], ext},
	}
}

// stack builds one stack, leaf first.
func (g *gen) stack(sh shape) []*profile.Location {
	depth := minDepth + g.r.IntN(maxDepth-minDepth+1)
	// Built root first, reversed at the end.
	var s []*profile.Location
	names := func(ns ...string) {
		for _, n := range ns {
			s = append(s, g.pick(n))
		}
	}
	switch sh {
	case shapeGCWorker:
		// runtime/pprof drops runtime.goexit, the root of every goroutine.
		names("runtime.gcBgMarkWorker", "runtime.systemstack", "runtime.gcBgMarkWorker.func2")
		if g.r.IntN(2) == 0 {
			names("runtime.gcDrainMarkWorkerDedicated")
		} else {
			names("runtime.gcDrainMarkWorkerIdle")
		}
		names("runtime.gcDrain")
		switch g.r.IntN(3) {
		case 0:
			names("runtime.scanobject", "runtime.greyobject", "runtime.(*gcBits).bitp")
		case 1:
			names("runtime.markroot", "runtime.markroot.func1", "runtime.scanstack", "runtime.scanframeworker", "runtime.scanblock", "runtime.findObject")
		default:
			names("runtime.scanobject", "runtime.findObject")
		}
		if g.r.IntN(3) == 0 {
			names("runtime.(*gcWork).tryGetFast")
		}
		return reversed(s)
	case shapeScheduler:
		names("runtime.mstart", "runtime.mstart0", "runtime.mstart1", "runtime.schedule", "runtime.findRunnable")
		switch g.r.IntN(3) {
		case 0:
			names("runtime.stopm", "runtime.mPark", "runtime.notesleep", "runtime.futexsleep", "runtime.futex")
		case 1:
			names("runtime.netpoll", "internal/runtime/syscall.EpollWait", "internal/runtime/syscall.Syscall6")
		default:
			names("runtime.resetspinning", "runtime.wakep", "runtime.startm", "runtime.notewakeup", "runtime.futexwakeup", "runtime.futex")
		}
		if g.r.IntN(2) == 0 {
			// Parked from a goroutine: mcall → park_m → schedule.
			s = append([]*profile.Location{g.pick("runtime.mcall"), g.pick("runtime.park_m")}, s[3:]...)
		}
		return reversed(s)
	case shapeNativeThread:
		th := g.threadC[g.r.IntN(len(g.threadC))]
		s = append(s, g.libc[6], g.libc[7]) // clone3, start_thread
		s = append(s, th...)
		for range g.r.IntN(4) {
			s = append(s, g.cFuncs[g.r.IntN(len(g.cFuncs))])
		}
		s = append(s, g.libc[g.r.IntN(5)])
		return reversed(s)
	}

	// A goroutine: an entry chain, then a walk through the call graph.
	var tail []*profile.Location // root first, appended after the walk
	tailNames := func(ns ...string) {
		for _, n := range ns {
			tail = append(tail, g.pick(n))
		}
	}
	cp := g.cgoPkgs[g.r.IntN(len(g.cgoPkgs))]
	ci := g.r.IntN(len(cp.stubs))
	cgoEntry := func() {
		tail = append(tail, cp.user[g.r.IntN(len(cp.user))].locs[g.r.IntN(2)], cp.stubs[ci])
	}
	switch sh {
	case shapeGoRuntimeTail:
		tailNames(runtimeTails[g.r.IntN(len(runtimeTails))]...)
	case shapeGCAssist:
		// An allocation that pays for marking.
		tailNames("runtime.newobject", "runtime.mallocgc", "runtime.deductAssistCredit", "runtime.gcAssistAlloc",
			"runtime.systemstack", "runtime.gcAssistAlloc.func1", "runtime.gcAssistAlloc1", "runtime.gcDrainN")
		if g.r.IntN(2) == 0 {
			tailNames("runtime.scanobject", "runtime.findObject")
		} else {
			tailNames("runtime.scanobject", "runtime.greyobject")
		}
	case shapeAsyncPreempt:
		tailNames("runtime.asyncPreempt")
	case shapePreemptSched:
		tailNames("runtime.asyncPreempt", "runtime.asyncPreempt2", "runtime.mcall", "runtime.gopreempt_m", "runtime.goschedImpl", "runtime.schedule")
		if g.r.IntN(2) == 0 {
			tailNames("runtime.findRunnable")
		} else {
			tailNames("runtime.resetspinning", "runtime.wakep", "runtime.startm", "runtime.notewakeup", "runtime.futexwakeup", "runtime.futex")
		}
	case shapeCgoCall:
		cgoEntry()
		tailNames("runtime.cgocall")
	case shapeCgoTraceback:
		cgoEntry()
		tailNames("runtime.cgocall", "runtime.asmcgocall")
		tail = append(tail, cp.cfuncs[ci])
		for range g.r.IntN(4) {
			tail = append(tail, g.cFuncs[g.r.IntN(len(g.cFuncs))])
		}
		if g.r.IntN(3) == 0 {
			tail = append(tail, g.libc[g.r.IntN(5)])
		}
	case shapeCgoSyscall:
		cgoEntry()
		tailNames("runtime.cgocall")
		switch g.r.IntN(3) {
		case 0:
			tailNames("runtime.entersyscall", "runtime.reentersyscall", "runtime.casgstatus")
		case 1:
			tailNames("runtime.exitsyscall", "runtime.exitsyscallfast")
		default:
			tailNames("runtime.exitsyscall")
		}
	case shapeCgoGlue:
		cgoEntry()
		if g.r.IntN(2) == 0 {
			tailNames("runtime.cgoCheckPointer", "runtime.cgoCheckArg", "runtime.cgoIsGoPointer")
		}
	}

	var entry []*profile.Location
	switch g.r.IntN(10) {
	case 0, 1, 2, 3:
		entry = []*profile.Location{g.pick("net/http.(*conn).serve"), g.pick("net/http.serverHandler.ServeHTTP"),
			g.pick("net/http.(*ServeMux).ServeHTTP"), g.pick("net/http.HandlerFunc.ServeHTTP")}
	case 4, 5:
		entry = []*profile.Location{g.pick("google.golang.org/grpc.(*Server).serveStreams.func2.1"),
			g.pick("google.golang.org/grpc.(*Server).handleStream"), g.pick("google.golang.org/grpc.(*Server).processUnaryRPC")}
	case 6:
		entry = []*profile.Location{g.pick("runtime.main"), g.pick("main.main")}
	default:
		entry = []*profile.Location{g.pick("main.(*pool).run.func1")}
	}
	s = append(s, entry...)

	walk := max(depth-len(entry)-len(tail), 1)
	if sh == shapeCallback {
		// Go → C → Go: the walk is split around the C call, and the
		// sample lands in the Go callback's callees.
		half := max(walk/2, 1)
		s = g.walk(s, half, 0)
		cbi := g.r.IntN(len(cp.cb))
		s = append(s, cp.user[g.r.IntN(len(cp.user))].locs[0], cp.stubs[ci], g.pick("runtime.cgocall"), g.pick("runtime.asmcgocall"))
		if g.r.IntN(2) == 0 {
			s = append(s, cp.cfuncs[ci], g.rt["crosscall2"][0])
		}
		s = append(s, g.pick("runtime.cgocallback"), g.pick("runtime.cgocallbackg"), g.pick("runtime.cgocallbackg1"), cp.exp[cbi], cp.cb[cbi].locs[0])
		s = g.walk(s, max(walk-half-9, 1), graphLevels/2)
	} else {
		s = g.walk(s, walk, 0)
	}
	s = append(s, tail...)
	return reversed(s)
}

// walk appends n frames of a path down the call graph, starting at a random
// node at or below level from.
func (g *gen) walk(s []*profile.Location, n, from int) []*profile.Location {
	lv := from + g.r.IntN(4)
	cur := g.levels[lv][g.r.IntN(nodesPerLevel)]
	for range n {
		s = append(s, cur.locs[g.r.IntN(len(cur.locs))])
		if len(cur.callees) == 0 {
			break
		}
		cur = cur.callees[g.r.IntN(len(cur.callees))]
	}
	return s
}

func reversed(s []*profile.Location) []*profile.Location {
	slices.Reverse(s)
	return s
}
