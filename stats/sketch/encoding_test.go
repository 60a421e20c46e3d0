package sketch

import (
	"bytes"
	"errors"
	"math"
	"math/rand/v2"
	"testing"
)

func TestEncodingRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(17, 18))
	for _, maxB := range []int{4, 0} {
		for _, d := range dists {
			xs := append(sample(r, d, 1000), math.NaN(), math.Inf(-1), 0)
			s := sketchOf(t, 0.01, maxB, xs)
			enc, err := s.MarshalBinary()
			if err != nil {
				t.Fatal(err)
			}
			var got Sketch
			if err := got.UnmarshalBinary(enc); err != nil {
				t.Fatalf("%s: %v", d.name, err)
			}
			again, _ := got.MarshalBinary()
			if !bytes.Equal(enc, again) {
				t.Fatalf("%s: re-encoding differs", d.name)
			}
			for q := 0.0; q <= 1; q += 0.05 {
				if a, b := s.Quantile(q), got.Quantile(q); a != b {
					t.Fatalf("%s: Quantile(%g) %g != %g after round trip", d.name, q, a, b)
				}
			}
			// The decoded sketch keeps working: adds and merges.
			got.Add(1)
			if err := got.Merge(s); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func TestUnmarshalBinaryRejects(t *testing.T) {
	s := sketchOf(t, 0.01, 0, []float64{1, 2, 3, -4})
	good, _ := s.MarshalBinary()
	empty, _ := mustNew(t, 0.01, 0).MarshalBinary()
	mut := func(f func(b []byte) []byte) []byte { return f(bytes.Clone(good)) }
	tests := []struct {
		name string
		in   []byte
	}{
		{"nil", nil},
		{"magic", mut(func(b []byte) []byte { b[3] = 2; return b })},
		{"truncated", good[:len(good)-1]},
		{"trailing", append(bytes.Clone(good), 0)},
		{"alpha", mut(func(b []byte) []byte { b[4+7] = 0x7f; return b })},
		{"flags", mut(func(b []byte) []byte { b[4+8+2] = 9; return b })},
		{"empty_minmax", mut(func(b []byte) []byte { return append(bytes.Clone(empty[:len(empty)-2-16]), make([]byte, 18)...) })},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before, _ := s.MarshalBinary()
			if err := s.UnmarshalBinary(tc.in); !errors.Is(err, errCorrupt) {
				t.Fatalf("UnmarshalBinary = %v, want errCorrupt", err)
			}
			after, _ := s.MarshalBinary()
			if !bytes.Equal(before, after) {
				t.Fatal("failed UnmarshalBinary modified the sketch")
			}
		})
	}
}

// FuzzAdd feeds arbitrary float64 bit patterns: no panic, Count and NaN
// accounting, monotone quantiles within [Min, Max], CDF in [0, 1], and an
// encoding round trip.
func FuzzAdd(f *testing.F) {
	f.Add([]byte{0, 0, 0, 0, 0, 0, 0xf0, 0x7f}, uint8(3))
	f.Add([]byte("0123456789abcdefghijklmnopqrstuvwxyz"), uint8(0))
	f.Fuzz(func(t *testing.T, data []byte, nb uint8) {
		s := mustNew(t, 0.02, 2+int(nb))
		var nan, n uint64
		for len(data) >= 8 {
			x := math.Float64frombits(uint64(data[0]) | uint64(data[1])<<8 | uint64(data[2])<<16 | uint64(data[3])<<24 |
				uint64(data[4])<<32 | uint64(data[5])<<40 | uint64(data[6])<<48 | uint64(data[7])<<56)
			data = data[8:]
			s.Add(x)
			if math.IsNaN(x) {
				nan++
			} else {
				n++
			}
		}
		if s.Count() != n || s.NaNCount() != nan {
			t.Fatalf("Count %d NaNCount %d, want %d %d", s.Count(), s.NaNCount(), n, nan)
		}
		prev := math.Inf(-1)
		for i := 0; i <= 64 && n > 0; i++ {
			v := s.Quantile(float64(i) / 64)
			if v < prev || v < s.Min() || v > s.Max() || math.IsNaN(v) {
				t.Fatalf("Quantile(%d/64) = %g after %g (min %g max %g)", i, v, prev, s.Min(), s.Max())
			}
			prev = v
			if c := s.CDF(v); !(c >= 0 && c <= 1) {
				t.Fatalf("CDF(%g) = %g", v, c)
			}
		}
		enc, _ := s.MarshalBinary()
		var got Sketch
		if err := got.UnmarshalBinary(enc); err != nil {
			t.Fatal(err)
		}
		if again, _ := got.MarshalBinary(); !bytes.Equal(enc, again) {
			t.Fatal("round trip differs")
		}
		if n > 0 {
			if d, e, err := KS(s, s); err != nil || d != 0 || e < 0 {
				t.Fatalf("KS(s, s) = %g, %g, %v", d, e, err)
			}
			if w, _ := Wasserstein(s, s); w != 0 && !math.IsNaN(w) {
				t.Fatalf("Wasserstein(s, s) = %g", w)
			}
		}
	})
}

// FuzzUnmarshalBinary: arbitrary bytes never panic, and whatever decodes
// re-encodes to a stable form that the sketch's methods accept.
func FuzzUnmarshalBinary(f *testing.F) {
	for _, xs := range [][]float64{nil, {1, -2, 0, math.Inf(1)}, {1e-300, 1e300}} {
		b, _ := sketchOf(f, 0.01, 8, xs).MarshalBinary()
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var s Sketch
		if err := s.UnmarshalBinary(data); err != nil {
			return
		}
		enc, _ := s.MarshalBinary()
		var s2 Sketch
		if err := s2.UnmarshalBinary(enc); err != nil {
			t.Fatalf("re-decode: %v", err)
		}
		s.Quantile(0.5)
		s.CDF(1)
		s.Add(3)
		_ = s.Merge(&s2)
		KS(&s, &s2)
		Wasserstein(&s, &s2)
	})
}
