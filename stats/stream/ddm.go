package stream

import (
	"fmt"
	"math"
)

// DDMConfig configures a DDM detector. Field names and defaults follow
// river.drift.binary.DDM.
type DDMConfig struct {
	// WarmStart is the number of values seen before warnings or drift can
	// be signalled. Default 30.
	WarmStart int
	// WarningThreshold is the number of standard deviations above the
	// minimum p+s that raises a warning. Default 2.
	WarningThreshold float64
	// DriftThreshold is the number of standard deviations above the minimum
	// p+s that signals drift. Default 3.
	DriftThreshold float64
}

// DefaultDDMConfig returns River's defaults: WarmStart 30,
// WarningThreshold 2, DriftThreshold 3.
func DefaultDDMConfig() DDMConfig {
	return DDMConfig{WarmStart: 30, WarningThreshold: 2, DriftThreshold: 3}
}

// Validate reports whether c can build a detector.
func (c DDMConfig) Validate() error {
	switch {
	case c.WarmStart < 0:
		return fmt.Errorf("ddm: warm_start %d < 0", c.WarmStart)
	case math.IsNaN(c.WarningThreshold) || math.IsInf(c.WarningThreshold, 0):
		return fmt.Errorf("ddm: warning_threshold %v not finite", c.WarningThreshold)
	case math.IsNaN(c.DriftThreshold) || math.IsInf(c.DriftThreshold, 0):
		return fmt.Errorf("ddm: drift_threshold %v not finite", c.DriftThreshold)
	}
	return nil
}

// DDM is the Drift Detection Method of Gama et al. 2004 for a binary error
// stream (1 = error, 0 = correct), as implemented by River. With p_t the
// running error rate after t values and s_t = sqrt(p_t(1−p_t)/t), once
// t > WarmStart it records (p_min, s_min) at the minimum of p_t + s_t and
// signals
//
//	warning  if p_t + s_t > p_min + WarningThreshold·s_min
//	drift    if p_t + s_t > p_min + DriftThreshold·s_min
//
// Inputs are expected in {0, 1}; values in [0, 1] are averaged as River
// does. For running means outside [0, 1] River raises an error, while DDM
// compares NaN (never signalling).
//
// A DDM is not safe for concurrent use.
type DDM struct {
	cfg DDMConfig

	n, p              float64
	pMin, sMin, psMin float64
	warning           bool
	pendingReset      bool
}

// NewDDM returns a DDM detector. It panics if cfg is invalid.
func NewDDM(cfg DDMConfig) *DDM {
	if err := cfg.Validate(); err != nil {
		panic(err)
	}
	d := &DDM{cfg: cfg}
	d.Reset()
	return d
}

// Reset returns the detector to its initial state.
func (d *DDM) Reset() {
	d.n, d.p = 0, 0
	d.pMin, d.sMin, d.psMin = 0, 0, math.Inf(1)
	d.warning = false
	d.pendingReset = false
}

// Warning reports whether the last Update raised a warning (River's
// warning_detected). It is false on the value where drift is signalled.
func (d *DDM) Warning() bool { return d.warning }

// ErrorRate returns the running error rate p_t since the last reset.
func (d *DDM) ErrorRate() float64 { return d.p }

// Update consumes x and reports whether drift is signalled. NaN, ±Inf and
// |x| > MaxAbs are ignored.
func (d *DDM) Update(x float64) bool {
	if ignored(x) {
		return false
	}
	if d.pendingReset {
		d.Reset()
	}
	d.n++
	d.p += (1 / d.n) * (x - d.p)
	s := math.Sqrt(d.p * (1 - d.p) / d.n)
	if !(d.n > float64(d.cfg.WarmStart)) {
		return false
	}
	if d.p+s <= d.psMin {
		d.pMin, d.sMin = d.p, s
		d.psMin = d.pMin + d.sMin
	}
	d.warning = d.p+s > d.pMin+d.cfg.WarningThreshold*d.sMin
	if d.p+s > d.pMin+d.cfg.DriftThreshold*d.sMin {
		d.warning = false
		d.pendingReset = true
		return true
	}
	return false
}
