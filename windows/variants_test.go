package windows

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/driftwatch/driftwatch/baselines"
	"github.com/driftwatch/driftwatch/consumer"
	"github.com/driftwatch/driftwatch/stats/perf"
)

// vrec is one record of a hand-built variant batch.
type vrec struct {
	id, variant string
	pred        consumer.Value
	label       string // "" for none
	latency     float64
}

func num(x float64) consumer.Value { return consumer.Value{Kind: consumer.Number, Num: x} }
func text(s string) consumer.Value { return consumer.Value{Kind: consumer.String, Str: s} }
func labelled(l string) consumer.Value {
	if l == "" {
		return consumer.Value{}
	}
	return text(l)
}

// variantBatch builds a batch of recs at 10:05, numeric amounts, on base.
func variantBatch(mem memory.Allocator, base *baselines.Baseline, recs ...vrec) consumer.Batch {
	bb := consumer.NewBatchBuilder(base)
	defer bb.Release()
	for _, r := range recs {
		lat := r.latency
		if lat == 0 {
			lat = math.NaN()
		}
		bb.Append(&consumer.Record{PredictionID: r.id, Model: "fraud", ModelVersion: "v1", Timestamp: t0.Add(5 * time.Minute),
			Features: map[string]consumer.Value{"amount": num(5)}, Prediction: r.pred, Label: labelled(r.label),
			Segments: map[string]string{"gender": "f"}, Variant: r.variant, LatencyMS: lat})
	}
	return consumer.Batch{Model: "fraud", Baseline: base, Rec: bb.NewRecordBatch(), Issues: bb.TakeIssues(), Ack: func(error) {}}
}

