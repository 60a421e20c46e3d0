package perf

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestCalibratePoolsViolators: weighted pool-adjacent-violators on a hand
// example, empty bins interpolated between their neighbours and held past
// the ends, and the references it cannot calibrate.
func TestCalibratePoolsViolators(t *testing.T) {
	// Bins 0..7; shares 0.1, 0.6, 0.2, -, 0.5, 0.9, 0.8, -; weights 10,
	// 10, 30, 0, 10, 20, 20, 0. Bins 1 and 2 violate: pooled (6+6)/40 =
	// 0.3; then 0.5 is fine; 5 and 6 violate: (18+16)/40 = 0.85.
	pos := []float64{1, 6, 6, 0, 5, 18, 16, 0}
	neg := []float64{9, 4, 24, 0, 5, 2, 4, 0}
	c, ok := Calibrate(pos, neg)
	if !ok {
		t.Fatal("not calibrated")
	}
	want := []float64{0.1, 0.3, 0.3, 0.4, 0.5, 0.85, 0.85, 0.85}
	for b := range want {
		if math.Abs(c.P[b]-want[b]) > 1e-12 {
			t.Errorf("P = %v, want %v", c.P, want)
			break
		}
	}
	if len(c.Blocks) != 4 || c.Blocks[1].N != 40 || c.Blocks[1].X != 12 || c.Blocks[3].N != 40 {
		t.Errorf("blocks %+v, want 4 with the pooled ones of 40 scores", c.Blocks)
	}
	// Leading empty bins take the first value.
	if c, _ := Calibrate([]float64{0, 0, 3, 9}, []float64{0, 0, 7, 1}); c.P[0] != 0.3 || c.P[1] != 0.3 {
		t.Errorf("leading empty bins: %v", c.P)
	}
	for _, bad := range [][2][]float64{
		{{0, 0}, {3, 4}},  // no positive
		{{1, 2}, {0, 0}},  // no negative
		{{}, {}},          // no bins
		{{1, 2}, {3}},     // shapes differ
		{{1, -1}, {3, 4}}, // a negative count
		{{1, math.NaN()}, {3, 4}},
	} {
		if _, ok := Calibrate(bad[0], bad[1]); ok {
			t.Errorf("Calibrate(%v, %v) calibrated", bad[0], bad[1])
		}
	}
}

// TestCBPEEstimateByHand: the expected confusion matrix and metrics of a
// window of three bins.
func TestCBPEEstimateByHand(t *testing.T) {
	c := &Calibration{P: []float64{0.2, 0.5, 0.9}, Blocks: []CalibrationBlock{{10, 2, 0.2}, {10, 5, 0.5}, {10, 9, 0.9}},
		deps: []binDep{{0, 0, 0}, {1, 1, 0}, {2, 2, 0}}}
	e := c.Estimate([]float64{100, 40, 60}, 1) // bins 1 and 2 selected
	// TP = 40*0.5 + 60*0.9 = 74, FP = 26, FN = 20, TN = 80.
	if e.TP != 74 || e.FP != 26 || e.FN != 20 || e.TN != 80 || e.N != 200 {
		t.Fatalf("confusion %+v", e)
	}
	for _, m := range []struct {
		name string
		got  Estimated
		want float64
	}{
		{"accuracy", e.Accuracy, 154.0 / 200}, {"precision", e.Precision, 74.0 / 100}, {"recall", e.Recall, 74.0 / 94},
		{"f1", e.F1, 148.0 / 194},
		// Bins from the top: (pos, neg) = (54, 6), (20, 20), (20, 80); P 94, N 106.
		{"roc_auc", e.ROCAUC, (6*(27.0) + 20*(54+10.0) + 80*(74+10.0)) / (94 * 106)},
	} {
		if !m.got.OK || math.Abs(m.got.Value-m.want) > 1e-12 {
			t.Errorf("%s = %+v, want %.12g", m.name, m.got, m.want)
		}
	}
	// Accuracy's sampling error is the Wald error at the estimate.
	if a := e.Accuracy.Value; math.Abs(e.SamplingSE[0]-math.Sqrt(a*(1-a)/200)) > 1e-12 {
		t.Errorf("accuracy's sampling error %g, want %g", e.SamplingSE[0], math.Sqrt(a*(1-a)/200))
	}
	if p := e.Precision.Value; math.Abs(e.SamplingSE[1]-math.Sqrt(p*(1-p)/100)) > 1e-12 {
		t.Errorf("precision's sampling error %g, want %g", e.SamplingSE[1], math.Sqrt(p*(1-p)/100))
	}
	// Nothing selected: precision undefined, the others defined.
	if e := c.Estimate([]float64{100, 40, 60}, 3); e.Precision.OK || !e.Accuracy.OK || !e.Recall.OK {
		t.Errorf("nothing selected: %+v", e)
	}
	if e := c.Estimate([]float64{0, 0, 0}, 1); e.Accuracy.OK {
		t.Errorf("an empty window estimated %+v", e)
	}
}

