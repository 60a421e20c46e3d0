package windows

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/driftwatch/driftwatch/baselines"
	"github.com/driftwatch/driftwatch/consumer"
	"github.com/driftwatch/driftwatch/stats"
	"github.com/driftwatch/driftwatch/stats/perf"
	"github.com/driftwatch/driftwatch/stats/sketch"
)

// Key identifies whose windows these are: one model version.
type Key struct {
	Model   string
	Version string
}

// Feature is the mergeable state of one feature (or the prediction) in one
// window. A numeric feature keeps counts, sums, min and max on its baseline's
// bins plus the moments; a categorical one keeps category counts, capped:
// the categories kept by name are the baseline's first, then those of
// smallest hash (caps.go), and the others count under
// baselines.OtherCategory, so the names kept do not depend on the order
// the records arrived in. Nothing here keeps raw rows (a window's bounded
// sample of whole records for multivariate drift is Window.Sample).
//
// Sums and moments are accumulated exactly (stats.Sum, which a column's
// values reach through stats.Acc), so a window's state does not depend on
// the order its records arrived in or its parts were merged: replay and
// Kafka, and a window rebuilt after a restart, give bit-identical rows.
// Sums and Moments are their rounded values, set when the window closes
// (Window.Seal).
type Feature struct {
	Nulls int64
	Count int64 // non-null values
	// Of Nulls: values absent from their record's "features" (Absent) and
	// values of the wrong JSON type (WrongType); the rest were sent as null
	// or were not finite.
	Absent, WrongType int64
	// OutOfRange counts numeric values outside the baseline's [Min, Max].
	OutOfRange int64

	Counts  []int64   // numeric: per baseline bin
	Sums    []float64 // numeric: per baseline bin; set by Seal
	Min     float64
	Max     float64
	Moments stats.Moments // numeric; set by Seal

	Categories map[string]int64

	capCut cut // Categories' cut (caps.go)

	sums  []stats.Sum // exact per-bin sums behind Sums
	shift float64     // the baseline's mean: moments are sums of x - shift
	index edgeIndex   // finds a value's bin among the baseline's edges
	sx    stats.Sum   // sum of x - shift
	sxx   stats.Sum   // sum of (x - shift)^2
	// acc is add's scratch, empty between calls: an accumulator per bin,
	// then sx's and sxx's. A window's numeric features share one.
	acc []stats.Acc
}

