// Package synth is a deterministic synthetic serving stack: it generates
// prediction log records in the contract format (CONTRACT.md section 1) for
// `driftwatch demo` and for end-to-end tests, with known drift injected into
// chosen features from a chosen window on, plus a controlled share of
// contract-breaking records, exact duplicates and slightly out-of-order
// timestamps.
//
// The same Config always yields byte-identical output. Every model draws from
// its own random streams (seeded math/rand/v2 PCG, derived from Config.Seed
// and the model's name), and within a model every feature has its own stream,
// so adding a model leaves the other models' records unchanged, and drifting
// one feature leaves the values of all other features unchanged.
//
// It deliberately does not talk to Kafka, files or any other system:
// Generate hands each record to a callback, Reference writes training records
// to an io.Writer. Features are drawn independently, except a Normal or
// LogNormal feature correlated with an earlier one (Feature.CorrelateWith),
// whose correlation a Correlate drift changes while both marginals stay.
package synth

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"time"
)

// FeatureKind is the distribution a Feature is drawn from.
type FeatureKind int

// The kinds of feature. Normal, LogNormal, Uniform and Poisson are numeric
// (JSON numbers); Categorical yields JSON strings and Bool JSON booleans.
const (
	Normal      FeatureKind = iota // Mean + Std*N(0,1)
	LogNormal                      // exp(Mean + Std*N(0,1))
	Uniform                        // uniform on [Min, Max)
	Poisson                        // Poisson with mean Lambda
	Categorical                    // one of Categories, by Weights
	Bool                           // true with probability P
)

// String returns the kind's name, e.g. "lognormal".
func (k FeatureKind) String() string {
	switch k {
	case Normal:
		return "normal"
	case LogNormal:
		return "lognormal"
	case Uniform:
		return "uniform"
	case Poisson:
		return "poisson"
	case Categorical:
		return "categorical"
	case Bool:
		return "bool"
	default:
		return fmt.Sprintf("FeatureKind(%d)", int(k))
	}
}

func (k FeatureKind) numeric() bool { return k >= Normal && k <= Poisson }

// Feature describes how one model input is drawn. Only the fields of its Kind
// matter; the others are ignored.
//
// Numeric values other than Poisson ones are rounded to 4 decimal places, or
// rounded down to whole numbers when Integer is set. For Normal, LogNormal
// and Poisson, Min and Max clamp the values when Max > Min (after drift); for
// Uniform they are the range itself and do not clamp.
type Feature struct {
	Name string
	Kind FeatureKind
	// Mean and Std are the mean and standard deviation of a Normal feature,
	// and the mean (mu) and standard deviation (sigma) of the logarithm of a
	// LogNormal one. Std must be > 0.
	Mean, Std float64
	// Min and Max are the range of a Uniform feature, or optional clamp
	// bounds of a Normal, LogNormal or Poisson one.
	Min, Max float64
	// Lambda is the mean of a Poisson feature (> 0).
	Lambda float64
	// Categories are the values of a Categorical feature and Weights their
	// relative frequencies (non-negative, any positive sum). Nil Weights
	// means equal weights.
	Categories []string
	Weights    []float64
	// P is the probability that a Bool feature is true.
	P float64
	// NullRate is the share of records, in [0, 1], in which the feature is
	// JSON null (a missing value).
	NullRate float64
	// Integer rounds Normal, LogNormal and Uniform values down to whole
	// numbers (Poisson values always are whole).
	Integer bool
	// CorrelateWith names an earlier Normal or LogNormal feature of the
	// model that this one (Normal or LogNormal) is correlated with: its
	// standard normal draw is Correlation*z + sqrt(1-Correlation^2)*e, z
	// the other's draw for the same record and e its own. Its marginal
	// does not depend on Correlation (within [-1, 1]); a Correlate drift
	// sets Correlation from a window on.
	CorrelateWith string
	Correlation   float64
	// Daily, when not 0, gives the feature a daily cycle of that amplitude,
	// in reference and served records alike. With s = sin(2*pi*h/24), h the
	// record's hour of the day (UTC, fractional): a Normal, LogNormal or
	// Uniform feature's location moves by Daily*s units (see DriftKind),
	// a Bool's P by Daily*s (clamped to [0, 1]), and a Categorical's weight
	// i is multiplied by exp(Daily*sin(2*pi*h/24 + 2*pi*i/k)) for k
	// categories. Poisson features ignore it.
	Daily float64
}

