package windows

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/driftwatch/driftwatch/baselines"
	"github.com/driftwatch/driftwatch/consumer"
)

func scoreBaseline() *baselines.Baseline {
	return &baselines.Baseline{
		Format: 1, ID: "s1", Model: "fraud",
		Features: []baselines.Feature{
			{Name: "amount", Kind: baselines.Numeric, Count: 4, Edges: []float64{0, 10, 100}, Counts: []int64{0, 2, 1, 1}, Sums: []float64{0, 8, 50, 100}},
		},
		Prediction: baselines.Feature{Name: "prediction", Kind: baselines.Numeric, Count: 4, Edges: []float64{0.5}, Counts: []int64{2, 2}, Sums: []float64{0.5, 1.5}},
		// A multivariate model of the one feature: windows keep a sample
		// of rows.
		Multivariate: &baselines.Multivariate{
			Features: []baselines.MultivariateFeature{{Name: "amount", Kind: baselines.Numeric, Fill: 40, Center: 40, Scale: 30}},
			FitRows:  4, Mean: []float64{0}, Components: [][]float64{{1}}, Variances: []float64{1}, Kept: 1,
		},
	}
}

// lrec is a scored prediction with a segment and, maybe, a label and a
// variant.
type lrec struct {
	id    string
	at    time.Duration // after t0
	score float64
	seg   string
	label string        // "" for none
	delay time.Duration // label timestamp after the prediction's
	// variant is the record's variant, "" for none; twin marks a shadow's
	// record of the prediction id of the record before it, which shares
	// its label (sent once).
	variant string
	twin    bool
}

func scoreBatch(mem memory.Allocator, wm time.Duration, inline bool, recs ...lrec) consumer.Batch {
	base := scoreBaseline()
	bb := consumer.NewBatchBuilder(base)
	defer bb.Release()
	for _, r := range recs {
		cr := consumer.Record{
			PredictionID: r.id, Model: "fraud", ModelVersion: "v1", Timestamp: t0.Add(r.at),
			Features:   map[string]consumer.Value{"amount": {Kind: consumer.Number, Num: 5}},
			Prediction: consumer.Value{Kind: consumer.Number, Num: r.score},
			Segments:   map[string]string{"gender": r.seg},
			Variant:    r.variant,
			LatencyMS:  r.score * 90,
		}
		if inline && r.label != "" {
			cr.Label = consumer.Value{Kind: consumer.String, Str: r.label}
		}
		bb.Append(&cr)
	}
	return consumer.Batch{Model: "fraud", Baseline: base, Rec: bb.NewRecordBatch(), Watermark: t0.Add(wm), Ack: func(error) {}}
}

func labelOf(r lrec) consumer.Label {
	return consumer.Label{PredictionID: r.id, Model: "fraud", Time: t0.Add(r.at + r.delay), Value: consumer.Value{Kind: consumer.String, Str: r.label}}
}

// labelsOf is the labels of the labelled records of recs, in order (a
// twin's is its champion's).
func labelsOf(recs []lrec) []consumer.Label {
	var ls []consumer.Label
	for _, r := range recs {
		if r.label != "" && !r.twin {
			ls = append(ls, labelOf(r))
		}
	}
	return ls
}

func labelBatch(ls ...consumer.Label) consumer.Batch {
	return consumer.Batch{Labels: ls, Ack: func(error) {}}
}

