package baselines

import (
	"bytes"
	"encoding/json"
	"math"
	"math/rand/v2"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

var testNow = time.Date(2026, 11, 20, 10, 15, 3, 120_000_000, time.UTC)

func testOptions() BuildOptions {
	return BuildOptions{Now: func() time.Time { return testNow }, Source: "test"}
}

// numericBaseline builds a baseline with one numeric feature "x" of values.
func numericBaseline(t *testing.T, bins int, values ...float64) *Baseline {
	t.Helper()
	opts := testOptions()
	opts.Bins = bins
	b := NewBuilder("m", opts)
	for _, v := range values {
		b.AddNumber("x", v)
		b.EndRow()
	}
	bl, err := b.Build()
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	return bl
}

// numpySample and the edges below come from numpy 2.4.6:
//
//	np.quantile(np.array(numpySample), np.arange(bins+1)/bins)
var numpySample = []float64{
	44.882, 60.229, 45.478, 43.699, 31.4, 45.734, 72.238, 58.483, 70.738, 54.978,
	57.895, 53.707, 16.679, 67.105, 60.128, 59.976, 16.173, 15.122, 32.208, 40.636,
	56.109, 49.082, 60.419, 12.5, 12.5, 0.1, 0.2, 0.3,
}

func TestEdgesMatchNumpy(t *testing.T) {
	tests := []struct {
		bins  int
		edges []float64
	}{
		{4, []float64{0.1, 16.5525, 45.606, 58.856249999999996, 72.238}},
		{7, []float64{0.1, 12.5, 27.19399999999999, 44.375, 51.06414285714285, 58.063, 60.256142857142855, 72.238}},
		{10, []float64{0.1, 8.840000000000003, 15.542399999999999, 31.4808, 43.0864, 45.606, 53.9612, 57.7164, 60.0672, 62.424800000000005, 72.238}},
	}
	for _, tt := range tests {
		bl := numericBaseline(t, tt.bins, numpySample...)
		f := bl.Features[0]
		if f.Kind != Numeric {
			t.Fatalf("bins %d: kind %q, want numeric", tt.bins, f.Kind)
		}
		// Bit for bit: Build evaluates the interpolation as numpy does.
		if !slices.Equal(f.Edges, tt.edges) {
			t.Errorf("bins %d: edges\n got %v\nwant %v", tt.bins, f.Edges, tt.edges)
		}
	}
}

func TestEdgesDiscrete(t *testing.T) {
	tests := []struct {
		name   string
		bins   int
		values []float64
		edges  []float64
		counts []int64
		sums   []float64
	}{
		{
			name:   "three values",
			bins:   100,
			values: repeat(0, 405, 1, 350, 2, 246),
			edges:  []float64{0, 1, 2},
			counts: []int64{0, 405, 350, 246},
			sums:   []float64{0, 0, 350, 492},
		},
		{
			// Linear interpolation puts edges between the values when a
			// quantile level falls between two order statistics that differ
			// (numpy agrees: np.quantile([1,2,3], np.arange(5)/4)).
			name:   "fewer values than bins",
			bins:   4,
			values: []float64{1, 2, 3},
			edges:  []float64{1, 1.5, 2, 2.5, 3},
			counts: []int64{0, 1, 0, 1, 0, 1},
			sums:   []float64{0, 1, 0, 2, 0, 3},
		},
		{
			name:   "constant",
			bins:   100,
			values: []float64{7, 7, 7},
			edges:  []float64{7},
			counts: []int64{0, 3},
			sums:   []float64{0, 21},
		},
		{
			name:   "single value",
			bins:   10,
			values: []float64{-2.5},
			edges:  []float64{-2.5},
			counts: []int64{0, 1},
			sums:   []float64{0, -2.5},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := numericBaseline(t, tt.bins, tt.values...).Features[0]
			if !slices.Equal(f.Edges, tt.edges) || !slices.Equal(f.Counts, tt.counts) || !slices.Equal(f.Sums, tt.sums) {
				t.Errorf("edges %v counts %v sums %v\nwant edges %v counts %v sums %v",
					f.Edges, f.Counts, f.Sums, tt.edges, tt.counts, tt.sums)
			}
		})
	}
}

