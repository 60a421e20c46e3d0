package drift

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"gonum.org/v1/gonum/stat/distuv"

	"github.com/driftwatch/driftwatch/baselines"
	"github.com/driftwatch/driftwatch/stats"
	"github.com/driftwatch/driftwatch/stats/perf"
	"github.com/driftwatch/driftwatch/windows"
)

// scoreWorld is a binary classifier whose scores fall in baselines'
// OutcomeBins bins, bin b's records positive with probability truth[b]
// (its scores are overconfident: truth = centre^1.6).
type scoreWorld struct {
	truth []float64
	rng   *rand.Rand
}

func newScoreWorld(seed uint64) scoreWorld {
	w := scoreWorld{truth: make([]float64, baselines.OutcomeBins), rng: rand.New(rand.NewPCG(seed, 1))}
	for b := range w.truth {
		w.truth[b] = math.Pow((float64(b)+0.5)/baselines.OutcomeBins, 1.6)
	}
	return w
}

// mix is a distribution over the bins: the reference's logistic-normal
// scores (location 0, scale 1.5) mixed with share lambda of a "hard" one
// (scores within 0.15 of 0.5, where decisions are least right).
func mix(lambda float64) []float64 {
	q := make([]float64, baselines.OutcomeBins)
	var sum float64
	for b := range q {
		s := (float64(b) + 0.5) / baselines.OutcomeBins
		z := math.Log(s/(1-s)) / 1.5
		q[b] = math.Exp(-z*z/2) / (s * (1 - s)) // the logistic-normal density at s
		sum += q[b]
	}
	for b := range q {
		q[b] = (1 - lambda) * q[b] / sum
		if s := (float64(b) + 0.5) / baselines.OutcomeBins; math.Abs(s-0.5) < 0.15 {
			q[b] += lambda / 30
		}
	}
	return q
}

// accuracyAt is the expected accuracy, decided at 0.5, of scores q.
func (w scoreWorld) accuracyAt(q []float64) float64 {
	var a float64
	for b, p := range q {
		if b >= 50 {
			a += p * w.truth[b]
		} else {
			a += p * (1 - w.truth[b])
		}
	}
	return a
}

// draw counts n scores of q per bin and their labels' confusion at 0.5:
// a multinomial sample, bin by bin by conditional binomials, and each
// bin's positives a binomial of its truth.
func (w scoreWorld) draw(n int, q []float64) (counts []int64, c perf.Confusion, pos, neg []int64) {
	counts, pos, neg = make([]int64, len(q)), make([]int64, len(q)), make([]int64, len(q))
	var mass float64
	for _, p := range q {
		mass += p
	}
	left := float64(n)
	for b, p := range q {
		if left > 0 && mass > 0 {
			k := distuv.Binomial{N: left, P: min(p/mass, 1), Src: w.rng}.Rand()
			counts[b] = int64(k)
			left -= k
		}
		mass -= p
		if counts[b] > 0 {
			pos[b] = int64(distuv.Binomial{N: float64(counts[b]), P: w.truth[b], Src: w.rng}.Rand())
		}
		neg[b] = counts[b] - pos[b]
		c.Add(b >= 50, true, float64(pos[b]))
		c.Add(b >= 50, false, float64(neg[b]))
	}
	return counts, c, pos, neg
}

// scoreBaseline is a baseline of the world's reference: n scores of mix(0)
// with their labels, the prediction numeric in [0, 1].
func (w scoreWorld) baseline(n int) *baselines.Baseline {
	counts, _, pos, neg := w.draw(n, mix(0))
	edges := make([]float64, 19)
	for i := range edges {
		edges[i] = float64(i+1) / 20
	}
	pred := baselines.Feature{Name: "prediction", Kind: baselines.Numeric, Count: int64(n), Edges: edges,
		Counts: make([]int64, 20), Sums: make([]float64, 20), Min: 0.001, Max: 0.999}
	for b, c := range counts {
		pred.Counts[b/5] += c
		pred.Sums[b/5] += float64(c) * (float64(b) + 0.5) / 100
	}
	return &baselines.Baseline{
		Format: 1, ID: "scores", Model: "m", Rows: int64(n),
		Features:   []baselines.Feature{{Name: "x", Kind: baselines.Categorical, Count: int64(n), Categories: map[string]int64{"a": int64(n)}}},
		Prediction: pred,
		Outcomes:   &baselines.Outcomes{Bins: baselines.OutcomeBins, ByLabel: map[string][]int64{"1": pos, "0": neg}},
	}
}

