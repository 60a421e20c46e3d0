package drift

import (
	"encoding/json"
	"math"
	"os"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/driftwatch/driftwatch/baselines"
	"github.com/driftwatch/driftwatch/stats/perf"
	"github.com/driftwatch/driftwatch/windows"
)

// TestLabelDelaysMatchNumpy: the label delay rows are numpy.quantile's
// (default, linear) quantiles of the window's late labels' delays.
func TestLabelDelaysMatchNumpy(t *testing.T) {
	data, err := os.ReadFile("testdata/golden/delays.json")
	if err != nil {
		t.Fatal(err)
	}
	var g struct {
		Cases []struct {
			Name     string
			Delays   []float64
			P50, P95 float64
		}
	}
	if err := json.Unmarshal(data, &g); err != nil {
		t.Fatal(err)
	}
	if len(g.Cases) < 20 {
		t.Fatalf("%d golden cases", len(g.Cases))
	}
	for _, c := range g.Cases {
		w := window([]int64{0, 300, 300, 300}, []float64{0, 0, 300, 600}, map[string]int64{"red": 450, "blue": 450}, 100)
		w.LabelDelays = slices.Sorted(slices.Values(c.Delays))
		rows := appendDelays(nil, Row{}, w)
		p50, p95 := find(t, rows, FamilyLabel, "label", MetricLabelDelayP50), find(t, rows, FamilyLabel, "label", MetricLabelDelayP95)
		for _, m := range []struct {
			got  Row
			want float64
		}{{p50, c.P50}, {p95, c.P95}} {
			if math.Abs(m.got.Value-m.want) > 1e-9*math.Abs(m.want)+1e-12 || m.got.NCurrent != int64(len(c.Delays)) {
				t.Errorf("%s: %s %v over %d, numpy %v over %d", c.Name, m.got.Metric, m.got.Value, m.got.NCurrent, m.want, len(c.Delays))
			}
		}
	}
	if rows := appendDelays(nil, Row{}, window(nil, nil, nil, 0)); len(rows) != 0 {
		t.Errorf("rows without late labels: %+v", rows)
	}
}

