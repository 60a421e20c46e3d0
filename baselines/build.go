package baselines

import (
	"cmp"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"time"

	"github.com/driftwatch/driftwatch/stats"
)

// Defaults of BuildOptions.
const (
	DefaultBins          = 100
	DefaultMaxCategories = 1000
)

// PredictionName is the Name of a baseline's Prediction feature.
const PredictionName = "prediction"

// BuildOptions tunes a Builder. The zero value is ready to use.
type BuildOptions struct {
	// Bins is the number of quantile bins of a numeric feature: its edges
	// are the quantiles at levels i/Bins for i = 0..Bins, interpolated
	// linearly between order statistics as numpy.quantile does by default
	// (Hyndman and Fan's definition 7), with repeated values dropped, so a
	// feature gets at most Bins+1 edges. On data with few distinct values the
	// interpolation can put an edge between two of them, as numpy does.
	// Zero or less means DefaultBins.
	Bins int
	// MaxCategories caps the categories of a categorical feature: past it,
	// the MaxCategories-1 most frequent are kept (ties broken by value) and
	// the rest are counted under OtherCategory. Zero or less means
	// DefaultMaxCategories.
	MaxCategories int
	// Now stamps the baseline's CreatedAt; nil means time.Now.
	Now func() time.Time
	// Source says where the reference rows came from, e.g. a file name.
	Source string
	// ModelVersion is the model version the rows came from, if known.
	ModelVersion string
	// SampleSize caps each feature's Sample (see Sample): zero means
	// DefaultSampleSize, negative means no sample. A feature whose values
	// were both numbers and strings, or with more than 65,535 cells, gets
	// no sample.
	SampleSize int
	// Traffic says the rows are a production period of ModelVersion's
	// traffic, every one of its records in that period: with a time
	// profile, the baseline keeps the period's span (Baseline.Traffic),
	// and the profile's rows per hour are that version's expected volume.
	Traffic bool
	// MultivariateRows caps the reference rows the multivariate model
	// (Baseline.Multivariate) is fitted on: past it, a uniform sample of
	// them (the rows of smallest hash of their number). Zero means
	// DefaultMultivariateRows, negative means no model. Memory: about 24
	// bytes per feature value of a kept row, up to twice the cap between
	// prunings (50,000 rows of 10 features: 24 MB at most).
	MultivariateRows int
}

// Builder accumulates reference rows of one model and builds a Baseline from
// them. Feed it one row at a time, each value of the row with an Add call and
// then EndRow; then call Build.
//
// A feature is numeric if every non-null value it got was a number, and
// categorical otherwise: one string among numbers makes the numbers
// categories too, written by strconv.FormatFloat(x, 'g', -1, 64), the form
// consumer.Value.Text gives production values. A feature that only ever got
// nulls is categorical with no categories. NaN and ±Inf count as null: bin
// edges must be finite and JSON cannot hold them. A feature that is absent
// from a row counts as null in that row, so that for every feature Count +
// Nulls equals the number of rows.
//
// Memory: quantile edges are exact, so a Builder keeps every number it is
// given, 8 bytes each (80 MB for ten numeric features over a million rows),
// plus one map entry per distinct category and one small record per feature
// name. Sample the reference first if it does not fit.
//
// A Builder is not safe for concurrent use.
type Builder struct {
	model    string
	opts     BuildOptions
	features map[string]*column
	pred     column
	label    column
	outcomes map[string][]int64 // label text -> scores per OutcomeBins bin
	groups   map[string]map[string][]int64
	// groupOutcomes: attribute -> group -> label text -> scores per
	// OutcomeBins bin; nil once the labels exceed MaxGroupLabels
	// (noGroupOutcomes).
	groupOutcomes   map[string]map[string]map[string][]int64
	groupLabels     map[string]bool
	noGroupOutcomes bool
	// The current row's kept segments and, once AddLabel counted it, its
	// label, so that AddSegment and AddLabel may come in either order.
	rowSegs     []rowSegment
	rowLabel    string
	rowLabelled bool
	errN        int64
	errAbs      stats.Sum
	errSq       stats.Sum
	rows        int64
	pending     bool // values were added since the last EndRow

	// errPairs are the numeric predictions with their errors, binned on
	// the prediction's edges at Build (PredictionErrors).
	errPairs []errPair

	// The time profile (SetTime): the current row's phase (-1: none),
	// how many rows had a time, their span, rows per phase, and what
	// AddSegment and AddLabel count per phase.
	phase      int
	timed      int64
	tMin, tMax time.Time
	rowPhase   [PhasesPerWeek]int64
	acc        *[PhasesPerWeek]phaseAcc

	mv *mvCollector // the rows the multivariate model is fitted on; nil: no model
}