// cbpeWorld is a classifier whose score s in [0, 1] has true probability
// truth(s) of a positive label, scores drawn from a logistic-normal with
// location mu.
type cbpeWorld struct {
	rng   *rand.Rand
	bins  int
	truth func(s float64) float64
}

func (w cbpeWorld) draw(n int, mu float64) (scores []float64, labels []bool) {
	for range n {
		s := 1 / (1 + math.Exp(-(mu + 1.5*w.rng.NormFloat64())))
		scores = append(scores, s)
		labels = append(labels, w.rng.Float64() < w.truth(s))
	}
	return scores, labels
}

func (w cbpeWorld) bin(s float64) int { return min(int(s*float64(w.bins)), w.bins-1) }

// byLabel counts scores in w's bins by label: positives, negatives.
func (w cbpeWorld) byLabel(scores []float64, labels []bool) (pos, neg []float64) {
	pos, neg = make([]float64, w.bins), make([]float64, w.bins)
	for i, s := range scores {
		if labels[i] {
			pos[w.bin(s)]++
		} else {
			neg[w.bin(s)]++
		}
	}
	return pos, neg
}

// TestCBPEBandCoversRealized simulates a miscalibrated classifier, a
// labelled reference and windows with covariate shift (the scores'
// distribution moves, P(label | score) stays). Over 300 windows per shift
// the estimate is unbiased for the realized metric (its mean error within
// 4 of the calibration's SE, an offset every window shares, and of the
// mean's own) and the band (estimate +- 1.96 SE) holds the realized value
// in at least 93% of the windows, without the SE's sampling part being
// more than 1.5 times the realized values' spread: it is the realized
// metric's sampling error at the estimate, which also counts the spread
// of the window's scores, so the band covers more than 95% (97% to 99%).
func TestCBPEBandCoversRealized(t *testing.T) {
	w := cbpeWorld{rng: rand.New(rand.NewPCG(11, 12)), bins: 100,
		truth: func(s float64) float64 { return math.Pow(s, 1.7) }} // scores overconfident for the positive class
	refS, refY := w.draw(5000, 0)
	pos, neg := w.byLabel(refS, refY)
	calib, ok := Calibrate(pos, neg)
	if !ok {
		t.Fatal("not calibrated")
	}
	const windows, size = 300, 1000
	for _, mu := range []float64{0, 1, -1.2} {
		var errs [5][]float64
		var covered [5]int
		var se, samp, cal [5]float64 // averaged over windows
		for range windows {
			s, y := w.draw(size, mu)
			counts := make([]float64, w.bins)
			var c Confusion
			h := NewScoreHistogram(w.bins)
			for i := range s {
				counts[w.bin(s[i])]++
				c.Add(s[i] >= 0.5, y[i], 1)
				h.Add(s[i], y[i], 1)
			}
			e := calib.Estimate(counts, 50)
			acc, _ := c.Accuracy()
			prec, _ := c.Precision()
			rec, _ := c.Recall()
			f1, _ := c.F1()
			auc, _ := h.ROCAUC()
			for k, m := range []struct {
				est      Estimated
				realized float64
			}{{e.Accuracy, acc}, {e.Precision, prec}, {e.Recall, rec}, {e.F1, f1}, {e.ROCAUC, auc}} {
				errs[k] = append(errs[k], m.realized-m.est.Value)
				se[k] += m.est.SE / windows
				samp[k] += e.SamplingSE[k] / windows
				cal[k] += e.CalibrationSE[k] / windows
				if math.Abs(m.realized-m.est.Value) <= 1.96*m.est.SE {
					covered[k]++
				}
			}
		}
		for k, name := range []string{"accuracy", "precision", "recall", "f1", "roc_auc"} {
			mean, sd := meanSD(errs[k])
			share := float64(covered[k]) / windows
			t.Logf("shift %+.1f %-9s realized - estimate: mean %+.4f (sd %.4f, SE %.4f of which calibration %.4f), band covers %.3f",
				mu, name, mean, sd, se[k], cal[k], share)
			// One reference calibrates every window: its error is an
			// offset they share, of the size of the calibration's SE.
			if bias := 4 * math.Hypot(cal[k], sd/math.Sqrt(windows)); math.Abs(mean) > bias {
				t.Errorf("shift %+.1f: %s estimate biased: realized - estimate %+.4f on average, more than %.4f", mu, name, mean, bias)
			}
			// The sampling part is the realized metric's spread over
			// windows of random scores, a little more than over windows
			// given their scores.
			if share < 0.93 || samp[k] > 1.5*sd {
				t.Errorf("shift %+.1f: %s band covers the realized value in %.3f of windows (want at least 0.93), sampling SE %.4f for a spread of %.4f (want at most 1.5 times)",
					mu, name, share, samp[k], sd)
			}
		}
	}
}

