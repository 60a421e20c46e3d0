package windows

import (
	"cmp"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/driftwatch/driftwatch/baselines"
	"github.com/driftwatch/driftwatch/consumer"
)

// Late labels (CONTRACT.md section 2) join their predictions by (model,
// prediction_id) and count in the window of the prediction's event time.
// A prediction id that several variants logged (a shadow deployment) has a
// key per variant, and its label joins every one of them.
//
// The join keeps, per model, a PredictionKey for every prediction of the
// last Horizon (in event time) that arrived without a label: enough to
// place a label that comes later (its version, time, decision, numeric
// prediction and segments), not the record. A label for a prediction not
// seen yet is held until the prediction arrives or the horizon ends. Both
// are bounded per model (MaxPredictions, MaxPending); what falls off is
// counted.
//
// A label that joins a prediction of an open window counts when the window
// closes. One that joins a prediction of a closed window makes the window
// dirty: the label batch's Closed carries the window's label-derived state
// anew (its base at close plus every late label joined so far), and the
// evaluator re-emits the rows labels change as a new version of them.

// Defaults of LabelConfig.
const (
	DefaultHorizon        = 7 * 24 * time.Hour
	DefaultMaxPredictions = 1_000_000
	DefaultMaxPending     = 100_000
)

// LabelConfig configures the join of late labels. The zero value of each
// field takes its default.
type LabelConfig struct {
	// Horizon is how long after a prediction (label timestamp minus
	// prediction timestamp) its label still counts, and how long past a
	// window's end (in event time) the window can still change.
	Horizon time.Duration
	// MaxPredictions bounds the predictions awaiting a label per model;
	// past it the oldest are dropped (counted).
	MaxPredictions int
	// MaxPending bounds the labels held for a prediction not seen yet, per
	// model; past it the oldest are dropped (counted).
	MaxPending int
}

func (c *LabelConfig) setDefaults() {
	if c.Horizon <= 0 {
		c.Horizon = DefaultHorizon
	}
	if c.MaxPredictions <= 0 {
		c.MaxPredictions = DefaultMaxPredictions
	}
	if c.MaxPending <= 0 {
		c.MaxPending = DefaultMaxPending
	}
}

// LabelCounts are what the join has done, cumulative except Awaiting and
// Held.
type LabelCounts struct {
	Received           int64 // labels read
	Joined             int64 // labels joined to their prediction (a repeated label counts again)
	AlreadyLabelled    int64 // labels for a prediction that carried its own label: ignored
	BeyondHorizon      int64 // labels more than Horizon after their prediction: ignored
	Expired            int64 // held labels whose prediction never came within the horizon
	EvictedLabels      int64 // held labels dropped for MaxPending
	EvictedPredictions int64 // predictions dropped for MaxPredictions before their horizon ended
	Relabelled         int64 // closed windows re-emitted with late labels
	Awaiting           int64 // predictions kept now for a label
	Held               int64 // labels held now for their prediction
}

// PredictionKey is what the join keeps of one prediction until its label
// arrives or its horizon ends (see package doc above). Sinks persist them so
// that a restarted job can still join labels to windows it closed before.
type PredictionKey struct {
	Model, Version string
	ID             uint64 // FNV-1a of the prediction_id
	Time           int64  // event time, unix ms
	// Prediction is the numeric prediction, NaN for a class.
	Prediction float64
	// Decided: the record had a prediction; Selected: it is a positive
	// decision (Config.Decision).
	Decided, Selected bool
	// Inline: the record carried its own label; later labels are ignored.
	Inline bool
	// Segments is the record's segments as consumer.SegmentsText.
	Segments string
	// Variant is the record's variant, "" for none: with Model and ID, the
	// key's identity.
	Variant string
}

type joinEntry struct {
	PredictionKey
	label    string
	labelT   int64 // label timestamp, unix ms
	labelled bool
	fed      bool   // its error went to the detectors since it was labelled
	dead     bool   // expired or evicted; removed at the next compaction
	vi       uint32 // its variant's index in joinModel.variants
}

type heldLabel struct {
	label string
	t     int64 // label timestamp, unix ms
	seq   int64 // arrival, for eviction of the oldest
}

type joinModel struct {
	entries []joinEntry
	index   map[joinKey]int32 // prediction id hash and variant -> entries index
	// variants are the variant names the model's keys have, "" (none)
	// first, at most maxJoinVariants; a label looks its id up under each.
	variants []string
	dead     int
	head     int // entries before it are dead: where eviction goes on
	pending  map[uint64]heldLabel
	order    []uint64 // pending ids by arrival; stale ids are skipped
}

