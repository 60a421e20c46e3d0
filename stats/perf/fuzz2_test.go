package perf

import (
	"math"
	"slices"
	"testing"
)

// Fuzz targets per entry point (fuzz_test.go holds the older ones):
//
//	FuzzConfusion        Confusion.Add, Merge, N, Positives, Negatives,
//	                     Accuracy, Precision, Recall, TPR, FPR,
//	                     Specificity, SelectionRate, F1; Wilson on its rates
//	FuzzConfusionMatrix  NewConfusionMatrix, ConfusionMatrix.Add, Merge,
//	                     Class, N, Accuracy, Precision, Recall, F1 (every
//	                     Average)
//	FuzzHistogramMerge   NewScoreHistogram, NewScoreHistogramEdges,
//	                     ScoreHistogram.Add, Merge, Reset, Bins, Totals,
//	                     ROCAUC, ROCAUCErrorBound, PRAUC, BrierScore,
//	                     LogLoss, ECE
//	FuzzRegressionMerge  RegressionSums.Add, Merge, MAE, MSE, RMSE,
//	                     MeanError, MAPE, R2, MAEInterval, RMSEInterval
//	FuzzWilson           Wilson
//	FuzzScoreHistogram   (fuzz_test.go) histogram, confusion and matrix
//	                     metrics on raw float64 inputs
//	FuzzRegressionSums   (fuzz_test.go) RegressionSums on raw float64s

// nasty is the alphabet for weights, scores and regression values: one byte
// is one value, so mutations change one field and every bad value (0,
// negative, NaN, ±Inf, subnormal, overflowing) is one byte away. Bytes past
// the table map to multiples of 1/16 in [0, 2), scores mostly in [0, 1].
var nasty = [...]float64{
	0, 1, -1, 0.5, 2, math.NaN(), math.Inf(1), math.Inf(-1), 5e-324,
	1e-300, 1e300, math.MaxFloat64, 1e15, 3, 1 - 0x1p-53, math.Copysign(0, -1),
}

func nastyAt(b byte) float64 {
	if int(b) < len(nasty) {
		return nasty[b]
	}
	return float64(b%32) / 16
}

// good reports whether a metric result honours the package contract:
// (NaN, false) or a finite value in [lo, hi] with ok.
func good(v float64, ok bool, lo, hi float64) bool {
	if !ok {
		return math.IsNaN(v)
	}
	return v >= lo && v <= hi
}

// rates returns every rate method of c by name.
func rates(c Confusion) map[string]func() (float64, bool) {
	return map[string]func() (float64, bool){
		"Accuracy": c.Accuracy, "Precision": c.Precision, "Recall": c.Recall, "TPR": c.TPR,
		"FPR": c.FPR, "Specificity": c.Specificity, "SelectionRate": c.SelectionRate, "F1": c.F1,
	}
}

// checkConfusion checks every rate of c and the Wilson interval of those
// that are defined.
func checkConfusion(t *testing.T, name string, c Confusion) {
	t.Helper()
	if c.TP < 0 || c.FP < 0 || c.TN < 0 || c.FN < 0 {
		t.Fatalf("%s: negative count in %+v", name, c)
	}
	if c.Positives() != c.TP+c.FN || c.Negatives() != c.FP+c.TN || c.N() != c.TP+c.FP+c.TN+c.FN {
		t.Fatalf("%s: N/Positives/Negatives inconsistent with %+v", name, c)
	}
	for m, f := range rates(c) {
		v, ok := f()
		if !good(v, ok, 0, 1) {
			t.Fatalf("%s.%s = %v, %v for %+v", name, m, v, ok, c)
		}
	}
	if v, ok := c.TPR(); ok {
		lo, hi, wok := Wilson(c.TP, c.TP+c.FN, Z95)
		if !wok || !(0 <= lo && lo <= v+1e-12 && v <= hi+1e-12 && hi <= 1) {
			t.Fatalf("%s: Wilson(%v, %v) = [%v, %v] %v around recall %v", name, c.TP, c.TP+c.FN, lo, hi, wok, v)
		}
	}
}