// Window is the state of one event-time window [Start, End) of one model
// version, shaped by its baseline: Features[i] belongs to Baseline.Features[i].
// A Window is owned by one goroutine at a time.
type Window struct {
	Key
	Start, End time.Time
	Baseline   *baselines.Baseline
	Records    int64
	Features   []Feature
	Prediction Feature
	// Latency holds the records' latency_ms (finite, >= 0) with relative
	// accuracy LatencyAccuracy, for serving SLOs; records without one are
	// not in it.
	Latency *sketch.Sketch
	// Decided counts the records with a prediction, Selected those whose
	// prediction is a positive decision (Config.Decision): the window's
	// positive rate.
	Decided, Selected int64
	// Labels is the state of the records' labels (categorical on their
	// text), and Outcomes the labelled records' decisions and outcomes
	// (Config.Decision), for label and concept drift.
	Labels   Feature
	Outcomes perf.Confusion
	// Scores counts the records' numeric predictions (scores) in
	// baselines.OutcomeBins equal bins over [0, 1] (baselines.OutcomeBin:
	// values outside in the first or the last), as the baseline's
	// PredictionScores: what performance estimated without labels reads
	// (stats/perf CBPE). Nil when the baseline's prediction is not numeric.
	Scores []int64
	// LabelledScores counts the labelled records' scores in the same bins,
	// by outcome: [0] negative labels, [1] positive ones (Config.Decision):
	// the realized ROC AUC beside the estimated one. Label-derived state,
	// like Outcomes; each is nil until its first record.
	LabelledScores [2][]int64
	// ErrN counts the labelled records whose prediction and label are both
	// numbers (a bool label as 0 or 1), ErrAbs and ErrSq the exact sums of
	// their |prediction - label| and (prediction - label)^2: MAE and RMSE.
	ErrN          int64
	ErrAbs, ErrSq stats.Sum
	// Errors lists the labelled records' decision errors (decision !=
	// outcome) with their event time and a hash of their prediction id, so
	// that streaming detectors can read them in event-time order whatever
	// the arrival order; at most MaxErrorEvents.
	Errors []ErrorEvent
	// LabelDelays are the delays, in seconds, of the labels that arrived
	// late (label timestamp minus prediction timestamp), sorted; labels the
	// records carried are not in it.
	LabelDelays []float64
	// Groups holds, per segment attribute and group (gender -> f), the
	// records' decisions and, where labelled, outcomes, for subgroup
	// fairness: at most MaxAttributes attributes and MaxGroups groups each
	// (further groups count under baselines.OtherCategory, further
	// attributes are dropped). The attributes and groups kept are those of
	// smallest hash (caps.go), whatever the order records arrived in.
	Groups map[string]map[string]*Group
	// Variants holds the state of each variant (champion, challenger,
	// shadow, ...) of the records that name one (variants.go), at most
	// MaxVariants of them, those of smallest hash (caps.go); records of
	// further variants count only in the window's figures.
	Variants map[string]*Variant
	// Champion is the variant the others are paired with when the window
	// is sealed (VariantRoles; empty: DefaultChampion).
	Champion string
	// Unserved counts the records of shadow variants (VariantRoles), which
	// count in their variant's state only: Records + Unserved is every
	// record the window took.
	Unserved int64
	// PairsDropped counts the variant records left out of the pairing
	// sample (MaxPairRecords), set when the window is sealed.
	PairsDropped int64
	// Failed counts the records of failed predictions (those with an
	// "error"), and ErrorClasses them by error class: at most
	// MaxErrorClasses classes by name, those of smallest hash (caps.go),
	// the others counted under baselines.OtherCategory. A failed record
	// counts in Records, Features, Unknown and Latency, and not in
	// Prediction, Variants, Decided, Labels, Outcomes, Errors or Groups:
	// it was a request, not a prediction.
	Failed       int64
	ErrorClasses map[string]int64
	// Unknown counts, per feature name the records carried and the
	// baseline does not know, the records that carried it: at most
	// MaxUnknownFeatures names, those of smallest hash (caps.go).
	// UnknownDropped counts the (record, name) pairs of the names past
	// that cap, so that the share of records carrying any one of them is
	// at most UnknownDropped / Records.
	Unknown        map[string]int64
	UnknownDropped int64
	// MaxCategories caps the distinct categories kept by name per feature
	// (and in Labels), OtherCategory aside.
	MaxCategories int
	// Sample is a bounded sample of the window's records as whole rows,
	// for multivariate drift; nil when the baseline has no multivariate
	// model or Config.SampleRows is negative.
	Sample *Sample

	acc []stats.Acc // the numeric features' add scratch (Feature.acc)

	// The cuts of the capped maps (caps.go): the attributes', each
	// attribute's groups', the variants'. overCap: a map of them grew past
	// twice its cap since it was last pruned.
	attrCut, variantCut  cut
	errorCut, unknownCut cut
	groupCuts            map[string]cut
	overCap              bool

	pairs         pairState // the pairing sample until sealed (variants.go)
	pairsResolved bool
}

