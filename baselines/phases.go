package baselines

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/driftwatch/driftwatch/stats"
)

// PhasesPerWeek is the number of phases a baseline's time profile has: one
// per hour of the week, in UTC, Monday 00:00 first.
const PhasesPerWeek = 7 * 24

// Periods of a reference's cycle (Baseline.Cycle, drift.seasonality).
const (
	CycleDaily  = "daily"
	CycleWeekly = "weekly"
)

// minPhaseRows is the fewest reference rows a window's phases must hold to
// be its reference; with fewer, Phased falls back to the next coarser
// reference (weekly to daily to the whole).
const minPhaseRows = 100

// Phase is the part of the reference whose rows fell in one hour of the
// week: the same features, on the baseline's bins and categories (values
// of categories the baseline does not keep count under OtherCategory).
type Phase struct {
	Rows             int64                         `json:"rows"`
	Features         []PhaseFeature                `json:"features,omitempty"` // in Baseline.Features order
	Prediction       *PhaseFeature                 `json:"prediction,omitempty"`
	Label            *PhaseFeature                 `json:"label,omitempty"`
	Outcomes         map[string][]int64            `json:"outcomes,omitempty"`
	PredictionScores []int64                       `json:"prediction_scores,omitempty"`
	Groups           map[string]map[string][]int64 `json:"groups,omitempty"`
	Errors           *ErrorSums                    `json:"errors,omitempty"`
}

// PhaseFeature is one feature's reference values in one phase.
type PhaseFeature struct {
	Count      int64            `json:"count"`
	Nulls      int64            `json:"nulls"`
	Counts     []int64          `json:"counts,omitempty"`
	Sums       []float64        `json:"sums,omitempty"`
	Min        float64          `json:"min,omitempty"`
	Max        float64          `json:"max,omitempty"`
	Mean       float64          `json:"mean,omitempty"`
	Std        float64          `json:"std,omitempty"`
	Categories map[string]int64 `json:"categories,omitempty"`
}

// PhaseOf is the phase of time t: its hour of the week in UTC, Monday
// 00:00 to 00:59 first.
func PhaseOf(t time.Time) int {
	t = t.UTC()
	return (int(t.Weekday())+6)%7*24 + t.Hour()
}

// PhaseSet returns, for a reference Phased returned, which phases (hours
// of the week) it holds; nil for a whole reference.
func (b *Baseline) PhaseSet() []bool { return b.phaseSet }

// phaseCache holds a baseline's phased references by period and phases.
type phaseCache struct{ m sync.Map } // string -> *Baseline

// Phased returns the reference of a window [start, end) under period
// (CycleDaily, CycleWeekly; anything else: b itself): the reference rows
// of the hours of day (daily) or of week (weekly) the window covers, on
// b's bins and categories, as a Baseline whose ID is b's with the phases
// appended after "@". A window as long as the period, a baseline without
// a time profile, or phases holding fewer than minPhaseRows rows (a weekly
// profile of a reference shorter than a week) give the next coarser
// reference: weekly falls back to daily, daily to b. The result is cached
// in b and shared: do not modify it.
func (b *Baseline) Phased(start, end time.Time, period string) *Baseline {
	hours := int(math.Ceil(end.Sub(start.Truncate(time.Hour)).Hours()))
	if len(b.Phases) != PhasesPerWeek || hours <= 0 {
		return b
	}
	var span int
	switch period {
	case CycleWeekly:
		span = PhasesPerWeek
	case CycleDaily:
		span = 24
	default:
		return b
	}
	if hours >= span {
		return b
	}
	var in [PhasesPerWeek]bool
	first := PhaseOf(start)
	for h := range hours {
		p := (first + h) % PhasesPerWeek
		for q := p % span; q < PhasesPerWeek; q += span {
			in[q] = true
		}
	}
	var key strings.Builder
	key.WriteString(period)
	var rows int64
	for p, ok := range in {
		if ok {
			rows += b.Phases[p].Rows
			key.WriteString("," + strconv.Itoa(p))
		}
	}
	if rows < minPhaseRows {
		if period == CycleWeekly {
			return b.Phased(start, end, CycleDaily)
		}
		return b
	}
	if b.phased == nil {
		return b.merge(in[:], key.String())
	}
	if v, ok := b.phased.m.Load(key.String()); ok {
		return v.(*Baseline)
	}
	v, _ := b.phased.m.LoadOrStore(key.String(), b.merge(in[:], key.String()))
	return v.(*Baseline)
}

