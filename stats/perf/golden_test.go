package perf

import (
	"encoding/json"
	"math"
	"os"
	"sort"
	"testing"

	"github.com/driftwatch/driftwatch/internal/goldenjson"
)

// weight returns w[i], or 1 when the case omits weights.
func weight(w []float64, i int) float64 {
	if w == nil {
		return 1
	}
	return w[i]
}

// goldenFile mirrors testdata/golden/perf.json, written by
// testdata/golden/gen_perf.py from scikit-learn. Null means undefined
// (sklearn zero_division or single-class error): Go must return ok=false.
// A case without "w" has unit weights. Rows that package perf drops (NaN
// scores or values, non-positive weights) are left out of the sklearn
// reference; those cases are listed in stats/golden_test.go.
type goldenFile struct {
	Versions map[string]string `json:"versions"`
	Binary   []struct {
		Name                                         string
		Y                                            []int
		S, W                                         goldenjson.Floats
		Thr                                          float64
		Accuracy, Precision, Recall, Specificity, F1 *float64
		FPR                                          *float64 `json:"fpr"`
		ROCAUC                                       *float64 `json:"roc_auc"`
		ROCAUCBinned                                 *float64 `json:"roc_auc_binned"`
		AP                                           *float64 `json:"ap"`
		APBinned                                     *float64 `json:"ap_binned"`
		Brier                                        *float64
		LogLoss                                      *float64 `json:"log_loss"`
		ECE10                                        *float64 `json:"ece10"`
		ECE20                                        *float64 `json:"ece20"`
	} `json:"binary"`
	Multiclass []struct {
		Name     string
		K        int
		Y, P     []int
		W        goldenjson.Floats
		Accuracy *float64
		PMacro   *float64 `json:"precision_macro"`
		PMicro   *float64 `json:"precision_micro"`
		PWeight  *float64 `json:"precision_weighted"`
		RMacro   *float64 `json:"recall_macro"`
		RMicro   *float64 `json:"recall_micro"`
		RWeight  *float64 `json:"recall_weighted"`
		FMacro   *float64 `json:"f1_macro"`
		FMicro   *float64 `json:"f1_micro"`
		FWeight  *float64 `json:"f1_weighted"`
	} `json:"multiclass"`
	Regression []struct {
		Name                string
		Y, YHat, W          goldenjson.Floats
		MAE, RMSE, MAPE, R2 *float64
	} `json:"regression"`
}

func loadGolden(t testing.TB) goldenFile {
	t.Helper()
	raw, err := os.ReadFile("testdata/golden/perf.json")
	if err != nil {
		t.Fatalf("read golden file: %v", err)
	}
	var g goldenFile
	if err := json.Unmarshal(raw, &g); err != nil {
		t.Fatalf("decode golden file: %v", err)
	}
	return g
}

// relTol is the tolerance for exact metrics: relative 1e-9, absolute 1e-12
// near zero.
const relTol = 1e-9

func relDiff(got, want float64) float64 {
	d := math.Abs(got - want)
	if d == 0 {
		return 0
	}
	return d / math.Max(math.Abs(want), 1e-3)
}

// diffs tracks the largest relative difference per metric, logged at the
// end of the golden test (go test -v) for the report.
type diffs map[string]float64

func (d diffs) check(t *testing.T, tc, metric string, got float64, ok bool, want *float64, tol float64) {
	t.Helper()
	if want == nil {
		if ok {
			t.Errorf("%s %s: got %v, ok=true; want undefined", tc, metric, got)
		}
		return
	}
	if !ok {
		t.Errorf("%s %s: got undefined; want %v", tc, metric, *want)
		return
	}
	r := relDiff(got, *want)
	d[metric] = max(d[metric], r)
	if r > tol || math.IsNaN(got) {
		t.Errorf("%s %s: got %.17g, want %.17g (rel diff %.3g > %.3g)", tc, metric, got, *want, r, tol)
	}
}

func (d diffs) log(t *testing.T) {
	keys := make([]string, 0, len(d))
	for k := range d {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		t.Logf("max rel diff %-22s %.3g", k, d[k])
	}
}