func meanSD(xs []float64) (mean, sd float64) {
	for _, x := range xs {
		mean += x
	}
	mean /= float64(len(xs))
	for _, x := range xs {
		sd += (x - mean) * (x - mean)
	}
	return mean, math.Sqrt(sd / float64(len(xs)-1))
}

// TestHanleyMcNeilVariance: for exponential scores Hanley and McNeil's
// Q1, Q2 are exact, so the formula is the variance of the empirical AUC:
// checked against 4000 simulated samples (within 8%, the simulation's
// own error being about 2%).
func TestHanleyMcNeilVariance(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 5))
	const pos, neg, reps = 40, 70, 4000
	rate := 0.35 // positives ~ Exp(rate), negatives ~ Exp(1): AUC = 1/(1+rate)
	a := 1 / (1 + rate)
	var aucs []float64
	for range reps {
		var p, n []float64
		for range pos {
			p = append(p, rng.ExpFloat64()/rate)
		}
		for range neg {
			n = append(n, rng.ExpFloat64())
		}
		var wins float64
		for _, x := range p {
			for _, y := range n {
				if x > y {
					wins++
				}
			}
		}
		aucs = append(aucs, wins/(pos*neg))
	}
	_, sd := meanSD(aucs)
	want := HanleyMcNeilVariance(a, pos, neg)
	if r := sd * sd / want; r < 0.92 || r > 1.08 {
		t.Errorf("simulated variance %.3g, Hanley-McNeil %.3g (ratio %.3f)", sd*sd, want, r)
	}
	if !math.IsNaN(HanleyMcNeilVariance(0.8, 0.5, 10)) {
		t.Error("variance with under one positive is defined")
	}
}

