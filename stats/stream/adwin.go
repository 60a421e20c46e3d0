package stream

import (
	"encoding"
	"fmt"
	"math"
)

// ADWINConfig configures an ADWIN detector. Field names and defaults follow
// river.drift.ADWIN.
type ADWINConfig struct {
	// Delta is the confidence parameter δ ∈ (0, 1) of the cut test;
	// smaller values make detection more conservative. Default 0.002.
	Delta float64
	// Clock is the number of updates between two cut tests (1 tests after
	// every value). Default 32.
	Clock int
	// MaxBuckets is the number M of buckets of each size kept before the
	// two oldest of that size are merged (ADWIN2 exponential histogram),
	// at most 1024 (adwinMaxBuckets). Default 5.
	MaxBuckets int
	// MinWindowLength is the minimum number of values in each of the two
	// sub-windows for a cut to be tested. Default 5.
	MinWindowLength int
	// GracePeriod is the number of values the window must exceed before any
	// cut is tested. Default 10.
	GracePeriod int
}

// DefaultADWINConfig returns River's defaults: Delta 0.002, Clock 32,
// MaxBuckets 5, MinWindowLength 5, GracePeriod 10.
func DefaultADWINConfig() ADWINConfig {
	return ADWINConfig{Delta: 0.002, Clock: 32, MaxBuckets: 5, MinWindowLength: 5, GracePeriod: 10}
}

// Validate reports whether c can build a detector.
func (c ADWINConfig) Validate() error {
	switch {
	case !(c.Delta > 0 && c.Delta < 1):
		return fmt.Errorf("adwin: delta %v outside (0, 1)", c.Delta)
	case c.Clock < 1:
		return fmt.Errorf("adwin: clock %d < 1", c.Clock)
	case c.MaxBuckets < 1:
		return fmt.Errorf("adwin: max_buckets %d < 1", c.MaxBuckets)
	case c.MaxBuckets > adwinMaxBuckets:
		return fmt.Errorf("adwin: max_buckets %d > %d", c.MaxBuckets, adwinMaxBuckets)
	case c.MinWindowLength < 1:
		return fmt.Errorf("adwin: min_window_length %d < 1", c.MinWindowLength)
	case c.GracePeriod < 1:
		return fmt.Errorf("adwin: grace_period %d < 1", c.GracePeriod)
	}
	return nil
}

// adwinMaxBuckets bounds ADWINConfig.MaxBuckets. River sets no bound, but
// NewADWIN preallocates 40·(MaxBuckets+1) buckets of 16 bytes (656 kB at
// this bound), and UnmarshalBinary allocates the same from a few bytes of
// untrusted input, so the bound keeps that allocation small. The
// histogram's relative error is about 1/MaxBuckets; River's default is 5.
const adwinMaxBuckets = 1 << 10

// adwinMaxRows bounds the number of bucket rows UnmarshalBinary accepts.
// The top row of a window is never empty, so r rows hold at least
// 2^(r−1) values: 64 rows are more than any stream reaches.
const adwinMaxRows = 64

// adwinPreallocRows is the number of bucket rows allocated up front. Row i
// holds buckets of 2^i values, so 40 rows cover windows of more than 2^40
// values; rows beyond are appended (never in practice).
const adwinPreallocRows = 40

// ADWIN is the ADaptive WINdowing detector (ADWIN2 of Bifet & Gavaldà
// 2007) as implemented by River: it keeps a window W of recent values,
// compressed into an exponential histogram of buckets, and every Clock
// updates tests each cut W = W0·W1 (W0 older) at bucket boundaries. A cut
// with n0, n1 ≥ MinWindowLength signals change when
//
//	|µ̂0 − µ̂1| > ε,  ε = sqrt(2·m·σ̂²·δ') + (2/3)·δ'·m,
//	m = 1/(n0 − L + 1) + 1/(n1 − L + 1),  δ' = ln(2·ln|W| / δ),
//
// where L is MinWindowLength and σ̂² is the window variance (Σ(x−µ̂)²/|W|).
// On a cut the oldest bucket is dropped and the test repeats. Update
// returns true if any bucket was dropped.
//
// An ADWIN is not safe for concurrent use.
type ADWIN struct {
	cfg ADWINConfig

	total, variance, width float64 // sum, Σ(x−µ)², count of the window
	tick                   int

	// Exponential histogram: row i holds cur[i] ≤ MaxBuckets+1 buckets of
	// 2^i values each, oldest first, at totals/vars[i*(M+1) : i*(M+1)+cur[i]].
	cur          []int
	totals, vars []float64

	pendingReset bool
}

