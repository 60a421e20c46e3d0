package drift

import (
	"fmt"
	"math"
	"slices"
	"testing"
	"time"

	"github.com/driftwatch/driftwatch/baselines"
	"github.com/driftwatch/driftwatch/stats"
	"github.com/driftwatch/driftwatch/windows"
)

// TestDistributionsAreTheCellsOfTheRows checks that a subject's
// Distribution is what its distances were computed on: the PSI and
// Jensen-Shannon of its cells are the rows' values, and the cells hold every
// value on both sides.
func TestDistributionsAreTheCellsOfTheRows(t *testing.T) {
	// x: 100 reference values in each of the fine bins [i, i+1), i = 0..99.
	edges := make([]float64, 101)
	counts := make([]int64, 102)
	for i := range edges {
		edges[i] = float64(i)
	}
	for i := 1; i <= 100; i++ {
		counts[i] = 100
	}
	cats := map[string]int64{}
	for i := range 40 {
		cats[fmt.Sprintf("c%02d", i)] = int64(10 + i)
	}
	b := &baselines.Baseline{
		Format: 2, ID: "b", Model: "m",
		Features: []baselines.Feature{
			{Name: "x", Kind: baselines.Numeric, Count: 10000, Edges: edges, Counts: counts, Sums: make([]float64, 102), Min: 0, Max: 100, Mean: 50, Std: 28.9},
			{Name: "city", Kind: baselines.Categorical, Count: 1180, Categories: cats},
		},
		Prediction: baselines.Feature{Name: "prediction", Kind: baselines.Categorical, Count: 3000, Categories: map[string]int64{"yes": 1500, "no": 1500}},
	}
	w := windows.NewWindow(windows.Key{Model: "m", Version: "1"}, t0, t0.Add(time.Hour), b, 100)
	x := &w.Features[0]
	for i := 30; i <= 101; i++ { // shifted up: nothing below 29, some above 100
		x.Counts[i] = 20
		x.Count += 20
	}
	x.Min, x.Max = 29.5, 140
	city := &w.Features[1]
	for i := range 40 {
		city.Categories[fmt.Sprintf("c%02d", i)] = int64(50 - i)
		city.Count += int64(50 - i)
	}
	city.Categories["new"] = 300
	city.Count += 300
	w.Prediction.Categories["yes"], w.Prediction.Count = 400, 400

	e := NewEvaluator(DefaultPolicy(), nil)
	rows := e.Evaluate(w)
	ds := e.Distributions(w)
	if got := len(ds); got != 3 {
		t.Fatalf("%d distributions, want x, city and prediction: %+v", got, ds)
	}
	for _, d := range ds {
		sum := func(v []float64) float64 {
			var s float64
			for _, c := range v {
				s += c
			}
			return s
		}
		var n, m int64
		switch d.Subject {
		case "x":
			n, m = x.Count, 10000
			if len(d.Edges) != len(d.Reference)+1 || !slices.IsSorted(d.Edges) {
				t.Errorf("x: edges %v for %d cells", d.Edges, len(d.Reference))
			}
			if d.Edges[0] != 0 || d.Edges[len(d.Edges)-1] != 140 {
				t.Errorf("x: edges from %g to %g, want the smallest and largest values 0 and 140", d.Edges[0], d.Edges[len(d.Edges)-1])
			}
		case "city":
			n, m = city.Count, 1180
			if len(d.Categories) != MaxDistributionCells || d.OtherCells != 41-(MaxDistributionCells-1) {
				t.Errorf("city: %d cells, %d summed; want %d cells and the other %d summed", len(d.Categories), d.OtherCells, MaxDistributionCells, 41-(MaxDistributionCells-1))
			}
			if !slices.Contains(d.Categories, "new") || d.Categories[len(d.Categories)-1] != baselines.OtherCategory {
				t.Errorf("city: categories %v lack the unseen one or the summed rest", d.Categories)
			}
			// c39 has the largest reference share, c00 a large window one;
			// c15 is small on both sides.
			if !slices.Contains(d.Categories, "c39") || !slices.Contains(d.Categories, "c00") || slices.Contains(d.Categories, "c15") {
				t.Errorf("city: kept %v; want the categories of the largest shares on either side (c39, c00), not c15", d.Categories)
			}
		case "prediction":
			n, m = 400, 3000
		}
		if sum(d.Current) != float64(n) || sum(d.Reference) != float64(m) {
			t.Errorf("%s: cells hold %g window and %g reference values, want %d and %d", d.Subject, sum(d.Current), sum(d.Reference), n, m)
		}
		if d.Subject == "city" {
			continue // capped: the rows' cells are every category
		}
		psi := find(t, rows, d.Family, d.Subject, MetricPSI).Value
		if got := stats.PSI(d.Reference, d.Current, stats.DefaultPSIEpsilon); math.Abs(got-psi) > 1e-12 {
			t.Errorf("%s: PSI of the distribution's cells %g, the row's %g", d.Subject, got, psi)
		}
	}
}
