package sketch

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/driftwatch/driftwatch/stats"
)

func meanAbs(xs []float64) float64 {
	var s float64
	for _, x := range xs {
		s += math.Abs(x)
	}
	return s / float64(len(xs))
}

// TestDistanceBounds checks, on pairs drawn from every distribution and
// several sizes and accuracies, that the exact KS statistic on the raw
// samples (stats.KS2Samp) lies in [d, d+maxErr], that maxErr is at most the
// largest bucket mass, and that the exact W1 (stats.Wasserstein) is within
// maxErr of w and within the a priori bound alpha (E_a|x| + E_b|x|).
func TestDistanceBounds(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 14))
	type worst struct{ ksErr, ksErrOverBound, w1Err, w1ErrOverBound, w1ErrOverAlphaMean float64 }
	for _, alpha := range []float64{0.005, 0.02, 0.1} {
		var wst worst
		cases := 0
		for ia, da := range dists {
			for ib := ia; ib < len(dists); ib++ {
				db := dists[ib]
				if ib != ia && r.IntN(3) != 0 {
					continue // a third of the cross pairs, all self pairs
				}
				for _, n := range [][2]int{{5, 9}, {500, 300}, {4000, 6000}} {
					xa, xb := sample(r, da, n[0]), sample(r, db, n[1])
					a, b := sketchOf(t, alpha, 0, xa), sketchOf(t, alpha, 0, xb)
					cases++

					d, ke, err := KS(a, b)
					if err != nil {
						t.Fatal(err)
					}
					exact, _ := stats.KS2Samp(xa, xb)
					if exact < d-1e-12 || exact > d+ke+1e-12 {
						t.Fatalf("alpha %g %s vs %s n=%v: exact KS %g outside [%g, %g]", alpha, da.name, db.name, n, exact, d, d+ke)
					}
					if mb := maxBucketMass(a, b); ke > mb+1e-12 {
						t.Fatalf("%s vs %s: KS maxErr %g > max bucket mass %g", da.name, db.name, ke, mb)
					}
					wst.ksErr = max(wst.ksErr, exact-d)
					if ke > 0 {
						wst.ksErrOverBound = max(wst.ksErrOverBound, (exact-d)/ke)
					}

					w, we := Wasserstein(a, b)
					ew := stats.Wasserstein(xa, nil, xb, nil)
					diff := math.Abs(w - ew)
					tol := 1e-9 * (math.Abs(ew) + meanAbs(xa) + meanAbs(xb))
					if diff > we+tol {
						t.Fatalf("alpha %g %s vs %s n=%v: |w-W1| = |%g-%g| = %g > maxErr %g", alpha, da.name, db.name, n, w, ew, diff, we)
					}
					prior := alpha * (meanAbs(xa) + meanAbs(xb))
					if diff > prior+tol {
						t.Fatalf("%s vs %s: |w-W1| = %g > alpha(E|a|+E|b|) = %g", da.name, db.name, diff, prior)
					}
					if we > prior*(1+alpha)/(1-alpha)+tol {
						t.Fatalf("%s vs %s: maxErr %g above alpha*gamma*(E|a|+E|b|) = %g", da.name, db.name, we, prior*(1+alpha)/(1-alpha))
					}
					if ew > 0 {
						wst.w1Err = max(wst.w1Err, diff/ew)
					}
					if we > 0 {
						wst.w1ErrOverBound = max(wst.w1ErrOverBound, diff/we)
					}
					if prior > 0 {
						wst.w1ErrOverAlphaMean = max(wst.w1ErrOverAlphaMean, diff/prior)
					}
				}
			}
		}
		t.Logf("alpha %g, %d pairs: KS max |d-D| = %.4g (max %.3f of bracket); W1 max rel err %.3g, max %.3f of maxErr, max %.3f of alpha(E|a|+E|b|)",
			alpha, cases, wst.ksErr, wst.ksErrOverBound, wst.w1Err, wst.w1ErrOverBound, wst.w1ErrOverAlphaMean)
	}
}

func maxBucketMass(a, b *Sketch) float64 {
	var m float64
	for _, s := range []*Sketch{a, b} {
		fn, fp := s.floors()
		for _, bk := range s.appendBuckets(nil, fn, fp) {
			m = max(m, float64(bk.n)/float64(s.Count()))
		}
	}
	return m
}

// TestDistanceCollapsedAndMixed covers sketches whose collapse floors differ
// and sketches with different bucket bounds.
func TestDistanceCollapsedAndMixed(t *testing.T) {
	r := rand.New(rand.NewPCG(15, 16))
	for trial := range 40 {
		da, db := dists[r.IntN(len(dists))], dists[r.IntN(len(dists))]
		xa, xb := sample(r, da, 2000), sample(r, db, 1500)
		a := sketchOf(t, 0.02, 4+r.IntN(60), xa)
		b := sketchOf(t, 0.02, 4+r.IntN(60), xb)
		d, ke, err := KS(a, b)
		if err != nil {
			t.Fatal(err)
		}
		exact, _ := stats.KS2Samp(xa, xb)
		if exact < d-1e-12 || exact > d+ke+1e-12 {
			t.Fatalf("trial %d %s vs %s: exact KS %g outside [%g, %g]", trial, da.name, db.name, exact, d, d+ke)
		}
		w, we := Wasserstein(a, b)
		ew := stats.Wasserstein(xa, nil, xb, nil)
		if diff := math.Abs(w - ew); diff > we+1e-9*(ew+meanAbs(xa)+meanAbs(xb)) {
			t.Fatalf("trial %d %s vs %s: |w-W1| = %g > maxErr %g", trial, da.name, db.name, diff, we)
		}
	}
}

func TestDistanceSpecial(t *testing.T) {
	inf := math.Inf(1)
	mk := func(xs ...float64) *Sketch { return sketchOf(t, 0.01, 0, xs) }
	tests := []struct {
		name  string
		a, b  *Sketch
		ks, w float64 // want (NaN = NaN)
	}{
		{"empty", mk(), mk(1), math.NaN(), math.NaN()},
		{"identical", mk(1, 2, 3), mk(3, 2, 1), 0, 0},
		{"inf_same_fraction", mk(1, inf), mk(1, inf), 0, 0},
		{"inf_differs", mk(1, inf), mk(1, 1), 0.5, inf},
		{"neginf_differs", mk(-inf, 1), mk(1), 0.5, inf},
		{"disjoint", mk(-5), mk(5), 1, 10},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d, _, err := KS(tc.a, tc.b)
			if err != nil {
				t.Fatal(err)
			}
			w, _ := Wasserstein(tc.a, tc.b)
			if !(d == tc.ks || math.IsNaN(d) && math.IsNaN(tc.ks)) {
				t.Errorf("KS = %g, want %g", d, tc.ks)
			}
			if !(w == tc.w || math.IsNaN(w) && math.IsNaN(tc.w)) {
				t.Errorf("Wasserstein = %g, want %g", w, tc.w)
			}
		})
	}
	if _, _, err := KS(mk(1), sketchOf(t, 0.02, 0, []float64{1})); !errors.Is(err, ErrIncompatible) {
		t.Errorf("KS with different alpha: err = %v", err)
	}
}