// TestVariantState: each variant's own state, exactly, on a hand-built
// window: a champion, a challenger of its own ids (A/B) and a shadow that
// scores the champion's ids (shadow), labels in the records. The shadow's
// records count in its state only; the pairs are the shadow's records and
// the champion's of the same ids.
func TestVariantState(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	base := scoreBaseline()
	b := variantBatch(mem, base,
		// Champion: decisions at 0.5; labels 1, 0, 1, none.
		vrec{"a", "champion", num(0.9), "1", 10},
		vrec{"b", "champion", num(0.2), "0", 20},
		vrec{"c", "champion", num(0.7), "0", 30},
		vrec{"d", "champion", num(0.4), "", 40},
		// Shadow of a, b, c, d: agrees on a and b, not on c and d.
		vrec{"a", "shadow", num(0.8), "1", 100},
		vrec{"b", "shadow", num(0.1), "0", 200},
		vrec{"c", "shadow", num(0.3), "0", 300},
		vrec{"d", "shadow", num(0.6), "", 0},
		// Challenger: its own ids; one unpaired shadow record.
		vrec{"e", "challenger", num(0.6), "0", 15},
		vrec{"f", "challenger", num(0.1), "1", 25},
		vrec{"g", "shadow", num(0.5), "1", 0},
		vrec{"h", "", num(0.5), "", 0},
	)
	w := run(t, Config{Size: time.Hour, FlushAtEnd: true}, b)[0].Window

	if w.Records != 7 || w.Unserved != 5 || w.Prediction.Count != 7 || w.Features[0].Count != 7 || w.Decided != 7 {
		t.Errorf("records %d, unserved %d, predictions %d, amounts %d, decided %d; want 7, 5, 7, 7, 7 (the shadow's records are not served)",
			w.Records, w.Unserved, w.Prediction.Count, w.Features[0].Count, w.Decided)
	}
	// Served labelled: a TP, b TN, c FP, e FP, f FN.
	if want := (perf.Confusion{TP: 1, TN: 1, FP: 2, FN: 1}); w.Outcomes != want {
		t.Errorf("window outcomes %+v, want %+v", w.Outcomes, want)
	}
	if w.Latency.Count() != 6 {
		t.Errorf("window latencies %d, want the 6 served records with one", w.Latency.Count())
	}
	champ, shadow, chall := w.Variants["champion"], w.Variants["shadow"], w.Variants["challenger"]
	if champ == nil || shadow == nil || chall == nil || len(w.Variants) != 3 {
		t.Fatalf("variants %v", slices.Sorted(func(yield func(string) bool) {
			for k := range w.Variants {
				if !yield(k) {
					return
				}
			}
		}))
	}
	for _, c := range []struct {
		name     string
		v        *Variant
		count    int64
		outcomes perf.Confusion
		errN     int64
		errAbs   float64
		lat      uint64
	}{
		{"champion", champ, 4, perf.Confusion{TP: 1, TN: 1, FP: 1}, 3, 0.1 + 0.2 + 0.7, 4},
		{"shadow", shadow, 5, perf.Confusion{TP: 2, TN: 2}, 4, 0.2 + 0.1 + 0.3 + 0.5, 3},
		{"challenger", chall, 2, perf.Confusion{FP: 1, FN: 1}, 2, 0.6 + 0.9, 2},
	} {
		v := c.v
		if v.Prediction.Count != c.count || v.Outcomes != c.outcomes || v.ErrN != c.errN || math.Abs(v.ErrAbs.Value()-c.errAbs) > 1e-12 {
			t.Errorf("%s: %d predictions, outcomes %+v, %d errors summing %v; want %d, %+v, %d, %v",
				c.name, v.Prediction.Count, v.Outcomes, v.ErrN, v.ErrAbs.Value(), c.count, c.outcomes, c.errN, c.errAbs)
		}
		if v.Latency == nil || v.Latency.Count() != c.lat {
			t.Errorf("%s: latency %v, want %d values", c.name, v.Latency, c.lat)
		}
	}
	// Each variant's scores in the window's bins: its own records'.
	for name, preds := range map[string][]float64{"champion": {0.9, 0.2, 0.7, 0.4}, "shadow": {0.8, 0.1, 0.3, 0.6, 0.5}, "challenger": {0.6, 0.1}} {
		want := make([]int64, baselines.OutcomeBins)
		for _, x := range preds {
			want[baselines.OutcomeBin(x)]++
		}
		if got := w.Variants[name].Scores; !slices.Equal(got, want) {
			t.Errorf("%s's scores %v, want %v", name, got, want)
		}
	}
	if q := shadow.Latency.Quantile(1); math.Abs(q-300) > 300*LatencyAccuracy {
		t.Errorf("shadow's latency p100 %v, want 300", q)
	}
	// Pairs: a, b, c, d; decisions agree on a and b; |diff| 0.1, 0.1, 0.4,
	// 0.2. Labelled pairs a (both right), b (both right), c (the shadow
	// right only); errors |0.8-1|-|0.9-1|, |0.1|-|0.2|, |0.3|-|0.7|.
	ag := shadow.Agreement
	if ag.Pairs != 4 || ag.Agree != 2 || ag.NumPairs != 4 || math.Abs(ag.AbsDiff.Value()-0.8) > 1e-15 {
		t.Errorf("shadow agreement %+v (abs diff %v), want 4 pairs, 2 agreeing, abs diff 0.8", ag, ag.AbsDiff.Value())
	}
	p := shadow.Paired
	if p.BothRight != 2 || p.VariantOnly != 1 || p.ChampionOnly != 0 || p.BothWrong != 0 || p.ErrN != 3 ||
		math.Abs(p.ErrDiff.Value()-(-0.4)) > 1e-15 { // 0.1 - 0.1 - 0.4
		t.Errorf("shadow's labelled pairs %+v (error difference %v)", p, p.ErrDiff.Value())
	}
	if chall.Agreement.Pairs != 0 || chall.Paired.N() != 0 || champ.Agreement.Pairs != 0 {
		t.Errorf("challenger paired %+v %+v, champion %+v: only the shadow shares ids with the champion", chall.Agreement, chall.Paired, champ.Agreement)
	}
	if w.PairsDropped != 0 {
		t.Errorf("%d records dropped from pairing", w.PairsDropped)
	}
}

