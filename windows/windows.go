// Package windows assigns decoded prediction records to event-time tumbling
// windows per (model, model_version), keeps each window's mergeable state
// (bin counts on the baseline's edges, category counts, moments), and closes
// windows when the watermark passes their end plus the allowed lateness.
//
// It deliberately does not compute statistics (package stats does) or write
// results (package sinks does); it holds no raw rows beyond each window's
// bounded sample of records for multivariate drift (Sample: at most
// Config.SampleRows, chosen by a hash of their prediction id, merged
// exactly). Records later than the
// allowed lateness are counted per window and reported, never silently lost.
package windows

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/driftwatch/driftwatch/baselines"
	"github.com/driftwatch/driftwatch/consumer"
)

// Defaults of Config.
const (
	DefaultSize           = time.Hour
	DefaultLateness       = 10 * time.Minute
	DefaultMaxCategories  = 1000
	DefaultMaxOpenWindows = 10_000
	maxLateEntries        = 10_000
)

// Config configures an Assigner.
type Config struct {
	Size time.Duration // window length; 0: DefaultSize
	// Hop is how far apart hopping (sliding) windows start: a record falls
	// in Size/Hop windows. 0 or Size: tumbling windows. Size must be a
	// whole multiple of Hop (Validate).
	Hop      time.Duration
	Lateness time.Duration // how long after a window's end it still accepts records
	// MaxCategories caps the distinct categories kept by name per feature
	// per window: the baseline's categories first, then in a fixed hash
	// order (caps.go), so which are kept does not depend on arrival order.
	MaxCategories int
	// MaxOpenWindows bounds open windows over all keys; records that would
	// open one more are dropped and counted as overflow.
	MaxOpenWindows int
	// FlushAtEnd closes every open window when the input ends, for bounded
	// inputs (replay, demo). A daemon leaves it false: on shutdown its open
	// windows are rebuilt from uncommitted offsets after restart.
	FlushAtEnd bool
	// Resume holds, per key, the end of the last window an earlier run
	// committed. A restart re-reads records whose offsets were not committed,
	// some of them for windows that were; those are skipped (and counted as
	// Resumed) instead of re-opening a window with part of its records.
	Resume map[Key]time.Time
	// Decision says how a record counts for subgroup fairness: a numeric
	// prediction at or above Decision.Threshold, or a text prediction among
	// Decision.Positive, is a positive decision (selected); a label among
	// Decision.Positive (as text: 1, true, ...) is a positive outcome.
	Decision Decision
	// Refresh, when set, re-reads Resume from the sink after a Reset (the
	// source lost its partitions; another instance may have committed
	// windows since).
	Refresh func() (map[Key]time.Time, error)
	// Labels, when set, joins late labels (batches with Labels) to the
	// predictions of the last Labels.Horizon; nil ignores label batches
	// (acknowledging them) and keeps nothing per prediction.
	Labels *LabelConfig
	// RestoreLabels, with Labels set, reads back what a sink kept of the
	// join (JoinState): when Run starts and after a Reset, since another
	// instance may have joined labels meanwhile.
	RestoreLabels func() (JoinState, error)
	// Baselines resolves a model's baseline by id, for batches of window
	// deltas (Batch.Partials, scale-out's merge): a delta names the
	// baseline its instance folded it with.
	Baselines func(model, id string) *baselines.Baseline
	// Live, when set, picks the baseline of each window opened: the one in
	// effect at its start (baselines.Live.At), whatever baseline its first
	// rows were decoded with; nil: that of its first rows.
	Live *baselines.Live
	// Variants returns a model's variant roles: its champion, which the
	// other variants' records are paired with, and its shadows, whose
	// records count in their variant's state only (variants.go). Nil:
	// DefaultVariantRoles for every model.
	Variants func(model string) VariantRoles
	// SampleRows is how many records each window keeps as whole rows
	// (Window.Sample), for multivariate drift, when its baseline has a
	// multivariate model: 0 means DefaultSampleRows, negative none. At
	// most MaxSampleRows (Validate).
	SampleRows int
}

// Decision is how predictions and labels become the binary decisions and
// outcomes of subgroup fairness (see Config.Decision).
type Decision struct {
	Threshold float64
	Positive  []string
}

// DefaultDecision: scores at or above 0.5 are positive decisions; "1" and
// "true" (a number 1, a bool true) are positive predictions and labels.
func DefaultDecision() Decision { return Decision{Threshold: 0.5, Positive: []string{"1", "true"}} }

// MaxWindowsPerRecord bounds Size/Hop: each record updates that many
// windows.
const MaxWindowsPerRecord = 60

