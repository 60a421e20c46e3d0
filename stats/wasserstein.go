package stats

import (
	"cmp"
	"fmt"
	"math"
	"slices"
)

// weighted is one atom of an empirical distribution.
type weighted struct{ v, w float64 }

// Wasserstein returns the first Wasserstein (earth mover's) distance, in the
// units of the values, between the weighted empirical distributions u and v
// on the real line:
//
//	W1(u, v) = integral_{-inf}^{+inf} |U(t) - V(t)| dt
//
// where U and V are the CDFs of u (atoms uValues[i] with weights uWeights[i])
// and v, each normalized by its total weight. It equals
// scipy.stats.wasserstein_distance(uValues, vValues, uWeights, vWeights).
// A nil weight slice gives every value weight 1.
//
// Values may be ±Inf: they are atoms at the ends of the line, and W1 is
// +Inf exactly when the two (computed) fractions of mass at -Inf, or at
// +Inf, differ; otherwise the infinite stretches cancel. A distance beyond
// the float64 range is +Inf.
//
// Wasserstein sorts copies and does not modify its inputs; it allocates
// 2*(len(uValues)+len(vValues)) float64s. It returns NaN if either
// distribution is empty, has total weight 0 or a total weight that
// overflows, has a negative or non-finite weight, or has a NaN value. It
// panics if a non-nil weight slice's length differs from its values'
// length.
//
// References: Vallender, S. S. (1974), Calculation of the Wasserstein
// distance between probability distributions on the line, Theory Probab.
// Appl. 18(4); Ramdas, A., Garcia Trillos, N. and Cuturi, M. (2017), On
// Wasserstein two-sample testing and related families of nonparametric
// tests, Entropy 19(2).
func Wasserstein(uValues, uWeights, vValues, vWeights []float64) float64 {
	us, tu, okU := sortedAtoms("u", uValues, uWeights)
	vs, tv, okV := sortedAtoms("v", vValues, vWeights)
	if !okU || !okV {
		return math.NaN()
	}
	return cdfDistance(us, tu, vs, tv, math.Abs)
}

// cdfDistance returns the integral over t of f(U(t) - V(t)), where U and V
// are the CDFs of the sorted atoms us and vs with totals tu and tv: W1 with
// f = |.|, half the squared energy distance with f = (.)^2 (scipy's
// _cdf_distance). It walks the merged support; between consecutive support
// points both CDFs are constant.
func cdfDistance(us []weighted, tu float64, vs []weighted, tv float64, f func(float64) float64) float64 {
	var acc, cu, cv float64
	i, j := 0, 0
	t := min(us[0].v, vs[0].v)
	for {
		for i < len(us) && us[i].v <= t {
			cu += us[i].w
			i++
		}
		for j < len(vs) && vs[j].v <= t {
			cv += vs[j].w
			j++
		}
		if i == len(us) && j == len(vs) {
			return acc
		}
		next := math.Inf(1)
		if i < len(us) {
			next = us[i].v
		}
		if j < len(vs) {
			next = min(next, vs[j].v)
		}
		// Where the CDFs agree the segment adds nothing, even when it is
		// infinitely long (0 * Inf would be NaN).
		if d := cu/tu - cv/tv; d != 0 {
			acc += f(d) * (next - t)
		}
		t = next
	}
}

// sortedAtoms returns the atoms of one distribution sorted by value and its
// total weight summed in that order, or ok == false if the distribution is
// empty, has a NaN value, a negative or non-finite weight, or total weight 0.
func sortedAtoms(name string, values, weights []float64) (atoms []weighted, tot float64, ok bool) {
	if weights != nil && len(weights) != len(values) {
		panic(fmt.Sprintf("stats: Wasserstein: %s has %d values but %d weights", name, len(values), len(weights)))
	}
	if len(values) == 0 {
		return nil, 0, false
	}
	atoms = make([]weighted, len(values))
	for i, x := range values {
		w := 1.0
		if weights != nil {
			w = weights[i]
		}
		if math.IsNaN(x) || !(w >= 0) || math.IsInf(w, 1) {
			return nil, 0, false
		}
		atoms[i] = weighted{v: x, w: w}
	}
	slices.SortFunc(atoms, func(a, b weighted) int { return cmp.Compare(a.v, b.v) })
	for _, a := range atoms {
		tot += a.w
	}
	return atoms, tot, tot > 0 && !math.IsInf(tot, 1)
}
