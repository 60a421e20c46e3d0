package windows

import (
	"context"
	"fmt"
	"maps"
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/driftwatch/driftwatch/baselines"
	"github.com/driftwatch/driftwatch/consumer"
	"github.com/driftwatch/driftwatch/stats"
	"github.com/driftwatch/driftwatch/stats/perf"
)

// richBatch is scoreBatch with every part of a window's state exercised:
// amounts spread over the bins (sums that round differently by order),
// nulls, two versions, variants, latencies and labels in some records,
// features the baseline does not know and failed predictions, chosen by
// the record's id so that any split of the records gives the same ones.
func richBatch(mem memory.Allocator, wm time.Duration, recs ...lrec) consumer.Batch {
	base := scoreBaseline()
	bb := consumer.NewBatchBuilder(base)
	defer bb.Release()
	for _, r := range recs {
		amount := consumer.Value{Kind: consumer.Number, Num: r.score*173.3 - 20.1}
		if fnv1a(r.id)%11 == 0 {
			amount = consumer.Value{}
		}
		cr := consumer.Record{
			PredictionID: r.id, Model: "fraud", ModelVersion: []string{"v1", "v2"}[fnv1a(r.id)%2], Timestamp: t0.Add(r.at),
			Features:   map[string]consumer.Value{"amount": amount},
			Prediction: consumer.Value{Kind: consumer.Number, Num: r.score},
			Segments:   map[string]string{"gender": r.seg, "region": fmt.Sprint(int(r.score*100) % 3)},
			Variant:    r.variant,
			LatencyMS:  r.score * 90,
		}
		if r.delay > 4*time.Hour { // some labels come with their records
			cr.Label = consumer.Value{Kind: consumer.String, Str: r.label}
		}
		if fnv1a(r.id)%5 == 1 {
			cr.Features[[]string{"extra_a", "extra_b"}[int(r.score*1000)%2]] = consumer.Value{Kind: consumer.Number, Num: 1}
		}
		if fnv1a(r.id)%13 == 2 { // a failed prediction: its label, if any, counts nowhere
			cr.Error = []string{"timeout", "oom"}[int(r.score*1000)%2]
			if fnv1a(r.id)%2 == 0 {
				cr.Prediction = consumer.Value{}
			}
		}
		bb.Append(&cr)
	}
	return consumer.Batch{Model: "fraud", Baseline: base, Rec: bb.NewRecordBatch(), Watermark: t0.Add(wm), Ack: func(error) {}}
}

// step is one batch of a stream: predictions (rich batch) or labels.
type step struct {
	recs   []lrec
	wm     time.Duration
	labels []consumer.Label
}

// foldStream is recs in batches of 40 with their labels arriving late
// (as streamed does), then a closing record two days on, then the labels
// still to come.
func foldStream(recs []lrec) []step {
	type arrival struct {
		at time.Duration
		l  consumer.Label
	}
	var arrivals []arrival
	for _, r := range recs {
		if r.label != "" && r.delay <= 4*time.Hour && !r.twin {
			arrivals = append(arrivals, arrival{r.at + r.delay, labelOf(r)})
		}
	}
	slices.SortStableFunc(arrivals, func(a, b arrival) int { return int(a.at - b.at) })
	var steps []step
	for i := 0; i < len(recs); i += 40 {
		chunk := recs[i:min(i+40, len(recs))]
		newest := chunk[len(chunk)-1].at
		var ls []consumer.Label
		for len(arrivals) > 0 && arrivals[0].at <= newest {
			ls = append(ls, arrivals[0].l)
			arrivals = arrivals[1:]
		}
		if len(ls) > 0 {
			steps = append(steps, step{labels: ls})
		}
		steps = append(steps, step{recs: chunk, wm: newest})
	}
	end := lrec{id: "end", at: 48 * time.Hour, score: 0.5, seg: "f"}
	steps = append(steps, step{recs: []lrec{end}, wm: end.at})
	for _, a := range arrivals {
		steps = append(steps, step{labels: []consumer.Label{a.l}})
	}
	return steps
}