// confusionOf adds the observations of data (3 bytes each: flags, weight,
// part) to parts[part], and all of them to the returned whole.
func confusionOf(data []byte, parts []Confusion) Confusion {
	var whole Confusion
	for ; len(data) >= 3; data = data[3:] {
		pred, label, w := data[0]&1 == 1, data[0]&2 == 2, nastyAt(data[1])
		whole.Add(pred, label, w)
		parts[int(data[2])%len(parts)].Add(pred, label, w)
	}
	return whole
}

func FuzzConfusion(f *testing.F) {
	f.Add([]byte{0, 1, 0, 1, 1, 1, 2, 1, 0, 3, 1, 1})
	f.Add([]byte{3, 1, 0, 3, 17, 1})  // only true positives
	f.Add([]byte{0, 0, 0, 1, 2, 1})   // zero and negative weights
	f.Add([]byte{3, 5, 0, 3, 6, 1})   // NaN and +Inf weights
	f.Add([]byte{3, 11, 0, 3, 11, 1}) // sums overflow
	f.Add([]byte{3, 8, 0, 0, 9, 1})   // subnormal and tiny weights
	f.Add([]byte{1, 10, 0, 2, 1, 1})  // 1e300 against 1
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		var parts [3]Confusion
		whole := confusionOf(data[:min(len(data), 3*64)], parts[:])
		checkConfusion(t, "whole", whole)
		var fwd, rev Confusion
		for i := range parts {
			checkConfusion(t, "part", parts[i])
			fwd.Merge(parts[i])
			rev.Merge(parts[len(parts)-1-i])
		}
		checkConfusion(t, "merged", fwd)
		// Float sums merge up to rounding; for integer counts below 2^53
		// (every weight a small integer) merges are exact.
		if fwd.Dropped != whole.Dropped || rev.Dropped != whole.Dropped {
			t.Fatalf("Dropped %v / %v, want %v", fwd.Dropped, rev.Dropped, whole.Dropped)
		}
		for _, c := range [][2]float64{{fwd.TP, whole.TP}, {fwd.FP, whole.FP}, {fwd.TN, whole.TN}, {fwd.FN, whole.FN},
			{rev.TP, whole.TP}, {rev.FP, whole.FP}, {rev.TN, whole.TN}, {rev.FN, whole.FN}} {
			if !close(c[0], c[1]) && !(math.IsInf(c[0], 1) || math.IsInf(c[1], 1)) {
				t.Fatalf("merged %+v / %+v, whole %+v", fwd, rev, whole)
			}
		}
	})
}

