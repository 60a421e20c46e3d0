package windows

import (
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/driftwatch/driftwatch/baselines"
	"github.com/driftwatch/driftwatch/consumer"
)

// TestFeatureAddAllocs checks that the window histogram update allocates
// nothing per value: adding a numeric column allocates nothing at all, and
// adding a categorical column allocates the same (one per-call scratch
// slice) whether it has 16 rows or 4,096, once its categories are known.
func TestFeatureAddAllocs(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	const n = 4096

	nb := array.NewFloat64Builder(mem)
	for i := range n {
		switch {
		case i%97 == 0:
			nb.AppendNull()
		case i%101 == 0:
			nb.Append(math.Inf(1 - 2*(i%2)))
		default:
			nb.Append(float64(i%300) - 150.5)
		}
	}
	num := nb.NewFloat64Array()
	nb.Release()
	defer num.Release()

	db := array.NewDictionaryBuilder(mem, &arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int32, ValueType: arrow.BinaryTypes.String}).(*array.BinaryDictionaryBuilder)
	for i := range n {
		if i%89 == 0 {
			db.AppendNull()
			continue
		}
		if err := db.AppendString(fmt.Sprintf("c%02d", i%40)); err != nil {
			t.Fatal(err)
		}
	}
	cat := db.NewDictionaryArray()
	db.Release()
	defer cat.Release()

	all := make([]int, n)
	for i := range all {
		all[i] = i
	}
	numeric := &baselines.Feature{Name: "amount", Kind: baselines.Numeric, Edges: []float64{-100, -10, 0, 10, 100}}
	categorical := &baselines.Feature{Name: "country", Kind: baselines.Categorical}

	f := newFeature(numeric)
	if a := testing.AllocsPerRun(100, func() { f.add(num, all, numeric, 0) }); a != 0 {
		t.Errorf("numeric add of %d rows allocates %v times", n, a)
	}
	if f.Count == 0 || f.Nulls == 0 {
		t.Fatalf("numeric add did nothing: count %d, nulls %d", f.Count, f.Nulls)
	}

	g := newFeature(categorical)
	g.add(cat, all, categorical, 1000) // learn the categories
	few := testing.AllocsPerRun(100, func() { g.add(cat, all[:16], categorical, 1000) })
	many := testing.AllocsPerRun(100, func() { g.add(cat, all, categorical, 1000) })
	if many != few || many > 1 {
		t.Errorf("categorical add allocates %v times for 16 rows, %v for %d rows; want the same, at most 1", few, many, n)
	}
	if len(g.Categories) != 40 {
		t.Fatalf("categorical add kept %d categories, want 40", len(g.Categories))
	}
}

// TestFeatureAddNonFinite: NaN and ±Inf in a numeric column count as
// missing, as they do in a baseline, so one of them cannot make a window's
// moments (and its t- and z-tests) NaN.
func TestFeatureAddNonFinite(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	nb := array.NewFloat64Builder(mem)
	nb.AppendValues([]float64{1, math.NaN(), 2, math.Inf(-1), 3, math.Inf(1)}, nil)
	nb.AppendNull()
	col := nb.NewFloat64Array()
	nb.Release()
	defer col.Release()
	bf := &baselines.Feature{Name: "x", Kind: baselines.Numeric, Edges: []float64{0, 2}}
	f := newFeature(bf)
	f.add(col, []int{0, 1, 2, 3, 4, 5, 6}, bf, 10)
	f.seal()
	if f.Count != 3 || f.Nulls != 4 || f.Moments.Mean != 2 || f.Min != 1 || f.Max != 3 {
		t.Errorf("count %d nulls %d mean %v min %v max %v, want 3 4 2 1 3", f.Count, f.Nulls, f.Moments.Mean, f.Min, f.Max)
	}
}

// TestAssignerProcessAllocs checks that the windows stage allocates per
// batch, not per record: a batch of 4,096 issue-shaped records (without
// labels, whose error events a window keeps) into an open window costs no
// more allocations than one of 64, and a few dozen at most.
func TestAssignerProcessAllocs(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	perBatch := func(n int) float64 {
		base, batch := issueBatch(mem, n, false)
		defer batch.Release()
		a := New(Config{Size: time.Hour})
		return testing.AllocsPerRun(20, func() {
			batch.Retain() // process releases it
			a.process(consumer.Batch{Model: "m", Baseline: base, Rec: batch, Watermark: issueT0, Ack: func(error) {}})
		})
	}
	few, many := perBatch(64), perBatch(4096)
	t.Logf("allocations per batch: %v for 64 records, %v for 4096", few, many)
	if many > few || many > 40 {
		t.Errorf("a batch of 64 records allocates %v times, one of 4096 %v times; want no more, and at most 40", few, many)
	}
}