// NewADWIN returns an ADWIN detector. It panics if cfg is invalid.
func NewADWIN(cfg ADWINConfig) *ADWIN {
	if err := cfg.Validate(); err != nil {
		panic(err)
	}
	stride := cfg.MaxBuckets + 1
	a := &ADWIN{
		cfg:    cfg,
		cur:    make([]int, 1, adwinPreallocRows),
		totals: make([]float64, stride, adwinPreallocRows*stride),
		vars:   make([]float64, stride, adwinPreallocRows*stride),
	}
	return a
}

// Reset empties the window, keeping allocated memory.
func (a *ADWIN) Reset() {
	stride := a.cfg.MaxBuckets + 1
	a.total, a.variance, a.width, a.tick = 0, 0, 0, 0
	a.cur = a.cur[:1]
	a.cur[0] = 0
	a.totals = a.totals[:stride]
	a.vars = a.vars[:stride]
	clear(a.totals)
	clear(a.vars)
	a.pendingReset = false
}

// Width returns the number of values in the current window.
func (a *ADWIN) Width() int { return int(a.width) }

// Estimation returns the mean of the values in the current window, or 0
// for an empty window.
func (a *ADWIN) Estimation() float64 {
	if a.width == 0 {
		return 0
	}
	return a.total / a.width
}

// Total returns the sum of the values in the current window.
func (a *ADWIN) Total() float64 { return a.total }

// Variance returns the population variance Σ(x−µ̂)²/|W| of the current
// window (River's variance_in_window), or 0 for an empty window. River's
// running sum of squares can round below 0 after cuts when the values
// barely vary against their magnitude (a constant stream of 1e100 gave
// -1.5e168); Variance then reports 0, while the cut test keeps River's
// arithmetic.
func (a *ADWIN) Variance() float64 {
	if a.width == 0 {
		return 0
	}
	return max(a.variance/a.width, 0)
}

// Update adds x to the window and reports whether a change was detected.
// NaN, ±Inf and |x| > MaxAbs are ignored.
func (a *ADWIN) Update(x float64) bool {
	if ignored(x) {
		return false
	}
	if a.pendingReset {
		a.Reset()
	}
	a.insert(x)
	drift := a.detectChange()
	a.pendingReset = drift
	return drift
}

func (a *ADWIN) insert(x float64) {
	a.push(0, x, 0)
	// Streaming variance, same operation order as River.
	a.width++
	if a.width > 1 {
		d := x - a.total/(a.width-1)
		a.variance += (a.width - 1) * d * d / a.width
	}
	a.total += x
	a.compress()
}

func (a *ADWIN) push(row int, total, variance float64) {
	i := row*(a.cfg.MaxBuckets+1) + a.cur[row]
	a.totals[i] = total
	a.vars[i] = variance
	a.cur[row]++
}

// shift drops the n oldest buckets of row.
func (a *ADWIN) shift(row, n int) {
	base := row * (a.cfg.MaxBuckets + 1)
	c := a.cur[row]
	copy(a.totals[base:base+c-n], a.totals[base+n:base+c])
	copy(a.vars[base:base+c-n], a.vars[base+n:base+c])
	clear(a.totals[base+c-n : base+c])
	clear(a.vars[base+c-n : base+c])
	a.cur[row] = c - n
}

func (a *ADWIN) addRow() {
	stride := a.cfg.MaxBuckets + 1
	a.cur = append(a.cur, 0)
	for range stride {
		a.totals = append(a.totals, 0)
		a.vars = append(a.vars, 0)
	}
}

func (a *ADWIN) compress() {
	stride := a.cfg.MaxBuckets + 1
	for row := 0; a.cur[row] == a.cfg.MaxBuckets+1; row++ {
		n1 := math.Ldexp(1, row)
		base := row * stride
		t0, t1 := a.totals[base], a.totals[base+1]
		v0, v1 := a.vars[base], a.vars[base+1]
		mu1, mu2 := t0/n1, t1/n1
		v12 := v0 + v1 + n1*0.5*(mu1-mu2)*(mu1-mu2)
		if row+1 >= len(a.cur) {
			a.addRow()
		}
		a.push(row+1, t0+t1, v12)
		a.shift(row, 2)
		if a.cur[row+1] <= a.cfg.MaxBuckets {
			break
		}
	}
}

