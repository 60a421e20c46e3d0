package stats

import (
	"encoding/binary"
	"math"
	"slices"
	"testing"
)

// Fuzz targets per entry point (fuzz2_test.go holds the older ones):
//
//	FuzzBinned          ChiSquared, ChiSquaredGOF, GTest, KSBinned, PSI,
//	                    JensenShannon, Hellinger, KLDivergence,
//	                    TotalVariation, LInfinity
//	FuzzCoarsen         CoarsenBins, Regroup
//	FuzzRawSamples      KS2Samp, KS2SampAuto, Wasserstein, EnergyDistance
//	                    (weighted), WassersteinNormalized, WelchTTest
//	FuzzKolmogorovSF    KolmogorovSF
//	FuzzMoments         Moments.Add, Moments.Merge, Moments.Variance,
//	                    Moments.Std, WelchTTestMoments, ZTestMeans
//	FuzzProportionZTest ProportionZTest
//	FuzzPower           NoncentralChi2SF, Chi2Noncentrality, NormalMDE
//	fuzz2_test.go       KolmogorovN, KS2SampAuto, AndersonDarlingKSample,
//	                    CramerVonMises2Samp, EnergyDistance,
//	                    WassersteinNormalized, WelchTTest, ZTestMeans and
//	                    the count distances of FuzzCountDistances

// nastyValues is the alphabet of the byte decoders below. One byte is one
// value, so that a mutation changes one value (not the alignment of all
// later ones) and short inputs reach ties, constants, zero variance and
// every special value. Bytes from len(nastyValues) on map to small
// multiples of 1/8 with many ties.
var nastyValues = [...]float64{
	0, 1, -1, 0.5, math.Copysign(0, -1), 5e-324, 1e-300, 1e300, -1e300,
	math.MaxFloat64, -math.MaxFloat64, math.NaN(), math.Inf(1), math.Inf(-1),
	1e154, 3,
}

// nastyCounts is the alphabet of countsFromNasty: bin counts and weights,
// including the bad ones (negative, NaN, ±Inf) and magnitudes whose sums or
// products overflow or underflow. Bytes from len(nastyCounts) on map to the
// integers 0..7.
var nastyCounts = [...]float64{
	0, 1, 2, 0.5, 1e-300, 5e-324, 1e300, math.MaxFloat64, -1, math.NaN(),
	math.Inf(1), math.Inf(-1), 1e154, 1e-160, 1e15, math.Copysign(0, -1),
}

// rawEscape introduces 8 raw little-endian float64 bytes in valuesFrom,
// so any float64 stays reachable.
const rawEscape = 0xff

// valuesFrom decodes b into at most max values, one byte each through
// nastyValues, or the 8 bytes after rawEscape as a raw float64.
func valuesFrom(b []byte, max int) []float64 {
	var out []float64
	for len(b) > 0 && len(out) < max {
		c := b[0]
		b = b[1:]
		switch {
		case c == rawEscape && len(b) >= 8:
			out = append(out, math.Float64frombits(binary.LittleEndian.Uint64(b)))
			b = b[8:]
		case int(c) < len(nastyValues):
			out = append(out, nastyValues[c])
		default:
			out = append(out, float64(int(c%64)-32)/8)
		}
	}
	return out
}

// countsFromNasty decodes one count per byte through nastyCounts.
func countsFromNasty(b []byte) []float64 {
	out := make([]float64, len(b))
	for i, c := range b {
		if int(c) < len(nastyCounts) {
			out[i] = nastyCounts[c]
		} else {
			out[i] = float64(c % 8)
		}
	}
	return out
}

// goodCounts reports whether counts is valid input for the count-vector
// functions: every count finite and non-negative, and the total finite and
// positive. Exactly then they must not return NaN.
func goodCounts(counts []float64) bool {
	var s float64
	for _, c := range counts {
		if !(c >= 0) || math.IsInf(c, 1) {
			return false
		}
		s += c
	}
	return s > 0 && !math.IsInf(s, 1)
}

func sum(xs []float64) float64 {
	var s float64
	for _, x := range xs {
		s += x
	}
	return s
}

