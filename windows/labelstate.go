package windows

import (
	"bytes"
	"encoding/gob"
	"fmt"
	"time"

	"github.com/driftwatch/driftwatch/baselines"
	"github.com/driftwatch/driftwatch/consumer"
	"github.com/driftwatch/driftwatch/stats"
	"github.com/driftwatch/driftwatch/stats/perf"
)

// JoinState is what a sink kept of the late-label join (Closed.LabelBase,
// Closed.Keys and Closed.Labels of earlier runs), for Config.RestoreLabels.
type JoinState struct {
	// Bases are label bases of closed windows (UnmarshalLabelBase).
	Bases  []*Window
	Keys   []PredictionKey
	Labels []consumer.Label
}

// labelBaseV1 is the encoded form of a label base (MarshalLabelBase).
type labelBaseV1 struct {
	Model, Version    string
	Start, End        time.Time
	BaselineID        string
	Records           int64
	Failed            int64 // records of failed predictions; 0 in bases encoded before it existed
	Decided, Selected int64
	LabelNulls        int64
	LabelCount        int64
	LabelCategories   map[string]int64
	Outcomes          perf.Confusion
	ErrN              int64
	ErrAbs, ErrSq     []float64
	Groups            map[string]map[string]Group
	MaxCategories     int
	// Added with variants' own state (issue 20): a base without them
	// decodes with none.
	Champion   string
	Unserved   int64
	Variants   map[string]variantV1 // label-derived state and agreement, no latency
	PairCut    uint64
	PairCutSet bool
	// LabelledScores: absent from label bases kept before it (gob leaves
	// it nil), which then have none.
	LabelledScores [2][]int64
}

// MarshalLabelBase encodes a label base (Closed.LabelBase) for a sink to
// keep with its window.
func (w *Window) MarshalLabelBase() ([]byte, error) {
	v := labelBaseV1{
		Model: w.Model, Version: w.Version, Start: w.Start, End: w.End, BaselineID: w.Baseline.ID,
		Records: w.Records, Failed: w.Failed, Decided: w.Decided, Selected: w.Selected,
		LabelNulls: w.Labels.Nulls, LabelCount: w.Labels.Count, LabelCategories: w.Labels.Categories,
		Outcomes: w.Outcomes, ErrN: w.ErrN, ErrAbs: w.ErrAbs.Partials(), ErrSq: w.ErrSq.Partials(),
		MaxCategories: w.MaxCategories, LabelledScores: w.LabelledScores,
	}
	v.Groups = groupValues(w.Groups)
	v.Champion, v.Unserved, v.PairCut, v.PairCutSet = w.Champion, w.Unserved, w.pairs.cut, w.pairs.cutSet
	if len(w.Variants) > 0 {
		v.Variants = make(map[string]variantV1, len(w.Variants))
		for name, x := range w.Variants {
			e, err := encodeVariant(&Variant{Outcomes: x.Outcomes, ErrN: x.ErrN, ErrAbs: x.ErrAbs, ErrSq: x.ErrSq, Agreement: x.Agreement, Paired: x.Paired})
			if err != nil {
				return nil, fmt.Errorf("encode label base of %s %s@%s: variant %s: %w", w.Model, w.Version, w.Start.Format(time.RFC3339), name, err)
			}
			v.Variants[name] = e
		}
	}
	var buf bytes.Buffer
	buf.WriteByte(1) // format version
	if err := gob.NewEncoder(&buf).Encode(&v); err != nil {
		return nil, fmt.Errorf("encode label base of %s %s@%s: %w", w.Model, w.Version, w.Start.Format(time.RFC3339), err)
	}
	return buf.Bytes(), nil
}

