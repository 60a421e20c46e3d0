// Package windows assigns decoded prediction records to event-time tumbling
// windows per (model, model_version), keeps each window's mergeable state
// (bin counts on the baseline's edges, category counts, moments), and closes
// windows when the watermark passes their end plus the allowed lateness.
//
// It deliberately does not compute statistics (package stats does) or write
// results (package sinks does); it holds no raw rows. Records later than the
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
	// MaxCategories caps distinct categories per feature per window.
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
	Labels   LabelCounts
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

	mu     sync.Mutex
	counts Counts
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
			if err := a.reset(); err != nil {
				drain(in)
				return err
			}
			continue
		}
		if b.Rec == nil {
			c := a.labels(b)
			select {
			case out <- c:
			case <-ctx.Done():
			}
			continue
		}
		closed := a.process(b)
		for _, c := range closed {
			select {
			case out <- c:
			case <-ctx.Done():
			}
		}
	}
	if a.cfg.FlushAtEnd && ctx.Err() == nil {
		for _, c := range a.closeThrough(time.Unix(0, 1<<63-1)) {
			select {
			case out <- c:
			case <-ctx.Done():
			}
		}
	}
	return nil
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
// another), and skips from now on the records of windows already closed
// here or, per Refresh, committed anywhere. Dropped windows' batches are
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
		known = append(known, done)
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
	rec := b.Rec
	n := int(rec.NumRows())
	ts := rec.Column(consumer.ColTimestamp).(*array.Timestamp).TimestampValues()
	versions := rec.Column(consumer.ColModelVersion).(*array.Dictionary)
	vdict := versions.Dictionary().(*array.String)

	size, hop := a.cfg.Size.Nanoseconds(), a.cfg.Hop.Nanoseconds()
	type slot struct {
		version int
		start   int64
	}
	// starts calls f with the start of every window holding time t: the
	// newest starts at t rounded down to the hop, the others a hop apart
	// before it, as long as they still reach past t.
	starts := func(t int64, f func(start int64)) {
		for s := t - mod(t, hop); s > t-size; s -= hop {
			f(s)
		}
	}
	groups := make(map[slot][]int)
	var into map[slot]*Window // where rows went, for the batch's issues
	var landed []bool         // rows in at least one open window, for the join
	if a.join != nil {
		landed = make([]bool, n)
	}
	var late, overflow, resumed int64
	for i := 0; i < n; i++ {
		t := int64(ts[i]) * int64(time.Millisecond)
		v := versions.GetValueIndex(i)
		starts(t, func(start int64) {
			k := slot{v, start}
			groups[k] = append(groups[k], i)
		})
	}
	slots := make([]slot, 0, len(groups))
	for s := range groups {
		slots = append(slots, s)
	}
	slices.SortFunc(slots, func(x, y slot) int {
		if x.start != y.start {
			return cmp.Compare(x.start, y.start)
		}
		return x.version - y.version
	})
	for _, s := range slots {
		rows := groups[s]
		key := Key{Model: b.Model, Version: vdict.Value(s.version)} // points into the batch: see owned
		end := time.Unix(0, s.start+size).UTC()
		if done, ok := a.cfg.Resume[key]; ok && !end.After(done) {
			resumed += int64(len(rows))
			continue
		}
		if !end.After(a.closedWM) {
			late += int64(len(rows))
			a.addLate(key, s.start, end, b, int64(len(rows)), ref)
			continue
		}
		ow := a.window(key, s.start, end, b)
		if ow == nil {
			overflow += int64(len(rows))
			continue
		}
		a.addRows(ow.w, rec, rows)
		if landed != nil {
			for _, i := range rows {
				landed[i] = true
			}
		}
		ref.hold()
		ow.refs = append(ow.refs, ref)
		if len(b.Issues) > 0 {
			if into == nil {
				into = make(map[slot]*Window)
			}
			into[s] = ow.w
		}
	}
	for _, is := range b.Issues {
		i := int(is.Row)
		v := versions.GetValueIndex(i)
		starts(int64(ts[i])*int64(time.Millisecond), func(start int64) {
			if w := into[slot{v, start}]; w != nil {
				w.feature(int(is.Feature)).addIssue(is.Kind)
			}
		})
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
	a.mu.Lock()
	a.counts.Records += int64(n)
	a.counts.Late += late
	a.counts.Overflow += overflow
	a.counts.Resumed += resumed
	a.mu.Unlock()

	var closed []Closed
	if wm := b.Watermark.Add(-a.cfg.Lateness); wm.After(a.closedWM) {
		closed = a.closeThrough(wm)
	}
	ref.release(nil) // the batch's own reference
	return closed
}

