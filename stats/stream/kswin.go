package stream

import (
	"encoding"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"
)

// KSWINConfig configures a KSWIN detector. Field names and defaults follow
// river.drift.KSWIN.
type KSWINConfig struct {
	// Alpha is the significance level of the Kolmogorov-Smirnov test, in
	// [0, 1]. Default 0.005.
	Alpha float64
	// WindowSize is the number of most recent values kept. Default 100.
	WindowSize int
	// StatSize is the number r of most recent values compared against r
	// values sampled from the older part of the window; 2·StatSize must not
	// exceed WindowSize (River raises at the first full window otherwise).
	// Default 30.
	StatSize int
	// Seed seeds the sampler exactly as random.Random(Seed) in Python.
	// River's default is None (seeded from the OS, not reproducible); the
	// Go default is 0.
	Seed int64
}

// DefaultKSWINConfig returns River's defaults (Alpha 0.005, WindowSize
// 100, StatSize 30) with Seed 0 in place of River's unseeded None.
func DefaultKSWINConfig() KSWINConfig {
	return KSWINConfig{Alpha: 0.005, WindowSize: 100, StatSize: 30, Seed: 0}
}

// kswinMaxWindow bounds WindowSize so that sampling indices fit the 32-bit
// fast path of Python's getrandbits.
const kswinMaxWindow = 1 << 30

// kswinMaxStat is SciPy's MAX_AUTO_N: ks_2samp(method="auto") uses the
// exact p-value only up to this sample size, and only the exact p-value is
// implemented here.
const kswinMaxStat = 10000

// Validate reports whether c can build a detector.
func (c KSWINConfig) Validate() error {
	switch {
	case !(c.Alpha >= 0 && c.Alpha <= 1):
		return fmt.Errorf("kswin: alpha %v outside [0, 1]", c.Alpha)
	case c.StatSize < 1:
		return fmt.Errorf("kswin: stat_size %d < 1", c.StatSize)
	case c.WindowSize < 2*c.StatSize:
		return fmt.Errorf("kswin: window_size %d < 2*stat_size %d", c.WindowSize, 2*c.StatSize)
	case c.StatSize > kswinMaxStat:
		return fmt.Errorf("kswin: stat_size %d > %d", c.StatSize, kswinMaxStat)
	case c.WindowSize > kswinMaxWindow:
		return fmt.Errorf("kswin: window_size %d > %d", c.WindowSize, kswinMaxWindow)
	}
	return nil
}

// KSWIN is the Kolmogorov-Smirnov WINdowing detector of Raab, Heusinger &
// Schleif 2020, as implemented by River. It keeps the last n = WindowSize
// values; once the window is full, every update compares the r = StatSize
// most recent values R with r values S drawn without replacement from the
// n − r older ones (random.sample with Python's generator) by the
// two-sample Kolmogorov-Smirnov test, and signals drift if
//
//	p ≤ Alpha  and  D > 0.1,  D = sup_x |F_R(x) − F_S(x)|,
//
// with p the exact two-sided p-value of SciPy's ks_2samp for equal sample
// sizes (Hodges 1958, method of _compute_prob_outside_square). As in River,
// the detector restarts from an empty window (and a re-seeded sampler) on
// the update after a drift.
//
// A KSWIN is not safe for concurrent use.
type KSWIN struct {
	cfg KSWINConfig
	rng pyRandom

	ring       []float64 // window, oldest at head once full
	head, size int
	pValue     float64
	stat       float64

	idx          []int // sampled indices
	pool         []int
	seen         []bool
	sample, last []float64

	pendingReset bool
}

// NewKSWIN returns a KSWIN detector. It panics if cfg is invalid.
func NewKSWIN(cfg KSWINConfig) *KSWIN {
	if err := cfg.Validate(); err != nil {
		panic(err)
	}
	k := &KSWIN{cfg: cfg}
	k.allocate()
	k.Reset()
	return k
}

// allocate sizes the window and the scratch buffers for k.cfg.
func (k *KSWIN) allocate() {
	w, r := k.cfg.WindowSize, k.cfg.StatSize
	k.ring = make([]float64, w)
	k.idx = make([]int, r)
	k.pool = make([]int, w-r)
	k.seen = make([]bool, w-r)
	k.sample = make([]float64, r)
	k.last = make([]float64, r)
}

// Reset empties the window and re-seeds the sampler.
func (k *KSWIN) Reset() {
	k.head, k.size = 0, 0
	k.pValue, k.stat = 0, 0
	k.rng.seed(k.cfg.Seed)
	k.pendingReset = false
}

// PValue returns the p-value of the last test, or 0 before the window
// first fills (as River's p_value).
func (k *KSWIN) PValue() float64 { return k.pValue }