// merge returns the reference of the phases in, named by key.
func (b *Baseline) merge(in []bool, key string) *Baseline {
	m := &Baseline{Format: b.Format, ID: b.ID + "@" + key, Model: b.Model, ModelVersion: b.ModelVersion, CreatedAt: b.CreatedAt,
		Source: b.Source, Cycle: b.Cycle, Features: make([]Feature, len(b.Features)), phaseSet: slices.Clone(in)}
	var label PhaseFeature
	var hasLabel, hasPred bool
	pred := PhaseFeature{}
	feats := make([]PhaseFeature, len(b.Features))
	var errs ErrorSums
	for p, ok := range in {
		ph := &b.Phases[p]
		if !ok || ph.Rows == 0 {
			continue
		}
		m.Rows += ph.Rows
		for i := range feats {
			if i < len(ph.Features) {
				feats[i].add(&ph.Features[i])
			}
		}
		if ph.Prediction != nil {
			pred.add(ph.Prediction)
			hasPred = true
		}
		if ph.Label != nil {
			label.add(ph.Label)
			hasLabel = true
		}
		if ph.Outcomes != nil {
			if m.Outcomes == nil {
				m.Outcomes = &Outcomes{Bins: OutcomeBins, ByLabel: make(map[string][]int64)}
			}
			addBins(m.Outcomes.ByLabel, ph.Outcomes)
		}
		if ph.PredictionScores != nil {
			if m.PredictionScores == nil {
				m.PredictionScores = make([]int64, OutcomeBins)
			}
			for i, n := range ph.PredictionScores {
				m.PredictionScores[i] += n
			}
		}
		for attr, gs := range ph.Groups {
			if m.Groups == nil {
				m.Groups = make(map[string]map[string][]int64)
			}
			if m.Groups[attr] == nil {
				m.Groups[attr] = make(map[string][]int64)
			}
			addBins(m.Groups[attr], gs)
		}
		if e := ph.Errors; e != nil {
			errs.N, errs.SumAbs, errs.SumSq = errs.N+e.N, errs.SumAbs+e.SumAbs, errs.SumSq+e.SumSq
		}
	}
	for i := range b.Features {
		m.Features[i] = feats[i].feature(&b.Features[i])
	}
	m.Prediction = b.Prediction
	if hasPred {
		m.Prediction = pred.feature(&b.Prediction)
	}
	if b.Label != nil && hasLabel {
		l := label.feature(b.Label)
		m.Label = &l
	}
	if errs.N > 0 {
		m.Errors = &errs
	}
	return m
}

func addBins(dst, src map[string][]int64) {
	for k, bins := range src {
		d := dst[k]
		if d == nil {
			d = make([]int64, len(bins))
			dst[k] = d
		}
		for i, n := range bins {
			d[i] += n
		}
	}
}

// add pools o into f: counts and sums add, moments pool (Chan et al.).
func (f *PhaseFeature) add(o *PhaseFeature) {
	if o.Count > 0 && (o.Counts != nil || f.Counts != nil) {
		if f.Count == 0 {
			f.Min, f.Max = o.Min, o.Max
		} else {
			f.Min, f.Max = min(f.Min, o.Min), max(f.Max, o.Max)
		}
		n, m := float64(f.Count), float64(o.Count)
		d := o.Mean - f.Mean
		mean := f.Mean + d*m/(n+m)
		m2 := f.Std*f.Std*n + o.Std*o.Std*m + d*d*n*m/(n+m)
		f.Mean, f.Std = mean, math.Sqrt(m2/(n+m))
	}
	f.Count += o.Count
	f.Nulls += o.Nulls
	if o.Counts != nil {
		if f.Counts == nil {
			f.Counts, f.Sums = make([]int64, len(o.Counts)), make([]float64, len(o.Sums))
		}
		for i := range o.Counts {
			f.Counts[i] += o.Counts[i]
			f.Sums[i] += o.Sums[i]
		}
	}
	for k, n := range o.Categories {
		if f.Categories == nil {
			f.Categories = make(map[string]int64)
		}
		f.Categories[k] += n
	}
}