// scoreWindow is a window of b holding scores counts (and, when labelled,
// their outcomes and labelled scores).
func scoreWindow(b *baselines.Baseline, counts []int64, c perf.Confusion, pos, neg []int64, labelled bool) *windows.Window {
	w := windows.NewWindow(windows.Key{Model: "m", Version: "1"}, t0, t0.Add(time.Hour), b, 100)
	copy(w.Scores, counts)
	for i, n := range counts {
		w.Prediction.Counts[i/5] += n
		w.Prediction.Count += n
		w.Records += n
		w.Decided += n
	}
	if labelled {
		w.Outcomes = c
		w.LabelledScores = [2][]int64{neg, pos}
		w.Labels.Count = int64(c.N())
	}
	return w
}

func byMetric(rows []Row) map[string]Row {
	m := make(map[string]Row)
	for _, r := range rows {
		if r.Family == FamilyConcept && r.Subject == SubjectEstimated {
			m[r.Metric] = r
		}
	}
	return m
}

// TestEstimatedPerformance: a window like the reference gets estimates
// equal to perf's, near the reference's realized values, not drifted, each
// inside its band, judged against the reference's estimate (within 0.005
// of its realized value) less the drop; a window shifted towards scores
// near the threshold (accuracy truly 0.1 lower) is drifted on accuracy,
// significantly; its labelled records give the realized rows, ROC AUC's
// only when every labelled score is in the bins.
func TestEstimatedPerformance(t *testing.T) {
	world := newScoreWorld(3)
	b := world.baseline(20000)
	e := NewEvaluator(DefaultPolicy(), nil)
	counts, c, pos, neg := world.draw(3000, mix(0))
	same := byMetric(e.Evaluate(scoreWindow(b, counts, c, pos, neg, false)))
	ref, _ := referenceOutcomes(b, &windows.Decision{Threshold: 0.5, Positive: []string{"1", "true"}})
	refAcc, _ := ref.Accuracy()
	rp, rn := make([]float64, 100), make([]float64, 100)
	for i := range rp {
		rp[i], rn[i] = float64(b.Outcomes.ByLabel["1"][i]), float64(b.Outcomes.ByLabel["0"][i])
	}
	cal, _ := perf.Calibrate(rp, rn)
	fc := make([]float64, 100)
	for i, n := range counts {
		fc[i] = float64(n)
	}
	want := cal.Estimate(fc, 50)
	for _, m := range []struct {
		metric string
		est    perf.Estimated
	}{{MetricAccuracy, want.Accuracy}, {MetricPrecision, want.Precision}, {MetricRecall, want.Recall}, {MetricF1, want.F1}, {MetricROCAUC, want.ROCAUC}} {
		r, ok := same[m.metric]
		if !ok {
			t.Fatalf("no estimated %s in %v", m.metric, same)
		}
		lo, hi := same[m.metric+SuffixLower], same[m.metric+SuffixUpper]
		if r.Value != m.est.Value || math.Abs(hi.Value-lo.Value-2*bandZ*m.est.SE) > 1e-12 || r.NCurrent != 3000 {
			t.Errorf("%s: %v in [%v, %v] over %d, want perf's %+v over 3000", m.metric, r.Value, lo.Value, hi.Value, r.NCurrent, m.est)
		}
		if r.Drifted || r.ThresholdSource != SourceStatic || r.PValue == nil || r.MDE == nil {
			t.Errorf("%s: a window like the reference judged %+v", m.metric, r)
		}
		if lo.Threshold != 0 || lo.ThresholdSource != "" || lo.Drifted || hi.ThresholdSource != "" {
			t.Errorf("%s: the band is judged: %+v, %+v", m.metric, lo, hi)
		}
		if _, ok := same[m.metric+SuffixRealized]; ok {
			t.Errorf("%s: realized row without labels", m.metric)
		}
	}
	// Judged against the reference's accuracy as the calibration reads it,
	// which is the realized one up to the pools spanning the threshold.
	refCounts := make([]float64, 100)
	for i := range refCounts {
		refCounts[i] = rp[i] + rn[i]
	}
	refEst := cal.Estimate(refCounts, 50).Accuracy.Value
	if a := same[MetricAccuracy]; math.Abs(a.Value-refAcc) > 0.03 || math.Abs(a.Threshold-(refEst-0.05)) > 1e-12 || math.Abs(refEst-refAcc) > 0.005 {
		t.Errorf("accuracy %v (threshold %v) for a window like the reference (realized %v, estimated %v)", a.Value, a.Threshold, refAcc, refEst)
	}
	// The verdict's z-test: the estimate less the reference's, plus the
	// drop, over the SE of that difference.
	cmp := cal.Compare(fc, refCounts, 50)
	if a, z := same[MetricAccuracy], (want.Accuracy.Value-refEst+0.05)/cmp.DifferenceSE[0]; math.Abs(*a.PValue-0.5*math.Erfc(-z/math.Sqrt2)) > 1e-12 {
		t.Errorf("accuracy's p-value %v, want %v", *a.PValue, 0.5*math.Erfc(-z/math.Sqrt2))
	}
	for k, m := range []string{MetricAccuracy, MetricPrecision, MetricRecall, MetricF1, MetricROCAUC} {
		// The drop detected with power 0.8: the margin, and 1.645 + 0.842
		// standard errors of the difference.
		if r, mde := same[m], 0.05+(1.6448536269514722+0.8416212335729143)*cmp.DifferenceSE[k]; math.Abs(*r.MDE-mde) > 1e-9 {
			t.Errorf("%s: mde %v, want %v", m, *r.MDE, mde)
		}
	}

	// A tenth lower accuracy: drifted; labels beside it.
	lambda := 0.1 / (world.accuracyAt(mix(0)) - world.accuracyAt(mix(1)))
	counts, c, pos, neg = world.draw(3000, mix(lambda))
	w := scoreWindow(b, counts, c, pos, neg, true)
	rows := e.Evaluate(w)
	shifted := byMetric(rows)
	if r := shifted[MetricAccuracy]; !r.Drifted || *r.PValue >= 0.05 || r.Value > refAcc-0.07 {
		t.Errorf("accuracy truly 0.1 lower: %+v", r)
	}
	realizedAcc, _ := c.Accuracy()
	if r := shifted[MetricAccuracy+SuffixRealized]; r.Value != realizedAcc || r.NCurrent != 3000 || r.ThresholdSource != "" {
		t.Errorf("realized accuracy %+v, want %v over 3000, not judged", r, realizedAcc)
	}
	if lo, hi := shifted[MetricAccuracy+SuffixLower], shifted[MetricAccuracy+SuffixUpper]; realizedAcc < lo.Value || realizedAcc > hi.Value {
		t.Errorf("realized accuracy %v outside the band [%v, %v]", realizedAcc, lo.Value, hi.Value)
	}
	h := perf.NewScoreHistogram(100)
	for i := range pos {
		h.Pos[i], h.Neg[i] = float64(pos[i]), float64(neg[i])
	}
	if auc, _ := h.ROCAUC(); shifted[MetricROCAUC+SuffixRealized].Value != auc {
		t.Errorf("realized roc_auc %v, want %v", shifted[MetricROCAUC+SuffixRealized].Value, auc)
	}
	// Late labels re-emit the realized rows only.
	for _, r := range e.EvaluateLabels(w) {
		if r.Subject == SubjectEstimated && !strings.HasSuffix(r.Metric, SuffixRealized) {
			t.Errorf("late labels re-emit %s", r.Metric)
		}
	}
	if re := byMetric(e.EvaluateLabels(w)); len(re) != 5 || re[MetricF1+SuffixRealized] != shifted[MetricF1+SuffixRealized] {
		t.Errorf("late labels re-emit %d estimated_performance rows (want the 5 realized), f1 %+v, want %+v", len(re), re[MetricF1+SuffixRealized], shifted[MetricF1+SuffixRealized])
	}
	// A label state older than the labelled scores (late labels added
	// since have theirs): no realized ROC AUC.
	half := make([]int64, len(pos))
	for i, n := range pos {
		half[i] = n / 2
	}
	w.LabelledScores = [2][]int64{neg, half}
	if _, ok := byMetric(e.EvaluateLabels(w))[MetricROCAUC+SuffixRealized]; ok {
		t.Error("realized roc_auc from labelled records without their scores")
	}
}