// column accumulates the values of one feature.
type column struct {
	nums    []float64        // finite numbers, in arrival order until Build sorts them
	sample  []float64        // nums thinned in arrival order, taken before the first sort
	sorted  bool             // Build has sorted nums
	cats    map[string]int64 // strings and their counts
	ids     map[string]int32 // strings in order of first appearance
	names   []string         // ids' strings by id
	order   []int32          // the id of every string, in arrival order
	strings int64            // sum of cats
	seen    bool             // got at least one value, null or not
	lastRow int64            // the row of the last value; -1 before the first
	// numPhase and strPhase are the phases of nums and order, value by
	// value, while every row has a time (SetTime).
	numPhase []uint8
	strPhase []uint8
}

func newColumn() *column { return &column{lastRow: -1} }

// NewBuilder returns a Builder for reference rows of model.
func NewBuilder(model string, opts BuildOptions) *Builder {
	if opts.Bins <= 0 {
		opts.Bins = DefaultBins
	}
	if opts.MaxCategories <= 0 {
		opts.MaxCategories = DefaultMaxCategories
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	b := &Builder{
		model:    model,
		opts:     opts,
		features: make(map[string]*column),
		pred:     column{lastRow: -1},
		label:    column{lastRow: -1},
		phase:    -1,
	}
	if opts.MultivariateRows >= 0 {
		limit := opts.MultivariateRows
		if limit == 0 {
			limit = DefaultMultivariateRows
		}
		b.mv = &mvCollector{limit: max(limit, 2), at: -1, cur: -1}
	}
	return b
}

// NumericLabel reads a label's text as a number: a finite number as
// written ("1", "0.25"), a bool as 1 or 0.
func NumericLabel(text string) (float64, bool) {
	switch text {
	case "true":
		return 1, true
	case "false":
		return 0, true
	}
	y, err := strconv.ParseFloat(text, 64)
	return y, err == nil && !math.IsInf(y, 0) && !math.IsNaN(y)
}

// errPair is a labelled numeric prediction x and its error e = x - label.
type errPair struct{ x, e float64 }

// Bounds of a baseline's Groups: segment attributes, and groups per
// attribute (others are not kept); and of GroupOutcomes: label texts (a
// reference whose scored labels have more keeps none).
const (
	MaxGroupAttributes = 10
	MaxGroupsPerAttr   = 50
	MaxGroupLabels     = 10
)

// rowSegment is a segment of the current row kept in Groups, with the bin
// of its score.
type rowSegment struct {
	attr, group string
	bin         int
}

// AddSegment counts the current row's numeric prediction (score) under
// segment attr=group, for the reference's selection rate per group at any
// decision threshold; with the row's label (AddLabel, before or after),
// its outcome per group too (Baseline.GroupOutcomes). Call it once per
// segment of the row.
func (b *Builder) AddSegment(attr, group string, score float64) {
	if math.IsNaN(score) || math.IsInf(score, 0) {
		return
	}
	gs, ok := b.groups[attr]
	if !ok {
		if len(b.groups) >= MaxGroupAttributes {
			return
		}
		if b.groups == nil {
			b.groups = make(map[string]map[string][]int64)
		}
		gs = make(map[string][]int64)
		b.groups[attr] = gs
	}
	bins, ok := gs[group]
	if !ok {
		if len(gs) >= MaxGroupsPerAttr {
			return
		}
		bins = make([]int64, OutcomeBins)
		gs[group] = bins
	}
	bins[OutcomeBin(score)]++
	seg := rowSegment{attr, group, OutcomeBin(score)}
	b.rowSegs = append(b.rowSegs, seg)
	if b.rowLabelled {
		b.groupOutcome(seg, b.rowLabel)
	}
	if a := b.phaseAcc(); a != nil {
		if a.groups == nil {
			a.groups = make(map[string]map[string][]int64)
		}
		if a.groups[attr] == nil {
			a.groups[attr] = make(map[string][]int64)
		}
		if a.groups[attr][group] == nil {
			a.groups[attr][group] = make([]int64, OutcomeBins)
		}
		a.groups[attr][group][OutcomeBin(score)]++
	}
}

// groupOutcome counts a labelled row's score under its segment seg and
// label text in groupOutcomes, until the labels exceed MaxGroupLabels.
func (b *Builder) groupOutcome(seg rowSegment, label string) {
	if b.noGroupOutcomes {
		return
	}
	if !b.groupLabels[label] {
		if len(b.groupLabels) >= MaxGroupLabels {
			// Not a classifier's labels: per-group outcomes would be large
			// and mean nothing.
			b.noGroupOutcomes, b.groupOutcomes, b.groupLabels = true, nil, nil
			return
		}
		if b.groupLabels == nil {
			b.groupLabels = make(map[string]bool)
		}
		b.groupLabels[label] = true
	}
	if b.groupOutcomes == nil {
		b.groupOutcomes = make(map[string]map[string]map[string][]int64)
	}
	gs := b.groupOutcomes[seg.attr]
	if gs == nil {
		gs = make(map[string]map[string][]int64)
		b.groupOutcomes[seg.attr] = gs
	}
	byLabel := gs[seg.group]
	if byLabel == nil {
		byLabel = make(map[string][]int64)
		gs[seg.group] = byLabel
	}
	bins := byLabel[label]
	if bins == nil {
		bins = make([]int64, OutcomeBins)
		byLabel[label] = bins
	}
	bins[seg.bin]++
}

// phaseAcc returns the accumulator of the current row's phase, nil when
// the row has no time.
func (b *Builder) phaseAcc() *phaseAcc {
	if b.phase < 0 {
		return nil
	}
	if b.acc == nil {
		b.acc = new([PhasesPerWeek]phaseAcc)
	}
	return &b.acc[b.phase]
}

// AddLabel adds the ground truth of the current row, as text (a number 1
// as "1", a bool as "true"), and, when the row's prediction is a score,
// counts the (score, label) pair for the reference's performance.
func (b *Builder) AddLabel(text string, score float64, scored bool) {
	if b.label.lastRow == b.rows {
		return // only the first label of a row counts
	}
	b.label.category(b, text)
	if !scored || math.IsNaN(score) || math.IsInf(score, 0) {
		return
	}
	a := b.phaseAcc()
	if y, ok := NumericLabel(text); ok {
		e := score - y
		b.errN++
		b.errAbs.Add(math.Abs(e))
		b.errSq.Add(e * e)
		b.errPairs = append(b.errPairs, errPair{score, e})
		if a != nil {
			a.errN++
			a.errAbs.Add(math.Abs(e))
			a.errSq.Add(e * e)
		}
	}
	if b.outcomes == nil {
		b.outcomes = make(map[string][]int64)
	}
	bins := b.outcomes[text]
	if bins == nil {
		if len(b.outcomes) >= b.opts.MaxCategories {
			return
		}
		bins = make([]int64, OutcomeBins)
		b.outcomes[text] = bins
	}
	bins[OutcomeBin(score)]++
	b.rowLabel, b.rowLabelled = text, true
	for _, seg := range b.rowSegs {
		b.groupOutcome(seg, text)
	}
	if a != nil {
		if a.outcomes == nil {
			a.outcomes = make(map[string][]int64)
		}
		if a.outcomes[text] == nil {
			a.outcomes[text] = make([]int64, OutcomeBins)
		}
		a.outcomes[text][OutcomeBin(score)]++
	}
}

// AddNumber adds x as the value of feature in the current row. NaN and ±Inf
// count as null. Only the first value of a feature in a row counts; later
// ones are ignored.
func (b *Builder) AddNumber(feature string, x float64) {
	c := b.feature(feature)
	if c.number(b, x) && b.mv != nil {
		if math.IsInf(x, 0) {
			x = math.NaN()
		}
		b.mv.value(b.rows, b.phase, c, x, -1)
	}
}

// AddCategory adds s as the value of feature in the current row. Only the
// first value of a feature in a row counts.
func (b *Builder) AddCategory(feature, s string) {
	c := b.feature(feature)
	if id, ok := c.category(b, s); ok && b.mv != nil {
		b.mv.value(b.rows, b.phase, c, 0, id)
	}
}

// AddNull records that feature is missing in the current row. It matters only
// for a feature that never gets a value: absence counts as null anyway once
// the feature is known.
func (b *Builder) AddNull(feature string) { b.feature(feature).null(b) }

// AddPredictionNumber adds x as the prediction of the current row, as
// AddNumber does for a feature.
func (b *Builder) AddPredictionNumber(x float64) { b.pred.number(b, x) }

// AddPredictionCategory adds s as the prediction of the current row, as
// AddCategory does for a feature.
func (b *Builder) AddPredictionCategory(s string) { b.pred.category(b, s) }

// AddPredictionNull records that the current row has no prediction. Rows
// without a prediction count as nulls once any row had one, as for
// features; if no row ever had one, the baseline's prediction has no counts
// at all.
func (b *Builder) AddPredictionNull() { b.pred.null(b) }

// EndRow ends the current row. A row without any Add call still counts, with
// every feature null in it.
func (b *Builder) EndRow() {
	if b.phase >= 0 {
		b.rowPhase[b.phase]++
		b.timed++
	}
	if b.mv != nil {
		b.mv.endRow(b.rows, b.phase)
	}
	b.phase = -1
	b.rows++
	b.pending = false
	b.rowSegs, b.rowLabelled = b.rowSegs[:0], false
}

// SetTime gives the current row's time, before its values: a baseline
// whose rows all have times spanning at least a day keeps its time profile
// (Baseline.Phases) and the cycle found in it (Baseline.Cycle).
func (b *Builder) SetTime(t time.Time) {
	b.phase = PhaseOf(t)
	if b.timed == 0 || t.Before(b.tMin) {
		b.tMin = t
	}
	if b.timed == 0 || t.After(b.tMax) {
		b.tMax = t
	}
}

func (b *Builder) feature(name string) *column {
	c, ok := b.features[name]
	if !ok {
		c = newColumn()
		b.features[name] = c
	}
	return c
}

// mark claims the current row for c and reports whether it was still free.
func (c *column) mark(b *Builder) bool {
	if c.lastRow == b.rows {
		return false
	}
	c.lastRow = b.rows
	c.seen = true
	b.pending = true
	return true
}

// number adds x as c's value in the current row and reports whether it
// was the row's first.
func (c *column) number(b *Builder, x float64) bool {
	if !c.mark(b) {
		return false
	}
	if !math.IsNaN(x) && !math.IsInf(x, 0) {
		c.nums = append(c.nums, x)
		if b.phase >= 0 {
			c.numPhase = append(c.numPhase, uint8(b.phase))
		}
	}
	return true
}

// category adds s as c's value in the current row and returns its string
// id, or false when the row had a value already.
func (c *column) category(b *Builder, s string) (int32, bool) {
	if c.mark(b) {
		if c.cats == nil {
			c.cats = make(map[string]int64)
			c.ids = make(map[string]int32)
		}
		c.cats[s]++
		c.strings++
		id, ok := c.ids[s]
		if !ok {
			id = int32(len(c.names))
			c.ids[s] = id
			c.names = append(c.names, s)
		}
		c.order = append(c.order, id)
		if b.phase >= 0 {
			c.strPhase = append(c.strPhase, uint8(b.phase))
		}
		return id, true
	}
	return 0, false
}

func (c *column) null(b *Builder) { c.mark(b) }

// Build returns the baseline of the rows added so far, ending a pending row
// first. Features are sorted by name. The ID is
// "<model>-<created, yyyymmddThhmmssZ>-<hash>", where hash is the first 8 hex
// digits of the SHA-256 of the baseline's JSON without the ID, so the same
// rows, options and time give the same ID.
//
// Build fails without a model, without rows, without features, or when a
// numeric feature's values are so large that their sum overflows float64.
// Build sorts the numbers it kept in place; calling it again is allowed.
func (b *Builder) Build() (*Baseline, error) {
	if b.pending {
		b.EndRow()
	}
	if b.model == "" {
		return nil, errors.New("build baseline: model is required")
	}
	if b.rows == 0 {
		return nil, fmt.Errorf("build baseline of model %q: no rows", b.model)
	}
	if len(b.features) == 0 {
		return nil, fmt.Errorf("build baseline of model %q: no features in %d rows", b.model, b.rows)
	}
	bl := &Baseline{
		Format:       1, // FormatVersion with a time profile
		Model:        b.model,
		ModelVersion: b.opts.ModelVersion,
		CreatedAt:    b.opts.Now().UTC(),
		Source:       b.opts.Source,
		Rows:         b.rows,
		Features:     make([]Feature, 0, len(b.features)),
	}
	names := make([]string, 0, len(b.features))
	for name := range b.features {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		f, err := b.summarize(name, b.features[name])
		if err != nil {
			return nil, fmt.Errorf("build baseline of model %q: %w", b.model, err)
		}
		bl.Features = append(bl.Features, f)
	}
	pred, err := b.summarize(PredictionName, &b.pred)
	if err != nil {
		return nil, fmt.Errorf("build baseline of model %q: %w", b.model, err)
	}
	bl.Prediction = pred
	if pred.Kind == Numeric && len(b.pred.nums) > 0 {
		bl.PredictionScores = make([]int64, OutcomeBins)
		for _, x := range b.pred.nums {
			bl.PredictionScores[OutcomeBin(x)]++
		}
	}
	if b.label.seen {
		label, err := b.summarize(LabelName, &b.label)
		if err != nil {
			return nil, fmt.Errorf("build baseline of model %q: %w", b.model, err)
		}
		bl.Label = &label
	}
	if len(b.outcomes) > 0 {
		bl.Outcomes = &Outcomes{Bins: OutcomeBins, ByLabel: b.outcomes}
	}
	if len(b.groups) > 0 && bl.Prediction.Kind == Numeric {
		bl.Groups = b.groups
		if len(b.groupOutcomes) > 0 {
			bl.GroupOutcomes = b.groupOutcomes
		}
	}
	if b.errN > 0 {
		bl.Errors = &ErrorSums{N: b.errN, SumAbs: b.errAbs.Value(), SumSq: b.errSq.Value()}
		if pred.Kind == Numeric && len(pred.Edges) > 0 && len(b.errPairs) > 0 {
			bl.PredictionErrors = binErrors(&pred, b.errPairs)
		}
	}
	if bl.Multivariate, err = b.fitMultivariate(bl); err != nil {
		return nil, fmt.Errorf("build baseline of model %q: %w", b.model, err)
	}
	// The hours the reference covers, its first and last in full.
	if span := b.tMax.Truncate(time.Hour).Sub(b.tMin.Truncate(time.Hour)) + time.Hour; b.timed == b.rows && span >= 24*time.Hour {
		bl.Format = FormatVersion
		bl.Phases = b.phases(bl, names)
		bl.Cycle = detectCycle(bl, span)
		if b.opts.Traffic {
			bl.Traffic = &Traffic{From: b.tMin.UTC(), Until: b.tMax.UTC()}
		}
	}

	canonical, err := json.Marshal(bl)
	if err != nil {
		return nil, fmt.Errorf("build baseline of model %q: encode: %w", b.model, err)
	}
	sum := sha256.Sum256(canonical)
	bl.ID = fmt.Sprintf("%s-%s-%x", b.model, bl.CreatedAt.Format("20060102T150405Z"), sum[:4])
	bl.phased = new(phaseCache)
	if err := bl.Validate(); err != nil {
		// A bug in Build, not in the data.
		return nil, fmt.Errorf("build baseline of model %q: %w", b.model, err)
	}
	return bl, nil
}

// summarize turns the values of one column into its Feature.
func (b *Builder) summarize(name string, c *column) (Feature, error) {
	f := Feature{Name: name}
	if !c.seen {
		f.Kind = Categorical
		return f, nil
	}
	f.Count = int64(len(c.nums)) + c.strings
	f.Nulls = b.rows - f.Count
	size := b.opts.SampleSize
	if size == 0 {
		size = DefaultSampleSize
	}
	if c.strings > 0 || len(c.nums) == 0 {
		f.Kind = Categorical
		f.Categories = capCategories(c.cats, c.nums, b.opts.MaxCategories)
		if size > 0 && len(c.nums) == 0 {
			f.Sample = categorySample(f.Categories, c.names, c.order, size)
		}
		return f, nil
	}
	f.Kind = Numeric
	if !c.sorted {
		stride := thinStride(len(c.nums), size)
		c.sample = make([]float64, 0, (int64(len(c.nums))+stride-1)/stride)
		for i := int64(0); i < int64(len(c.nums)); i += stride {
			c.sample = append(c.sample, c.nums[i])
		}
		if len(c.numPhase) == len(c.nums) {
			sort.Sort(phaseValues{c.nums, c.numPhase}) // numeric sorts them again, in place: the phases stay aligned
		}
		c.sorted = true
	}
	if err := numeric(&f, c.nums, b.opts.Bins); err != nil {
		return Feature{}, fmt.Errorf("feature %q: %w", name, err)
	}
	if size > 0 && len(f.Edges) < math.MaxUint16 {
		s := &Sample{Stride: thinStride(len(c.nums), size), Cells: make(Cells, len(c.sample))}
		for i, x := range c.sample {
			s.Cells[i] = uint16(BinIndex(f.Edges, x))
		}
		f.Sample = s
	}
	return f, nil
}

// categorySample reduces the strings of a categorical feature, given by
// their ids in arrival order, to cells over the feature's (capped)
// categories, thinned to at most size.
func categorySample(cats map[string]int64, names []string, order []int32, size int) *Sample {
	if len(cats) > math.MaxUint16 {
		return nil
	}
	s := &Sample{Stride: thinStride(len(order), size), Categories: make([]string, 0, len(cats))}
	for k := range cats {
		s.Categories = append(s.Categories, k)
	}
	slices.Sort(s.Categories)
	cell := make([]uint16, len(names)) // by string id
	for id, name := range names {
		if _, kept := cats[name]; !kept {
			name = OtherCategory
		}
		i, _ := slices.BinarySearch(s.Categories, name)
		cell[id] = uint16(i)
	}
	s.Cells = make(Cells, 0, (int64(len(order))+s.Stride-1)/s.Stride)
	for i := int64(0); i < int64(len(order)); i += s.Stride {
		s.Cells = append(s.Cells, cell[order[i]])
	}
	return s
}

// numeric fills f's edges, bin counts and sums and moments from nums, which
// it sorts. nums is not empty and holds finite numbers only.
func numeric(f *Feature, nums []float64, bins int) error {
	slices.Sort(nums)
	n := len(nums)
	f.Edges = make([]float64, 0, min(bins+1, n))
	for i := 0; i <= bins; i++ {
		e := quantile(nums, float64(i)/float64(bins))
		if len(f.Edges) == 0 || e > f.Edges[len(f.Edges)-1] {
			f.Edges = append(f.Edges, e)
		}
	}
	f.Counts = make([]int64, len(f.Edges)+1)
	f.Sums = make([]float64, len(f.Edges)+1)
	for _, x := range nums {
		i := BinIndex(f.Edges, x)
		f.Counts[i]++
		f.Sums[i] += x
	}
	f.Min, f.Max = nums[0], nums[n-1]
	f.Mean, f.Std = meanStd(nums)
	f.Mean = min(max(f.Mean, f.Min), f.Max) // rounding must not move it out of range
	for _, s := range f.Sums {
		if math.IsInf(s, 0) {
			return errors.New("sum of values in a bin overflows float64")
		}
	}
	if math.IsInf(f.Mean, 0) || math.IsNaN(f.Mean) || math.IsInf(f.Std, 0) || math.IsNaN(f.Std) {
		return errors.New("mean or standard deviation of values overflows float64")
	}
	return nil
}

// quantile returns the q-quantile (0 <= q <= 1) of sorted, which must be
// ascending and not empty, as numpy.quantile computes it by default
// (method "linear", Hyndman and Fan's definition 7):
//
//	h = (n-1)·q,  Q(q) = x[⌊h⌋] + (h-⌊h⌋)·(x[⌊h⌋+1] - x[⌊h⌋])
//
// The interpolation is evaluated from the nearer end, as numpy's _lerp does,
// so that results match numpy to the last bit.
//
// Reference: R. J. Hyndman and Y. Fan, Sample Quantiles in Statistical
// Packages, The American Statistician 50(4), 1996.
func quantile(sorted []float64, q float64) float64 {
	n := len(sorted)
	h := float64(n-1) * q
	lo := math.Floor(h)
	if lo >= float64(n-1) {
		return sorted[n-1]
	}
	if lo < 0 {
		return sorted[0]
	}
	i := int(lo)
	a, b, t := sorted[i], sorted[i+1], h-lo
	d := b - a
	if math.IsInf(d, 0) {
		// a and b are of opposite sign near the float64 limits.
		return a*(1-t) + b*t
	}
	if t >= 0.5 {
		return b - d*(1-t)
	}
	return a + d*t
}

// meanStd returns the mean and the population standard deviation of x,
// which is sorted and not empty, by the corrected two-pass algorithm:
//
//	μ = Σx/n,  σ² = (Σ(x-μ)² - (Σ(x-μ))²/n) / n
//
// with a compensated (Neumaier) sum for Σx. Values beyond 2^500 in magnitude
// are scaled by a power of two first, so that the squares cannot overflow.
// Reference: T. F. Chan, G. H. Golub and R. J. LeVeque, Algorithms for
// Computing the Sample Variance, The American Statistician 37(3), 1983; as in
// gonum's stat.PopMeanVariance.
func meanStd(x []float64) (mean, std float64) {
	scale := 1.0
	if _, exp := math.Frexp(max(-x[0], x[len(x)-1])); exp > 500 {
		scale = math.Ldexp(1, exp-1) // 2^1024 is not a float64
	}
	var sum, comp float64
	for _, v := range x {
		v /= scale
		t := sum + v
		if math.Abs(sum) >= math.Abs(v) {
			comp += (sum - t) + v
		} else {
			comp += (v - t) + sum
		}
		sum = t
	}
	n := float64(len(x))
	mean = (sum + comp) / n
	var ss, s float64
	for _, v := range x {
		d := v/scale - mean
		ss += d * d
		s += d
	}
	variance := (ss - s*s/n) / n
	return mean * scale, math.Sqrt(max(variance, 0)) * scale
}

// capCategories returns the category counts of strs plus nums (formatted as
// consumer.Value.Text formats numbers), with all but the max-1 most frequent
// merged into OtherCategory when there are more than limit. It returns nil
// when there are none.
func capCategories(strs map[string]int64, nums []float64, limit int) map[string]int64 {
	if len(strs) == 0 && len(nums) == 0 {
		return nil
	}
	all := make(map[string]int64, len(strs)+min(len(nums), 64))
	for s, n := range strs {
		all[s] += n
	}
	for _, x := range nums {
		all[strconv.FormatFloat(x, 'g', -1, 64)]++
	}
	if len(all) <= limit {
		return all
	}
	out := make(map[string]int64, limit)
	for i, v := range byFrequency(all) {
		if i < limit-1 {
			out[v] += all[v]
		} else {
			out[OtherCategory] += all[v]
		}
	}
	return out
}

// byFrequency returns the keys of counts, the most frequent first, ties in
// the keys' order.
func byFrequency[N cmp.Ordered](counts map[string]N) []string {
	keys := make([]string, 0, len(counts))
	for k := range counts {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b string) int {
		if c := cmp.Compare(counts[b], counts[a]); c != 0 {
			return c
		}
		return cmp.Compare(a, b)
	})
	return keys
}

// binErrors sums the errors of pairs per bin of the prediction pred
// (exactly: stats.Sum, rounded once), so the result does not depend on the
// rows' order; nil when a sum overflows.
func binErrors(pred *Feature, pairs []errPair) *BinErrorSums {
	k := len(pred.Edges) + 1
	out := &BinErrorSums{N: make([]int64, k), SumAbs: make([]float64, k), SumSq: make([]float64, k), SumQuad: make([]float64, k)}
	abs, sq, quad := make([]stats.Sum, k), make([]stats.Sum, k), make([]stats.Sum, k)
	for _, p := range pairs {
		i := pred.Bin(p.x)
		e2 := p.e * p.e
		out.N[i]++
		abs[i].Add(math.Abs(p.e))
		sq[i].Add(e2)
		quad[i].Add(e2 * e2)
	}
	for i := range k {
		out.SumAbs[i], out.SumSq[i], out.SumQuad[i] = abs[i].Value(), sq[i].Value(), quad[i].Value()
		if math.IsInf(out.SumQuad[i], 0) {
			return nil // errors past 1e77: their fourth powers overflow, no estimate
		}
	}
	return out
}
