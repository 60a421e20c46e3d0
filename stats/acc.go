package stats

import "math"

// Acc is a fast exact accumulator in front of a Sum: Add(s, x) adds x to
// s, most values by way of the Acc, which adds them to s at Flush(s); s
// then has the exact total it would have had from s.Add of each value, so
// the same Value, bit for bit, at a few integer operations per value
// instead of a grow-expansion.
//
// An Acc is a small superaccumulator (after Neal's xsum): a finite float64
// is m * 2^(e-1075) with a 53-bit integer m, and an Acc keeps accChunks
// int64 chunks, chunk k weighing 2^(32*(base+k)-1074). Add splits m,
// shifted by e mod 32, into its low 32 bits and the rest and adds them,
// signed, to the two chunks of its exponent: no rounding, no branch on
// magnitudes. Every accCarryEvery adds the chunks are normalized (carries
// propagated, each digit back in [0, 2^32)) before any can overflow. The
// chunks cover the exponents of the first value added since the last
// Flush, from 2^64 below it to 2^64 above. Values outside that range,
// subnormals, values of magnitude 2^930 or more, ±Inf and NaN are added to
// s directly, in their order, so that s becomes ±Inf or NaN as and when it
// would have; zeros are counted, so that s keeps Sum's sign of zero (-0
// only when every value was -0).
//
// Flush normalizes the chunks and adds each nonzero digit to s as the
// exactly representable float64 it weighs, all of the same sign, so that
// none overflows unless the total does. The one case where s can end up
// different from adding the values one by one is the one where Sum's own
// result depends on the order of its Adds: the values an Acc holds add up
// to less than 2^930 times their number, and only a running total within
// that distance of overflowing float64 (2^-60 of it, relative) can overflow
// one way and not the other.
//
// The zero Acc is empty, and Flush empties it again. An Acc holds at most
// 2^40 values between Flushes (it panics past that). It is not safe for
// concurrent use.
type Acc struct {
	c     [accChunks]int64
	base  int   // chunk index of c[0], of 0 to 63 over the whole float64 range
	n     int   // values in the chunks since the last Flush
	zeros uint8 // accPosZero, accNegZero: zeros added since the last Flush
}

const (
	accChunks = 7
	// accTop is the last chunk a value's low half adds to (its high half
	// goes to the next one): the last chunk takes only carries, so that it
	// never overflows.
	accTop = accChunks - 3
	// accCarryEvery is how many adds go between two normalizations: an add
	// puts less than 2^52 into a chunk, and a normalized chunk holds less
	// than 2^32, so 2^10 adds stay below 2^63.
	accCarryEvery = 1 << 10
	accMaxN       = 1 << 40
	// accMaxIndex is the highest chunk index (of the whole range) values
	// add to: 60 (exponent < 2^930). A base at most accMaxIndex-accTop
	// keeps larger values out of the chunks.
	accMaxIndex = 60
	accMaxBase  = accMaxIndex - accTop

	accPosZero = 1
	accNegZero = 2
)

// Add adds x to s: to a, to be added to s at Flush(s), or to s now.
func (a *Acc) Add(s *Sum, x float64) {
	if !a.addChunks(x) {
		a.addRare(s, x)
		return
	}
	a.n++
	if a.n&(accCarryEvery-1) == 0 {
		a.carryChecked()
	}
}

// AddSlice adds every value of xs to s, as Add does, in a loop that keeps
// the common case inline.
func (a *Acc) AddSlice(s *Sum, xs []float64) {
	addValues(a, s, nil, nil, nil, xs)
}

// AddGrouped adds xs[j] to sums[group[j]] through accs[group[j]], for
// every j, as Add does (per-group exact sums, such as a histogram's per-bin
// sums); xs and group have the same length, and accs and sums one element
// per group. Flush each Acc into its Sum afterwards.
func AddGrouped(accs []Acc, sums []Sum, group []int, xs []float64) {
	addValues(nil, nil, accs, sums[:len(accs)], group[:len(xs)], xs)
}

// addValues adds xs to s through a, or, with group, each to its group's
// Sum through its group's Acc: Add's fast path (addChunks) written out in
// the loop, since the compiler does not inline it.
func addValues(a *Acc, s *Sum, accs []Acc, sums []Sum, group []int, xs []float64) {
	for j, x := range xs {
		if group != nil {
			g := group[j]
			a, s = &accs[g], &sums[g]
		}
		u := math.Float64bits(x)
		e := int(u>>52) & 0x7ff
		k := (e-1)>>5 - a.base
		if uint(k) > accTop {
			a.addRare(s, x)
			continue
		}
		sh := uint(e-1) & 31
		m := u&(1<<52-1) | 1<<52
		neg := int64(u) >> 63
		a.c[k] += int64(m<<sh&(1<<32-1)) ^ neg - neg
		a.c[k+1] += int64(m>>(32-sh)) ^ neg - neg
		a.n++
		if a.n&(accCarryEvery-1) == 0 {
			a.carryChecked()
		}
	}
}

// addChunks adds x to the chunks when its exponent is in their range (the
// fast path: a normal float64 of moderate magnitude near the first value)
// and reports whether it did; it leaves the count to its caller. Small
// enough to inline.
func (a *Acc) addChunks(x float64) bool {
	u := math.Float64bits(x)
	e := int(u>>52) & 0x7ff
	k := (e-1)>>5 - a.base
	if uint(k) > accTop { // also zeros and subnormals (k < 0), ±Inf and NaN (k > accTop)
		return false
	}
	sh := uint(e-1) & 31
	m := u&(1<<52-1) | 1<<52
	neg := int64(u) >> 63 // 0 or -1: (v ^ neg) - neg is v or -v
	a.c[k] += int64(m<<sh&(1<<32-1)) ^ neg - neg
	a.c[k+1] += int64(m>>(32-sh)) ^ neg - neg
	return true
}

