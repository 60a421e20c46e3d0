package fairness

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"sort"
	"strings"
	"testing"

	"github.com/driftwatch/driftwatch/stats/perf"
)

type goldenFile struct {
	Versions map[string]string `json:"versions"`
	Cases    []struct {
		Name    string
		Group   []string
		Y, P    []int
		ByGroup map[string]map[string]*float64 `json:"by_group"`
		DPDiff  *float64                       `json:"dp_difference"`
		DPRatio *float64                       `json:"dp_ratio"`
		EODiff  *float64                       `json:"eo_difference"`
		EORatio *float64                       `json:"eo_ratio"`
		EOpDiff *float64                       `json:"eop_difference"`
		EOpRat  *float64                       `json:"eop_ratio"`
	} `json:"cases"`
}

func relDiff(got, want float64) float64 {
	d := math.Abs(got - want)
	if d == 0 {
		return 0
	}
	return d / math.Max(math.Abs(want), 1e-3)
}

func TestGoldenFairlearn(t *testing.T) {
	raw, err := os.ReadFile("testdata/golden/fairness.json")
	if err != nil {
		t.Fatalf("read golden file: %v", err)
	}
	var g goldenFile
	if err := json.Unmarshal(raw, &g); err != nil {
		t.Fatalf("decode golden file: %v", err)
	}
	t.Logf("golden versions: %v", g.Versions)
	maxDiff := map[string]float64{}
	var undefined, fprWins int
	for _, c := range g.Cases {
		groups := map[string]perf.Confusion{}
		for i := range c.Y {
			cm := groups[c.Group[i]]
			cm.Add(c.P[i] == 1, c.Y[i] == 1, 1)
			groups[c.Group[i]] = cm
		}
		check := func(metric string, got float64, ok bool, want *float64) {
			t.Helper()
			if want == nil || !ok {
				t.Errorf("%s %s: got (%v, %v), want %v", c.Name, metric, got, ok, want)
				return
			}
			r := relDiff(got, *want)
			maxDiff[metric] = max(maxDiff[metric], r)
			if !(r <= 1e-9) { // NaN too
				t.Errorf("%s %s: got %.17g, want %.17g", c.Name, metric, got, *want)
			}
		}
		if strings.HasPrefix(c.Name, "divergent_") {
			// Group c has no positives: Fairlearn TPR 0, we leave it out.
			got, ok := EqualOpportunityRatio(groups, 0)
			if !ok || got == *c.EOpRat {
				t.Errorf("%s: equal opportunity ratio %v (%v) should differ from Fairlearn's %v", c.Name, got, ok, *c.EOpRat)
			}
			// Selection rates do not depend on labels: still equal.
			v, ok := DemographicParityDifference(groups, 0)
			check("dp_difference", v, ok, c.DPDiff)
			continue
		}
		for _, m := range ByGroup(groups, 0) {
			w := c.ByGroup[m.Group]
			check("count", m.N, true, w["count"])
			check("selection_rate", m.SelectionRate, true, w["selection_rate"])
			check("tpr", m.TPR, true, w["tpr"])
			if groups[m.Group].Negatives() == 0 {
				// No negative labels: Fairlearn's FPR 0, ours undefined.
				if !math.IsNaN(m.FPR) || w["fpr"] == nil || *w["fpr"] != 0 {
					t.Errorf("%s fpr of %s without negatives: got %v, Fairlearn %v; want NaN and 0", c.Name, m.Group, m.FPR, w["fpr"])
				}
			} else {
				check("fpr", m.FPR, true, w["fpr"])
			}
			check("accuracy", m.Accuracy, true, w["accuracy"])
			if w["precision"] == nil {
				// Never selected: scikit-learn's zero_division=nan, ours NaN.
				undefined++
				if !math.IsNaN(m.Precision) {
					t.Errorf("%s precision of %s: got %v, want undefined", c.Name, m.Group, m.Precision)
				}
			} else {
				check("precision", m.Precision, true, w["precision"])
			}
		}
		if tpr, _ := EqualOpportunityDifference(groups, 0); c.EODiff != nil && *c.EODiff > tpr+1e-9 {
			fprWins++ // equalized odds is the FPR gap here
		}
		v, ok := DemographicParityDifference(groups, 0)
		check("dp_difference", v, ok, c.DPDiff)
		v, ok = DemographicParityRatio(groups, 0)
		check("dp_ratio", v, ok, c.DPRatio)
		v, ok = EqualizedOddsDifference(groups, 0)
		check("eo_difference", v, ok, c.EODiff)
		v, ok = EqualizedOddsRatio(groups, 0)
		check("eo_ratio", v, ok, c.EORatio)
		v, ok = EqualOpportunityDifference(groups, 0)
		check("eop_difference", v, ok, c.EOpDiff)
		v, ok = EqualOpportunityRatio(groups, 0)
		check("eop_ratio", v, ok, c.EOpRat)
	}
	// The cases must exercise an undefined precision and an equalized odds
	// difference set by the FPR gap, or the checks above prove less.
	if undefined == 0 || fprWins == 0 {
		t.Errorf("golden cases with an undefined precision: %d, with the FPR gap deciding equalized odds: %d; want some of each", undefined, fprWins)
	}
	keys := make([]string, 0, len(maxDiff))
	for k := range maxDiff {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		t.Logf("max rel diff %-16s %.3g", k, maxDiff[k])
	}
}

