package compare

// The agent histories in testdata/recorded, which recorded_test.go reads,
// come from real child processes: internal/record runs them (Linux, as root,
// for about half an hour) and testdata/recorded/manifest.json says how.
//
//go:generate go run ./internal/record -out testdata/recorded