// TestEvaluateLabels: a re-evaluation with late labels emits only the rows
// labels change, equal to the same rows of a full evaluation of the same
// state, and the detectors' rows add up the window's errors over its
// re-evaluations.
func TestEvaluateLabels(t *testing.T) {
	mk := func() *windows.Window {
		w := window([]int64{0, 300, 300, 300}, []float64{0, 0, 300, 600}, map[string]int64{"red": 450, "blue": 450}, 100)
		w.Records = 900
		w.Labels.Categories["yes"], w.Labels.Categories["no"], w.Labels.Count = 200, 300, 500
		w.Outcomes = perf.Confusion{TP: 150, FP: 50, TN: 250, FN: 50}
		w.LabelDelays = []float64{60, 120, 3600}
		for _, g := range []struct {
			name string
			d, o perf.Confusion
		}{{"f", perf.Confusion{TP: 200, TN: 250}, perf.Confusion{TP: 80, FN: 20, TN: 100}}, {"m", perf.Confusion{TP: 150, TN: 300}, perf.Confusion{TP: 70, FN: 30, TN: 150}}} {
			if w.Groups == nil {
				w.Groups = map[string]map[string]*windows.Group{"gender": {}}
			}
			w.Groups["gender"][g.name] = &windows.Group{Decisions: g.d, Outcomes: g.o}
		}
		for i := range 400 {
			w.Errors = append(w.Errors, windows.ErrorEvent{Time: t0.UnixMilli() + int64(i), ID: uint64(i), Err: i%4 == 0})
		}
		return w
	}
	full := NewEvaluator(DefaultPolicy(), nil).Evaluate(mk())
	e := NewEvaluator(DefaultPolicy(), nil)
	re := e.EvaluateLabels(mk())
	if len(re) == 0 {
		t.Fatal("no rows")
	}
	byKey := func(rows []Row) map[string]Row {
		m := make(map[string]Row)
		for _, r := range rows {
			m[r.Family+"/"+r.Subject+"/"+r.Metric] = r
		}
		return m
	}
	fm := byKey(full)
	for k, r := range byKey(re) {
		switch r.Family {
		case FamilyLabel, FamilyConcept:
		case FamilyFairness:
			switch r.Metric {
			case MetricTruePositiveRate, MetricFalsePositiveRate, MetricAccuracy, MetricPrecision, MetricOpportunityDiff, MetricEqualizedOddsDiff:
			default:
				t.Errorf("%s re-emitted: labels do not change it", k)
			}
		default:
			t.Errorf("%s re-emitted: labels do not change it", k)
		}
		f, ok := fm[k]
		if !ok {
			t.Errorf("%s: not in the full evaluation", k)
			continue
		}
		if r.Value != f.Value || r.Drifted != f.Drifted || r.NCurrent != f.NCurrent {
			t.Errorf("%s: re-emitted %+v, full evaluation %+v", k, r, f)
		}
	}
	for _, k := range []string{"label/label/label_delay_p50_s", "concept/performance/accuracy", "fairness/gender=f/true_positive_rate", "fairness/gender/equal_opportunity_diff", "concept/error_stream/adwin",
		"fairness/gender=f/false_positive_rate", "fairness/gender=m/accuracy", "fairness/gender=m/precision", "fairness/gender/equalized_odds_diff"} {
		if _, ok := byKey(re)[k]; !ok {
			t.Errorf("%s not re-emitted", k)
		}
	}
	// The re-emitted per-group rows carry their denominators: f has
	// outcomes TP 80, FN 20, TN 100; m TP 70, FN 30, TN 150.
	rm := byKey(re)
	for k, want := range map[string]struct {
		v float64
		n int64
	}{
		"fairness/gender=f/true_positive_rate": {0.8, 100}, "fairness/gender=f/false_positive_rate": {0, 100},
		"fairness/gender=f/accuracy": {0.9, 200}, "fairness/gender=f/precision": {1, 80},
		"fairness/gender=m/false_positive_rate": {0, 150}, "fairness/gender=m/accuracy": {220.0 / 250, 250},
		"fairness/gender=m/precision": {1, 70}, "fairness/gender/equalized_odds_diff": {0.1, 450},
	} {
		if r := rm[k]; math.Abs(r.Value-want.v) > 1e-12 || r.NCurrent != want.n {
			t.Errorf("%s re-emitted as %v over %d, want %v over %d", k, r.Value, r.NCurrent, want.v, want.n)
		}
	}
	// More errors of the same window later: the detector rows count both.
	more := mk()
	more.Errors = more.Errors[:100]
	again := byKey(e.EvaluateLabels(more))["concept/error_stream/adwin"]
	if again.NCurrent != 500 {
		t.Errorf("adwin over %d errors after two evaluations of 400 and 100", again.NCurrent)
	}
	other := mk()
	other.Start = other.Start.Add(time.Hour)
	if n := byKey(e.EvaluateLabels(other))["concept/error_stream/adwin"].NCurrent; n != 400 {
		t.Errorf("another window's adwin row counts %d errors, want its own 400", n)
	}
}

