package baselines

import (
	"cmp"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"sync"

	"github.com/driftwatch/driftwatch/stats/multivariate"
)

// Defaults and bounds of the multivariate model (Baseline.Multivariate).
const (
	// DefaultMultivariateRows is BuildOptions.MultivariateRows' default:
	// the reference rows the model is fitted on, at most.
	DefaultMultivariateRows = 50_000
	// MultivariateSampleRows is how many reference rows the model keeps
	// for the domain classifier (Multivariate.Sample).
	MultivariateSampleRows = 2000
	// MaxMultivariateFeatures bounds the features of the model: the
	// baseline's first, in its (name) order.
	MaxMultivariateFeatures = 64
	// MaxMultivariateCategories bounds a categorical feature's encoded
	// categories: the most frequent in the fitted rows (ties by name);
	// the others encode as unseen (frequency 0).
	MaxMultivariateCategories = 1000
	// VarianceShare is the share of the standardized rows' variance the
	// reconstruction keeps (NannyML's default n_components=0.65).
	VarianceShare = 0.65
	// ErrorBlock is how many consecutive fitted rows each of
	// Multivariate.BlockErrors averages.
	ErrorBlock = 25
	// ErrorCapQuantile is the quantile of the reference's row errors
	// that caps a row's error (Multivariate.ErrorCap).
	ErrorCapQuantile = 0.999
)

// Multivariate is the reference's model of whole rows, for multivariate
// drift (package stats/drift): how each feature is encoded into a number
// and standardized, fitted on up to DefaultMultivariateRows reference rows
// as NannyML's DataReconstructionDriftCalculator fits its pipeline
// (imputation, frequency encoding, standardization, PCA keeping
// VarianceShare of the variance); the reconstruction errors of the fitted
// rows, for thresholds; and a sample of reference rows for the domain
// classifier. Baselines built before it have none, and get no
// multivariate rows.
//
// A raw row holds, per feature of Features: a numeric feature's value, or
// a categorical one's code (its index in the feature's Categories; -1 for
// a category not among them), NaN for a missing value. Encode turns it
// into the standardized row the PCA was fitted on.
type Multivariate struct {
	Features []MultivariateFeature `json:"features"`
	// FitRows is how many reference rows it was fitted on: all of them up
	// to the build's cap, past it those of smallest hash of their row
	// number (a uniform sample), in reference order.
	FitRows int64 `json:"fit_rows"`
	// Mean, Components and Variances are the PCA of the fitted rows'
	// standardized encodings (multivariate.PCA): every principal axis; the
	// reconstruction uses the first Kept.
	Mean       []float64   `json:"mean"`
	Components [][]float64 `json:"components"`
	Variances  []float64   `json:"variances"`
	Kept       int         `json:"kept"`
	// BlockErrors are the mean reconstruction errors of consecutive
	// blocks of ErrorBlock fitted rows, in reference order (an incomplete
	// last block left out); ErrorMean and ErrorStd those of every fitted
	// row (standard deviation with divisor n-1). Each row's error is
	// cross-fitted: from the PCA of the rows of the other
	// CrossFitFolds - 1 folds (row r is in fold r mod CrossFitFolds), as
	// a window's rows are new to the model.
	BlockErrors Values  `json:"block_errors"`
	ErrorMean   float64 `json:"error_mean"`
	ErrorStd    float64 `json:"error_std"`
	// ErrorCap is the ErrorCapQuantile quantile of the fitted rows'
	// cross-fitted errors: a row's error counts at most it, in BlockErrors,
	// ErrorMean and ErrorStd as in a window's mean (see package
	// stats/drift).
	ErrorCap float64 `json:"error_cap"`
	// Sample holds up to MultivariateSampleRows raw rows of the reference
	// (the fitted rows of smallest hash, at most half of them, in
	// reference order), row-major, len(Features) values a row; AxesMean
	// and Axes are the principal axes of the other fitted rows'
	// encodings, which the domain classifier scores rows on. Empty with
	// fewer than 4 fitted rows.
	Sample   Values      `json:"sample"`
	AxesMean []float64   `json:"axes_mean,omitempty"`
	Axes     [][]float64 `json:"axes,omitempty"`
	// SamplePhases holds each Sample row's hour of the week (PhaseOf), when
	// every fitted row had a time: a window judged against a phase of a
	// cyclic reference (drift.seasonality) is compared with the sample's
	// rows of its phases.
	SamplePhases []uint8 `json:"sample_phases,omitempty"`

	once  sync.Once
	codes []map[string]int32 // per feature: category to code (categorical only)
	pca   multivariate.PCA
}