// repeat returns value, count pairs expanded: repeat(0, 2, 1, 1) is [0 0 1].
func repeat(pairs ...float64) []float64 {
	var out []float64
	for i := 0; i < len(pairs); i += 2 {
		for range int(pairs[i+1]) {
			out = append(out, pairs[i])
		}
	}
	return out
}

func TestCountsAndSumsAddUp(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	samples := map[string][]float64{
		"normal":      make([]float64, 5000),
		"exponential": make([]float64, 5000),
		"rounded":     make([]float64, 5000),
	}
	for i := range 5000 {
		samples["normal"][i] = rng.NormFloat64()*3 + 10
		samples["exponential"][i] = rng.ExpFloat64()
		samples["rounded"][i] = math.Round(rng.NormFloat64() * 2)
	}
	for name, values := range samples {
		for _, bins := range []int{1, 10, 100, 1000} {
			f := numericBaseline(t, bins, values...).Features[0]
			var count int64
			var total, sums, sq float64
			for _, x := range values {
				total += x
			}
			mean := total / float64(len(values))
			for _, x := range values {
				sq += (x - mean) * (x - mean)
			}
			for i, c := range f.Counts {
				count += c
				sums += f.Sums[i]
			}
			if count != f.Count || f.Count != int64(len(values)) {
				t.Errorf("%s/%d: counts add up to %d, Count %d, want %d", name, bins, count, f.Count, len(values))
			}
			if !near(sums, total) || !near(f.Mean, mean) || !near(f.Std, math.Sqrt(sq/float64(len(values)))) {
				t.Errorf("%s/%d: sums %v total %v mean %v std %v", name, bins, sums, total, f.Mean, f.Std)
			}
			if len(f.Edges) > bins+1 || f.Edges[0] != f.Min || f.Edges[len(f.Edges)-1] != f.Max ||
				f.Min != slices.Min(values) || f.Max != slices.Max(values) {
				t.Errorf("%s/%d: %d edges from %v to %v, min %v max %v", name, bins, len(f.Edges), f.Edges[0], f.Edges[len(f.Edges)-1], f.Min, f.Max)
			}
			if f.Counts[0] != 0 {
				t.Errorf("%s/%d: %d values below the smallest edge", name, bins, f.Counts[0])
			}
		}
	}
}

func near(a, b float64) bool { return math.Abs(a-b) <= 1e-9*math.Max(1, math.Abs(b)) }

func TestCategoricalCap(t *testing.T) {
	tests := []struct {
		name   string
		max    int
		counts map[string]int
		want   map[string]int64
	}{
		{"under the cap", 5, map[string]int{"a": 2, "b": 1}, map[string]int64{"a": 2, "b": 1}},
		{"at the cap", 2, map[string]int{"a": 2, "b": 1}, map[string]int64{"a": 2, "b": 1}},
		{"over the cap", 3, map[string]int{"a": 5, "b": 4, "c": 3, "d": 2, "e": 1},
			map[string]int64{"a": 5, "b": 4, OtherCategory: 6}},
		{"ties by value", 2, map[string]int{"c": 2, "b": 2, "a": 2}, map[string]int64{"a": 2, OtherCategory: 4}},
		{"cap of one", 1, map[string]int{"a": 5, "b": 4}, map[string]int64{OtherCategory: 9}},
		{"other as a value", 2, map[string]int{OtherCategory: 1, "a": 3, "b": 2},
			map[string]int64{"a": 3, OtherCategory: 3}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := testOptions()
			opts.MaxCategories = tt.max
			b := NewBuilder("m", opts)
			var rows int64
			for v, n := range tt.counts {
				for range n {
					b.AddCategory("c", v)
					b.EndRow()
					rows++
				}
			}
			bl, err := b.Build()
			if err != nil {
				t.Fatal(err)
			}
			f := bl.Features[0]
			if f.Kind != Categorical || f.Count != rows || f.Nulls != 0 || !reflect.DeepEqual(f.Categories, tt.want) {
				t.Errorf("kind %s count %d nulls %d categories %v, want categorical %d 0 %v",
					f.Kind, f.Count, f.Nulls, f.Categories, rows, tt.want)
			}
		})
	}
	if DefaultMaxCategories != 1000 {
		t.Errorf("DefaultMaxCategories = %d", DefaultMaxCategories)
	}
}