// TestEstimatedPerformanceOnlyForBinaryScores: no estimate where the
// model is not a binary classifier with scores in [0, 1].
func TestEstimatedPerformanceOnlyForBinaryScores(t *testing.T) {
	world := newScoreWorld(4)
	counts, c, pos, neg := world.draw(500, mix(0))
	for name, spoil := range map[string]func(*baselines.Baseline){
		"three label texts":  func(b *baselines.Baseline) { b.Outcomes.ByLabel["2"] = make([]int64, 100) },
		"no positive label":  func(b *baselines.Baseline) { delete(b.Outcomes.ByLabel, "1") },
		"scores above one":   func(b *baselines.Baseline) { b.Prediction.Max = 3 },
		"no scored outcomes": func(b *baselines.Baseline) { b.Outcomes = nil },
	} {
		b := newScoreWorld(4).baseline(5000)
		spoil(b)
		if rows := byMetric(NewEvaluator(DefaultPolicy(), nil).Evaluate(scoreWindow(b, counts, c, pos, neg, true))); len(rows) > 0 {
			t.Errorf("%s: estimated rows %v", name, rows)
		}
	}
}

// TestEstimatedPerformanceLevel: with a reference and a window drawn anew
// each time (400 times; a reference of 5,000 labelled scores, a window of
// 2,000), windows whose accuracy truly dropped by exactly the allowed drop
// (the null hypothesis's edge) are drifted in about 5% of cases (the test's
// level; at most 5% plus 2.5 standard errors of the rate, at least 1%); a
// drop 0.04 past it is caught in at least 95%; windows like the reference
// raise nothing.
func TestEstimatedPerformanceLevel(t *testing.T) {
	world := newScoreWorld(5)
	e := NewEvaluator(DefaultPolicy(), nil)
	base := world.accuracyAt(mix(0))
	lambdaFor := func(drop float64) float64 { return drop / (base - world.accuracyAt(mix(1))) }
	const windowsN = 400
	for _, tc := range []struct {
		drop     float64
		min, max float64
	}{{0, 0, 0}, {0.05, 0.01, 0.05 + 2.5*math.Sqrt(0.05*0.95/windowsN)}, {0.09, 0.95, 1}} {
		q := mix(lambdaFor(tc.drop))
		var drifted int
		for range windowsN {
			b := world.baseline(5000)
			counts, c, pos, neg := world.draw(2000, q)
			if byMetric(e.Evaluate(scoreWindow(b, counts, c, pos, neg, false)))[MetricAccuracy].Drifted {
				drifted++
			}
		}
		rate := float64(drifted) / windowsN
		t.Logf("accuracy truly %.2f lower: drifted in %.3f of windows", tc.drop, rate)
		if rate < tc.min || rate > tc.max {
			t.Errorf("accuracy truly %.2f lower: drifted in %.3f of windows, want %.3f to %.3f", tc.drop, rate, tc.min, tc.max)
		}
	}
}