// joinKey identifies a prediction key in its model: its prediction id
// hash and its variant's index in joinModel.variants (two integers: a
// look-up hashes 16 bytes, no string).
type joinKey struct {
	id uint64
	v  uint32
}

// maxJoinVariants bounds the variant names a model's join tells apart;
// the keys of further variants are joined as if they named none (so one
// of them, and a record of the same id without a variant, share a key).
const maxJoinVariants = 4 * MaxVariants

func (e *joinEntry) key() joinKey { return joinKey{e.ID, e.vi} }

// variantOf returns the index in m.variants of variant v, and v as the
// model's join keeps it: "" (index 0) past maxJoinVariants names.
func (m *joinModel) variantOf(v string) (uint32, string) {
	if i := slices.Index(m.variants, v); i >= 0 {
		return uint32(i), m.variants[i]
	}
	if len(m.variants) >= maxJoinVariants {
		return 0, ""
	}
	m.variants = append(m.variants, v)
	return uint32(len(m.variants) - 1), v
}

// each calls fn with every live entry of prediction id hash id, in the
// order of m.variants.
func (m *joinModel) each(id uint64, fn func(e *joinEntry)) {
	for v := range m.variants {
		if i, ok := m.index[joinKey{id, uint32(v)}]; ok {
			fn(&m.entries[i])
		}
	}
}

// windowID names one window of one model version.
type windowID struct {
	Key
	start int64 // unix ns
}

// joiner is the Assigner's late-label state; nil when labels are not
// joined (Config.Labels unset).
type joiner struct {
	cfg    LabelConfig
	models map[string]*joinModel
	// retained holds, per closed window still within the horizon, its
	// label-derived state at close without late labels (see labelBase).
	retained map[windowID]*Window
	seq      int64
	counts   LabelCounts
}

func newJoiner(cfg LabelConfig) *joiner {
	cfg.setDefaults()
	return &joiner{cfg: cfg, models: make(map[string]*joinModel), retained: make(map[windowID]*Window)}
}

func (j *joiner) model(name string) *joinModel {
	m := j.models[name]
	if m == nil {
		m = &joinModel{index: make(map[joinKey]int32), pending: make(map[uint64]heldLabel), variants: []string{""}}
		j.models[name] = m
	}
	return m
}

// keep adds a prediction that awaits its label (or, Inline, that carried
// it), joining a held label at once, or the late label another variant's
// record of the same id joined already.
func (j *joiner) keep(k PredictionKey) {
	m := j.model(k.Model)
	vi, name := m.variantOf(k.Variant)
	k.Variant = name
	e := joinEntry{PredictionKey: k, vi: vi}
	if h, ok := m.pending[k.ID]; ok && !k.Inline {
		delete(m.pending, k.ID)
		if h.t-k.Time <= j.cfg.Horizon.Milliseconds() {
			e.label, e.labelT, e.labelled = h.label, h.t, true
			j.counts.Joined++
		} else {
			j.counts.BeyondHorizon++
		}
	}
	if !e.labelled && !k.Inline && len(m.variants) > 1 {
		m.each(k.ID, func(o *joinEntry) {
			if !e.labelled && o.labelled && o.Variant != k.Variant && o.labelT-k.Time <= j.cfg.Horizon.Milliseconds() {
				e.label, e.labelT, e.labelled = o.label, o.labelT, true
			}
		})
	}
	if i, ok := m.index[e.key()]; ok { // the same prediction again (a restart re-read it)
		old := &m.entries[i]
		if old.labelled && !e.labelled {
			e.label, e.labelT, e.labelled, e.fed = old.label, old.labelT, true, old.fed
		}
		*old = e
		return
	}
	m.index[e.key()] = int32(len(m.entries))
	m.entries = append(m.entries, e)
	for live := len(m.entries) - m.dead; live > j.cfg.MaxPredictions; m.head++ { // drop the oldest arrivals
		if e := &m.entries[m.head]; !e.dead {
			e.dead = true
			delete(m.index, e.key())
			m.dead++
			live--
			j.counts.EvictedPredictions++
		}
	}
	m.compact(false)
}

