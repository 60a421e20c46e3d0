package sketch

import (
	"fmt"
	"math"
	"math/bits"
)

// Bucket keys order the buckets of a sketch by value in one int64: -Inf,
// negative buckets by decreasing index, zero, positive buckets by
// increasing index, +Inf. Indices stay within ±2^30 for alpha >=
// MinRelAccuracy, so the ranges do not overlap.
const (
	keyNegInf  = math.MinInt64
	keyZero    = 0
	keyPosInf  = math.MaxInt64
	keySignOff = 1 << 40
	noFloor    = math.MinInt
)

func negKey(i int) int64 { return -keySignOff - int64(i) }
func posKey(i int) int64 { return keySignOff + int64(i) }

// bucket is one non-empty bucket of a sketch, in value order by key.
type bucket struct {
	key int64
	n   uint64
}

// appendBuckets appends the non-empty buckets of s in value order. Buckets
// of index <= fNeg (negative side) or <= fPos (positive side) are summed
// into the bucket at the floor, so that two sketches with different
// collapse floors share one partition of the line.
func (s *Sketch) appendBuckets(dst []bucket, fNeg, fPos int) []bucket {
	if s.negInf > 0 {
		dst = append(dst, bucket{keyNegInf, s.negInf})
	}
	if st := &s.neg; st.n > 0 {
		for i := st.hi; i >= st.lo && i > fNeg; i-- {
			if c := st.counts[i-st.offset]; c > 0 {
				dst = append(dst, bucket{negKey(i), c})
			}
		}
		if st.lo <= fNeg {
			var c uint64
			for i := st.lo; i <= min(st.hi, fNeg); i++ {
				c += st.counts[i-st.offset]
			}
			dst = append(dst, bucket{negKey(fNeg), c})
		}
	}
	if s.zero > 0 {
		dst = append(dst, bucket{keyZero, s.zero})
	}
	if st := &s.pos; st.n > 0 {
		if st.lo <= fPos {
			var c uint64
			for i := st.lo; i <= min(st.hi, fPos); i++ {
				c += st.counts[i-st.offset]
			}
			dst = append(dst, bucket{posKey(fPos), c})
		}
		for i := max(st.lo, fPos+1); i <= st.hi; i++ {
			if c := st.counts[i-st.offset]; c > 0 {
				dst = append(dst, bucket{posKey(i), c})
			}
		}
	}
	if s.posInf > 0 {
		dst = append(dst, bucket{keyPosInf, s.posInf})
	}
	return dst
}

// floors returns the collapse floors of s (noFloor where a side has not
// collapsed).
func (s *Sketch) floors() (fNeg, fPos int) {
	fNeg, fPos = noFloor, noFloor
	if s.neg.collapsed {
		fNeg = s.neg.lo
	}
	if s.pos.collapsed {
		fPos = s.pos.lo
	}
	return fNeg, fPos
}

// KS returns the two-sample Kolmogorov-Smirnov statistic between the values
// summarised by a and b, as a bracket of the exact statistic on the raw
// samples:
//
//	D = sup_t |F_a(t) - F_b(t)|,   d <= D <= d + maxErr,
//
// where F_a, F_b are the empirical CDFs of the raw values (NaN excluded,
// ±Inf included). Both sketches partition the line into the same intervals
// (their buckets; where one side has collapsed, the other's buckets below
// the floor are pooled too), and at the upper end of every interval the
// sketch CDF equals the exact empirical CDF. So d, the largest difference at
// the interval ends, is exact there and a lower bound of D; inside an
// interval I with ends e- < e+, F_a(t) - F_b(t) <= F_a(e+) - F_b(e-), hence
//
//	maxErr = max_I max(F_a(e+) - F_b(e-), F_b(e+) - F_a(e-)) - d
//	      <= max_I max(p_a(I), p_b(I)),
//
// the largest mass of one bucket in either sketch. maxErr is 0 when every
// bucket holds a single distinct value. d equals stats.KSBinned on the
// pooled bucket counts.
//
// KS requires equal relative accuracies (the bucket bound may differ) and
// returns an error wrapping ErrIncompatible otherwise. It returns NaN, NaN
// if either sketch is empty. It allocates two slices of at most
// 2*maxBuckets+3 buckets each.
func KS(a, b *Sketch) (d, maxErr float64, err error) {
	if a.m.alpha != b.m.alpha {
		return math.NaN(), math.NaN(), fmt.Errorf("ks between sketches with alpha %g and %g: %w", a.m.alpha, b.m.alpha, ErrIncompatible)
	}
	na, nb := a.Count(), b.Count()
	if na == 0 || nb == 0 {
		return math.NaN(), math.NaN(), nil
	}
	anf, apf := a.floors()
	bnf, bpf := b.floors()
	fNeg, fPos := max(anf, bnf), max(apf, bpf)
	ba := a.appendBuckets(nil, fNeg, fPos)
	bb := b.appendBuckets(nil, fNeg, fPos)
	fa, fb := float64(na), float64(nb)
	var ca, cb uint64 // cumulative counts through the current interval
	var up float64
	i, j := 0, 0
	for i < len(ba) || j < len(bb) {
		pa, pb := float64(ca)/fa, float64(cb)/fb // F at the lower end
		k := int64(keyPosInf)
		if i < len(ba) {
			k = ba[i].key
		}
		if j < len(bb) {
			k = min(k, bb[j].key)
		}
		if i < len(ba) && ba[i].key == k {
			ca += ba[i].n
			i++
		}
		if j < len(bb) && bb[j].key == k {
			cb += bb[j].n
			j++
		}
		ea, eb := float64(ca)/fa, float64(cb)/fb
		d = max(d, math.Abs(ea-eb))
		up = max(up, ea-pb, eb-pa)
	}
	return d, max(up-d, 0), nil
}