// DriftKind is how a Drift changes a feature's distribution.
type DriftKind int

// The kinds of drift. "Unit" below is the feature's undrifted standard
// deviation on the scale it is drawn on: Std for Normal, Std (sigma of the
// logarithm) for LogNormal, (Max-Min)/sqrt(12) for Uniform and
// sqrt(Lambda) for Poisson.
const (
	// Shift moves a numeric feature by Amount units: Normal and Uniform
	// values by Amount*unit, Poisson's mean by Amount*sqrt(Lambda), and
	// LogNormal's mu by Amount*Std, which multiplies every value by
	// exp(Amount*Std). Amount may be negative, not 0.
	Shift DriftKind = iota
	// Scale multiplies the spread of a numeric feature by Amount (> 0, not
	// 1) around its centre: Std for Normal and LogNormal (sigma of the
	// logarithm), the width of Uniform's range around its midpoint, and
	// Poisson's deviations from the mean (rounded, clamped at 0).
	Scale
	// Mix changes the mixture of a Categorical feature to NewWeights
	// (aligned with Categories) or sets a Bool feature's P to Amount.
	Mix
	// The kinds below break data quality rather than move the
	// distribution; Amount is a share in (0, 1] of the records.
	//
	// Nulls sets the feature's null rate to Amount (a null burst).
	Nulls
	// Absent leaves the feature's key out of "features" in a share Amount
	// of the records.
	Absent
	// WrongType writes a numeric feature as the string "n/a" in a share
	// Amount of the records.
	WrongType
	// Unseen writes a categorical feature as UnseenCategory in a share
	// Amount of the records.
	Unseen
	// Renamed writes the feature under the key Name + RenamedSuffix in a
	// share Amount of the records, as a producer that renamed it does:
	// the baseline's feature is absent there, and a feature the baseline
	// does not know is in its place (with Amount 1, the feature vanishes).
	Renamed
	// Correlate sets a correlated feature's Correlation (see
	// Feature.CorrelateWith) to Amount, in [-1, 1]: how it moves with the
	// other changes, each marginal stays.
	Correlate
)

// RenamedSuffix is what a Renamed drift appends to the feature's key.
const RenamedSuffix = "_v2"

// UnseenCategory is the category an Unseen drift writes; no generated
// reference has it.
const UnseenCategory = "never-seen-before"

// String returns the kind's name, e.g. "shift".
func (k DriftKind) String() string {
	switch k {
	case Shift:
		return "shift"
	case Scale:
		return "scale"
	case Mix:
		return "mix"
	case Nulls:
		return "nulls"
	case Absent:
		return "absent"
	case WrongType:
		return "wrong_type"
	case Unseen:
		return "unseen"
	case Renamed:
		return "renamed"
	case Correlate:
		return "correlate"
	default:
		return fmt.Sprintf("DriftKind(%d)", int(k))
	}
}

// Drift is a change injected into one feature of a model from window
// FromWindow (0-based) on, through the last window. Several drifts of one
// feature apply in order: shifts add up, scales multiply, the last Mix wins.
type Drift struct {
	Feature    string
	Kind       DriftKind
	Amount     float64
	NewWeights []float64
	FromWindow int
	// ToWindow, when above FromWindow, ends the drift: windows from it on
	// are as before (a drift that went away).
	ToWindow int
}