func FuzzConfusionMatrix(f *testing.F) {
	f.Add(uint8(3), []byte{0, 0, 1, 1, 1, 1, 2, 0, 1})
	f.Add(uint8(1), []byte{0, 0, 1})
	f.Add(uint8(2), []byte{0, 1, 1, 1, 0, 1})           // no correct prediction
	f.Add(uint8(3), []byte{0, 0, 12, 1, 1, 1, 2, 2, 1}) // 1e15 against 1
	f.Add(uint8(2), []byte{0, 1, 10, 1, 1, 1, 0, 0, 1}) // 1e300 against 1
	f.Add(uint8(2), []byte{0, 1, 11, 1, 0, 11})         // sums overflow
	f.Add(uint8(4), []byte{5, 0, 1, 0, 7, 1, 0, 0, 5})  // classes out of range, NaN weight
	f.Fuzz(func(t *testing.T, kb uint8, data []byte) {
		k := 1 + int(kb%6)
		whole, a, b := NewConfusionMatrix(k), NewConfusionMatrix(k), NewConfusionMatrix(k)
		for i := 0; i+3 <= len(data) && i < 3*64; i += 3 {
			label, pred, w := int(data[i]%8)-1, int(data[i+1]%8)-1, nastyAt(data[i+2])
			whole.Add(label, pred, w)
			if i%2 == 0 {
				a.Add(label, pred, w)
			} else {
				b.Add(label, pred, w)
			}
		}
		ab, ba := NewConfusionMatrix(k), NewConfusionMatrix(k)
		for _, m := range []*ConfusionMatrix{a, b} {
			if err := ab.Merge(m); err != nil {
				t.Fatal(err)
			}
		}
		for _, m := range []*ConfusionMatrix{b, a} {
			if err := ba.Merge(m); err != nil {
				t.Fatal(err)
			}
		}
		// Two-part merges are bit-identical in either order.
		if !slices.Equal(ab.M, ba.M) && !slices.ContainsFunc(ab.M, math.IsNaN) || ab.Dropped != whole.Dropped {
			t.Fatalf("merge order: %v vs %v (dropped %v, whole %v)", ab.M, ba.M, ab.Dropped, whole.Dropped)
		}
		if err := ab.Merge(NewConfusionMatrix(k + 1)); err == nil {
			t.Fatal("Merge of a matrix with more classes succeeded")
		}
		for _, m := range []*ConfusionMatrix{whole, ab} {
			for c := range k {
				checkConfusion(t, "Class", m.Class(c))
			}
			if v, ok := m.Accuracy(); !good(v, ok, 0, 1) {
				t.Fatalf("Accuracy = %v, %v for %v", v, ok, m.M)
			}
			for _, avg := range []Average{Macro, Micro, Weighted} {
				for name, f := range map[string]func(Average) (float64, bool){"Precision": m.Precision, "Recall": m.Recall, "F1": m.F1} {
					if v, ok := f(avg); !good(v, ok, 0, 1) {
						t.Fatalf("%s(%d) = %v, %v for %v", name, avg, v, ok, m.M)
					}
				}
			}
			if n := m.N(); n < 0 || math.IsNaN(n) {
				t.Fatalf("N = %v", n)
			}
		}
	})
}

func FuzzHistogramMerge(f *testing.F) {
	f.Add([]byte{}, []byte{3, 1, 1, 17, 0, 1, 30, 1, 1})
	f.Add([]byte{0, 3, 1}, []byte{3, 1, 1, 0, 0, 1, 1, 1, 1})          // custom edges
	f.Add([]byte{0, 0}, []byte{3, 1, 1})                               // equal edges
	f.Add([]byte{5, 1}, []byte{3, 1, 1})                               // NaN edge
	f.Add([]byte{}, []byte{5, 1, 1, 6, 0, 1, 7, 1, 1})                 // NaN, ±Inf scores
	f.Add([]byte{}, []byte{3, 1, 11, 3, 0, 11})                        // weight sums overflow
	f.Add([]byte{}, []byte{3, 1, 8, 3, 0, 1})                          // subnormal weight
	f.Add([]byte{}, []byte{0, 1, 1, 1, 0, 1})                          // perfectly wrong
	f.Add([]byte{2, 10}, []byte{10, 1, 1, 2, 0, 1, 11, 1, 1, 4, 0, 1}) // huge edges and scores
	f.Fuzz(func(t *testing.T, edges, data []byte) {
		var mk func() *ScoreHistogram
		if len(edges) == 0 {
			mk = func() *ScoreHistogram { return NewScoreHistogram(10) }
		} else {
			e := make([]float64, min(len(edges), 16))
			for i := range e {
				e[i] = nastyAt(edges[i])
			}
			if _, err := NewScoreHistogramEdges(e); err != nil {
				return
			}
			mk = func() *ScoreHistogram { h, _ := NewScoreHistogramEdges(e); return h }
		}
		whole, a, b := mk(), mk(), mk()
		inUnit := true // every score in [0, 1]
		for i := 0; i+3 <= len(data) && i < 3*64; i += 3 {
			s, label, w := nastyAt(data[i]), data[i+1]&1 == 1, nastyAt(data[i+2])
			if validWeight(w) && !math.IsNaN(s) {
				inUnit = inUnit && s >= 0 && s <= 1
			}
			whole.Add(s, label, w)
			if i%2 == 0 {
				a.Add(s, label, w)
			} else {
				b.Add(s, label, w)
			}
		}
		ab, ba := mk(), mk()
		_, _ = ab.Merge(a), ab.Merge(b)
		_, _ = ba.Merge(b), ba.Merge(a)
		sameBits := func(x, y []float64) bool {
			return slices.EqualFunc(x, y, func(u, v float64) bool { return math.Float64bits(u) == math.Float64bits(v) })
		}
		if !sameBits(ab.Pos, ba.Pos) || !sameBits(ab.Neg, ba.Neg) || !sameBits(ab.ScoreSum, ba.ScoreSum) ||
			math.Float64bits(ab.SqErr) != math.Float64bits(ba.SqErr) || ab.Dropped != whole.Dropped {
			t.Fatal("two-part merge depends on order")
		}
		if err := ab.Merge(NewScoreHistogram(ab.Bins() + 1)); err == nil {
			t.Fatal("Merge of a histogram with other edges succeeded")
		}
		for _, h := range []*ScoreHistogram{whole, ab} {
			checkHistogram(t, h, inUnit)
		}
		whole.Reset()
		if p, n := whole.Totals(); p != 0 || n != 0 || whole.Dropped != 0 {
			t.Fatalf("after Reset: totals %v %v dropped %v", p, n, whole.Dropped)
		}
		for name, f := range map[string]func() (float64, bool){"ROCAUC": whole.ROCAUC, "PRAUC": whole.PRAUC, "BrierScore": whole.BrierScore, "LogLoss": whole.LogLoss} {
			if v, ok := f(); ok || !math.IsNaN(v) {
				t.Fatalf("%s after Reset = %v, %v", name, v, ok)
			}
		}
	})
}

