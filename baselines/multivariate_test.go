package baselines

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"
)

// addDrawn adds a row drawn by mvRowTo to b: heavy-tailed amounts, two
// correlated normals, six more, a category, and a sometimes-missing count.
func addDrawn(rng *rand.Rand, b *Builder) {
	rec := &recorder{vals: map[string]any{}}
	mvRowTo(rng, rec)
	for _, name := range slices.Sorted(maps.Keys(rec.vals)) {
		switch v := rec.vals[name].(type) {
		case float64:
			b.AddNumber(name, v)
		case string:
			b.AddCategory(name, v)
		}
	}
	if rec.vals["count"] == nil {
		b.AddNull("count")
	}
	b.AddPredictionNumber(0.5)
	b.EndRow()
}

func mvBuild(t *testing.T, seed uint64, rows, limit int) *Baseline {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 1))
	b := NewBuilder("m", BuildOptions{Now: func() time.Time { return testNow }, MultivariateRows: limit})
	for range rows {
		addDrawn(rng, b)
	}
	bl, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	return bl
}

// rawRows returns the raw rows (numbers, codes, NaN) of n rows drawn as
// mvRow draws them, for m's features.
func rawRows(t *testing.T, m *Multivariate, seed uint64, n int) [][]float64 {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 1))
	out := make([][]float64, n)
	for i := range out {
		rec := &recorder{vals: map[string]any{}}
		mvRowTo(rng, rec)
		row := make([]float64, m.Width())
		for j, f := range m.Features {
			switch v := rec.vals[f.Name].(type) {
			case float64:
				row[j] = v
			case string:
				row[j] = m.Code(j, v)
			default:
				row[j] = math.NaN()
			}
		}
		out[i] = row
	}
	return out
}

// recorder captures a row's values as mvRow adds them.
type recorder struct{ vals map[string]any }

// mvRowTo draws the row mvRow draws into rec (the same draws in the same
// order).
func mvRowTo(rng *rand.Rand, rec *recorder) {
	z := rng.NormFloat64()
	rec.vals["amount"] = math.Exp(3 + 1.2*rng.NormFloat64())
	rec.vals["x"] = z
	rec.vals["y"] = 0.8*z + 0.6*rng.NormFloat64()
	for j := range 6 {
		rec.vals[fmt.Sprintf("n%d", j)] = rng.NormFloat64() * float64(j+1)
	}
	rec.vals["country"] = []string{"DE", "FR", "US", "NL"}[min(int(rng.ExpFloat64()), 3)]
	if rng.IntN(10) != 0 {
		rec.vals["count"] = float64(rng.IntN(7))
	}
}

// meanError is the mean reconstruction error of raw rows under m, each
// capped at m.ErrorCap as the baseline's are.
func meanError(m *Multivariate, rows [][]float64) float64 {
	z := make([]float64, m.Width())
	var s float64
	for _, r := range rows {
		m.Encode(r, z)
		s += min(m.PCA().ReconstructionError(z, m.Kept, nil), m.ErrorCap)
	}
	return s / float64(len(rows))
}

// TestCrossFittedErrorsAreOutOfSample: the errors of the rows the PCA was
// fitted on are lower than those of new rows of the same distribution
// (with a heavy-tailed feature, by about one window's standard deviation
// at 500 rows); the baseline's cross-fitted errors are not: their mean
// is within sampling noise of new rows'.
func TestCrossFittedErrorsAreOutOfSample(t *testing.T) {
	bl := mvBuild(t, 1, 5000, 0)
	m := bl.Multivariate
	if m == nil || m.FitRows != 5000 || m.Width() != 11 {
		t.Fatalf("model %+v", m)
	}
	inSample := meanError(m, rawRows(t, m, 1, 5000)) // the very rows it was fitted on
	capped := meanError(m, rawRows(t, m, 2, 50_000))
	se := m.ErrorStd / math.Sqrt(5000)
	t.Logf("in-sample %.4f, cross-fitted %.4f, new rows %.4f (capped at %.2f), standard error %.4f", inSample, m.ErrorMean, capped, m.ErrorCap, se)
	if d := capped - m.ErrorMean; math.Abs(d) > 3*se {
		t.Errorf("cross-fitted mean %.4f, new rows' %.4f: %.1f standard errors apart", m.ErrorMean, capped, d/se)
	}
	if window := m.ErrorStd / math.Sqrt(500); capped-inSample < window/2 {
		t.Errorf("in-sample errors %.4f not below new rows' %.4f by half a 500-row window's standard deviation (%.4f): the test shows no bias to remove", inSample, capped, window)
	}
}

