package windows

import (
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/driftwatch/driftwatch/baselines"
	"github.com/driftwatch/driftwatch/consumer"
	"github.com/driftwatch/driftwatch/stats/perf"
)

// capBaseline has a numeric and a categorical feature and a categorical
// prediction, each with a few baseline categories.
func capBaseline() *baselines.Baseline {
	return &baselines.Baseline{
		Format: 1, ID: "cap", Model: "fraud",
		Features: []baselines.Feature{
			{Name: "amount", Kind: baselines.Numeric, Count: 4, Edges: []float64{0, 10, 100}, Counts: []int64{0, 2, 1, 1}, Sums: []float64{0, 8, 50, 100}},
			{Name: "country", Kind: baselines.Categorical, Count: 4, Categories: map[string]int64{"c07": 3, "c42": 1}},
		},
		Prediction: baselines.Feature{Name: "prediction", Kind: baselines.Categorical, Count: 4, Categories: map[string]int64{"yes": 1, "no": 3}},
	}
}

// capStream is n records of one hourly window with many more distinct
// countries, predictions, labels, segment attributes and groups,
// variants, error classes and unknown features than any cap, default or
// small.
func capStream(seed uint64, n int) []consumer.Record {
	r := rand.New(rand.NewPCG(seed, 15))
	recs := make([]consumer.Record, n)
	for i := range recs {
		rec := consumer.Record{PredictionID: fmt.Sprint("p", i), Model: "fraud", ModelVersion: "1",
			Timestamp: t0.Add(time.Duration(r.IntN(3_600_000)) * time.Millisecond),
			Features: map[string]consumer.Value{
				"amount":  {Kind: consumer.Number, Num: math.Round(r.NormFloat64()*1e4) / 100},
				"country": {Kind: consumer.String, Str: fmt.Sprintf("c%02d", r.IntN(80))},
			},
			Prediction: consumer.Value{Kind: consumer.String, Str: []string{"yes", "no", fmt.Sprint("class", r.IntN(30))}[r.IntN(3)]},
			LatencyMS:  math.NaN(),
		}
		if r.IntN(2) == 0 {
			rec.Label = consumer.Value{Kind: consumer.String, Str: fmt.Sprint("l", r.IntN(25))}
		}
		if k := r.IntN(5); k > 0 {
			rec.Segments = make(map[string]string, k)
			for range k {
				rec.Segments[fmt.Sprint("attr", r.IntN(24))] = fmt.Sprint("g", r.IntN(150))
			}
		}
		if r.IntN(5) > 0 {
			rec.Variant = fmt.Sprint("variant", r.IntN(40))
		}
		for range r.IntN(4) {
			rec.Features[fmt.Sprintf("x%03d", r.IntN(250))] = consumer.Value{Kind: consumer.Number, Num: 1}
		}
		if r.IntN(4) == 0 { // a failed prediction, with or without one
			rec.Error = fmt.Sprint("err", r.IntN(70))
			if r.IntN(2) == 0 {
				rec.Prediction = consumer.Value{}
			}
		}
		recs[i] = rec
	}
	return recs
}

// buildWindow folds recs, in batches of random sizes, into one window.
func buildWindow(t *testing.T, r *rand.Rand, cfg Config, base *baselines.Baseline, recs []consumer.Record) *Window {
	t.Helper()
	var batches []consumer.Batch
	for len(recs) > 0 {
		bb := consumer.NewBatchBuilder(base)
		k := min(len(recs), 1+r.IntN(300))
		for i := range recs[:k] {
			bb.Append(&recs[i])
		}
		recs = recs[k:]
		batches = append(batches, consumer.Batch{Model: "fraud", Baseline: base, Issues: bb.TakeIssues(), Rec: bb.NewRecordBatch(), Ack: func(error) {}})
	}
	got := run(t, cfg, batches...)
	if len(got) != 1 {
		t.Fatalf("%d windows, want 1", len(got))
	}
	return got[0].Window
}

type capFeature struct {
	Count, Nulls int64
	Counts       []int64
	Sums         []float64
	Categories   map[string]int64
}