// carryChecked is carry, out of Add's way, after checking that the Acc
// does not hold too many values.
//
//go:noinline
func (a *Acc) carryChecked() {
	if a.n >= accMaxN {
		panic("stats: more than 2^40 values added to an Acc without a Flush")
	}
	a.carry()
}

// addRare adds what Add's fast path does not: zeros, subnormals, the first
// value of an empty Acc that is outside the zero Acc's range, values
// outside the chunks' range, huge values, ±Inf and NaN.
func (a *Acc) addRare(s *Sum, x float64) {
	u := math.Float64bits(x)
	e := int(u>>52) & 0x7ff
	m := u & (1<<52 - 1)
	switch {
	case e == 0 && m == 0:
		a.zeros |= accPosZero << (u >> 63)
		return
	case e == 0x7ff:
		s.Add(x)
		return
	case e == 0: // subnormal: m * 2^-1074, chunk 0 with no shift
		e = 1
	default:
		m |= 1 << 52
	}
	i := (e - 1) >> 5
	if a.n == 0 && i <= accMaxIndex {
		a.base = min(max(i-2, 0), accMaxBase)
	}
	k := i - a.base
	if k < 0 || k > accTop || i > accMaxIndex {
		s.Add(x)
		return
	}
	sh := uint(e-1) & 31
	lo := int64(m << sh & (1<<32 - 1))
	hi := int64(m >> (32 - sh))
	neg := int64(u) >> 63
	a.c[k] += lo ^ neg - neg
	a.c[k+1] += hi ^ neg - neg
	a.n++
	if a.n&(accCarryEvery-1) == 0 {
		a.carryChecked()
	}
}

// carry normalizes the chunks: every one but the last in [0, 2^32), the
// last signed, the same total.
func (a *Acc) carry() {
	var c int64
	for k := 0; k < accChunks-1; k++ {
		v := a.c[k] + c
		c = v >> 32
		a.c[k] = v & (1<<32 - 1)
	}
	a.c[accChunks-1] += c
}

// Empty reports whether nothing was added since the last Flush.
func (a *Acc) Empty() bool {
	return a.n == 0 && a.zeros == 0
}

// Flush adds what a holds to s, exactly, and empties a. s must be the Sum
// that the values were added to.
func (a *Acc) Flush(s *Sum) {
	if a.Empty() {
		return
	}
	pieces := 0
	if a.n > 0 {
		a.carry()
		neg := a.c[accChunks-1] < 0
		if neg { // a negative total: flush the digits of its magnitude
			for k := range a.c {
				a.c[k] = -a.c[k]
			}
			a.carry()
		}
		for k, d := range a.c {
			if d == 0 {
				continue
			}
			w := 32*(a.base+k) - 1074
			if k == accChunks-1 && d >= 1<<32 { // above 2^53 a digit would not convert exactly
				s.Add(pow2(float64(d>>32), w+32, neg))
				d &= 1<<32 - 1
			}
			s.Add(pow2(float64(d), w, neg))
			pieces++
		}
	}
	if pieces == 0 {
		switch {
		case a.n > 0 || a.zeros&accPosZero != 0: // values that cancelled, or a +0: Sum's sign of zero
			s.Add(0)
		case a.zeros&accNegZero != 0:
			s.Add(math.Copysign(0, -1))
		}
	}
	a.c = [accChunks]int64{}
	a.base, a.n, a.zeros = 0, 0, 0
}

// pow2 returns ±d * 2^w, exactly: d < 2^53 is an integer and the result is
// one of the digits of a total that is a float64's or smaller.
func pow2(d float64, w int, neg bool) float64 {
	if neg {
		d = -d
	}
	if w >= -1022 {
		return d * math.Float64frombits(uint64(w+1023)<<52)
	}
	return math.Ldexp(d, w) // subnormal digits
}

// AddMoments adds x - shift to s1 through a1 and (x - shift)² to s2
// through a2, for every x of xs, as Add does: a window's moment sums in
// one pass, with Add's fast path written out for both. Flush both Accs
// afterwards.
func AddMoments(a1 *Acc, s1 *Sum, a2 *Acc, s2 *Sum, xs []float64, shift float64) {
	for _, x := range xs {
		d := x - shift
		u := math.Float64bits(d)
		e := int(u>>52) & 0x7ff
		if k := (e-1)>>5 - a1.base; uint(k) <= accTop {
			sh := uint(e-1) & 31
			m := u&(1<<52-1) | 1<<52
			neg := int64(u) >> 63
			a1.c[k] += int64(m<<sh&(1<<32-1)) ^ neg - neg
			a1.c[k+1] += int64(m>>(32-sh)) ^ neg - neg
			if a1.n++; a1.n&(accCarryEvery-1) == 0 {
				a1.carryChecked()
			}
		} else {
			a1.addRare(s1, d)
		}
		dd := d * d
		u = math.Float64bits(dd)
		e = int(u>>52) & 0x7ff
		if k := (e-1)>>5 - a2.base; uint(k) <= accTop {
			sh := uint(e-1) & 31
			m := u&(1<<52-1) | 1<<52 // dd >= 0
			a2.c[k] += int64(m << sh & (1<<32 - 1))
			a2.c[k+1] += int64(m >> (32 - sh))
			if a2.n++; a2.n&(accCarryEvery-1) == 0 {
				a2.carryChecked()
			}
		} else {
			a2.addRare(s2, dd)
		}
	}
}
