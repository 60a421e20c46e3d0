package windows

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/driftwatch/driftwatch/baselines"
	"github.com/driftwatch/driftwatch/bench/stats/samples"
	"github.com/driftwatch/driftwatch/consumer"
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

// BenchmarkAssignerProcess times the windows stage on one batch of 8,192
// records shaped like the issue's (issueBatch), all in one open hourly
// window: Assigner.process, everything a record costs the stage but
// decoding. Reported per record.
func BenchmarkAssignerProcess(b *testing.B) {
	const n = 8192
	base, batch := issueBatch(memory.NewGoAllocator(), n, true)
	defer batch.Release()
	a := New(Config{Size: time.Hour})
	b.ReportAllocs()
	for b.Loop() {
		batch.Retain() // process releases it
		a.process(consumer.Batch{Model: "m", Baseline: base, Rec: batch, Watermark: issueT0, Ack: func(error) {}})
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/record")
	b.ReportMetric(float64(b.N*n)/b.Elapsed().Seconds(), "records/s")
}

var issueT0 = time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)

// issueBatch returns a baseline and a batch of n records shaped like the
// issue's: 30 numeric features on 100 baseline bins, 10 categorical of 12
// categories, a score, a label on 3 records in 10 (with labels), two
// segment attributes, a variant on half, a latency; one record a
// millisecond from issueT0.
func issueBatch(mem memory.Allocator, n int, labels bool) (*baselines.Baseline, arrow.RecordBatch) {
	r := rand.New(rand.NewPCG(21, 22))
	base := &baselines.Baseline{Format: 1, ID: "b", Model: "m",
		Prediction: baselines.Feature{Name: "score", Kind: baselines.Numeric, Edges: samples.Edges(samples.FineBins)}}
	for i := range 30 {
		base.Features = append(base.Features, baselines.Feature{Name: fmt.Sprint("n", i), Kind: baselines.Numeric,
			Edges: samples.Edges(samples.FineBins), Count: 1000, Min: -4, Max: 4})
	}
	for i := range 10 {
		base.Features = append(base.Features, baselines.Feature{Name: fmt.Sprint("c", i), Kind: baselines.Categorical})
	}
	bb := consumer.NewBatchBuilder(base)
	defer bb.Release()
	for i := range n {
		rec := consumer.Record{PredictionID: fmt.Sprint("p", i), Model: "m", ModelVersion: "1", Timestamp: issueT0.Add(time.Duration(i) * time.Millisecond),
			Features:   make(map[string]consumer.Value),
			Prediction: consumer.Value{Kind: consumer.Number, Num: r.Float64()},
			Segments:   map[string]string{"gender": []string{"f", "m", "x"}[r.IntN(3)], "age": fmt.Sprint(20 + 10*r.IntN(5))},
			LatencyMS:  r.ExpFloat64() * 20,
		}
		for j := range 30 {
			rec.Features[fmt.Sprint("n", j)] = consumer.Value{Kind: consumer.Number, Num: math.Round(r.NormFloat64()*1e4) / 1e4}
		}
		for j := range 10 {
			rec.Features[fmt.Sprint("c", j)] = consumer.Value{Kind: consumer.String, Str: fmt.Sprint("v", r.IntN(12))}
		}
		if labels && r.IntN(10) < 3 {
			rec.Label = consumer.Value{Kind: consumer.Number, Num: float64(r.IntN(2))}
		}
		if r.IntN(2) == 0 {
			rec.Variant = []string{"champion", "challenger"}[r.IntN(2)]
		}
		bb.Append(&rec)
	}
	return base, bb.NewRecordBatch()
}

// BenchmarkFeatureAddCategorical times Feature.add over a dictionary
// column of 8,192 rows into a feature that has seen the column before: 40
// categories under a cap of 1,000 ("below cap"), and 5,000 distinct
// categories per column, a new column every op, past a cap of 1,000
// ("past cap": new names are ranked against the cut, caps.go).
func BenchmarkFeatureAddCategorical(b *testing.B) {
	const n, k = 8192, 1000
	bf := &baselines.Feature{Name: "c", Kind: baselines.Categorical, Categories: map[string]int64{"c0001": 1, "c0002": 1}}
	column := func(distinct, offset int) *array.Dictionary {
		db := array.NewDictionaryBuilder(memory.NewGoAllocator(), &arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int32, ValueType: arrow.BinaryTypes.String}).(*array.BinaryDictionaryBuilder)
		defer db.Release()
		for i := range n {
			if err := db.AppendString(fmt.Sprintf("c%04d", offset+i%distinct)); err != nil {
				b.Fatal(err)
			}
		}
		return db.NewDictionaryArray()
	}
	rows := make([]int, n)
	for i := range rows {
		rows[i] = i
	}
	for _, tc := range []struct {
		name     string
		distinct int
		columns  int
	}{{"below cap", 40, 1}, {"past cap", 5000, 8}} {
		b.Run(tc.name, func(b *testing.B) {
			cols := make([]*array.Dictionary, tc.columns)
			for i := range cols {
				cols[i] = column(tc.distinct, i*tc.distinct/2) // each column half new names
				defer cols[i].Release()
			}
			f := newFeature(bf)
			for _, c := range cols {
				f.add(c, rows, bf, k)
			}
			b.ReportAllocs()
			b.SetBytes(4 * n)
			i := 0
			for b.Loop() {
				f.add(cols[i%len(cols)], rows, bf, k)
				i++
			}
		})
	}
}

// BenchmarkSampleAdd times the window's sample of rows (Sample.add):
// hashing every record's prediction_id and keeping the 500 of smallest
// hash with their two values, per record of a window of 100,000 records in
// batches of 1,000.
func BenchmarkSampleAdd(b *testing.B) {
	base := mvBaseline()
	recs := mvRecords(1, 100_000)
	var batches []consumer.Batch
	for i := 0; i < len(recs); i += 1000 {
		batches = append(batches, mvBatch(base, 0, recs[i:i+1000]))
	}
	defer func() {
		for _, bt := range batches {
			bt.Rec.Release()
		}
	}()
	rows := make([]int, 1000)
	for i := range rows {
		rows[i] = i
	}
	b.ReportAllocs()
	for b.Loop() {
		s := newSample(base, DefaultSampleRows)
		for _, bt := range batches {
			s.add(bt.Rec, rows, base)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(recs)), "ns/record")
}