// labelStream is n scored predictions over three hours, 3 in 4 labelled,
// with label delays of up to 5 hours. A third name no variant, a third
// "champion", a third "challenger" (A/B: ids of their own); after half
// the champion's records comes a "shadow" twin (CONTRACT.md section 1: the
// same prediction id, its own score, a millisecond later, and the same
// label), so that a stream of n predictions holds about n + n/6 records.
func labelStream(seed uint64, n int) []lrec {
	rng := rand.New(rand.NewPCG(seed, 1))
	recs := make([]lrec, 0, n+n/5)
	for i := range n {
		r := lrec{id: fmt.Sprintf("p%d", i), at: time.Duration(i) * 3 * time.Hour / time.Duration(n), score: rng.Float64(), seg: []string{"f", "m"}[rng.IntN(2)]}
		if rng.IntN(4) > 0 {
			r.label = []string{"0", "1"}[rng.IntN(2)]
			r.delay = time.Duration(rng.Int64N(int64(5 * time.Hour)))
		}
		r.variant = []string{"", "champion", "challenger"}[rng.IntN(3)]
		recs = append(recs, r)
		if r.variant == "champion" && rng.IntN(2) == 0 {
			tw := r
			tw.variant, tw.twin, tw.at = "shadow", true, r.at+time.Millisecond
			tw.score = min(1, max(0, r.score+rng.NormFloat64()*0.3)) // a shadow that agrees with the champion most of the time
			recs = append(recs, tw)
		}
	}
	return recs
}

// finalStates returns each window's label-derived state as it ends up:
// the last of its close and its re-emissions.
func finalStates(out []Closed) map[windowID]*Window {
	m := make(map[windowID]*Window)
	for _, c := range out {
		if c.Window != nil {
			m[windowID{c.Window.Key, c.Window.Start.UnixNano()}] = c.Window
		}
		for _, w := range c.Relabel {
			m[windowID{w.Key, w.Start.UnixNano()}] = w
		}
	}
	return m
}

type labelView struct {
	Records, Unserved      int64
	Variants               map[string][15]float64 // outcomes, errors, labelled pairs, pairs
	Labels                 map[string]int64
	LabelCount             int64
	TP, FP, TN, FN         float64
	ErrN                   int64
	ErrAbs, ErrSq          float64
	Groups                 map[string][8]float64
	Delays                 []float64
	ErrorsFedOnce, NErrors int
	LabelledScores         [2][]int64
}

func viewOf(w *Window, delays bool) labelView {
	v := labelView{Records: w.Records, Unserved: w.Unserved, Labels: w.Labels.Categories, LabelCount: w.Labels.Count,
		TP: w.Outcomes.TP, FP: w.Outcomes.FP, TN: w.Outcomes.TN, FN: w.Outcomes.FN,
		ErrN: w.ErrN, ErrAbs: w.ErrAbs.Value(), ErrSq: w.ErrSq.Value(), Groups: make(map[string][8]float64),
		LabelledScores: w.LabelledScores}
	for attr, gs := range w.Groups {
		for name, g := range gs {
			v.Groups[attr+"="+name] = [8]float64{g.Decisions.TP, g.Decisions.FP, g.Decisions.TN, g.Decisions.FN, g.Outcomes.TP, g.Outcomes.FP, g.Outcomes.TN, g.Outcomes.FN}
		}
	}
	if len(w.Variants) > 0 {
		v.Variants = make(map[string][15]float64)
		for name, x := range w.Variants {
			o, p := x.Outcomes, x.Paired
			v.Variants[name] = [15]float64{o.TP, o.FP, o.TN, o.FN, float64(x.ErrN), x.ErrAbs.Value(), x.ErrSq.Value(),
				float64(p.BothRight), float64(p.ChampionOnly), float64(p.VariantOnly), float64(p.BothWrong),
				float64(p.ErrN), p.ErrDiff.Value(), p.ErrDiffSq.Value(), float64(x.Agreement.Pairs)}
		}
	}
	if delays {
		v.Delays = w.LabelDelays
	}
	return v
}