// NewWindow returns an empty window shaped by base that keeps at most
// maxCategories distinct categories per feature.
func NewWindow(k Key, start, end time.Time, base *baselines.Baseline, maxCategories int) *Window {
	w := &Window{Key: k, Start: start, End: end, Baseline: base, Features: make([]Feature, len(base.Features)), MaxCategories: maxCategories}
	for i := range base.Features {
		w.Features[i] = newFeature(&base.Features[i])
	}
	w.Prediction = newFeature(&base.Prediction)
	if base.Prediction.Kind == baselines.Numeric {
		w.Scores = make([]int64, baselines.OutcomeBins)
	}
	bins := len(w.Prediction.sums)
	for i := range w.Features {
		bins = max(bins, len(w.Features[i].sums))
	}
	if bins > 0 {
		w.acc = make([]stats.Acc, bins+2)
	}
	w.shareScratch(&w.Prediction)
	for i := range w.Features {
		w.shareScratch(&w.Features[i])
	}
	w.Labels = Feature{Categories: make(map[string]int64)}
	var err error
	if w.Latency, err = sketch.New(LatencyAccuracy); err != nil {
		panic(fmt.Sprintf("windows: latency sketch: %v", err)) // a constant accuracy: cannot happen
	}
	return w
}

// shareScratch gives numeric feature f the window's add scratch, sized
// for its widest feature: one goroutine updates a window's features, one
// at a time.
func (w *Window) shareScratch(f *Feature) {
	if f.sums != nil && len(w.acc) >= len(f.sums)+2 {
		f.acc = w.acc
	}
}

// LatencyAccuracy is the relative accuracy of latency quantiles: a reported
// p99 of 250 ms is within 2.5 ms of the 99th-percentile record's latency.
const LatencyAccuracy = 0.01

// ErrorEvent is one labelled record's decision error.
type ErrorEvent struct {
	Time int64  // event time, unix ms
	ID   uint64 // FNV-1a of the prediction id: a deterministic tie-break
	Err  bool
}

// MaxErrorEvents bounds Window.Errors (16 bytes each).
const MaxErrorEvents = 1 << 20

// SortErrors orders w.Errors by event time, then id hash: the order the
// detectors read them in.
func (w *Window) SortErrors() {
	slices.SortFunc(w.Errors, func(a, b ErrorEvent) int {
		if c := cmp.Compare(a.Time, b.Time); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})
}

// MaxVariants bounds the variants whose predictions a window keeps apart.
const MaxVariants = 16

// Bounds of Window.Groups.
const (
	MaxAttributes = 10
	MaxGroups     = 50
)

// MaxErrorClasses bounds Window.ErrorClasses, baselines.OtherCategory
// included.
const MaxErrorClasses = 50

// MaxUnknownFeatures bounds the names Window.Unknown keeps.
const MaxUnknownFeatures = 100

// Group is one segment group's decisions in a window: Decisions counts
// every record as (decision, outcome false), so its selection rate is the
// group's; Outcomes counts the labelled records by decision and outcome.
type Group struct {
	Decisions perf.Confusion
	Outcomes  perf.Confusion
}

// group returns the state of attr=value, creating it, or nil for an
// attribute past the attributes' cut; a value past its attribute's cut
// is OtherCategory's (caps.go). Names are copied: they may point into an
// Arrow buffer. It never prunes, so the pointers it returns stay valid
// until Window.prune.
func (w *Window) group(attr, value string) *Group {
	gs, ok := w.Groups[attr]
	if !ok {
		if w.attrCut.rejects(attr, nil) {
			return nil
		}
		if w.Groups == nil {
			w.Groups = make(map[string]map[string]*Group)
		}
		gs = make(map[string]*Group)
		w.Groups[strings.Clone(attr)] = gs
		if len(w.Groups) > 2*caps.attributes {
			w.overCap = true
		}
	}
	g, ok := gs[value]
	if ok {
		return g
	}
	if value != baselines.OtherCategory {
		if c, ok := w.groupCuts[attr]; ok && c.rejects(value, nil) {
			value = baselines.OtherCategory
			if g, ok := gs[value]; ok {
				return g
			}
		}
	}
	g = &Group{}
	gs[strings.Clone(value)] = g
	if len(gs) > 2*caps.groups {
		w.overCap = true
	}
	return g
}

