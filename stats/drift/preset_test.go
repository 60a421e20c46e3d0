package drift

import (
	"encoding/json"
	"math"
	"strconv"
	"testing"
	"time"

	"github.com/driftwatch/driftwatch/baselines"
	"github.com/driftwatch/driftwatch/windows"
)

// presetBaseline builds a baseline of rows reference rows with a numeric
// feature of `distinct` values (or continuous when distinct is 0) and a
// categorical one of cats categories.
func presetBaseline(t *testing.T, rows, distinct, cats int) *baselines.Baseline {
	t.Helper()
	b := baselines.NewBuilder("m", baselines.BuildOptions{})
	rng := newLCG(3)
	for i := range rows {
		x := rng.float() * 100
		if distinct > 0 {
			x = float64(i % distinct)
		}
		b.AddNumber("num", x)
		b.AddCategory("cat", "c"+strconv.Itoa(i%cats))
		b.AddPredictionNumber(rng.float())
		b.EndRow()
	}
	bl, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	return bl
}

// sameWindow fills a window with the baseline's own distribution scaled to n.
func sameWindow(bl *baselines.Baseline, n int64) *windows.Window {
	w := windows.NewWindow(windows.Key{Model: "m", Version: "1"}, t0, t0, bl, 1000)
	for i := range bl.Features {
		bf, cf := &bl.Features[i], &w.Features[i]
		scale := float64(n) / float64(bf.Count)
		for j, c := range bf.Counts {
			cf.Counts[j] = int64(math.Round(float64(c) * scale))
			cf.Sums[j] = bf.Sums[j] * scale
			cf.Count += cf.Counts[j]
		}
		for k, c := range bf.Categories {
			cf.Categories[k] = int64(math.Round(float64(c) * scale))
			cf.Count += cf.Categories[k]
		}
		if bf.Kind == baselines.Numeric {
			cf.Moments.N, cf.Moments.Mean, cf.Moments.M2 = float64(cf.Count), bf.Mean, bf.Std*bf.Std*float64(cf.Count)
		}
	}
	return w
}

func TestEvidentlyPresetSelection(t *testing.T) {
	p, err := ApplyPreset(DefaultPolicy(), PresetEvidently)
	if err != nil {
		t.Fatal(err)
	}
	if p.Correction != CorrectionNone || p.RequireSignificance {
		t.Errorf("evidently preset keeps correction %q / significance %v", p.Correction, p.RequireSignificance)
	}
	for _, c := range []struct {
		name                 string
		rows, distinct, cats int
		num, cat             Rule
	}{
		{"small discrete", 800, 5, 2, Rule{MetricChi2GOF, 0.05}, Rule{MetricProportionZ, 0.05}},
		{"small continuous", 1000, 0, 3, Rule{MetricKS, 0.05}, Rule{MetricChi2GOF, 0.05}},
		{"large discrete", 1001, 4, 2, Rule{MetricJensenShannon, 0.1}, Rule{MetricJensenShannon, 0.1}},
		{"large continuous", 50_000, 6, 40, Rule{MetricWasserstein, 0.1}, Rule{MetricJensenShannon, 0.1}},
	} {
		bl := presetBaseline(t, c.rows, c.distinct, c.cats)
		rows := NewEvaluator(p, nil).Evaluate(sameWindow(bl, 500))
		for subject, want := range map[string]Rule{"num": c.num, "cat": c.cat} {
			r := primary(t, rows, subject)
			if r.Metric != want.Metric || r.Threshold != want.Threshold && want.Metric != MetricWasserstein {
				t.Errorf("%s %s: primary %s at %v, want %s at %v", c.name, subject, r.Metric, r.Threshold, want.Metric, want.Threshold)
			}
			if r.Drifted {
				t.Errorf("%s %s: a window like the reference is drifted: %+v", c.name, subject, r)
			}
		}
	}
}