// TestEstimatedErrors: a reference whose errors grow with the prediction;
// a window of large predictions gets a larger estimated MAE, drifted past
// the allowed rise, its realized beside it; one like the reference is not
// drifted. Rows need the reference's per-bin errors.
func TestEstimatedErrors(t *testing.T) {
	edges := []float64{1, 2, 3, 4}
	b := &baselines.Baseline{Format: 1, ID: "reg", Model: "m",
		Features:   []baselines.Feature{{Name: "x", Kind: baselines.Categorical, Count: 1000, Categories: map[string]int64{"a": 1000}}},
		Prediction: baselines.Feature{Name: "prediction", Kind: baselines.Numeric, Count: 1000, Edges: edges, Counts: []int64{200, 200, 200, 200, 200}, Sums: make([]float64, 5), Min: 0, Max: 5},
	}
	// Bin i's |e| is i+1 in half its records and i+2 in the other half.
	pe := &baselines.BinErrorSums{N: make([]int64, 5), SumAbs: make([]float64, 5), SumSq: make([]float64, 5), SumQuad: make([]float64, 5)}
	var sumAbs, sumSq float64
	for i := range 5 {
		a, c := float64(i+1), float64(i+2)
		pe.N[i] = 200
		pe.SumAbs[i] = 100 * (a + c)
		pe.SumSq[i] = 100 * (a*a + c*c)
		pe.SumQuad[i] = 100 * (a*a*a*a + c*c*c*c)
		sumAbs += pe.SumAbs[i]
		sumSq += pe.SumSq[i]
	}
	b.PredictionErrors = pe
	b.Errors = &baselines.ErrorSums{N: 1000, SumAbs: sumAbs, SumSq: sumSq} // MAE 3.5
	mk := func(counts []int64) *windows.Window {
		w := windows.NewWindow(windows.Key{Model: "m", Version: "1"}, t0, t0.Add(time.Hour), b, 100)
		copy(w.Prediction.Counts, counts)
		for _, n := range counts {
			w.Prediction.Count += n
		}
		return w
	}
	e := NewEvaluator(DefaultPolicy(), nil)
	same := byMetric(e.Evaluate(mk([]int64{100, 100, 100, 100, 100})))
	if r := same[MetricMAE]; math.Abs(r.Value-3.5) > 1e-12 || r.Drifted || r.ThresholdSource != SourceStatic || math.Abs(r.Threshold-3.85) > 1e-12 {
		t.Errorf("a window like the reference: mae %+v, want 3.5, not drifted, threshold 3.85", r)
	}
	if r := same[MetricRMSE]; math.Abs(r.Value-math.Sqrt(sumSq/1000)) > 1e-12 || r.ThresholdSource != "" {
		t.Errorf("rmse %+v, want %v, not judged", r, math.Sqrt(sumSq/1000))
	}
	w := mk([]int64{0, 0, 50, 200, 250}) // MAE (50*3.5 + 200*4.5 + 250*5.5)/500 = 4.9
	w.ErrN, w.ErrAbs, w.ErrSq = 10, sumOf(48), sumOf(250)
	high := byMetric(e.Evaluate(w))
	if r := high[MetricMAE]; math.Abs(r.Value-4.9) > 1e-12 || !r.Drifted || high[MetricMAE+SuffixLower].Value >= 4.9 || high[MetricMAE+SuffixUpper].Value <= 4.9 {
		t.Errorf("large predictions: mae %+v in [%v, %v], want 4.9, drifted", r, high[MetricMAE+SuffixLower].Value, high[MetricMAE+SuffixUpper].Value)
	}
	if r := high[MetricMAE+SuffixRealized]; r.Value != 4.8 || r.NCurrent != 10 {
		t.Errorf("realized mae %+v, want 4.8 over 10", r)
	}
	b.PredictionErrors = nil
	if rows := byMetric(e.Evaluate(w)); len(rows) > 0 {
		t.Errorf("estimated rows without per-bin errors: %v", rows)
	}
}