// capState is what a window keeps under the caps, comparable with
// reflect.DeepEqual.
type capState struct {
	Records, Decided, Selected int64
	Failed, UnknownDropped     int64
	ErrorClasses, Unknown      map[string]int64
	Features                   []capFeature
	Prediction, Labels         capFeature
	Outcomes                   perf.Confusion
	Groups                     map[string]map[string]Group
	Variants                   map[string]capFeature
}

func stateOf(w *Window) capState {
	f := func(f *Feature) capFeature {
		return capFeature{Count: f.Count, Nulls: f.Nulls, Counts: f.Counts, Sums: f.Sums, Categories: f.Categories}
	}
	s := capState{Records: w.Records, Decided: w.Decided, Selected: w.Selected, Prediction: f(&w.Prediction), Labels: f(&w.Labels),
		Failed: w.Failed, UnknownDropped: w.UnknownDropped, ErrorClasses: w.ErrorClasses, Unknown: w.Unknown,
		Outcomes: w.Outcomes, Groups: make(map[string]map[string]Group), Variants: make(map[string]capFeature)}
	for i := range w.Features {
		s.Features = append(s.Features, f(&w.Features[i]))
	}
	for attr, gs := range w.Groups {
		s.Groups[attr] = make(map[string]Group)
		for v, g := range gs {
			s.Groups[attr][v] = *g
		}
	}
	for v, vf := range w.Variants {
		s.Variants[v] = f(&vf.Prediction)
	}
	return s
}

// setCaps makes the group, attribute and variant caps (and the error
// classes' and unknown features', 4 and 5) small for a test.
func setCaps(t *testing.T, attributes, groups, variants int) {
	old := caps
	caps.attributes, caps.groups, caps.variants = attributes, groups, variants
	caps.errorClasses, caps.unknown = 4, 5
	t.Cleanup(func() { caps = old })
}

// TestCapsMergeEqualsWhole: past every cap (categories, groups,
// attributes, variants; default and small caps), a stream folded into one
// window in one order equals the same stream shuffled, split into 2 to 5
// parts folded apart and merged in a random order: the names kept do not
// depend on arrival order or on the split.
func TestCapsMergeEqualsWhole(t *testing.T) {
	for _, small := range []bool{false, true} {
		for seed := range uint64(4) {
			t.Run(fmt.Sprintf("small=%v/seed=%d", small, seed), func(t *testing.T) {
				if small {
					setCaps(t, 3, 4, 3)
				}
				r := rand.New(rand.NewPCG(seed, 16))
				base := capBaseline()
				cfg := Config{Size: time.Hour, FlushAtEnd: true, MaxCategories: 5}
				recs := capStream(seed, 3000)
				whole := buildWindow(t, r, cfg, base, recs)
				want := stateOf(whole)
				checkCapped(t, want)

				r.Shuffle(len(recs), func(i, j int) { recs[i], recs[j] = recs[j], recs[i] })
				nparts := 2 + r.IntN(4)
				cuts := []int{0, len(recs)}
				for len(cuts) < nparts+1 {
					if c := 1 + r.IntN(len(recs)-1); !slices.Contains(cuts, c) {
						cuts = append(cuts, c)
					}
				}
				slices.Sort(cuts)
				parts := make([]*Window, nparts)
				for i := range parts {
					parts[i] = buildWindow(t, r, cfg, base, recs[cuts[i]:cuts[i+1]])
				}
				order := r.Perm(nparts)
				merged := parts[order[0]]
				for _, i := range order[1:] {
					if err := merged.Merge(parts[i]); err != nil {
						t.Fatal(err)
					}
				}
				if got := stateOf(merged); !reflect.DeepEqual(got, want) {
					diffCapState(t, got, want)
				}
			})
		}
	}
}

