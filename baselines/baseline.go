// Package baselines holds the reference distributions that production windows
// are compared with: per feature its type, quantile bin edges and counts,
// category frequencies and null rate, and the same for the prediction. It
// builds them from reference rows, writes them as versioned JSON files and
// loads them back.
//
// It deliberately does not read Kafka or compute drift statistics: reference
// files are parsed by internal/reference, and comparisons live in stats.
package baselines

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"
)

// FormatVersion is the version of the baseline JSON layout this package
// writes. Load refuses files of a newer version.
const FormatVersion = 2

// Kind is how a feature is compared: as a number on bins or as a category.
type Kind string

// The kinds of feature.
const (
	Numeric     Kind = "numeric"
	Categorical Kind = "categorical"
)

// OtherCategory collects the categories past a feature's category cap, in the
// baseline and in window state alike.
const OtherCategory = "__other__"

// Baseline is the stored reference of one model. It is immutable once built
// and safe for concurrent reads.
type Baseline struct {
	Format       int       `json:"format"`
	ID           string    `json:"id"`
	Model        string    `json:"model"`
	ModelVersion string    `json:"model_version,omitempty"` // version the reference came from, if known
	CreatedAt    time.Time `json:"created_at"`
	Source       string    `json:"source"` // where the reference rows came from
	Rows         int64     `json:"rows"`
	Features     []Feature `json:"features"` // in schema order
	Prediction   Feature   `json:"prediction"`
	// Label is the reference's ground truth, categorical on its text, when
	// the reference had labels; Outcomes its scores by label, for the
	// reference's performance at any decision threshold.
	Label    *Feature  `json:"label,omitempty"`
	Outcomes *Outcomes `json:"outcomes,omitempty"`
	// PredictionScores counts a numeric prediction's reference values in
	// OutcomeBins equal bins over [0, 1] (values outside in the first or
	// last), for its positive rate at any decision threshold.
	PredictionScores []int64 `json:"prediction_scores,omitempty"`
	// Groups counts a numeric prediction's reference scores per segment
	// attribute and group, in OutcomeBins bins like PredictionScores: the
	// reference's selection rate per group at any threshold, for fairness
	// against the baseline.
	Groups map[string]map[string][]int64 `json:"groups,omitempty"`
	// GroupOutcomes counts, per attribute, group and label text, the
	// group's labelled reference scores in OutcomeBins bins like Outcomes:
	// the reference's confusion matrix per group at any decision
	// threshold (true and false positive rates, accuracy, precision). Each
	// count is also in Groups. Kept where Groups is and the reference's
	// scored labels have at most MaxGroupLabels texts (a classifier's);
	// the whole reference's only (phased references do not have it).
	GroupOutcomes map[string]map[string]map[string][]int64 `json:"group_outcomes,omitempty"`
	// Errors sums the reference's prediction errors where both the
	// prediction and the label are numbers: N pairs, the sum of |e| and of
	// e^2, e = prediction - label (MAE, RMSE; for a classifier's scores and
	// 0/1 labels, RMSE^2 is the Brier score).
	Errors *ErrorSums `json:"errors,omitempty"`
	// PredictionErrors sums the same errors per bin of a numeric
	// prediction (Prediction's bins, len(Edges)+1): how the reference's
	// predictions of each size erred, for the error estimated without
	// labels (stats/perf EstimateErrors). Absent from baselines built
	// before it and from references without numeric labels.
	PredictionErrors *BinErrorSums `json:"prediction_errors,omitempty"`
	// Phases is the time profile: the reference split by hour of the week
	// (PhaseOf), when every reference row had a time and they spanned at
	// least a day (format 2); Cycle is the period found in it (detectCycle):
	// CycleDaily, CycleWeekly or empty.
	Phases []Phase `json:"phases,omitempty"`
	Cycle  string  `json:"cycle,omitempty"`
	// Traffic, set when the reference was a production period of
	// ModelVersion's traffic (its time profile's rows are the records that
	// version served) and it has a time profile, spans its records' event
	// times: Phases' rows over the hours of the week the span covers are
	// that version's rate, the expected volume of its windows.
	Traffic *Traffic `json:"traffic,omitempty"`
	// Multivariate is the model of whole rows for multivariate drift,
	// fitted on the reference (built since it exists; nil before, or when
	// the build had none).
	Multivariate *Multivariate `json:"multivariate,omitempty"`

	phased   *phaseCache // Phased's results; nil: not cached
	phaseSet []bool      // of a phased reference: the phases it holds (PhaseSet)
}

