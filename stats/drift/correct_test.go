package drift

import (
	"encoding/json"
	"math"
	"os"
	"testing"
)

func TestCorrectionsMatchSciPy(t *testing.T) {
	data, err := os.ReadFile("testdata/golden/correction.json")
	if err != nil {
		t.Fatal(err)
	}
	var g struct {
		Cases []struct {
			Name       string
			P, BH      []float64
			Bonferroni []float64
		}
	}
	if err := json.Unmarshal(data, &g); err != nil {
		t.Fatal(err)
	}
	if len(g.Cases) < 30 {
		t.Fatalf("%d golden cases", len(g.Cases))
	}
	close := func(a, b float64) bool { return math.Abs(a-b) <= 1e-12+1e-9*math.Abs(b) }
	for _, c := range g.Cases {
		p := append([]float64(nil), c.P...)
		bh, bf := AdjustBH(p), AdjustBonferroni(p)
		for i := range c.P {
			if p[i] != c.P[i] {
				t.Fatalf("%s: input modified", c.Name)
			}
			if !close(bh[i], c.BH[i]) || !close(bf[i], c.Bonferroni[i]) {
				t.Errorf("%s[%d]: bh %v want %v, bonferroni %v want %v", c.Name, i, bh[i], c.BH[i], bf[i], c.Bonferroni[i])
			}
		}
	}
}

func TestCorrectRejudgesRows(t *testing.T) {
	ps := []float64{0.01, 0.02, 0.04}
	rows := []Row{{Metric: MetricPSI, Value: 0.3, Threshold: 0.2, Drifted: true}}
	for i := range ps {
		rows = append(rows, Row{Metric: MetricKS, PValue: &ps[i], Threshold: 0.05, Drifted: true})
	}
	correct(rows, CorrectionBonferroni) // 0.03, 0.06, 0.12
	if !rows[0].Drifted || rows[0].PValue != nil {
		t.Errorf("row without a p-value changed: %+v", rows[0])
	}
	if !rows[1].Drifted || rows[2].Drifted || rows[3].Drifted || math.Abs(*rows[2].PValue-0.06) > 1e-15 {
		t.Errorf("bonferroni verdicts: %v %v %v", rows[1].Drifted, rows[2].Drifted, rows[3].Drifted)
	}
	if ps[1] != 0.02 {
		t.Errorf("caller's p-value modified")
	}
}
