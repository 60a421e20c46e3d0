// Package scenario holds the streams of the detection benchmark (`make
// bench-detect`, issue 16 point 6): for each kind of change a generator
// with parameters, built on internal/synth (the generator of the demo's
// streams), that writes a reference file per model, a prediction log of
// hourly windows with the change starting mid-way, late labels where the
// scenario has them, and the ground truth beside them: per window, which
// (model, family, subject) truly changed.
//
// The ground truth is derived from what the generator injects, by one rule
// for every scenario (Truth), never typed in per scenario: a change is a
// target (recall is measured on it) on the subject it was injected into,
// and a consequence (not a false alarm when flagged, not counted for recall)
// on the subjects whose measured quantity it moves too, such as the
// prediction of a model that reads a shifted feature. Mean shifts below
// MinMaterialShift standard deviations and scale changes within
// MinMaterialScale of 1 are negligible: they are no change at all.
//
// It deliberately does not run driftwatch or score anything: the benchmark's
// command (bench/detect) does.
package scenario

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/driftwatch/driftwatch/internal/synth"
	"github.com/driftwatch/driftwatch/stats/drift"
)

// Defaults of every scenario unless it says otherwise.
const (
	Windows          = 24   // hourly windows per stream
	ChangeFrom       = 12   // 0-based window the change starts in
	RecordsPerWindow = 2000 // per model and window
	ReferenceRecords = 10000
	Version          = "1.0.0"
	// MinMaterialShift is the smallest mean shift, in standard deviations
	// of the feature (synth's unit), that counts as a change; smaller ones
	// are negligible and the truth says nothing changed.
	MinMaterialShift = 0.1
	// MinMaterialScale: a spread multiplied by a factor within
	// [1/(1+MinMaterialScale), 1+MinMaterialScale] is no change.
	MinMaterialScale = 0.1
	// MinMaterialShare: a data-quality breakage (nulls, absent keys, wrong
	// types, unseen categories) of a smaller share of records is no change.
	MinMaterialShare = 0.01
	// MinMaterialCorrelation: a correlation between two features that
	// moves by less is no change.
	MinMaterialCorrelation = 0.2
)

// Start is the start of window 0 of every stream, a Monday.
var Start = time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC)

// Scenario is one stream of the benchmark.
type Scenario struct {
	Name string
	// About says in a sentence what the stream is and what changes.
	About string
	// Config is the synth scenario; its models' Drifts, PredictionShift,
	// FemaleShift and FlipLabelsFrom are the injected changes.
	Config synth.Config
	// Inputs names, per model, the features its prediction reads (the
	// scenario's Predict), so that the truth knows which changes move the
	// prediction too.
	Inputs map[string][]string
	// ReferenceRecords is the size of each model's reference file.
	ReferenceRecords int
}

// Change is one truly changed (model, family, subject) in one window.
type Change struct {
	Model   string `json:"model"`
	Window  int    `json:"window"`
	Family  string `json:"family"`
	Subject string `json:"subject"`
	// Target says recall is measured on it: the subject the change was
	// injected into. A consequence (Target false) is a subject whose
	// measured quantity the change moves as well.
	Target bool `json:"target"`
	// What says what changed, e.g. "mean +1.00 sd".
	What string `json:"what"`
}

// Truth is the ground truth of a stream, written beside it as truth.json.
type Truth struct {
	Scenario string        `json:"scenario"`
	About    string        `json:"about"`
	Start    time.Time     `json:"start"`
	Window   time.Duration `json:"window_ns"`
	Windows  int           `json:"windows"`
	Models   []string      `json:"models"`
	Records  int           `json:"records_per_window"`
	Changes  []Change      `json:"changes"`
}