func (a *Assigner) addRows(w *Window, rec arrow.RecordBatch, rows []int) {
	w.Records += int64(len(rows))
	base := w.Baseline
	for i := range base.Features {
		w.Features[i].add(rec.Column(consumer.FirstFeatureCol+i), rows, &base.Features[i], a.cfg.MaxCategories)
	}
	w.Prediction.add(rec.Column(consumer.ColPrediction), rows, &base.Prediction, a.cfg.MaxCategories)
	if vc := rec.Column(consumer.ColVariant).(*array.Dictionary); vc.NullN() < vc.Len() {
		dict := vc.Dictionary().(*array.String)
		byVariant := make([][]int, dict.Len())
		for _, i := range rows {
			if vc.IsValid(i) {
				j := vc.GetValueIndex(i)
				byVariant[j] = append(byVariant[j], i)
			}
		}
		for j, vrows := range byVariant {
			if len(vrows) == 0 {
				continue
			}
			if f := w.variant(dict.Value(j)); f != nil {
				f.add(rec.Column(consumer.ColPrediction), vrows, &base.Prediction, a.cfg.MaxCategories)
			}
		}
	}
	a.addOutcomes(w, rec, rows)
	lat := rec.Column(consumer.ColLatency).(*array.Float64)
	vals := lat.Float64Values()
	for _, i := range rows {
		if x := vals[i]; lat.IsValid(i) && x >= 0 && !math.IsInf(x, 1) {
			w.Latency.Add(x)
		}
	}
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
// group: one pass, one decision per row.
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
	for _, i := range rows {
		sel, ok := selected(pred, i, d)
		if ok {
			w.Decided++
			if sel {
				w.Selected++
			}
		}
		if noSegs && noLabels || segs.IsNull(i) && labels.IsNull(i) {
			continue
		}
		labeled := labels.IsValid(i)
		var positive bool
		if labeled {
			text := ldict.Value(labels.GetValueIndex(i))
			positive = slices.Contains(d.Positive, text)
			w.Outcomes.Add(sel, positive, 1)
			if y, ok := baselines.NumericLabel(text); ok {
				if p, isNum := pred.(*array.Float64); isNum && p.IsValid(i) && !math.IsNaN(p.Value(i)) {
					e := p.Value(i) - y
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
		consumer.EachSegment(sdict.Value(segs.GetValueIndex(i)), func(attr, value string) {
			if g := w.group(attr, value); g != nil {
				g.Decisions.Add(sel, false, 1) // every record: selection rates
				if labeled {
					g.Outcomes.Add(sel, positive, 1)
				}
			}
		})
	}
}

// owned returns k with its version copied: a key read from a batch points
// into the batch's Arrow buffers, which are released with it, so a key is
// copied where it is kept (and only there, not on every batch).
func (k Key) owned() Key {
	k.Version = strings.Clone(k.Version)
	return k
}

func (a *Assigner) window(k Key, start int64, end time.Time, b consumer.Batch) *openWindow {
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
	ow := &openWindow{w: NewWindow(k.owned(), time.Unix(0, start).UTC(), end, b.Baseline, a.cfg.MaxCategories)}
	byStart[start] = ow
	a.nOpen++
	return ow
}

func (a *Assigner) addLate(k Key, start int64, end time.Time, b consumer.Batch, n int64, ref *ackRef) {
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
		r = &LateReport{Key: k, Start: time.Unix(0, start).UTC(), End: end, BaselineID: b.Baseline.ID}
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
	for _, ow := range ready {
		if ow.w.End.After(a.closed[ow.w.Key]) {
			a.closed[ow.w.Key] = ow.w.End
		}
		ow.w.Seal()
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