// Traffic is the time span of a production reference's records: the
// first and the last event time.
type Traffic struct {
	From  time.Time `json:"from"`
	Until time.Time `json:"until"`
}

// ErrorSums are sums of prediction errors.
type ErrorSums struct {
	N      int64   `json:"n"`
	SumAbs float64 `json:"sum_abs"`
	SumSq  float64 `json:"sum_sq"`
}

// BinErrorSums are sums of prediction errors per prediction bin: N pairs,
// and the sums of |e|, e^2 and e^4 (e = prediction - label), one entry
// per bin each.
type BinErrorSums struct {
	N       []int64   `json:"n"`
	SumAbs  []float64 `json:"sum_abs"`
	SumSq   []float64 `json:"sum_sq"`
	SumQuad []float64 `json:"sum_quad"`
}

// LabelName is the name of the label's Feature.
const LabelName = "label"

// OutcomeBins is how many equal score bins over [0, 1] Outcomes has: a
// decision threshold that is a multiple of 1/OutcomeBins gives the
// reference's exact confusion matrix.
const OutcomeBins = 100

// OutcomeBin is the bin of score s: floor(s * OutcomeBins), scores outside
// [0, 1] in the first or the last bin (NaN in the first).
func OutcomeBin(s float64) int {
	switch {
	case !(s >= 0):
		return 0
	case s >= 1:
		return OutcomeBins - 1
	}
	return min(int(s*OutcomeBins), OutcomeBins-1)
}

// SelectedIn returns how many of the scores counted in bins (OutcomeBins
// bins, as PredictionScores, Outcomes and Groups keep them) are at or
// above threshold, and how many there are: exact when threshold is a
// multiple of 1/OutcomeBins.
func SelectedIn(bins []int64, threshold float64) (selected, total float64) {
	first := FirstSelectedBin(threshold)
	for i, n := range bins {
		total += float64(n)
		if i >= first {
			selected += float64(n)
		}
	}
	return selected, total
}

// FirstSelectedBin is the first of OutcomeBins bins whose scores are at or
// above threshold.
func FirstSelectedBin(threshold float64) int {
	return int(math.Ceil(threshold*OutcomeBins - 1e-9))
}

// Outcomes holds the reference's scored predictions by label text: per
// label, the count of scores in each of Bins equal bins over [0, 1].
type Outcomes struct {
	Bins    int                `json:"bins"`
	ByLabel map[string][]int64 `json:"by_label"`
}

// Feature is the reference distribution of one feature or of the prediction.
//
// A numeric feature has ascending, distinct Edges (quantiles of the reference,
// the smallest and the largest value among them) that cut the line into
// len(Edges)+1 bins: bin 0 is (-inf, Edges[0]), bin i is [Edges[i-1], Edges[i])
// and the last bin is [Edges[len-1], +inf). Counts and Sums hold the number
// and the sum of reference values in each bin, so that a bin's mean is known.
//
// A categorical feature has Categories: value to count, with values past the
// cap counted under OtherCategory.
type Feature struct {
	Name  string `json:"name"`
	Kind  Kind   `json:"kind"`
	Count int64  `json:"count"` // non-null values
	Nulls int64  `json:"nulls"`

	Edges  []float64 `json:"edges,omitempty"`
	Counts []int64   `json:"counts,omitempty"`
	Sums   []float64 `json:"sums,omitempty"`
	Min    float64   `json:"min,omitempty"`
	Max    float64   `json:"max,omitempty"`
	Mean   float64   `json:"mean,omitempty"`
	Std    float64   `json:"std,omitempty"` // population standard deviation

	Categories map[string]int64 `json:"categories,omitempty"`

	// Sample is the reference in order, reduced to cells, for calibrating
	// thresholds; nil in baselines built without one.
	Sample *Sample `json:"sample,omitempty"`
}