// Validate reports a Size and Hop that do not make windows (after
// defaults: a zero Size is DefaultSize, a zero Hop is Size).
func (c Config) Validate() error {
	if c.Hop < 0 {
		return fmt.Errorf("hop %s: must not be negative (0: tumbling windows)", c.Hop)
	}
	c.setDefaults()
	switch {
	case c.Hop > c.Size:
		return fmt.Errorf("hop %s: must be at most the window size %s", c.Hop, c.Size)
	case c.Size%c.Hop != 0:
		return fmt.Errorf("hop %s: the window size %s must be a whole multiple of it", c.Hop, c.Size)
	case c.Size/c.Hop > MaxWindowsPerRecord:
		return fmt.Errorf("hop %s: a record would fall in %d windows of %s, more than %d", c.Hop, c.Size/c.Hop, c.Size, MaxWindowsPerRecord)
	case c.SampleRows > MaxSampleRows:
		return fmt.Errorf("sample rows %d: at most %d", c.SampleRows, MaxSampleRows)
	}
	return nil
}

func (c *Config) setDefaults() {
	if c.Size <= 0 {
		c.Size = DefaultSize
	}
	if c.Hop <= 0 {
		c.Hop = c.Size
	}
	if c.Decision.Positive == nil {
		d := DefaultDecision()
		if c.Decision.Threshold == 0 {
			c.Decision.Threshold = d.Threshold
		}
		c.Decision.Positive = d.Positive
	}
	if c.MaxCategories <= 0 {
		c.MaxCategories = DefaultMaxCategories
	}
	if c.MaxOpenWindows <= 0 {
		c.MaxOpenWindows = DefaultMaxOpenWindows
	}
	if c.SampleRows == 0 {
		c.SampleRows = DefaultSampleRows
	}
}

// Closed is what the Assigner emits: a closed window, or a report of records
// that arrived after their window had closed. The receiver calls Ack exactly
// once, with nil once the results derived from it are durable.
type Closed struct {
	Window *Window
	Late   *LateReport
	// With labels joined (Config.Labels), a closed Window also comes with
	// LabelBase, its label-derived state without late labels (what later
	// labels are added to), and Keys, the predictions whose first window
	// it is, awaiting labels: sinks that persist them let a restarted job
	// go on joining labels to this window.
	LabelBase *Window
	Keys      []PredictionKey
	// Labels is a batch of late labels as read, and Relabel the closed
	// windows they changed: each holds only the label-derived state
	// (records, labels, outcomes, errors, groups, delays), to be evaluated
	// for the rows labels change and emitted as their new version.
	Labels  []consumer.Label
	Relabel []*Window
	Ack     func(error)
	// Generation is the source's generation of the batches it came from
	// (the last Reset batch's): a receiver fenced at a later generation
	// drops it unwritten (pipeline.Pipeline.Fence).
	Generation int64
}

// LateReport counts records that arrived after their window closed. Records
// is cumulative for that window, so a later report supersedes an earlier one.
type LateReport struct {
	Key
	Start, End time.Time
	BaselineID string
	Records    int64
}

// Counts are what an Assigner has done, cumulative. With hopping windows a
// row falls in several windows, and Late, Overflow and Resumed count it
// once for each window it was late for, did not fit in or skipped.
type Counts struct {
	Records  int64 // rows received
	Late     int64 // rows past the allowed lateness
	Overflow int64 // rows dropped because MaxOpenWindows was reached
	Resumed  int64 // rows of windows an earlier run already committed
	Closed   int64 // windows closed
	Open     int64 // windows open now
	Dropped  int64 // open windows dropped when the source lost its partitions
	// PairsDropped counts, over the windows closed, the variant records
	// left out of pairing with the champion (Window.PairsDropped).
	PairsDropped int64
	Labels       LabelCounts
}

// Assigner is the windowing stage. Run it once.
type Assigner struct {
	cfg Config

	open     map[Key]map[int64]*openWindow // by window start, unix ns
	nOpen    int
	closedWM time.Time // windows ending at or before this are closed
	late     map[lateKey]*LateReport
	lateDirt []*LateReport
	lateRefs []*ackRef
	closed   map[Key]time.Time // per key, the end of the newest window closed
	join     *joiner           // nil without Config.Labels
	gen      int64             // the last Reset batch's Generation
	fold     *foldState        // set when the Assigner only folds (Fold)

	mu     sync.Mutex
	counts Counts

	grouping   grouping       // process's scratch
	outcomes   outcomeScratch // addOutcomes' and addVariantRows' scratch
	variants   variantScratch // addRows' scratch: rows by variant
	servedRows []int          // addRows' scratch: the rows of served predictions
	dictCounts []int64        // addRows' scratch: rows per dictionary entry
}

// roles returns model's variant roles.
func (a *Assigner) roles(model string) VariantRoles {
	if a.cfg.Variants == nil {
		return VariantRoles{Champion: DefaultChampion, Shadows: DefaultShadows}
	}
	return a.cfg.Variants(model)
}

type openWindow struct {
	w    *Window
	refs []*ackRef
}

type lateKey struct {
	Key
	start int64
}