// Model is one synthetic model behind the serving stack.
type Model struct {
	Name, Version string
	Features      []Feature // in the order their keys appear in "features"
	Drifts        []Drift
	// Classes optionally names the positive and the negative class of a
	// binary classifier. With two Classes and a numeric prediction p in
	// [0, 1], records carry "scores": {Classes[0]: p, Classes[1]: 1-p}, and
	// Reference records a label (1 for Classes[0], 0 otherwise) drawn with
	// probability p.
	Classes []string
	// Predict optionally computes the prediction from a record's features:
	// name to float64, string, bool or nil (null). It must return a number
	// (float64, float32 or an integer) or a string. The map is reused
	// between calls, so Predict must not retain it; Predict is called from
	// the goroutine that called Generate or Reference. Nil means the
	// default: a fixed logistic score in [0, 1] of the numeric features,
	// each standardized with its undrifted parameters (z clamped to ±5,
	// nulls count as 0), rounded to 4 decimals.
	Predict func(features map[string]any) any
	// ChallengerShift, when not 0, moves the predictions of the records the
	// "challenger" variant serves from window ChallengerFrom on: a score in
	// (0, 1) by ChallengerShift on the logit scale, any other number by
	// adding it (a challenger that scores differently from the champion).
	ChallengerShift float64
	ChallengerFrom  int
	// ShadowShare, when above 0, is the share of the champion's served
	// records that a "shadow" variant scores too (a shadow deployment,
	// CONTRACT.md section 1): each such prediction is logged a second time,
	// with the same prediction_id, timestamp, features and label (a late
	// label is sent once), variant "shadow" and the shadow's own
	// prediction: the champion's score moved on the logit scale by
	// ShadowShift from window ShadowFrom on, plus noise of standard
	// deviation ShadowNoise (a model that mostly agrees with the champion),
	// and its own latency. Its draws come from a stream of their own, so a
	// scenario with a shadow sends every record it sends without one.
	ShadowShare, ShadowShift, ShadowNoise float64
	ShadowFrom                            int
	// FemaleShift, when not 0, moves the predictions of records whose
	// segment gender is "f" from window FemaleShiftFrom on, like
	// ChallengerShift (a model that starts treating one group worse).
	FemaleShift     float64
	FemaleShiftFrom int
	// PredictionShift, when not 0, moves every served record's prediction
	// from window PredictionShiftFrom on, like ChallengerShift (a model
	// whose outputs change while its inputs do not: a new build, a broken
	// feature transform upstream of the model).
	PredictionShift     float64
	PredictionShiftFrom int
	// LabelShare is the share of served records (Generate) that carry their
	// label at serving time, drawn like Reference's: 1 with probability
	// equal to the score. From window FlipLabelsFrom on (when > 0) the label
	// is drawn with probability 1 - score instead: the relation between
	// inputs and truth flips while inputs and predictions stay (concept
	// drift). Needs Classes.
	LabelShare     float64
	FlipLabelsFrom int
	// FlipLabelsTo, when above FlipLabelsFrom, ends the flip from that
	// window on.
	FlipLabelsTo int
	// LabelDelay, when its upper bound is above 0, sends those labels late
	// instead of in the records: each as its own Message (Label set) for
	// the labels topic (CONTRACT.md section 2), timestamped and arriving
	// at the prediction's event time plus a delay drawn uniformly from
	// [LabelDelay[0], LabelDelay[1]].
	LabelDelay [2]time.Duration
	// ErrorShare, when above 0, makes that share of the served records
	// (Generate) from window ErrorFrom on (up to ErrorTo, when above
	// ErrorFrom) failed predictions: "prediction": null and an "error"
	// drawn uniformly from ErrorClasses (nil: "timeout"), with no scores
	// and no label, inline or late. The decisions are drawn from a stream
	// of their own: the other records are those of the model without it.
	ErrorShare         float64
	ErrorFrom, ErrorTo int
	ErrorClasses       []string
}

// DefaultWindow is the window length a Config with Window 0 uses.
const DefaultWindow = time.Hour