// NullRate is the share of reference rows in which the feature was missing.
func (f *Feature) NullRate() float64 {
	if n := f.Count + f.Nulls; n > 0 {
		return float64(f.Nulls) / float64(n)
	}
	return 0
}

// Bin returns the index of the bin of f's Edges that holds x (see Feature).
func (f *Feature) Bin(x float64) int {
	return BinIndex(f.Edges, x)
}

// BinIndex returns the number of edges less than or equal to x: the bin that
// holds x when ascending edges cut the line into len(edges)+1 bins.
func BinIndex(edges []float64, x float64) int {
	return sort.Search(len(edges), func(i int) bool { return edges[i] > x })
}

// Feature returns the named feature and whether the baseline has it.
func (b *Baseline) Feature(name string) (*Feature, bool) {
	for i := range b.Features {
		if b.Features[i].Name == name {
			return &b.Features[i], true
		}
	}
	return nil, false
}

// Validate checks the invariants the pipeline relies on.
func (b *Baseline) Validate() error {
	if b.Format > FormatVersion {
		return fmt.Errorf("baseline %s: format %d is newer than this driftwatch understands (%d)", b.ID, b.Format, FormatVersion)
	}
	if b.Format < 1 {
		return fmt.Errorf("baseline %s: format is missing (want 1 to %d)", b.ID, FormatVersion)
	}
	if b.ID == "" || b.Model == "" {
		return errors.New("baseline: id and model are required")
	}
	if len(b.Features) == 0 {
		return fmt.Errorf("baseline %s: no features", b.ID)
	}
	seen := make(map[string]bool, len(b.Features))
	for i := range b.Features {
		f := &b.Features[i]
		if seen[f.Name] {
			return fmt.Errorf("baseline %s: feature %q twice", b.ID, f.Name)
		}
		seen[f.Name] = true
		if err := f.validate(); err != nil {
			return fmt.Errorf("baseline %s: %w", b.ID, err)
		}
	}
	if err := b.Prediction.validate(); err != nil {
		return fmt.Errorf("baseline %s: %w", b.ID, err)
	}
	if b.Label != nil {
		if err := b.Label.validate(); err != nil {
			return fmt.Errorf("baseline %s: %w", b.ID, err)
		}
		if b.Label.Kind != Categorical {
			return fmt.Errorf("baseline %s: label must be categorical (its text), got %s", b.ID, b.Label.Kind)
		}
	}
	if n := len(b.PredictionScores); n != 0 && (n != OutcomeBins || slices.ContainsFunc(b.PredictionScores, func(c int64) bool { return c < 0 })) {
		return fmt.Errorf("baseline %s: prediction_scores: want %d non-negative counts", b.ID, OutcomeBins)
	}
	for attr, gs := range b.Groups {
		for g, bins := range gs {
			if len(bins) != OutcomeBins || slices.ContainsFunc(bins, func(c int64) bool { return c < 0 }) {
				return fmt.Errorf("baseline %s: groups %s=%s: want %d non-negative counts", b.ID, attr, g, OutcomeBins)
			}
		}
	}
	for attr, gs := range b.GroupOutcomes {
		for g, byLabel := range gs {
			all, ok := b.Groups[attr][g]
			if !ok {
				return fmt.Errorf("baseline %s: group_outcomes %s=%s: not in groups", b.ID, attr, g)
			}
			sum := make([]int64, OutcomeBins)
			for label, bins := range byLabel {
				if len(bins) != OutcomeBins || slices.ContainsFunc(bins, func(c int64) bool { return c < 0 }) {
					return fmt.Errorf("baseline %s: group_outcomes %s=%s of label %q: want %d non-negative counts", b.ID, attr, g, label, OutcomeBins)
				}
				for i, n := range bins {
					sum[i] += n
				}
			}
			for i := range sum {
				if sum[i] > all[i] {
					return fmt.Errorf("baseline %s: group_outcomes %s=%s: %d labelled scores in bin %d, more than groups' %d", b.ID, attr, g, sum[i], i, all[i])
				}
			}
		}
	}
	if e := b.PredictionErrors; e != nil {
		k := len(b.Prediction.Edges) + 1
		if b.Prediction.Kind != Numeric || len(b.Prediction.Edges) == 0 {
			return fmt.Errorf("baseline %s: prediction_errors without a numeric prediction", b.ID)
		}
		if len(e.N) != k || len(e.SumAbs) != k || len(e.SumSq) != k || len(e.SumQuad) != k {
			return fmt.Errorf("baseline %s: prediction_errors: want %d bins (the prediction's)", b.ID, k)
		}
		for i, n := range e.N {
			if n < 0 || !(e.SumAbs[i] >= 0 && e.SumSq[i] >= 0 && e.SumQuad[i] >= 0) || math.IsInf(e.SumQuad[i], 1) || n == 0 && e.SumAbs[i] != 0 {
				return fmt.Errorf("baseline %s: prediction_errors: bin %d: want a non-negative count and finite non-negative sums", b.ID, i)
			}
		}
	}
	if err := b.validatePhases(); err != nil {
		return fmt.Errorf("baseline %s: %w", b.ID, err)
	}
	if b.Multivariate != nil {
		if err := b.Multivariate.validate(b); err != nil {
			return fmt.Errorf("baseline %s: %w", b.ID, err)
		}
	}
	if o := b.Outcomes; o != nil {
		if o.Bins != OutcomeBins {
			return fmt.Errorf("baseline %s: outcomes have %d bins, want %d", b.ID, o.Bins, OutcomeBins)
		}
		for label, bins := range o.ByLabel {
			if len(bins) != o.Bins || slices.ContainsFunc(bins, func(n int64) bool { return n < 0 }) {
				return fmt.Errorf("baseline %s: outcomes of label %q: want %d non-negative counts", b.ID, label, o.Bins)
			}
		}
	}
	return nil
}