func TestStaticPresets(t *testing.T) {
	bl := presetBaseline(t, 5000, 0, 6)
	for preset, want := range map[string][2]Rule{
		PresetVertexAI:  {{MetricJSDivergence, 0.3}, {MetricLInfinity, 0.3}},
		PresetSageMaker: {{MetricLInfinity, 0.1}, {MetricLInfinity, 0.1}},
		PresetWhyLabs:   {{MetricHellinger, 0.7}, {MetricHellinger, 0.7}},
	} {
		p, err := ApplyPreset(DefaultPolicy(), preset)
		if err != nil {
			t.Fatal(err)
		}
		rows := NewEvaluator(p, nil).Evaluate(sameWindow(bl, 1000))
		if r := primary(t, rows, "num"); r.Metric != want[0].Metric || r.Threshold != want[0].Threshold {
			t.Errorf("%s numeric: %s %v", preset, r.Metric, r.Threshold)
		}
		if r := primary(t, rows, "cat"); r.Metric != want[1].Metric || r.Threshold != want[1].Threshold {
			t.Errorf("%s categorical: %s %v", preset, r.Metric, r.Threshold)
		}
	}
	if _, err := ApplyPreset(DefaultPolicy(), "datadog"); err == nil {
		t.Error("unknown preset accepted")
	}
}