// deleteOldest drops the oldest bucket of the window.
func (a *ADWIN) deleteOldest() {
	last := len(a.cur) - 1
	n := math.Ldexp(1, last)
	base := last * (a.cfg.MaxBuckets + 1)
	u, v := a.totals[base], a.vars[base]
	mu := u / n
	a.width -= n
	a.total -= u
	muW := a.total / a.width
	a.variance -= v + n*a.width*(mu-muW)*(mu-muW)/(n+a.width)
	a.shift(last, 1)
	// Drop the emptied top row, and any empty rows it uncovers: with
	// MaxBuckets 1 compress empties a row whenever it merges its two
	// buckets, so rows below the top can be empty, and deleting from an
	// empty top row would slice out of range.
	for last > 0 && a.cur[last] == 0 {
		a.cur = a.cur[:last]
		a.totals = a.totals[:base]
		a.vars = a.vars[:base]
		last--
		base -= a.cfg.MaxBuckets + 1
	}
}

func (a *ADWIN) detectChange() bool {
	change := false
	a.tick++
	if a.tick%a.cfg.Clock != 0 || !(a.width > float64(a.cfg.GracePeriod)) {
		return false
	}
	minLen := float64(a.cfg.MinWindowLength)
	stride := a.cfg.MaxBuckets + 1
	for reduce := true; reduce; {
		reduce = false
		n0, n1 := 0.0, a.width
		u0, u1 := 0.0, a.total
	outer:
		for row := len(a.cur) - 1; row >= 0; row-- {
			size := math.Ldexp(1, row)
			c := a.cur[row]
			for k := range c {
				n0 += size
				n1 -= size
				t := a.totals[row*stride+k]
				u0 += t
				u1 -= t
				if row == 0 && k == c-1 {
					break outer
				}
				dm := u0/n0 - u1/n1
				if n1 >= minLen && n0 >= minLen && a.cut(n0, n1, dm) {
					reduce, change = true, true
					if a.width > 0 {
						a.deleteOldest()
						break outer
					}
				}
			}
		}
	}
	return change
}

func (a *ADWIN) cut(n0, n1, deltaMean float64) bool {
	minLen := float64(a.cfg.MinWindowLength)
	dp := math.Log(2 * math.Log(a.width) / a.cfg.Delta)
	m := 1/(n0-minLen+1) + 1/(n1-minLen+1)
	eps := math.Sqrt(2*m*(a.variance/a.width)*dp) + 2.0/3.0*dp*m
	return math.Abs(deltaMean) > eps
}

// ADWIN encodes its state in the package's binary format (state.go).
var (
	_ encoding.BinaryMarshaler   = (*ADWIN)(nil)
	_ encoding.BinaryAppender    = (*ADWIN)(nil)
	_ encoding.BinaryUnmarshaler = (*ADWIN)(nil)
)

// MarshalBinary encodes the detector's whole state, configuration
// included, so that UnmarshalBinary into a zero ADWIN gives a detector
// that goes on exactly as this one would (same Update results, same
// accessors). The encoding takes 83 + 8·rows + 16·buckets bytes: 1443
// bytes for a window of 10^6 values with the defaults (18 rows). It
// returns an error only for an ADWIN not built by NewADWIN or
// UnmarshalBinary.
func (a *ADWIN) MarshalBinary() ([]byte, error) {
	return a.AppendBinary(make([]byte, 0, a.encodedLen()))
}

// AppendBinary appends the encoding of MarshalBinary to b. Layout after
// the type byte 'A' and version byte 1 (state.go):
//
//	Delta (float64) | Clock | MaxBuckets | MinWindowLength | GracePeriod
//	(int64 each) | total | variance | width (float64 each) | tick (int64) |
//	pending reset (bool) | rows (int64) | each row, smallest buckets first:
//	its bucket count (int64), then per bucket, oldest first, its total
//	and variance (float64 each).
func (a *ADWIN) AppendBinary(b []byte) ([]byte, error) {
	if err := a.checkState(); err != nil {
		return b, encodeError("adwin", err)
	}
	return a.appendState(b), nil
}

func (a *ADWIN) encodedLen() int {
	n := stateHeaderLen + 8*10 + 1 + 8*len(a.cur)
	for _, c := range a.cur {
		n += 16 * c
	}
	return n
}

// appendState appends the encoding without checking the state.
func (a *ADWIN) appendState(b []byte) []byte {
	c := a.cfg
	b = appendHeader(b, tagADWIN)
	b = appendFloats(b, c.Delta)
	b = appendInts(b, c.Clock, c.MaxBuckets, c.MinWindowLength, c.GracePeriod)
	b = appendFloats(b, a.total, a.variance, a.width)
	b = appendInts(b, a.tick)
	b = appendBools(b, a.pendingReset)
	b = appendInts(b, len(a.cur))
	stride := c.MaxBuckets + 1
	for row, n := range a.cur {
		b = appendInts(b, n)
		for i := row * stride; i < row*stride+n; i++ {
			b = appendFloats(b, a.totals[i], a.vars[i])
		}
	}
	return b
}