// symNear reports whether a and b agree up to rounding (both NaN counts as
// agreement).
func symNear(a, b float64) bool {
	if math.IsNaN(a) || math.IsNaN(b) {
		return math.IsNaN(a) && math.IsNaN(b)
	}
	if a == b {
		return true
	}
	return math.Abs(a-b) <= 1e-9*max(math.Abs(a), math.Abs(b))+1e-12
}

func FuzzBinned(f *testing.F) {
	f.Add([]byte{17, 18, 19}, []byte{19, 18, 17})       // ordinary counts
	f.Add([]byte{0, 0}, []byte{0, 0})                   // both totals 0
	f.Add([]byte{0, 1}, []byte{1, 0})                   // disjoint
	f.Add([]byte{1}, []byte{1})                         // one bin
	f.Add([]byte{}, []byte{})                           // empty
	f.Add([]byte{9, 1}, []byte{1, 1})                   // NaN count
	f.Add([]byte{10, 1}, []byte{1, 1})                  // +Inf count
	f.Add([]byte{8, 1}, []byte{1, 1})                   // negative count
	f.Add([]byte{7, 7}, []byte{1, 1})                   // total overflows
	f.Add([]byte{6, 6, 1}, []byte{6, 1, 6})             // products overflow
	f.Add([]byte{5, 5, 4}, []byte{5, 4, 5})             // subnormal counts
	f.Add([]byte{12, 13, 1}, []byte{13, 12, 1})         // 1e154 and 1e-160
	f.Add([]byte{1, 0, 0, 0, 0}, []byte{0, 0, 0, 0, 1}) // far-apart mass
	f.Fuzz(func(t *testing.T, a, b []byte) {
		n := min(len(a), len(b), 64)
		p, q := countsFromNasty(a[:n]), countsFromNasty(b[:n])
		good := goodCounts(p) && goodCounts(q)
		check := func(name string, v, lo, hi float64) {
			t.Helper()
			switch {
			case math.IsNaN(v) && good:
				t.Fatalf("%s = NaN on valid counts %v, %v", name, p, q)
			case !math.IsNaN(v) && !good:
				t.Fatalf("%s = %g on invalid counts %v, %v, want NaN", name, v, p, q)
			case !math.IsNaN(v) && !(v >= lo && v <= hi):
				t.Fatalf("%s = %g outside [%g, %g] for %v, %v", name, v, lo, hi, p, q)
			}
		}
		sym := func(name string, pq, qp float64) {
			t.Helper()
			if !symNear(pq, qp) {
				t.Fatalf("%s not symmetric: %g vs %g for %v, %v", name, pq, qp, p, q)
			}
		}
		inf := math.Inf(1)

		chi, chiP, chiDof := ChiSquared(p, q)
		check("ChiSquared stat", chi, 0, inf)
		check("ChiSquared p", chiP, 0, 1)
		chi2, chiP2, _ := ChiSquared(q, p)
		sym("ChiSquared stat", chi, chi2)
		sym("ChiSquared p", chiP, chiP2)

		g, gP, gDof := GTest(p, q)
		check("GTest stat", g, 0, inf)
		check("GTest p", gP, 0, 1)
		g2, gP2, _ := GTest(q, p)
		sym("GTest stat", g, g2)
		sym("GTest p", gP, gP2)
		if chiDof != gDof || chiDof < 0 || chiDof >= max(n, 1) {
			t.Fatalf("dof ChiSquared %d GTest %d for %d bins", chiDof, gDof, n)
		}

		gof, gofP, gofDof := ChiSquaredGOF(p, q)
		check("ChiSquaredGOF stat", gof, 0, inf)
		check("ChiSquaredGOF p", gofP, 0, 1)
		if good && gofDof != chiDof || math.IsInf(gof, 1) && gofP != 0 {
			t.Fatalf("ChiSquaredGOF = %g, %g, %d (ChiSquared dof %d)", gof, gofP, gofDof, chiDof)
		}

		d, ksP := KSBinned(p, q)
		check("KSBinned D", d, 0, 1)
		check("KSBinned p", ksP, 0, 1)
		d2, ksP2 := KSBinned(q, p)
		sym("KSBinned D", d, d2)
		sym("KSBinned p", ksP, ksP2)

		for _, eps := range []float64{0, 1e-4, math.NaN()} {
			psi := PSI(p, q, eps)
			check("PSI", psi, 0, math.MaxFloat64) // finite: empty bins get eps

			sym("PSI", psi, PSI(q, p, eps))
		}

		js := JensenShannon(p, q)
		check("JensenShannon", js, 0, math.Sqrt(math.Ln2))
		sym("JensenShannon", js, JensenShannon(q, p))

		for name, fn := range map[string]func(p, q []float64) float64{
			"Hellinger": Hellinger, "TotalVariation": TotalVariation, "LInfinity": LInfinity,
		} {
			v := fn(p, q)
			check(name, v, 0, 1)
			sym(name, v, fn(q, p))
		}

		check("KLDivergence", KLDivergence(p, q, 0), 0, inf)
		kl := KLDivergence(p, q, 1e-4)
		check("smoothed KLDivergence", kl, 0, inf)
		if math.IsInf(kl, 1) {
			t.Fatalf("smoothed KLDivergence = +Inf for %v, %v", p, q)
		}

		// Identical inputs: no drift.
		if goodCounts(p) {
			if v := JensenShannon(p, p); v != 0 {
				t.Fatalf("JensenShannon(p, p) = %g for %v", v, p)
			}
			if v := PSI(p, p, 0); v != 0 {
				t.Fatalf("PSI(p, p) = %g for %v", v, p)
			}
			if d, pv := KSBinned(p, p); d != 0 || pv != 1 {
				t.Fatalf("KSBinned(p, p) = %g, %g for %v", d, pv, p)
			}
			// Rounding noise in E scales with the total: beyond about 1e30
			// observations it is a significant statistic.
			if _, pv, _ := ChiSquared(p, p); !(pv > 0.999) && sum(p) < 1e20 {
				t.Fatalf("ChiSquared(p, p) p = %g for %v", pv, p)
			}
		}
	})
}