// TestVariantAgreementOfClasses: class predictions agree when they are
// the same class, not merely the same decision.
func TestVariantAgreementOfClasses(t *testing.T) {
	mem := memory.NewGoAllocator()
	base := testBaseline() // categorical predictions
	b := variantBatch(mem, base,
		vrec{"a", "champion", text("no"), "", 0}, vrec{"a", "shadow", text("no"), "", 0},
		vrec{"b", "champion", text("no"), "", 0}, vrec{"b", "shadow", text("maybe"), "", 0}, // both negative decisions, other classes
		vrec{"c", "champion", text("yes"), "", 0}, vrec{"c", "shadow", text("yes"), "", 0},
	)
	w := run(t, Config{Size: time.Hour, FlushAtEnd: true, Decision: Decision{Threshold: 0.5, Positive: []string{"yes"}}}, b)[0].Window
	if ag := w.Variants["shadow"].Agreement; ag.Pairs != 3 || ag.Agree != 2 || ag.NumPairs != 0 {
		t.Errorf("agreement %+v, want 3 pairs, 2 of the same class, none numeric", ag)
	}
}

// TestVariantRoles: Config.Variants names the champion and the shadows per
// model: a shadow named otherwise is served; pairs are with the configured
// champion.
func TestVariantRoles(t *testing.T) {
	mem := memory.NewGoAllocator()
	base := scoreBaseline()
	b := variantBatch(mem, base,
		vrec{"a", "blue", num(0.9), "1", 0}, vrec{"a", "green", num(0.1), "1", 0}, vrec{"a", "shadow", num(0.9), "1", 0})
	cfg := Config{Size: time.Hour, FlushAtEnd: true, Variants: func(model string) VariantRoles {
		if model != "fraud" {
			t.Errorf("roles asked for model %q", model)
		}
		return VariantRoles{Champion: "blue", Shadows: []string{"green"}}
	}}
	w := run(t, cfg, b)[0].Window
	if w.Records != 2 || w.Unserved != 1 || w.Champion != "blue" {
		t.Errorf("records %d, unserved %d, champion %q; want 2 (blue, shadow), 1 (green), blue", w.Records, w.Unserved, w.Champion)
	}
	if g, s := w.Variants["green"], w.Variants["shadow"]; g.Paired.ChampionOnly != 1 || s.Paired.BothRight != 1 || w.Variants["blue"].Agreement.Pairs != 0 {
		t.Errorf("green paired %+v, shadow %+v: both pair with blue", g.Paired, s.Paired)
	}
}

// TestPairSampleMergesExactly: past the pairing cap, folding a stream in
// random parts and merging them keeps the same sample, pairs and counts
// as one window of every record, and the sample is the ids of smallest
// rank.
func TestPairSampleMergesExactly(t *testing.T) {
	old := caps
	caps.pairs = 40
	t.Cleanup(func() { caps = old })
	recs := labelStream(13, 900) // about 150 shadow twins in three windows
	whole := finalClosed(t, singleRun(t, Config{Size: time.Hour, FlushAtEnd: true}, []step{{recs: recs, wm: 0}}))
	for seed := range uint64(4) {
		rng := rand.New(rand.NewPCG(seed, 3))
		var steps []step
		for i := 0; i < len(recs); {
			n := 1 + rng.IntN(60)
			chunk := recs[i:min(i+n, len(recs))]
			steps = append(steps, step{recs: chunk, wm: 0})
			i += n
		}
		got := finalClosed(t, foldedRun(t, Config{Size: time.Hour, FlushAtEnd: true}, steps, 1+int(seed)%3, seed))
		for k, w := range whole {
			g := got[k]
			if !reflect.DeepEqual(g, w) {
				t.Errorf("seed %d, window %s: merged and whole differ: %s", seed, k, viewDiff(g, w))
			}
		}
	}
	dropped, pairs := int64(0), int64(0)
	for _, v := range whole {
		dropped += v.PairsDropped
		pairs += v.VariantStates["shadow"].Pairs
	}
	if dropped == 0 || pairs == 0 {
		t.Fatalf("%d records dropped, %d pairs: the stream does not pass the cap", dropped, pairs)
	}
}

