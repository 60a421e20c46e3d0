package stats

import (
	"fmt"
	"math"
)

// CoarsenBins groups contiguous bins of the reference histogram counts into
// at most k groups of roughly equal reference mass, for example to compute
// PSI on about ten quantile groups from a finer histogram. It returns, for
// each group, the index one past its last bin, so the groups are
// counts[0:ends[0]], counts[ends[0]:ends[1]], ... and the last element
// equals len(counts). Pass the result to Regroup for both the reference and
// the current counts.
//
// The grouping is greedy from left to right: with T = sum(counts), a group is
// closed after the first bin at which the cumulative mass reaches the next
// unreached multiple g*T/k (g = 1, ..., k-1); one bin heavier than T/k may
// cross several multiples, giving fewer than k groups. Zero-mass bins at the
// left join the first group and zero-mass bins at the right join the last,
// so no group has zero mass unless T is 0.
//
// If T is 0 or overflows float64, or a count is negative or non-finite,
// CoarsenBins returns a single group, []int{len(counts)}. It returns an empty slice for empty
// counts. It panics if k < 1.
func CoarsenBins(counts []float64, k int) []int {
	if k < 1 {
		panic(fmt.Sprintf("stats: CoarsenBins: group count k=%d, want >= 1", k))
	}
	if len(counts) == 0 {
		return []int{}
	}
	tot, ok := total(counts)
	if !ok || tot == 0 {
		return []int{len(counts)}
	}
	ends := make([]int, 0, min(k, len(counts)))
	threshold := func(g int) float64 {
		if t := tot * float64(g); !math.IsInf(t, 1) {
			return t / float64(k)
		}
		return tot / float64(k) * float64(g) // tot near the float64 maximum
	}
	// mass is the mass of the open group: it must be positive before the
	// group closes, also when tiny totals make thresholds underflow to 0.
	var cum, mass float64
	g := 1
	for i, c := range counts {
		cum += c
		mass += c
		if g < k && mass > 0 && cum >= threshold(g) {
			mass = 0
			ends = append(ends, i+1)
			for g < k && cum >= threshold(g) {
				g++
			}
		}
	}
	last := 0
	if len(ends) > 0 {
		last = ends[len(ends)-1]
	}
	if last == len(counts) {
		return ends
	}
	for _, c := range counts[last:] {
		if c > 0 {
			return append(ends, len(counts))
		}
	}
	// Only zero-mass bins remain: they join the last group.
	ends[len(ends)-1] = len(counts)
	return ends
}

// Regroup returns the sum of counts within each group given by ends, the
// exclusive group ends returned by CoarsenBins (in the units of counts). It
// panics if ends is not strictly increasing, starts at or below 0, or does
// not end at len(counts).
func Regroup(counts []float64, ends []int) []float64 {
	out := make([]float64, len(ends))
	start := 0
	for g, end := range ends {
		if end <= start || end > len(counts) {
			panic(fmt.Sprintf("stats: Regroup: group %d ends at %d after start %d with %d bins", g, end, start, len(counts)))
		}
		for _, c := range counts[start:end] {
			out[g] += c
		}
		start = end
	}
	if start != len(counts) {
		panic(fmt.Sprintf("stats: Regroup: groups end at %d, want %d bins", start, len(counts)))
	}
	return out
}
