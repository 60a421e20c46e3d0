package drift

import (
	"encoding/json"
	"math"
	"os"
	"testing"
	"time"

	"github.com/driftwatch/driftwatch/baselines"
	"github.com/driftwatch/driftwatch/internal/goldenjson"
	"github.com/driftwatch/driftwatch/windows"
)

// nannymlRows is a data set of the golden file: per column, its values
// (a number, a string, or null).
type nannymlRows struct {
	Columns []string
	Values  [][]any
}

// multivariateGolden mirrors testdata/golden/multivariate_nannyml.json,
// written by testdata/golden/gen_multivariate_nannyml.py from NannyML.
type multivariateGolden struct {
	Versions map[string]string `json:"versions"`
	Cases    []struct {
		Name            string
		Chunk           int
		ReferenceRows   nannymlRows       `json:"reference_rows"`
		AnalysisRows    nannymlRows       `json:"analysis_rows"`
		Kept            int               `json:"kept"`
		Ratios          goldenjson.Floats `json:"explained_variance_ratio"`
		ReferenceErrors goldenjson.Floats `json:"reference_errors"`
		AnalysisErrors  goldenjson.Floats `json:"analysis_errors"`
		Lower, Upper    float64
	} `json:"cases"`
}

// rows returns the number of rows of d.
func (d *nannymlRows) rows() int { return len(d.Values[0]) }

