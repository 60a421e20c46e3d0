package scenario

import (
	"bufio"
	"bytes"
	"encoding/json"
	"github.com/driftwatch/driftwatch/stats/drift"
	"github.com/driftwatch/driftwatch/stats/perf"
	"maps"
	"math"
	"slices"
	"testing"
	"time"
)

// truthWant is what TestTruth expects of a scenario's truth.
type truthWant struct {
	targets      []string // family/subject of the targets in window ChangeFrom
	consequences []string
	windows      int // windows with a target
}

// TestTruth: the truth follows from what each scenario injects, in All
// and in Aside: at least 24 windows, changes from ChangeFrom on, and the
// targets and consequences of its kind.
func TestTruth(t *testing.T) {
	type want = truthWant
	const mv = "data/" + drift.SubjectMultivariate // every material change of a feature's values moves it
	cases := map[string]want{
		"stable":                {windows: 0},
		"daily_cycle":           {windows: 0},
		"large_negligible":      {windows: 0},
		"daily_cycle_shift":     {targets: []string{"data/num_a"}, consequences: []string{"quality/num_a", "prediction/prediction", "concept/estimated_performance", mv}, windows: 12},
		"ramp":                  {targets: []string{"data/num_c"}, consequences: []string{"quality/num_c", mv}, windows: 12},
		"mean_shift":            {targets: []string{"data/num_c"}, consequences: []string{"quality/num_c", mv}, windows: 12},
		"variance_shift":        {targets: []string{"data/num_c"}, consequences: []string{"quality/num_c", mv}, windows: 12},
		"category_shift":        {targets: []string{"data/cat_a"}, consequences: []string{mv}, windows: 12},
		"null_burst":            {targets: []string{"quality/num_c"}, consequences: []string{mv}, windows: 6},
		"type_errors":           {targets: []string{"quality/num_d"}, consequences: []string{mv}, windows: 12},
		"prediction_shift":      {targets: []string{"prediction/prediction"}, consequences: []string{"concept/estimated_performance"}, windows: 12},
		"concept_late_labels":   {targets: []string{"concept/performance"}, consequences: []string{"label/label", "concept/error_stream"}, windows: 12},
		"fairness_collapse":     {targets: []string{"fairness/gender"}, consequences: []string{"prediction/prediction", "concept/estimated_performance"}, windows: 12},
		"small_windows":         {targets: []string{"data/num_c"}, consequences: []string{"quality/num_c", mv}, windows: 12},
		"multi_model":           {targets: []string{"data/num_c", "data/cat_a"}, consequences: []string{"quality/num_c", mv}, windows: 24},
		"performance_no_labels": {targets: []string{"concept/estimated_performance", "data/num_a"}, consequences: []string{"quality/num_a", "prediction/prediction", mv}, windows: 12},
		"correlation_flip":      {targets: []string{mv}, windows: 12},
	}
	checkTruth(t, "All", All(1), cases)
	aside := maps.Clone(cases)
	nb := aside["null_burst"]
	nb.windows = 4 // a shorter burst
	aside["null_burst"] = nb
	checkTruth(t, "Aside", Aside(1), aside)
}

// checkTruth checks the truth of one set of streams against cases.
func checkTruth(t *testing.T, set string, streams []Scenario, cases map[string]truthWant) {
	t.Helper()
	seen := map[string]bool{}
	for _, s := range streams {
		seen[s.Name] = true
		w, ok := cases[s.Name]
		if !ok {
			t.Errorf("scenario %s: not in the test", s.Name)
			continue
		}
		tr := s.Truth()
		if tr.Windows < 24 {
			t.Errorf("%s: %d windows, want at least 24", s.Name, tr.Windows)
		}
		targetWindows := map[[2]any]bool{}
		got := map[string]bool{}
		for _, c := range tr.Changes {
			if c.Window < ChangeFrom {
				t.Errorf("%s: change before window %d: %+v", s.Name, ChangeFrom, c)
			}
			if c.Target {
				targetWindows[[2]any{c.Window, c.Model}] = true
			}
			if c.Window == ChangeFrom {
				got[c.Family+"/"+c.Subject+map[bool]string{true: " target", false: " consequence"}[c.Target]] = true
			}
		}
		if len(targetWindows) != w.windows {
			t.Errorf("%s: %d (window, model) with a target, want %d", s.Name, len(targetWindows), w.windows)
		}
		for _, k := range w.targets {
			if !got[k+" target"] {
				t.Errorf("%s: no target %s in window %d (have %v)", s.Name, k, ChangeFrom, got)
			}
		}
		for _, k := range w.consequences {
			if !got[k+" consequence"] {
				t.Errorf("%s: no consequence %s in window %d (have %v)", s.Name, k, ChangeFrom, got)
			}
		}
		if want := len(w.targets) + len(w.consequences); len(got) != want {
			t.Errorf("%s: window %d changes %v, want %d", s.Name, ChangeFrom, got, want)
		}
	}
	for name := range cases {
		if !seen[name] {
			t.Errorf("scenario %s missing from %s", name, set)
		}
	}
}