func sumOf(x float64) (s stats.Sum) {
	s.Add(x)
	return s
}

// TestEstimatedMetricNames: the band's and realized rows' names are the
// metric's with the suffixes.
func TestEstimatedMetricNames(t *testing.T) {
	if len(EstimatedMetrics) != 7 || len(VariantEstimatedMetrics) != 7 {
		t.Errorf("%d estimated metrics, want 7", len(EstimatedMetrics))
	}
	for m, names := range EstimatedMetrics {
		if names != [3]string{m + SuffixLower, m + SuffixUpper, m + SuffixRealized} {
			t.Errorf("%s: rows %v", m, names)
		}
		if v := VariantEstimatedMetrics[m]; v != [3]string{PrefixEstimated + m, PrefixEstimated + names[0], PrefixEstimated + names[1]} {
			t.Errorf("%s: a variant's rows %v", m, v)
		}
	}
}

// TestEstimatedPerformanceSeasonal: with a daily cycle in the scores (the
// baseline built from two labelled days keeps it), each hourly window is
// judged against its hour's reference as the whole reference's calibration
// reads it: windows of a later day drawn like their hours raise nothing
// (an hour's few labelled records, 300 a day, would: their own label noise
// is not the calibration's), and the threshold follows the hour.
func TestEstimatedPerformanceSeasonal(t *testing.T) {
	rng := rand.New(rand.NewPCG(61, 62))
	score := func(h int) float64 {
		return 1 / (1 + math.Exp(-(-1 + 1.2*math.Sin(2*math.Pi*float64(h)/24) + 1.2*rng.NormFloat64())))
	}
	label := func(s float64) string {
		if rng.Float64() < math.Pow(s, 1.5) { // overconfident scores
			return "1"
		}
		return "0"
	}
	b := baselines.NewBuilder("m", baselines.BuildOptions{Now: func() time.Time { return seasonDay }})
	for hour := range 48 {
		for i := range 300 {
			b.SetTime(seasonDay.Add(time.Duration(hour)*time.Hour + time.Duration(i)*time.Hour/300))
			s := score(hour % 24)
			b.AddNumber("x", rng.NormFloat64())
			b.AddPredictionNumber(s)
			b.AddLabel(label(s), s, true)
			b.EndRow()
		}
	}
	bl, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	if bl.Cycle != baselines.CycleDaily {
		t.Fatalf("the reference's cycle is %q, want daily", bl.Cycle)
	}
	e := NewEvaluator(DefaultPolicy(), nil)
	thresholds := map[int]float64{}
	for day := 2; day < 5; day++ {
		for h := range 24 {
			start := seasonDay.Add(time.Duration(24*day+h) * time.Hour)
			w := windows.NewWindow(windows.Key{Model: "m", Version: "1"}, start, start.Add(time.Hour), bl, 100)
			for range 2000 {
				s := score(h)
				w.Scores[baselines.OutcomeBin(s)]++
				w.Prediction.Counts[bl.Prediction.Bin(s)]++
				w.Prediction.Count++
				w.Records++
			}
			for m, r := range byMetric(e.Evaluate(w)) {
				if r.Drifted {
					t.Errorf("day %d %02d:00: %s = %.4f drifted (threshold %.4f, p %.3g)", day, h, m, r.Value, r.Threshold, *r.PValue)
				}
				if m == MetricAccuracy {
					thresholds[h] = r.Threshold
				}
			}
		}
	}
	// The hours' references differ: accuracy is higher where the scores
	// are far from the threshold (06:00: mean logit +0.2; 18:00: -2.2).
	if thresholds[18]-thresholds[6] < 0.05 {
		t.Errorf("accuracy thresholds %.3f at 06:00 and %.3f at 18:00: not the hours' own", thresholds[6], thresholds[18])
	}
}

