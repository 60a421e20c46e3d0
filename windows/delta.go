package windows

import (
	"bytes"
	"encoding/gob"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/driftwatch/driftwatch/baselines"
	"github.com/driftwatch/driftwatch/stats/perf"
)

// A delta is the state one instance folded of one window from the records it
// read since its last flush: a Window not sealed, with its exact sums, and
// the prediction keys of the rows it holds for the late-label join. Deltas
// of one window merge, in any order and from any number of instances, into
// the window one instance builds from all its records (Window.Merge).
// Scale-out sends them between instances through Kafka (CONTRACT.md,
// "Scale-out internal topics"); the encoding is versioned by its first byte.

// deltaFormat is the first byte of an encoded delta.
const deltaFormat = 1

// Delta is a decoded delta: a partial window, the prediction keys of the
// rows it holds whose newest window it is (the join keeps them when the
// window is open where the delta is merged), and how many of its rows have
// it as their newest window (each row counts once as received, whatever
// the number of hopping windows it falls in).
type Delta struct {
	Window *Window
	Keys   []PredictionKey
	Rows   int64
}

type featureV1 struct {
	Nulls, Count, Absent, WrongType, OutOfRange int64
	Counts                                      []int64
	Sums                                        [][]float64 // per bin: stats.Sum partials
	Min, Max                                    float64
	SX, SXX                                     []float64
	Categories                                  map[string]int64
}

type deltaV1 struct {
	Model, Version    string
	Start, End        int64 // unix ns
	BaselineID        string
	Records, Rows     int64
	MaxCategories     int
	Features          []featureV1
	Prediction        featureV1
	Variants          map[string]featureV1
	Latency           []byte
	Decided, Selected int64
	Labels            featureV1
	Outcomes          perf.Confusion
	ErrN              int64
	ErrAbs, ErrSq     []float64
	Errors            []ErrorEvent
	LabelDelays       []float64
	Groups            map[string]map[string]Group
	Keys              []PredictionKey
	// Added with variants' own state (issue 20): a delta without them
	// decodes with none.
	Unserved      int64
	VariantStates map[string]variantV1
	Pairs         []pairV1
	PairCut       uint64
	PairCutSet    bool
	PairOffered   int64
	PairsDropped  int64
	// Added with failed predictions and schema drift (issue 20): gob
	// leaves them zero in deltas encoded before.
	Failed         int64
	ErrorClasses   map[string]int64
	Unknown        map[string]int64
	UnknownDropped int64

	// Scores and LabelledScores: absent from deltas of instances before
	// them (gob leaves them nil), which then count none.
	Scores         []int64
	LabelledScores [2][]int64
	// Sample is the window's sample of rows (Window.Sample), when it has
	// one. Added to format 1 as an optional field: gob leaves it out of
	// deltas without one and an instance that predates it ignores it.
	Sample *sampleV1
}

type sampleV1 struct {
	K, Width int
	Hashes   []uint64
	Values   []float64
}

// variantV1 is a variant's state but its predictions (deltaV1.Variants).
type variantV1 struct {
	Latency            []byte // nil: no latency
	Outcomes           perf.Confusion
	ErrN               int64
	ErrAbs, ErrSq      []float64
	Pairs, Agree       int64
	NumPairs           int64
	AbsDiff            []float64
	Paired             [4]int64 // both right, champion only, variant only, both wrong
	PairErrN           int64
	ErrDiff, ErrDiffSq []float64
	// Scores: absent from deltas before variants' estimated performance
	// (gob leaves it nil), which then count none.
	Scores []int64
}

// pairV1 is one record of the pairing sample.
type pairV1 struct {
	ID, Variant, Class uint64
	Pred, Y            float64
	Flags              uint8 // decided 1, selected 2, labelled 4, positive 8
}

