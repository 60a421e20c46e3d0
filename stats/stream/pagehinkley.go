package stream

import (
	"fmt"
	"math"
)

// PageHinkleyMode selects which direction of mean change PageHinkley
// signals.
type PageHinkleyMode string

// Page-Hinkley modes, named as River's mode argument.
const (
	PageHinkleyUp   PageHinkleyMode = "up"   // signal increases of the mean only
	PageHinkleyDown PageHinkleyMode = "down" // signal decreases of the mean only
	PageHinkleyBoth PageHinkleyMode = "both" // signal either direction
)

// PageHinkleyConfig configures a PageHinkley detector. Field names and
// defaults follow river.drift.PageHinkley.
type PageHinkleyConfig struct {
	// MinInstances is the number of values seen before a drift can be
	// signalled. Default 30.
	MinInstances int
	// Delta is the magnitude of change tolerated per value, in units of the
	// input. Default 0.005.
	Delta float64
	// Threshold is λ, the cumulative deviation (units of the input) above
	// which drift is signalled. Default 50.
	Threshold float64
	// Alpha is the forgetting factor applied to the cumulative sums each
	// update, in (0, 1]. Default 1 − 0.0001.
	Alpha float64
	// Mode selects the direction(s) of change to signal. Default "both".
	Mode PageHinkleyMode
}

// DefaultPageHinkleyConfig returns River's defaults: MinInstances 30,
// Delta 0.005, Threshold 50, Alpha 1−0.0001, Mode both.
func DefaultPageHinkleyConfig() PageHinkleyConfig {
	return PageHinkleyConfig{MinInstances: 30, Delta: 0.005, Threshold: 50, Alpha: 1 - 0.0001, Mode: PageHinkleyBoth}
}

// Validate reports whether c can build a detector.
func (c PageHinkleyConfig) Validate() error {
	switch {
	case c.MinInstances < 0:
		return fmt.Errorf("page_hinkley: min_instances %d < 0", c.MinInstances)
	case math.IsNaN(c.Delta) || math.IsInf(c.Delta, 0):
		return fmt.Errorf("page_hinkley: delta %v not finite", c.Delta)
	case math.IsNaN(c.Threshold) || math.IsInf(c.Threshold, 0):
		return fmt.Errorf("page_hinkley: threshold %v not finite", c.Threshold)
	case !(c.Alpha > 0 && c.Alpha <= 1):
		return fmt.Errorf("page_hinkley: alpha %v outside (0, 1]", c.Alpha)
	}
	switch c.Mode {
	case PageHinkleyUp, PageHinkleyDown, PageHinkleyBoth:
		return nil
	}
	return fmt.Errorf("page_hinkley: invalid mode %q, want up, down or both", c.Mode)
}

// PageHinkley is the Page-Hinkley cumulative-sum test (Page 1954, Hinkley
// 1971) with a forgetting factor, as implemented by River. With x̄_t the
// running mean including x_t:
//
//	U_t = α·U_{t−1} + (x_t − x̄_t) − δ,  m_t = min(m_{t−1}, U_t)   (increase)
//	L_t = α·L_{t−1} + (x_t − x̄_t) + δ,  M_t = max(M_{t−1}, L_t)   (decrease)
//
// Drift is signalled once t ≥ MinInstances and U_t − m_t > λ (mode up),
// M_t − L_t > λ (mode down), or either (mode both). River starts M at −1
// and m at +∞; so does this port.
//
// A PageHinkley is not safe for concurrent use.
type PageHinkley struct {
	cfg PageHinkleyConfig

	n, mean        float64
	sumInc, sumDec float64
	minInc, maxDec float64
	pendingReset   bool
}

// NewPageHinkley returns a PageHinkley detector. It panics if cfg is
// invalid.
func NewPageHinkley(cfg PageHinkleyConfig) *PageHinkley {
	if err := cfg.Validate(); err != nil {
		panic(err)
	}
	p := &PageHinkley{cfg: cfg}
	p.Reset()
	return p
}

// Reset returns the detector to its initial state.
func (p *PageHinkley) Reset() {
	p.n, p.mean = 0, 0
	p.sumInc, p.sumDec = 0, 0
	p.minInc, p.maxDec = math.Inf(1), -1
	p.pendingReset = false
}

// Mean returns the running mean of the values since the last reset.
func (p *PageHinkley) Mean() float64 { return p.mean }

// Update consumes x and reports whether drift is signalled. NaN, ±Inf and
// |x| > MaxAbs are ignored.
func (p *PageHinkley) Update(x float64) bool {
	if ignored(x) {
		return false
	}
	if p.pendingReset {
		p.Reset()
	}
	p.n++
	p.mean += (1 / p.n) * (x - p.mean)
	dev := x - p.mean
	p.sumInc = p.cfg.Alpha*p.sumInc + dev - p.cfg.Delta
	p.sumDec = p.cfg.Alpha*p.sumDec + dev + p.cfg.Delta
	if p.sumInc < p.minInc {
		p.minInc = p.sumInc
	}
	if p.sumDec > p.maxDec {
		p.maxDec = p.sumDec
	}
	if p.n < float64(p.cfg.MinInstances) {
		return false
	}
	inc := p.sumInc - p.minInc
	dec := p.maxDec - p.sumDec
	var drift bool
	switch p.cfg.Mode {
	case PageHinkleyUp:
		drift = inc > p.cfg.Threshold
	case PageHinkleyDown:
		drift = dec > p.cfg.Threshold
	default:
		drift = inc > p.cfg.Threshold || dec > p.cfg.Threshold
	}
	p.pendingReset = drift
	return drift
}
