package scenario

import (
	"fmt"
	"math"
	"time"

	"github.com/driftwatch/driftwatch/internal/synth"
)

// The features of every scenario's model: two numeric inputs of its score,
// and numeric, count, categorical and boolean features it logs but does not
// read (so that a change in them moves nothing else). Records carry the
// segments gender (f, m: half each) and age_band (from age: six groups of
// very different sizes, 18-29 to 70+), so every stream judges fairness on
// an attribute of two groups and one of six.
var (
	featAge = synth.Feature{Name: "age", Kind: synth.Normal, Mean: 41, Std: 13, Min: 18, Max: 95, Integer: true}
	featA   = synth.Feature{Name: "num_a", Kind: synth.Normal, Mean: 50, Std: 10}
	featB   = synth.Feature{Name: "num_b", Kind: synth.LogNormal, Mean: 3, Std: 0.5}
	featC   = synth.Feature{Name: "num_c", Kind: synth.Normal, Mean: 0, Std: 1}
	featD   = synth.Feature{Name: "num_d", Kind: synth.Poisson, Lambda: 4}
	featCat = synth.Feature{
		Name: "cat_a", Kind: synth.Categorical,
		Categories: []string{"a", "b", "c", "d"}, Weights: []float64{0.4, 0.3, 0.2, 0.1},
	}
	featFlag = synth.Feature{Name: "flag", Kind: synth.Bool, P: 0.3}
	// scoreInputs are the features the prediction reads.
	scoreInputs = []string{"num_a", "num_b"}
)

// Score weights: logit = scoreIntercept + weightA*z(num_a) + weightB*z(num_b),
// z standardized with the undrifted parameters. About 21% of scores are at
// or above the default decision threshold 0.5.
const (
	scoreIntercept = -1.0
	weightA        = 1.0
	weightB        = 0.7
)

// predict is the models' score: a logistic function of num_a and log
// num_b, rounded to 4 decimals; a null input counts as its mean.
func predict(f map[string]any) any {
	s := scoreIntercept
	if x, ok := f["num_a"].(float64); ok {
		s += weightA * (x - featA.Mean) / featA.Std
	}
	if x, ok := f["num_b"].(float64); ok && x > 0 {
		s += weightB * (math.Log(x) - featB.Mean) / featB.Std
	}
	return math.Round(1e4/(1+math.Exp(-s))) / 1e4
}

// model returns the benchmark's binary classifier named name, with the
// given drifts, features amended by amend (may be nil).
func model(name string, drifts []synth.Drift, amend func(*synth.Feature)) synth.Model {
	feats := []synth.Feature{featA, featB, featC, featD, featCat, featFlag, featAge}
	if amend != nil {
		for i := range feats {
			amend(&feats[i])
		}
	}
	return synth.Model{
		Name: name, Version: Version, Features: feats, Drifts: drifts,
		Classes: []string{"pos", "neg"}, Predict: predict,
	}
}

// stream returns the synth configuration of a stream of models with
// records per window.
func stream(seed int64, records int, models ...synth.Model) synth.Config {
	return synth.Config{
		Seed: seed, Start: Start, Window: time.Hour, Windows: Windows,
		RecordsPerWindow: records, Models: models, Jitter: 2 * time.Minute,
	}
}

func inputs(models ...string) map[string][]string {
	out := make(map[string][]string, len(models))
	for _, m := range models {
		out[m] = scoreInputs
	}
	return out
}

func single(name, about string, cfg synth.Config) Scenario {
	return Scenario{Name: name, About: about, Config: cfg, Inputs: inputs("m"), ReferenceRecords: ReferenceRecords}
}

// Stable is a stream without change.
func Stable(seed int64, records int) Scenario {
	return single("stable", fmt.Sprintf("no change, %d records a window", records),
		stream(seed, records, model("m", nil, nil)))
}