func checkHistogram(t *testing.T, h *ScoreHistogram, inUnit bool) {
	t.Helper()
	if h.Bins() != len(h.Edges)-1 {
		t.Fatalf("Bins = %d with %d edges", h.Bins(), len(h.Edges))
	}
	p, n := h.Totals()
	if p < 0 || n < 0 {
		t.Fatalf("Totals = %v, %v", p, n)
	}
	for name, f := range map[string]func() (float64, bool){
		"ROCAUC": h.ROCAUC, "ROCAUCErrorBound": h.ROCAUCErrorBound, "PRAUC": h.PRAUC,
	} {
		if v, ok := f(); !good(v, ok, 0, 1) {
			t.Fatalf("%s = %v, %v (P %v N %v)", name, v, ok, p, n)
		}
	}
	// ECE, Brier: in [0, 1] for scores in [0, 1] on [0, 1] edges.
	hi := math.Inf(1)
	if inUnit && h.Edges[0] >= 0 && h.Edges[len(h.Edges)-1] <= 1 {
		hi = 1
	}
	for name, f := range map[string]func() (float64, bool){
		"ECE": func() (float64, bool) { return h.ECE(10) }, "ECE(0)": func() (float64, bool) { return h.ECE(0) },
		"BrierScore": h.BrierScore,
	} {
		if v, ok := f(); !good(v, ok, 0, hi) {
			t.Fatalf("%s = %v, %v (P %v N %v)", name, v, ok, p, n)
		}
	}
	if v, ok := h.LogLoss(); !good(v, ok, 0, 36.05) {
		t.Fatalf("LogLoss = %v, %v", v, ok)
	}
}

func FuzzRegressionMerge(f *testing.F) {
	f.Add([]byte{1, 3, 1, 4, 2, 1, 0, 0, 1})
	f.Add([]byte{1, 1, 1, 1, 1, 1})     // perfect, constant y
	f.Add([]byte{1, 3, 1, 1, 4, 1})     // constant y, errors
	f.Add([]byte{0, 1, 1, 0, 2, 1})     // y = 0 (MAPE eps)
	f.Add([]byte{1, 5, 1, 6, 1, 1})     // NaN and Inf dropped
	f.Add([]byte{10, 11, 1, 1, 2, 1})   // errors overflow squares
	f.Add([]byte{1, 3, 11, 1, 3, 11})   // weight sums overflow
	f.Add([]byte{12, 12, 1, 13, 13, 8}) // 1e15 values, subnormal weight
	f.Add([]byte{1, 2, 1})              // a single observation
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		var whole, a, b RegressionSums
		for i := 0; i+3 <= len(data) && i < 3*64; i += 3 {
			y, yhat, w := nastyAt(data[i]), nastyAt(data[i+1]), nastyAt(data[i+2])
			whole.Add(y, yhat, w)
			if i%2 == 0 {
				a.Add(y, yhat, w)
			} else {
				b.Add(y, yhat, w)
			}
		}
		ab, ba := a, b
		ab.Merge(b)
		ba.Merge(a)
		if ab.Dropped != whole.Dropped || ab.W != ba.W {
			t.Fatalf("merge: %+v vs %+v (whole %+v)", ab, ba, whole)
		}
		for _, r := range []RegressionSums{whole, ab, ba} {
			checkRegression(t, r)
		}
	})
}

