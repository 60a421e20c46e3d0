package consumer

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"strings"
	"testing"

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
	if r.Error == "" {
		ob.rb.Field(ColError).AppendNull()
	} else {
		oracleDict(ob.rb.Field(ColError), r.Error)
	}
	// The names the baseline does not know, each once, sorted, each after
	// its length as a uvarint.
	known := map[string]bool{}
	for _, f := range ob.base.Features {
		known[f.Name] = true
	}
	var unknown []string
	for name := range r.Features {
		if !known[name] {
			unknown = append(unknown, name)
		}
	}
	if len(unknown) == 0 {
		ob.rb.Field(ColUnknown).AppendNull()
	} else {
		sort.Strings(unknown)
		var text []byte
		for _, n := range unknown {
			text = binary.AppendUvarint(text, uint64(len(n)))
			text = append(text, n...)
		}
		oracleDict(ob.rb.Field(ColUnknown), string(text))
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

// TestDictColumn checks a dictionary column against a plain map, over
// batches of values short and long (the short ones go through the word
// cache, colliding in it), with values taken back as the fast path takes
// them back.
func TestDictColumn(t *testing.T) {
	rng := rand.New(rand.NewPCG(15, 16))
	var c dictCol
	for batch := range 20 {
		want := map[string]int32{}
		var values []string
		var wantIdx []int32
		for range rng.IntN(3000) {
			v := fmt.Sprint(rng.IntN(300))
			if rng.IntN(3) == 0 {
				v = strings.Repeat("v", rng.IntN(12)) + v // some past eight bytes
			}
			b := []byte(v)
			if rng.IntN(2) == 0 { // in a longer record: other bytes follow it
				b = fmt.Appendf(nil, "%s%d\"}", v, rng.IntN(1000))[:len(v)]
			}
			if c.add(b) {
				if rng.IntN(20) == 0 { // taken back, as a rolled-back record's
					c.idx = c.idx[:len(c.idx)-1]
					c.dropLast()
					continue
				}
				want[v] = int32(len(values))
				values = append(values, v)
			}
			wantIdx = append(wantIdx, want[v])
		}
		arr := c.array().(*array.Dictionary)
		dict := arr.Dictionary().(*array.String)
		if dict.Len() != len(values) || arr.Len() != len(wantIdx) {
			t.Fatalf("batch %d: %d values, %d rows; want %d, %d", batch, dict.Len(), arr.Len(), len(values), len(wantIdx))
		}
		for i, v := range values {
			if dict.Value(i) != v {
				t.Fatalf("batch %d: value %d is %q, want %q", batch, i, dict.Value(i), v)
			}
		}
		for i, w := range wantIdx {
			if got := arr.GetValueIndex(i); got != int(w) {
				t.Fatalf("batch %d row %d: index %d, want %d", batch, i, got, w)
			}
		}
		arr.Release()
	}
}