// New returns an Assigner with cfg (zero fields take their defaults).
func New(cfg Config) *Assigner {
	cfg.setDefaults()
	a := &Assigner{cfg: cfg, open: make(map[Key]map[int64]*openWindow), late: make(map[lateKey]*LateReport), closed: make(map[Key]time.Time)}
	if cfg.Labels != nil {
		a.join = newJoiner(*cfg.Labels)
	}
	return a
}

// Counts returns a snapshot of what the Assigner has done. Safe for
// concurrent use.
func (a *Assigner) Counts() Counts {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.counts
}

// Run reads batches until in is closed, sends closed windows and late reports
// on out in event-time order, and closes out. It releases every batch. When
// ctx is done it keeps draining in but sends nothing more and acknowledges
// nothing, so the source commits nothing past what was already durable.
func (a *Assigner) Run(ctx context.Context, in <-chan consumer.Batch, out chan<- Closed) error {
	defer close(out)
	if err := a.restore(); err != nil {
		drain(in)
		return err
	}
	for b := range in {
		if b.Reset {
			a.gen = b.Generation
			if err := a.reset(); err != nil {
				drain(in)
				return err
			}
			continue
		}
		var closed []Closed
		switch {
		case b.Partials != nil:
			var err error
			if closed, err = a.mergePartials(b); err != nil {
				drain(in)
				return err
			}
		case b.Rec == nil:
			closed = []Closed{a.labels(b)}
		default:
			closed = a.process(b)
		}
		a.emit(ctx, out, closed)
	}
	if a.cfg.FlushAtEnd && ctx.Err() == nil {
		a.emit(ctx, out, a.closeThrough(time.Unix(0, 1<<63-1)))
	}
	return nil
}

// emit sends closed on out, stamped with the Assigner's generation, unless
// ctx ends first.
func (a *Assigner) emit(ctx context.Context, out chan<- Closed, closed []Closed) {
	for _, c := range closed {
		c.Generation = a.gen
		select {
		case out <- c:
		case <-ctx.Done():
			return
		}
	}
}

// drain releases what is left in in, so the source can stop.
func drain(in <-chan consumer.Batch) {
	for b := range in {
		if b.Rec != nil {
			b.Rec.Release()
		}
	}
}

// restore reads the join's kept state, when there is one to read.
func (a *Assigner) restore() error {
	if a.join == nil || a.cfg.RestoreLabels == nil {
		return nil
	}
	st, err := a.cfg.RestoreLabels()
	if err != nil {
		return fmt.Errorf("windows: read back the late-label join: %w", err)
	}
	a.restoreLabels(st)
	a.mu.Lock()
	a.counts.Labels = a.join.snapshot()
	a.mu.Unlock()
	return nil
}

// reset drops every open window and pending late report (the source lost
// its partitions and their records will be read again, by this instance or
// another), and skips from now on the records of windows committed
// anywhere (Refresh), or, without Refresh, closed here. Dropped windows' batches are
// acknowledged without error; the source no longer marks their offsets.
func (a *Assigner) reset() error {
	var dropped int64
	for k, byStart := range a.open {
		for _, ow := range byStart {
			releaseAll(ow.refs)(nil)
			dropped++
		}
		delete(a.open, k)
	}
	a.nOpen = 0
	releaseAll(a.lateRefs)(nil)
	a.lateDirt, a.lateRefs = nil, nil
	clear(a.late)
	known := []map[Key]time.Time{a.cfg.Resume, a.closed}
	if a.cfg.Refresh != nil {
		done, err := a.cfg.Refresh()
		if err != nil {
			return fmt.Errorf("windows: re-read committed windows after losing partitions: %w", err)
		}
		// The sink knows every window written, and a window closed here
		// but not written was dropped (the source fences the pipeline
		// before a Reset) and is built again from the records read again:
		// what is done is what the sink says, and the watermark starts
		// over with the partitions now assigned (scaled out, they may be
		// others, far behind those given up).
		known = []map[Key]time.Time{a.cfg.Resume, done}
		clear(a.closed)
		a.closedWM = time.Time{}
	}
	resume := make(map[Key]time.Time, len(a.closed)+len(a.cfg.Resume))
	for _, m := range known {
		for k, t := range m {
			if t.After(resume[k]) {
				resume[k] = t
			}
		}
	}
	a.cfg.Resume = resume
	if err := a.restore(); err != nil {
		return err
	}
	a.mu.Lock()
	a.counts.Open = 0
	a.counts.Dropped += dropped
	a.mu.Unlock()
	return nil
}

// process adds one batch to its windows and returns the windows the batch's
// watermark closes.
func (a *Assigner) process(b consumer.Batch) []Closed {
	defer b.Rec.Release()
	ref := &ackRef{n: 1, ack: b.Ack}
	a.add(b, ref)
	closed := a.advance(b.Watermark)
	ref.release(nil) // the batch's own reference
	return closed
}

// advance closes the windows that watermark wm closes, if it moved.
func (a *Assigner) advance(wm time.Time) []Closed {
	if wm := wm.Add(-a.cfg.Lateness); wm.After(a.closedWM) {
		return a.closeThrough(wm)
	}
	return nil
}