func encodeVariant(v *Variant) (variantV1, error) {
	var out variantV1
	out.encodeLabels(v)
	out.Scores = v.Scores
	out.Pairs, out.Agree, out.NumPairs, out.AbsDiff = v.Agreement.Pairs, v.Agreement.Agree, v.Agreement.NumPairs, v.Agreement.AbsDiff.Partials()
	if v.Latency != nil {
		var err error
		if out.Latency, err = v.Latency.MarshalBinary(); err != nil {
			return variantV1{}, err
		}
	}
	return out, nil
}

// encodeLabels sets the label-derived part of v's encoding.
func (out *variantV1) encodeLabels(v *Variant) {
	out.Outcomes, out.ErrN, out.ErrAbs, out.ErrSq = v.Outcomes, v.ErrN, v.ErrAbs.Partials(), v.ErrSq.Partials()
	p := &v.Paired
	out.Paired = [4]int64{p.BothRight, p.ChampionOnly, p.VariantOnly, p.BothWrong}
	out.PairErrN, out.ErrDiff, out.ErrDiffSq = p.ErrN, p.ErrDiff.Partials(), p.ErrDiffSq.Partials()
}

// decodeLabels sets v's label-derived state from its encoding.
func (in *variantV1) decodeLabels(v *Variant) error {
	for _, n := range in.Paired {
		if n < 0 {
			return fmt.Errorf("a negative count of pairs")
		}
	}
	if in.ErrN < 0 || in.PairErrN < 0 {
		return fmt.Errorf("a negative count of errors")
	}
	v.Outcomes, v.ErrN, v.ErrAbs, v.ErrSq = in.Outcomes, in.ErrN, sumOf(in.ErrAbs), sumOf(in.ErrSq)
	v.Paired = PairOutcomes{BothRight: in.Paired[0], ChampionOnly: in.Paired[1], VariantOnly: in.Paired[2], BothWrong: in.Paired[3],
		ErrN: in.PairErrN, ErrDiff: sumOf(in.ErrDiff), ErrDiffSq: sumOf(in.ErrDiffSq)}
	return nil
}

func decodeVariant(v *Variant, in *variantV1) error {
	if err := in.decodeLabels(v); err != nil {
		return err
	}
	if in.Pairs < 0 || in.Agree < 0 || in.Agree > in.Pairs || in.NumPairs < 0 || in.NumPairs > in.Pairs {
		return fmt.Errorf("bad counts of pairs")
	}
	v.Agreement = Agreement{Pairs: in.Pairs, Agree: in.Agree, NumPairs: in.NumPairs, AbsDiff: sumOf(in.AbsDiff)}
	if len(in.Scores) > 0 {
		if v.Scores == nil || badCounts(in.Scores) {
			return fmt.Errorf("scores: want %d non-negative counts for a numeric prediction", baselines.OutcomeBins)
		}
		copy(v.Scores, in.Scores)
	}
	if in.Latency != nil {
		if err := v.latency().UnmarshalBinary(in.Latency); err != nil {
			return fmt.Errorf("latency: %w", err)
		}
	}
	return nil
}

func encodePairs(p *pairState) []pairV1 {
	if len(p.recs) == 0 {
		return nil
	}
	out := make([]pairV1, 0, len(p.recs))
	for k, r := range p.recs {
		out = append(out, pairV1{ID: k.id, Variant: k.variant, Class: r.class, Pred: r.pred, Y: r.y,
			Flags: uint8(b2i(r.decided)) | uint8(b2i(r.selected))<<1 | uint8(b2i(r.labelled))<<2 | uint8(b2i(r.positive))<<3})
	}
	return out
}

func encodeFeature(f *Feature) featureV1 {
	v := featureV1{Nulls: f.Nulls, Count: f.Count, Absent: f.Absent, WrongType: f.WrongType, OutOfRange: f.OutOfRange,
		Categories: f.Categories}
	if f.sums != nil {
		v.Counts, v.Min, v.Max = f.Counts, f.Min, f.Max
		v.Sums = make([][]float64, len(f.sums))
		for i := range f.sums {
			v.Sums[i] = f.sums[i].Partials()
		}
		v.SX, v.SXX = f.sx.Partials(), f.sxx.Partials()
	}
	return v
}