func FuzzCoarsen(f *testing.F) {
	f.Add([]byte{17, 18, 19, 20}, uint8(2))
	f.Add([]byte{0, 0, 1, 0, 0}, uint8(3))
	f.Add([]byte{0, 0, 0}, uint8(1))
	f.Add([]byte{}, uint8(4))
	f.Add([]byte{9, 1, 1}, uint8(2))
	f.Add([]byte{7, 7, 1}, uint8(2))
	f.Add([]byte{5, 0, 5, 5}, uint8(9))
	f.Fuzz(func(t *testing.T, b []byte, kb uint8) {
		counts := countsFromNasty(b[:min(len(b), 128)])
		k := 1 + int(kb%16)
		ends := CoarsenBins(counts, k)
		if len(counts) == 0 {
			if len(ends) != 0 {
				t.Fatalf("CoarsenBins(empty) = %v", ends)
			}
			return
		}
		if len(ends) == 0 || len(ends) > k || ends[len(ends)-1] != len(counts) {
			t.Fatalf("CoarsenBins(%v, %d) = %v", counts, k, ends)
		}
		prev := 0
		for _, e := range ends {
			if e <= prev {
				t.Fatalf("CoarsenBins(%v, %d) = %v not strictly increasing", counts, k, ends)
			}
			prev = e
		}
		if !goodCounts(counts) && len(ends) != 1 {
			t.Fatalf("CoarsenBins(%v, %d) = %v, want one group for invalid counts", counts, k, ends)
		}
		groups := Regroup(counts, ends)
		if goodCounts(counts) {
			for g, v := range groups {
				if !(v > 0) {
					t.Fatalf("CoarsenBins(%v, %d) = %v: group %d has mass %g", counts, k, ends, g, v)
				}
			}
		}
	})
}

// weightsFor decodes b into len(n) weights (cycling b), or nil if b is
// empty.
func weightsFor(b []byte, n int) []float64 {
	if len(b) == 0 {
		return nil
	}
	src := countsFromNasty(b)
	w := make([]float64, n)
	for i := range w {
		w[i] = src[i%len(src)]
	}
	return w
}

// goodSample reports whether x is a non-empty sample without NaN, and
// whether it is also free of ±Inf.
func goodSample(x []float64) (noNaN, finite bool) {
	noNaN, finite = len(x) > 0, len(x) > 0
	for _, v := range x {
		if math.IsNaN(v) {
			noNaN = false
		}
		if math.IsNaN(v) || math.IsInf(v, 0) {
			finite = false
		}
	}
	return noNaN, finite
}