// add adds one batch's rows to their windows, each window holding ref.
func (a *Assigner) add(b consumer.Batch, ref *ackRef) {
	rec := b.Rec
	n := int(rec.NumRows())
	ts := rec.Column(consumer.ColTimestamp).(*array.Timestamp).TimestampValues()
	versions := rec.Column(consumer.ColModelVersion).(*array.Dictionary)
	vdict := versions.Dictionary().(*array.String)

	size, hop := a.cfg.Size.Nanoseconds(), a.cfg.Hop.Nanoseconds()
	g := a.group(n, ts, versions, size, hop)
	defer clear(g.win)
	var landed []bool // rows in at least one open window, for the join
	if a.join != nil {
		landed = make([]bool, n)
	}
	var late, overflow, resumed int64
	// The rows of shadow variants (nil: none), which count in their
	// variant's state only.
	roles := a.roles(b.Model)
	shadow := a.variants.shadowRows(rec, &roles)
	var reshaped map[*baselines.Baseline]arrow.RecordBatch // rec as windows of other baselines lay it out
	defer func() {
		for _, r := range reshaped {
			r.Release()
		}
	}()
	for _, id := range g.order {
		s := g.keys[id]
		rows := g.rows[g.start[id]:g.start[id+1]]
		key := Key{Model: b.Model, Version: vdict.Value(s.version)} // points into the batch: see owned
		end := time.Unix(0, s.start+size).UTC()
		if done, ok := a.cfg.Resume[key]; ok && !end.After(done) {
			resumed += int64(len(rows))
			continue
		}
		if !end.After(a.closedWM) {
			late += int64(len(rows))
			a.addLate(key, s.start, end, b.Baseline.ID, int64(len(rows)), ref)
			continue
		}
		base := b.Baseline
		if a.cfg.Live != nil && a.open[key][s.start] == nil {
			if lb := a.cfg.Live.At(b.Model, key.Version, time.Unix(0, s.start)); lb != nil {
				base = lb
			}
		}
		ow := a.window(key, s.start, end, base)
		if ow == nil {
			overflow += int64(len(rows))
			continue
		}
		if wb := ow.w.Baseline; sameLayout(b.Baseline, wb) {
			a.addRows(ow.w, rec, rows, shadow, nil)
		} else { // opened before a baseline swap (reshape.go)
			if reshaped == nil {
				reshaped = make(map[*baselines.Baseline]arrow.RecordBatch)
			}
			r := reshaped[wb]
			if r == nil {
				r = reshape(rec, b.Baseline, wb)
				reshaped[wb] = r
			}
			a.addRows(ow.w, r, rows, shadow, knownTo(wb))
		}
		if landed != nil {
			for _, i := range rows {
				landed[i] = true
			}
		}
		ref.hold()
		ow.refs = append(ow.refs, ref)
		g.win[id] = ow.w
	}
	var fmaps map[*baselines.Baseline][]int32 // batch features to those of windows of other baselines
	for _, is := range b.Issues {
		if shadow != nil && shadow[is.Row] {
			continue // a shadow's record: not in the window's features
		}
		for _, id := range g.ids[int(is.Row)*g.per : int(is.Row+1)*g.per] {
			if id < 0 || g.win[id] == nil {
				continue
			}
			w := g.win[id]
			f := is.Feature
			if f >= 0 && !sameLayout(b.Baseline, w.Baseline) {
				if fmaps == nil {
					fmaps = make(map[*baselines.Baseline][]int32)
				}
				m, ok := fmaps[w.Baseline]
				if !ok {
					m = featureMap(b.Baseline, w.Baseline)
					fmaps[w.Baseline] = m
				}
				if f = m[f]; f < 0 {
					continue // the window's baseline has no such feature
				}
			}
			w.feature(int(f)).addIssue(is.Kind)
		}
	}
	if a.join != nil {
		var keep []int
		for i, ok := range landed {
			if ok {
				keep = append(keep, i)
			}
		}
		a.join.keepRows(b.Model, rec, keep, &a.cfg.Decision)
	}
	if a.fold != nil {
		a.fold.rowsAdded(b.Model, rec, g, &a.cfg.Decision)
	}
	a.count(int64(n), late, overflow, resumed)
}

func (a *Assigner) count(records, late, overflow, resumed int64) {
	a.mu.Lock()
	a.counts.Records += records
	a.counts.Late += late
	a.counts.Overflow += overflow
	a.counts.Resumed += resumed
	a.mu.Unlock()
}

// slot is one window of one model version: its version's index in the
// batch's dictionary and its start, unix ns.
type slot struct {
	version int
	start   int64
}

