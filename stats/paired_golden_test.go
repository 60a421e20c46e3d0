package stats

import (
	"encoding/json"
	"math"
	"os"
	"testing"
)

// pairedGolden mirrors testdata/golden/paired.json (gen_paired.py:
// statsmodels' mcnemar, SciPy's ttest_rel).
type pairedGolden struct {
	Versions map[string]string
	McNemar  []struct {
		Name string
		B, C gf
		P    gf
	}
	TTestRel []struct {
		Name      string
		A, B      vec
		T, DF, P  gf
		Reference *string
	} `json:"ttest_rel"`
}

// TestPairedGolden compares McNemarExact and PairedTTestMoments with
// statsmodels and SciPy within relTol (absTol near 0): the exact binomial
// tail and the Student t tail are both computed to about 1e-14 relative in
// each implementation, so 1e-9 leaves room only for the sums' rounding.
func TestPairedGolden(t *testing.T) {
	raw, err := os.ReadFile("testdata/golden/paired.json")
	if err != nil {
		t.Fatal(err)
	}
	var g pairedGolden
	if err := json.Unmarshal(raw, &g); err != nil {
		t.Fatal(err)
	}
	if len(g.McNemar) < 20 || len(g.TTestRel) < 10 {
		t.Fatalf("paired.json has %d mcnemar and %d ttest_rel cases, want at least 20 and 10", len(g.McNemar), len(g.TTestRel))
	}
	t.Logf("golden values from %v", g.Versions)
	c := &checker{t: t, worst: map[string]float64{}}
	for _, k := range g.McNemar {
		c.check("McNemarExact", k.Name, McNemarExact(float64(k.B), float64(k.C)), k.P, relTol)
	}
	for _, k := range g.TTestRel {
		var d Moments
		for i := range k.A {
			d.Add(k.A[i] - k.B[i])
		}
		tt, df, p := PairedTTestMoments(d)
		c.check("PairedTTestMoments.t", k.Name, tt, k.T, relTol)
		c.check("PairedTTestMoments.df", k.Name, df, k.DF, relTol)
		c.check("PairedTTestMoments.p", k.Name, p, k.P, relTol)
	}
	for fn, e := range c.worst {
		t.Logf("largest relative error %-30s %.3g", fn, e)
	}
}

// TestMcNemarExactEdges: invalid counts are NaN, balanced tables 1, and
// the p-value is symmetric in b and c and falls as they move apart.
func TestMcNemarExactEdges(t *testing.T) {
	for _, bc := range [][2]float64{{-1, 3}, {math.NaN(), 1}, {math.Inf(1), 2}, {1.5, 2}} {
		if p := McNemarExact(bc[0], bc[1]); !math.IsNaN(p) {
			t.Errorf("McNemarExact(%v, %v) = %v, want NaN", bc[0], bc[1], p)
		}
	}
	for _, bc := range [][2]float64{{0, 0}, {7, 7}, {1, 0}} {
		if p := McNemarExact(bc[0], bc[1]); p != 1 {
			t.Errorf("McNemarExact(%v, %v) = %v, want 1", bc[0], bc[1], p)
		}
	}
	prev := 1.0
	for c := 50.0; c <= 80; c++ {
		p := McNemarExact(50, c)
		if q := McNemarExact(c, 50); p != q {
			t.Errorf("McNemarExact(50, %v) = %v but McNemarExact(%v, 50) = %v", c, p, c, q)
		}
		if p > prev {
			t.Errorf("McNemarExact(50, %v) = %v rises from %v", c, p, prev)
		}
		prev = p
	}
}