// TestDetectorStatesRestore: an evaluator restored from another's detector
// states goes on exactly as the other does: the same detector rows for
// later windows and for later errors of earlier windows.
func TestDetectorStatesRestore(t *testing.T) {
	mk := func(start time.Time, n int, rate float64) *windows.Window {
		w := window([]int64{0, 300, 300, 300}, []float64{0, 0, 300, 600}, map[string]int64{"red": 450, "blue": 450}, 100)
		w.Start, w.End = start, start.Add(time.Hour)
		for i := range n {
			w.Errors = append(w.Errors, windows.ErrorEvent{Time: start.UnixMilli() + int64(i), ID: uint64(i), Err: float64(i%100) < rate*100})
		}
		return w
	}
	detectorRows := func(rows []Row) []Row {
		var out []Row
		for _, r := range rows {
			if r.Subject == "error_stream" {
				out = append(out, r)
			}
		}
		return out
	}
	a := NewEvaluator(DefaultPolicy(), nil)
	a.Evaluate(mk(t0, 1500, 0.1))
	a.Evaluate(mk(t0.Add(time.Hour), 1500, 0.15))
	key := windows.Key{Model: "m", Version: "1"}
	states, err := a.DetectorStates([]windows.Key{key, {Model: "unseen", Version: "1"}})
	if err != nil || len(states) != 1 {
		t.Fatalf("states %d, err %v", len(states), err)
	}
	b := NewEvaluator(DefaultPolicy(), nil)
	if err := b.RestoreDetectors(states); err != nil {
		t.Fatal(err)
	}
	for _, step := range []func(e *Evaluator) []Row{
		func(e *Evaluator) []Row { return e.Evaluate(mk(t0.Add(2*time.Hour), 2000, 0.6)) },
		func(e *Evaluator) []Row { return e.EvaluateLabels(mk(t0.Add(time.Hour), 300, 0.7)) }, // late errors of the second window
	} {
		ra, rb := detectorRows(step(a)), detectorRows(step(b))
		if len(ra) != 3 || !reflect.DeepEqual(ra, rb) {
			t.Errorf("restored evaluator's detector rows\n%+v\nthe original's\n%+v", rb, ra)
		}
	}
	if n := find(t, detectorRows(b.EvaluateLabels(mk(t0, 10, 0.1))), FamilyConcept, "error_stream", MetricADWIN).NCurrent; n != 1510 {
		t.Errorf("first window's detector rows count %d errors after a restore and 10 more, want 1510", n)
	}
	bad := []DetectorState{{Key: key, State: []byte{1, 2, 3}}}
	if err := b.RestoreDetectors(bad); err == nil {
		t.Error("garbage restored without an error")
	}
}

// TestModeShare: predictions that collapse into one bin of a reference
// that spread them are flagged; a spread window, or a reference that
// already had a dominant value, are not.
func TestModeShare(t *testing.T) {
	mk := func(refCounts, counts []int64) Row {
		w := window([]int64{0, 300, 300, 300}, []float64{0, 0, 300, 600}, map[string]int64{"red": 450, "blue": 450}, 100)
		bp := &w.Baseline.Prediction
		*bp = baselines.Feature{Name: "prediction", Kind: baselines.Numeric, Edges: []float64{0.25, 0.5, 0.75}, Counts: refCounts}
		for _, n := range refCounts {
			bp.Count += n
		}
		w.Prediction = windows.Feature{Counts: counts}
		for _, n := range counts {
			w.Prediction.Count += n
		}
		return find(t, appendModeShare(nil, Row{}, w, &Policy{MinSamples: 100}), FamilyPrediction, "prediction", MetricModeShare)
	}
	if r := mk([]int64{250, 250, 250, 250}, []int64{0, 995, 5, 0}); !r.Drifted || r.Value != 0.995 || r.NCurrent != 1000 || r.NReference != 1000 {
		t.Errorf("collapsed predictions: %+v", r)
	}
	if r := mk([]int64{250, 250, 250, 250}, []int64{100, 600, 200, 100}); r.Drifted || r.Value != 0.6 {
		t.Errorf("spread predictions: %+v", r)
	}
	if r := mk([]int64{900, 50, 25, 25}, []int64{995, 5, 0, 0}); r.Drifted {
		t.Errorf("a reference with a dominant value: %+v", r)
	}
	w := window([]int64{0, 300, 300, 300}, []float64{0, 0, 300, 600}, map[string]int64{"red": 450, "blue": 450}, 100)
	w.Prediction.Count = 50
	if rows := appendModeShare(nil, Row{}, w, &Policy{MinSamples: 100}); len(rows) != 0 {
		t.Errorf("rows under min_samples: %+v", rows)
	}
}

