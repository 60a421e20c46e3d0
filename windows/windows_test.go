package windows

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"go.uber.org/goleak"

	"github.com/driftwatch/driftwatch/baselines"
	"github.com/driftwatch/driftwatch/consumer"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var t0 = time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)

func testBaseline() *baselines.Baseline {
	return &baselines.Baseline{
		Format: 1, ID: "b1", Model: "fraud",
		Features: []baselines.Feature{
			{Name: "amount", Kind: baselines.Numeric, Count: 4, Edges: []float64{0, 10, 100}, Counts: []int64{0, 2, 1, 1}, Sums: []float64{0, 8, 50, 100}},
			{Name: "country", Kind: baselines.Categorical, Count: 4, Categories: map[string]int64{"DE": 3, "FR": 1}},
		},
		Prediction: baselines.Feature{Name: "prediction", Kind: baselines.Categorical, Count: 4, Categories: map[string]int64{"yes": 1, "no": 3}},
	}
}

type rec struct {
	version string
	at      time.Duration // after t0
	amount  any
	country any
}

// batch builds a batch of recs with the given watermark; acked receives the
// batch's acknowledgement.
func batch(t *testing.T, mem memory.Allocator, wm time.Duration, acked chan<- error, recs ...rec) consumer.Batch {
	t.Helper()
	base := testBaseline()
	bb := consumer.NewBatchBuilder(base)
	defer bb.Release()
	for i, r := range recs {
		cr := consumer.Record{
			PredictionID: fmt.Sprint(i), Model: "fraud", ModelVersion: r.version, Timestamp: t0.Add(r.at),
			Features:   map[string]consumer.Value{"amount": value(r.amount), "country": value(r.country)},
			Prediction: consumer.Value{Kind: consumer.String, Str: "no"},
		}
		bb.Append(&cr)
	}
	return consumer.Batch{Model: "fraud", Baseline: base, Rec: bb.NewRecordBatch(), Watermark: t0.Add(wm),
		Ack: func(err error) { acked <- err }}
}

func value(v any) consumer.Value {
	switch x := v.(type) {
	case float64:
		return consumer.Value{Kind: consumer.Number, Num: x}
	case string:
		return consumer.Value{Kind: consumer.String, Str: x}
	}
	return consumer.Value{}
}