// finalClosed is the full view of each closed window, by start.
func finalClosed(t *testing.T, out []Closed) map[string]windowView {
	m := make(map[string]windowView)
	for _, c := range out {
		if c.Window != nil {
			v := fullView(t, c)
			// Labels.Nulls counts the null labels of batches that hold a
			// label (addOutcomes skips a batch without any): it depends on
			// the batching, and no row reads it.
			v.Keys, v.Labels.Nulls = 0, 0
			m[fmt.Sprint(c.Window.Version, "@", c.Window.Start.Format("15:04"))] = v
		}
	}
	return m
}

// TestPairSampleKeepsSmallestRanks: the sample sealed is the ids of
// smallest rank up to the cap, whatever the order the records came in.
func TestPairSampleKeepsSmallestRanks(t *testing.T) {
	old := caps
	caps.pairs = 10
	t.Cleanup(func() { caps = old })
	var ids []uint64
	for i := range 50 {
		ids = append(ids, fnv1a(fmt.Sprint("p", i)))
	}
	for seed := range uint64(5) {
		var p pairState
		order := slices.Clone(ids)
		rand.New(rand.NewPCG(seed, 9)).Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
		for _, id := range order {
			p.add(id, 1, pairRecord{decided: true})
			p.add(id, 2, pairRecord{decided: true})
		}
		p.prune()
		slices.SortFunc(order, func(a, b uint64) int {
			if pairRank(a) < pairRank(b) {
				return -1
			}
			return 1
		})
		var kept []uint64
		for k := range p.recs {
			if k.variant == 1 {
				kept = append(kept, k.id)
			}
		}
		slices.SortFunc(kept, func(a, b uint64) int {
			if pairRank(a) < pairRank(b) {
				return -1
			}
			return 1
		})
		if !slices.Equal(kept, order[:5]) || len(p.recs) != 10 || p.offered != 100 {
			t.Errorf("seed %d: kept %d records of ids %v, offered %d; want the 5 ids of smallest rank %v, 100 offered", seed, len(p.recs), kept, p.offered, order[:5])
		}
	}
}