// streamed feeds recs in batches of 50 (watermark: the batch's newest
// time), each label arriving at its prediction's time plus its delay, a
// tenth of them before their prediction; after the predictions a record
// two days on closes every window, then the labels still to come arrive.
func streamed(t *testing.T, cfg Config, recs []lrec) []Closed {
	t.Helper()
	mem := memory.NewGoAllocator()
	type arrival struct {
		at time.Duration
		l  consumer.Label
	}
	var arrivals []arrival
	for i, r := range recs {
		if r.label == "" || r.twin {
			continue
		}
		at := r.at + r.delay
		if i%10 == 0 {
			at = r.at - time.Minute // before its prediction
		}
		arrivals = append(arrivals, arrival{at, labelOf(r)})
	}
	slices.SortStableFunc(arrivals, func(a, b arrival) int { return int(a.at - b.at) })
	var batches []consumer.Batch
	for i := 0; i < len(recs); i += 50 {
		chunk := recs[i:min(i+50, len(recs))]
		newest := chunk[len(chunk)-1].at
		var ls []consumer.Label
		for len(arrivals) > 0 && arrivals[0].at <= newest {
			ls = append(ls, arrivals[0].l)
			arrivals = arrivals[1:]
		}
		if len(ls) > 0 {
			batches = append(batches, labelBatch(ls...))
		}
		batches = append(batches, scoreBatch(mem, newest, false, chunk...))
	}
	end := lrec{id: "end", at: 48 * time.Hour, score: 0.5, seg: "f"}
	batches = append(batches, scoreBatch(mem, end.at, false, end))
	for i := 0; i < len(arrivals); i += 7 {
		var ls []consumer.Label
		for _, a := range arrivals[i:min(i+7, len(arrivals))] {
			ls = append(ls, a.l)
		}
		batches = append(batches, labelBatch(ls...))
	}
	return run(t, cfg, batches...)
}

// preloaded feeds every label first, then the predictions: each window
// closes with all its labels.
func preloaded(t *testing.T, cfg Config, recs []lrec) []Closed {
	t.Helper()
	mem := memory.NewGoAllocator()
	ls := labelsOf(recs)
	return run(t, cfg, labelBatch(ls...), scoreBatch(mem, 3*time.Hour, false, recs...))
}

func TestLateLabelsEndLikeLabelsKnownUpFront(t *testing.T) {
	for _, hop := range []time.Duration{0, 30 * time.Minute} {
		t.Run(fmt.Sprintf("hop=%s", hop), func(t *testing.T) {
			recs := labelStream(7, 600)
			cfg := Config{Size: time.Hour, Hop: hop, FlushAtEnd: true, Labels: &LabelConfig{}}
			out := streamed(t, cfg, recs)
			got := finalStates(out)
			want := finalStates(preloaded(t, cfg, recs))
			// And with the labels in the records: the same counts, no delays.
			mem := memory.NewGoAllocator()
			inline := finalStates(run(t, Config{Size: time.Hour, Hop: hop, FlushAtEnd: true}, scoreBatch(mem, 3*time.Hour, true, recs...)))
			relabelled := 0
			for _, c := range out {
				relabelled += len(c.Relabel)
			}
			if relabelled == 0 {
				t.Fatal("no window was re-emitted: the stream did not exercise late labels")
			}
			for id, w := range want {
				if id.start >= t0.Add(3*time.Hour).UnixNano() {
					continue // the closing record's window
				}
				g := got[id]
				if g == nil {
					t.Fatalf("window %s: missing from the stream", w.Start)
				}
				if gv, wv := viewOf(g, true), viewOf(w, true); !reflect.DeepEqual(gv, wv) {
					t.Errorf("window %s: streamed late labels give\n%+v\nlabels known up front give\n%+v", w.Start, gv, wv)
				}
				iv, wv := viewOf(inline[id], false), viewOf(w, false)
				if !reflect.DeepEqual(iv, wv) {
					t.Errorf("window %s: labels in the records give\n%+v\nlate labels give\n%+v", w.Start, iv, wv)
				}
				if w.Labels.Count == 0 || len(w.LabelDelays) != int(w.Labels.Count) {
					t.Errorf("window %s: %d labels, %d delays", w.Start, w.Labels.Count, len(w.LabelDelays))
				}
			}
		})
	}
}

func TestLateLabelsFeedEachErrorOnce(t *testing.T) {
	recs := labelStream(3, 300)
	n := 0
	for _, r := range recs {
		if r.label != "" && !r.twin { // a shadow's record is not served: its errors are not the model's
			n++
		}
	}
	fed := 0
	for _, c := range streamed(t, Config{Size: time.Hour, Hop: 30 * time.Minute, FlushAtEnd: true, Labels: &LabelConfig{}}, recs) {
		if c.Window != nil {
			fed += len(c.Window.Errors)
		}
		for _, w := range c.Relabel {
			fed += len(w.Errors)
		}
	}
	if fed != n {
		t.Errorf("detectors would read %d errors, want each of the %d labels' once", fed, n)
	}
}