// feature is f as a Feature on whole's bins, without a Sample (a phase is
// not the reference in order).
func (f *PhaseFeature) feature(whole *Feature) Feature {
	out := Feature{Name: whole.Name, Kind: whole.Kind, Count: f.Count, Nulls: f.Nulls, Edges: whole.Edges}
	if whole.Kind == Numeric {
		out.Counts, out.Sums = f.Counts, f.Sums
		if out.Counts == nil {
			out.Counts, out.Sums = make([]int64, len(whole.Counts)), make([]float64, len(whole.Sums))
		}
		out.Min, out.Max, out.Mean, out.Std = f.Min, f.Max, f.Mean, f.Std
		return out
	}
	out.Categories = f.Categories
	if out.Categories == nil {
		out.Categories = make(map[string]int64)
	}
	return out
}

// validatePhases checks a time profile against the baseline it belongs to.
func (b *Baseline) validatePhases() error {
	if t := b.Traffic; t != nil && (len(b.Phases) == 0 || t.Until.Before(t.From)) {
		return fmt.Errorf("traffic from %s until %s: want phases and a span", t.From.Format(time.RFC3339), t.Until.Format(time.RFC3339))
	}
	if len(b.Phases) == 0 {
		if b.Cycle != "" {
			return fmt.Errorf("cycle %q without phases", b.Cycle)
		}
		return nil
	}
	if len(b.Phases) != PhasesPerWeek {
		return fmt.Errorf("phases: %d, want %d (one per hour of the week)", len(b.Phases), PhasesPerWeek)
	}
	switch b.Cycle {
	case "", CycleDaily, CycleWeekly:
	default:
		return fmt.Errorf("cycle %q is not daily, weekly or empty", b.Cycle)
	}
	check := func(p int, name string, f *PhaseFeature, whole *Feature) error {
		if f.Count < 0 || f.Nulls < 0 || len(f.Counts) != 0 && (len(f.Counts) != len(whole.Counts) || len(f.Sums) != len(f.Counts)) {
			return fmt.Errorf("phase %d: feature %q does not fit the baseline's bins", p, name)
		}
		return nil
	}
	for p := range b.Phases {
		ph := &b.Phases[p]
		if ph.Rows < 0 || len(ph.Features) != 0 && len(ph.Features) != len(b.Features) {
			return fmt.Errorf("phase %d: %d features, want %d", p, len(ph.Features), len(b.Features))
		}
		for i := range ph.Features {
			if err := check(p, b.Features[i].Name, &ph.Features[i], &b.Features[i]); err != nil {
				return err
			}
		}
		if ph.Prediction != nil {
			if err := check(p, PredictionName, ph.Prediction, &b.Prediction); err != nil {
				return err
			}
		}
		if n := len(ph.PredictionScores); n != 0 && n != OutcomeBins {
			return fmt.Errorf("phase %d: prediction_scores: want %d counts", p, OutcomeBins)
		}
	}
	return nil
}

// phaseAcc accumulates what a Builder keeps per phase besides columns.
type phaseAcc struct {
	outcomes map[string][]int64
	groups   map[string]map[string][]int64
	errN     int64
	errAbs   stats.Sum
	errSq    stats.Sum
}

// phaseValues sorts a numeric column's values with their phases (by
// value), so that the sort Build does keeps them aligned.
type phaseValues struct {
	x []float64
	p []uint8
}

func (v phaseValues) Len() int           { return len(v.x) }
func (v phaseValues) Less(i, j int) bool { return v.x[i] < v.x[j] }
func (v phaseValues) Swap(i, j int) {
	v.x[i], v.x[j] = v.x[j], v.x[i]
	v.p[i], v.p[j] = v.p[j], v.p[i]
}

var _ sort.Interface = phaseValues{}

