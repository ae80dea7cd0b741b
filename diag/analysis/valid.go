package analysis

import "github.com/google/pprof/profile"

// tablesValid reports whether p's mappings, functions and locations pass the
// checks Profile.CheckValid makes of them: no nil entries, distinct non-zero
// IDs, and every location's mapping and every line's function the one the
// table holds under its ID. It uses slices indexed by ID rather than
// CheckValid's maps, so it returns false (not known valid) when the IDs are
// too sparse for that. Analyze makes CheckValid's checks of samples itself.
func tablesValid(p *profile.Profile) bool {
	mappings, ok := denseIDs(p.Mapping, func(m *profile.Mapping) uint64 { return m.ID })
	if !ok {
		return false
	}
	functions, ok := denseIDs(p.Function, func(f *profile.Function) uint64 { return f.ID })
	if !ok {
		return false
	}
	if _, ok := denseIDs(p.Location, func(l *profile.Location) uint64 { return l.ID }); !ok {
		return false
	}
	for _, l := range p.Location {
		if m := l.Mapping; m != nil && (m.ID >= uint64(len(mappings)) || mappings[m.ID] != m) {
			return false
		}
		for _, ln := range l.Line {
			f := ln.Function
			if f == nil || f.ID >= uint64(len(functions)) || functions[f.ID] != f {
				return false
			}
		}
	}
	return true
}

// denseIDs indexes items by ID when every item is non-nil with a distinct,
// non-zero ID and the IDs are dense (at most about twice the count). ok is
// false otherwise.
func denseIDs[T any](items []*T, id func(*T) uint64) (byID []*T, ok bool) {
	maxID := uint64(0)
	for _, it := range items {
		if it == nil {
			return nil, false
		}
		maxID = max(maxID, id(it))
	}
	if maxID > uint64(2*len(items)+16) {
		return nil, false
	}
	byID = make([]*T, maxID+1)
	for _, it := range items {
		i := id(it)
		if i == 0 || byID[i] != nil {
			return nil, false
		}
		byID[i] = it
	}
	return byID, true
}