// TestF1Variance: the delta-method variance of F1 against F1 over 4000
// multinomial samples of a confusion matrix (within 8%).
func TestF1Variance(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 1))
	probs := []float64{0.2, 0.1, 0.15, 0.55} // TP, FP, FN, TN
	const n, reps = 500, 4000
	var f1s []float64
	for range reps {
		var c Confusion
		for range n {
			u := rng.Float64()
			switch {
			case u < probs[0]:
				c.TP++
			case u < probs[0]+probs[1]:
				c.FP++
			case u < probs[0]+probs[1]+probs[2]:
				c.FN++
			default:
				c.TN++
			}
		}
		f, _ := c.F1()
		f1s = append(f1s, f)
	}
	_, sd := meanSD(f1s)
	want := F1Variance(Confusion{TP: probs[0] * n, FP: probs[1] * n, FN: probs[2] * n, TN: probs[3] * n})
	if r := sd * sd / want; r < 0.92 || r > 1.08 {
		t.Errorf("simulated variance %.3g, delta method %.3g (ratio %.3f)", sd*sd, want, r)
	}
}

// TestEstimateErrorsByHand: the mixture of the reference's per-bin errors
// by the window's predictions, empty reference bins taking the nearest.
func TestEstimateErrorsByHand(t *testing.T) {
	// Bins 0..4; the reference has errors in bins 1 and 4 only:
	// bin 1: |e| 1, 3 (N 2, sum 4, sq 10, quad 82); bin 4: |e| 2 (N 1).
	ref := ErrorBins{N: []float64{0, 2, 0, 0, 1}, SumAbs: []float64{0, 4, 0, 0, 2}, SumSq: []float64{0, 10, 0, 0, 4}, SumQuad: []float64{0, 82, 0, 0, 16}}
	// Window: 1 in bin 0 (-> 1), 2 in bin 2 (-> 1, nearer), 1 in bin 3 (-> 4).
	e, ok := EstimateErrors(ref, []float64{1, 0, 2, 1, 0})
	if !ok {
		t.Fatal("no estimate")
	}
	// Bin 1's m = 2, q = 5 for 3 of 4 records; bin 4's m = 2, q = 4 for 1.
	if wantMAE, wantRMSE := 2.0, math.Sqrt(0.75*5+0.25*4); math.Abs(e.MAE.Value-wantMAE) > 1e-12 || math.Abs(e.RMSE.Value-wantRMSE) > 1e-12 {
		t.Errorf("MAE %g, RMSE %g; want %g, %g", e.MAE.Value, e.RMSE.Value, wantMAE, wantRMSE)
	}
	// MAE's SE^2: sampling (E e^2 - MAE^2)/n = (4.75 - 4)/4, plus bin 1's
	// (0.75^2 (5 - 4)/2) and bin 4's (0.25^2 (4 - 4)/1).
	if want := math.Sqrt(0.75/4 + 0.5625*0.5); math.Abs(e.MAE.SE-want) > 1e-12 {
		t.Errorf("MAE's SE %g, want %g", e.MAE.SE, want)
	}
	if _, ok := EstimateErrors(ErrorBins{N: []float64{0, 0}, SumAbs: []float64{0, 0}, SumSq: []float64{0, 0}, SumQuad: []float64{0, 0}}, []float64{1, 1}); ok {
		t.Error("estimated from a reference without errors")
	}
	if _, ok := EstimateErrors(ref, []float64{1, 1}); ok {
		t.Error("estimated with bins of another shape")
	}
}