func (f *Feature) validate() error {
	if f.Count < 0 || f.Nulls < 0 {
		return fmt.Errorf("feature %q: negative count", f.Name)
	}
	switch f.Kind {
	case Numeric:
		if len(f.Edges) == 0 {
			if f.Count > 0 {
				return fmt.Errorf("feature %q: numeric with values but no bin edges", f.Name)
			}
			return nil
		}
		for i := 1; i < len(f.Edges); i++ {
			if !(f.Edges[i] > f.Edges[i-1]) {
				return fmt.Errorf("feature %q: bin edges not strictly ascending at %d", f.Name, i)
			}
		}
		if len(f.Counts) != len(f.Edges)+1 || len(f.Sums) != len(f.Edges)+1 {
			return fmt.Errorf("feature %q: %d edges need %d counts and sums, have %d and %d",
				f.Name, len(f.Edges), len(f.Edges)+1, len(f.Counts), len(f.Sums))
		}
		for _, e := range f.Edges {
			if math.IsNaN(e) || math.IsInf(e, 0) {
				return fmt.Errorf("feature %q: bin edge %v is not finite", f.Name, e)
			}
		}
		var n int64
		for _, c := range f.Counts {
			if c < 0 {
				return fmt.Errorf("feature %q: negative bin count", f.Name)
			}
			n += c
		}
		if n != f.Count {
			return fmt.Errorf("feature %q: bin counts add up to %d, count is %d", f.Name, n, f.Count)
		}
	case Categorical:
		if len(f.Edges) > 0 {
			return fmt.Errorf("feature %q: categorical with bin edges", f.Name)
		}
	default:
		return fmt.Errorf("feature %q: unknown kind %q", f.Name, f.Kind)
	}
	if f.Sample != nil {
		return f.Sample.Validate(f)
	}
	return nil
}