// compact drops dead entries once they are a quarter of all (or always
// with force) and rebuilds the index.
func (m *joinModel) compact(force bool) {
	if m.dead == 0 || !force && m.dead*4 < len(m.entries) {
		return
	}
	live := m.entries[:0]
	for _, e := range m.entries {
		if !e.dead {
			live = append(live, e)
		}
	}
	clear(m.entries[len(live):])
	m.entries, m.dead, m.head = live, 0, 0
	clear(m.index)
	for i := range m.entries {
		m.index[m.entries[i].key()] = int32(i)
	}
}

// label joins one label to every variant's key of its prediction, or
// holds it. It returns the entries it joined (appended to out), none when
// it held or ignored it; they stay valid until the next keep.
func (j *joiner) label(l consumer.Label, out []*joinEntry) []*joinEntry {
	j.counts.Received++
	m := j.model(l.Model)
	id := fnv1a(l.PredictionID)
	t := l.Time.UnixMilli()
	text := l.Value.Text()
	var found, inline, beyond bool
	m.each(id, func(e *joinEntry) {
		found = true
		switch {
		case e.Inline:
			inline = true
			return
		case t-e.Time > j.cfg.Horizon.Milliseconds():
			beyond = true
			return
		}
		// The same label again (read again after a restart) re-emits its
		// windows but is not a new error for the detectors.
		again := e.labelled && e.label == text && e.labelT == t
		e.label, e.labelT, e.labelled, e.fed = text, t, true, e.fed && again
		out = append(out, e)
	})
	if !found {
		if _, held := m.pending[id]; !held {
			m.order = append(m.order, id)
		}
		j.seq++
		m.pending[id] = heldLabel{label: text, t: t, seq: j.seq}
		for len(m.pending) > j.cfg.MaxPending && len(m.order) > 0 {
			old := m.order[0]
			m.order = m.order[1:]
			if _, held := m.pending[old]; held {
				delete(m.pending, old)
				j.counts.EvictedLabels++
			}
		}
		if len(m.order) > 2*len(m.pending)+1024 { // forget joined and expired ids
			m.order = slices.DeleteFunc(m.order, func(id uint64) bool { _, held := m.pending[id]; return !held })
		}
		return out
	}
	switch {
	case len(out) > 0:
		j.counts.Joined++
	case inline:
		j.counts.AlreadyLabelled++
	case beyond:
		j.counts.BeyondHorizon++
	}
	return out
}

// expire forgets predictions, held labels and retained windows whose
// horizon ended before wm (event time).
func (j *joiner) expire(wm time.Time) {
	cut := wm.Add(-j.cfg.Horizon)
	cutMS := cut.UnixMilli()
	for name, m := range j.models {
		for i := range m.entries {
			if e := &m.entries[i]; !e.dead && e.Time < cutMS {
				e.dead = true
				delete(m.index, e.key())
				m.dead++
			}
		}
		m.compact(false)
		for id, h := range m.pending {
			if h.t < cutMS {
				delete(m.pending, id)
				j.counts.Expired++
			}
		}
		if len(m.entries) == 0 && len(m.pending) == 0 {
			delete(j.models, name)
		}
	}
	for id, w := range j.retained {
		if w.End.Before(cut) {
			delete(j.retained, id)
		}
	}
}

func (j *joiner) snapshot() LabelCounts {
	c := j.counts
	c.Awaiting, c.Held = 0, 0
	for _, m := range j.models {
		c.Awaiting += int64(len(m.entries) - m.dead)
		c.Held += int64(len(m.pending))
	}
	return c
}

// keepRows adds the join entries of rows of one batch (rows that landed in
// at least one open window).
func (j *joiner) keepRows(model string, rec arrow.RecordBatch, rows []int, d *Decision) {
	eachPredictionKey(model, rec, rows, d, func(_ int, k PredictionKey) { j.keep(k) })
}

