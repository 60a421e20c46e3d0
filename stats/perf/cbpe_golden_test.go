package perf

import (
	"encoding/json"
	"math"
	"os"
	"testing"
)

// cbpeGolden mirrors testdata/golden/cbpe_nannyml.json, written by
// testdata/golden/gen_cbpe_nannyml.py from NannyML's CBPE.
type cbpeGolden struct {
	Versions map[string]string
	Bins     int
	Cases    []struct {
		Name         string
		Threshold    float64
		ReferencePos []float64 `json:"reference_pos"`
		ReferenceNeg []float64 `json:"reference_neg"`
		Chunks       []struct {
			About                           string
			Counts                          []float64
			Accuracy, Precision, Recall, F1 cbpeWant
			ROCAUC                          cbpeWant `json:"roc_auc"`
		}
	}
}

// cbpeWant is NannyML's estimate of one metric on the chunk's scores
// moved to their bins' centres and on the raw scores, and what binning
// explains of their difference (see the script's doc); its sampling error
// and the chunk's realized value are there for the record.
type cbpeWant struct {
	Centred, Raw, Binning float64
	SamplingError         float64 `json:"sampling_error"`
	Realized              float64
}

// Tolerances of the comparison with NannyML.
const (
	// On bin-centred scores CBPE sees what the bins hold: the estimates
	// agree to rounding, except that NannyML rounds its ROC curve's
	// cumulative expected counts (thousands) to 5 decimals, which moves
	// the area by well under 1e-7 (measured: 2e-8).
	cbpeCentredTol    = 1e-9
	cbpeCentredAUCTol = 1e-7
	// On raw scores: the per-case binning tolerance the script computes
	// (first order), plus this for the second-order terms it leaves out.
	cbpeSecondOrder = 1e-6
)

// TestCBPEMatchesNannyML checks Calibrate and Estimate against NannyML
// 0.13's CBPE: equal to it on the scores the bins hold (bin centres), and
// within what binning explains of it on the raw scores.
func TestCBPEMatchesNannyML(t *testing.T) {
	raw, err := os.ReadFile("testdata/golden/cbpe_nannyml.json")
	if err != nil {
		t.Fatal(err)
	}
	var g cbpeGolden
	if err := json.Unmarshal(raw, &g); err != nil {
		t.Fatal(err)
	}
	if g.Bins != 100 || len(g.Cases) == 0 {
		t.Fatalf("golden file: %d bins, %d cases", g.Bins, len(g.Cases))
	}
	var chunks int
	worst := map[string]float64{}      // largest |raw difference| per metric
	worstRatio := map[string]float64{} // ... over its binning tolerance
	for _, c := range g.Cases {
		cal, ok := Calibrate(c.ReferencePos, c.ReferenceNeg)
		if !ok {
			t.Fatalf("%s: not calibrated", c.Name)
		}
		first := int(math.Ceil(c.Threshold*float64(g.Bins) - 1e-9))
		for _, ch := range c.Chunks {
			chunks++
			e := cal.Estimate(ch.Counts, first)
			for _, m := range []struct {
				name string
				got  Estimated
				want cbpeWant
			}{
				{"accuracy", e.Accuracy, ch.Accuracy}, {"precision", e.Precision, ch.Precision},
				{"recall", e.Recall, ch.Recall}, {"f1", e.F1, ch.F1}, {"roc_auc", e.ROCAUC, ch.ROCAUC},
			} {
				if !m.got.OK {
					t.Errorf("%s, %s: %s undefined", c.Name, ch.About, m.name)
					continue
				}
				tol := cbpeCentredTol
				if m.name == "roc_auc" {
					tol = cbpeCentredAUCTol
				}
				if d := math.Abs(m.got.Value - m.want.Centred); d > tol {
					t.Errorf("%s, %s: %s = %.12g, NannyML on bin centres %.12g (|d| %.2g > %.0g)",
						c.Name, ch.About, m.name, m.got.Value, m.want.Centred, d, tol)
				}
				d := math.Abs(m.got.Value - m.want.Raw)
				if d > m.want.Binning+cbpeSecondOrder {
					t.Errorf("%s, %s: %s = %.6f, NannyML on raw scores %.6f: |d| %.2g, more than binning explains (%.2g)",
						c.Name, ch.About, m.name, m.got.Value, m.want.Raw, d, m.want.Binning)
				}
				worst[m.name] = max(worst[m.name], d)
				worstRatio[m.name] = max(worstRatio[m.name], d/m.want.Binning)
			}
		}
	}
	t.Logf("%d chunks of %d datasets (NannyML %s); on raw scores the largest |difference| per metric %v, at most this share of the binning tolerance %v",
		chunks, len(g.Cases), g.Versions["nannyml"], worst, worstRatio)
}