func TestNullsAndKinds(t *testing.T) {
	b := NewBuilder("m", testOptions())
	// Row 0: a=1, b="x", c null, d absent.
	b.AddNumber("a", 1)
	b.AddCategory("b", "x")
	b.AddNull("c")
	b.AddPredictionNumber(0.5)
	b.EndRow()
	// Row 1: a=NaN (null), b=2 (a number: b becomes categorical), d=+Inf (null).
	b.AddNumber("a", math.NaN())
	b.AddNumber("b", 2)
	b.AddNumber("d", math.Inf(1))
	b.AddPredictionNull()
	b.EndRow()
	// Row 2: nothing at all.
	b.EndRow()
	// Row 3: a=3 twice (the second ignored), d=4, b=1.5; left pending.
	b.AddNumber("a", 3)
	b.AddNumber("a", 300)
	b.AddNumber("d", 4)
	b.AddNumber("b", 1.5)
	b.AddPredictionNumber(0.25)
	bl, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	if bl.Rows != 4 {
		t.Fatalf("rows %d, want 4 (the pending row ends in Build)", bl.Rows)
	}
	want := []struct {
		name         string
		kind         Kind
		count, nulls int64
		categories   map[string]int64
	}{
		{"a", Numeric, 2, 2, nil},
		{"b", Categorical, 3, 1, map[string]int64{"x": 1, "2": 1, "1.5": 1}},
		{"c", Categorical, 0, 4, nil},
		{"d", Numeric, 1, 3, nil},
	}
	if len(bl.Features) != len(want) {
		t.Fatalf("%d features, want %d", len(bl.Features), len(want))
	}
	for i, w := range want {
		f := bl.Features[i]
		if f.Name != w.name || f.Kind != w.kind || f.Count != w.count || f.Nulls != w.nulls ||
			!reflect.DeepEqual(f.Categories, w.categories) {
			t.Errorf("feature %d: %s %s count %d nulls %d categories %v, want %+v",
				i, f.Name, f.Kind, f.Count, f.Nulls, f.Categories, w)
		}
	}
	if a := bl.Features[0]; a.Sums[len(a.Sums)-1] != 3 || a.Max != 3 || a.Mean != 2 {
		t.Errorf("a: the second value of a row counted: %+v", a)
	}
	if got := bl.Features[2].NullRate(); got != 1 {
		t.Errorf("c: null rate %v, want 1", got)
	}
	p := bl.Prediction
	if p.Name != PredictionName || p.Kind != Numeric || p.Count != 2 || p.Nulls != 2 || p.Mean != 0.375 {
		t.Errorf("prediction %+v", p)
	}
}

func TestPredictionAbsent(t *testing.T) {
	b := NewBuilder("m", testOptions())
	b.AddCategory("f", "x")
	b.EndRow()
	bl, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	want := Feature{Name: PredictionName, Kind: Categorical}
	if !reflect.DeepEqual(bl.Prediction, want) {
		t.Errorf("prediction %+v, want %+v", bl.Prediction, want)
	}
}

func TestBuildErrors(t *testing.T) {
	tests := []struct {
		name  string
		model string
		feed  func(*Builder)
		want  string
	}{
		{"no model", "", func(b *Builder) { b.AddNumber("x", 1); b.EndRow() }, "model is required"},
		{"no rows", "m", func(*Builder) {}, `model "m": no rows`},
		{"no features", "m", func(b *Builder) { b.AddPredictionNumber(1); b.EndRow() }, "no features in 1 rows"},
		{"overflow", "m", func(b *Builder) {
			for range 3 {
				b.AddNumber("x", math.MaxFloat64)
				b.EndRow()
			}
		}, `feature "x": sum of values in a bin overflows`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := NewBuilder(tt.model, testOptions())
			tt.feed(b)
			bl, err := b.Build()
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Build = %v, %v; want error containing %q", bl, err, tt.want)
			}
		})
	}
}

