package windows

import (
	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/driftwatch/driftwatch/baselines"
	"github.com/driftwatch/driftwatch/consumer"
)

// A window keeps the baseline it was opened with. After a baseline swap
// (baselines.Live) the rows of a window opened before it arrive decoded
// with the new baseline; reshape lays them out as the window's baseline
// does, so a window is compared with one baseline from start to end.

// sameLayout reports whether batches of a and b have the same columns:
// the same features, in order, of the same kinds, and the same kind of
// prediction.
func sameLayout(a, b *baselines.Baseline) bool {
	if a == b {
		return true
	}
	if len(a.Features) != len(b.Features) || a.Prediction.Kind != b.Prediction.Kind {
		return false
	}
	for i := range a.Features {
		if a.Features[i].Name != b.Features[i].Name || a.Features[i].Kind != b.Features[i].Kind {
			return false
		}
	}
	return true
}

// featureMap maps each feature of from to the index of the feature of to
// with its name and kind, -1 where to has none.
func featureMap(from, to *baselines.Baseline) []int32 {
	idx := make(map[string]int, len(to.Features))
	for i, f := range to.Features {
		idx[f.Name] = i
	}
	out := make([]int32, len(from.Features))
	for i, f := range from.Features {
		out[i] = -1
		if j, ok := idx[f.Name]; ok && to.Features[j].Kind == f.Kind {
			out[i] = int32(j)
		}
	}
	return out
}

// reshape returns rec, a batch decoded with baseline from, with the
// columns of a batch of baseline to: the fixed columns as they are, each
// feature of to taken by name from rec, all null where from has no such
// feature of the same kind, and the prediction all null if from decoded it
// as another kind. The caller releases the result.
func reshape(rec arrow.RecordBatch, from, to *baselines.Baseline) arrow.RecordBatch {
	n := int(rec.NumRows())
	schema := consumer.Schema(to)
	cols := make([]arrow.Array, 0, schema.NumFields())
	nulls := func(t arrow.DataType) arrow.Array { return array.MakeArrayOfNull(memory.DefaultAllocator, t, n) }
	for i := range consumer.FirstFeatureCol {
		c := rec.Column(i)
		if i == consumer.ColPrediction && from.Prediction.Kind != to.Prediction.Kind {
			c = nulls(schema.Field(i).Type)
		} else {
			c.Retain()
		}
		cols = append(cols, c)
	}
	back := make([]int, len(to.Features)) // to's feature i is from's back[i], or -1
	for i := range back {
		back[i] = -1
	}
	for i, j := range featureMap(from, to) {
		if j >= 0 {
			back[j] = i
		}
	}
	for i, j := range back {
		var c arrow.Array
		if j < 0 {
			c = nulls(schema.Field(consumer.FirstFeatureCol + i).Type)
		} else {
			c = rec.Column(consumer.FirstFeatureCol + j)
			c.Retain()
		}
		cols = append(cols, c)
	}
	out := array.NewRecordBatch(schema, cols, int64(n))
	for _, c := range cols {
		c.Release()
	}
	return out
}