func FuzzRawSamples(f *testing.F) {
	f.Add([]byte{1, 2, 3}, []byte{3, 2, 1}, []byte{}, []byte{})
	f.Add([]byte{1, 1, 1}, []byte{1, 1}, []byte{}, []byte{})         // constant, equal
	f.Add([]byte{1, 1, 1}, []byte{0, 0}, []byte{}, []byte{})         // constant, different
	f.Add([]byte{11, 1}, []byte{0, 1}, []byte{}, []byte{})           // NaN value
	f.Add([]byte{13, 0}, []byte{13, 0}, []byte{}, []byte{})          // -Inf in both
	f.Add([]byte{12, 1}, []byte{0}, []byte{}, []byte{})              // +Inf in one
	f.Add([]byte{}, []byte{1}, []byte{}, []byte{})                   // empty
	f.Add([]byte{7, 8}, []byte{9, 10}, []byte{}, []byte{})           // huge spread
	f.Add([]byte{1, 2}, []byte{1, 2}, []byte{0, 1}, []byte{1, 0})    // zero weights
	f.Add([]byte{1, 2}, []byte{1, 2}, []byte{8}, []byte{1})          // negative weight
	f.Add([]byte{1, 2}, []byte{1, 2}, []byte{7, 7}, []byte{1})       // weight total overflows
	f.Add([]byte{1, 2, 3}, []byte{1, 2}, []byte{5, 5, 5}, []byte{4}) // subnormal weights
	f.Fuzz(func(t *testing.T, a, b, wa, wb []byte) {
		x, y := valuesFrom(a, 64), valuesFrom(b, 64)
		xNoNaN, xFinite := goodSample(x)
		yNoNaN, yFinite := goodSample(y)

		d, p := KS2Samp(x, y)
		if math.IsNaN(d) != !(xNoNaN && yNoNaN) || !isProb(d) || !isProb(p) || math.IsNaN(d) != math.IsNaN(p) {
			t.Fatalf("KS2Samp(%v, %v) = %g, %g", x, y, d, p)
		}
		if d2, p2 := KS2Samp(y, x); !symNear(d, d2) || !symNear(p, p2) {
			t.Fatalf("KS2Samp not symmetric: %g, %g vs %g, %g", d, p, d2, p2)
		}
		da, pa := KS2SampAuto(x, y)
		if math.IsNaN(da) != !(xNoNaN && yNoNaN) || !isProb(da) || !isProb(pa) || math.IsNaN(da) != math.IsNaN(pa) {
			t.Fatalf("KS2SampAuto(%v, %v) = %g, %g", x, y, da, pa)
		}
		if d2, p2 := KS2SampAuto(y, x); !symNear(da, d2) || !symNear(pa, p2) {
			t.Fatalf("KS2SampAuto not symmetric: %g, %g vs %g, %g", da, pa, d2, p2)
		}

		xw, yw := weightsFor(wa, len(x)), weightsFor(wb, len(y))
		xwGood := xw == nil || goodCounts(xw)
		ywGood := yw == nil || goodCounts(yw)
		// Wasserstein takes ±Inf values as atoms; EnergyDistance rejects them.
		w := Wasserstein(x, xw, y, yw)
		if math.IsNaN(w) == (xNoNaN && yNoNaN && xwGood && ywGood) || w < 0 {
			t.Fatalf("Wasserstein(%v, %v, %v, %v) = %g", x, xw, y, yw, w)
		}
		if w2 := Wasserstein(y, yw, x, xw); !symNear(w, w2) {
			t.Fatalf("Wasserstein not symmetric: %g vs %g", w, w2)
		}
		e := EnergyDistance(x, xw, y, yw)
		if math.IsNaN(e) == (xFinite && yFinite && xwGood && ywGood) || e < 0 {
			t.Fatalf("EnergyDistance(%v, %v, %v, %v) = %g", x, xw, y, yw, e)
		}
		if e2 := EnergyDistance(y, yw, x, xw); !symNear(e, e2) {
			t.Fatalf("EnergyDistance not symmetric: %g vs %g", e, e2)
		}
		constX := xFinite
		for _, v := range x {
			constX = constX && v == x[0]
		}
		if wn := WassersteinNormalized(x, y); wn < 0 || math.IsNaN(wn) != (!xFinite || !yFinite || constX) {
			t.Fatalf("WassersteinNormalized(%v, %v) = %g", x, y, wn)
		}

		// Welch: defined for two finite samples of two or more values of
		// any magnitude, unless both are constant.
		constY := yFinite
		for _, v := range y {
			constY = constY && v == y[0]
		}
		// One common scale cannot keep the variance of a sample far below
		// the other's magnitudes (documented), so that case may be NaN.
		lo, hi := math.Inf(1), 0.0
		for _, v := range append(slices.Clone(x), y...) {
			if a := math.Abs(v); a > 0 {
				lo, hi = min(lo, a), max(hi, a)
			}
		}
		tt, df, p := WelchTTest(x, y)
		valid := xFinite && yFinite && len(x) >= 2 && len(y) >= 2
		wantP := valid && !(constX && constY) && !(hi/lo > 1e250)
		if !isProb(p) || df < 0 || !valid && !math.IsNaN(p) || wantP && (math.IsNaN(p) || math.IsNaN(tt) || math.IsNaN(df)) {
			t.Fatalf("WelchTTest(%v, %v) = %g, %g, %g", x, y, tt, df, p)
		}
		if t2, df2, p2 := WelchTTest(y, x); !symNear(tt, -t2) || !symNear(df, df2) || !symNear(p, p2) {
			t.Fatalf("WelchTTest not antisymmetric: %g %g %g vs %g %g %g", tt, df, p, t2, df2, p2)
		}
		if xNoNaN && xwGood {
			if w := Wasserstein(x, xw, x, xw); w != 0 {
				t.Fatalf("Wasserstein(x, x) = %g for %v, %v", w, x, xw)
			}
		}
	})
}

