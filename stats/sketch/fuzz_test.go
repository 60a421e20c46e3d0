package sketch

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"math/bits"
	"slices"
	"testing"

	"github.com/driftwatch/driftwatch/stats"
)

// Fuzz targets per entry point (encoding_test.go holds FuzzAdd and
// FuzzUnmarshalBinary):
//
//	FuzzSketchMerge    New, NewWithMaxBuckets, DefaultMaxBuckets,
//	                   Sketch.Add, Merge, Reset, Count, NaNCount, Min, Max,
//	                   Quantile, CDF, Collapsed, RelAccuracy, MaxBuckets,
//	                   MarshalBinary, AppendBinary
//	FuzzSketchDistance KS, Wasserstein (against the exact statistics of
//	                   the raw samples)
//	FuzzDecodedMerge   UnmarshalBinary, then Merge, KS, Wasserstein,
//	                   Quantile and CDF of decoded (untrusted) sketches
//	FuzzHistogram      NewHistogram, Histogram.Add, Merge, Counts, Sums,
//	                   Edges, Under, Over, NaNs

// nastyValues is the value alphabet: one byte is one value, so a mutation
// changes one value and short inputs reach ties, zeros of both signs,
// subnormals, ±Inf, NaN and both ends of the float64 range. Bytes past the
// table give small multiples of 1/4 of both signs; 0xff escapes 8 raw
// bytes.
var nastyValues = [...]float64{
	0, math.Copysign(0, -1), 1, -1, math.NaN(), math.Inf(1), math.Inf(-1), 5e-324,
	-5e-324, 0x1p-1022, 1e-300, 1e300, -1e300, math.MaxFloat64, -math.MaxFloat64, 1e-10,
}

func valuesFrom(b []byte, max int) []float64 {
	var out []float64
	for len(b) > 0 && len(out) < max {
		c := b[0]
		b = b[1:]
		switch {
		case c == 0xff && len(b) >= 8:
			out = append(out, math.Float64frombits(binary.LittleEndian.Uint64(b)))
			b = b[8:]
		case int(c) < len(nastyValues):
			out = append(out, nastyValues[c])
		default:
			out = append(out, float64(int(c%128)-64)/4)
		}
	}
	return out
}

// alphas are the relative accuracies the fuzzers choose from, valid and
// not.
var alphas = [...]float64{0.01, 0.02, 0.5, MinRelAccuracy, 0.1, 0, math.NaN(), 0.6}