// TestEstimateErrorsFollowsCovariateShift simulates a regression whose
// error grows with the prediction, and a reference binned on 100 of its
// predictions' quantiles (as a baseline bins them): a window whose
// predictions shift up has a larger MAE, which the estimate follows
// (unbiased: the mean error over 300 windows within 4 of the reference's
// per-bin error, an offset every window shares, and of the mean's own)
// with a band (+- 1.96 SE) that covers the realized MAE and RMSE in at
// least 93% of windows, its sampling part at most 1.5 times their spread.
// A window whose errors grow at the same predictions (concept drift) is
// not seen, as documented.
func TestEstimateErrorsFollowsCovariateShift(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	noise := func(x, scale float64) float64 { return rng.NormFloat64() * scale * (0.5 + math.Abs(x)) }
	xs := make([]float64, 8000)
	es := make([]float64, len(xs))
	for i := range xs {
		xs[i] = rng.NormFloat64()
		es[i] = noise(xs[i], 1)
	}
	sorted := slices.Sorted(slices.Values(xs))
	var edges []float64 // the reference's percentiles, as a baseline's bins
	for q := 1; q < 100; q++ {
		edges = append(edges, sorted[q*len(sorted)/100])
	}
	bin := func(x float64) int {
		i, found := slices.BinarySearch(edges, x)
		if found {
			i++
		}
		return i
	}
	k := len(edges) + 1
	ref := ErrorBins{N: make([]float64, k), SumAbs: make([]float64, k), SumSq: make([]float64, k), SumQuad: make([]float64, k)}
	for i, x := range xs {
		e, b := es[i], bin(x)
		ref.N[b]++
		ref.SumAbs[b] += math.Abs(e)
		ref.SumSq[b] += e * e
		ref.SumQuad[b] += e * e * e * e
	}
	const windows, size = 300, 800
	for _, tc := range []struct {
		mu, scale float64
		seen      bool
	}{{0, 1, true}, {0.6, 1, true}, {-0.6, 1, true}, {0, 1.5, false}} {
		var d [2][]float64
		var covered [2]int
		var samp, cond [2]float64 // averaged over windows
		for range windows {
			counts := make([]float64, k)
			var abs, sq float64
			for range size {
				x := tc.mu + rng.NormFloat64()
				e := noise(x, tc.scale)
				counts[bin(x)]++
				abs += math.Abs(e)
				sq += e * e
			}
			est, ok := EstimateErrors(ref, counts)
			if !ok {
				t.Fatal("no estimate")
			}
			for j, m := range []struct {
				est      Estimated
				realized float64
			}{{est.MAE, abs / size}, {est.RMSE, math.Sqrt(sq / size)}} {
				d[j] = append(d[j], m.realized-m.est.Value)
				if math.Abs(m.realized-m.est.Value) <= 1.96*m.est.SE {
					covered[j]++
				}
				samp[j] += est.SamplingSE[j] / windows
				cond[j] += est.ConditionalSE[j] / windows
			}
		}
		for j, name := range []string{"mae", "rmse"} {
			mean, sd := meanSD(d[j])
			share := float64(covered[j]) / windows
			t.Logf("shift %+.1f, error scale %.1f: %s realized - estimate %+.4f (sd %.4f; SE sampling %.4f, reference %.4f), band covers %.3f",
				tc.mu, tc.scale, name, mean, sd, samp[j], cond[j], share)
			unbiased := math.Abs(mean) <= 4*math.Hypot(cond[j], sd/math.Sqrt(windows))
			if tc.seen && (!unbiased || share < 0.93 || samp[j] > 1.5*sd) {
				t.Errorf("shift %+.1f: %s estimate off: realized - estimate %+.4f (sd %.4f, SE parts %.4f, %.4f), band covers %.3f",
					tc.mu, name, mean, sd, samp[j], cond[j], share)
			}
			if !tc.seen && unbiased {
				t.Errorf("errors x%.1f at the same predictions: the %s estimate followed them (documented as unseen)", tc.scale, name)
			}
		}
	}
}

