package sketch

import (
	"errors"
	"fmt"
	"math"
	"math/bits"
)

// DefaultRange is the ratio of magnitudes each sign of a sketch made by New
// spans before anything collapses: New picks the bucket bound
// ceil(ln(DefaultRange) / ln(gamma)), capped at MaxMaxBuckets (2072 buckets
// for alpha = 0.01, 20724 for alpha = 0.001; the cap binds below alpha ~
// 1.6e-4). Bucket memory is allocated only for the range of indices the data
// actually spans, at most 8 bytes per bucket of the bound per sign.
const DefaultRange = 1e18

// MaxMaxBuckets is the largest bucket bound per sign accepted by
// NewWithMaxBuckets and UnmarshalBinary (128 Ki buckets, 1 MiB of counts).
const MaxMaxBuckets = 1 << 17

// ErrIncompatible is returned (wrapped) by Merge, KS and Wasserstein when the
// two sketches do not share their relative accuracy (and, for Merge, their
// bucket bound).
var ErrIncompatible = errors.New("sketch: incompatible sketches")

// ErrCountOverflow is returned (wrapped) by Merge when the merged count of
// values (or of NaNs) would exceed 2^64-1, which only decoded sketches can
// reach: the uint64 counts would wrap around.
var ErrCountOverflow = errors.New("sketch: count overflows uint64")

// Sketch is a DDSketch (Masson, Rim & Lee 2019): a mergeable quantile sketch
// with relative accuracy alpha. Positive and negative values go to two
// stores of logarithmic buckets keyed by ceil(log_gamma |x|), gamma =
// (1+alpha)/(1-alpha); each value is represented by its bucket's
// representative (1-alpha) gamma^i with the sign of x, within alpha|x| of x.
// Zero and subnormals (|x| < 2^-1022) are counted in a zero bucket
// represented by 0. +Inf and -Inf are counted exactly in two extra counters
// and take part in Count, Quantile, CDF, Min, Max and KS (they are ordinary
// atoms at the ends of the line); Wasserstein handles them as described
// there. NaN is ignored and counted by NaNCount.
//
// Bucket bound. Each sign keeps at most maxBuckets buckets. When a new
// value's index would make a store's range of indices exceed maxBuckets, the
// lowest indices (the smallest magnitudes of that sign) are folded into one
// bucket at floor F = M - maxBuckets + 1, M the largest index seen, and
// later values below F are counted at F. A folded value x is represented by
// r_F while |x| <= gamma^F, so its error is at most gamma^F, an absolute
// error at most max|x| * gamma^-(maxBuckets-1) (with alpha = 0.01 and the
// default bound, about 1e-18 max|x|); values above gamma^F keep the relative
// guarantee. Collapsed reports whether this happened. Because F depends only
// on M, the state stays a function of the multiset of values added.
//
// The zero value is not usable; create sketches with New or
// NewWithMaxBuckets. A Sketch is not safe for concurrent mutation.
type Sketch struct {
	m              mapping
	pos, neg       store
	zero           uint64
	posInf, negInf uint64
	nan            uint64
	min, max       float64
}

// New returns an empty sketch with relative accuracy relAccuracy (alpha, in
// [MinRelAccuracy, MaxRelAccuracy]) and the bucket bound DefaultMaxBuckets
// gives for it.
func New(relAccuracy float64) (*Sketch, error) {
	return NewWithMaxBuckets(relAccuracy, DefaultMaxBuckets(relAccuracy))
}

// DefaultMaxBuckets returns the bucket bound per sign that New uses for
// relative accuracy relAccuracy: enough buckets to span DefaultRange, capped
// at MaxMaxBuckets. It returns 0 for an invalid relAccuracy.
func DefaultMaxBuckets(relAccuracy float64) int {
	if !(relAccuracy >= MinRelAccuracy && relAccuracy <= MaxRelAccuracy) {
		return 0
	}
	m := newMapping(relAccuracy)
	return int(min(math.Ceil(math.Log(DefaultRange)*m.invLogGamma), MaxMaxBuckets))
}

