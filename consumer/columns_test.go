package consumer

import (
	"fmt"
	"math"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/driftwatch/driftwatch/baselines"
)

// oracleBuilder is the batch builder driftwatch used before BatchBuilder
// filled its own columns: Arrow's record builder, one value at a time. It
// is kept as the test oracle of the columns BatchBuilder makes.
type oracleBuilder struct {
	base *baselines.Baseline
	rb   *array.RecordBuilder
}

func newOracleBuilder(mem memory.Allocator, b *baselines.Baseline) *oracleBuilder {
	return &oracleBuilder{base: b, rb: array.NewRecordBuilder(mem, Schema(b))}
}

func (ob *oracleBuilder) append(r *Record) {
	ob.rb.Field(ColPredictionID).(*array.StringBuilder).Append(r.PredictionID)
	oracleDict(ob.rb.Field(ColModelVersion), r.ModelVersion)
	ob.rb.Field(ColTimestamp).(*array.TimestampBuilder).Append(arrow.Timestamp(r.Timestamp.UnixMilli()))
	oracleValue(ob.rb.Field(ColPrediction), ob.base.Prediction.Kind, r.Prediction)
	if lb := ob.rb.Field(ColLatency).(*array.Float64Builder); math.IsNaN(r.LatencyMS) {
		lb.AppendNull()
	} else {
		lb.Append(r.LatencyMS)
	}
	if r.Variant == "" {
		ob.rb.Field(ColVariant).AppendNull()
	} else {
		oracleDict(ob.rb.Field(ColVariant), r.Variant)
	}
	if r.Label.Kind == Null {
		ob.rb.Field(ColLabel).AppendNull()
	} else {
		oracleDict(ob.rb.Field(ColLabel), r.Label.Text())
	}
	if len(r.Segments) == 0 {
		ob.rb.Field(ColSegments).AppendNull()
	} else {
		text, _ := appendSegments(nil, nil, r.Segments)
		oracleDict(ob.rb.Field(ColSegments), string(text))
	}
	for i := range ob.base.Features {
		f := &ob.base.Features[i]
		oracleValue(ob.rb.Field(FirstFeatureCol+i), f.Kind, r.Features[f.Name])
	}
}

func oracleValue(b array.Builder, kind baselines.Kind, v Value) {
	switch {
	case v.Kind == Null:
		b.AppendNull()
	case kind != baselines.Numeric:
		oracleDict(b, v.Text())
	case v.Kind != Number:
		b.AppendNull()
	default:
		b.(*array.Float64Builder).Append(v.Num)
	}
}

func oracleDict(b array.Builder, s string) {
	if err := b.(*array.BinaryDictionaryBuilder).AppendString(s); err != nil {
		panic(fmt.Sprintf("append dictionary value: %v", err))
	}
}