// Truth derives the ground truth from what the scenario injects:
//
//   - a Shift, Scale or Mix of feature f: target (data, f); a Shift or
//     Scale also moves (quality, f) (the share outside the reference's
//     range); when the prediction reads f, (prediction, prediction) too;
//   - nulls, absent keys, wrong types or unseen categories of f: target
//     (quality, f); unseen categories also move (data, f); when the
//     prediction reads f, (prediction, prediction);
//   - PredictionShift: target (prediction, prediction);
//   - FemaleShift: target (fairness, gender), and (prediction, prediction);
//   - FlipLabelsFrom: target (concept, performance), and (label, label)
//     and (concept, error_stream);
//   - whatever moves the prediction also moves (concept,
//     estimated_performance), the performance estimated from the
//     predictions; it is a target where the changes lower the classifier's
//     expected accuracy, precision, recall, F1 or ROC AUC by at least
//     MinMaterialDrop (expectedPerformance: labels drawn from the scores,
//     as synth draws them, so what the scores' distribution implies).
//   - a Correlate of f (its correlation with another feature changed by at
//     least MinMaterialCorrelation, each marginal unchanged): target
//     (data, *multivariate), the rows of all features together; and any
//     other material change of a feature's values moves them too
//     ((data, *multivariate), a consequence).
//
// Shifts add up per window (a ramp is a series of them); a window whose
// summed shift is below MinMaterialShift, or whose scale or share is below
// its material size, has no change.
func (s Scenario) Truth() Truth {
	c := s.Config
	t := Truth{
		Scenario: s.Name, About: s.About, Start: c.Start, Window: c.Window,
		Windows: c.Windows, Records: c.RecordsPerWindow,
	}
	if t.Window == 0 {
		t.Window = synth.DefaultWindow
	}
	for _, m := range c.Models {
		t.Models = append(t.Models, m.Name)
		reads := func(f string) bool { return slices.Contains(s.Inputs[m.Name], f) }
		for w := range c.Windows {
			var out []Change
			add := func(family, subject string, target bool, what string) {
				for i := range out {
					if out[i].Family == family && out[i].Subject == subject {
						if target && !out[i].Target {
							out[i].Target, out[i].What = true, what // what makes it a target
						}
						return
					}
				}
				out = append(out, Change{Model: m.Name, Window: w, Family: family, Subject: subject, Target: target, What: what})
			}
			for _, f := range m.Features {
				shift, scale, mixed, rho := 0.0, 1.0, false, f.Correlation
				var broken []string
				for _, d := range m.Drifts {
					if d.Feature != f.Name || d.FromWindow > w || d.ToWindow > 0 && w >= d.ToWindow {
						continue
					}
					switch d.Kind {
					case synth.Shift:
						shift += d.Amount
					case synth.Scale:
						scale *= d.Amount
					case synth.Mix:
						mixed = true
					case synth.Correlate:
						rho = d.Amount
					default:
						if d.Amount >= MinMaterialShare {
							broken = append(broken, fmt.Sprintf("%v %.0f%%", d.Kind, 100*d.Amount))
							if d.Kind == synth.Unseen {
								add(drift.FamilyData, f.Name, false, "unseen categories")
							}
						}
					}
				}
				var what []string
				if math.Abs(shift) >= MinMaterialShift {
					what = append(what, fmt.Sprintf("mean %+.2f sd", shift))
				}
				if scale > 1+MinMaterialScale || scale < 1/(1+MinMaterialScale) {
					what = append(what, fmt.Sprintf("sd x%.2f", scale))
				}
				if len(what) > 0 {
					add(drift.FamilyData, f.Name, true, join(what))
					add(drift.FamilyQuality, f.Name, false, "out of range share, from "+join(what))
				}
				if mixed {
					add(drift.FamilyData, f.Name, true, "category mix")
					what = append(what, "category mix")
				}
				if len(broken) > 0 {
					add(drift.FamilyQuality, f.Name, true, join(broken))
					what = append(what, broken...)
				}
				if len(what) > 0 && reads(f.Name) {
					add(drift.FamilyPrediction, drift.FamilyPrediction, false, "prediction reads "+f.Name)
				}
				if len(what) > 0 {
					add(drift.FamilyData, drift.SubjectMultivariate, false, f.Name+": "+join(what))
				}
				if math.Abs(rho-f.Correlation) >= MinMaterialCorrelation {
					add(drift.FamilyData, drift.SubjectMultivariate, true,
						fmt.Sprintf("correlation of %s and %s %+.2f -> %+.2f", f.Name, f.CorrelateWith, f.Correlation, rho))
				}
			}
			if m.PredictionShift != 0 && w >= m.PredictionShiftFrom {
				add(drift.FamilyPrediction, drift.FamilyPrediction, true, fmt.Sprintf("prediction %+.2f logit", m.PredictionShift))
			}
			if m.FemaleShift != 0 && w >= m.FemaleShiftFrom {
				add(drift.FamilyFairness, "gender", true, fmt.Sprintf("gender=f scores %+.2f logit", m.FemaleShift))
				add(drift.FamilyPrediction, drift.FamilyPrediction, false, "half the scores moved")
			}
			for _, c := range out {
				if c.Family == drift.FamilyPrediction && c.Subject == drift.FamilyPrediction {
					add(drift.FamilyConcept, drift.SubjectEstimated, false, "the estimate reads the prediction")
					break
				}
			}
			mid := c.Start.Add(time.Duration(w)*t.Window + t.Window/2)
			hour := float64(mid.Hour()) + float64(mid.Minute())/60
			if drop, metric := performanceDrop(m, w, hour); drop >= MinMaterialDrop {
				add(drift.FamilyConcept, drift.SubjectEstimated, true, fmt.Sprintf("expected %s %.2f lower", metric, drop))
			}
			if m.FlipLabelsFrom > 0 && w >= m.FlipLabelsFrom && (m.FlipLabelsTo == 0 || w < m.FlipLabelsTo) {
				add(drift.FamilyConcept, "performance", true, "labels flipped")
				add(drift.FamilyLabel, drift.FamilyLabel, false, "label mix from the flip")
				add(drift.FamilyConcept, "error_stream", false, "error rate from the flip")
			}
			t.Changes = append(t.Changes, out...)
		}
	}
	return t
}

