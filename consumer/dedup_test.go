package consumer

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/driftwatch/driftwatch/baselines"
)

// TestDuplicatesAreIDAndVariant: the duplicate filter's key is the
// prediction id and the variant (CONTRACT.md section 1). A shadow
// deployment's records of one id, one per variant, are all kept; the same
// id of the same variant again is a duplicate, whichever decoding path
// (the fast path, the general one: spaces, escapes) reads it; an id and a
// variant cannot spell another pair's key.
func TestDuplicatesAreIDAndVariant(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	ts := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	rec := func(id, variant string) string {
		r := map[string]any{"prediction_id": id, "model": "fraud", "model_version": "1", "timestamp": ts.Format(time.RFC3339Nano),
			"features": map[string]any{"amount": 1.0, "country": "DE"}, "prediction": 0.5}
		if variant != "" {
			r["variant"] = variant
		}
		b, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	lines := []struct {
		line string
		kept bool
	}{
		{rec("a", "champion"), true},
		{rec("a", "shadow"), true},    // the shadow's record of a: kept
		{rec("a", ""), true},          // a without a variant: another key
		{rec("a", "champion"), false}, // a true duplicate
		{rec("a", "shadow"), false},
		{rec("a", ""), false},
		{strings.Replace(rec("a", "shadow"), `"shadow"`, `"sh\u0061dow"`, 1), false},       // escaped: the same variant
		{strings.Replace(rec("a", "champion"), `"features":{`, `"features": {`, 1), false}, // the general path
		{rec("ab", "c"), true},
		{rec("a", "bc"), true}, // not ab's key
		{rec("b", "shadow"), true},
		{rec("b", "challenger"), true},
	}
	var input []string
	want := 0
	for _, l := range lines {
		input = append(input, l.line)
		if l.kept {
			want++
		}
	}
	src := NewFileSource(mem, strings.NewReader(strings.Join(input, "\n")), "in.jsonl", FileConfig{
		Baselines: map[string]*baselines.Baseline{"fraud": testBaseline()}, BatchRecords: 4, DeadLetter: &bytes.Buffer{},
	})
	out := make(chan Batch, 10)
	if err := src.Run(context.Background(), out); err != nil {
		t.Fatal(err)
	}
	var got []string
	for b := range out {
		ids := b.Rec.Column(ColPredictionID).(*array.String)
		vs := b.Rec.Column(ColVariant).(*array.Dictionary)
		for i := range int(b.Rec.NumRows()) {
			v := ""
			if vs.IsValid(i) {
				v = vs.Dictionary().(*array.String).Value(vs.GetValueIndex(i))
			}
			got = append(got, ids.Value(i)+"/"+v)
		}
		b.Ack(nil)
		b.Rec.Release()
	}
	if w := "[a/champion a/shadow a/ ab/c a/bc b/shadow b/challenger]"; fmt.Sprint(got) != w {
		t.Errorf("kept %v, want %s", got, w)
	}
	if c := src.Counts(); c.Accepted != int64(want) || c.Duplicates != int64(len(lines)-want) {
		t.Errorf("accepted %d, duplicates %d; want %d and %d", c.Accepted, c.Duplicates, want, len(lines)-want)
	}
}
