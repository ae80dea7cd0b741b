//go:build !cgo

package main

import "context"

const haveCgo = false

func tinyCgoCalls(context.Context) {}

func batchedCgoCalls(context.Context, int) {}