// UnmarshalLabelBase decodes what MarshalLabelBase encoded; baseline
// resolves the window's baseline id (nil: unknown, an error).
func UnmarshalLabelBase(data []byte, baseline func(model, id string) *baselines.Baseline) (*Window, error) {
	if len(data) == 0 || data[0] != 1 {
		return nil, fmt.Errorf("decode label base: unknown format")
	}
	var v labelBaseV1
	if err := gob.NewDecoder(bytes.NewReader(data[1:])).Decode(&v); err != nil {
		return nil, fmt.Errorf("decode label base: %w", err)
	}
	b := baseline(v.Model, v.BaselineID)
	if b == nil {
		return nil, fmt.Errorf("decode label base of %s %s@%s: baseline %q is not loaded", v.Model, v.Version, v.Start.Format(time.RFC3339), v.BaselineID)
	}
	w := &Window{Key: Key{v.Model, v.Version}, Start: v.Start.UTC(), End: v.End.UTC(), Baseline: b, Records: v.Records, Failed: v.Failed,
		Decided: v.Decided, Selected: v.Selected, Outcomes: v.Outcomes, ErrN: v.ErrN, MaxCategories: v.MaxCategories}
	w.Labels = Feature{Nulls: v.LabelNulls, Count: v.LabelCount, Categories: v.LabelCategories}
	if w.Labels.Categories == nil {
		w.Labels.Categories = make(map[string]int64)
	}
	w.ErrAbs, w.ErrSq = sumOf(v.ErrAbs), sumOf(v.ErrSq)
	if err := decodeScores(w, nil, v.LabelledScores); err != nil {
		return nil, fmt.Errorf("decode label base of %s %s@%s: %w", v.Model, v.Version, v.Start.Format(time.RFC3339), err)
	}
	w.Champion, w.Unserved = v.Champion, v.Unserved
	w.pairs, w.pairsResolved = pairState{cut: v.PairCut, cutSet: v.PairCutSet}, true
	if len(v.Variants) > MaxVariants {
		return nil, fmt.Errorf("decode label base of %s %s@%s: %d variants", v.Model, v.Version, v.Start.Format(time.RFC3339), len(v.Variants))
	}
	for name, e := range v.Variants {
		x := &Variant{}
		if err := decodeVariant(x, &e); err != nil {
			return nil, fmt.Errorf("decode label base of %s %s@%s: variant %q: %w", v.Model, v.Version, v.Start.Format(time.RFC3339), name, err)
		}
		if w.Variants == nil {
			w.Variants = make(map[string]*Variant, len(v.Variants))
		}
		w.Variants[name] = x
	}
	for attr, gs := range v.Groups {
		for name, g := range gs {
			if wg := w.group(attr, name); wg != nil {
				*wg = g
			}
		}
	}
	return w, nil
}

// groupValues copies groups by value, for encoding; nil when empty.
func groupValues(groups map[string]map[string]*Group) map[string]map[string]Group {
	if len(groups) == 0 {
		return nil
	}
	out := make(map[string]map[string]Group, len(groups))
	for attr, gs := range groups {
		m := make(map[string]Group, len(gs))
		for name, g := range gs {
			m[name] = *g
		}
		out[attr] = m
	}
	return out
}

func sumOf(partials []float64) stats.Sum {
	var s stats.Sum
	for _, p := range partials {
		s.Add(p)
	}
	return s
}

// restoreLabels rebuilds the join from st (at start, and after the source
// lost its partitions: another instance may have joined labels since).
// Labels in st are joined again without re-emitting anything: the rows
// they changed were written when they arrived. Without Refresh, it then
// adds what this instance holds that st does not (windows it closed whose
// commit is still on its way). With Refresh the sink is the truth: what
// this instance made and did not write was fenced off and is made again
// from the records read again, so keeping it would re-emit windows the
// sink does not hold and feed their errors to the detectors twice.
func (a *Assigner) restoreLabels(st JoinState) {
	if a.join == nil {
		return
	}
	prev := a.join
	j := newJoiner(prev.cfg)
	a.join = j
	for _, w := range st.Bases {
		j.retained[windowID{w.Key, w.Start.UnixNano()}] = w
	}
	for _, k := range st.Keys {
		j.keep(k)
	}
	var joined []*joinEntry
	for _, l := range st.Labels {
		joined = j.label(l, joined[:0])
		for _, e := range joined {
			e.fed = true // fed before
		}
	}
	j.counts = prev.counts // joining st again counts nothing new
	if a.cfg.Refresh != nil {
		return
	}
	for id, w := range prev.retained {
		if j.retained[id] == nil {
			j.retained[id] = w
		}
	}
	for name, pm := range prev.models {
		m := j.model(name)
		for _, e := range pm.entries {
			e.vi, e.Variant = m.variantOf(e.Variant)
			if _, ok := m.index[e.key()]; !ok && !e.dead {
				// Not in st: nothing made of its late label, if any, was
				// written (the source fences the pipeline before a
				// Reset), and the label's batch is read again.
				if !e.Inline {
					e.label, e.labelT, e.labelled, e.fed = "", 0, false, false
				}
				m.index[e.key()] = int32(len(m.entries))
				m.entries = append(m.entries, e)
			}
		}
		for id, h := range pm.pending {
			found := false
			m.each(id, func(e *joinEntry) { // its prediction came with st
				found = true
				if !e.labelled && !e.Inline {
					e.label, e.labelT, e.labelled = h.label, h.t, true
				}
			})
			if _, ok := m.pending[id]; !found && !ok {
				m.pending[id] = h
				m.order = append(m.order, id)
			}
		}
	}
}
