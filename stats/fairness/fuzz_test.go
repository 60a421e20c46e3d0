package fairness

import (
	"cmp"
	"math"
	"slices"
	"testing"

	"github.com/driftwatch/driftwatch/stats/perf"
)

// FuzzFairness covers every entry point of the package: ByGroup,
// SelectionRate, DemographicParityDifference, DemographicParityRatio,
// EqualOpportunityDifference, EqualOpportunityRatio,
// EqualizedOddsDifference, EqualizedOddsRatio and DisparateImpact, on up to
// four groups built from one byte per observation (FuzzGroupMetrics in
// fairness_test.go covers two groups from raw float64 counts).
//
// Weights come from a small alphabet that includes the bad ones (0,
// negative, NaN, ±Inf, which Add drops) and huge ones whose sums overflow
// to +Inf, the one non-finite count a merged perf.Confusion can hold.
var weights = [...]float64{1, 0, -1, math.NaN(), math.Inf(1), math.MaxFloat64, 1e300, 5e-324, 0.5, 2, 3, 1e-300}

func FuzzFairness(f *testing.F) {
	f.Add([]byte{0x00, 0x13, 0x20, 0x31, 0x42, 0x53, 0x60, 0x71}, 2.0, uint8(0), 0.0)
	f.Add([]byte{0x00, 0x01}, 0.0, uint8(0), 0.8)                       // one group
	f.Add([]byte{0x03, 0x43, 0x82, 0xc2}, 0.0, uint8(1), 0.0)           // reference never selected
	f.Add([]byte{0x17, 0x17, 0x01, 0x41}, 0.0, uint8(0), 0.0)           // reference weight overflows
	f.Add([]byte{0x10, 0x51, 0x92, 0xd3}, math.NaN(), uint8(0), -1.0)   // NaN minimum
	f.Add([]byte{0x60, 0x61, 0x72, 0x73}, 1e300, uint8(3), math.Inf(1)) // huge minimum
	f.Add([]byte{0x70, 0x31, 0xb2, 0xf3}, 0.0, uint8(2), 0.9)           // subnormal weights
	f.Add([]byte{}, 0.0, uint8(0), 0.0)
	f.Fuzz(func(t *testing.T, data []byte, minN float64, refb uint8, threshold float64) {
		names := []string{"a", "b", "c", "d"}
		groups := map[string]perf.Confusion{}
		for _, b := range data[:min(len(data), 128)] {
			// bits 0-1: pred, label; 2-5: weight; 6-7: group.
			g := names[b>>6]
			c := groups[g]
			c.Add(b&1 == 1, b&2 == 2, weights[int(b>>2&0xf)%len(weights)])
			groups[g] = c
		}
		in01 := func(name string, v float64, ok bool) {
			t.Helper()
			if ok != !math.IsNaN(v) || ok && !(v >= 0 && v <= 1) {
				t.Fatalf("%s = %v, %v for %v (min %v)", name, v, ok, groups, minN)
			}
		}
		judged := func(c perf.Confusion) bool { return c.N() >= minN }

		by := ByGroup(groups, minN)
		if len(by) != len(groups) || !slices.IsSortedFunc(by, func(a, b GroupMetrics) int { return cmp.Compare(a.Group, b.Group) }) {
			t.Fatalf("ByGroup = %+v for %v", by, groups)
		}
		for _, m := range by {
			c := groups[m.Group]
			if m.N != c.N() || m.Sufficient != (judged(c) && c.N() > 0) {
				t.Fatalf("ByGroup %+v for %+v (min %v)", m, c, minN)
			}
			for name, v := range map[string]float64{"SelectionRate": m.SelectionRate, "Accuracy": m.Accuracy,
				"Precision": m.Precision, "TPR": m.TPR, "FPR": m.FPR} {
				in01(m.Group+"."+name, v, !math.IsNaN(v))
			}
			if sr, ok := SelectionRate(c); !(sr == m.SelectionRate || !ok && math.IsNaN(m.SelectionRate)) {
				t.Fatalf("SelectionRate = %v, %v, ByGroup %v", sr, ok, m.SelectionRate)
			}
		}

		// A between-group metric is defined exactly when two judged groups
		// have the rate defined.
		defined := func(rate func(perf.Confusion) (float64, bool)) (n int, lo, hi float64) {
			lo, hi = math.Inf(1), math.Inf(-1)
			for _, c := range groups {
				if v, ok := rate(c); ok && judged(c) {
					n++
					lo, hi = min(lo, v), max(hi, v)
				}
			}
			return n, lo, hi
		}
		for _, m := range []struct {
			name      string
			diff, rat func(map[string]perf.Confusion, float64) (float64, bool)
			rate      func(perf.Confusion) (float64, bool)
		}{
			{"DemographicParity", DemographicParityDifference, DemographicParityRatio, perf.Confusion.SelectionRate},
			{"EqualOpportunity", EqualOpportunityDifference, EqualOpportunityRatio, perf.Confusion.Recall},
		} {
			d, okD := m.diff(groups, minN)
			r, okR := m.rat(groups, minN)
			in01(m.name+"Difference", d, okD)
			in01(m.name+"Ratio", r, okR)
			n, lo, hi := defined(m.rate)
			if okD != (n >= 2) || okD && d != hi-lo || okR != (n >= 2 && hi > 0) || okR && r != lo/hi {
				t.Fatalf("%s = %v %v / %v %v, want %d groups in [%v, %v]", m.name, d, okD, r, okR, n, lo, hi)
			}
		}
		eod, okEOD := EqualizedOddsDifference(groups, minN)
		eor, okEOR := EqualizedOddsRatio(groups, minN)
		in01("EqualizedOddsDifference", eod, okEOD)
		in01("EqualizedOddsRatio", eor, okEOR)
		nT, _, _ := defined(perf.Confusion.Recall)
		nF, _, _ := defined(perf.Confusion.FPR)
		if okEOD != (nT >= 2 || nF >= 2) {
			t.Fatalf("EqualizedOddsDifference ok = %v with %d TPR and %d FPR groups", okEOD, nT, nF)
		}
		if tpr, ok := EqualOpportunityDifference(groups, minN); ok && eod < tpr {
			t.Fatalf("EqualizedOddsDifference %v below the TPR difference %v", eod, tpr)
		}
		if tpr, ok := EqualOpportunityRatio(groups, minN); ok && okEOR && eor > tpr {
			t.Fatalf("EqualizedOddsRatio %v above the TPR ratio %v", eor, tpr)
		}

		ref := names[int(refb)%len(names)]
		imp, err := DisparateImpact(groups, ref, minN, threshold)
		rc, found := groups[ref]
		refSR, refOK := rc.SelectionRate()
		wantErr := !found || !judged(rc) || !refOK || refSR == 0
		if (err != nil) != wantErr {
			t.Fatalf("DisparateImpact(ref %q %+v, min %v) error = %v", ref, rc, minN, err)
		}
		if err != nil {
			return
		}
		th := threshold
		if !(th > 0) {
			th = FourFifths
		}
		if len(imp) != len(groups)-1 {
			t.Fatalf("DisparateImpact returned %d groups of %d", len(imp), len(groups))
		}
		for _, im := range imp {
			switch {
			case im.Group == ref:
				t.Fatalf("DisparateImpact lists the reference %q", ref)
			case im.Judged && !(im.Ratio >= 0): // +Inf when the reference rate is subnormal
				t.Fatalf("DisparateImpact judged %+v", im)
			case !im.Judged && (!math.IsNaN(im.Ratio) || im.Adverse):
				t.Fatalf("DisparateImpact not judged %+v", im)
			case im.Judged && im.Adverse != (im.Ratio < th):
				t.Fatalf("DisparateImpact %+v with threshold %v", im, th)
			}
		}
	})
}
