package perf

import (
	"encoding/binary"
	"math"
	"testing"
)

func in01(v float64, ok bool) bool {
	if !ok {
		return math.IsNaN(v)
	}
	return v >= 0 && v <= 1
}

// FuzzScoreHistogram feeds arbitrary (score, label, weight) triples to Add
// and checks that no metric panics and that every rate is in [0, 1] or
// reported undefined.
func FuzzScoreHistogram(f *testing.F) {
	f.Add([]byte{0, 0, 0, 0, 0, 0, 0xe0, 0x3f, 1, 0, 0, 0, 0, 0, 0, 0xf0, 0x3f})
	f.Add([]byte("0123456789abcdefgh0123456789abcdefgh"))
	f.Fuzz(func(t *testing.T, data []byte) {
		h := NewScoreHistogram(0)
		var c Confusion
		m := NewConfusionMatrix(3)
		for len(data) >= 17 {
			s := math.Float64frombits(binary.LittleEndian.Uint64(data))
			w := math.Float64frombits(binary.LittleEndian.Uint64(data[9:]))
			label := data[8]&1 == 1
			h.Add(s, label, w)
			c.Add(s >= 0.5, label, w)
			m.Add(int(data[8]%4), int(data[16]%4), w)
			data = data[17:]
		}
		for name, f := range map[string]func() (float64, bool){
			"auc": h.ROCAUC, "aucbound": h.ROCAUCErrorBound, "ap": h.PRAUC,
			"ece": func() (float64, bool) { return h.ECE(10) },
			"acc": c.Accuracy, "prec": c.Precision, "rec": c.Recall, "fpr": c.FPR,
			"spec": c.Specificity, "f1": c.F1, "sel": c.SelectionRate,
			"mcacc": m.Accuracy,
			"mcf1":  func() (float64, bool) { return m.F1(Macro) },
			"mcp":   func() (float64, bool) { return m.Precision(Weighted) },
		} {
			v, ok := f()
			// Sums of huge weights can overflow to Inf; the result must
			// then be (NaN, false), never a wrong rate or NaN with ok.
			if !in01(v, ok) {
				t.Fatalf("%s = %v, ok=%v", name, v, ok)
			}
		}
		if v, ok := h.LogLoss(); ok && v < 0 {
			t.Fatalf("logloss %v", v)
		}
	})
}

// FuzzRegressionSums checks RegressionSums never panics and keeps MAE,
// RMSE, MAPE >= 0 and R2 <= 1.
func FuzzRegressionSums(f *testing.F) {
	f.Add(1.0, 2.0, 1.0, 0.0, 0.0, 1.0)
	f.Fuzz(func(t *testing.T, y1, p1, w1, y2, p2, w2 float64) {
		var r RegressionSums
		r.Add(y1, p1, w1)
		r.Add(y2, p2, w2)
		for _, f := range []func() (float64, bool){r.MAE, r.RMSE, r.MAPE} {
			if v, ok := f(); ok && v < 0 {
				t.Fatalf("negative error metric %v", v)
			}
		}
		if v, ok := r.R2(); ok && v > 1 {
			t.Fatalf("R2 = %v > 1", v)
		}
		r.MAEInterval(Z95)
		r.RMSEInterval(Z95)
	})
}