// checkCapped fails unless s is past every cap, so that the test of
// merging compares capped state.
func checkCapped(t *testing.T, s capState) {
	t.Helper()
	for name, f := range map[string]capFeature{"country": s.Features[1], "prediction": s.Prediction, "labels": s.Labels} {
		if len(f.Categories) != 6 || f.Categories[baselines.OtherCategory] == 0 {
			t.Errorf("%s: %d categories, %d under %s; want 5 and some", name, len(f.Categories), f.Categories[baselines.OtherCategory], baselines.OtherCategory)
		}
	}
	if len(s.Groups) != caps.attributes || len(s.Variants) != caps.variants {
		t.Errorf("%d attributes, %d variants; want %d and %d", len(s.Groups), len(s.Variants), caps.attributes, caps.variants)
	}
	for attr, gs := range s.Groups {
		if len(gs) != caps.groups+1 || gs[baselines.OtherCategory] == (Group{}) {
			t.Errorf("attribute %s: %d groups; want %d and %s", attr, len(gs), caps.groups+1, baselines.OtherCategory)
		}
	}
	if len(s.ErrorClasses) != caps.errorClasses+1 || s.ErrorClasses[baselines.OtherCategory] == 0 {
		t.Errorf("%d error classes, %d under %s; want %d and some", len(s.ErrorClasses), s.ErrorClasses[baselines.OtherCategory], baselines.OtherCategory, caps.errorClasses+1)
	}
	if len(s.Unknown) != caps.unknown || s.UnknownDropped == 0 {
		t.Errorf("%d unknown features, %d dropped; want %d and some", len(s.Unknown), s.UnknownDropped, caps.unknown)
	}
	var failed int64
	for _, n := range s.ErrorClasses {
		failed += n
	}
	if failed != s.Failed || s.Failed == 0 {
		t.Errorf("error classes count %d records, failed %d", failed, s.Failed)
	}
}

func diffCapState(t *testing.T, got, want capState) {
	t.Helper()
	if got.Failed != want.Failed || got.UnknownDropped != want.UnknownDropped || !reflect.DeepEqual(got.ErrorClasses, want.ErrorClasses) ||
		!reflect.DeepEqual(got.Unknown, want.Unknown) {
		t.Errorf("merged failed %d %v, unknown %v dropped %d; whole %d %v, %v %d", got.Failed, got.ErrorClasses, got.Unknown, got.UnknownDropped,
			want.Failed, want.ErrorClasses, want.Unknown, want.UnknownDropped)
	}
	if got.Records != want.Records || got.Decided != want.Decided || got.Selected != want.Selected || got.Outcomes != want.Outcomes {
		t.Errorf("merged counts %d %d %d %+v, whole %d %d %d %+v", got.Records, got.Decided, got.Selected, got.Outcomes,
			want.Records, want.Decided, want.Selected, want.Outcomes)
	}
	for i := range want.Features {
		if !reflect.DeepEqual(got.Features[i], want.Features[i]) {
			t.Errorf("feature %d: merged %+v, whole %+v", i, got.Features[i], want.Features[i])
		}
	}
	if !reflect.DeepEqual(got.Prediction, want.Prediction) {
		t.Errorf("prediction: merged %+v, whole %+v", got.Prediction, want.Prediction)
	}
	if !reflect.DeepEqual(got.Labels, want.Labels) {
		t.Errorf("labels: merged %+v, whole %+v", got.Labels, want.Labels)
	}
	if !reflect.DeepEqual(got.Groups, want.Groups) {
		t.Errorf("groups: merged %v, whole %v", got.Groups, want.Groups)
	}
	if !reflect.DeepEqual(got.Variants, want.Variants) {
		t.Errorf("variants: merged %v, whole %v", got.Variants, want.Variants)
	}
}

