package drift

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/driftwatch/driftwatch/baselines"
	"github.com/driftwatch/driftwatch/consumer"
	"github.com/driftwatch/driftwatch/windows"
)

// corrRecord draws one record of the correlation scenario: a ~ N(50, 10)
// and b = 3 + 0.5 z with z correlated rho with a's standard score, c ~
// N(0, 1), a category g, and a score from c. Whatever rho, a and b keep
// their marginals: only how they move together changes.
func corrRecord(rng *rand.Rand, rho float64) (a, b, c float64, g string, score float64) {
	za := rng.NormFloat64()
	zb := rho*za + math.Sqrt(1-rho*rho)*rng.NormFloat64()
	a, b, c = 50+10*za, 3+0.5*zb, rng.NormFloat64()
	g = []string{"x", "y", "z", "w"}[min(int(rng.ExpFloat64()*1.5), 3)]
	return a, b, c, g, 1 / (1 + math.Exp(-c))
}

// corrBaseline is 10,000 reference rows with a and b correlated +0.8.
func corrBaseline(t *testing.T) *baselines.Baseline {
	t.Helper()
	rng := rand.New(rand.NewPCG(1, 1))
	bld := baselines.NewBuilder("m", baselines.BuildOptions{Now: func() time.Time { return t0 }})
	for range 10_000 {
		a, b, c, g, s := corrRecord(rng, 0.8)
		bld.AddNumber("a", a)
		bld.AddNumber("b", b)
		bld.AddNumber("c", c)
		bld.AddCategory("g", g)
		bld.AddPredictionNumber(s)
		bld.EndRow()
	}
	base, err := bld.Build()
	if err != nil {
		t.Fatal(err)
	}
	if base.Multivariate == nil {
		t.Fatal("no multivariate model")
	}
	return base
}

// corrWindows runs n records per window through the windows stage, one
// window per rho, and returns the closed windows in order.
func corrWindows(t *testing.T, base *baselines.Baseline, seed uint64, n int, rhos ...float64) []*windows.Window {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 2))
	in := make(chan consumer.Batch, len(rhos)*n/500+1)
	for k, rho := range rhos {
		bb := consumer.NewBatchBuilder(base)
		for i := range n {
			a, b, c, g, s := corrRecord(rng, rho)
			bb.Append(&consumer.Record{
				PredictionID: fmt.Sprintf("%d-%d-%d", seed, k, i), Model: "m", ModelVersion: "1",
				Timestamp: t0.Add(time.Duration(k)*time.Hour + time.Duration(i)*time.Hour/time.Duration(n)),
				Features: map[string]consumer.Value{
					"a": {Kind: consumer.Number, Num: a}, "b": {Kind: consumer.Number, Num: b},
					"c": {Kind: consumer.Number, Num: c}, "g": {Kind: consumer.String, Str: g},
				},
				Prediction: consumer.Value{Kind: consumer.Number, Num: s},
			})
			if bb.Len() == 500 || i == n-1 {
				in <- consumer.Batch{Model: "m", Baseline: base, Rec: bb.NewRecordBatch(), Ack: func(error) {}}
			}
		}
		bb.Release()
	}
	close(in)
	out := make(chan windows.Closed, len(rhos)+1)
	if err := windows.New(windows.Config{Size: time.Hour, FlushAtEnd: true}).Run(context.Background(), in, out); err != nil {
		t.Fatal(err)
	}
	var ws []*windows.Window
	for c := range out {
		if c.Window != nil {
			ws = append(ws, c.Window)
		}
	}
	if len(ws) != len(rhos) {
		t.Fatalf("%d windows, want %d", len(ws), len(rhos))
	}
	return ws
}