// eachPredictionKey calls fn with the prediction key of each of rows of
// rec, in order, but those of failed predictions (consumer.ColError),
// which labels do not join.
func eachPredictionKey(model string, rec arrow.RecordBatch, rows []int, d *Decision, fn func(row int, k PredictionKey)) {
	failed := rec.Column(consumer.ColError)
	ids := rec.Column(consumer.ColPredictionID).(*array.String)
	ts := rec.Column(consumer.ColTimestamp).(*array.Timestamp).TimestampValues()
	versions := rec.Column(consumer.ColModelVersion).(*array.Dictionary)
	vdict := versions.Dictionary().(*array.String)
	pred := rec.Column(consumer.ColPrediction)
	num, isNum := pred.(*array.Float64)
	segs := rec.Column(consumer.ColSegments).(*array.Dictionary)
	sdict := segs.Dictionary().(*array.String)
	labels := rec.Column(consumer.ColLabel)
	variants := rec.Column(consumer.ColVariant).(*array.Dictionary)
	vardict := variants.Dictionary().(*array.String)
	// Versions, segments and variants are few: one copy each per batch,
	// not per row.
	vnames := make([]string, vdict.Len())
	snames := make([]string, sdict.Len())
	varNames := make([]string, vardict.Len())
	for _, i := range rows {
		if failed.IsValid(i) {
			continue
		}
		k := PredictionKey{Model: model, ID: fnv1a(ids.Value(i)), Time: int64(ts[i]), Prediction: math.NaN(), Inline: labels.IsValid(i)}
		if variants.IsValid(i) {
			v := variants.GetValueIndex(i)
			if varNames[v] == "" {
				varNames[v] = strings.Clone(vardict.Value(v))
			}
			k.Variant = varNames[v]
		}
		v := versions.GetValueIndex(i)
		if vnames[v] == "" {
			vnames[v] = strings.Clone(vdict.Value(v))
		}
		k.Version = vnames[v]
		k.Selected, k.Decided = selected(pred, i, d)
		if isNum && num.IsValid(i) {
			k.Prediction = num.Value(i)
		}
		if segs.IsValid(i) {
			s := segs.GetValueIndex(i)
			if snames[s] == "" {
				snames[s] = strings.Clone(sdict.Value(s))
			}
			k.Segments = snames[s]
		}
		fn(i, k)
	}
}

// lateLabels is what adding a model's late labels to its windows needs.
type lateLabels struct {
	model         string
	m             *joinModel
	roles         VariantRoles
	size, hop     int64 // unix ns
	d             *Decision
	maxCategories int
}

// lateLabels returns what adding model's late labels needs, nil when the
// join holds nothing of it.
func (a *Assigner) lateLabels(model string) *lateLabels {
	m := a.join.models[model]
	if m == nil {
		return nil
	}
	return &lateLabels{model: model, m: m, roles: a.roles(model), size: a.cfg.Size.Nanoseconds(), hop: a.cfg.Hop.Nanoseconds(),
		d: &a.cfg.Decision, maxCategories: a.cfg.MaxCategories}
}

// parts adds, to each window in want, the labels that joined its
// predictions late (not carried by the records themselves): label counts,
// outcomes, errors, group outcomes, delays and the variants' outcomes and
// labelled pairs. Errors of entries not fed to the detectors yet go to the
// first window that takes them.
func (l *lateLabels) parts(want map[windowID]*Window) {
	if l == nil || len(want) == 0 {
		return
	}
	for i := range l.m.entries {
		if e := &l.m.entries[i]; !e.dead && e.labelled {
			l.addTo(e, want)
		}
	}
}

// addTo adds e's late label to each window of want that holds e.
func (l *lateLabels) addTo(e *joinEntry, want map[windowID]*Window) {
	t := e.Time * int64(time.Millisecond)
	for s := t - mod(t, l.hop); s > t-l.size; s -= l.hop {
		if w := want[windowID{Key{l.model, e.Version}, s}]; w != nil {
			l.add(w, e)
		}
	}
}