// foldedRun runs steps through `parts` folds, each taking the prediction
// batches of its share of partitions (batch i goes to fold i%parts) and
// flushing at random, and merges their deltas, encoded and decoded, in an
// Assigner: scale-out in one process. The merge's watermark is the oldest
// of the folds' watermarks as of their last flush, as the partitions' marks
// give it, so that it never passes records still in a fold.
func foldedRun(t *testing.T, cfg Config, steps []step, parts int, seed uint64) []Closed {
	t.Helper()
	mem := memory.NewGoAllocator()
	rng := rand.New(rand.NewPCG(seed, 2))
	folds := make([]*Fold, parts)
	marks := make([]time.Duration, parts) // per fold: watermark of its last flush
	pending := make([]time.Duration, parts)
	for i := range folds {
		folds[i] = NewFold(cfg)
		marks[i], pending[i] = -1, -1
	}
	base := scoreBaseline()
	cfg.Baselines = func(model, id string) *baselines.Baseline {
		if model == base.Model && id == base.ID {
			return base
		}
		return nil
	}
	var in []consumer.Batch
	flush := func(i int) {
		ps := flushed(t, folds[i])
		marks[i] = pending[i]
		wm := slices.Min(marks)
		if wm < 0 {
			wm = 0 // a fold that never flushed holds everything back
		}
		in = append(in, consumer.Batch{Partials: append([][]byte{}, ps...), Watermark: t0.Add(wm), Ack: func(error) {}})
	}
	n := 0
	for _, s := range steps {
		if s.labels != nil {
			in = append(in, labelBatch(s.labels...))
			continue
		}
		i := n % parts
		n++
		folds[i].Add(richBatch(mem, s.wm, s.recs...))
		pending[i] = max(pending[i], s.wm)
		if rng.IntN(3) == 0 {
			flush(i)
		}
	}
	for i := range folds {
		flush(i)
	}
	return run(t, cfg, in...)
}

// flushed is f.Flush's deltas.
func flushed(t *testing.T, f *Fold) [][]byte {
	t.Helper()
	parts, err := f.Flush()
	if err != nil {
		t.Fatal(err)
	}
	var ps [][]byte
	for _, p := range parts {
		if p.Model != "fraud" {
			t.Fatalf("a delta of model %q", p.Model)
		}
		ps = append(ps, p.Value)
	}
	return ps
}

// singleRun runs steps through one Assigner.
func singleRun(t *testing.T, cfg Config, steps []step) []Closed {
	t.Helper()
	mem := memory.NewGoAllocator()
	var in []consumer.Batch
	for _, s := range steps {
		if s.labels != nil {
			in = append(in, labelBatch(s.labels...))
		} else {
			in = append(in, richBatch(mem, s.wm, s.recs...))
		}
	}
	return run(t, cfg, in...)
}

type featureView struct {
	Nulls, Count, Absent, WrongType, OutOfRange int64
	Counts                                      []int64
	Sums                                        []float64
	Min, Max                                    float64
	Moments                                     stats.Moments
	Categories                                  map[string]int64
}

// variantView is a variant's state but its predictions.
type variantView struct {
	Latency                []byte
	Outcomes               perf.Confusion
	ErrN                   int64
	ErrAbs, ErrSq          float64
	Pairs, Agree, NumPairs int64
	AbsDiff                float64
	Paired                 [5]int64 // both right, champion only, variant only, both wrong, with errors
	ErrDiff, ErrDiffSq     float64
	Scores                 []int64
}