// FuzzEstimated: whatever the reference's labelled scores and errors and
// the window's scores and labels, the estimated_performance rows are
// finite, their p-values in [0, 1] and their mdes positive and finite, and
// they encode as JSON.
func FuzzEstimated(f *testing.F) {
	f.Add([]byte{1, 9, 3, 0, 0, 7, 1, 2, 0, 5}, []byte{3, 3, 0, 8, 1, 1, 0, 2, 9, 9})
	f.Add([]byte{0, 0, 0, 5, 5, 0, 0, 0, 0, 0}, []byte{0, 0, 1, 0, 0, 0, 0, 0, 0, 0})
	f.Add([]byte{255, 1, 1, 255, 0, 0, 0, 0, 0, 255}, []byte{255, 0, 0, 255, 255, 0, 0, 0, 0, 1})
	f.Fuzz(func(t *testing.T, ref, win []byte) {
		if len(ref) < 10 || len(win) < 10 {
			return
		}
		sq := func(b byte) int64 { return int64(b) * int64(b) }
		pos, neg := make([]int64, baselines.OutcomeBins), make([]int64, baselines.OutcomeBins)
		edges := []float64{0.2, 0.4, 0.6, 0.8}
		pred := baselines.Feature{Name: "prediction", Kind: baselines.Numeric, Edges: edges, Counts: make([]int64, 5), Sums: make([]float64, 5), Min: 0, Max: 1}
		pe := &baselines.BinErrorSums{N: make([]int64, 5), SumAbs: make([]float64, 5), SumSq: make([]float64, 5), SumQuad: make([]float64, 5)}
		for i := range 5 { // bin i of the prediction is score bins 20i..20i+19
			b := 20*i + 10
			pos[b], neg[b] = sq(ref[2*i]), sq(ref[2*i+1])
			n := pos[b] + neg[b]
			pred.Counts[i], pred.Count = n, pred.Count+n
			pe.N[i] = n
			e := float64(ref[2*i]) / 255
			pe.SumAbs[i], pe.SumSq[i], pe.SumQuad[i] = float64(n)*e, float64(n)*e*e, float64(n)*e*e*e*e
		}
		var errN int64
		for _, n := range pe.N {
			errN += n
		}
		b := &baselines.Baseline{Format: 1, ID: "f", Model: "m",
			Features:         []baselines.Feature{{Name: "x", Kind: baselines.Categorical}},
			Prediction:       pred,
			Outcomes:         &baselines.Outcomes{Bins: baselines.OutcomeBins, ByLabel: map[string][]int64{"1": pos, "0": neg}},
			PredictionErrors: pe,
			Errors:           &baselines.ErrorSums{N: errN, SumAbs: sumFloats(pe.SumAbs), SumSq: sumFloats(pe.SumSq)},
		}
		w := windows.NewWindow(windows.Key{Model: "m", Version: "1"}, t0, t0.Add(time.Hour), b, 100)
		for i := range 5 {
			n := sq(win[2*i])
			w.Scores[20*i+10+int(win[2*i+1]%10)] += n
			w.Prediction.Counts[i] += n
			w.Prediction.Count += n
			w.Outcomes.Add(i >= 3, win[2*i+1]%2 == 0, float64(win[2*i+1]))
		}
		for _, r := range NewEvaluator(DefaultPolicy(), nil).Evaluate(w) {
			if r.Subject != SubjectEstimated {
				continue
			}
			if math.IsNaN(r.Value) || math.IsInf(r.Value, 0) || math.IsNaN(r.Threshold) || math.IsInf(r.Threshold, 0) {
				t.Fatalf("row not finite: %+v", r)
			}
			if r.PValue != nil && !(*r.PValue >= 0 && *r.PValue <= 1) {
				t.Fatalf("p-value out of [0, 1]: %+v", r)
			}
			if r.MDE != nil && (!(*r.MDE > 0) || math.IsInf(*r.MDE, 0)) {
				t.Fatalf("mde %v: %+v", *r.MDE, r)
			}
			if _, err := json.Marshal(r); err != nil {
				t.Fatalf("row does not encode: %v", err)
			}
		}
	})
}