// variant returns the state of variant v, creating it, or nil for a
// variant past the variants' cut (caps.go). A new name is copied: v may
// point into an Arrow buffer. It never prunes, so the pointer it returns
// stays valid until Window.prune.
func (w *Window) variant(v string) *Variant {
	if x, ok := w.Variants[v]; ok {
		return x
	}
	if w.variantCut.rejects(v, nil) {
		return nil
	}
	if w.Variants == nil {
		w.Variants = make(map[string]*Variant)
	}
	x := &Variant{Prediction: newFeature(&w.Baseline.Prediction)}
	if w.Scores != nil {
		x.Scores = make([]int64, baselines.OutcomeBins)
	}
	w.shareScratch(&x.Prediction)
	w.Variants[strings.Clone(v)] = x
	if len(w.Variants) > 2*caps.variants {
		w.overCap = true
	}
	return x
}

// feature returns feature i of w, or the prediction for -1.
func (w *Window) feature(i int) *Feature {
	if i < 0 {
		return &w.Prediction
	}
	return &w.Features[i]
}

func (f *Feature) addIssue(k consumer.IssueKind) {
	switch k {
	case consumer.Absent:
		f.Absent++
	case consumer.WrongType:
		f.WrongType++
	}
}

func newFeature(bf *baselines.Feature) Feature {
	if bf.Kind == baselines.Numeric {
		n := len(bf.Edges) + 1
		shift := bf.Mean
		if math.IsNaN(shift) || math.IsInf(shift, 0) {
			shift = 0
		}
		return Feature{Counts: make([]int64, n), Sums: make([]float64, n), sums: make([]stats.Sum, n), shift: shift, Min: math.Inf(1), Max: math.Inf(-1),
			index: newEdgeIndex(bf.Edges)}
	}
	return Feature{Categories: make(map[string]int64)}
}

// Seal prunes every capped map of w to its cap (caps.go), sets every
// feature's Sums and Moments from its exact sums, and pairs the variants'
// records with the champion's (variants.go; once: the pairing sample is
// then freed). The windows stage seals a window before it hands it on;
// Merge seals the merged window.
func (w *Window) Seal() {
	w.prune(true)
	if w.Sample != nil {
		w.Sample.prune()
	}
	for i := range w.Features {
		w.Features[i].seal()
	}
	w.Prediction.seal()
	for _, v := range w.Variants {
		v.Prediction.seal()
	}
	w.resolvePairs()
}

func (f *Feature) seal() {
	if f.sums == nil {
		return // categorical, or built by hand with Sums and Moments set
	}
	for i := range f.sums {
		f.Sums[i] = f.sums[i].Value()
	}
	f.Moments = stats.Moments{}
	if f.Count == 0 {
		return
	}
	// Mean and M2 from the exact sums of the shifted values: N*M2 = N*sxx - sx^2
	// loses only what rounding sx and sxx once loses, relative to how far
	// the window's mean is from the baseline's in standard deviations.
	n := float64(f.Count)
	sx, sxx := f.sx.Value(), f.sxx.Value()
	f.Moments = stats.Moments{N: n, Mean: f.shift + sx/n, M2: max(0, sxx-sx*(sx/n))}
}

// Merge adds o's state into w and seals w. Both must be the same key,
// window and baseline; partial windows from any number of instances merge,
// in any order, into the state one window gets from all their records in
// any order. Past the caps too: o's categories, groups, attributes and
// variants go through the same rank rule (caps.go), o's OtherCategory
// counts add to w's, and sealing prunes each map to the smallest names by
// rank of the union, the names the whole stream keeps; the pairing samples
// merge likewise (variants.go). A part sealed already brings its pairs as
// they were paired: its records are not paired again.
func (w *Window) Merge(o *Window) error {
	if err := w.merge(o); err != nil {
		return err
	}
	slices.Sort(w.LabelDelays)
	w.Seal()
	return nil
}