// Statistic returns the Kolmogorov-Smirnov statistic D of the last test,
// or 0 before the window first fills.
func (k *KSWIN) Statistic() float64 { return k.stat }

// Update appends x to the window and reports whether drift is signalled.
// NaN, ±Inf and |x| > MaxAbs are ignored.
func (k *KSWIN) Update(x float64) bool {
	if ignored(x) {
		return false
	}
	if k.pendingReset {
		k.Reset()
	}
	w := k.cfg.WindowSize
	if k.size < w {
		k.ring[(k.head+k.size)%w] = x
		k.size++
	} else {
		k.ring[k.head] = x
		k.head = (k.head + 1) % w
	}
	if k.size < w {
		return false
	}
	r := k.cfg.StatSize
	k.rng.sample(w-r, k.idx, k.pool, k.seen)
	for i, j := range k.idx {
		k.sample[i] = k.ring[(k.head+j)%w]
	}
	for i := range r {
		k.last[i] = k.ring[(k.head+w-r+i)%w]
	}
	h := ksMaxCountDiff(k.sample, k.last)
	k.stat = float64(h) / float64(r)
	k.pValue = ksExactEqualN(r, h)
	drift := k.pValue <= k.cfg.Alpha && k.stat > 0.1
	k.pendingReset = drift
	return drift
}

// ksMaxCountDiff sorts a and b in place (equal lengths) and returns
// n·D = max over x of |#{a ≤ x} − #{b ≤ x}|, the integer form of the
// two-sample statistic that scipy.stats.ks_2samp rounds to before its
// exact p-value.
func ksMaxCountDiff(a, b []float64) int {
	slices.Sort(a)
	slices.Sort(b)
	i, j, h := 0, 0, 0
	for i < len(a) || j < len(b) {
		// Advance past the next distinct value in either sample.
		var v float64
		switch {
		case i == len(a):
			v = b[j]
		case j == len(b):
			v = a[i]
		default:
			v = min(a[i], b[j])
		}
		for i < len(a) && a[i] <= v {
			i++
		}
		for j < len(b) && b[j] <= v {
			j++
		}
		h = max(h, i-j, j-i)
	}
	return h
}

// ksExactEqualN is SciPy's _compute_prob_outside_square(n, h): the exact
// two-sided p-value P(D ≥ h/n) of the two-sample Kolmogorov-Smirnov
// statistic for two samples of size n,
//
//	P = 2 Σ_{k≥1} (−1)^{k+1} C(2n, n−kh)/C(2n, n),
//
// evaluated by SciPy's alternating recursion in the same operation order,
// then clipped to [0, 1]. It returns 1 for h = 0.
func ksExactEqualN(n, h int) float64 {
	if h == 0 {
		return 1
	}
	p := 0.0
	for k := n / h; k >= 0; k-- {
		p1 := 1.0
		for j := range h {
			p1 = float64(n-k*h-j) * p1 / float64(n+k*h+j+1)
		}
		p = p1 * (1 - p)
	}
	return min(max(2*p, 0), 1)
}

// KSWIN encodes its state in the package's binary format (state.go).
var (
	_ encoding.BinaryMarshaler   = (*KSWIN)(nil)
	_ encoding.BinaryAppender    = (*KSWIN)(nil)
	_ encoding.BinaryUnmarshaler = (*KSWIN)(nil)
)

// kswinFixedLen is the length of a KSWIN encoding without its window.
const kswinFixedLen = stateHeaderLen + 8 + 8*3 + 8*2 + 8*2 + 1 + 8 + 4*mtN

// MarshalBinary encodes the detector's whole state, configuration and
// sampler included, in 2571 + 8·WindowSize bytes (3371 with the defaults),
// so that UnmarshalBinary into a zero KSWIN gives a detector that goes on
// exactly as this one would. It returns an error only for a KSWIN not
// built by NewKSWIN or UnmarshalBinary.
func (k *KSWIN) MarshalBinary() ([]byte, error) {
	return k.AppendBinary(make([]byte, 0, kswinFixedLen+8*len(k.ring)))
}

// AppendBinary appends the encoding of MarshalBinary to b. Layout after
// the type byte 'K' and version byte 1 (state.go):
//
//	Alpha (float64) | WindowSize | StatSize | Seed | head | size (int64
//	each) | pValue | stat (float64 each) | pending reset (bool) | the
//	sampler's position mti (int64) and state mt (624 uint32, 4 bytes LE
//	each) | the window's WindowSize slots as stored (float64 each).
//
// Slots that hold no value of the window (the last WindowSize − size
// before the window fills) are written as 0.
func (k *KSWIN) AppendBinary(b []byte) ([]byte, error) {
	if err := k.checkState(); err != nil {
		return b, encodeError("kswin", err)
	}
	return k.appendState(b), nil
}

