package synthprof

import (
	"math/rand/v2"

	"github.com/google/pprof/profile"
)

// afterStream is the random stream Pair draws the second profile's stacks
// from (Generate's is 0x9e3779b97f4a7c15).
const afterStream = 0x6a09e667f3bcc909

// Pair builds two CPU profiles of the same program, as if it had been
// profiled twice, 30 s apart: before is Generate(records, seed); after has
// the same mappings, functions and Locations (the same call graph) and
// records drawn anew from the same mix, so the two share their functions but
// few of their stacks, and their shares differ by sampling noise only. For
// comparing a before with an after. The same records and seed always give
// the same pair.
func Pair(records int, seed int64) (before, after *profile.Profile) {
	before = Generate(records, seed)
	g := newGen(seed)
	g.buildGraph()
	g.r = rand.New(rand.NewPCG(uint64(seed), afterStream))
	g.p.TimeNanos += g.p.DurationNanos
	g.generate(max(records, 0))
	return before, g.p
}