// TestLateLabelJoinsEveryVariant: a label that arrives after its window
// closed counts for the champion's record and the shadow's of its
// prediction id, pairs them, and, the shadow not being served, counts once
// in the window's figures; one that arrives between the two records joins
// the second when it comes.
func TestLateLabelJoinsEveryVariant(t *testing.T) {
	mem := memory.NewGoAllocator()
	base := scoreBaseline()
	l := func(id, value string) consumer.Label {
		return consumer.Label{PredictionID: id, Model: "fraud", Time: t0.Add(2 * time.Hour), Value: text(value)}
	}
	first := variantBatch(mem, base, vrec{"a", "champion", num(0.9), "", 0}, vrec{"a", "shadow", num(0.2), "", 0},
		vrec{"b", "champion", num(0.1), "", 0})
	second := variantBatch(mem, base, vrec{"b", "shadow", num(0.8), "", 0})
	closing := variantBatch(mem, base)
	closing.Watermark = t0.Add(3 * time.Hour)
	out := run(t, Config{Size: time.Hour, FlushAtEnd: true, Labels: &LabelConfig{}},
		first, labelBatch(l("b", "1")), second, closing, labelBatch(l("a", "1")))
	var closed, relabel *Window
	for _, c := range out {
		if c.Window != nil {
			closed = c.Window
		}
		if len(c.Relabel) > 0 {
			relabel = c.Relabel[0]
		}
	}
	if closed == nil || relabel == nil {
		t.Fatalf("closed %v, re-emitted %v", closed, relabel)
	}
	// At close: b's label joined the champion's record and, when it came,
	// the shadow's. The champion decided b wrong (FN), the shadow right.
	if c, s := closed.Variants["champion"], closed.Variants["shadow"]; c.Outcomes != (perf.Confusion{FN: 1}) || s.Outcomes != (perf.Confusion{TP: 1}) || s.Paired.VariantOnly != 1 {
		t.Errorf("at close: champion %+v, shadow %+v, shadow's pairs %+v", c.Outcomes, s.Outcomes, s.Paired)
	}
	if closed.Outcomes != (perf.Confusion{FN: 1}) || closed.Labels.Count != 1 || len(closed.Errors) != 1 {
		t.Errorf("at close: window outcomes %+v, %d labels, %d errors; want the served record's alone", closed.Outcomes, closed.Labels.Count, len(closed.Errors))
	}
	// a's label after close: the champion right (TP), the shadow wrong (FN).
	c, s := relabel.Variants["champion"], relabel.Variants["shadow"]
	if c.Outcomes != (perf.Confusion{TP: 1, FN: 1}) || s.Outcomes != (perf.Confusion{TP: 1, FN: 1}) {
		t.Errorf("re-emitted: champion %+v, shadow %+v; want TP 1, FN 1 each", c.Outcomes, s.Outcomes)
	}
	if s.Paired.ChampionOnly != 1 || s.Paired.VariantOnly != 1 || s.Paired.ErrN != 2 {
		t.Errorf("re-emitted: shadow's pairs %+v; want one each way, with errors", s.Paired)
	}
	if s.Agreement.Pairs != closed.Variants["shadow"].Agreement.Pairs || s.Agreement.Pairs != 2 {
		t.Errorf("re-emitted: the shadow's agreement %+v, want the 2 pairs it had at close (its labels are tested in pairs)", s.Agreement)
	}
	if relabel.Outcomes != (perf.Confusion{TP: 1, FN: 1}) || relabel.Labels.Count != 2 || len(relabel.Errors) != 1 {
		t.Errorf("re-emitted: window outcomes %+v, %d labels, %d new errors; want the served records' alone", relabel.Outcomes, relabel.Labels.Count, len(relabel.Errors))
	}
}

// TestVariantsSurviveTheLabelBase: the label base keeps each variant's
// label state and the pairing sample's cut through its encoding.
func TestVariantsSurviveTheLabelBase(t *testing.T) {
	old := caps
	caps.pairs = 30
	t.Cleanup(func() { caps = old })
	mem := memory.NewGoAllocator()
	recs := labelStream(17, 300)
	out := run(t, Config{Size: time.Hour, FlushAtEnd: true, Labels: &LabelConfig{}}, scoreBatch(mem, 0, true, recs...))
	n := 0
	for _, c := range out {
		if c.Window == nil {
			continue
		}
		b, err := c.LabelBase.MarshalLabelBase()
		if err != nil {
			t.Fatal(err)
		}
		w, err := UnmarshalLabelBase(b, func(string, string) *baselines.Baseline { return c.Window.Baseline })
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(viewOf(w, false), viewOf(c.LabelBase, false)) || w.pairs.cut != c.Window.pairs.cut || w.pairs.cutSet != c.Window.pairs.cutSet {
			t.Errorf("window %s: decoded %+v (cut %v), encoded %+v (cut %v)", c.Window.Start, viewOf(w, false), w.pairs.cut, viewOf(c.LabelBase, false), c.Window.pairs.cut)
		}
		if c.Window.pairs.cutSet && c.LabelBase.Variants["shadow"].Paired.N() > 0 {
			n++
		}
	}
	if n == 0 {
		t.Error("no window with labelled pairs past the cap: the test exercises nothing")
	}
}