func TestLateLabelsBounds(t *testing.T) {
	mem := memory.NewGoAllocator()
	recs := []lrec{
		{id: "a", at: 0, score: 0.9, seg: "f", label: "1", delay: 30 * time.Minute},
		{id: "b", at: time.Minute, score: 0.1, seg: "m", label: "1", delay: 3 * time.Hour}, // beyond the horizon
		{id: "c", at: 2 * time.Minute, score: 0.2, seg: "m", label: "0", delay: time.Hour},
	}
	cfg := Config{Size: time.Hour, FlushAtEnd: true, Labels: &LabelConfig{Horizon: 2 * time.Hour, MaxPending: 2, MaxPredictions: 2}}
	a := New(cfg)
	in := make(chan consumer.Batch, 10)
	in <- labelBatch(consumer.Label{PredictionID: "x1", Model: "fraud", Time: t0, Value: consumer.Value{Kind: consumer.String, Str: "1"}},
		consumer.Label{PredictionID: "x2", Model: "fraud", Time: t0, Value: consumer.Value{Kind: consumer.String, Str: "1"}},
		consumer.Label{PredictionID: "x3", Model: "fraud", Time: t0, Value: consumer.Value{Kind: consumer.String, Str: "1"}}) // evicts x1
	in <- scoreBatch(mem, 2*time.Minute, false, recs...) // three predictions: a is evicted
	in <- labelBatch(labelOf(recs[0]), labelOf(recs[1]), labelOf(recs[2]))
	in <- scoreBatch(mem, 10*time.Hour, false, lrec{id: "late", at: 10 * time.Hour, score: 0.5, seg: "f"})
	close(in)
	out := make(chan Closed, 100)
	go func() {
		for range out {
		}
	}()
	if err := a.Run(t.Context(), in, out); err != nil {
		t.Fatal(err)
	}
	c := a.Counts().Labels
	want := LabelCounts{Received: 6, Joined: 1, BeyondHorizon: 1, EvictedLabels: 2, EvictedPredictions: 2, Expired: 2, Awaiting: 0, Held: 0}
	// x3 evicts x1 from the held labels; c evicts a from the predictions,
	// so a's label is held, evicting x2; b's is beyond the horizon; c's
	// joins. The closing record evicts b; closing the first window expires
	// the held labels of x3 and a and forgets the predictions.
	if c != want {
		t.Errorf("counts %+v, want %+v", c, want)
	}
}