// MarshalDelta encodes d for another instance to merge (UnmarshalDelta).
func MarshalDelta(d Delta) ([]byte, error) {
	w := d.Window
	v := deltaV1{
		Model: w.Model, Version: w.Version, Start: w.Start.UnixNano(), End: w.End.UnixNano(), BaselineID: w.Baseline.ID,
		Records: w.Records, Rows: d.Rows, MaxCategories: w.MaxCategories,
		Features: make([]featureV1, len(w.Features)), Prediction: encodeFeature(&w.Prediction),
		Decided: w.Decided, Selected: w.Selected, Labels: encodeFeature(&w.Labels), Outcomes: w.Outcomes,
		Scores: w.Scores, LabelledScores: w.LabelledScores,
		ErrN: w.ErrN, ErrAbs: w.ErrAbs.Partials(), ErrSq: w.ErrSq.Partials(), Errors: w.Errors, LabelDelays: w.LabelDelays,
		Keys: d.Keys, Failed: w.Failed, ErrorClasses: w.ErrorClasses, Unknown: w.Unknown, UnknownDropped: w.UnknownDropped,
	}
	for i := range w.Features {
		v.Features[i] = encodeFeature(&w.Features[i])
	}
	var err error
	if len(w.Variants) > 0 {
		v.Variants = make(map[string]featureV1, len(w.Variants))
		v.VariantStates = make(map[string]variantV1, len(w.Variants))
		for name, x := range w.Variants {
			v.Variants[name] = encodeFeature(&x.Prediction)
			if v.VariantStates[name], err = encodeVariant(x); err != nil {
				return nil, fmt.Errorf("encode latency of variant %s of window %s %s@%s: %w", name, w.Model, w.Version, w.Start.Format(time.RFC3339), err)
			}
		}
	}
	v.Unserved, v.PairsDropped = w.Unserved, w.PairsDropped
	v.Pairs, v.PairCut, v.PairCutSet, v.PairOffered = encodePairs(&w.pairs), w.pairs.cut, w.pairs.cutSet, w.pairs.offered
	v.Groups = groupValues(w.Groups)
	if s := w.Sample; s != nil {
		v.Sample = &sampleV1{K: s.K, Width: s.Width, Hashes: s.Hashes, Values: s.Values}
	}
	if v.Latency, err = w.Latency.MarshalBinary(); err != nil {
		return nil, fmt.Errorf("encode latency of window %s %s@%s: %w", w.Model, w.Version, w.Start.Format(time.RFC3339), err)
	}
	var buf bytes.Buffer
	buf.WriteByte(deltaFormat)
	if err := gob.NewEncoder(&buf).Encode(&v); err != nil {
		return nil, fmt.Errorf("encode window %s %s@%s: %w", w.Model, w.Version, w.Start.Format(time.RFC3339), err)
	}
	return buf.Bytes(), nil
}