func TestExtremeValues(t *testing.T) {
	bl := numericBaseline(t, 3, -math.MaxFloat64, math.MaxFloat64, 0, 1)
	if err := bl.Validate(); err != nil {
		t.Fatal(err)
	}
	f := bl.Features[0]
	for _, e := range f.Edges {
		if math.IsInf(e, 0) || math.IsNaN(e) {
			t.Fatalf("edges %v", f.Edges)
		}
	}
	// σ² = (2·Max²)/4 for {-Max, Max, 0, 1}, up to the 1 and the 0.
	if want := math.MaxFloat64 / math.Sqrt2; math.Abs(f.Std-want) > 1e-12*want || math.Abs(f.Mean) > 1 {
		t.Errorf("mean %v std %v, want about 0 and %v", f.Mean, f.Std, want)
	}
}

func TestDeterministicID(t *testing.T) {
	build := func(now time.Time, reversed bool, last float64) *Baseline {
		t.Helper()
		opts := testOptions()
		opts.Now = func() time.Time { return now }
		b := NewBuilder("fraud", opts)
		for i := range 50 {
			x := float64(i)
			if i == 49 {
				x = last
			}
			if reversed {
				b.AddCategory("country", []string{"DE", "FR"}[i%2])
				b.AddNumber("amount", x)
			} else {
				b.AddNumber("amount", x)
				b.AddCategory("country", []string{"DE", "FR"}[i%2])
			}
			b.AddPredictionNumber(x / 50)
			b.EndRow()
		}
		bl, err := b.Build()
		if err != nil {
			t.Fatal(err)
		}
		return bl
	}
	base := build(testNow, false, 49)
	if !regexp.MustCompile(`^fraud-20261120T101503Z-[0-9a-f]{8}$`).MatchString(base.ID) {
		t.Errorf("id %q", base.ID)
	}
	if base.Format != 1 || base.Source != "test" || !base.CreatedAt.Equal(testNow) {
		t.Errorf("format %d source %q created %v", base.Format, base.Source, base.CreatedAt)
	}
	tests := []struct {
		name string
		bl   *Baseline
		same bool
	}{
		{"same rows and time", build(testNow, false, 49), true},
		{"same rows, features in another order", build(testNow, true, 49), true},
		{"same rows, time in another zone", build(testNow.In(time.FixedZone("CET", 3600)), false, 49), true},
		{"one value differs", build(testNow, false, 48.5), false},
		{"a millisecond later", build(testNow.Add(time.Millisecond), false, 49), false},
	}
	for _, tt := range tests {
		if (tt.bl.ID == base.ID) != tt.same {
			t.Errorf("%s: id %s, first %s", tt.name, tt.bl.ID, base.ID)
		}
	}
}

func TestSaveLoadRoundTrip(t *testing.T) {
	b := NewBuilder("fraud", BuildOptions{Now: func() time.Time { return testNow }, Source: "train.csv", ModelVersion: "1.4.2", Bins: 10})
	rng := rand.New(rand.NewPCG(3, 4))
	for i := range 200 {
		b.AddNumber("amount", rng.ExpFloat64()*100)
		b.AddCategory("country", []string{"DE", "FR", "US"}[rng.IntN(3)])
		if i%7 == 0 {
			b.AddNull("age")
		} else {
			b.AddNumber("age", float64(18+rng.IntN(60)))
		}
		b.AddPredictionNumber(rng.Float64())
		b.EndRow()
	}
	want, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), want.ID+".json")
	if err := want.Save(path); err != nil {
		t.Fatal(err)
	}
	got, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	// The multivariate model's sample holds NaN (missing ages), which
	// DeepEqual never finds equal: it is compared in its JSON form, which
	// writes every value's bits.
	if want.Multivariate == nil || got.Multivariate == nil {
		t.Fatalf("multivariate model: built %v, loaded %v", want.Multivariate != nil, got.Multivariate != nil)
	}
	gm, _ := json.Marshal(got.Multivariate)
	wm, _ := json.Marshal(want.Multivariate)
	if !bytes.Equal(gm, wm) {
		t.Errorf("multivariate model loaded\n%s\nwant\n%s", gm, wm)
	}
	g, w := *got, *want
	g.Multivariate, w.Multivariate = nil, nil
	if !reflect.DeepEqual(g, w) {
		t.Errorf("loaded\n%+v\nwant\n%+v", g, w)
	}
	byModel, err := LoadDir(filepath.Dir(path))
	if err != nil || byModel["fraud"] == nil || byModel["fraud"].ID != want.ID {
		t.Errorf("LoadDir = %v, %v", byModel, err)
	}
}