func TestLabelBaseRoundTripAndRestore(t *testing.T) {
	recs := labelStream(11, 400)
	cfg := Config{Size: time.Hour, FlushAtEnd: true, Labels: &LabelConfig{}}
	whole := streamed(t, cfg, recs)
	// What a sink would have kept of the run up to the closing record:
	// bases and keys of the closed windows and the labels read before.
	var st JoinState
	var rest []consumer.Batch
	closedAll := false
	for _, c := range whole {
		if c.Window != nil && !c.Window.Start.Before(t0.Add(3*time.Hour)) {
			continue // the closing record's
		}
		if c.Window != nil {
			b, err := c.LabelBase.MarshalLabelBase()
			if err != nil {
				t.Fatal(err)
			}
			w, err := UnmarshalLabelBase(b, func(model, id string) *baselines.Baseline {
				if id == c.Window.Baseline.ID {
					return c.Window.Baseline
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(viewOf(w, true), viewOf(c.LabelBase, true)) {
				t.Fatalf("label base round trip: %+v, want %+v", viewOf(w, true), viewOf(c.LabelBase, true))
			}
			st.Bases = append(st.Bases, w)
			st.Keys = append(st.Keys, c.Keys...)
			closedAll = c.Window.Start.Equal(t0.Add(2 * time.Hour))
			continue
		}
		if c.Labels != nil {
			if closedAll {
				rest = append(rest, labelBatch(c.Labels...))
			} else {
				st.Labels = append(st.Labels, c.Labels...)
			}
		}
	}
	if len(rest) == 0 || len(st.Bases) != 3 {
		t.Fatalf("%d label batches after the restart, %d bases: the test does not restart mid-way", len(rest), len(st.Bases))
	}
	cfg.RestoreLabels = func() (JoinState, error) { return st, nil }
	after := finalStates(run(t, cfg, rest...))
	want := finalStates(whole)
	for id, w := range after {
		if !reflect.DeepEqual(viewOf(w, true), viewOf(want[id], true)) {
			t.Errorf("window %s after a restart: %+v, want %+v", w.Start, viewOf(w, true), viewOf(want[id], true))
		}
	}
	if len(after) != 3 {
		t.Errorf("%d windows re-emitted after the restart, want 3", len(after))
	}
}

// TestLateLabelsSurviveAReset: after the source lost its partitions, the
// join rebuilt from a sink that holds nothing yet (the windows' commits
// are on their way) keeps what this instance knew: the labels that come
// after re-emit the same windows as without the reset.
// TestLateLabelsSurviveAReset: the source loses its partitions after the
// first half of the labels and every window were read, and the pipeline
// was fenced before any of it was written (pipeline.Pipeline.Fence): the
// sink gives nothing back, and everything since the committed offsets is
// read again, then the rest of the labels. The windows end as without the
// reset, and the detectors read each label's error once after it.
func TestLateLabelsSurviveAReset(t *testing.T) {
	recs := labelStream(5, 400)
	cfg := Config{Size: time.Hour, FlushAtEnd: true, Labels: &LabelConfig{}}
	want := finalStates(streamed(t, cfg, recs))
	cfg.RestoreLabels = func() (JoinState, error) { return JoinState{}, nil }
	mem := memory.NewGoAllocator()
	ls := labelsOf(recs)
	half := len(ls) / 2
	out := run(t, cfg, labelBatch(ls[:half]...), scoreBatch(mem, 48*time.Hour, false, recs...),
		consumer.Batch{Reset: true, Generation: 1},
		labelBatch(ls[:half]...), scoreBatch(mem, 48*time.Hour, false, recs...), labelBatch(ls[half:]...))
	i := slices.IndexFunc(out, func(c Closed) bool { return c.Generation == 1 })
	if i <= 0 {
		t.Fatalf("%d results, the first of the new generation at %d: the reset did not split them", len(out), i)
	}
	after := out[i:]
	got := finalStates(after)
	fed := 0
	for _, c := range after {
		if c.Window != nil {
			fed += len(c.Window.Errors)
		}
		for _, w := range c.Relabel {
			fed += len(w.Errors)
		}
	}
	for id, w := range want {
		if id.start >= t0.Add(3*time.Hour).UnixNano() {
			continue
		}
		if g := got[id]; g == nil || !reflect.DeepEqual(viewOf(g, false), viewOf(w, false)) {
			t.Errorf("window %s after a reset: %+v, want %+v", w.Start, g, viewOf(w, false))
		}
	}
	if fed != len(ls) {
		t.Errorf("after the reset the detectors would read %d errors, want each of the %d labels' once", fed, len(ls))
	}
}

// sinkState is what a sink holds of the Closed it wrote: the join's state
// (JoinState, for RestoreLabels) and its committed windows (Refresh).
type sinkState struct {
	join JoinState
	done map[Key]time.Time
}

func (s *sinkState) write(c Closed) {
	if w := c.Window; w != nil {
		if s.done == nil {
			s.done = make(map[Key]time.Time)
		}
		if w.End.After(s.done[w.Key]) {
			s.done[w.Key] = w.End
		}
		if c.LabelBase != nil {
			s.join.Bases = append(s.join.Bases, c.LabelBase)
		}
	}
	s.join.Keys = append(s.join.Keys, c.Keys...)
	s.join.Labels = append(s.join.Labels, c.Labels...)
}

// errorsIn counts the error events c hands the detectors.
func errorsIn(c Closed) int {
	n := 0
	if c.Window != nil {
		n += len(c.Window.Errors)
	}
	for _, w := range c.Relabel {
		n += len(w.Errors)
	}
	return n
}

// TestRefreshedResetTrustsTheSink: with Refresh (the sink is the truth and
// the source fences the pipeline before a Reset), windows closed here but
// not written were dropped and are built again from the records read
// again: nothing of them may come back from memory. Here one owner closes
// every window, is fenced before writing them, reads every label again,
// and loses its partitions before the predictions; the next owner starts
// from what the sink holds. Each label's error reaches the detectors once,
// and the windows end as if the labels were known up front.
func TestRefreshedResetTrustsTheSink(t *testing.T) {
	recs := labelStream(11, 400)
	cfg := Config{Size: time.Hour, FlushAtEnd: true, Labels: &LabelConfig{}}
	want := finalStates(preloaded(t, cfg, recs))
	mem := memory.NewGoAllocator()
	ls := labelsOf(recs)
	half := len(ls) / 2
	var sink sinkState
	cfg.Refresh = func() (map[Key]time.Time, error) { return maps.Clone(sink.done), nil }
	cfg.RestoreLabels = func() (JoinState, error) { return sink.join, nil }
	// The first owner: what it closed before the reset is fenced off.
	first := run(t, cfg, labelBatch(ls[:half]...), scoreBatch(mem, 48*time.Hour, false, recs...),
		consumer.Batch{Reset: true, Generation: 1}, labelBatch(ls...))
	fed := 0
	for _, c := range first {
		if c.Generation == 1 {
			sink.write(c)
			fed += errorsIn(c)
			if len(c.Relabel) > 0 {
				t.Errorf("after the reset, %d windows re-emitted that the sink does not hold", len(c.Relabel))
			}
		}
	}
	// The next owner reads everything again from what the sink holds.
	next := run(t, cfg, labelBatch(ls...), scoreBatch(mem, 48*time.Hour, false, recs...))
	for _, c := range next {
		fed += errorsIn(c)
	}
	if fed != len(ls) {
		t.Errorf("the detectors would read %d errors, want each of the %d labels' once", fed, len(ls))
	}
	got := finalStates(next)
	for id, w := range want {
		if g := got[id]; g == nil || !reflect.DeepEqual(viewOf(g, false), viewOf(w, false)) {
			t.Errorf("window %s: %+v, want %+v", w.Start, g, viewOf(w, false))
		}
	}
}

// TestLabelBaseLabelledScores: a label base keeps the labelled scores of
// the records that carried their labels (LabelledScores) through its
// encoding, and a base encoded before them (none) decodes with none.
func TestLabelBaseLabelledScores(t *testing.T) {
	base := scoreBaseline()
	w := NewWindow(Key{"fraud", "v1"}, t0, t0.Add(time.Hour), base, 10)
	for i, x := range []float64{0.05, 0.31, 0.31, 0.77, 0.999, 1.5, -2} {
		w.Outcomes.Add(x >= 0.5, i%2 == 0, 1)
		w.addLabelledScore(x, i%2 == 0)
	}
	b, err := w.labelBase().MarshalLabelBase()
	if err != nil {
		t.Fatal(err)
	}
	resolve := func(model, id string) *baselines.Baseline { return base }
	got, err := UnmarshalLabelBase(b, resolve)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got.LabelledScores, w.LabelledScores) {
		t.Errorf("labelled scores %v, want %v", got.LabelledScores, w.LabelledScores)
	}
	if n := got.LabelledScores[1][baselines.OutcomeBins-1]; n != 1 {
		t.Errorf("a positive's score 1.5 counts %d times in the last bin, want 1 (and -2 in the first)", n)
	}
	w.LabelledScores[0][3] = -1
	if b, err = w.labelBase().MarshalLabelBase(); err != nil {
		t.Fatal(err)
	}
	if _, err := UnmarshalLabelBase(b, resolve); err == nil {
		t.Error("a negative labelled-score count decoded")
	}
}