type rec struct {
	Timestamp  time.Time          `json:"timestamp"`
	Features   map[string]any     `json:"features"`
	Prediction float64            `json:"prediction"`
	Scores     map[string]float64 `json:"scores"`
}

func decode(t *testing.T, b []byte) []rec {
	t.Helper()
	var out []rec
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		var r rec
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("decode %s: %v", sc.Bytes(), err)
		}
		out = append(out, r)
	}
	return out
}

// TestDailyCycle: the reference spans two whole days and both it and the
// stream follow the cycle: num_a's mean at 06:00 is about 2*1.5 sd above
// its mean at 18:00.
func TestDailyCycle(t *testing.T) {
	s := DailyCycle(3, 400, 1.5, 0)
	var ref bytes.Buffer
	if err := s.Config.Reference("m", s.ReferenceRecords, &ref); err != nil {
		t.Fatal(err)
	}
	refs := decode(t, ref.Bytes())
	first, last := refs[0].Timestamp, refs[len(refs)-1].Timestamp
	if d := first.Sub(Start.Add(-48 * time.Hour)); d < 0 || d > time.Minute || !last.Before(Start) || Start.Sub(last) > time.Minute {
		t.Errorf("reference from %v to %v, want two days before %v", first, last, Start)
	}
	preds, _, err := s.Config.Files()
	if err != nil {
		t.Fatal(err)
	}
	for name, rs := range map[string][]rec{"reference": refs, "stream": decode(t, preds)} {
		var sum, n [24]float64
		for _, r := range rs {
			if x, ok := r.Features["num_a"].(float64); ok {
				h := r.Timestamp.Hour()
				sum[h] += x
				n[h]++
			}
		}
		gap := (sum[6]/n[6] - sum[18]/n[18]) / featA.Std
		if math.Abs(gap-3) > 0.5 {
			t.Errorf("%s: num_a at 06:00 minus 18:00 = %.2f sd, want about 3", name, gap)
		}
	}
}

// TestPredictionShift: the shift moves the predictions (and scores) from
// ChangeFrom on and leaves every feature value as it was.
func TestPredictionShift(t *testing.T) {
	shifted := PredictionShift(4, 50, 0.8)
	plain := Stable(4, 50)
	a, _, err := shifted.Config.Files()
	if err != nil {
		t.Fatal(err)
	}
	b, _, err := plain.Config.Files()
	if err != nil {
		t.Fatal(err)
	}
	ra, rb := decode(t, a), decode(t, b)
	if len(ra) != len(rb) {
		t.Fatalf("%d and %d records", len(ra), len(rb))
	}
	changeAt := Start.Add(ChangeFrom * time.Hour)
	moved := 0
	for i := range ra {
		fa, _ := json.Marshal(ra[i].Features)
		fb, _ := json.Marshal(rb[i].Features)
		if !bytes.Equal(fa, fb) {
			t.Fatalf("record %d: features %s, want %s", i, fa, fb)
		}
		before := ra[i].Timestamp.Before(changeAt)
		same := ra[i].Prediction == rb[i].Prediction
		if before != same {
			t.Fatalf("record %d at %v: prediction %v, unshifted %v", i, ra[i].Timestamp, ra[i].Prediction, rb[i].Prediction)
		}
		if !before && ra[i].Prediction > rb[i].Prediction && ra[i].Scores["pos"] == ra[i].Prediction {
			moved++
		}
	}
	if moved == 0 {
		t.Error("no prediction moved up")
	}
}