// DailyCycle is a stream whose inputs follow a daily cycle (num_a's mean
// by amp standard deviations, cat_a's mix and flag's rate with it, so the
// score and the positive rate cycle too) that its reference, two whole
// days with timestamps, has as well; from ChangeFrom on num_a shifts by
// shift standard deviations on top of the cycle (0: none).
func DailyCycle(seed int64, records int, amp, shift float64) Scenario {
	var drifts []synth.Drift
	name, about := "daily_cycle", fmt.Sprintf("daily cycle of num_a (%.1f sd), cat_a and flag in reference (2 days) and stream, no change", amp)
	if shift != 0 {
		drifts = []synth.Drift{{Feature: "num_a", Kind: synth.Shift, Amount: shift, FromWindow: ChangeFrom}}
		name = "daily_cycle_shift"
		about = fmt.Sprintf("daily cycle as daily_cycle, num_a (a score input) shifted %+.1f sd on top of it", shift)
	}
	cfg := stream(seed, records, model("m", drifts, func(f *synth.Feature) {
		switch f.Name {
		case "num_a":
			f.Daily = amp
		case "cat_a":
			f.Daily = amp / 1.5
		case "flag":
			f.Daily = 0.2
		}
	}))
	cfg.ReferenceSpan = 48 * time.Hour
	s := single(name, about, cfg)
	s.ReferenceRecords = 48 * 400
	return s
}

// Ramp moves num_c's mean by total standard deviations, in equal steps
// every window from ChangeFrom to the last.
func Ramp(seed int64, records int, total float64) Scenario {
	steps := Windows - ChangeFrom
	var drifts []synth.Drift
	for w := ChangeFrom; w < Windows; w++ {
		drifts = append(drifts, synth.Drift{Feature: "num_c", Kind: synth.Shift, Amount: total / float64(steps), FromWindow: w})
	}
	return single("ramp", fmt.Sprintf("num_c's mean ramps by %.2f sd a window to %+.1f sd", total/float64(steps), total),
		stream(seed, records, model("m", drifts, nil)))
}

// MeanShift shifts num_c's mean by sd standard deviations at once.
func MeanShift(seed int64, records int, sd float64) Scenario {
	name := "mean_shift"
	if records < 1000 {
		name = "small_windows"
	}
	return single(name, fmt.Sprintf("num_c's mean %+.1f sd at once, %d records a window", sd, records),
		stream(seed, records, model("m", []synth.Drift{{Feature: "num_c", Kind: synth.Shift, Amount: sd, FromWindow: ChangeFrom}}, nil)))
}

// VarianceShift multiplies num_c's standard deviation by factor.
func VarianceShift(seed int64, records int, factor float64) Scenario {
	return single("variance_shift", fmt.Sprintf("num_c's sd x%.1f", factor),
		stream(seed, records, model("m", []synth.Drift{{Feature: "num_c", Kind: synth.Scale, Amount: factor, FromWindow: ChangeFrom}}, nil)))
}

// CategoryShift changes cat_a's mix to weights.
func CategoryShift(seed int64, records int, weights []float64) Scenario {
	return single("category_shift", fmt.Sprintf("cat_a's mix %v -> %v", featCat.Weights, weights),
		stream(seed, records, model("m", []synth.Drift{{Feature: "cat_a", Kind: synth.Mix, NewWeights: weights, FromWindow: ChangeFrom}}, nil)))
}

// NullBurst makes share of num_c's values null for burst windows from
// ChangeFrom on.
func NullBurst(seed int64, records int, share float64, burst int) Scenario {
	return single("null_burst", fmt.Sprintf("%.0f%% of num_c null in windows %d-%d, then back", 100*share, ChangeFrom, ChangeFrom+burst-1),
		stream(seed, records, model("m", []synth.Drift{{Feature: "num_c", Kind: synth.Nulls, Amount: share, FromWindow: ChangeFrom, ToWindow: ChangeFrom + burst}}, nil)))
}

// TypeErrors writes share of num_d's values as the string "n/a".
func TypeErrors(seed int64, records int, share float64) Scenario {
	return single("type_errors", fmt.Sprintf("%.0f%% of num_d written as a string", 100*share),
		stream(seed, records, model("m", []synth.Drift{{Feature: "num_d", Kind: synth.WrongType, Amount: share, FromWindow: ChangeFrom}}, nil)))
}