// Config is a complete synthetic scenario. The zero value is not valid: set
// at least Start, Windows, RecordsPerWindow and Models (or start from Demo).
// Its methods never modify it, and calls to them share no state, so they
// may run concurrently as long as the models' Predict functions may.
type Config struct {
	Seed             int64
	Start            time.Time     // start of window 0, aligned to Window
	Window           time.Duration // window length, a whole number of milliseconds; 0: DefaultWindow
	Windows          int           // number of windows
	RecordsPerWindow int           // per model, excluding duplicates
	Models           []Model
	// BadRate is the share of records, in [0, 1], replaced by records that
	// break the contract. The replacements cycle per model through: not
	// JSON (a truncated record), "timestamp" missing, a timestamp that is
	// not RFC 3339, a prediction that is an object, and features that are
	// not an object.
	BadRate float64
	// DuplicateRate is the share of good records, in [0, 1], that are sent
	// a second time: the same key and bytes, after the first send and
	// within Jitter of the event time.
	DuplicateRate float64
	// ReferenceSpan is the period before Start over which Reference spreads
	// its records' timestamps; 0 means DefaultReferenceSpan. Two whole days
	// give a baseline a daily profile (Feature.Daily).
	ReferenceSpan time.Duration
	// Jitter bounds how far the stream is out of event-time order. Records
	// leave the stack in order of arrival, and each arrives up to Jitter
	// (uniform) after its event time, so a record's timestamp may be up to
	// Jitter earlier than a timestamp already sent. Timestamps stay inside
	// their window.
	Jitter time.Duration
}

func (c Config) withDefaults() Config {
	if c.Window == 0 {
		c.Window = DefaultWindow
	}
	if c.ReferenceSpan == 0 {
		c.ReferenceSpan = DefaultReferenceSpan
	}
	c.Start = c.Start.UTC()
	return c
}

// Validate reports the first problem of the configuration that would make
// Generate or Reference fail or produce something other than described.
func (c Config) Validate() error {
	c = c.withDefaults()
	switch {
	case c.Window < time.Millisecond || c.Window%time.Millisecond != 0:
		return fmt.Errorf("window %v: want a positive whole number of milliseconds", c.Window)
	case c.Start.IsZero():
		return errors.New("start is not set")
	case !c.Start.Truncate(c.Window).Equal(c.Start):
		return fmt.Errorf("start %s is not aligned to the window %v", c.Start.Format(time.RFC3339Nano), c.Window)
	case c.Windows <= 0:
		return fmt.Errorf("windows %d: want > 0", c.Windows)
	case c.RecordsPerWindow <= 0:
		return fmt.Errorf("records per window %d: want > 0", c.RecordsPerWindow)
	case !(c.BadRate >= 0 && c.BadRate <= 1):
		return fmt.Errorf("bad rate %g: want within [0, 1]", c.BadRate)
	case !(c.DuplicateRate >= 0 && c.DuplicateRate <= 1):
		return fmt.Errorf("duplicate rate %g: want within [0, 1]", c.DuplicateRate)
	case c.ReferenceSpan < time.Millisecond:
		return fmt.Errorf("reference span %v: want at least a millisecond", c.ReferenceSpan)
	case c.Jitter < 0:
		return fmt.Errorf("jitter %v: want >= 0", c.Jitter)
	case len(c.Models) == 0:
		return errors.New("no models")
	}
	seen := make(map[string]bool, len(c.Models))
	for i := range c.Models {
		m := &c.Models[i]
		if m.Name == "" {
			return fmt.Errorf("model %d: name is empty", i)
		}
		if seen[m.Name] {
			return fmt.Errorf("model %q: defined twice", m.Name)
		}
		seen[m.Name] = true
		if err := m.validate(); err != nil {
			return fmt.Errorf("model %q: %w", m.Name, err)
		}
	}
	return nil
}