// TestCorrelationFlipIsMultivariate: two features correlated +0.8 in the
// reference turn to -0.8 while each keeps its distribution. The
// multivariate rows catch it in every window (reconstruction_error past
// its threshold, domain_classifier_auc past its floor with p < 0.05), and
// no univariate row of the data family drifts, nor the dataset's; windows
// that keep the correlation raise nothing.
func TestCorrelationFlipIsMultivariate(t *testing.T) {
	base := corrBaseline(t)
	e := NewEvaluator(DefaultPolicy(), nil)
	for seed := range uint64(3) {
		ws := corrWindows(t, base, seed, 4000, 0.8, -0.8)
		for i, w := range ws {
			flipped := i == 1
			if w.Sample == nil || w.Sample.Len() != windows.DefaultSampleRows {
				t.Fatalf("seed %d window %d: no sample of %d rows", seed, i, windows.DefaultSampleRows)
			}
			rows := e.Evaluate(w)
			re := find(t, rows, FamilyData, SubjectMultivariate, MetricReconstructionError)
			auc := find(t, rows, FamilyData, SubjectMultivariate, MetricDomainClassifierAUC)
			t.Logf("seed %d flipped %v: reconstruction_error %.3f (threshold %.3f), auc %.3f p %.3f", seed, flipped, re.Value, re.Threshold, auc.Value, pOf(auc))
			if re.Drifted != flipped || auc.Drifted != flipped {
				t.Errorf("seed %d, flipped %v: reconstruction_error %.3f (threshold %.3f, %s) drifted %v; domain_classifier_auc %.3f (p %.3f) drifted %v",
					seed, flipped, re.Value, re.Threshold, re.ThresholdSource, re.Drifted, auc.Value, pOf(auc), auc.Drifted)
			}
			// Permutations only where the AUC reaches its floor: below it
			// the row is not drifted whatever they would say.
			if (auc.PValue == nil) != (auc.Value < auc.Threshold) {
				t.Errorf("seed %d, flipped %v: domain_classifier_auc %.3f (floor %v) with p-value %v", seed, flipped, auc.Value, auc.Threshold, auc.PValue)
			}
			if !re.Primary || auc.Primary || re.ThresholdSource != SourceCalibrated || re.NCurrent != int64(windows.DefaultSampleRows) || re.NReference != 10_000 {
				t.Errorf("seed %d: rows %+v\n%+v", seed, re, auc)
			}
			for _, r := range rows {
				if r.Family == FamilyData && r.Subject != SubjectMultivariate && r.Drifted {
					t.Errorf("seed %d, flipped %v: univariate row %s %s = %v drifted", seed, flipped, r.Subject, r.Metric, r.Value)
				}
			}
		}
	}
}

// TestMultivariateRowsNeedAModelAndASample: no rows without the
// baseline's model, without a sample, or with fewer sampled rows than
// drift.min_samples; the classifier's row only with permutations.
func TestMultivariateRowsNeedAModelAndASample(t *testing.T) {
	base := corrBaseline(t)
	w := corrWindows(t, base, 7, 300, 0.8)[0]
	count := func(p Policy, w *windows.Window) (n int) {
		for _, r := range NewEvaluator(p, nil).Evaluate(w) {
			if r.Subject == SubjectMultivariate {
				n++
			}
		}
		return n
	}
	p := DefaultPolicy()
	if n := count(p, w); n != 2 {
		t.Errorf("%d multivariate rows, want 2", n)
	}
	p.Multivariate.Permutations = 0
	if n := count(p, w); n != 1 {
		t.Errorf("without permutations: %d multivariate rows, want 1", n)
	}
	p = DefaultPolicy()
	p.MinSamples = 301
	if n := count(p, w); n != 0 {
		t.Errorf("300 rows under min_samples 301: %d multivariate rows", n)
	}
	c := *w
	c.Sample = nil
	if n := count(DefaultPolicy(), &c); n != 0 {
		t.Errorf("no sample: %d multivariate rows", n)
	}
	old := *base
	old.Multivariate = nil // a baseline built before the model
	c = *w
	c.Baseline = &old
	if n := count(DefaultPolicy(), &c); n != 0 {
		t.Errorf("no model: %d multivariate rows", n)
	}
}