// NewWithMaxBuckets returns an empty sketch with relative accuracy
// relAccuracy and at most maxBuckets (in [2, MaxMaxBuckets]) buckets per
// sign. Sketches merge only if both parameters are equal.
func NewWithMaxBuckets(relAccuracy float64, maxBuckets int) (*Sketch, error) {
	if !(relAccuracy >= MinRelAccuracy && relAccuracy <= MaxRelAccuracy) {
		return nil, fmt.Errorf("sketch: relative accuracy %g outside [%g, %g]", relAccuracy, MinRelAccuracy, MaxRelAccuracy)
	}
	if maxBuckets < 2 || maxBuckets > MaxMaxBuckets {
		return nil, fmt.Errorf("sketch: max buckets %d outside [2, %d]", maxBuckets, MaxMaxBuckets)
	}
	s := &Sketch{m: newMapping(relAccuracy)}
	s.pos.maxBuckets, s.neg.maxBuckets = maxBuckets, maxBuckets
	s.min, s.max = math.Inf(1), math.Inf(-1)
	return s, nil
}

// RelAccuracy returns alpha, the relative accuracy the sketch was made with.
func (s *Sketch) RelAccuracy() float64 { return s.m.alpha }

// MaxBuckets returns the bucket bound per sign.
func (s *Sketch) MaxBuckets() int { return s.pos.maxBuckets }

// Add counts x. NaN is ignored (see NaNCount). Add does not allocate once
// the bucket windows span the data's range of magnitudes (at most
// maxBuckets slots per sign; the window grows geometrically until then).
func (s *Sketch) Add(x float64) {
	switch {
	case x >= minIndexable:
		if x > math.MaxFloat64 {
			s.posInf++
		} else {
			s.pos.add(s.m.index(x), 1)
		}
	case x <= -minIndexable:
		if x < -math.MaxFloat64 {
			s.negInf++
		} else {
			s.neg.add(s.m.index(-x), 1)
		}
	case x == x:
		s.zero++
	default:
		s.nan++
		return
	}
	s.min = min(s.min, x)
	s.max = max(s.max, x)
}

// Merge adds the contents of o to s; o is not modified. The result is
// bit-identical whatever the order and grouping of merges and adds. It
// returns an error wrapping ErrIncompatible, and leaves s unchanged, unless
// both sketches have the same relative accuracy and bucket bound; and one
// wrapping ErrCountOverflow, leaving s unchanged, if the merged Count or
// NaNCount would exceed 2^64-1.
func (s *Sketch) Merge(o *Sketch) error {
	if s.m.alpha != o.m.alpha || s.pos.maxBuckets != o.pos.maxBuckets {
		return fmt.Errorf("merge sketch (alpha %g, %d buckets) into sketch (alpha %g, %d buckets): %w",
			o.m.alpha, o.pos.maxBuckets, s.m.alpha, s.pos.maxBuckets, ErrIncompatible)
	}
	_, c1 := bits.Add64(s.Count(), o.Count(), 0)
	_, c2 := bits.Add64(s.nan, o.nan, 0)
	if c1|c2 != 0 {
		return fmt.Errorf("merge sketch of %d (%d NaN) values into sketch of %d (%d NaN): %w",
			o.Count(), o.nan, s.Count(), s.nan, ErrCountOverflow)
	}
	s.pos.merge(&o.pos)
	s.neg.merge(&o.neg)
	s.zero += o.zero
	s.posInf += o.posInf
	s.negInf += o.negInf
	s.nan += o.nan
	s.min = min(s.min, o.min)
	s.max = max(s.max, o.max)
	return nil
}

// Reset empties s, keeping its parameters and bucket memory.
func (s *Sketch) Reset() {
	s.pos.reset()
	s.neg.reset()
	s.zero, s.posInf, s.negInf, s.nan = 0, 0, 0, 0
	s.min, s.max = math.Inf(1), math.Inf(-1)
}

// Count returns the number of values added, NaN excluded, ±Inf included.
func (s *Sketch) Count() uint64 {
	return s.pos.n + s.neg.n + s.zero + s.posInf + s.negInf
}