func TestRules(t *testing.T) {
	groups := map[string]perf.Confusion{
		"a":     {TP: 40, FP: 10, TN: 40, FN: 10}, // SR 0.5, TPR 0.8, FPR 0.2
		"b":     {TP: 20, FP: 5, TN: 60, FN: 15},  // SR 0.25, TPR 4/7, FPR 1/13
		"small": {TP: 1, FP: 0, TN: 0, FN: 0},     // N 1: insufficient
		"nopos": {TP: 0, FP: 10, TN: 90, FN: 0},   // TPR undefined
		"empty": {},
	}
	const minN = 10
	tests := []struct {
		name string
		f    func(map[string]perf.Confusion, float64) (float64, bool)
		want float64
	}{
		// Selection rates judged: a 0.5, b 0.25, nopos 0.1.
		{"dp difference", DemographicParityDifference, 0.4},
		{"dp ratio", DemographicParityRatio, 0.2},
		// TPR judged: a 0.8, b 4/7 (nopos left out).
		{"eop difference", EqualOpportunityDifference, 0.8 - 4.0/7},
		{"eop ratio", EqualOpportunityRatio, (4.0 / 7) / 0.8},
		// FPR: a 0.2, b 1/13, nopos 0.1 -> 0.2-1/13; TPR gap is larger.
		{"eo difference", EqualizedOddsDifference, 0.8 - 4.0/7},
		{"eo ratio", EqualizedOddsRatio, (1.0 / 13) / 0.2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := tt.f(groups, minN)
			if !ok || math.Abs(got-tt.want) > 1e-12 {
				t.Fatalf("got (%v, %v), want %v", got, ok, tt.want)
			}
		})
	}
	for _, m := range ByGroup(groups, minN) {
		if want := m.Group != "small" && m.Group != "empty"; m.Sufficient != want {
			t.Errorf("group %s sufficient=%v", m.Group, m.Sufficient)
		}
	}
	// Fewer than two judged groups: not judged.
	one := map[string]perf.Confusion{"a": groups["a"], "small": groups["small"]}
	if v, ok := DemographicParityDifference(one, minN); ok {
		t.Errorf("one judged group: got %v, ok", v)
	}

	imp, err := DisparateImpact(groups, "a", minN, 0)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]struct {
		ratio   float64
		judged  bool
		adverse bool
	}{
		"b": {0.5, true, true}, "nopos": {0.2, true, true},
		"small": {math.NaN(), false, false}, "empty": {math.NaN(), false, false},
	}
	if len(imp) != len(want) {
		t.Fatalf("got %d impacts, want %d", len(imp), len(want))
	}
	for _, im := range imp {
		w := want[im.Group]
		if im.Judged != w.judged || im.Adverse != w.adverse || (w.judged && math.Abs(im.Ratio-w.ratio) > 1e-12) {
			t.Errorf("%s: got %+v, want %+v", im.Group, im, w)
		}
	}
	// Exactly four fifths is not adverse.
	ff := map[string]perf.Confusion{"r": {TP: 5, TN: 5}, "x": {TP: 4, TN: 6}}
	if imp, _ := DisparateImpact(ff, "r", 0, 0); imp[0].Adverse || imp[0].Ratio != 0.8 {
		t.Errorf("four fifths: %+v", imp[0])
	}
	for _, ref := range []string{"missing", "small", "empty"} {
		if _, err := DisparateImpact(groups, ref, minN, 0); err == nil {
			t.Errorf("reference %q: want error", ref)
		}
	}
	if _, err := DisparateImpact(map[string]perf.Confusion{"z": {TN: 10}}, "z", 0, 0); err == nil {
		t.Error("reference with selection rate 0: want error")
	}
}

