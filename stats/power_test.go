package stats

import (
	"math"
	"testing"
)

func TestNoncentralChi2SFBasics(t *testing.T) {
	// lambda 0 is the central chi-squared tail: P(chi2(1) > 3.841458820694124) = 0.05.
	if got := NoncentralChi2SF(3.841458820694124, 1, 0); math.Abs(got-0.05) > 1e-12 {
		t.Errorf("central tail = %v, want 0.05", got)
	}
	for _, c := range []struct{ x, df, lam float64 }{{-1, 2, 3}, {0, 2, 3}} {
		if got := NoncentralChi2SF(c.x, c.df, c.lam); got != 1 {
			t.Errorf("NoncentralChi2SF(%v) = %v, want 1", c, got)
		}
	}
	for _, c := range []struct{ x, df, lam float64 }{{1, 0, 1}, {1, 2, -1}, {math.NaN(), 2, 1}, {1, math.Inf(1), 1}} {
		if got := NoncentralChi2SF(c.x, c.df, c.lam); !math.IsNaN(got) {
			t.Errorf("NoncentralChi2SF(%v) = %v, want NaN", c, got)
		}
	}
	// Increasing in lambda.
	prev := 0.0
	for lam := 0.0; lam < 200; lam += 7 {
		got := NoncentralChi2SF(20, 9, lam)
		if got < prev-1e-12 {
			t.Fatalf("sf not increasing in lambda at %v: %v < %v", lam, got, prev)
		}
		prev = got
	}
}

func TestChi2NoncentralityHitsPower(t *testing.T) {
	for _, df := range []float64{1, 4, 9, 99, 999} {
		lam := Chi2Noncentrality(df, 0.05, 0.8)
		if p := NoncentralChi2SF(chi2ISF(0.05, df), df, lam); math.Abs(p-0.8) > 1e-9 {
			t.Errorf("df %v: power at lambda %v is %v, want 0.8", df, lam, p)
		}
	}
	if got := Chi2Noncentrality(3, 0.05, 0.05); !math.IsNaN(got) {
		t.Errorf("power == alpha: %v, want NaN", got)
	}
}

func TestChiSquaredGOFUnseen(t *testing.T) {
	stat, p, dof := ChiSquaredGOF([]float64{10, 10, 0}, []float64{5, 5, 1})
	if !math.IsInf(stat, 1) || p != 0 || dof != 2 {
		t.Errorf("unseen category: %v %v %v, want +Inf 0 2", stat, p, dof)
	}
	stat, p, dof = ChiSquaredGOF([]float64{0, 10}, []float64{0, 3})
	if stat != 0 || p != 1 || dof != 0 {
		t.Errorf("one category: %v %v %v", stat, p, dof)
	}
}

func chi2ISF(alpha, df float64) float64 {
	lo, hi := 0.0, 1.0
	for NoncentralChi2SF(hi, df, 0) > alpha {
		hi *= 2
	}
	for range 200 {
		mid := (lo + hi) / 2
		if NoncentralChi2SF(mid, df, 0) > alpha {
			lo = mid
		} else {
			hi = mid
		}
	}
	return (lo + hi) / 2
}