// PredictionShift moves every score by logit on the logit scale, inputs
// unchanged.
func PredictionShift(seed int64, records int, logit float64) Scenario {
	m := model("m", nil, nil)
	m.PredictionShift, m.PredictionShiftFrom = logit, ChangeFrom
	return single("prediction_shift", fmt.Sprintf("scores %+.1f on the logit scale, inputs unchanged", logit), stream(seed, records, m))
}

// ConceptFlip labels every record late (delay uniform in [lo, hi]) and,
// from ChangeFrom on, draws the labels with probability 1 - score instead
// of score: inputs and predictions stay, the truth flips.
func ConceptFlip(seed int64, records int, lo, hi time.Duration) Scenario {
	m := model("m", nil, nil)
	m.LabelShare, m.FlipLabelsFrom, m.LabelDelay = 1, ChangeFrom, [2]time.Duration{lo, hi}
	return single("concept_late_labels", fmt.Sprintf("labels flip (concept drift), every label %v to %v late", lo, hi), stream(seed, records, m))
}

// FairnessCollapse moves the scores of segment gender=f by logit: its
// selection rate drops while gender=m's stays.
func FairnessCollapse(seed int64, records int, logit float64) Scenario {
	m := model("m", nil, nil)
	m.FemaleShift, m.FemaleShiftFrom = logit, ChangeFrom
	return single("fairness_collapse", fmt.Sprintf("gender=f scores %+.1f logit: its selection rate drops", logit), stream(seed, records, m))
}

// PerformanceNoLabels narrows num_a, the score's main input, to factor
// times its spread: the population gets harder to tell apart, so the
// model's recall, F1 and ROC AUC fall (its scores stay calibrated: a
// covariate shift, no concept drift), and no label ever arrives, so only
// the performance estimated without labels can see it.
func PerformanceNoLabels(seed int64, records int, factor float64) Scenario {
	return single("performance_no_labels", fmt.Sprintf("num_a's sd x%.1f: the classes get harder to tell apart; no labels", factor),
		stream(seed, records, model("m", []synth.Drift{{Feature: "num_a", Kind: synth.Scale, Amount: factor, FromWindow: ChangeFrom}}, nil)))
}

// Negligible shifts num_c and num_a (a score input) by sd standard
// deviations, below MinMaterialShift: windows of many records, no change.
func Negligible(seed int64, records int, sd float64) Scenario {
	drifts := []synth.Drift{
		{Feature: "num_c", Kind: synth.Shift, Amount: sd, FromWindow: ChangeFrom},
		{Feature: "num_a", Kind: synth.Shift, Amount: sd, FromWindow: ChangeFrom},
	}
	return single("large_negligible", fmt.Sprintf("%d records a window, num_c and num_a %+.2f sd (negligible: no change)", records, sd),
		stream(seed, records, model("m", drifts, nil)))
}

// CorrelationFlip correlates num_c with num_a (from's correlation in the
// reference and before ChangeFrom, to's after): each keeps its
// distribution, num_a its effect on the score and num_c none; only how the
// two move together changes, which only the rows of all features together
// (data, *multivariate) can see.
func CorrelationFlip(seed int64, records int, from, to float64) Scenario {
	m := model("m", []synth.Drift{{Feature: "num_c", Kind: synth.Correlate, Amount: to, FromWindow: ChangeFrom}}, func(f *synth.Feature) {
		if f.Name == "num_c" {
			f.CorrelateWith, f.Correlation = "num_a", from
		}
	})
	return single("correlation_flip", fmt.Sprintf("num_c's correlation with num_a %+.1f -> %+.1f, both marginals unchanged", from, to),
		stream(seed, records, m))
}