func viewVariant(t *testing.T, v *Variant) variantView {
	p := &v.Paired
	out := variantView{Outcomes: v.Outcomes, ErrN: v.ErrN, ErrAbs: v.ErrAbs.Value(), ErrSq: v.ErrSq.Value(),
		Pairs: v.Agreement.Pairs, Agree: v.Agreement.Agree, NumPairs: v.Agreement.NumPairs, AbsDiff: v.Agreement.AbsDiff.Value(),
		Paired: [5]int64{p.BothRight, p.ChampionOnly, p.VariantOnly, p.BothWrong, p.ErrN}, ErrDiff: p.ErrDiff.Value(), ErrDiffSq: p.ErrDiffSq.Value(),
		Scores: v.Scores}
	if v.Latency != nil {
		var err error
		if out.Latency, err = v.Latency.MarshalBinary(); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

type windowView struct {
	Records, Unserved int64
	PairsDropped      int64
	Features          []featureView
	Prediction        featureView
	Variants          map[string]featureView
	VariantStates     map[string]variantView
	Latency           []byte
	Decided, Selected int64
	Labels            featureView
	Outcomes          perf.Confusion
	ErrN              int64
	ErrAbs, ErrSq     float64
	Errors            []ErrorEvent
	LabelDelays       []float64
	Groups            map[string]Group
	Keys              int
	Failed            int64
	ErrorClasses      map[string]int64
	Unknown           map[string]int64
	UnknownDropped    int64
	Scores            []int64
	LabelledScores    [2][]int64
	// The sample of rows: hashes, and values as bits (NaN is a missing
	// value, which DeepEqual never finds equal).
	SampleK      int
	SampleHashes []uint64
	SampleBits   []uint64
}

func viewFeature(f *Feature) featureView {
	return featureView{f.Nulls, f.Count, f.Absent, f.WrongType, f.OutOfRange, f.Counts, f.Sums, f.Min, f.Max, f.Moments, f.Categories}
}

// fullView is every part of a sealed window's state that statistics read.
func fullView(t *testing.T, c Closed) windowView {
	w := c.Window
	v := windowView{Records: w.Records, Unserved: w.Unserved, PairsDropped: w.PairsDropped, Prediction: viewFeature(&w.Prediction), Decided: w.Decided, Selected: w.Selected,
		Labels: viewFeature(&w.Labels), Outcomes: w.Outcomes, ErrN: w.ErrN, ErrAbs: w.ErrAbs.Value(), ErrSq: w.ErrSq.Value(),
		Errors: slices.Clone(w.Errors), LabelDelays: w.LabelDelays, Groups: make(map[string]Group), Keys: len(c.Keys),
		Failed: w.Failed, ErrorClasses: w.ErrorClasses, Unknown: w.Unknown, UnknownDropped: w.UnknownDropped,
		Scores: w.Scores, LabelledScores: w.LabelledScores}
	for i := range w.Features {
		v.Features = append(v.Features, viewFeature(&w.Features[i]))
	}
	if len(w.Variants) > 0 {
		v.Variants = make(map[string]featureView)
		v.VariantStates = make(map[string]variantView)
		for name, f := range w.Variants {
			v.Variants[name] = viewFeature(&f.Prediction)
			v.VariantStates[name] = viewVariant(t, f)
		}
	}
	for attr, gs := range w.Groups {
		for name, g := range gs {
			v.Groups[attr+"="+name] = *g
		}
	}
	slices.SortFunc(v.Errors, func(a, b ErrorEvent) int {
		if a.Time != b.Time {
			return int(a.Time - b.Time)
		}
		if a.ID < b.ID {
			return -1
		}
		return 1
	})
	if s := w.Sample; s != nil {
		v.SampleK, v.SampleHashes = s.K, slices.Clone(s.Hashes)
		for _, x := range s.Values {
			v.SampleBits = append(v.SampleBits, math.Float64bits(x))
		}
	}
	var err error
	if v.Latency, err = w.Latency.MarshalBinary(); err != nil {
		t.Fatal(err)
	}
	return v
}

func TestFoldMergeEqualsSingle(t *testing.T) {
	for _, hop := range []time.Duration{0, 20 * time.Minute} {
		for parts := 1; parts <= 4; parts++ {
			t.Run(fmt.Sprintf("hop=%s/parts=%d", hop, parts), func(t *testing.T) {
				recs := labelStream(uint64(parts), 500)
				steps := foldStream(recs)
				// 25 sampled rows of about 170 a window: the samples prune.
				cfg := Config{Size: time.Hour, Hop: hop, FlushAtEnd: true, Labels: &LabelConfig{}, SampleRows: 25}
				want := singleRun(t, cfg, steps)
				got := foldedRun(t, cfg, steps, parts, uint64(parts)*7)
				closedViews := func(out []Closed) map[string]windowView {
					m := make(map[string]windowView)
					for _, c := range out {
						if c.Window != nil {
							v := fullView(t, c)
							v.Labels, v.Outcomes, v.ErrN, v.ErrAbs, v.ErrSq, v.LabelDelays, v.Keys = featureView{}, perf.Confusion{}, 0, 0, 0, nil, 0
							v.LabelledScores = [2][]int64{}
							v.Errors = slices.DeleteFunc(v.Errors, func(ErrorEvent) bool { return true })
							for k, g := range v.Groups {
								g.Outcomes = perf.Confusion{}
								v.Groups[k] = g
							}
							for k, x := range v.VariantStates {
								x.Outcomes, x.ErrN, x.ErrAbs, x.ErrSq, x.Paired, x.ErrDiff, x.ErrDiffSq = perf.Confusion{}, 0, 0, 0, [5]int64{}, 0, 0
								v.VariantStates[k] = x
							}
							m[fmt.Sprintf("%s@%s", c.Window.Version, c.Window.Start.Format("02 15:04"))] = v
						}
					}
					return m
				}
				// A merged window closes when every fold's mark has passed
				// it, later than one instance closes it, so more of its late
				// labels can come before it closes: what labels derive is
				// compared as it ends up, below.
				gv, wv := closedViews(got), closedViews(want)
				if len(wv) < 6 {
					t.Fatalf("only %d windows (%v): the stream does not exercise merging", len(wv), slices.Collect(maps.Keys(wv)))
				}
				var failed, unknown int64
				for _, w := range wv {
					failed += w.Failed
					for _, n := range w.Unknown {
						unknown += n
					}
				}
				if failed == 0 || unknown == 0 {
					t.Fatalf("%d failed predictions, %d unknown features: the stream does not exercise them", failed, unknown)
				}
				for id, w := range wv {
					if g, ok := gv[id]; !ok {
						t.Errorf("window %s: missing from the merge", id)
					} else if !reflect.DeepEqual(g, w) {
						t.Errorf("window %s:\nmerged %+v\nsingle %+v", id, g, w)
					}
				}
				if len(gv) != len(wv) {
					t.Errorf("%d windows merged, %d single", len(gv), len(wv))
				}
				// Late labels: the windows' final label states agree too.
				gf, wf := finalStates(got), finalStates(want)
				for id, w := range wf {
					if g := gf[id]; g == nil || !reflect.DeepEqual(viewOf(g, true), viewOf(w, true)) {
						t.Errorf("window %s@%s: final label state differs", id.Version, w.Start.Format("15:04"))
					}
				}
			})
		}
	}
}

func TestDeltaRoundTrip(t *testing.T) {
	mem := memory.NewGoAllocator()
	f := NewFold(Config{Size: time.Hour, Labels: &LabelConfig{}})
	recs := labelStream(5, 200)
	f.Add(richBatch(mem, 0, recs...))
	ds := f.take()
	if len(ds) < 2 || f.Open() != 0 {
		t.Fatalf("%d deltas, %d still open", len(ds), f.Open())
	}
	base := scoreBaseline()
	resolve := func(model, id string) *baselines.Baseline {
		if id == base.ID {
			return base
		}
		return nil
	}
	rows := int64(0)
	for _, d := range ds {
		b, err := MarshalDelta(d)
		if err != nil {
			t.Fatal(err)
		}
		got, err := UnmarshalDelta(b, resolve)
		if err != nil {
			t.Fatal(err)
		}
		rows += got.Rows
		d.Window.Seal()
		got.Window.Seal()
		if g, w := fullView(t, Closed{Window: got.Window}), fullView(t, Closed{Window: d.Window}); !reflect.DeepEqual(g, w) {
			t.Errorf("window %s: decoded %+v\nencoded %+v", d.Window.Start, g, w)
		}
		if !reflect.DeepEqual(got.Keys, d.Keys) || len(d.Keys) == 0 {
			t.Errorf("window %s: %d keys decoded, %d encoded", d.Window.Start, len(got.Keys), len(d.Keys))
		}
		if _, err := UnmarshalDelta(b, func(string, string) *baselines.Baseline { return nil }); err == nil {
			t.Error("a delta of a baseline not loaded decoded")
		}
		other := scoreBaseline()
		other.Features = append(other.Features, other.Features[0])
		if _, err := UnmarshalDelta(b, func(string, string) *baselines.Baseline { return other }); err == nil {
			t.Error("a delta decoded against a baseline of another shape")
		}
	}
	if rows != int64(len(recs)) {
		t.Errorf("deltas count %d rows, want %d", rows, len(recs))
	}
}

func FuzzUnmarshalDelta(f *testing.F) {
	mem := memory.NewGoAllocator()
	fold := NewFold(Config{Size: time.Hour, Labels: &LabelConfig{}})
	fold.Add(richBatch(mem, 0, labelStream(9, 30)...))
	parts, err := fold.Flush()
	if err != nil {
		f.Fatal(err)
	}
	for _, p := range parts {
		f.Add(p.Value)
	}
	f.Add([]byte{deltaFormat})
	base := scoreBaseline()
	resolve := func(string, string) *baselines.Baseline { return base }
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := UnmarshalDelta(data, resolve)
		if err != nil {
			return
		}
		// What decodes merges and evaluates without panicking.
		w := NewWindow(d.Window.Key, d.Window.Start, d.Window.End, base, d.Window.MaxCategories)
		if err := w.Merge(d.Window); err != nil {
			t.Fatal(err)
		}
		if w.Records != d.Window.Records {
			t.Fatal("merge lost records")
		}
		// A decoded sample's rows encode into finite numbers.
		if s := w.Sample; s != nil {
			z := make([]float64, s.Width)
			for i := range s.Len() {
				base.Multivariate.Encode(s.Row(i), z)
				for _, v := range z {
					if math.IsNaN(v) || math.IsInf(v, 0) {
						t.Fatalf("row %v encodes to %v", s.Row(i), z)
					}
				}
			}
		}
	})
}