// viewDiff names the fields of two window views that differ, with their
// values (but the long ones).
func viewDiff(a, b windowView) string {
	var out []string
	va, vb := reflect.ValueOf(a), reflect.ValueOf(b)
	for i := range va.NumField() {
		x, y := va.Field(i).Interface(), vb.Field(i).Interface()
		if reflect.DeepEqual(x, y) {
			continue
		}
		name := va.Type().Field(i).Name
		if xs, ok := x.(map[string]variantView); ok {
			ys := y.(map[string]variantView)
			for k := range xs {
				if !reflect.DeepEqual(xs[k], ys[k]) {
					xv, yv := xs[k], ys[k]
					xv.Latency, yv.Latency = nil, nil
					out = append(out, fmt.Sprintf("%s[%s]: %+v vs %+v (latency equal: %v)", name, k, xv, yv, reflect.DeepEqual(xs[k].Latency, ys[k].Latency)))
				}
			}
			continue
		}
		s := fmt.Sprintf("%s: %+v vs %+v", name, x, y)
		if len(s) > 400 {
			s = s[:400] + "..."
		}
		out = append(out, s)
	}
	return strings.Join(out, "; ")
}

// TestPairStateMergeEqualsWhole: records of ids with one to three
// variants each, dealt at random to two to four parts, each part pruned as
// it grows: merged, the parts keep exactly the sample of the whole stream.
func TestPairStateMergeEqualsWhole(t *testing.T) {
	old := caps
	caps.pairs = 12
	t.Cleanup(func() { caps = old })
	type rec struct{ id, v uint64 }
	for seed := range uint64(300) {
		rng := rand.New(rand.NewPCG(seed, 5))
		var recs []rec
		for i := range 20 + rng.IntN(60) {
			for v := range 1 + rng.IntN(3) {
				recs = append(recs, rec{fnv1a(fmt.Sprint(seed, "-", i)), uint64(v + 1)})
			}
		}
		rng.Shuffle(len(recs), func(i, j int) { recs[i], recs[j] = recs[j], recs[i] })
		var whole pairState
		parts := make([]pairState, 2+rng.IntN(3))
		for _, r := range recs {
			whole.add(r.id, r.v, pairRecord{decided: true})
			parts[rng.IntN(len(parts))].add(r.id, r.v, pairRecord{decided: true})
		}
		whole.prune()
		var merged pairState
		for _, i := range rng.Perm(len(parts)) {
			merged.merge(&parts[i])
		}
		merged.prune()
		if !reflect.DeepEqual(merged.recs, whole.recs) || merged.offered != whole.offered {
			t.Fatalf("seed %d: merged keeps %d records of %d offered, the whole stream %d of %d", seed, len(merged.recs), merged.offered, len(whole.recs), whole.offered)
		}
	}
}

// TestPairStateMergeLowersTheCut: a part that left an id out leaves it out
// of the merge too, though another part holds a record of it that would
// still fit beside the ids before it: the whole stream has all the id's
// records, which do not.
func TestPairStateMergeLowersTheCut(t *testing.T) {
	old := caps
	caps.pairs = 4
	t.Cleanup(func() { caps = old })
	var ids []uint64 // by rank
	for i := range 8 {
		ids = append(ids, fnv1a(fmt.Sprint("id", i)))
	}
	slices.SortFunc(ids, func(a, b uint64) int { return cmp.Compare(pairRank(a), pairRank(b)) })
	var whole, o, w pairState
	add := func(p *pairState, id, v uint64) {
		p.add(id, v, pairRecord{decided: true})
		whole.add(id, v, pairRecord{decided: true})
	}
	// o: 2 + 1 records of the two smallest ids, 2 of the third's, and
	// enough of later ids to prune (more than twice the cap): its cut is
	// the third id's rank.
	add(&o, ids[0], 1)
	add(&o, ids[0], 2)
	add(&o, ids[1], 1)
	add(&o, ids[2], 1)
	add(&o, ids[2], 2)
	for _, id := range ids[3:7] {
		add(&o, id, 1)
	}
	if !o.cutSet || o.cut != pairRank(ids[2]) {
		t.Fatalf("o's cut %v (set %v), want the third id's rank %v", o.cut, o.cutSet, pairRank(ids[2]))
	}
	add(&w, ids[2], 3) // the third id's third record: 3 + 1 fit the cap
	whole.prune()
	for _, parts := range [][2]*pairState{{&w, &o}, {&o, &w}} {
		var merged pairState
		merged.merge(parts[0])
		merged.merge(parts[1])
		merged.prune()
		if !reflect.DeepEqual(merged.recs, whole.recs) {
			t.Errorf("merged keeps %v, the whole stream %v", merged.recs, whole.recs)
		}
	}
	if len(whole.recs) != 3 {
		t.Errorf("the whole stream keeps %d records, want the 3 of the two smallest ids", len(whole.recs))
	}
}