// Save writes b as indented JSON to path, through a temporary file in the
// same directory that is synced and renamed into place, so that readers never
// see half a baseline and a crash leaves the old file or the new one.
func (b *Baseline) Save(path string) (err error) {
	data, err := json.MarshalIndent(b, "", "  ")
	if err != nil {
		return fmt.Errorf("encode baseline %s: %w", b.ID, err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".baseline-*.tmp")
	if err != nil {
		return fmt.Errorf("write baseline %s: %w", b.ID, err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if _, err = tmp.Write(append(data, '\n')); err != nil {
		return fmt.Errorf("write baseline %s: %w", b.ID, err)
	}
	if err = tmp.Sync(); err != nil {
		return fmt.Errorf("sync baseline %s: %w", b.ID, err)
	}
	if err = tmp.Close(); err != nil {
		return fmt.Errorf("write baseline %s: %w", b.ID, err)
	}
	if err = os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write baseline %s: %w", b.ID, err)
	}
	return nil
}

// Load reads and validates one baseline file (see Decode).
func Load(path string) (*Baseline, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read baseline: %w", err)
	}
	return Decode(data, path)
}

// Decode reads and validates one baseline document, as Save writes it
// (one JSON object, no unknown fields), from wherever it was kept: a
// file, or the document column of ClickHouse's baselines table. name says
// where it came from, in errors.
func Decode(data []byte, name string) (*Baseline, error) {
	var b Baseline
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&b); err != nil {
		return nil, fmt.Errorf("decode baseline %s: %w", name, err)
	}
	if dec.More() {
		return nil, fmt.Errorf("decode baseline %s: data after the baseline object", name)
	}
	if err := b.Validate(); err != nil {
		return nil, fmt.Errorf("load %s: %w", name, err)
	}
	b.phased = new(phaseCache)
	return &b, nil
}

// VersionKey is the key under which LoadDir returns the baseline of one
// model version: model and version joined by a NUL byte, which neither
// holds in practice.
func VersionKey(model, version string) string { return model + "\x00" + version }

// DropVersions removes the version-specific baselines of model from set,
// so that set[model] serves all its versions (an explicit choice).
func DropVersions(set map[string]*Baseline, model string) {
	for key := range set {
		if strings.HasPrefix(key, model+"\x00") {
			delete(set, key)
		}
	}
}

// For returns the baseline a record of model and version is compared with:
// the version's own (VersionKey), else the model's; nil if neither.
func For(set map[string]*Baseline, model, version string) *Baseline {
	if b, ok := set[VersionKey(model, version)]; ok {
		return b
	}
	return set[model]
}

// LoadDir loads every *.json baseline in dir and keeps, per model, the
// promoted one (see Promote), else the one created last (ties broken by
// id), keyed by model; and, unless the model has a promoted baseline, per
// model version that has baselines of its own (ModelVersion set), the
// newest of them, keyed by VersionKey. For picks from the result.
func LoadDir(dir string) (map[string]*Baseline, error) {
	all, err := List(dir)
	if err != nil {
		return nil, err
	}
	return InUse(dir, all)
}

