package perf

import (
	"math"
	"testing"

	"github.com/driftwatch/driftwatch/bench/stats/samples"
)

// TestAddAllocatesNothingPerValue adds values that take every branch of the
// update paths (each bin, below and above the edges, NaN scores, bad
// weights, classes out of range) and checks that none allocates, and that
// the metrics of a filled histogram do not allocate either.
func TestAddAllocatesNothingPerValue(t *testing.T) {
	const n = 4096
	scores := make([]float64, n)
	for i := range scores {
		scores[i] = float64(i%1200)/1000 - 0.1 // [-0.1, 1.099]
	}
	scores[7], scores[8], scores[9] = math.NaN(), math.Inf(1), math.Inf(-1)
	weights := []float64{1, 2.5, 0, -1, math.NaN(), math.Inf(1), 1e-300}
	uniform := NewScoreHistogram(0)
	edged, err := NewScoreHistogramEdges([]float64{0, 0.05, 0.2, 0.5, 0.8, 0.95, 1})
	if err != nil {
		t.Fatal(err)
	}
	var c Confusion
	var r RegressionSums
	m := NewConfusionMatrix(5)
	add := func() {
		for i, s := range scores {
			w := weights[i%len(weights)]
			uniform.Add(s, i%3 == 0, w)
			edged.Add(s, i%5 == 0, w)
			c.Add(s > 0.5, i%3 == 0, w)
			r.Add(float64(i), s, w)
			m.Add(i%6, i%7-1, w)
		}
	}
	if a := testing.AllocsPerRun(20, add); a != 0 {
		t.Errorf("adding %d values allocates %v times", n, a)
	}
	if uniform.Dropped == 0 || m.Dropped == 0 {
		t.Fatal("no value was dropped; the invalid branches were not taken")
	}
	metrics := func() {
		for _, h := range []*ScoreHistogram{uniform, edged} {
			h.ROCAUC()
			h.ROCAUCErrorBound()
			h.PRAUC()
			h.BrierScore()
			h.LogLoss()
			h.ECE(10)
		}
		m.F1(Macro)
		c.F1()
		r.RMSE()
	}
	if a := testing.AllocsPerRun(20, metrics); a != 0 {
		t.Errorf("computing the metrics allocates %v times", a)
	}
}

// BenchmarkEvaluate times scoring n predictions into window state and
// computing the metrics, at n = 1e3, 1e5 and 1e7: one op is a fresh
// default ScoreHistogram and Confusion (threshold 0.5), Add of n (score,
// label) pairs to each, then ROCAUC, PRAUC, ECE(10), BrierScore, LogLoss and
// F1. Scores are sigmoid(x) and labels x + y > 0.1 for x, y of
// samples.Pair(n). The ROC AUC is reported as the "value" metric. (Per-call
// benchmarks of each Add are in bench_test.go.)
func BenchmarkEvaluate(b *testing.B) {
	for _, n := range samples.Sizes {
		x, y := samples.Pair(n)
		scores, labels := make([]float64, n), make([]bool, n)
		for i := range x {
			scores[i] = 1 / (1 + math.Exp(-x[i]))
			labels[i] = x[i]+y[i] > 0.1
		}
		b.Run("n="+samples.Name(n), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(9 * n))
			var auc float64
			for b.Loop() {
				h := NewScoreHistogram(0)
				var c Confusion
				for i, s := range scores {
					h.Add(s, labels[i], 1)
					c.Add(s >= 0.5, labels[i], 1)
				}
				auc, _ = h.ROCAUC()
				h.PRAUC()
				h.ECE(10)
				h.BrierScore()
				h.LogLoss()
				c.F1()
			}
			b.ReportMetric(auc, "value")
		})
	}
}