func TestValidateFailures(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*Baseline)
		want   string
	}{
		{"unsorted edges", func(b *Baseline) { e := b.Features[0].Edges; e[0], e[1] = e[1], e[0] }, "not strictly ascending at 1"},
		{"repeated edge", func(b *Baseline) { e := b.Features[0].Edges; e[1] = e[0] }, "not strictly ascending at 1"},
		{"infinite edge", func(b *Baseline) { e := b.Features[0].Edges; e[len(e)-1] = math.Inf(1) }, "not finite"},
		{"NaN edge", func(b *Baseline) { b.Features[0].Edges[0] = math.NaN() }, "not strictly ascending at 1"},
		{"counts too short", func(b *Baseline) { f := &b.Features[0]; f.Counts = f.Counts[1:] }, "need"},
		{"numeric without edges", func(b *Baseline) { b.Features[0].Edges = nil }, "no bin edges"},
		{"unknown kind", func(b *Baseline) { b.Features[1].Kind = "ordinal" }, `unknown kind "ordinal"`},
		{"feature twice", func(b *Baseline) { b.Features[1].Name = b.Features[0].Name }, "twice"},
		{"no features", func(b *Baseline) { b.Features = nil }, "no features"},
		{"no id", func(b *Baseline) { b.ID = "" }, "id and model are required"},
		{"newer format", func(b *Baseline) { b.Format = FormatVersion + 1 }, "newer than this driftwatch understands"},
		{"bad prediction", func(b *Baseline) { b.Prediction.Kind = "" }, `feature "prediction": unknown kind`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := NewBuilder("m", testOptions())
			for i := range 20 {
				b.AddNumber("a", float64(i))
				b.AddCategory("b", "x")
				b.AddPredictionNumber(float64(i % 3))
				b.EndRow()
			}
			bl, err := b.Build()
			if err != nil {
				t.Fatal(err)
			}
			if err := bl.Validate(); err != nil {
				t.Fatalf("valid baseline: %v", err)
			}
			tt.mutate(bl)
			if err := bl.Validate(); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Validate = %v, want error containing %q", err, tt.want)
			}
			// Load must refuse what Validate refuses.
			if tt.name == "infinite edge" || tt.name == "NaN edge" {
				return // JSON cannot hold them in the first place
			}
			path := filepath.Join(t.TempDir(), "b.json")
			if err := bl.Save(path); err != nil {
				t.Fatal(err)
			}
			if _, err := Load(path); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Load = %v, want error containing %q", err, tt.want)
			}
		})
	}
}

func BenchmarkBuild(b *testing.B) {
	rng := rand.New(rand.NewPCG(5, 6))
	values := make([]float64, 100_000)
	for i := range values {
		values[i] = rng.NormFloat64()
	}
	b.ReportAllocs()
	b.SetBytes(int64(8 * len(values)))
	for b.Loop() {
		bl := NewBuilder("m", testOptions())
		for _, v := range values {
			bl.AddNumber("x", v)
			bl.AddCategory("c", "a")
			bl.EndRow()
		}
		if _, err := bl.Build(); err != nil {
			b.Fatal(err)
		}
	}
}

