package drift

import (
	"math"

	"github.com/driftwatch/driftwatch/baselines"
	"github.com/driftwatch/driftwatch/stats"
)

// Calibration configures reference-calibrated thresholds: instead of a
// fixed value, a distance is judged against how much it varies between the
// reference and its own sub-windows of the production window's size.
//
// For a window of n values of a subject, the baseline's Sample (the
// reference in order, reduced to cells) is cut into k = len/n consecutive
// sub-windows of n values; for each, the metric compares the rest of the
// sample (the sub-window excluded from its own reference) with the
// sub-window, on the same cells as production. The threshold is
// mean + Sigmas·sd of the k values (sd with k-1 in the denominator), and a
// row is drifted when its value is beyond it. Consecutive sub-windows keep
// whatever variation the reference has over time (a production-period
// baseline keeps its daily cycle), so the threshold reflects real
// window-to-window noise, not only sampling noise.
//
// Only distances are calibrated (tests keep their p-value threshold):
// every metric computed from cell counts, and wasserstein and energy with
// both sides' mass at the reference bin means. Where the sample gives fewer
// than MinSubWindows sub-windows (a window larger than len/MinSubWindows,
// or a baseline without a sample), the static threshold is used and the
// row's ThresholdSource says "static_fallback". Only the upper side is
// used: a distance smaller than usual is not drift.
type Calibration struct {
	Enabled       bool
	Sigmas        float64
	MinSubWindows int
}

// Threshold sources, in Row.ThresholdSource.
const (
	SourceStatic         = "static"
	SourceCalibrated     = "calibrated"
	SourceStaticFallback = "static_fallback"
)

// calibratable reports whether metric can be calibrated.
func calibratable(metric string) bool {
	s := specs[metric]
	return s.cells != nil || metric == MetricWasserstein || metric == MetricEnergy
}

// calibrate returns the calibrated threshold of each of metrics for a window
// of n values, or nil when the sample is too small.
func calibrate(bf *baselines.Feature, pr *pair, n int64, metrics []string, c Calibration) map[string]float64 {
	s := bf.Sample
	if s == nil || n <= 0 {
		return nil
	}
	k := int64(len(s.Cells)) / n
	if k < int64(max(c.MinSubWindows, 2)) {
		return nil
	}
	cells := bf.NumCells()
	total := make([]float64, cells)
	for _, x := range s.Cells {
		total[x]++
	}
	// Reference bin means, where the sample can fall (numeric).
	var pos []float64
	if bf.Kind == baselines.Numeric {
		pos = make([]float64, cells)
		for i, cnt := range bf.Counts {
			if cnt > 0 {
				pos[i] = bf.Sums[i] / float64(cnt)
			}
		}
	}
	values := make(map[string][]float64, len(metrics))
	sub, rest := make([]float64, cells), make([]float64, cells)
	for i := range k {
		clear(sub)
		for _, x := range s.Cells[i*n : (i+1)*n] {
			sub[x]++
		}
		for j := range rest {
			rest[j] = total[j] - sub[j]
		}
		r, cur := rest, sub
		if bf.Kind == baselines.Numeric {
			r, cur = stats.Regroup(rest, pr.ends), stats.Regroup(sub, pr.ends)
		}
		for _, m := range metrics {
			var v float64
			switch {
			case specs[m].cells != nil:
				v = specs[m].cells(r, cur)
			case m == MetricWasserstein && pos != nil:
				v = stats.Wasserstein(pos, rest, pos, sub)
			case m == MetricEnergy && pos != nil:
				v = stats.EnergyDistance(pos, rest, pos, sub)
			default:
				continue
			}
			values[m] = append(values[m], v)
		}
	}
	out := make(map[string]float64, len(values))
	for m, vs := range values {
		mean, sd := meanSD(vs)
		if !math.IsNaN(mean) && !math.IsNaN(sd) {
			out[m] = mean + c.Sigmas*sd
		}
	}
	return out
}

// meanSD returns the mean and the sample standard deviation of xs.
func meanSD(xs []float64) (mean, sd float64) {
	var m stats.Moments
	for _, x := range xs {
		m.Add(x)
	}
	if m.N < 2 {
		return math.NaN(), math.NaN()
	}
	return m.Mean, math.Sqrt(m.M2 / (m.N - 1))
}
