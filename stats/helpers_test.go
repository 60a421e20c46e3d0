package stats

import (
	"math"
	"slices"
	"testing"
)

// Tolerances for comparing against reference values: relative, with an
// absolute floor for values near 0.
const (
	relTol = 1e-9
	absTol = 1e-12
)

// near reports whether got equals want within relTol, or within absTol
// absolutely; NaN equals NaN and infinities must match exactly.
func near(got, want float64) bool {
	switch {
	case math.IsNaN(want):
		return math.IsNaN(got)
	case math.IsInf(want, 0):
		return got == want
	}
	diff := math.Abs(got - want)
	return diff <= absTol || diff <= relTol*math.Abs(want)
}

// nearRel reports whether got equals want within relTol relative to want,
// with no absolute floor: for quantities that must be accurate in both tails.
func nearRel(got, want float64) bool {
	return got == want || math.Abs(got-want) <= relTol*math.Abs(want)
}

// mustPanic fails the test unless f panics.
func mustPanic(t *testing.T, name string, f func()) {
	t.Helper()
	defer func() {
		if recover() == nil {
			t.Errorf("%s: did not panic", name)
		}
	}()
	f()
}

// sameBits reports whether a and b hold bit-identical values, so that NaNs
// compare equal; it detects an input modified by the function under test.
func sameBits(a, b []float64) bool {
	return slices.EqualFunc(a, b, func(x, y float64) bool { return math.Float64bits(x) == math.Float64bits(y) })
}
