package windows

import (
	"fmt"
	"runtime"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/driftwatch/driftwatch/baselines"
	"github.com/driftwatch/driftwatch/bench/stats/samples"
)

// BenchmarkFeatureAdd times the per-value window update of a numeric
// feature, Feature.add over an Arrow float64 column without nulls: for each
// of n values (x of samples.Pair) the bin on samples.FineBins (100)
// standard-normal quantile bins, the bin's count and sum, min, max and the
// Welford moments. One op adds all n rows to a fresh Feature;
// bench/stats/peers.py times the same state computed with numpy
// (searchsorted, bincount, min, max, mean, M2) in the same run. The mean of
// the added values is reported as the "value" metric.
func BenchmarkFeatureAdd(b *testing.B) {
	bf := &baselines.Feature{Name: "x", Kind: baselines.Numeric, Edges: samples.Edges(samples.FineBins)}
	for _, n := range samples.Sizes {
		b.Run("numeric/n="+samples.Name(n), func(b *testing.B) {
			x, _ := samples.Pair(n)
			bld := array.NewFloat64Builder(memory.NewGoAllocator())
			bld.AppendValues(x, nil)
			col := bld.NewFloat64Array()
			bld.Release()
			defer col.Release()
			rows := make([]int, n)
			for i := range rows {
				rows[i] = i
			}
			b.ReportAllocs()
			b.SetBytes(int64(8 * n))
			var f Feature
			for b.Loop() {
				f = newFeature(bf)
				f.add(col, rows, bf, 0)
			}
			f.seal()
			b.ReportMetric(f.Moments.Mean, "value")
		})
	}
}

// BenchmarkJoinKeep times keeping a prediction for a late label (the
// per-record cost of the join when labels are read) and reports the live
// heap per prediction kept, after a collection, with 1e5 predictions of one
// model: the figure behind labels.max_predictions' memory bound.
func BenchmarkJoinKeep(b *testing.B) {
	const n = 100_000
	keys := make([]PredictionKey, n)
	for i := range keys {
		keys[i] = PredictionKey{Model: "fraud", Version: "1.4.2", ID: fnv1a(fmt.Sprint("p", i)), Time: int64(i), Prediction: 0.5, Decided: true, Segments: "gender=f"}
	}
	var before, after runtime.MemStats
	b.ReportAllocs()
	var j *joiner
	for b.Loop() {
		runtime.GC()
		runtime.ReadMemStats(&before)
		j = newJoiner(LabelConfig{})
		for _, k := range keys {
			j.keep(k)
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
	}
	b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/n, "heap-B/prediction")
	runtime.KeepAlive(j)
}
