package stats

import (
	"encoding/json"
	"math"
	"os"
	"testing"
)

// powerGolden mirrors testdata/golden/power.json (gen_power.py, SciPy).
type powerGolden struct {
	NCX2 []struct {
		X, DF, NC gf
		SF        gf
	} `json:"ncx2_sf"`
	Noncentrality []struct {
		DF, Alpha, Power, NC gf
	} `json:"chi2_noncentrality"`
	Normal []struct {
		N, M, Alpha, Power, MDE gf
	} `json:"normal_mde"`
	GOF []struct {
		Ref, Cur []float64
		Stat, P  gf
	} `json:"chisquare_gof"`
}

func TestPowerGolden(t *testing.T) {
	data, err := os.ReadFile("testdata/golden/power.json")
	if err != nil {
		t.Fatal(err)
	}
	var g powerGolden
	if err := json.Unmarshal(data, &g); err != nil {
		t.Fatal(err)
	}
	if len(g.NCX2) == 0 || len(g.Noncentrality) == 0 || len(g.Normal) == 0 || len(g.GOF) == 0 {
		t.Fatal("power.json is missing a section")
	}
	const tol = 1e-9
	for _, c := range g.NCX2 {
		got := NoncentralChi2SF(float64(c.X), float64(c.DF), float64(c.NC))
		if !closeRel(got, float64(c.SF), tol) {
			t.Errorf("NoncentralChi2SF(%v, %v, %v) = %v, scipy %v", c.X, c.DF, c.NC, got, c.SF)
		}
	}
	for _, c := range g.Noncentrality {
		got := Chi2Noncentrality(float64(c.DF), float64(c.Alpha), float64(c.Power))
		if !closeRel(got, float64(c.NC), tol) {
			t.Errorf("Chi2Noncentrality(%v, %v, %v) = %v, scipy %v", c.DF, c.Alpha, c.Power, got, c.NC)
		}
	}
	for _, c := range g.Normal {
		got := NormalMDE(float64(c.N), float64(c.M), float64(c.Alpha), float64(c.Power))
		if !closeRel(got, float64(c.MDE), tol) {
			t.Errorf("NormalMDE(%v, %v, %v, %v) = %v, scipy %v", c.N, c.M, c.Alpha, c.Power, got, c.MDE)
		}
	}
	for i, c := range g.GOF {
		stat, p, _ := ChiSquaredGOF(c.Ref, c.Cur)
		if !closeRel(stat, float64(c.Stat), tol) || !closeRel(p, float64(c.P), tol) {
			t.Errorf("ChiSquaredGOF case %d = (%v, %v), scipy (%v, %v)", i, stat, p, c.Stat, c.P)
		}
	}
}

// closeRel reports whether got is within rel of want (relative), with
// NaN and infinities equal only to themselves.
func closeRel(got, want, rel float64) bool {
	switch {
	case math.IsNaN(want):
		return math.IsNaN(got)
	case math.IsInf(want, 0):
		return got == want
	case want == 0:
		return math.Abs(got) <= rel
	}
	return math.Abs(got-want) <= rel*math.Abs(want)
}
