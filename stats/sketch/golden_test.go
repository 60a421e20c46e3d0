package sketch

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"testing"
)

// goldenVec is a []float64 in a golden file: an array of numbers and the
// strings "NaN", "+Inf", "-Inf", or a sorted sample run-length encoded as
// {"values": [...], "counts": [...]} (stats/testdata/golden/goldenjson.py).
type goldenVec []float64

func (v *goldenVec) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '{' {
		var r struct {
			Values goldenVec
			Counts []int
		}
		if err := json.Unmarshal(b, &r); err != nil {
			return err
		}
		if len(r.Values) != len(r.Counts) {
			return fmt.Errorf("run-length sample: %d values, %d counts", len(r.Values), len(r.Counts))
		}
		out := []float64{}
		for i, x := range r.Values {
			for range r.Counts[i] {
				out = append(out, x)
			}
		}
		*v = out
		return nil
	}
	var raw []json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	out := make([]float64, len(raw))
	for i, r := range raw {
		switch string(r) {
		case `"NaN"`:
			out[i] = math.NaN()
		case `"+Inf"`:
			out[i] = math.Inf(1)
		case `"-Inf"`:
			out[i] = math.Inf(-1)
		default:
			if err := json.Unmarshal(r, &out[i]); err != nil {
				return err
			}
		}
	}
	*v = out
	return nil
}

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
			A, B        goldenVec
			Q           []float64
			Quantiles   goldenVec
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
		var v goldenVec
		if err := json.Unmarshal(append(append([]byte{'['}, m...), ']'), &v); err != nil || len(v) != 1 {
			t.Fatalf("bad golden number %s: %v", m, err)
		}
		return v[0]
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
