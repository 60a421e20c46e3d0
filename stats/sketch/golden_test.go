package sketch

import (
	"encoding/json"
	"math"
	"os"
	"testing"

	"github.com/driftwatch/driftwatch/internal/goldenjson"
)

// TestGoldenSketch checks Quantile, KS and Wasserstein of sketches built
// from the samples in testdata/golden/sketch.json (gen_sketch.py) against
// the exact numpy and SciPy values, within each function's documented
// bound: |Quantile(q) - x_(k)| <= alpha |x_(k)|; d <= D <= d + maxErr;
// |w - W1| <= maxErr. The slack on top covers floating-point rounding only
// (1e-12 relative from log rounding at bucket edges, as documented, and
// 1e-12 absolute).
func TestGoldenSketch(t *testing.T) {
	raw, err := os.ReadFile("testdata/golden/sketch.json")
	if err != nil {
		t.Fatalf("read golden file: %v", err)
	}
	var g struct {
		Versions map[string]string
		Cases    []struct {
			Name        string
			Alpha       float64
			A, B        goldenjson.Floats
			Q           []float64
			Quantiles   goldenjson.Floats
			KS          json.RawMessage
			Wasserstein json.RawMessage
		}
	}
	if err := json.Unmarshal(raw, &g); err != nil {
		t.Fatalf("decode testdata/golden/sketch.json: %v", err)
	}
	if len(g.Cases) < 15 {
		t.Fatalf("golden file has %d cases, want at least 15", len(g.Cases))
	}
	t.Logf("golden values from %v", g.Versions)
	scalar := func(m json.RawMessage) float64 {
		var v goldenjson.Float
		if err := json.Unmarshal(m, &v); err != nil {
			t.Fatalf("bad golden number %s: %v", m, err)
		}
		return float64(v)
	}
	const slack = 1e-12
	var worstQ, worstKS, worstW float64 // observed error / bound
	for _, c := range g.Cases {
		build := func(xs []float64) *Sketch {
			s, err := New(c.Alpha)
			if err != nil {
				t.Fatalf("%s: New(%v): %v", c.Name, c.Alpha, err)
			}
			for _, x := range xs {
				s.Add(x)
			}
			if s.Collapsed() {
				t.Fatalf("%s: sketch collapsed; the bounds checked here assume it did not", c.Name)
			}
			return s
		}
		a, b := build(c.A), build(c.B)
		for i, q := range c.Q {
			want, got := c.Quantiles[i], a.Quantile(q)
			if math.IsNaN(want) {
				if !math.IsNaN(got) {
					t.Errorf("%s: Quantile(%v) = %v, want NaN", c.Name, q, got)
				}
				continue
			}
			bound := c.Alpha * math.Abs(want) * (1 + slack)
			if e := math.Abs(got - want); e > bound+slack {
				t.Errorf("%s: Quantile(%v) = %.17g, numpy %.17g: error %.3g > bound %.3g", c.Name, q, got, want, e, bound)
			} else if bound > 0 {
				worstQ = max(worstQ, e/bound)
			}
		}
		wantD, wantW := scalar(c.KS), scalar(c.Wasserstein)
		d, maxErr, err := KS(a, b)
		if err != nil {
			t.Fatalf("%s: KS: %v", c.Name, err)
		}
		switch {
		case math.IsNaN(wantD):
			if !math.IsNaN(d) {
				t.Errorf("%s: KS d = %v, want NaN", c.Name, d)
			}
		case d > wantD+slack || wantD > d+maxErr+slack:
			t.Errorf("%s: KS d = %.17g, maxErr %.3g: scipy D %.17g outside [d, d+maxErr]", c.Name, d, maxErr, wantD)
		case maxErr > 0:
			worstKS = max(worstKS, (wantD-d)/maxErr)
		}
		w, wErr := Wasserstein(a, b)
		switch {
		case math.IsNaN(wantW):
			if !math.IsNaN(w) {
				t.Errorf("%s: Wasserstein = %v, want NaN", c.Name, w)
			}
		case math.Abs(w-wantW) > wErr+slack*(1+wantW):
			t.Errorf("%s: Wasserstein = %.17g, maxErr %.3g: scipy %.17g (error %.3g)", c.Name, w, wErr, wantW, math.Abs(w-wantW))
		case wErr > 0:
			worstW = max(worstW, math.Abs(w-wantW)/wErr)
		}
	}
	t.Logf("largest error as a fraction of the bound: quantile %.3g, KS %.3g, Wasserstein %.3g", worstQ, worstKS, worstW)
}