// UnmarshalDelta decodes what MarshalDelta encoded. baseline resolves the
// window's baseline by model and id; a delta whose baseline is not loaded,
// or whose shape does not fit it, is an error (a delta of another
// baseline, or not a delta).
func UnmarshalDelta(data []byte, baseline func(model, id string) *baselines.Baseline) (Delta, error) {
	if len(data) == 0 || data[0] != deltaFormat {
		return Delta{}, fmt.Errorf("decode window delta: unknown format")
	}
	var v deltaV1
	if err := gob.NewDecoder(bytes.NewReader(data[1:])).Decode(&v); err != nil {
		return Delta{}, fmt.Errorf("decode window delta: %w", err)
	}
	what := fmt.Sprintf("window delta %s %s@%s", v.Model, v.Version, time.Unix(0, v.Start).UTC().Format(time.RFC3339))
	b := baseline(v.Model, v.BaselineID)
	switch {
	case b == nil:
		return Delta{}, fmt.Errorf("decode %s: baseline %q is not loaded", what, v.BaselineID)
	case len(v.Features) != len(b.Features):
		return Delta{}, fmt.Errorf("decode %s: %d features, baseline %q has %d", what, len(v.Features), b.ID, len(b.Features))
	case v.End <= v.Start || v.MaxCategories <= 0 || v.Records < 0 || v.Unserved < 0 || v.Rows < 0 || v.Rows > v.Records+v.Unserved ||
		v.Failed < 0 || v.Failed > v.Records || v.UnknownDropped < 0:
		return Delta{}, fmt.Errorf("decode %s: bad window bounds or counts", what)
	case len(v.Pairs) > 2*MaxPairRecords || v.PairOffered < int64(len(v.Pairs)) || v.PairsDropped < 0:
		return Delta{}, fmt.Errorf("decode %s: bad pairing sample", what)
	}
	w := NewWindow(Key{v.Model, v.Version}, time.Unix(0, v.Start).UTC(), time.Unix(0, v.End).UTC(), b, v.MaxCategories)
	w.Records, w.Decided, w.Selected, w.Unserved, w.PairsDropped = v.Records, v.Decided, v.Selected, v.Unserved, v.PairsDropped
	w.Outcomes, w.ErrN, w.Errors, w.LabelDelays = v.Outcomes, v.ErrN, v.Errors, v.LabelDelays
	w.ErrAbs, w.ErrSq = sumOf(v.ErrAbs), sumOf(v.ErrSq)
	w.Failed, w.ErrorClasses, w.Unknown, w.UnknownDropped = v.Failed, v.ErrorClasses, v.Unknown, v.UnknownDropped
	if err := decodeScores(w, v.Scores, v.LabelledScores); err != nil {
		return Delta{}, fmt.Errorf("decode %s: %w", what, err)
	}
	for i := range w.Features {
		if err := decodeFeature(&w.Features[i], &v.Features[i]); err != nil {
			return Delta{}, fmt.Errorf("decode %s: feature %s: %w", what, b.Features[i].Name, err)
		}
	}
	if err := decodeFeature(&w.Prediction, &v.Prediction); err != nil {
		return Delta{}, fmt.Errorf("decode %s: prediction: %w", what, err)
	}
	if err := decodeFeature(&w.Labels, &v.Labels); err != nil {
		return Delta{}, fmt.Errorf("decode %s: labels: %w", what, err)
	}
	for name, fv := range v.Variants {
		x := &Variant{Prediction: newFeature(&b.Prediction)}
		if w.Scores != nil {
			x.Scores = make([]int64, baselines.OutcomeBins)
		}
		w.shareScratch(&x.Prediction)
		if err := decodeFeature(&x.Prediction, &fv); err != nil {
			return Delta{}, fmt.Errorf("decode %s: variant %q: %w", what, name, err)
		}
		if vs, ok := v.VariantStates[name]; ok {
			if err := decodeVariant(x, &vs); err != nil {
				return Delta{}, fmt.Errorf("decode %s: variant %q: %w", what, name, err)
			}
		}
		if w.Variants == nil {
			w.Variants = make(map[string]*Variant, len(v.Variants))
		}
		w.Variants[name] = x
	}
	if len(v.VariantStates) > len(v.Variants) {
		return Delta{}, fmt.Errorf("decode %s: the state of a variant without predictions", what)
	}
	w.pairs = pairState{cut: v.PairCut, cutSet: v.PairCutSet, offered: v.PairOffered}
	for _, p := range v.Pairs {
		if v.PairCutSet && pairRank(p.ID) >= v.PairCut {
			return Delta{}, fmt.Errorf("decode %s: a paired record past the sample's cut", what)
		}
		if w.pairs.recs == nil {
			w.pairs.recs = make(map[pairKey]pairRecord, len(v.Pairs))
		}
		w.pairs.recs[pairKey{p.ID, p.Variant}] = pairRecord{pred: p.Pred, class: p.Class, y: p.Y,
			decided: p.Flags&1 != 0, selected: p.Flags&2 != 0, labelled: p.Flags&4 != 0, positive: p.Flags&8 != 0}
	}
	for attr, gs := range v.Groups {
		for name, g := range gs {
			if w.Groups == nil {
				w.Groups = make(map[string]map[string]*Group, len(v.Groups))
			}
			if w.Groups[attr] == nil {
				w.Groups[attr] = make(map[string]*Group, len(gs))
			}
			w.Groups[attr][name] = &g
		}
	}
	if err := w.Latency.UnmarshalBinary(v.Latency); err != nil {
		return Delta{}, fmt.Errorf("decode %s: latency: %w", what, err)
	}
	if sv := v.Sample; sv != nil {
		s := newSample(b, sv.K)
		if s == nil {
			return Delta{}, fmt.Errorf("decode %s: a sample of rows for baseline %q, which has no multivariate model, or of %d rows", what, b.ID, sv.K)
		}
		s.Width, s.Hashes, s.Values = sv.Width, sv.Hashes, sv.Values
		if err := s.check(b); err != nil {
			return Delta{}, fmt.Errorf("decode %s: %w", what, err)
		}
		w.Sample = s
	}
	for _, k := range v.Keys {
		if k.Model != v.Model || k.Version != v.Version {
			return Delta{}, fmt.Errorf("decode %s: a prediction key of %s %s", what, k.Model, k.Version)
		}
	}
	return Delta{Window: w, Keys: v.Keys, Rows: v.Rows}, nil
}