// FuzzEvaluate feeds arbitrary baselines and windows (empty, constant,
// one-sided, huge counts) through every preset with and without
// calibration: rows must be finite, p-values in [0, 1], minimum detectable
// effects finite and positive, and every row must encode as JSON.
func FuzzEvaluate(f *testing.F) {
	f.Add([]byte{10, 20, 30, 0, 5}, []byte{1, 2, 3, 4, 200}, uint8(0))
	f.Add([]byte{0, 0, 0}, []byte{0, 0, 0}, uint8(1))
	f.Add([]byte{255, 0, 0, 0, 0, 255}, []byte{0, 0, 255, 0, 0, 0}, uint8(9))
	f.Add([]byte{7}, []byte{7, 7, 7, 7, 7, 7, 7, 7}, uint8(4))
	f.Fuzz(func(t *testing.T, ref, cur []byte, mode uint8) {
		if len(ref) == 0 || len(ref) > 64 || len(cur) > 64 {
			return
		}
		bf := baselines.Feature{Name: "num", Kind: baselines.Numeric}
		cat := baselines.Feature{Name: "cat", Kind: baselines.Categorical, Categories: map[string]int64{}}
		sample := &baselines.Sample{Stride: 1}
		for i, c := range ref {
			if i > 0 {
				bf.Edges = append(bf.Edges, float64(i))
			}
			n := int64(c) * int64(c) // up to 65,025, including 0
			bf.Counts = append(bf.Counts, n)
			bf.Sums = append(bf.Sums, float64(n)*float64(i))
			bf.Count += n
			if c > 0 {
				cat.Categories["c"+strconv.Itoa(i)] = n
				cat.Count += n
			}
			for range min(n, 50) {
				sample.Cells = append(sample.Cells, uint16(i))
			}
		}
		bf.Sample = sample
		mean := 0.0
		for i, n := range bf.Counts {
			mean += float64(i) * float64(n)
		}
		if bf.Count > 0 {
			mean /= float64(bf.Count)
			bf.Std = math.Sqrt(float64(len(ref)) / 3)
		}
		bf.Mean = mean
		bl := &baselines.Baseline{Format: 1, ID: "b", Model: "m", Features: []baselines.Feature{bf, cat},
			Prediction: baselines.Feature{Name: "prediction", Kind: baselines.Categorical}}
		w := windows.NewWindow(windows.Key{Model: "m", Version: "1"}, t0, t0, bl, 100)
		for i, c := range cur {
			n := int64(c) * int64(c)
			if i < len(w.Features[0].Counts) {
				w.Features[0].Counts[i] += n
				w.Features[0].Sums[i] += float64(n) * float64(i)
				w.Features[0].Count += n
				for range min(n, 20) {
					w.Features[0].Moments.Add(float64(i))
				}
			}
			if n > 0 {
				w.Features[1].Categories["c"+strconv.Itoa(i%7)] += n
				w.Features[1].Count += n
			}
		}
		p, err := ApplyPreset(DefaultPolicy(), Presets[int(mode)%len(Presets)])
		if err != nil {
			t.Fatal(err)
		}
		p.MinSamples = 1
		p.Calibration.Enabled = mode&8 != 0
		p.Calibration.MinSubWindows = 2
		p.NumericMetrics = []string{MetricPSI, MetricKS, MetricAndersonDarling, MetricCramerVonMises, MetricChi2, MetricChi2GOF, MetricGTest, MetricProportionZ, MetricTTest,
			MetricJensenShannon, MetricJSDivergence, MetricHellinger, MetricKL, MetricTotalVariation, MetricLInfinity, MetricWasserstein, MetricEnergy}
		p.CategoricalMetrics = []string{MetricPSI, MetricChi2, MetricChi2GOF, MetricGTest, MetricProportionZ,
			MetricJensenShannon, MetricJSDivergence, MetricHellinger, MetricKL, MetricTotalVariation, MetricLInfinity}
		// Records, failures and unknown names; then windows of the days
		// after, of the bytes' counts, for the volume history.
		for _, c := range cur {
			w.Records += int64(c)
		}
		w.Failed = w.Records / int64(mode%5+1)
		if w.Failed > 0 {
			w.ErrorClasses = map[string]int64{"timeout": w.Failed - w.Failed/3, "oom": w.Failed / 3}
		}
		w.Unknown = map[string]int64{"u": w.Records / 2, "v": 1}
		w.UnknownDropped = int64(mode)
		w.Features[1].Absent = w.Records
		e := NewEvaluator(p, nil)
		rows := e.Evaluate(w)
		for d, c := range cur {
			next := windows.NewWindow(w.Key, t0.Add(time.Duration(d+1)*24*time.Hour), t0.Add(time.Duration(d+1)*24*time.Hour+time.Hour), bl, 100)
			next.Records = int64(c) * int64(c) * int64(mode)
			rows = append(rows, e.Evaluate(next)...)
		}
		for _, r := range rows {
			if math.IsNaN(r.Value) || math.IsInf(r.Value, 0) || math.IsNaN(r.Threshold) || math.IsInf(r.Threshold, 0) {
				t.Fatalf("row not finite: %+v", r)
			}
			if r.PValue != nil && !(*r.PValue >= 0 && *r.PValue <= 1) {
				t.Fatalf("p-value out of [0, 1]: %+v", r)
			}
			if r.MDE != nil && !(*r.MDE > 0) || r.MDE != nil && math.IsInf(*r.MDE, 0) {
				t.Fatalf("MDE %v: %+v", *r.MDE, r)
			}
			if _, err := json.Marshal(r); err != nil {
				t.Fatalf("row does not encode: %v: %+v", err, r)
			}
		}
	})
}

// TestRuleMetricAlwaysWritten: a rule's metric gets its row even when it is
// not among the configured metrics and is the kind's significance test.
func TestRuleMetricAlwaysWritten(t *testing.T) {
	p := DefaultPolicy()
	p.NumericMetrics, p.CategoricalMetrics = []string{MetricPSI}, []string{MetricPSI}
	p.Numeric, p.Categorical = Rule{MetricKS, 0.05}, Rule{MetricChi2, 0.05}
	p.RequireSignificance = false
	rows := NewEvaluator(p, nil).Evaluate(sameWindow(presetBaseline(t, 5000, 0, 6), 1000))
	if r := primary(t, rows, "num"); r.Metric != MetricKS {
		t.Errorf("numeric primary %s, want ks", r.Metric)
	}
	if r := primary(t, rows, "cat"); r.Metric != MetricChi2 {
		t.Errorf("categorical primary %s, want chi2", r.Metric)
	}
}