func join(parts []string) string {
	out := ""
	for i, p := range parts {
		if i > 0 {
			out += ", "
		}
		out += p
	}
	return out
}

// Files are the paths Write produced.
type Files struct {
	Dir        string
	References map[string]string // model to its reference file
	Stream     string
	Labels     string // empty when the scenario has no late labels
	Truth      string
}

// Write generates the scenario into dir: reference-<model>.jsonl per model,
// stream.jsonl, labels.jsonl when it has late labels, and truth.json.
func (s Scenario) Write(dir string) (Files, error) {
	f := Files{Dir: dir, References: map[string]string{}}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return f, fmt.Errorf("create %s: %w", dir, err)
	}
	for _, m := range s.Config.Models {
		path := filepath.Join(dir, "reference-"+m.Name+".jsonl")
		out, err := os.Create(path)
		if err != nil {
			return f, fmt.Errorf("create %s: %w", path, err)
		}
		err = s.Config.Reference(m.Name, s.ReferenceRecords, out)
		if cerr := out.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return f, fmt.Errorf("write reference of scenario %s: %w", s.Name, err)
		}
		f.References[m.Name] = path
	}
	preds, labels, err := s.Config.Files()
	if err != nil {
		return f, fmt.Errorf("generate stream of scenario %s: %w", s.Name, err)
	}
	f.Stream = filepath.Join(dir, "stream.jsonl")
	if err := os.WriteFile(f.Stream, preds, 0o644); err != nil {
		return f, fmt.Errorf("write %s: %w", f.Stream, err)
	}
	if len(labels) > 0 {
		f.Labels = filepath.Join(dir, "labels.jsonl")
		if err := os.WriteFile(f.Labels, labels, 0o644); err != nil {
			return f, fmt.Errorf("write %s: %w", f.Labels, err)
		}
	}
	truth, err := json.MarshalIndent(s.Truth(), "", " ")
	if err != nil {
		return f, fmt.Errorf("encode truth of scenario %s: %w", s.Name, err)
	}
	f.Truth = filepath.Join(dir, "truth.json")
	if err := os.WriteFile(f.Truth, append(truth, '\n'), 0o644); err != nil {
		return f, fmt.Errorf("write %s: %w", f.Truth, err)
	}
	return f, nil
}