func TestQuantileOverflow(t *testing.T) {
	got := quantile([]float64{-math.MaxFloat64, math.MaxFloat64}, 0.5)
	if got != 0 {
		t.Errorf("median of ±MaxFloat64 = %v, want 0", got)
	}
}

// TestPredictionErrors: a reference with numeric predictions and labels
// keeps its errors per prediction bin, summing to Errors, each pair in the
// bin of its prediction; it saves and loads; labels that are not numbers
// add none.
func TestPredictionErrors(t *testing.T) {
	b := NewBuilder("m", BuildOptions{Now: func() time.Time { return testNow }, Bins: 8})
	rng := rand.New(rand.NewPCG(7, 8))
	type pair struct{ x, y float64 }
	var pairs []pair
	for i := range 500 {
		x := rng.NormFloat64() * 3
		b.AddNumber("a", rng.Float64())
		b.AddPredictionNumber(x)
		switch {
		case i%10 == 0: // no label
		case i%10 == 1:
			b.AddLabel("unknown", x, true) // a label that is not a number
		default:
			y := x + rng.NormFloat64()*(1+math.Abs(x)) // errors grow with |x|
			y = math.Round(y*1000) / 1000
			b.AddLabel(strconv.FormatFloat(y, 'g', -1, 64), x, true)
			pairs = append(pairs, pair{x, y})
		}
		b.EndRow()
	}
	bl, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	e := bl.PredictionErrors
	if e == nil || len(e.N) != len(bl.Prediction.Edges)+1 {
		t.Fatalf("prediction errors %+v for %d edges", e, len(bl.Prediction.Edges))
	}
	k := len(e.N)
	n := make([]int64, k)
	abs, sq, quad := make([]float64, k), make([]float64, k), make([]float64, k)
	for _, p := range pairs {
		i := bl.Prediction.Bin(p.x)
		d := p.x - p.y
		n[i]++
		abs[i] += math.Abs(d)
		sq[i] += d * d
		quad[i] += d * d * d * d
	}
	var total int64
	var totalAbs float64
	for i := range k {
		total += e.N[i]
		totalAbs += e.SumAbs[i]
		if e.N[i] != n[i] || !near(e.SumAbs[i], abs[i]) || !near(e.SumSq[i], sq[i]) || !near(e.SumQuad[i], quad[i]) {
			t.Errorf("bin %d: %d, %g, %g, %g; want %d, %g, %g, %g", i, e.N[i], e.SumAbs[i], e.SumSq[i], e.SumQuad[i], n[i], abs[i], sq[i], quad[i])
		}
	}
	if total != bl.Errors.N || !near(totalAbs, bl.Errors.SumAbs) || total != int64(len(pairs)) {
		t.Errorf("bins hold %d pairs (|e| %g), errors %d (%g), %d labelled", total, totalAbs, bl.Errors.N, bl.Errors.SumAbs, len(pairs))
	}
	path := filepath.Join(t.TempDir(), bl.ID+".json")
	if err := bl.Save(path); err != nil {
		t.Fatal(err)
	}
	got, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got.PredictionErrors, e) {
		t.Errorf("loaded %+v, saved %+v", got.PredictionErrors, e)
	}
	for _, bad := range []func(*BinErrorSums){
		func(e *BinErrorSums) { e.N = e.N[1:] },
		func(e *BinErrorSums) { e.N[2] = -1 },
		func(e *BinErrorSums) { e.SumSq[0] = -1 },
		func(e *BinErrorSums) { e.SumQuad[0] = math.Inf(1) },
	} {
		c := *bl
		pe := BinErrorSums{N: slices.Clone(e.N), SumAbs: slices.Clone(e.SumAbs), SumSq: slices.Clone(e.SumSq), SumQuad: slices.Clone(e.SumQuad)}
		bad(&pe)
		c.PredictionErrors = &pe
		if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "prediction_errors") {
			t.Errorf("Validate of %+v = %v, want a prediction_errors error", pe, err)
		}
	}
}