func FuzzKolmogorovSF(f *testing.F) {
	for _, x := range []float64{0, -1, 0.04, 0.5, 1.18, math.Nextafter(1.18, 0), 3, 40, math.NaN(), math.Inf(1), math.Inf(-1), 5e-324} {
		f.Add(x)
	}
	f.Fuzz(func(t *testing.T, x float64) {
		q := KolmogorovSF(x)
		if math.IsNaN(q) != math.IsNaN(x) || !isProb(q) {
			t.Fatalf("KolmogorovSF(%g) = %g", x, q)
		}
		// Non-increasing, up to a few ulps of rounding.
		for _, y := range []float64{math.Nextafter(x, math.Inf(1)), x * 1.001, x + 0.01} {
			if qy := KolmogorovSF(y); y > x && qy > q+4e-16 {
				t.Fatalf("KolmogorovSF(%g) = %g > KolmogorovSF(%g) = %g", y, qy, x, q)
			}
		}
	})
}

// momentsFrom adds the values of b to a Moments.
func momentsFrom(xs []float64) Moments {
	var m Moments
	for _, x := range xs {
		m.Add(x)
	}
	return m
}

func finiteMoments(m Moments) bool {
	return !math.IsNaN(m.Mean) && !math.IsInf(m.Mean, 0) && m.M2 >= 0 && !math.IsInf(m.M2, 1)
}

