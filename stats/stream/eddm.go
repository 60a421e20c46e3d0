package stream

import (
	"fmt"
	"math"
)

// EDDMConfig configures an EDDM detector. Field names and defaults follow
// river.drift.binary.EDDM.
type EDDMConfig struct {
	// WarmStart is the number of values, and separately of errors, seen
	// before warnings or drift can be signalled. Default 30.
	WarmStart int
	// Alpha is the warning level: a warning is raised when the ratio
	// (p'+2s')/(p'+2s')_max falls below Alpha. Default 0.95.
	Alpha float64
	// Beta is the drift level: drift is signalled when the ratio falls
	// below Beta. Must not exceed Alpha. Default 0.9.
	Beta float64
}

// DefaultEDDMConfig returns River's defaults: WarmStart 30, Alpha 0.95,
// Beta 0.9.
func DefaultEDDMConfig() EDDMConfig {
	return EDDMConfig{WarmStart: 30, Alpha: 0.95, Beta: 0.9}
}

// Validate reports whether c can build a detector.
func (c EDDMConfig) Validate() error {
	switch {
	case c.WarmStart < 0:
		return fmt.Errorf("eddm: warm_start %d < 0", c.WarmStart)
	case math.IsNaN(c.Alpha) || math.IsNaN(c.Beta):
		return fmt.Errorf("eddm: alpha %v or beta %v is NaN", c.Alpha, c.Beta)
	case c.Alpha < c.Beta:
		return fmt.Errorf("eddm: alpha %v must be greater or equal to beta %v", c.Alpha, c.Beta)
	}
	return nil
}

// EDDM is the Early Drift Detection Method of Baena-García et al. 2006 for
// a binary error stream (exactly 1 = error, anything else = correct), as
// implemented by River. It tracks the distance, in values, between
// consecutive errors: its running mean p' and sample standard deviation s'
// (ddof 1). Once more than WarmStart values have been seen, each error
// either raises the maximum (p'+2s')_max or, when more than WarmStart
// errors have been seen, compares
//
//	level = (p' + 2s') / (p' + 2s')_max
//
// signalling drift if level < Beta, else a warning if level < Alpha, else
// clearing the warning.
//
// An EDDM is not safe for concurrent use.
type EDDM struct {
	cfg EDDMConfig

	n, lastError, nErrors  int
	distN, distMean, distS float64 // running moments of inter-error distances
	p2sMax                 float64
	warning                bool
	pendingReset           bool
}

// NewEDDM returns an EDDM detector. It panics if cfg is invalid.
func NewEDDM(cfg EDDMConfig) *EDDM {
	if err := cfg.Validate(); err != nil {
		panic(err)
	}
	e := &EDDM{cfg: cfg}
	e.Reset()
	return e
}

// Reset returns the detector to its initial state.
func (e *EDDM) Reset() {
	e.n, e.lastError, e.nErrors = 0, 0, 0
	e.distN, e.distMean, e.distS = 0, 0, 0
	e.p2sMax = -1
	e.warning = false
	e.pendingReset = false
}

// Warning reports River's warning_detected: whether the last error at
// which the level was evaluated raised a warning. As in River it persists
// across correct values and is left unchanged on the value where drift is
// signalled.
func (e *EDDM) Warning() bool { return e.warning }

// Update consumes x and reports whether drift is signalled. NaN, ±Inf and
// |x| > MaxAbs are ignored.
func (e *EDDM) Update(x float64) bool {
	if ignored(x) {
		return false
	}
	if e.pendingReset {
		e.Reset()
	}
	e.n++
	if x != 1 {
		return false
	}
	e.nErrors++
	// River's stats.Var update (West 1979), same operation order.
	dist := float64(e.n - e.lastError)
	old := e.distMean
	e.distN++
	e.distMean += (1 / e.distN) * (dist - e.distMean)
	e.distS += (dist - old) * (dist - e.distMean)
	e.lastError = e.n

	if e.n <= e.cfg.WarmStart {
		return false
	}
	variance := 0.0
	if e.distN > 1 {
		variance = e.distS / (e.distN - 1)
	}
	p2s := e.distMean + 2*math.Sqrt(variance)
	if p2s > e.p2sMax {
		e.p2sMax = p2s
		return false
	}
	if e.nErrors <= e.cfg.WarmStart {
		return false
	}
	level := p2s / e.p2sMax
	switch {
	case level < e.cfg.Beta:
		e.pendingReset = true
		return true
	case level < e.cfg.Alpha:
		e.warning = true
	default:
		e.warning = false
	}
	return false
}