// TestCBPECalibrationSE: the calibration part of the SE is the spread of a
// window's estimate over references drawn anew (300 references of 2,000
// scores, one window): within 15% (the spread itself is known to about
// 4%; the delta method treats the blocks the pooling chose as fixed), and
// SE adds it to the sampling part in quadrature.
func TestCBPECalibrationSE(t *testing.T) {
	w := cbpeWorld{rng: rand.New(rand.NewPCG(31, 32)), bins: 100, truth: func(s float64) float64 { return 0.1 + 0.8*s*s }}
	s, _ := w.draw(3000, 0.8)
	counts := make([]float64, w.bins)
	for _, x := range s {
		counts[w.bin(x)]++
	}
	const refs = 300
	var est [5][]float64
	var cal [5]float64
	for range refs {
		rs, ry := w.draw(2000, 0)
		pos, neg := w.byLabel(rs, ry)
		c, ok := Calibrate(pos, neg)
		if !ok {
			t.Fatal("not calibrated")
		}
		e := c.Estimate(counts, 50)
		for k, m := range []Estimated{e.Accuracy, e.Precision, e.Recall, e.F1, e.ROCAUC} {
			est[k] = append(est[k], m.Value)
			cal[k] += e.CalibrationSE[k] / refs
			if want := math.Hypot(e.SamplingSE[k], e.CalibrationSE[k]); math.Abs(m.SE-want) > 1e-12 {
				t.Fatalf("metric %d: SE %g, want the parts in quadrature %g", k, m.SE, want)
			}
		}
	}
	for k, name := range []string{"accuracy", "precision", "recall", "f1", "roc_auc"} {
		_, sd := meanSD(est[k])
		t.Logf("%-9s estimate's spread over references %.4f, calibration SE %.4f", name, sd, cal[k])
		if r := cal[k] / sd; r < 0.85 || r > 1.15 {
			t.Errorf("%s: calibration SE %.4f, the estimate's spread over references %.4f (ratio %.2f)", name, cal[k], sd, r)
		}
	}
}

// TestCBPEDifferenceSE: DifferenceSE is the spread of the window's
// estimate less the reference's (300 pairs of a reference of 4,000 scores,
// which also calibrates, and a window of 1,500 with shifted scores, drawn
// anew): within 15% for each metric, for a window like the reference and
// a shifted one.
func TestCBPEDifferenceSE(t *testing.T) {
	w := cbpeWorld{rng: rand.New(rand.NewPCG(41, 42)), bins: 100, truth: func(s float64) float64 { return 0.05 + 0.9*math.Pow(s, 1.4) }}
	const pairs = 300
	for _, mu := range []float64{0, 1.2} {
		var d [5][]float64
		var se [5]float64
		for range pairs {
			rs, ry := w.draw(4000, 0)
			pos, neg, ref := make([]float64, w.bins), make([]float64, w.bins), make([]float64, w.bins)
			for i, x := range rs {
				ref[w.bin(x)]++
				if ry[i] {
					pos[w.bin(x)]++
				} else {
					neg[w.bin(x)]++
				}
			}
			c, ok := Calibrate(pos, neg)
			if !ok {
				t.Fatal("not calibrated")
			}
			s, _ := w.draw(1500, mu)
			counts := make([]float64, w.bins)
			for _, x := range s {
				counts[w.bin(x)]++
			}
			e, r := c.Compare(counts, ref, 50), c.Estimate(ref, 50)
			we := []Estimated{e.Accuracy, e.Precision, e.Recall, e.F1, e.ROCAUC}
			re := []Estimated{r.Accuracy, r.Precision, r.Recall, r.F1, r.ROCAUC}
			for k := range we {
				d[k] = append(d[k], we[k].Value-re[k].Value)
				se[k] += e.DifferenceSE[k] / pairs
			}
		}
		for k, name := range []string{"accuracy", "precision", "recall", "f1", "roc_auc"} {
			_, sd := meanSD(d[k])
			t.Logf("shift %+.1f %-9s window - reference: spread %.4f, DifferenceSE %.4f", mu, name, sd, se[k])
			if r := se[k] / sd; r < 0.85 || r > 1.15 {
				t.Errorf("shift %+.1f: %s DifferenceSE %.4f, spread of the difference %.4f (ratio %.2f)", mu, name, se[k], sd, r)
			}
		}
	}
}

