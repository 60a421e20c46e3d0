package scenario

import (
	"math"
	"slices"

	"github.com/driftwatch/driftwatch/internal/synth"
)

// MinMaterialDrop: a change that lowers the benchmark classifier's expected
// accuracy, precision, recall, F1 or ROC AUC by at least this much is a
// change of its performance estimated without labels (a target); twice
// drift.max_performance_drop, so that whether it is caught does not hinge
// on the margin itself.
const MinMaterialDrop = 0.1

// performanceMetrics are the classifier metrics estimated without labels,
// in the order expectedPerformance returns them.
var performanceMetrics = [5]string{"accuracy", "precision", "recall", "f1", "roc_auc"}

// expectedPerformance is the benchmark classifier's expected accuracy,
// precision, recall, F1 and ROC AUC, decided at 0.5, in window w of model
// m, whose middle is at hour of the day h, with the changes injected by
// then (drifted) or without them. Labels
// are drawn with probability equal to the score (synth), so these are
// what the performance truly is when labels are not flipped, and what an
// estimate from the scores under the reference's calibration targets.
//
// The score is the logistic of scoreIntercept + weightA z_a + weightB z_b
// (predict), z the inputs standardized with their undrifted parameters:
// normal, moved by Shift and Daily (in standard deviations), spread by
// Scale, and 0 (the mean, as predict reads a missing input) in the share
// of records a Nulls, Absent or WrongType drift breaks; PredictionShift
// moves every logit, FemaleShift half of them. The logit is then a mixture
// of normals (and of the inputs' broken shares), integrated on a grid.
// Challenger shifts are not modelled: no benchmark model has one.
func expectedPerformance(m synth.Model, w int, h float64, drifted bool) [5]float64 {
	type input struct {
		mean, sd, broken float64
	}
	var in [2]input
	for i, name := range scoreInputs {
		k := slices.IndexFunc(m.Features, func(f synth.Feature) bool { return f.Name == name })
		in[i] = input{sd: 1}
		if k < 0 {
			continue
		}
		f := m.Features[k]
		in[i].mean = f.Daily * math.Sin(2*math.Pi*h/24)
		if !drifted {
			continue
		}
		for _, d := range m.Drifts {
			if d.Feature != name || d.FromWindow > w || d.ToWindow > 0 && w >= d.ToWindow {
				continue
			}
			switch d.Kind {
			case synth.Shift:
				in[i].mean += d.Amount
			case synth.Scale:
				in[i].sd *= d.Amount
			case synth.Nulls, synth.Absent, synth.WrongType:
				in[i].broken = max(in[i].broken, d.Amount)
			}
		}
	}
	var shift, female float64
	if drifted && m.PredictionShift != 0 && w >= m.PredictionShiftFrom {
		shift = m.PredictionShift
	}
	if drifted && m.FemaleShift != 0 && w >= m.FemaleShiftFrom {
		female = m.FemaleShift
	}
	// The mixture's components: each input whole or broken (z = 0), each
	// record female or not.
	type component struct{ weight, mean, sd float64 }
	var comps []component
	weights := [2]float64{weightA, weightB}
	for _, fem := range []float64{0, female} {
		for mask := range 4 {
			c := component{weight: 0.5, mean: scoreIntercept + shift + fem}
			var variance float64
			for i := range in {
				if mask&(1<<i) != 0 { // broken
					c.weight *= in[i].broken
					continue
				}
				c.weight *= 1 - in[i].broken
				c.mean += weights[i] * in[i].mean
				variance += weights[i] * weights[i] * in[i].sd * in[i].sd
			}
			c.sd = math.Sqrt(variance)
			if c.weight > 0 {
				comps = append(comps, c)
			}
		}
	}
	// The logit's distribution on a grid (a component without spread is a
	// point mass on its nearest grid point).
	const lo, hi, n = -14.0, 14.0, 5601
	step := (hi - lo) / (n - 1)
	mass := make([]float64, n)
	for _, c := range comps {
		if c.sd == 0 {
			mass[min(max(int(math.Round((c.mean-lo)/step)), 0), n-1)] += c.weight
			continue
		}
		for j := range mass {
			z := (lo + float64(j)*step - c.mean) / c.sd
			mass[j] += c.weight * math.Exp(-z*z/2) / (c.sd * math.Sqrt(2*math.Pi)) * step
		}
	}
	var tp, fp, fn, tn, pos, neg float64
	positives := make([]float64, n)
	for j, f := range mass {
		l := lo + float64(j)*step
		s := 1 / (1 + math.Exp(-l))
		positives[j] = f * s
		if l >= 0 {
			tp, fp = tp+f*s, fp+f*(1-s)
		} else {
			fn, tn = fn+f*s, tn+f*(1-s)
		}
	}
	pos, neg = tp+fn, fp+tn
	// ROC AUC: P(a positive's logit above a negative's), ties halved.
	var above, auc float64
	for j := n - 1; j >= 0; j-- {
		auc += (mass[j] - positives[j]) * (above + positives[j]/2)
		above += positives[j]
	}
	return [5]float64{tp + tn, tp / (tp + fp), tp / pos, 2 * tp / (2*tp + fp + fn), auc / (pos * neg)}
}

// performanceDrop returns the largest fall of an expected classifier
// metric in window w of m (its middle at hour of the day h) from the
// changes injected by then, and its metric's name.
func performanceDrop(m synth.Model, w int, h float64) (float64, string) {
	if len(m.Classes) != 2 {
		return 0, ""
	}
	before, after := expectedPerformance(m, w, h, false), expectedPerformance(m, w, h, true)
	var drop float64
	metric := ""
	for k := range before {
		if d := before[k] - after[k]; d > drop {
			drop, metric = d, performanceMetrics[k]
		}
	}
	return drop, metric
}