func sumFloats(xs []float64) (s float64) {
	for _, x := range xs {
		s += x
	}
	return s
}

// TestVariantEstimated: each variant's estimate is the window's over its
// own scores: a champion that served the whole window gets the window's
// estimates and bands exactly; a canary whose scores sit nearer the
// threshold (accuracy truly 0.1 lower) gets perf's estimate for its
// scores, that much lower; a regression model's variants get mae and
// rmse over their predictions. They are reported, not judged, and late
// labels do not re-emit them.
func TestVariantEstimated(t *testing.T) {
	world := newScoreWorld(5)
	b := world.baseline(20000)
	e := NewEvaluator(DefaultPolicy(), nil)
	counts, _, _, _ := world.draw(3000, mix(0))
	lambda := 0.1 / (world.accuracyAt(mix(0)) - world.accuracyAt(mix(1)))
	canary, _, _, _ := world.draw(1000, mix(lambda))
	w := scoreWindow(b, counts, perf.Confusion{}, nil, nil, false)
	w.Variants = map[string]*windows.Variant{"champion": {Scores: counts}, "canary": {Scores: canary}, "classes": {}}
	rows := e.Evaluate(w)
	window := byMetric(rows)
	of := func(variant string) map[string]Row {
		m := make(map[string]Row)
		for _, r := range rows {
			if r.Family == FamilyConcept && r.Subject == "variant="+variant && strings.HasPrefix(r.Metric, PrefixEstimated) {
				m[strings.TrimPrefix(r.Metric, PrefixEstimated)] = r
			}
		}
		return m
	}
	champ, can := of("champion"), of("canary")
	if len(champ) != 15 || len(can) != 15 || len(of("classes")) != 0 {
		t.Fatalf("%d estimated rows of the champion, %d of the canary (want 15 each: 5 metrics, with bands), %d of a variant without scores",
			len(champ), len(can), len(of("classes")))
	}
	cal, _ := perf.Calibrate(floats(b.Outcomes.ByLabel["1"]), floats(b.Outcomes.ByLabel["0"]))
	want := cal.Estimate(floats(canary), 50)
	for m, names := range EstimatedMetrics {
		if m == MetricMAE || m == MetricRMSE {
			continue
		}
		for _, name := range []string{m, names[0], names[1]} {
			if c, r := champ[name], window[name]; c.Value != r.Value || c.NCurrent != 3000 || c.ThresholdSource != "" || c.Drifted {
				t.Errorf("champion's estimated %s %+v, want the window's %v over 3000, not judged", name, c, r.Value)
			}
		}
	}
	for _, m := range []struct {
		metric string
		est    perf.Estimated
	}{{MetricAccuracy, want.Accuracy}, {MetricPrecision, want.Precision}, {MetricRecall, want.Recall}, {MetricF1, want.F1}, {MetricROCAUC, want.ROCAUC}} {
		r, lo, hi := can[m.metric], can[m.metric+SuffixLower], can[m.metric+SuffixUpper]
		if r.Value != m.est.Value || r.NCurrent != 1000 || math.Abs(hi.Value-lo.Value-2*bandZ*m.est.SE) > 1e-12 {
			t.Errorf("canary's estimated %s %v in [%v, %v] over %d, want perf's %+v over 1000", m.metric, r.Value, lo.Value, hi.Value, r.NCurrent, m.est)
		}
	}
	if d := window[MetricAccuracy].Value - can[MetricAccuracy].Value; d < 0.07 || d > 0.13 {
		t.Errorf("the canary's estimated accuracy is %v below the champion's, want about 0.1", d)
	}
	for _, r := range e.EvaluateLabels(w) {
		if strings.HasPrefix(r.Metric, PrefixEstimated) {
			t.Errorf("late labels re-emit %s %s", r.Subject, r.Metric)
		}
	}

	// Regression: mae over each variant's predictions, from the
	// reference's errors per prediction bin (TestEstimatedErrors' world).
	rb := &baselines.Baseline{Format: 1, ID: "reg", Model: "m",
		Features:         []baselines.Feature{{Name: "x", Kind: baselines.Categorical, Count: 1000, Categories: map[string]int64{"a": 1000}}},
		Prediction:       baselines.Feature{Name: "prediction", Kind: baselines.Numeric, Count: 1000, Edges: []float64{1, 2, 3, 4}, Counts: []int64{200, 200, 200, 200, 200}, Sums: make([]float64, 5), Min: 0, Max: 5},
		PredictionErrors: &baselines.BinErrorSums{N: make([]int64, 5), SumAbs: make([]float64, 5), SumSq: make([]float64, 5), SumQuad: make([]float64, 5)},
	}
	for i := range 5 { // bin i's |e| is i+1 in half its records, i+2 in the other half
		a, c := float64(i+1), float64(i+2)
		pe := rb.PredictionErrors
		pe.N[i], pe.SumAbs[i], pe.SumSq[i], pe.SumQuad[i] = 200, 100*(a+c), 100*(a*a+c*c), 100*(a*a*a*a+c*c*c*c)
	}
	rw := windows.NewWindow(windows.Key{Model: "m", Version: "1"}, t0, t0.Add(time.Hour), rb, 100)
	rw.Variants = map[string]*windows.Variant{"champion": {Prediction: windows.Feature{Counts: []int64{0, 0, 50, 200, 250}}}}
	rows = e.Evaluate(rw)
	mae, ok := of("champion")[MetricMAE]
	if !ok || math.Abs(mae.Value-4.9) > 1e-12 || mae.NCurrent != 500 { // (50*3.5 + 200*4.5 + 250*5.5)/500
		t.Errorf("a variant's estimated mae %+v (found %v), want 4.9 over 500", mae, ok)
	}
	if _, ok := of("champion")[MetricRMSE]; !ok {
		t.Error("no estimated rmse of the variant")
	}
}
