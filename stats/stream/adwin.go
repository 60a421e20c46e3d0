package stream

import (
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
	// two oldest of that size are merged (ADWIN2 exponential histogram).
	// Default 5.
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
	case c.MinWindowLength < 1:
		return fmt.Errorf("adwin: min_window_length %d < 1", c.MinWindowLength)
	case c.GracePeriod < 1:
		return fmt.Errorf("adwin: grace_period %d < 1", c.GracePeriod)
	}
	return nil
}

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