// phases splits the built baseline bl's reference by phase, from the
// columns' values and their phases; names are bl.Features' names.
func (b *Builder) phases(bl *Baseline, names []string) []Phase {
	out := make([]Phase, PhasesPerWeek)
	for p := range out {
		if out[p].Rows = b.rowPhase[p]; out[p].Rows > 0 {
			out[p].Features = make([]PhaseFeature, len(names))
		}
	}
	for i, name := range names {
		fillPhases(b.features[name], &bl.Features[i], func(p int) *PhaseFeature { return &out[p].Features[i] })
	}
	if b.pred.seen {
		fillPhases(&b.pred, &bl.Prediction, func(p int) *PhaseFeature {
			if out[p].Prediction == nil {
				out[p].Prediction = new(PhaseFeature)
			}
			return out[p].Prediction
		})
		if bl.PredictionScores != nil && len(b.pred.numPhase) == len(b.pred.nums) {
			for k, x := range b.pred.nums {
				ph := &out[b.pred.numPhase[k]]
				if ph.PredictionScores == nil {
					ph.PredictionScores = make([]int64, OutcomeBins)
				}
				ph.PredictionScores[OutcomeBin(x)]++
			}
		}
	}
	if bl.Label != nil {
		fillPhases(&b.label, bl.Label, func(p int) *PhaseFeature {
			if out[p].Label == nil {
				out[p].Label = new(PhaseFeature)
			}
			return out[p].Label
		})
	}
	for p := range out {
		ph := &out[p]
		for i := range ph.Features {
			ph.Features[i].Nulls = ph.Rows - ph.Features[i].Count
		}
		for _, f := range []*PhaseFeature{ph.Prediction, ph.Label} {
			if f != nil {
				f.Nulls = ph.Rows - f.Count
			}
		}
		if b.acc == nil {
			continue
		}
		a := &b.acc[p]
		if bl.Outcomes != nil {
			ph.Outcomes = a.outcomes
		}
		if bl.Groups != nil {
			ph.Groups = a.groups
		}
		if a.errN > 0 && bl.Errors != nil {
			ph.Errors = &ErrorSums{N: a.errN, SumAbs: a.errAbs.Value(), SumSq: a.errSq.Value()}
		}
	}
	return out
}

// fillPhases adds column c's values to their phases' features (at), on
// whole's bins or categories. Numbers are sorted with their phases by
// then (summarize), so each phase sees its values in ascending order.
func fillPhases(c *column, whole *Feature, at func(p int) *PhaseFeature) {
	if !c.seen || len(c.numPhase) != len(c.nums) || len(c.strPhase) != len(c.order) {
		return
	}
	if whole.Kind == Numeric {
		var touched [PhasesPerWeek]bool
		for k, x := range c.nums {
			touched[c.numPhase[k]] = true
			f := at(int(c.numPhase[k]))
			if f.Counts == nil {
				f.Counts, f.Sums = make([]int64, len(whole.Counts)), make([]float64, len(whole.Sums))
				f.Min = x
			}
			j := BinIndex(whole.Edges, x)
			f.Counts[j]++
			f.Sums[j] += x
			f.Max = x
			// Welford; Std holds the sum of squared deviations until the end.
			f.Count++
			d := x - f.Mean
			f.Mean += d / float64(f.Count)
			f.Std += d * (x - f.Mean)
		}
		for p, ok := range touched {
			if ok {
				f := at(p)
				f.Std = math.Sqrt(max(f.Std, 0) / float64(f.Count))
			}
		}
		return
	}
	add := func(p int, name string) {
		if _, kept := whole.Categories[name]; !kept {
			name = OtherCategory
		}
		f := at(p)
		if f.Categories == nil {
			f.Categories = make(map[string]int64)
		}
		f.Categories[name]++
		f.Count++
	}
	for k, id := range c.order {
		add(int(c.strPhase[k]), c.names[id])
	}
	for k, x := range c.nums { // numbers among strings count as categories
		add(int(c.numPhase[k]), strconv.FormatFloat(x, 'g', -1, 64))
	}
}