// grouping is a batch's rows by window (slot), kept by the Assigner to
// reuse its memory from batch to batch.
type grouping struct {
	per   int            // windows a row falls in: Size/Hop
	index map[slot]int32 // slot -> id, in order of first row
	keys  []slot         // by id
	ids   []int32        // per row, per window: its slot's id (-1: none)
	start []int          // rows of slot id: rows[start[id]:start[id+1]]
	rows  []int          // row numbers, by slot, in row order
	order []int32        // ids by window start, then version
	win   []*Window      // by id: the open window the rows went to
}

// group sorts the n rows of a batch into their windows: a counting sort
// by slot, found through a map only when a row's slot is not the previous
// row's. The rows of one slot stay in row order.
func (a *Assigner) group(n int, ts []arrow.Timestamp, versions *array.Dictionary, size, hop int64) *grouping {
	g := &a.grouping
	g.per = int(size / hop)
	if g.index == nil {
		g.index = make(map[slot]int32)
	}
	clear(g.index)
	g.keys = g.keys[:0]
	g.ids = resize(g.ids, n*g.per)
	var counts []int // by id
	last, lastID := slot{version: -1}, int32(-1)
	vidx := newDictIndex(versions)
	for i := range n {
		t := int64(ts[i]) * int64(time.Millisecond)
		v := vidx.at(i)
		ids := g.ids[i*g.per : (i+1)*g.per]
		h := 0
		// The newest window starts at t rounded down to the hop, the
		// others a hop apart before it, as long as they still reach past t.
		for s := t - mod(t, hop); s > t-size && h < len(ids); s -= hop {
			if k := (slot{v, s}); k != last {
				id, ok := g.index[k]
				if !ok {
					id = int32(len(g.keys))
					g.index[k] = id
					g.keys = append(g.keys, k)
					counts = append(counts, 0)
				}
				last, lastID = k, id
			}
			ids[h] = lastID
			counts[lastID]++
			h++
		}
		for ; h < len(ids); h++ {
			ids[h] = -1
		}
	}
	g.start = resize(g.start, len(g.keys)+1)
	for id, c := range counts {
		g.start[id+1] = g.start[id] + c
	}
	g.rows = resize(g.rows, g.start[len(g.keys)])
	next := counts // reused: where the next row of each slot goes
	copy(next, g.start)
	for j, id := range g.ids {
		if id >= 0 {
			g.rows[next[id]] = j / g.per
			next[id]++
		}
	}
	g.order = resize(g.order, len(g.keys))
	for id := range g.order {
		g.order[id] = int32(id)
	}
	slices.SortFunc(g.order, func(x, y int32) int {
		kx, ky := g.keys[x], g.keys[y]
		if kx.start != ky.start {
			return cmp.Compare(kx.start, ky.start)
		}
		return kx.version - ky.version
	})
	g.win = resize(g.win, len(g.keys))
	return g
}

// addRows adds rows of rec to w. Every row goes to its variant's state,
// if it names one and did not fail; the rows of served variants (shadow[i]
// false; shadow nil: all) are the window's records: they count in the
// features, the unknown features and the latency, and those of served
// predictions (no "error") in the prediction, labels, outcomes and
// groups. known, when not nil, tells the feature names w's baseline knows
// although rec's baseline did not (rec was reshaped): they are not counted
// as unknown.
func (a *Assigner) addRows(w *Window, rec arrow.RecordBatch, rows []int, shadow []bool, known map[string]bool) {
	base := w.Baseline
	live := rows
	if shadow != nil {
		sc := &a.variants
		sc.served = sc.served[:0]
		for _, i := range rows {
			if !shadow[i] {
				sc.served = append(sc.served, i)
			}
		}
		live = sc.served
		w.Unserved += int64(len(rows) - len(live))
	}
	w.Records += int64(len(live))
	for i := range base.Features {
		w.Features[i].add(rec.Column(consumer.FirstFeatureCol+i), live, &base.Features[i], a.cfg.MaxCategories)
	}
	a.addUnknown(w, rec.Column(consumer.ColUnknown).(*array.Dictionary), live, known)
	errs := rec.Column(consumer.ColError).(*array.Dictionary)
	predicted := a.served(w, errs, live)
	w.Prediction.add(rec.Column(consumer.ColPrediction), predicted, &base.Prediction, a.cfg.MaxCategories)
	if vc := rec.Column(consumer.ColVariant).(*array.Dictionary); vc.NullN() < vc.Len() {
		dict := vc.Dictionary().(*array.String)
		// The rows of each variant that did not fail, in row order: a
		// counting sort into the Assigner's scratch.
		sc := &a.variants
		sc.start = resize(sc.start, dict.Len()+1)
		vidx := newDictIndex(vc)
		for _, i := range rows {
			if vc.IsValid(i) && errs.IsNull(i) {
				sc.start[vidx.at(i)+1]++
			}
		}
		for j := range dict.Len() {
			sc.start[j+1] += sc.start[j]
		}
		sc.rows = resize(sc.rows, sc.start[dict.Len()])
		sc.next = append(sc.next[:0], sc.start[:dict.Len()]...)
		for _, i := range rows {
			if vc.IsValid(i) && errs.IsNull(i) {
				j := vidx.at(i)
				sc.rows[sc.next[j]] = i
				sc.next[j]++
			}
		}
		for j := range dict.Len() {
			if vrows := sc.rows[sc.start[j]:sc.start[j+1]]; len(vrows) > 0 {
				name := dict.Value(j)
				a.addVariantRows(w, name, w.variant(name), rec, vrows)
			}
		}
	}
	a.addOutcomes(w, rec, predicted)
	if w.Sample != nil {
		w.Sample.add(rec, live, base)
	}
	lat := rec.Column(consumer.ColLatency).(*array.Float64)
	vals := lat.Float64Values()
	for _, i := range live {
		if x := vals[i]; lat.IsValid(i) && x >= 0 && !math.IsInf(x, 1) {
			w.Latency.Add(x)
		}
	}
	// Between batches, when no group or variant pointer is held: groups,
	// attributes and variants past twice their cap are pruned (caps.go).
	w.prune(false)
}