// TestCompareErrorsSE: CompareErrors' standard error is the spread of the
// window's estimated MAE less 1.1 times the reference's MAE, which the
// reference's own estimate is (300 pairs of
// a reference of 3,000 and a window of 1,000 predictions, drawn anew; 20
// bins), within 15%, for a window like the reference and a shifted one.
func TestCompareErrorsSE(t *testing.T) {
	rng := rand.New(rand.NewPCG(51, 52))
	edges := make([]float64, 19)
	for i := range edges {
		edges[i] = -2 + 4*float64(i+1)/20
	}
	bin := func(x float64) int {
		i, found := slices.BinarySearch(edges, x)
		if found {
			i++
		}
		return i
	}
	errOf := func(x float64) float64 { return rng.NormFloat64() * (0.5 + math.Abs(x)) }
	const pairs, factor = 300, 1.1
	for _, mu := range []float64{0, 0.8} {
		var d []float64
		var se float64
		for range pairs {
			ref := ErrorBins{N: make([]float64, 20), SumAbs: make([]float64, 20), SumSq: make([]float64, 20), SumQuad: make([]float64, 20)}
			var refAbs float64
			for range 3000 {
				x := rng.NormFloat64()
				e := errOf(x)
				b := bin(x)
				ref.N[b]++
				ref.SumAbs[b] += math.Abs(e)
				ref.SumSq[b] += e * e
				ref.SumQuad[b] += e * e * e * e
				refAbs += math.Abs(e)
			}
			counts := make([]float64, 20)
			for range 1000 {
				counts[bin(mu+rng.NormFloat64())]++
			}
			e, r, s, ok := CompareErrors(ref, counts, ref.N, factor)
			if !ok {
				t.Fatal("no estimate")
			}
			if math.Abs(r.MAE.Value-refAbs/3000) > 1e-12 {
				t.Fatalf("the reference's estimate %v, its MAE %v", r.MAE.Value, refAbs/3000)
			}
			d = append(d, e.MAE.Value-factor*r.MAE.Value)
			se += s / pairs
		}
		_, sd := meanSD(d)
		t.Logf("shift %+.1f: estimated MAE - 1.1 reference MAE: spread %.4f, SE %.4f", mu, sd, se)
		if r := se / sd; r < 0.85 || r > 1.15 {
			t.Errorf("shift %+.1f: SE %.4f, spread %.4f (ratio %.2f)", mu, se, sd, r)
		}
	}
}

// FuzzCBPE: whatever the reference's and the window's counts (bytes
// squared, so many empty bins and a few large ones), Calibrate, Estimate
// and Compare give metrics in [0, 1] with finite, non-negative standard
// errors, and the fitted probabilities never decrease; EstimateErrors and
// CompareErrors give finite, non-negative errors.
func FuzzCBPE(f *testing.F) {
	f.Add([]byte{1, 0, 9, 3, 0, 0, 7, 1}, []byte{3, 3, 0, 8}, uint8(2))
	f.Add([]byte{0, 0, 0, 5, 5, 0}, []byte{0, 0, 1}, uint8(0))
	f.Add([]byte{255, 1, 1, 255}, []byte{255, 0, 0, 255}, uint8(1))
	f.Fuzz(func(t *testing.T, ref, win []byte, first uint8) {
		const bins = 8
		if len(ref) < 2*bins || len(win) < bins {
			return
		}
		pos, neg, counts := make([]float64, bins), make([]float64, bins), make([]float64, bins)
		for b := range bins {
			pos[b], neg[b], counts[b] = float64(ref[b])*float64(ref[b]), float64(ref[bins+b])*float64(ref[bins+b]), float64(win[b])*float64(win[b])
		}
		c, ok := Calibrate(pos, neg)
		if !ok {
			return
		}
		for b := 1; b < bins; b++ {
			if c.P[b] < c.P[b-1]-1e-12 || c.P[b] < 0 || c.P[b] > 1 {
				t.Fatalf("calibration %v not non-decreasing in [0, 1]", c.P)
			}
		}
		reference := make([]float64, bins)
		for b := range bins {
			reference[b] = pos[b] + neg[b]
		}
		e := c.Compare(counts, reference, int(first%(bins+1)))
		for k, m := range []Estimated{e.Accuracy, e.Precision, e.Recall, e.F1, e.ROCAUC} {
			if m.OK && (!(m.Value >= 0 && m.Value <= 1+1e-12) || !(m.SE >= 0) || math.IsInf(m.SE, 0) || !(e.DifferenceSE[k] >= 0) || math.IsInf(e.DifferenceSE[k], 0)) {
				t.Fatalf("metric %d: %+v, difference SE %v", k, m, e.DifferenceSE[k])
			}
		}
		eb := ErrorBins{N: pos, SumAbs: neg, SumSq: make([]float64, bins), SumQuad: make([]float64, bins)}
		for b := range bins {
			if pos[b] > 0 { // |e| of neg/pos on average: sums consistent with some errors
				m := neg[b] / pos[b]
				eb.SumSq[b], eb.SumQuad[b] = pos[b]*m*m*2, pos[b]*m*m*m*m*6
			} else {
				eb.SumAbs[b] = 0
			}
		}
		if w, r, se, ok := CompareErrors(eb, counts, reference, 1.1); ok {
			for _, v := range []float64{w.MAE.Value, w.MAE.SE, w.RMSE.Value, w.RMSE.SE, r.MAE.Value, se} {
				if !(v >= 0) || math.IsInf(v, 0) {
					t.Fatalf("errors %+v, reference %+v, SE %v", w, r, se)
				}
			}
		}
	})
}