// InUse is LoadDir's choice among all, the baselines List read from dir
// (for callers that need both without reading every file twice).
func InUse(dir string, all []*Baseline) (map[string]*Baseline, error) {
	promoted, err := readPromoted(dir)
	if err != nil {
		return nil, err
	}
	out := make(map[string]*Baseline)
	newer := func(key string, b *Baseline) {
		if cur, ok := out[key]; !ok || b.CreatedAt.After(cur.CreatedAt) ||
			(b.CreatedAt.Equal(cur.CreatedAt) && b.ID > cur.ID) {
			out[key] = b
		}
	}
	for _, b := range all {
		newer(b.Model, b)
		if b.ModelVersion != "" {
			newer(VersionKey(b.Model, b.ModelVersion), b)
		}
	}
	for model, id := range promoted {
		i := slices.IndexFunc(all, func(b *Baseline) bool { return b.ID == id })
		if i < 0 || all[i].Model != model {
			return nil, fmt.Errorf("baselines in %s: %s promotes %s for model %s, but there is no such baseline of that model", dir, promotedFile, id, model)
		}
		out[model] = all[i]
		DropVersions(out, model) // a promoted baseline serves every version of its model
	}
	return out, nil
}

// List loads every *.json baseline in dir, ordered by model, then creation
// time, then id.
func List(dir string) ([]*Baseline, error) {
	paths, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		return nil, fmt.Errorf("list baselines in %s: %w", dir, err)
	}
	out := make([]*Baseline, 0, len(paths))
	for _, p := range paths {
		b, err := Load(p)
		if err != nil {
			return nil, err
		}
		out = append(out, b)
	}
	slices.SortFunc(out, func(a, b *Baseline) int {
		if c := strings.Compare(a.Model, b.Model); c != 0 {
			return c
		}
		if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return out, nil
}

// promotedFile in a baselines directory names, per model, the baseline in
// use when it is not the newest: lines of "model<TAB>id".
const promotedFile = "promoted.tsv"

func readPromoted(dir string) (map[string]string, error) {
	data, err := os.ReadFile(filepath.Join(dir, promotedFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read promoted baselines: %w", err)
	}
	out := make(map[string]string)
	for i, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		if line == "" {
			continue
		}
		model, id, ok := strings.Cut(line, "\t")
		if !ok || model == "" || id == "" {
			return nil, fmt.Errorf("%s line %d: want model<TAB>id, got %q", filepath.Join(dir, promotedFile), i+1, line)
		}
		out[model] = id
	}
	return out, nil
}

// ErrNotFound is what Promote's error wraps when the directory has no
// baseline of that id.
var ErrNotFound = errors.New("no such baseline")

// Promote makes baseline id the one its model uses (LoadDir) from now on,
// whatever newer baselines of the model appear, and returns it. The choice
// is written to dir/promoted.tsv, replaced atomically.
func Promote(dir, id string) (*Baseline, error) {
	all, err := List(dir)
	if err != nil {
		return nil, err
	}
	i := slices.IndexFunc(all, func(b *Baseline) bool { return b.ID == id })
	if i < 0 {
		return nil, fmt.Errorf("promote %s: %w in %s", id, ErrNotFound, dir)
	}
	b := all[i]
	promoted, err := readPromoted(dir)
	if err != nil {
		return nil, err
	}
	if promoted == nil {
		promoted = make(map[string]string)
	}
	promoted[b.Model] = b.ID
	var buf strings.Builder
	models := make([]string, 0, len(promoted))
	for m := range promoted {
		models = append(models, m)
	}
	slices.Sort(models)
	for _, m := range models {
		fmt.Fprintf(&buf, "%s\t%s\n", m, promoted[m])
	}
	tmp := filepath.Join(dir, "."+promotedFile+".tmp")
	if err := os.WriteFile(tmp, []byte(buf.String()), 0o644); err != nil {
		return nil, fmt.Errorf("promote %s: %w", id, err)
	}
	if err := os.Rename(tmp, filepath.Join(dir, promotedFile)); err != nil {
		return nil, fmt.Errorf("promote %s: %w", id, err)
	}
	return b, nil
}