// NaNCount returns the number of NaN values passed to Add (and merged in).
func (s *Sketch) NaNCount() uint64 { return s.nan }

// Min returns the exact smallest value added, or NaN if Count is 0.
func (s *Sketch) Min() float64 {
	if s.Count() == 0 {
		return math.NaN()
	}
	return s.min
}

// Max returns the exact largest value added, or NaN if Count is 0.
func (s *Sketch) Max() float64 {
	if s.Count() == 0 {
		return math.NaN()
	}
	return s.max
}

// Collapsed reports whether either store has folded its lowest buckets
// because the range of magnitudes exceeded the bucket bound (see Sketch).
func (s *Sketch) Collapsed() bool { return s.pos.collapsed || s.neg.collapsed }

// Quantile returns an estimate of the lower q-quantile (q in [0, 1]), the
// order statistic x_(k) with k = floor(q (n-1)) (0-based, numpy's
// method="lower"), n = Count. The estimate v satisfies
//
//	|v - x_(k)| <= alpha |x_(k)|
//
// (plus under 1e-12 relative from log rounding at bucket edges) unless x_(k)
// lies in a collapsed bucket, where |v - x_(k)| <= gamma^F (see Sketch). v is
// clamped to [Min, Max], which only reduces the error; Quantile(0) = Min and
// Quantile(1) = Max exactly. It returns NaN if Count is 0 or q is outside
// [0, 1] or NaN. Quantile is non-decreasing in q. It does not allocate.
func (s *Sketch) Quantile(q float64) float64 {
	n := s.Count()
	if n == 0 || !(q >= 0 && q <= 1) {
		return math.NaN()
	}
	if q == 0 {
		return s.min
	}
	if q == 1 {
		return s.max
	}
	k := uint64(q * float64(n-1)) // 0-based rank, floor
	if k >= n {
		k = n - 1
	}
	v := s.valueAtRank(k)
	return min(max(v, s.min), s.max)
}

// valueAtRank returns the representative of the bucket holding the k-th
// smallest value (0-based, k < Count).
func (s *Sketch) valueAtRank(k uint64) float64 {
	if k < s.negInf {
		return math.Inf(-1)
	}
	k -= s.negInf
	if k < s.neg.n {
		var c uint64
		for i := s.neg.hi; i >= s.neg.lo; i-- {
			c += s.neg.counts[i-s.neg.offset]
			if c > k {
				return -s.m.rep(i)
			}
		}
	}
	k -= s.neg.n
	if k < s.zero {
		return 0
	}
	k -= s.zero
	if k < s.pos.n {
		var c uint64
		for i := s.pos.lo; i <= s.pos.hi; i++ {
			c += s.pos.counts[i-s.pos.offset]
			if c > k {
				return s.m.rep(i)
			}
		}
	}
	return math.Inf(1)
}

// CDF returns an estimate of F(x), the fraction of values <= x: the fraction
// of values whose bucket representative is <= x. It differs from F(x) by at
// most the fraction of values in the bucket that contains x (0 if x is ±Inf
// or NaN is not involved): values on the two sides of x that are misplaced
// all share that bucket. CDF returns NaN if Count is 0 or x is NaN. It does
// not allocate.
func (s *Sketch) CDF(x float64) float64 {
	n := s.Count()
	if n == 0 || math.IsNaN(x) {
		return math.NaN()
	}
	var c uint64
	switch {
	case x >= math.Inf(1):
		return 1
	case x < 0:
		c = s.negInf
		for i := s.neg.hi; s.neg.n > 0 && i >= s.neg.lo; i-- {
			if -s.m.rep(i) > x {
				break
			}
			c += s.neg.counts[i-s.neg.offset]
		}
	default:
		c = s.negInf + s.neg.n + s.zero
		for i := s.pos.lo; s.pos.n > 0 && i <= s.pos.hi; i++ {
			if s.m.rep(i) > x {
				break
			}
			c += s.pos.counts[i-s.pos.offset]
		}
	}
	return float64(c) / float64(n)
}