// TestCapsKeepBaselineCategories: a feature's baseline categories are kept
// by name though unseen categories of smaller hash, more than the cap,
// arrive before them (400 of them: the feature prunes on the way).
func TestCapsKeepBaselineCategories(t *testing.T) {
	var recs []rec // testBaseline's country has DE and FR
	smaller := 0
	for i := range 400 {
		c := fmt.Sprint("x", i)
		recs = append(recs, rec{"1", 0, 1.0, c})
		if fnv1a(c) < min(fnv1a("DE"), fnv1a("FR")) {
			smaller++
		}
	}
	if smaller < 2 {
		t.Fatalf("only %d unseen categories hash below DE and FR: the test would not test", smaller)
	}
	recs = append(recs, rec{"1", 0, 1.0, "FR"}, rec{"1", 0, 1.0, "DE"}, rec{"1", 0, 1.0, "DE"})
	w := run(t, Config{Size: time.Hour, MaxCategories: 2, FlushAtEnd: true}, batch(t, nil, 0, make(chan error, 1), recs...))[0].Window
	got := w.Features[1].Categories
	want := map[string]int64{"DE": 2, "FR": 1, baselines.OtherCategory: 400}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("categories %v, want %v", got, want)
	}
}

// TestCapsBoundedMemory: 100,000 distinct names fed to one feature never
// make it hold more than 2k names plus OtherCategory, and after sealing
// it holds exactly the k smallest by rank, each with its exact count, and
// every other value under OtherCategory.
func TestCapsBoundedMemory(t *testing.T) {
	const k, n = 10, 100_000
	bf := &baselines.Feature{Name: "id", Kind: baselines.Categorical, Categories: map[string]int64{"n99999": 1, "n50000": 1}}
	count := func(i int) int64 { return int64(1 + i%3) } // name i's count; every 7th comes twice, once more
	f := newFeature(bf)
	most := 0
	ranks := make([]rank, 0, n)
	var total int64
	for i := range n {
		name := fmt.Sprint("n", i)
		f.addCategory(name, count(i), bf, k)
		total += count(i)
		if i%7 == 0 { // a name kept so far again, or one past the cut
			f.addCategory(name, 1, bf, k)
			total++
		}
		most = max(most, len(f.Categories))
		ranks = append(ranks, rankOf(name, bf))
	}
	if most > 2*k+1 {
		t.Errorf("the feature held %d names at once, want at most %d", most, 2*k+1)
	}
	f.pruneCategories(k, bf) // as Seal does
	slices.SortFunc(ranks, rank.compare)
	want := map[string]int64{baselines.OtherCategory: total}
	for _, r := range ranks[:k] {
		var i int
		if _, err := fmt.Sscanf(r.name, "n%d", &i); err != nil {
			t.Fatal(err)
		}
		want[r.name] = count(i)
		if i%7 == 0 {
			want[r.name]++
		}
		want[baselines.OtherCategory] -= want[r.name]
	}
	if !reflect.DeepEqual(f.Categories, want) {
		t.Errorf("categories %v, want %v", f.Categories, want)
	}
	if f.Categories["n99999"] == 0 || f.Categories["n50000"] == 0 {
		t.Errorf("baseline categories not kept: %v", f.Categories)
	}
}

