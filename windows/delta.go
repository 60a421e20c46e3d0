package windows

import (
	"bytes"
	"encoding/gob"
	"fmt"
	"math"
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
		ErrN: w.ErrN, ErrAbs: w.ErrAbs.Partials(), ErrSq: w.ErrSq.Partials(), Errors: w.Errors, LabelDelays: w.LabelDelays,
		Keys: d.Keys,
	}
	for i := range w.Features {
		v.Features[i] = encodeFeature(&w.Features[i])
	}
	if len(w.Variants) > 0 {
		v.Variants = make(map[string]featureV1, len(w.Variants))
		for name, f := range w.Variants {
			v.Variants[name] = encodeFeature(f)
		}
	}
	v.Groups = groupValues(w.Groups)
	if s := w.Sample; s != nil {
		v.Sample = &sampleV1{K: s.K, Width: s.Width, Hashes: s.Hashes, Values: s.Values}
	}
	var err error
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
	case v.End <= v.Start || v.MaxCategories <= 0 || v.Records < 0 || v.Rows < 0 || v.Rows > v.Records:
		return Delta{}, fmt.Errorf("decode %s: bad window bounds or counts", what)
	}
	w := NewWindow(Key{v.Model, v.Version}, time.Unix(0, v.Start).UTC(), time.Unix(0, v.End).UTC(), b, v.MaxCategories)
	w.Records, w.Decided, w.Selected = v.Records, v.Decided, v.Selected
	w.Outcomes, w.ErrN, w.Errors, w.LabelDelays = v.Outcomes, v.ErrN, v.Errors, v.LabelDelays
	w.ErrAbs, w.ErrSq = sumOf(v.ErrAbs), sumOf(v.ErrSq)
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
		f := newFeature(&b.Prediction)
		w.shareScratch(&f)
		if err := decodeFeature(&f, &fv); err != nil {
			return Delta{}, fmt.Errorf("decode %s: variant %q: %w", what, name, err)
		}
		if w.Variants == nil {
			w.Variants = make(map[string]*Feature, len(v.Variants))
		}
		w.Variants[name] = &f
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
