//go:build cgo

package main

import (
	"context"

	"github.com/diagkit/diagkit/examples/internal/workload"
)

const haveCgo = true

// tinyCgoCalls calls a C function that does almost nothing, as fast as it
// can, until ctx is done.
func tinyCgoCalls(ctx context.Context) { workload.CgoTiny(ctx) }

// batchedCgoCalls does tinyCgoCalls' C work batch iterations per cgo call,
// until ctx is done.
func batchedCgoCalls(ctx context.Context, batch int) { workload.CgoBatched(ctx, batch) }