// TestExpectedPerformance: the expected performance the truth computes
// (expectedPerformance) is what the generated scores give, labels drawn
// from them (each record's score as its chance of a positive label), for
// the label-free scenario before and after its change, the daily cycle
// with its shift at 18:00, the prediction and the female shifts: within
// 0.025 over one window of 30,000 records (4 of their own standard errors
// for recall, the noisiest: measured 0.005 at 100,000 records), where
// leaving out any of these changes misses by 0.07 or more.
func TestExpectedPerformance(t *testing.T) {
	for _, tc := range []struct {
		s       Scenario
		hour    int
		drifted bool
	}{
		{PerformanceNoLabels(5, 30000, 0.3), 2, false}, {PerformanceNoLabels(5, 30000, 0.3), 20, true},
		{DailyCycle(6, 30000, 1.5, 1), 18, true}, {PredictionShift(7, 30000, 0.8), 13, true}, {FairnessCollapse(8, 30000, -1.5), 14, true},
	} {
		// One window, at that hour, changed from its start or not at all.
		c := tc.s.Config
		c.Windows, c.Start = 1, Start.Add(time.Duration(tc.hour)*time.Hour)
		m := &c.Models[0]
		m.Drifts = slices.Clone(m.Drifts)
		for i := range m.Drifts {
			m.Drifts[i].FromWindow = map[bool]int{true: 0, false: 1}[tc.drifted]
		}
		m.PredictionShiftFrom, m.FemaleShiftFrom = 0, 0
		preds, _, err := c.Files()
		if err != nil {
			t.Fatal(err)
		}
		var tp, fp, fn, tn float64
		h := perf.NewScoreHistogram(10000)
		for _, r := range decode(t, preds) {
			p := r.Scores["pos"]
			if p >= 0.5 {
				tp, fp = tp+p, fp+1-p
			} else {
				fn, tn = fn+p, tn+1-p
			}
			h.Add(p, true, p)
			h.Add(p, false, 1-p)
		}
		auc, _ := h.ROCAUC()
		got := [5]float64{(tp + tn) / (tp + fp + fn + tn), tp / (tp + fp), tp / (tp + fn), 2 * tp / (2*tp + fp + fn), auc}
		want := expectedPerformance(*m, 0, float64(tc.hour)+0.5, true)
		for k := range got {
			if math.Abs(got[k]-want[k]) > 0.025 {
				t.Errorf("%s at %02d:00: %s from the scores %.4f, expected %.4f", tc.s.Name, tc.hour, performanceMetrics[k], got[k], want[k])
			}
		}
	}
	// The label-free scenario's change lowers recall and F1 by about
	// 0.23.
	if d, m := performanceDrop(PerformanceNoLabels(5, 100, 0.3).Config.Models[0], 20, 20.5); d < 0.2 || (m != "recall" && m != "f1") {
		t.Errorf("label-free: drop %.3f of %s", d, m)
	}
}

// TestCorrelationFlip: num_c moves with num_a (+0.8) in the reference and
// before ChangeFrom and against it (-0.8) after, keeping its mean and
// spread; every other feature and every prediction are the stable
// stream's of the same seed.
func TestCorrelationFlip(t *testing.T) {
	s := CorrelationFlip(5, 600, 0.8, -0.8)
	var ref bytes.Buffer
	if err := s.Config.Reference("m", 4000, &ref); err != nil {
		t.Fatal(err)
	}
	a, _, err := s.Config.Files()
	if err != nil {
		t.Fatal(err)
	}
	b, _, err := Stable(5, 600).Config.Files()
	if err != nil {
		t.Fatal(err)
	}
	ra, rb := decode(t, a), decode(t, b)
	if len(ra) != len(rb) {
		t.Fatalf("%d and %d records", len(ra), len(rb))
	}
	changeAt := Start.Add(ChangeFrom * time.Hour)
	var before, after []rec
	for i := range ra {
		ca := ra[i].Features["num_c"]
		ra[i].Features["num_c"], rb[i].Features["num_c"] = nil, nil
		fa, _ := json.Marshal(ra[i].Features)
		fb, _ := json.Marshal(rb[i].Features)
		if !bytes.Equal(fa, fb) || ra[i].Prediction != rb[i].Prediction {
			t.Fatalf("record %d: features %s, prediction %v; stable %s, %v", i, fa, ra[i].Prediction, fb, rb[i].Prediction)
		}
		ra[i].Features["num_c"] = ca
		if ra[i].Timestamp.Before(changeAt) {
			before = append(before, ra[i])
		} else {
			after = append(after, ra[i])
		}
	}
	for _, c := range []struct {
		name string
		rs   []rec
		rho  float64
	}{{"reference", decode(t, ref.Bytes()), 0.8}, {"before", before, 0.8}, {"after", after, -0.8}} {
		var n, sa, sc, saa, scc, sac float64
		for _, r := range c.rs {
			x, okA := r.Features["num_a"].(float64)
			y, okC := r.Features["num_c"].(float64)
			if !okA || !okC {
				continue
			}
			n++
			sa, sc, saa, scc, sac = sa+x, sc+y, saa+x*x, scc+y*y, sac+x*y
		}
		ma, mc := sa/n, sc/n
		sdc := math.Sqrt(scc/n - mc*mc)
		r := (sac/n - ma*mc) / math.Sqrt((saa/n-ma*ma)*(scc/n-mc*mc))
		// At least 4,000 records: correlation within 0.03, num_c's mean and
		// sd within 0.06 of N(0, 1)'s.
		if math.Abs(r-c.rho) > 0.03 || math.Abs(mc) > 0.06 || math.Abs(sdc-1) > 0.06 || n < 4000 {
			t.Errorf("%s: %v records, correlation %.3f (want %+.1f), num_c mean %.3f sd %.3f", c.name, n, r, c.rho, mc, sdc)
		}
	}
}