// TestMultivariateGoldenNannyML: the baseline's multivariate model, fitted
// by the builder on NannyML's reference data, and the reconstruction_error
// rows of windows holding NannyML's analysis chunks as their samples,
// against nannyml.DataReconstructionDriftCalculator: the PCA's kept
// components (exactly) and explained variance ratios, every reference and
// analysis chunk's reconstruction error, and the thresholds (mean -/+ 3
// standard deviations of the reference chunks' in-sample errors, as
// NannyML computes them; driftwatch's own threshold uses cross-fitted
// ones), within 1e-9 relative. The row's value caps each row's error at
// the reference's 99.9th percentile (NannyML does not): it is checked to
// be the capped mean of the same errors, and logged how far below
// NannyML's it falls (in drifted chunks, where rows err beyond the
// reference's).
// Both fit the same pipeline on the same 4-digit data (imputation,
// frequency encoding, standardization, the covariance's eigenvectors), so
// only rounding separates them: measured, below 1e-12.
func TestMultivariateGoldenNannyML(t *testing.T) {
	data, err := os.ReadFile("testdata/golden/multivariate_nannyml.json")
	if err != nil {
		t.Fatal(err)
	}
	var g multivariateGolden
	if err := json.Unmarshal(data, &g); err != nil {
		t.Fatal(err)
	}
	if len(g.Cases) < 3 {
		t.Fatalf("%d cases", len(g.Cases))
	}
	var worst float64     // the largest relative difference, logged
	var capEffect float64 // the largest relative change the cap made to a chunk, logged
	close := func(got, want float64) bool {
		d := math.Abs(got-want) / max(1, math.Abs(want))
		worst = max(worst, d)
		return d <= 1e-9
	}
	for _, c := range g.Cases {
		b := baselines.NewBuilder("m", baselines.BuildOptions{Now: func() time.Time { return t0 }})
		for i := range c.ReferenceRows.rows() {
			for j, name := range c.ReferenceRows.Columns {
				switch v := c.ReferenceRows.Values[j][i].(type) {
				case float64:
					b.AddNumber(name, v)
				case string:
					b.AddCategory(name, v)
				case nil:
					b.AddNull(name)
				}
			}
			b.AddPredictionNumber(0.5)
			b.EndRow()
		}
		base, err := b.Build()
		if err != nil {
			t.Fatal(err)
		}
		mv := base.Multivariate
		if mv == nil {
			t.Fatalf("%s: no multivariate model", c.Name)
		}
		if mv.Kept != c.Kept || len(c.Ratios) != c.Kept { // sklearn keeps the ratios of the kept components
			t.Errorf("%s: %d components kept, NannyML %d", c.Name, mv.Kept, c.Kept)
		}
		var total float64
		for _, v := range mv.Variances {
			total += v
		}
		for k := range min(len(c.Ratios), len(mv.Variances)) {
			if !close(mv.Variances[k]/total, c.Ratios[k]) {
				t.Errorf("%s: explained variance ratio %d: %v, NannyML %v", c.Name, k, mv.Variances[k]/total, c.Ratios[k])
			}
		}
		// The reference's chunks, in-sample as NannyML computes them (the
		// baseline's block errors are cross-fitted: see
		// TestCrossFittedErrorsAreOutOfSample), and their thresholds.
		cols := make([]int, len(mv.Features)) // the golden column of each model feature
		for j, f := range mv.Features {
			cols[j] = -1
			for k, name := range c.AnalysisRows.Columns {
				if name == f.Name {
					cols[j] = k
				}
			}
		}
		raw := func(d *nannymlRows, i int) []float64 {
			out := make([]float64, len(mv.Features))
			for j, f := range mv.Features {
				out[j] = math.NaN()
				switch x := d.Values[cols[j]][i].(type) {
				case float64:
					if f.Kind == baselines.Categorical {
						t.Fatalf("%s: a number for categorical %s", c.Name, f.Name)
					}
					out[j] = x
				case string:
					if f.Kind == baselines.Numeric {
						t.Fatalf("%s: a string for numeric %s", c.Name, f.Name)
					}
					out[j] = mv.Code(j, x)
				}
			}
			return out
		}
		if c.Chunk%baselines.ErrorBlock != 0 || c.ReferenceRows.rows() != len(c.ReferenceErrors)*c.Chunk {
			t.Fatalf("%s: %d reference rows for %d chunks of %d", c.Name, c.ReferenceRows.rows(), len(c.ReferenceErrors), c.Chunk)
		}
		var blocks []float64
		z := make([]float64, mv.Width())
		for s := 0; s < c.ReferenceRows.rows(); s += baselines.ErrorBlock {
			var sum float64
			for i := s; i < s+baselines.ErrorBlock; i++ {
				mv.Encode(raw(&c.ReferenceRows, i), z)
				sum += mv.PCA().ReconstructionError(z, mv.Kept, nil)
			}
			blocks = append(blocks, sum/baselines.ErrorBlock)
		}
		per := c.Chunk / baselines.ErrorBlock
		for k, want := range c.ReferenceErrors {
			var s float64
			for _, e := range blocks[k*per : (k+1)*per] {
				s += e
			}
			if got := s / float64(per); !close(got, want) {
				t.Errorf("%s: reference chunk %d: error %.15g, NannyML %.15g", c.Name, k, got, want)
			}
		}
		mean, sd, _, ok := chunkErrors(blocks, c.Chunk, 0)
		if !ok || !close(mean-3*sd, c.Lower) || !close(mean+3*sd, c.Upper) {
			t.Errorf("%s: thresholds [%v, %v], NannyML [%v, %v]", c.Name, mean-3*sd, mean+3*sd, c.Lower, c.Upper)
		}
		// Each analysis chunk as a window's sample, evaluated.
		p := DefaultPolicy()
		p.Multivariate.Permutations = 0
		p.MinSamples = 1
		e := NewEvaluator(p, nil)
		n := c.AnalysisRows.rows()
		for k, want := range c.AnalysisErrors {
			lo, hi := k*c.Chunk, min((k+1)*c.Chunk, n)
			w := windows.NewWindow(windows.Key{Model: "m", Version: "1"}, t0, t0.Add(time.Hour), base, 100)
			w.Sample = &windows.Sample{K: c.Chunk, Width: mv.Width()}
			for i := lo; i < hi; i++ {
				w.Sample.Hashes = append(w.Sample.Hashes, uint64(i))
				w.Sample.Values = append(w.Sample.Values, raw(&c.AnalysisRows, i)...)
			}
			// NannyML's mean of the rows' errors; the row's, with each
			// error capped at the reference's 99.9th percentile
			// (Multivariate.ErrorCap).
			var sum, capped float64
			for i := lo; i < hi; i++ {
				mv.Encode(raw(&c.AnalysisRows, i), z)
				e := mv.PCA().ReconstructionError(z, mv.Kept, nil)
				sum += e
				capped += min(e, mv.ErrorCap)
			}
			if got := sum / float64(hi-lo); !close(got, want) {
				t.Errorf("%s: analysis chunk %d: error %.15g, NannyML %.15g", c.Name, k, got, want)
			}
			r := find(t, e.Evaluate(w), FamilyData, SubjectMultivariate, MetricReconstructionError)
			if math.Abs(r.Value-capped/float64(hi-lo)) > 1e-12 || r.Value > want+1e-12 {
				t.Errorf("%s: analysis chunk %d: row's value %.15g, capped mean %.15g, NannyML %.15g", c.Name, k, r.Value, capped/float64(hi-lo), want)
			}
			capEffect = max(capEffect, (want-r.Value)/want)
			if r.NCurrent != int64(hi-lo) || r.NReference != int64(c.ReferenceRows.rows()) {
				t.Errorf("%s: chunk %d: n_current %d, n_reference %d", c.Name, k, r.NCurrent, r.NReference)
			}
		}
	}
	t.Logf("largest relative difference from NannyML: %.2g; the cap lowered a chunk's error by %.2g at most", worst, capEffect)
}