// TestMultivariateFitRowsAreBottomK: past MultivariateRows, the model is
// fitted on the rows of smallest Mix64(row number), whatever came
// before; its sample is the smallest of those, at most half of them.
func TestMultivariateFitRowsAreBottomK(t *testing.T) {
	bl := mvBuild(t, 3, 3000, 400)
	m := bl.Multivariate
	if m.FitRows != 400 {
		t.Fatalf("fitted on %d rows, want 400", m.FitRows)
	}
	if n := len(m.Sample) / m.Width(); n != 200 {
		t.Errorf("sample of %d rows, want 200 (half of 400)", n)
	}
	// The sample's rows are rows 0..2999 of smallest hash, in order.
	order := make([]int, 3000)
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int { return cmp.Compare(Mix64(uint64(a)), Mix64(uint64(b))) })
	want := slices.Clone(order[:200])
	slices.Sort(want)
	all := rawRows(t, m, 3, 3000)
	for k, r := range want {
		got := m.Sample[k*m.Width() : (k+1)*m.Width()]
		if !slices.EqualFunc(got, all[r], func(a, b float64) bool { return math.Float64bits(a) == math.Float64bits(b) }) {
			t.Fatalf("sample row %d is not reference row %d", k, r)
		}
	}
	// Another cap gives another model; the same gives the same, byte for byte.
	a, _ := json.Marshal(m)
	b, _ := json.Marshal(mvBuild(t, 3, 3000, 400).Multivariate)
	if !bytes.Equal(a, b) {
		t.Error("the same rows built twice give two models")
	}
}

// TestMultivariateValidate: a baseline's model that does not fit its
// features, or is malformed, does not load; a baseline without one (built
// before it) loads and has none.
func TestMultivariateValidate(t *testing.T) {
	bl := mvBuild(t, 4, 500, 0)
	data, err := json.Marshal(bl)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Decode(data, "ok"); err != nil {
		t.Fatalf("a built baseline: %v", err)
	}
	var old map[string]any
	if err := json.Unmarshal(data, &old); err != nil {
		t.Fatal(err)
	}
	delete(old, "multivariate")
	oldData, _ := json.Marshal(old)
	if got, err := Decode(oldData, "old"); err != nil || got.Multivariate != nil {
		t.Errorf("a baseline without a model: %v, model %v", err, got != nil && got.Multivariate != nil)
	}
	for _, c := range []struct {
		name   string
		break_ func(m *Multivariate)
		want   string
	}{
		{"unknown feature", func(m *Multivariate) { m.Features[0].Name = "nope" }, "not a"},
		{"wrong kind", func(m *Multivariate) { m.Features[0].Kind = Categorical }, "not a"},
		{"zero scale", func(m *Multivariate) { m.Features[1].Scale = 0 }, "scale"},
		{"unsorted categories", func(m *Multivariate) {
			for j := range m.Features {
				if m.Features[j].Kind == Categorical {
					slices.Reverse(m.Features[j].Categories)
				}
			}
		}, "categories"},
		{"kept past the components", func(m *Multivariate) { m.Kept = m.Width() + 1 }, "PCA"},
		{"a short component", func(m *Multivariate) { m.Components[2] = m.Components[2][:3] }, "component"},
		{"ragged sample", func(m *Multivariate) { m.Sample = m.Sample[:len(m.Sample)-1] }, "sample"},
		{"a code out of range", func(m *Multivariate) {
			for j := range m.Features {
				if m.Features[j].Kind == Categorical {
					m.Sample[j] = 99
				}
			}
		}, "not a code"},
		{"infinite error", func(m *Multivariate) { m.ErrorMean = math.Inf(1) }, "errors"},
		{"no classifier axes", func(m *Multivariate) { m.Axes = nil }, "axes"},
	} {
		var b Baseline
		if err := json.Unmarshal(data, &b); err != nil {
			t.Fatal(err)
		}
		c.break_(b.Multivariate)
		if err := b.Validate(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want an error with %q", c.name, err, c.want)
		}
	}
}

// TestValuesJSON: Values round-trip through JSON bit for bit, NaN
// included, and reject what is not whole float64s.
func TestValuesJSON(t *testing.T) {
	v := Values{0, -1.5, math.NaN(), math.Inf(-1), math.SmallestNonzeroFloat64, 1e300}
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var got Values
	if err := json.Unmarshal(data, &got); err != nil {
		t.Fatal(err)
	}
	if !slices.EqualFunc(got, v, func(a, b float64) bool { return math.Float64bits(a) == math.Float64bits(b) }) {
		t.Errorf("round trip: %v, want %v", got, v)
	}
	for _, bad := range []string{`"AAAA"`, `"!!"`, `3`} {
		if err := json.Unmarshal([]byte(bad), &got); err == nil {
			t.Errorf("%s decoded", bad)
		}
	}
}