// TestMergePartialsLateAndResumed: deltas of a window already closed count
// as late records, those of a window an earlier run committed as resumed.
func TestMergePartialsLateAndResumed(t *testing.T) {
	mem := memory.NewGoAllocator()
	base := scoreBaseline()
	enc := func(wm time.Duration, recs ...lrec) consumer.Batch {
		f := NewFold(Config{Size: time.Hour})
		f.Add(scoreBatch(mem, 0, false, recs...))
		return consumer.Batch{Partials: flushed(t, f), Watermark: t0.Add(wm), Ack: func(error) {}}
	}
	cfg := Config{Size: time.Hour, Baselines: func(string, string) *baselines.Baseline { return base },
		Resume: map[Key]time.Time{{"fraud", "v1"}: t0.Add(time.Hour)}}
	a := New(cfg)
	in := make(chan consumer.Batch, 4)
	in <- enc(0, lrec{id: "a", at: 10 * time.Minute}, lrec{id: "b", at: 70 * time.Minute}) // 10:00 resumed, 11:00 open
	in <- enc(3*time.Hour, lrec{id: "c", at: 150 * time.Minute})                           // closes 11:00 and 12:00
	in <- enc(4*time.Hour, lrec{id: "d", at: 80 * time.Minute}, lrec{id: "e", at: 81 * time.Minute})
	in <- consumer.Batch{Partials: [][]byte{{deltaFormat, 1, 2}}, Ack: func(error) {}}
	close(in)
	out := make(chan Closed, 10)
	err := a.Run(context.Background(), in, out)
	if err == nil {
		t.Fatal("a corrupt delta did not stop the run")
	}
	var desc []string
	for c := range out {
		switch {
		case c.Window != nil:
			desc = append(desc, fmt.Sprintf("window %s:%d", c.Window.Start.Format("15:04"), c.Window.Records))
		case c.Late != nil:
			desc = append(desc, fmt.Sprintf("late %s:%d", c.Late.Start.Format("15:04"), c.Late.Records))
		}
	}
	if want := "[window 11:00:1 window 12:00:1 late 11:00:2]"; fmt.Sprint(desc) != want {
		t.Errorf("got %v, want %s", desc, want)
	}
	if c := a.Counts(); c.Records != 5 || c.Resumed != 1 || c.Late != 2 {
		t.Errorf("counts %+v", c)
	}
}

