package stream

import (
	"encoding"
	"errors"
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

// EDDM encodes its state in the package's binary format (state.go).
var (
	_ encoding.BinaryMarshaler   = (*EDDM)(nil)
	_ encoding.BinaryAppender    = (*EDDM)(nil)
	_ encoding.BinaryUnmarshaler = (*EDDM)(nil)
)

// eddmEncodedLen is the length of every EDDM encoding.
const eddmEncodedLen = stateHeaderLen + 8 + 8*2 + 8*3 + 8*4 + 2

// MarshalBinary encodes the detector's whole state, configuration
// included, in 84 bytes, so that UnmarshalBinary into a zero EDDM gives a
// detector that goes on exactly as this one would. It returns an error
// only for an EDDM not built by NewEDDM or UnmarshalBinary.
func (e *EDDM) MarshalBinary() ([]byte, error) {
	return e.AppendBinary(make([]byte, 0, eddmEncodedLen))
}

// AppendBinary appends the encoding of MarshalBinary to b. Layout after
// the type byte 'E' and version byte 1 (state.go):
//
//	WarmStart (int64) | Alpha | Beta (float64 each) | n | lastError |
//	nErrors (int64 each) | distN | distMean | distS | p2sMax (float64
//	each) | warning | pending reset (bool each)
func (e *EDDM) AppendBinary(b []byte) ([]byte, error) {
	if err := e.checkState(); err != nil {
		return b, encodeError("eddm", err)
	}
	return e.appendState(b), nil
}

// appendState appends the encoding without checking the state.
func (e *EDDM) appendState(b []byte) []byte {
	c := e.cfg
	b = appendHeader(b, tagEDDM)
	b = appendInts(b, c.WarmStart)
	b = appendFloats(b, c.Alpha, c.Beta)
	b = appendInts(b, e.n, e.lastError, e.nErrors)
	b = appendFloats(b, e.distN, e.distMean, e.distS, e.p2sMax)
	return appendBools(b, e.warning, e.pendingReset)
}

// UnmarshalBinary replaces e's state with the one MarshalBinary encoded in
// data. It rejects, with an error and e unchanged, data that is not such
// an encoding: another detector's, an unknown format version, a length
// other than 84 bytes, a configuration that fails Validate, or an
// inconsistent state (counts out of order, distance statistics before the
// first error, warning or drift before the warm-up ends).
func (e *EDDM) UnmarshalBinary(data []byte) error {
	d := newStateDecoder(data, tagEDDM)
	var t EDDM
	c := &t.cfg
	c.WarmStart = d.int()
	c.Alpha, c.Beta = d.float(), d.float()
	t.n, t.lastError, t.nErrors = d.int(), d.int(), d.int()
	t.distN, t.distMean, t.distS, t.p2sMax = d.float(), d.float(), d.float(), d.float()
	t.warning, t.pendingReset = d.bool(), d.bool()
	if d.err == nil {
		d.check(t.checkState())
	}
	if err := d.finish(); err != nil {
		return err
	}
	*e = t
	return nil
}

// checkState reports whether e is a state that Update can reach from
// NewEDDM(e.cfg): the invariants UnmarshalBinary enforces.
func (e *EDDM) checkState() error {
	if err := e.cfg.Validate(); err != nil {
		return err
	}
	var fresh EDDM
	fresh.Reset()
	switch {
	case e.n < 0 || e.nErrors < 0 || e.nErrors > e.n || e.lastError < 0 || e.lastError > e.n:
		return fmt.Errorf("%d errors, the last at %d, in %d values", e.nErrors, e.lastError, e.n)
	case (e.nErrors == 0) != (e.lastError == 0) || e.distN != float64(e.nErrors):
		return fmt.Errorf("%d errors, the last at %d, %v distances", e.nErrors, e.lastError, e.distN)
	case e.nErrors == 0 && !(sameBits(e.distMean, fresh.distMean) && sameBits(e.distS, fresh.distS) &&
		sameBits(e.p2sMax, fresh.p2sMax) && !e.warning && !e.pendingReset):
		return errors.New("no errors seen, but statistics are not the initial ones")
	case (e.warning || e.pendingReset) && !(e.n > e.cfg.WarmStart && e.nErrors > e.cfg.WarmStart):
		return fmt.Errorf("warning or drift signalled after %d values and %d errors, warm_start %d", e.n, e.nErrors, e.cfg.WarmStart)
	}
	return nil
}