// MultiModel is three models in one stream: m1's num_c shifts by sd, m2's
// cat_a mix changes to weights, m3 stays.
func MultiModel(seed int64, records int, sd float64, weights []float64) Scenario {
	cfg := stream(seed, records,
		model("m1", []synth.Drift{{Feature: "num_c", Kind: synth.Shift, Amount: sd, FromWindow: ChangeFrom}}, nil),
		model("m2", []synth.Drift{{Feature: "cat_a", Kind: synth.Mix, NewWeights: weights, FromWindow: ChangeFrom}}, nil),
		model("m3", nil, nil))
	return Scenario{
		Name: "multi_model", About: fmt.Sprintf("3 models in one stream: m1 num_c %+.1f sd, m2 cat_a mix, m3 stable", sd),
		Config: cfg, Inputs: inputs("m1", "m2", "m3"), ReferenceRecords: ReferenceRecords,
	}
}

// All returns the benchmark's scenarios, each seeded from seed, at their
// default sizes.
func All(seed int64) []Scenario {
	shifted := []float64{0.25, 0.3, 0.2, 0.25}
	return []Scenario{
		Stable(seed, RecordsPerWindow),
		DailyCycle(seed+1, RecordsPerWindow, 1.5, 0),
		DailyCycle(seed+2, RecordsPerWindow, 1.5, 1.0),
		Ramp(seed+3, RecordsPerWindow, 2.0),
		MeanShift(seed+4, RecordsPerWindow, 1.0),
		VarianceShift(seed+5, RecordsPerWindow, 1.5),
		CategoryShift(seed+6, RecordsPerWindow, shifted),
		NullBurst(seed+7, RecordsPerWindow, 0.3, 6),
		TypeErrors(seed+8, RecordsPerWindow, 0.02),
		PredictionShift(seed+9, RecordsPerWindow, 0.8),
		ConceptFlip(seed+10, RecordsPerWindow, time.Hour, 6*time.Hour),
		FairnessCollapse(seed+11, RecordsPerWindow, -1.5),
		MeanShift(seed+12, 300, 1.0),
		Negligible(seed+13, 20000, 0.03),
		MultiModel(seed+14, RecordsPerWindow, 1.0, shifted),
		PerformanceNoLabels(seed+15, RecordsPerWindow, 0.3),
		CorrelationFlip(seed+16, RecordsPerWindow, 0.8, -0.8),
	}
}

// Aside returns streams kept aside from the benchmark's tuning: the same
// kinds of change at other sizes, strengths and seeds (window sizes from
// 200 to 50,000 records, a stronger cycle over a three-day reference,
// smaller and larger shifts), for `bench/detect -set aside`. Each change
// is at least as material as the benchmark's truth requires.
func Aside(seed int64) []Scenario {
	mix := []float64{0.3, 0.3, 0.15, 0.25}
	cycle := DailyCycle(seed+1, 1000, 2.5, 0)
	cycle.Config.ReferenceSpan, cycle.ReferenceRecords = 72*time.Hour, 72*300
	cycleShift := DailyCycle(seed+2, 1000, 2.5, 0.7)
	cycleShift.Config.ReferenceSpan, cycleShift.ReferenceRecords = 72*time.Hour, 72*300
	return []Scenario{
		Stable(seed, 200),
		cycle,
		cycleShift,
		Ramp(seed+3, 800, 1.5),
		MeanShift(seed+4, 5000, 0.5),
		VarianceShift(seed+5, 1000, 1.4),
		CategoryShift(seed+6, 800, mix),
		NullBurst(seed+7, 500, 0.15, 4),
		TypeErrors(seed+8, 3000, 0.05),
		PredictionShift(seed+9, 1500, 1.0),
		ConceptFlip(seed+10, 800, 2*time.Hour, 12*time.Hour),
		FairnessCollapse(seed+11, 1500, -1.2),
		MeanShift(seed+12, 200, 1.5),
		Negligible(seed+13, 50000, 0.02),
		MultiModel(seed+14, 700, 0.8, mix),
		PerformanceNoLabels(seed+15, 1200, 0.4),
		CorrelationFlip(seed+16, 1200, 0.6, -0.3),
	}
}