func checkRegression(t *testing.T, r RegressionSums) {
	t.Helper()
	inf := math.Inf(1)
	for name, f := range map[string]func() (float64, bool){"MAE": r.MAE, "MSE": r.MSE, "RMSE": r.RMSE, "MAPE": r.MAPE} {
		if v, ok := f(); !good(v, ok, 0, inf) {
			t.Fatalf("%s = %v, %v for %+v", name, v, ok, r)
		}
	}
	if v, ok := r.MeanError(); !good(v, ok, -inf, inf) {
		t.Fatalf("MeanError = %v, %v for %+v", v, ok, r)
	}
	if v, ok := r.R2(); !good(v, ok, -inf, 1) {
		t.Fatalf("R2 = %v, %v for %+v", v, ok, r)
	}
	if r.W >= 2 && finite(r.W, r.SumE2, r.M2Y) {
		if _, ok := r.R2(); !ok {
			t.Fatalf("R2 undefined for W = %v", r.W)
		}
	}
	for name, f := range map[string]func(float64) (float64, float64, bool){"MAEInterval": r.MAEInterval, "RMSEInterval": r.RMSEInterval} {
		center := map[string]func() (float64, bool){"MAEInterval": r.MAE, "RMSEInterval": r.RMSE}[name]
		m, mok := center()
		lo, hi, ok := f(Z95)
		switch {
		case !ok && !(math.IsNaN(lo) && math.IsNaN(hi)):
			t.Fatalf("%s = %v, %v, false", name, lo, hi)
		case ok && !mok:
			t.Fatalf("%s defined where the metric is not: %+v", name, r)
		case ok && !(lo >= 0 && lo <= m*(1+1e-12) && m <= hi*(1+1e-12)):
			t.Fatalf("%s = [%v, %v] around %v for %+v", name, lo, hi, m, r)
		}
	}
}

func FuzzWilson(f *testing.F) {
	for _, c := range [][3]float64{
		{3, 10, Z95}, {0, 10, Z95}, {10, 10, Z95}, {0, 0, Z95}, {11, 10, Z95}, {-1, 10, Z95},
		{1, 10, 0}, {1, 10, -1}, {math.NaN(), 10, Z95}, {1, math.Inf(1), Z95}, {1, 10, math.Inf(1)},
		{5e-324, 1e-300, Z95}, {1e300, 1e308, Z95}, {1, 1e-300, 40},
	} {
		f.Add(c[0], c[1], c[2])
	}
	f.Fuzz(func(t *testing.T, k, n, z float64) {
		lo, hi, ok := Wilson(k, n, z)
		valid := n > 0 && !math.IsInf(n, 1) && k >= 0 && k <= n && z >= 0 && !math.IsInf(z, 1)
		if ok != valid {
			t.Fatalf("Wilson(%v, %v, %v) ok = %v", k, n, z, ok)
		}
		if !ok {
			if !math.IsNaN(lo) || !math.IsNaN(hi) {
				t.Fatalf("Wilson(%v, %v, %v) = %v, %v, false", k, n, z, lo, hi)
			}
			return
		}
		// lo <= k/n <= hi within rounding, inside [0, 1].
		p := k / n
		if !(0 <= lo && lo <= hi && hi <= 1) || lo > p+1e-9 || hi < p-1e-9 {
			t.Fatalf("Wilson(%v, %v, %v) = [%v, %v] around %v", k, n, z, lo, hi, p)
		}
	})
}
