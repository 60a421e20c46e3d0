package stats

import "math"

// Moments holds running first and second moments of a stream of
// observations, updated one value at a time by Add (Welford's algorithm) and
// combined across partial streams by Merge, in any order. The zero value is
// an empty stream. A Moments is a plain value: it is not safe for concurrent
// mutation, and copying it copies the state.
//
// Moments does not filter its input: a NaN or ±Inf observation, or two
// finite ones whose difference overflows float64 (magnitudes near
// 1.8e308), leaves Mean or M2 NaN or infinite for good. Variance and Std
// then return NaN, and WelchTTestMoments and ZTestMeans return NaN; callers
// that want to skip such values must do so before Add.
//
// References: Welford, B. P. (1962), Note on a method for calculating
// corrected sums of squares and products, Technometrics 4(3); Chan, T. F.,
// Golub, G. H. and LeVeque, R. J. (1979), Updating formulae and a pairwise
// algorithm for computing sample variances, Stanford CS report STAN-CS-79-773.
type Moments struct {
	// N is the number of observations added (a count, stored as float64 so
	// that merged totals never overflow an integer).
	N float64
	// Mean is the arithmetic mean of the observations, in their units; 0
	// when N is 0.
	Mean float64
	// M2 is the sum of squared deviations from Mean, sum (x - Mean)^2, in
	// squared units.
	M2 float64
}

// Add adds one observation x (in the stream's units) using Welford's update:
//
//	N' = N + 1,  delta = x - Mean,  Mean' = Mean + delta/N',  M2' = M2 + delta*(x - Mean')
func (m *Moments) Add(x float64) {
	m.N++
	delta := x - m.Mean
	m.Mean += delta / m.N
	m.M2 += delta * (x - m.Mean)
}

// Merge folds the moments o of another, disjoint stream into m using the
// pairwise formula of Chan, Golub and LeVeque (1979):
//
//	N' = N_a + N_b,  delta = Mean_b - Mean_a
//	Mean' = Mean_a + delta * N_b/N'
//	M2' = M2_a + M2_b + delta^2 * N_a*N_b/N'
//
// The result is the same, up to rounding, as adding both streams' values to
// one Moments, whatever the order of merges.
func (m *Moments) Merge(o Moments) {
	switch {
	case o.N == 0:
		return
	case m.N == 0:
		*m = o
		return
	}
	n := m.N + o.N
	delta := o.Mean - m.Mean
	m.Mean += delta * (o.N / n)
	m.M2 += o.M2 + delta*delta*(m.N*o.N/n)
	m.N = n
}

// Variance returns the population variance M2/N (>= 0, +Inf if the sum of
// squares overflowed), in squared units of the observations, or NaN when N
// is 0 or the moments are not finite (Mean NaN or ±Inf, M2 NaN or
// negative; see Moments).
func (m Moments) Variance() float64 {
	if m.N == 0 || !(m.M2 >= 0) || math.IsNaN(m.Mean) || math.IsInf(m.Mean, 0) {
		return math.NaN()
	}
	return m.M2 / m.N
}

// Std returns the population standard deviation sqrt(M2/N), in units of the
// observations, or NaN when Variance is NaN.
func (m Moments) Std() float64 {
	return math.Sqrt(m.Variance())
}
