package perf

import "math"

// MAPEEps is the lower bound on |y| in the MAPE denominator: the float64
// machine epsilon, as sklearn.metrics.mean_absolute_percentage_error, so a
// true value of 0 contributes |ŷ|/2^-52 (huge but finite) instead of +Inf.
const MAPEEps = 0x1p-52

// RegressionSums is the mergeable state of a regression model: weighted
// sums of the error e = ŷ - y and its powers, of the absolute percentage
// error, and the running weighted mean and centred sum of squares of y
// (West 1979, merged by Chan, Golub & LeVeque 1979), used by R2 instead of
// sum y² because sum y² - (sum y)²/W cancels catastrophically when |mean y|
// is large against its spread. The zero value is an empty state.
type RegressionSums struct {
	W       float64 // total weight (count with unit weights)
	SumE    float64 // sum w e
	SumE2   float64 // sum w e²
	SumE4   float64 // sum w e⁴ (for the RMSE interval)
	SumAbsE float64 // sum w |e|
	SumAPE  float64 // sum w |e| / max(|y|, MAPEEps)
	MeanY   float64 // weighted mean of y
	M2Y     float64 // sum w (y - MeanY)²
	Dropped float64 // observations rejected by Add
}

// Add records one observation with true value y, prediction yhat and
// frequency weight w. Non-finite y or yhat and weights that are not finite
// and positive are counted in Dropped. Add does not allocate.
func (r *RegressionSums) Add(y, yhat, w float64) {
	if !validWeight(w) || math.IsNaN(y) || math.IsInf(y, 0) || math.IsNaN(yhat) || math.IsInf(yhat, 0) {
		r.Dropped++
		return
	}
	e := yhat - y
	ae := math.Abs(e)
	e2 := e * e
	r.W += w
	r.SumE += w * e
	r.SumE2 += w * e2
	r.SumE4 += w * e2 * e2
	r.SumAbsE += w * ae
	r.SumAPE += w * ae / math.Max(math.Abs(y), MAPEEps)
	d := y - r.MeanY
	r.MeanY += d * w / r.W
	r.M2Y = max(0, r.M2Y+w*d*(y-r.MeanY)) // rounding can go below 0
}

// Merge adds o into r (Chan et al. pairwise update for the y moments).
func (r *RegressionSums) Merge(o RegressionSums) {
	if o.W > 0 {
		w := r.W + o.W
		d := o.MeanY - r.MeanY
		r.M2Y = max(0, r.M2Y+o.M2Y+d*d*(r.W/w)*o.W)
		r.MeanY += d * o.W / w
		r.W = w
	}
	r.SumE += o.SumE
	r.SumE2 += o.SumE2
	r.SumE4 += o.SumE4
	r.SumAbsE += o.SumAbsE
	r.SumAPE += o.SumAPE
	r.Dropped += o.Dropped
}

// MAE returns the mean absolute error sum w|ŷ-y| / W, in the units of y, as
// sklearn.metrics.mean_absolute_error; (NaN, false) if W = 0.
func (r RegressionSums) MAE() (float64, bool) { return ratio(r.SumAbsE, r.W) }

// MSE returns the mean squared error sum w(ŷ-y)² / W, in squared units of
// y; (NaN, false) if W = 0.
func (r RegressionSums) MSE() (float64, bool) { return ratio(r.SumE2, r.W) }

// RMSE returns sqrt(MSE), in the units of y, as
// sklearn.metrics.root_mean_squared_error; (NaN, false) if W = 0.
func (r RegressionSums) RMSE() (float64, bool) {
	m, ok := r.MSE()
	return math.Sqrt(m), ok
}

// MeanError returns the mean signed error (bias) sum w(ŷ-y) / W, in the
// units of y; (NaN, false) if W = 0.
func (r RegressionSums) MeanError() (float64, bool) { return ratio(r.SumE, r.W) }

// MAPE returns the mean absolute percentage error as a fraction (not
// multiplied by 100), sum w|ŷ-y|/max(|y|, MAPEEps) / W, as
// sklearn.metrics.mean_absolute_percentage_error, including its treatment
// of y = 0; (NaN, false) if W = 0.
func (r RegressionSums) MAPE() (float64, bool) { return ratio(r.SumAPE, r.W) }

// R2 returns the coefficient of determination (dimensionless, <= 1)
//
//	R² = 1 - sum w(y-ŷ)² / sum w(y-ȳ)²
//
// as sklearn.metrics.r2_score with force_finite=True: if y is constant
// (sum w(y-ȳ)² = 0) it is 1 for a perfect prediction and 0 otherwise. It
// returns (NaN, false) if fewer than two observations' weight (W < 2), where
// sklearn warns and returns NaN, or if W or either sum of squares
// overflowed float64.
func (r RegressionSums) R2() (float64, bool) {
	if !(r.W >= 2) || !finite(r.W, r.SumE2, r.M2Y) {
		return math.NaN(), false
	}
	if r.M2Y == 0 {
		if r.SumE2 == 0 {
			return 1, true
		}
		return 0, true
	}
	return 1 - r.SumE2/r.M2Y, true
}

// MAEInterval returns the normal-approximation interval MAE ± z·sd(|e|)/√W,
// with sd the sample standard deviation of |e| (from sum w e² and
// sum w|e|, so no extra state). It assumes independent errors and W large
// enough for the central limit theorem (say W >= 30); lo is clamped at 0.
// (NaN, NaN, false) if W < 2, z is negative or NaN, or W or a sum it uses
// overflowed float64.
func (r RegressionSums) MAEInterval(z float64) (lo, hi float64, ok bool) {
	if !(r.W >= 2) || !(z >= 0) || !finite(r.W, r.SumAbsE, r.SumE2) {
		return math.NaN(), math.NaN(), false
	}
	m := r.SumAbsE / r.W
	v := math.Max(0, (r.SumE2/r.W-m*m)*r.W/(r.W-1))
	h := z * math.Sqrt(v/r.W)
	return math.Max(0, m-h), m + h, true
}

// RMSEInterval returns sqrt of the normal-approximation interval for the
// MSE, MSE ± z·sd(e²)/√W, with sd the sample standard deviation of e² (from
// sum w e⁴). The same assumptions as MAEInterval; heavy-tailed errors make
// it optimistic. (NaN, NaN, false) if W < 2, z is negative or NaN, or W or
// a sum it uses overflowed float64 (sum w e⁴ does for errors beyond about
// 1e77).
func (r RegressionSums) RMSEInterval(z float64) (lo, hi float64, ok bool) {
	if !(r.W >= 2) || !(z >= 0) || !finite(r.W, r.SumE2, r.SumE4) {
		return math.NaN(), math.NaN(), false
	}
	m := r.SumE2 / r.W
	v := math.Max(0, (r.SumE4/r.W-m*m)*r.W/(r.W-1))
	h := z * math.Sqrt(v/r.W)
	return math.Sqrt(math.Max(0, m-h)), math.Sqrt(m + h), true
}