// run feeds batches to a fresh Assigner and returns everything it emitted.
func run(t testing.TB, cfg Config, batches ...consumer.Batch) []Closed {
	t.Helper()
	in := make(chan consumer.Batch, len(batches))
	for _, b := range batches {
		in <- b
	}
	close(in)
	out := make(chan Closed)
	var got []Closed
	done := make(chan struct{})
	go func() {
		defer close(done)
		for c := range out {
			got = append(got, c)
		}
	}()
	err := New(cfg).Run(context.Background(), in, out)
	<-done
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func TestWindowsCloseOnWatermarkAndAck(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	acked := make(chan error, 10)
	cfg := Config{Size: time.Hour, Lateness: 10 * time.Minute}
	b1 := batch(t, mem, 69*time.Minute, acked, // watermark 11:09 - 10m lateness: 10:00 window not closed yet
		rec{"1", 5 * time.Minute, 5.0, "DE"}, rec{"1", 65 * time.Minute, 50.0, "FR"}, rec{"2", 6 * time.Minute, nil, "DE"})
	b2 := batch(t, mem, 71*time.Minute, acked, rec{"1", 30 * time.Minute, 500.0, nil}) // closes [10:00, 11:00)
	got := run(t, cfg, b1, b2)

	// b2 closes both 10:00 windows (versions 1 and 2); the end of input then
	// closes nothing more, since FlushAtEnd is off.
	if len(got) != 2 || got[0].Window.Version != "1" || got[1].Window.Version != "2" {
		t.Fatalf("closed %d windows: %+v", len(got), got)
	}
	w := got[0].Window
	if !w.Start.Equal(t0) || !w.End.Equal(t0.Add(time.Hour)) || w.Records != 2 {
		t.Fatalf("window %v-%v records %d", w.Start, w.End, w.Records)
	}
	amount := w.Features[0]
	if !reflect.DeepEqual(amount.Counts, []int64{0, 1, 0, 1}) || amount.Sums[3] != 500 || amount.Min != 5 || amount.Max != 500 || amount.Nulls != 0 {
		t.Errorf("amount state %+v", amount)
	}
	if country := w.Features[1]; country.Categories["DE"] != 1 || country.Nulls != 1 {
		t.Errorf("country state %+v", country)
	}
	if got[1].Window.Features[0].Nulls != 1 {
		t.Errorf("version 2 amount nulls = %d", got[1].Window.Features[0].Nulls)
	}

	// b2 only touched the first window; b1 touched both and the open 11:00 one.
	select {
	case err := <-acked:
		t.Fatalf("acknowledged (%v) before any window was committed", err)
	default:
	}
	got[0].Ack(nil)
	if err := <-acked; err != nil { // b2
		t.Fatal(err)
	}
	got[1].Ack(nil)
	select {
	case err := <-acked:
		t.Fatalf("b1 acknowledged (%v) while its 11:00 window is still open", err)
	default:
	}
}

func TestWindowsLateRecordsAreReported(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	acked := make(chan error, 10)
	cfg := Config{Size: time.Hour, Lateness: 5 * time.Minute, FlushAtEnd: true}
	got := run(t, cfg,
		batch(t, mem, 10*time.Minute, acked, rec{"1", 10 * time.Minute, 1.0, "DE"}),
		batch(t, mem, 2*time.Hour, acked, rec{"1", 2 * time.Hour, 1.0, "DE"}), // closes 10:00
		batch(t, mem, 2*time.Hour, acked, rec{"1", 20 * time.Minute, 1.0, "DE"}, rec{"1", 50 * time.Minute, 2.0, "FR"}),
	)
	// 10:00 window, then at the end: the 12:00 window and the late report.
	if len(got) != 3 || got[0].Window == nil || got[1].Window == nil || got[2].Late == nil {
		t.Fatalf("emitted %+v", got)
	}
	late := got[2].Late
	if late.Records != 2 || !late.Start.Equal(t0) || late.Version != "1" || late.BaselineID != "b1" {
		t.Fatalf("late report %+v", late)
	}
	for _, c := range got {
		c.Ack(nil)
	}
	for range 3 {
		if err := <-acked; err != nil {
			t.Fatal(err)
		}
	}
}

func TestWindowsFlushOrderAndErrorAck(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	acked := make(chan error, 10)
	got := run(t, Config{Size: 30 * time.Minute, FlushAtEnd: true},
		batch(t, mem, 0, acked, rec{"2", 0, 1.0, "DE"}, rec{"1", 40 * time.Minute, 1.0, "DE"}, rec{"1", 0, 1.0, "DE"}))
	var order []string
	for _, c := range got {
		order = append(order, c.Window.Start.Format("15:04")+"/"+c.Window.Version)
	}
	if fmt.Sprint(order) != "[10:00/1 10:00/2 10:30/1]" {
		t.Fatalf("flush order %v", order)
	}
	got[0].Ack(nil)
	got[1].Ack(fmt.Errorf("sink down"))
	got[2].Ack(nil)
	if err := <-acked; err == nil || err.Error() != "sink down" {
		t.Fatalf("batch ack = %v, want the sink's error", err)
	}
}

func TestWindowsMergeEqualsSingle(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	acked := make(chan error, 100)
	var recs []rec
	for i := range 40 {
		var amount any = float64(i*i%150)*0.37 - 5.1 // sums that round differently by order
		if i%7 == 0 {
			amount = nil
		}
		recs = append(recs, rec{"1", time.Duration(i) * time.Minute, amount, []string{"DE", "FR", "US"}[i%3]})
	}
	cfg := Config{Size: time.Hour, FlushAtEnd: true}
	whole := run(t, cfg, batch(t, mem, 0, acked, recs...))[0].Window
	a := run(t, cfg, batch(t, mem, 0, acked, recs[:13]...))[0].Window
	b := run(t, cfg, batch(t, mem, 0, acked, recs[13:29]...))[0].Window
	c := run(t, cfg, batch(t, mem, 0, acked, recs[29:]...))[0].Window
	// (c + b) + a, an order different from the stream's.
	if err := c.Merge(b); err != nil {
		t.Fatal(err)
	}
	if err := c.Merge(a); err != nil {
		t.Fatal(err)
	}
	if c.Records != whole.Records {
		t.Fatalf("records %d vs %d", c.Records, whole.Records)
	}
	for i := range whole.Features {
		x, y := whole.Features[i], c.Features[i]
		if !reflect.DeepEqual(x.Counts, y.Counts) || !reflect.DeepEqual(x.Categories, y.Categories) ||
			x.Nulls != y.Nulls || x.Count != y.Count || x.Min != y.Min || x.Max != y.Max {
			t.Errorf("feature %d: merged %+v, whole %+v", i, y, x)
		}
		// Bit-identical, not close: sums are exact, so order cannot show.
		if !reflect.DeepEqual(x.Sums, y.Sums) {
			t.Errorf("feature %d sums: merged %v, whole %v", i, y.Sums, x.Sums)
		}
		if x.Moments != y.Moments {
			t.Errorf("feature %d moments: merged %+v, whole %+v", i, y.Moments, x.Moments)
		}
	}
	other := NewWindow(Key{"fraud", "1"}, t0.Add(time.Hour), t0.Add(2*time.Hour), testBaseline(), 10)
	if err := c.Merge(other); err == nil {
		t.Fatal("merged windows of different times")
	}
}

func TestWindowsCategoryCap(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	acked := make(chan error, 10)
	got := run(t, Config{Size: time.Hour, MaxCategories: 2, FlushAtEnd: true},
		batch(t, mem, 0, acked, rec{"1", 0, 1.0, "A"}, rec{"1", 0, 1.0, "B"}, rec{"1", 0, 1.0, "C"}, rec{"1", 0, 1.0, "D"}))
	cats := got[0].Window.Features[1].Categories
	if len(cats) != 3 || cats[baselines.OtherCategory] != 2 {
		t.Fatalf("categories %v, want 2 kept and 2 under %s", cats, baselines.OtherCategory)
	}
	// The 2 kept are those of smallest rank (none is the baseline's).
	names := []string{"A", "B", "C", "D"}
	slices.SortFunc(names, func(a, b string) int { return rankOf(a, nil).compare(rankOf(b, nil)) })
	if cats[names[0]] != 1 || cats[names[1]] != 1 {
		t.Errorf("categories %v, want %s and %s kept", cats, names[0], names[1])
	}
}

func TestWindowsResumeSkipsCommittedWindows(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	acked := make(chan error, 10)
	cfg := Config{Size: time.Hour, FlushAtEnd: true, Resume: map[Key]time.Time{{"fraud", "1"}: t0.Add(time.Hour)}}
	got := run(t, cfg, batch(t, mem, 0, acked,
		rec{"1", 50 * time.Minute, 1.0, "DE"}, // committed before the restart
		rec{"2", 50 * time.Minute, 1.0, "DE"}, // other version: not resumed
		rec{"1", 70 * time.Minute, 1.0, "DE"}))
	var windows []string
	for _, c := range got {
		windows = append(windows, c.Window.Start.Format("15:04")+"/"+c.Window.Version)
		c.Ack(nil)
	}
	if fmt.Sprint(windows) != "[10:00/2 11:00/1]" {
		t.Fatalf("emitted %v, want the 10:00 window of version 1 skipped", windows)
	}
	if err := <-acked; err != nil {
		t.Fatal(err)
	}
}

// TestWindowsReset: a Reset (the source lost its partitions) drops open
// windows, acknowledging their batches without error, and afterwards skips
// the records of windows the sink holds (Refresh: closed here and written,
// or committed elsewhere), while a window it does not hold is built again
// from its re-read records.
func TestWindowsReset(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	acked := make(chan error, 10)
	refreshed := 0
	cfg := Config{Size: time.Hour, Lateness: 10 * time.Minute, FlushAtEnd: true,
		Refresh: func() (map[Key]time.Time, error) {
			refreshed++
			return map[Key]time.Time{{"fraud", "1"}: t0.Add(2 * time.Hour)}, nil // another instance committed 11:00
		}}
	b1 := batch(t, mem, 71*time.Minute, acked, // closes 10:00; 11:00 and 12:00 stay open
		rec{"1", 5 * time.Minute, 5.0, "DE"}, rec{"1", 70 * time.Minute, 50.0, "FR"}, rec{"1", 130 * time.Minute, 7.0, "FR"})
	// After the reset the same records are read again, with one more for 12:00.
	b2 := batch(t, mem, 131*time.Minute, acked,
		rec{"1", 5 * time.Minute, 5.0, "DE"}, rec{"1", 70 * time.Minute, 50.0, "FR"}, rec{"1", 130 * time.Minute, 7.0, "FR"}, rec{"1", 140 * time.Minute, 8.0, "DE"})
	a := New(cfg)
	in := make(chan consumer.Batch, 3)
	in <- b1
	in <- consumer.Batch{Reset: true}
	in <- b2
	close(in)
	out := make(chan Closed, 10)
	if err := a.Run(context.Background(), in, out); err != nil {
		t.Fatal(err)
	}
	var got []string
	for c := range out {
		got = append(got, fmt.Sprintf("%s:%d", c.Window.Start.Format("15:04"), c.Window.Records))
		c.Ack(nil)
	}
	// 10:00 closed before the reset (skipped after it), 11:00 committed
	// elsewhere (skipped), 12:00 rebuilt from both of its re-read records.
	if fmt.Sprint(got) != "[10:00:1 12:00:2]" {
		t.Fatalf("windows %v, want [10:00:1 12:00:2]", got)
	}
	if refreshed != 1 {
		t.Errorf("Refresh called %d times, want 1", refreshed)
	}
	for range 2 {
		if err := <-acked; err != nil {
			t.Fatalf("batch acknowledged with %v, want nil", err)
		}
	}
	if c := a.Counts(); c.Dropped != 2 || c.Resumed != 2 {
		t.Errorf("dropped %d, resumed %d; want the 2 open windows dropped and 2 re-read records skipped", c.Dropped, c.Resumed)
	}
}

// TestWindowsQualityCounts: a batch's issues land in the windows of their
// rows (not in windows their rows did not reach), and numeric values
// outside the baseline's range are counted.
func TestWindowsQualityCounts(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	base := testBaseline()
	base.Features[0].Min, base.Features[0].Max = 1, 150
	bb := consumer.NewBatchBuilder(base)
	defer bb.Release()
	add := func(at time.Duration, features map[string]consumer.Value) {
		bb.Append(&consumer.Record{PredictionID: fmt.Sprint(at), Model: "fraud", ModelVersion: "1", Timestamp: t0.Add(at),
			Features: features, Prediction: consumer.Value{Kind: consumer.String, Str: "no"}})
	}
	num := func(x float64) consumer.Value { return consumer.Value{Kind: consumer.Number, Num: x} }
	str := func(s string) consumer.Value { return consumer.Value{Kind: consumer.String, Str: s} }
	add(time.Minute, map[string]consumer.Value{"amount": num(0.5), "country": str("DE")})          // below range
	add(2*time.Minute, map[string]consumer.Value{"amount": str("n/a"), "country": str("DE")})      // wrong type
	add(3*time.Minute, map[string]consumer.Value{"country": str("FR")})                            // amount absent
	add(61*time.Minute, map[string]consumer.Value{"amount": num(500)})                             // next window: out of range, country absent
	add(62*time.Minute, map[string]consumer.Value{"amount": num(50), "country": consumer.Value{}}) // explicit null
	issues := bb.TakeIssues()
	b := consumer.Batch{Model: "fraud", Baseline: base, Rec: bb.NewRecordBatch(), Issues: issues, Watermark: t0.Add(2 * time.Hour),
		Ack: func(error) {}}
	got := run(t, Config{Size: time.Hour, FlushAtEnd: true}, b)
	if len(got) != 2 {
		t.Fatalf("%d windows, want 2", len(got))
	}
	type counts struct{ Nulls, Absent, WrongType, OutOfRange int64 }
	of := func(f Feature) counts { return counts{f.Nulls, f.Absent, f.WrongType, f.OutOfRange} }
	for i, want := range [][2]counts{
		{{Nulls: 2, Absent: 1, WrongType: 1, OutOfRange: 1}, {}}, // 10:00: amount, country
		{{OutOfRange: 1}, {Nulls: 2, Absent: 1}},                 // 11:00
	} {
		w := got[i].Window
		if a, c := of(w.Features[0]), of(w.Features[1]); a != want[0] || c != want[1] {
			t.Errorf("window %s: amount %+v, country %+v; want %+v, %+v", w.Start.Format("15:04"), a, c, want[0], want[1])
		}
	}
}

// TestWindowsVariants: each variant's predictions are kept apart, up to
// MaxVariants (those of smallest rank, caps.go: champion and challenger
// among them), and merge.
func TestWindowsVariants(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	base := testBaseline()
	bb := consumer.NewBatchBuilder(base)
	defer bb.Release()
	add := func(variant, pred string) {
		bb.Append(&consumer.Record{PredictionID: fmt.Sprint(bb.Len()), Model: "fraud", ModelVersion: "1", Timestamp: t0.Add(time.Minute),
			Features: map[string]consumer.Value{}, Prediction: consumer.Value{Kind: consumer.String, Str: pred}, Variant: variant})
	}
	add("champion", "no")
	add("champion", "yes")
	add("challenger", "yes")
	add("", "no") // no variant: only in Prediction
	names := []string{"champion", "challenger"}
	for i := range MaxVariants + 3 {
		add(fmt.Sprintf("shadow-%02d", i), "no")
		names = append(names, fmt.Sprintf("shadow-%02d", i))
	}
	slices.SortFunc(names, func(a, b string) int { return rankOf(a, nil).compare(rankOf(b, nil)) })
	kept := names[:MaxVariants]
	b := consumer.Batch{Model: "fraud", Baseline: base, Rec: bb.NewRecordBatch(), Issues: bb.TakeIssues(), Ack: func(error) {}}
	w := run(t, Config{Size: time.Hour, FlushAtEnd: true}, b)[0].Window
	if len(w.Variants) != MaxVariants {
		t.Fatalf("%d variants kept, want %d", len(w.Variants), MaxVariants)
	}
	for _, v := range kept {
		if w.Variants[v] == nil {
			t.Errorf("variant %s not kept; want the %d of smallest rank %v", v, MaxVariants, kept)
		}
	}
	if c := w.Variants["champion"]; c == nil || c.Prediction.Count != 2 || c.Prediction.Categories["yes"] != 1 || c.Prediction.Categories["no"] != 1 {
		t.Errorf("champion %+v", c)
	}
	if c := w.Variants["challenger"]; c == nil || c.Prediction.Count != 1 || c.Prediction.Categories["yes"] != 1 {
		t.Errorf("challenger %+v", c)
	}
	if w.Prediction.Count != int64(4+MaxVariants+3) {
		t.Errorf("prediction count %d", w.Prediction.Count)
	}
	o := NewWindow(w.Key, w.Start, w.End, base, w.MaxCategories)
	o.variant("challenger").Prediction.Categories["no"] = 5
	o.Variants["challenger"].Prediction.Count = 5
	if err := o.Merge(w); err != nil {
		t.Fatal(err)
	}
	if c := o.Variants["challenger"]; c.Prediction.Count != 6 || c.Prediction.Categories["yes"] != 1 || c.Prediction.Categories["no"] != 5 {
		t.Errorf("merged challenger %+v", c)
	}
}

// TestWindowsHopping: with 2-hour windows starting every hour, each record
// counts in both windows that hold it, windows close in order as the
// watermark passes their ends, and a record's issues follow it into each.
func TestWindowsHopping(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	acked := make(chan error, 10)
	cfg := Config{Size: 2 * time.Hour, Hop: time.Hour, FlushAtEnd: true}
	b := batch(t, mem, 0, acked,
		rec{"1", 30 * time.Minute, 5.0, "DE"},  // 10:30: windows 09:00 and 10:00
		rec{"1", 90 * time.Minute, 50.0, "FR"}, // 11:30: windows 10:00 and 11:00
		rec{"1", 150 * time.Minute, nil, "DE"}, // 12:30: windows 11:00 and 12:00
	)
	b.Issues = []consumer.Issue{{Row: 1, Feature: 0, Kind: consumer.WrongType}}
	got := run(t, cfg, b)
	var desc []string
	for _, c := range got {
		w := c.Window
		desc = append(desc, fmt.Sprintf("%s-%s:%d/%d", w.Start.Format("15:04"), w.End.Format("15:04"), w.Records, w.Features[0].WrongType))
		c.Ack(nil)
	}
	want := "[09:00-11:00:1/0 10:00-12:00:2/1 11:00-13:00:2/1 12:00-14:00:1/0]"
	if fmt.Sprint(desc) != want {
		t.Fatalf("windows %v, want %s", desc, want)
	}
	if err := <-acked; err != nil {
		t.Fatal(err)
	}
	for _, c := range []Config{{Size: time.Hour, Hop: 25 * time.Minute}, {Size: time.Hour, Hop: 2 * time.Hour}, {Size: 61 * time.Minute, Hop: time.Minute}, {Size: time.Hour, Hop: -time.Minute}} {
		if err := c.Validate(); err == nil {
			t.Errorf("size %s hop %s accepted", c.Size, c.Hop)
		}
	}
	if err := (Config{Size: time.Hour, Hop: 15 * time.Minute}).Validate(); err != nil {
		t.Error(err)
	}
}

// TestWindowsFailedAndUnknown: a failed prediction counts as a record, in
// the features, unknown features and latency, by error class, and nowhere
// in the prediction, variants, labels, outcomes, groups or the late-label
// join; unknown feature names count the records that carried them.
func TestWindowsFailedAndUnknown(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	base := testBaseline()
	bb := consumer.NewBatchBuilder(base)
	defer bb.Release()
	num := func(x float64) consumer.Value { return consumer.Value{Kind: consumer.Number, Num: x} }
	add := func(i int, errClass string, pred consumer.Value, extra ...string) {
		f := map[string]consumer.Value{"amount": num(5), "country": {Kind: consumer.String, Str: "DE"}}
		for _, e := range extra {
			f[e] = num(1)
		}
		r := consumer.Record{PredictionID: fmt.Sprint("p", i), Model: "fraud", ModelVersion: "1", Timestamp: t0.Add(time.Duration(i) * time.Minute),
			Features: f, Prediction: pred, Error: errClass, Segments: map[string]string{"gender": "f"}, Variant: "champion", LatencyMS: float64(10 + i)}
		if i != 2 && i != 0 { // p0 and p2 await late labels
			r.Label = consumer.Value{Kind: consumer.String, Str: "yes"}
		}
		bb.Append(&r)
	}
	yes := consumer.Value{Kind: consumer.String, Str: "yes"}
	add(0, "", yes)
	add(1, "", yes, "new_a")
	add(2, "timeout", consumer.Value{}, "new_a", "new_b")
	add(3, "timeout", yes)
	add(4, "oom", consumer.Value{}, "new_b")
	add(5, "", yes, "new_a")
	b := consumer.Batch{Model: "fraud", Baseline: base, Rec: bb.NewRecordBatch(), Issues: bb.TakeIssues(), Watermark: t0.Add(2 * time.Hour), Ack: func(error) {}}
	a := New(Config{Size: time.Hour, FlushAtEnd: true, Labels: &LabelConfig{}})
	in := make(chan consumer.Batch, 2)
	in <- b
	// A late label for a failed prediction joins nothing; one for a served
	// one joins.
	in <- labelBatch(consumer.Label{PredictionID: "p2", Model: "fraud", Time: t0.Add(3 * time.Hour), Value: consumer.Value{Kind: consumer.String, Str: "yes"}},
		consumer.Label{PredictionID: "p0", Model: "fraud", Time: t0.Add(3 * time.Hour), Value: consumer.Value{Kind: consumer.String, Str: "yes"}})
	close(in)
	out := make(chan Closed, 10)
	if err := a.Run(context.Background(), in, out); err != nil {
		t.Fatal(err)
	}
	var w *Window
	for c := range out {
		if c.Window != nil {
			w = c.Window
		}
	}
	if w == nil {
		t.Fatal("no window")
	}
	if w.Records != 6 || w.Failed != 3 || !reflect.DeepEqual(w.ErrorClasses, map[string]int64{"timeout": 2, "oom": 1}) {
		t.Errorf("records %d, failed %d %v; want 6, 3 {timeout 2, oom 1}", w.Records, w.Failed, w.ErrorClasses)
	}
	if !reflect.DeepEqual(w.Unknown, map[string]int64{"new_a": 3, "new_b": 2}) || w.UnknownDropped != 0 {
		t.Errorf("unknown %v dropped %d; want {new_a 3, new_b 2} and 0", w.Unknown, w.UnknownDropped)
	}
	if w.Features[0].Count != 6 || w.Latency.Count() != 6 {
		t.Errorf("amount counts %d values, latency %v; want every record's, 6", w.Features[0].Count, w.Latency.Count())
	}
	if w.Prediction.Count+w.Prediction.Nulls != 3 || w.Decided != 3 || w.Labels.Count != 2 || w.Outcomes.N() != 2 ||
		w.Variants["champion"].Prediction.Count != 3 || w.Groups["gender"]["f"].Decisions.N() != 3 {
		t.Errorf("prediction %d+%d, decided %d, labels %d, outcomes %v, champion %d, group %v; want the 3 served records",
			w.Prediction.Count, w.Prediction.Nulls, w.Decided, w.Labels.Count, w.Outcomes.N(), w.Variants["champion"].Prediction.Count, w.Groups["gender"]["f"].Decisions.N())
	}
	if c := a.Counts().Labels; c.Joined != 1 {
		t.Errorf("%d late labels joined, want 1: the failed prediction's joins nothing (%+v)", c.Joined, c)
	}
}
