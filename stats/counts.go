package stats

import (
	"fmt"
	"math"
)

// total returns the sum of counts in index order and whether every count is
// finite and non-negative and the sum is finite (counts near the float64
// maximum can overflow it, which would turn every proportion into 0 or NaN).
func total(counts []float64) (float64, bool) {
	var s float64
	for _, c := range counts {
		if !(c >= 0) || math.IsInf(c, 1) {
			return 0, false
		}
		s += c
	}
	return s, !math.IsInf(s, 1)
}

// mustSameLen panics when two count vectors that must describe the same bins
// have different lengths: callers are required to align bins first.
func mustSameLen(fn string, a, b int) {
	if a != b {
		panic(fmt.Sprintf("stats: %s: bin count mismatch: %d reference bins, %d current bins", fn, a, b))
	}
}