// MultivariateFeature is one feature's encoding. A numeric feature's value
// is its own, a missing one is Fill (the fitted rows' mean); a categorical
// feature's is its category's share of the fitted rows (Frequencies, after
// a missing value counted as Categories[FillCode], the most frequent),
// 0 for a category not among Categories. The value is then standardized:
// (v - Center) / Scale.
type MultivariateFeature struct {
	Name          string    `json:"name"`
	Kind          Kind      `json:"kind"`
	Fill          float64   `json:"fill,omitempty"`
	Categories    []string  `json:"categories,omitempty"`
	Frequencies   []float64 `json:"frequencies,omitempty"`
	FillCode      int       `json:"fill_code,omitempty"`
	Center, Scale float64
}

// Width is the number of values of a raw row.
func (m *Multivariate) Width() int { return len(m.Features) }

// Code returns the code of category v of feature j (categorical): its
// index in Categories, or -1.
func (m *Multivariate) Code(j int, v string) float64 {
	m.prepare()
	if c, ok := m.codes[j][v]; ok {
		return float64(c)
	}
	return -1
}

// PCA returns the model's principal components.
func (m *Multivariate) PCA() *multivariate.PCA {
	m.prepare()
	return &m.pca
}

func (m *Multivariate) prepare() {
	m.once.Do(func() {
		m.codes = make([]map[string]int32, len(m.Features))
		for j, f := range m.Features {
			if f.Kind == Categorical {
				m.codes[j] = make(map[string]int32, len(f.Categories))
				for i, c := range f.Categories {
					m.codes[j][c] = int32(i)
				}
			}
		}
		m.pca = multivariate.PCA{Mean: m.Mean, Components: m.Components, Variances: m.Variances}
	})
}

// Encode writes the standardized encoding of raw row raw into z (both of
// Width values): imputed, frequency-encoded, standardized.
func (m *Multivariate) Encode(raw, z []float64) {
	for j := range m.Features {
		f := &m.Features[j]
		v := raw[j]
		if f.Kind == Categorical {
			code := v
			if math.IsNaN(code) {
				code = float64(f.FillCode)
			}
			v = 0
			if c := int(code); code >= 0 && c < len(f.Frequencies) {
				v = f.Frequencies[c]
			}
		} else if math.IsNaN(v) || math.IsInf(v, 0) {
			v = f.Fill
		}
		z[j] = (v - f.Center) / f.Scale
	}
}