// TestMergeEqualsWhole checks that per-group states merged from random
// partitions in random order give the same metrics as the whole.
func TestMergeEqualsWhole(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for trial := range 30 {
		parts := 1 + rng.IntN(6)
		whole := map[string]perf.Confusion{}
		split := make([]map[string]perf.Confusion, parts)
		for i := range split {
			split[i] = map[string]perf.Confusion{}
		}
		for range 1 + rng.IntN(3000) {
			g := string(rune('a' + rng.IntN(4)))
			pred, label := rng.IntN(3) == 0, rng.IntN(2) == 0
			c := whole[g]
			c.Add(pred, label, 1)
			whole[g] = c
			p := rng.IntN(parts)
			c = split[p][g]
			c.Add(pred, label, 1)
			split[p][g] = c
		}
		merged := map[string]perf.Confusion{}
		for _, p := range rng.Perm(parts) {
			for g, c := range split[p] {
				m := merged[g]
				m.Merge(c)
				merged[g] = m
			}
		}
		for _, f := range []func(map[string]perf.Confusion, float64) (float64, bool){
			DemographicParityDifference, DemographicParityRatio, EqualizedOddsDifference,
			EqualizedOddsRatio, EqualOpportunityDifference, EqualOpportunityRatio,
		} {
			a, okA := f(whole, 5)
			b, okB := f(merged, 5)
			if okA != okB || (okA && a != b) {
				t.Fatalf("trial %d: whole %v (%v) != merged %v (%v)", trial, a, okA, b, okB)
			}
		}
	}
}

// FuzzGroupMetrics builds groups from arbitrary counts and checks that no
// function panics and every defined rate, difference and ratio is in [0, 1].
func FuzzGroupMetrics(f *testing.F) {
	f.Add(1.0, 2.0, 3.0, 4.0, 0.0, 1.0, 0.0, 5.0, 3.0)
	f.Fuzz(func(t *testing.T, tp1, fp1, tn1, fn1, tp2, fp2, tn2, fn2, minN float64) {
		groups := map[string]perf.Confusion{}
		for g, v := range map[string][4]float64{"a": {tp1, fp1, tn1, fn1}, "b": {tp2, fp2, tn2, fn2}} {
			var c perf.Confusion
			c.Add(true, true, v[0])
			c.Add(true, false, v[1])
			c.Add(false, false, v[2])
			c.Add(false, true, v[3])
			groups[g] = c
		}
		in01 := func(name string, v float64, ok bool) {
			if ok && !(v >= 0 && v <= 1) {
				t.Fatalf("%s = %v", name, v)
			}
		}
		for name, f := range map[string]func(map[string]perf.Confusion, float64) (float64, bool){
			"dpd": DemographicParityDifference, "dpr": DemographicParityRatio,
			"eod": EqualizedOddsDifference, "eor": EqualizedOddsRatio,
			"eopd": EqualOpportunityDifference, "eopr": EqualOpportunityRatio,
		} {
			v, ok := f(groups, minN)
			in01(name, v, ok)
		}
		for _, m := range ByGroup(groups, minN) {
			for _, v := range []float64{m.SelectionRate, m.Accuracy, m.Precision, m.TPR, m.FPR} {
				in01(m.Group, v, !math.IsNaN(v))
			}
		}
		_, _ = DisparateImpact(groups, "a", minN, 0)
	})
}

func BenchmarkEqualizedOddsDifference(b *testing.B) {
	groups := map[string]perf.Confusion{}
	for i := range 16 {
		groups[string(rune('a'+i))] = perf.Confusion{TP: float64(10 + i), FP: 5, TN: 30, FN: float64(i)}
	}
	b.ReportAllocs()
	for b.Loop() {
		EqualizedOddsDifference(groups, 10)
	}
}