// TestCapsBoundedGroupsAndVariants: batch after batch of new segment
// groups, attributes and variants, a window holds at most twice their caps
// between batches (addRows prunes them), exactly their caps once closed,
// and every record still counts in its attribute's groups (OtherCategory
// included) and in Prediction.
func TestCapsBoundedGroupsAndVariants(t *testing.T) {
	const batches, per = 200, 100
	base := testBaseline()
	a := New(Config{Size: time.Hour, FlushAtEnd: true})
	for b := range batches {
		bb := consumer.NewBatchBuilder(base)
		for i := range per {
			n := b*per + i
			// Version 1: a new gender group and variant each; version 2: a
			// new attribute each.
			bb.Append(&consumer.Record{PredictionID: fmt.Sprint(n), Model: "fraud", ModelVersion: "1", Timestamp: t0.Add(time.Second),
				Features: map[string]consumer.Value{}, Prediction: consumer.Value{Kind: consumer.String, Str: "yes"},
				Segments: map[string]string{"gender": fmt.Sprint("g", n)}, Variant: fmt.Sprint("v", n), LatencyMS: math.NaN()})
			bb.Append(&consumer.Record{PredictionID: fmt.Sprint("a", n), Model: "fraud", ModelVersion: "2", Timestamp: t0.Add(time.Second),
				Features: map[string]consumer.Value{}, Prediction: consumer.Value{Kind: consumer.String, Str: "yes"},
				Segments: map[string]string{fmt.Sprint("attr", n): "x"}, LatencyMS: math.NaN()})
		}
		a.process(consumer.Batch{Model: "fraud", Baseline: base, Rec: bb.NewRecordBatch(), Issues: bb.TakeIssues(), Watermark: t0, Ack: func(error) {}})
		for _, byStart := range a.open {
			for _, ow := range byStart {
				w := ow.w
				if len(w.Groups) > 2*caps.attributes || len(w.Variants) > 2*caps.variants {
					t.Fatalf("after batch %d: %d attributes, %d variants; want at most %d and %d", b, len(w.Groups), len(w.Variants), 2*caps.attributes, 2*caps.variants)
				}
				for attr, gs := range w.Groups {
					if len(gs) > 2*caps.groups+1 {
						t.Fatalf("after batch %d: attribute %s has %d groups, want at most %d", b, attr, len(gs), 2*caps.groups+1)
					}
				}
			}
		}
	}
	closed := a.closeThrough(t0.Add(2 * time.Hour))
	if len(closed) != 2 {
		t.Fatalf("%d windows closed, want 2", len(closed))
	}
	w, w2 := closed[0].Window, closed[1].Window
	if len(w.Variants) != caps.variants || len(w.Groups["gender"]) != caps.groups+1 || len(w2.Groups) != caps.attributes {
		t.Fatalf("%d variants, %d gender groups, %d attributes; want %d, %d, %d", len(w.Variants), len(w.Groups["gender"]), len(w2.Groups), caps.variants, caps.groups+1, caps.attributes)
	}
	var n float64
	for _, g := range w.Groups["gender"] {
		n += g.Decisions.TP + g.Decisions.FP + g.Decisions.TN + g.Decisions.FN
	}
	if n != batches*per || w.Prediction.Count != batches*per {
		t.Errorf("gender groups count %v records, prediction %d; want %d", n, w.Prediction.Count, batches*per)
	}
}

// TestCapsLateLabels: past the label and group caps, late labels (joined
// as they stream in, to open and to closed windows) end in the same
// label-derived state as labels known before the windows close, and as
// labels the records carry: the join's paths (addLate, labelBase,
// relabel) keep the same names.
func TestCapsLateLabels(t *testing.T) {
	setCaps(t, 3, 4, 3)
	recs := labelStream(9, 900)
	r := rand.New(rand.NewPCG(9, 2))
	for i := range recs {
		recs[i].seg = fmt.Sprint("g", r.IntN(40))
		if recs[i].label != "" {
			recs[i].label = fmt.Sprint("l", r.IntN(30))
		}
	}
	cfg := Config{Size: time.Hour, FlushAtEnd: true, MaxCategories: 3, Labels: &LabelConfig{}}
	out := streamed(t, cfg, recs)
	got := finalStates(out)
	want := finalStates(preloaded(t, cfg, recs))
	inline := finalStates(run(t, Config{Size: time.Hour, FlushAtEnd: true, MaxCategories: 3}, scoreBatch(nil, 3*time.Hour, true, recs...)))
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
		if len(w.Labels.Categories) != 4 || len(w.Groups["gender"]) != 5 {
			t.Errorf("window %s: %d label categories, %d groups; want 3 and 4 plus %s", w.Start, len(w.Labels.Categories), len(w.Groups["gender"]), baselines.OtherCategory)
		}
		g := got[id]
		if g == nil {
			t.Fatalf("window %s: missing from the stream", w.Start)
		}
		if gv, wv := viewOf(g, true), viewOf(w, true); !reflect.DeepEqual(gv, wv) {
			t.Errorf("window %s: streamed late labels give\n%+v\nlabels known up front give\n%+v", w.Start, gv, wv)
		}
		if iv, wv := viewOf(inline[id], false), viewOf(w, false); !reflect.DeepEqual(iv, wv) {
			t.Errorf("window %s: labels in the records give\n%+v\nlate labels give\n%+v", w.Start, iv, wv)
		}
	}
}