// validate checks m against its baseline's features.
func (m *Multivariate) validate(b *Baseline) error {
	d := len(m.Features)
	if d == 0 || d > MaxMultivariateFeatures {
		return fmt.Errorf("multivariate: %d features, want 1 to %d", d, MaxMultivariateFeatures)
	}
	seen := make(map[string]bool, d)
	for _, f := range m.Features {
		bf, ok := b.Feature(f.Name)
		if !ok || bf.Kind != f.Kind || seen[f.Name] {
			return fmt.Errorf("multivariate: feature %q is not a %s feature of the baseline, or repeated", f.Name, f.Kind)
		}
		seen[f.Name] = true
		if !(f.Scale > 0) || !finite(f.Center) || !finite(f.Scale) || !finite(f.Fill) {
			return fmt.Errorf("multivariate: feature %q: bad center %v, scale %v or fill %v", f.Name, f.Center, f.Scale, f.Fill)
		}
		if f.Kind == Categorical {
			if len(f.Categories) == 0 || len(f.Categories) > MaxMultivariateCategories || len(f.Frequencies) != len(f.Categories) ||
				f.FillCode < 0 || f.FillCode >= len(f.Categories) || !slices.IsSorted(f.Categories) {
				return fmt.Errorf("multivariate: feature %q: %d categories (sorted, at most %d), %d frequencies, fill code %d",
					f.Name, len(f.Categories), MaxMultivariateCategories, len(f.Frequencies), f.FillCode)
			}
			for i, c := range f.Categories {
				if i > 0 && c == f.Categories[i-1] {
					return fmt.Errorf("multivariate: feature %q: category %q twice", f.Name, c)
				}
				if q := f.Frequencies[i]; !(q >= 0 && q <= 1) {
					return fmt.Errorf("multivariate: feature %q: frequency %v", f.Name, q)
				}
			}
		} else if len(f.Categories) > 0 || len(f.Frequencies) > 0 {
			return fmt.Errorf("multivariate: numeric feature %q with categories", f.Name)
		}
	}
	if len(m.Mean) != d || len(m.Components) != d || len(m.Variances) != d || m.Kept < 1 || m.Kept > d {
		return fmt.Errorf("multivariate: PCA of %d features with %d means, %d components, %d variances, %d kept",
			d, len(m.Mean), len(m.Components), len(m.Variances), m.Kept)
	}
	for k, c := range m.Components {
		if len(c) != d || !finite(c...) || !finite(m.Variances[k], m.Mean[k]) || m.Variances[k] < 0 {
			return fmt.Errorf("multivariate: component %d: want %d finite values and a non-negative variance", k, d)
		}
	}
	if m.FitRows < 2 || !finite(m.ErrorMean, m.ErrorStd, m.ErrorCap) || m.ErrorMean < 0 || m.ErrorStd < 0 || m.ErrorCap < m.ErrorMean || !finite(m.BlockErrors...) {
		return errors.New("multivariate: fitted rows, errors or block errors out of range")
	}
	if len(m.Sample)%d != 0 || len(m.Sample)/d > MultivariateSampleRows {
		return fmt.Errorf("multivariate: sample of %d values is not whole rows of %d, at most %d", len(m.Sample), d, MultivariateSampleRows)
	}
	if len(m.SamplePhases) > 0 && len(m.SamplePhases) != len(m.Sample)/d || slices.ContainsFunc(m.SamplePhases, func(p uint8) bool { return int(p) >= PhasesPerWeek }) {
		return fmt.Errorf("multivariate: %d sample phases for %d rows, or a phase past %d", len(m.SamplePhases), len(m.Sample)/d, PhasesPerWeek-1)
	}
	if len(m.Sample) > 0 && (len(m.AxesMean) != d || len(m.Axes) != d || !finite(m.AxesMean...)) {
		return fmt.Errorf("multivariate: a sample without the %d classifier axes", d)
	}
	for _, a := range m.Axes {
		if len(a) != d || !finite(a...) {
			return fmt.Errorf("multivariate: a classifier axis of %d values, want %d finite", len(a), d)
		}
	}
	for i, v := range m.Sample {
		f := &m.Features[i%d]
		if f.Kind == Categorical && !math.IsNaN(v) && (v != math.Trunc(v) || v < -1 || v >= float64(len(f.Categories))) {
			return fmt.Errorf("multivariate: sample value %v of feature %q is not a code", v, f.Name)
		}
		if math.IsInf(v, 0) {
			return fmt.Errorf("multivariate: sample value %v of feature %q", v, f.Name)
		}
	}
	return nil
}

func finite(xs ...float64) bool {
	for _, x := range xs {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return false
		}
	}
	return true
}

// Values are float64s written in JSON as the base64 of their little-endian
// IEEE 754 form (NaN included, which JSON numbers cannot hold): 8 bytes a
// value, about 11 characters.
type Values []float64

// MarshalJSON writes v as a base64 string.
func (v Values) MarshalJSON() ([]byte, error) {
	b := make([]byte, 8*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint64(b[8*i:], math.Float64bits(x))
	}
	return json.Marshal(base64.StdEncoding.EncodeToString(b))
}

// UnmarshalJSON reads the base64 form MarshalJSON writes.
func (v *Values) UnmarshalJSON(data []byte) error {
	var s string
	if err := json.Unmarshal(data, &s); err != nil {
		return fmt.Errorf("values: %w", err)
	}
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return fmt.Errorf("values: %w", err)
	}
	if len(b)%8 != 0 {
		return fmt.Errorf("values: %d bytes is not a whole number of float64", len(b))
	}
	out := make(Values, len(b)/8)
	for i := range out {
		out[i] = math.Float64frombits(binary.LittleEndian.Uint64(b[8*i:]))
	}
	*v = out
	return nil
}

// RowHash is the hash that orders rows for bottom-k sampling: FNV-1a of
// s, then the finalizer of SplitMix64 (Steele, Lea and Flood 2014), so that
// ids that differ in their last characters (sequential ids) spread over
// the whole range. The windows stage samples a window's records by it
// (of their prediction_id); the builder its reference rows (of their
// number).
func RowHash(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return Mix64(h)
}

