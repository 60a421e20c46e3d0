package stats

import "math"

// sumInline is how many partials a Sum keeps without allocating; values of
// similar magnitude need two or three.
const sumInline = 4

// Sum is an exact running sum of float64 values: it keeps the sum as a list
// of non-overlapping partials whose exact total is the exact total of the
// values added (Shewchuk's grow-expansion), and Value rounds that total once,
// to nearest with ties to even. The result is therefore the same whatever
// the order of Adds and Merges, which is what lets a window rebuilt from
// differently interleaved partitions, or merged from partial windows, give
// bit-identical statistics; Python's math.fsum computes the same value.
//
// A sum whose partials overflow float64 (magnitudes near 1.8e308) becomes
// ±Inf, or NaN once both signs overflowed, for good; a NaN or ±Inf value
// does the same. The zero value is an empty sum. A Sum is a plain value
// (copying it copies the partials, sharing any spilled ones: Merge into a
// copy, not the original, if both are kept); it is not safe for concurrent
// mutation.
//
// Reference: Shewchuk, J. R. (1997), Adaptive precision floating-point
// arithmetic and fast robust geometric predicates, Discrete & Computational
// Geometry 18(3); CPython's math_fsum for the final rounding.
type Sum struct {
	n       int // partials in use
	inline  [sumInline]float64
	spilled []float64 // partials past inline, when more are needed
	special float64   // 0, or the ±Inf/NaN the sum became
}

func (s *Sum) at(i int) float64 {
	if i < sumInline {
		return s.inline[i]
	}
	return s.spilled[i-sumInline]
}

func (s *Sum) set(i int, v float64) {
	if i < sumInline {
		s.inline[i] = v
		return
	}
	if j := i - sumInline; j < len(s.spilled) {
		s.spilled[j] = v
	} else {
		s.spilled = append(s.spilled, v)
	}
}

// Add adds x exactly.
func (s *Sum) Add(x float64) {
	if s.special != 0 || math.IsNaN(s.special) {
		s.special += x
		return
	}
	if math.IsInf(x, 0) || math.IsNaN(x) {
		s.special = x
		return
	}
	i := 0
	for j := 0; j < s.n; j++ {
		y := s.at(j)
		if math.Abs(x) < math.Abs(y) {
			x, y = y, x
		}
		hi := x + y
		if math.IsInf(hi, 0) {
			s.special = hi
			return
		}
		lo := y - (hi - x)
		if lo != 0 {
			s.set(i, lo)
			i++
		}
		x = hi
	}
	s.set(i, x)
	s.n = i + 1
}

// Merge adds every value added to o, exactly.
func (s *Sum) Merge(o *Sum) {
	if o.special != 0 || math.IsNaN(o.special) {
		s.Add(o.special)
		return
	}
	for j := 0; j < o.n; j++ {
		s.Add(o.at(j))
	}
}

// Value returns the exact sum rounded to the nearest float64 (ties to
// even): 0 for an empty sum.
func (s *Sum) Value() float64 {
	if s.special != 0 || math.IsNaN(s.special) {
		return s.special
	}
	n := s.n
	if n == 0 {
		return 0
	}
	// Partials increase in magnitude and do not overlap: add from the top
	// until the first inexact step, then correct a halfway case (CPython's
	// math_fsum).
	n--
	hi := s.at(n)
	var lo float64
	for n > 0 {
		x := hi
		n--
		y := s.at(n)
		hi = x + y
		lo = y - (hi - x)
		if lo != 0 {
			break
		}
	}
	if n > 0 {
		if p := s.at(n - 1); lo < 0 && p < 0 || lo > 0 && p > 0 {
			y := lo * 2
			if x := hi + y; x-hi == y {
				hi = x
			}
		}
	}
	return hi
}

// Partials returns the sum's exact representation: values whose exact sum
// is the sum (adding them to an empty Sum gives it back), for encoding.
func (s *Sum) Partials() []float64 {
	if s.special != 0 || math.IsNaN(s.special) {
		return []float64{s.special}
	}
	out := make([]float64, s.n)
	for i := range out {
		out[i] = s.at(i)
	}
	return out
}