// merge is Merge without sealing w or sorting its label delays: the
// merge stage calls it for every delta (whose label delays, from late
// labels, are none), and its windows are sealed when they close.
func (w *Window) merge(o *Window) error {
	if w.Key != o.Key || !w.Start.Equal(o.Start) || !w.End.Equal(o.End) || w.Baseline.ID != o.Baseline.ID {
		return fmt.Errorf("merge window %s %s@%s with %s %s@%s: different window or baseline",
			w.Model, w.Version, w.Start.Format(time.RFC3339), o.Model, o.Version, o.Start.Format(time.RFC3339))
	}
	w.Records += o.Records
	w.Unserved += o.Unserved
	w.PairsDropped += o.PairsDropped
	for i := range w.Features {
		w.Features[i].merge(&o.Features[i], &w.Baseline.Features[i], w.MaxCategories)
	}
	w.Prediction.merge(&o.Prediction, &w.Baseline.Prediction, w.MaxCategories)
	w.Decided += o.Decided
	w.Selected += o.Selected
	w.Failed += o.Failed
	for c, n := range o.ErrorClasses {
		w.addErrorClass(c, n)
	}
	w.UnknownDropped += o.UnknownDropped
	for name, n := range o.Unknown {
		w.addUnknown(name, n)
	}
	addCounts(&w.Scores, o.Scores)
	w.mergeLabels(o, true)
	for name, ov := range o.Variants {
		if v := w.variant(name); v != nil {
			if err := v.merge(ov, &w.Baseline.Prediction, w.MaxCategories); err != nil {
				return fmt.Errorf("merge variant %s of window %s %s@%s: %w", name, w.Model, w.Version, w.Start.Format(time.RFC3339), err)
			}
		}
	}
	w.pairs.merge(&o.pairs)
	if err := w.Latency.Merge(o.Latency); err != nil {
		return fmt.Errorf("merge latency of window %s %s@%s: %w", w.Model, w.Version, w.Start.Format(time.RFC3339), err)
	}
	if o.Sample != nil {
		if w.Sample == nil {
			w.Sample = newSample(w.Baseline, o.Sample.K)
		}
		if w.Sample != nil {
			w.Sample.merge(o.Sample)
		}
	}
	w.prune(false) // deltas merged one after another stay bounded until Seal
	return nil
}

// addCounts adds the counts of o into *c, element by element, allocating
// *c when it is nil and o is not (both have o's length).
func addCounts(c *[]int64, o []int64) {
	if len(o) == 0 {
		return
	}
	if *c == nil {
		*c = make([]int64, len(o))
	}
	for i, n := range o {
		(*c)[i] += n
	}
}

// merge adds o into f; bf is their baseline feature (nil for Labels).
func (f *Feature) merge(o *Feature, bf *baselines.Feature, maxCategories int) {
	f.Nulls += o.Nulls
	f.Count += o.Count
	f.Absent += o.Absent
	f.WrongType += o.WrongType
	f.OutOfRange += o.OutOfRange
	for i := range o.Counts {
		f.Counts[i] += o.Counts[i]
	}
	for i := range o.sums {
		f.sums[i].Merge(&o.sums[i])
	}
	if o.Counts != nil {
		f.Min = math.Min(f.Min, o.Min)
		f.Max = math.Max(f.Max, o.Max)
		f.sx.Merge(&o.sx)
		f.sxx.Merge(&o.sxx)
	}
	for c, n := range o.Categories {
		f.addCategory(c, n, bf, maxCategories)
	}
}

// addCategory counts n values v under the cap of maxCategories names and
// the rank rule (caps.go; bf is the feature's baseline feature, nil for
// Labels): a new name past f's cut counts under OtherCategory, and past
// twice the cap f keeps only its maxCategories smallest names. A known
// name costs one lookup; only a new one is ranked. A new key is copied: v
// may point into an Arrow buffer that is released with its batch.
func (f *Feature) addCategory(v string, n int64, bf *baselines.Feature, maxCategories int) {
	if _, ok := f.Categories[v]; ok {
		f.Categories[v] += n
		return
	}
	if v == baselines.OtherCategory || maxCategories <= 0 || f.capCut.rejects(v, bf) {
		f.Categories[baselines.OtherCategory] += n
		return
	}
	f.Categories[strings.Clone(v)] = n
	if len(f.Categories) > 2*maxCategories {
		if _, other := f.Categories[baselines.OtherCategory]; !other || len(f.Categories) > 2*maxCategories+1 {
			f.pruneCategories(maxCategories, bf) // more than 2k names: keep k
		}
	}
}