// Mix64 is SplitMix64's finalizer, a bijection of uint64 that spreads
// every input bit over the output.
func Mix64(z uint64) uint64 {
	z ^= z >> 30
	z *= 0xbf58476d1ce4e5b9
	z ^= z >> 27
	z *= 0x94d049bb133111eb
	return z ^ z>>31
}

// mvCollector keeps the rows a Builder fits the multivariate model on:
// those of smallest Mix64(row number), at most limit, whatever the
// reference's length; up to twice that between prunings.
type mvCollector struct {
	limit int
	cut   uint64 // rows hashing above it cannot be among the kept
	full  bool   // cut is set
	rows  []mvRow
	at    int64 // the row number decided last (-1: none)
	cur   int   // its index in rows, or -1 when it is not collected
}

type mvRow struct {
	hash  uint64
	row   int64
	phase int // its hour of the week (PhaseOf), -1 without a time
	vals  []mvValue
}

// mvValue is one value of a collected row: a number, or the id of a
// string in its column.
type mvValue struct {
	col *column
	num float64
	str int32 // -1: a number
}

// decide decides row number row (of the given phase, -1 for none), at
// its first value or its end: collected unless its hash is past the cut.
func (m *mvCollector) decide(row int64, phase int) {
	if m.at == row {
		return
	}
	m.at, m.cur = row, -1
	h := Mix64(uint64(row))
	if m.full && h > m.cut {
		return
	}
	m.rows = append(m.rows, mvRow{hash: h, row: row, phase: phase})
	m.cur = len(m.rows) - 1
}

// value records a feature's value in row (of the given phase): a number
// (str -1; NaN for none) or the id of a string of col.
func (m *mvCollector) value(row int64, phase int, col *column, num float64, str int32) {
	m.decide(row, phase)
	if m.cur >= 0 {
		r := &m.rows[m.cur]
		r.vals = append(r.vals, mvValue{col: col, num: num, str: str})
	}
}

// prune keeps the limit rows of smallest hash.
func (m *mvCollector) prune() {
	if len(m.rows) <= m.limit {
		return
	}
	slices.SortFunc(m.rows, func(a, b mvRow) int { return cmp.Compare(a.hash, b.hash) })
	clear(m.rows[m.limit:])
	m.rows = m.rows[:m.limit]
	m.cut, m.full = m.rows[m.limit-1].hash, true
}

// endRow closes row number row of the given phase (decided now if it had
// no value), pruning past twice the limit.
func (m *mvCollector) endRow(row int64, phase int) {
	m.decide(row, phase)
	if len(m.rows) >= 2*m.limit {
		m.prune()
	}
}