func FuzzMoments(f *testing.F) {
	f.Add([]byte{1, 2, 3}, []byte{3, 2}, uint8(1))
	f.Add([]byte{1, 1, 1}, []byte{1, 1}, uint8(2))   // zero variance, equal means
	f.Add([]byte{1, 1, 1}, []byte{0, 0}, uint8(2))   // zero variance, different means
	f.Add([]byte{1}, []byte{2, 3}, uint8(0))         // a single value
	f.Add([]byte{}, []byte{}, uint8(0))              // empty
	f.Add([]byte{11, 1}, []byte{1, 2}, uint8(1))     // NaN
	f.Add([]byte{12, 1}, []byte{1, 2}, uint8(1))     // +Inf
	f.Add([]byte{9, 10}, []byte{1, 2}, uint8(1))     // squares overflow
	f.Add([]byte{14, 14, 2}, []byte{1, 2}, uint8(1)) // 1e154
	f.Fuzz(func(t *testing.T, a, b []byte, split uint8) {
		x, y := valuesFrom(a, 64), valuesFrom(b, 64)
		ma, mb := momentsFrom(x), momentsFrom(y)
		if ma.N != float64(len(x)) {
			t.Fatalf("N = %g after %d values", ma.N, len(x))
		}
		// Finite values below 1e300 cannot overflow a difference, so their
		// moments stay finite (M2 may overflow to +Inf); otherwise the
		// documented NaN.
		small := len(x) > 0
		for _, v := range x {
			small = small && math.Abs(v) < 1e300
		}
		undefined := len(x) == 0 || !(ma.M2 >= 0) || math.IsNaN(ma.Mean) || math.IsInf(ma.Mean, 0)
		if v := ma.Variance(); math.IsNaN(v) != undefined || v < 0 || small && undefined {
			t.Fatalf("Variance = %g for %v (%+v)", v, x, ma)
		}
		if s := ma.Std(); s < 0 || math.IsNaN(s) != math.IsNaN(ma.Variance()) {
			t.Fatalf("Std = %g for %v", s, x)
		}

		// Merging the parts of any split, in either order, matches adding
		// every value (up to rounding) when the moments are finite.
		k := int(split) % (len(x) + 1)
		left, right := momentsFrom(x[:k]), momentsFrom(x[k:])
		lr, rl := merged(left, right), merged(right, left)
		if lr.N != ma.N || rl.N != ma.N {
			t.Fatalf("merged N = %g, %g, want %g", lr.N, rl.N, ma.N)
		}
		if finiteMoments(ma) && finiteMoments(left) && finiteMoments(right) && math.Abs(ma.Mean) < 1e100 &&
			(!momentsNear(lr, ma) || !momentsNear(rl, ma)) {
			t.Fatalf("split %d of %v: merged %+v / %+v, one pass %+v", k, x, lr, rl, ma)
		}

		// The tests on moments, from values and from arbitrary fields.
		for _, pair := range [][2]Moments{
			{ma, mb},
			{{N: ma.N, Mean: ma.Mean, M2: -ma.M2}, mb},
			{{N: float64(len(a)), Mean: ma.Mean, M2: mb.Mean}, {N: float64(len(b)), Mean: mb.Mean, M2: ma.Mean}},
		} {
			m1, m2 := pair[0], pair[1]
			good := m1.N >= 2 && m2.N >= 2 && finiteMoments(m1) && finiteMoments(m2)
			tt, df, p := WelchTTestMoments(m1, m2)
			if !isProb(p) || df < 0 || math.IsNaN(tt) != math.IsNaN(p) && !(math.IsInf(tt, 0) && math.IsNaN(df)) {
				t.Fatalf("WelchTTestMoments(%+v, %+v) = %g, %g, %g", m1, m2, tt, df, p)
			}
			if !good && !math.IsNaN(p) {
				t.Fatalf("WelchTTestMoments(%+v, %+v) = %g, %g, %g, want NaN", m1, m2, tt, df, p)
			}
			if good && m1.M2+m2.M2 > 0 && math.IsNaN(p) {
				t.Fatalf("WelchTTestMoments(%+v, %+v) = %g, %g, %g on valid moments", m1, m2, tt, df, p)
			}
			t2, df2, p2 := WelchTTestMoments(m2, m1)
			if !symNear(tt, -t2) || !symNear(df, df2) || !symNear(p, p2) {
				t.Fatalf("WelchTTestMoments not antisymmetric: %g %g %g vs %g %g %g", tt, df, p, t2, df2, p2)
			}
			z, zp := ZTestMeans(m1, m2)
			if !isProb(zp) || math.IsNaN(z) != math.IsNaN(zp) || !good && !math.IsNaN(zp) {
				t.Fatalf("ZTestMeans(%+v, %+v) = %g, %g", m1, m2, z, zp)
			}
			if z2, zp2 := ZTestMeans(m2, m1); !symNear(z, -z2) || !symNear(zp, zp2) {
				t.Fatalf("ZTestMeans not antisymmetric: %g %g vs %g %g", z, zp, z2, zp2)
			}
		}
	})
}