// UnmarshalBinary replaces a's state with the one MarshalBinary encoded in
// data. It rejects, with an error and a unchanged, data that is not such
// an encoding: another detector's, an unknown format version, truncated
// or trailing bytes, a configuration that fails Validate, or an
// inconsistent window (more than 64 rows, a row with more than MaxBuckets
// buckets, an empty top row, a width other than the buckets' count or
// above 2^53, more values than updates, non-finite sums). It allocates what NewADWIN does,
// at most 656 kB, plus 16 bytes per encoded bucket, so it is safe on
// untrusted input.
func (a *ADWIN) UnmarshalBinary(data []byte) error {
	d := newStateDecoder(data, tagADWIN)
	var t ADWIN
	c := &t.cfg
	c.Delta = d.float()
	c.Clock, c.MaxBuckets, c.MinWindowLength, c.GracePeriod = d.int(), d.int(), d.int(), d.int()
	t.total, t.variance, t.width = d.float(), d.float(), d.float()
	t.tick = d.int()
	t.pendingReset = d.bool()
	rows := d.int()
	if d.err == nil {
		d.check(c.Validate())
	}
	if d.err == nil && (rows < 1 || rows > adwinMaxRows) {
		d.errorf("%d bucket rows outside [1, %d]", rows, adwinMaxRows)
	}
	if d.err != nil {
		return d.finish()
	}
	stride := c.MaxBuckets + 1
	capRows := max(rows, adwinPreallocRows)
	t.cur = make([]int, rows, capRows)
	t.totals = make([]float64, rows*stride, capRows*stride)
	t.vars = make([]float64, rows*stride, capRows*stride)
	for row := range t.cur {
		n := d.int()
		if d.err == nil && (n < 0 || n > c.MaxBuckets) {
			d.errorf("row %d holds %d buckets, outside [0, %d]", row, n, c.MaxBuckets)
		}
		if d.err != nil {
			break
		}
		t.cur[row] = n
		for i := row * stride; i < row*stride+n; i++ {
			t.totals[i], t.vars[i] = d.float(), d.float()
		}
	}
	if d.err == nil {
		d.check(t.checkState())
	}
	if err := d.finish(); err != nil {
		return err
	}
	*a = t
	return nil
}

// checkState reports whether a is a state that Update can reach from
// NewADWIN(a.cfg): the invariants UnmarshalBinary enforces.
func (a *ADWIN) checkState() error {
	c := a.cfg
	if err := c.Validate(); err != nil {
		return err
	}
	stride := c.MaxBuckets + 1
	rows := len(a.cur)
	switch {
	case rows < 1 || rows > adwinMaxRows:
		return fmt.Errorf("%d bucket rows outside [1, %d]", rows, adwinMaxRows)
	case len(a.totals) != rows*stride || len(a.vars) != rows*stride:
		return fmt.Errorf("%d, %d bucket slots for %d rows of %d", len(a.totals), len(a.vars), rows, stride)
	case rows > 1 && a.cur[rows-1] == 0:
		return fmt.Errorf("top row %d is empty", rows-1)
	}
	width := 0.0
	for row, n := range a.cur {
		if n < 0 || n > c.MaxBuckets {
			return fmt.Errorf("row %d holds %d buckets, outside [0, %d]", row, n, c.MaxBuckets)
		}
		for k := range n {
			t, v := a.totals[row*stride+k], a.vars[row*stride+k]
			// Buckets of row 0 hold one accepted value each; merged
			// buckets add non-negative variances (compress).
			if !allFinite(t, v) || v < 0 || row == 0 && (ignored(t) || v != 0) {
				return fmt.Errorf("bucket %d of row %d: total %v, variance %v", k, row, t, v)
			}
		}
		width += float64(n) * math.Ldexp(1, row)
	}
	switch {
	case a.width != width:
		return fmt.Errorf("width %v, buckets hold %v values", a.width, width)
	case a.width > maxCount:
		// Beyond 2^53 the float64 width and cut sums round; states
		// below it keep Update's arithmetic exact, as in a real window.
		return fmt.Errorf("width %v above 2^53", a.width)
	case !allFinite(a.total, a.variance):
		return fmt.Errorf("total %v, variance %v", a.total, a.variance)
	case a.tick < 0 || float64(a.tick) < a.width:
		return fmt.Errorf("%v values in the window after %d updates", a.width, a.tick)
	case a.pendingReset && a.tick%c.Clock != 0:
		return fmt.Errorf("drift signalled at update %d, between cut tests every %d", a.tick, c.Clock)
	}
	return nil
}