// fitMultivariate fits the multivariate model on the collected rows, for
// the baseline's features (b.Features, summarized). It returns nil when
// there are fewer than two rows or no feature with values.
func (bld *Builder) fitMultivariate(b *Baseline) (*Multivariate, error) {
	m := bld.mv
	if m == nil {
		return nil, nil
	}
	m.prune()
	if len(m.rows) < 2 {
		return nil, nil
	}
	rows := slices.Clone(m.rows)
	slices.SortFunc(rows, func(a, b mvRow) int { return cmp.Compare(a.row, b.row) })
	n := len(rows)
	// The raw values, by feature: numbers, or category texts.
	type feat struct {
		name string
		kind Kind
		col  *column
		nums []float64 // NaN: missing
		strs []string  // "" with has false: missing
		has  []bool
	}
	var feats []*feat
	for i := range b.Features {
		bf := &b.Features[i]
		if bf.Count == 0 || len(feats) == MaxMultivariateFeatures {
			continue
		}
		f := &feat{name: bf.Name, kind: bf.Kind, col: bld.features[bf.Name]}
		if f.kind == Numeric {
			f.nums = make([]float64, n)
			for r := range f.nums {
				f.nums[r] = math.NaN()
			}
		} else {
			f.strs, f.has = make([]string, n), make([]bool, n)
		}
		feats = append(feats, f)
	}
	byCol := make(map[*column]*feat, len(feats))
	for _, f := range feats {
		byCol[f.col] = f
	}
	for r, row := range rows {
		for _, v := range row.vals {
			f := byCol[v.col]
			switch {
			case f == nil:
			case f.kind == Numeric:
				f.nums[r] = v.num
			case v.str >= 0:
				f.strs[r], f.has[r] = v.col.names[v.str], true
			default:
				f.strs[r], f.has[r] = strconv.FormatFloat(v.num, 'g', -1, 64), true
			}
		}
	}
	mv := &Multivariate{FitRows: int64(n)}
	raw := make([][]float64, 0, len(feats)) // per feature: the raw row values
	for _, f := range feats {
		mf, col, ok := encodeFeature(f.name, f.kind, f.nums, f.strs, f.has)
		if !ok {
			continue
		}
		mv.Features = append(mv.Features, mf)
		raw = append(raw, col)
	}
	d := len(mv.Features)
	if d == 0 {
		return nil, nil
	}
	rawRow := func(r int, dst []float64) {
		for j := range d {
			dst[j] = raw[j][r]
		}
	}
	z := make([]float64, n*d)
	buf := make([]float64, d)
	for r := range n {
		rawRow(r, buf)
		mv.Encode(buf, z[r*d:(r+1)*d])
	}
	pca, err := multivariate.FitPCA(z, n, d)
	if err != nil {
		return nil, fmt.Errorf("multivariate model: %w", err)
	}
	for k := range pca.Components {
		if !finite(pca.Components[k]...) || !finite(pca.Variances[k]) {
			return nil, nil // overflow in extreme values: no model, as for a feature without values
		}
	}
	mv.Mean, mv.Components, mv.Variances = pca.Mean, pca.Components, pca.Variances
	mv.Kept = pca.Keep(VarianceShare)
	// The reference's errors, cross-fitted: each fold's rows' from the PCA
	// of the other folds' rows (with the model's number of components).
	// Errors of the very rows a PCA was fitted on are lower than those of
	// new rows (the fit also fits their noise, most where a few heavy-tailed
	// values steer the trailing axes), so windows, which are always new
	// rows, would read above thresholds from in-sample errors more often
	// than their stated rate.
	errs := make([]float64, n)
	if err := crossFitErrors(z, n, d, mv.Kept, errs); err != nil {
		return nil, err
	}
	if n < 2*CrossFitFolds { // too few rows to leave a fold out: in-sample errors
		for r := range n {
			errs[r] = pca.ReconstructionError(z[r*d:(r+1)*d], mv.Kept, buf)
		}
	}
	sorted := slices.Clone(errs)
	slices.Sort(sorted)
	mv.ErrorCap = sorted[min(n-1, int(math.Ceil(ErrorCapQuantile*float64(n)))-1)]
	var sum float64
	for r, e := range errs {
		errs[r] = min(e, mv.ErrorCap)
		sum += errs[r]
	}
	mv.ErrorMean = sum / float64(n)
	var ss float64
	for _, e := range errs {
		ss += (e - mv.ErrorMean) * (e - mv.ErrorMean)
	}
	mv.ErrorStd = math.Sqrt(ss / float64(n-1))
	for s := 0; s+ErrorBlock <= n; s += ErrorBlock {
		var bs float64
		for _, e := range errs[s : s+ErrorBlock] {
			bs += e
		}
		mv.BlockErrors = append(mv.BlockErrors, bs/ErrorBlock)
	}
	// The classifier's sample: the rows of smallest hash, at most half of
	// them, in reference order; and the principal axes of the other rows,
	// which its columns are scores on (axes fitted on the sample's own rows
	// would make their trailing scores smaller than any window's).
	pick := make([]int, n)
	for i := range pick {
		pick[i] = i
	}
	slices.SortFunc(pick, func(a, b int) int { return cmp.Compare(rows[a].hash, rows[b].hash) })
	rest := slices.Clone(pick[min(n/2, MultivariateSampleRows):])
	pick = pick[:min(n/2, MultivariateSampleRows)]
	slices.Sort(pick)
	if len(pick) >= 2 && len(rest) >= 2 {
		other := make([]float64, 0, len(rest)*d)
		for _, r := range rest {
			other = append(other, z[r*d:(r+1)*d]...)
		}
		ax, err := multivariate.FitPCA(other, len(rest), d)
		if err != nil {
			return nil, fmt.Errorf("multivariate model: classifier axes: %w", err)
		}
		mv.AxesMean, mv.Axes = ax.Mean, ax.Components
		mv.Sample = make(Values, 0, len(pick)*d)
		timed := true
		for _, r := range pick {
			rawRow(r, buf)
			mv.Sample = append(mv.Sample, buf...)
			timed = timed && rows[r].phase >= 0
		}
		if timed {
			mv.SamplePhases = make([]uint8, len(pick))
			for k, r := range pick {
				mv.SamplePhases[k] = uint8(rows[r].phase)
			}
		}
	}
	return mv, nil
}

