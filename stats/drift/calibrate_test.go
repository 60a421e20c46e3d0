package drift

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"testing"

	"github.com/driftwatch/driftwatch/baselines"
	"github.com/driftwatch/driftwatch/windows"
)

// TestCalibrationGolden checks calibrate against an independent
// implementation of the documented procedure with SciPy
// (testdata/golden/gen_calibration.py).
func TestCalibrationGolden(t *testing.T) {
	data, err := os.ReadFile("testdata/golden/calibration.json")
	if err != nil {
		t.Fatal(err)
	}
	var g struct {
		Cases []struct {
			Name, Kind  string
			Cells       []uint16
			NCells, N   int
			Sigmas      float64
			Edges, Sums []float64
			Counts      []int64
			Want        map[string]float64
		}
	}
	if err := json.Unmarshal(data, &g); err != nil {
		t.Fatal(err)
	}
	if len(g.Cases) == 0 {
		t.Fatal("no cases")
	}
	for _, c := range g.Cases {
		bf := &baselines.Feature{Name: c.Name, Sample: &baselines.Sample{Stride: 1, Cells: c.Cells}}
		if c.Kind == "categorical" {
			bf.Kind, bf.Categories = baselines.Categorical, map[string]int64{}
			for i := range c.NCells {
				name := fmt.Sprintf("c%02d", i)
				bf.Sample.Categories = append(bf.Sample.Categories, name)
				bf.Categories[name] = 1
			}
		} else {
			bf.Kind, bf.Edges, bf.Counts, bf.Sums = baselines.Numeric, c.Edges, c.Counts, c.Sums
		}
		if err := bf.Sample.Validate(bf); err != nil {
			t.Fatalf("%s: %v", c.Name, err)
		}
		pr := &pair{kind: bf.Kind}
		for i := range c.NCells { // numeric cases: one cell per fine bin
			pr.ends = append(pr.ends, i+1)
		}
		var metrics []string
		for m := range c.Want {
			metrics = append(metrics, m)
		}
		got := calibrate(bf, pr, int64(c.N), metrics, Calibration{Enabled: true, Sigmas: c.Sigmas, MinSubWindows: 10})
		for m, want := range c.Want {
			if v, ok := got[m]; !ok || math.Abs(v-want) > 1e-9*math.Abs(want) {
				t.Errorf("%s %s: calibrated threshold %v, scipy %v", c.Name, m, v, want)
			}
		}
	}
}

// TestCalibrationTracksReferenceNoise: on a reference whose mix wanders over
// time (as production does), stable windows from the same process break
// the static PSI threshold now and then; the calibrated threshold, learned
// from the reference's own sub-windows, does not flag them, and still flags
// a real shift.
func TestCalibrationTracksReferenceNoise(t *testing.T) {
	const n = 500 // window size
	cats := []string{"a", "b", "c", "d"}
	wander := func(t int) []float64 { // slow cycle of the mix, period 6000 values
		s := math.Sin(2 * math.Pi * float64(t) / 6000)
		return []float64{0.4 + 0.15*s, 0.3 - 0.1*s, 0.2 - 0.05*s, 0.1}
	}
	rng := newLCG(7)
	draw := func(p []float64) string {
		u, acc := rng.float(), 0.0
		for i, pi := range p {
			if acc += pi; u < acc {
				return cats[i]
			}
		}
		return cats[len(cats)-1]
	}
	b := baselines.NewBuilder("m", baselines.BuildOptions{})
	for i := range 60_000 {
		b.AddCategory("x", draw(wander(i)))
		b.EndRow()
	}
	bl, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	static := DefaultPolicy()
	static.Categorical = Rule{Metric: MetricPSI, Threshold: 0.05}
	static.RequireSignificance, static.Correction = false, CorrectionNone
	calibrated := static
	calibrated.Calibration.Enabled = true
	var staticFlags, calFlags int
	var thr float64
	window := func(p func(int) []float64, at int) *windows.Window {
		w := windows.NewWindow(windows.Key{Model: "m", Version: "1"}, t0, t0, bl, 100)
		for i := range n {
			w.Features[0].Categories[draw(p(at+i))]++
			w.Features[0].Count++
		}
		return w
	}
	const windowsN = 40
	for k := range windowsN {
		w := window(wander, k*1500)
		if r := primary(t, NewEvaluator(static, nil).Evaluate(w), "x"); r.Drifted {
			staticFlags++
		}
		r := primary(t, NewEvaluator(calibrated, nil).Evaluate(w), "x")
		if r.ThresholdSource != SourceCalibrated {
			t.Fatalf("threshold source %q, want calibrated", r.ThresholdSource)
		}
		thr = r.Threshold
		if r.Drifted {
			calFlags++
		}
	}
	t.Logf("stable windows flagged: static psi>=0.05 %d/%d, calibrated (threshold %.4f) %d/%d", staticFlags, windowsN, thr, calFlags, windowsN)
	if staticFlags == 0 || calFlags > 1 {
		t.Errorf("static flagged %d, calibrated %d of %d stable windows; want static > 0 and calibrated <= 1", staticFlags, calFlags, windowsN)
	}
	shifted := window(func(int) []float64 { return []float64{0.1, 0.2, 0.3, 0.4} }, 0)
	if r := primary(t, NewEvaluator(calibrated, nil).Evaluate(shifted), "x"); !r.Drifted {
		t.Errorf("shifted window not flagged: psi %v, threshold %v", r.Value, r.Threshold)
	}
	// A window too large for the sample falls back to the static threshold.
	big := window(wander, 0)
	big.Features[0].Count *= 1000
	for k := range big.Features[0].Categories {
		big.Features[0].Categories[k] *= 1000
	}
	if r := primary(t, NewEvaluator(calibrated, nil).Evaluate(big), "x"); r.ThresholdSource != SourceStaticFallback || r.Threshold != 0.05 {
		t.Errorf("large window: source %q threshold %v, want static_fallback 0.05", r.ThresholdSource, r.Threshold)
	}
}

func primary(t *testing.T, rows []Row, subject string) Row {
	t.Helper()
	for _, r := range rows {
		if r.Subject == subject && r.Primary {
			return r
		}
	}
	t.Fatalf("no primary row for %s in %+v", subject, rows)
	return Row{}
}

// lcg is a small deterministic generator for tests that must not depend on
// math/rand's stream across Go versions.
type lcg struct{ s uint64 }

func newLCG(seed uint64) *lcg { return &lcg{s: seed*6364136223846793005 + 1442695040888963407} }

func (g *lcg) float() float64 {
	g.s = g.s*6364136223846793005 + 1442695040888963407
	return float64(g.s>>11) / (1 << 53)
}