func TestGoldenBinary(t *testing.T) {
	g := loadGolden(t)
	t.Logf("golden versions: %v", g.Versions)
	d := diffs{}
	for _, c := range g.Binary {
		var cm Confusion
		h := NewScoreHistogram(0)
		for i, y := range c.Y {
			// A NaN score has no prediction: the caller skips it for
			// Confusion; ScoreHistogram drops it itself.
			if !math.IsNaN(c.S[i]) {
				cm.Add(c.S[i] >= c.Thr, y == 1, weight(c.W, i))
			}
			h.Add(c.S[i], y == 1, weight(c.W, i))
		}
		v, ok := cm.Accuracy()
		d.check(t, c.Name, "accuracy", v, ok, c.Accuracy, relTol)
		v, ok = cm.Precision()
		d.check(t, c.Name, "precision", v, ok, c.Precision, relTol)
		v, ok = cm.Recall()
		d.check(t, c.Name, "recall", v, ok, c.Recall, relTol)
		v, ok = cm.Specificity()
		d.check(t, c.Name, "specificity", v, ok, c.Specificity, relTol)
		v, ok = cm.FPR()
		d.check(t, c.Name, "fpr", v, ok, c.FPR, relTol)
		v, ok = cm.F1()
		d.check(t, c.Name, "f1", v, ok, c.F1, relTol)
		v, ok = h.BrierScore()
		d.check(t, c.Name, "brier", v, ok, c.Brier, relTol)
		v, ok = h.LogLoss()
		d.check(t, c.Name, "log_loss", v, ok, c.LogLoss, relTol)
		v, ok = h.ECE(10)
		d.check(t, c.Name, "ece10", v, ok, c.ECE10, relTol)
		v, ok = h.ECE(20)
		d.check(t, c.Name, "ece20", v, ok, c.ECE20, relTol)

		auc, ok := h.ROCAUC()
		d.check(t, c.Name, "roc_auc_binned", auc, ok, c.ROCAUCBinned, relTol)
		if c.ROCAUC != nil && ok {
			bound, _ := h.ROCAUCErrorBound()
			diff := math.Abs(auc - *c.ROCAUC)
			d["roc_auc_vs_exact_abs"] = max(d["roc_auc_vs_exact_abs"], diff)
			if diff > bound+1e-12 {
				t.Errorf("%s: |binned AUC %v - exact %v| = %.3g > bound %.3g", c.Name, auc, *c.ROCAUC, diff, bound)
			}
		}
		ap, ok := h.PRAUC()
		d.check(t, c.Name, "ap_binned", ap, ok, c.APBinned, relTol)
		if c.AP != nil && ok {
			d["ap_vs_exact_abs"] = max(d["ap_vs_exact_abs"], math.Abs(ap-*c.AP))
		}
		switch c.Name {
		case "on_bin_edges", "on_bin_centers", "ties_one_decimal", "all_correct_hard_scores":
			// Every bin holds one distinct score: binned metrics are exact.
			d.check(t, c.Name, "roc_auc_exact_aligned", auc, ok, c.ROCAUC, relTol)
			d.check(t, c.Name, "ap_exact_aligned", ap, ok, c.AP, relTol)
		}
	}
	d.log(t)
}

func TestGoldenMulticlass(t *testing.T) {
	g := loadGolden(t)
	d := diffs{}
	for _, c := range g.Multiclass {
		m := NewConfusionMatrix(c.K)
		for i := range c.Y {
			m.Add(c.Y[i], c.P[i], weight(c.W, i))
		}
		v, ok := m.Accuracy()
		d.check(t, c.Name, "mc_accuracy", v, ok, c.Accuracy, relTol)
		for _, a := range []struct {
			name    string
			avg     Average
			p, r, f *float64
		}{
			{"macro", Macro, c.PMacro, c.RMacro, c.FMacro},
			{"micro", Micro, c.PMicro, c.RMicro, c.FMicro},
			{"weighted", Weighted, c.PWeight, c.RWeight, c.FWeight},
		} {
			v, ok = m.Precision(a.avg)
			d.check(t, c.Name, "precision_"+a.name, v, ok, a.p, relTol)
			v, ok = m.Recall(a.avg)
			d.check(t, c.Name, "recall_"+a.name, v, ok, a.r, relTol)
			v, ok = m.F1(a.avg)
			d.check(t, c.Name, "f1_"+a.name, v, ok, a.f, relTol)
		}
	}
	d.log(t)
}

func TestGoldenRegression(t *testing.T) {
	g := loadGolden(t)
	d := diffs{}
	for _, c := range g.Regression {
		var r RegressionSums
		for i := range c.Y {
			r.Add(c.Y[i], c.YHat[i], weight(c.W, i))
		}
		v, ok := r.MAE()
		d.check(t, c.Name, "mae", v, ok, c.MAE, relTol)
		v, ok = r.RMSE()
		d.check(t, c.Name, "rmse", v, ok, c.RMSE, relTol)
		v, ok = r.MAPE()
		d.check(t, c.Name, "mape", v, ok, c.MAPE, relTol)
		v, ok = r.R2()
		d.check(t, c.Name, "r2", v, ok, c.R2, relTol)
	}
	d.log(t)
}
