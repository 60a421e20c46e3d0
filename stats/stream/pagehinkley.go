package stream

import (
	"encoding"
	"errors"
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

// PageHinkley encodes its state in the package's binary format (state.go).
var (
	_ encoding.BinaryMarshaler   = (*PageHinkley)(nil)
	_ encoding.BinaryAppender    = (*PageHinkley)(nil)
	_ encoding.BinaryUnmarshaler = (*PageHinkley)(nil)
)

// pageHinkleyModes numbers the modes in the encoding.
var pageHinkleyModes = [...]PageHinkleyMode{PageHinkleyUp, PageHinkleyDown, PageHinkleyBoth}

// pageHinkleyEncodedLen is the length of every PageHinkley encoding.
const pageHinkleyEncodedLen = stateHeaderLen + 8*4 + 1 + 8*6 + 1

// MarshalBinary encodes the detector's whole state, configuration
// included, in 84 bytes, so that UnmarshalBinary into a zero PageHinkley
// gives a detector that goes on exactly as this one would. It returns an
// error only for a PageHinkley not built by NewPageHinkley or
// UnmarshalBinary.
func (p *PageHinkley) MarshalBinary() ([]byte, error) {
	return p.AppendBinary(make([]byte, 0, pageHinkleyEncodedLen))
}

// AppendBinary appends the encoding of MarshalBinary to b. Layout after
// the type byte 'P' and version byte 1 (state.go):
//
//	MinInstances (int64) | Delta | Threshold | Alpha (float64 each) |
//	Mode (byte: 0 up, 1 down, 2 both) | n | mean | sumInc | sumDec |
//	minInc | maxDec (float64 each) | pending reset (bool)
//
// The sums can hold ±Inf and NaN (a Delta near the float64 limit
// overflows them); they are copied bit for bit.
func (p *PageHinkley) AppendBinary(b []byte) ([]byte, error) {
	if err := p.checkState(); err != nil {
		return b, encodeError("page_hinkley", err)
	}
	return p.appendState(b), nil
}

// appendState appends the encoding without checking the state.
func (p *PageHinkley) appendState(b []byte) []byte {
	c := p.cfg
	var mode byte // Validate allows only the modes listed
	for i, m := range pageHinkleyModes {
		if m == c.Mode {
			mode = byte(i)
		}
	}
	b = appendHeader(b, tagPageHinkley)
	b = appendInts(b, c.MinInstances)
	b = appendFloats(b, c.Delta, c.Threshold, c.Alpha)
	b = append(b, mode)
	b = appendFloats(b, p.n, p.mean, p.sumInc, p.sumDec, p.minInc, p.maxDec)
	return appendBools(b, p.pendingReset)
}

// UnmarshalBinary replaces p's state with the one MarshalBinary encoded in
// data. It rejects, with an error and p unchanged, data that is not such
// an encoding: another detector's, an unknown format version, a length
// other than 84 bytes, a configuration that fails Validate, or an
// inconsistent state (a count that is not a whole number, statistics
// other than the initial ones before the first value, drift signalled
// before MinInstances values).
func (p *PageHinkley) UnmarshalBinary(data []byte) error {
	d := newStateDecoder(data, tagPageHinkley)
	var t PageHinkley
	c := &t.cfg
	c.MinInstances = d.int()
	c.Delta, c.Threshold, c.Alpha = d.float(), d.float(), d.float()
	if m := int(d.byte()); m < len(pageHinkleyModes) {
		c.Mode = pageHinkleyModes[m]
	} else {
		d.errorf("mode byte %d outside [0, %d]", m, len(pageHinkleyModes)-1)
	}
	t.n, t.mean, t.sumInc, t.sumDec, t.minInc, t.maxDec = d.float(), d.float(), d.float(), d.float(), d.float(), d.float()
	t.pendingReset = d.bool()
	if d.err == nil {
		d.check(t.checkState())
	}
	if err := d.finish(); err != nil {
		return err
	}
	*p = t
	return nil
}

// checkState reports whether p is a state that Update can reach from
// NewPageHinkley(p.cfg): the invariants UnmarshalBinary enforces.
func (p *PageHinkley) checkState() error {
	if err := p.cfg.Validate(); err != nil {
		return err
	}
	var fresh PageHinkley
	fresh.Reset()
	switch {
	case !isCount(p.n):
		return fmt.Errorf("count %v is not a whole number in [0, 2^53]", p.n)
	case p.n == 0 && !(sameBits(p.mean, fresh.mean) && sameBits(p.sumInc, fresh.sumInc) && sameBits(p.sumDec, fresh.sumDec) &&
		sameBits(p.minInc, fresh.minInc) && sameBits(p.maxDec, fresh.maxDec) && !p.pendingReset):
		return errors.New("no values seen, but statistics are not the initial ones")
	case p.pendingReset && p.n < max(1, float64(p.cfg.MinInstances)):
		return fmt.Errorf("drift signalled after %v values, min_instances %d", p.n, p.cfg.MinInstances)
	}
	return nil
}