// countEntries counts the given rows of a dictionary column per entry,
// nulls left out, into the Assigner's scratch, which it returns.
func (a *Assigner) countEntries(col *array.Dictionary, rows []int) []int64 {
	a.dictCounts = resize(a.dictCounts, col.Dictionary().Len())
	idx := newDictIndex(col)
	for _, i := range rows {
		if col.IsValid(i) {
			a.dictCounts[idx.at(i)]++
		}
	}
	return a.dictCounts
}

// addUnknown counts, per feature name of the rows' unknown_features
// (consumer.ColUnknown), the rows that carried it, leaving out the names
// in known.
func (a *Assigner) addUnknown(w *Window, col *array.Dictionary, rows []int, known map[string]bool) {
	if col.NullN() == col.Len() {
		return
	}
	dict := col.Dictionary().(*array.String)
	for j, n := range a.countEntries(col, rows) {
		if n == 0 {
			continue
		}
		consumer.EachUnknown(dict.Value(j), func(name string) {
			if !known[name] {
				w.addUnknown(name, n)
			}
		})
	}
}

// served counts the failed predictions among the rows (a class in the
// error column, consumer.ColError) in w, by class, and returns the other
// rows, in order: rows itself when none failed, else the Assigner's
// scratch.
func (a *Assigner) served(w *Window, col *array.Dictionary, rows []int) []int {
	if col.NullN() == col.Len() {
		return rows
	}
	dict := col.Dictionary().(*array.String)
	for j, n := range a.countEntries(col, rows) {
		if n > 0 {
			w.Failed += n
			w.addErrorClass(dict.Value(j), n)
		}
	}
	out := a.servedRows[:0]
	for _, i := range rows {
		if col.IsNull(i) {
			out = append(out, i)
		}
	}
	a.servedRows = out
	return out
}

// knownTo returns the feature names of b.
func knownTo(b *baselines.Baseline) map[string]bool {
	m := make(map[string]bool, len(b.Features))
	for _, f := range b.Features {
		m[f.Name] = true
	}
	return m
}

// fnv1a is the 64-bit FNV-1a hash of s.
func fnv1a(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return h
}

// selected reports whether row i of the prediction column is a positive
// decision under d, and whether it has a prediction at all.
func selected(pred arrow.Array, i int, d *Decision) (sel, ok bool) {
	if pred.IsNull(i) {
		return false, false
	}
	switch p := pred.(type) {
	case *array.Float64:
		x := p.Value(i)
		return x >= d.Threshold, !math.IsNaN(x)
	case *array.Dictionary:
		return slices.Contains(d.Positive, p.Dictionary().(*array.String).Value(p.GetValueIndex(i))), true
	}
	return false, false
}