// TestFoldSplitsManyKeys: a window with more prediction keys than one
// delta holds goes in several, and the merge keeps every key.
func TestFoldSplitsManyKeys(t *testing.T) {
	mem := memory.NewGoAllocator()
	n := maxDeltaKeys + 1000
	recs := make([]lrec, n)
	for i := range recs {
		recs[i] = lrec{id: fmt.Sprint("p", i), at: time.Duration(i) * time.Millisecond, score: 0.3, seg: "f"}
	}
	f := NewFold(Config{Size: time.Hour, Labels: &LabelConfig{}})
	f.Add(scoreBatch(mem, 0, false, recs...))
	ps := flushed(t, f)
	if len(ps) != 2 {
		t.Fatalf("%d deltas, want 2", len(ps))
	}
	base := scoreBaseline()
	a := New(Config{Size: time.Hour, Labels: &LabelConfig{}, Baselines: func(string, string) *baselines.Baseline { return base }})
	in := make(chan consumer.Batch, 1)
	in <- consumer.Batch{Partials: ps, Watermark: t0, Ack: func(error) {}} // moves the watermark: counts are taken, nothing closes
	close(in)
	out := make(chan Closed, 1)
	if err := a.Run(context.Background(), in, out); err != nil {
		t.Fatal(err)
	}
	if c := a.Counts(); c.Records != int64(n) || c.Labels.Awaiting != int64(n) || c.Open != 1 {
		t.Errorf("records %d, keys kept %d, open %d; want %d, %d, 1", c.Records, c.Labels.Awaiting, c.Open, n, n)
	}
}