// TestDetectorsFitLongStreams: on stable error streams of 24 windows of
// 20,000 labels, River's Page-Hinkley signals in window after window once
// the error rate is high, and River's DDM can signal in the first window
// of a low one; calibrated (the default), nothing signals on either, and
// the first window, which warms the detectors up, never does. A rise of
// the error rate by 0.05 mid-stream is still signalled by ADWIN and
// Page-Hinkley within the window it starts in.
func TestDetectorsFitLongStreams(t *testing.T) {
	const perWindow, windowsN = 20_000, 24
	stream := func(e *Evaluator, seed uint64, p, rise float64, withRef bool) (signals map[string][]int) {
		rng := newLCG(seed)
		signals = make(map[string][]int)
		for k := range windowsN {
			w := window([]int64{0, 300, 300, 300}, []float64{0, 0, 300, 600}, map[string]int64{"red": 450, "blue": 450}, 100)
			w.Start = t0.Add(time.Duration(k) * time.Hour)
			if withRef {
				w.Baseline.Outcomes = referenceWithErrorRate(p)
			}
			q := p
			if k >= windowsN/2 {
				q += rise
			}
			for i := range perWindow {
				w.Errors = append(w.Errors, windows.ErrorEvent{Time: w.Start.UnixMilli() + int64(i), ID: uint64(k*perWindow + i), Err: rng.float() < q})
			}
			for _, r := range e.EvaluateLabels(w) {
				if r.Family == FamilyConcept && r.Subject == "error_stream" && r.Drifted {
					signals[r.Metric] = append(signals[r.Metric], k)
				}
			}
		}
		return signals
	}
	river := DefaultPolicy()
	river.Detectors = DetectorsRiver
	riverPH, riverDDM0 := 0, 0
	for _, c := range []struct {
		p       float64
		withRef bool
	}{{0.02, false}, {0.1, true}, {0.3, false}, {0.5, true}} {
		for seed := range uint64(2) {
			if got := stream(NewEvaluator(DefaultPolicy(), nil), seed, c.p, 0, c.withRef); len(got) > 0 {
				t.Errorf("error rate %.2f (reference outcomes %v), seed %d: calibrated detectors signalled on a stable stream in windows %v", c.p, c.withRef, seed, got)
			}
			got := stream(NewEvaluator(river, nil), seed, c.p, 0, c.withRef)
			riverPH += len(got[MetricPageHinkley])
			if slices.Contains(got[MetricDDM], 0) {
				riverDDM0++
			}
		}
		rose := stream(NewEvaluator(DefaultPolicy(), nil), 7, c.p, 0.05, c.withRef)
		for _, m := range []string{MetricADWIN, MetricPageHinkley} {
			if len(rose[m]) == 0 || rose[m][0] != windowsN/2 {
				t.Errorf("error rate %.2f rising by 0.05 in window %d: %s signalled in windows %v", c.p, windowsN/2, m, rose[m])
			}
		}
	}
	t.Logf("River's settings on the same stable streams: Page-Hinkley signalled in %d windows; DDM in the first window of %d streams", riverPH, riverDDM0)
	if riverPH == 0 {
		t.Errorf("River's Page-Hinkley never signalled: the streams do not show what calibration is for")
	}
}

// referenceWithErrorRate is reference outcomes whose decisions at 0.5 are
// wrong with rate p.
func referenceWithErrorRate(p float64) *baselines.Outcomes {
	const n = 100_000
	wrong, right := int64(p*n/2), int64((1-p)*n/2)
	pos, neg := make([]int64, baselines.OutcomeBins), make([]int64, baselines.OutcomeBins)
	pos[70], pos[20] = right, wrong // label 1: selected right, missed wrong
	neg[20], neg[70] = right, wrong // label 0
	return &baselines.Outcomes{Bins: baselines.OutcomeBins, ByLabel: map[string][]int64{"1": pos, "0": neg}}
}