func (m *Model) validate() error {
	if m.Version == "" {
		return errors.New("version is empty")
	}
	if len(m.Features) == 0 {
		return errors.New("no features")
	}
	switch {
	case len(m.Classes) == 0:
	case len(m.Classes) != 2:
		return fmt.Errorf("%d classes: want none or 2", len(m.Classes))
	case m.Classes[0] == "" || m.Classes[1] == "" || m.Classes[0] == m.Classes[1]:
		return fmt.Errorf("classes %q: want two distinct non-empty names", m.Classes)
	}
	if d := m.LabelDelay; d[0] < 0 || d[1] < d[0] {
		return fmt.Errorf("label delay [%s, %s]: want 0 <= low <= high", d[0], d[1])
	}
	if !(m.ShadowShare >= 0 && m.ShadowShare <= 1) || !(m.ShadowNoise >= 0) || math.IsInf(m.ShadowNoise, 0) || math.IsNaN(m.ShadowShift) || math.IsInf(m.ShadowShift, 0) {
		return fmt.Errorf("shadow share %g, shift %g, noise %g: want a share in [0, 1], a finite shift and noise >= 0", m.ShadowShare, m.ShadowShift, m.ShadowNoise)
	}
	switch {
	case !(m.ErrorShare >= 0 && m.ErrorShare <= 1):
		return fmt.Errorf("error share %g: want within [0, 1]", m.ErrorShare)
	case m.ErrorFrom < 0 || m.ErrorTo != 0 && m.ErrorTo <= m.ErrorFrom:
		return fmt.Errorf("errors from window %d to %d: want 0 <= from < to (0: the last window)", m.ErrorFrom, m.ErrorTo)
	case slices.Contains(m.ErrorClasses, ""):
		return errors.New("an empty error class")
	}
	byName := make(map[string]*Feature, len(m.Features))
	for i := range m.Features {
		f := &m.Features[i]
		if f.Name == "" {
			return fmt.Errorf("feature %d: name is empty", i)
		}
		if byName[f.Name] != nil {
			return fmt.Errorf("feature %q: defined twice", f.Name)
		}
		byName[f.Name] = f
		if err := f.validate(); err != nil {
			return fmt.Errorf("feature %q: %w", f.Name, err)
		}
		if f.CorrelateWith != "" {
			o := byName[f.CorrelateWith]
			switch {
			case o == nil || o == f:
				return fmt.Errorf("feature %q: correlated with %q, which is not an earlier feature", f.Name, f.CorrelateWith)
			case o.Kind != Normal && o.Kind != LogNormal || f.Kind != Normal && f.Kind != LogNormal:
				return fmt.Errorf("feature %q: correlated with %q: both must be normal or lognormal", f.Name, f.CorrelateWith)
			case !(math.Abs(f.Correlation) <= 1):
				return fmt.Errorf("feature %q: correlation %g: want within [-1, 1]", f.Name, f.Correlation)
			}
		}
	}
	for i := range m.Drifts {
		d := &m.Drifts[i]
		f := byName[d.Feature]
		if f == nil {
			return fmt.Errorf("drift %d: no feature %q", i, d.Feature)
		}
		if err := d.validate(f); err != nil {
			return fmt.Errorf("drift %d of feature %q: %w", i, d.Feature, err)
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

func (f *Feature) validate() error {
	if !(f.NullRate >= 0 && f.NullRate <= 1) {
		return fmt.Errorf("null rate %g: want within [0, 1]", f.NullRate)
	}
	if !finite(f.Daily) || math.Abs(f.Daily) > 20 {
		return fmt.Errorf("daily amplitude %g: want a finite number within [-20, 20]", f.Daily)
	}
	if f.Kind.numeric() && !finite(f.Min, f.Max) {
		return fmt.Errorf("min %g, max %g: want finite numbers", f.Min, f.Max)
	}
	switch f.Kind {
	case Normal, LogNormal:
		if !finite(f.Mean) || !(f.Std > 0) || !finite(f.Std) {
			return fmt.Errorf("mean %g, std %g: want finite numbers, std > 0", f.Mean, f.Std)
		}
		if f.Kind == LogNormal && math.Abs(f.Mean)+20*f.Std > 700 {
			return fmt.Errorf("mean %g, std %g: exp overflows", f.Mean, f.Std)
		}
	case Uniform:
		if !(f.Min < f.Max) {
			return fmt.Errorf("min %g, max %g: want min < max", f.Min, f.Max)
		}
	case Poisson:
		if !(f.Lambda > 0 && f.Lambda <= 1e9) {
			return fmt.Errorf("lambda %g: want within (0, 1e9]", f.Lambda)
		}
	case Categorical:
		if len(f.Categories) == 0 {
			return errors.New("no categories")
		}
		for i, c := range f.Categories {
			if slices.Index(f.Categories, c) != i {
				return fmt.Errorf("category %q: listed twice", c)
			}
		}
		if f.Weights != nil {
			if err := checkWeights(f.Weights, len(f.Categories)); err != nil {
				return fmt.Errorf("weights: %w", err)
			}
		}
	case Bool:
		if !(f.P >= 0 && f.P <= 1) {
			return fmt.Errorf("p %g: want within [0, 1]", f.P)
		}
	default:
		return fmt.Errorf("unknown kind %v", f.Kind)
	}
	if f.Kind != Uniform && f.Kind.numeric() && f.Min > f.Max {
		return fmt.Errorf("min %g > max %g", f.Min, f.Max)
	}
	return nil
}

func checkWeights(w []float64, n int) error {
	if len(w) != n {
		return fmt.Errorf("%d weights for %d categories", len(w), n)
	}
	var sum float64
	for _, x := range w {
		if !(x >= 0) || !finite(x) {
			return fmt.Errorf("weight %g: want a finite number >= 0", x)
		}
		sum += x
	}
	if !(sum > 0) {
		return errors.New("weights sum to 0")
	}
	return nil
}

func (d *Drift) validate(f *Feature) error {
	if d.ToWindow != 0 && d.ToWindow <= d.FromWindow {
		return fmt.Errorf("to window %d: want after from window %d (0: the last window)", d.ToWindow, d.FromWindow)
	}
	if d.FromWindow < 0 {
		return fmt.Errorf("from window %d: want >= 0", d.FromWindow)
	}
	switch d.Kind {
	case Shift:
		if !f.Kind.numeric() {
			return fmt.Errorf("shift of a %v feature: want a numeric one", f.Kind)
		}
		if !finite(d.Amount) || d.Amount == 0 {
			return fmt.Errorf("shift by %g: want a finite non-zero amount", d.Amount)
		}
	case Scale:
		if !f.Kind.numeric() {
			return fmt.Errorf("scale of a %v feature: want a numeric one", f.Kind)
		}
		if !finite(d.Amount) || !(d.Amount > 0) || d.Amount == 1 {
			return fmt.Errorf("scale by %g: want a finite amount > 0, not 1", d.Amount)
		}
	case Mix:
		switch f.Kind {
		case Categorical:
			if err := checkWeights(d.NewWeights, len(f.Categories)); err != nil {
				return fmt.Errorf("new weights: %w", err)
			}
		case Bool:
			if !(d.Amount >= 0 && d.Amount <= 1) {
				return fmt.Errorf("mix to p %g: want within [0, 1]", d.Amount)
			}
		default:
			return fmt.Errorf("mix of a %v feature: want a categorical or bool one", f.Kind)
		}
	case Correlate:
		if f.CorrelateWith == "" {
			return errors.New("correlate of a feature correlated with none (Feature.CorrelateWith)")
		}
		if !(math.Abs(d.Amount) <= 1) {
			return fmt.Errorf("correlate to %g: want within [-1, 1]", d.Amount)
		}
	case Nulls, Absent, WrongType, Unseen, Renamed:
		if !(d.Amount > 0 && d.Amount <= 1) {
			return fmt.Errorf("%v of a share %g: want within (0, 1]", d.Kind, d.Amount)
		}
		if d.Kind == WrongType && !f.Kind.numeric() {
			return fmt.Errorf("wrong_type of a %v feature: want a numeric one", f.Kind)
		}
		if d.Kind == Unseen && f.Kind != Categorical {
			return fmt.Errorf("unseen of a %v feature: want a categorical one", f.Kind)
		}
	default:
		return fmt.Errorf("unknown kind %v", d.Kind)
	}
	return nil
}

// Expected returns, for every model of the configuration, the sorted names
// of its features whose distribution drifts (Shift, Scale, Mix) within the
// generated windows (a Drift whose
// FromWindow is at or past Windows does not count). A model without drift
// maps to an empty, non-nil slice.
func (c Config) Expected() map[string][]string {
	out := make(map[string][]string, len(c.Models))
	for _, m := range c.Models {
		names := []string{}
		for _, d := range m.Drifts {
			if d.FromWindow < c.Windows && d.Kind <= Mix { // distribution drifts, not quality breakage
				names = append(names, d.Feature)
			}
		}
		slices.Sort(names)
		out[m.Name] = slices.Compact(names)
	}
	return out
}