// add adds e's late label to w: to the window's figures when e's variant
// is served, and to its variant's state, pairing it with the champion's
// record of the same id when both are in w's pairing sample.
func (l *lateLabels) add(w *Window, e *joinEntry) {
	positive := slices.Contains(l.d.Positive, e.label)
	y, numeric := baselines.NumericLabel(e.label)
	if !l.roles.shadow(e.Variant) {
		w.Labels.Count++
		w.Labels.addCategory(e.label, 1, nil, l.maxCategories)
		w.Outcomes.Add(e.Selected, positive, 1)
		if !math.IsNaN(e.Prediction) {
			w.addLabelledScore(e.Prediction, positive)
		}
		if numeric && !math.IsNaN(e.Prediction) {
			x := e.Prediction - y
			w.ErrN++
			w.ErrAbs.Add(math.Abs(x))
			w.ErrSq.Add(x * x)
		}
		if !e.fed && len(w.Errors) < MaxErrorEvents {
			w.Errors = append(w.Errors, ErrorEvent{Time: e.Time, ID: e.ID, Err: e.Selected != positive})
			e.fed = true
		}
		w.LabelDelays = append(w.LabelDelays, float64(e.labelT-e.Time)/1000)
		consumer.EachSegment(e.Segments, func(attr, value string) {
			if g := w.group(attr, value); g != nil {
				g.Outcomes.Add(e.Selected, positive, 1)
			}
		})
		w.prune(false) // no group pointers are held here: keep the groups bounded
	}
	v := w.Variants[e.Variant]
	if e.Variant == "" || v == nil {
		return
	}
	v.Outcomes.Add(e.Selected, positive, 1)
	if numeric && !math.IsNaN(e.Prediction) {
		x := e.Prediction - y
		v.ErrN++
		v.ErrAbs.Add(math.Abs(x))
		v.ErrSq.Add(x * x)
	}
	champ := l.roles.Champion
	if e.Variant == champ || !e.Decided || !w.inPairSample(e.ID) {
		return
	}
	ci := slices.Index(l.m.variants, champ)
	if ci < 0 {
		return
	}
	i, ok := l.m.index[joinKey{e.ID, uint32(ci)}]
	if !ok {
		return
	}
	c := &l.m.entries[i]
	if !c.labelled || !c.Decided || c.Time < w.Start.UnixMilli() || c.Time >= w.End.UnixMilli() {
		return
	}
	yc, cNumeric := baselines.NumericLabel(c.label)
	errs := numeric && cNumeric && !math.IsNaN(e.Prediction) && !math.IsNaN(c.Prediction)
	v.Paired.add(c.Selected == slices.Contains(l.d.Positive, c.label), e.Selected == positive, errs, c.Prediction-yc, e.Prediction-y)
}

// addLabelledScore counts a labelled record's score x (finite) in
// LabelledScores under its outcome.
func (w *Window) addLabelledScore(x float64, positive bool) {
	k := b2i(positive)
	if w.LabelledScores[k] == nil {
		w.LabelledScores[k] = make([]int64, baselines.OutcomeBins)
	}
	w.LabelledScores[k][baselines.OutcomeBin(x)]++
}

// labelBase copies what labels change of a closed window, before late
// labels are added: the state it is re-evaluated from when more arrive,
// and each variant's agreement with the champion (a paired variant's
// labels are tested in pairs). It holds no features, latency or error
// events.
func (w *Window) labelBase() *Window {
	b := &Window{Key: w.Key, Start: w.Start, End: w.End, Baseline: w.Baseline, Records: w.Records, Failed: w.Failed,
		Decided: w.Decided, Selected: w.Selected, MaxCategories: w.MaxCategories, Champion: w.Champion,
		Unserved: w.Unserved, pairs: pairState{cut: w.pairs.cut, cutSet: w.pairs.cutSet}, pairsResolved: true}
	b.mergeLabels(w, false)
	if len(w.Variants) > 0 {
		b.Variants = make(map[string]*Variant, len(w.Variants))
		for name, v := range w.Variants {
			x := &Variant{}
			x.mergeLabels(v)
			x.Agreement.merge(&v.Agreement) // whether it pairs with the champion: which tests its labels get
			b.Variants[name] = x
		}
	}
	return b
}

// mergeLabels adds o's label-derived state into w: label counts,
// outcomes, errors (events only with events), group decisions and outcomes
// and label delays.
func (w *Window) mergeLabels(o *Window, events bool) {
	if w.Labels.Categories == nil {
		w.Labels.Categories = make(map[string]int64, len(o.Labels.Categories))
	}
	w.Labels.merge(&o.Labels, nil, w.MaxCategories)
	w.Outcomes.Merge(o.Outcomes)
	for i := range o.LabelledScores {
		addCounts(&w.LabelledScores[i], o.LabelledScores[i])
	}
	w.ErrN += o.ErrN
	w.ErrAbs.Merge(&o.ErrAbs)
	w.ErrSq.Merge(&o.ErrSq)
	if events {
		w.Errors = append(w.Errors, o.Errors[:min(len(o.Errors), MaxErrorEvents-len(w.Errors))]...)
	}
	w.LabelDelays = append(w.LabelDelays, o.LabelDelays...)
	for attr, gs := range o.Groups {
		for value, og := range gs {
			if g := w.group(attr, value); g != nil {
				g.Decisions.Merge(og.Decisions)
				g.Outcomes.Merge(og.Outcomes)
			}
		}
	}
}