// Cycle detection (Baseline.Cycle, drift.seasonality: auto).
const (
	// cyclePSI is how far, by PSI on the baseline's cells, the reference's
	// phases must differ on average from what they are compared with for a
	// subject to follow a cycle: a quarter of the default drift rule, so
	// that a cycle that would make hourly windows look drifted is found.
	cyclePSI = 0.05
	// cycleNoise: the average must also be this many times what sampling
	// noise alone gives, (cells-1)(1/n_phase + 1/n) per phase.
	cycleNoise = 3
)

// detectCycle finds the period of a reference's cycle from its phases,
// over the reference's span: weekly when it spans at least two weeks and
// some subject's hours of the week (of at least minPhaseRows rows) differ
// from the same hours of the day by cyclePSI on average, and more than
// cycleNoise times sampling noise; else daily when it spans at least two
// days and some subject's hours of the day differ from the whole reference
// that way; else none. The subjects are the features, the prediction and
// the label.
func detectCycle(bl *Baseline, span time.Duration) string {
	all := make([]bool, PhasesPerWeek)
	for p := range all {
		all[p] = true
	}
	daily := func(h int) *Baseline {
		in := make([]bool, PhasesPerWeek)
		for p := h; p < PhasesPerWeek; p += 24 {
			in[p] = true
		}
		return bl.merge(in, "")
	}
	days := make([]*Baseline, 24)
	for h := range days {
		days[h] = daily(h)
	}
	if span >= 14*24*time.Hour {
		var parts, wholes []*Baseline
		for p := range PhasesPerWeek {
			in := make([]bool, PhasesPerWeek)
			in[p] = true
			parts, wholes = append(parts, bl.merge(in, "")), append(wholes, days[p%24])
		}
		if cycles(parts, wholes) {
			return CycleWeekly
		}
	}
	if span >= 2*24*time.Hour {
		wholes := make([]*Baseline, 24)
		for h := range wholes {
			wholes[h] = bl
		}
		if cycles(days, wholes) {
			return CycleDaily
		}
	}
	return ""
}

// cycles says whether some subject of parts[i] differs from wholes[i]
// beyond cyclePSI and noise, on average over the parts of at least
// minPhaseRows rows.
func cycles(parts, wholes []*Baseline) bool {
	subjects := func(b *Baseline) []*Feature {
		out := make([]*Feature, 0, len(b.Features)+2)
		for i := range b.Features {
			out = append(out, &b.Features[i])
		}
		out = append(out, &b.Prediction)
		if b.Label != nil {
			out = append(out, b.Label)
		}
		return out
	}
	var sums, noise []float64
	var used []int
	for i, part := range parts {
		if part.Rows < minPhaseRows {
			continue
		}
		ps, ws := subjects(part), subjects(wholes[i])
		if sums == nil {
			sums, noise, used = make([]float64, len(ps)), make([]float64, len(ps)), make([]int, len(ps))
		}
		for j := range min(len(ps), len(ws), len(sums)) {
			ref, cur := cellsOf(ws[j], ws[j]), cellsOf(ps[j], ws[j])
			if len(ref) < 2 || ps[j].Count == 0 || ws[j].Count == 0 {
				continue
			}
			psi := stats.PSI(ref, cur, stats.DefaultPSIEpsilon)
			if math.IsNaN(psi) {
				continue
			}
			sums[j] += psi
			used[j]++
			noise[j] += float64(len(ref)-1) * (1/float64(ps[j].Count) + 1/float64(ws[j].Count))
		}
	}
	for j := range sums {
		if used[j] > 0 && sums[j]/float64(used[j]) >= max(cyclePSI, cycleNoise*noise[j]/float64(used[j])) {
			return true
		}
	}
	return false
}

// cellsOf is f's counts on the cells of like: its bins, or like's
// categories in a fixed order (f's categories that like lacks are left
// out).
func cellsOf(f, like *Feature) []float64 {
	if like.Kind == Numeric {
		out := make([]float64, len(f.Counts))
		for i, n := range f.Counts {
			out[i] = float64(n)
		}
		return out
	}
	names := make([]string, 0, len(like.Categories))
	for k := range like.Categories {
		names = append(names, k)
	}
	sort.Strings(names)
	out := make([]float64, len(names))
	for i, k := range names {
		out[i] = float64(f.Categories[k])
	}
	return out
}
