package main

import (
	"crypto/sha256"
	"encoding/binary"
	"sync"
)

// burner is the deterministic CPU-bound work the agent benchmarks run: one
// unit descends a call chain 4 to 12 frames deep and, at the bottom, hashes 4
// KiB with SHA-256, runs an integer mixing loop and insertion-sorts 64
// numbers. It allocates nothing, so any garbage collection in a child is the
// agent's doing, and its stacks have a few shapes and depths, like a small
// service's rather than a single loop's.
type burner struct {
	buf [4096]byte
	arr [64]uint32
	acc uint64
}

func newBurner(seed uint64) *burner {
	b := &burner{acc: seed}
	x := seed*0x9e3779b97f4a7c15 + 1
	for i := range b.buf {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		b.buf[i] = byte(x)
	}
	return b
}

// unit does unit number r of the work.
func (b *burner) unit(r int) { descend(b, r, 4+r%9) }

//go:noinline
func descend(b *burner, r, depth int) {
	if depth == 0 {
		switch r % 3 {
		case 0:
			hashLeaf(b)
			mixLeaf(b)
			sortLeaf(b)
		case 1:
			mixLeaf(b)
			sortLeaf(b)
			hashLeaf(b)
		default:
			sortLeaf(b)
			hashLeaf(b)
			mixLeaf(b)
		}
		return
	}
	descend(b, r, depth-1)
}

//go:noinline
func hashLeaf(b *burner) {
	sum := sha256.Sum256(b.buf[:])
	copy(b.buf[b.acc%4064:], sum[:])
	b.acc += binary.LittleEndian.Uint64(sum[:])
}

//go:noinline
func mixLeaf(b *burner) {
	x := b.acc | 1
	for range 4000 {
		x = x*6364136223846793005 + 1442695040888963407
		x ^= x >> 29
	}
	b.acc = x
}

//go:noinline
func sortLeaf(b *burner) {
	x := uint32(b.acc) | 1
	for i := range b.arr {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		b.arr[i] = x
	}
	for i := 1; i < len(b.arr); i++ {
		v := b.arr[i]
		j := i - 1
		for j >= 0 && b.arr[j] > v {
			b.arr[j+1] = b.arr[j]
			j--
		}
		b.arr[j+1] = v
	}
	b.acc += uint64(b.arr[0]) ^ uint64(b.arr[63])<<32
}

// prepareBurn allocates what units units of work split evenly over procs
// goroutines need, and returns the function that does the work and returns a
// checksum (so none of it is optimized away). Allocating first keeps the
// memory layout the same whether or not the agent starts in between.
func prepareBurn(units, procs int) func() uint64 {
	procs = max(procs, 1)
	burners := make([]*burner, procs)
	for g := range burners {
		burners[g] = newBurner(uint64(g) + 1)
	}
	return func() uint64 {
		var wg sync.WaitGroup
		for g, b := range burners {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for r := g; r < units; r += procs {
					b.unit(r)
				}
			}()
		}
		wg.Wait()
		var sum uint64
		for _, b := range burners {
			sum += b.acc
		}
		return sum
	}
}