// addOutcomes counts the rows' predictions and positive decisions, their
// labels, outcomes and errors, and their decisions and outcomes per segment
// group: one pass, one decision per row. What a row's dictionary-encoded
// prediction, label and segments mean (a positive decision; a positive
// outcome and a number; the groups) is worked out once per dictionary
// entry and call, at the entry's first row. The groups it holds pointers
// to are not pruned during the call (Window.group never prunes; addRows
// prunes after it).
func (a *Assigner) addOutcomes(w *Window, rec arrow.RecordBatch, rows []int) {
	pred := rec.Column(consumer.ColPrediction)
	segs := rec.Column(consumer.ColSegments).(*array.Dictionary)
	labels := rec.Column(consumer.ColLabel).(*array.Dictionary)
	noSegs, noLabels := segs.NullN() == segs.Len(), labels.NullN() == labels.Len()
	if !noLabels {
		w.Labels.add(labels, rows, nil, a.cfg.MaxCategories)
	}
	sdict := segs.Dictionary().(*array.String)
	ldict := labels.Dictionary().(*array.String)
	ids := rec.Column(consumer.ColPredictionID).(*array.String)
	ts := rec.Column(consumer.ColTimestamp).(*array.Timestamp).TimestampValues()
	d := &a.cfg.Decision
	sidx, lidx := newDictIndex(segs), newDictIndex(labels)
	sc := &a.outcomes
	sc.reset(pred, sdict.Len(), ldict.Len())
	defer sc.release()
	var scores []float64 // a numeric prediction's values, when w bins them
	if num, isNum := pred.(*array.Float64); isNum && w.Scores != nil {
		scores = num.Float64Values()
	}
	for _, i := range rows {
		sel, ok := sc.selected(pred, i, d)
		if ok {
			w.Decided++
			if sel {
				w.Selected++
			}
			if scores != nil {
				w.Scores[baselines.OutcomeBin(scores[i])]++
			}
		}
		if noSegs && noLabels || segs.IsNull(i) && labels.IsNull(i) {
			continue
		}
		labeled := labels.IsValid(i)
		var positive bool
		if labeled {
			l := sc.label(ldict, lidx.at(i), d)
			positive = l.positive
			w.Outcomes.Add(sel, positive, 1)
			if ok && scores != nil {
				w.addLabelledScore(scores[i], positive)
			}
			if l.numeric {
				if p, isNum := pred.(*array.Float64); isNum && p.IsValid(i) && !math.IsNaN(p.Value(i)) {
					e := p.Value(i) - l.y
					w.ErrN++
					w.ErrAbs.Add(math.Abs(e))
					w.ErrSq.Add(e * e)
				}
			}
			if len(w.Errors) < MaxErrorEvents {
				w.Errors = append(w.Errors, ErrorEvent{Time: int64(ts[i]), ID: fnv1a(ids.Value(i)), Err: sel != positive})
			}
		}
		if segs.IsNull(i) {
			continue
		}
		for _, g := range sc.groups(w, sdict, sidx.at(i)) {
			g.Decisions.Add(sel, false, 1) // every record: selection rates
			if labeled {
				g.Outcomes.Add(sel, positive, 1)
			}
		}
	}
}

// outcomeScratch is addOutcomes' per-call memory of what dictionary
// entries mean, kept by the Assigner to reuse its slices.
type outcomeScratch struct {
	predPositive []int8 // text predictions: 0 not yet known, 1 no, 2 positive
	labels       []labelMeaning
	segGroups    [][]*Group // per segments entry: its groups (known once segKnown)
	segKnown     []bool
	flat         []*Group // backing store of segGroups
}

type labelMeaning struct {
	known, positive, numeric bool
	y                        float64
}

func (sc *outcomeScratch) reset(pred arrow.Array, segs, labels int) {
	if p, ok := pred.(*array.Dictionary); ok {
		sc.predPositive = resize(sc.predPositive, p.Dictionary().Len())
	}
	sc.labels = resize(sc.labels, labels)
	sc.segGroups = resize(sc.segGroups, segs)
	sc.segKnown = resize(sc.segKnown, segs)
	sc.flat = sc.flat[:0]
}

// release drops the groups' pointers, so the scratch does not keep a
// closed window's groups alive.
func (sc *outcomeScratch) release() {
	clear(sc.segGroups)
	clear(sc.flat[:cap(sc.flat)])
}

// resize returns s with length n, zeroed, reusing its array when it can.
func resize[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n)
	}
	s = s[:n]
	clear(s)
	return s
}

// selected is the package's selected, with a text prediction's decision
// worked out once per dictionary entry.
func (sc *outcomeScratch) selected(pred arrow.Array, i int, d *Decision) (sel, ok bool) {
	p, isDict := pred.(*array.Dictionary)
	if !isDict {
		return selected(pred, i, d)
	}
	if p.IsNull(i) {
		return false, false
	}
	j := p.GetValueIndex(i)
	if sc.predPositive[j] == 0 {
		sc.predPositive[j] = 1
		if slices.Contains(d.Positive, p.Dictionary().(*array.String).Value(j)) {
			sc.predPositive[j] = 2
		}
	}
	return sc.predPositive[j] == 2, true
}

// label returns what label dictionary entry j means under d.
func (sc *outcomeScratch) label(dict *array.String, j int, d *Decision) labelMeaning {
	l := &sc.labels[j]
	if !l.known {
		text := dict.Value(j)
		l.known, l.positive = true, slices.Contains(d.Positive, text)
		l.y, l.numeric = baselines.NumericLabel(text)
	}
	return *l
}

// groups returns the groups in w of segments dictionary entry j (in
// SegmentsText order; groups past the caps are left out, as w.group
// leaves them).
func (sc *outcomeScratch) groups(w *Window, dict *array.String, j int) []*Group {
	if !sc.segKnown[j] {
		start := len(sc.flat)
		consumer.EachSegment(dict.Value(j), func(attr, value string) {
			if g := w.group(attr, value); g != nil {
				sc.flat = append(sc.flat, g)
			}
		})
		sc.segGroups[j] = sc.flat[start:len(sc.flat):len(sc.flat)]
		sc.segKnown[j] = true
	}
	return sc.segGroups[j]
}