// relabel returns, for each dirty retained window of model, its label
// state anew: the base at close plus every late label joined so far.
func (a *Assigner) relabel(model string, dirty map[windowID]bool) []*Window {
	j := a.join
	want := make(map[windowID]*Window, len(dirty))
	for id := range dirty {
		base := j.retained[id]
		if base == nil {
			continue
		}
		want[id] = base.labelBase() // a copy: late labels are added to it
	}
	a.lateLabels(model).parts(want)
	out := make([]*Window, 0, len(want))
	for _, w := range want {
		w.prune(true) // late labels may have added categories and groups past the caps
		slices.Sort(w.LabelDelays)
		out = append(out, w)
	}
	slices.SortFunc(out, func(x, y *Window) int {
		if c := x.Start.Compare(y.Start); c != 0 {
			return c
		}
		return cmp.Compare(x.Version, y.Version)
	})
	return out
}

// joinClosing completes the windows closing at wm with the labels that
// joined their predictions late, keeps their label base for labels still to
// come, hands each the prediction keys whose first window it is, and
// forgets what fell behind the horizon.
func (a *Assigner) joinClosing(out []Closed, wm time.Time) {
	j := a.join
	size, hop := a.cfg.Size.Nanoseconds(), a.cfg.Hop.Nanoseconds()
	byModel := make(map[string]map[windowID]*Window)
	first := make(map[windowID]*Closed)
	for i := range out {
		c := &out[i]
		w := c.Window
		if w == nil {
			continue
		}
		id := windowID{w.Key, w.Start.UnixNano()}
		c.LabelBase = w.labelBase()
		if byModel[w.Model] == nil {
			byModel[w.Model] = make(map[windowID]*Window)
		}
		byModel[w.Model][id] = w
		first[id] = c
	}
	for model, want := range byModel {
		l := a.lateLabels(model)
		if l == nil {
			continue
		}
		m := l.m
		for i := range m.entries { // one pass: late labels, and the keys
			e := &m.entries[i]
			if e.dead {
				continue
			}
			if e.labelled {
				l.addTo(e, want)
			}
			t := e.Time * int64(time.Millisecond)
			oldest := t - mod(t, hop) - size + hop
			if c := first[windowID{Key{model, e.Version}, oldest}]; c != nil {
				c.Keys = append(c.Keys, e.PredictionKey)
			}
		}
	}
	keepFrom := wm.Add(-j.cfg.Horizon)
	for id, c := range first {
		c.Window.prune(true) // sealed before late labels: they may have passed the caps
		slices.Sort(c.Window.LabelDelays)
		if c.Window.End.After(keepFrom) {
			j.retained[id] = c.LabelBase
		}
	}
	j.expire(wm)
}

// labels joins a batch of late labels and returns what it changed: the
// closed windows whose label-derived rows are to be emitted anew.
func (a *Assigner) labels(b consumer.Batch) Closed {
	c := Closed{Ack: b.Ack}
	if b.Ack == nil {
		c.Ack = func(error) {}
	}
	if a.join == nil || len(b.Labels) == 0 {
		return c
	}
	c.Labels = b.Labels
	j := a.join
	size, hop := a.cfg.Size.Nanoseconds(), a.cfg.Hop.Nanoseconds()
	dirty := make(map[string]map[windowID]bool)
	var joined []*joinEntry
	for _, l := range b.Labels {
		joined = j.label(l, joined[:0])
		for _, e := range joined {
			t := e.Time * int64(time.Millisecond)
			for s := t - mod(t, hop); s > t-size; s -= hop {
				id := windowID{Key{l.Model, e.Version}, s}
				if j.retained[id] == nil {
					continue // open (it counts at close) or past the horizon
				}
				if dirty[l.Model] == nil {
					dirty[l.Model] = make(map[windowID]bool)
				}
				dirty[l.Model][id] = true
			}
		}
	}
	models := make([]string, 0, len(dirty))
	for m := range dirty {
		models = append(models, m)
	}
	slices.Sort(models)
	for _, m := range models {
		c.Relabel = append(c.Relabel, a.relabel(m, dirty[m])...)
	}
	j.counts.Relabelled += int64(len(c.Relabel))
	a.mu.Lock()
	a.counts.Labels = j.snapshot()
	a.mu.Unlock()
	return c
}
