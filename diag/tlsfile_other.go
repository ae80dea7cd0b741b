//go:build !unix

package diag

// oNonblock: no FIFOs to open without blocking; readTLSFile's Stat rejects
// what is not a regular file.
const oNonblock = 0
