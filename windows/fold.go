package windows

import (
	"cmp"
	"fmt"
	"math"
	"slices"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/driftwatch/driftwatch/consumer"
)

// Scale-out splits the windowing stage in two. Every instance folds the
// records of the partitions it reads into deltas (Fold), which it hands on,
// through Kafka, to the instance that merges its model's windows: an
// Assigner fed Batches with Partials, which merges the deltas into open
// windows and closes them as the watermark of every source partition passes
// their end. The merge decides what is late, resumed or overflow, as one
// instance reading every partition does for records.

// Fold folds batches into deltas, one per window with records since the
// last Flush. It never closes a window and drops nothing: lateness,
// resumption and the cap on open windows are the merging instance's
// decisions. Not safe for concurrent use.
type Fold struct {
	a *Assigner
}

// foldState is what an Assigner that folds keeps besides its windows.
type foldState struct {
	keys bool // collect prediction keys (labels are joined)
	rows map[*Window]int64
	ks   map[*Window][]PredictionKey

	perSlot []int64 // rowsAdded's scratch: rows by their newest window's slot
	all     []int   // rowsAdded's scratch: every row number of a batch
}

// NewFold returns a Fold that shapes windows as cfg does (Size, Hop,
// MaxCategories, Decision, Variants, SampleRows), keeping the rows' prediction keys when cfg
// joins labels (Labels set). Its other fields do not apply.
func NewFold(cfg Config) *Fold {
	fc := Config{Size: cfg.Size, Hop: cfg.Hop, MaxCategories: cfg.MaxCategories, Decision: cfg.Decision, Variants: cfg.Variants,
		SampleRows: cfg.SampleRows, MaxOpenWindows: math.MaxInt}
	a := New(fc)
	a.fold = &foldState{keys: cfg.Labels != nil, rows: make(map[*Window]int64), ks: make(map[*Window][]PredictionKey)}
	return &Fold{a: a}
}

// Add folds b's rows into their windows' deltas and releases b's record.
// Batches without records (labels, resets) are not the fold's: Add
// ignores them.
func (f *Fold) Add(b consumer.Batch) {
	if b.Rec == nil {
		return
	}
	defer b.Rec.Release()
	f.a.add(b, &ackRef{n: 1, ack: func(error) {}})
}

// Open is the number of windows with a delta to flush.
func (f *Fold) Open() int { return f.a.nOpen }

// maxDeltaKeys bounds the prediction keys of one encoded delta (about 70
// bytes each): a window's keys past it go in further deltas of no records.
const maxDeltaKeys = 16_384

// Flush returns the deltas folded since the last Flush, encoded
// (MarshalDelta), ordered by model, version and window start, and starts
// anew. A window with more than maxDeltaKeys prediction keys takes several
// deltas: the first holds its state, the others only keys.
func (f *Fold) Flush() ([]consumer.Partial, error) {
	var out []consumer.Partial
	for _, d := range f.take() {
		keys := d.Keys
		for first := true; first || len(keys) > 0; first = false {
			part := d
			if !first {
				w := d.Window
				part = Delta{Window: NewWindow(w.Key, w.Start, w.End, w.Baseline, w.MaxCategories)}
			}
			part.Keys = keys[:min(len(keys), maxDeltaKeys)]
			keys = keys[len(part.Keys):]
			b, err := MarshalDelta(part)
			if err != nil {
				return nil, err
			}
			out = append(out, consumer.Partial{Model: d.Window.Model, Value: b})
		}
	}
	return out, nil
}

// take returns the deltas folded since the last call, ordered by model,
// version and window start, and starts anew.
func (f *Fold) take() []Delta {
	a := f.a
	out := make([]Delta, 0, a.nOpen)
	for k, byStart := range a.open {
		for _, ow := range byStart {
			out = append(out, Delta{Window: ow.w, Rows: a.fold.rows[ow.w], Keys: a.fold.ks[ow.w]})
		}
		delete(a.open, k)
	}
	a.nOpen = 0
	clear(a.fold.rows)
	clear(a.fold.ks)
	slices.SortFunc(out, func(x, y Delta) int {
		if c := cmp.Compare(x.Window.Model, y.Window.Model); c != 0 {
			return c
		}
		if c := cmp.Compare(x.Window.Version, y.Window.Version); c != 0 {
			return c
		}
		return x.Window.Start.Compare(y.Window.Start)
	})
	return out
}

// rowsAdded counts each row of rec once, in its newest window (the first
// of its windows, g.ids[i*g.per]), with its prediction key when keys are
// kept.
func (fs *foldState) rowsAdded(model string, rec arrow.RecordBatch, g *grouping, d *Decision) {
	n := int(rec.NumRows())
	fs.perSlot = resize(fs.perSlot, len(g.keys))
	for i := range n {
		if id := g.ids[i*g.per]; id >= 0 {
			fs.perSlot[id]++
		}
	}
	for id, c := range fs.perSlot {
		if w := g.win[id]; w != nil && c > 0 {
			fs.rows[w] += c
		}
	}
	if !fs.keys {
		return
	}
	fs.all = resize(fs.all, n)
	for i := range fs.all {
		fs.all[i] = i
	}
	eachPredictionKey(model, rec, fs.all, d, func(i int, k PredictionKey) {
		if id := g.ids[i*g.per]; id >= 0 && g.win[id] != nil {
			fs.ks[g.win[id]] = append(fs.ks[g.win[id]], k)
		}
	})
}

// mergePartials merges a batch of deltas (Batch.Partials) into the open
// windows, or counts them late, resumed or overflow as their records would
// be, and returns the windows the batch's watermark closes.
func (a *Assigner) mergePartials(b consumer.Batch) ([]Closed, error) {
	if a.cfg.Baselines == nil {
		return nil, fmt.Errorf("windows: a batch of window deltas, and no Config.Baselines to resolve them")
	}
	ack := b.Ack
	if ack == nil {
		ack = func(error) {}
	}
	ref := &ackRef{n: 1, ack: ack}
	var records, late, overflow, resumed int64
	for _, p := range b.Partials {
		d, err := UnmarshalDelta(p, a.cfg.Baselines)
		if err != nil {
			ref.release(err)
			return nil, fmt.Errorf("windows: %w", err)
		}
		w := d.Window
		records += d.Rows
		start := w.Start.UnixNano()
		taken := w.Records + w.Unserved // served and shadow records, as the rows of a batch
		if taken == 0 {                 // more keys of a delta before it (Flush)
			if a.join != nil && a.open[w.Key][start] != nil {
				for _, k := range d.Keys {
					a.join.keep(k)
				}
			}
			continue
		}
		if done, ok := a.cfg.Resume[w.Key]; ok && !w.End.After(done) {
			resumed += taken
			continue
		}
		if !w.End.After(a.closedWM) {
			late += taken
			a.addLate(w.Key, start, w.End, w.Baseline.ID, taken, ref)
			continue
		}
		ow := a.window(w.Key, start, w.End, w.Baseline)
		if ow == nil {
			overflow += taken
			continue
		}
		if err := ow.w.merge(w); err != nil {
			ref.release(err)
			return nil, fmt.Errorf("windows: %w", err)
		}
		ref.hold()
		ow.refs = append(ow.refs, ref)
		if a.join != nil {
			for _, k := range d.Keys {
				a.join.keep(k)
			}
		}
	}
	a.count(records, late, overflow, resumed)
	closed := a.advance(b.Watermark)
	ref.release(nil)
	return closed, nil
}