// BenchmarkCBPE: a window's estimate against its reference, calibration
// included, on 100 bins (what drift does per window).
func BenchmarkCBPE(b *testing.B) {
	w := cbpeWorld{rng: rand.New(rand.NewPCG(71, 72)), bins: 100, truth: func(s float64) float64 { return s * s }}
	rs, ry := w.draw(20000, 0)
	pos, neg, ref := make([]float64, 100), make([]float64, 100), make([]float64, 100)
	for i, x := range rs {
		ref[w.bin(x)]++
		if ry[i] {
			pos[w.bin(x)]++
		} else {
			neg[w.bin(x)]++
		}
	}
	s, _ := w.draw(5000, 0.5)
	counts := make([]float64, 100)
	for _, x := range s {
		counts[w.bin(x)]++
	}
	b.ReportAllocs()
	for b.Loop() {
		c, _ := Calibrate(pos, neg)
		c.Compare(counts, ref, 50)
	}
}

// TestAUCGradients: the analytic derivatives of the expected ROC AUC in
// each bin's expected positives and negatives agree with central
// differences (to 1e-6 relative).
func TestAUCGradients(t *testing.T) {
	rng := rand.New(rand.NewPCG(81, 82))
	counts, p := make([]float64, 30), make([]float64, 30)
	for b := range counts {
		counts[b] = float64(rng.IntN(50))
		p[b] = (float64(b) + rng.Float64()) / 30
	}
	counts[7] = 0
	dPos, dNeg := aucGradients(counts, p)
	auc := func(pos, neg []float64) float64 {
		h := NewScoreHistogram(len(pos))
		copy(h.Pos, pos)
		copy(h.Neg, neg)
		v, _ := h.ROCAUC()
		return v
	}
	pos, neg := make([]float64, 30), make([]float64, 30)
	for b := range counts {
		pos[b], neg[b] = counts[b]*p[b], counts[b]*(1-p[b])
	}
	const h = 1e-5
	for b := range counts {
		for _, d := range []struct {
			name string
			x    []float64
			want float64
		}{{"pos", pos, dPos[b]}, {"neg", neg, dNeg[b]}} {
			x := d.x[b]
			d.x[b] = x + h
			hi := auc(pos, neg)
			d.x[b] = x - h
			lo := auc(pos, neg)
			d.x[b] = x
			if g := (hi - lo) / (2 * h); math.Abs(g-d.want) > 1e-6*max(1, math.Abs(g)) {
				t.Errorf("bin %d: d/d%s = %.9g, central difference %.9g", b, d.name, d.want, g)
			}
		}
	}
}
