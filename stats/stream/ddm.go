package stream

import (
	"encoding"
	"errors"
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

// DDM encodes its state in the package's binary format (state.go).
var (
	_ encoding.BinaryMarshaler   = (*DDM)(nil)
	_ encoding.BinaryAppender    = (*DDM)(nil)
	_ encoding.BinaryUnmarshaler = (*DDM)(nil)
)

// ddmEncodedLen is the length of every DDM encoding.
const ddmEncodedLen = stateHeaderLen + 8*3 + 8*5 + 2

// MarshalBinary encodes the detector's whole state, configuration
// included, in 68 bytes, so that UnmarshalBinary into a zero DDM gives a
// detector that goes on exactly as this one would. It returns an error
// only for a DDM not built by NewDDM or UnmarshalBinary.
func (d *DDM) MarshalBinary() ([]byte, error) {
	return d.AppendBinary(make([]byte, 0, ddmEncodedLen))
}

// AppendBinary appends the encoding of MarshalBinary to b. Layout after
// the type byte 'D' and version byte 1 (state.go):
//
//	WarmStart (int64) | WarningThreshold | DriftThreshold | n | p | pMin |
//	sMin | psMin (float64 each) | warning | pending reset (bool each)
//
// psMin is +Inf until the warm-up ends; NaN and ±Inf are copied bit for
// bit.
func (d *DDM) AppendBinary(b []byte) ([]byte, error) {
	if err := d.checkState(); err != nil {
		return b, encodeError("ddm", err)
	}
	return d.appendState(b), nil
}

// appendState appends the encoding without checking the state.
func (d *DDM) appendState(b []byte) []byte {
	c := d.cfg
	b = appendHeader(b, tagDDM)
	b = appendInts(b, c.WarmStart)
	b = appendFloats(b, c.WarningThreshold, c.DriftThreshold, d.n, d.p, d.pMin, d.sMin, d.psMin)
	return appendBools(b, d.warning, d.pendingReset)
}

// UnmarshalBinary replaces d's state with the one MarshalBinary encoded in
// data. It rejects, with an error and d unchanged, data that is not such
// an encoding: another detector's, an unknown format version, a length
// other than 68 bytes, a configuration that fails Validate, or an
// inconsistent state (a count that is not a whole number, statistics
// other than the initial ones before the first value, warning and drift
// together or before the warm-up ends).
func (d *DDM) UnmarshalBinary(data []byte) error {
	dec := newStateDecoder(data, tagDDM)
	var t DDM
	c := &t.cfg
	c.WarmStart = dec.int()
	c.WarningThreshold, c.DriftThreshold = dec.float(), dec.float()
	t.n, t.p, t.pMin, t.sMin, t.psMin = dec.float(), dec.float(), dec.float(), dec.float(), dec.float()
	t.warning, t.pendingReset = dec.bool(), dec.bool()
	if dec.err == nil {
		dec.check(t.checkState())
	}
	if err := dec.finish(); err != nil {
		return err
	}
	*d = t
	return nil
}

// checkState reports whether d is a state that Update can reach from
// NewDDM(d.cfg): the invariants UnmarshalBinary enforces.
func (d *DDM) checkState() error {
	if err := d.cfg.Validate(); err != nil {
		return err
	}
	var fresh DDM
	fresh.Reset()
	switch {
	case !isCount(d.n):
		return fmt.Errorf("count %v is not a whole number in [0, 2^53]", d.n)
	case d.n == 0 && !(sameBits(d.p, fresh.p) && sameBits(d.pMin, fresh.pMin) && sameBits(d.sMin, fresh.sMin) &&
		sameBits(d.psMin, fresh.psMin) && !d.warning && !d.pendingReset):
		return errors.New("no values seen, but statistics are not the initial ones")
	case d.warning && d.pendingReset:
		return errors.New("warning and drift signalled together")
	case (d.warning || d.pendingReset) && !(d.n > float64(d.cfg.WarmStart)):
		return fmt.Errorf("warning or drift signalled after %v values, warm_start %d", d.n, d.cfg.WarmStart)
	}
	return nil
}