// decodeFeature sets f, made by newFeature for its baseline feature, from
// v; a numeric state whose bins do not fit f's is an error.
func decodeFeature(f *Feature, v *featureV1) error {
	f.Nulls, f.Count, f.Absent, f.WrongType, f.OutOfRange = v.Nulls, v.Count, v.Absent, v.WrongType, v.OutOfRange
	if f.sums == nil {
		if v.Counts != nil || v.Sums != nil {
			return fmt.Errorf("numeric state for a categorical feature")
		}
		f.Categories = v.Categories
		if f.Categories == nil {
			f.Categories = make(map[string]int64)
		}
		return nil
	}
	if len(v.Counts) != len(f.Counts) || len(v.Sums) != len(f.sums) || len(v.Categories) > 0 {
		return fmt.Errorf("%d bins, the baseline has %d", len(v.Counts), len(f.Counts))
	}
	copy(f.Counts, v.Counts)
	for i, p := range v.Sums {
		f.sums[i] = sumOf(p)
	}
	f.Min, f.Max = v.Min, v.Max
	if math.IsNaN(f.Min) || math.IsNaN(f.Max) {
		return fmt.Errorf("NaN minimum or maximum")
	}
	f.sx, f.sxx = sumOf(v.SX), sumOf(v.SXX)
	return nil
}

// decodeScores sets w's Scores and LabelledScores from their encoding:
// each absent, or baselines.OutcomeBins non-negative counts (Scores only
// where w has them: a numeric prediction).
func decodeScores(w *Window, scores []int64, labelled [2][]int64) error {
	if len(scores) > 0 {
		if w.Scores == nil || badCounts(scores) {
			return fmt.Errorf("scores: want %d non-negative counts for a numeric prediction", baselines.OutcomeBins)
		}
		copy(w.Scores, scores)
	}
	for i, c := range labelled {
		if len(c) == 0 {
			continue
		}
		if badCounts(c) {
			return fmt.Errorf("labelled scores: want %d non-negative counts", baselines.OutcomeBins)
		}
		w.LabelledScores[i] = slices.Clone(c)
	}
	return nil
}

// badCounts says whether c is not baselines.OutcomeBins non-negative
// counts of scores.
func badCounts(c []int64) bool {
	return len(c) != baselines.OutcomeBins || slices.ContainsFunc(c, func(n int64) bool { return n < 0 })
}