// CrossFitFolds is how many folds the reference's reconstruction errors
// are cross-fitted over (Multivariate.BlockErrors).
const CrossFitFolds = 10

// crossFitErrors sets errs[r] to the reconstruction error of row r of the
// n x d rows z from the first q principal components of the rows of the
// other folds (row r is in fold r mod CrossFitFolds); with fewer than
// 2*CrossFitFolds rows it does nothing.
func crossFitErrors(z []float64, n, d, q int, errs []float64) error {
	if n < 2*CrossFitFolds {
		return nil
	}
	k := CrossFitFolds
	other := make([]float64, 0, n*d)
	buf := make([]float64, d)
	for f := range k {
		other = other[:0]
		for r := range n {
			if r%k != f {
				other = append(other, z[r*d:(r+1)*d]...)
			}
		}
		pca, err := multivariate.FitPCA(other, len(other)/d, d)
		if err != nil {
			return fmt.Errorf("multivariate model: cross-fit: %w", err)
		}
		for r := f; r < n; r += k {
			errs[r] = pca.ReconstructionError(z[r*d:(r+1)*d], q, buf)
		}
	}
	return nil
}

// encodeFeature fits one feature's encoding on its fitted rows' values
// (nums for a numeric feature, NaN missing; strs where has for a
// categorical one) and returns it with the rows' raw values (codes for a
// categorical feature); false when no row has a value.
func encodeFeature(name string, kind Kind, nums []float64, strs []string, has []bool) (MultivariateFeature, []float64, bool) {
	f := MultivariateFeature{Name: name, Kind: kind}
	var enc, raw []float64
	if kind == Numeric {
		var s float64
		var k int
		for _, x := range nums {
			if !math.IsNaN(x) {
				s += x
				k++
			}
		}
		if k == 0 {
			return f, nil, false
		}
		f.Fill = s / float64(k)
		raw = nums
		enc = make([]float64, len(nums))
		for r, x := range nums {
			if math.IsNaN(x) {
				x = f.Fill
			}
			enc[r] = x
		}
	} else {
		counts := make(map[string]int)
		for r, ok := range has {
			if ok {
				counts[strs[r]]++
			}
		}
		if len(counts) == 0 {
			return f, nil, false
		}
		// The mode (sklearn's most_frequent: the smallest of ties) fills
		// the missing values; the most frequent categories are kept.
		kept := byFrequency(counts)
		kept = kept[:min(len(kept), MaxMultivariateCategories)]
		mode := kept[0]
		for _, ok := range has {
			if !ok {
				counts[mode]++
			}
		}
		f.Categories = append(f.Categories, kept...)
		slices.Sort(f.Categories)
		f.Frequencies = make([]float64, len(f.Categories))
		n := float64(len(has))
		for i, c := range f.Categories {
			f.Frequencies[i] = float64(counts[c]) / n
			if c == mode {
				f.FillCode = i
			}
		}
		raw = make([]float64, len(has))
		enc = make([]float64, len(has))
		for r, ok := range has {
			code := float64(f.FillCode)
			raw[r] = math.NaN()
			if ok {
				i, found := slices.BinarySearch(f.Categories, strs[r])
				code = -1
				if found {
					code = float64(i)
				}
				raw[r] = code
			}
			enc[r] = 0
			if code >= 0 {
				enc[r] = f.Frequencies[int(code)]
			}
		}
	}
	// sklearn's StandardScaler: population standard deviation, 1 for a
	// constant column.
	var s float64
	for _, v := range enc {
		s += v
	}
	f.Center = s / float64(len(enc))
	var ss float64
	for _, v := range enc {
		ss += (v - f.Center) * (v - f.Center)
	}
	f.Scale = math.Sqrt(ss / float64(len(enc)))
	if f.Scale == 0 {
		f.Scale = 1
	}
	// Values so large that their sums overflow: the feature is left out.
	return f, raw, finite(f.Center, f.Scale, f.Fill)
}