func enc(t *testing.T, s *Sketch) []byte {
	t.Helper()
	b, err := s.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func FuzzSketchMerge(f *testing.F) {
	f.Add(uint8(0), uint8(0), []byte{16, 17, 18, 19, 20, 21})
	f.Add(uint8(1), uint8(1), []byte{7, 8, 9, 10, 11, 13})    // two buckets, wide range: collapse
	f.Add(uint8(0), uint8(0), []byte{4, 5, 6, 0, 1, 4})       // NaN, ±Inf, ±0
	f.Add(uint8(2), uint8(3), []byte{13, 14, 13, 14})         // float64 extremes, alpha 0.5
	f.Add(uint8(3), uint8(200), []byte{7, 9, 10, 11, 15, 16}) // alpha 1e-6
	f.Add(uint8(5), uint8(0), []byte{1})                      // invalid alpha
	f.Add(uint8(0), uint8(0), []byte{})
	f.Fuzz(func(t *testing.T, ab, mb uint8, data []byte) {
		alpha := alphas[int(ab)%len(alphas)]
		maxB := int(mb) % 40 // 0: DefaultMaxBuckets; 1: invalid
		valid := alpha >= MinRelAccuracy && alpha <= MaxRelAccuracy
		if d := DefaultMaxBuckets(alpha); (d == 0) == valid || valid && (d < 2 || d > MaxMaxBuckets) {
			t.Fatalf("DefaultMaxBuckets(%v) = %d", alpha, d)
		}
		if maxB == 0 {
			// The default bound, but at most 4096 buckets: alpha 1e-6 has
			// 131072, 1 MiB per store and sketch, which would make each
			// execution take milliseconds.
			maxB = min(DefaultMaxBuckets(alpha), 4096)
		}
		mk := func() *Sketch {
			s, err := NewWithMaxBuckets(alpha, maxB)
			if (err != nil) != (!valid || maxB < 2) {
				t.Fatalf("NewWithMaxBuckets(%v, %d) error %v", alpha, maxB, err)
			}
			return s
		}
		if s, err := New(alpha); (err != nil) == valid || valid && s.MaxBuckets() != DefaultMaxBuckets(alpha) {
			t.Fatalf("New(%v) = %v, %v", alpha, s, err)
		}
		whole := mk()
		if whole == nil {
			return
		}
		if whole.RelAccuracy() != alpha || whole.MaxBuckets() != maxB {
			t.Fatalf("RelAccuracy %v MaxBuckets %d, want %v %d", whole.RelAccuracy(), whole.MaxBuckets(), alpha, maxB)
		}
		xs := valuesFrom(data, 128)
		parts := [3]*Sketch{mk(), mk(), mk()}
		var nan uint64
		var finite []float64 // the values Count counts, sorted below
		for i, x := range xs {
			whole.Add(x)
			parts[i%3].Add(x)
			if math.IsNaN(x) {
				nan++
			} else {
				finite = append(finite, x)
			}
		}
		want := enc(t, whole)
		// Every order and grouping of merges gives the same bytes.
		for _, order := range [][3]int{{0, 1, 2}, {2, 1, 0}, {1, 0, 2}} {
			m := mk()
			for _, i := range order {
				if err := m.Merge(parts[i]); err != nil {
					t.Fatal(err)
				}
			}
			if got := enc(t, m); !bytes.Equal(got, want) {
				t.Fatalf("merge order %v: encoding differs from adding all values", order)
			}
		}
		nested := mk()
		inner := mk()
		_ = inner.Merge(parts[1])
		_ = inner.Merge(parts[2])
		_ = nested.Merge(parts[0])
		_ = nested.Merge(inner)
		if !bytes.Equal(enc(t, nested), want) {
			t.Fatal("grouped merge differs from adding all values")
		}
		if app, _ := whole.AppendBinary([]byte("prefix")); !bytes.Equal(app, append([]byte("prefix"), want...)) {
			t.Fatal("AppendBinary differs from MarshalBinary")
		}

		// Incompatible merges fail and leave the sketch unchanged.
		other, _ := NewWithMaxBuckets(alpha, maxB+1)
		if maxB+1 > MaxMaxBuckets {
			other, _ = NewWithMaxBuckets(alpha, maxB-1)
		}
		if other != nil {
			other.Add(1)
			if err := whole.Merge(other); !errors.Is(err, ErrIncompatible) || !bytes.Equal(enc(t, whole), want) {
				t.Fatalf("incompatible Merge: %v, sketch changed %v", err, !bytes.Equal(enc(t, whole), want))
			}
		}

		checkSketch(t, whole, finite, nan)

		whole.Reset()
		if whole.Count() != 0 || whole.NaNCount() != 0 || whole.Collapsed() || !math.IsNaN(whole.Min()) ||
			!math.IsNaN(whole.Quantile(0.5)) || !math.IsNaN(whole.CDF(0)) || !bytes.Equal(enc(t, whole), enc(t, mk())) {
			t.Fatal("Reset did not empty the sketch")
		}
	})
}

// checkSketch checks the accessors of s against the raw values it holds
// (without NaN) and its NaN count.
func checkSketch(t *testing.T, s *Sketch, xs []float64, nan uint64) {
	t.Helper()
	xs = slices.Clone(xs)
	slices.Sort(xs)
	n := len(xs)
	if s.Count() != uint64(n) || s.NaNCount() != nan {
		t.Fatalf("Count %d NaNCount %d, want %d %d", s.Count(), s.NaNCount(), n, nan)
	}
	if n == 0 {
		if !math.IsNaN(s.Min()) || !math.IsNaN(s.Max()) || !math.IsNaN(s.Quantile(0.5)) || !math.IsNaN(s.CDF(0)) {
			t.Fatal("empty sketch: Min, Max, Quantile or CDF not NaN")
		}
		return
	}
	if s.Min() != xs[0] || s.Max() != xs[n-1] {
		t.Fatalf("Min %g Max %g, want %g %g", s.Min(), s.Max(), xs[0], xs[n-1])
	}
	for _, q := range []float64{-0.1, 1.1, math.NaN()} {
		if v := s.Quantile(q); !math.IsNaN(v) {
			t.Fatalf("Quantile(%g) = %g, want NaN", q, v)
		}
	}
	if !math.IsNaN(s.CDF(math.NaN())) {
		t.Fatal("CDF(NaN) not NaN")
	}
	alpha := s.RelAccuracy()
	prev := math.Inf(-1)
	for i := 0; i <= 32; i++ {
		q := float64(i) / 32
		v := s.Quantile(q)
		x := xs[int(q*float64(n-1))]
		// The relative guarantee, for values outside collapsed buckets and
		// in the indexable range (subnormals are represented by 0).
		if !s.Collapsed() && math.Abs(x) >= minIndexable && !math.IsInf(x, 0) &&
			math.Abs(v-x) > (alpha+relErrTol)*math.Abs(x) {
			t.Fatalf("Quantile(%g) = %g, exact %g, alpha %g", q, v, x, alpha)
		}
		if math.IsInf(x, 0) && v != x {
			t.Fatalf("Quantile(%g) = %g, exact %g", q, v, x)
		}
		if v < prev || v < s.Min() || v > s.Max() {
			t.Fatalf("Quantile(%g) = %g after %g, outside [%g, %g]", q, v, prev, s.Min(), s.Max())
		}
		prev = v
	}
	prevC := 0.0
	for _, x := range append(xs, math.Inf(-1), math.Inf(1)) {
		if c := s.CDF(x); !(c >= 0 && c <= 1) {
			t.Fatalf("CDF(%g) = %g", x, c)
		}
	}
	for _, x := range xs { // sorted: the CDF must not decrease
		c := s.CDF(x)
		if c < prevC {
			t.Fatalf("CDF(%g) = %g below an earlier %g", x, c, prevC)
		}
		prevC = c
	}
	if c := s.CDF(math.Inf(1)); c != 1 {
		t.Fatalf("CDF(+Inf) = %g", c)
	}
}

func FuzzSketchDistance(f *testing.F) {
	f.Add(uint8(0), uint8(0), []byte{16, 17, 18}, []byte{18, 19, 20})
	f.Add(uint8(0), uint8(0), []byte{5, 16}, []byte{5, 17})       // +Inf in both
	f.Add(uint8(0), uint8(0), []byte{6, 16}, []byte{17})          // -Inf in one
	f.Add(uint8(1), uint8(0), []byte{7, 8, 9}, []byte{7, 8, 9})   // subnormals, alpha mismatch
	f.Add(uint8(0), uint8(1), []byte{11, 13, 14}, []byte{12, 13}) // float64 extremes
	f.Add(uint8(0), uint8(0), []byte{}, []byte{16})               // empty
	f.Add(uint8(4), uint8(4), []byte{4, 4}, []byte{16})           // only NaN
	f.Fuzz(func(t *testing.T, aa, ab uint8, da, db []byte) {
		alphaA, alphaB := alphas[int(aa)%5], alphas[int(ab)%5] // valid ones
		xa, xb := valuesFrom(da, 128), valuesFrom(db, 128)
		a, b := sketchOf(t, alphaA, 8, xa), sketchOf(t, alphaB, 0, xb)
		ra, rb := withoutNaN(xa), withoutNaN(xb)
		empty := len(ra) == 0 || len(rb) == 0

		d, maxErr, err := KS(a, b)
		d2, maxErr2, err2 := KS(b, a)
		switch {
		case alphaA != alphaB:
			if !errors.Is(err, ErrIncompatible) || !errors.Is(err2, ErrIncompatible) || !math.IsNaN(d) {
				t.Fatalf("KS with alphas %g, %g = %g, %v", alphaA, alphaB, d, err)
			}
		case err != nil || err2 != nil:
			t.Fatalf("KS: %v, %v", err, err2)
		case empty:
			if !math.IsNaN(d) || !math.IsNaN(maxErr) {
				t.Fatalf("KS with an empty sketch = %g, %g", d, maxErr)
			}
		default:
			exact, _ := stats.KS2Samp(ra, rb)
			if !(d >= 0 && maxErr >= 0 && d+maxErr <= 1+1e-12) || exact < d-1e-12 || exact > d+maxErr+1e-12 {
				t.Fatalf("KS = %g + [0, %g], exact %g (a %v, b %v)", d, maxErr, exact, ra, rb)
			}
			if d != d2 || math.Abs(maxErr-maxErr2) > 1e-12 {
				t.Fatalf("KS not symmetric: %g, %g vs %g, %g", d, maxErr, d2, maxErr2)
			}
		}

		w, we := Wasserstein(a, b)
		w2, we2 := Wasserstein(b, a)
		if empty {
			if !math.IsNaN(w) || !math.IsNaN(we) {
				t.Fatalf("Wasserstein with an empty sketch = %g, %g", w, we)
			}
			return
		}
		if !(w >= 0) || !(we >= 0) || w != w2 || we != we2 && math.Abs(we-we2) > 1e-12*we {
			t.Fatalf("Wasserstein = %g, %g; reversed %g, %g", w, we, w2, we2)
		}
		exact := stats.Wasserstein(ra, nil, rb, nil)
		if exact+we > math.MaxFloat64/2 {
			return // the bracket reaches the float64 limit: w may round to +Inf
		}
		if math.IsInf(exact, 1) != math.IsInf(w, 1) && !math.IsInf(we, 1) {
			t.Fatalf("Wasserstein = %g ± %g, exact %g (a %v, b %v)", w, we, exact, ra, rb)
		}
		if !math.IsInf(exact, 1) && !math.IsInf(we, 1) && math.Abs(w-exact) > we+1e-9*(exact+we)+1e-300 {
			t.Fatalf("Wasserstein = %g ± %g, exact %g (a %v, b %v)", w, we, exact, ra, rb)
		}
	})
}

func withoutNaN(xs []float64) []float64 {
	return slices.DeleteFunc(slices.Clone(xs), math.IsNaN)
}

// encodingOf returns the encoding of a sketch with the given counts, for
// seeds of FuzzDecodedMerge.
func encodingOf(zero, negInf, posInf, nan uint64, lo int64, pos []uint64, min, max float64) []byte {
	b := []byte(encodingMagic)
	b = binary.LittleEndian.AppendUint64(b, math.Float64bits(0.01))
	b = binary.AppendUvarint(b, 2072)
	b = append(b, 0)
	for _, c := range []uint64{zero, negInf, posInf, nan} {
		b = binary.AppendUvarint(b, c)
	}
	b = binary.LittleEndian.AppendUint64(b, math.Float64bits(min))
	b = binary.LittleEndian.AppendUint64(b, math.Float64bits(max))
	b = binary.AppendUvarint(b, 0) // no negative buckets
	b = binary.AppendUvarint(b, uint64(len(pos)))
	if len(pos) > 0 {
		b = binary.AppendVarint(b, lo)
		for _, c := range pos {
			b = binary.AppendUvarint(b, c)
		}
	}
	return b
}

func FuzzDecodedMerge(f *testing.F) {
	half := uint64(1) << 63
	f.Add(encodingOf(1, 0, 0, 0, 0, []uint64{2, 3}, 0, 2), encodingOf(0, 0, 1, 0, 5, []uint64{1}, 1, math.Inf(1)))
	f.Add(encodingOf(half, 0, 0, 0, 0, nil, 0, 0), encodingOf(half, 0, 0, 0, 0, nil, 0, 0)) // counts overflow on merge
	f.Add(encodingOf(0, 0, 0, 0, 3, []uint64{half}, 1, 2), encodingOf(0, 0, 0, 0, 3, []uint64{half}, 1, 2))
	f.Add(encodingOf(0, half, half-1, 0, 0, nil, math.Inf(-1), math.Inf(1)), encodingOf(1, 0, 0, 0, 0, nil, 0, 0))
	f.Add(encodingOf(0, 0, 0, 0, 1<<30-1, []uint64{1}, 1, 1e308), encodingOf(0, 0, 0, 0, -1<<30, []uint64{1}, 0, 1)) // indices beyond the float64 range
	f.Fuzz(func(t *testing.T, ea, eb []byte) {
		var a, b Sketch
		if a.UnmarshalBinary(ea) != nil || b.UnmarshalBinary(eb) != nil {
			return
		}
		for _, s := range []*Sketch{&a, &b} {
			if n := s.Count(); n > 0 {
				for _, q := range []float64{0, 0.25, 0.5, 1} {
					if v := s.Quantile(q); math.IsNaN(v) || v < s.Min() || v > s.Max() {
						t.Fatalf("decoded Quantile(%g) = %g outside [%g, %g]", q, v, s.Min(), s.Max())
					}
				}
				if c := s.CDF(1); !(c >= 0 && c <= 1) {
					t.Fatalf("decoded CDF(1) = %g", c)
				}
			}
		}
		if d, e, err := KS(&a, &b); err == nil && a.Count() > 0 && b.Count() > 0 && !(d >= 0 && d <= 1 && e >= 0) {
			t.Fatalf("KS of decoded sketches = %g, %g", d, e)
		}
		if w, e := Wasserstein(&a, &b); a.Count() > 0 && b.Count() > 0 && (math.IsNaN(w) || w < 0 || math.IsNaN(e) || e < 0) {
			t.Fatalf("Wasserstein of decoded sketches = %g, %g", w, e)
		}
		before := enc(t, &a)
		na, nb := a.Count(), b.Count()
		if err := a.Merge(&b); err != nil {
			_, carry := bits.Add64(na, nb, 0)
			_, nanCarry := bits.Add64(a.NaNCount(), b.NaNCount(), 0)
			overflow := carry|nanCarry != 0
			compatible := a.RelAccuracy() == b.RelAccuracy() && a.MaxBuckets() == b.MaxBuckets()
			if !bytes.Equal(enc(t, &a), before) || compatible != errors.Is(err, ErrCountOverflow) ||
				compatible && !overflow || !compatible && !errors.Is(err, ErrIncompatible) {
				t.Fatalf("failed Merge (%v) of %d and %d values", err, na, nb)
			}
			return
		}
		if a.Count() != na+nb || a.Count() < na {
			t.Fatalf("merged Count %d from %d + %d", a.Count(), na, nb)
		}
		var again Sketch
		if err := again.UnmarshalBinary(enc(t, &a)); err != nil {
			t.Fatalf("merged sketch does not decode: %v", err)
		}
		if n := a.Count(); n > 0 {
			if v := a.Quantile(0.5); math.IsNaN(v) {
				t.Fatal("merged Quantile(0.5) = NaN")
			}
			if d, _, err := KS(&a, &b); err == nil && b.Count() > 0 && !(d >= 0 && d <= 1) {
				t.Fatalf("KS after merge = %g", d)
			}
		}
	})
}

func FuzzHistogram(f *testing.F) {
	f.Add([]byte{0, 2, 18}, []byte{16, 17, 18, 2, 3, 4, 5, 6})
	f.Add([]byte{2}, []byte{1})                     // one edge
	f.Add([]byte{2, 2}, []byte{1})                  // equal edges
	f.Add([]byte{4, 2}, []byte{1})                  // NaN edge
	f.Add([]byte{6, 2}, []byte{1})                  // -Inf edge
	f.Add([]byte{14, 13}, []byte{13, 14, 11, 5, 6}) // float64 extremes
	f.Add([]byte{8, 7, 9}, []byte{7, 8, 9, 0, 1})   // subnormal edges
	f.Fuzz(func(t *testing.T, eb, data []byte) {
		edges := valuesFrom(eb, 32)
		h, err := NewHistogram(edges)
		valid := len(edges) >= 2
		for i, e := range edges {
			valid = valid && !math.IsNaN(e) && !math.IsInf(e, 0) && (i == 0 || e > edges[i-1])
		}
		if (err != nil) == valid {
			t.Fatalf("NewHistogram(%v) error %v", edges, err)
		}
		if err != nil {
			return
		}
		if !slices.Equal(h.Edges(), edges) {
			t.Fatalf("Edges = %v, want %v", h.Edges(), edges)
		}
		a, _ := NewHistogram(edges)
		b, _ := NewHistogram(edges)
		xs := valuesFrom(data, 128)
		var under, over, nan uint64
		for i, x := range xs {
			h.Add(x)
			if i%2 == 0 {
				a.Add(x)
			} else {
				b.Add(x)
			}
			switch {
			case math.IsNaN(x):
				nan++
			case x < edges[0]:
				under++
			case x > edges[len(edges)-1]:
				over++
			}
		}
		if h.Under() != under || h.Over() != over || h.NaNs() != nan {
			t.Fatalf("Under %d Over %d NaNs %d, want %d %d %d", h.Under(), h.Over(), h.NaNs(), under, over, nan)
		}
		var in uint64
		for j, c := range h.Counts() {
			in += c
			// Every value counted in bin j lies in [e_j, e_j+1) (the last
			// bin closed), so its sum lies in [c e_j, c e_j+1].
			lo, hi := edges[j], edges[j+1]
			fc := float64(c)
			tol := fc * fc * 0x1p-52 * max(math.Abs(lo), math.Abs(hi))
			if sum := h.Sums()[j]; !math.IsInf(fc*lo, 0) && !math.IsInf(fc*hi, 0) && !math.IsInf(sum, 0) &&
				(sum < fc*lo-tol || sum > fc*hi+tol) {
				t.Fatalf("bin %d [%g, %g]: %d values summing to %g", j, lo, hi, c, sum)
			}
		}
		if in+under+over+nan != uint64(len(xs)) {
			t.Fatalf("counts %v + %d + %d + %d != %d values", h.Counts(), under, over, nan, len(xs))
		}
		ab, _ := NewHistogram(edges)
		ba, _ := NewHistogram(edges)
		_, _ = ab.Merge(a), ab.Merge(b)
		_, _ = ba.Merge(b), ba.Merge(a)
		if !slices.Equal(ab.Counts(), h.Counts()) || !slices.Equal(ba.Counts(), h.Counts()) ||
			ab.Under() != under || ab.Over() != over || ab.NaNs() != nan {
			t.Fatalf("merged counts %v / %v, want %v", ab.Counts(), ba.Counts(), h.Counts())
		}
		other, err := NewHistogram(append(slices.Clone(edges), edges[len(edges)-1]+1))
		if err == nil && !math.IsInf(edges[len(edges)-1]+1, 0) && edges[len(edges)-1]+1 > edges[len(edges)-1] {
			before := slices.Clone(ab.Counts())
			if err := ab.Merge(other); !errors.Is(err, ErrIncompatible) || !slices.Equal(ab.Counts(), before) {
				t.Fatalf("Merge with other edges: %v", err)
			}
		}
	})
}