// FuzzUnmarshalLabelBase: what UnmarshalLabelBase decodes (whatever a
// sink hands back as a label base) has labelled scores of OutcomeBins
// non-negative counts each, if any, merges into a label base, and encodes
// again to what decodes the same, its variants' state included.
func FuzzUnmarshalLabelBase(f *testing.F) {
	mem := memory.NewGoAllocator()
	for _, c := range run(f, Config{Size: time.Hour, FlushAtEnd: true, Labels: &LabelConfig{}}, scoreBatch(mem, 0, true, labelStream(19, 60)...)) {
		if c.LabelBase != nil {
			b, err := c.LabelBase.MarshalLabelBase()
			if err != nil {
				f.Fatal(err)
			}
			f.Add(b)
		}
	}
	base := scoreBaseline()
	w := NewWindow(Key{"fraud", "v1"}, t0, t0.Add(time.Hour), base, 10)
	w.Outcomes.Add(true, true, 3)
	w.addLabelledScore(0.7, true)
	w.addLabelledScore(0.2, false)
	b, err := w.labelBase().MarshalLabelBase()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Add([]byte{1})
	f.Fuzz(func(t *testing.T, data []byte) {
		w, err := UnmarshalLabelBase(data, func(string, string) *baselines.Baseline { return base })
		if err != nil {
			return
		}
		for _, c := range w.LabelledScores {
			if c != nil && (len(c) != baselines.OutcomeBins || slices.ContainsFunc(c, func(n int64) bool { return n < 0 })) {
				t.Fatalf("labelled scores %v", c)
			}
		}
		into := w.labelBase()
		into.mergeLabels(w, false)
		c := w.labelBase()
		c.prune(true)
		b, err := c.MarshalLabelBase()
		if err != nil {
			t.Fatal(err)
		}
		again, err := UnmarshalLabelBase(b, func(string, string) *baselines.Baseline { return base })
		if err != nil {
			t.Fatal(err)
		}
		if len(again.Variants) != len(c.Variants) {
			t.Fatalf("%d variants decoded again, %d encoded", len(again.Variants), len(c.Variants))
		}
	})
}

// TestCountsPairsDropped: the Assigner counts, over the windows it
// closed, the variant records left out of pairing.
func TestCountsPairsDropped(t *testing.T) {
	old := caps
	caps.pairs = 20
	t.Cleanup(func() { caps = old })
	mem := memory.NewGoAllocator()
	a := New(Config{Size: time.Hour, FlushAtEnd: true})
	in := make(chan consumer.Batch, 1)
	in <- scoreBatch(mem, 0, false, labelStream(23, 300)...)
	close(in)
	out := make(chan Closed, 10)
	if err := a.Run(context.Background(), in, out); err != nil {
		t.Fatal(err)
	}
	var sum int64
	for c := range out {
		sum += c.Window.PairsDropped
	}
	if got := a.Counts().PairsDropped; got != sum || sum == 0 {
		t.Errorf("counts %d records dropped from pairing, the windows %d", got, sum)
	}
}