// TestPerformanceInsufficientData: accuracy, precision and recall rows of a
// window with too few labels to see a drop of twice the margin say
// insufficient data instead of a quiet "not drifted"; with enough labels
// they are judged, and a large drop in few labels is still drifted.
func TestPerformanceInsufficientData(t *testing.T) {
	mk := func(n int, errRate float64) *windows.Window {
		w := window([]int64{0, 300, 300, 300}, []float64{0, 0, 300, 600}, map[string]int64{"red": 450, "blue": 450}, 100)
		w.Baseline.Outcomes = referenceWithErrorRate(0.1)
		wrong := int(errRate * float64(n))
		for i := range n {
			positive := i%2 == 0
			selected := positive != (i < wrong)
			w.Outcomes.Add(selected, positive, 1)
		}
		w.Labels.Count = int64(n)
		return w
	}
	e := NewEvaluator(DefaultPolicy(), nil)
	few := e.EvaluateLabels(mk(60, 0.1))
	many := e.EvaluateLabels(mk(6000, 0.1))
	collapse := e.EvaluateLabels(mk(60, 0.6))
	for _, m := range []string{MetricAccuracy, MetricPrecision, MetricRecall} {
		if r := find(t, few, FamilyConcept, "performance", m); r.ThresholdSource != SourceInsufficient || r.MDE == nil || *r.MDE <= 0.1 {
			t.Errorf("60 labels: %s source %q mde %v, want insufficient (mde above 0.1)", m, r.ThresholdSource, pString(r.MDE))
		}
		if r := find(t, many, FamilyConcept, "performance", m); r.ThresholdSource != SourceStatic || r.MDE == nil || *r.MDE > 0.1 {
			t.Errorf("6,000 labels: %s source %q mde %v, want judged (static, mde under 0.1)", m, r.ThresholdSource, pString(r.MDE))
		}
		if r := find(t, collapse, FamilyConcept, "performance", m); !r.Drifted {
			t.Errorf("60 labels, error rate 0.6: %s = %v not drifted (source %q)", m, r.Value, r.ThresholdSource)
		}
	}
}

// TestRestoreDetectorsForgetsUnwritten: a restore makes the detectors what
// the sink kept, no more. A window evaluated and then fenced off (its rows
// never written) left errors in detectors the sink has no state of; kept,
// they would count that window's errors twice when it is made again.
func TestRestoreDetectorsForgetsUnwritten(t *testing.T) {
	mk := func(model string, n int) *windows.Window {
		w := window([]int64{0, 300, 300, 300}, []float64{0, 0, 300, 600}, map[string]int64{"red": 450, "blue": 450}, 100)
		w.Model, w.Start, w.End = model, t0, t0.Add(time.Hour)
		for i := range n {
			w.Errors = append(w.Errors, windows.ErrorEvent{Time: t0.UnixMilli() + int64(i), ID: uint64(i), Err: i%10 == 0})
		}
		return w
	}
	e := NewEvaluator(DefaultPolicy(), nil)
	e.Evaluate(mk("written", 400))
	states, err := e.DetectorStates([]windows.Key{{Model: "written", Version: "1"}})
	if err != nil || len(states) != 1 {
		t.Fatalf("states %d, err %v", len(states), err)
	}
	e.Evaluate(mk("fenced", 43)) // evaluated, then its write fenced off
	e.EvaluateLabels(mk("written", 7))
	if err := e.RestoreDetectors(states); err != nil {
		t.Fatal(err)
	}
	if n := find(t, e.Evaluate(mk("fenced", 43)), FamilyConcept, "error_stream", MetricADWIN).NCurrent; n != 43 {
		t.Errorf("window made again after a restore: its detector rows count %d errors, want 43", n)
	}
	if n := find(t, e.EvaluateLabels(mk("written", 10)), FamilyConcept, "error_stream", MetricADWIN).NCurrent; n != 410 {
		t.Errorf("restored model's window counts %d errors after 10 more, want 410 (the 7 not written forgotten)", n)
	}
}