// owned returns k with its version copied: a key read from a batch points
// into the batch's Arrow buffers, which are released with it, so a key is
// copied where it is kept (and only there, not on every batch).
func (k Key) owned() Key {
	k.Version = strings.Clone(k.Version)
	return k
}

func (a *Assigner) window(k Key, start int64, end time.Time, base *baselines.Baseline) *openWindow {
	byStart := a.open[k]
	if byStart == nil {
		byStart = make(map[int64]*openWindow)
		a.open[k.owned()] = byStart
	}
	if ow := byStart[start]; ow != nil {
		return ow
	}
	if a.nOpen >= a.cfg.MaxOpenWindows {
		return nil
	}
	ow := &openWindow{w: NewWindow(k.owned(), time.Unix(0, start).UTC(), end, base, a.cfg.MaxCategories)}
	ow.w.Champion = a.roles(k.Model).Champion
	ow.w.Sample = newSample(base, a.cfg.SampleRows)
	byStart[start] = ow
	a.nOpen++
	return ow
}

func (a *Assigner) addLate(k Key, start int64, end time.Time, baselineID string, n int64, ref *ackRef) {
	lk := lateKey{k, start}
	r := a.late[lk]
	if r == nil {
		if len(a.late) >= maxLateEntries {
			for old := range a.late { // forget an arbitrary old entry; its count was reported
				delete(a.late, old)
				break
			}
		}
		k = k.owned()
		r = &LateReport{Key: k, Start: time.Unix(0, start).UTC(), End: end, BaselineID: baselineID}
		a.late[lateKey{k, start}] = r
	}
	if !slices.Contains(a.lateDirt, r) {
		a.lateDirt = append(a.lateDirt, r)
	}
	r.Records += n
	if !slices.Contains(a.lateRefs, ref) {
		ref.hold()
		a.lateRefs = append(a.lateRefs, ref)
	}
}

// closeThrough closes every open window that ends at or before wm, oldest
// first (ties by model, then version), followed by pending late reports.
func (a *Assigner) closeThrough(wm time.Time) []Closed {
	a.closedWM = wm
	var ready []*openWindow
	for k, byStart := range a.open {
		for start, ow := range byStart {
			if !ow.w.End.After(wm) {
				ready = append(ready, ow)
				delete(byStart, start)
			}
		}
		if len(byStart) == 0 {
			delete(a.open, k)
		}
	}
	slices.SortFunc(ready, func(x, y *openWindow) int {
		if c := x.w.End.Compare(y.w.End); c != 0 {
			return c
		}
		if x.w.Model != y.w.Model {
			return cmp.Compare(x.w.Model, y.w.Model)
		}
		return cmp.Compare(x.w.Version, y.w.Version)
	})
	out := make([]Closed, 0, len(ready)+len(a.lateDirt))
	var pairsDropped int64
	for _, ow := range ready {
		if ow.w.End.After(a.closed[ow.w.Key]) {
			a.closed[ow.w.Key] = ow.w.End
		}
		ow.w.Seal()
		pairsDropped += ow.w.PairsDropped
		out = append(out, Closed{Window: ow.w, Ack: releaseAll(ow.refs)})
	}
	if a.join != nil {
		a.joinClosing(out, wm)
	}
	if len(a.lateDirt) > 0 {
		refs := a.lateRefs
		for i, r := range a.lateDirt {
			c := *r // a snapshot: the map entry keeps counting
			ack := func(error) {}
			if i == len(a.lateDirt)-1 {
				ack = releaseAll(refs)
			}
			out = append(out, Closed{Late: &c, Ack: ack})
		}
		a.lateDirt, a.lateRefs = nil, nil
	}
	a.nOpen -= len(ready)
	a.mu.Lock()
	a.counts.Closed += int64(len(ready))
	a.counts.PairsDropped += pairsDropped
	a.counts.Open = int64(a.nOpen)
	if a.join != nil {
		a.counts.Labels = a.join.snapshot()
	}
	a.mu.Unlock()
	return out
}

func releaseAll(refs []*ackRef) func(error) {
	return func(err error) {
		for _, r := range refs {
			r.release(err)
		}
	}
}

// ackRef counts the windows (and late reports) a batch contributed to; the
// batch is acknowledged when the last of them is.
type ackRef struct {
	mu  sync.Mutex
	n   int
	err error
	ack func(error)
}

func (r *ackRef) hold() {
	r.mu.Lock()
	r.n++
	r.mu.Unlock()
}

func (r *ackRef) release(err error) {
	r.mu.Lock()
	if err != nil && r.err == nil {
		r.err = err
	}
	r.n--
	done, e := r.n == 0, r.err
	r.mu.Unlock()
	if done {
		r.ack(e)
	}
}

func mod(a, b int64) int64 {
	m := a % b
	if m < 0 {
		m += b
	}
	return m
}