// accMinRows is the fewest rows Feature.add takes through stats.Acc
// accumulators; fewer are added to the exact sums one by one, which costs
// less than flushing the accumulators of every bin.
const accMinRows = 32

// add accumulates the given rows of one column into f.
func (f *Feature) add(col arrow.Array, rows []int, bf *baselines.Feature, maxCategories int) {
	switch c := col.(type) {
	case *array.Float64:
		f.addNumeric(c, rows, bf)
	case *array.Dictionary:
		dict := c.Dictionary().(*array.String)
		local := make([]int64, dict.Len())
		idx := newDictIndex(c)
		nulls := c.NullN() > 0
		for _, i := range rows {
			if nulls && c.IsNull(i) {
				f.Nulls++
				continue
			}
			local[idx.at(i)]++
		}
		for j, n := range local {
			if n == 0 {
				continue
			}
			f.Count += n
			f.addCategory(dict.Value(j), n, bf, maxCategories)
		}
	default:
		panic(fmt.Sprintf("windows: unexpected column type %s", col.DataType()))
	}
}

// addNumeric accumulates the given rows of a numeric column into f, a
// block of rows at a time: first the bins (f.index), counts, minimum and
// maximum (a loop without calls), then the exact sums (per bin, and the
// moments'). Those take the values through f.acc, a stats.Acc per bin and
// two for the moments, flushed into them at the end: the same exact sums
// as adding each value to them, at a fraction of the cost.
func (f *Feature) addNumeric(c *array.Float64, rows []int, bf *baselines.Feature) {
	vals := c.Float64Values()
	nulls := c.NullN() > 0
	nb := len(f.sums)
	direct := len(rows) < accMinRows
	if !direct && len(f.acc) < nb+2 {
		f.acc = make([]stats.Acc, nb+2)
	}
	var bins []stats.Acc
	var sx, sxx *stats.Acc
	if !direct {
		bins, sx, sxx = f.acc[:nb], &f.acc[nb], &f.acc[nb+1]
	}
	if f.index.n != len(bf.Edges) { // a Feature not made by newFeature
		f.index = newEdgeIndex(bf.Edges)
	}
	shift := f.shift
	lo, hi, ranged := bf.Min, bf.Max, bf.Count > 0
	var xs [addBlock]float64
	var bs [addBlock]int
	for len(rows) > 0 {
		block := rows[:min(len(rows), addBlock)]
		rows = rows[len(block):]
		k := 0
		mn, mx := f.Min, f.Max
		var outside int64
		for _, i := range block {
			x := vals[i]
			if nulls && c.IsNull(i) || math.IsNaN(x) || math.IsInf(x, 0) {
				continue // as in the baseline: a non-finite value is missing
			}
			outside += int64(b2i(ranged && (x < lo || x > hi)))
			mn, mx = min(mn, x), max(mx, x)
			xs[k] = x
			k++
		}
		f.index.bins(xs[:k], bs[:k])
		for _, b := range bs[:k] {
			f.Counts[b]++
		}
		f.Min, f.Max = mn, mx
		f.Count += int64(k)
		f.Nulls += int64(len(block) - k)
		f.OutOfRange += outside
		if direct {
			for j, x := range xs[:k] {
				d := x - shift
				f.sums[bs[j]].Add(x)
				f.sx.Add(d)
				f.sxx.Add(d * d)
			}
			continue
		}
		stats.AddGrouped(bins, f.sums, bs[:k], xs[:k])
		stats.AddMoments(sx, &f.sx, sxx, &f.sxx, xs[:k], shift)
	}
	for b := range bins {
		bins[b].Flush(&f.sums[b])
	}
	if !direct {
		sx.Flush(&f.sx)
		sxx.Flush(&f.sxx)
	}
}

// addBlock is how many rows addNumeric bins before it sums them.
const addBlock = 256