// TestReconstructionThresholdMatchesWindows: with no change, a window's
// reconstruction_error exceeds its threshold rarely; the threshold at the
// window's sample size is what its sampled error spreads to: about 3
// standard deviations of it, measured over 40 stable windows.
func TestReconstructionThresholdMatchesWindows(t *testing.T) {
	base := corrBaseline(t)
	p := DefaultPolicy()
	p.Multivariate.Permutations = 0
	e := NewEvaluator(p, nil)
	var vals []float64
	var thr float64
	for seed := range uint64(8) {
		for _, w := range corrWindows(t, base, 100+seed, 1000, 0.8, 0.8, 0.8, 0.8, 0.8) {
			r := find(t, e.Evaluate(w), FamilyData, SubjectMultivariate, MetricReconstructionError)
			if r.Drifted {
				t.Errorf("seed %d: a stable window drifted: %v >= %v", seed, r.Value, r.Threshold)
			}
			vals = append(vals, r.Value)
			thr = r.Threshold
		}
	}
	var mean, sd float64
	for _, v := range vals {
		mean += v
	}
	mean /= float64(len(vals))
	for _, v := range vals {
		sd += (v - mean) * (v - mean)
	}
	sd = math.Sqrt(sd / float64(len(vals)-1))
	// The threshold is the reference's chunk mean plus 3 of its chunk
	// standard deviations; the windows' own spread puts it 2 to 4.5 of
	// theirs above their mean (40 windows estimate a standard deviation
	// within about 20%).
	t.Logf("threshold %.4f, stable windows %.4f +- %.4f: %.2f sd above", thr, mean, sd, (thr-mean)/sd)
	if z := (thr - mean) / sd; z < 2 || z > 4.5 {
		t.Errorf("threshold %.4f is %.1f standard deviations (%.4f) above the stable windows' mean %.4f, want about 3", thr, z, sd, mean)
	}
}

// BenchmarkMultivariateRows is one window's multivariate rows at the
// defaults: 500 sampled rows of 9 features (8 numeric, one categorical)
// against a baseline of 20,000 reference rows, the classifier's 99
// permutations with their early stops; "stable" rows are the reference's
// distribution, "drifted" ones have two features' correlation flipped.
func BenchmarkMultivariateRows(b *testing.B) {
	rng := rand.New(rand.NewPCG(5, 5))
	draw := func(rho float64) map[string]any {
		za := rng.NormFloat64()
		row := map[string]any{"x0": za, "x1": rho*za + math.Sqrt(1-rho*rho)*rng.NormFloat64(), "g": []string{"a", "b", "c"}[rng.IntN(3)]}
		for j := 2; j < 8; j++ {
			row[fmt.Sprintf("x%d", j)] = rng.NormFloat64() * float64(j)
		}
		return row
	}
	bld := baselines.NewBuilder("m", baselines.BuildOptions{Now: func() time.Time { return t0 }})
	for range 20_000 {
		for name, v := range draw(0.8) {
			if s, ok := v.(string); ok {
				bld.AddCategory(name, s)
			} else {
				bld.AddNumber(name, v.(float64))
			}
		}
		bld.AddPredictionNumber(0.5)
		bld.EndRow()
	}
	base, err := bld.Build()
	if err != nil {
		b.Fatal(err)
	}
	mv := base.Multivariate
	for _, c := range []struct {
		name string
		rho  float64
	}{{"stable", 0.8}, {"drifted", -0.8}} {
		b.Run(c.name, func(b *testing.B) {
			w := windows.NewWindow(windows.Key{Model: "m", Version: "1"}, t0, t0.Add(time.Hour), base, 100)
			w.Sample = &windows.Sample{K: 500, Width: mv.Width()}
			for i := range 500 {
				row := draw(c.rho)
				w.Sample.Hashes = append(w.Sample.Hashes, uint64(i))
				for j, f := range mv.Features {
					if s, ok := row[f.Name].(string); ok {
						w.Sample.Values = append(w.Sample.Values, mv.Code(j, s))
					} else {
						w.Sample.Values = append(w.Sample.Values, row[f.Name].(float64))
					}
				}
			}
			p := DefaultPolicy()
			e := NewEvaluator(p, nil)
			head := Row{Model: "m", ModelVersion: "1", WindowEnd: t0.Add(time.Hour)}
			b.ReportAllocs()
			var drifted int
			for i := 0; b.Loop(); i++ {
				head.WindowStart = t0.Add(time.Duration(i) * time.Hour) // another seed each window
				rows := e.appendMultivariate(nil, head, w, mv, &p)
				if len(rows) != 2 {
					b.Fatalf("%d rows", len(rows))
				}
				if rows[1].Drifted {
					drifted++
				}
			}
			b.ReportMetric(float64(drifted)/float64(b.N), "drifted/op")
		})
	}
}