// atom is a point mass of a sketch's representative distribution.
type atom struct {
	v float64
	n uint64
}

// atoms appends the representative distribution of s: each bucket's count at
// its representative clamped to [Min, Max] (clamping moves no value further
// from its representative, since every value lies in [Min, Max]). It also
// returns sum over buckets of count * (largest distance between a value of
// the bucket and its representative).
func (s *Sketch) atoms(dst []atom) ([]atom, float64) {
	fNeg, fPos := s.floors()
	bs := s.appendBuckets(nil, fNeg, fPos)
	maxAbs := max(math.Abs(s.min), math.Abs(s.max))
	alpha := s.m.alpha
	var moved float64
	for _, bk := range bs {
		var v, e float64
		switch k := bk.key; {
		case k == keyNegInf:
			v = math.Inf(-1)
		case k == keyPosInf:
			v = math.Inf(1)
		case k == keyZero:
			v, e = 0, minIndexable
		case k < keyZero:
			i := int(-keySignOff - k)
			v = -s.m.rep(i)
			e = collapseOrRel(&s.m, i, i == fNeg, alpha, maxAbs)
		default:
			i := int(k - keySignOff)
			v = s.m.rep(i)
			e = collapseOrRel(&s.m, i, i == fPos, alpha, maxAbs)
		}
		dst = append(dst, atom{min(max(v, s.min), s.max), bk.n})
		moved += float64(bk.n) * e
	}
	return dst, moved
}

// collapseOrRel bounds |x - r_i| for x in bucket i: alpha |x| <= alpha
// min(gamma^i, max|x|) for an ordinary bucket, gamma^i for a collapsed one
// (whose values lie in (0, gamma^i]).
func collapseOrRel(m *mapping, i int, collapsed bool, alpha, maxAbs float64) float64 {
	u := min(m.upper(i), maxAbs)
	if collapsed {
		return u
	}
	return alpha * u
}

// Wasserstein returns the first Wasserstein distance w between the
// representative distributions of a and b and a bound maxErr on its
// distance to W1, the exact distance between the raw samples:
//
//	W1 = integral |F_a(t) - F_b(t)| dt,   |w - W1| <= maxErr.
//
// Derivation: W1 is a metric, so |W1(A', B') - W1(A, B)| <= W1(A, A') +
// W1(B, B'), and moving every value x to its representative r(x) is a
// coupling, so W1(A, A') <= (1/n_a) sum |x - r(x)|. With DDSketch
// |x - r(x)| <= alpha |x|, giving the a priori bound
//
//	|w - W1| <= alpha (E_a|x| + E_b|x|)
//
// (values in a collapsed bucket add at most gamma^F each, subnormals
// 2^-1022). maxErr is the computable form of that sum: for each bucket, its
// count times alpha min(gamma^i, max|x|) (gamma^F for a collapsed bucket),
// divided by the sketch's count, summed over both sketches; it is at most
// alpha (1+alpha)/(1-alpha) (E_a|x| + E_b|x|) without collapse.
//
// The sketches may have different relative accuracies. ±Inf values are
// exact atoms: w is +Inf exactly when the two sketches' fractions of +Inf
// or of -Inf differ (then W1 is +Inf too); otherwise they cancel. It
// returns NaN, NaN if either sketch is empty. It allocates O(buckets).
//
// Reference: Vallender, S. S. (1974), Theory Probab. Appl. 18(4).
func Wasserstein(a, b *Sketch) (w, maxErr float64) {
	na, nb := a.Count(), b.Count()
	if na == 0 || nb == 0 {
		return math.NaN(), math.NaN()
	}
	xa, ma := a.atoms(nil)
	xb, mb := b.atoms(nil)
	maxErr = ma/float64(na) + mb/float64(nb)
	fa, fb := float64(na), float64(nb)
	var ca, cb uint64
	i, j := 0, 0
	t := math.Inf(1)
	if len(xa) > 0 {
		t = xa[0].v
	}
	if len(xb) > 0 {
		t = min(t, xb[0].v)
	}
	for {
		for i < len(xa) && xa[i].v <= t {
			ca += xa[i].n
			i++
		}
		for j < len(xb) && xb[j].v <= t {
			cb += xb[j].n
			j++
		}
		if i == len(xa) && j == len(xb) {
			return w, maxErr
		}
		next := math.Inf(1)
		if i < len(xa) {
			next = xa[i].v
		}
		if j < len(xb) {
			next = min(next, xb[j].v)
		}
		if !sameFraction(ca, na, cb, nb) {
			w += math.Abs(float64(ca)/fa-float64(cb)/fb) * (next - t)
		}
		t = next
	}
}

// sameFraction reports whether ca/na == cb/nb exactly (ca*nb == cb*na in
// 128-bit arithmetic).
func sameFraction(ca, na, cb, nb uint64) bool {
	h1, l1 := bits.Mul64(ca, nb)
	h2, l2 := bits.Mul64(cb, na)
	return h1 == h2 && l1 == l2
}
