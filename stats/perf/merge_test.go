package perf

import (
	"math"
	"math/rand/v2"
	"testing"
)

func close(a, b float64) bool {
	if a == b || (math.IsNaN(a) && math.IsNaN(b)) {
		return true
	}
	return math.Abs(a-b) <= 1e-12*math.Max(1, math.Max(math.Abs(a), math.Abs(b)))
}

// TestMergeEqualsWhole splits random data into random parts, merges the
// parts' states in a random order and checks the result equals the state of
// the whole (exactly for integer counts, within 1e-12 for float sums).
func TestMergeEqualsWhole(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	for trial := range 50 {
		n := 1 + rng.IntN(2000)
		parts := 1 + rng.IntN(8)
		k := 2 + rng.IntN(4)
		var (
			whole   Confusion
			wholeR  RegressionSums
			wholeH  = NewScoreHistogram(0)
			wholeM  = NewConfusionMatrix(k)
			partC   = make([]Confusion, parts)
			partR   = make([]RegressionSums, parts)
			partH   = make([]*ScoreHistogram, parts)
			partM   = make([]*ConfusionMatrix, parts)
			weights = trial%2 == 1
		)
		for i := range parts {
			partH[i] = NewScoreHistogram(0)
			partM[i] = NewConfusionMatrix(k)
		}
		for range n {
			p := rng.IntN(parts)
			w := 1.0
			if weights {
				w = float64(1 + rng.IntN(5))
			}
			s := rng.Float64()
			label := rng.IntN(3) == 0
			y := 100 + 10*rng.NormFloat64()
			yhat := y + rng.NormFloat64()
			a, b := rng.IntN(k), rng.IntN(k)
			whole.Add(s > 0.4, label, w)
			partC[p].Add(s > 0.4, label, w)
			wholeH.Add(s, label, w)
			partH[p].Add(s, label, w)
			wholeR.Add(y, yhat, w)
			partR[p].Add(y, yhat, w)
			wholeM.Add(a, b, w)
			partM[p].Add(a, b, w)
		}
		var mc Confusion
		var mr RegressionSums
		mh := NewScoreHistogram(0)
		mm := NewConfusionMatrix(k)
		for _, p := range rng.Perm(parts) {
			mc.Merge(partC[p])
			mr.Merge(partR[p])
			if err := mh.Merge(partH[p]); err != nil {
				t.Fatal(err)
			}
			if err := mm.Merge(partM[p]); err != nil {
				t.Fatal(err)
			}
		}
		if mc != whole {
			t.Fatalf("trial %d: confusion %+v != %+v", trial, mc, whole)
		}
		for i := range mm.M {
			if mm.M[i] != wholeM.M[i] {
				t.Fatalf("trial %d: matrix cell %d %v != %v", trial, i, mm.M[i], wholeM.M[i])
			}
		}
		for i := range mh.Pos {
			if mh.Pos[i] != wholeH.Pos[i] || mh.Neg[i] != wholeH.Neg[i] || !close(mh.ScoreSum[i], wholeH.ScoreSum[i]) {
				t.Fatalf("trial %d: histogram bin %d differs", trial, i)
			}
		}
		type metric struct {
			name string
			a, b func() (float64, bool)
		}
		for _, m := range []metric{
			{"auc", mh.ROCAUC, wholeH.ROCAUC},
			{"ap", mh.PRAUC, wholeH.PRAUC},
			{"brier", mh.BrierScore, wholeH.BrierScore},
			{"logloss", mh.LogLoss, wholeH.LogLoss},
			{"ece", func() (float64, bool) { return mh.ECE(10) }, func() (float64, bool) { return wholeH.ECE(10) }},
			{"mae", mr.MAE, wholeR.MAE},
			{"rmse", mr.RMSE, wholeR.RMSE},
			{"mape", mr.MAPE, wholeR.MAPE},
			{"r2", mr.R2, wholeR.R2},
			{"f1macro", func() (float64, bool) { return mm.F1(Macro) }, func() (float64, bool) { return wholeM.F1(Macro) }},
		} {
			x, okx := m.a()
			y, oky := m.b()
			if okx != oky || !close(x, y) {
				t.Fatalf("trial %d: %s merged %v (%v) != whole %v (%v)", trial, m.name, x, okx, y, oky)
			}
		}
	}
}