// TestDomainClassifierFollowsTheCycle: with a reference of two days whose
// feature a follows a daily cycle (1.5 sd), an hour's window of the same
// cycle is told from the whole reference (the classifier sees the hour's
// mean) but not from the reference's rows of the same hour, which a
// phased window (drift.seasonality auto) is compared with.
func TestDomainClassifierFollowsTheCycle(t *testing.T) {
	start := time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC) // a Monday
	cyc := func(rng *rand.Rand, at time.Time) (a, c float64) {
		h := float64(at.Hour()) + float64(at.Minute())/60
		return 50 + 10*(1.5*math.Sin(2*math.Pi*h/24)+rng.NormFloat64()), rng.NormFloat64()
	}
	rng := rand.New(rand.NewPCG(2, 2))
	bld := baselines.NewBuilder("m", baselines.BuildOptions{Now: func() time.Time { return t0 }})
	const refRows = 24_000
	for i := range refRows {
		at := start.Add(time.Duration(i) * 48 * time.Hour / refRows)
		bld.SetTime(at)
		a, c := cyc(rng, at)
		bld.AddNumber("a", a)
		bld.AddNumber("c", c)
		bld.AddPredictionNumber(0.5)
		bld.EndRow()
	}
	base, err := bld.Build()
	if err != nil {
		t.Fatal(err)
	}
	if base.Cycle != baselines.CycleDaily || len(base.Multivariate.SamplePhases) == 0 {
		t.Fatalf("cycle %q, %d sample phases: want a daily cycle and phases", base.Cycle, len(base.Multivariate.SamplePhases))
	}
	// Windows at 06:00 (the cycle's top) on a later day.
	wstart := start.Add(7*24*time.Hour + 6*time.Hour)
	in := make(chan consumer.Batch, 8)
	bb := consumer.NewBatchBuilder(base)
	for i := range 3000 {
		at := wstart.Add(time.Duration(i) * time.Hour / 3000)
		a, c := cyc(rng, at)
		bb.Append(&consumer.Record{PredictionID: fmt.Sprint("w", i), Model: "m", ModelVersion: "1", Timestamp: at,
			Features:   map[string]consumer.Value{"a": {Kind: consumer.Number, Num: a}, "c": {Kind: consumer.Number, Num: c}},
			Prediction: consumer.Value{Kind: consumer.Number, Num: 0.5}})
	}
	in <- consumer.Batch{Model: "m", Baseline: base, Rec: bb.NewRecordBatch(), Ack: func(error) {}}
	bb.Release()
	close(in)
	out := make(chan windows.Closed, 2)
	if err := windows.New(windows.Config{Size: time.Hour, FlushAtEnd: true}).Run(context.Background(), in, out); err != nil {
		t.Fatal(err)
	}
	w := (<-out).Window
	for _, c := range []struct {
		season  string
		drifted bool
	}{{SeasonalityAuto, false}, {SeasonalityNone, true}} {
		p := DefaultPolicy()
		p.Seasonality = c.season
		r := find(t, NewEvaluator(p, nil).Evaluate(w), FamilyData, SubjectMultivariate, MetricDomainClassifierAUC)
		t.Logf("seasonality %s: AUC %.3f, p %.3f, %d reference rows", c.season, r.Value, pOf(r), r.NReference)
		if r.Drifted != c.drifted {
			t.Errorf("seasonality %s: domain_classifier_auc %.3f (p %.3f) drifted %v, want %v", c.season, r.Value, pOf(r), r.Drifted, c.drifted)
		}
	}
}

// pOf is r's p-value, NaN for none.
func pOf(r Row) float64 {
	if r.PValue == nil {
		return math.NaN()
	}
	return *r.PValue
}
