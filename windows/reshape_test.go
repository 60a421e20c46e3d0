package windows

import (
	"fmt"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/driftwatch/driftwatch/baselines"
	"github.com/driftwatch/driftwatch/consumer"
)

// swappedBaseline is a baseline of the same model that testBaseline's
// rows could be swapped for: another layout (country first, amount gone,
// a new feature score) and other categories.
func swappedBaseline() *baselines.Baseline {
	return &baselines.Baseline{
		Format: 1, ID: "b2", Model: "fraud",
		Features: []baselines.Feature{
			{Name: "country", Kind: baselines.Categorical, Count: 4, Categories: map[string]int64{"DE": 2, "FR": 2}},
			{Name: "score", Kind: baselines.Numeric, Count: 4, Edges: []float64{0, 1}, Counts: []int64{0, 2, 2}, Sums: []float64{0, 1, 3}},
		},
		Prediction: baselines.Feature{Name: "prediction", Kind: baselines.Categorical, Count: 4, Categories: map[string]int64{"yes": 1, "no": 3}},
	}
}

type featureRec struct {
	at       time.Duration
	features map[string]consumer.Value
}

func baseBatch(mem memory.Allocator, base *baselines.Baseline, wm time.Duration, recs ...featureRec) consumer.Batch {
	bb := consumer.NewBatchBuilder(base)
	defer bb.Release()
	for i, r := range recs {
		bb.Append(&consumer.Record{PredictionID: base.ID + fmt.Sprint(i), Model: "fraud", ModelVersion: "1", Timestamp: t0.Add(r.at),
			Features: r.features, Prediction: consumer.Value{Kind: consumer.String, Str: "no"}})
	}
	issues := bb.TakeIssues()
	return consumer.Batch{Model: "fraud", Baseline: base, Issues: issues, Rec: bb.NewRecordBatch(), Watermark: t0.Add(wm), Ack: func(error) {}}
}

// After a swap, each window keeps the baseline in effect at its start,
// whatever its rows were decoded with: the window open across the swap
// takes the new rows by feature name, and the next one has the new
// baseline.
func TestBaselineSwapKeepsEachWindowOnOneBaseline(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	old, swapped := testBaseline(), swappedBaseline()
	live := baselines.NewLive(map[string]*baselines.Baseline{"fraud": old})
	num := func(x float64) consumer.Value { return consumer.Value{Kind: consumer.Number, Num: x} }
	str := func(s string) consumer.Value { return consumer.Value{Kind: consumer.String, Str: s} }

	// Decoded before the swap: a row of the 10:00 window, and one of the
	// 11:00 window, which starts after the swap's from.
	b1 := baseBatch(mem, old, 10*time.Minute,
		featureRec{5 * time.Minute, map[string]consumer.Value{"amount": num(5), "country": str("DE")}},
		featureRec{80 * time.Minute, map[string]consumer.Value{"amount": num(7), "country": str("DE")}})
	if changed := live.Swap(map[string]*baselines.Baseline{"fraud": swapped}, t0.Add(time.Hour)); len(changed) != 1 || changed[0] != "fraud" {
		t.Fatalf("swap changed %v, want [fraud]", changed)
	}
	// Decoded with the new baseline from now on.
	b2 := baseBatch(mem, swapped, 3*time.Hour,
		featureRec{30 * time.Minute, map[string]consumer.Value{"country": str("FR"), "score": num(0.5)}},
		featureRec{40 * time.Minute, map[string]consumer.Value{"score": num(2)}}, // country absent
		featureRec{70 * time.Minute, map[string]consumer.Value{"country": str("DE"), "score": num(2)}})
	got := run(t, Config{Size: time.Hour, Live: live}, b1, b2)
	if len(got) != 2 {
		t.Fatalf("closed %d windows, want 2", len(got))
	}
	first, second := got[0].Window, got[1].Window
	if first.Baseline != old || second.Baseline != swapped {
		t.Fatalf("windows compared with %s and %s, want b1 (open before the swap) and b2", first.Baseline.ID, second.Baseline.ID)
	}
	if first.Records != 3 || second.Records != 2 {
		t.Errorf("records %d and %d, want 3 and 2", first.Records, second.Records)
	}
	// The 10:00 window's features are the old baseline's: amount, which the
	// new rows lack (null), and country, taken from the new rows by name,
	// with the row that had none counted absent.
	amount, country := first.Features[0], first.Features[1]
	if amount.Nulls != 2 || amount.Count != 1 {
		t.Errorf("amount: %d values, %d nulls; want 1 and 2", amount.Count, amount.Nulls)
	}
	if country.Categories["DE"] != 1 || country.Categories["FR"] != 1 || country.Nulls != 1 || country.Absent != 1 {
		t.Errorf("country: %v, %d nulls, %d absent; want DE 1, FR 1, 1 null absent", country.Categories, country.Nulls, country.Absent)
	}
	// The 11:00 window is the new baseline's though its first row was
	// decoded with the old one: that row has no score.
	if c, score := second.Features[0], second.Features[1]; c.Categories["DE"] != 2 || score.Count != 1 || score.Nulls != 1 {
		t.Errorf("11:00 window: country %v, score %d values and %d nulls; want DE 2, 1 and 1", c.Categories, score.Count, score.Nulls)
	}
	for _, c := range got {
		c.Ack(nil)
	}
}