// appendState appends the encoding without checking the state.
func (k *KSWIN) appendState(b []byte) []byte {
	c := k.cfg
	b = appendHeader(b, tagKSWIN)
	b = appendFloats(b, c.Alpha)
	b = appendInts(b, c.WindowSize, c.StatSize)
	b = appendInt64(b, c.Seed)
	b = appendInts(b, k.head, k.size)
	b = appendFloats(b, k.pValue, k.stat)
	b = appendBools(b, k.pendingReset)
	b = appendInts(b, k.rng.mti)
	for _, v := range k.rng.mt {
		b = binary.LittleEndian.AppendUint32(b, v)
	}
	for i, x := range k.ring {
		if !k.inWindow(i) {
			x = 0
		}
		b = appendFloats(b, x)
	}
	return b
}

// inWindow reports whether ring slot i holds a value of the window.
func (k *KSWIN) inWindow(i int) bool { return k.size == len(k.ring) || i < k.size }

// UnmarshalBinary replaces k's state with the one MarshalBinary encoded in
// data. It rejects, with an error and k unchanged, data that is not such
// an encoding: another detector's, an unknown format version, a length
// other than 2571 + 8·WindowSize bytes, a configuration that fails
// Validate, or an inconsistent state (window position or size out of
// range, values Update would have ignored, a nonzero unused slot, a test
// result before the window filled, a sampler position outside [0, 624] or
// the all-zero sampler state). It allocates at most 29 bytes per window
// slot, 8 of which the data holds, so it is safe on untrusted input.
func (k *KSWIN) UnmarshalBinary(data []byte) error {
	d := newStateDecoder(data, tagKSWIN)
	var t KSWIN
	c := &t.cfg
	c.Alpha = d.float()
	c.WindowSize, c.StatSize = d.int(), d.int()
	c.Seed = d.int64()
	t.head, t.size = d.int(), d.int()
	t.pValue, t.stat = d.float(), d.float()
	t.pendingReset = d.bool()
	t.rng.mti = d.int()
	for i := range t.rng.mt {
		t.rng.mt[i] = d.uint32()
	}
	if d.err == nil {
		d.check(c.Validate())
	}
	// The window is the rest of the data: check its length before
	// allocating for it.
	switch have, want := int64(d.remaining()), 8*int64(c.WindowSize); {
	case d.err != nil:
	case have < want:
		d.errorf("truncated: %d bytes of window, want 8 × window_size %d", have, c.WindowSize)
	case have > want:
		d.errorf("%d trailing bytes after the window of window_size %d", have-want, c.WindowSize)
	}
	if d.err != nil {
		return d.finish()
	}
	t.allocate()
	for i := range t.ring {
		t.ring[i] = d.float()
	}
	if d.err == nil {
		d.check(t.checkState())
	}
	for i, x := range t.ring {
		if d.err == nil && !t.inWindow(i) && math.Float64bits(x) != 0 {
			d.errorf("unused window slot %d holds %v", i, x)
		}
	}
	if err := d.finish(); err != nil {
		return err
	}
	*k = t
	return nil
}

// checkState reports whether k is a state that Update can reach from
// NewKSWIN(k.cfg): the invariants UnmarshalBinary enforces.
func (k *KSWIN) checkState() error {
	c := k.cfg
	if err := c.Validate(); err != nil {
		return err
	}
	w, r := c.WindowSize, c.StatSize
	switch {
	case len(k.ring) != w || len(k.idx) != r || len(k.sample) != r || len(k.last) != r || len(k.pool) != w-r || len(k.seen) != w-r:
		return fmt.Errorf("buffers of %d, %d, %d, %d, %d, %d values for window_size %d, stat_size %d",
			len(k.ring), len(k.idx), len(k.sample), len(k.last), len(k.pool), len(k.seen), w, r)
	case k.size < 0 || k.size > w || k.head < 0 || k.head >= w || k.size < w && k.head != 0:
		return fmt.Errorf("window of %d values at %d, window_size %d", k.size, k.head, w)
	case !(k.pValue >= 0 && k.pValue <= 1 && k.stat >= 0 && k.stat <= 1):
		return fmt.Errorf("p-value %v, statistic %v outside [0, 1]", k.pValue, k.stat)
	case k.size < w && (k.pValue != 0 || k.stat != 0 || k.pendingReset):
		return fmt.Errorf("test result before the window filled (%d of %d values)", k.size, w)
	case k.rng.mti < 0 || k.rng.mti > mtN:
		return fmt.Errorf("sampler position %d outside [0, %d]", k.rng.mti, mtN)
	case k.rng.degenerate():
		return errors.New("sampler state is all zero")
	}
	for i, x := range k.ring {
		if k.inWindow(i) && ignored(x) {
			return fmt.Errorf("window slot %d holds %v, which Update ignores", i, x)
		}
	}
	return nil
}