func FuzzProportionZTest(f *testing.F) {
	f.Add(3.0, 10.0, 5.0, 10.0)
	f.Add(0.0, 10.0, 0.0, 10.0)
	f.Add(10.0, 10.0, 10.0, 10.0)
	f.Add(0.0, 0.0, 1.0, 1.0)
	f.Add(11.0, 10.0, 1.0, 1.0)
	f.Add(math.NaN(), 1.0, 1.0, 1.0)
	f.Add(1e300, 1e308, 1.0, 1e308)
	f.Add(5e-324, 1e-300, 0.0, 1e-300)
	f.Fuzz(func(t *testing.T, x1, n1, x2, n2 float64) {
		z, p := ProportionZTest(x1, n1, x2, n2)
		if !isProb(p) || math.IsNaN(z) != math.IsNaN(p) {
			t.Fatalf("ProportionZTest(%g, %g, %g, %g) = %g, %g", x1, n1, x2, n2, z, p)
		}
		// Defined unless a count is bad or both proportions are 0 or 1
		// (se = 0), at least for integer counts up to 2^40 (with weights
		// of very different magnitudes p_hat can round to 0 or 1).
		ok := true
		for _, v := range []float64{x1, n1, x2, n2} {
			ok = ok && v >= 0 && v <= 1<<40 && v == math.Trunc(v)
		}
		ok = ok && n1 > 0 && n2 > 0 && x1 <= n1 && x2 <= n2 && !(x1 == 0 && x2 == 0) && !(x1 == n1 && x2 == n2)
		if ok && math.IsNaN(p) {
			t.Fatalf("ProportionZTest(%g, %g, %g, %g) = %g, %g on valid counts", x1, n1, x2, n2, z, p)
		}
		if z2, p2 := ProportionZTest(x2, n2, x1, n1); !symNear(z, -z2) || !symNear(p, p2) {
			t.Fatalf("ProportionZTest not antisymmetric: %g %g vs %g %g", z, p, z2, p2)
		}
	})
}

// FuzzPower covers NoncentralChi2SF, Chi2Noncentrality and NormalMDE.
func FuzzPower(f *testing.F) {
	f.Add(3.0, 2.0, 1.5, 0.05, 0.8, 100.0, 1000.0)
	f.Add(0.0, 1.0, 0.0, 0.5, 0.5, 1.0, 1.0)
	f.Add(-1.0, 0.0, -1.0, 0.0, 1.0, 0.0, -1.0)
	f.Add(math.Inf(1), 1e300, 1e300, 1e-300, 1-1e-16, 5e-324, math.MaxFloat64)
	f.Add(math.NaN(), 5e-324, 5e-324, math.NaN(), math.NaN(), math.Inf(1), math.NaN())
	f.Add(1e6, 9.0, 1e6, 0.001, 0.999, 1e9, 1e9)
	f.Fuzz(func(t *testing.T, x, df, lambda, alpha, power, n, m float64) {
		sf := NoncentralChi2SF(x, df, lambda)
		bad := math.IsNaN(x) || !(df > 0) || math.IsInf(df, 1) || !(lambda >= 0) || math.IsInf(lambda, 1)
		if math.IsNaN(sf) != bad || !isProb(sf) {
			t.Fatalf("NoncentralChi2SF(%g, %g, %g) = %g", x, df, lambda, sf)
		}
		if !bad && x > 0 {
			if sf2 := NoncentralChi2SF(x*1.5, df, lambda); sf2 > sf+1e-9 {
				t.Fatalf("NoncentralChi2SF increases: %g at %g, %g at %g (df %g, lambda %g)", sf, x, sf2, x*1.5, df, lambda)
			}
		}
		// Keep df moderate: the bisection evaluates the series ~50 times.
		d := math.Mod(math.Abs(df), 64)
		l := Chi2Noncentrality(d, alpha, power)
		okL := d > 0 && alpha > 0 && alpha < 1 && power > alpha && power < 1
		if math.IsNaN(l) == okL || okL && !(l >= 0) {
			t.Fatalf("Chi2Noncentrality(%g, %g, %g) = %g", d, alpha, power, l)
		}
		mde := NormalMDE(n, m, alpha, power)
		okM := n > 0 && m > 0 && !math.IsInf(n, 1) && !math.IsInf(m, 1) && alpha > 0 && alpha < 1 && power > 0 && power < 1
		if math.IsNaN(mde) == okM {
			t.Fatalf("NormalMDE(%g, %g, %g, %g) = %g", n, m, alpha, power, mde)
		}
	})
}
